#include "drain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "clock.h"
#include "jv.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

#define MSG_DS_ERROR                                                           \
	"DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
#define MSG_DS_WARN "ignoring DaemonSet-managed Pods"
#define MSG_LOCAL_ERR                                                          \
	"Pods with local storage (use --delete-emptydir-data to override)"
#define MSG_LOCAL_WARN "deleting Pods with local storage"
#define MSG_UNMANAGED_ERR                                                      \
	"Pods that declare no controller (use --force to override)"
#define MSG_UNMANAGED_WARN "deleting Pods that declare no controller"

void
drain_opts_init(struct drain_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->grace_period = -1;
	o->chunk_size = 500;
	o->max_inflight = 16;
	o->retry_ms = 5000;
	o->retry_max_ms = 20000;
	o->poll_ms = 500; /* one LIST of the node's pods; kubectl waits 1 s */
	o->silence_ms = 120000;
}

/* --- Filters ---------------------------------------------------------- */

static void
verdict(struct drain_verdict *v, bool del, enum drain_status st,
    enum drain_group g, const char *msg)
{
	v->delete = del;
	v->status = st;
	v->group = g;
	v->keep = NULL;
	/* Truncation keeps the start of the message, which says enough. */
	snprintf(v->msg, sizeof(v->msg), "%.*s", (int)sizeof(v->msg) - 1,
	    msg != NULL ? msg : "");
}

static json_object *
controller_ref(json_object *pod)
{
	json_object *refs = jv_arr(pod, "metadata.ownerReferences"), *r;
	size_t i, n = refs != NULL ? json_object_array_length(refs) : 0;

	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(refs, i);
		if (jv_bool(r, "controller"))
			return r;
	}
	return NULL;
}

static bool
pod_finished(json_object *pod)
{
	const char *phase = jv_str(pod, "status.phase");

	return phase != NULL &&
	    (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

static bool
has_emptydir(json_object *pod)
{
	json_object *vols = jv_arr(pod, "spec.volumes");
	size_t i, n = vols != NULL ? json_object_array_length(vols) : 0;

	for (i = 0; i < n; i++)
		if (jv_obj(json_object_array_get_idx(vols, i), "emptyDir") !=
		    NULL)
			return true;
	return false;
}

static bool
str_is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

static void
filter_skip_deleted(const struct drain_filter_ctx *ctx, json_object *pod,
    struct drain_verdict *v)
{
	const char *ts = jv_str(pod, "metadata.deletionTimestamp");
	int64_t ms;

	verdict(v, true, DRAIN_OKAY, DRAIN_GROUP_OTHER, NULL);
	if (ctx->opts->skip_wait_s > 0 && ts != NULL &&
	    timefmt_parse_rfc3339(ts, &ms) == CR_OK &&
	    (int64_t)ctx->now - ms / 1000 > ctx->opts->skip_wait_s) {
		verdict(v, false, DRAIN_SKIP, DRAIN_GROUP_OTHER, NULL);
		v->keep = "deleted";
	}
}

static void
filter_daemonset(const struct drain_filter_ctx *ctx, json_object *pod,
    struct drain_verdict *v)
{
	json_object *ref = controller_ref(pod);
	const char *ns = jv_str(pod, "metadata.namespace");
	struct drain_ds_why why = { .not_found = false };

	verdict(v, true, DRAIN_OKAY, DRAIN_GROUP_OTHER, NULL);
	/* kubectl >= 1.34 checks the API version as well as the kind. */
	if (ref == NULL || !str_is(jv_str(ref, "kind"), "DaemonSet") ||
	    !str_is(jv_str(ref, "apiVersion"), "apps/v1") || pod_finished(pod))
		return;
	if (ctx->ds_get(ctx->ds_arg, ns != NULL ? ns : "default",
		jv_str(ref, "name") != NULL ? jv_str(ref, "name") : "",
		&why) != CR_OK) {
		if (why.not_found && ctx->opts->force)
			verdict(v, true, DRAIN_WARNING, DRAIN_GROUP_OTHER,
			    why.msg);
		else
			verdict(v, false, DRAIN_ERROR, DRAIN_GROUP_OTHER,
			    why.msg);
		return;
	}
	if (!ctx->opts->ignore_daemonsets) {
		verdict(v, false, DRAIN_ERROR, DRAIN_GROUP_DAEMONSET,
		    MSG_DS_ERROR);
		return;
	}
	verdict(v, false, DRAIN_WARNING, DRAIN_GROUP_DAEMONSET, MSG_DS_WARN);
	v->keep = "DaemonSet";
}

static void
filter_mirror(const struct drain_filter_ctx *ctx, json_object *pod,
    struct drain_verdict *v)
{
	json_object *ann = jv_obj(pod, "metadata.annotations");

	(void)ctx;
	verdict(v, true, DRAIN_OKAY, DRAIN_GROUP_OTHER, NULL);
	if (ann != NULL &&
	    json_object_object_get_ex(ann, "kubernetes.io/config.mirror",
		NULL)) {
		verdict(v, false, DRAIN_SKIP, DRAIN_GROUP_OTHER, NULL);
		v->keep = "mirror";
	}
}

static void
filter_local_storage(const struct drain_filter_ctx *ctx, json_object *pod,
    struct drain_verdict *v)
{
	verdict(v, true, DRAIN_OKAY, DRAIN_GROUP_OTHER, NULL);
	if (!has_emptydir(pod) || pod_finished(pod))
		return;
	if (!ctx->opts->delete_emptydir_data)
		verdict(v, false, DRAIN_ERROR, DRAIN_GROUP_LOCAL,
		    MSG_LOCAL_ERR);
	else
		verdict(v, true, DRAIN_WARNING, DRAIN_GROUP_LOCAL,
		    MSG_LOCAL_WARN);
}

static void
filter_unreplicated(const struct drain_filter_ctx *ctx, json_object *pod,
    struct drain_verdict *v)
{
	verdict(v, true, DRAIN_OKAY, DRAIN_GROUP_OTHER, NULL);
	if (pod_finished(pod) || controller_ref(pod) != NULL)
		return;
	if (ctx->opts->force)
		verdict(v, true, DRAIN_WARNING, DRAIN_GROUP_UNMANAGED,
		    MSG_UNMANAGED_WARN);
	else
		verdict(v, false, DRAIN_ERROR, DRAIN_GROUP_UNMANAGED,
		    MSG_UNMANAGED_ERR);
}

typedef void (*filter_fn)(const struct drain_filter_ctx *, json_object *,
    struct drain_verdict *);

/* kubectl's makeFilters() order. */
static const filter_fn filters[] = {
	filter_skip_deleted,
	filter_daemonset,
	filter_mirror,
	filter_local_storage,
	filter_unreplicated,
};

void
drain_filter_pod(const struct drain_filter_ctx *ctx, json_object *pod,
    struct drain_verdict *v)
{
	size_t i;

	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		filters[i](ctx, pod, v);
		if (!v->delete)
			return;
	}
}

/* --- Aggregation ------------------------------------------------------ */

/* Distinct messages of status st, in group order then list order. */
static void
messages_of(const struct drain_filtered *pods, size_t n, enum drain_status st,
    struct strv *msgs)
{
	size_t i;
	int g;

	for (g = 0; g < DRAIN_GROUP__MAX; g++)
		for (i = 0; i < n; i++)
			if (pods[i].v.status == st &&
			    (int)pods[i].v.group == g &&
			    !strv_has(msgs, pods[i].v.msg))
				strv_push(msgs, pods[i].v.msg);
}

/* "ns/a, ns/b" for the pods with status st and message msg. */
static void
pods_with(const struct drain_filtered *pods, size_t n, enum drain_status st,
    const char *msg, struct buf *b)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (pods[i].v.status == st && strcmp(pods[i].v.msg, msg) == 0)
			buf_printf(b, "%s%s/%s", k++ > 0 ? ", " : "",
			    pods[i].namespace, pods[i].name);
}

size_t
drain_collect_errors(const struct drain_filtered *pods, size_t n,
    struct strv *errs)
{
	struct strv msgs = { 0 };
	struct buf b = BUF_INIT;
	size_t i;

	messages_of(pods, n, DRAIN_ERROR, &msgs);
	for (i = 0; i < msgs.n; i++) {
		buf_reset(&b);
		buf_printf(&b, "cannot delete %s: ",
		    *msgs.v[i] != '\0' ? msgs.v[i] : "unexpected error");
		pods_with(pods, n, DRAIN_ERROR, msgs.v[i], &b);
		strv_push(errs, buf_cstr(&b));
	}
	buf_clear(&b);
	i = msgs.n;
	strv_clear(&msgs);
	return i;
}

char *
drain_warnings(const struct drain_filtered *pods, size_t n)
{
	struct strv msgs = { 0 };
	struct buf b = BUF_INIT;
	size_t i;

	messages_of(pods, n, DRAIN_WARNING, &msgs);
	for (i = 0; i < msgs.n; i++) {
		buf_printf(&b, "%s%s: ", i > 0 ? "; " : "", msgs.v[i]);
		pods_with(pods, n, DRAIN_WARNING, msgs.v[i], &b);
	}
	strv_clear(&msgs);
	if (b.len == 0)
		return NULL;
	return buf_detach(&b, NULL);
}

char *
drain_join_errors(const struct strv *errs)
{
	struct buf b = BUF_INIT;
	size_t i;

	if (errs->n == 1)
		return xstrdup(errs->v[0]);
	buf_putc(&b, '[');
	for (i = 0; i < errs->n; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", errs->v[i]);
	buf_putc(&b, ']');
	return buf_detach(&b, NULL);
}

void
drain_go_duration(int64_t ms, char *buf, size_t len)
{
	int64_t h, m, s, frac;
	char sec[32];
	size_t n;

	if (ms < 1000) {
		snprintf(buf, len, "%lldms", (long long)ms);
		if (ms == 0)
			snprintf(buf, len, "0s");
		return;
	}
	h = ms / 3600000;
	m = ms / 60000 % 60;
	s = ms / 1000 % 60;
	frac = ms % 1000;
	snprintf(sec, sizeof(sec), "%lld.%03lld", (long long)s,
	    (long long)frac);
	n = strlen(sec);
	while (sec[n - 1] == '0')
		sec[--n] = '\0';
	if (sec[n - 1] == '.')
		sec[--n] = '\0';
	if (h > 0)
		snprintf(buf, len, "%lldh%lldm%ss", (long long)h, (long long)m,
		    sec);
	else if (m > 0)
		snprintf(buf, len, "%lldm%ss", (long long)m, sec);
	else
		snprintf(buf, len, "%ss", sec);
}

/* --- Label selectors -------------------------------------------------- */

static const char *
label(json_object *labels, const char *key)
{
	json_object *v;

	if (labels == NULL || !json_object_is_type(labels, json_type_object) ||
	    !json_object_object_get_ex(labels, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool
in_values(json_object *values, const char *s)
{
	size_t i, n = values != NULL ? json_object_array_length(values) : 0;
	json_object *v;

	for (i = 0; s != NULL && i < n; i++) {
		v = json_object_array_get_idx(values, i);
		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), s) == 0)
			return true;
	}
	return false;
}

static bool
expression_matches(json_object *expr, json_object *labels)
{
	const char *key = jv_str(expr, "key"), *op = jv_str(expr, "operator");
	json_object *values = jv_arr(expr, "values");
	const char *val;

	if (key == NULL || op == NULL)
		return false;
	val = label(labels, key);
	if (strcmp(op, "In") == 0)
		return in_values(values, val);
	if (strcmp(op, "NotIn") == 0)
		return !in_values(values, val);
	if (strcmp(op, "Exists") == 0)
		return val != NULL;
	if (strcmp(op, "DoesNotExist") == 0)
		return val == NULL;
	return false;
}

static bool
match_labels(json_object *want, json_object *labels)
{
	struct json_object_iterator it, end;
	json_object *v;
	const char *got;

	it = json_object_iter_begin(want);
	end = json_object_iter_end(want);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		v = json_object_iter_peek_value(&it);
		got = label(labels, json_object_iter_peek_name(&it));
		if (!json_object_is_type(v, json_type_string) || got == NULL ||
		    strcmp(got, json_object_get_string(v)) != 0)
			return false;
	}
	return true;
}

bool
drain_selector_matches(json_object *selector, json_object *labels)
{
	json_object *ml, *me, *v;
	size_t i, n;

	if (selector == NULL ||
	    !json_object_is_type(selector, json_type_object))
		return false;
	if (json_object_object_get_ex(selector, "matchLabels", &ml) &&
	    ml != NULL &&
	    (!json_object_is_type(ml, json_type_object) ||
		!match_labels(ml, labels)))
		return false;
	if (!json_object_object_get_ex(selector, "matchExpressions", &me) ||
	    me == NULL)
		return true;
	if (!json_object_is_type(me, json_type_array))
		return false;
	n = json_object_array_length(me);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(me, i);
		if (!expression_matches(v, labels))
			return false;
	}
	return true;
}

/* --- Listing and filtering -------------------------------------------- */

/* The pods on a node, their verdicts and the DaemonSet lookups made. */
struct podset {
	json_object *items;
	struct drain_filtered *f;
	json_object **obj; /* f[i]'s pod, borrowed from items */
	size_t n;
};

struct ds_entry {
	char *key;
	enum cr_err err;
	struct drain_ds_why why;
};

struct ds_cache {
	struct kube *k;
	int64_t deadline;
	struct ds_entry *v;
	size_t n;
};

static void
podset_clear(struct podset *ps)
{
	json_object_put(ps->items);
	free(ps->f);
	free(ps->obj);
	memset(ps, 0, sizeof(*ps));
}

static void
ds_cache_clear(struct ds_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].key);
	free(c->v);
}

static void
ds_fetch(struct ds_cache *c, const char *ns, const char *name,
    struct ds_entry *e)
{
	json_object *obj = NULL;
	char *ens = kube_escape(ns), *ename = kube_escape(name), *path;
	const struct kube_status *st;

	path = xasprintf("/apis/apps/v1/namespaces/%s/daemonsets/%s", ens,
	    ename);
	e->err = kube_get(c->k, path, c->deadline, &obj);
	if (e->err != CR_OK) {
		st = kube_last_status(c->k);
		e->why.not_found = kube_status_is(st, KUBE_REASON_NOT_FOUND);
		snprintf(e->why.msg, sizeof(e->why.msg), "%s",
		    st->code != 0 ? st->message : kube_error_message(c->k));
	}
	json_object_put(obj);
	free(path);
	free(ename);
	free(ens);
}

static enum cr_err
ds_get_cached(void *arg, const char *ns, const char *name,
    struct drain_ds_why *why)
{
	struct ds_cache *c = arg;
	struct ds_entry *e = NULL;
	char *key = xasprintf("%s/%s", ns, name);
	size_t i;

	for (i = 0; i < c->n && e == NULL; i++)
		if (strcmp(c->v[i].key, key) == 0)
			e = &c->v[i];
	if (e == NULL) {
		c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
		e = &c->v[c->n++];
		memset(e, 0, sizeof(*e));
		e->key = key;
		key = NULL;
		ds_fetch(c, ns, name, e);
	}
	free(key);
	*why = e->why;
	return e->err;
}

/* /api/v1/pods?fieldSelector=spec.nodeName%3D<node>[&labelSelector=…] */
static char *
pods_path(const char *node, const char *selector, int64_t limit)
{
	struct buf b = BUF_INIT;
	char *f = xasprintf("spec.nodeName=%s", node), *esc = kube_escape(f);

	buf_printf(&b, "/api/v1/pods?fieldSelector=%s", esc);
	free(esc);
	if (selector != NULL && *selector != '\0') {
		esc = kube_escape(selector);
		buf_printf(&b, "&labelSelector=%s", esc);
		free(esc);
	}
	if (limit > 0)
		buf_printf(&b, "&limit=%lld", (long long)limit);
	free(f);
	return buf_detach(&b, NULL);
}

static const char *
str_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

/* The pod's first Ready condition, as pod_ready() reads it, or NULL. */
static json_object *
ready_condition(json_object *pod)
{
	json_object *conds = jv_arr(pod, "status.conditions"), *c;
	size_t i, n = conds != NULL ? json_object_array_length(conds) : 0;

	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(conds, i);
		if (str_is(jv_str(c, "type"), "Ready"))
			return c;
	}
	return NULL;
}

static bool
pod_ready(json_object *pod)
{
	return str_is(jv_str(ready_condition(pod), "status"), "True");
}

/* slim.parent.key = v (v's reference is taken over). */
static void
slim_put(json_object *slim, const char *parent, const char *key, json_object *v)
{
	json_object *to;

	if (!json_object_object_get_ex(slim, parent, &to)) {
		to = json_object_new_object();
		json_object_object_add(slim, parent, to);
	}
	json_object_object_add(to, key, v);
}

/*
 * What the drain reads of a pod once its verdict is made: its identity,
 * labels (PDB selectors), deletion, phase and Ready condition (the only
 * one kept: a pod has five). The rest (spec, annotations, managedFields,
 * container statuses) is most of a pod's memory, and goes with its page.
 */
static json_object *
pod_slim(json_object *pod)
{
	static const char *const keep[][2] = {
		{ "metadata", "namespace" },
		{ "metadata", "name" },
		{ "metadata", "uid" },
		{ "metadata", "labels" },
		{ "metadata", "deletionTimestamp" },
		{ "status", "phase" },
	};
	json_object *slim = json_object_new_object(), *from, *v, *ready;
	json_object *conds = NULL;
	size_t i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_object_get_ex(pod, keep[i][0], &from) &&
		    json_object_object_get_ex(from, keep[i][1], &v))
			slim_put(slim, keep[i][0], keep[i][1],
			    json_object_get(v));
	if ((ready = ready_condition(pod)) != NULL) {
		conds = json_object_new_array();
		json_object_array_add(conds, json_object_get(ready));
		slim_put(slim, "status", "conditions", conds);
	}
	return slim;
}

struct lister {
	struct podset *ps;
	const struct drain_filter_ctx *ctx;
};

/* kube_list_pages() callback: each pod's verdict and its slim copy. */
static enum cr_err
filter_page(void *arg, json_object *items)
{
	struct lister *l = arg;
	struct podset *ps = l->ps;
	struct drain_filtered *f;
	json_object *pod;
	size_t i, n;

	if (items == NULL) { /* the list starts over */
		podset_clear(ps);
		ps->items = json_object_new_array();
		return CR_OK;
	}
	n = json_object_array_length(items);
	ps->f = xreallocarray(ps->f, ps->n + n + 1, sizeof(*ps->f));
	ps->obj = xreallocarray(ps->obj, ps->n + n + 1, sizeof(json_object *));
	for (i = 0; i < n; i++) {
		pod = json_object_array_get_idx(items, i);
		f = &ps->f[ps->n];
		memset(f, 0, sizeof(*f));
		drain_filter_pod(l->ctx, pod, &f->v);
		ps->obj[ps->n] = pod_slim(pod);
		json_object_array_add(ps->items, ps->obj[ps->n]);
		f->namespace = str_or(
		    jv_str(ps->obj[ps->n], "metadata.namespace"), "default");
		f->name = str_or(jv_str(ps->obj[ps->n], "metadata.name"), "");
		ps->n++;
	}
	return CR_OK;
}

/* The node's pods and their verdicts, a page at a time. */
static enum cr_err
list_and_filter(struct kube *k, const char *node, const struct drain_opts *o,
    int64_t deadline, struct podset *ps)
{
	struct ds_cache cache = { .k = k, .deadline = deadline };
	struct drain_filter_ctx ctx = { .opts = o,
		.now = clock_now(),
		.ds_get = ds_get_cached,
		.ds_arg = &cache };
	struct lister l = { .ps = ps, .ctx = &ctx };
	char *path = pods_path(node, o->pod_selector, o->chunk_size);
	enum cr_err err;

	memset(ps, 0, sizeof(*ps));
	ps->items = json_object_new_array();
	if ((err = kube_list_pages(k, path, deadline, filter_page, &l)) !=
	    CR_OK)
		podset_clear(ps);
	ds_cache_clear(&cache);
	free(path);
	return err;
}

/* --- Evicting and waiting --------------------------------------------- */

enum pod_state {
	P_EVICT = 0, /* eviction (or deletion) still to be accepted */
	P_WAIT,      /* accepted; waiting for the pod to disappear */
	P_GONE,
	P_FAILED,
};

struct dpod {
	char *ns; /* owned copies: the pod list is freed before waiting */
	char *name;
	char *uid;
	bool deleting; /* has a deletionTimestamp */
	bool timed_out;
	enum pod_state state;
	bool listed;        /* in the last list of the node's pods ... */
	int64_t deleted_ms; /* ... with its deletionTimestamp (0: none) */
	int64_t next_at;    /* next eviction attempt, clock_mono_ms() */
	int64_t delay;      /* current retry delay */
	char *path;
	json_object *body;
	char *error;
};

struct run {
	struct kube *k;
	const char *node;
	const struct drain_opts *o;
	struct drain_result *r;
	struct dpod *pods;
	size_t n;
	int64_t deadline;
	char *eviction_gv; /* "policy/v1"; NULL: DELETE */
	char *wait_path;   /* the node's pod list */
	int64_t next_poll;
	bool list_failing;
	int64_t silent_since; /* first failure without an answer, or 0 */
	char silent_why[256];
	char blocker[256];
	char last_pod[256];
};

static void out_line(FILE *fp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_line(FILE *fp, const char *fmt, ...)
{
	va_list ap;

	if (fp == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fputc('\n', fp);
	fflush(fp);
}

static void
progress(struct run *ru)
{
	struct drain_progress p = { .node = ru->node, .total = ru->n };
	size_t i;

	if (ru->o->progress == NULL)
		return;
	for (i = 0; i < ru->n; i++) {
		p.done += ru->pods[i].state == P_GONE;
		p.waiting += ru->pods[i].state == P_WAIT;
		p.blocked += ru->pods[i].state == P_EVICT &&
		    ru->pods[i].delay > ru->o->retry_ms;
	}
	p.pod = ru->last_pod[0] != '\0' ? ru->last_pod : NULL;
	p.blocker = ru->blocker[0] != '\0' ? ru->blocker : NULL;
	ru->o->progress(ru->o->progress_arg, &p);
}

static void pod_fail(struct dpod *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
pod_fail(struct dpod *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(p->error);
	p->error = xvasprintf(fmt, ap);
	va_end(ap);
	p->state = P_FAILED;
}

static void
pod_gone(struct run *ru, struct dpod *p, bool announce)
{
	if (announce)
		out_line(ru->o->out, "pod/%s %s", p->name,
		    ru->eviction_gv != NULL ? "evicted" : "deleted");
	p->state = P_GONE;
}

/* 5xx (but not the eviction API's overlapping-PDB answer) or no answer. */
static bool
transient(const struct kube_call *c)
{
	if (c->status == 0)
		return c->err == CR_ERR_KUBE || c->err == CR_ERR_TIMEOUT;
	if (c->status == 429)
		return true;
	if (c->status == 500 && c->st.is_status && c->st.reason[0] == '\0')
		return false;
	return c->status >= 500;
}

static const char *
call_text(const struct kube_call *c)
{
	return c->status != 0 ? c->st.message : c->msg;
}

enum retry_kind {
	RETRY_EVICT = 0,
	RETRY_TERMINATING,
	RETRY_DELETE,
};

static void
retry_line(FILE *fp, enum retry_kind kind, const struct dpod *p, const char *d,
    const char *why)
{
	if (fp == NULL)
		return;
	switch (kind) {
	case RETRY_TERMINATING:
		fprintf(fp,
		    "error when evicting pod \"%s\" from terminating "
		    "namespace \"%s\" (will retry after %s): %s\n",
		    p->name, p->ns, d, why);
		break;
	case RETRY_DELETE:
		fprintf(fp,
		    "error when deleting pod \"%s\" in namespace "
		    "\"%s\" (will retry after %s): %s\n",
		    p->name, p->ns, d, why);
		break;
	default:
		fprintf(fp,
		    "error when evicting pods/\"%s\" -n \"%s\" (will "
		    "retry after %s): %s\n",
		    p->name, p->ns, d, why);
		break;
	}
	fflush(fp);
}

/* Schedules another attempt and prints kubectl's retry line. */
static void
retry_later(struct run *ru, struct dpod *p, enum retry_kind kind,
    const char *why)
{
	char d[32];

	drain_go_duration(p->delay, d, sizeof(d));
	retry_line(ru->o->err, kind, p, d, why);
	p->next_at = clock_mono_ms() + p->delay;
	p->delay = p->delay * 2 < ru->o->retry_max_ms ? p->delay * 2 :
							ru->o->retry_max_ms;
}

static void
timeout_text(const struct run *ru, char *buf, size_t len)
{
	drain_go_duration(ru->o->timeout_ms, buf, len);
}

static void
evict_failed(const struct run *ru, struct dpod *p, const struct kube_call *c)
{
	char t[32];

	if (!clock_expired(ru->deadline)) {
		pod_fail(p, "error when evicting pods/\"%s\" -n \"%s\": %s",
		    p->name, p->ns, call_text(c));
		return;
	}
	timeout_text(ru, t, sizeof(t));
	pod_fail(p,
	    "error when evicting pods/\"%s\" -n \"%s\": global timeout "
	    "reached: %s",
	    p->name, p->ns, t);
	p->timed_out = true;
}

/*
 * Keeps track of how long the API server has not answered at all: any
 * answer but a 5xx ends the silence.
 */
static void
note_answer(struct run *ru, bool answered, const char *why)
{
	if (answered) {
		ru->silent_since = 0;
		return;
	}
	if (ru->silent_since == 0)
		ru->silent_since = clock_mono_ms();
	snprintf(ru->silent_why, sizeof(ru->silent_why), "%.*s",
	    (int)sizeof(ru->silent_why) - 1, why);
}

static void
evict_result(struct run *ru, struct dpod *p, const struct kube_call *c)
{
	note_answer(ru, c->status != 0 && c->status < 500, call_text(c));
	if (c->err == CR_OK) {
		p->state = P_WAIT;
		return;
	}
	if (c->status == 404) {
		pod_gone(ru, p, false);
		return;
	}
	if (c->status == 403 &&
	    strcmp(c->st.cause_reason, "NamespaceTerminating") == 0) {
		if (p->deleting)
			p->state = P_WAIT;
		else
			retry_later(ru, p, RETRY_TERMINATING, call_text(c));
		return;
	}
	/* A PDB's 429, or a failure worth another try (kubectl gives up). */
	if (c->status == 429 ||
	    (transient(c) && !clock_expired(ru->deadline))) {
		snprintf(ru->blocker, sizeof(ru->blocker), "%s",
		    c->st.cause_message[0] != '\0' ? c->st.cause_message :
						     call_text(c));
		retry_later(ru, p, RETRY_EVICT, call_text(c));
		return;
	}
	evict_failed(ru, p, c);
}

static json_object *
eviction_body(const char *gv, const struct dpod *p, int64_t grace)
{
	json_object *o = json_object_new_object();
	json_object *md = json_object_new_object();
	json_object *del = json_object_new_object();

	jv_add_str(o, "kind", "Eviction");
	jv_add_str(o, "apiVersion", gv);
	jv_add_str(md, "name", p->name);
	jv_add_str(md, "namespace", p->ns);
	json_object_object_add(o, "metadata", md);
	if (grace >= 0)
		jv_add_int(del, "gracePeriodSeconds", grace);
	json_object_object_add(o, "deleteOptions", del);
	return o;
}

/* Sends every eviction that is due, in parallel. */
static void
evict_due(struct run *ru)
{
	struct kube_call *calls = xcalloc(ru->n + 1, sizeof(*calls));
	struct dpod **who = xcalloc(ru->n + 1, sizeof(struct dpod *));
	int64_t now = clock_mono_ms();
	size_t i, m = 0;

	for (i = 0; i < ru->n && !clock_expired(ru->deadline); i++) {
		if (ru->pods[i].state != P_EVICT || ru->pods[i].next_at > now)
			continue;
		out_line(ru->o->out, "evicting pod %s/%s", ru->pods[i].ns,
		    ru->pods[i].name);
		calls[m] = (struct kube_call)KUBE_CALL_INIT;
		calls[m].method = "POST";
		calls[m].path = ru->pods[i].path;
		calls[m].body = ru->pods[i].body;
		calls[m].retry_writes = true;
		who[m++] = &ru->pods[i];
	}
	if (m > 0 &&
	    kube_call_many(ru->k, calls, m, ru->o->max_inflight,
		ru->deadline) != CR_OK)
		log_debug("node %s: not every eviction was accepted", ru->node);
	for (i = 0; i < m; i++) {
		snprintf(ru->last_pod, sizeof(ru->last_pod), "%s/%s",
		    who[i]->ns, who[i]->name);
		evict_result(ru, who[i], &calls[i]);
		kube_call_clear(&calls[i]);
	}
	free(who);
	free(calls);
}

static struct dpod *
find_dpod(struct run *ru, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < ru->n; i++)
		if (strcmp(ru->pods[i].name, name) == 0 &&
		    strcmp(ru->pods[i].ns, ns) == 0)
			return &ru->pods[i];
	return NULL;
}

/* Past --skip-wait-for-delete-timeout: treat the pod as gone. */
static bool
skip_wait(struct run *ru, struct dpod *p)
{
	if (ru->o->skip_wait_s <= 0 || p->deleted_ms == 0 ||
	    (int64_t)clock_now() - p->deleted_ms / 1000 <= ru->o->skip_wait_s)
		return false;
	out_line(ru->o->out,
	    "pod \"%s\" has DeletionTimestamp older than "
	    "%lld seconds, skipping",
	    p->name, (long long)ru->o->skip_wait_s);
	return true;
}

/*
 * kube_list_pages() callback of poll_gone(): notes which of our pods a
 * page still shows (the same pod: a new one of the same name has another
 * uid) and whether it is being deleted.
 */
static enum cr_err
mark_listed(void *arg, json_object *items)
{
	struct run *ru = arg;
	json_object *pod;
	const char *ts;
	struct dpod *p;
	size_t i, n;

	if (items == NULL) { /* the list starts over */
		for (i = 0; i < ru->n; i++)
			ru->pods[i].listed = false;
		return CR_OK;
	}
	n = json_object_array_length(items);
	for (i = 0; i < n; i++) {
		pod = json_object_array_get_idx(items, i);
		p = find_dpod(ru,
		    str_or(jv_str(pod, "metadata.namespace"), "default"),
		    str_or(jv_str(pod, "metadata.name"), ""));
		if (p == NULL || p->listed ||
		    !str_is(jv_str(pod, "metadata.uid"), str_or(p->uid, "")))
			continue;
		p->listed = true;
		ts = jv_str(pod, "metadata.deletionTimestamp");
		p->deleting = ts != NULL;
		if (ts == NULL ||
		    timefmt_parse_rfc3339(ts, &p->deleted_ms) != CR_OK)
			p->deleted_ms = 0;
	}
	return CR_OK;
}

/* After a complete list: the pods it no longer shows are gone. */
static void
update_pods(struct run *ru)
{
	struct dpod *p;
	size_t i;

	for (i = 0; i < ru->n; i++) {
		p = &ru->pods[i];
		if (p->state != P_WAIT && p->state != P_EVICT)
			continue;
		if (!p->listed)
			pod_gone(ru, p, p->state == P_WAIT);
		else if (p->state == P_WAIT && skip_wait(ru, p))
			pod_gone(ru, p, false);
	}
}

static void
wait_failed(struct run *ru, const char *why)
{
	size_t i;

	for (i = 0; i < ru->n; i++) {
		if (ru->pods[i].state != P_WAIT)
			continue;
		pod_fail(&ru->pods[i],
		    "error when waiting for pod \"%s\" in "
		    "namespace \"%s\" to terminate: %s",
		    ru->pods[i].name, ru->pods[i].ns, why);
		ru->pods[i].timed_out = clock_expired(ru->deadline);
	}
}

/* One LIST of the node's pods settles every pod we wait for. */
static void
poll_gone(struct run *ru)
{
	const struct kube_status *st;
	enum cr_err err;
	size_t i;

	for (i = 0; i < ru->n; i++)
		ru->pods[i].listed = false;
	err = kube_list_pages(ru->k, ru->wait_path, ru->deadline, mark_listed,
	    ru);
	ru->next_poll = clock_mono_ms() + ru->o->poll_ms;
	note_answer(ru, err == CR_OK, kube_error_message(ru->k));
	if (err == CR_OK) {
		if (ru->list_failing)
			log_info("node %s: listing its pods works again",
			    ru->node);
		ru->list_failing = false;
		update_pods(ru);
		return;
	}
	st = kube_last_status(ru->k);
	if (st->code == 0 || st->code == 429 || st->code >= 500) {
		/* kubectl gives up here; a restarting API server is normal. */
		if (!ru->list_failing)
			log_warnx("node %s: listing its pods failed, will "
				  "retry: %s",
			    ru->node, kube_error_message(ru->k));
		ru->list_failing = true;
		return;
	}
	wait_failed(ru, st->message);
}

static bool
busy(const struct run *ru)
{
	size_t i;

	for (i = 0; i < ru->n; i++)
		if (ru->pods[i].state == P_EVICT || ru->pods[i].state == P_WAIT)
			return true;
	return false;
}

static void
expire(struct run *ru)
{
	char t[32];
	size_t i;

	timeout_text(ru, t, sizeof(t));
	for (i = 0; i < ru->n; i++) {
		if (ru->pods[i].state != P_EVICT)
			continue;
		pod_fail(&ru->pods[i],
		    "error when evicting pods/\"%s\" -n "
		    "\"%s\": global timeout reached: %s",
		    ru->pods[i].name, ru->pods[i].ns, t);
		ru->pods[i].timed_out = true;
	}
	wait_failed(ru, "context deadline exceeded");
}

static bool
silent_too_long(const struct run *ru)
{
	return ru->silent_since != 0 &&
	    clock_mono_ms() - ru->silent_since > ru->o->silence_ms;
}

/* "the API server has not answered for 2m0s (why)", to free(). */
static char *
silence_text(const struct run *ru)
{
	char d[32];

	drain_go_duration(ru->o->silence_ms, d, sizeof(d));
	return xasprintf("the API server has not answered for %s (%s)", d,
	    ru->silent_why);
}

/* The API has been silent for too long: stop waiting for it. */
static bool
give_up(struct run *ru)
{
	char *why;
	size_t i;

	if (!silent_too_long(ru))
		return false;
	why = silence_text(ru);
	for (i = 0; i < ru->n; i++)
		if (ru->pods[i].state == P_EVICT)
			pod_fail(&ru->pods[i],
			    "error when evicting pods/\"%s\" -n \"%s\": %s",
			    ru->pods[i].name, ru->pods[i].ns, why);
	wait_failed(ru, why);
	free(why);
	return true;
}

static void
sleep_until_next(const struct run *ru)
{
	int64_t now = clock_mono_ms(), wake = ru->next_poll;
	size_t i;

	for (i = 0; i < ru->n; i++)
		if (ru->pods[i].state == P_EVICT && ru->pods[i].next_at < wake)
			wake = ru->pods[i].next_at;
	if (ru->deadline != 0 && ru->deadline < wake)
		wake = ru->deadline;
	clock_sleep_ms(wake - now);
}

static void
run_rounds(struct run *ru)
{
	for (;;) {
		if (ru->eviction_gv != NULL)
			evict_due(ru);
		if (busy(ru) && clock_mono_ms() >= ru->next_poll &&
		    !clock_expired(ru->deadline))
			poll_gone(ru);
		progress(ru);
		if (!busy(ru) || give_up(ru))
			return;
		if (clock_expired(ru->deadline)) {
			expire(ru);
			return;
		}
		sleep_until_next(ru);
	}
}

static json_object *
delete_body(int64_t grace)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "kind", "DeleteOptions");
	jv_add_str(o, "apiVersion", "v1");
	if (grace >= 0)
		jv_add_int(o, "gracePeriodSeconds", grace);
	return o;
}

static void
delete_gave_up(const struct run *ru, struct dpod *p)
{
	char t[32], *why;

	if (silent_too_long(ru)) {
		why = silence_text(ru);
		pod_fail(p,
		    "error when deleting pod \"%s\" in namespace \"%s\": %s",
		    p->name, p->ns, why);
		free(why);
		return;
	}
	timeout_text(ru, t, sizeof(t));
	pod_fail(p,
	    "error when deleting pod \"%s\" in namespace \"%s\": global "
	    "timeout reached: %s",
	    p->name, p->ns, t);
	p->timed_out = true;
}

/* kubectl's DELETE path: one pod at a time, the first error stops all. */
static bool
delete_one(struct run *ru, struct dpod *p)
{
	struct kube_call c = KUBE_CALL_INIT;
	bool ok = false;

	c.method = "DELETE";
	c.path = p->path;
	c.body = p->body;
	while (!clock_expired(ru->deadline) && !silent_too_long(ru)) {
		/* A 404 is ignored; the wait then finds the pod gone. */
		if (kube_call(ru->k, &c, ru->deadline) == CR_OK ||
		    c.status == 404) {
			p->state = P_WAIT;
			ok = true;
			break;
		}
		note_answer(ru, c.status != 0 && c.status < 500, call_text(&c));
		if (!transient(&c)) {
			pod_fail(p, "%s", call_text(&c));
			break;
		}
		retry_later(ru, p, RETRY_DELETE, call_text(&c));
		clock_sleep_ms(p->next_at - clock_mono_ms());
	}
	kube_call_clear(&c);
	if (!ok && p->state != P_FAILED)
		delete_gave_up(ru, p);
	return ok;
}

static void
delete_all(struct run *ru)
{
	size_t i;

	for (i = 0; i < ru->n; i++)
		if (!delete_one(ru, &ru->pods[i]))
			return;
	run_rounds(ru);
}

static void
pods_prepare(struct run *ru, const struct podset *ps)
{
	struct dpod *p;
	const char *uid;
	char *ens, *ename;
	size_t i;

	ru->pods = xcalloc(ps->n + 1, sizeof(*ru->pods));
	for (i = 0; i < ps->n; i++) {
		if (!ps->f[i].v.delete)
			continue;
		p = &ru->pods[ru->n++];
		p->ns = xstrdup(ps->f[i].namespace);
		p->name = xstrdup(ps->f[i].name);
		uid = jv_str(ps->obj[i], "metadata.uid");
		p->uid = uid != NULL ? xstrdup(uid) : NULL;
		p->deleting = jv_str(ps->obj[i],
				  "metadata.deletionTimestamp") != NULL;
		p->delay = ru->o->retry_ms;
		ens = kube_escape(p->ns);
		ename = kube_escape(p->name);
		p->path = xasprintf("/api/v1/namespaces/%s/pods/%s%s", ens,
		    ename, ru->eviction_gv != NULL ? "/eviction" : "");
		p->body = ru->eviction_gv != NULL ?
		    eviction_body(ru->eviction_gv, p, ru->o->grace_period) :
		    delete_body(ru->o->grace_period);
		free(ens);
		free(ename);
	}
}

static void
run_clear(struct run *ru)
{
	size_t i;

	for (i = 0; i < ru->n; i++) {
		free(ru->pods[i].ns);
		free(ru->pods[i].name);
		free(ru->pods[i].uid);
		free(ru->pods[i].path);
		json_object_put(ru->pods[i].body);
		free(ru->pods[i].error);
	}
	free(ru->pods);
	free(ru->eviction_gv);
	free(ru->wait_path);
}

/* Discovery: the group/version /api/v1 advertises for pods/eviction. */
static enum cr_err
eviction_support(struct kube *k, int64_t deadline, char **gvp)
{
	json_object *list = NULL, *res, *r;
	const char *g, *v;
	size_t i, n;
	enum cr_err err;

	*gvp = NULL;
	if ((err = kube_get(k, "/api/v1", deadline, &list)) != CR_OK)
		return err;
	res = jv_arr(list, "resources");
	n = res != NULL ? json_object_array_length(res) : 0;
	for (i = 0; i < n && *gvp == NULL; i++) {
		r = json_object_array_get_idx(res, i);
		g = jv_str(r, "group");
		v = jv_str(r, "version");
		if (str_is(jv_str(r, "name"), "pods/eviction") &&
		    str_is(jv_str(r, "kind"), "Eviction") && g != NULL &&
		    *g != '\0' && v != NULL && *v != '\0')
			*gvp = xasprintf("%s/%s", g, v);
	}
	json_object_put(list);
	return CR_OK;
}

static enum cr_err
run_result(struct run *ru)
{
	struct drain_result *r = ru->r;
	bool timeout = false;
	size_t i;

	for (i = 0; i < ru->n; i++) {
		if (ru->pods[i].state == P_GONE) {
			r->gone++;
			continue;
		}
		strv_push(&r->pending, ru->pods[i].name);
		if (ru->pods[i].error != NULL)
			strv_push(&r->errors, ru->pods[i].error);
		timeout |= ru->pods[i].timed_out;
	}
	if (r->pending.n == 0)
		return CR_OK;
	return timeout ? CR_ERR_TIMEOUT : CR_ERR_KUBE;
}

static enum cr_err
api_failure(struct kube *k, struct drain_result *r, const char *what)
{
	char *msg = xasprintf("%s: %s", what, kube_error_message(k));

	strv_push(&r->errors, msg);
	free(msg);
	return CR_ERR_KUBE;
}

static size_t
count_deletes(const struct podset *ps)
{
	size_t i, n = 0;

	for (i = 0; i < ps->n; i++)
		n += ps->f[i].v.delete;
	return n;
}

static enum cr_err
start_run(struct run *ru, struct podset *ps)
{
	char *warn;

	if (list_and_filter(ru->k, ru->node, ru->o, ru->deadline, ps) != CR_OK)
		return api_failure(ru->k, ru->r, "listing pods");
	if (drain_collect_errors(ps->f, ps->n, &ru->r->errors) > 0)
		return CR_ERR_STATE;
	if ((warn = drain_warnings(ps->f, ps->n)) != NULL)
		out_line(ru->o->err, "Warning: %s", warn);
	free(warn);
	/* kubectl asks discovery only when there is something to evict. */
	if (!ru->o->disable_eviction && count_deletes(ps) > 0 &&
	    eviction_support(ru->k, ru->deadline, &ru->eviction_gv) != CR_OK)
		return api_failure(ru->k, ru->r, "discovery of pods/eviction");
	ru->r->used_eviction = ru->eviction_gv != NULL;
	pods_prepare(ru, ps);
	ru->r->total = ru->n;
	ru->wait_path = pods_path(ru->node, NULL, ru->o->chunk_size);
	return CR_OK;
}

enum cr_err
drain_node(struct kube *k, const char *node, const struct drain_opts *o,
    struct drain_result *r)
{
	struct run ru = { .k = k, .node = node, .o = o, .r = r };
	struct podset ps = { 0 };
	enum cr_err err;

	if (o->timeout_ms > 0)
		ru.deadline = clock_deadline_ms(o->timeout_ms);
	err = start_run(&ru, &ps);
	/* The pods to evict carry what they need: free the list (with 1000
	 * pods its parsed JSON is most of the memory) before the wait lists. */
	podset_clear(&ps);
	if (err != CR_OK)
		goto out;
	log_debug("node %s: %zu pods to %s", node, ru.n,
	    ru.eviction_gv != NULL ? "evict" : "delete");
	if (ru.n > 0 && ru.eviction_gv != NULL)
		run_rounds(&ru);
	else if (ru.n > 0)
		delete_all(&ru);
	err = run_result(&ru);
out:
	run_clear(&ru);
	podset_clear(&ps);
	return err;
}

void
drain_result_clear(struct drain_result *r)
{
	strv_clear(&r->errors);
	strv_clear(&r->pending);
	memset(r, 0, sizeof(*r));
}

/* --- Preview ---------------------------------------------------------- */

static void
add_blocker(struct drain_preview *pv, const char *kind, const char *ns,
    const char *name, const char *msg)
{
	struct drain_blocker *b;

	pv->blockers = xreallocarray(pv->blockers, pv->nblockers + 1,
	    sizeof(*pv->blockers));
	b = &pv->blockers[pv->nblockers++];
	b->kind = xstrdup(kind);
	b->pod = xasprintf("%s/%s", ns, name);
	b->message = xstrdup(msg);
}

static const char *
blocker_kind(const struct drain_verdict *v)
{
	static const char *const kinds[DRAIN_GROUP__MAX] = {
		[DRAIN_GROUP_DAEMONSET] = "daemonset",
		[DRAIN_GROUP_LOCAL] = "local-storage",
		[DRAIN_GROUP_UNMANAGED] = "no-controller",
		[DRAIN_GROUP_OTHER] = "error",
	};

	return kinds[v->group];
}

static void
preview_sort(struct drain_preview *pv, const struct podset *ps)
{
	const struct drain_filtered *f;
	struct drain_kept *kp;
	struct drain_ref *ref;
	size_t i;

	for (i = 0; i < ps->n; i++) {
		f = &ps->f[i];
		if (f->v.status == DRAIN_ERROR) {
			add_blocker(pv, blocker_kind(&f->v), f->namespace,
			    f->name, f->v.msg);
		} else if (f->v.delete) {
			pv->evict = xreallocarray(pv->evict, pv->nevict + 1,
			    sizeof(*pv->evict));
			ref = &pv->evict[pv->nevict++];
			ref->namespace = xstrdup(f->namespace);
			ref->name = xstrdup(f->name);
			ref->finished = pod_finished(ps->obj[i]);
		} else {
			pv->keep = xreallocarray(pv->keep, pv->nkeep + 1,
			    sizeof(*pv->keep));
			kp = &pv->keep[pv->nkeep++];
			kp->namespace = xstrdup(f->namespace);
			kp->name = xstrdup(f->name);
			kp->reason = xstrdup(
			    f->v.keep != NULL ? f->v.keep : "skipped");
		}
	}
}

/* The eviction API consults no PDB for these (kube-api.md §3.2). */
static bool
pdb_exempt(json_object *pod)
{
	return pod_finished(pod) ||
	    str_is(jv_str(pod, "status.phase"), "Pending") ||
	    jv_str(pod, "metadata.deletionTimestamp") != NULL;
}

/* PDBs of pod's namespace that select it, appended to out (borrowed). */
static size_t
pdbs_for(json_object *pdbs, json_object *pod, json_object **out, size_t max)
{
	const char *ns = str_or(jv_str(pod, "metadata.namespace"), "default");
	json_object *labels = jv_obj(pod, "metadata.labels"), *pdb;
	size_t i, n = json_object_array_length(pdbs), m = 0;

	for (i = 0; i < n; i++) {
		pdb = json_object_array_get_idx(pdbs, i);
		if (!str_is(jv_str(pdb, "metadata.namespace"), ns) ||
		    !drain_selector_matches(jv_obj(pdb, "spec.selector"),
			labels))
			continue;
		if (m < max)
			out[m] = pdb;
		m++;
	}
	return m;
}

/* Would the eviction of pod (not Ready) skip the budget's decrement? */
static bool
unhealthy_exempt(json_object *pdb, json_object *pod)
{
	int64_t cur = 0, want = 0;

	if (pod_ready(pod))
		return false;
	if (str_is(jv_str(pdb, "spec.unhealthyPodEvictionPolicy"),
		"AlwaysAllow"))
		return true;
	return jv_int(pdb, "status.currentHealthy", &cur) &&
	    jv_int(pdb, "status.desiredHealthy", &want) && want > 0 &&
	    cur >= want;
}

static void
pdb_blocker(struct drain_preview *pv, json_object *pdb, json_object *pod,
    int64_t used)
{
	int64_t allowed = 0, cur = 0, want = 0;
	char msg[512];
	const char *ns = jv_str(pdb, "metadata.namespace");
	const char *name = jv_str(pdb, "metadata.name");

	(void)jv_int(pdb, "status.disruptionsAllowed", &allowed);
	if (used < allowed)
		return;
	(void)jv_int(pdb, "status.currentHealthy", &cur);
	(void)jv_int(pdb, "status.desiredHealthy", &want);
	if (allowed <= 0)
		snprintf(msg, sizeof(msg),
		    "PodDisruptionBudget %s/%s allows "
		    "no disruption now (it needs %lld healthy pods and has "
		    "%lld): the eviction is refused until it does",
		    ns, name, (long long)want, (long long)cur);
	else
		snprintf(msg, sizeof(msg),
		    "PodDisruptionBudget %s/%s allows "
		    "%lld disruption(s), used up by other pods on this node "
		    "first: the eviction waits until their replacements are "
		    "healthy",
		    ns, name, (long long)allowed);
	add_blocker(pv, allowed <= 0 ? "pdb" : DRAIN_PDB_WAIT,
	    str_or(jv_str(pod, "metadata.namespace"), "default"),
	    str_or(jv_str(pod, "metadata.name"), ""), msg);
}

bool
drain_blocks(const struct drain_blocker *b)
{
	return strcmp(b->kind, DRAIN_PDB_WAIT) != 0;
}

/* How many pods each PDB has already been charged, keyed by the PDB. */
struct pdb_use {
	json_object *pdb;
	int64_t used;
};

static int64_t *
pdb_counter(struct pdb_use **v, size_t *n, json_object *pdb)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*v)[i].pdb == pdb)
			return &(*v)[i].used;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n] = (struct pdb_use){ .pdb = pdb, .used = 0 };
	return &(*v)[(*n)++].used;
}

static void
overlap_blocker(struct drain_preview *pv, json_object *pod, json_object **m,
    size_t nm)
{
	char msg[512];

	snprintf(msg, sizeof(msg),
	    "the pod is selected by %zu "
	    "PodDisruptionBudgets (%s, %s%s): the eviction API refuses it "
	    "(\"This pod has more than one PodDisruptionBudget\")",
	    nm, str_or(jv_str(m[0], "metadata.name"), "?"),
	    str_or(jv_str(m[1], "metadata.name"), "?"), nm > 2 ? ", ..." : "");
	add_blocker(pv, "pdb-overlap",
	    str_or(jv_str(pod, "metadata.namespace"), "default"),
	    str_or(jv_str(pod, "metadata.name"), ""), msg);
}

static void
preview_pdbs(struct drain_preview *pv, const struct podset *ps,
    json_object *pdbs)
{
	struct pdb_use *use = NULL;
	json_object *m[3];
	size_t i, nm, nuse = 0;
	int64_t *used;

	for (i = 0; i < ps->n; i++) {
		if (!ps->f[i].v.delete || pdb_exempt(ps->obj[i]))
			continue;
		nm = pdbs_for(pdbs, ps->obj[i], m, 3);
		if (nm > 1) {
			overlap_blocker(pv, ps->obj[i], m, nm);
			continue;
		}
		if (nm == 0 || unhealthy_exempt(m[0], ps->obj[i]))
			continue;
		used = pdb_counter(&use, &nuse, m[0]);
		pdb_blocker(pv, m[0], ps->obj[i], *used);
		(*used)++;
	}
	free(use);
}

enum cr_err
drain_preview(struct kube *k, const char *node, const struct drain_opts *o,
    struct drain_preview *pv)
{
	struct podset ps = { 0 };
	json_object *pdbs = NULL;
	int64_t deadline = o->timeout_ms > 0 ?
	    clock_deadline_ms(o->timeout_ms) :
	    0;
	enum cr_err err;

	if ((err = list_and_filter(k, node, o, deadline, &ps)) != CR_OK)
		goto out;
	preview_sort(pv, &ps);
	if (o->disable_eviction)
		goto out;
	if ((err = kube_list_all(k, "/apis/policy/v1/poddisruptionbudgets",
		 deadline, &pdbs)) != CR_OK)
		goto out;
	preview_pdbs(pv, &ps, pdbs);
out:
	json_object_put(pdbs);
	podset_clear(&ps);
	return err;
}

void
drain_preview_clear(struct drain_preview *pv)
{
	size_t i;

	for (i = 0; i < pv->nevict; i++) {
		free(pv->evict[i].namespace);
		free(pv->evict[i].name);
	}
	for (i = 0; i < pv->nkeep; i++) {
		free(pv->keep[i].namespace);
		free(pv->keep[i].name);
		free(pv->keep[i].reason);
	}
	for (i = 0; i < pv->nblockers; i++) {
		free(pv->blockers[i].kind);
		free(pv->blockers[i].pod);
		free(pv->blockers[i].message);
	}
	free(pv->evict);
	free(pv->keep);
	free(pv->blockers);
	memset(pv, 0, sizeof(*pv));
}

json_object *
drain_preview_to_json(const struct drain_preview *pv)
{
	json_object *o = json_object_new_object(), *a, *e;
	size_t i;

	a = json_object_new_array();
	for (i = 0; i < pv->nevict; i++) {
		e = json_object_new_object();
		jv_add_str(e, "namespace", pv->evict[i].namespace);
		jv_add_str(e, "name", pv->evict[i].name);
		jv_add_bool(e, "finished", pv->evict[i].finished);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "evict", a);
	a = json_object_new_array();
	for (i = 0; i < pv->nkeep; i++) {
		e = json_object_new_object();
		jv_add_str(e, "namespace", pv->keep[i].namespace);
		jv_add_str(e, "name", pv->keep[i].name);
		jv_add_str(e, "reason", pv->keep[i].reason);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "keep", a);
	a = json_object_new_array();
	for (i = 0; i < pv->nblockers; i++) {
		e = json_object_new_object();
		jv_add_str(e, "kind", pv->blockers[i].kind);
		jv_add_str(e, "pod", pv->blockers[i].pod);
		jv_add_str(e, "message", pv->blockers[i].message);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "blockers", a);
	return o;
}
