/*
 * Draining a node with kubectl's semantics (kubectl pkg/drain; facts in
 * kube-api.md §2), plus what kubectl lacks:
 *
 * - the same filter chain in the same order with the same messages:
 *   deleted-long-ago, DaemonSet, mirror, local storage, unreplicated;
 *   errors grouped by message in a fixed order (DaemonSet, local storage,
 *   no controller, other) instead of Go's random map order;
 * - pods listed with pagination (--chunk-size), restarted on 410;
 * - evictions (policy/v1, found by discovery of pods/eviction in /api/v1)
 *   sent in parallel, at most max_inflight at once; a PDB's 429 retried
 *   with backoff starting at 5 s (kubectl's line "error when evicting
 *   pods/"x" -n "ns" (will retry after 5s): ..."), capped; 404 counts as
 *   done; the overlapping-PDB 500 fails the pod; DELETE instead of
 *   eviction with --disable-eviction or when the server has no eviction;
 * - completion judged by name and UID from one LIST per round (a field
 *   selector on the node) instead of one GET per pod per second;
 * - transient API failures (5xx, connection resets) while evicting or
 *   waiting are retried until the timeout instead of failing the drain;
 * - one global --timeout checked before every request and every sleep.
 *
 * drain_node() does not cordon: callers cordon first (kube_cordon()) and
 * remember whether the node was cordoned already.
 *
 * Output: kubectl's lines go to opts.out ("evicting pod ns/x", "pod/x
 * evicted") and opts.err ("Warning: ...", the retry lines) when set; the
 * progress callback gets the counts for a terminal line. Nothing else is
 * logged except debug lines; the caller reports the result.
 */
#ifndef CR_DRAIN_H
#define CR_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "certinfo.h"
#include "err.h"
#include "kube.h"

/* What the progress callback sees. Pointers are borrowed for the call. */
struct drain_progress {
	const char *node;
	size_t total;        /* pods to evict or delete */
	size_t done;         /* of those, gone */
	size_t waiting;      /* evicted, not gone yet */
	size_t blocked;      /* refused for now (429) and waiting to retry */
	const char *pod;     /* "ns/name" the event concerns, or NULL */
	const char *blocker; /* the last refusal's cause ("The disruption
				budget web-pdb needs 2 healthy pods ..."), or
				NULL */
};

typedef void (*drain_progress_fn)(void *arg, const struct drain_progress *p);

struct drain_opts {
	bool force;                /* --force */
	bool ignore_daemonsets;    /* --ignore-daemonsets */
	bool delete_emptydir_data; /* --delete-emptydir-data */
	bool disable_eviction;     /* --disable-eviction: DELETE, no PDBs */
	int64_t grace_period;      /* --grace-period seconds; -1: the pod's */
	int64_t timeout_ms;        /* --timeout; 0: none */
	int64_t skip_wait_s;       /* --skip-wait-for-delete-timeout; 0: off */
	const char *pod_selector;  /* --pod-selector, or NULL */
	int64_t chunk_size;        /* --chunk-size; 0: one request */
	unsigned max_inflight;     /* --max-inflight evictions */
	int64_t retry_ms;          /* first retry delay after a refusal */
	int64_t retry_max_ms;      /* retry delay cap (doubling) */
	int64_t poll_ms;           /* wait-for-deletion polling interval */
	int64_t silence_ms; /* give up when the API has not answered at all
			       for this long, even before the timeout */
	FILE *out;          /* kubectl's stdout lines, or NULL */
	FILE *err;          /* kubectl's stderr lines, or NULL */
	drain_progress_fn progress;
	void *progress_arg;
};

/*
 * kubectl drain's defaults; max_inflight 16, retry 5 s doubling to 20 s,
 * and 2 minutes of API silence before a drain without --timeout gives up.
 */
void drain_opts_init(struct drain_opts *o);

/* --- The filter chain (pure; exposed for tests and the preview) ------ */

enum drain_status {
	DRAIN_OKAY = 0,
	DRAIN_SKIP,    /* silently left alone */
	DRAIN_WARNING, /* delete or keep, with a warning */
	DRAIN_ERROR,   /* blocks the drain */
};

/* Message groups, in the order errors and warnings are reported. */
enum drain_group {
	DRAIN_GROUP_DAEMONSET = 0,
	DRAIN_GROUP_LOCAL,     /* emptyDir */
	DRAIN_GROUP_UNMANAGED, /* no controller */
	DRAIN_GROUP_OTHER,
	DRAIN_GROUP__MAX
};

struct drain_verdict {
	bool delete;
	enum drain_status status;
	enum drain_group group;
	const char *keep; /* why it stays: "DaemonSet", "mirror", "deleted" */
	char msg[256];
};

/* Why a DaemonSet lookup failed. */
struct drain_ds_why {
	bool not_found; /* a 404 */
	char msg[512];  /* the error's text: daemonsets.apps "ds" not found */
};

/*
 * Looks up DaemonSet ns/name: CR_OK when it exists; otherwise fills why.
 */
typedef enum cr_err (*drain_ds_get_fn)(void *arg, const char *ns,
    const char *name, struct drain_ds_why *why);

struct drain_filter_ctx {
	const struct drain_opts *opts;
	time_t now; /* for --skip-wait-for-delete-timeout */
	drain_ds_get_fn ds_get;
	void *ds_arg;
};

/*
 * Runs kubectl's filters on pod in order; the first that keeps the pod
 * decides, otherwise the last one's status stands (so a local-storage
 * warning is overwritten by the next filter's okay, as in kubectl).
 */
void drain_filter_pod(const struct drain_filter_ctx *ctx, json_object *pod,
    struct drain_verdict *v);

/* One filtered pod, for the aggregation below. */
struct drain_filtered {
	const char *namespace;
	const char *name;
	struct drain_verdict v;
};

/*
 * kubectl's error aggregation: one "cannot delete <msg>: ns/a, ns/b" per
 * message, groups in enum drain_group order, pods in list order. Appends
 * each to errs; returns how many.
 */
size_t drain_collect_errors(const struct drain_filtered *pods, size_t n,
    struct strv *errs);

/*
 * kubectl's warning text: "<msg>: ns/a, ns/b" per message, joined with
 * "; ", as a new string to free(), or NULL when there is none.
 */
char *drain_warnings(const struct drain_filtered *pods, size_t n);

/*
 * Go's utilerrors aggregate: the one message, or "[a, b]" for several.
 * Returns a new string to free().
 */
char *drain_join_errors(const struct strv *errs);

/* Go's time.Duration.String() of ms: "5s", "1m30s", "1.5s", "200ms". */
void drain_go_duration(int64_t ms, char *buf, size_t len);

/*
 * True if labels (a JSON object, or NULL) match a metav1.LabelSelector
 * (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist). A NULL
 * selector matches nothing and {} matches everything (policy/v1 PDBs).
 * A malformed selector matches nothing.
 */
bool drain_selector_matches(json_object *selector, json_object *labels);

/* --- Draining -------------------------------------------------------- */

struct drain_result {
	size_t total;        /* pods to evict or delete */
	size_t gone;         /* of those, confirmed gone */
	bool used_eviction;  /* evictions (true) or DELETE (false) */
	struct strv errors;  /* kubectl's error messages, in order */
	struct strv pending; /* "name" of each pod still there at the end */
};

/* Releases the members of r and zeroes it. */
void drain_result_clear(struct drain_result *r);

/*
 * Drains node: lists its pods, filters them, and evicts (or deletes) the
 * ones to go, then waits until they are gone. Returns CR_OK when every
 * pod to go is gone; CR_ERR_STATE when the filters refused some pods
 * (nothing was evicted; r->errors lists why); CR_ERR_TIMEOUT when the
 * timeout passed; CR_ERR_KUBE when the API refused or failed (r->errors
 * says how; r->pending names what is left). *r must be zeroed; release it
 * with drain_result_clear().
 */
enum cr_err drain_node(struct kube *k, const char *node,
    const struct drain_opts *o, struct drain_result *r) CR_MUST_CHECK;

/* --- Preview (for 'certroll plan'): evicts nothing ------------------- */

struct drain_ref {
	char *namespace;
	char *name;
	bool finished; /* Succeeded/Failed: deleted without PDB checks */
};

struct drain_kept {
	char *namespace;
	char *name;
	char *reason; /* "DaemonSet", "mirror", "deleted" */
};

#define DRAIN_PDB_WAIT "pdb-wait"

struct drain_blocker {
	char *kind; /* "daemonset", "local-storage", "no-controller", "pdb",
		       "pdb-overlap", "error"; "pdb-wait" only delays */
	char *pod;  /* "ns/name" */
	char *message;
};

struct drain_preview {
	struct drain_ref *evict;
	size_t nevict;
	struct drain_kept *keep;
	size_t nkeep;
	struct drain_blocker *blockers;
	size_t nblockers;
};

/*
 * Works out what drain_node() would do on node with o, reading pods,
 * DaemonSets and PodDisruptionBudgets only. Blockers: the filter errors,
 * pods covered by several PDBs, and pods whose PDB allows no disruption
 * now. A pod whose PDB's disruptions are used up by other pods on node
 * first is a "pdb-wait": its eviction waits until their replacements are
 * healthy elsewhere, then completes (drain_blocks() is false for it). *pv
 * must be zeroed; release it with drain_preview_clear().
 */
enum cr_err drain_preview(struct kube *k, const char *node,
    const struct drain_opts *o, struct drain_preview *pv) CR_MUST_CHECK;

void drain_preview_clear(struct drain_preview *pv);

/* True unless b only delays the drain ("pdb-wait"). */
bool drain_blocks(const struct drain_blocker *b);

/*
 * The preview as JSON: {"evict":[{"namespace","name","finished"}],
 * "keep":[{"namespace","name","reason"}],
 * "blockers":[{"kind","pod","message"}]}. Owned by the caller.
 */
json_object *drain_preview_to_json(const struct drain_preview *pv);

#endif /* CR_DRAIN_H */
