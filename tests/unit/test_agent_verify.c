/*
 * agent verify: after a good renewal, one kind of damage per row; verify
 * must name the damaged certificate, with the right problem, and pass the
 * others.
 */
#include <sys/stat.h>

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

struct fixture {
	struct ct_tree t;
	char *backup;
};

/* A tree renewed natively; its backup is what verify compares with. */
static void
fixture_make(struct fixture *f)
{
	static const char *const soon[] = { "--expires-in", "20d", NULL };
	struct agent_renew_opts o;
	struct agent_renew_result r;
	char *root;

	ct_tree_make(&f->t, "ecdsa-p256", soon);
	root = ct_path(f->t.dir, "backups");
	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = f->t.kdir;
	o.backup_dir = root;
	o.backend = AGENT_BACKEND_NATIVE;
	o.now = time(NULL);
	CU_ASSERT_FATAL(agent_renew(&o, &r) == CR_OK);
	f->backup = xstrdup(r.backup);
	agent_renew_result_clear(&r);
	free(root);
}

static void
fixture_free(struct fixture *f)
{
	free(f->backup);
	ct_tree_free(&f->t);
}

/* How a row changes the certificate it re-issues. */
struct change {
	const char *cn;    /* new CN, or NULL */
	const char *dns;   /* a DNS SAN to add, or NULL */
	bool server_only;  /* EKU serverAuth only */
	bool foreign_ca;   /* signed by a fresh self-signed CA */
	int64_t not_after; /* seconds from now, or 0 for a year */
};

static void
load_ca(const struct fixture *f, const struct pki_entry *e, bool foreign,
    X509 **ca, EVP_PKEY **key)
{
	const struct pki_entry *ce = pki_find(e->ca);
	struct cert_tmpl t;
	X509_NAME *name = cert_name_new("kubernetes", NULL);
	char *crt = ct_path(f->t.kdir, ce->file);
	char *k = ct_path(f->t.kdir, ce->key);

	if (!foreign) {
		CU_ASSERT_FATAL(cert_load(crt, ca) == CR_OK);
		CU_ASSERT_FATAL(cert_key_load(k, key) == CR_OK);
	} else {
		memset(&t, 0, sizeof(t));
		t.subject = name;
		t.is_ca = true;
		t.not_before = time(NULL) - 60;
		t.not_after = time(NULL) + 86400 * 3650LL;
		CU_ASSERT_FATAL(
		    cert_key_new(CERT_KEY_ECDSA_P256, key) == CR_OK);
		CU_ASSERT_FATAL(cert_issue(&t, *key, NULL, *key, ca) == CR_OK);
	}
	X509_NAME_free(name);
	free(crt);
	free(k);
}

/* Re-issues pki/apiserver (or etcd-server) with one change. */
static void
reissue(const struct fixture *f, const char *base, const struct change *c)
{
	struct agent_load l = { f->t.kdir, NULL, false };
	struct strv ekus = { NULL, 0 }, dns = { NULL, 0 };
	struct agent_material m;
	struct cert_info ci;
	struct cert_tmpl t;
	struct buf pem = BUF_INIT, kpem = BUF_INIT;
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509_NAME *name = NULL;
	char why[256], *crt, *kf;
	const struct pki_entry *e = pki_find(base);
	size_t i;

	memset(&ci, 0, sizeof(ci));
	CU_ASSERT_FATAL(
	    agent_material_load(&l, e, &m, why, sizeof(why)) == CR_OK);
	CU_ASSERT_FATAL(cert_info_fill(m.cert, &ci) == CR_OK);
	load_ca(f, e, c->foreign_ca, &ca, &ca_key);
	for (i = 0; i < ci.dns_names.n; i++)
		strv_push(&dns, ci.dns_names.v[i]);
	if (c->dns != NULL)
		strv_push(&dns, c->dns);
	strv_push(&ekus, "serverAuth");
	if (!c->server_only && strv_has(&ci.ext_key_usages, "clientAuth"))
		strv_push(&ekus, "clientAuth");
	if (c->cn != NULL)
		name = cert_name_new(c->cn, NULL);
	memset(&t, 0, sizeof(t));
	t.subject = name != NULL ? name : X509_get_subject_name(m.cert);
	t.dns_names = &dns;
	t.ip_addresses = &ci.ip_addresses;
	t.ext_key_usages = &ekus;
	t.not_before = time(NULL) - 300;
	t.not_after = time(NULL) +
	    (c->not_after != 0 ? c->not_after : 365 * 86400LL);
	CU_ASSERT_FATAL(cert_key_new(CERT_KEY_ECDSA_P256, &key) == CR_OK);
	CU_ASSERT_FATAL(cert_issue(&t, key, ca, ca_key, &x) == CR_OK);
	CU_ASSERT_FATAL(cert_to_pem(x, &pem) == CR_OK);
	CU_ASSERT_FATAL(cert_key_to_pem(key, &kpem) == CR_OK);
	crt = ct_path(f->t.kdir, e->file);
	kf = ct_path(f->t.kdir, e->key);
	CU_ASSERT_FATAL(
	    file_write_atomic(kf, kpem.data, kpem.len, 0600) == CR_OK);
	CU_ASSERT_FATAL(
	    file_write_atomic(crt, pem.data, pem.len, 0644) == CR_OK);
	free(crt);
	free(kf);
	buf_clear(&pem);
	buf_clear_secret(&kpem);
	X509_NAME_free(name);
	X509_free(ca);
	X509_free(x);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	strv_clear(&ekus);
	strv_clear(&dns);
	certinfo_clear(&ci);
	agent_material_clear(&m);
}

static void
damage_san(const struct fixture *f)
{
	const struct change c = { .dns = "evil.example" };

	reissue(f, "apiserver", &c);
}

static void
damage_subject(const struct fixture *f)
{
	const struct change c = { .cn = "kube-apiserver-2" };

	reissue(f, "apiserver", &c);
}

static void
damage_eku(const struct fixture *f)
{
	const struct change c = { .server_only = true };

	reissue(f, "etcd-server", &c);
}

static void
damage_foreign_ca(const struct fixture *f)
{
	const struct change c = { .foreign_ca = true };

	reissue(f, "apiserver", &c);
}

static void
damage_expired(const struct fixture *f)
{
	const struct change c = { .not_after = -60 };

	reissue(f, "apiserver", &c);
}

static void
damage_key(const struct fixture *f)
{
	char *a = ct_path(f->t.kdir, "pki/apiserver.key");
	char *b = ct_path(f->t.kdir, "pki/front-proxy-client.key");

	CU_ASSERT_FATAL(file_copy(b, a, 0600) == CR_OK);
	free(a);
	free(b);
}

static void
damage_key_mode(const struct fixture *f)
{
	char *a = ct_path(f->t.kdir, "pki/apiserver.key");

	CU_ASSERT_FATAL(chmod(a, 0644) == 0);
	free(a);
}

static void
damage_not_renewed(const struct fixture *f)
{
	static const char *const rel[] = { "pki/apiserver.crt",
		"pki/apiserver.key" };
	char *a, *b;
	size_t i;

	for (i = 0; i < 2; i++) {
		a = ct_path(f->backup, rel[i]);
		b = ct_path(f->t.kdir, rel[i]);
		CU_ASSERT_FATAL(file_copy(a, b, FILE_MODE_KEEP) == CR_OK);
		free(a);
		free(b);
	}
}

static void
damage_garbage(const struct fixture *f)
{
	char *a = ct_path(f->t.kdir, "pki/apiserver.crt");

	ct_write(a, "-----BEGIN CERTIFICATE-----\nbroken\n");
	free(a);
}

/* Replaces the first occurrence of from with to in the file rel. */
static void
edit(const struct fixture *f, const char *rel, const char *from, const char *to)
{
	char *p = ct_path(f->t.kdir, rel), *text = ct_slurp(p), *at, *out;

	at = strstr(text, from);
	CU_ASSERT_FATAL(at != NULL);
	out = xasprintf("%.*s%s%s", (int)(at - text), text, to,
	    at + strlen(from));
	ct_write(p, out);
	free(out);
	free(text);
	free(p);
}

static void
damage_server(const struct fixture *f)
{
	edit(f, "admin.conf", "server: https://10.0.0.1:6443",
	    "server: https://10.9.9.9:6443");
}

static void
damage_ca_data(const struct fixture *f)
{
	char *etcd = ct_path(f->t.kdir, "pki/etcd/ca.crt"), *text;
	struct buf b = BUF_INIT;
	char *b64;

	text = ct_slurp(etcd);
	buf_puts(&b, text);
	b64 = xmalloc(4 * ((b.len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, b.data, (int)b.len);
	{
		char *conf = ct_path(f->t.kdir, "admin.conf");
		char *all = ct_slurp(conf), *at, *end, *out;

		at = strstr(all, "certificate-authority-data: ") + 28;
		end = strchr(at, '\n');
		out = xasprintf("%.*s%s%s", (int)(at - all), all, b64, end);
		ct_write(conf, out);
		free(out);
		free(all);
		free(conf);
	}
	free(b64);
	free(text);
	free(etcd);
	buf_clear(&b);
}

static void
damage_backup(const struct fixture *f)
{
	char *p = ct_path(f->backup, "pki/apiserver.crt");

	ct_write(p, "not a certificate\n");
	free(p);
}

/* Damages a fresh fixture; only target may fail, with problem first. */
static void
damage_one(const char *name, const char *target, const char *problem,
    void (*damage)(const struct fixture *f))
{
	struct agent_verify_opts o;
	struct agent_verify_result r;
	struct fixture f;
	size_t j, bad = 0;
	bool found = false;

	fixture_make(&f);
	damage(&f);
	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = f.t.kdir;
	o.backup = f.backup;
	o.now = time(NULL);
	CU_ASSERT_CASE(agent_verify(&o, &r) == CR_OK, name);
	CU_ASSERT_CASE(!r.ok && r.n == 11, name);
	for (j = 0; j < r.n; j++) {
		if (r.v[j].ok)
			continue;
		bad++;
		found = found ||
		    (strcmp(r.v[j].name, target) == 0 &&
			strstr(r.v[j].problems.v[0], problem) != NULL);
		if (!found)
			fprintf(stderr, "%s: %s\n", name, r.v[j].problems.v[0]);
	}
	CU_ASSERT_CASE(found && bad == 1, name);
	agent_verify_result_clear(&r);
	fixture_free(&f);
}

static void
test_damage_is_named(void)
{
	static const struct {
		const char *name, *target, *problem;
		void (*damage)(const struct fixture *f);
	} rows[] = {
		{ "SAN added", "apiserver", "subject alternative names differ",
		    damage_san },
		{ "subject changed", "apiserver",
		    "subject 'CN=kube-apiserver-2'", damage_subject },
		{ "clientAuth dropped", "etcd-server",
		    "extended key usages differ", damage_eku },
		{ "another CA", "apiserver", "does not chain to its CA 'ca'",
		    damage_foreign_ca },
		{ "already expired", "apiserver", "certificate has expired",
		    damage_expired },
		{ "key of another cert", "apiserver",
		    "private key does not match", damage_key },
		{ "key readable by others", "apiserver",
		    "is mode 0644: a private key must be 0600",
		    damage_key_mode },
		{ "not renewed", "apiserver",
		    "is unchanged: it was not renewed", damage_not_renewed },
		{ "unparsable", "apiserver", "cannot be used", damage_garbage },
		{ "server URL changed", "admin.conf", "server URL",
		    damage_server },
		{ "CA data of another CA", "admin.conf",
		    "does not chain to its CA 'ca'", damage_ca_data },
		{ "backup lost the file", "apiserver",
		    "no usable copy in the backup", damage_backup },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		damage_one(rows[i].name, rows[i].target, rows[i].problem,
		    rows[i].damage);
}

static void
test_names_and_json(void)
{
	struct agent_verify_opts o;
	struct agent_verify_result r;
	struct strv names = { NULL, 0 };
	struct fixture f;
	json_object *j;

	fixture_make(&f);
	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = f.t.kdir;
	o.backup = f.backup;
	o.now = time(NULL);
	o.names = &names;
	strv_push(&names, "etcd-peer");
	strv_push(&names, "scheduler.conf");
	CU_ASSERT_EQUAL(agent_verify(&o, &r), CR_OK);
	CU_ASSERT_TRUE(r.ok && r.n == 2);
	j = agent_verify_result_to_json(&r);
	CU_ASSERT_TRUE(jv_bool(j, "ok"));
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(j, "results")), 2);
	json_object_put(j);
	agent_verify_result_clear(&r);
	strv_push(&names, "etcd-ca");
	CU_ASSERT_EQUAL(agent_verify(&o, &r), CR_ERR_CONFIG);
	strv_clear(&names);
	strv_push(&names, "nonsense");
	CU_ASSERT_EQUAL(agent_verify(&o, &r), CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(r.n, 0);
	strv_clear(&names);
	fixture_free(&f);
}

static CU_TestInfo verify_tests[] = {
	{ "damage_is_named", test_damage_is_named },
	{ "names_and_json", test_names_and_json },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "agent_verify", .pTests = verify_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
