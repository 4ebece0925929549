/*
 * kubeadmcfg: kubeadm's ClusterConfiguration. Hermetic: the parser's
 * defaults, settings and refusals. Against kubesim ("sim"): reading it
 * from the kube-system/kubeadm-config ConfigMap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cu_run.h"
#include "jv.h"
#include "kube.h"
#include "kubeadmcfg.h"
#include "kubesim_fix.h"
#include "log.h"
#include "xmalloc.h"

/* What kubeadm v1.31 stores for a cluster made with an external etcd. */
static const char *const v1beta4 =
    "apiServer: {}\n"
    "apiVersion: kubeadm.k8s.io/v1beta4\n"
    "caCertificateValidityPeriod: 87600h0m0s\n"
    "certificateValidityPeriod: 2160h0m0s\n"
    "certificatesDir: /srv/kubernetes/pki\n"
    "clusterName: prod\n"
    "controlPlaneEndpoint: k8s.example.com:6443\n"
    "encryptionAlgorithm: ECDSA-P256\n"
    "etcd:\n"
    "  external:\n"
    "    endpoints:\n"
    "    - https://10.0.0.21:2379\n"
    "    - https://10.0.0.22:2379\n"
    "    caFile: /etc/etcd/ca.crt\n"
    "kind: ClusterConfiguration\n"
    "kubernetesVersion: v1.31.2\n"
    "networking: {dnsDomain: cluster.local, serviceSubnet: 10.96.0.0/12}\n";

/* A v1beta3 file (kubeadm <= 1.30): none of the newer fields. */
static const char *const v1beta3 = "apiVersion: kubeadm.k8s.io/v1beta3\n"
				   "kind: ClusterConfiguration\n"
				   "kubernetesVersion: v1.29.4\n"
				   "etcd:\n"
				   "  local:\n"
				   "    dataDir: /var/lib/etcd\n";

static void
test_parse_v1beta4(void)
{
	struct kubeadmcfg c = { 0 };
	struct kubeadmcfg_diag d;
	json_object *j;

	CU_ASSERT_EQUAL_FATAL(
	    kubeadmcfg_parse(v1beta4, strlen(v1beta4), &c, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(c.api_version, "kubeadm.k8s.io/v1beta4");
	CU_ASSERT_STRING_EQUAL(c.kubernetes_version, "v1.31.2");
	CU_ASSERT_STRING_EQUAL(c.control_plane_endpoint,
	    "k8s.example.com:6443");
	CU_ASSERT_STRING_EQUAL(c.cluster_name, "prod");
	CU_ASSERT_STRING_EQUAL(c.certificates_dir, "/srv/kubernetes/pki");
	CU_ASSERT_TRUE(c.etcd_external);
	CU_ASSERT_EQUAL_FATAL(c.etcd_endpoints.n, 2);
	CU_ASSERT_STRING_EQUAL(c.etcd_endpoints.v[1], "https://10.0.0.22:2379");
	CU_ASSERT_STRING_EQUAL(c.encryption_algorithm, "ECDSA-P256");
	CU_ASSERT_EQUAL(c.cert_validity_s, 90LL * 86400);
	CU_ASSERT_EQUAL(c.ca_validity_s, 3650LL * 86400);
	CU_ASSERT_TRUE(c.has_cert_validity && c.has_ca_validity &&
	    c.has_encryption_algorithm && c.has_certificates_dir);
	/* The text goes to the agent as it is, for kubeadm --config. */
	CU_ASSERT_STRING_EQUAL(c.yaml, v1beta4);
	j = kubeadmcfg_to_json(&c);
	CU_ASSERT_STRING_EQUAL(jv_str(j, "certificateValidityPeriod"), "2160h");
	CU_ASSERT_STRING_EQUAL(jv_str(j, "caCertificateValidityPeriod"),
	    "87600h");
	CU_ASSERT_TRUE(jv_bool(j, "etcd.external"));
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(j, "etcd.endpoints")),
	    2);
	json_object_put(j);
	kubeadmcfg_clear(&c);
	CU_ASSERT_PTR_NULL(c.yaml);
}

static void
test_parse_defaults(void)
{
	struct kubeadmcfg c = { 0 };
	struct kubeadmcfg_diag d;
	json_object *j;

	CU_ASSERT_EQUAL_FATAL(
	    kubeadmcfg_parse(v1beta3, strlen(v1beta3), &c, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(c.certificates_dir, "/etc/kubernetes/pki");
	CU_ASSERT_FALSE(c.etcd_external);
	CU_ASSERT_EQUAL(c.etcd_endpoints.n, 0);
	CU_ASSERT_STRING_EQUAL(c.encryption_algorithm, "RSA-2048");
	CU_ASSERT_EQUAL(c.cert_validity_s, 365LL * 86400);
	CU_ASSERT_EQUAL(c.ca_validity_s, 3650LL * 86400);
	CU_ASSERT_FALSE(c.has_cert_validity || c.has_ca_validity ||
	    c.has_encryption_algorithm || c.has_certificates_dir);
	CU_ASSERT_PTR_NULL(c.control_plane_endpoint);
	j = kubeadmcfg_to_json(&c);
	CU_ASSERT_STRING_EQUAL(jv_str(j, "certificateValidityPeriod"), "8760h");
	CU_ASSERT_STRING_EQUAL(jv_str(j, "encryptionAlgorithm"), "RSA-2048");
	json_object_put(j);
	kubeadmcfg_clear(&c);
}

struct bad_row {
	const char *name;
	const char *yaml;
	const char *want;
};

#define HEAD "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"

static const struct bad_row bad_rows[] = {
	{ "init_configuration",
	    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n",
	    "1:1: kind is 'InitConfiguration', not ClusterConfiguration" },
	{ "not_kubeadm", "apiVersion: v1\nkind: ClusterConfiguration\n",
	    "apiVersion 'v1' is not kubeadm's" },
	{ "not_a_mapping", "- a\n- b\n", "not a ClusterConfiguration" },
	{ "two_documents", HEAD "---\n" HEAD,
	    "expected one YAML document, found 2" },
	{ "yaml_error", HEAD "etcd: [\n", "4:1: did not find expected node" },
	{ "local_and_external",
	    HEAD
	    "etcd:\n  local: {dataDir: /x}\n  external: {endpoints: [a]}\n",
	    "4:3: etcd: local and external are both set" },
	{ "external_without_endpoints", HEAD "etcd:\n  external: {caFile: x}\n",
	    "etcd.external: endpoints must list the etcd servers" },
	{ "endpoint_not_a_string",
	    HEAD "etcd:\n  external:\n    endpoints: [{a: b}]\n",
	    "etcd.external.endpoints: expected a URL" },
	{ "bad_validity", HEAD "certificateValidityPeriod: 1 year\n",
	    "3:28: certificateValidityPeriod: '1 year' is not a positive "
	    "duration like 8760h" },
	{ "zero_validity", HEAD "caCertificateValidityPeriod: 0s\n",
	    "caCertificateValidityPeriod: '0s' is not a positive duration" },
	{ "unknown_algorithm", HEAD "encryptionAlgorithm: DSA-1024\n",
	    "encryptionAlgorithm: 'DSA-1024' is not one of RSA-2048, RSA-3072, "
	    "RSA-4096, ECDSA-P256" },
	{ "dir_not_a_string", HEAD "certificatesDir: [a]\n",
	    "certificatesDir: expected a string, found a sequence" },
};

static void
test_parse_refusals(void)
{
	const struct bad_row *r;
	struct kubeadmcfg c = { 0 };
	struct kubeadmcfg_diag d;
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		r = &bad_rows[i];
		CU_ASSERT_CASE(kubeadmcfg_parse(r->yaml, strlen(r->yaml), &c,
				   &d) == CR_ERR_CONFIG,
		    r->name);
		CU_ASSERT_CASE(strstr(d.msg, r->want) != NULL, r->name);
		if (strstr(d.msg, r->want) == NULL)
			fprintf(stderr, "\n%s: got '%s'\n", r->name, d.msg);
		/* Nothing is left behind on failure. */
		CU_ASSERT_CASE(c.yaml == NULL && c.api_version == NULL &&
			c.etcd_endpoints.n == 0,
		    r->name);
	}
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

static void
configmap(const char *data_json)
{
	char *body = xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
			       "\"metadata\":{\"name\":\"kubeadm-config\","
			       "\"namespace\":\"kube-system\"},\"data\":%s}",
	    data_json);
	struct kube_call c = KUBE_CALL_INIT;
	json_object *o = NULL;

	CU_ASSERT_EQUAL_FATAL(jv_parse(body, strlen(body), &o, NULL, 0), CR_OK);
	(void)ksf_send(&sim, "DELETE",
	    "/api/v1/namespaces/kube-system/configmaps/kubeadm-config", NULL);
	c.method = "POST";
	c.path = "/api/v1/namespaces/kube-system/configmaps";
	c.body = o;
	CU_ASSERT_EQUAL(kube_call(sim.k, &c, clock_deadline_ms(20000)), CR_OK);
	kube_call_clear(&c);
	json_object_put(o);
	free(body);
}

static enum cr_err
fetch(struct kubeadmcfg *c, char **logp)
{
	size_t len = 0;
	FILE *fp = open_memstream(logp, &len);
	enum cr_err err;

	log_set_output(fp);
	err = kubeadmcfg_fetch(sim.k, clock_deadline_ms(20000), c);
	log_set_output(NULL);
	fclose(fp);
	return err;
}

static void
test_fetch(void)
{
	struct kubeadmcfg c = { 0 };
	json_object *s = json_object_new_string(v1beta4);
	char *data, *log = NULL;

	CU_ASSERT_EQUAL(fetch(&c, &log), CR_ERR_NOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(log,
	    "configmap "
	    "kube-system/kubeadm-config: Error "
	    "from server (NotFound)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "kubeadm clusters only"));
	free(log);
	configmap("{\"other\":\"x\"}");
	CU_ASSERT_EQUAL(fetch(&c, &log), CR_ERR_NOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "no ClusterConfiguration key"));
	free(log);
	configmap("{\"ClusterConfiguration\":\"kind: Foo\\n\"}");
	CU_ASSERT_EQUAL(fetch(&c, &log), CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(log,
	    "ClusterConfiguration:1:1: kind "
	    "is 'Foo'"));
	free(log);
	data = xasprintf("{\"ClusterConfiguration\":%s}",
	    json_object_to_json_string(s));
	configmap(data);
	CU_ASSERT_EQUAL_FATAL(fetch(&c, &log), CR_OK);
	CU_ASSERT_STRING_EQUAL(c.yaml, v1beta4);
	CU_ASSERT_STRING_EQUAL(c.encryption_algorithm, "ECDSA-P256");
	CU_ASSERT_STRING_EQUAL(log, "");
	free(log);
	kubeadmcfg_clear(&c);
	free(data);
	json_object_put(s);
}

static CU_TestInfo parse_tests[] = {
	{ "v1beta4", test_parse_v1beta4 },
	{ "defaults", test_parse_defaults },
	{ "refusals", test_parse_refusals },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo sim_tests[] = {
	{ "fetch", test_fetch },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo unit_suites[] = {
	{ .pName = "kubeadmcfg_parse", .pTests = parse_tests },
	CU_SUITE_INFO_NULL,
};

static CU_SuiteInfo sim_suites[] = {
	{ .pName = "kubeadmcfg_sim",
	    .pInitFunc = sim_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = sim_tests },
	CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sim") == 0)
		return cu_run(sim_suites);
	return cu_run(unit_suites);
}
