/*
 * agent inspect: every field of every certificate against the openssl
 * CLI, the check-expiration table against a golden file and against the
 * kubeadm stand-in's own rendering, missing, external and expired rows,
 * external etcd and the kubelet's file-referenced certificate.
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
#include "kcfgcert.h"
#include "timefmt.h"
#include "xmalloc.h"

static void
inspect(const struct ct_tree *t, time_t now, struct agent_inspection *in)
{
	struct agent_inspect_opts o;

	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = t->kdir;
	o.kubelet_dir = t->kubelet;
	o.backup_dir = t->dir;
	o.kubeadm = "/nonexistent/kubeadm";
	o.now = now;
	CU_ASSERT_FATAL(agent_inspect(&o, in) == CR_OK);
}

static time_t
fixed_now(void)
{
	int64_t ms = 0;

	CU_ASSERT_FATAL(timefmt_parse_rfc3339(CT_FIXED_NOW, &ms) == CR_OK);
	return (time_t)(ms / 1000);
}

/* The PEM file openssl should read for row ci (kubeconfigs: decoded). */
static char *
pem_file(const struct ct_tree *t, const struct cert_info *ci)
{
	struct kcfgcert *kc = NULL;
	char *path, *text;

	if (strstr(ci->file, ".conf") == NULL)
		return xstrdup(ci->file);
	CU_ASSERT_FATAL(kcfgcert_load(ci->file, &kc, NULL) == CR_OK);
	path = xasprintf("%s/%s.pem", t->dir, ci->name);
	text = xstrndup((const char *)kc->cert_pem.data, kc->cert_pem.len);
	ct_write(path, text);
	free(text);
	kcfgcert_free(kc);
	return path;
}

/* "DNS:a, DNS:b, IP Address:1.2.3.4" from cert_info's lists. */
static char *
san_text(const struct cert_info *ci)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ci->dns_names.n; i++)
		buf_printf(&b, "%sDNS:%s", b.len > 0 ? ", " : "",
		    ci->dns_names.v[i]);
	for (i = 0; i < ci->ip_addresses.n; i++)
		buf_printf(&b, "%sIP Address:%s", b.len > 0 ? ", " : "",
		    strcmp(ci->ip_addresses.v[i], "::1") == 0 ?
			"0:0:0:0:0:0:0:1" :
			ci->ip_addresses.v[i]);
	return buf_detach(&b, NULL);
}

static void
check_row(const struct ct_tree *t, const struct cert_info *ci)
{
	char *pem = pem_file(t, ci), when[TIMEFMT_MAX];
	char *serial = ct_x509(pem, "-serial", NULL);
	char *subject = ct_x509(pem, "-subject", "-nameopt=oneline,-space_eq");
	char *end = ct_x509(pem, "-enddate", NULL);
	char *san = ct_x509(pem, "-ext", "subjectAltName");
	char *ours = san_text(ci);
	struct tm tm;

	CU_ASSERT_CASE(serial != NULL && strcmp(serial, ci->serial) == 0,
	    ci->name);
	CU_ASSERT_CASE(subject != NULL && strcmp(subject, ci->subject) == 0,
	    ci->name);
	gmtime_r(&ci->not_after, &tm);
	strftime(when, sizeof(when), "%b %e %H:%M:%S %Y GMT", &tm);
	CU_ASSERT_CASE(end != NULL && strcmp(end, when) == 0, ci->name);
	if (ci->dns_names.n + ci->ip_addresses.n > 0)
		CU_ASSERT_CASE(san != NULL && strstr(san, ours) != NULL &&
			strlen(strstr(san, ours)) == strlen(ours),
		    ci->name);
	else
		CU_ASSERT_CASE(san == NULL || *san == '\0', ci->name);
	free(pem);
	free(serial);
	free(subject);
	free(end);
	free(san);
	free(ours);
}

static void
test_fields_match_openssl(void)
{
	static const char *const algs[] = { "ecdsa-p256", "rsa-2048" };
	static const char *const names[] = { "ECDSA-P256", "RSA-2048" };
	struct agent_inspection in;
	struct ct_tree t;
	size_t a, i;

	for (a = 0; a < 2; a++) {
		ct_tree_make(&t, algs[a], NULL);
		inspect(&t, time(NULL), &in);
		CU_ASSERT_EQUAL(in.certs.n, 11);
		CU_ASSERT_EQUAL(in.cas.n, 3);
		for (i = 0; i < in.certs.n; i++) {
			check_row(&t, &in.certs.v[i]);
			CU_ASSERT_CASE(
			    strcmp(in.certs.v[i].key_algorithm, names[a]) == 0,
			    in.certs.v[i].name);
			CU_ASSERT_CASE(!in.certs.v[i].missing &&
				!in.certs.v[i].externally_managed,
			    in.certs.v[i].name);
		}
		for (i = 0; i < in.cas.n; i++) {
			check_row(&t, &in.cas.v[i]);
			CU_ASSERT_CASE(in.cas.v[i].is_ca, in.cas.v[i].name);
		}
		check_row(&t, &in.kubelet_client);
		CU_ASSERT_STRING_EQUAL(in.kubelet_client.subject,
		    "O=system:nodes, CN=system:node:cp1");
		agent_inspection_clear(&in);
		ct_tree_free(&t);
	}
}

/* The output with the temporary tree's path replaced by "KDIR". */
static char *
normalised(const char *text, const char *kdir)
{
	struct buf b = BUF_INIT;
	const char *p;

	while ((p = strstr(text, kdir)) != NULL) {
		buf_put(&b, text, (size_t)(p - text));
		buf_puts(&b, "KDIR");
		text = p + strlen(kdir);
	}
	buf_puts(&b, text);
	return buf_detach(&b, NULL);
}

static void
test_table_golden(void)
{
	static const char *const extra[] = { "--expires-in", "20d",
		"--no-super-admin", "--external-ca", "--now", CT_FIXED_NOW,
		NULL };
	struct agent_inspection in;
	struct buf out = BUF_INIT;
	struct ct_tree t;
	char *rm, *got, *want;

	ct_tree_make(&t, "ecdsa-p256", extra);
	rm = ct_path(t.kdir, "pki/etcd/healthcheck-client.crt");
	CU_ASSERT_EQUAL(unlink(rm), 0);
	inspect(&t, fixed_now() + 3600, &in);
	agent_inspection_table(&in, fixed_now() + 3600, &out);
	got = normalised(buf_cstr(&out), t.kdir);
	want = ct_slurp(CR_TEST_DATA "/agent/inspect-table.golden");
	CU_ASSERT_TRUE(want != NULL && strcmp(got, want) == 0);
	if (want == NULL || strcmp(got, want) != 0)
		fprintf(stderr, "got:\n%s", got);
	free(got);
	free(want);
	free(rm);
	buf_clear(&out);
	agent_inspection_clear(&in);
	ct_tree_free(&t);
}

static const char standin[] = CR_SOURCE_DIR "/tests/sim/kubeadm";

/*
 * The first two tables agree with the kubeadm stand-in's rendering. Both
 * read the real clock, moments apart: with 20d12h left both say 19d or
 * 20d alike (with exactly 20d, a tree made in the stand-in's second read
 * 20d there and 19d here a second later).
 */
static void
test_table_matches_standin(void)
{
	static const char *const extra[] = { "--expires-in", "20d12h", NULL };
	struct agent_inspection in;
	struct buf out = BUF_INIT, theirs = BUF_INIT;
	struct ct_tree t;
	const char *argv[] = { standin, "certs", "check-expiration",
		"--cert-dir", NULL, NULL };
	const char *cut;
	char *cert_dir;

	ct_tree_make(&t, "ecdsa-p256", extra);
	cert_dir = ct_path(t.kdir, "pki");
	argv[4] = cert_dir;
	CU_ASSERT_FATAL(ct_run(argv, &theirs) == 0);
	inspect(&t, time(NULL), &in);
	agent_inspection_table(&in, time(NULL), &out);
	/* Drop the stand-in's "[check-expiration] ..." fallback lines. */
	cut = strstr(buf_cstr(&theirs), "CERTIFICATE ");
	CU_ASSERT_TRUE(
	    cut != NULL && strncmp(buf_cstr(&out), cut, strlen(cut)) == 0);
	if (cut == NULL || strncmp(buf_cstr(&out), cut, strlen(cut)) != 0)
		fprintf(stderr, "stand-in:\n%s\nours:\n%s", buf_cstr(&theirs),
		    buf_cstr(&out));
	free(cert_dir);
	buf_clear(&out);
	buf_clear(&theirs);
	agent_inspection_clear(&in);
	ct_tree_free(&t);
}

static void
test_missing_external_expired(void)
{
	static const char *const extra[] = { "--expired", "--external-ca",
		"--legacy-subjects", NULL };
	struct agent_inspection in;
	const struct cert_info *ci;
	json_object *j, *certs;
	struct buf out = BUF_INIT;
	struct ct_tree t;
	int64_t residual = 0;

	ct_tree_make(&t, "ecdsa-p256", extra);
	inspect(&t, time(NULL), &in);
	ci = cert_list_find(&in.certs, "super-admin.conf");
	CU_ASSERT_TRUE(ci != NULL && ci->missing && ci->note != NULL);
	ci = cert_list_find(&in.certs, "apiserver");
	CU_ASSERT_TRUE(ci != NULL && ci->externally_managed && !ci->missing);
	ci = cert_list_find(&in.certs, "etcd-server");
	CU_ASSERT_TRUE(ci != NULL && !ci->externally_managed);
	ci = cert_list_find(&in.certs, "apiserver-etcd-client");
	CU_ASSERT_STRING_EQUAL(ci->subject,
	    "O=system:masters, CN=kube-apiserver-etcd-client");
	CU_ASSERT_TRUE(cert_list_find(&in.cas, "ca")->externally_managed);
	agent_inspection_table(&in, time(NULL), &out);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf_cstr(&out), "apiserver                  "));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&out), "<invalid>"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf_cstr(&out), "!MISSING! super-admin.conf"));
	j = agent_inspection_to_json(&in, "cp1", time(NULL));
	certs = jv_arr(j, "certificates");
	CU_ASSERT_EQUAL(json_object_array_length(certs), 11);
	CU_ASSERT_TRUE(jv_int(json_object_array_get_idx(certs, 1),
	    "residual_seconds", &residual));
	CU_ASSERT_TRUE(residual < -86000);
	CU_ASSERT_TRUE(
	    jv_bool(json_object_array_get_idx(certs, 10), "missing"));
	CU_ASSERT_PTR_NOT_NULL(jv_obj(j, "kubelet_client"));
	CU_ASSERT_PTR_NOT_NULL(jv_str(j, "facts.etcd"));
	CU_ASSERT_STRING_EQUAL(jv_str(j, "node"), "cp1");
	json_object_put(j);
	buf_clear(&out);
	agent_inspection_clear(&in);
	ct_tree_free(&t);
}

static void
test_external_etcd(void)
{
	static const char *const extra[] = { "--external-etcd", NULL };
	struct agent_inspection in;
	struct ct_tree t;
	char *manifest;

	ct_tree_make(&t, "ecdsa-p256", extra);
	manifest = ct_path(t.kdir, "manifests/kube-apiserver.yaml");
	ct_write(manifest,
	    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n"
	    "spec:\n  containers:\n  - name: kube-apiserver\n    command:\n"
	    "    - kube-apiserver\n"
	    "    - --etcd-servers=https://10.0.0.50:2379,https://10.0.0.51:2379"
	    "\n");
	inspect(&t, time(NULL), &in);
	CU_ASSERT_TRUE(in.facts.etcd_external);
	CU_ASSERT_EQUAL(in.certs.n, 7);
	CU_ASSERT_EQUAL(in.cas.n, 2);
	CU_ASSERT_PTR_NULL(cert_list_find(&in.certs, "etcd-server"));
	CU_ASSERT_PTR_NULL(cert_list_find(&in.certs, "apiserver-etcd-client"));
	CU_ASSERT_PTR_NULL(cert_list_find(&in.cas, "etcd-ca"));
	agent_inspection_clear(&in);
	free(manifest);
	ct_tree_free(&t);
}

static void
test_kubelet_file_reference(void)
{
	static const char *const extra[] = { "--kubelet-dir", "KUBELET", NULL };
	struct agent_inspection in;
	struct ct_tree t;
	char *conf, *text, *moved, *p;

	ct_tree_make(&t, "ecdsa-p256", extra);
	inspect(&t, time(NULL), &in);
	CU_ASSERT_FALSE(in.kubelet_client.missing);
	CU_ASSERT_PTR_NOT_NULL(strstr(in.kubelet_client.file,
	    "/kubelet/pki/kubelet-client-current.pem"));
	agent_inspection_clear(&in);
	/* As on a node: kubelet.conf names /var/lib/kubelet/pki/... */
	conf = ct_path(t.kdir, "kubelet.conf");
	text = ct_slurp(conf);
	while ((p = strstr(text, t.kubelet)) != NULL) {
		moved = xasprintf("%.*s/var/lib/kubelet%s", (int)(p - text),
		    text, p + strlen(t.kubelet));
		free(text);
		text = moved;
	}
	ct_write(conf, text);
	inspect(&t, time(NULL), &in);
	CU_ASSERT_FALSE(in.kubelet_client.missing);
	CU_ASSERT_PTR_NOT_NULL(strstr(in.kubelet_client.file, t.kubelet));
	agent_inspection_clear(&in);
	free(text);
	free(conf);
	ct_tree_free(&t);
}

static void
test_not_a_node(void)
{
	struct agent_inspect_opts o;
	struct agent_inspection in;

	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = "/nonexistent/kubernetes";
	CU_ASSERT_EQUAL(agent_inspect(&o, &in), CR_ERR_NOTFOUND);
	agent_inspection_clear(&in);
}

static CU_TestInfo inspect_tests[] = {
	{ "fields_match_openssl", test_fields_match_openssl },
	{ "table_golden", test_table_golden },
	{ "table_matches_standin", test_table_matches_standin },
	{ "missing_external_expired", test_missing_external_expired },
	{ "external_etcd", test_external_etcd },
	{ "kubelet_file_reference", test_kubelet_file_reference },
	{ "not_a_node", test_not_a_node },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "agent_inspect", .pTests = inspect_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
