/*
 * certroll kubeconfig refresh (orchestrator/kcrefresh.c): which
 * credentials are refused and why, the checks against a node's admin.conf
 * (other CA, older or the same certificate, broken chain or key, identity
 * change), and the write: a 0600 backup, the mode kept, and every entry
 * of the file but the replaced fields as it was. Certificates come from
 * certroll-pkigen; the result is read back with the openssl CLI and the
 * real kubectl.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cert.h"
#include "certtest.h"
#include "cu_run.h"
#include "fileio.h"
#include "kcfgcert.h"
#include "kcrefresh.h"
#include "kubecfg.h"
#include "xmalloc.h"
#include "ydoc.h"

/* 2026-11-28T13:00:00Z; the pkigen trees are made around the real clock. */
#define FIXED_NOW ((time_t)1795870800)

/* PEM material of one credential. */
struct cred {
	struct buf cert;
	struct buf key;
	struct buf ca;
};

static struct {
	char *dir;
	char *ca_a, *ca_b;        /* two clusters' CAs */
	struct cred a365;         /* cluster A's renewed admin.conf */
	struct cred b365;         /* cluster B's */
	struct cred a20;          /* cluster A, expires in 20 days */
	struct cred a400;         /* cluster A, outlives a365 */
	struct cred aexp;         /* cluster A, expired a day ago */
	struct cred alegacy;      /* O=system:masters, CN=kubernetes-admin */
	struct cred alice;        /* O=dev, CN=alice, signed by A */
	struct buf ca_a_reissued; /* A's CA re-issued with the same key */
	char *admin_a365;         /* the path of a365's admin.conf */
} fx;

/* For the suite's set-up, where CUnit assertions cannot be used. */
#define NEED(x)                                                                \
	do {                                                                   \
		if (!(x)) {                                                    \
			fprintf(stderr, "%s:%d: set-up failed: %s\n",          \
			    __FILE__, __LINE__, #x);                           \
			exit(2);                                               \
		}                                                              \
	} while (0)

static void
cred_clear(struct cred *c)
{
	buf_clear(&c->cert);
	buf_clear_secret(&c->key);
	buf_clear(&c->ca);
}

static void
copy_buf(struct buf *dst, const struct buf *src)
{
	buf_put(dst, src->data, src->len);
}

/*
 * A node tree of CA dir ca, with up to three more pkigen options (a NULL
 * ends them); its admin.conf's credential into *c. No key pool: every
 * key must be its own.
 */
static void
tree(const char *ca, const char *name, const char *const opts[3],
    struct cred *c)
{
	char *kdir = ct_path(fx.dir, name), *conf;
	struct kcfgcert *kc = NULL;

	NEED(CT_PKIGEN("node", "--ca", ca, "--dir", kdir, "--node", "cp1",
		 "--ip", "10.0.0.1", opts[0], opts[1], opts[2]) == 0);
	conf = ct_path(kdir, "admin.conf");
	NEED(kcfgcert_load(conf, &kc, NULL) == CR_OK);
	copy_buf(&c->cert, &kc->cert_pem);
	copy_buf(&c->key, &kc->key_pem);
	copy_buf(&c->ca, &kc->ca_pem);
	kcfgcert_free(kc);
	if (strcmp(name, "a365") == 0)
		fx.admin_a365 = conf;
	else
		free(conf);
	free(kdir);
}

/* Cluster A's CA and key, loaded from its CA dir. */
static void
load_ca(X509 **ca, EVP_PKEY **key)
{
	char *crt = ct_path(fx.ca_a, "pki/ca.crt");
	char *k = ct_path(fx.ca_a, "pki/ca.key");

	NEED(cert_load(crt, ca) == CR_OK);
	NEED(cert_key_load(k, key) == CR_OK);
	free(crt);
	free(k);
}

/* A named user, "O=dev, CN=alice", signed by cluster A's CA. */
static void
make_alice(void)
{
	struct strv orgs = { NULL, 0 }, ekus = { NULL, 0 };
	EVP_PKEY *cakey = NULL, *key = NULL;
	X509 *ca = NULL, *x = NULL;
	X509_NAME *name;
	struct cert_tmpl t;

	load_ca(&ca, &cakey);
	strv_push(&orgs, "dev");
	strv_push(&ekus, "clientAuth");
	memset(&t, 0, sizeof(t));
	t.subject = name = cert_name_new("alice", &orgs);
	t.ext_key_usages = &ekus;
	t.not_before = time(NULL) - 3600;
	t.not_after = time(NULL) + (time_t)20 * 86400;
	NEED(cert_key_new(CERT_KEY_ECDSA_P256, &key) == CR_OK);
	NEED(cert_issue(&t, key, ca, cakey, &x) == CR_OK);
	NEED(cert_to_pem(x, &fx.alice.cert) == CR_OK);
	NEED(cert_key_to_pem(key, &fx.alice.key) == CR_OK);
	copy_buf(&fx.alice.ca, &fx.a365.ca);
	X509_NAME_free(name);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
	strv_clear(&orgs);
	strv_clear(&ekus);
}

/* Cluster A's CA again: same subject and key, new serial and dates. */
static void
reissue_ca(void)
{
	struct strv dns = { NULL, 0 };
	EVP_PKEY *cakey = NULL;
	X509 *ca = NULL, *x = NULL;
	struct cert_tmpl t;

	load_ca(&ca, &cakey);
	strv_push(&dns, "kubernetes");
	memset(&t, 0, sizeof(t));
	t.subject = X509_get_subject_name(ca);
	t.dns_names = &dns;
	t.is_ca = true;
	t.not_before = time(NULL) - 3600;
	t.not_after = time(NULL) + (time_t)3650 * 86400;
	NEED(cert_issue(&t, cakey, NULL, cakey, &x) == CR_OK);
	NEED(cert_to_pem(x, &fx.ca_a_reissued) == CR_OK);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	strv_clear(&dns);
}

static int
suite_init(void)
{
	static const char *const plain[3] = { NULL, NULL, NULL };
	static const char *const in20d[3] = { "--expires-in", "20d", NULL };
	static const char *const in400d[3] = { "--expires-in", "400d", NULL };
	static const char *const expired[3] = { "--expired", NULL, NULL };
	static const char *const legacy[3] = { "--legacy-subjects",
		"--expires-in", "20d" };

	if (fx.dir != NULL) /* made for an earlier suite */
		return 0;
	fx.dir = xstrdup(ct_tmpdir());
	fx.ca_a = ct_path(fx.dir, "ca-a");
	fx.ca_b = ct_path(fx.dir, "ca-b");
	if (CT_PKIGEN("ca", "--dir", fx.ca_a, "--key-algorithm",
		"ecdsa-p256") != 0 ||
	    CT_PKIGEN("ca", "--dir", fx.ca_b, "--key-algorithm",
		"ecdsa-p256") != 0)
		return 1;

	tree(fx.ca_a, "a365", plain, &fx.a365);
	tree(fx.ca_b, "b365", plain, &fx.b365);
	tree(fx.ca_a, "a20", in20d, &fx.a20);
	tree(fx.ca_a, "a400", in400d, &fx.a400);
	tree(fx.ca_a, "aexp", expired, &fx.aexp);
	tree(fx.ca_a, "alegacy", legacy, &fx.alegacy);
	make_alice();
	reissue_ca();
	return 0;
}

static int
suite_clean(void)
{
	struct cred *all[] = { &fx.a365, &fx.b365, &fx.a20, &fx.a400, &fx.aexp,
		&fx.alegacy, &fx.alice };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cred_clear(all[i]);
	buf_clear(&fx.ca_a_reissued);
	free(fx.admin_a365);
	free(fx.ca_a);
	free(fx.ca_b);
	free(fx.dir);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

/* --- Writing kubeconfigs ---------------------------------------------- */

static char *
b64(const struct buf *b)
{
	char *s = xmalloc(4 * ((b->len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, b->data, (int)b->len);
	return s;
}

/* admin.conf as kubeadm writes it, from three pieces (any may be NULL). */
static char *
admin_conf(const struct buf *ca, const struct buf *cert, const struct buf *key)
{
	char *c = ca != NULL ? b64(ca) : NULL, *crt = b64(cert), *k = b64(key);
	char *text = xasprintf("apiVersion: v1\n"
			       "clusters:\n"
			       "- cluster:\n"
			       "%s%s%s"
			       "    server: https://127.0.0.1:1\n"
			       "  name: kubernetes\n"
			       "contexts:\n"
			       "- context:\n"
			       "    cluster: kubernetes\n"
			       "    user: kubernetes-admin\n"
			       "  name: kubernetes-admin@kubernetes\n"
			       "current-context: kubernetes-admin@kubernetes\n"
			       "kind: Config\n"
			       "users:\n"
			       "- name: kubernetes-admin\n"
			       "  user:\n"
			       "    client-certificate-data: %s\n"
			       "    client-key-data: %s\n",
	    c != NULL ? "    certificate-authority-data: " : "",
	    c != NULL ? c : "", c != NULL ? "\n" : "", crt, k);

	free(c);
	free(crt);
	freezero_str(k);
	return text;
}

/*
 * The servers are closed loopback ports: some kubectl builds (the gcloud
 * dispatcher) ask the server for its version even for 'config view', and
 * nothing may leave this machine.
 *
 * The workstation's kubeconfig: several clusters, users and contexts,
 * preferences and extensions, the user "admin" of context "prod-admin"
 * holding cur. ca NULL: cluster prod skips TLS verification instead.
 */
static char *
workstation(const char *name, const struct buf *ca, const struct cred *cur,
    int mode)
{
	char *path = ct_path(fx.dir, name), *c = ca != NULL ? b64(ca) : NULL;
	char *crt = b64(&cur->cert), *k = b64(&cur->key);
	char *dev = b64(&fx.b365.cert), *devk = b64(&fx.b365.key), *text;
	char *old_crt = ct_path(fx.dir, "files.crt");
	char *old_key = ct_path(fx.dir, "files.key");

	text = xasprintf(
	    "apiVersion: v1\nkind: Config\n"
	    "preferences:\n  colors: true\n"
	    "clusters:\n"
	    "- name: prod\n  cluster:\n    server: https://127.0.0.1:1\n"
	    "%s%s\n"
	    "    extensions:\n    - name: certroll.test/marker\n"
	    "      extension: {purpose: 'kept as is', n: 3}\n"
	    "- name: other\n  cluster:\n    server: https://127.0.0.2:1\n"
	    "    certificate-authority-data: %s\n"
	    "users:\n"
	    "- name: admin\n  user:\n    client-certificate-data: %s\n"
	    "    client-key-data: %s\n"
	    "- name: dev\n  user:\n    client-certificate-data: %s\n"
	    "    client-key-data: %s\n"
	    "- name: tok\n  user:\n    token: not-a-real-token\n"
	    "- name: plugin\n  user:\n    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: /bin/true\n      interactiveMode: Never\n"
	    "- name: files\n  user:\n    client-certificate: %s\n"
	    "    client-key: %s\n"
	    "- name: nobody\n  user: {}\n"
	    "contexts:\n"
	    "- name: prod-admin\n  context: {cluster: prod, user: admin, "
	    "namespace: kube-system}\n"
	    "- name: prod-dev\n  context: {cluster: other, user: dev}\n"
	    "- name: tok\n  context: {cluster: prod, user: tok}\n"
	    "- name: plugin\n  context: {cluster: prod, user: plugin}\n"
	    "- name: files\n  context: {cluster: prod, user: files}\n"
	    "- name: nobody\n  context: {cluster: prod, user: nobody}\n"
	    "current-context: prod-admin\n",
	    c != NULL ? "    certificate-authority-data: " :
			"    insecure-skip-tls-verify: true",
	    c != NULL ? c : "", dev, crt, k, dev, devk, old_crt, old_key);
	ct_write(path, text);
	CU_ASSERT_FATAL(chmod(path, (mode_t)mode) == 0);
	ct_write(old_crt, (const char *)fx.a20.cert.data);
	ct_write(old_key, (const char *)fx.a20.key.data);
	freezero_str(text);
	free(c);
	free(crt);
	freezero_str(k);
	free(dev);
	freezero_str(devk);
	free(old_crt);
	free(old_key);
	return path;
}

/* kubecfg_load() as the command does it, for file and context. */
static struct kubecfg *
load_cfg(const char *file, const char *context)
{
	struct kubecfg_opts o = { file, context };
	struct kubecfg *cfg = NULL;
	struct kubecfg_diag diag;

	if (kubecfg_load(&o, &cfg, &diag) != CR_OK)
		fprintf(stderr, "kubecfg_load: %s\n", diag.msg);
	CU_ASSERT_FATAL(cfg != NULL);
	return cfg;
}

/* --- The current credential -------------------------------------------- */

static void
test_current_kinds(void)
{
	static const struct {
		const char *context;
		enum cr_err err;
		const char *why; /* in the message; NULL for success */
		const char *user;
	} rows[] = {
		{ "prod-admin", CR_OK, NULL, "admin" },
		{ NULL, CR_OK, NULL, "admin" },
		/* Another context's user, not current-context's. */
		{ "prod-dev", CR_OK, NULL, "dev" },
		{ "tok", CR_ERR_STATE, "bearer token", NULL },
		{ "plugin", CR_ERR_STATE, "exec plugin", NULL },
		{ "files", CR_ERR_STATE, "--embed-certs", NULL },
		{ "nobody", CR_ERR_STATE, "has no client certificate", NULL },
	};
	char *path = workstation("kinds.conf", &fx.a365.ca, &fx.a20, 0600);
	struct kcfgcert *kc;
	struct kubecfg *cfg;
	char why[2048];
	enum cr_err err;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *name = rows[i].context != NULL ? rows[i].context :
							     "current-context";

		cfg = load_cfg(path, rows[i].context);
		why[0] = '\0';
		kc = NULL;
		err = kcrefresh_load_current(cfg, &kc, why, sizeof(why));
		CU_ASSERT_CASE(err == rows[i].err, name);
		if (rows[i].why != NULL)
			CU_ASSERT_CASE(strstr(why, rows[i].why) != NULL, name);
		if (rows[i].user != NULL) {
			CU_ASSERT_CASE(kc != NULL &&
				strcmp(kc->user, rows[i].user) == 0 &&
				kcfgcert_embedded(kc),
			    name);
		} else {
			CU_ASSERT_CASE(kc == NULL, name);
		}
		kcfgcert_free(kc);
		kubecfg_free(cfg);
	}
	free(path);
}

static void
test_current_symlink(void)
{
	char *path = workstation("real.conf", &fx.a365.ca, &fx.a20, 0600);
	char *link = ct_path(fx.dir, "link.conf");
	struct kcfgcert *kc = NULL;
	struct kubecfg *cfg;
	char why[1024];

	CU_ASSERT_FATAL(symlink(path, link) == 0);
	cfg = load_cfg(link, NULL);
	CU_ASSERT_FATAL(
	    kcrefresh_load_current(cfg, &kc, why, sizeof(why)) == CR_OK);
	/* The link's target is what gets rewritten; the link stays one. */
	CU_ASSERT_STRING_EQUAL(kc->path, path);
	kcfgcert_free(kc);
	kubecfg_free(cfg);
	unlink(link);
	free(link);
	free(path);
}

/* --- admin.conf from a node -------------------------------------------- */

static void
test_parse_admin(void)
{
	char *text = admin_conf(&fx.a365.ca, &fx.a365.cert, &fx.a365.key);
	char *file_ref = xasprintf("%s    client-certificate: /nonexistent\n",
	    text);
	char *ca_ref;
	struct kcfgcert *kc = NULL;
	char why[512], *p;

	CU_ASSERT_FATAL(kcrefresh_parse_admin(text, strlen(text), &kc, why,
			    sizeof(why)) == CR_OK);
	CU_ASSERT_TRUE(kcfgcert_embedded(kc));
	CU_ASSERT_STRING_EQUAL(kc->user, "kubernetes-admin");
	CU_ASSERT_EQUAL(kc->cert_pem.len, fx.a365.cert.len);
	CU_ASSERT_EQUAL(kc->ca_pem.len, fx.a365.ca.len);
	kcfgcert_free(kc);
	/* A file named in a fetched file is never read here. */
	CU_ASSERT_EQUAL(kcrefresh_parse_admin(file_ref, strlen(file_ref), &kc,
			    why, sizeof(why)),
	    CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(why, "'client-certificate' names a file"));
	CU_ASSERT_PTR_NULL(kc);
	/* The CA as a file reference instead of data. */
	p = strstr(text, "certificate-authority-data:");
	ca_ref = xasprintf("%.*scertificate-authority:%s", (int)(p - text),
	    text, p + strlen("certificate-authority-data:"));
	CU_ASSERT_EQUAL(kcrefresh_parse_admin(ca_ref, strlen(ca_ref), &kc, why,
			    sizeof(why)),
	    CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "names a file"));
	CU_ASSERT_EQUAL(kcrefresh_parse_admin("{ [", 3, &kc, why, sizeof(why)),
	    CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(
	    kcrefresh_parse_admin("kind: Config\n", 13, &kc, why, sizeof(why)),
	    CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "current-context"));
	free(text);
	free(file_ref);
	free(ca_ref);
}

/* --- The checks -------------------------------------------------------- */

enum kca {
	KCA_A = 0,    /* the kubeconfig trusts cluster A's CA */
	KCA_NONE,     /* insecure-skip-tls-verify, no CA */
	KCA_BUNDLE,   /* B's CA, then A's */
	KCA_REISSUED, /* A's CA re-issued with the same key */
};

enum fresh {
	FRESH_A = 0,       /* A's renewed admin.conf */
	FRESH_B,           /* B's */
	FRESH_WRONG_CHAIN, /* B's certificate and key under A's CA */
	FRESH_OTHER_KEY,   /* A's certificate with B's key */
	FRESH_NO_CA,       /* no certificate-authority-data */
};

struct check_row { /* NOLINT(clang-analyzer-optin.performance.Padding) */
	const char *name;
	const struct cred *cur;
	enum kca kca;
	enum fresh fresh;
	bool accept_identity;
	enum cr_err err;
	const char *why; /* in the message when refused */
	bool identity_changed, ca_replaced;
};

static char *
fresh_text(enum fresh f)
{
	switch (f) {
	case FRESH_B:
		return admin_conf(&fx.b365.ca, &fx.b365.cert, &fx.b365.key);
	case FRESH_WRONG_CHAIN:
		return admin_conf(&fx.a365.ca, &fx.b365.cert, &fx.b365.key);
	case FRESH_OTHER_KEY:
		return admin_conf(&fx.a365.ca, &fx.a365.cert, &fx.b365.key);
	case FRESH_NO_CA:
		return admin_conf(NULL, &fx.a365.cert, &fx.a365.key);
	default:
		return admin_conf(&fx.a365.ca, &fx.a365.cert, &fx.a365.key);
	}
}

static const struct buf *
kca_pem(enum kca k, struct buf *bundle)
{
	switch (k) {
	case KCA_NONE:
		return NULL;
	case KCA_BUNDLE:
		copy_buf(bundle, &fx.b365.ca);
		copy_buf(bundle, &fx.a365.ca);
		return bundle;
	case KCA_REISSUED:
		return &fx.ca_a_reissued;
	default:
		return &fx.a365.ca;
	}
}

static void
run_check_row(const struct check_row *row)
{
	struct kcrefresh_opts o = { NULL, false, row->accept_identity };
	struct buf bundle = BUF_INIT;
	char *path = workstation("check.conf", kca_pem(row->kca, &bundle),
	    row->cur, 0600);
	char *text = fresh_text(row->fresh);
	struct kcfgcert *cur = NULL, *fresh = NULL;
	struct kcrefresh_result res;
	struct kcrefresh_input in;
	struct kubecfg *cfg = load_cfg(path, NULL);
	char why[2048] = "";
	enum cr_err err;

	memset(&res, 0, sizeof(res));
	res.source = xstrdup("cp1:/etc/kubernetes/admin.conf");
	CU_ASSERT_FATAL(
	    kcrefresh_load_current(cfg, &cur, why, sizeof(why)) == CR_OK);
	CU_ASSERT_FATAL(kcrefresh_parse_admin(text, strlen(text), &fresh, why,
			    sizeof(why)) == CR_OK);
	memset(&in, 0, sizeof(in));
	in.cur = cur;
	in.cluster_ca = kubecfg_ca_pem(cfg, &in.cluster_ca_len);
	in.fresh = fresh;
	in.now = time(NULL);
	err = kcrefresh_check(&in, &o, &res, why, sizeof(why));
	CU_ASSERT_CASE(err == row->err, row->name);
	if (err != row->err)
		fprintf(stderr, "\n%s: got %s: %s\n", row->name,
		    cr_strerror(err), why);
	if (row->why != NULL)
		CU_ASSERT_CASE(strstr(why, row->why) != NULL, row->name);
	if (err == CR_OK) {
		CU_ASSERT_CASE(res.identity_changed == row->identity_changed,
		    row->name);
		CU_ASSERT_CASE(res.ca_replaced == row->ca_replaced, row->name);
		CU_ASSERT_CASE(res.new_cert.not_after > res.old_cert.not_after,
		    row->name);
	}
	kcrefresh_result_clear(&res);
	kcfgcert_free(cur);
	kcfgcert_free(fresh);
	kubecfg_free(cfg);
	buf_clear(&bundle);
	free(text);
	unlink(path);
	free(path);
}

static void
test_checks(void)
{
	const struct check_row rows[] = {
		{ "a renewed admin.conf is taken", &fx.a20, KCA_A, FRESH_A,
		    false, CR_OK, NULL, false, false },
		{ "an expired certificate is refreshed", &fx.aexp, KCA_A,
		    FRESH_A, false, CR_OK, NULL, false, false },
		{ "another cluster's admin.conf is refused", &fx.a20, KCA_A,
		    FRESH_B, false, CR_ERR_STATE, "another cluster", false,
		    false },
		{ "the cluster's CA inside a bundle", &fx.a20, KCA_BUNDLE,
		    FRESH_A, false, CR_OK, NULL, false, false },
		{ "no CA to compare, same issuer", &fx.a20, KCA_NONE, FRESH_A,
		    false, CR_OK, NULL, false, false },
		{ "no CA to compare, other issuer", &fx.a20, KCA_NONE, FRESH_B,
		    false, CR_ERR_STATE, "another cluster", false, false },
		{ "an older certificate is refused", &fx.a400, KCA_A, FRESH_A,
		    false, CR_ERR_STATE, "no later than yours", false, false },
		{ "the same certificate is refused", &fx.a365, KCA_A, FRESH_A,
		    false, CR_ERR_STATE, "already holds", false, false },
		{ "a certificate that does not chain", &fx.a20, KCA_A,
		    FRESH_WRONG_CHAIN, false, CR_ERR_VERIFY, "does not chain",
		    false, false },
		{ "a key that does not match", &fx.a20, KCA_A, FRESH_OTHER_KEY,
		    false, CR_ERR_VERIFY, "does not match", false, false },
		{ "admin.conf without a CA", &fx.a20, KCA_A, FRESH_NO_CA, false,
		    CR_ERR_CERT, "certificate-authority-data", false, false },
		{ "a named identity is refused", &fx.alice, KCA_A, FRESH_A,
		    false, CR_ERR_STATE, "--client-name=alice --org=dev", false,
		    false },
		{ "a named identity with --accept-identity", &fx.alice, KCA_A,
		    FRESH_A, true, CR_OK, NULL, true, false },
		{ "other groups are refused", &fx.alegacy, KCA_A, FRESH_A,
		    false, CR_ERR_STATE, "your groups would change", false,
		    false },
		{ "a re-issued CA copy is refreshed too", &fx.a20, KCA_REISSUED,
		    FRESH_A, false, CR_OK, NULL, false, true },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_check_row(&rows[i]);
}

/* --- Writing ----------------------------------------------------------- */

static void
test_backup_name(void)
{
	char *path = ct_path(fx.dir, "name.conf"), *b1, *b2, *want;

	want = xasprintf("%s.certroll-20261128T130000Z", path);
	b1 = kcrefresh_backup_path(path, FIXED_NOW);
	CU_ASSERT_STRING_EQUAL(b1, want);
	ct_write(b1, "taken");
	b2 = kcrefresh_backup_path(path, FIXED_NOW);
	free(want);
	want = xasprintf("%s.certroll-20261128T130000Z-1", path);
	CU_ASSERT_STRING_EQUAL(b2, want);
	unlink(b1);
	free(want);
	free(b1);
	free(b2);
	free(path);
}

/* users[name].user or clusters[name].cluster of a kubeconfig tree. */
static struct ydoc_node *
entry(struct ydoc *doc, const char *list, const char *name, const char *in)
{
	struct ydoc_node *seq = ydoc_get(ydoc_root(doc, 0), list);
	size_t i;

	for (i = 0; seq != NULL && i < seq->nitems; i++)
		if (strcmp(ydoc_scalar(ydoc_get(seq->items[i], "name")),
			name) == 0)
			return ydoc_get(seq->items[i], in);
	return NULL;
}

/* The PEM a data field of the written file decodes to, equal to want. */
static bool
field_is(struct ydoc *doc, const char *list, const char *name, const char *key,
    const struct buf *want)
{
	const char *s = ydoc_scalar(ydoc_get(
	    entry(doc, list, name, list[0] == 'u' ? "user" : "cluster"), key));
	char *expect = b64(want);
	bool same = s != NULL && strcmp(s, expect) == 0;

	free(expect);
	return same;
}

/* openssl and kubectl read the written credential back. */
static void
cross_check(const char *path, const char *backup)
{
	char *crt = ct_path(fx.dir, "written.crt");
	char *ca = ct_path(fx.ca_a, "pki/ca.crt");
	const char *verify[] = { "openssl", "verify", "-CAfile", ca, crt,
		NULL };
	static const char jsonpath[] = "jsonpath={.users[?(@.name==\"admin\")]"
				       ".user.client-certificate-data}";
	const char *view[] = { "kubectl", "config", "view", "--raw",
		"--kubeconfig", path, "-o", jsonpath, NULL };
	char *serial, *want = b64(&fx.a365.cert);
	struct buf out = BUF_INIT;

	ct_write(crt, (const char *)fx.a365.cert.data);
	CU_ASSERT_EQUAL(ct_run(verify, NULL), 0);
	serial = ct_x509(crt, "-serial", NULL);
	CU_ASSERT_PTR_NOT_NULL(serial);
	CU_ASSERT_EQUAL(ct_run(view, &out), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&out), want);
	/* The backup is still the old credential, for kubectl too. */
	buf_reset(&out);
	view[5] = backup;
	CU_ASSERT_EQUAL(ct_run(view, &out), 0);
	CU_ASSERT_STRING_NOT_EQUAL(buf_cstr(&out), want);
	buf_clear(&out);
	free(serial);
	free(want);
	free(ca);
	free(crt);
}

/* Parses before and after, drops the replaced fields, compares the rest. */
static void
assert_untouched(const char *before, const char *after, bool ca)
{
	struct ydoc *a = ct_parse_yaml(before), *b = ct_parse_yaml(after);
	struct ydoc *docs[2] = { a, b };
	size_t i;

	CU_ASSERT_TRUE(field_is(b, "users", "admin", "client-certificate-data",
	    &fx.a365.cert));
	CU_ASSERT_TRUE(
	    field_is(b, "users", "admin", "client-key-data", &fx.a365.key));
	CU_ASSERT_TRUE(field_is(a, "users", "admin", "client-certificate-data",
	    &fx.a20.cert));
	if (ca) {
		CU_ASSERT_TRUE(field_is(b, "clusters", "prod",
		    "certificate-authority-data", &fx.a365.ca));
		CU_ASSERT_FALSE(field_is(a, "clusters", "prod",
		    "certificate-authority-data", &fx.a365.ca));
	}
	for (i = 0; i < 2; i++) {
		CU_ASSERT_TRUE(
		    ydoc_remove(entry(docs[i], "users", "admin", "user"),
			"client-certificate-data"));
		CU_ASSERT_TRUE(
		    ydoc_remove(entry(docs[i], "users", "admin", "user"),
			"client-key-data"));
		if (ca)
			CU_ASSERT_TRUE(ydoc_remove(
			    entry(docs[i], "clusters", "prod", "cluster"),
			    "certificate-authority-data"));
	}
	/* Every other node, the other users' keys included, is equal. */
	CU_ASSERT_TRUE(ct_same_tree(ydoc_root(a, 0), ydoc_root(b, 0),
	    (const char *const[]){ NULL }));
	ydoc_free(a);
	ydoc_free(b);
}

static void
write_case(const struct buf *ca, bool ca_replaced)
{
	char *path = workstation("write.conf", ca, &fx.a20, 0640);
	char *copy = ct_path(fx.dir, "write.before"), *backup, why[1024];
	struct kcrefresh_opts o = { NULL, false, false };
	struct kcfgcert *cur = NULL, *fresh = NULL;
	struct kcrefresh_result res;
	struct kcrefresh_input in;
	struct kubecfg *cfg = load_cfg(path, NULL);
	char *text = fresh_text(FRESH_A);

	CU_ASSERT_FATAL(file_copy(path, copy, 0600) == CR_OK);
	memset(&res, 0, sizeof(res));
	CU_ASSERT_FATAL(
	    kcrefresh_load_current(cfg, &cur, why, sizeof(why)) == CR_OK);
	CU_ASSERT_FATAL(kcrefresh_parse_admin(text, strlen(text), &fresh, why,
			    sizeof(why)) == CR_OK);
	memset(&in, 0, sizeof(in));
	in.cur = cur;
	in.cluster_ca = kubecfg_ca_pem(cfg, &in.cluster_ca_len);
	in.fresh = fresh;
	in.now = time(NULL);
	CU_ASSERT_FATAL(
	    kcrefresh_check(&in, &o, &res, why, sizeof(why)) == CR_OK);
	CU_ASSERT_EQUAL(res.ca_replaced, ca_replaced);
	CU_ASSERT_FATAL(kcrefresh_write(cur, fresh, FIXED_NOW, &res) == CR_OK);
	backup = xasprintf("%s.certroll-20261128T130000Z", path);
	CU_ASSERT_STRING_EQUAL(res.backup, backup);
	/* The backup: the old bytes, private; the file: its mode kept. */
	CU_ASSERT_TRUE(ct_same_file(res.backup, copy));
	CU_ASSERT_EQUAL(ct_mode(res.backup), 0600);
	CU_ASSERT_EQUAL(ct_mode(path), 0640);
	assert_untouched(copy, path, ca_replaced);
	cross_check(path, res.backup);
	unlink(res.backup);
	kcrefresh_result_clear(&res);
	kcfgcert_free(cur);
	kcfgcert_free(fresh);
	kubecfg_free(cfg);
	free(backup);
	free(text);
	free(copy);
	free(path);
}

static void
test_write_untouched(void)
{
	write_case(&fx.a365.ca, false);
}

static void
test_write_ca_refreshed(void)
{
	write_case(&fx.ca_a_reissued, true);
}

/*
 * A backup that cannot be written stops the refresh before the file is
 * touched. Root ignores directory modes, so a long name makes the
 * failure: 235 bytes plus the 16 of a temporary file's suffix fit
 * NAME_MAX (255), plus the 26 of the backup's do not.
 */
static void
test_write_fails_cleanly(void)
{
	char name[236], *path, *copy, why[1024];
	char *text = fresh_text(FRESH_A);
	struct kcrefresh_opts o = { NULL, false, false };
	struct kcfgcert *cur = NULL, *fresh = NULL;
	struct kcrefresh_result res;
	struct kcrefresh_input in;
	struct kubecfg *cfg;

	memset(name, 'k', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	path = ct_path(fx.dir, name);
	copy = workstation("long.before", &fx.a365.ca, &fx.a20, 0600);
	CU_ASSERT_FATAL(file_copy(copy, path, 0600) == CR_OK);
	cfg = load_cfg(path, NULL);
	memset(&res, 0, sizeof(res));
	CU_ASSERT_FATAL(
	    kcrefresh_load_current(cfg, &cur, why, sizeof(why)) == CR_OK);
	CU_ASSERT_FATAL(kcrefresh_parse_admin(text, strlen(text), &fresh, why,
			    sizeof(why)) == CR_OK);
	memset(&in, 0, sizeof(in));
	in.cur = cur;
	in.cluster_ca = kubecfg_ca_pem(cfg, &in.cluster_ca_len);
	in.fresh = fresh;
	in.now = time(NULL);
	CU_ASSERT_FATAL(
	    kcrefresh_check(&in, &o, &res, why, sizeof(why)) == CR_OK);
	CU_ASSERT_EQUAL(kcrefresh_write(cur, fresh, FIXED_NOW, &res),
	    CR_ERR_SYS);
	CU_ASSERT_TRUE(ct_same_file(path, copy));
	CU_ASSERT_FALSE(file_exists(res.backup));
	kcrefresh_result_clear(&res);
	kcfgcert_free(cur);
	kcfgcert_free(fresh);
	kubecfg_free(cfg);
	unlink(path);
	free(text);
	free(copy);
	free(path);
}

/* The report names the file, the source, both dates and the backup. */
static void
test_print(void)
{
	struct kcrefresh_result res;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	memset(&res, 0, sizeof(res));
	res.source = xstrdup("cp2:/etc/kubernetes/admin.conf");
	res.backup = xstrdup("/home/op/.kube/config.certroll-20261128T130000Z");
	res.old_cert.subject = xstrdup("O=dev, CN=alice");
	res.old_cert.serial = xstrdup("0A");
	res.old_cert.not_after = time(NULL) - (time_t)86400 - 60;
	res.new_cert.subject = xstrdup(
	    "O=kubeadm:cluster-admins, CN=kubernetes-admin");
	res.new_cert.serial = xstrdup("0B");
	res.new_cert.not_after = time(NULL) + (time_t)364 * 86400 + 3600;
	res.identity_changed = true;
	fp = open_memstream(&out, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	kcrefresh_print(&res, "/home/op/.kube/config", "alice", false, fp);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(out,
	    "Refreshed the client certificate of user 'alice' in "
	    "/home/op/.kube/config\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out, "from      cp2:/etc/kubernetes/admin.conf\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out,
	    "subject   O=dev, CN=alice -> O=kubeadm:cluster-admins, "
	    "CN=kubernetes-admin (--accept-identity)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(1d ago), serial 0A\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "(in 364d), serial 0B\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out,
	    "backup    /home/op/.kube/config.certroll-20261128T130000Z "
	    "(mode 0600)\n"));
	free(out);
	out = NULL;
	fp = open_memstream(&out, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	kcrefresh_print(&res, "/home/op/.kube/config", "alice", true, fp);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Would refresh"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Dry run: nothing was written."));
	free(out);
	kcrefresh_result_clear(&res);
}

static CU_TestInfo current_tests[] = {
	{ "kinds", test_current_kinds },
	{ "symlink", test_current_symlink },
	{ "parse_admin", test_parse_admin },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo check_tests[] = {
	{ "refusals", test_checks },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo write_tests[] = {
	{ "backup_name", test_backup_name },
	{ "untouched", test_write_untouched },
	{ "ca_refreshed", test_write_ca_refreshed },
	{ "fails_cleanly", test_write_fails_cleanly },
	{ "print", test_print },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	/* One set of trees for all: the last suite releases it. */
	{ .pName = "kcrefresh_current",
	    .pInitFunc = suite_init,
	    .pTests = current_tests },
	{ .pName = "kcrefresh_check",
	    .pInitFunc = suite_init,
	    .pTests = check_tests },
	{ .pName = "kcrefresh_write",
	    .pInitFunc = suite_init,
	    .pCleanupFunc = suite_clean,
	    .pTests = write_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
