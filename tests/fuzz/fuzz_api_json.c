/*
 * libFuzzer target: what the orchestrator reads from the Kubernetes API.
 * Seeds: tests/fuzz/corpus/api_json (Nodes, mirror and ordinary Pods,
 * Leases, Status answers, PodDisruptionBudgets, the kubeadm-config
 * ConfigMap and ClusterConfiguration documents, as the API and kubeadm
 * write them).
 *
 * The input goes to every reader that applies: as JSON to
 * kube_status_parse(), kube_node_info_parse(), kube_mirror_pod_parse(),
 * lock_info_parse(), drain_filter_pod() (under each combination of the
 * drain flags, with a DaemonSet lookup stub) and drain_selector_matches()
 * ("spec.selector" against "metadata.labels", as a PDB against a pod);
 * and as YAML (a superset of JSON) to kubeadmcfg_parse(), as is and as the
 * ConfigMap's data.ClusterConfiguration.
 *
 * The input also goes to jv_parse_list(), which must agree with jv_parse()
 * of the whole (see check_list()).
 *
 * Contract checked beyond memory safety: failures leave their struct
 * cleared and say why; successes carry the fields their headers promise;
 * fixed-size text is terminated; verdicts are in range and an error never
 * deletes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"
#include "jv.h"
#include "kube.h"
#include "kubeadmcfg.h"
#include "lock.h"

static enum cr_err
keep_item(void *arg, json_object *item)
{
	json_object_array_add(arg, json_object_get(item));
	return CR_OK;
}

/*
 * A list read an item at a time (jv_parse_list(), as kube_list_pages()
 * reads pods) must agree with jv_parse() of the whole document: the same
 * verdict, the same items in order, the same rest.
 */
static void
check_list(const char *data, size_t size)
{
	json_object *whole = NULL, *rest = NULL, *items;
	json_object *got = json_object_new_array();
	struct jv_list l = { .key = "items", .fn = keep_item, .arg = got };
	enum cr_err want, have;

	want = jv_parse(data, size, &whole, NULL, 0);
	have = jv_parse_list(data, size, &l, &rest);
	if (want != have)
		abort();
	if (want == CR_OK) {
		items = jv_arr(whole, "items");
		if (items != NULL ? !json_object_equal(items, got) :
				    json_object_array_length(got) != 0)
			abort();
		if (items != NULL)
			json_object_object_add(whole, "items",
			    json_object_new_array());
		if (!json_object_equal(whole, rest))
			abort();
	}
	json_object_put(whole);
	json_object_put(rest);
	json_object_put(got);
}

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void
check_terminated(const char *s, size_t n)
{
	if (memchr(s, '\0', n) == NULL)
		abort();
}

static void
check_status(json_object *body, long code)
{
	struct kube_status st;
	char text[64];
	int r;

	memset(&st, 0xa5, sizeof(st));
	kube_status_parse(body, code, code % 7, &st);
	check_terminated(st.reason, sizeof(st.reason));
	check_terminated(st.message, sizeof(st.message));
	check_terminated(st.cause_reason, sizeof(st.cause_reason));
	check_terminated(st.cause_message, sizeof(st.cause_message));
	if ((!st.is_status && st.code != code) || st.message[0] == '\0')
		abort();
	for (r = 0; r < KUBE_REASON__MAX; r++)
		(void)kube_status_is(&st, (enum kube_reason)r);
	kube_status_describe(&st, text, sizeof(text));
	check_terminated(text, sizeof(text));
	(void)kube_reason_parse(st.reason);
}

static void
check_node(json_object *o)
{
	struct kube_node_info ni;

	memset(&ni, 0, sizeof(ni));
	if (kube_node_info_parse(o, &ni) != CR_OK) {
		if (!all_zero(&ni, sizeof(ni)))
			abort();
		return;
	}
	if (ni.name == NULL || ni.ready > KUBE_COND_FALSE)
		abort();
	kube_node_info_clear(&ni);
}

static void
check_mirror(json_object *o)
{
	struct kube_mirror_list list;
	struct kube_mirror_pod mp;

	memset(&mp, 0, sizeof(mp));
	if (kube_mirror_pod_parse(o, "cp1", &mp) != CR_OK) {
		if (!all_zero(&mp, sizeof(mp)))
			abort();
		return;
	}
	if (mp.name == NULL || mp.component == NULL ||
	    (mp.ncontainers > 0 && mp.containers == NULL))
		abort();
	/* A list of one owns the pod; clearing the list releases it. */
	if ((list.v = malloc(sizeof(mp))) == NULL)
		abort();
	memcpy(list.v, &mp, sizeof(mp));
	list.n = 1;
	kube_mirror_list_clear(&list);
}

static void
check_lease(json_object *o)
{
	struct lock_info li;
	char small[16], big[512];

	memset(&li, 0, sizeof(li));
	if (lock_info_parse(o, &li) != CR_OK) {
		if (!all_zero(&li, sizeof(li)))
			abort();
		return;
	}
	if (!li.exists || li.holder == NULL)
		abort();
	lock_describe_holder(&li, -1, big, sizeof(big));
	check_terminated(big, sizeof(big));
	lock_describe_holder(&li, 45000, small, sizeof(small));
	check_terminated(small, sizeof(small));
	lock_info_clear(&li);
}

/* DaemonSets whose name has an even length exist; others are 404s. */
static enum cr_err
ds_get(void *arg, const char *ns, const char *name, struct drain_ds_why *why)
{
	(void)arg;
	if (strlen(name) % 2 == 0)
		return CR_OK;
	why->not_found = true;
	snprintf(why->msg, sizeof(why->msg),
	    "daemonsets.apps \"%s\" not found in %s", name, ns);
	return CR_ERR_KUBE;
}

static void
check_drain(json_object *pod)
{
	struct drain_opts opts;
	struct drain_filter_ctx ctx;
	struct drain_verdict v;
	unsigned flags;

	for (flags = 0; flags < 16; flags++) {
		drain_opts_init(&opts);
		opts.force = (flags & 1) != 0;
		opts.ignore_daemonsets = (flags & 2) != 0;
		opts.delete_emptydir_data = (flags & 4) != 0;
		opts.skip_wait_s = (flags & 8) != 0 ? 20 : 0;
		memset(&ctx, 0, sizeof(ctx));
		ctx.opts = &opts;
		ctx.now = 1795870800;
		ctx.ds_get = ds_get;
		memset(&v, 0xa5, sizeof(v));
		drain_filter_pod(&ctx, pod, &v);
		check_terminated(v.msg, sizeof(v.msg));
		if (v.status > DRAIN_ERROR || v.group >= DRAIN_GROUP__MAX ||
		    (v.status == DRAIN_ERROR && v.delete))
			abort();
	}
}

static void
check_selector(json_object *o)
{
	json_object *sel = jv_path(o, "spec.selector");
	json_object *labels = jv_path(o, "metadata.labels");
	json_object *empty = json_object_new_object();

	(void)drain_selector_matches(sel, labels);
	(void)drain_selector_matches(o, labels);
	/* policy/v1: {} selects everything, no selector nothing. */
	if (!drain_selector_matches(empty, labels) ||
	    drain_selector_matches(NULL, labels))
		abort();
	json_object_put(empty);
}

static void
check_kubeadmcfg(const char *yaml, size_t len)
{
	struct kubeadmcfg c;
	struct kubeadmcfg_diag diag;
	json_object *o;

	memset(&c, 0, sizeof(c));
	memset(&diag, 0, sizeof(diag));
	if (kubeadmcfg_parse(yaml, len, &c, &diag) != CR_OK) {
		if (!all_zero(&c, sizeof(c)) || diag.msg[0] == '\0')
			abort();
		return;
	}
	if (c.yaml == NULL || c.api_version == NULL ||
	    c.certificates_dir == NULL || c.encryption_algorithm == NULL ||
	    c.cert_validity_s <= 0 || c.ca_validity_s <= 0 ||
	    strlen(c.yaml) != len || memcmp(c.yaml, yaml, len) != 0)
		abort();
	o = kubeadmcfg_to_json(&c);
	json_object_put(o);
	kubeadmcfg_clear(&c);
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long codes[] = { 400, 401, 403, 404, 409, 410, 422, 429,
		500, 503, 504, 0, 200, 302 };
	json_object *o = NULL;
	const char *cc;

	if (memchr(data, '\0', size) == NULL)
		check_kubeadmcfg((const char *)data, size);
	check_list((const char *)data, size);
	if (jv_parse((const char *)data, size, &o, NULL, 0) != CR_OK) {
		check_status(NULL,
		    codes[size % (sizeof(codes) / sizeof(codes[0]))]);
		return 0;
	}
	check_status(o, codes[size % (sizeof(codes) / sizeof(codes[0]))]);
	check_node(o);
	check_mirror(o);
	check_lease(o);
	check_drain(o);
	check_selector(o);
	if ((cc = jv_str(o, "data.ClusterConfiguration")) != NULL)
		check_kubeadmcfg(cc, strlen(cc));
	json_object_put(o);
	return 0;
}
