/*
 * OpenSSL certificate helpers shared by both programs: loading PEM
 * certificates and private keys, describing a certificate as a struct
 * cert_info (certinfo.h), checking that a key matches a certificate and
 * that a certificate chains to a CA, and issuing certificates the way
 * kubeadm's pkiutil does (used by the agent's native renewer and by the
 * test PKI generator).
 *
 * Like every codec in common/, nothing here logs: functions return a code
 * and, where an operator needs the reason, fill a caller's "why" buffer.
 * The layer that knows the subject calls cert_log_errors() to drain
 * OpenSSL's error queue into the log, once (rpki-client's cryptowarnx).
 *
 * OpenSSL ownership rules apply: X509 and EVP_PKEY results belong to the
 * caller (X509_free(), EVP_PKEY_free(); OpenSSL clears private key numbers
 * when the key is freed); PEM text of private keys is returned in a struct
 * buf that the caller must release with buf_clear_secret().
 */
#ifndef CR_CERT_H
#define CR_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "certinfo.h"
#include "err.h"

/* Largest PEM file the loaders read (a bundle of a few certificates). */
#define CERT_MAX_PEM ((size_t)1024 * 1024)

/* kubeadm backdates new certificates by five minutes (CertificateBackdate). */
#define CERT_BACKDATE_S 300

/* Private key types kubeadm knows (ClusterConfiguration.encryptionAlgorithm).
 */
enum cert_keyalg {
	CERT_KEY_KEEP = 0, /* follow the key being replaced */
	CERT_KEY_RSA2048,
	CERT_KEY_RSA3072,
	CERT_KEY_RSA4096,
	CERT_KEY_ECDSA_P256,
	CERT_KEY__MAX
};

/*
 * Parses an operator's spelling ("rsa-2048", "RSA-2048", "ecdsa-p256",
 * "ECDSA-P256") into *algp. Returns CR_ERR_CONFIG for anything else.
 */
enum cr_err cert_keyalg_parse(const char *s,
    enum cert_keyalg *algp) CR_MUST_CHECK;

/* kubeadm's name of alg ("RSA-2048", "ECDSA-P256"); "keep" for KEEP. */
const char *cert_keyalg_name(enum cert_keyalg alg);

/*
 * The algorithm of an existing key, as cert_info's key_algorithm names it.
 * Returns CR_ERR_CERT for a key kubeadm cannot make (Ed25519, P-384, ...).
 */
enum cr_err cert_keyalg_of(EVP_PKEY *key, enum cert_keyalg *algp) CR_MUST_CHECK;

/*
 * Parses the first PEM certificate in len bytes of pem. On success *certp
 * must be released with X509_free(). Returns CR_ERR_CERT when there is no
 * parsable certificate.
 */
enum cr_err cert_parse(const void *pem, size_t len, X509 **certp) CR_MUST_CHECK;

/*
 * Reads the first certificate of the PEM file path. Returns CR_ERR_SYS
 * (errno set) when the file cannot be read, CR_ERR_CERT when it holds no
 * certificate. On success *certp must be released with X509_free().
 */
enum cr_err cert_load(const char *path, X509 **certp) CR_MUST_CHECK;

/*
 * Parses an unencrypted PEM private key: PKCS#1 ("RSA PRIVATE KEY"),
 * SEC1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). Encrypted keys are
 * refused without prompting. On success *keyp must be released with
 * EVP_PKEY_free(). Returns CR_ERR_CERT when there is no usable key.
 */
enum cr_err cert_key_parse(const void *pem, size_t len,
    EVP_PKEY **keyp) CR_MUST_CHECK;

/* Like cert_key_parse() on the file path; the file's bytes are wiped. */
enum cr_err cert_key_load(const char *path, EVP_PKEY **keyp) CR_MUST_CHECK;

/*
 * Describes cert in *ci (which must be zeroed): subject and issuer as
 * "O=system:masters, CN=kube-apiserver-etcd-client", serial in upper-case
 * hex, validity, key algorithm ("RSA-2048", "ECDSA-P256", "Ed25519"), DNS
 * and IP SANs (IPv6 in the short form, "::1"), key usages, extended key
 * usages (unknown ones as dotted OIDs) and is_ca. name, file, ca, note and
 * the flags about files are the caller's. Returns CR_ERR_CERT for a
 * certificate OpenSSL cannot decode; *ci is then left cleared. On success
 * release the members with certinfo_clear().
 */
enum cr_err cert_info_fill(X509 *cert, struct cert_info *ci) CR_MUST_CHECK;

/* The serial of cert in upper-case hex, to free(). */
char *cert_serial_hex(X509 *cert);

/* True if key is the private key of cert's public key. */
bool cert_key_matches(X509 *cert, EVP_PKEY *key);

/*
 * Verifies that cert chains to ca and is valid at time at. ca is trusted
 * as an anchor even when it is an intermediate (kubeadm's CA may be one);
 * cert itself never is. Returns CR_ERR_VERIFY and OpenSSL's reason
 * in why ("certificate has expired", "unable to get local issuer
 * certificate") when it does not.
 */
enum cr_err cert_verify(X509 *cert, X509 *ca, time_t at, char *why,
    size_t whylen) CR_MUST_CHECK;

/*
 * Like cert_verify() against every certificate in the PEM file ca_file.
 * Returns CR_ERR_SYS or CR_ERR_CERT when ca_file cannot be used.
 */
enum cr_err cert_verify_file(X509 *cert, const char *ca_file, time_t at,
    char *why, size_t whylen) CR_MUST_CHECK;

/* Makes a new private key of alg (not CERT_KEY_KEEP); owned by the caller. */
enum cr_err cert_key_new(enum cert_keyalg alg, EVP_PKEY **keyp) CR_MUST_CHECK;

/* Extended key usages as kubeadm sets them. */
#define CERT_EKU_SERVER 0x1u
#define CERT_EKU_CLIENT 0x2u

/*
 * What cert_issue() puts into a certificate; every pointer is borrowed.
 * The subject is copied as it is (renewals keep it byte for byte); build a
 * new one with cert_name_new(). ext_key_usages holds names as cert_info
 * reports them ("serverAuth", "clientAuth", or a dotted OID).
 */
struct cert_tmpl {
	const X509_NAME *subject;
	const struct strv *dns_names;
	const struct strv *ip_addresses;
	const struct strv *ext_key_usages;
	bool is_ca;
	time_t not_before;
	time_t not_after;
};

/*
 * Builds "O=<org>..., CN=<cn>" as kubeadm (Go) encodes it: one RDN per
 * organisation, then the common name. orgs may be NULL. The result must be
 * released with X509_NAME_free().
 */
X509_NAME *cert_name_new(const char *cn, const struct strv *orgs);

/*
 * Issues a certificate for the public half of key from t, signed by
 * ca/ca_key; ca NULL makes a self-signed certificate (ca_key must then be
 * key). Like Go's x509.CreateCertificate under kubeadm: version 3, a
 * random positive 127-bit serial, critical basicConstraints, critical
 * keyUsage (digitalSignature plus keyEncipherment for RSA keys, plus
 * keyCertSign for CAs), the extended key usages, the DNS/IP SANs (kubeadm
 * gives a CA its CN as DNS name: pass it in t), a subjectKeyIdentifier on
 * CAs and, below another issuer, an authorityKeyIdentifier from the
 * issuer's. Returns CR_ERR_CONFIG for a
 * SAN or usage that does not parse, CR_ERR_TLS when
 * OpenSSL fails. On success *certp must be released with X509_free().
 */
enum cr_err cert_issue(const struct cert_tmpl *t, EVP_PKEY *key, X509 *ca,
    EVP_PKEY *ca_key, X509 **certp) CR_MUST_CHECK;

/* Appends cert as PEM ("CERTIFICATE") to out. */
enum cr_err cert_to_pem(X509 *cert, struct buf *out) CR_MUST_CHECK;

/*
 * Appends key as PEM to out the way kubeadm writes keys: PKCS#1 ("RSA
 * PRIVATE KEY") for RSA, SEC1 ("EC PRIVATE KEY") for EC, PKCS#8 otherwise.
 * out holds a secret: release it with buf_clear_secret().
 */
enum cr_err cert_key_to_pem(EVP_PKEY *key, struct buf *out) CR_MUST_CHECK;

/* Appends the public half of key as PEM ("PUBLIC KEY", as sa.pub). */
enum cr_err cert_pubkey_to_pem(EVP_PKEY *key, struct buf *out) CR_MUST_CHECK;

/*
 * Logs the message and then every entry of OpenSSL's error queue with
 * log_warnx(), emptying the queue. For the layer that knows the subject.
 */
void cert_log_errors(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Empties OpenSSL's error queue without logging (expected failures). */
void cert_clear_errors(void);

#endif /* CR_CERT_H */
