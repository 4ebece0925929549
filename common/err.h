/*
 * Error codes shared by every certroll component.
 *
 * Every fallible function returns an enum cr_err and is marked
 * CR_MUST_CHECK. Low layers return a code; the layer that knows the subject
 * logs once (see docs/CONTRIBUTING.md). Running out of memory is not an
 * error code: the x*alloc family aborts.
 */
#ifndef CR_ERR_H
#define CR_ERR_H

enum cr_err {
	CR_OK = 0,
	CR_ERR_SYS,       /* a system call failed; errno is preserved */
	CR_ERR_TIMEOUT,   /* a deadline passed */
	CR_ERR_PROTO,     /* peer sent a malformed or unexpected message */
	CR_ERR_TLS,       /* OpenSSL failure; see log for the error queue */
	CR_ERR_SSH,       /* libssh2 failure */
	CR_ERR_KUBE,      /* Kubernetes API refused or failed */
	CR_ERR_INVENTORY, /* inventory file is invalid */
	CR_ERR_CERT,      /* certificate missing, unparsable or wrong */
	CR_ERR_CONFIG,    /* a configuration file or option is invalid */
	CR_ERR_NOTFOUND,  /* the thing asked for does not exist */
	CR_ERR_STATE,     /* not allowed now: order, lock or precondition */
	CR_ERR_SUBPROC,   /* a child process failed */
	CR_ERR_VERIFY,    /* a result failed its verification */
	CR_ERR_HEALTH,    /* a component did not become healthy */
	CR_ERR_CANCELED,  /* the operator interrupted the operation */
	CR_ERR__MAX
};

#define CR_MUST_CHECK __attribute__((warn_unused_result))

/* Returns a static, lower-case description of err. Never NULL. */
const char *cr_strerror(enum cr_err err);

/*
 * Returns the stable machine name of err ("timeout", "cert", ...), used in
 * JSON output and on the wire. Never NULL.
 */
const char *cr_errname(enum cr_err err);

/* Maps a name from cr_errname() back; unknown names give CR_ERR_PROTO. */
enum cr_err cr_err_from_name(const char *name);

#endif /* CR_ERR_H */
