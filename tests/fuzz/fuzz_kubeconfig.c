/*
 * libFuzzer target: kubeconfig loading as the orchestrator does it
 * (orchestrator/kubecfg.h, kubectl's rules) and as the agent reads a
 * kubeconfig's credential and rewrites it (common/kcfgcert.h). Seeds:
 * tests/fuzz/corpus/kubeconfig (kubeadm's admin.conf and kubelet.conf,
 * client-go style files with file references, tokens and exec plugins,
 * and merges of several files).
 *
 * Input: up to three kubeconfig files separated by NUL bytes, then
 * optionally a context name after a third NUL. One file is loaded as
 * --kubeconfig; several as $KUBECONFIG, where the merge rules apply. The
 * files live in a private directory that also holds the files seeds
 * refer to (ca.crt, client.crt, client.key, token, pki/...), which is
 * $HOME too, so relative references resolve there.
 *
 * Confinement: kubeconfigs name files to read. An input any of whose YAML
 * scalars is an absolute path (outside /var/lib/kubelet/pki, which the
 * agent remaps into the private directory) or contains ".." is skipped,
 * so no input can make the target read anything else; exec plugins are
 * never run.
 *
 * Contract checked beyond memory safety: a failure explains itself and
 * returns nothing; a success has a context and a file, and a client
 * certificate exactly when it has a key; kcfgcert_replace() of an embedded
 * credential rewrites the file so that it loads again with the new certificate
 * and key.
 */
#include <sys/stat.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert.h"
#include "fileio.h"
#include "kcfgcert.h"
#include "kubecfg.h"
#include "ydoc.h"

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KUBELET_PKI "/var/lib/kubelet/pki"
#define MAX_FILES   3

static char dir[160];
static char context[256];
static struct buf new_cert = BUF_INIT, new_key = BUF_INIT;

/* A self-signed ECDSA certificate and its key as PEM. */
static void
make_pair(const char *cn, struct buf *crt, struct buf *key)
{
	struct cert_tmpl t;
	EVP_PKEY *k = NULL;
	X509_NAME *name = cert_name_new(cn, NULL);
	X509 *x = NULL;

	memset(&t, 0, sizeof(t));
	t.subject = name;
	t.not_before = 1795870800;
	t.not_after = t.not_before + 365 * 86400;
	if (cert_key_new(CERT_KEY_ECDSA_P256, &k) != CR_OK ||
	    cert_issue(&t, k, NULL, k, &x) != CR_OK ||
	    cert_to_pem(x, crt) != CR_OK || cert_key_to_pem(k, key) != CR_OK)
		abort();
	X509_free(x);
	EVP_PKEY_free(k);
	X509_NAME_free(name);
}

static void
put(const char *rel, const struct buf *a, const struct buf *b)
{
	char path[200];
	struct buf all = BUF_INIT;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	buf_put(&all, a->data, a->len);
	if (b != NULL)
		buf_put(&all, b->data, b->len);
	if (file_write_atomic(path, all.data, all.len, 0600) != CR_OK)
		abort();
	buf_clear(&all);
}

/* The private directory and the files seeds refer to. */
static void
setup(void)
{
	const char *base = getenv("TMPDIR");
	struct buf crt = BUF_INIT, key = BUF_INIT, token = BUF_INIT;

	/* Else tmpfs if there is one: kcfgcert_replace() fsyncs each write. */
	if (base == NULL || *base == '\0' || strlen(base) > 100)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/certroll-fuzz-kcfg.XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		abort();
	make_pair("kubernetes", &crt, &key);
	put("ca.crt", &crt, NULL);
	buf_clear(&crt);
	buf_clear_secret(&key);
	make_pair("kubernetes-admin", &crt, &key);
	put("client.crt", &crt, NULL);
	put("client.key", &key, NULL);
	put("kubelet-client-current.pem", &crt, &key);
	buf_puts(&token, "abcdef.0123456789abcdef\n");
	put("token", &token, NULL);
	make_pair("system:node:cp1", &new_cert, &new_key);
	buf_clear(&token);
	buf_clear(&crt);
	buf_clear_secret(&key);
	if (setenv("HOME", dir, 1) != 0)
		abort();
}

/* Removes the directory when the fuzzer exits. */
static void
teardown(void)
{
	static const char *const names[] = { "ca.crt", "client.crt",
		"client.key", "kubelet-client-current.pem", "token", "k0", "k1",
		"k2" };
	char path[200];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
	buf_clear(&new_cert);
	buf_clear_secret(&new_key);
}

static bool safe_node(const struct ydoc_node *n, unsigned depth,
    size_t *budget);

static bool
safe_scalar(const struct ydoc_node *n)
{
	const char *v = n->value;

	if (strstr(v, "..") != NULL)
		return false;
	return v[0] != '/' ||
	    strncmp(v, KUBELET_PKI "/", sizeof(KUBELET_PKI)) == 0;
}

static bool
safe_node(const struct ydoc_node *n, unsigned depth, size_t *budget)
{
	size_t i;

	if (depth > YDOC_MAX_DEPTH || (*budget)-- == 0)
		return false;
	if (n->type == YDOC_SCALAR)
		return safe_scalar(n) && strlen(n->value) == n->len;
	for (i = 0; i < n->nitems; i++)
		if (!safe_node(n->items[i], depth + 1, budget))
			return false;
	for (i = 0; i < n->npairs; i++)
		if (!safe_node(n->pairs[i].key, depth + 1, budget) ||
		    !safe_node(n->pairs[i].val, depth + 1, budget))
			return false;
	return true;
}

/* True when no scalar of text could name a file outside dir. */
static bool
confined(const uint8_t *text, size_t len)
{
	struct ydoc *doc = NULL;
	struct ydoc_diag diag;
	size_t budget = 20000, i;
	bool ok = true;

	if (ydoc_parse((const char *)text, len, &doc, &diag) != CR_OK)
		return true; /* nothing is read from a file that fails here */
	for (i = 0; ok && i < ydoc_count(doc); i++)
		ok = safe_node(ydoc_root(doc, i), 0, &budget);
	ydoc_free(doc);
	return ok;
}

/* The input's files, written as dir/k0..k2; returns how many. */
static size_t
split(const uint8_t *data, size_t size, char paths[MAX_FILES][200],
    const char **contextp)
{
	const uint8_t *p = data, *end = data + size, *nul;
	size_t n = 0, len;

	*contextp = NULL;
	while (n < MAX_FILES) {
		nul = memchr(p, '\0', (size_t)(end - p));
		len = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);
		if (!confined(p, len))
			return 0;
		snprintf(paths[n], sizeof(paths[n]), "%s/k%zu", dir, n);
		if (file_write_atomic(paths[n], p, len, 0600) != CR_OK)
			abort();
		n++;
		if (nul == NULL)
			return n;
		p = nul + 1;
	}
	/* What follows the third NUL names the context (--context). */
	len = (size_t)(end - p);
	if (len > 0 && len < sizeof(context) && memchr(p, '\0', len) == NULL) {
		memcpy(context, p, len);
		context[len] = '\0';
		*contextp = context;
	}
	return n;
}

static void
check_kubecfg(const struct kubecfg_opts *o)
{
	struct kubecfg *cfg = NULL;
	struct kubecfg_diag diag;
	struct kubecfg_cred cred;
	size_t clen = 0, klen = 0, alen = 0;
	const char *cert, *key;

	diag.msg[0] = '\0';
	if (kubecfg_load(o, &cfg, &diag) != CR_OK) {
		if (cfg != NULL || diag.msg[0] == '\0')
			abort();
		return;
	}
	cert = kubecfg_cert_pem(cfg, &clen);
	key = kubecfg_key_pem(cfg, &klen);
	(void)kubecfg_ca_pem(cfg, &alen);
	if (kubecfg_context_name(cfg) == NULL ||
	    (cert == NULL) != (key == NULL) ||
	    kubecfg_display_path(cfg) == NULL)
		abort();
	if (kubecfg_has_token_file(cfg) && kubecfg_token(cfg) == NULL)
		abort();
	(void)kubecfg_server(cfg);
	(void)kubecfg_cert_not_after(cfg);
	(void)kubecfg_tls_server_name(cfg);
	(void)kubecfg_proxy_url(cfg);
	(void)kubecfg_insecure(cfg);
	(void)kubecfg_disable_compression(cfg);
	/* A context may name no user (anonymous), as kubectl allows. */
	(void)kubecfg_cluster_name(cfg);
	(void)kubecfg_user_name(cfg);
	if (kubecfg_path(cfg) == NULL)
		abort();
	memset(&cred, 0, sizeof(cred));
	diag.msg[0] = '\0';
	/* An exec plugin is a program named by the input: never run it. */
	if (!kubecfg_has_exec(cfg)) {
		if (kubecfg_credential(cfg, &cred, &diag) == CR_OK)
			kubecfg_cred_clear(&cred);
		else if (diag.msg[0] == '\0')
			abort();
	}
	kubecfg_free(cfg);
}

/* Rewrites an embedded credential and reads the file back. */
static void
check_replace(struct kcfgcert *kc)
{
	struct kcfgcert_creds c = { &new_cert, &new_key, NULL };
	struct kcfgcert *again = NULL;
	struct ydoc_diag diag;

	if (kcfgcert_replace(kc, &c) != CR_OK)
		return;
	if (kcfgcert_load(kc->path, &again, &diag) != CR_OK ||
	    again->cert_pem.len != new_cert.len ||
	    memcmp(again->cert_pem.data, new_cert.data, new_cert.len) != 0 ||
	    again->key_pem.len != new_key.len ||
	    memcmp(again->key_pem.data, new_key.data, new_key.len) != 0)
		abort();
	kcfgcert_free(again);
}

static void
check_kcfgcert(const char *path)
{
	const struct kcfgcert_remap remap = { KUBELET_PKI, dir };
	struct kcfgcert *kc = NULL;
	struct ydoc_diag diag;

	diag.msg[0] = '\0';
	if (kcfgcert_load_remap(path, &remap, &kc, &diag) != CR_OK) {
		if (kc != NULL || diag.msg[0] == '\0')
			abort();
		return;
	}
	if (kc->context == NULL || kc->user == NULL || kc->cluster == NULL ||
	    kc->cert_pem.len == 0 || kc->key_pem.len == 0 ||
	    (kcfgcert_embedded(kc) &&
		(kc->cert_file != NULL || kc->key_file != NULL)))
		abort();
	if (kcfgcert_embedded(kc))
		check_replace(kc);
	kcfgcert_free(kc);
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char paths[MAX_FILES][200], list[3 * 200 + 3];
	struct kubecfg_opts o = { NULL, NULL };
	size_t n, i;

	if (dir[0] == '\0') {
		setup();
		atexit(teardown);
	}
	if ((n = split(data, size, paths, &o.context)) == 0)
		return 0;
	if (n == 1) {
		o.kubeconfig = paths[0];
		(void)unsetenv("KUBECONFIG");
	} else {
		list[0] = '\0';
		for (i = 0; i < n; i++)
			snprintf(list + strlen(list),
			    sizeof(list) - strlen(list), "%s%s",
			    i > 0 ? ":" : "", paths[i]);
		if (setenv("KUBECONFIG", list, 1) != 0)
			abort();
	}
	check_kubecfg(&o);
	check_kcfgcert(paths[0]);
	return 0;
}
