/*
 * libFuzzer target: certificate and key loading from PEM (common/cert.h),
 * the description of a certificate as a struct cert_info, the
 * orchestrator's kubecfg_pem_cert(), and certinfo's JSON decoder. Seeds:
 * tests/fuzz/corpus/pem (a kubeadm tree's certificates and keys as PEM and
 * as DER, and the agent's INSPECT rows as JSON).
 *
 * Input that holds no "-----BEGIN" is taken as DER and wrapped into a
 * CERTIFICATE block and a PRIVATE KEY block, so mutations reach the
 * certificate's extensions (SANs, usages) instead of dying in base64.
 *
 * Contract checked beyond memory safety:
 *   - a parsed certificate either describes itself fully (subject, issuer,
 *     serial, key algorithm) or is refused with the struct left cleared;
 *   - its description survives certinfo_to_json() / certinfo_from_json();
 *   - kubecfg_pem_cert() agrees with cert_info_fill();
 *   - PEM written by cert_to_pem() and cert_key_to_pem() parses back to
 *     the same certificate and key;
 *   - certinfo_from_json() either fails leaving the struct cleared, or its
 *     result encodes and decodes to the same JSON.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cert.h"
#include "certinfo.h"
#include "jv.h"
#include "kubecfg.h"

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The clock every residual time is computed from (CT_FIXED_NOW). */
#define FUZZ_NOW ((time_t)1795870800)

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static bool
has_pem(const uint8_t *data, size_t size)
{
	static const char mark[] = "-----BEGIN";
	size_t i, n = sizeof(mark) - 1;

	for (i = 0; i + n <= size; i++)
		if (memcmp(data + i, mark, n) == 0)
			return true;
	return false;
}

/* PEM as OpenSSL writes it: base64 in lines of 64. */
static void
wrap(struct buf *out, const char *label, const uint8_t *der, size_t len)
{
	char *b64 = calloc(1, 4 * ((len + 2) / 3) + 1);
	size_t i, n;

	if (b64 == NULL)
		abort();
	n = (size_t)EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
	buf_printf(out, "-----BEGIN %s-----\n", label);
	for (i = 0; i < n; i += 64)
		buf_printf(out, "%.*s\n", (int)(n - i < 64 ? n - i : 64),
		    b64 + i);
	buf_printf(out, "-----END %s-----\n", label);
	free(b64);
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_info(const struct cert_info *a, const struct cert_info *b)
{
	return same_str(a->subject, b->subject) &&
	    same_str(a->issuer, b->issuer) && same_str(a->serial, b->serial) &&
	    a->not_before == b->not_before && a->not_after == b->not_after &&
	    same_str(a->key_algorithm, b->key_algorithm) &&
	    strv_equal_set(&a->dns_names, &b->dns_names) &&
	    strv_equal_set(&a->ip_addresses, &b->ip_addresses) &&
	    strv_equal_set(&a->key_usages, &b->key_usages) &&
	    strv_equal_set(&a->ext_key_usages, &b->ext_key_usages) &&
	    a->is_ca == b->is_ca;
}

/* certinfo_to_json() and back gives the same description. */
static void
check_info_json(const struct cert_info *ci)
{
	json_object *o = certinfo_to_json(ci, FUZZ_NOW);
	struct cert_info back;

	memset(&back, 0, sizeof(back));
	if (certinfo_from_json(o, &back) != CR_OK || !same_info(ci, &back))
		abort();
	certinfo_clear(&back);
	json_object_put(o);
}

static void
check_cert(X509 *x, const char *pem, size_t len)
{
	struct cert_info ci, kc;
	struct buf out = BUF_INIT;
	X509 *again = NULL;
	enum cr_err err;

	memset(&ci, 0, sizeof(ci));
	memset(&kc, 0, sizeof(kc));
	if ((err = cert_info_fill(x, &ci)) == CR_OK) {
		ci.name = strdup("fuzz");
		if (ci.name == NULL || ci.subject == NULL ||
		    ci.issuer == NULL || ci.serial == NULL ||
		    ci.key_algorithm == NULL)
			abort();
		check_info_json(&ci);
	} else if (!all_zero(&ci, sizeof(ci))) {
		abort();
	}
	/* The orchestrator's reading of the same text agrees. */
	if (kubecfg_pem_cert(pem, len, &kc) != err ||
	    (err == CR_OK && !same_info(&ci, &kc)))
		abort();
	if (cert_to_pem(x, &out) != CR_OK ||
	    cert_parse(out.data, out.len, &again) != CR_OK ||
	    X509_cmp(x, again) != 0)
		abort();
	X509_free(again);
	buf_clear(&out);
	certinfo_clear(&kc);
	certinfo_clear(&ci);
}

static void
check_key(EVP_PKEY *key, X509 *x)
{
	struct buf out = BUF_INIT;
	EVP_PKEY *again = NULL;
	enum cert_keyalg alg;

	if (cert_keyalg_of(key, &alg) == CR_OK &&
	    (alg == CERT_KEY_KEEP || alg >= CERT_KEY__MAX))
		abort();
	if (x != NULL)
		(void)cert_key_matches(x, key);
	if (cert_key_to_pem(key, &out) == CR_OK) {
		if (cert_key_parse(out.data, out.len, &again) != CR_OK ||
		    EVP_PKEY_eq(key, again) != 1)
			abort();
		EVP_PKEY_free(again);
	}
	buf_clear_secret(&out);
	if (cert_pubkey_to_pem(key, &out) != CR_OK)
		abort();
	buf_clear(&out);
}

static void
check_pem(const char *pem, size_t len)
{
	X509 *x = NULL;
	EVP_PKEY *key = NULL;

	if (cert_parse(pem, len, &x) == CR_OK) {
		if (x == NULL)
			abort();
		check_cert(x, pem, len);
	} else if (x != NULL) {
		abort();
	}
	if (cert_key_parse(pem, len, &key) == CR_OK)
		check_key(key, x);
	else if (key != NULL)
		abort();
	EVP_PKEY_free(key);
	X509_free(x);
	cert_clear_errors();
}

/* certinfo_from_json() on the input as JSON (an object or an array). */
static void
check_json(const uint8_t *data, size_t size)
{
	json_object *o = NULL, *enc, *enc2;
	struct cert_info ci, back;
	char *first;

	if (jv_parse((const char *)data, size, &o, NULL, 0) != CR_OK)
		return;
	memset(&ci, 0, sizeof(ci));
	memset(&back, 0, sizeof(back));
	if (certinfo_from_json(o, &ci) != CR_OK) {
		if (!all_zero(&ci, sizeof(ci)))
			abort();
		json_object_put(o);
		return;
	}
	enc = certinfo_to_json(&ci, FUZZ_NOW);
	if ((first = strdup(jv_to_string(enc))) == NULL)
		abort();
	if (certinfo_from_json(enc, &back) != CR_OK)
		abort();
	enc2 = certinfo_to_json(&back, FUZZ_NOW);
	if (strcmp(first, jv_to_string(enc2)) != 0)
		abort();
	free(first);
	json_object_put(enc2);
	json_object_put(enc);
	certinfo_clear(&back);
	certinfo_clear(&ci);
	json_object_put(o);
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf pem = BUF_INIT;

	if (has_pem(data, size)) {
		check_pem((const char *)data, size);
		check_json(data, size);
		return 0;
	}
	check_json(data, size);
	if (size == 0 || size > CERT_MAX_PEM / 2)
		return 0;
	wrap(&pem, "CERTIFICATE", data, size);
	wrap(&pem, "PRIVATE KEY", data, size);
	check_pem((const char *)pem.data, pem.len);
	buf_clear(&pem);
	return 0;
}
