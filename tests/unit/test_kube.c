/*
 * kube: the API client. Without arguments the hermetic suites run (Status
 * classification, object parsing, endpoints); with "sim" the suites that
 * talk to kubesim run (requests, retries, failover, credentials, TLS
 * failure explanations, cordon as kubectl does it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ctx.h"
#include "cu_run.h"
#include "fileio.h"
#include "jv.h"
#include "kube.h"
#include "kubecfg.h"
#include "kubesim_fix.h"
#include "log.h"
#include "run.h"
#include "xmalloc.h"

static json_object *
json(const char *text)
{
	json_object *o = NULL;

	if (jv_parse(text, strlen(text), &o, NULL, 0) != CR_OK) {
		fprintf(stderr, "bad test JSON: %s\n", text);
		exit(2);
	}
	return o;
}

/* --- Status classification (hermetic) -------------------------------- */

struct status_row {
	const char *name;
	const char *body; /* NULL: no body */
	long code;
	long retry_after; /* the header */
	enum kube_reason is;
	bool want;
	const char *message;
	long want_retry;
};

#define STATUS(reason, code)                                                   \
	"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","   \
	"\"message\":\"m\",\"reason\":\"" reason "\",\"code\":" #code "}"

static const struct status_row status_rows[] = {
	{ "not_found_by_reason", STATUS("NotFound", 404), 404, 0,
	    KUBE_REASON_NOT_FOUND, true, "m", 0 },
	{ "not_found_is_not_conflict", STATUS("NotFound", 404), 404, 0,
	    KUBE_REASON_CONFLICT, false, "m", 0 },
	{ "not_found_by_code", STATUS("", 404), 404, 0, KUBE_REASON_NOT_FOUND,
	    true, "m", 0 },
	{ "already_exists", STATUS("AlreadyExists", 409), 409, 0,
	    KUBE_REASON_ALREADY_EXISTS, true, "m", 0 },
	{ "already_exists_is_not_conflict", STATUS("AlreadyExists", 409), 409,
	    0, KUBE_REASON_CONFLICT, false, "m", 0 },
	{ "unknown_reason_falls_back_to_code", STATUS("Weird", 409), 409, 0,
	    KUBE_REASON_CONFLICT, true, "m", 0 },
	{ "already_exists_only_by_reason", STATUS("", 409), 409, 0,
	    KUBE_REASON_ALREADY_EXISTS, false, "m", 0 },
	{ "429_whatever_the_reason", STATUS("Weird", 429), 429, 0,
	    KUBE_REASON_TOO_MANY_REQUESTS, true, "m", 0 },
	{ "429_pdb", STATUS("TooManyRequests", 429), 429, 0,
	    KUBE_REASON_TOO_MANY_REQUESTS, true, "m", 0 },
	{ "expired_is_not_gone", STATUS("Expired", 410), 410, 0,
	    KUBE_REASON_GONE, false, "m", 0 },
	{ "expired", STATUS("Expired", 410), 410, 0, KUBE_REASON_EXPIRED, true,
	    "m", 0 },
	{ "gone_by_code", STATUS("", 410), 410, 0, KUBE_REASON_GONE, true, "m",
	    0 },
	{ "expired_only_by_reason", STATUS("", 410), 410, 0,
	    KUBE_REASON_EXPIRED, false, "m", 0 },
	{ "multi_pdb_500", STATUS("", 500), 500, 0, KUBE_REASON_INTERNAL_ERROR,
	    true, "m", 0 },
	{ "status_code_wins_over_http", STATUS("", 404), 500, 0,
	    KUBE_REASON_NOT_FOUND, true, "m", 0 },
	{ "html_502", NULL, 502, 0, KUBE_REASON_SERVICE_UNAVAILABLE, false,
	    "the server responded with the status code 502 but did not "
	    "return more information",
	    0 },
	{ "bare_404", NULL, 404, 0, KUBE_REASON_NOT_FOUND, true,
	    "the server could not find the requested resource", 0 },
	{ "bare_503_retry_header", NULL, 503, 7,
	    KUBE_REASON_SERVICE_UNAVAILABLE, true,
	    "the server is currently unable to handle the request", 7 },
	{ "details_retry_after",
	    "{\"kind\":\"Status\",\"message\":\"busy\",\"reason\":"
	    "\"TooManyRequests\",\"details\":{\"retryAfterSeconds\":10},"
	    "\"code\":429}",
	    429, 0, KUBE_REASON_TOO_MANY_REQUESTS, true, "busy", 10 },
	{ "header_beats_details",
	    "{\"kind\":\"Status\",\"message\":\"busy\",\"details\":"
	    "{\"retryAfterSeconds\":10},\"code\":429}",
	    429, 3, KUBE_REASON_TOO_MANY_REQUESTS, true, "busy", 3 },
	{ "not_a_status_object", "{\"kind\":\"Pod\",\"message\":\"x\"}", 403, 0,
	    KUBE_REASON_FORBIDDEN, true,
	    "the server does not allow access to the requested resource", 0 },
	{ "code_of_wrong_type",
	    "{\"kind\":\"Status\",\"message\":\"x\",\"code\":\"404\"}", 409, 0,
	    KUBE_REASON_CONFLICT, true, "x", 0 },
	{ "array_body", "[1,2]", 401, 0, KUBE_REASON_UNAUTHORIZED, true,
	    "the server has asked for the client to provide credentials", 0 },
	{ "unknown_enum", STATUS("NotFound", 404), 404, 0, KUBE_REASON__MAX,
	    false, "m", 0 },
};

static void
test_status_classify(void)
{
	const struct status_row *r;
	struct kube_status st;
	json_object *body;
	size_t i;

	for (i = 0; i < sizeof(status_rows) / sizeof(status_rows[0]); i++) {
		r = &status_rows[i];
		body = r->body != NULL ? json(r->body) : NULL;
		kube_status_parse(body, r->code, r->retry_after, &st);
		CU_ASSERT_CASE(kube_status_is(&st, r->is) == r->want, r->name);
		CU_ASSERT_CASE(strcmp(st.message, r->message) == 0, r->name);
		CU_ASSERT_CASE(st.retry_after == r->want_retry, r->name);
		json_object_put(body);
	}
}

static void
test_status_details_and_describe(void)
{
	struct kube_status st;
	char buf[600];
	json_object *b = json(
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	    "\"status\":\"Failure\",\"message\":\"Cannot evict pod as it "
	    "would violate the pod's disruption budget.\",\"reason\":"
	    "\"TooManyRequests\",\"details\":{\"causes\":[{\"reason\":"
	    "\"DisruptionBudget\",\"message\":\"The disruption budget web-pdb "
	    "needs 2 healthy pods and has 2 currently\"}]},\"code\":429}");

	kube_status_parse(b, 429, 0, &st);
	CU_ASSERT_TRUE(st.is_status);
	CU_ASSERT_STRING_EQUAL(st.cause_reason, "DisruptionBudget");
	CU_ASSERT_STRING_EQUAL(st.cause_message,
	    "The disruption budget web-pdb needs 2 healthy pods and has 2 "
	    "currently");
	kube_status_describe(&st, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
	    "Error from server (TooManyRequests): Cannot evict pod as it "
	    "would violate the pod's disruption budget.");
	json_object_put(b);
	b = json(STATUS("", 500));
	kube_status_parse(b, 500, 0, &st);
	kube_status_describe(&st, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "Error from server: m");
	json_object_put(b);
	kube_status_parse(NULL, 401, 0, &st);
	kube_status_describe(&st, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
	    "error: You must be logged in to the server (the server has "
	    "asked for the client to provide credentials)");
	CU_ASSERT_EQUAL(kube_reason_parse("Conflict"), KUBE_REASON_CONFLICT);
	CU_ASSERT_EQUAL(kube_reason_parse("conflict"), KUBE_REASON_UNKNOWN);
	CU_ASSERT_EQUAL(kube_reason_parse(NULL), KUBE_REASON_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(kube_reason_name(KUBE_REASON_UNSUPPORTED_MEDIA),
	    "UnsupportedMediaType");
	CU_ASSERT_STRING_EQUAL(kube_reason_name(KUBE_REASON__MAX), "");
}

static void
test_escape(void)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "spec.nodeName=cp1", "spec.nodeName%3Dcp1" },
		{ "node-role.kubernetes.io/control-plane",
		    "node-role.kubernetes.io%2Fcontrol-plane" },
		{ "a b&c?d#", "a%20b%26c%3Fd%23" },
		{ "~_-.", "~_-." },
		{ "", "" },
		{ "\xc3\xa9", "%C3%A9" },
	};
	char *s;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s = kube_escape(rows[i].in);
		CU_ASSERT_CASE(strcmp(s, rows[i].out) == 0, rows[i].in);
		free(s);
	}
	CU_ASSERT_STRING_EQUAL(kube_node_arg("node/cp1"), "cp1");
	CU_ASSERT_STRING_EQUAL(kube_node_arg("nodes/cp2"), "cp2");
	CU_ASSERT_STRING_EQUAL(kube_node_arg("cp3"), "cp3");
	CU_ASSERT_STRING_EQUAL(kube_node_arg("pod/x"), "pod/x");
}

/* --- Objects (hermetic) ----------------------------------------------- */

static void
test_node_parse(void)
{
	struct kube_node_info ni = { 0 };
	json_object *n = json(
	    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"cp1\",\"uid\":\"u1\","
	    "\"resourceVersion\":\"42\",\"labels\":{\"node-role.kubernetes.io/"
	    "control-plane\":\"\"}},\"spec\":{\"unschedulable\":true},"
	    "\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\","
	    "\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\","
	    "\"reason\":\"KubeletReady\"}],\"addresses\":[{\"type\":"
	    "\"Hostname\",\"address\":\"cp1\"},{\"type\":\"InternalIP\","
	    "\"address\":\"10.0.0.11\"}],\"nodeInfo\":{\"kubeletVersion\":"
	    "\"v1.31.0\"}}}");

	CU_ASSERT_EQUAL_FATAL(kube_node_info_parse(n, &ni), CR_OK);
	CU_ASSERT_STRING_EQUAL(ni.name, "cp1");
	CU_ASSERT_STRING_EQUAL(ni.uid, "u1");
	CU_ASSERT_STRING_EQUAL(ni.resource_version, "42");
	CU_ASSERT_STRING_EQUAL(ni.internal_ip, "10.0.0.11");
	CU_ASSERT_EQUAL(ni.ready, KUBE_COND_TRUE);
	CU_ASSERT_STRING_EQUAL(ni.ready_reason, "KubeletReady");
	CU_ASSERT_TRUE(ni.unschedulable);
	CU_ASSERT_TRUE(ni.control_plane);
	CU_ASSERT_STRING_EQUAL(ni.kubelet_version, "v1.31.0");
	kube_node_info_clear(&ni);
	json_object_put(n);

	/* Old master label; Ready False; absent unschedulable. */
	n = json("{\"metadata\":{\"name\":\"old\",\"labels\":{\"node-role."
		 "kubernetes.io/master\":\"\"}},\"status\":{\"conditions\":"
		 "[{\"type\":\"Ready\",\"status\":\"False\"}]}}");
	CU_ASSERT_EQUAL_FATAL(kube_node_info_parse(n, &ni), CR_OK);
	CU_ASSERT_TRUE(ni.control_plane);
	CU_ASSERT_EQUAL(ni.ready, KUBE_COND_FALSE);
	CU_ASSERT_FALSE(ni.unschedulable);
	CU_ASSERT_PTR_NULL(ni.internal_ip);
	kube_node_info_clear(&ni);
	json_object_put(n);

	/* No conditions: Unknown; wrong types are absent, not misread. */
	n = json(
	    "{\"metadata\":{\"name\":\"w\",\"labels\":[1]},\"spec\":"
	    "{\"unschedulable\":\"true\"},\"status\":{\"addresses\":"
	    "{\"type\":\"InternalIP\"},\"conditions\":[{\"type\":\"Ready\","
	    "\"status\":\"Unknown\"}]}}");
	CU_ASSERT_EQUAL_FATAL(kube_node_info_parse(n, &ni), CR_OK);
	CU_ASSERT_EQUAL(ni.ready, KUBE_COND_UNKNOWN);
	CU_ASSERT_FALSE(ni.unschedulable);
	CU_ASSERT_FALSE(ni.control_plane);
	CU_ASSERT_PTR_NULL(ni.internal_ip);
	kube_node_info_clear(&ni);
	json_object_put(n);

	n = json("{\"metadata\":{\"uid\":\"x\"}}");
	CU_ASSERT_EQUAL(kube_node_info_parse(n, &ni), CR_ERR_PROTO);
	CU_ASSERT_PTR_NULL(ni.name);
	json_object_put(n);
}

static void
test_mirror_parse(void)
{
	struct kube_mirror_pod mp = { 0 };
	struct kube_mirror_list list = { 0 };
	json_object *p = json(
	    "{\"metadata\":{\"name\":\"kube-apiserver-cp1\",\"uid\":\"u\","
	    "\"annotations\":{\"kubernetes.io/config.mirror\":\"abc\"},"
	    "\"labels\":{\"component\":\"kube-apiserver\",\"tier\":"
	    "\"control-plane\"}},\"status\":{\"phase\":\"Running\","
	    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
	    "\"containerStatuses\":[{\"name\":\"kube-apiserver\",\"ready\":"
	    "true,\"restartCount\":2,\"containerID\":\"containerd://c1\","
	    "\"state\":{\"running\":{\"startedAt\":\"2026-11-28T13:00:00Z\"}}},"
	    "{\"name\":\"side\",\"ready\":false,\"state\":{\"waiting\":{}}}]}"
	    "}");

	CU_ASSERT_EQUAL_FATAL(kube_mirror_pod_parse(p, "cp1", &mp), CR_OK);
	CU_ASSERT_STRING_EQUAL(mp.component, "kube-apiserver");
	CU_ASSERT_TRUE(mp.ready);
	CU_ASSERT_STRING_EQUAL(mp.phase, "Running");
	CU_ASSERT_EQUAL_FATAL(mp.ncontainers, 2);
	CU_ASSERT_STRING_EQUAL(mp.containers[0].id, "containerd://c1");
	CU_ASSERT_EQUAL(mp.containers[0].started_at, 1795870800);
	CU_ASSERT_EQUAL(mp.containers[0].restarts, 2);
	CU_ASSERT_TRUE(mp.containers[0].ready);
	CU_ASSERT_EQUAL(mp.containers[1].started_at, 0);
	CU_ASSERT_PTR_NULL(mp.containers[1].id);
	list.v = xcalloc(1, sizeof(mp));
	list.v[0] = mp;
	list.n = 1;
	kube_mirror_list_clear(&list);
	json_object_put(p);

	/* No component label: the name without "-<node>". */
	memset(&mp, 0, sizeof(mp));
	p = json("{\"metadata\":{\"name\":\"etcd-cp1\",\"annotations\":"
		 "{\"kubernetes.io/config.mirror\":\"\"}}}");
	CU_ASSERT_EQUAL_FATAL(kube_mirror_pod_parse(p, "cp1", &mp), CR_OK);
	CU_ASSERT_STRING_EQUAL(mp.component, "etcd");
	CU_ASSERT_FALSE(mp.ready);
	list.v = xcalloc(1, sizeof(mp));
	list.v[0] = mp;
	list.n = 1;
	kube_mirror_list_clear(&list);
	json_object_put(p);

	memset(&mp, 0, sizeof(mp));
	p = json("{\"metadata\":{\"name\":\"web\",\"annotations\":{\"a\":"
		 "\"b\"}}}");
	CU_ASSERT_EQUAL(kube_mirror_pod_parse(p, "cp1", &mp), CR_ERR_NOTFOUND);
	json_object_put(p);
	p = json("{\"metadata\":{\"annotations\":{\"kubernetes.io/config."
		 "mirror\":\"\"}}}");
	CU_ASSERT_EQUAL(kube_mirror_pod_parse(p, "cp1", &mp), CR_ERR_PROTO);
	json_object_put(p);
}

/* --- Endpoints (hermetic: nothing is sent) ---------------------------- */

static char tmpdir[256];

static struct kubecfg *
config(const char *name, const char *cluster_yaml)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	char *text = xasprintf("current-context: t\ncontexts:\n- name: t\n"
			       "  context: {cluster: lab, user: u}\n"
			       "clusters:\n- name: lab\n  cluster:\n%s"
			       "users:\n- name: u\n  user: {token: t}\n",
	    cluster_yaml);
	struct kubecfg_opts o = { .kubeconfig = path };
	struct kubecfg_diag d;
	struct kubecfg *cfg = NULL;

	if (file_write_atomic(path, text, strlen(text), 0600) != CR_OK ||
	    kubecfg_load(&o, &cfg, &d) != CR_OK) {
		fprintf(stderr, "%s: %s\n", path, d.msg);
		exit(2);
	}
	free(text);
	free(path);
	return cfg;
}

static void
test_endpoints(void)
{
	struct kubecfg *cfg;
	struct kube *k = NULL;
	char name[16];
	int i;

	snprintf(tmpdir, sizeof(tmpdir), "%s", cu_tmpdir());
	cfg = config("bad", "    server: \"https://[::1\"\n");
	CU_ASSERT_EQUAL(kube_new(cfg, &k), CR_ERR_CONFIG);
	CU_ASSERT_PTR_NULL(k);
	kubecfg_free(cfg);
	cfg = config("ok", "    server: https://cp.example:6443\n");
	CU_ASSERT_EQUAL_FATAL(kube_new(cfg, &k), CR_OK);
	CU_ASSERT_STRING_EQUAL(kube_current_endpoint(k), "kubeconfig");
	CU_ASSERT_EQUAL(kube_add_endpoint(k, "cp1", "https://10.0.0.11:6443"),
	    CR_OK);
	CU_ASSERT_EQUAL(kube_add_endpoint(k, "cp2", "ftp://10.0.0.12"),
	    CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(kube_add_endpoint(k, "cp2", "not a url"),
	    CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(kube_avoid_endpoint(k, "cp9"), CR_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(kube_avoid_endpoint(k, "kubeconfig"), CR_OK);
	CU_ASSERT_STRING_EQUAL(kube_current_endpoint(k), "cp1");
	CU_ASSERT_EQUAL(kube_avoid_endpoint(k, "cp1"), CR_OK);
	/* Everything avoided: keep using the current one. */
	CU_ASSERT_STRING_EQUAL(kube_current_endpoint(k), "kubeconfig");
	CU_ASSERT_EQUAL(kube_allow_endpoint(k, "cp1"), CR_OK);
	CU_ASSERT_STRING_EQUAL(kube_current_endpoint(k), "cp1");
	/* Replacing an endpoint keeps its avoided mark. */
	CU_ASSERT_EQUAL(
	    kube_add_endpoint(k, "kubeconfig", "https://10.0.0.10:6443"),
	    CR_OK);
	CU_ASSERT_STRING_EQUAL(kube_current_endpoint(k), "cp1");
	for (i = 2; i < KUBE_MAX_ENDPOINTS; i++) {
		snprintf(name, sizeof(name), "cp%d", i);
		CU_ASSERT_EQUAL(
		    kube_add_endpoint(k, name, "https://10.0.0.20:6443"),
		    CR_OK);
	}
	CU_ASSERT_EQUAL(
	    kube_add_endpoint(k, "one-too-many", "https://10.0.0.20:6443"),
	    CR_ERR_STATE);
	kube_free(k);
	kubecfg_free(cfg);
}

static void
test_insecure_warns(void)
{
	struct kubecfg *cfg;
	struct kube *k = NULL;
	char *log_text = NULL;
	size_t log_len = 0;
	FILE *fp = open_memstream(&log_text, &log_len);

	cfg = config("insecure",
	    "    server: https://10.0.0.10:6443\n"
	    "    insecure-skip-tls-verify: true\n");
	log_set_output(fp);
	CU_ASSERT_EQUAL_FATAL(kube_new(cfg, &k), CR_OK);
	CU_ASSERT_EQUAL(kube_add_endpoint(k, "cp1", "https://10.0.0.11:6443"),
	    CR_OK);
	log_set_output(NULL);
	fclose(fp);
	/* Once for the client and once for every endpoint it uses. */
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(log_text, "cluster 'lab': insecure-skip-tls-verify is set"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text,
	    "https://10.0.0.10:6443 is "
	    "NOT verified"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_text,
	    "https://10.0.0.11:6443 is "
	    "NOT verified"));
	free(log_text);
	kube_free(k);
	kubecfg_free(cfg);
}

/* --- Against kubesim -------------------------------------------------- */

static struct ksf sim;

static int
sim_init(void)
{
	ksf_init(&sim);
	ksf_start(&sim, NULL);
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

#define NODE(name, labels, spec)                                               \
	"{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":"     \
	"\"" name "\",\"labels\":{" labels "}},\"spec\":{" spec "},"           \
	"\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":"     \
	"\"10.0.0.1\"}]}}"

static void
test_sim_nodes(void)
{
	struct kube_node_list list = { 0 };
	struct kube_node_info ni = { 0 };
	enum kube_cond ready = KUBE_COND_FALSE;
	char *ver = NULL;
	int i;

	CU_ASSERT_EQUAL_FATAL(
	    ksf_bulk(&sim,
		"[" NODE("n-cp2",
		    "\"node-role.kubernetes.io/control-plane\":\"\"",
		    "") "," NODE("n-cp1",
		    "\"node-role.kubernetes.io/control-plane\":\"\","
		    "\"node-role.kubernetes.io/master\":\"\"",
		    "") "," NODE("n-old",
		    "\"node-role.kubernetes.io/master\":\"\"",
		    "") "," NODE("n-w1", "\"x\":\"y\"", "") "]"),
	    0);
	CU_ASSERT_EQUAL(kube_list_control_plane_nodes(sim.k, soon(), &list),
	    CR_OK);
	CU_ASSERT_EQUAL_FATAL(list.n, 3);
	CU_ASSERT_STRING_EQUAL(list.v[0].name, "n-cp1");
	CU_ASSERT_STRING_EQUAL(list.v[1].name, "n-cp2");
	CU_ASSERT_STRING_EQUAL(list.v[2].name, "n-old");
	CU_ASSERT_STRING_EQUAL(list.v[0].internal_ip, "10.0.0.1");
	kube_node_list_clear(&list);
	CU_ASSERT_EQUAL(kube_list_nodes(sim.k, "x=y", soon(), &list), CR_OK);
	CU_ASSERT_EQUAL(list.n, 1);
	kube_node_list_clear(&list);
	CU_ASSERT_EQUAL(kube_get_node(sim.k, "n-w1", soon(), &ni), CR_OK);
	CU_ASSERT_STRING_EQUAL(ni.name, "n-w1");
	kube_node_info_clear(&ni);
	/* The node lifecycle stand-in marks a new node Ready soon. */
	for (i = 0; i < 50 && ready != KUBE_COND_TRUE; i++) {
		CU_ASSERT_EQUAL(kube_node_ready(sim.k, "n-w1", soon(), &ready),
		    CR_OK);
		clock_sleep_ms(100);
	}
	CU_ASSERT_EQUAL(ready, KUBE_COND_TRUE);
	CU_ASSERT_EQUAL(kube_get_node(sim.k, "n-none", soon(), &ni),
	    CR_ERR_KUBE);
	CU_ASSERT_TRUE(
	    kube_status_is(kube_last_status(sim.k), KUBE_REASON_NOT_FOUND));
	CU_ASSERT_STRING_EQUAL(kube_error_message(sim.k),
	    "Error from server (NotFound): nodes \"n-none\" not found");
	CU_ASSERT_EQUAL(kube_version(sim.k, soon(), &ver), CR_OK);
	CU_ASSERT_STRING_EQUAL(ver, "v1.31.0");
	free(ver);
}

/* kubectl's TestCordon rows (kube-api.md §2.9). */
struct cordon_row {
	const char *name;
	const char *node;
	size_t patches;
	enum cr_err err;
	bool initially_cordoned;
	bool exists;
	bool cordon;
	bool already;
};

static const struct cordon_row cordon_rows[] = {
	{ "uncordon_for_real", "c-1", 1, CR_OK, true, true, false, false },
	{ "uncordon_does_nothing", "c-2", 0, CR_OK, false, true, false, true },
	{ "cordon_does_nothing", "c-3", 0, CR_OK, true, true, true, true },
	{ "cordon_for_real", "c-4", 1, CR_OK, false, true, true, false },
	{ "cordon_missing_node", "c-none", 0, CR_ERR_KUBE, false, false, true,
	    false },
	{ "uncordon_missing_node", "c-none", 0, CR_ERR_KUBE, false, false,
	    false, false },
};

static void
test_sim_cordon(void)
{
	const struct cordon_row *r;
	struct kube_node_info ni;
	char *obj, *path;
	bool already;
	int64_t seq;
	size_t i;

	for (i = 0; i < sizeof(cordon_rows) / sizeof(cordon_rows[0]); i++) {
		r = &cordon_rows[i];
		if (r->exists) {
			obj = xasprintf("[" NODE("%s", "", "%s") "]", r->node,
			    r->initially_cordoned ? "\"unschedulable\":true" :
						    "");
			CU_ASSERT_EQUAL_FATAL(ksf_bulk(&sim, obj), 0);
			free(obj);
		}
		seq = ksf_seq(&sim);
		already = !r->already;
		CU_ASSERT_CASE(
		    (r->cordon ? kube_cordon(sim.k, r->node, soon(), &already) :
				 kube_uncordon(sim.k, r->node, soon(),
				     &already)) == r->err,
		    r->name);
		path = xasprintf("/api/v1/nodes/%s", r->node);
		CU_ASSERT_CASE(ksf_count(&sim, seq, "PATCH", path, NULL) ==
			r->patches,
		    r->name);
		/* kubectl GETs the node first. */
		CU_ASSERT_CASE(ksf_count(&sim, seq, "GET", path, NULL) == 1,
		    r->name);
		free(path);
		if (!r->exists)
			continue;
		CU_ASSERT_CASE(already == r->already, r->name);
		memset(&ni, 0, sizeof(ni));
		CU_ASSERT_EQUAL(kube_get_node(sim.k, r->node, soon(), &ni),
		    CR_OK);
		CU_ASSERT_CASE(ni.unschedulable == r->cordon, r->name);
		kube_node_info_clear(&ni);
	}
}

/* Runs the certroll program; returns its exit status. */
static int
certroll(struct buf *out, struct buf *err, const char *a1, const char *a2,
    const char *a3)
{
	static const char bin[] = CR_BIN_DIR "/certroll";
	const char *argv[] = { bin, a1, a2, a3, "--kubeconfig", sim.kubeconfig,
		NULL };
	struct run_cmd c = RUN_CMD_INIT;
	int rc = -1;

	c.argv = argv;
	c.timeout_ms = 60000;
	/* A non-zero exit is an outcome here, not a failure to run. */
	if (run_cmd(&c) == CR_OK || c.exited)
		rc = c.exit_code;
	buf_put(out, c.out.data, c.out.len);
	buf_put(err, c.err.data, c.err.len);
	run_cmd_clear(&c);
	return rc;
}

/* TestCordon's multi-node rows and kubectl's output, through the CLI. */
static void
test_sim_cordon_command(void)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct kube_node_info ni = { 0 };

	CU_ASSERT_EQUAL_FATAL(
	    ksf_bulk(&sim,
		"[{'apiVersion':'v1','kind':'Node','metadata':"
		"{'name':'cl-1'}},{'apiVersion':'v1','kind':"
		"'Node','metadata':{'name':'cl-2'}},"
		"{'apiVersion':'v1','kind':'Node','metadata':"
		"{'name':'cl-3'},'spec':{'unschedulable':true}}]"),
	    0);
	CU_ASSERT_EQUAL(certroll(&out, &err, "cordon", "cl-1", "node/cl-3"), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out),
	    "node/cl-1 cordoned\nnode/cl-3 already cordoned\n");
	buf_reset(&out);
	CU_ASSERT_EQUAL(certroll(&out, &err, "uncordon", "cl-1", "cl-2"), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out),
	    "node/cl-1 uncordoned\nnode/cl-2 already uncordoned\n");
	buf_reset(&out);
	/* Every node is read first: one missing, none changed. */
	CU_ASSERT_EQUAL(certroll(&out, &err, "cordon", "cl-2", "bar"), 1);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out), "");
	CU_ASSERT_STRING_EQUAL(buf_cstr(&err),
	    "Error from server (NotFound): nodes \"bar\" not found\n");
	CU_ASSERT_EQUAL(kube_get_node(sim.k, "cl-2", soon(), &ni), CR_OK);
	CU_ASSERT_FALSE(ni.unschedulable);
	kube_node_info_clear(&ni);
	buf_reset(&err);
	CU_ASSERT_EQUAL(certroll(&out, &err, "cordon", "--bogus", "cl-2"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&err),
	    "unknown option "
	    "'--bogus'"));
	buf_reset(&err);
	/* An empty node drains at once. */
	CU_ASSERT_EQUAL(
	    certroll(&out, &err, "drain", "cl-2", "--ignore-daemonsets"), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out),
	    "node/cl-2 cordoned\nnode/cl-2 drained\n");
	buf_clear(&out);
	buf_clear(&err);
}

/* The taint the node lifecycle controller adds follows unschedulable. */
static void
test_sim_uncordon_removes_field(void)
{
	json_object *n;

	CU_ASSERT_EQUAL_FATAL(
	    ksf_bulk(&sim,
		"[" NODE("c-field", "", "\"unschedulable\":true") "]"),
	    0);
	CU_ASSERT_EQUAL(
	    kube_uncordon(sim.k, "c-field", soon(), &(bool){ false }), CR_OK);
	n = ksf_get(&sim, "/api/v1/nodes/c-field");
	/* The strategic merge patch with null deletes the field. */
	CU_ASSERT_PTR_NULL(jv_path(n, "spec.unschedulable"));
	json_object_put(n);
}

static void
pods_on(const char *node, int n)
{
	struct buf b = BUF_INIT;
	int i;

	buf_putc(&b, '[');
	for (i = 0; i < n; i++)
		buf_printf(&b,
		    "%s{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		    "{\"name\":\"%s-p%d\",\"namespace\":\"default\"},\"spec\":"
		    "{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\","
		    "\"image\":\"x\"}]}}",
		    i > 0 ? "," : "", node, i, node);
	buf_putc(&b, ']');
	CU_ASSERT_EQUAL_FATAL(ksf_bulk(&sim, buf_cstr(&b)), 0);
	buf_clear(&b);
}

static void
test_sim_list_pages(void)
{
	json_object *items = NULL;
	const char *path = "/api/v1/pods?fieldSelector=spec.nodeName%3Dpg1"
			   "&limit=2";
	int64_t seq;

	pods_on("pg1", 7);
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL_FATAL(kube_list_all(sim.k, path, soon(), &items),
	    CR_OK);
	CU_ASSERT_EQUAL(json_object_array_length(items), 7);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "nodeName%3Dpg1", NULL), 4);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "continue=", NULL), 3);
	json_object_put(items);

	/* An expired continue token restarts the list from the top. */
	CU_ASSERT_EQUAL(ksf_faults(&sim,
			    "{\"burst\":{\"codes\":[410],"
			    "\"count\":1,\"paths\":\"continue=\"}}"),
	    0);
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL_FATAL(kube_list_all(sim.k, path, soon(), &items),
	    CR_OK);
	CU_ASSERT_EQUAL(json_object_array_length(items), 7);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "nodeName%3Dpg1", NULL), 6);
	json_object_put(items);
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
}

struct retry_row {
	const char *name;
	const char *faults;
	int64_t deadline_ms;
	enum cr_err err;
	long status;
	size_t requests;
	int64_t min_ms;
	int64_t max_ms;
};

static const struct retry_row retry_rows[] = {
	{ "retry_after_honoured",
	    "{\"burst\":{\"codes\":[503,429],\"count\":2,\"retry_after\":1,"
	    "\"paths\":\"rt-node\"}}",
	    20000, CR_OK, 200, 3, 1900, 6000 },
	{ "no_retry_without_header",
	    "{\"burst\":{\"codes\":[503],\"count\":1,\"paths\":\"rt-node\"}}",
	    20000, CR_ERR_KUBE, 503, 1, 0, 1500 },
	{ "never_past_the_deadline",
	    "{\"burst\":{\"codes\":[429],\"count\":5,\"retry_after\":3,"
	    "\"paths\":\"rt-node\"}}",
	    1000, CR_ERR_KUBE, 429, 1, 0, 900 },
	{ "not_for_4xx",
	    "{\"burst\":{\"codes\":[403],\"count\":1,\"retry_after\":1,"
	    "\"paths\":\"rt-node\"}}",
	    20000, CR_ERR_KUBE, 403, 1, 0, 900 },
	{ "bounded_by_ten_retries",
	    "{\"burst\":{\"codes\":[504],\"count\":12,\"retry_after\":1,"
	    "\"paths\":\"rt-node\"}}",
	    60000, CR_ERR_KUBE, 504, 11, 9500, 20000 },
};

static void
test_sim_retry_after(void)
{
	const struct retry_row *r;
	struct kube_call c = KUBE_CALL_INIT;
	int64_t seq, t0, ms;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(ksf_bulk(&sim, "[" NODE("rt-node", "", "") "]"),
	    0);
	for (i = 0; i < sizeof(retry_rows) / sizeof(retry_rows[0]); i++) {
		r = &retry_rows[i];
		CU_ASSERT_EQUAL_FATAL(ksf_faults(&sim, r->faults), 0);
		seq = ksf_seq(&sim);
		t0 = clock_mono_ms();
		c.path = "/api/v1/nodes/rt-node";
		CU_ASSERT_CASE(kube_call(sim.k, &c,
				   clock_deadline_ms(r->deadline_ms)) == r->err,
		    r->name);
		ms = clock_mono_ms() - t0;
		CU_ASSERT_CASE(c.status == r->status, r->name);
		CU_ASSERT_CASE(c.attempts == r->requests, r->name);
		CU_ASSERT_CASE(ksf_count(&sim, seq, "GET", "rt-node", NULL) ==
			r->requests,
		    r->name);
		CU_ASSERT_CASE(ms >= r->min_ms && ms <= r->max_ms, r->name);
		if (ms < r->min_ms || ms > r->max_ms)
			fprintf(stderr, "\n%s: %lld ms\n", r->name,
			    (long long)ms);
		kube_call_clear(&c);
		CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	}
}

static int mutations;

/* The first time, someone else changes the object under us. */
static enum cr_err
mutate(json_object *obj, void *arg)
{
	json_object *data = jv_obj(obj, "data");

	(void)arg;
	if (mutations++ == 0)
		CU_ASSERT_EQUAL(ksf_send(&sim, "PATCH",
				    "/api/v1/namespaces/default/configmaps/rmw",
				    "{\"data\":{\"other\":\"theirs\"}}"),
		    200);
	jv_add_str(data, "mine", "ours");
	return CR_OK;
}

static enum cr_err
refuse(json_object *obj, void *arg)
{
	(void)obj;
	(void)arg;
	return CR_ERR_STATE;
}

static void
test_sim_update_conflict(void)
{
	const char *path = "/api/v1/namespaces/default/configmaps/rmw";
	json_object *cm;
	int64_t seq;

	CU_ASSERT_EQUAL_FATAL(
	    ksf_bulk(&sim,
		"[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
		"\"metadata\":{\"name\":\"rmw\",\"namespace\":"
		"\"default\"},\"data\":{\"a\":\"b\"}}]"),
	    0);
	seq = ksf_seq(&sim);
	mutations = 0;
	CU_ASSERT_EQUAL(kube_update(sim.k, path, mutate, NULL, soon()), CR_OK);
	CU_ASSERT_EQUAL(mutations, 2);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "PUT", "configmaps/rmw", NULL), 2);
	cm = ksf_get(&sim, path);
	/* The second attempt started from a fresh read: both changes kept. */
	CU_ASSERT_STRING_EQUAL(jv_str(cm, "data.other"), "theirs");
	CU_ASSERT_STRING_EQUAL(jv_str(cm, "data.mine"), "ours");
	json_object_put(cm);
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL(kube_update(sim.k, path, refuse, NULL, soon()),
	    CR_ERR_STATE);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "PUT", NULL, NULL), 0);
}

static void
test_sim_mirror_pods(void)
{
	struct kube_mirror_list list = { 0 };
	const char *objs =
	    "[{'apiVersion':'v1','kind':'Node','metadata':{'name':'mp1'}},"
	    " {'apiVersion':'v1','kind':'Pod','metadata':{'name':"
	    "  'kube-scheduler-mp1','namespace':'kube-system','annotations':"
	    "  {'kubernetes.io/config.mirror':'h'},'labels':{'component':"
	    "  'kube-scheduler'}},'spec':{'nodeName':'mp1','containers':"
	    "  [{'name':'kube-scheduler','image':'x'}]}},"
	    " {'apiVersion':'v1','kind':'Pod','metadata':{'name':'etcd-mp1',"
	    "  'namespace':'kube-system','annotations':"
	    "  {'kubernetes.io/config.mirror':'h'}},'spec':{'nodeName':'mp1',"
	    "  'containers':[{'name':'etcd','image':'x'}]}},"
	    " {'apiVersion':'v1','kind':'Pod','metadata':{'name':'coredns-x',"
	    "  'namespace':'kube-system'},'spec':{'nodeName':'mp1',"
	    "  'containers':[{'name':'c','image':'x'}]}}]";
	/* A node's kubelet posts its static pods' status itself. */
	const char *status =
	    "{'status':{'phase':'Running','conditions':[{'type':'Ready',"
	    "'status':'True'}],'containerStatuses':[{'name':'kube-scheduler',"
	    "'ready':true,'restartCount':1,'containerID':'containerd://k1',"
	    "'state':{'running':{'startedAt':'2026-11-28T13:00:00Z'}}}]}}";

	CU_ASSERT_EQUAL_FATAL(ksf_bulk(&sim, objs), 0);
	CU_ASSERT_EQUAL(ksf_send(&sim, "PATCH",
			    "/api/v1/namespaces/kube-system/pods/"
			    "kube-scheduler-mp1/status",
			    status),
	    200);
	CU_ASSERT_EQUAL_FATAL(kube_mirror_pods(sim.k, "mp1", soon(), &list),
	    CR_OK);
	CU_ASSERT_EQUAL_FATAL(list.n, 2);
	CU_ASSERT_STRING_EQUAL(list.v[0].name, "etcd-mp1");
	CU_ASSERT_STRING_EQUAL(list.v[0].component, "etcd");
	CU_ASSERT_FALSE(list.v[0].ready);
	CU_ASSERT_STRING_EQUAL(list.v[1].component, "kube-scheduler");
	CU_ASSERT_TRUE(list.v[1].ready);
	CU_ASSERT_EQUAL_FATAL(list.v[1].ncontainers, 1);
	CU_ASSERT_EQUAL(list.v[1].containers[0].started_at, 1795870800);
	CU_ASSERT_STRING_EQUAL(list.v[1].containers[0].id, "containerd://k1");
	CU_ASSERT_EQUAL(list.v[1].containers[0].restarts, 1);
	kube_mirror_list_clear(&list);
}

static void
test_sim_readyz(void)
{
	struct buf detail = BUF_INIT;
	bool ready = false;

	CU_ASSERT_EQUAL(
	    kube_readyz(sim.k, "kubeconfig", soon(), &ready, &detail), CR_OK);
	CU_ASSERT_TRUE(ready);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&detail),
	    "readyz check "
	    "passed"));
	buf_reset(&detail);
	CU_ASSERT_EQUAL(ksf_faults(&sim, "{\"failing_checks\":[\"etcd\"]}"), 0);
	CU_ASSERT_EQUAL(
	    kube_readyz(sim.k, "kubeconfig", soon(), &ready, &detail), CR_OK);
	CU_ASSERT_FALSE(ready);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&detail), "[-]etcd failed"));
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	CU_ASSERT_EQUAL(kube_readyz(sim.k, "nope", soon(), &ready, NULL),
	    CR_ERR_NOTFOUND);
	buf_clear(&detail);
}

/* A client on a kubeconfig written in the simulator's directory. */
static struct kube *
client(const char *file, struct kubecfg **cfgp)
{
	char *path = xasprintf("%s/%s", sim.dir, file);
	struct kubecfg_opts o = { .kubeconfig = path };
	struct kubecfg_diag d;
	struct kube *k = NULL;

	*cfgp = NULL;
	if (kubecfg_load(&o, cfgp, &d) != CR_OK) {
		fprintf(stderr, "%s\n", d.msg);
		exit(2);
	}
	if (kube_new(*cfgp, &k) != CR_OK)
		exit(2);
	free(path);
	return k;
}

static void
test_sim_tls_server_name(void)
{
	struct kubecfg *cfg;
	struct kube *k;
	json_object *o = NULL;
	char *user = xasprintf("    client-certificate: %s/admin.crt\n"
			       "    client-key: %s/admin.key\n",
	    sim.dir, sim.dir);
	char *sni = xasprintf("%s\n    tls-server-name: kubernetes", sim.url);
	char *bad = xasprintf("%s\n    tls-server-name: wrong.example",
	    sim.url);

	/* The certificate names "kubernetes": verified through SNI. */
	ksf_kubeconfig(&sim, "sni", sni, user);
	k = client("sni", &cfg);
	CU_ASSERT_EQUAL(kube_get(k, "/api/v1/nodes", soon(), &o), CR_OK);
	json_object_put(o);
	o = NULL;
	kube_free(k);
	kubecfg_free(cfg);
	ksf_kubeconfig(&sim, "badsni", bad, user);
	k = client("badsni", &cfg);
	CU_ASSERT_EQUAL(kube_get(k, "/api/v1/nodes", soon(), &o), CR_ERR_TLS);
	CU_ASSERT_PTR_NOT_NULL(strstr(kube_error_message(k),
	    "(CN=kube-apiserver, issued by CN=kubesim-ca) is valid until"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(kube_error_message(k), "tls-server-name"));
	kube_free(k);
	kubecfg_free(cfg);
	free(bad);
	free(sni);
	free(user);
}

static int
run_ok(const char *const *argv)
{
	struct run_cmd c = RUN_CMD_INIT;
	int rc;

	c.argv = argv;
	c.timeout_ms = 60000;
	rc = run_cmd(&c) == CR_OK ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "%s %s: %s\n", argv[0], argv[1],
		    buf_cstr(&c.err));
	run_cmd_clear(&c);
	return rc;
}

static int
write_text(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	enum cr_err err = file_write_atomic(path, text, strlen(text), 0600);

	free(path);
	return err == CR_OK ? 0 : -1;
}

/*
 * Issues out.crt/out.key for CN=cn with extension ext, signed by the CA
 * dir/ca.crt and dir/ca.key, valid from 2025-11-01 to 2026-11-01 (expired
 * by "today", 2026-11-28): the openssl CLI's "ca" command is the one that
 * takes explicit dates.
 */
static int
openssl_ca(const char *dir, const char *cn, const char *ext, const char *out)
{
	char *crt = xasprintf("%s/ca.crt", dir),
	     *key = xasprintf("%s/ca.key", dir);
	char *cnf = xasprintf("%s/ca.cnf", dir),
	     *csr = xasprintf("%s.csr", out);
	char *okey = xasprintf("%s.key", out), *ocrt = xasprintf("%s.crt", out);
	char *subj = xasprintf("/CN=%s", cn);
	char *text = xasprintf(
	    "[ca]\ndefault_ca = d\n[d]\n"
	    "database = %s/index.txt\nnew_certs_dir = %s\n"
	    "serial = %s/serial\ndefault_md = sha256\n"
	    "policy = p\ncopy_extensions = copy\n"
	    "unique_subject = no\n[p]\ncommonName = supplied\n",
	    dir, dir, dir);
	const char *req[] = { "openssl", "req", "-new", "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
		okey, "-out", csr, "-subj", subj, "-addext", ext, NULL };
	const char *sign[] = { "openssl", "ca", "-batch", "-config", cnf,
		"-cert", crt, "-keyfile", key, "-in", csr, "-out", ocrt,
		"-startdate", "20251101000000Z", "-enddate", "20261101000000Z",
		NULL };
	int rc = -1;

	if (write_text(dir, "ca.cnf", text) == 0 &&
	    write_text(dir, "index.txt", "") == 0 &&
	    write_text(dir, "serial", "1000\n") == 0 && run_ok(req) == 0 &&
	    run_ok(sign) == 0)
		rc = 0;
	free(text);
	free(subj);
	free(ocrt);
	free(okey);
	free(csr);
	free(cnf);
	free(key);
	free(crt);
	return rc;
}

static void
test_sim_expired_client_cert(void)
{
	struct kubecfg *cfg;
	struct kube *k;
	json_object *o = NULL;
	char *out = xasprintf("%s/old-admin", sim.dir);
	char *user = xasprintf("    client-certificate: %s.crt\n"
			       "    client-key: %s.key\n",
	    out, out);
	const char *msg;

	CU_ASSERT_EQUAL_FATAL(
	    openssl_ca(sim.dir, "old-admin", "keyUsage=digitalSignature", out),
	    0);
	ksf_kubeconfig(&sim, "oldadmin", sim.url, user);
	k = client("oldadmin", &cfg);
	CU_ASSERT_EQUAL(kubecfg_cert_not_after(cfg), 1793491200);
	CU_ASSERT_NOT_EQUAL(kube_get(k, "/api/v1/nodes", soon(), &o), CR_OK);
	msg = kube_error_message(k);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg,
	    "the client certificate of user "
	    "'u' in "));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "expired on 2026-11-01T00:00:00Z"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "certroll kubeconfig refresh"));
	if (strstr(msg, "certroll kubeconfig refresh") == NULL)
		fprintf(stderr, "\ngot: %s\n", msg);
	json_object_put(o);
	kube_free(k);
	kubecfg_free(cfg);
	free(user);
	free(out);
}

/* --- Failover between two API servers on one state ------------------- */

/* A client on the admin kubeconfig that also knows the second server. */
static struct kube *
two_endpoints(int connect_ms, int request_ms)
{
	struct kube *k = NULL;

	CU_ASSERT_EQUAL_FATAL(kube_new(sim.cfg, &k), CR_OK);
	CU_ASSERT_EQUAL_FATAL(kube_add_endpoint(k, "fe2", sim.front_url),
	    CR_OK);
	kube_set_timeouts(k, connect_ms, request_ms);
	return k;
}

/* The next connection to the kubeconfig's server (kubesim) is cut. */
static int
cut_kubeconfig_server_once(void)
{
	return ksf_faults(&sim,
	    "{'cut_connections':1,'frontends':['kubesim']}");
}

static int
failover_init(void)
{
	ksf_init(&sim);
	ksf_start(&sim, NULL);
	ksf_frontend(&sim, "fe2");
	return 0;
}

static void
test_failover_cut_connection(void)
{
	struct kube *k = two_endpoints(0, 0);
	json_object *o = NULL;
	int64_t seq = ksf_seq(&sim);

	CU_ASSERT_EQUAL(cut_kubeconfig_server_once(), 0);
	CU_ASSERT_EQUAL(kube_get(k, "/api/v1/nodes", soon(), &o), CR_OK);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "/api/v1/nodes", "fe2"), 1);
	CU_ASSERT_STRING_EQUAL(kube_current_endpoint(k), "fe2");
	json_object_put(o);
	kube_free(k);
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
}

static void
test_failover_get_on_timeout(void)
{
	struct kube *k = two_endpoints(1000, 1500);
	json_object *o = NULL;
	int64_t seq = ksf_seq(&sim), t0 = clock_mono_ms();

	CU_ASSERT_EQUAL(ksf_faults(&sim,
			    "{'stop_answering':true,"
			    "'frontends':['kubesim']}"),
	    0);
	CU_ASSERT_EQUAL(kube_get(k, "/api/v1/nodes", soon(), &o), CR_OK);
	CU_ASSERT_TRUE(clock_mono_ms() - t0 >= 1400);
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "/api/v1/nodes", "fe2"), 1);
	json_object_put(o);
	kube_free(k);
}

static void
test_failover_post_not_repeated(void)
{
	struct kube *k = two_endpoints(1000, 1500);
	struct kube_call c = KUBE_CALL_INIT;
	json_object *cm = json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
			       "\"metadata\":{\"name\":\"once\"}}");
	int64_t seq = ksf_seq(&sim);

	CU_ASSERT_EQUAL(ksf_faults(&sim,
			    "{'stop_answering':true,"
			    "'frontends':['kubesim']}"),
	    0);
	c.method = "POST";
	c.path = "/api/v1/namespaces/default/configmaps";
	c.body = cm;
	/* It may have arrived: another server must not get it again. */
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_ERR_TIMEOUT);
	CU_ASSERT_EQUAL(c.attempts, 1);
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", "configmaps", "fe2"), 0);
	kube_call_clear(&c);
	json_object_put(cm);
	kube_free(k);
}

static void
test_failover_post_never_sent(void)
{
	struct kube_call c = KUBE_CALL_INIT;
	struct kubecfg *cfg;
	struct kube *k;
	json_object *cm = json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
			       "\"metadata\":{\"name\":\"moved\"}}");
	char *url = xasprintf("https://127.0.0.1:%d", bgproc_free_port());
	char *user = xasprintf("    client-certificate: %s/admin.crt\n"
			       "    client-key: %s/admin.key\n",
	    sim.dir, sim.dir);
	int64_t seq = ksf_seq(&sim);

	/* Nothing listens at the kubeconfig's server: refused, not sent. */
	ksf_kubeconfig(&sim, "refused", url, user);
	k = client("refused", &cfg);
	CU_ASSERT_EQUAL_FATAL(kube_add_endpoint(k, "fe2", sim.front_url),
	    CR_OK);
	c.method = "POST";
	c.path = "/api/v1/namespaces/default/configmaps";
	c.body = cm;
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	CU_ASSERT_EQUAL(c.status, 201);
	CU_ASSERT_EQUAL(c.attempts, 2);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", "configmaps", "fe2"), 1);
	kube_call_clear(&c);
	/* Every endpoint down: the error names the last one tried. */
	CU_ASSERT_EQUAL(ksf_faults(&sim,
			    "{'cut_connections':5,"
			    "'frontends':['fe2']}"),
	    0);
	c.method = "GET";
	c.path = "/api/v1/nodes";
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_ERR_KUBE);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(c.msg, "Unable to connect to the server"));
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	kube_call_clear(&c);
	json_object_put(cm);
	kube_free(k);
	kubecfg_free(cfg);
	free(user);
	free(url);
}

static void
test_failover_avoid_and_readyz(void)
{
	struct kube *k = two_endpoints(0, 0);
	json_object *o = NULL;
	bool ready = true;
	int64_t seq = ksf_seq(&sim);

	CU_ASSERT_EQUAL(kube_avoid_endpoint(k, "kubeconfig"), CR_OK);
	CU_ASSERT_EQUAL(kube_get(k, "/api/v1/nodes", soon(), &o), CR_OK);
	json_object_put(o);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "/api/v1/nodes", "fe2"), 1);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "/api/v1/nodes", "kubesim"),
	    0);
	/* readyz asks one server, whatever is avoided. */
	CU_ASSERT_EQUAL(ksf_faults(&sim,
			    "{'failing_checks':['etcd'],"
			    "'frontends':['fe2']}"),
	    0);
	CU_ASSERT_EQUAL(kube_readyz(k, "fe2", soon(), &ready, NULL), CR_OK);
	CU_ASSERT_FALSE(ready);
	CU_ASSERT_EQUAL(kube_readyz(k, "kubeconfig", soon(), &ready, NULL),
	    CR_OK);
	CU_ASSERT_TRUE(ready);
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	kube_free(k);
}

/*
 * kube_new_like(): the rollout lock's own client knows every endpoint, so
 * the lock survives the kubeconfig's server restarting. A client made
 * from the kubeconfig alone, as the lock's was, does not.
 */
static void
test_failover_copied_client(void)
{
	struct kube *k = two_endpoints(0, 0), *copy = NULL, *plain = NULL;
	json_object *o = NULL;
	int64_t seq = ksf_seq(&sim);

	CU_ASSERT_EQUAL_FATAL(kube_new_like(k, &copy), CR_OK);
	kube_free(k);
	CU_ASSERT_EQUAL_FATAL(kube_new(sim.cfg, &plain), CR_OK);
	CU_ASSERT_EQUAL(cut_kubeconfig_server_once(), 0);
	CU_ASSERT_NOT_EQUAL(kube_get(plain, "/api/v1/nodes", soon(), &o),
	    CR_OK);
	CU_ASSERT_EQUAL(cut_kubeconfig_server_once(), 0);
	CU_ASSERT_EQUAL(kube_get(copy, "/api/v1/nodes", soon(), &o), CR_OK);
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "/api/v1/nodes", "fe2"), 1);
	CU_ASSERT_STRING_EQUAL(kube_current_endpoint(copy), "fe2");
	CU_ASSERT_EQUAL(ksf_faults(&sim, NULL), 0);
	json_object_put(o);
	kube_free(plain);
	kube_free(copy);
}

/*
 * The kubeconfig's server is down (the node whose API server restarts
 * when a resume starts), so the Node objects cannot be read to learn the
 * other API servers: ctx_open_kube() reads them through the inventory's
 * addresses on --api-port.
 */
static void
test_failover_inventory_endpoints(void)
{
	const char *port = strrchr(sim.front_url, ':') + 1;
	char *url = xasprintf("https://127.0.0.1:%d", bgproc_free_port());
	char *user = xasprintf("    client-certificate: %s/admin.crt\n"
			       "    client-key: %s/admin.key\n",
	    sim.dir, sim.dir);
	char *kc = xasprintf("%s/down", sim.dir);
	char *inv = xasprintf("%s/inventory.ini", sim.dir);
	const char *text = "[kube_control_plane]\n"
			   "cp1 ansible_host=127.0.0.1\n";
	json_object *o = NULL;
	int64_t seq = ksf_seq(&sim);
	struct ctx_opts co;
	struct ctx c;

	ksf_kubeconfig(&sim, "down", url, user);
	CU_ASSERT_EQUAL_FATAL(file_write_atomic(inv, text, strlen(text), 0600),
	    CR_OK);
	ctx_opts_init(&co);
	co.inventory = inv;
	co.kc.kubeconfig = kc;
	co.api_port = (unsigned)strtoul(port, NULL, 10);
	ctx_init(&c, "test", &co);
	CU_ASSERT_EQUAL_FATAL(ctx_load_inventory(&c), CR_OK);
	CU_ASSERT_EQUAL(ctx_open_kube(&c, true, soon()), CR_OK);
	CU_ASSERT(ksf_count(&sim, seq, "GET", "/api/v1/nodes", "fe2") >= 1);
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL(kube_get(c.kube, "/api/v1/nodes", soon(), &o), CR_OK);
	CU_ASSERT_STRING_EQUAL(kube_current_endpoint(c.kube), "cp1");
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "GET", "/api/v1/nodes", "fe2"), 1);
	json_object_put(o);
	ctx_clear(&c);
	free(inv);
	free(kc);
	free(user);
	free(url);
}

/* --- Credentials that change: tokens, tokenFile, exec plugins --------- */

static int
auth_init(void)
{
	const char *line = "good-token,alice,u1,\"system:masters\"\n";
	const char *extra[] = { "--token-auth-file", NULL, NULL };
	char *csv;

	ksf_init(&sim);
	csv = xasprintf("%s/tokens.csv", sim.dir);
	if (file_write_atomic(csv, line, strlen(line), 0600) != CR_OK)
		return 1;
	extra[1] = csv;
	ksf_start(&sim, extra);
	free(csv);
	return 0;
}

static void
put_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", sim.dir, name);

	CU_ASSERT_EQUAL_FATAL(file_write_atomic(path, text, strlen(text), 0700),
	    CR_OK);
	free(path);
}

static void
test_auth_token(void)
{
	struct kubecfg *cfg;
	struct kube *k;
	struct kube_call c = KUBE_CALL_INIT;

	ksf_kubeconfig(&sim, "goodtok", sim.url, "    token: good-token\n");
	k = client("goodtok", &cfg);
	c.path = "/api/v1/nodes";
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	kube_call_clear(&c);
	kube_free(k);
	kubecfg_free(cfg);
	/* A static token is not re-read: one request, kubectl's words. */
	ksf_kubeconfig(&sim, "badtok", sim.url, "    token: nope\n");
	k = client("badtok", &cfg);
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_ERR_KUBE);
	CU_ASSERT_EQUAL(c.status, 401);
	CU_ASSERT_EQUAL(c.attempts, 1);
	CU_ASSERT_STRING_EQUAL(c.msg,
	    "error: You must be logged in to the server (Unauthorized)");
	kube_call_clear(&c);
	kube_free(k);
	kubecfg_free(cfg);
}

static void
test_auth_token_file(void)
{
	struct kubecfg *cfg;
	struct kube *k;
	struct kube_call c = KUBE_CALL_INIT;

	put_file("token", "nope\n");
	ksf_kubeconfig(&sim, "tokfile", sim.url, "    tokenFile: token\n");
	k = client("tokfile", &cfg);
	c.path = "/api/v1/nodes";
	/* 401: read again once, still wrong. */
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_ERR_KUBE);
	CU_ASSERT_EQUAL(c.attempts, 2);
	kube_call_clear(&c);
	/* The file was rotated: the next 401 picks the new token up. */
	put_file("token", "good-token\n");
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	CU_ASSERT_EQUAL(c.attempts, 2);
	kube_call_clear(&c);
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	CU_ASSERT_EQUAL(c.attempts, 1);
	kube_call_clear(&c);
	kube_free(k);
	kubecfg_free(cfg);
}

static int
plugin_calls(const char *name)
{
	char *path = xasprintf("%s/%s.calls", sim.dir, name);
	struct buf b = BUF_INIT;
	size_t i;
	int n = 0;

	if (file_read(path, 1 << 16, &b) == CR_OK)
		for (i = 0; i < b.len; i++)
			n += b.data[i] == '\n';
	buf_clear(&b);
	free(path);
	return n;
}

/*
 * An exec plugin: call n prints tokens[n-1] (the last one again after
 * that), with an expirationTimestamp "ttl" seconds ahead when ttl > 0.
 */
static void
plugin(const char *name, const char *tokens, int ttl)
{
	char *script = xasprintf(
	    "#!/bin/sh\n"
	    "echo run >> %s/%s.calls\n"
	    "n=$(wc -l < %s/%s.calls)\n"
	    "set -- %s\n"
	    "while [ $n -gt 1 ] && [ $# -gt 1 ]; do shift; n=$((n-1)); done\n"
	    "exp=''\n"
	    "[ %d -gt 0 ] && exp=\",\\\"expirationTimestamp\\\":\\\"$(date -u "
	    "-d '+%d seconds' +%%Y-%%m-%%dT%%H:%%M:%%SZ)\\\"\"\n"
	    "echo "
	    "\"{\\\"apiVersion\\\":\\\"client.authentication.k8s.io/v1\\\","
	    "\\\"kind\\\":\\\"ExecCredential\\\",\\\"status\\\":{\\\"token\\\":"
	    "\\\"$1\\\"$exp}}\"\n",
	    sim.dir, name, sim.dir, name, tokens, ttl, ttl);
	char *user = xasprintf(
	    "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: ./%s\n"
	    "      interactiveMode: Never\n",
	    name);

	put_file(name, script);
	ksf_kubeconfig(&sim, "execcfg", sim.url, user);
	free(user);
	free(script);
}

static void
test_auth_exec_rerun_on_401(void)
{
	struct kubecfg *cfg;
	struct kube *k;
	struct kube_call c = KUBE_CALL_INIT;

	plugin("p401.sh", "stale good-token", 0);
	k = client("execcfg", &cfg);
	c.path = "/api/v1/nodes";
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	CU_ASSERT_EQUAL(c.attempts, 2);
	CU_ASSERT_EQUAL(plugin_calls("p401.sh"), 2);
	kube_call_clear(&c);
	/* No expiry: cached for good. */
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	CU_ASSERT_EQUAL(plugin_calls("p401.sh"), 2);
	kube_call_clear(&c);
	kube_free(k);
	kubecfg_free(cfg);

	/* A plugin that never gets it right: re-run once, not forever. */
	plugin("pbad.sh", "stale", 0);
	k = client("execcfg", &cfg);
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_ERR_KUBE);
	CU_ASSERT_EQUAL(c.status, 401);
	CU_ASSERT_EQUAL(plugin_calls("pbad.sh"), 2);
	kube_call_clear(&c);
	kube_free(k);
	kubecfg_free(cfg);
}

static void
test_auth_exec_expiry(void)
{
	struct kubecfg *cfg;
	struct kube *k;
	struct kube_call c = KUBE_CALL_INIT;

	plugin("pexp.sh", "good-token", 2);
	k = client("execcfg", &cfg);
	c.path = "/api/v1/nodes";
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	kube_call_clear(&c);
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	kube_call_clear(&c);
	CU_ASSERT_EQUAL(plugin_calls("pexp.sh"), 1);
	clock_sleep_ms(2600);
	CU_ASSERT_EQUAL(kube_call(k, &c, soon()), CR_OK);
	CU_ASSERT_EQUAL(c.attempts, 1);
	CU_ASSERT_EQUAL(plugin_calls("pexp.sh"), 2);
	kube_call_clear(&c);
	kube_free(k);
	kubecfg_free(cfg);
}

/* --- A control plane whose serving certificate expired ---------------- */

static int
expired_init(void)
{
	const char *extra[] = { "--tls-cert-file", NULL,
		"--tls-private-key-file", NULL, NULL };
	char *ca, *key, *out, *crt, *skey;
	int rc = 1;

	ksf_init(&sim);
	ca = xasprintf("%s/ca.crt", sim.dir);
	key = xasprintf("%s/ca.key", sim.dir);
	out = xasprintf("%s/old-server", sim.dir);
	crt = xasprintf("%s.crt", out);
	skey = xasprintf("%s.key", out);
	{
		const char *argv[] = { "openssl", "req", "-x509", "-newkey",
			"ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
			"-nodes", "-keyout", key, "-out", ca, "-subj",
			"/CN=kubernetes", "-days", "3650", "-addext",
			"basicConstraints=critical,CA:TRUE", "-addext",
			"keyUsage=critical,keyCertSign,digitalSignature",
			NULL };
		if (run_ok(argv) == 0 &&
		    openssl_ca(sim.dir, "kube-apiserver",
			"subjectAltName=DNS:localhost,IP:127.0.0.1",
			out) == 0) {
			extra[1] = crt;
			extra[3] = skey;
			ksf_start(&sim, extra);
			rc = 0;
		}
	}
	free(skey);
	free(crt);
	free(out);
	free(key);
	free(ca);
	return rc;
}

static void
test_expired_serving_cert(void)
{
	json_object *o = NULL;
	const char *msg;

	CU_ASSERT_EQUAL(kube_get(sim.k, "/version", soon(), &o), CR_ERR_TLS);
	msg = kube_error_message(sim.k);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg,
	    "the API server's serving certificate (CN=kube-apiserver) expired "
	    "on 2026-11-01T00:00:00Z, "));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, " ago, so the control plane's"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "x509: certificate has expired"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "certroll recover"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, sim.url));
	/* Our own certificate is fine, so it is not blamed. */
	CU_ASSERT_PTR_NULL(strstr(msg, "client certificate"));
	if (strstr(msg, "certroll recover") == NULL)
		fprintf(stderr, "\ngot: %s\n", msg);
	json_object_put(o);
}

static CU_TestInfo status_tests[] = {
	{ "classify", test_status_classify },
	{ "details_and_describe", test_status_details_and_describe },
	{ "escape", test_escape },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo object_tests[] = {
	{ "node_parse", test_node_parse },
	{ "mirror_parse", test_mirror_parse },
	{ "endpoints", test_endpoints },
	{ "insecure_warns", test_insecure_warns },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo sim_tests[] = {
	{ "nodes", test_sim_nodes },
	{ "cordon_as_kubectl", test_sim_cordon },
	{ "uncordon_removes_field", test_sim_uncordon_removes_field },
	{ "cordon_command", test_sim_cordon_command },
	{ "list_pages", test_sim_list_pages },
	{ "retry_after", test_sim_retry_after },
	{ "update_conflict", test_sim_update_conflict },
	{ "mirror_pods", test_sim_mirror_pods },
	{ "readyz", test_sim_readyz },
	{ "tls_server_name", test_sim_tls_server_name },
	{ "expired_client_cert", test_sim_expired_client_cert },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo unit_suites[] = {
	{ .pName = "kube_status", .pTests = status_tests },
	{ .pName = "kube_objects", .pTests = object_tests },
	CU_SUITE_INFO_NULL,
};

static CU_TestInfo failover_tests[] = {
	{ "cut_connection", test_failover_cut_connection },
	{ "get_on_timeout", test_failover_get_on_timeout },
	{ "post_not_repeated", test_failover_post_not_repeated },
	{ "post_never_sent", test_failover_post_never_sent },
	{ "avoid_and_readyz", test_failover_avoid_and_readyz },
	{ "copied_client", test_failover_copied_client },
	{ "inventory_endpoints", test_failover_inventory_endpoints },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo auth_tests[] = {
	{ "token", test_auth_token },
	{ "token_file", test_auth_token_file },
	{ "exec_rerun_on_401", test_auth_exec_rerun_on_401 },
	{ "exec_expiry", test_auth_exec_expiry },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo expired_tests[] = {
	{ "serving_cert", test_expired_serving_cert },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo sim_suites[] = {
	{ .pName = "kube_sim",
	    .pInitFunc = sim_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = sim_tests },
	{ .pName = "kube_failover",
	    .pInitFunc = failover_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = failover_tests },
	{ .pName = "kube_auth",
	    .pInitFunc = auth_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = auth_tests },
	{ .pName = "kube_expired",
	    .pInitFunc = expired_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = expired_tests },
	CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sim") == 0)
		return cu_run(sim_suites);
	return cu_run(unit_suites);
}
