/*
 * agent facts: the kubelet's fileCheckFrequency, static pods, leftovers of
 * an interrupted run, local or external etcd, kubeadm's version through
 * the stand-in, free space and the JSON keys the protocol carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_int.h"
#include "certtest.h"
#include "cu_run.h"
#include "fileio.h"
#include "jv.h"
#include "xmalloc.h"

#define STANDIN CR_SOURCE_DIR "/tests/sim/kubeadm"

static void
gather(const char *kdir, const char *kubelet, const char *config,
    struct agent_facts *f)
{
	struct agent_inspect_opts o;

	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = kdir;
	o.kubelet_dir = kubelet;
	o.backup_dir = "/nonexistent/certroll/backups";
	o.cluster_config = config;
	o.kubeadm = "/nonexistent/kubeadm";
	CU_ASSERT_FATAL(agent_facts_gather(&o, f) == CR_OK);
}

static void
test_file_check_frequency(void)
{
	static const struct {
		const char *name, *yaml;
		int64_t ms;
	} rows[] = {
		{ "absent file", NULL, 20000 },
		{ "absent field", "kind: KubeletConfiguration\n", 20000 },
		{ "seconds", "fileCheckFrequency: 1s\n", 1000 },
		{ "milliseconds", "fileCheckFrequency: 500ms\n", 500 },
		{ "go form", "fileCheckFrequency: 1m0s\n", 60000 },
		{ "malformed: default", "fileCheckFrequency: soon\n", 20000 },
		{ "not yaml: default", "fileCheckFrequency: [\n", 20000 },
	};
	const char *dir = ct_tmpdir();
	char *conf = ct_path(dir, "config.yaml");
	struct agent_facts f;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unlink(conf);
		if (rows[i].yaml != NULL)
			ct_write(conf, rows[i].yaml);
		gather(dir, dir, NULL, &f);
		CU_ASSERT_CASE(f.file_check_frequency_ms == rows[i].ms,
		    rows[i].name);
		agent_facts_clear(&f);
	}
	free(conf);
}

static void
test_manifests_and_leftovers(void)
{
	static const char *const files[] = { "manifests/kube-scheduler.yaml",
		"manifests/etcd.yaml", "manifests/etcd.yaml.certroll-Ab12Cd",
		"certroll-held/kube-apiserver.yaml",
		"pki/ca.crt.certroll-x1y2z3", "admin.conf.certroll-q9w8e7",
		"pki/sa.key", NULL };
	const char *dir = ct_tmpdir();
	struct agent_facts f;
	char *path;
	size_t i;

	for (i = 0; files[i] != NULL; i++) {
		path = ct_path(dir, files[i]);
		ct_write(path, "x\n");
		free(path);
	}
	gather(dir, dir, NULL, &f);
	CU_ASSERT_EQUAL(f.manifests.n, 2);
	CU_ASSERT_STRING_EQUAL(f.manifests.v[0], "etcd.yaml");
	CU_ASSERT_STRING_EQUAL(f.manifests.v[1], "kube-scheduler.yaml");
	CU_ASSERT_EQUAL(f.leftovers.n, 4);
	CU_ASSERT_TRUE(
	    strv_has(&f.leftovers, "certroll-held/kube-apiserver.yaml"));
	CU_ASSERT_TRUE(strv_has(&f.leftovers, "pki/ca.crt.certroll-x1y2z3"));
	CU_ASSERT_TRUE(strv_has(&f.leftovers, "admin.conf.certroll-q9w8e7"));
	CU_ASSERT_TRUE(
	    strv_has(&f.leftovers, "manifests/etcd.yaml.certroll-Ab12Cd"));
	CU_ASSERT_TRUE(f.sa_key);
	CU_ASSERT_FALSE(f.sa_pub);
	CU_ASSERT_FALSE(f.super_admin_expected);
	/* Free space of the nearest existing parent of the backup dir. */
	CU_ASSERT_TRUE(f.backup_free_bytes > 0);
	CU_ASSERT_STRING_EQUAL(f.backup_dir, "/nonexistent/certroll/backups");
	CU_ASSERT_PTR_NULL(f.kubeadm_version);
	agent_facts_clear(&f);
}

static const struct {
	const char *name;
	const char *servers; /* --etcd-servers, or NULL: no manifest */
	const char *config;  /* ClusterConfiguration etcd: block */
	bool etcd_dir;
	bool external;
} etcd_rows[] = {
	{ "etcd pki present", NULL, NULL, true, false },
	{ "no pki, no manifest", NULL, NULL, false, false },
	{ "no pki, remote servers",
	    "https://10.0.0.50:2379,https://10.0.0.51:2379", NULL, false,
	    true },
	{ "no pki, loopback server", "https://127.0.0.1:2379", NULL, false,
	    false },
	{ "no pki, one of them local",
	    "https://10.0.0.50:2379,https://localhost:2379", NULL, false,
	    false },
	{ "config says external", NULL,
	    "etcd:\n  external:\n    endpoints:\n    - "
	    "https://10.0.0.50:2379\n",
	    true, true },
	{ "config says local", "https://10.0.0.50:2379",
	    "etcd:\n  local:\n    dataDir: /var/lib/etcd\n", false, false },
};

static void
test_etcd_location(void)
{
	struct agent_facts f;
	char *path, *text;
	size_t i;

	for (i = 0; i < sizeof(etcd_rows) / sizeof(etcd_rows[0]); i++) {
		const char *dir = ct_tmpdir();
		char *config = NULL;

		if (etcd_rows[i].etcd_dir) {
			path = ct_path(dir, "pki/etcd/ca.crt");
			ct_write(path, "x");
			free(path);
		}
		if (etcd_rows[i].servers != NULL) {
			path = ct_path(dir, "manifests/kube-apiserver.yaml");
			text = xasprintf("kind: Pod\nspec:\n  containers:\n"
					 "  - name: kube-apiserver\n"
					 "    command:\n    - kube-apiserver\n"
					 "    - --etcd-servers=%s\n",
			    etcd_rows[i].servers);
			ct_write(path, text);
			free(text);
			free(path);
		}
		if (etcd_rows[i].config != NULL) {
			config = ct_path(dir, "cc.yaml");
			text = xasprintf("apiVersion: kubeadm.k8s.io/v1beta4\n"
					 "kind: ClusterConfiguration\n%s",
			    etcd_rows[i].config);
			ct_write(config, text);
			free(text);
		}
		gather(dir, dir, config, &f);
		CU_ASSERT_CASE(f.etcd_external == etcd_rows[i].external,
		    etcd_rows[i].name);
		agent_facts_clear(&f);
		free(config);
	}
}

static void
test_kubeadm_version_and_json(void)
{
	static const char *const keys[] = { "clock_ms", "kubeadm_version",
		"backup_dir", "backup_free_bytes", "file_check_frequency_ms",
		"manifests", "etcd", "sa_key", "sa_pub", "leftovers",
		"super_admin_expected", NULL };
	struct agent_inspect_opts o;
	struct agent_facts f;
	json_object *j, *v;
	char *super;
	size_t i;

	setenv("KUBEADM_STANDIN_VERSION", "v1.30.4", 1);
	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = ct_tmpdir();
	o.kubelet_dir = o.kubernetes_dir;
	o.kubeadm = STANDIN;
	super = ct_path(o.kubernetes_dir, "super-admin.conf");
	ct_write(super, "x");
	CU_ASSERT_FATAL(agent_facts_gather(&o, &f) == CR_OK);
	CU_ASSERT_STRING_EQUAL(f.kubeadm_version, "v1.30.4");
	CU_ASSERT_TRUE(f.super_admin_expected);
	CU_ASSERT_TRUE(f.clock_ms > 1700000000000LL);
	j = agent_facts_to_json(&f);
	for (i = 0; keys[i] != NULL; i++)
		CU_ASSERT_CASE(json_object_object_get_ex(j, keys[i], &v),
		    keys[i]);
	CU_ASSERT_STRING_EQUAL(jv_str(j, "kubeadm_version"), "v1.30.4");
	CU_ASSERT_STRING_EQUAL(jv_str(j, "etcd"), "local");
	json_object_put(j);
	agent_facts_clear(&f);
	free(super);
	unsetenv("KUBEADM_STANDIN_VERSION");
}

static void
test_facts_table(void)
{
	static const char *const lines[] = {
		"\nNODE FACTS\n",
		"\nkubeadm               not installed\n",
		"\nfileCheckFrequency    500ms\n",
		"\nstatic pods           etcd.yaml\n",
		"\netcd                  local\n",
		"\nsa.key / sa.pub       MISSING / MISSING\n",
		"\nsuper-admin.conf      not expected on this node\n",
		"\nleftovers             certroll-held/etcd.yaml\n",
	};
	const char *dir = ct_tmpdir();
	struct buf out = BUF_INIT;
	struct agent_facts f;
	char *p;
	size_t i;

	p = ct_path(dir, "config.yaml");
	ct_write(p, "fileCheckFrequency: 500ms\n");
	free(p);
	p = ct_path(dir, "manifests/etcd.yaml");
	ct_write(p, "kind: Pod\n");
	free(p);
	p = ct_path(dir, "certroll-held/etcd.yaml");
	ct_write(p, "kind: Pod\n");
	free(p);
	gather(dir, dir, NULL, &f);
	agent_facts_table(&f, &out);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		CU_ASSERT_CASE(strstr(buf_cstr(&out), lines[i]) != NULL,
		    lines[i]);
	buf_clear(&out);
	agent_facts_clear(&f);
}

static CU_TestInfo facts_tests[] = {
	{ "file_check_frequency", test_file_check_frequency },
	{ "manifests_and_leftovers", test_manifests_and_leftovers },
	{ "etcd_location", test_etcd_location },
	{ "kubeadm_version_and_json", test_kubeadm_version_and_json },
	{ "facts_table", test_facts_table },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "agent_facts", .pTests = facts_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
