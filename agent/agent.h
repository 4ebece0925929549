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

#endif /* CR_AGENT_H */
