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
fake_ds_get(void *arg, const char *ns, const char *name, bool *not_found,
    char *why, size_t whylen)
{
	(void)arg;
	(void)ns;
	*not_found = strcmp(name, "missing-ds") == 0;
	if (strcmp(name, "ds") == 0)
		return CR_OK;
	if (*not_found)
		snprintf(why, whylen, "daemonsets.apps \"%s\" not found", name);
	else
		snprintf(why, whylen, "Internal error occurred: etcd");
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

static void
run_row(const struct drain_row *r, size_t i, bool eviction)
{
	char node_name[16], pod_name[32], *meta, *path;
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
	node(node_name, true);
	if (r->meta != NULL) {
		meta = subst(r->meta, node_name);
		pod(node_name, pod_name, meta, r->spec);
		free(meta);
		clock_sleep_ms(400);
		if (r->phase != NULL)
			set_phase(pod_name, r->phase);
	}
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
	CU_ASSERT_CASE(r->want_warn == NULL ||
		strstr(cap.err_text, r->want_warn) != NULL,
	    r->name);
	CU_ASSERT_CASE(r->meta == NULL || pod_exists(pod_name) != r->deleted,
	    r->name);
	/* Evicted or deleted exactly once, never both. */
	path = xasprintf("pods/%s", pod_name);
	CU_ASSERT_CASE(ksf_count(&sim, seq, "POST", path, NULL) ==
		(eviction && r->deleted ? 1u : 0u),
	    r->name);
	CU_ASSERT_CASE(ksf_count(&sim, seq, "DELETE", path, NULL) ==
		(!eviction && r->deleted ? 1u : 0u),
	    r->name);
	CU_ASSERT_CASE(res.used_eviction == (eviction && r->deleted), r->name);
	/* The node stays cordoned whatever happened. */
	CU_ASSERT_EQUAL(kube_get_node(sim.k, node_name, soon(), &ni), CR_OK);
	CU_ASSERT_CASE(ni.unschedulable, r->name);
	kube_node_info_clear(&ni);
	if (r->deleted && eviction)
		CU_ASSERT_CASE(
		    strstr(cap.out_text, "evicting pod default/bar-") != NULL &&
			strstr(cap.out_text, " evicted\n") != NULL,
		    r->name);
	if (r->deleted && !eviction)
		CU_ASSERT_CASE(strstr(cap.out_text, " deleted\n") != NULL,
		    r->name);
	free(path);
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

static CU_SuiteInfo sim_suites[] = {
	{ .pName = "drain_kubectl",
	    .pInitFunc = sim_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = kubectl_tests },
	CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sim") == 0)
		return cu_run(sim_suites);
	return cu_run(unit_suites);
}
