/*
 * Internal declarations shared by the agent's files (certificates:
 * agent_inspect.c, agent_facts.c, agent_backup.c, agent_renew*.c,
 * agent_verify.c; etcd: agent_etcd.c, agent_snapshot.c, agent_restart.c)
 * and their unit tests. Not for other components.
 */
#ifndef CR_AGENT_INT_H
#define CR_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "agent.h"
#include "buf.h"
#include "certinfo.h"
#include "err.h"
#include "kcfgcert.h"
#include "manifest.h"
#include "pki.h"
#include "tlsc.h"
#include "ydoc.h"

/* file_write_atomic()'s temporary files carry this in their names. */
#define AGENT_TMP_MARK ".certroll-"

/*
 * True for what the snapshot request leaves in a backup directory, by
 * name: a saved etcd snapshot ("etcd-snapshot-<UTC time>[-N].db") or the
 * temporary file of one interrupted. A restore leaves both alone.
 */
bool agent_snapshot_file(const char *name);

/* The local etcd member's v3 gateway and the client identity to use. */
struct agent_etcd {
	struct manifest_endpoint ep;
	char *ca;   /* pki/etcd/ca.crt */
	char *cert; /* pki/etcd/healthcheck-client.crt */
	char *key;
	char url[300]; /* https://host:port, for messages */
	char why[300]; /* why the last call failed */
};

/*
 * Where the member listens: endpoint ("https://host:port") if not NULL,
 * else etcd's manifest under kdir, else kubeadm's default. A failure
 * says why (file:line:col for a manifest). Release with
 * agent_etcd_clear().
 */
enum cr_err agent_etcd_init(const char *kdir, const char *endpoint,
    struct agent_etcd *ec, char *why, size_t whylen) CR_MUST_CHECK;
void agent_etcd_clear(struct agent_etcd *ec);

/* TLS options for the member, client certificate included. */
struct tlsc_opts agent_etcd_opts(const struct agent_etcd *ec, int64_t deadline);

/*
 * POSTs body to the gateway's path; a 200 answer's JSON in *docp (the
 * caller puts it). Otherwise the reason in ec->why.
 */
enum cr_err agent_etcd_call(struct agent_etcd *ec, const char *path,
    const char *body, int64_t deadline, json_object **docp) CR_MUST_CHECK;

/*
 * Before the member is stopped: if it leads the cluster, moves leadership
 * to another started member (MoveLeader) while it is fully up. msg says
 * what was done, or why not.
 */
enum cr_err agent_etcd_hand_off(struct agent_etcd *ec, int64_t deadline,
    char *msg, size_t len) CR_MUST_CHECK;

/* The kubernetes dir of o, or its default. */
const char *agent_kdir(const char *kubernetes_dir);

/* True if prog (a path, or a name searched in PATH) can be executed. */
bool agent_which(const char *prog);

/* Parses "-o" values: "table"/"text" (false) or "json" (true). */
bool agent_output_parse(const char *s, bool *jsonp);

/* Prints obj pretty to stdout and releases it. */
void agent_print_json(json_object *obj);

/*
 * One certificate's current material: the X509, and for kubeconfigs the
 * parsed file. Loaded from the kubernetes dir or from a backup, which
 * share a layout.
 */
struct agent_material {
	X509 *cert;
	EVP_PKEY *key;       /* only when asked for */
	struct kcfgcert *kc; /* kubeconfigs */
	char *cert_file;     /* file the certificate came from */
	char *key_file;      /* leaves: the key file */
};

/*
 * Loads e's certificate (and key when with_key) from root. Returns
 * CR_ERR_NOTFOUND when the file is absent, CR_ERR_SYS / CR_ERR_CONFIG /
 * CR_ERR_CERT with the reason in why otherwise. kubelet_dir, when not
 * NULL, replaces the default kubelet dir in paths kubelet.conf refers to.
 * On return *m (zeroed by the call) must be released with
 * agent_material_clear().
 */
struct agent_load {
	const char *root;
	const char *kubelet_dir;
	bool with_key;
};
enum cr_err agent_material_load(const struct agent_load *l,
    const struct pki_entry *e, struct agent_material *m, char *why,
    size_t whylen) CR_MUST_CHECK;
void agent_material_clear(struct agent_material *m);

/*
 * The certificate rows of an inspection (no facts): kubeadm's entries in
 * its order, without the etcd ones when etcd_external.
 */
void agent_inspect_certs(const struct agent_inspect_opts *o, bool etcd_external,
    struct agent_inspection *in);

/* The facts' answer to "is etcd external?" without the other facts. */
bool agent_etcd_external(const char *kdir, const char *cluster_config);

/* What the agent needs from a saved ClusterConfiguration. */
struct agent_clustercfg {
	int64_t validity_s;  /* certificateValidityPeriod, or 365d */
	bool etcd_external;  /* etcd.external is set */
	char *cert_dir;      /* certificatesDir, or NULL */
	char *key_algorithm; /* encryptionAlgorithm, or NULL */
};

/*
 * Reads the ClusterConfiguration document of path (a file of one or more
 * YAML documents). Returns CR_ERR_SYS when it cannot be read,
 * CR_ERR_CONFIG with diag when it has no ClusterConfiguration or a field
 * is malformed. On success release *cfg with agent_clustercfg_clear().
 */
enum cr_err agent_clustercfg_load(const char *path,
    struct agent_clustercfg *cfg, struct ydoc_diag *diag) CR_MUST_CHECK;
void agent_clustercfg_clear(struct agent_clustercfg *cfg);

/*
 * Checks names a caller asked to renew: each must be a kubeadm name kubeadm
 * renews. Returns CR_ERR_CONFIG with the reason in why otherwise.
 */
enum cr_err agent_renew_check_names(const struct strv *names, char *why,
    size_t len) CR_MUST_CHECK;

/* What one renewer needs for the targets of one run. */
struct agent_renew_ctx {
	const struct agent_renew_opts *o;
	const char *kdir;
	int64_t validity_s;
	struct agent_clustercfg cfg; /* kubeadm backend */
};

/* A renewal backend: renews one target, or fails saying why (logged). */
struct agent_renewer {
	const char *name;
	enum cr_err (*renew)(const struct agent_renew_ctx *c,
	    const struct pki_entry *e, const struct cert_info *before);
};

const struct agent_renewer *agent_renewer_native(void);
const struct agent_renewer *agent_renewer_kubeadm(void);

/* How `kubeadm certs renew` said it dealt with one certificate. */
enum agent_kubeadm_said {
	AGENT_KUBEADM_UNKNOWN = 0, /* none of the lines below */
	AGENT_KUBEADM_RENEWED,     /* "<long name> renewed" */
	AGENT_KUBEADM_MISSING,     /* "MISSING! <long name>" (exit 0) */
	AGENT_KUBEADM_EXTERNAL,    /* "Detected external <ca>, ..." (exit 0) */
};

/* Reads kubeadm's output for e's line. */
enum agent_kubeadm_said agent_kubeadm_parse(const char *output,
    const struct pki_entry *e);

/*
 * Test door: makes the native renewer break its next renewal of name on
 * purpose, so the tests can prove verify catches it and renew rolls back.
 */
enum agent_fault {
	AGENT_FAULT_NONE = 0,
	AGENT_FAULT_DROP_CLIENT_AUTH, /* leave clientAuth out of the EKUs */
	AGENT_FAULT_WRONG_KEY,        /* write a key that does not match */
};
void agent_renew_set_fault(enum agent_fault fault, const char *name);

/*
 * Test and fuzz door to the etcd snapshot stream parser (agent_snapshot.c):
 * the body of a 200 answer to /v3/maintenance/snapshot given as bytes
 * instead of a TLS stream, delivered in pieces of piece bytes (0: at once)
 * as records would arrive. The database is written to fd (the caller's).
 * Returns what agent_snapshot() would for that stream: CR_ERR_PROTO for a
 * malformed, overlong, truncated or failed stream, CR_ERR_VERIFY for a
 * trailer mismatch, CR_ERR_SYS when fd cannot be written; why says so.
 */
struct agent_snapshot_stream {
	const uint8_t *data;
	size_t len;
	size_t piece;
	size_t max_line; /* 0: AGENT_SNAPSHOT_MAX_LINE */
	int fd;
	/* Results. */
	uint64_t total;    /* bytes written to fd, trailer included */
	uint64_t expected; /* size the first message announced, or 0 */
	size_t messages;   /* non-blank lines read */
	char sha256[65];   /* hex of the trailer, on success */
	char why[300];     /* the first failure */
};
enum cr_err agent_snapshot_parse(
    struct agent_snapshot_stream *st) CR_MUST_CHECK;

#endif /* CR_AGENT_INT_H */
