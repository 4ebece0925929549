/*
 * kubeconfig loading, as kubectl does it (client-go tools/clientcmd).
 *
 * Which files: --kubeconfig FILE alone; else every file in $KUBECONFIG
 * (':'-separated, duplicates and missing files skipped, the first file
 * that defines a named cluster, user or context wins as a whole, and
 * current-context comes from the first file that sets it); else
 * ~/.kube/config. Which context: --context, else current-context.
 *
 * Relative paths (certificate-authority, client-certificate, client-key,
 * tokenFile, an exec command containing '/') are resolved against the
 * directory of the file that defined the entry.
 *
 * The loader does not log: a failure fills struct kubecfg_diag with a
 * message that names the file, the line and the field
 * ("~/.kube/config:14: users[0].user: client-certificate without
 * client-key"), and the caller logs it once. Keys and tokens are wiped
 * when the struct is freed.
 */
#ifndef CR_KUBECFG_H
#define CR_KUBECFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "certinfo.h"
#include "err.h"

/* Largest kubeconfig or referenced file read, in bytes. */
#define KUBECFG_MAX_FILE ((size_t)4 * 1024 * 1024)

/* Exec plugins get this long to print their credential. */
#define KUBECFG_EXEC_TIMEOUT_MS 120000

struct kubecfg;

struct kubecfg_diag {
	char msg[1024];
};

/* The command line's choices; NULL members give kubectl's defaults. */
struct kubecfg_opts {
	const char *kubeconfig; /* --kubeconfig: this file only */
	const char *context;    /* --context: instead of current-context */
};

/*
 * A credential to present: what the kubeconfig holds, the current content
 * of its tokenFile, or what its exec plugin printed. All members are owned
 * by the struct; token and key_pem are secrets.
 */
struct kubecfg_cred {
	char *token;    /* bearer token, or NULL */
	char *cert_pem; /* client certificate PEM, or NULL */
	size_t cert_len;
	char *key_pem; /* client key PEM, or NULL */
	size_t key_len;
	int64_t expires_ms; /* wall clock, epoch ms; 0 = does not expire */
	bool from_exec;
};

/*
 * Loads the kubeconfig chosen by opts (NULL for all defaults) and resolves
 * the context, its cluster and its user, reading every referenced file.
 * An expired client certificate is not an error here (kube.c explains it
 * when the server refuses it; 'certroll kubeconfig refresh' must load it).
 * Returns CR_OK and a new *cfgp to release with kubecfg_free(); otherwise
 * CR_ERR_CONFIG (invalid content), CR_ERR_NOTFOUND (no such context,
 * cluster or user), CR_ERR_SYS (a file could not be read) or CR_ERR_CERT
 * (an unparsable client certificate), with diag filled. *cfgp is set only
 * on success.
 */
enum cr_err kubecfg_load(const struct kubecfg_opts *opts, struct kubecfg **cfgp,
    struct kubecfg_diag *diag) CR_MUST_CHECK;

/* Releases cfg, wiping its secrets. Passing NULL is a no-op. */
void kubecfg_free(struct kubecfg *cfg);

/*
 * Accessors. Every returned pointer is borrowed from cfg and lives as long
 * as it. Optional values are NULL when the kubeconfig does not set them.
 */
const char *kubecfg_server(const struct kubecfg *cfg);
/* The CA bundle as PEM (data or file), or NULL to use the system's CAs. */
const char *kubecfg_ca_pem(const struct kubecfg *cfg, size_t *lenp);
/* The static client certificate and key (not an exec plugin's). */
const char *kubecfg_cert_pem(const struct kubecfg *cfg, size_t *lenp);
const char *kubecfg_key_pem(const struct kubecfg *cfg, size_t *lenp);
/* The static bearer token ('token', or tokenFile's content at load time). */
const char *kubecfg_token(const struct kubecfg *cfg);
const char *kubecfg_tls_server_name(const struct kubecfg *cfg);
const char *kubecfg_proxy_url(const struct kubecfg *cfg);
bool kubecfg_insecure(const struct kubecfg *cfg);
bool kubecfg_disable_compression(const struct kubecfg *cfg);
/* True when the user authenticates through an exec credential plugin. */
bool kubecfg_has_exec(const struct kubecfg *cfg);
/* True when the token comes from a tokenFile (re-read on a 401). */
bool kubecfg_has_token_file(const struct kubecfg *cfg);
/* The file that defined the user, as given (for 'kubeconfig refresh'). */
const char *kubecfg_path(const struct kubecfg *cfg);
/* The same path for messages, with $HOME shown as '~'. */
const char *kubecfg_display_path(const struct kubecfg *cfg);
const char *kubecfg_context_name(const struct kubecfg *cfg);
const char *kubecfg_cluster_name(const struct kubecfg *cfg);
const char *kubecfg_user_name(const struct kubecfg *cfg);
/* The static client certificate's notAfter, or 0 when there is none. */
time_t kubecfg_cert_not_after(const struct kubecfg *cfg);

/*
 * Produces the credential to send now: the static one, the tokenFile read
 * again, or a fresh run of the exec plugin (client.authentication.k8s.io
 * v1 or v1beta1, with KUBERNETES_EXEC_INFO in its environment). *cred must
 * be zeroed or cleared; on success it is filled and owned by the caller,
 * who releases it with kubecfg_cred_clear(). On failure returns
 * CR_ERR_SUBPROC (the plugin failed), CR_ERR_PROTO (it printed something
 * that is not a valid ExecCredential), CR_ERR_SYS (tokenFile unreadable)
 * or CR_ERR_CONFIG, with diag filled and *cred untouched.
 */
enum cr_err kubecfg_credential(const struct kubecfg *cfg,
    struct kubecfg_cred *cred, struct kubecfg_diag *diag) CR_MUST_CHECK;

/* Wipes and releases the members of cred and zeroes it. NULL is a no-op. */
void kubecfg_cred_clear(struct kubecfg_cred *cred);

/*
 * Reads the first certificate of a PEM text into ci (which must be zeroed):
 * subject, issuer, serial, not_before, not_after. Returns CR_ERR_CERT when
 * pem holds no parsable certificate. Release ci with certinfo_clear().
 */
enum cr_err kubecfg_pem_cert(const char *pem, size_t len,
    struct cert_info *ci) CR_MUST_CHECK;

#endif /* CR_KUBECFG_H */
