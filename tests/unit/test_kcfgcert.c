/*
 * common/kcfgcert: a kubeconfig's current credential, embedded or by file
 * reference, every malformed form refused with its position, and the
 * replacement that leaves every other entry as it was.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "certtest.h"
#include "cu_run.h"
#include "fileio.h"
#include "kcfgcert.h"
#include "xmalloc.h"

/* A CA dir (ECDSA, fast) and one node's tree made by certroll-pkigen. */
static char *
make_node(const char *extra)
{
	char *dir = xstrdup(ct_tmpdir());
	char *ca = ct_path(dir, "ca"), *kdir = ct_path(dir, "kubernetes");
	char *kubelet = ct_path(dir, "kubelet");

	CU_ASSERT_FATAL(
	    CT_PKIGEN("ca", "--dir", ca, "--key-algorithm", "ecdsa-p256") == 0);
	/* A NULL extra ends the argument list early. */
	CU_ASSERT_FATAL(CT_PKIGEN("node", "--ca", ca, "--dir", kdir, "--node",
			    "cp1", "--ip", "10.0.0.1", extra, kubelet) == 0);
	free(ca);
	free(kubelet);
	free(dir);
	return kdir;
}

static void
test_embedded(void)
{
	char *kdir = make_node(NULL);
	char *path = ct_path(kdir, "admin.conf");
	struct kcfgcert *kc = NULL;
	struct ydoc_diag diag;
	struct cert_info ci;
	X509 *x = NULL, *ca = NULL;
	EVP_PKEY *key = NULL;
	char why[128];

	CU_ASSERT_FATAL(kcfgcert_load(path, &kc, &diag) == CR_OK);
	CU_ASSERT_STRING_EQUAL(kc->context, "kubernetes-admin@kubernetes");
	CU_ASSERT_STRING_EQUAL(kc->user, "kubernetes-admin");
	CU_ASSERT_STRING_EQUAL(kc->cluster, "kubernetes");
	CU_ASSERT_STRING_EQUAL(kc->server, "https://10.0.0.1:6443");
	CU_ASSERT_TRUE(kcfgcert_embedded(kc));
	CU_ASSERT_PTR_NULL(kc->cert_file);
	CU_ASSERT_FATAL(
	    cert_parse(kc->cert_pem.data, kc->cert_pem.len, &x) == CR_OK);
	CU_ASSERT_FATAL(
	    cert_key_parse(kc->key_pem.data, kc->key_pem.len, &key) == CR_OK);
	CU_ASSERT_FATAL(
	    cert_parse(kc->ca_pem.data, kc->ca_pem.len, &ca) == CR_OK);
	CU_ASSERT_TRUE(cert_key_matches(x, key));
	CU_ASSERT_EQUAL(cert_verify(x, ca, time(NULL), why, sizeof(why)),
	    CR_OK);
	memset(&ci, 0, sizeof(ci));
	CU_ASSERT_FATAL(cert_info_fill(x, &ci) == CR_OK);
	CU_ASSERT_STRING_EQUAL(ci.subject,
	    "O=kubeadm:cluster-admins, CN=kubernetes-admin");
	certinfo_clear(&ci);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	kcfgcert_free(kc);
	kcfgcert_free(NULL);
	free(path);
	free(kdir);
}

static void
test_file_references(void)
{
	char *kdir = make_node("--kubelet-dir");
	char *kubelet = ct_path(kdir, "kubelet.conf");
	struct kcfgcert *kc = NULL;
	struct ydoc_diag diag;
	X509 *x = NULL;
	EVP_PKEY *key = NULL;

	CU_ASSERT_FATAL(kcfgcert_load(kubelet, &kc, &diag) == CR_OK);
	CU_ASSERT_FALSE(kcfgcert_embedded(kc));
	CU_ASSERT_TRUE(kc->cert_file != NULL &&
	    strstr(kc->cert_file, "/kubelet/pki/kubelet-client-current.pem") !=
		NULL);
	CU_ASSERT_FATAL(
	    cert_parse(kc->cert_pem.data, kc->cert_pem.len, &x) == CR_OK);
	CU_ASSERT_FATAL(
	    cert_key_parse(kc->key_pem.data, kc->key_pem.len, &key) == CR_OK);
	CU_ASSERT_TRUE(cert_key_matches(x, key));
	X509_free(x);
	EVP_PKEY_free(key);
	kcfgcert_free(kc);
	free(kubelet);
	free(kdir);
}

/* A PEM file holding a certificate and its key, for the rows below. */
static char *
cert_and_key(void)
{
	char *kdir = make_node("--kubelet-dir");
	char *kubelet = ct_path(kdir, "kubelet.conf");
	struct kcfgcert *kc = NULL;
	char *text;

	CU_ASSERT_FATAL(kcfgcert_load(kubelet, &kc, NULL) == CR_OK);
	text = ct_slurp(kc->cert_file);
	kcfgcert_free(kc);
	free(kubelet);
	free(kdir);
	return text;
}

static void
test_relative_reference(void)
{
	const char *dir = ct_tmpdir();
	char *conf = ct_path(dir, "etc/rel.conf");
	char *pem = ct_path(dir, "etc/certs/client.pem");
	char *text = cert_and_key();
	struct kcfgcert *kc = NULL;

	ct_write(pem, text);
	ct_write(conf,
	    "apiVersion: v1\nclusters:\n- name: c\n  cluster:\n"
	    "    server: https://h:6443\n"
	    "    certificate-authority: certs/client.pem\n"
	    "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
	    "current-context: x\nusers:\n- name: u\n  user:\n"
	    "    client-certificate: certs/client.pem\n"
	    "    client-key: certs/client.pem\n");
	CU_ASSERT_FATAL(kcfgcert_load(conf, &kc, NULL) == CR_OK);
	CU_ASSERT_TRUE(kc->ca_pem.len > 0);
	CU_ASSERT_STRING_EQUAL(kc->cert_file, pem);
	CU_ASSERT_STRING_EQUAL(kc->ca_file, pem);
	kcfgcert_free(kc);
	free(text);
	free(pem);
	free(conf);
}

static void
test_remapped_reference(void)
{
	const char *dir = ct_tmpdir();
	char *conf = ct_path(dir, "kubelet.conf");
	char *moved = ct_path(dir, "elsewhere");
	char *target = ct_path(moved, "pki/c.pem");
	char *text = cert_and_key();
	struct kcfgcert_remap remap = { "/var/lib/kubelet", moved };
	struct kcfgcert *kc = NULL;

	ct_write(target, text);
	ct_write(conf,
	    "current-context: x\nclusters:\n- name: c\n  cluster: "
	    "{server: s}\ncontexts:\n- name: x\n  context: "
	    "{cluster: c, user: u}\nusers:\n- name: u\n  user:\n"
	    "    client-certificate: /var/lib/kubelet/pki/c.pem\n"
	    "    client-key: /var/lib/kubelet/pki/c.pem\n");
	CU_ASSERT_FATAL(kcfgcert_load_remap(conf, &remap, &kc, NULL) == CR_OK);
	CU_ASSERT_STRING_EQUAL(kc->cert_file, target);
	kcfgcert_free(kc);
	/* Without the remap the same file is looked for where it says. */
	CU_ASSERT_EQUAL(kcfgcert_load(conf, &kc, NULL),
	    file_exists("/var/lib/kubelet/pki/c.pem") ? CR_OK :
							CR_ERR_NOTFOUND);
	kcfgcert_free(kc);
	free(text);
	free(target);
	free(moved);
	free(conf);
}

static const struct {
	const char *name, *yaml;
	enum cr_err err;
	unsigned line;
	const char *msg;
} malformed_rows[] = {
	{ "not yaml", "a: [1, 2\n", CR_ERR_CONFIG, 2, NULL },
	{ "scalar root", "hello\n", CR_ERR_CONFIG, 1,
	    "not a kubeconfig mapping" },
	{ "no current-context", "kind: Config\n", CR_ERR_CONFIG, 1,
	    "no current-context" },
	{ "empty current-context", "current-context: ''\n", CR_ERR_CONFIG, 1,
	    "no current-context" },
	{ "context undefined",
	    "current-context: x\ncontexts:\n- name: y\n  context: "
	    "{user: u, cluster: c}\n",
	    CR_ERR_CONFIG, 1,
	    "current-context 'x' is not defined in contexts" },
	{ "context without user",
	    "current-context: x\ncontexts:\n- name: x\n  context:\n"
	    "    cluster: c\n",
	    CR_ERR_CONFIG, 5, "context 'x' names no user or cluster" },
	{ "user undefined",
	    "current-context: x\ncontexts:\n- name: x\n  context:\n"
	    "    {user: u, cluster: c}\nclusters:\n- name: c\n"
	    "  cluster: {server: s}\n",
	    CR_ERR_CONFIG, 5, "context 'x' names user 'u', not defined" },
	{ "no client certificate",
	    "current-context: x\ncontexts:\n- name: x\n  context: "
	    "{user: u, cluster: c}\nclusters:\n- name: c\n  cluster: "
	    "{server: s}\nusers:\n- name: u\n  user:\n    token: t\n",
	    CR_ERR_CONFIG, 11,
	    "no client-certificate-data or client-certificate" },
	{ "bad base64",
	    "current-context: x\ncontexts:\n- name: x\n  context: "
	    "{user: u, cluster: c}\nclusters:\n- name: c\n  cluster: "
	    "{server: s}\nusers:\n- name: u\n  user:\n"
	    "    client-certificate-data: abc\n",
	    CR_ERR_CONFIG, 11,
	    "client-certificate-data is not valid "
	    "base64" },
	{ "bad base64 characters",
	    "current-context: x\ncontexts:\n- name: x\n  context: "
	    "{user: u, cluster: c}\nclusters:\n- name: c\n  cluster: "
	    "{server: s}\nusers:\n- name: u\n  user:\n"
	    "    client-certificate-data: ab*d\n",
	    CR_ERR_CONFIG, 11,
	    "client-certificate-data is not valid "
	    "base64" },
	{ "key missing",
	    "current-context: x\ncontexts:\n- name: x\n  context: "
	    "{user: u, cluster: c}\nclusters:\n- name: c\n  cluster: "
	    "{server: s}\nusers:\n- name: u\n  user:\n"
	    "    client-certificate-data: YWJj\n",
	    CR_ERR_CONFIG, 11, "no client-key-data or client-key" },
	{ "referenced file absent",
	    "current-context: x\ncontexts:\n- name: x\n  context: "
	    "{user: u, cluster: c}\nclusters:\n- name: c\n  cluster: "
	    "{server: s}\nusers:\n- name: u\n  user:\n"
	    "    client-certificate: nothere.pem\n",
	    CR_ERR_NOTFOUND, 11, NULL },
};

static void
test_rejects_malformed(void)
{
	const char *dir = ct_tmpdir();
	char *path = ct_path(dir, "k.conf");
	struct kcfgcert *kc;
	struct ydoc_diag diag;
	size_t i;

	for (i = 0; i < sizeof(malformed_rows) / sizeof(malformed_rows[0]);
	     i++) {
		ct_write(path, malformed_rows[i].yaml);
		memset(&diag, 0, sizeof(diag));
		CU_ASSERT_CASE(kcfgcert_load(path, &kc, &diag) ==
			malformed_rows[i].err,
		    malformed_rows[i].name);
		CU_ASSERT_CASE(kc == NULL, malformed_rows[i].name);
		CU_ASSERT_CASE(diag.line == malformed_rows[i].line,
		    malformed_rows[i].name);
		if (malformed_rows[i].msg != NULL)
			CU_ASSERT_CASE(
			    strcmp(diag.msg, malformed_rows[i].msg) == 0,
			    malformed_rows[i].name);
		else
			CU_ASSERT_CASE(diag.msg[0] != '\0',
			    malformed_rows[i].name);
	}
	CU_ASSERT_EQUAL(kcfgcert_load("/nonexistent.conf", &kc, NULL),
	    CR_ERR_SYS);
	free(path);
}

static size_t
count_temp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".certroll-") != NULL;
	if (d != NULL)
		closedir(d);
	return n;
}

static void
test_replace_keeps_the_rest(void)
{
	static const char *const creds[] = { "client-certificate-data",
		"client-key-data", "certificate-authority-data", NULL };
	static const char *const none[] = { NULL };
	char *kdir = make_node(NULL);
	char *path = ct_path(kdir, "scheduler.conf");
	char *other = ct_path(kdir, "admin.conf");
	struct kcfgcert *kc = NULL, *src = NULL, *back = NULL;
	struct kcfgcert_creds c;
	struct ydoc *before, *after;

	/* Extra entries a real file may carry must survive the rewrite. */
	{
		char *text = ct_slurp(path);
		char *more = xasprintf("%sextensions:\n- name: x\n  extension: "
				       "{a: \"1\", b: [p, q]}\n",
		    text);

		ct_write(path, more);
		free(more);
		free(text);
	}
	CU_ASSERT_EQUAL(chmod(path, 0640), 0);
	before = ct_parse_yaml(path);
	CU_ASSERT_FATAL(kcfgcert_load(path, &kc, NULL) == CR_OK);
	CU_ASSERT_FATAL(kcfgcert_load(other, &src, NULL) == CR_OK);
	c.cert = &src->cert_pem;
	c.key = &src->key_pem;
	c.ca = &src->ca_pem;
	CU_ASSERT_EQUAL(kcfgcert_replace(kc, &c), CR_OK);
	after = ct_parse_yaml(path);
	CU_ASSERT_TRUE(
	    ct_same_tree(ydoc_root(before, 0), ydoc_root(after, 0), creds));
	CU_ASSERT_FALSE(
	    ct_same_tree(ydoc_root(before, 0), ydoc_root(after, 0), none));
	CU_ASSERT_EQUAL(ct_mode(path), 0640);
	CU_ASSERT_EQUAL(count_temp_files(kdir), 0);
	CU_ASSERT_FATAL(kcfgcert_load(path, &back, NULL) == CR_OK);
	CU_ASSERT_EQUAL(back->cert_pem.len, src->cert_pem.len);
	CU_ASSERT_EQUAL(
	    memcmp(back->cert_pem.data, src->cert_pem.data, src->cert_pem.len),
	    0);
	CU_ASSERT_EQUAL(
	    memcmp(back->key_pem.data, src->key_pem.data, src->key_pem.len), 0);
	CU_ASSERT_EQUAL(
	    memcmp(kc->cert_pem.data, src->cert_pem.data, src->cert_pem.len),
	    0);
	ydoc_free(before);
	ydoc_free(after);
	kcfgcert_free(kc);
	kcfgcert_free(src);
	kcfgcert_free(back);
	free(path);
	free(other);
	free(kdir);
}

static void
test_replace_refuses_file_references(void)
{
	char *kdir = make_node("--kubelet-dir");
	char *path = ct_path(kdir, "kubelet.conf");
	char *before = ct_slurp(path), *after;
	struct kcfgcert *kc = NULL;
	struct kcfgcert_creds c;

	CU_ASSERT_FATAL(kcfgcert_load(path, &kc, NULL) == CR_OK);
	c.cert = &kc->cert_pem;
	c.key = &kc->key_pem;
	c.ca = NULL;
	CU_ASSERT_EQUAL(kcfgcert_replace(kc, &c), CR_ERR_STATE);
	after = ct_slurp(path);
	CU_ASSERT_STRING_EQUAL(before, after);
	kcfgcert_free(kc);
	free(before);
	free(after);
	free(path);
	free(kdir);
}

static CU_TestInfo kcfgcert_tests[] = {
	{ "embedded", test_embedded },
	{ "file_references", test_file_references },
	{ "relative_reference", test_relative_reference },
	{ "remapped_reference", test_remapped_reference },
	{ "rejects_malformed", test_rejects_malformed },
	{ "replace_keeps_the_rest", test_replace_keeps_the_rest },
	{ "replace_refuses_file_references",
	    test_replace_refuses_file_references },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "kcfgcert", .pTests = kcfgcert_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
