/*
 * certroll-agent: everything that must happen on a control-plane node.
 * Each capability is a subcommand (agent_cmd_<name>, one file each) and,
 * through "serve", a protocol request.
 */
#ifndef CR_AGENT_H
#define CR_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "err.h"
#include "manifest.h"

/* Exit codes, as the orchestrator's. */
#define AGENT_EXIT_OK    0
#define AGENT_EXIT_FAIL  1
#define AGENT_EXIT_USAGE 2

/* Default root of everything the agent reads and writes. */
#define AGENT_KUBERNETES_DIR "/etc/kubernetes"
/* Default backup root. */
#define AGENT_BACKUP_DIR "/var/lib/certroll/backups"

struct agent_cmd {
	const char *name;
	/* argv[0] is the subcommand; returns an exit code. */
	int (*run)(int argc, char **argv);
	const char *summary;
};

/*
 * Prints "certroll-agent CMD: message" and a pointer to --help on stderr
 * and returns AGENT_EXIT_USAGE.
 */
int agent_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * ---- agentops: snapshot, restart, health, rollback ---------------------
 * (agent_snapshot.c, agent_restart.c, agent_health.c, agent_rollback.c)
 *
 * Each capability is a function a subcommand and a protocol handler both
 * call: an input struct, a JSON result, no printing. Progress goes to the
 * optional callback (phase such as "snapshot", "stop", "start", "probe";
 * a one-line message). Every function logs its failure once and returns
 * the code; *resultp is set whenever the function ran, on failure too,
 * because the result is what says which component failed and why (its
 * "error" member carries the reason). Release it with json_object_put().
 */
/* The kubelet's directory (config.yaml); the same as agentcert's. */
#define AGENT_KUBELET_DIR "/var/lib/kubelet"
/* Where restart parks manifests, under the kubernetes dir (mode 0700). */
#define AGENT_HELD_DIR "certroll-held"
/* Longest line of etcd's snapshot stream (a 32 KiB blob is 44 KiB). */
#define AGENT_SNAPSHOT_MAX_LINE ((size_t)256 * 1024)

struct agent_snapshot_req {
	const char *kubernetes_dir; /* NULL: AGENT_KUBERNETES_DIR */
	const char *dest_dir;       /* NULL: AGENT_BACKUP_DIR */
	const char *endpoint;       /* https URL; NULL: from etcd's manifest */
	int64_t timeout_ms;         /* 0: 15 minutes */
	size_t max_line;            /* 0: AGENT_SNAPSHOT_MAX_LINE */
	void (*progress)(void *arg, const char *phase, const char *message);
	void *progress_arg;
};

/*
 * Saves an etcd snapshot through the v3 gateway of the local member
 * (POST /v3/maintenance/snapshot with the healthcheck client certificate),
 * streamed to disk, checked against its SHA-256 trailer and renamed into
 * place as dest_dir/etcd-snapshot-<UTC timestamp>.db, mode 0600. Nothing
 * is left behind on failure. Result: {"file","endpoint","revision",
 * "member_id","db_bytes","size","sha256","messages","duration_ms"}.
 * Returns CR_ERR_CONFIG (bad endpoint or manifest), CR_ERR_TLS/SYS/TIMEOUT
 * (etcd unreachable), CR_ERR_PROTO (malformed, truncated or failed
 * stream), CR_ERR_VERIFY (trailer mismatch) or CR_ERR_SYS (disk).
 */
enum cr_err agent_snapshot(const struct agent_snapshot_req *req,
    json_object **resultp) CR_MUST_CHECK;

struct agent_restart_req {
	const char *kubernetes_dir; /* NULL: AGENT_KUBERNETES_DIR */
	const char *kubelet_dir;    /* NULL: AGENT_KUBELET_DIR */
	unsigned components;        /* MANIFEST_BIT()s; 0: all four */
	int64_t down_timeout_ms;    /* 0: 3 x fileCheckFrequency + 60 s */
	int64_t up_timeout_ms;      /* 0: 3 x fileCheckFrequency + 120 s */
	int64_t probe_timeout_ms;   /* 0: 5 s per probe */
	bool recover_only;  /* put held manifests back, restart nothing */
	const char *crictl; /* NULL: "crictl" if in PATH; "": do not use */
	void (*progress)(void *arg, const char *phase, const char *message);
	void *progress_arg;
};

/*
 * Restarts the selected static pods one at a time, in the order etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler: moves the
 * manifest to <kubernetes-dir>/certroll-held, waits until the component's
 * ports are closed (and crictl shows no container), moves it back and
 * waits until it answers its health check. A manifest left in the holding
 * place by an interrupted run is put back first. A manifest is never left
 * out: when a component does not stop or start in time its manifest is
 * back in place, the remaining components are not touched, and the
 * result names it. Result: {"ok","file_check_frequency_ms",
 * "down_timeout_ms","up_timeout_ms","recovered":[...],"components":[{
 * "component","status","down_ms","up_ms","message"}],"failed","error"}.
 * Returns CR_ERR_HEALTH (did not come back), CR_ERR_TIMEOUT (did not
 * stop), CR_ERR_STATE (a manifest both held and in place), CR_ERR_SYS.
 */
enum cr_err agent_restart(const struct agent_restart_req *req,
    json_object **resultp) CR_MUST_CHECK;

struct agent_health_req {
	const char *kubernetes_dir; /* NULL: AGENT_KUBERNETES_DIR */
	unsigned components;        /* MANIFEST_BIT()s; 0: all four */
	int64_t deadline; /* retry until healthy or clock_mono_ms() passes
			     this; 0: one pass */
	int64_t probe_timeout_ms; /* 0: 5 s per probe */
	void (*progress)(void *arg, const char *phase, const char *message);
	void *progress_arg;
};

/*
 * Probes the selected components locally over TLS with the client
 * certificates they expect: etcd /health and a gateway call
 * (/v3/maintenance/status), kube-apiserver /readyz, kcm and scheduler
 * /healthz (self-signed: not verified), and compares the serial served on
 * kube-apiserver's port and etcd's client and peer ports with the
 * certificate on disk. Result: {"healthy","attempts","checks":[{
 * "component","check","endpoint","ok","message","served_serial",
 * "disk_serial","disk_file"}],"unhealthy":[...],"stale":[...]}.
 * Returns CR_ERR_HEALTH when a check still fails at the deadline.
 */
enum cr_err agent_health(const struct agent_health_req *req,
    json_object **resultp) CR_MUST_CHECK;

/*
 * One pass of component c's checks, appending a row per check to the
 * JSON array checks; serials false skips the served-certificate
 * comparison (restart waits for "answers", health for "answers with the
 * new certificate"). Returns CR_OK when every check passed, else
 * CR_ERR_HEALTH. Does not log.
 */
enum cr_err agent_health_probe(const struct agent_health_req *req,
    enum manifest_comp c, bool serials, json_object *checks) CR_MUST_CHECK;

struct agent_rollback_req {
	const char *backup;     /* a path, a name under backup_dir, "latest" */
	const char *backup_dir; /* NULL: AGENT_BACKUP_DIR */
	const char *kubernetes_dir; /* NULL: AGENT_KUBERNETES_DIR */
	const char *kubelet_dir;    /* NULL: AGENT_KUBELET_DIR */
	int64_t down_timeout_ms;    /* as agent_restart_req */
	int64_t up_timeout_ms;
	int64_t health_wait_ms; /* 0: up_timeout_ms's default */
	void (*progress)(void *arg, const char *phase, const char *message);
	void *progress_arg;
};

/*
 * Restores backup (agent_backup_resolve(), agent_restore(); held manifests
 * are put back first), restarts all four components and waits for
 * health. Stops at the first stage that fails. Result: {"ok","backup",
 * "stages":[{"stage":"restore|restart|health","ok","result"}],"failed",
 * "error"}; each stage's result is that function's. Returns the failing
 * stage's code (CR_ERR_NOTFOUND for no such backup).
 */
enum cr_err agent_rollback(const struct agent_rollback_req *req,
    json_object **resultp) CR_MUST_CHECK;

/*
 * Shared by these subcommands (agent_health.c): an option's duration ("2m",
 * "500ms"), component list or output format ("text", "table", "json"),
 * each returning AGENT_EXIT_OK or agent_usage()'s exit code; and a
 * progress callback that logs "phase: message" at info level.
 */
int agent_ops_opt_duration(const char *cmd, const char *opt, const char *arg,
    int64_t *msp);
int agent_ops_opt_components(const char *cmd, const char *arg, unsigned *setp);
int agent_ops_opt_output(const char *cmd, const char *arg, bool *jsonp);
void agent_ops_progress_log(void *arg, const char *phase, const char *message);

/* The subcommands (argv[0] is the command name; return an exit code). */
int agent_cmd_snapshot(int argc, char **argv);
int agent_cmd_restart(int argc, char **argv);
int agent_cmd_health(int argc, char **argv);
int agent_cmd_rollback(int argc, char **argv);
/* ---- end agentops ------------------------------------------------------ */

/*
 * ---- agentcert: inspect, backup, restore, renew, verify ----
 * (agent_inspect.c, agent_facts.c, agent_backup.c, agent_renew*.c,
 * agent_verify.c). Each capability is a library function taking its inputs
 * as a struct and returning its results as data, so the subcommand and the
 * serve loop's protocol handler share it; none of them prints. They log a
 * failure once, with its subject, through log.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "cert.h"
#include "certinfo.h"
#include "err.h"

/* Backups kept by default (--keep). */
#define AGENT_BACKUP_KEEP 5
/* Default validity of a natively renewed certificate (kubeadm's). */
#define AGENT_VALIDITY_S (365LL * 86400)

/* What inspect reads; every path is borrowed. */
struct agent_inspect_opts {
	const char *kubernetes_dir; /* NULL: AGENT_KUBERNETES_DIR */
	const char *kubelet_dir;    /* NULL: AGENT_KUBELET_DIR */
	const char *backup_dir;     /* NULL: AGENT_BACKUP_DIR (for facts) */
	const char *cluster_config; /* saved ClusterConfiguration, or NULL */
	const char *kubeadm;        /* program; NULL: "kubeadm" in PATH */
	time_t now;                 /* the clock every residual time uses */
};

/* Node facts the plan needs (agent_facts.c); JSON keys in comments. */
struct agent_facts {
	int64_t clock_ms;                /* clock_ms: node wall clock */
	char *kubeadm_version;           /* kubeadm_version, NULL if absent */
	char *backup_dir;                /* backup_dir */
	uint64_t backup_free_bytes;      /* backup_free_bytes */
	int64_t file_check_frequency_ms; /* file_check_frequency_ms */
	struct strv manifests;           /* manifests: files present */
	bool etcd_external;              /* etcd: "local" | "external" */
	bool sa_key;                     /* sa_key */
	bool sa_pub;                     /* sa_pub */
	struct strv leftovers;           /* leftovers of interrupted runs */
	bool super_admin_expected;       /* super_admin_expected */
};

struct agent_inspection {
	struct cert_list certs; /* kubeadm's certificates, in its order */
	struct cert_list cas;   /* ca, etcd-ca, front-proxy-ca */
	struct cert_info kubelet_client; /* missing: no kubelet.conf */
	struct agent_facts facts;
};

/*
 * Inspects every certificate kubeadm manages under o->kubernetes_dir, the
 * kubelet's client certificate and the node facts. A missing or unreadable
 * certificate is a row (missing, or a note), not a failure. Returns
 * CR_ERR_NOTFOUND when the kubernetes dir does not exist. On return *in
 * (zeroed by the call) must be released with agent_inspection_clear().
 */
enum cr_err agent_inspect(const struct agent_inspect_opts *o,
    struct agent_inspection *in) CR_MUST_CHECK;
void agent_inspection_clear(struct agent_inspection *in);

/*
 * {"node","time","certificates":[],"certificate_authorities":[],
 *  "kubelet_client":{}|null,"facts":{}}, residual times from now. The
 * caller owns the result.
 */
json_object *agent_inspection_to_json(const struct agent_inspection *in,
    const char *node, time_t now);

/*
 * Appends the two tables of `kubeadm certs check-expiration` (same layout
 * and wording), then the kubelet's client certificate and the notes, to
 * out. agent_facts_table() appends the facts.
 */
void agent_inspection_table(const struct agent_inspection *in, time_t now,
    struct buf *out);

/* Gathers the facts alone; *f (zeroed by the call) needs _clear(). */
enum cr_err agent_facts_gather(const struct agent_inspect_opts *o,
    struct agent_facts *f) CR_MUST_CHECK;
void agent_facts_clear(struct agent_facts *f);
json_object *agent_facts_to_json(const struct agent_facts *f);
void agent_facts_table(const struct agent_facts *f, struct buf *out);

struct agent_backup_opts {
	const char *kubernetes_dir; /* NULL: AGENT_KUBERNETES_DIR */
	const char *backup_dir;     /* NULL: AGENT_BACKUP_DIR */
	unsigned keep;              /* backups kept; 0: AGENT_BACKUP_KEEP */
	uint64_t min_free_bytes;    /* free space to leave after the copy */
	time_t now;                 /* names the backup */
};

struct agent_backup_result {
	char *path;         /* the new backup directory */
	size_t files;       /* files copied */
	uint64_t bytes;     /* bytes copied */
	struct strv pruned; /* older backups removed by keep */
	char *error;        /* on failure: what went wrong, for the caller */
};

/*
 * Copies pki/ (recursively), every *.conf and manifests/ of the kubernetes
 * dir into a new <backup_dir>/<YYYYMMDDTHHMMSSZ>-<random> (directories
 * 0700, private keys and kubeconfigs 0600, other files their mode but at
 * most 0644), writes MANIFEST.sha256 last (sha256sum format) and fsyncs,
 * then removes the oldest backups beyond keep, never the new one. Returns
 * CR_ERR_STATE when the backup dir lacks the free space the copy needs.
 * On failure r->error says what went wrong (the path, the space or the
 * system error, and what to do). Either way *r must be released with
 * agent_backup_result_clear().
 */
enum cr_err agent_backup(const struct agent_backup_opts *o,
    struct agent_backup_result *r) CR_MUST_CHECK;
void agent_backup_result_clear(struct agent_backup_result *r);
json_object *agent_backup_result_to_json(const struct agent_backup_result *r);

/*
 * Resolves what an operator names a backup: a path, a directory name under
 * backup_dir, or "latest" (the newest complete one; NULL means it too).
 * *pathp is a new string to free(). Returns CR_ERR_NOTFOUND when there is
 * none.
 */
enum cr_err agent_backup_resolve(const char *backup_dir, const char *name,
    char **pathp) CR_MUST_CHECK;

struct agent_restore_result {
	struct strv restored; /* files written back (relative paths) */
	struct strv removed;  /* files under pki/ the backup did not have */
};

/*
 * Puts backup back into kubernetes_dir. Every sum of MANIFEST.sha256 is
 * checked first, and a file the manifest does not list is tampering: any
 * mismatch refuses with CR_ERR_VERIFY, naming the file, and changes
 * nothing. Then each file that differs is replaced atomically (keys
 * first), and regular files under pki/ that the backup did not have are
 * removed (a renewal adds files nowhere else). On return, success or
 * not, *r (zeroed by the call) lists what was changed and must be
 * released with agent_restore_result_clear().
 */
enum cr_err agent_restore(const char *kubernetes_dir, const char *backup,
    struct agent_restore_result *r) CR_MUST_CHECK;
void agent_restore_result_clear(struct agent_restore_result *r);
json_object *agent_restore_result_to_json(const struct agent_restore_result *r);

struct agent_verify_opts {
	const char *kubernetes_dir; /* NULL: AGENT_KUBERNETES_DIR */
	const char *backup;         /* backup directory to compare with */
	const struct strv *names;   /* NULL or empty: all in the backup */
	time_t now;                 /* chains are checked at this time */
};

struct agent_verify_item {
	char *name;
	bool ok;
	struct strv problems; /* one sentence each, for the operator */
};

struct agent_verify_result {
	bool ok; /* every item ok */
	struct agent_verify_item *v;
	size_t n;
};

/*
 * Checks renewed certificates against the backup taken before: each
 * parses, chains to its CA, its key matches and is private (0600), its
 * subject, SANs and extended key usages equal the old ones, its serial
 * changed and its not-after moved forward; kubeconfigs also keep their
 * server URL. Returns CR_OK when the check ran, whatever it found (see
 * r->ok), CR_ERR_CONFIG for an unknown name or a non-renewable one. On
 * return *r (zeroed by the call) needs agent_verify_result_clear().
 */
enum cr_err agent_verify(const struct agent_verify_opts *o,
    struct agent_verify_result *r) CR_MUST_CHECK;
void agent_verify_result_clear(struct agent_verify_result *r);
json_object *agent_verify_result_to_json(const struct agent_verify_result *r);

enum agent_backend {
	AGENT_BACKEND_AUTO = 0, /* kubeadm when in PATH, else native */
	AGENT_BACKEND_KUBEADM,
	AGENT_BACKEND_NATIVE,
	AGENT_BACKEND__MAX
};

/* "auto", "kubeadm", "native"; parse returns false for anything else. */
const char *agent_backend_name(enum agent_backend b);
bool agent_backend_parse(const char *s, enum agent_backend *bp);

struct agent_renew_opts {
	const char *kubernetes_dir; /* NULL: AGENT_KUBERNETES_DIR */
	const char *backup_dir;     /* NULL: AGENT_BACKUP_DIR */
	unsigned keep;              /* 0: AGENT_BACKUP_KEEP */
	const struct strv *only;    /* NULL or empty: all */
	int64_t renew_before_s;     /* 0: renew regardless of expiry */
	enum agent_backend backend;
	const char *cluster_config;     /* kubeadm backend: --config FILE */
	const char *kubeadm;            /* NULL: "kubeadm" in PATH */
	int64_t validity_s;             /* native; 0: AGENT_VALIDITY_S */
	enum cert_keyalg key_algorithm; /* native; KEEP follows the old key */
	time_t now;
};

struct agent_renewed {
	char *name;
	char *old_serial;
	char *new_serial;
	time_t old_not_after;
	time_t new_not_after;
};

struct agent_skipped {
	char *name;
	char *reason;
};

struct agent_renew_result {
	char *backup; /* NULL when nothing needed renewing */
	enum agent_backend backend;
	struct agent_renewed *renewed;
	size_t nrenewed;
	struct agent_skipped *skipped;
	size_t nskipped;
	struct agent_verify_result verify;
	bool rolled_back; /* files were restored from the backup */
	char *error;      /* why it failed, for the operator; or NULL */
};

/*
 * Renews the selected certificates: validates the selection, refuses
 * (before touching anything) a CA, the kubelet's certificate, a
 * certificate whose CA key is absent when named explicitly (skipped when
 * "all"), or one that would outlive its CA; backs up; renews with the
 * backend; verifies every renewed file against the backup and, when that
 * or a renewal fails, restores the backup (rolled_back). Returns CR_OK,
 * CR_ERR_CONFIG / CR_ERR_STATE for a refusal, CR_ERR_VERIFY when the
 * result failed verification, or the renewal's error. On return, success
 * or not, *r (zeroed by the call) describes what happened and must be
 * released with agent_renew_result_clear().
 */
enum cr_err agent_renew(const struct agent_renew_opts *o,
    struct agent_renew_result *r) CR_MUST_CHECK;
void agent_renew_result_clear(struct agent_renew_result *r);
json_object *agent_renew_result_to_json(const struct agent_renew_result *r);

/* The subcommands (agent/main.c's table). */
int agent_cmd_inspect(int argc, char **argv);
int agent_cmd_backup(int argc, char **argv);
int agent_cmd_restore(int argc, char **argv);
int agent_cmd_renew(int argc, char **argv);
int agent_cmd_verify(int argc, char **argv);
/* ---- end of agentcert ---- */

/* "serve": the protocol on standard input and output (agent_serve.c). */
int agent_cmd_serve(int argc, char **argv);

#endif /* CR_AGENT_H */
