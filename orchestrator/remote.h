/*
 * The agent on a node, reached over an SSH session (ssh.h): delivery of
 * the certroll-agent binary, its start, and the protocol connection
 * (proto.h) over the channel's standard input and output.
 *
 * Delivery compares the SHA-256 of the node's /var/lib/certroll/
 * certroll-agent with the local agent's and uploads only when it is
 * missing or different: over SFTP to a private temporary name in the
 * same directory (or, with become, in the login user's home first), fsync,
 * mode 0700, then an atomic rename; the directory is made 0700. An agent
 * whose checksum after the upload still differs is not run, nor is one
 * that announces another checksum in its HELLO.
 *
 * Every command line is a fixed string: the node name and the inventory
 * never reach the remote shell; the only inventory value used, the become
 * user, must pass ssh_exec()'s fixed-string check.
 */
#ifndef CR_REMOTE_H
#define CR_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "proto.h"
#include "ssh.h"

#define REMOTE_AGENT_DIR  "/var/lib/certroll"
#define REMOTE_AGENT_PATH "/var/lib/certroll/certroll-agent"
/* Default budget for delivery, start and HELLO together. */
#define REMOTE_OPEN_TIMEOUT_MS 60000

/* How to reach the agent; a zeroed struct gives the defaults. */
struct remote_opts {
	const char *agent_path;  /* local agent; NULL: next to this program */
	bool become;             /* run it through "sudo -n" */
	const char *become_user; /* with become; NULL means root */
	int timeout_ms;          /* 0: REMOTE_OPEN_TIMEOUT_MS */
};

/* What delivery did, for reports and tests. */
struct remote_delivery {
	char local_sha256[65]; /* hex */
	char
	    remote_sha256[65]; /* hex before delivery; "" when it was missing */
	bool uploaded;
};

struct remote;

/*
 * Returns the local agent to deliver as a new string to free: explicit
 * when not NULL, else "certroll-agent" in the directory of the running
 * program. Returns NULL (logged) when that cannot be determined.
 */
char *remote_agent_path(const char *explicit_path);

/*
 * Makes sure the node has our agent (see above) and fills *d. Returns
 * CR_OK, CR_ERR_SYS for a local agent that cannot be read, CR_ERR_VERIFY
 * when the checksum after an upload differs, CR_ERR_SUBPROC when a remote
 * step failed (e.g. sudo wants a password), or the ssh_ errors. Failures
 * are logged with the node's name.
 */
enum cr_err remote_deliver(struct ssh_session *s, const struct remote_opts *o,
    struct remote_delivery *d, int64_t deadline) CR_MUST_CHECK;

/*
 * Delivers the agent, starts "certroll-agent serve" and exchanges HELLO.
 * On success *rp is the agent connection: call proto_call() on
 * remote_conn(*rp), and end it with remote_close(). The session s is
 * borrowed and must outlive *rp. Returns the errors of remote_deliver(),
 * CR_ERR_PROTO when the agent does not speak our protocol (its standard
 * error is quoted in the log), CR_ERR_VERIFY when it reports another
 * checksum, CR_ERR_TIMEOUT when it did not answer in time.
 */
enum cr_err remote_open(struct ssh_session *s, const struct remote_opts *o,
    struct remote **rp) CR_MUST_CHECK;

/* The protocol connection; borrowed from r. */
struct proto_conn *remote_conn(struct remote *r);

/* The agent's HELLO; borrowed from r. */
const struct proto_hello *remote_hello(const struct remote *r);

/* What delivery did; borrowed from r. */
const struct remote_delivery *remote_delivery(const struct remote *r);

/* The agent's standard error so far (diagnostics); borrowed from r. */
const char *remote_stderr(const struct remote *r);

/*
 * Says BYE, waits for the agent to exit and releases r. Returns CR_OK
 * when the agent answered BYE and exited with status 0; otherwise the
 * failure (logged, with the agent's standard error). r is released in
 * every case; NULL is a no-op returning CR_OK.
 */
enum cr_err remote_close(struct remote *r, int64_t deadline) CR_MUST_CHECK;

/* Releases r without BYE (the channel is closed abruptly). NULL: no-op. */
void remote_free(struct remote *r);

#endif /* CR_REMOTE_H */
