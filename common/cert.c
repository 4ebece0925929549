#include "cert.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "fileio.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

static const struct keyalg {
	const char *name;  /* kubeadm's spelling */
	const char *type;  /* EVP_PKEY_Q_keygen() type */
	size_t bits;       /* RSA */
	const char *group; /* EC */
} keyalgs[CERT_KEY__MAX] = {
	[CERT_KEY_KEEP] = { "keep", NULL, 0, NULL },
	[CERT_KEY_RSA2048] = { "RSA-2048", "RSA", 2048, NULL },
	[CERT_KEY_RSA3072] = { "RSA-3072", "RSA", 3072, NULL },
	[CERT_KEY_RSA4096] = { "RSA-4096", "RSA", 4096, NULL },
	[CERT_KEY_ECDSA_P256] = { "ECDSA-P256", "EC", 0, "P-256" },
};

/* RFC 5280 key usage bits in certificate order, with Go/kubeadm names. */
static const struct {
	uint32_t bit;
	const char *name;
} key_usages[] = {
	{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
	{ KU_NON_REPUDIATION, "contentCommitment" },
	{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
	{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
	{ KU_KEY_AGREEMENT, "keyAgreement" },
	{ KU_KEY_CERT_SIGN, "keyCertSign" },
	{ KU_CRL_SIGN, "cRLSign" },
	{ KU_ENCIPHER_ONLY, "encipherOnly" },
	{ KU_DECIPHER_ONLY, "decipherOnly" },
};

static const struct {
	int nid;
	const char *name;
} ext_key_usages[] = {
	{ NID_server_auth, "serverAuth" },
	{ NID_client_auth, "clientAuth" },
	{ NID_code_sign, "codeSigning" },
	{ NID_email_protect, "emailProtection" },
	{ NID_time_stamp, "timeStamping" },
	{ NID_OCSP_sign, "OCSPSigning" },
	{ NID_anyExtendedKeyUsage, "any" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum cr_err
cert_keyalg_parse(const char *s, enum cert_keyalg *algp)
{
	size_t i;

	for (i = CERT_KEY_KEEP + 1; i < CERT_KEY__MAX; i++) {
		if (strcasecmp(s, keyalgs[i].name) == 0) {
			*algp = (enum cert_keyalg)i;
			return CR_OK;
		}
	}
	return CR_ERR_CONFIG;
}

const char *
cert_keyalg_name(enum cert_keyalg alg)
{
	return alg < CERT_KEY__MAX ? keyalgs[alg].name : "unknown";
}

/* The EC group's OpenSSL name ("prime256v1"), or "" when key is not EC. */
static void
ec_group(EVP_PKEY *key, char *group, size_t len)
{
	group[0] = '\0';
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
		group, len, NULL) != 1)
		group[0] = '\0';
}

/* cert_info's key_algorithm for key ("RSA-2048", "ECDSA-P256"). */
static char *
key_algorithm(EVP_PKEY *key)
{
	static const struct {
		const char *group, *name;
	} curves[] = {
		{ "prime256v1", "ECDSA-P256" },
		{ "secp384r1", "ECDSA-P384" },
		{ "secp521r1", "ECDSA-P521" },
	};
	char group[64];
	size_t i;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		return xasprintf("RSA-%d", EVP_PKEY_get_bits(key));
	case EVP_PKEY_ED25519:
		return xstrdup("Ed25519");
	case EVP_PKEY_EC:
		ec_group(key, group, sizeof(group));
		for (i = 0; i < NELEM(curves); i++)
			if (strcmp(group, curves[i].group) == 0)
				return xstrdup(curves[i].name);
		return xasprintf("ECDSA-%s", group[0] != '\0' ? group : "?");
	default:
		return xstrdup("unknown");
	}
}

enum cr_err
cert_keyalg_of(EVP_PKEY *key, enum cert_keyalg *algp)
{
	char *name = key_algorithm(key);
	enum cr_err err = cert_keyalg_parse(name, algp);

	free(name);
	return err == CR_OK ? CR_OK : CR_ERR_CERT;
}

enum cr_err
cert_parse(const void *pem, size_t len, X509 **certp)
{
	BIO *bio;
	X509 *x;

	*certp = NULL;
	if (len == 0 || len > CERT_MAX_PEM)
		return CR_ERR_CERT;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return CR_ERR_TLS;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL)
		return CR_ERR_CERT;
	*certp = x;
	return CR_OK;
}

enum cr_err
cert_load(const char *path, X509 **certp)
{
	struct buf b = BUF_INIT;
	enum cr_err err;

	*certp = NULL;
	if ((err = file_read(path, CERT_MAX_PEM, &b)) != CR_OK)
		return err;
	err = cert_parse(b.data, b.len, certp);
	buf_clear(&b);
	return err;
}

static char empty_passphrase[] = "";

enum cr_err
cert_key_parse(const void *pem, size_t len, EVP_PKEY **keyp)
{
	EVP_PKEY *key;
	BIO *bio;

	*keyp = NULL;
	if (len == 0 || len > CERT_MAX_PEM)
		return CR_ERR_CERT;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return CR_ERR_TLS;
	/* An empty passphrase: an encrypted key fails, nothing prompts. */
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, empty_passphrase);
	BIO_free(bio);
	if (key == NULL)
		return CR_ERR_CERT;
	*keyp = key;
	return CR_OK;
}

enum cr_err
cert_key_load(const char *path, EVP_PKEY **keyp)
{
	struct buf b = BUF_INIT;
	enum cr_err err;

	*keyp = NULL;
	if ((err = file_read(path, CERT_MAX_PEM, &b)) != CR_OK)
		return err;
	err = cert_key_parse(b.data, b.len, keyp);
	buf_clear_secret(&b);
	return err;
}

/* "O=system:masters, CN=kube-apiserver-etcd-client" for name. */
static char *
name_string(const X509_NAME *name)
{
	unsigned long flags = (XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ &
				  ~(unsigned long)ASN1_STRFLGS_ESC_MSB) |
	    ASN1_STRFLGS_UTF8_CONVERT;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long len;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, flags) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		s = xstrndup(data != NULL ? data : "",
		    len > 0 ? (size_t)len : 0);
	}
	BIO_free(bio);
	return s;
}

char *
cert_serial_hex(X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	char *s = xstrdup(hex != NULL ? hex : "");

	OPENSSL_free(hex);
	BN_free(bn);
	return s;
}

static int
asn1_time(const ASN1_TIME *t, time_t *outp)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*outp = timefmt_timegm(&tm);
	return 0;
}

/* Appends one SAN of the kinds kubeadm uses; others are ignored. */
static int
add_san(struct cert_info *ci, const GENERAL_NAME *gn)
{
	char addr[INET6_ADDRSTRLEN];
	const ASN1_STRING *s;
	char *dns;
	int len;

	if (gn->type == GEN_DNS) {
		s = gn->d.dNSName;
		len = ASN1_STRING_length(s);
		if (len < 0 ||
		    memchr(ASN1_STRING_get0_data(s), '\0', (size_t)len) != NULL)
			return -1;
		dns = xstrndup((const char *)ASN1_STRING_get0_data(s),
		    (size_t)len);
		strv_push(&ci->dns_names, dns);
		free(dns);
	} else if (gn->type == GEN_IPADD) {
		s = gn->d.iPAddress;
		len = ASN1_STRING_length(s);
		if ((len != 4 && len != 16) ||
		    inet_ntop(len == 4 ? AF_INET : AF_INET6,
			ASN1_STRING_get0_data(s), addr, sizeof(addr)) == NULL)
			return -1;
		strv_push(&ci->ip_addresses, addr);
	}
	return 0;
}

static int
fill_sans(X509 *cert, struct cert_info *ci)
{
	GENERAL_NAMES *gens;
	int i, rc = 0, crit = 0;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL)
		return crit == -1 ? 0 : -1;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && rc == 0; i++)
		rc = add_san(ci, sk_GENERAL_NAME_value(gens, i));
	GENERAL_NAMES_free(gens);
	return rc;
}

static void
fill_key_usages(X509 *cert, struct cert_info *ci)
{
	uint32_t ku = X509_get_key_usage(cert);
	size_t i;

	if (ku == UINT32_MAX)
		return;
	for (i = 0; i < NELEM(key_usages); i++)
		if (ku & key_usages[i].bit)
			strv_push(&ci->key_usages, key_usages[i].name);
}

static void
push_eku(struct strv *sv, const ASN1_OBJECT *obj)
{
	char oid[128];
	int nid = OBJ_obj2nid(obj);
	size_t i;

	for (i = 0; i < NELEM(ext_key_usages); i++) {
		if (ext_key_usages[i].nid == nid) {
			strv_push(sv, ext_key_usages[i].name);
			return;
		}
	}
	if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0)
		snprintf(oid, sizeof(oid), "unknown");
	strv_push(sv, oid);
}

static int
fill_ext_key_usages(X509 *cert, struct cert_info *ci)
{
	EXTENDED_KEY_USAGE *eku;
	int i, crit = 0;

	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL)
		return crit == -1 ? 0 : -1;
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		push_eku(&ci->ext_key_usages, sk_ASN1_OBJECT_value(eku, i));
	EXTENDED_KEY_USAGE_free(eku);
	return 0;
}

enum cr_err
cert_info_fill(X509 *cert, struct cert_info *ci)
{
	EVP_PKEY *pub;

	/* Decodes and caches the extensions; a broken one marks it invalid. */
	if (X509_check_purpose(cert, -1, 0) != 1 ||
	    (X509_get_extension_flags(cert) & EXFLAG_INVALID) != 0)
		goto bad;
	if ((ci->subject = name_string(X509_get_subject_name(cert))) == NULL ||
	    (ci->issuer = name_string(X509_get_issuer_name(cert))) == NULL)
		goto bad;
	ci->serial = cert_serial_hex(cert);
	if (asn1_time(X509_get0_notBefore(cert), &ci->not_before) == -1 ||
	    asn1_time(X509_get0_notAfter(cert), &ci->not_after) == -1)
		goto bad;
	if ((pub = X509_get0_pubkey(cert)) == NULL)
		goto bad;
	ci->key_algorithm = key_algorithm(pub);
	if (fill_sans(cert, ci) == -1 || fill_ext_key_usages(cert, ci) == -1)
		goto bad;
	fill_key_usages(cert, ci);
	ci->is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
	return CR_OK;
bad:
	certinfo_clear(ci);
	return CR_ERR_CERT;
}

bool
cert_key_matches(X509 *cert, EVP_PKEY *key)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	bool ok = pub != NULL && key != NULL && EVP_PKEY_eq(pub, key) == 1;

	ERR_clear_error();
	return ok;
}

static enum cr_err
verify_store(X509 *cert, X509_STORE *store, time_t at, char *why, size_t whylen)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	enum cr_err err = CR_ERR_TLS;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, at);
	/* kubeadm's CA may be an intermediate: trust it as an anchor. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	err = CR_ERR_VERIFY;
	if (X509_verify_cert(ctx) != 1) {
		snprintf(why, whylen, "%s",
		    X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	/* A partial chain may end at cert itself: that is no CA's signature. */
	if (sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) < 2) {
		snprintf(why, whylen, "not signed by a CA of the CA file");
		goto out;
	}
	err = CR_OK;
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return err;
}

enum cr_err
cert_verify(X509 *cert, X509 *ca, time_t at, char *why, size_t whylen)
{
	X509_STORE *store = X509_STORE_new();
	enum cr_err err = CR_ERR_TLS;

	if (store != NULL && X509_STORE_add_cert(store, ca) == 1)
		err = verify_store(cert, store, at, why, whylen);
	X509_STORE_free(store);
	return err;
}

/* Adds every certificate of the PEM text in b to store; returns how many. */
static int
store_add_pem(X509_STORE *store, const struct buf *b)
{
	BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);
	X509 *x;
	int n = 0;

	if (bio == NULL)
		return 0;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, x) == 1)
			n++;
		X509_free(x);
	}
	BIO_free(bio);
	/* The loop ends on "no start line": expected, not an error. */
	ERR_clear_error();
	return n;
}

enum cr_err
cert_verify_file(X509 *cert, const char *ca_file, time_t at, char *why,
    size_t whylen)
{
	struct buf b = BUF_INIT;
	X509_STORE *store = NULL;
	enum cr_err err;

	if ((err = file_read(ca_file, CERT_MAX_PEM, &b)) != CR_OK)
		return err;
	err = CR_ERR_TLS;
	if ((store = X509_STORE_new()) == NULL)
		goto out;
	err = CR_ERR_CERT;
	if (b.len == 0 || store_add_pem(store, &b) == 0)
		goto out;
	err = verify_store(cert, store, at, why, whylen);
out:
	X509_STORE_free(store);
	buf_clear(&b);
	return err;
}

enum cr_err
cert_key_new(enum cert_keyalg alg, EVP_PKEY **keyp)
{
	const struct keyalg *a;
	EVP_PKEY *key;

	*keyp = NULL;
	if (alg == CERT_KEY_KEEP || alg >= CERT_KEY__MAX)
		return CR_ERR_CONFIG;
	a = &keyalgs[alg];
	if (a->bits != 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, a->type, a->bits);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, a->type, a->group);
	if (key == NULL)
		return CR_ERR_TLS;
	*keyp = key;
	return CR_OK;
}

X509_NAME *
cert_name_new(const char *cn, const struct strv *orgs)
{
	X509_NAME *name = X509_NAME_new();
	size_t i;

	if (name == NULL)
		fatalx("out of memory");
	for (i = 0; orgs != NULL && i < orgs->n; i++)
		if (!X509_NAME_add_entry_by_NID(name, NID_organizationName,
			MBSTRING_UTF8, (const unsigned char *)orgs->v[i], -1,
			-1, 0))
			fatalx("cannot add O='%s' to a name", orgs->v[i]);
	if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
		(const unsigned char *)cn, -1, -1, 0))
		fatalx("cannot add CN='%s' to a name", cn);
	return name;
}

/* A random positive serial of 127 bits, as Go's 128-bit rand.Int. */
static int
set_serial(X509 *x)
{
	unsigned char raw[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	raw[0] &= 0x7f;
	raw[0] |= 0x01; /* never zero, never shorter than 63 bits */
	if ((bn = BN_bin2bn(raw, sizeof(raw), NULL)) == NULL)
		return -1;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int
set_validity(X509 *x, time_t not_before, time_t not_after)
{
	ASN1_TIME *nb = ASN1_TIME_set(NULL, not_before);
	ASN1_TIME *na = ASN1_TIME_set(NULL, not_after);
	int ok = nb != NULL && na != NULL && X509_set1_notBefore(x, nb) == 1 &&
	    X509_set1_notAfter(x, na) == 1;

	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return ok ? 0 : -1;
}

static GENERAL_NAME *
san_dns(const char *s)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	if (gn == NULL || ia5 == NULL || !ASN1_STRING_set(ia5, s, -1)) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(ia5);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	return gn;
}

static GENERAL_NAME *
san_ip(const char *s)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(s);
	GENERAL_NAME *gn;

	if (ip == NULL)
		return NULL;
	if ((gn = GENERAL_NAME_new()) == NULL) {
		ASN1_OCTET_STRING_free(ip);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	return gn;
}

static int
push_sans(GENERAL_NAMES *gens, const struct strv *sv,
    GENERAL_NAME *(*make)(const char *))
{
	GENERAL_NAME *gn;
	size_t i;

	for (i = 0; sv != NULL && i < sv->n; i++) {
		if ((gn = make(sv->v[i])) == NULL)
			return -1;
		if (sk_GENERAL_NAME_push(gens, gn) == 0) {
			GENERAL_NAME_free(gn);
			return -1;
		}
	}
	return 0;
}

static enum cr_err
add_sans(X509 *x, const struct cert_tmpl *t)
{
	GENERAL_NAMES *gens;
	enum cr_err err = CR_ERR_CONFIG;

	if ((t->dns_names == NULL || t->dns_names->n == 0) &&
	    (t->ip_addresses == NULL || t->ip_addresses->n == 0))
		return CR_OK;
	if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
		return CR_ERR_TLS;
	if (push_sans(gens, t->dns_names, san_dns) == 0 &&
	    push_sans(gens, t->ip_addresses, san_ip) == 0) {
		err = CR_ERR_TLS;
		if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
			X509V3_ADD_DEFAULT) == 1)
			err = CR_OK;
	}
	GENERAL_NAMES_free(gens);
	return err;
}

static ASN1_OBJECT *
eku_object(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(ext_key_usages); i++)
		if (strcmp(name, ext_key_usages[i].name) == 0)
			return OBJ_nid2obj(ext_key_usages[i].nid);
	/* Anything else must be a dotted OID, as cert_info reports it. */
	return OBJ_txt2obj(name, 1);
}

static enum cr_err
add_ext_key_usages(X509 *x, const struct strv *ekus)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *obj;
	enum cr_err err = CR_ERR_CONFIG;
	size_t i;

	if (ekus == NULL || ekus->n == 0)
		return CR_OK;
	if ((eku = sk_ASN1_OBJECT_new_null()) == NULL)
		return CR_ERR_TLS;
	for (i = 0; i < ekus->n; i++) {
		if ((obj = eku_object(ekus->v[i])) == NULL)
			goto out;
		if (sk_ASN1_OBJECT_push(eku, obj) == 0) {
			ASN1_OBJECT_free(obj);
			goto out;
		}
	}
	err = CR_ERR_TLS;
	if (X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0,
		X509V3_ADD_DEFAULT) == 1)
		err = CR_OK;
out:
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return err;
}

static int
add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* basicConstraints, keyUsage and the key identifiers (Go's choices). */
static int
add_fixed_exts(X509 *x, const struct cert_tmpl *t, EVP_PKEY *key, X509 *ca)
{
	bool rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
	X509V3_CTX ctx;
	char ku[96];

	X509V3_set_ctx(&ctx, ca != NULL ? ca : x, x, NULL, NULL, 0);
	snprintf(ku, sizeof(ku), "critical,digitalSignature%s%s",
	    rsa ? ",keyEncipherment" : "", t->is_ca ? ",keyCertSign" : "");
	if (add_conf_ext(x, &ctx, NID_basic_constraints,
		t->is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") == -1 ||
	    add_conf_ext(x, &ctx, NID_key_usage, ku) == -1)
		return -1;
	if (t->is_ca &&
	    add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash") == -1)
		return -1;
	/* Go sets an AKI only below another issuer, from its SKI. */
	if (ca != NULL && X509_get0_subject_key_id(ca) != NULL &&
	    add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid") == -1)
		return -1;
	return 0;
}

static enum cr_err
build(X509 *x, const struct cert_tmpl *t, EVP_PKEY *key, X509 *ca)
{
	const X509_NAME *issuer = ca != NULL ? X509_get_subject_name(ca) :
					       t->subject;
	enum cr_err err;

	if (X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) == -1 ||
	    X509_set_subject_name(x, t->subject) != 1 ||
	    X509_set_issuer_name(x, issuer) != 1 ||
	    set_validity(x, t->not_before, t->not_after) == -1 ||
	    X509_set_pubkey(x, key) != 1)
		return CR_ERR_TLS;
	if ((err = add_sans(x, t)) != CR_OK ||
	    (err = add_ext_key_usages(x, t->ext_key_usages)) != CR_OK)
		return err;
	return add_fixed_exts(x, t, key, ca) == 0 ? CR_OK : CR_ERR_TLS;
}

enum cr_err
cert_issue(const struct cert_tmpl *t, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
    X509 **certp)
{
	const EVP_MD *md;
	X509 *x;
	enum cr_err err;

	*certp = NULL;
	if (t->subject == NULL || t->not_after <= t->not_before)
		return CR_ERR_CONFIG;
	if ((x = X509_new()) == NULL)
		return CR_ERR_TLS;
	if ((err = build(x, t, key, ca)) != CR_OK)
		goto out;
	/* Ed25519 signs without a separate digest. */
	md = EVP_PKEY_get_base_id(ca_key) == EVP_PKEY_ED25519 ? NULL :
								EVP_sha256();
	err = CR_ERR_TLS;
	if (X509_sign(x, ca_key, md) <= 0)
		goto out;
	*certp = x;
	x = NULL;
	err = CR_OK;
out:
	X509_free(x);
	return err;
}

/* Moves the memory BIO's bytes to out; a fresh out is allocated once. */
static void
bio_to_buf(BIO *bio, struct buf *out)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0)
		return;
	buf_reserve(out, (size_t)len);
	buf_put(out, data, (size_t)len);
}

enum cr_err
cert_to_pem(X509 *cert, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	enum cr_err err = CR_ERR_TLS;

	if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1) {
		bio_to_buf(bio, out);
		err = CR_OK;
	}
	BIO_free(bio);
	return err;
}

enum cr_err
cert_key_to_pem(EVP_PKEY *key, struct buf *out)
{
	int id = EVP_PKEY_get_base_id(key);
	BIO *bio = BIO_new(BIO_s_mem());
	enum cr_err err = CR_ERR_TLS;
	int ok;

	if (bio == NULL)
		return err;
	/* The memory BIO wipes its buffer when freed (BUF_MEM_free). */
	if (id == EVP_PKEY_RSA || id == EVP_PKEY_EC)
		ok = PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL,
		    0, NULL, NULL);
	else
		ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
		    NULL);
	if (ok == 1) {
		bio_to_buf(bio, out);
		err = CR_OK;
	}
	BIO_free(bio);
	return err;
}

enum cr_err
cert_pubkey_to_pem(EVP_PKEY *key, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	enum cr_err err = CR_ERR_TLS;

	if (bio != NULL && PEM_write_bio_PUBKEY(bio, key) == 1) {
		bio_to_buf(bio, out);
		err = CR_OK;
	}
	BIO_free(bio);
	return err;
}

void
cert_log_errors(const char *fmt, ...)
{
	char msg[512], detail[256];
	unsigned long e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, detail, sizeof(detail));
		log_warnx("%s: %s", msg, detail);
	}
}

void
cert_clear_errors(void)
{
	ERR_clear_error();
}
