/*
 * drain: kubectl's filter chain and messages (hermetic), then kubectl's
 * own TestDrain rows in eviction and DELETE modes and the derived cases of
 * kube-api.md §2.9 against kubesim ("sim" argument, ctest label sim).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "cu_run.h"
#include "drain.h"
#include "jv.h"
#include "kube.h"
#include "kubesim_fix.h"
#include "timefmt.h"
#include "xmalloc.h"

static json_object *
jq(const char *text)
{
	char *copy = xstrdup(text), *p;
	json_object *o = NULL;

	for (p = copy; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	if (jv_parse(copy, strlen(copy), &o, NULL, 0) != CR_OK) {
		fprintf(stderr, "bad test JSON: %s\n", copy);
		exit(2);
	}
	free(copy);
	return o;
}

/* --- The filter chain (hermetic) -------------------------------------- */

/* DaemonSet "ds" exists, "missing-ds" is a 404, "broken" fails. */
static enum cr_err
fake_ds_get(void *arg, const char *ns, const char *name,
    struct drain_ds_why *why)
{
	(void)arg;
	(void)ns;
	why->not_found = strcmp(name, "missing-ds") == 0;
	if (strcmp(name, "ds") == 0)
		return CR_OK;
	if (why->not_found)
		snprintf(why->msg, sizeof(why->msg),
		    "daemonsets.apps \"%s\" not found", name);
	else
		snprintf(why->msg, sizeof(why->msg),
		    "Internal error occurred: etcd");
	return CR_ERR_KUBE;
}

#define OWNER(kind, api, name)                                                 \
	"'ownerReferences':[{'apiVersion':'" api "','kind':'" kind             \
	"','name':'" name "','uid':'u','controller':true}]"
#define RC     OWNER("ReplicationController", "v1", "rc")
#define DS     OWNER("DaemonSet", "apps/v1", "ds")
#define JOB    OWNER("Job", "batch/v1", "job")
#define RS     OWNER("ReplicaSet", "apps/v1", "rs")
#define EMPTY  "'volumes':[{'name':'scratch','emptyDir':{}}]"
#define MIRROR "'annotations':{'kubernetes.io/config.mirror':'h'}"

enum {
	F_FORCE = 1,
	F_IGNORE_DS = 2,
	F_EMPTYDIR = 4,
	F_SKIP10 = 8
};

struct filter_row {
	const char *name;
	const char *meta;  /* inside metadata, after name */
	const char *spec;  /* inside spec */
	const char *phase; /* status.phase or NULL */
	int flags;
	bool del;
	enum drain_status status;
	enum drain_group group;
	const char *msg;
	const char *keep;
};

static const struct filter_row filter_rows[] = {
	/* kubectl TestDrain, seen from the filters. */
	{ "1_rc_managed", RC, "", NULL, 0, true, DRAIN_OKAY, DRAIN_GROUP_OTHER,
	    "", NULL },
	{ "2_ds_managed", DS, "", NULL, 0, false, DRAIN_ERROR,
	    DRAIN_GROUP_DAEMONSET,
	    "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
	    NULL },
	{ "3_ds_terminated", DS, "", "Succeeded", 0, true, DRAIN_OKAY,
	    DRAIN_GROUP_OTHER, "", NULL },
	{ "4_orphaned_ds_pod", "'x':1", "", NULL, 0, false, DRAIN_ERROR,
	    DRAIN_GROUP_UNMANAGED,
	    "Pods that declare no controller (use --force to override)", NULL },
	{ "5_orphaned_with_force", "'x':1", "", NULL, F_FORCE, true,
	    DRAIN_WARNING, DRAIN_GROUP_UNMANAGED,
	    "deleting Pods that declare no controller", NULL },
	{ "6_ds_ignored", DS, "", NULL, F_IGNORE_DS, false, DRAIN_WARNING,
	    DRAIN_GROUP_DAEMONSET, "ignoring DaemonSet-managed Pods",
	    "DaemonSet" },
	{ "7_ds_emptydir_ignored", DS, EMPTY, NULL, F_IGNORE_DS, false,
	    DRAIN_WARNING, DRAIN_GROUP_DAEMONSET,
	    "ignoring DaemonSet-managed Pods", "DaemonSet" },
	/* The local-storage warning is overwritten by the next filter. */
	{ "8_job_local_storage", JOB, EMPTY, NULL, F_FORCE | F_EMPTYDIR, true,
	    DRAIN_OKAY, DRAIN_GROUP_OTHER, "", NULL },
	{ "9_job_terminated", JOB, EMPTY, "Succeeded", 0, true, DRAIN_OKAY,
	    DRAIN_GROUP_OTHER, "", NULL },
	{ "10_rs_managed", RS, "", NULL, 0, true, DRAIN_OKAY, DRAIN_GROUP_OTHER,
	    "", NULL },
	{ "11_naked", "'x':1", "", NULL, 0, false, DRAIN_ERROR,
	    DRAIN_GROUP_UNMANAGED,
	    "Pods that declare no controller (use --force to override)", NULL },
	{ "12_naked_force", "'x':1", "", NULL, F_FORCE, true, DRAIN_WARNING,
	    DRAIN_GROUP_UNMANAGED, "deleting Pods that declare no controller",
	    NULL },
	{ "13_emptydir_force", "'x':1", EMPTY, NULL, F_FORCE, false,
	    DRAIN_ERROR, DRAIN_GROUP_LOCAL,
	    "Pods with local storage (use --delete-emptydir-data to override)",
	    NULL },
	{ "14_terminated_emptydir", "'x':1", EMPTY, "Failed", 0, true,
	    DRAIN_OKAY, DRAIN_GROUP_OTHER, "", NULL },
	{ "15_emptydir_delete", "'x':1", EMPTY, NULL, F_FORCE | F_EMPTYDIR,
	    true, DRAIN_WARNING, DRAIN_GROUP_UNMANAGED,
	    "deleting Pods that declare no controller", NULL },
	/* Derived rows. */
	{ "mirror_without_flags", MIRROR, "", NULL, 0, false, DRAIN_SKIP,
	    DRAIN_GROUP_OTHER, "", "mirror" },
	{ "static_pod_node_owner", MIRROR "," OWNER("Node", "v1", "cp1"), "",
	    NULL, 0, false, DRAIN_SKIP, DRAIN_GROUP_OTHER, "", "mirror" },
	{ "ds_404_without_force", OWNER("DaemonSet", "apps/v1", "missing-ds"),
	    "", NULL, 0, false, DRAIN_ERROR, DRAIN_GROUP_OTHER,
	    "daemonsets.apps \"missing-ds\" not found", NULL },
	/* Its warning is overwritten by the last filter's okay, as in kubectl.
	 */
	{ "ds_404_with_force", OWNER("DaemonSet", "apps/v1", "missing-ds"), "",
	    NULL, F_FORCE, true, DRAIN_OKAY, DRAIN_GROUP_OTHER, "", NULL },
	{ "ds_lookup_error_even_with_force",
	    OWNER("DaemonSet", "apps/v1", "broken"), "", NULL, F_FORCE, false,
	    DRAIN_ERROR, DRAIN_GROUP_OTHER, "Internal error occurred: etcd",
	    NULL },
	{ "ds_of_another_api_version",
	    OWNER("DaemonSet", "extensions/v1beta1", "ds"), "", NULL, 0, true,
	    DRAIN_OKAY, DRAIN_GROUP_OTHER, "", NULL },
	{ "owner_not_controller",
	    "'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet',"
	    "'name':'rs','uid':'u','controller':false}]",
	    "", NULL, 0, false, DRAIN_ERROR, DRAIN_GROUP_UNMANAGED,
	    "Pods that declare no controller (use --force to override)", NULL },
	{ "deleted_long_ago_skipped_first",
	    DS ",'deletionTimestamp':'2026-11-28T10:00:00Z'", "", NULL,
	    F_SKIP10, false, DRAIN_SKIP, DRAIN_GROUP_OTHER, "", "deleted" },
	{ "deleted_recently_not_skipped",
	    RS ",'deletionTimestamp':'2030-01-01T00:00:00Z'", "", NULL,
	    F_SKIP10, true, DRAIN_OKAY, DRAIN_GROUP_OTHER, "", NULL },
	{ "deleted_long_ago_but_no_skip_flag",
	    RS ",'deletionTimestamp':'2026-11-28T10:00:00Z'", "", NULL, 0, true,
	    DRAIN_OKAY, DRAIN_GROUP_OTHER, "", NULL },
};

static void
opts_from_flags(struct drain_opts *o, int flags)
{
	drain_opts_init(o);
	o->force = (flags & F_FORCE) != 0;
	o->ignore_daemonsets = (flags & F_IGNORE_DS) != 0;
	o->delete_emptydir_data = (flags & F_EMPTYDIR) != 0;
	o->skip_wait_s = (flags & F_SKIP10) != 0 ? 10 : 0;
}

static void
test_filter_rows(void)
{
	const struct filter_row *r;
	struct drain_opts o;
	struct drain_filter_ctx ctx = { .opts = &o, .ds_get = fake_ds_get };
	struct drain_verdict v;
	json_object *pod;
	char *text;
	int64_t now_ms;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(
	    timefmt_parse_rfc3339("2026-11-28T13:00:00Z", &now_ms), CR_OK);
	ctx.now = (time_t)(now_ms / 1000);
	for (i = 0; i < sizeof(filter_rows) / sizeof(filter_rows[0]); i++) {
		r = &filter_rows[i];
		text = xasprintf("{'metadata':{'name':'bar','namespace':"
				 "'default',%s},'spec':{%s},'status':"
				 "{'phase':'%s'}}",
		    r->meta, r->spec, r->phase != NULL ? r->phase : "Running");
		pod = jq(text);
		opts_from_flags(&o, r->flags);
		memset(&v, 0x55, sizeof(v));
		drain_filter_pod(&ctx, pod, &v);
		CU_ASSERT_CASE(v.delete == r->del, r->name);
		CU_ASSERT_CASE(v.status == r->status, r->name);
		CU_ASSERT_CASE(v.status == DRAIN_OKAY || v.group == r->group,
		    r->name);
		CU_ASSERT_CASE(strcmp(v.msg, r->msg) == 0, r->name);
		CU_ASSERT_CASE(r->keep == NULL ?
			v.keep == NULL :
			(v.keep != NULL && strcmp(v.keep, r->keep) == 0),
		    r->name);
		json_object_put(pod);
		free(text);
	}
}

static void
test_aggregation(void)
{
	struct drain_filtered pods[] = {
		{ "default", "naked-1",
		    { .status = DRAIN_ERROR, .group = DRAIN_GROUP_UNMANAGED } },
		{ "kube-system", "ds-1",
		    { .status = DRAIN_ERROR, .group = DRAIN_GROUP_DAEMONSET } },
		{ "default", "cache-1",
		    { .status = DRAIN_ERROR, .group = DRAIN_GROUP_LOCAL } },
		{ "default", "web-1", { .delete = true } },
		{ "default", "naked-2",
		    { .status = DRAIN_ERROR, .group = DRAIN_GROUP_UNMANAGED } },
		{ "default", "odd",
		    { .status = DRAIN_ERROR, .group = DRAIN_GROUP_OTHER } },
	};
	struct strv errs = { 0 };
	char *joined;

	snprintf(pods[0].v.msg, sizeof(pods[0].v.msg), "%s",
	    "Pods that declare no controller (use --force to override)");
	snprintf(pods[1].v.msg, sizeof(pods[1].v.msg), "%s",
	    "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)");
	snprintf(pods[2].v.msg, sizeof(pods[2].v.msg), "%s",
	    "Pods with local storage (use --delete-emptydir-data to override)");
	snprintf(pods[4].v.msg, sizeof(pods[4].v.msg), "%s", pods[0].v.msg);
	/* An empty message reads "unexpected error", as in kubectl. */
	CU_ASSERT_EQUAL(drain_collect_errors(pods, 6, &errs), 4);
	CU_ASSERT_EQUAL_FATAL(errs.n, 4);
	/* Fixed order: DaemonSet, local storage, no controller, other. */
	CU_ASSERT_STRING_EQUAL(errs.v[0],
	    "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to "
	    "ignore): kube-system/ds-1");
	CU_ASSERT_STRING_EQUAL(errs.v[1],
	    "cannot delete Pods with local storage (use --delete-emptydir-data "
	    "to override): default/cache-1");
	CU_ASSERT_STRING_EQUAL(errs.v[2],
	    "cannot delete Pods that declare no controller (use --force to "
	    "override): default/naked-1, default/naked-2");
	CU_ASSERT_STRING_EQUAL(errs.v[3],
	    "cannot delete unexpected error: default/odd");
	joined = drain_join_errors(&errs);
	CU_ASSERT_EQUAL(joined[0], '[');
	CU_ASSERT_PTR_NOT_NULL(strstr(joined, "ds-1, cannot delete Pods with"));
	free(joined);
	strv_clear(&errs);
	strv_push(&errs, "only one");
	joined = drain_join_errors(&errs);
	CU_ASSERT_STRING_EQUAL(joined, "only one");
	free(joined);
	strv_clear(&errs);
	CU_ASSERT_EQUAL(drain_collect_errors(pods + 3, 1, &errs), 0);
	CU_ASSERT_PTR_NULL(drain_warnings(pods, 6));
}

static void
test_warnings(void)
{
	struct drain_filtered pods[] = {
		{ "default", "a",
		    { .delete = true,
			.status = DRAIN_WARNING,
			.group = DRAIN_GROUP_UNMANAGED } },
		{ "kube-system", "kp",
		    { .status = DRAIN_WARNING,
			.group = DRAIN_GROUP_DAEMONSET } },
		{ "default", "b",
		    { .delete = true,
			.status = DRAIN_WARNING,
			.group = DRAIN_GROUP_UNMANAGED } },
	};
	char *w;

	snprintf(pods[0].v.msg, sizeof(pods[0].v.msg),
	    "deleting Pods that declare no controller");
	snprintf(pods[1].v.msg, sizeof(pods[1].v.msg),
	    "ignoring DaemonSet-managed Pods");
	snprintf(pods[2].v.msg, sizeof(pods[2].v.msg), "%s", pods[0].v.msg);
	w = drain_warnings(pods, 3);
	CU_ASSERT_STRING_EQUAL(w,
	    "ignoring DaemonSet-managed Pods: kube-system/kp; deleting Pods "
	    "that declare no controller: default/a, default/b");
	free(w);
}

static void
test_go_duration(void)
{
	static const struct {
		int64_t ms;
		const char *want;
	} rows[] = {
		{ 0, "0s" },
		{ 200, "200ms" },
		{ 1000, "1s" },
		{ 1500, "1.5s" },
		{ 5000, "5s" },
		{ 12000, "12s" },
		{ 60000, "1m0s" },
		{ 90000, "1m30s" },
		{ 3600000, "1h0m0s" },
		{ 3723004, "1h2m3.004s" },
		{ 20250, "20.25s" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		drain_go_duration(rows[i].ms, buf, sizeof(buf));
		CU_ASSERT_CASE(strcmp(buf, rows[i].want) == 0, rows[i].want);
	}
}

static void
test_selectors(void)
{
	static const struct {
		const char *name;
		const char *selector; /* NULL: JSON null */
		bool want;
	} rows[] = {
		{ "null_matches_nothing", NULL, false },
		{ "empty_matches_all", "{}", true },
		{ "match_labels", "{'matchLabels':{'app':'web'}}", true },
		{ "match_labels_other_value", "{'matchLabels':{'app':'db'}}",
		    false },
		{ "match_labels_missing_key", "{'matchLabels':{'zone':'a'}}",
		    false },
		{ "in",
		    "{'matchExpressions':[{'key':'tier','operator':'In',"
		    "'values':['fe','be']}]}",
		    true },
		{ "in_missing",
		    "{'matchExpressions':[{'key':'tier','operator':"
		    "'In','values':['db']}]}",
		    false },
		{ "not_in_absent_key",
		    "{'matchExpressions':[{'key':'zone',"
		    "'operator':'NotIn','values':['a']}]}",
		    true },
		{ "exists",
		    "{'matchExpressions':[{'key':'app','operator':"
		    "'Exists'}]}",
		    true },
		{ "does_not_exist",
		    "{'matchExpressions':[{'key':'app',"
		    "'operator':'DoesNotExist'}]}",
		    false },
		{ "both_parts_must_match",
		    "{'matchLabels':{'app':'web'},'matchExpressions':[{'key':"
		    "'tier','operator':'NotIn','values':['fe']}]}",
		    false },
		{ "unknown_operator",
		    "{'matchExpressions':[{'key':'app',"
		    "'operator':'Gt','values':['1']}]}",
		    false },
		{ "malformed_match_labels", "{'matchLabels':['app']}", false },
		{ "malformed_expressions", "{'matchExpressions':{'key':'a'}}",
		    false },
		{ "not_an_object", "[1]", false },
	};
	json_object *labels = jq("{'app':'web','tier':'fe'}"), *sel;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sel = rows[i].selector != NULL ? jq(rows[i].selector) : NULL;
		CU_ASSERT_CASE(drain_selector_matches(sel, labels) ==
			rows[i].want,
		    rows[i].name);
		json_object_put(sel);
	}
	sel = jq("{}");
	CU_ASSERT_TRUE(drain_selector_matches(sel, NULL));
	json_object_put(sel);
	json_object_put(labels);
}

static void
test_opts_defaults(void)
{
	struct drain_opts o;

	drain_opts_init(&o);
	CU_ASSERT_EQUAL(o.grace_period, -1);
	CU_ASSERT_EQUAL(o.chunk_size, 500);
	CU_ASSERT_EQUAL(o.timeout_ms, 0);
	CU_ASSERT_EQUAL(o.skip_wait_s, 0);
	CU_ASSERT_EQUAL(o.retry_ms, 5000);
	CU_ASSERT_EQUAL(o.max_inflight, 16);
	CU_ASSERT_EQUAL(o.silence_ms, 120000);
	CU_ASSERT_FALSE(o.force || o.ignore_daemonsets ||
	    o.delete_emptydir_data || o.disable_eviction);
	CU_ASSERT_PTR_NULL(o.out);
}

/* --- Against kubesim -------------------------------------------------- */

static struct ksf sim;

static int
sim_init(void)
{
	const char *extra[] = { "--max-grace", "0.3s", NULL };

	ksf_init(&sim);
	ksf_start(&sim, extra);
	/* Nothing recreates evicted pods elsewhere: counts stay exact. */
	if (ksf_controller(&sim, "daemonset", false) != 0 ||
	    ksf_controller(&sim, "replicaset", false) != 0 ||
	    ksf_controller(&sim, "deployment", false) != 0)
		return 1;
	return 0;
}

static int
sim_clean(void)
{
	ksf_stop(&sim);
	return 0;
}

static int64_t
soon(void)
{
	return clock_deadline_ms(20000);
}

static void bulk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
bulk(const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	CU_ASSERT_EQUAL_FATAL(ksf_bulk(&sim, text), 0);
	free(text);
}

/* A node, plus DaemonSet "ds-<node>" for its DaemonSet pods. */
static void
node(const char *name, bool ready)
{
	bulk("[{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s'}%s},"
	     "{'apiVersion':'apps/v1','kind':'DaemonSet','metadata':{'name':"
	     "'ds-%s','namespace':'default'},'spec':{'selector':{'matchLabels':"
	     "{'ds':'%s'}},'template':{'metadata':{'labels':{'ds':'%s'}},"
	     "'spec':{'nodeSelector':{'none':'none'},'containers':[{'name':"
	     "'c','image':'x'}]}}}}]",
	    name,
	    ready ?
		"" :
		",'status':{'conditions':[{'type':'Ready','status':'False'}]}",
	    name, name, name);
}

static void
pod(const char *node_name, const char *pod_name, const char *meta,
    const char *spec)
{
	bulk("[{'apiVersion':'v1','kind':'Pod','metadata':{'name':'%s',"
	     "'namespace':'default'%s%s},'spec':{'nodeName':'%s',"
	     "'terminationGracePeriodSeconds':1,'containers':[{'name':'c',"
	     "'image':'x'}]%s%s}}]",
	    pod_name, *meta != '\0' ? "," : "", meta, node_name,
	    *spec != '\0' ? "," : "", spec);
}

static void
set_phase(const char *pod_name, const char *phase)
{
	char *path = xasprintf("/api/v1/namespaces/default/pods/%s/status",
	    pod_name);
	char *body = xasprintf("{'status':{'phase':'%s'}}", phase);

	CU_ASSERT_EQUAL(ksf_send(&sim, "PATCH", path, body), 200);
	free(body);
	free(path);
}

static bool
pod_exists(const char *pod_name)
{
	char *path = xasprintf("/api/v1/namespaces/default/pods/%s", pod_name);
	json_object *o = ksf_get(&sim, path);
	bool there = o != NULL;

	json_object_put(o);
	free(path);
	return there;
}

/* Captures what drain_node() prints, like kubectl's two streams. */
struct capture {
	char *out_text;
	size_t out_len;
	char *err_text;
	size_t err_len;
};

static void
capture_start(struct capture *c, struct drain_opts *o)
{
	memset(c, 0, sizeof(*c));
	o->out = open_memstream(&c->out_text, &c->out_len);
	o->err = open_memstream(&c->err_text, &c->err_len);
}

static void
capture_end(struct drain_opts *o)
{
	fclose(o->out);
	fclose(o->err);
	o->out = o->err = NULL;
}

static void
capture_free(struct capture *c)
{
	free(c->out_text);
	free(c->err_text);
}

static bool
has_error(const struct drain_result *r, const char *want)
{
	size_t i;

	for (i = 0; i < r->errors.n; i++)
		if (strstr(r->errors.v[i], want) != NULL)
			return true;
	return false;
}

/* kubectl's TestDrain rows; each runs in eviction and in DELETE mode. */
struct drain_row {
	const char *name;
	const char *meta;
	const char *spec;
	const char *phase;
	int flags;
	bool fatal;
	bool deleted;
	const char *want_err;
	const char *want_warn;
};

/* '@' stands for the row's node name. */
#define DS_OF_NODE                                                             \
	"'ownerReferences':[{'apiVersion':'apps/v1','kind':"                   \
	"'DaemonSet','name':'ds-@','uid':'u','controller':true}]"

static const struct drain_row drain_rows[] = {
	{ "1_rc_managed", RC, "", NULL, 0, false, true, NULL, NULL },
	{ "2_ds_managed", DS_OF_NODE, "", NULL, 0, true, false,
	    "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to "
	    "ignore): default/bar-",
	    NULL },
	{ "3_ds_terminated", DS_OF_NODE, "", "Succeeded", 0, false, true, NULL,
	    NULL },
	{ "4_orphaned_ds_pod", "", "", NULL, 0, true, false,
	    "cannot delete Pods that declare no controller", NULL },
	{ "5_orphaned_with_force", "", "", NULL, F_FORCE, false, true, NULL,
	    "Warning: deleting Pods that declare no controller: default/bar-" },
	{ "6_ds_ignored", DS_OF_NODE, "", NULL, F_IGNORE_DS, false, false, NULL,
	    NULL },
	{ "7_ds_emptydir_ignored", DS_OF_NODE, EMPTY, NULL, F_IGNORE_DS, false,
	    false, NULL,
	    "Warning: ignoring DaemonSet-managed Pods: default/bar-" },
	{ "8_job_local_storage", JOB, EMPTY, NULL, F_FORCE | F_EMPTYDIR, false,
	    true, NULL, NULL },
	{ "9_job_terminated", JOB, EMPTY, "Succeeded", 0, false, true, NULL,
	    NULL },
	{ "10_rs_managed", RS, "", NULL, 0, false, true, NULL, NULL },
	{ "11_naked", "", "", NULL, 0, true, false,
	    "cannot delete Pods that declare no controller", NULL },
	{ "12_naked_force", "", "", NULL, F_FORCE, false, true, NULL, NULL },
	{ "13_emptydir_force", "", EMPTY, NULL, F_FORCE, true, false,
	    "cannot delete Pods with local storage (use --delete-emptydir-data "
	    "to override)",
	    NULL },
	{ "14_terminated_emptydir", "", EMPTY, "Failed", 0, false, true, NULL,
	    NULL },
	{ "15_emptydir_delete", "", EMPTY, NULL, F_FORCE | F_EMPTYDIR, false,
	    true, NULL, NULL },
	{ "16_empty_node", NULL, NULL, NULL, 0, false, false, NULL, NULL },
};

/* tmpl with every '@' replaced by node; to free(). */
static char *
subst(const char *tmpl, const char *node_name)
{
	struct buf b = BUF_INIT;

	for (; *tmpl != '\0'; tmpl++) {
		if (*tmpl == '@')
			buf_puts(&b, node_name);
		else
			buf_putc(&b, *tmpl);
	}
	return buf_detach(&b, NULL);
}

/* The row's node and its pod, ready to drain. */
static void
row_setup(const struct drain_row *r, const char *node_name,
    const char *pod_name)
{
	char *meta;

	node(node_name, true);
	if (r->meta == NULL)
		return;
	meta = subst(r->meta, node_name);
	pod(node_name, pod_name, meta, r->spec);
	free(meta);
	clock_sleep_ms(400);
	if (r->phase != NULL)
		set_phase(pod_name, r->phase);
}

/* What the API saw: one eviction or one delete, never both. */
static void
row_requests(const struct drain_row *r, const char *pod_name, bool eviction,
    int64_t seq)
{
	char *path = xasprintf("pods/%s", pod_name);

	CU_ASSERT_CASE(ksf_count(&sim, seq, "POST", path, NULL) ==
		(eviction && r->deleted ? 1u : 0u),
	    r->name);
	CU_ASSERT_CASE(ksf_count(&sim, seq, "DELETE", path, NULL) ==
		(!eviction && r->deleted ? 1u : 0u),
	    r->name);
	free(path);
}

static void
row_output(const struct drain_row *r, const struct capture *cap, bool eviction)
{
	const char *done = eviction ? " evicted\n" : " deleted\n";

	CU_ASSERT_CASE(r->want_warn == NULL ||
		strstr(cap->err_text, r->want_warn) != NULL,
	    r->name);
	CU_ASSERT_CASE(!r->deleted || strstr(cap->out_text, done) != NULL,
	    r->name);
	CU_ASSERT_CASE(!r->deleted || !eviction ||
		strstr(cap->out_text, "evicting pod default/bar-") != NULL,
	    r->name);
}

static void
run_row(const struct drain_row *r, size_t i, bool eviction)
{
	char node_name[16], pod_name[32];
	struct drain_result res = { 0 };
	struct drain_opts o;
	struct capture cap;
	struct kube_node_info ni = { 0 };
	bool was;
	enum cr_err err;
	int64_t seq;

	snprintf(node_name, sizeof(node_name), "%c%zu", eviction ? 'e' : 'd',
	    i + 1);
	snprintf(pod_name, sizeof(pod_name), "bar-%s", node_name);
	row_setup(r, node_name, pod_name);
	opts_from_flags(&o, r->flags);
	o.disable_eviction = !eviction;
	o.timeout_ms = 20000;
	capture_start(&cap, &o);
	CU_ASSERT_EQUAL(kube_cordon(sim.k, node_name, soon(), &was), CR_OK);
	seq = ksf_seq(&sim);
	err = drain_node(sim.k, node_name, &o, &res);
	capture_end(&o);
	CU_ASSERT_CASE((err != CR_OK) == r->fatal, r->name);
	CU_ASSERT_CASE(r->want_err == NULL || has_error(&res, r->want_err),
	    r->name);
	CU_ASSERT_CASE(r->meta == NULL || pod_exists(pod_name) != r->deleted,
	    r->name);
	CU_ASSERT_CASE(res.used_eviction == (eviction && r->deleted), r->name);
	row_requests(r, pod_name, eviction, seq);
	row_output(r, &cap, eviction);
	/* The node stays cordoned whatever happened. */
	CU_ASSERT_EQUAL(kube_get_node(sim.k, node_name, soon(), &ni), CR_OK);
	CU_ASSERT_CASE(ni.unschedulable, r->name);
	kube_node_info_clear(&ni);
	drain_result_clear(&res);
	capture_free(&cap);
}

static void
test_kubectl_rows_eviction(void)
{
	size_t i;

	for (i = 0; i < sizeof(drain_rows) / sizeof(drain_rows[0]); i++)
		run_row(&drain_rows[i], i, true);
}

static void
test_kubectl_rows_delete(void)
{
	size_t i;

	for (i = 0; i < sizeof(drain_rows) / sizeof(drain_rows[0]); i++)
		run_row(&drain_rows[i], i, false);
}

/* Row 17: the eviction (or delete) keeps failing; kubectl gives up at
 * once, we retry until the timeout, then fail the same way. */
static void
test_kubectl_row17_failing_api(void)
{
	static const char *const modes[] = { "e17", "d17" };
	struct drain_result res = { 0 };
	struct drain_opts o;
	char *faults, pod_name[16];
	int64_t seq;
	size_t m;

	for (m = 0; m < 2; m++) {
		snprintf(pod_name, sizeof(pod_name), "bar-%s", modes[m]);
		node(modes[m], true);
		pod(modes[m], pod_name, RS, "");
		clock_sleep_ms(400);
		faults = xasprintf("{'burst':{'codes':[503],'count':1000,"
				   "'paths':'pods/%s(/eviction)?$'}}",
		    pod_name);
		CU_ASSERT_EQUAL(ksf_faults(&sim, faults), 0);
		drain_opts_init(&o);
		o.disable_eviction = m == 1;
		o.timeout_ms = 2000;
		o.retry_ms = 300;
		seq = ksf_seq(&sim);
		CU_ASSERT_EQUAL(drain_node(sim.k, modes[m], &o, &res),
		    CR_ERR_TIMEOUT);
		CU_ASSERT_TRUE(has_error(&res, "global timeout reached: 2s"));
		CU_ASSERT_EQUAL(res.pending.n, 1);
		CU_ASSERT_TRUE(ksf_count(&sim, seq, m == 0 ? "POST" : "DELETE",
				   pod_name, NULL) >= 2);
		CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
		CU_ASSERT_TRUE(pod_exists(pod_name));
		drain_result_clear(&res);
		free(faults);
	}
}

/* --- Derived cases (kube-api.md §2.9) -------------------------------- */

/* What a test wants done from inside the drain's progress callback. */
struct hook {
	int calls;
	bool fired;
	const char *when_waiting_faults; /* set faults once a pod is waited */
	const char *replace_pod;         /* delete and recreate this pod */
	const char *node;
	char blocker[256];
};

static void
on_progress(void *arg, const struct drain_progress *p)
{
	struct hook *h = arg;
	char *path;

	h->calls++;
	if (p->blocker != NULL)
		snprintf(h->blocker, sizeof(h->blocker), "%s", p->blocker);
	if (h->fired || p->waiting == 0)
		return;
	h->fired = true;
	if (h->when_waiting_faults != NULL)
		CU_ASSERT_EQUAL(ksf_faults(&sim, h->when_waiting_faults), 0);
	if (h->replace_pod != NULL) {
		/* A StatefulSet-like replacement: same name, new UID. */
		path = xasprintf("/api/v1/namespaces/default/pods/%s",
		    h->replace_pod);
		CU_ASSERT_EQUAL(
		    ksf_send(&sim, "DELETE", path, "{'gracePeriodSeconds':0}"),
		    200);
		pod(h->node, h->replace_pod, RS, "");
		free(path);
	}
}

/* A drain of node with fast retries and polls; output captured. */
static enum cr_err
drain_with(const char *node_name, struct drain_opts *o, struct hook *h,
    struct capture *cap, struct drain_result *res)
{
	enum cr_err err;

	o->retry_ms = 300;
	o->poll_ms = 200;
	if (o->timeout_ms == 0)
		o->timeout_ms = 20000;
	if (h != NULL) {
		o->progress = on_progress;
		o->progress_arg = h;
	}
	capture_start(cap, o);
	memset(res, 0, sizeof(*res));
	err = drain_node(sim.k, node_name, o, res);
	capture_end(o);
	return err;
}

static void
test_mirror_pod_stays(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	int64_t seq;

	node("m1", true);
	pod("m1", "kube-apiserver-m1", MIRROR "," OWNER("Node", "v1", "m1"),
	    "");
	pod("m1", "web-m1", RS, "");
	clock_sleep_ms(400);
	drain_opts_init(&o);
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL(drain_with("m1", &o, NULL, &cap, &res), CR_OK);
	CU_ASSERT_TRUE(pod_exists("kube-apiserver-m1"));
	CU_ASSERT_FALSE(pod_exists("web-m1"));
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", "eviction", NULL), 1);
	CU_ASSERT_EQUAL(res.total, 1);
	CU_ASSERT_EQUAL(res.gone, 1);
	CU_ASSERT_STRING_EQUAL(cap.out_text,
	    "evicting pod default/web-m1\n"
	    "pod/web-m1 evicted\n");
	capture_free(&cap);
	drain_result_clear(&res);
}

/*
 * The node's pods are read a page at a time (--chunk-size), and a page is
 * let go once its pods have their verdicts; a continue token that expires
 * restarts the list from the top, in the first listing and in the wait's
 * polls alike. Each pod is still evicted once, the mirror pod kept, and
 * the wait ends when every evicted pod is gone.
 */
static void
test_paged_listing(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	struct hook h = {
		.when_waiting_faults = "{'burst':{'codes':[410],'count':1,"
				       "'paths':'continue='}}",
	};
	char name[24];
	int64_t seq;
	int i;

	node("pg", true);
	pod("pg", "kube-apiserver-pg", MIRROR "," OWNER("Node", "v1", "pg"),
	    "");
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "web%d-pg", i);
		pod("pg", name, RS, "");
	}
	clock_sleep_ms(400);
	CU_ASSERT_EQUAL(ksf_faults(&sim,
			    "{'burst':{'codes':[410],'count':1,"
			    "'paths':'continue='}}"),
	    0);
	drain_opts_init(&o);
	o.chunk_size = 2;
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL(drain_with("pg", &o, &h, &cap, &res), CR_OK);
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	CU_ASSERT_TRUE(h.fired);
	CU_ASSERT_EQUAL(res.total, 6);
	CU_ASSERT_EQUAL(res.gone, 6);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", "eviction", NULL), 6);
	/* Both tokens expired: in the first list and in a poll. */
	CU_ASSERT_EQUAL(ksf_count_status(&sim, seq, "continue=", 410), 2);
	CU_ASSERT_TRUE(pod_exists("kube-apiserver-pg"));
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "web%d-pg", i);
		CU_ASSERT_FALSE(pod_exists(name));
	}
	capture_free(&cap);
	drain_result_clear(&res);
}

static void
test_daemonset_gone(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;

	node("g1", true);
	pod("g1", "orphan-g1", OWNER("DaemonSet", "apps/v1", "missing-ds"), "");
	clock_sleep_ms(400);
	drain_opts_init(&o);
	CU_ASSERT_EQUAL(drain_with("g1", &o, NULL, &cap, &res), CR_ERR_STATE);
	CU_ASSERT_EQUAL_FATAL(res.errors.n, 1);
	CU_ASSERT_STRING_EQUAL(res.errors.v[0],
	    "cannot delete daemonsets.apps \"missing-ds\" not found: "
	    "default/orphan-g1");
	CU_ASSERT_TRUE(pod_exists("orphan-g1"));
	capture_free(&cap);
	drain_result_clear(&res);
	drain_opts_init(&o);
	o.force = true;
	CU_ASSERT_EQUAL(drain_with("g1", &o, NULL, &cap, &res), CR_OK);
	CU_ASSERT_FALSE(pod_exists("orphan-g1"));
	capture_free(&cap);
	drain_result_clear(&res);
}

static void
test_skip_wait_for_delete(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	int64_t seq;

	/* A NotReady node: deleted pods stay Terminating there. */
	node("s1", false);
	pod("s1", "old-s1", RS, "");
	pod("s1", "new-s1", RS, "");
	CU_ASSERT_EQUAL(ksf_send(&sim, "DELETE",
			    "/api/v1/namespaces/default/pods/old-s1",
			    "{'gracePeriodSeconds':1}"),
	    200);
	/* deletionTimestamp is now + 1 s; kubectl compares whole seconds. */
	clock_sleep_ms(3500);
	drain_opts_init(&o);
	o.skip_wait_s = 1;
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL(drain_with("s1", &o, NULL, &cap, &res), CR_OK);
	/* Skipped by the first filter: not even evicted. */
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", "old-s1", NULL), 0);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", "new-s1/eviction", NULL),
	    1);
	/* Evicted, still Terminating, and skipped while waiting. */
	CU_ASSERT_PTR_NOT_NULL(strstr(cap.out_text,
	    "pod \"new-s1\" has DeletionTimestamp older than 1 seconds, "
	    "skipping"));
	CU_ASSERT_TRUE(pod_exists("new-s1"));
	capture_free(&cap);
	drain_result_clear(&res);
}

static void
pdb(const char *name, const char *app, int min_available)
{
	bulk("[{'apiVersion':'policy/v1','kind':'PodDisruptionBudget',"
	     "'metadata':{'name':'%s','namespace':'default'},'spec':"
	     "{'minAvailable':%d,'selector':{'matchLabels':{'app':'%s'}}}}]",
	    name, min_available, app);
}

static void
test_pending_pod_ignores_pdb(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;

	node("p1", false);
	pod("p1", "pend-p1", RS ",'labels':{'app':'pend'}", "");
	pdb("pend-pdb", "pend", 1);
	clock_sleep_ms(400);
	drain_opts_init(&o);
	o.grace_period = 0;
	CU_ASSERT_EQUAL(drain_with("p1", &o, NULL, &cap, &res), CR_OK);
	CU_ASSERT_FALSE(pod_exists("pend-p1"));
	CU_ASSERT_PTR_NULL(strstr(cap.err_text, "will retry"));
	capture_free(&cap);
	drain_result_clear(&res);
}

static void
test_pdb_blocks_until_timeout(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	struct hook h = { 0 };

	node("b1", true);
	pod("b1", "only-b1", RS ",'labels':{'app':'only'}", "");
	pdb("only-pdb", "only", 1);
	clock_sleep_ms(600);
	drain_opts_init(&o);
	o.timeout_ms = 2000;
	CU_ASSERT_EQUAL(drain_with("b1", &o, &h, &cap, &res), CR_ERR_TIMEOUT);
	CU_ASSERT_EQUAL_FATAL(res.errors.n, 1);
	CU_ASSERT_STRING_EQUAL(res.errors.v[0],
	    "error when evicting pods/\"only-b1\" -n \"default\": global "
	    "timeout reached: 2s");
	CU_ASSERT_STRING_EQUAL(res.pending.v[0], "only-b1");
	/* kubectl's line, with the backoff growing from the first delay. */
	CU_ASSERT_PTR_NOT_NULL(strstr(cap.err_text,
	    "error when evicting pods/\"only-b1\" -n \"default\" (will retry "
	    "after 300ms): Cannot evict pod as it would violate the pod's "
	    "disruption budget.\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(cap.err_text,
	    "(will retry after "
	    "600ms)"));
	CU_ASSERT_STRING_EQUAL(h.blocker,
	    "The disruption budget only-pdb needs 1 healthy pods and has 1 "
	    "currently");
	CU_ASSERT_TRUE(pod_exists("only-b1"));
	capture_free(&cap);
	drain_result_clear(&res);
}

struct fault_row {
	const char *name;
	const char *faults; /* '@' is the pod's name */
	enum cr_err err;
	bool gone;
	size_t posts;
	const char *want_err_line;
};

static const struct fault_row fault_rows[] = {
	{ "429_then_success",
	    "{'burst':{'codes':[429],'count':1,'paths':'@/eviction'}}", CR_OK,
	    true, 2,
	    "(will retry after 300ms): Too many requests, please try again "
	    "later." },
	/* The pod is "gone" for the API: done, nothing to wait for. */
	{ "404_counts_as_done",
	    "{'burst':{'codes':[404],'count':1,'paths':'@/eviction'}}", CR_OK,
	    false, 1, NULL },
	{ "503_retried",
	    "{'burst':{'codes':[503],'count':2,'paths':'@/eviction'}}", CR_OK,
	    true, 3,
	    "(will retry after 600ms): the server is currently unable to "
	    "handle the request" },
	{ "403_fails_the_pod",
	    "{'burst':{'codes':[403],'count':1,'paths':'@/eviction'}}",
	    CR_ERR_KUBE, false, 1, NULL },
};

static void
test_eviction_faults(void)
{
	const struct fault_row *r;
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	char node_name[16], pod_name[24], *faults;
	int64_t seq;
	size_t i;

	for (i = 0; i < sizeof(fault_rows) / sizeof(fault_rows[0]); i++) {
		r = &fault_rows[i];
		snprintf(node_name, sizeof(node_name), "f%zu", i);
		snprintf(pod_name, sizeof(pod_name), "pod-f%zu", i);
		node(node_name, true);
		pod(node_name, pod_name, RS, "");
		clock_sleep_ms(400);
		faults = subst(r->faults, pod_name);
		CU_ASSERT_EQUAL(ksf_faults(&sim, faults), 0);
		drain_opts_init(&o);
		seq = ksf_seq(&sim);
		CU_ASSERT_CASE(drain_with(node_name, &o, NULL, &cap, &res) ==
			r->err,
		    r->name);
		CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
		CU_ASSERT_CASE(pod_exists(pod_name) != r->gone, r->name);
		CU_ASSERT_CASE(ksf_count(&sim, seq, "POST", pod_name, NULL) ==
			r->posts,
		    r->name);
		CU_ASSERT_CASE(r->want_err_line == NULL ||
			strstr(cap.err_text, r->want_err_line) != NULL,
		    r->name);
		capture_free(&cap);
		drain_result_clear(&res);
		free(faults);
	}
}

static void
test_overlapping_pdbs(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	int64_t seq;

	node("o1", true);
	pod("o1", "web-o1", RS ",'labels':{'app':'ov'}", "");
	pdb("ov-a", "ov", 0);
	pdb("ov-b", "ov", 0);
	clock_sleep_ms(400);
	drain_opts_init(&o);
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL(drain_with("o1", &o, NULL, &cap, &res), CR_ERR_KUBE);
	CU_ASSERT_EQUAL_FATAL(res.errors.n, 1);
	CU_ASSERT_STRING_EQUAL(res.errors.v[0],
	    "error when evicting pods/\"web-o1\" -n \"default\": This pod has "
	    "more than one PodDisruptionBudget, which the eviction subresource "
	    "does not support.");
	/* Failed at once: one request, no retry. */
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", "web-o1", NULL), 1);
	capture_free(&cap);
	drain_result_clear(&res);
}

static void
test_replaced_during_wait(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	struct hook h = { .replace_pod = "sts-r1", .node = "r1" };

	node("r1", true);
	pod("r1", "sts-r1", RS, "");
	clock_sleep_ms(400);
	/* Nothing finishes deletions: only the new UID can end the wait. */
	CU_ASSERT_EQUAL(ksf_controller(&sim, "kubelet", false), 0);
	drain_opts_init(&o);
	o.timeout_ms = 10000;
	CU_ASSERT_EQUAL(drain_with("r1", &o, &h, &cap, &res), CR_OK);
	CU_ASSERT_EQUAL(ksf_controller(&sim, "kubelet", true), 0);
	CU_ASSERT_TRUE(h.fired);
	CU_ASSERT_TRUE(pod_exists("sts-r1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(cap.out_text, "pod/sts-r1 evicted"));
	capture_free(&cap);
	drain_result_clear(&res);
}

static void
test_api_errors_while_waiting(void)
{
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	struct hook h = {
		.when_waiting_faults = "{'burst':{'codes':[503],'count':3,"
				       "'paths':'pods\\\\?fieldSelector='}}",
	};
	int64_t seq;

	node("w1", true);
	pod("w1", "web-w1", RS, "");
	clock_sleep_ms(400);
	CU_ASSERT_EQUAL(ksf_controller(&sim, "kubelet", false), 0);
	drain_opts_init(&o);
	seq = ksf_seq(&sim);
	/* The pod goes away only while the list keeps failing. */
	CU_ASSERT_EQUAL(ksf_controller(&sim, "kubelet", true), 0);
	CU_ASSERT_EQUAL(drain_with("w1", &o, &h, &cap, &res), CR_OK);
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	CU_ASSERT_TRUE(h.fired);
	/* kubectl would have failed at the first 503; we listed again. */
	CU_ASSERT_TRUE(ksf_count(&sim, seq, "GET", "fieldSelector", NULL) >= 5);
	CU_ASSERT_FALSE(pod_exists("web-w1"));
	capture_free(&cap);
	drain_result_clear(&res);
}

/* Without --timeout, a drain stops once the API has been silent a while. */
static void
test_api_silence_gives_up(void)
{
	static const bool modes[] = { true, false };
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	struct hook h;
	char node_name[16], pod_name[24];
	int64_t t0;
	size_t m;

	for (m = 0; m < 2; m++) {
		snprintf(node_name, sizeof(node_name), "q%zu", m);
		snprintf(pod_name, sizeof(pod_name), "web-q%zu", m);
		node(node_name, true);
		pod(node_name, pod_name, RS, "");
		clock_sleep_ms(400);
		/* Once the pod is waited for, every connection is cut. */
		memset(&h, 0, sizeof(h));
		h.when_waiting_faults = "{'cut_connections':100000}";
		CU_ASSERT_EQUAL(ksf_controller(&sim, "kubelet", false), 0);
		drain_opts_init(&o);
		o.disable_eviction = !modes[m];
		o.silence_ms = 1000;
		o.timeout_ms = 60000;
		t0 = clock_mono_ms();
		CU_ASSERT_EQUAL(drain_with(node_name, &o, &h, &cap, &res),
		    CR_ERR_KUBE);
		CU_ASSERT_TRUE(clock_mono_ms() - t0 < 10000);
		CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
		CU_ASSERT_EQUAL(ksf_controller(&sim, "kubelet", true), 0);
		CU_ASSERT_EQUAL_FATAL(res.errors.n, 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(res.errors.v[0],
		    "to terminate: the API server has not answered for 1s"));
		CU_ASSERT_EQUAL(res.pending.n, 1);
		capture_free(&cap);
		drain_result_clear(&res);
	}
}

/* The most eviction requests the simulator served at the same time. */
static int
max_overlap(int64_t seq, const char *path)
{
	char *q = xasprintf("/sim/requests?since=%lld", (long long)seq);
	json_object *log = ksf_get(&sim, q), *items = jv_arr(log, "items"), *e;
	double start[64], end[64], t, d;
	size_t i, j, n = 0,
		     len = items != NULL ? json_object_array_length(items) : 0;
	int best = 0, cur;

	for (i = 0; i < len && n < 64; i++) {
		e = json_object_array_get_idx(items, i);
		if (jv_str(e, "path") == NULL ||
		    strstr(jv_str(e, "path"), path) == NULL)
			continue;
		t = json_object_get_double(jv_path(e, "time"));
		d = json_object_get_double(jv_path(e, "duration_ms")) / 1000.0;
		start[n] = t;
		end[n++] = t + d;
	}
	for (i = 0; i < n; i++) {
		for (cur = 0, j = 0; j < n; j++)
			cur += start[j] <= start[i] && start[i] < end[j];
		best = cur > best ? cur : best;
	}
	json_object_put(log);
	free(q);
	return best;
}

static void
test_max_inflight(void)
{
	static const struct {
		const char *node;
		unsigned inflight;
		int lo, hi;
	} rows[] = { { "i1", 2, 2, 2 }, { "i2", 6, 3, 6 } };
	struct drain_result res;
	struct drain_opts o;
	struct capture cap;
	char name[24], path[32];
	int64_t seq;
	size_t r;
	int i, overlap;

	for (r = 0; r < 2; r++) {
		node(rows[r].node, true);
		for (i = 0; i < 6; i++) {
			snprintf(name, sizeof(name), "p%d-%s", i, rows[r].node);
			pod(rows[r].node, name, RS, "");
		}
		clock_sleep_ms(400);
		CU_ASSERT_EQUAL(ksf_faults(&sim, "{'latency_ms':400}"), 0);
		drain_opts_init(&o);
		o.max_inflight = rows[r].inflight;
		seq = ksf_seq(&sim);
		CU_ASSERT_EQUAL(drain_with(rows[r].node, &o, NULL, &cap, &res),
		    CR_OK);
		CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
		snprintf(path, sizeof(path), "-%s/eviction", rows[r].node);
		overlap = max_overlap(seq, path);
		CU_ASSERT_CASE(overlap >= rows[r].lo && overlap <= rows[r].hi,
		    rows[r].node);
		CU_ASSERT_EQUAL(res.gone, 6);
		capture_free(&cap);
		drain_result_clear(&res);
	}
}

static bool
has_blocker(const struct drain_preview *pv, const char *kind,
    const char *pod_ref, const char *msg)
{
	size_t i;

	for (i = 0; i < pv->nblockers; i++)
		if (strcmp(pv->blockers[i].kind, kind) == 0 &&
		    strcmp(pv->blockers[i].pod, pod_ref) == 0 &&
		    strstr(pv->blockers[i].message, msg) != NULL)
			return true;
	return false;
}

/* Node v1 with one pod of each kind the preview sorts, and their PDBs. */
static void
preview_objects(void)
{
	node("v1", true);
	pod("v1", "rs-v1", RS, "");
	pod("v1", "ds-pod-v1", OWNER("DaemonSet", "apps/v1", "ds-v1"), "");
	pod("v1", "kube-apiserver-v1", MIRROR, "");
	pod("v1", "naked-v1", "'labels':{'x':'1'}", "");
	pod("v1", "cache-v1", RS, EMPTY);
	pod("v1", "done-v1", JOB, "");
	pod("v1", "one-v1", RS ",'labels':{'app':'one'}", "");
	pod("v1", "two-a-v1", RS ",'labels':{'app':'two'}", "");
	pod("v1", "two-b-v1", RS ",'labels':{'app':'two'}", "");
	pod("v1", "ov-v1", RS ",'labels':{'app':'ovv'}", "");
	pdb("one-pdb", "one", 1);
	pdb("two-pdb", "two", 1);
	pdb("ovv-a", "ovv", 0);
	pdb("ovv-b", "ovv", 0);
	clock_sleep_ms(600);
	set_phase("done-v1", "Succeeded");
	clock_sleep_ms(300);
}

/* What stays and what is evicted, as JSON. */
static void
preview_json(const struct drain_preview *pv)
{
	json_object *j = drain_preview_to_json(pv);

	CU_ASSERT_PTR_NOT_NULL(strstr(jv_to_string(j),
	    "{\"namespace\":\"default\",\"name\":\"ds-pod-v1\",\"reason\":"
	    "\"DaemonSet\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(jv_to_string(j),
	    "{\"namespace\":\"default\",\"name\":\"kube-apiserver-v1\","
	    "\"reason\":\"mirror\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(jv_to_string(j),
	    "{\"namespace\":\"default\",\"name\":\"done-v1\",\"finished\":"
	    "true}"));
	json_object_put(j);
}

static void
test_preview(void)
{
	struct drain_preview pv = { 0 };
	struct drain_opts o;
	int64_t seq;
	size_t k;

	preview_objects();
	drain_opts_init(&o);
	o.ignore_daemonsets = true;
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL_FATAL(drain_preview(sim.k, "v1", &o, &pv), CR_OK);
	/* Read-only. */
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", NULL, NULL), 0);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "DELETE", NULL, NULL), 0);
	CU_ASSERT_TRUE(has_blocker(&pv, "no-controller", "default/naked-v1",
	    "Pods that declare no controller"));
	CU_ASSERT_TRUE(has_blocker(&pv, "local-storage", "default/cache-v1",
	    "Pods with local storage"));
	CU_ASSERT_TRUE(has_blocker(&pv, "pdb", "default/one-v1",
	    "PodDisruptionBudget default/one-pdb allows no disruption now (it "
	    "needs 1 healthy pods and has 1)"));
	/* two-pdb allows one: the second pod waits for the first one's
	 * replacement, then goes; a delay, not a block (the fault matrix's
	 * lab had both coredns replicas on one node and apply refused). */
	CU_ASSERT_FALSE(has_blocker(&pv, "pdb", "default/two-a-v1", ""));
	CU_ASSERT_FALSE(
	    has_blocker(&pv, DRAIN_PDB_WAIT, "default/two-a-v1", ""));
	CU_ASSERT_FALSE(has_blocker(&pv, "pdb", "default/two-b-v1", ""));
	CU_ASSERT_TRUE(has_blocker(&pv, DRAIN_PDB_WAIT, "default/two-b-v1",
	    "allows 1 disruption(s), used up by other pods on this node"));
	for (k = 0; k < pv.nblockers; k++)
		CU_ASSERT_EQUAL(drain_blocks(&pv.blockers[k]),
		    strcmp(pv.blockers[k].kind, DRAIN_PDB_WAIT) != 0);
	CU_ASSERT_TRUE(has_blocker(&pv, "pdb-overlap", "default/ov-v1",
	    "selected by 2 PodDisruptionBudgets (ovv-a, ovv-b)"));
	CU_ASSERT_EQUAL(pv.nblockers, 5);
	CU_ASSERT_EQUAL(pv.nkeep, 2);
	CU_ASSERT_EQUAL(pv.nevict, 6);
	preview_json(&pv);
	drain_preview_clear(&pv);
}

static CU_TestInfo filter_tests[] = {
	{ "rows", test_filter_rows },
	{ "aggregation", test_aggregation },
	{ "warnings", test_warnings },
	{ "go_duration", test_go_duration },
	{ "selectors", test_selectors },
	{ "opts_defaults", test_opts_defaults },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo kubectl_tests[] = {
	{ "rows_eviction", test_kubectl_rows_eviction },
	{ "rows_delete", test_kubectl_rows_delete },
	{ "row17_failing_api", test_kubectl_row17_failing_api },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo unit_suites[] = {
	{ .pName = "drain_filter", .pTests = filter_tests },
	CU_SUITE_INFO_NULL,
};

static CU_TestInfo derived_tests[] = {
	{ "mirror_pod_stays", test_mirror_pod_stays },
	{ "paged_listing", test_paged_listing },
	{ "daemonset_gone", test_daemonset_gone },
	{ "skip_wait_for_delete", test_skip_wait_for_delete },
	{ "pending_pod_ignores_pdb", test_pending_pod_ignores_pdb },
	{ "pdb_blocks_until_timeout", test_pdb_blocks_until_timeout },
	{ "eviction_faults", test_eviction_faults },
	{ "overlapping_pdbs", test_overlapping_pdbs },
	{ "replaced_during_wait", test_replaced_during_wait },
	{ "api_errors_while_waiting", test_api_errors_while_waiting },
	{ "api_silence_gives_up", test_api_silence_gives_up },
	{ "max_inflight", test_max_inflight },
	{ "preview", test_preview },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo sim_suites[] = {
	{ .pName = "drain_kubectl",
	    .pInitFunc = sim_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = kubectl_tests },
	{ .pName = "drain_derived",
	    .pInitFunc = sim_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = derived_tests },
	CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sim") == 0)
		return cu_run(sim_suites);
	return cu_run(unit_suites);
}
