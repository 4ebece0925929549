/*
 * The native renewer: re-issues a certificate from its CA as kubeadm's
 * renewal does (kubeadm.md §1.3): the same subject, SANs and extended key
 * usages as the current certificate, a new private key, a new random
 * serial, not-before five minutes back, not-after now + validity. Leaves
 * get key then certificate written atomically; kubeconfigs get their
 * embedded certificate, key and CA data replaced, nothing else.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_int.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"

/* The test door of agent_int.h; never set outside the unit tests. */
static enum agent_fault fault;
static char fault_name[64];

void
agent_renew_set_fault(enum agent_fault f, const char *name)
{
	fault = f;
	snprintf(fault_name, sizeof(fault_name), "%s",
	    name != NULL ? name : "");
}

static bool
faulty(const char *name, enum agent_fault f)
{
	return fault == f && strcmp(fault_name, name) == 0;
}

/* The CA pair that signs e, and the CA certificate's PEM text. */
struct signer {
	X509 *cert;
	EVP_PKEY *key;
	struct buf pem;
};

static enum cr_err
signer_load(const char *kdir, const struct pki_entry *e, struct signer *s)
{
	const struct pki_entry *ca = pki_find(e->ca);
	char *crt = file_path_join(kdir, ca->file);
	char *key = file_path_join(kdir, ca->key);
	enum cr_err err;

	memset(s, 0, sizeof(*s));
	if ((err = file_read(crt, CERT_MAX_PEM, &s->pem)) != CR_OK ||
	    (err = cert_parse(s->pem.data, s->pem.len, &s->cert)) != CR_OK) {
		log_warnx("renew '%s': cannot read its CA certificate '%s'",
		    e->name, crt);
		goto out;
	}
	if ((err = cert_key_load(key, &s->key)) != CR_OK ||
	    !cert_key_matches(s->cert, s->key)) {
		log_warnx("renew '%s': '%s' is not the key of CA '%s'", e->name,
		    key, crt);
		err = CR_ERR_CERT;
	}
out:
	free(crt);
	free(key);
	return err;
}

static void
signer_clear(struct signer *s)
{
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	buf_clear(&s->pem);
}

/* The new key: the algorithm asked for, else the current key's. */
static enum cr_err
new_key(const struct agent_renew_ctx *c, const struct pki_entry *e, X509 *cur,
    EVP_PKEY **keyp)
{
	enum cert_keyalg alg = c->o->key_algorithm;

	if (alg == CERT_KEY_KEEP &&
	    cert_keyalg_of(X509_get0_pubkey(cur), &alg) != CR_OK) {
		log_warnx("renew '%s': kubeadm cannot make a key like the "
			  "current one; pass --key-algorithm",
		    e->name);
		return CR_ERR_CERT;
	}
	if (cert_key_new(alg, keyp) != CR_OK) {
		cert_log_errors("renew '%s': generate a %s key", e->name,
		    cert_keyalg_name(alg));
		return CR_ERR_TLS;
	}
	return CR_OK;
}

/* The new certificate and key as PEM, from the current certificate. */
struct issued {
	struct buf cert;
	struct buf key; /* secret */
};

static enum cr_err
issue(const struct agent_renew_ctx *c, const struct pki_entry *e,
    const struct cert_info *before, X509 *cur, struct issued *out)
{
	struct strv ekus = { NULL, 0 };
	EVP_PKEY *key = NULL, *written = NULL;
	struct signer s;
	struct cert_tmpl t;
	X509 *x = NULL;
	enum cr_err err;
	size_t i;

	if ((err = signer_load(c->kdir, e, &s)) != CR_OK ||
	    (err = new_key(c, e, cur, &key)) != CR_OK)
		goto out;
	for (i = 0; i < before->ext_key_usages.n; i++)
		if (!faulty(e->name, AGENT_FAULT_DROP_CLIENT_AUTH) ||
		    strcmp(before->ext_key_usages.v[i], "clientAuth") != 0)
			strv_push(&ekus, before->ext_key_usages.v[i]);
	memset(&t, 0, sizeof(t));
	t.subject = X509_get_subject_name(cur);
	t.dns_names = &before->dns_names;
	t.ip_addresses = &before->ip_addresses;
	t.ext_key_usages = &ekus;
	t.not_before = c->o->now - CERT_BACKDATE_S;
	t.not_after = c->o->now + c->validity_s;
	if ((err = cert_issue(&t, key, s.cert, s.key, &x)) != CR_OK) {
		cert_log_errors("renew '%s': issue the certificate", e->name);
		goto out;
	}
	if (faulty(e->name, AGENT_FAULT_WRONG_KEY) &&
	    cert_key_new(CERT_KEY_ECDSA_P256, &written) != CR_OK)
		fatalx("test fault: no key");
	if ((err = cert_to_pem(x, &out->cert)) != CR_OK ||
	    (err = cert_key_to_pem(written != NULL ? written : key,
		 &out->key)) != CR_OK)
		cert_log_errors("renew '%s': encode PEM", e->name);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_free(written);
	strv_clear(&ekus);
	signer_clear(&s);
	return err;
}

/* kubeadm writes the key first, then the certificate. */
static enum cr_err
write_leaf(const struct agent_renew_ctx *c, const struct pki_entry *e,
    const struct issued *is)
{
	char *key = file_path_join(c->kdir, e->key);
	char *crt = file_path_join(c->kdir, e->file);
	enum cr_err err;

	if ((err = file_write_atomic(key, is->key.data, is->key.len, 0600)) !=
	    CR_OK)
		log_warn("renew '%s': write '%s'", e->name, key);
	else if ((err = file_write_atomic(crt, is->cert.data, is->cert.len,
		      FILE_MODE_KEEP)) != CR_OK)
		log_warn("renew '%s': write '%s'", e->name, crt);
	free(key);
	free(crt);
	return err;
}

static enum cr_err
write_kubeconfig(const struct agent_renew_ctx *c, const struct pki_entry *e,
    struct kcfgcert *kc, const struct issued *is)
{
	struct kcfgcert_creds creds;
	struct signer s;
	enum cr_err err;

	if ((err = signer_load(c->kdir, e, &s)) != CR_OK)
		return err;
	creds.cert = &is->cert;
	creds.key = &is->key;
	creds.ca = &s.pem; /* kubeadm refreshes the CA data from ca.crt */
	err = kcfgcert_replace(kc, &creds);
	if (err == CR_ERR_STATE)
		log_warnx("renew '%s': its credential is a file reference, "
			  "not embedded data; kubeadm renews only embedded "
			  "ones",
		    e->name);
	else if (err != CR_OK)
		log_warn("renew '%s': rewrite '%s'", e->name, kc->path);
	signer_clear(&s);
	return err;
}

static enum cr_err
native_renew(const struct agent_renew_ctx *c, const struct pki_entry *e,
    const struct cert_info *before)
{
	struct agent_load l = { c->kdir, NULL, false };
	struct agent_material m;
	struct issued is = { BUF_INIT, BUF_INIT };
	char why[512];
	enum cr_err err;

	if ((err = agent_material_load(&l, e, &m, why, sizeof(why))) != CR_OK) {
		log_warnx("renew '%s': %s", e->name, why);
		goto out;
	}
	if ((err = issue(c, e, before, m.cert, &is)) != CR_OK)
		goto out;
	if (e->kind == PKI_KUBECONFIG)
		err = write_kubeconfig(c, e, m.kc, &is);
	else
		err = write_leaf(c, e, &is);
out:
	buf_clear(&is.cert);
	buf_clear_secret(&is.key);
	agent_material_clear(&m);
	return err;
}

static const struct agent_renewer native = { "native", native_renew };

const struct agent_renewer *
agent_renewer_native(void)
{
	return &native;
}
