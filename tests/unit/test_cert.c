/*
 * common/cert: loading keys in every format kubeadm meets, describing a
 * certificate field by field against the openssl CLI, chains, and issuing
 * certificates that the openssl CLI accepts.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "cert.h"
#include "certtest.h"
#include "cu_run.h"
#include "timefmt.h"
#include "xmalloc.h"

static void
test_keyalg_parse(void)
{
	static const struct {
		const char *in;
		enum cr_err err;
		enum cert_keyalg alg;
	} rows[] = {
		{ "rsa-2048", CR_OK, CERT_KEY_RSA2048 },
		{ "RSA-3072", CR_OK, CERT_KEY_RSA3072 },
		{ "rsa-4096", CR_OK, CERT_KEY_RSA4096 },
		{ "ecdsa-p256", CR_OK, CERT_KEY_ECDSA_P256 },
		{ "ECDSA-P256", CR_OK, CERT_KEY_ECDSA_P256 },
		{ "", CR_ERR_CONFIG, CERT_KEY_KEEP },
		{ "keep", CR_ERR_CONFIG, CERT_KEY_KEEP },
		{ "rsa", CR_ERR_CONFIG, CERT_KEY_KEEP },
		{ "rsa-1024", CR_ERR_CONFIG, CERT_KEY_KEEP },
		{ "ecdsa-p384", CR_ERR_CONFIG, CERT_KEY_KEEP },
		{ "ed25519", CR_ERR_CONFIG, CERT_KEY_KEEP },
	};
	enum cert_keyalg alg;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		alg = CERT_KEY_KEEP;
		CU_ASSERT_CASE(cert_keyalg_parse(rows[i].in, &alg) ==
			rows[i].err,
		    rows[i].in);
		CU_ASSERT_CASE(alg == rows[i].alg, rows[i].in);
	}
	CU_ASSERT_STRING_EQUAL(cert_keyalg_name(CERT_KEY_ECDSA_P256),
	    "ECDSA-P256");
}

/* Runs an openssl command that writes a key to out; fatal if it fails. */
static void
openssl_key(const char *const *argv)
{
	CU_ASSERT_FATAL(ct_run(argv, NULL) == 0);
}

/* Keys in every format, made with the openssl CLI. */
struct key_files {
	char *pkcs1, *pkcs8, *sec1, *ecp8, *ed, *enc;
};

static void
make_keys(const char *dir, struct key_files *k)
{
	k->pkcs1 = ct_path(dir, "pkcs1.key");
	k->pkcs8 = ct_path(dir, "p8.key");
	k->sec1 = ct_path(dir, "sec1.key");
	k->ecp8 = ct_path(dir, "ec8.key");
	k->ed = ct_path(dir, "ed.key");
	k->enc = ct_path(dir, "enc.key");
	const char *a1[] = { "openssl", "genrsa", "-traditional", "-out",
		k->pkcs1, "2048", NULL };
	const char *a2[] = { "openssl", "genpkey", "-algorithm", "RSA",
		"-pkeyopt", "rsa_keygen_bits:3072", "-out", k->pkcs8, NULL };
	const char *a3[] = { "openssl", "ecparam", "-name", "prime256v1",
		"-genkey", "-noout", "-out", k->sec1, NULL };
	const char *a4[] = { "openssl", "genpkey", "-algorithm", "EC",
		"-pkeyopt", "ec_paramgen_curve:P-256", "-out", k->ecp8, NULL };
	const char *a5[] = { "openssl", "genpkey", "-algorithm", "ED25519",
		"-out", k->ed, NULL };
	const char *a6[] = { "openssl", "genpkey", "-algorithm", "EC",
		"-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass",
		"pass:secret", "-out", k->enc, NULL };

	openssl_key(a1);
	openssl_key(a2);
	openssl_key(a3);
	openssl_key(a4);
	openssl_key(a5);
	openssl_key(a6);
}

static void
key_files_free(struct key_files *k)
{
	free(k->pkcs1);
	free(k->pkcs8);
	free(k->sec1);
	free(k->ecp8);
	free(k->ed);
	free(k->enc);
}

static void
test_key_formats(void)
{
	struct key_files k;
	EVP_PKEY *key;
	enum cert_keyalg alg;
	char *text;
	size_t i;

	make_keys(ct_tmpdir(), &k);
	const struct {
		const char *path, *header;
		enum cr_err load, alg_err;
		enum cert_keyalg alg;
	} rows[] = {
		{ k.pkcs1, "-----BEGIN RSA PRIVATE KEY-----", CR_OK, CR_OK,
		    CERT_KEY_RSA2048 },
		{ k.pkcs8, "-----BEGIN PRIVATE KEY-----", CR_OK, CR_OK,
		    CERT_KEY_RSA3072 },
		{ k.sec1, "-----BEGIN EC PRIVATE KEY-----", CR_OK, CR_OK,
		    CERT_KEY_ECDSA_P256 },
		{ k.ecp8, "-----BEGIN PRIVATE KEY-----", CR_OK, CR_OK,
		    CERT_KEY_ECDSA_P256 },
		{ k.ed, "-----BEGIN PRIVATE KEY-----", CR_OK, CR_ERR_CERT,
		    CERT_KEY_KEEP },
		{ k.enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----", CR_ERR_CERT,
		    CR_OK, CERT_KEY_KEEP },
	};

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		text = ct_slurp(rows[i].path);
		CU_ASSERT_CASE(text != NULL &&
			strncmp(text, rows[i].header, strlen(rows[i].header)) ==
			    0,
		    rows[i].path);
		free(text);
		CU_ASSERT_CASE(cert_key_load(rows[i].path, &key) ==
			rows[i].load,
		    rows[i].path);
		if (key == NULL)
			continue;
		alg = CERT_KEY_KEEP;
		CU_ASSERT_CASE(cert_keyalg_of(key, &alg) == rows[i].alg_err,
		    rows[i].path);
		CU_ASSERT_CASE(alg == rows[i].alg, rows[i].path);
		EVP_PKEY_free(key);
	}
	cert_clear_errors();
	key_files_free(&k);
}

/* A CA and a leaf made with the openssl CLI, shared by several tests. */
struct cli_pki {
	char *dir, *ca_crt, *ca_key, *leaf_crt, *leaf_key;
};

static void
cli_pki(struct cli_pki *p)
{
	char *csr, *ext;

	p->dir = xstrdup(ct_tmpdir());
	p->ca_crt = ct_path(p->dir, "ca.crt");
	p->ca_key = ct_path(p->dir, "ca.key");
	p->leaf_crt = ct_path(p->dir, "leaf.crt");
	p->leaf_key = ct_path(p->dir, "leaf.key");
	csr = ct_path(p->dir, "leaf.csr");
	ext = ct_path(p->dir, "leaf.ext");
	const char *ca[] = { "openssl", "req", "-x509", "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
		p->ca_key, "-subj", "/CN=etcd-ca", "-days", "3650", "-addext",
		"basicConstraints=critical,CA:TRUE", "-addext",
		"keyUsage=critical,digitalSignature,keyCertSign", "-out",
		p->ca_crt, NULL };
	const char *req[] = { "openssl", "req", "-new", "-newkey", "rsa:2048",
		"-nodes", "-keyout", p->leaf_key, "-utf8", "-subj",
		"/O=system:masters/O=b\xc3\xa9ta/CN=kube-apiserver-etcd-client",
		"-out", csr, NULL };
	const char *sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA",
		p->ca_crt, "-CAkey", p->ca_key, "-set_serial",
		"0x00F3A1B2C3D4E5F60718", "-days", "365", "-extfile", ext,
		"-out", p->leaf_crt, NULL };

	ct_write(ext,
	    "basicConstraints=critical,CA:FALSE\n"
	    "keyUsage=critical,digitalSignature,keyEncipherment\n"
	    "extendedKeyUsage=serverAuth,clientAuth,1.3.6.1.4.1.99999.1\n"
	    "subjectAltName=DNS:cp1,DNS:localhost,IP:10.200.0.11,"
	    "IP:127.0.0.1,IP:::1,IP:fd00::a:1\n");
	CU_ASSERT_FATAL(ct_run(ca, NULL) == 0);
	CU_ASSERT_FATAL(ct_run(req, NULL) == 0);
	CU_ASSERT_FATAL(ct_run(sign, NULL) == 0);
	free(csr);
	free(ext);
}

static void
cli_pki_free(struct cli_pki *p)
{
	free(p->dir);
	free(p->ca_crt);
	free(p->ca_key);
	free(p->leaf_crt);
	free(p->leaf_key);
}

/* t as openssl -enddate prints it: "Nov 28 13:00:00 2027 GMT". */
static bool
same_time(time_t t, const char *openssl)
{
	char text[64];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%b %e %H:%M:%S %Y GMT", &tm);
	return strcmp(text, openssl) == 0;
}

/* openssl's SAN text ("DNS:a, IP Address:0:0:...:1") in cert_info form. */
static void
openssl_sans(const char *text, struct strv *dns, struct strv *ips)
{
	char *copy = xstrdup(text), *save = NULL, *tok;
	unsigned char raw[16];
	char addr[64];

	for (tok = strtok_r(copy, ",\n", &save); tok != NULL;
	     tok = strtok_r(NULL, ",\n", &save)) {
		while (*tok == ' ')
			tok++;
		if (strncmp(tok, "DNS:", 4) == 0)
			strv_push(dns, tok + 4);
		if (strncmp(tok, "IP Address:", 11) != 0)
			continue;
		tok += 11;
		if (inet_pton(AF_INET, tok, raw) == 1)
			strv_push(ips, tok);
		else if (inet_pton(AF_INET6, tok, raw) == 1 &&
		    inet_ntop(AF_INET6, raw, addr, sizeof(addr)) != NULL)
			strv_push(ips, addr);
	}
	free(copy);
}

static void
test_info_matches_openssl(void)
{
	struct cli_pki p;
	struct cert_info ci;
	struct strv dns = { NULL, 0 }, ips = { NULL, 0 };
	X509 *x = NULL;
	char *subject, *issuer, *serial, *end, *start, *san;

	cli_pki(&p);
	memset(&ci, 0, sizeof(ci));
	CU_ASSERT_FATAL(cert_load(p.leaf_crt, &x) == CR_OK);
	CU_ASSERT_FATAL(cert_info_fill(x, &ci) == CR_OK);
	subject = ct_x509(p.leaf_crt, "-subject",
	    "-nameopt=oneline,-space_eq,-esc_msb,utf8");
	issuer = ct_x509(p.leaf_crt, "-issuer",
	    "-nameopt=oneline,-space_eq,-esc_msb,utf8");
	serial = ct_x509(p.leaf_crt, "-serial", NULL);
	end = ct_x509(p.leaf_crt, "-enddate", NULL);
	start = ct_x509(p.leaf_crt, "-startdate", NULL);
	san = ct_x509(p.leaf_crt, "-ext", "subjectAltName");
	CU_ASSERT_FATAL(subject && issuer && serial && end && start && san);
	CU_ASSERT_STRING_EQUAL(ci.subject, subject);
	CU_ASSERT_STRING_EQUAL(ci.subject,
	    "O=system:masters, O=b\xc3\xa9ta, CN=kube-apiserver-etcd-client");
	CU_ASSERT_STRING_EQUAL(ci.issuer, issuer);
	CU_ASSERT_STRING_EQUAL(ci.serial, serial);
	CU_ASSERT_STRING_EQUAL(ci.serial, "F3A1B2C3D4E5F60718");
	CU_ASSERT_TRUE(same_time(ci.not_after, end));
	CU_ASSERT_TRUE(same_time(ci.not_before, start));
	openssl_sans(san, &dns, &ips);
	CU_ASSERT_TRUE(strv_equal_set(&ci.dns_names, &dns));
	CU_ASSERT_TRUE(strv_equal_set(&ci.ip_addresses, &ips));
	CU_ASSERT_EQUAL(ci.ip_addresses.n, 4);
	CU_ASSERT_TRUE(strv_has(&ci.ip_addresses, "::1"));
	CU_ASSERT_TRUE(strv_has(&ci.ip_addresses, "fd00::a:1"));
	CU_ASSERT_STRING_EQUAL(ci.key_algorithm, "RSA-2048");
	CU_ASSERT_EQUAL(ci.ext_key_usages.n, 3);
	CU_ASSERT_STRING_EQUAL(ci.ext_key_usages.v[0], "serverAuth");
	CU_ASSERT_STRING_EQUAL(ci.ext_key_usages.v[1], "clientAuth");
	CU_ASSERT_STRING_EQUAL(ci.ext_key_usages.v[2], "1.3.6.1.4.1.99999.1");
	CU_ASSERT_EQUAL(ci.key_usages.n, 2);
	CU_ASSERT_TRUE(strv_has(&ci.key_usages, "keyEncipherment"));
	CU_ASSERT_FALSE(ci.is_ca);
	certinfo_clear(&ci);
	X509_free(x);
	strv_clear(&dns);
	strv_clear(&ips);
	free(subject);
	free(issuer);
	free(serial);
	free(end);
	free(start);
	free(san);
	cli_pki_free(&p);
}

static void
test_info_of_ca(void)
{
	struct cli_pki p;
	struct cert_info ci;
	X509 *x = NULL;

	cli_pki(&p);
	memset(&ci, 0, sizeof(ci));
	CU_ASSERT_FATAL(cert_load(p.ca_crt, &x) == CR_OK);
	CU_ASSERT_FATAL(cert_info_fill(x, &ci) == CR_OK);
	CU_ASSERT_TRUE(ci.is_ca);
	CU_ASSERT_STRING_EQUAL(ci.key_algorithm, "ECDSA-P256");
	CU_ASSERT_TRUE(strv_has(&ci.key_usages, "keyCertSign"));
	CU_ASSERT_EQUAL(ci.dns_names.n, 0);
	certinfo_clear(&ci);
	X509_free(x);
	cli_pki_free(&p);
}

static void
test_parse_rejects_malformed(void)
{
	static const struct {
		const char *name, *pem;
	} rows[] = {
		{ "empty", "" },
		{ "garbage", "hello world\n" },
		{ "no end line", "-----BEGIN CERTIFICATE-----\nMIIB\n" },
		{ "bad base64",
		    "-----BEGIN CERTIFICATE-----\n!!!!\n"
		    "-----END CERTIFICATE-----\n" },
		{ "truncated DER",
		    "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHBfpegPj\n"
		    "-----END CERTIFICATE-----\n" },
		{ "a key, not a certificate",
		    "-----BEGIN EC PRIVATE KEY-----\n"
		    "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oBNTQdbP4Ml/"
		    "oAoGCCqGSM49"
		    "\nAwEHoUQDQgAEpVTFIn5SjvqJnJJkIjzcJzM+"
		    "4RsnUBBfNc5Lq8ut4VyMFlXYqUf"
		    "r\nTGzGQvnrpxMmr4Rz2uEzwZfUS8dPZUh4Ug==\n"
		    "-----END EC PRIVATE KEY-----\n" },
	};
	X509 *x;
	EVP_PKEY *k;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CU_ASSERT_CASE(cert_parse(rows[i].pem, strlen(rows[i].pem),
				   &x) == CR_ERR_CERT,
		    rows[i].name);
		CU_ASSERT_CASE(x == NULL, rows[i].name);
		if (i + 1 == sizeof(rows) / sizeof(rows[0]))
			continue;
		CU_ASSERT_CASE(cert_key_parse(rows[i].pem, strlen(rows[i].pem),
				   &k) == CR_ERR_CERT,
		    rows[i].name);
	}
	CU_ASSERT_EQUAL(cert_load("/nonexistent/x.crt", &x), CR_ERR_SYS);
	cert_clear_errors();
}

static void
test_key_match_and_verify(void)
{
	struct cli_pki p;
	X509 *leaf = NULL, *ca = NULL;
	EVP_PKEY *key = NULL, *ca_key = NULL;
	char why[128];

	cli_pki(&p);
	CU_ASSERT_FATAL(cert_load(p.leaf_crt, &leaf) == CR_OK);
	CU_ASSERT_FATAL(cert_load(p.ca_crt, &ca) == CR_OK);
	CU_ASSERT_FATAL(cert_key_load(p.leaf_key, &key) == CR_OK);
	CU_ASSERT_FATAL(cert_key_load(p.ca_key, &ca_key) == CR_OK);
	CU_ASSERT_TRUE(cert_key_matches(leaf, key));
	CU_ASSERT_FALSE(cert_key_matches(leaf, ca_key));
	CU_ASSERT_FALSE(cert_key_matches(ca, key));
	CU_ASSERT_EQUAL(cert_verify(leaf, ca, time(NULL), why, sizeof(why)),
	    CR_OK);
	/* The leaf is not a CA for itself. */
	CU_ASSERT_EQUAL(cert_verify(ca, leaf, time(NULL), why, sizeof(why)),
	    CR_ERR_VERIFY);
	CU_ASSERT_EQUAL(
	    cert_verify(leaf, ca, time(NULL) + 400 * 86400LL, why, sizeof(why)),
	    CR_ERR_VERIFY);
	CU_ASSERT_STRING_EQUAL(why, "certificate has expired");
	CU_ASSERT_EQUAL(
	    cert_verify(leaf, ca, time(NULL) - 86400, why, sizeof(why)),
	    CR_ERR_VERIFY);
	CU_ASSERT_STRING_EQUAL(why, "certificate is not yet valid");
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	cli_pki_free(&p);
}

static void
test_verify_file(void)
{
	struct cli_pki p;
	X509 *leaf = NULL;
	char why[128], *bundle, *text, *empty;

	cli_pki(&p);
	CU_ASSERT_FATAL(cert_load(p.leaf_crt, &leaf) == CR_OK);
	/* A bundle: the right CA second. */
	bundle = ct_path(p.dir, "bundle.crt");
	text = ct_slurp(p.leaf_crt);
	{
		char *ca_text = ct_slurp(p.ca_crt);
		char *both = xasprintf("%s%s", text, ca_text);

		ct_write(bundle, both);
		free(both);
		free(ca_text);
	}
	CU_ASSERT_EQUAL(
	    cert_verify_file(leaf, bundle, time(NULL), why, sizeof(why)),
	    CR_OK);
	/* A leaf is never its own trust anchor, even as a partial chain. */
	CU_ASSERT_EQUAL(
	    cert_verify_file(leaf, p.leaf_crt, time(NULL), why, sizeof(why)),
	    CR_ERR_VERIFY);
	CU_ASSERT_STRING_EQUAL(why, "not signed by a CA of the CA file");
	CU_ASSERT_EQUAL(cert_verify(leaf, leaf, time(NULL), why, sizeof(why)),
	    CR_ERR_VERIFY);
	CU_ASSERT_EQUAL(cert_verify_file(leaf, "/nonexistent", time(NULL), why,
			    sizeof(why)),
	    CR_ERR_SYS);
	empty = ct_path(p.dir, "empty.crt");
	ct_write(empty, "");
	CU_ASSERT_EQUAL(
	    cert_verify_file(leaf, empty, time(NULL), why, sizeof(why)),
	    CR_ERR_CERT);
	free(empty);
	free(bundle);
	free(text);
	X509_free(leaf);
	cli_pki_free(&p);
}

/* Issues a self-signed CA with alg and writes it and its key to dir. */
static void
make_ca(const char *dir, enum cert_keyalg alg, X509 **cap, EVP_PKEY **keyp)
{
	struct strv dns = { NULL, 0 };
	X509_NAME *name = cert_name_new("kubernetes", NULL);
	struct cert_tmpl t;
	struct buf b = BUF_INIT;
	char *path = ct_path(dir, "ca.crt");

	strv_push(&dns, "kubernetes");
	memset(&t, 0, sizeof(t));
	t.subject = name;
	t.dns_names = &dns;
	t.is_ca = true;
	t.not_before = time(NULL) - 300;
	t.not_after = time(NULL) + 3650 * 86400LL;
	CU_ASSERT_FATAL(cert_key_new(alg, keyp) == CR_OK);
	CU_ASSERT_FATAL(cert_issue(&t, *keyp, NULL, *keyp, cap) == CR_OK);
	CU_ASSERT_FATAL(cert_to_pem(*cap, &b) == CR_OK);
	ct_write(path, buf_cstr(&b));
	buf_clear(&b);
	free(path);
	strv_clear(&dns);
	X509_NAME_free(name);
}

struct issue_row {
	const char *name;
	enum cert_keyalg alg;
	const char *ku; /* openssl's text of the key usage */
};

/* Checks key usage and key identifiers with the openssl CLI. */
static void
check_exts(const char *path, const char *ca_path, const struct issue_row *row)
{
	char *ku = ct_x509(path, "-ext", "keyUsage");
	char *aki = ct_x509(path, "-ext", "authorityKeyIdentifier");
	char *ski = ct_x509(ca_path, "-ext", "subjectKeyIdentifier");

	/* "X509v3 Key Usage: critical\n    Digital Signature" */
	CU_ASSERT_CASE(ku != NULL && strstr(ku, "critical") != NULL &&
		strcmp(strrchr(ku, '\n') + 5, row->ku) == 0,
	    row->name);
	/* The leaf's AKI is the CA's SKI, as Go sets it. */
	CU_ASSERT_CASE(aki != NULL && ski != NULL &&
		strstr(aki, strchr(ski, '\n') + 5) != NULL,
	    row->name);
	free(ku);
	free(aki);
	free(ski);
}

/* The template every issue row uses; release with tmpl_clear(). */
struct tmpl {
	struct strv orgs, dns, ips, eku;
	X509_NAME *subject;
	struct cert_tmpl t;
};

static void
tmpl_init(struct tmpl *m)
{
	memset(m, 0, sizeof(*m));
	strv_push(&m->orgs, "kubeadm:cluster-admins");
	strv_push(&m->dns, "cp1");
	strv_push(&m->ips, "10.0.0.1");
	strv_push(&m->ips, "::1");
	strv_push(&m->eku, "clientAuth");
	m->subject = cert_name_new("kube-apiserver-kubelet-client", &m->orgs);
	m->t.subject = m->subject;
	m->t.dns_names = &m->dns;
	m->t.ip_addresses = &m->ips;
	m->t.ext_key_usages = &m->eku;
	m->t.not_before = time(NULL) - 300;
	m->t.not_after = time(NULL) + 86400;
}

static void
tmpl_clear(struct tmpl *m)
{
	X509_NAME_free(m->subject);
	strv_clear(&m->orgs);
	strv_clear(&m->dns);
	strv_clear(&m->ips);
	strv_clear(&m->eku);
}

static void
check_info(X509 *leaf, X509 *again, const struct tmpl *m,
    const struct issue_row *row)
{
	struct cert_info ci;
	char *s2 = cert_serial_hex(again);

	memset(&ci, 0, sizeof(ci));
	CU_ASSERT_FATAL(cert_info_fill(leaf, &ci) == CR_OK);
	CU_ASSERT_CASE(strcmp(ci.subject,
			   "O=kubeadm:cluster-admins, "
			   "CN=kube-apiserver-kubelet-client") == 0,
	    row->name);
	CU_ASSERT_CASE(strcmp(ci.issuer, "CN=kubernetes") == 0, row->name);
	CU_ASSERT_CASE(strv_equal_set(&ci.ip_addresses, &m->ips), row->name);
	CU_ASSERT_CASE(strv_equal_set(&ci.ext_key_usages, &m->eku), row->name);
	/* Positive, at least 63 bits, fresh on every issue. */
	CU_ASSERT_CASE(strlen(ci.serial) >= 16 && ci.serial[0] != '-',
	    row->name);
	CU_ASSERT_CASE(strcmp(ci.serial, s2) != 0, row->name);
	free(s2);
	certinfo_clear(&ci);
}

static void
issue_one(const char *dir, const struct issue_row *row)
{
	X509 *ca = NULL, *leaf = NULL, *again = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	struct buf pem = BUF_INIT;
	struct tmpl m;
	char *path = ct_path(dir, "leaf.crt");
	char *ca_path = ct_path(dir, "ca.crt");
	const char *verify[] = { "openssl", "verify", "-CAfile", ca_path, path,
		NULL };

	make_ca(dir, row->alg, &ca, &ca_key);
	tmpl_init(&m);
	CU_ASSERT_FATAL(cert_key_new(row->alg, &key) == CR_OK);
	CU_ASSERT_FATAL(cert_issue(&m.t, key, ca, ca_key, &leaf) == CR_OK);
	CU_ASSERT_FATAL(cert_issue(&m.t, key, ca, ca_key, &again) == CR_OK);
	CU_ASSERT_FATAL(cert_to_pem(leaf, &pem) == CR_OK);
	ct_write(path, buf_cstr(&pem));
	CU_ASSERT_CASE(ct_run(verify, NULL) == 0, row->name);
	CU_ASSERT_CASE(cert_key_matches(leaf, key), row->name);
	check_info(leaf, again, &m, row);
	check_exts(path, ca_path, row);
	buf_clear(&pem);
	tmpl_clear(&m);
	X509_free(ca);
	X509_free(leaf);
	X509_free(again);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	free(path);
	free(ca_path);
}

static void
test_issue_accepted_by_openssl(void)
{
	static const struct issue_row rows[] = {
		{ "rsa-2048", CERT_KEY_RSA2048,
		    "Digital Signature, Key Encipherment" },
		{ "ecdsa-p256", CERT_KEY_ECDSA_P256, "Digital Signature" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		issue_one(ct_tmpdir(), &rows[i]);
}

static void
test_issue_rejects_bad_template(void)
{
	struct strv bad_ip = { NULL, 0 }, bad_eku = { NULL, 0 };
	X509_NAME *name = cert_name_new("x", NULL);
	EVP_PKEY *key = NULL;
	struct cert_tmpl t;
	X509 *x;

	CU_ASSERT_FATAL(cert_key_new(CERT_KEY_ECDSA_P256, &key) == CR_OK);
	strv_push(&bad_ip, "10.0.0.300");
	strv_push(&bad_eku, "notAUsage");
	memset(&t, 0, sizeof(t));
	t.subject = name;
	t.not_before = 1000;
	t.not_after = 1000;
	CU_ASSERT_EQUAL(cert_issue(&t, key, NULL, key, &x), CR_ERR_CONFIG);
	t.not_after = 2000;
	t.ip_addresses = &bad_ip;
	CU_ASSERT_EQUAL(cert_issue(&t, key, NULL, key, &x), CR_ERR_CONFIG);
	CU_ASSERT_PTR_NULL(x);
	t.ip_addresses = NULL;
	t.ext_key_usages = &bad_eku;
	CU_ASSERT_EQUAL(cert_issue(&t, key, NULL, key, &x), CR_ERR_CONFIG);
	t.subject = NULL;
	CU_ASSERT_EQUAL(cert_issue(&t, key, NULL, key, &x), CR_ERR_CONFIG);
	EVP_PKEY_free(key);
	CU_ASSERT_EQUAL(cert_key_new(CERT_KEY_KEEP, &key), CR_ERR_CONFIG);
	CU_ASSERT_PTR_NULL(key);
	cert_clear_errors();
	strv_clear(&bad_ip);
	strv_clear(&bad_eku);
	X509_NAME_free(name);
}

static void
test_pem_forms(void)
{
	static const struct {
		enum cert_keyalg alg;
		const char *header;
	} rows[] = {
		{ CERT_KEY_RSA2048, "-----BEGIN RSA PRIVATE KEY-----\n" },
		{ CERT_KEY_ECDSA_P256, "-----BEGIN EC PRIVATE KEY-----\n" },
	};
	struct buf b = BUF_INIT, both = BUF_INIT;
	EVP_PKEY *key, *back;
	X509 *x = NULL, *xback;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CU_ASSERT_FATAL(cert_key_new(rows[i].alg, &key) == CR_OK);
		CU_ASSERT_FATAL(cert_key_to_pem(key, &b) == CR_OK);
		CU_ASSERT_CASE(strncmp(buf_cstr(&b), rows[i].header,
				   strlen(rows[i].header)) == 0,
		    rows[i].header);
		CU_ASSERT_FATAL(cert_key_parse(b.data, b.len, &back) == CR_OK);
		CU_ASSERT_CASE(EVP_PKEY_eq(key, back) == 1, rows[i].header);
		buf_clear_secret(&b);
		EVP_PKEY_free(back);
		EVP_PKEY_free(key);
	}
	/* The kubelet's rotated file holds the certificate and the key. */
	make_ca(ct_tmpdir(), CERT_KEY_ECDSA_P256, &x, &key);
	CU_ASSERT_FATAL(cert_to_pem(x, &both) == CR_OK);
	CU_ASSERT_FATAL(cert_key_to_pem(key, &both) == CR_OK);
	CU_ASSERT_FATAL(cert_parse(both.data, both.len, &xback) == CR_OK);
	CU_ASSERT_FATAL(cert_key_parse(both.data, both.len, &back) == CR_OK);
	CU_ASSERT_TRUE(cert_key_matches(xback, back));
	CU_ASSERT_EQUAL(X509_cmp(x, xback), 0);
	CU_ASSERT_FATAL(cert_pubkey_to_pem(key, &b) == CR_OK);
	CU_ASSERT_NSTRING_EQUAL(buf_cstr(&b), "-----BEGIN PUBLIC KEY-----", 26);
	buf_clear(&b);
	buf_clear_secret(&both);
	X509_free(x);
	X509_free(xback);
	EVP_PKEY_free(key);
	EVP_PKEY_free(back);
}

static CU_TestInfo cert_tests[] = {
	{ "keyalg_parse", test_keyalg_parse },
	{ "key_formats", test_key_formats },
	{ "info_matches_openssl", test_info_matches_openssl },
	{ "info_of_ca", test_info_of_ca },
	{ "parse_rejects_malformed", test_parse_rejects_malformed },
	{ "key_match_and_verify", test_key_match_and_verify },
	{ "verify_file", test_verify_file },
	{ "issue_accepted_by_openssl", test_issue_accepted_by_openssl },
	{ "issue_rejects_bad_template", test_issue_rejects_bad_template },
	{ "pem_forms", test_pem_forms },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "cert", .pTests = cert_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
