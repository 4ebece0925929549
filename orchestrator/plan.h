/*
 * The plan: everything "certroll apply" would do and everything that could
 * stop it, gathered read-only. For every node in rollout order: its
 * certificates now and after renewal, which will be renewed, what its
 * drain would evict, keep and be blocked by. For the cluster: the
 * preflight gates, the warnings an expert would give, and an estimate of
 * the duration. "certroll plan" prints it; "certroll apply" builds one and
 * proceeds only when nothing blocks (invariants 1, 2 and 7 are checked
 * here before anything is touched).
 */
#ifndef CR_PLAN_H
#define CR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "ctx.h"
#include "drain.h"
#include "err.h"
#include "kubeadmcfg.h"
#include "proto.h"

/* Preflight gate names, in the order they are reported. */
#define PLAN_CHECK_LOCK      "lock-free"
#define PLAN_CHECK_API       "api-reachable"
#define PLAN_CHECK_NODES     "nodes-ready"
#define PLAN_CHECK_ETCD      "etcd-quorum"
#define PLAN_CHECK_SSH       "ssh-and-agent"
#define PLAN_CHECK_CLOCK     "clock-skew"
#define PLAN_CHECK_CA        "ca-lifetime"
#define PLAN_CHECK_SPACE     "backup-space"
#define PLAN_CHECK_LEFTOVERS "no-leftovers"
#define PLAN_CHECK_CONFIG    "kubeadm-config"
#define PLAN_CHECK_EXPIRED   "not-expired"
#define PLAN_CHECK_DRAIN     "drain-unblocked"
#define PLAN_CHECK_INVENTORY "inventory-matches"
#define PLAN_CHECK_PREV_RUN  "previous-run"

struct plan_opts {
	int64_t renew_before_s; /* renew what expires sooner; 0: all */
	int64_t validity_s;     /* new leaf validity; 0: kubeadm's setting */
	struct drain_opts drain;
	int64_t max_skew_ms;       /* node clock vs ours; default 30 s */
	int64_t min_free_bytes;    /* for backups; default 64 MiB */
	int64_t warn_expiry_s;     /* warn below this; default 30 days */
	bool accept_downtime;      /* allow fewer than 3 etcd members */
	const char *resume_run_id; /* the run being resumed, or NULL */
};

struct plan_node {
	const struct inv_node *inv; /* borrowed from the context */
	struct proto_inspect_rep inspect;
	struct drain_preview drain;
	struct strv renew;  /* names to renew, kubeadm's order */
	char *etcd_message; /* why its etcd member is unhealthy, or NULL */
	char *internal_ip;  /* the Node's InternalIP, or NULL */
	int64_t skew_ms;    /* node clock minus ours */
	bool selected;      /* to renew: named by --only, or no --only */
	bool reached;       /* agent answered INSPECT */
	bool etcd_healthy;  /* local member answers, gateway included */
	bool in_cluster;    /* a control-plane Node of that name exists */
	bool ready;
	bool unschedulable;
	bool drain_known;
};

struct plan_check {
	const char *check;
	bool ok;
	char *message;
};

struct plan {
	time_t now;
	int64_t validity_s;
	int64_t renew_before_s;
	struct plan_node *nodes;
	size_t nnodes;
	struct plan_check *checks;
	size_t nchecks;
	struct strv warnings;
	int64_t estimated_s;     /* typical */
	int64_t estimated_max_s; /* at most */
	bool config_ok;
	struct kubeadmcfg config;
	bool expired; /* the control plane's certificates have lapsed */
};

/* Codes of the options plan and apply share (after the context's). */
enum {
	PLAN_OPT_RENEW_BEFORE = CTX_OPT_LAST,
	PLAN_OPT_VALIDITY,
	PLAN_OPT_EMPTYDIR,
	PLAN_OPT_FORCE,
	PLAN_OPT_DRAIN_TIMEOUT,
	PLAN_OPT_GRACE,
	PLAN_OPT_POD_SELECTOR,
	PLAN_OPT_DAEMONSETS,
	PLAN_OPT_DOWNTIME,
	PLAN_OPT_LAST
};

#define PLAN_LONG_OPTIONS                                                      \
	{ "renew-before", required_argument, NULL, PLAN_OPT_RENEW_BEFORE },    \
	    { "validity", required_argument, NULL, PLAN_OPT_VALIDITY },        \
	    { "delete-emptydir-data", no_argument, NULL, PLAN_OPT_EMPTYDIR },  \
	    { "force", no_argument, NULL, PLAN_OPT_FORCE },                    \
	    { "timeout", required_argument, NULL, PLAN_OPT_DRAIN_TIMEOUT },    \
	    { "grace-period", required_argument, NULL, PLAN_OPT_GRACE },       \
	    { "pod-selector", required_argument, NULL,                         \
		    PLAN_OPT_POD_SELECTOR },                                   \
	    { "ignore-daemonsets", optional_argument, NULL,                    \
		    PLAN_OPT_DAEMONSETS },                                     \
	{                                                                      \
		"accept-downtime", no_argument, NULL, PLAN_OPT_DOWNTIME        \
	}

#define PLAN_USAGE                                                             \
	"      --renew-before DURATION renew only what expires sooner (e.g. "  \
	"30d;\n"                                                               \
	"                              default: renew everything)\n"           \
	"      --validity DURATION     validity of the new certificates "      \
	"(default: the\n"                                                      \
	"                              ClusterConfiguration's, else 365d)\n"   \
	"      --timeout DURATION      give up a drain after this long "       \
	"(default 10m)\n"                                                      \
	"      --grace-period SECONDS  termination grace for evicted pods "    \
	"(default: the\n"                                                      \
	"                              pod's own)\n"                           \
	"      --delete-emptydir-data  evict pods with emptyDir volumes "      \
	"(their "                                                              \
	"data is lost)\n"                                                      \
	"      --force                 also evict pods without a controller\n" \
	"      --pod-selector SEL      only evict pods with these labels\n"    \
	"      --ignore-daemonsets=false\n"                                    \
	"                              refuse to drain a node with "           \
	"DaemonSet pods\n"                                                     \
	"                              (default true: they stay, as always "   \
	"on\n"                                                                 \
	"                              control-plane nodes)\n"                 \
	"      --accept-downtime       allow a control plane whose etcd "      \
	"cannot keep\n"                                                        \
	"                              quorum while a member restarts (1 or "  \
	"2 "                                                                   \
	"members)\n"

void plan_opts_init(struct plan_opts *o);

/*
 * Handles a shared plan/apply option: 1 when c was one, 0 when not, -1
 * after printing a usage error for a bad value.
 */
int plan_opts_parse(struct plan_opts *o, const char *cmd, int c,
    const char *arg);

/*
 * Builds the plan for c's nodes (inventory loaded; connects the nodes and
 * the API itself). Never changes anything. Returns CR_OK when the plan
 * could be made, whatever it found; failures to reach a node or the API
 * are gates in the plan, not errors. *p must be released with
 * plan_clear().
 */
enum cr_err plan_build(struct ctx *c, const struct plan_opts *o,
    struct plan *p) CR_MUST_CHECK;

/* How long one node's renewal takes, in seconds. */
struct plan_duration {
	int64_t typical_s; /* pods stop promptly, restarts average */
	int64_t max_s;     /* whole grace periods, slowest restarts */
};

/*
 * The estimate for node pn (0 when it renews nothing): first takes the
 * etcd snapshot; grace_s is --grace-period, or -1 for the pods' own.
 */
struct plan_duration plan_estimate_node(const struct plan_node *pn, bool first,
    int64_t grace_s);

/* True when a gate failed or a node's drain is blocked. */
bool plan_blocked(const struct plan *p);

/* The plan as the JSON of "certroll plan -o json". Owned by the caller. */
json_object *plan_to_json(const struct plan *p);

/* The readable report. */
void plan_print(const struct plan *p, FILE *fp);

/*
 * Compares a saved plan (JSON from plan_to_json()) with the cluster now:
 * the same nodes in the same order, each renewing the same certificates
 * with the same serials, and no new blocker. Returns CR_ERR_STATE with
 * what changed in why.
 */
enum cr_err plan_compare(json_object *saved, const struct plan *now, char *why,
    size_t len) CR_MUST_CHECK;

/* The new validity: o's, else the ClusterConfiguration's, else 365 days. */
int64_t plan_validity(const struct plan *p);

void plan_clear(struct plan *p);

#endif /* CR_PLAN_H */
