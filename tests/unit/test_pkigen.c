/*
 * certroll-pkigen: every layout option produces the kubeadm tree it
 * documents, and the openssl CLI accepts everything it writes.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "certtest.h"
#include "cu_run.h"
#include "fileio.h"
#include "kcfgcert.h"
#include "timefmt.h"
#include "xmalloc.h"

/* Leaf files, their CA file and whether external etcd drops them. */
static const struct {
	const char *base, *ca;
	bool etcd;
} leaves[] = {
	{ "apiserver", "ca", false },
	{ "apiserver-kubelet-client", "ca", false },
	{ "front-proxy-client", "front-proxy-ca", false },
	{ "etcd/server", "etcd/ca", true },
	{ "etcd/peer", "etcd/ca", true },
	{ "etcd/healthcheck-client", "etcd/ca", true },
	{ "apiserver-etcd-client", "etcd/ca", true },
};

#define NLEAVES (sizeof(leaves) / sizeof(leaves[0]))

static void
info_of_pem(const char *text, size_t len, struct cert_info *ci)
{
	X509 *x = NULL;

	memset(ci, 0, sizeof(*ci));
	CU_ASSERT_FATAL(cert_parse(text, len, &x) == CR_OK);
	CU_ASSERT_FATAL(cert_info_fill(x, ci) == CR_OK);
	X509_free(x);
}

static void
info_of(const char *kdir, const char *rel, struct cert_info *ci)
{
	char *p = ct_path(kdir, rel), *text = ct_slurp(p);

	CU_ASSERT_FATAL(text != NULL);
	info_of_pem(text, text != NULL ? strlen(text) : 0, ci);
	free(text);
	free(p);
}

static void
kubeconfig_info(const char *kdir, const char *conf, struct cert_info *ci)
{
	char *p = ct_path(kdir, conf);
	struct kcfgcert *kc = NULL;

	CU_ASSERT_FATAL(kcfgcert_load(p, &kc, NULL) == CR_OK);
	info_of_pem((const char *)kc->cert_pem.data, kc->cert_pem.len, ci);
	kcfgcert_free(kc);
	free(p);
}

/* openssl verify and x509 -text accept the PEM file lf, under pki/<ca>. */
static bool
openssl_file_ok(const char *kdir, const char *ca, const char *lf)
{
	char *caf = xasprintf("%s/pki/%s.crt", kdir, ca);
	const char *verify[] = { "openssl", "verify", "-CAfile", caf, lf,
		NULL };
	const char *text[] = { "openssl", "x509", "-in", lf, "-noout", "-text",
		NULL };
	bool ok = ct_run(verify, NULL) == 0 && ct_run(text, NULL) == 0;

	free(caf);
	return ok;
}

static bool
openssl_ok(const char *kdir, const char *ca, const char *leaf)
{
	char *lf = xasprintf("%s/pki/%s.crt", kdir, leaf);
	bool ok = openssl_file_ok(kdir, ca, lf);

	free(lf);
	return ok;
}

/* The openssl CLI verifies a kubeconfig's embedded certificate too. */
static bool
conf_ok(const struct ct_tree *t, const char *conf)
{
	char *p = ct_path(t->kdir, conf), *text;
	char *pem = xasprintf("%s/%s.pem", t->dir, conf);
	struct kcfgcert *kc = NULL;
	bool ok;

	CU_ASSERT_FATAL(kcfgcert_load(p, &kc, NULL) == CR_OK);
	text = xstrndup((const char *)kc->cert_pem.data, kc->cert_pem.len);
	ct_write(pem, text);
	ok = openssl_file_ok(t->kdir, "ca", pem);
	free(text);
	free(pem);
	free(p);
	kcfgcert_free(kc);
	return ok;
}

static void
test_default_layout(void)
{
	static const char *const confs[] = { "admin.conf", "super-admin.conf",
		"controller-manager.conf", "scheduler.conf", "kubelet.conf" };
	static const char *const files[] = { "pki/ca.crt", "pki/ca.key",
		"pki/front-proxy-ca.crt", "pki/front-proxy-ca.key",
		"pki/etcd/ca.crt", "pki/etcd/ca.key", "pki/sa.key",
		"pki/sa.pub", "admin.conf", "super-admin.conf",
		"controller-manager.conf", "scheduler.conf", "kubelet.conf",
		NULL };
	struct ct_tree t;
	char *p, *text;
	size_t i;

	ct_tree_make(&t, "ecdsa-p256", NULL);
	for (i = 0; files[i] != NULL; i++) {
		p = ct_path(t.kdir, files[i]);
		CU_ASSERT_CASE(file_exists(p), files[i]);
		CU_ASSERT_CASE(ct_mode(p) ==
			(strstr(files[i], ".crt") != NULL ||
				    strstr(files[i], ".pub") != NULL ?
				0644 :
				0600),
		    files[i]);
		free(p);
	}
	for (i = 0; i < NLEAVES; i++) {
		CU_ASSERT_CASE(openssl_ok(t.kdir, leaves[i].ca, leaves[i].base),
		    leaves[i].base);
		p = xasprintf("%s/pki/%s.key", t.kdir, leaves[i].base);
		text = ct_slurp(p);
		CU_ASSERT_CASE(text != NULL &&
			strncmp(text, "-----BEGIN EC PRIVATE KEY-----", 30) ==
			    0,
		    leaves[i].base);
		CU_ASSERT_CASE(ct_mode(p) == 0600, leaves[i].base);
		free(text);
		free(p);
	}
	for (i = 0; i < sizeof(confs) / sizeof(confs[0]); i++)
		CU_ASSERT_CASE(conf_ok(&t, confs[i]), confs[i]);
	CU_ASSERT_TRUE(openssl_ok(t.kdir, "ca", "ca"));
	CU_ASSERT_TRUE(openssl_ok(t.kdir, "etcd/ca", "etcd/ca"));
	ct_tree_free(&t);
}

static void
test_sans_and_usages(void)
{
	struct ct_tree t;
	struct cert_info ci;

	ct_tree_make(&t, "ecdsa-p256", NULL);
	info_of(t.kdir, "pki/apiserver.crt", &ci);
	CU_ASSERT_EQUAL(ci.dns_names.n, 5);
	CU_ASSERT_STRING_EQUAL(ci.dns_names.v[0], "cp1");
	CU_ASSERT_STRING_EQUAL(ci.dns_names.v[4],
	    "kubernetes.default.svc.cluster.local");
	CU_ASSERT_EQUAL(ci.ip_addresses.n, 2);
	CU_ASSERT_STRING_EQUAL(ci.ip_addresses.v[0], "10.96.0.1");
	CU_ASSERT_STRING_EQUAL(ci.ip_addresses.v[1], "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(ci.ext_key_usages.v[0], "serverAuth");
	certinfo_clear(&ci);
	info_of(t.kdir, "pki/etcd/peer.crt", &ci);
	CU_ASSERT_STRING_EQUAL(ci.subject, "CN=cp1");
	CU_ASSERT_TRUE(strv_has(&ci.ip_addresses, "::1"));
	CU_ASSERT_TRUE(strv_has(&ci.dns_names, "localhost"));
	CU_ASSERT_EQUAL(ci.ext_key_usages.n, 2);
	certinfo_clear(&ci);
	kubeconfig_info(t.kdir, "kubelet.conf", &ci);
	CU_ASSERT_STRING_EQUAL(ci.subject,
	    "O=system:nodes, CN=system:node:cp1");
	certinfo_clear(&ci);
	ct_tree_free(&t);
}

static void
test_subjects(void)
{
	static const struct {
		const char *what; /* pki/<x>.crt or a kubeconfig */
		const char *modern, *legacy;
	} rows[] = {
		{ "pki/apiserver-kubelet-client.crt",
		    "O=kubeadm:cluster-admins, "
		    "CN=kube-apiserver-kubelet-client",
		    "O=system:masters, CN=kube-apiserver-kubelet-client" },
		{ "pki/apiserver-etcd-client.crt",
		    "CN=kube-apiserver-etcd-client",
		    "O=system:masters, CN=kube-apiserver-etcd-client" },
		{ "pki/etcd/healthcheck-client.crt",
		    "CN=kube-etcd-healthcheck-client",
		    "O=system:masters, CN=kube-etcd-healthcheck-client" },
		{ "pki/front-proxy-client.crt", "CN=front-proxy-client",
		    "CN=front-proxy-client" },
		{ "admin.conf", "O=kubeadm:cluster-admins, CN=kubernetes-admin",
		    "O=system:masters, CN=kubernetes-admin" },
		{ "super-admin.conf",
		    "O=system:masters, CN=kubernetes-super-admin", NULL },
		{ "controller-manager.conf",
		    "CN=system:kube-controller-manager",
		    "CN=system:kube-controller-manager" },
		{ "scheduler.conf", "CN=system:kube-scheduler",
		    "CN=system:kube-scheduler" },
	};
	static const char *const legacy[] = { "--legacy-subjects", NULL };
	struct ct_tree modern, old;
	struct cert_info ci;
	char *p;
	size_t i;

	ct_tree_make(&modern, "ecdsa-p256", NULL);
	ct_tree_make(&old, "ecdsa-p256", legacy);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strstr(rows[i].what, ".conf") != NULL)
			kubeconfig_info(modern.kdir, rows[i].what, &ci);
		else
			info_of(modern.kdir, rows[i].what, &ci);
		CU_ASSERT_CASE(strcmp(ci.subject, rows[i].modern) == 0,
		    rows[i].what);
		certinfo_clear(&ci);
		p = ct_path(old.kdir, rows[i].what);
		if (rows[i].legacy == NULL) {
			CU_ASSERT_CASE(!file_exists(p), rows[i].what);
			free(p);
			continue;
		}
		free(p);
		if (strstr(rows[i].what, ".conf") != NULL)
			kubeconfig_info(old.kdir, rows[i].what, &ci);
		else
			info_of(old.kdir, rows[i].what, &ci);
		CU_ASSERT_CASE(strcmp(ci.subject, rows[i].legacy) == 0,
		    rows[i].what);
		certinfo_clear(&ci);
	}
	ct_tree_free(&modern);
	ct_tree_free(&old);
}

static void
test_options(void)
{
	static const char *const ext_ca[] = { "--external-ca",
		"--no-super-admin", NULL };
	static const char *const ext_etcd[] = { "--external-etcd", NULL };
	static const char *const expired[] = { "--expired", NULL };
	static const char *const soon[] = { "--expires-in", "20d", NULL };
	static const char *const kubelet[] = { "--kubelet-dir", "KUBELET",
		NULL };
	struct ct_tree t;
	struct cert_info ci;
	char *p;

	ct_tree_make(&t, "ecdsa-p256", ext_ca);
	p = ct_path(t.kdir, "pki/ca.key");
	CU_ASSERT_FALSE(file_exists(p));
	free(p);
	p = ct_path(t.kdir, "pki/etcd/ca.key");
	CU_ASSERT_TRUE(file_exists(p));
	free(p);
	p = ct_path(t.kdir, "super-admin.conf");
	CU_ASSERT_FALSE(file_exists(p));
	free(p);
	ct_tree_free(&t);
	ct_tree_make(&t, "ecdsa-p256", ext_etcd);
	p = ct_path(t.kdir, "pki/etcd");
	CU_ASSERT_FALSE(file_exists(p));
	free(p);
	p = ct_path(t.kdir, "pki/apiserver-etcd-client.crt");
	CU_ASSERT_FALSE(file_exists(p));
	free(p);
	ct_tree_free(&t);
	ct_tree_make(&t, "ecdsa-p256", expired);
	info_of(t.kdir, "pki/apiserver.crt", &ci);
	CU_ASSERT_TRUE(
	    ci.not_after < time(NULL) && ci.not_before < ci.not_after);
	certinfo_clear(&ci);
	ct_tree_free(&t);
	ct_tree_make(&t, "ecdsa-p256", soon);
	kubeconfig_info(t.kdir, "admin.conf", &ci);
	CU_ASSERT_TRUE(
	    llabs((long long)(ci.not_after - time(NULL) - 20 * 86400LL)) < 10);
	certinfo_clear(&ci);
	ct_tree_free(&t);
	ct_tree_make(&t, "ecdsa-p256", kubelet);
	p = ct_path(t.kubelet, "pki/kubelet-client-current.pem");
	CU_ASSERT_EQUAL(ct_mode(p), 0600);
	kubeconfig_info(t.kdir, "kubelet.conf", &ci);
	CU_ASSERT_STRING_EQUAL(ci.subject,
	    "O=system:nodes, CN=system:node:cp1");
	certinfo_clear(&ci);
	free(p);
	ct_tree_free(&t);
}

static void
test_rsa_and_fixed_clock(void)
{
	struct ct_tree t;
	struct cert_info ci;
	int64_t ms = 0;
	char *p, *text;

	ct_tree_make(&t, "rsa-2048", NULL);
	p = ct_path(t.kdir, "pki/apiserver.key");
	text = ct_slurp(p);
	CU_ASSERT_NSTRING_EQUAL(text, "-----BEGIN RSA PRIVATE KEY-----", 31);
	free(text);
	free(p);
	CU_ASSERT_TRUE(openssl_ok(t.kdir, "ca", "apiserver"));
	info_of(t.kdir, "pki/ca.crt", &ci);
	CU_ASSERT_STRING_EQUAL(ci.key_algorithm, "RSA-2048");
	CU_ASSERT_FATAL(timefmt_parse_rfc3339(CT_FIXED_NOW, &ms) == CR_OK);
	CU_ASSERT_EQUAL(ci.not_before, ms / 1000 - 300);
	CU_ASSERT_EQUAL(ci.not_after, ms / 1000 + 3650 * 86400LL);
	certinfo_clear(&ci);
	ct_tree_free(&t);
}

static void
test_usage_errors(void)
{
	static const struct {
		const char *name;
		const char *args[12];
		int status;
	} rows[] = {
		{ "no command", { NULL }, 2 },
		{ "unknown command", { "cert", NULL }, 2 },
		{ "help", { "--help", NULL }, 0 },
		{ "ca without --dir", { "ca", NULL }, 2 },
		{ "node without --ca", { "node", "--dir", "/tmp/x", NULL }, 2 },
		{ "bad key algorithm",
		    { "ca", "--dir", "/tmp/x", "--key-algorithm", "dsa", NULL },
		    2 },
		{ "bad duration",
		    { "ca", "--dir", "/tmp/x", "--ca-validity", "ten", NULL },
		    2 },
		{ "bad clock",
		    { "ca", "--dir", "/tmp/x", "--now", "now", NULL }, 2 },
		{ "missing CA dir",
		    { "node", "--ca", "/nonexistent", "--dir", "/tmp/x",
			"--node", "n", "--ip", "1.2.3.4" },
		    1 },
		{ "unwritable dir", { "ca", "--dir", "/proc/certroll", NULL },
		    1 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CU_ASSERT_CASE(ct_pkigen_v(rows[i].args) == rows[i].status,
		    rows[i].name);
}

static CU_TestInfo pkigen_tests[] = {
	{ "default_layout", test_default_layout },
	{ "sans_and_usages", test_sans_and_usages },
	{ "subjects", test_subjects },
	{ "options", test_options },
	{ "rsa_and_fixed_clock", test_rsa_and_fixed_clock },
	{ "usage_errors", test_usage_errors },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "pkigen", .pTests = pkigen_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
