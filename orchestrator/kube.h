/*
 * The orchestrator's Kubernetes API client (libcurl + json-c).
 *
 * One struct kube talks to one cluster through one or more endpoints: the
 * kubeconfig's server, plus each control-plane node's own API server added
 * with kube_add_endpoint(). Every request goes through one libcurl multi
 * handle, so connections (HTTP/2 where the server offers it) are reused
 * and kube_call_many() runs requests in parallel with a bound on how many
 * are in flight.
 *
 * Behaviour shared by every request (client-go's, unless said otherwise):
 * - a 429 or 5xx answer that carries Retry-After: N is retried after N
 *   seconds, at most KUBE_MAX_RETRIES times and never past the caller's
 *   deadline; without Retry-After the answer goes back to the caller;
 * - a connection failure moves to the next healthy, not avoided endpoint;
 *   the request is repeated there when it is a GET/PUT/PATCH/DELETE or
 *   nothing was sent (a POST is not repeated once it may have arrived);
 * - a 401 re-runs the exec credential plugin (or re-reads tokenFile) once;
 * - a failed TLS handshake is explained: which certificate (our client
 *   certificate or the API server's serving certificate) is expired or
 *   not yet valid, since when, and what to run.
 *
 * Nothing here logs a failure: the call's msg (and kube_error_message()
 * for the one-call helpers) says what went wrong, naming the endpoint or
 * object, and the caller logs it once. Retries and HTTP status codes are
 * logged at debug level; insecure-skip-tls-verify is warned about every
 * time a client is made with it.
 *
 * Deadlines are absolute clock_mono_ms() values; 0 means none (each
 * request still has its own KUBE_REQUEST_TIMEOUT_MS).
 */
#ifndef CR_KUBE_H
#define CR_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "kubecfg.h"

#define KUBE_MAX_RETRIES        10 /* client-go's Retry-After budget */
#define KUBE_CONNECT_TIMEOUT_MS 5000
#define KUBE_REQUEST_TIMEOUT_MS 30000
#define KUBE_ENDPOINT_DOWN_MS   10000 /* a failed endpoint rests this long */
#define KUBE_MAX_ENDPOINTS      16
#define KUBE_MAX_BODY           ((size_t)64 * 1024 * 1024)
#define KUBE_MSG_MAX            1024

struct kube;

/* metav1.Status reasons, classified as apimachinery's errors.IsX do. */
enum kube_reason {
	KUBE_REASON_UNKNOWN = 0,
	KUBE_REASON_UNAUTHORIZED,        /* 401 */
	KUBE_REASON_FORBIDDEN,           /* 403 */
	KUBE_REASON_NOT_FOUND,           /* 404 */
	KUBE_REASON_ALREADY_EXISTS,      /* 409 */
	KUBE_REASON_CONFLICT,            /* 409 */
	KUBE_REASON_GONE,                /* 410 */
	KUBE_REASON_EXPIRED,             /* 410 */
	KUBE_REASON_INVALID,             /* 422 */
	KUBE_REASON_SERVER_TIMEOUT,      /* 500 */
	KUBE_REASON_TIMEOUT,             /* 504 */
	KUBE_REASON_TOO_MANY_REQUESTS,   /* 429 */
	KUBE_REASON_BAD_REQUEST,         /* 400 */
	KUBE_REASON_METHOD_NOT_ALLOWED,  /* 405 */
	KUBE_REASON_NOT_ACCEPTABLE,      /* 406 */
	KUBE_REASON_TOO_LARGE,           /* 413 RequestEntityTooLarge */
	KUBE_REASON_UNSUPPORTED_MEDIA,   /* 415 UnsupportedMediaType */
	KUBE_REASON_INTERNAL_ERROR,      /* 500 */
	KUBE_REASON_SERVICE_UNAVAILABLE, /* 503 */
	KUBE_REASON__MAX
};

/* What an error answer said. */
struct kube_status {
	long code;             /* HTTP status (0 before any answer) */
	char reason[64];       /* Status.reason as sent; "" when absent */
	char message[512];     /* Status.message, or a description */
	char cause_reason[64]; /* details.causes[0].reason ("DisruptionBudget")
				*/
	char cause_message[256];
	long retry_after; /* seconds: Retry-After or retryAfterSeconds */
	bool is_status;   /* the body was a metav1.Status */
};

/*
 * Fills st from an error answer: code is the HTTP status, body its parsed
 * JSON (or NULL), retry_after the Retry-After header in seconds (0 when
 * absent). A body that is not a Status gets a generic message naming the
 * code. Never fails; does not log.
 */
void kube_status_parse(json_object *body, long code, long retry_after,
    struct kube_status *st);

/*
 * True when st is the error r: by reason first, and by code when the
 * reason is empty or unknown (errors.IsNotFound and friends). 429 counts
 * as TOO_MANY_REQUESTS whatever the reason (errors.IsTooManyRequests).
 */
bool kube_status_is(const struct kube_status *st, enum kube_reason r);

/* The reason named s ("NotFound"), or KUBE_REASON_UNKNOWN. */
enum kube_reason kube_reason_parse(const char *s);

/* The wire name of r ("NotFound"); "" for UNKNOWN. */
const char *kube_reason_name(enum kube_reason r);

/*
 * kubectl's top-level form of an error answer:
 * "Error from server (NotFound): nodes "cp9" not found".
 */
void kube_status_describe(const struct kube_status *st, char *buf, size_t len);

/* One request. Initialise with KUBE_CALL_INIT. */
struct kube_call {
	/* Inputs, borrowed until the call returns. */
	const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *path;         /* "/api/v1/nodes/cp1", query escaped */
	json_object *body;        /* request body, or NULL */
	const char *content_type; /* of body; NULL: application/json */
	const char *endpoint;     /* only this endpoint, no failover; or NULL */
	bool retry_writes; /* a POST that is safe to repeat (an eviction) */
	bool keep_text;    /* a 2xx answer stays in text, unparsed (a list) */

	/* Outputs, released by kube_call_clear(). */
	enum cr_err err;        /* CR_OK for a 2xx answer */
	long status;            /* HTTP status; 0 when none arrived */
	json_object *reply;     /* the answer when it is JSON, else NULL */
	struct buf text;        /* the answer when it is not JSON */
	struct kube_status st;  /* for a non-2xx answer */
	char msg[KUBE_MSG_MAX]; /* what went wrong when err != CR_OK */
	unsigned attempts;      /* requests sent, retries included */
};

#define KUBE_CALL_INIT                                                         \
	{                                                                      \
		.method = "GET", .path = NULL, .reply = NULL,                  \
		.text = BUF_INIT,                                              \
	}

/* Releases the outputs of c and resets them; the inputs are kept. */
void kube_call_clear(struct kube_call *c);

/*
 * Makes a client for cfg's cluster; cfg is borrowed and must outlive the
 * client. No request is sent and no plugin is run yet. Returns
 * CR_ERR_CONFIG if the server URL cannot be used. *kp must be released
 * with kube_free().
 */
enum cr_err kube_new(const struct kubecfg *cfg, struct kube **kp) CR_MUST_CHECK;

/* Releases k, wiping the credentials it holds. NULL is a no-op. */
void kube_free(struct kube *k);

/*
 * For commands: loads the kubeconfig opts choose (kubecfg_load()) and
 * makes a client for it (kube_new()), logging the reason once when either
 * fails. On success release *kp with kube_free(), then *cfgp with
 * kubecfg_free().
 */
enum cr_err kube_open(const struct kubecfg_opts *opts, struct kubecfg **cfgp,
    struct kube **kp) CR_MUST_CHECK;

/* Changes the per-connection and per-request time limits (ms; <= 0 keeps). */
void kube_set_timeouts(struct kube *k, int connect_ms, int request_ms);

/*
 * Adds a control-plane node's own API server as another endpoint, e.g.
 * name "cp1", url "https://10.0.0.11:6443", with the kubeconfig's CA and
 * credentials. The certificate is checked against the kubeconfig's
 * tls-server-name, else the kubeconfig server's host when that is a DNS
 * name, else url's host. Adding an existing name replaces its URL.
 * Returns CR_ERR_CONFIG for a URL that does not parse, CR_ERR_STATE when
 * KUBE_MAX_ENDPOINTS are already known.
 */
enum cr_err kube_add_endpoint(struct kube *k, const char *name,
    const char *url) CR_MUST_CHECK;

/*
 * A new client on k's kubeconfig with k's endpoints and timeouts, for
 * another thread (a client is not shared between threads). Release it
 * with kube_free(). Errors as kube_new().
 */
enum cr_err kube_new_like(const struct kube *k, struct kube **kp) CR_MUST_CHECK;

/*
 * Avoids / allows endpoint name: an avoided endpoint is used only when no
 * other is available (a node whose API server is restarting). The
 * kubeconfig's server is named "kubeconfig". Returns CR_ERR_NOTFOUND for
 * an unknown name.
 */
enum cr_err kube_avoid_endpoint(struct kube *k, const char *name) CR_MUST_CHECK;
enum cr_err kube_allow_endpoint(struct kube *k, const char *name) CR_MUST_CHECK;

/* The name of the endpoint the next request goes to. Borrowed. */
const char *kube_current_endpoint(const struct kube *k);

/*
 * Runs calls[0..n) with at most max_inflight (0: 1) in flight at once and
 * returns when every call has an outcome in its outputs. Returns CR_OK
 * when all calls got a 2xx answer, else the err of the first call that did
 * not (each call's err, st and msg tell its own story).
 */
enum cr_err kube_call_many(struct kube *k, struct kube_call *calls, size_t n,
    unsigned max_inflight, int64_t deadline) CR_MUST_CHECK;

/*
 * Runs one call; on failure kube_error_message() and kube_last_status()
 * also describe it. Returns c->err.
 */
enum cr_err kube_call(struct kube *k, struct kube_call *c,
    int64_t deadline) CR_MUST_CHECK;

/*
 * GETs path and returns the JSON answer in *replyp (the caller owns one
 * reference: json_object_put()). Errors as kube_call(): CR_ERR_KUBE for an
 * error answer (kube_last_status() has it), CR_ERR_TIMEOUT, CR_ERR_TLS.
 */
enum cr_err kube_get(struct kube *k, const char *path, int64_t deadline,
    json_object **replyp) CR_MUST_CHECK;

/*
 * Called by kube_list_pages() with the items of a page a batch at a time,
 * in order, as an array (borrowed: take a reference to keep an item), or
 * with NULL when the list starts over and what came before must be
 * forgotten. Another result than CR_OK stops the listing with it.
 */
typedef enum cr_err (*kube_page_fn)(void *arg, json_object *items);

/*
 * GETs a list at path (which may carry a query, e.g. a selector and
 * limit) and follows metadata.continue until the end, restarting from the
 * beginning once if a continue token expired (410), as kubectl does. A
 * page's items are parsed a batch at a time (jv_parse_list()) and freed
 * once fn has seen them, so only the page's text and one batch of parsed
 * items are in memory at once, unless fn keeps them.
 */
enum cr_err kube_list_pages(struct kube *k, const char *path, int64_t deadline,
    kube_page_fn fn, void *arg) CR_MUST_CHECK;

/*
 * kube_list_pages() collecting every item: *itemsp is a new JSON array,
 * owned by the caller.
 */
enum cr_err kube_list_all(struct kube *k, const char *path, int64_t deadline,
    json_object **itemsp) CR_MUST_CHECK;

/* Called with the object read; changes it in place for the PUT. */
typedef enum cr_err (*kube_mutate_fn)(json_object *obj, void *arg);

/*
 * Read-modify-write of the object at path (client-go RetryOnConflict):
 * GET, fn(obj, arg), PUT the object with the resourceVersion read; on 409
 * Conflict read again and repeat, 5 times at most. fn returning anything
 * but CR_OK stops with that code and nothing is written.
 */
enum cr_err kube_update(struct kube *k, const char *path, kube_mutate_fn fn,
    void *arg, int64_t deadline) CR_MUST_CHECK;

/*
 * For commands: prints the last failure as kubectl prints errors, "Error
 * from server (NotFound): ..." for an error answer, "error: ..." for the
 * rest, on fp.
 */
void kube_print_error(FILE *fp, const struct kube *k);

/* For commands: "node/cp1" and "nodes/cp1" name cp1, as in kubectl. */
const char *kube_node_arg(const char *arg);

/* The last failed one-call helper's message ("" if none). Borrowed. */
const char *kube_error_message(const struct kube *k);

/* The last failed one-call helper's error answer (code 0 if none). */
const struct kube_status *kube_last_status(const struct kube *k);

/*
 * Returns s percent-encoded for a path segment or query value (RFC 3986
 * unreserved characters kept), as a new string to free().
 */
char *kube_escape(const char *s);

/* --- Nodes ---------------------------------------------------------- */

enum kube_cond {
	KUBE_COND_UNKNOWN = 0, /* "Unknown", or no Ready condition at all */
	KUBE_COND_TRUE,
	KUBE_COND_FALSE,
};

struct kube_node_info {
	char *name;
	char *uid;
	char *resource_version;
	char *internal_ip;     /* status.addresses InternalIP, or NULL */
	enum kube_cond ready;  /* the Ready condition */
	char *ready_reason;    /* its reason ("KubeletReady"), or NULL */
	bool unschedulable;    /* spec.unschedulable (absent = false) */
	bool control_plane;    /* control-plane or (old) master role label */
	char *kubelet_version; /* status.nodeInfo.kubeletVersion */
};

struct kube_node_list {
	struct kube_node_info *v;
	size_t n;
};

/*
 * Reads a Node object into *ni (zeroed by the caller). Returns CR_ERR_PROTO
 * when it has no metadata.name. Release with kube_node_info_clear().
 */
enum cr_err kube_node_info_parse(json_object *node,
    struct kube_node_info *ni) CR_MUST_CHECK;
void kube_node_info_clear(struct kube_node_info *ni);
void kube_node_list_clear(struct kube_node_list *list);

/* Reads node name. CR_ERR_KUBE (NotFound in kube_last_status()) if absent. */
enum cr_err kube_get_node(struct kube *k, const char *name, int64_t deadline,
    struct kube_node_info *ni) CR_MUST_CHECK;

/*
 * Lists nodes matching label_selector (NULL: all), sorted by name. *list
 * must be zeroed; release it with kube_node_list_clear().
 */
enum cr_err kube_list_nodes(struct kube *k, const char *label_selector,
    int64_t deadline, struct kube_node_list *list) CR_MUST_CHECK;

/*
 * The control-plane nodes: label node-role.kubernetes.io/control-plane,
 * and node-role.kubernetes.io/master for clusters older than 1.24, without
 * duplicates, sorted by name.
 */
enum cr_err kube_list_control_plane_nodes(struct kube *k, int64_t deadline,
    struct kube_node_list *list) CR_MUST_CHECK;

/* Reads node name and sets *readyp to its Ready condition. */
enum cr_err kube_node_ready(struct kube *k, const char *name, int64_t deadline,
    enum kube_cond *readyp) CR_MUST_CHECK;

/*
 * Cordons node as kubectl does: GET it; when spec.unschedulable is
 * already true set *was_cordoned and send nothing; else strategic merge
 * PATCH {"spec":{"unschedulable":true}}.
 */
enum cr_err kube_cordon(struct kube *k, const char *node, int64_t deadline,
    bool *was_cordoned) CR_MUST_CHECK;

/* The reverse: PATCH {"spec":{"unschedulable":null}} unless schedulable. */
enum cr_err kube_uncordon(struct kube *k, const char *node, int64_t deadline,
    bool *was_schedulable) CR_MUST_CHECK;

/* --- Control-plane static pods (mirror pods) ------------------------- */

struct kube_container {
	char *name;
	char *id;           /* "containerd://…", or NULL */
	int64_t started_at; /* state.running.startedAt, epoch s; 0 if none */
	bool ready;
	int64_t restarts;
};

struct kube_mirror_pod {
	char *name;      /* "kube-apiserver-cp1" */
	char *component; /* label "component", else the name minus "-<node>" */
	char *uid;
	char *phase;
	bool ready; /* the pod's Ready condition is True */
	struct kube_container *containers;
	size_t ncontainers;
};

struct kube_mirror_list {
	struct kube_mirror_pod *v;
	size_t n;
};

/*
 * Reads a Pod into *mp (zeroed) if it is a mirror pod (annotation
 * kubernetes.io/config.mirror); node is used to derive the component name
 * when the pod has no "component" label. Returns CR_ERR_NOTFOUND for any
 * other pod, CR_ERR_PROTO for a pod without a name.
 */
enum cr_err kube_mirror_pod_parse(json_object *pod, const char *node,
    struct kube_mirror_pod *mp) CR_MUST_CHECK;
void kube_mirror_list_clear(struct kube_mirror_list *list);

/* The mirror pods in kube-system on node, sorted by name. */
enum cr_err kube_mirror_pods(struct kube *k, const char *node, int64_t deadline,
    struct kube_mirror_list *list) CR_MUST_CHECK;

/* --- Health and version --------------------------------------------- */

/*
 * GET /readyz?verbose on endpoint (a name given to kube_add_endpoint(), or
 * "kubeconfig"), without failover. *readyp is true for a 200; detail (may
 * be NULL) receives the check lines. A 500 is not an error here: *readyp
 * is false and detail names the failing checks.
 */
enum cr_err kube_readyz(struct kube *k, const char *endpoint, int64_t deadline,
    bool *readyp, struct buf *detail) CR_MUST_CHECK;

/* GET /version: *versionp is gitVersion ("v1.31.2"), to free(). */
enum cr_err kube_version(struct kube *k, int64_t deadline,
    char **versionp) CR_MUST_CHECK;

#endif /* CR_KUBE_H */
