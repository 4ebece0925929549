#include "kcfgcert.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fileio.h"
#include "xmalloc.h"

static void diag_set(struct ydoc_diag *diag, const struct ydoc_node *at,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
diag_set(struct ydoc_diag *diag, const struct ydoc_node *at, const char *fmt,
    ...)
{
	va_list ap;

	if (diag == NULL)
		return;
	diag->line = at != NULL ? at->line : 0;
	diag->col = at != NULL ? at->col : 0;
	va_start(ap, fmt);
	vsnprintf(diag->msg, sizeof(diag->msg), fmt, ap);
	va_end(ap);
}

/* Decodes base64 text (whitespace ignored) into out; -1 if malformed. */
static int
b64_decode(const char *s, struct buf *out)
{
	size_t n = strlen(s), m = 0, pad = 0, i;
	char *clean = xmalloc(n + 1);
	unsigned char *raw = NULL;
	int len, rc = -1;

	for (i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			clean[m++] = s[i];
	if (m == 0 || m % 4 != 0 || m > KCFGCERT_MAX_FILE)
		goto out;
	pad = (clean[m - 1] == '=') + (clean[m - 2] == '=');
	raw = xmalloc(m / 4 * 3 + 1);
	len = EVP_DecodeBlock(raw, (const unsigned char *)clean, (int)m);
	if (len < 0 || (size_t)len < pad)
		goto out;
	buf_reserve(out, (size_t)len - pad);
	buf_put(out, raw, (size_t)len - pad);
	rc = 0;
out:
	if (raw != NULL)
		freezero(raw, m / 4 * 3 + 1);
	freezero(clean, n + 1);
	return rc;
}

/* Base64 of b as a new string; wipe it with freezero_str(). */
static char *
b64_encode(const struct buf *b)
{
	size_t cap = 4 * ((b->len + 2) / 3) + 1;
	char *s = xmalloc(cap);

	EVP_EncodeBlock((unsigned char *)s, b->data, (int)b->len);
	return s;
}

/* The mapping `inner` of the item called name in the sequence root[list]. */
static struct ydoc_node *
find_named(const struct ydoc_node *root, const char *list, const char *name,
    const char *inner)
{
	const struct ydoc_node *seq = ydoc_get(root, list), *item;
	const char *s;
	size_t i;

	if (seq == NULL || seq->type != YDOC_SEQ)
		return NULL;
	for (i = 0; i < seq->nitems; i++) {
		item = seq->items[i];
		s = ydoc_scalar(ydoc_get(item, "name"));
		if (s != NULL && strcmp(s, name) == 0) {
			struct ydoc_node *v = ydoc_get(item, inner);

			return v != NULL && v->type == YDOC_MAP ? v : NULL;
		}
	}
	return NULL;
}

static enum cr_err
resolve_context(struct kcfgcert *kc, const struct ydoc_node *root,
    struct ydoc_diag *diag)
{
	const char *cc = ydoc_scalar(ydoc_get(root, "current-context"));
	const char *user, *cluster, *server;
	struct ydoc_node *ctx;

	if (cc == NULL || *cc == '\0') {
		diag_set(diag, root, "no current-context");
		return CR_ERR_CONFIG;
	}
	kc->context = xstrdup(cc);
	if ((ctx = find_named(root, "contexts", cc, "context")) == NULL) {
		diag_set(diag, ydoc_get(root, "current-context"),
		    "current-context '%s' is not defined in contexts", cc);
		return CR_ERR_CONFIG;
	}
	user = ydoc_scalar(ydoc_get(ctx, "user"));
	cluster = ydoc_scalar(ydoc_get(ctx, "cluster"));
	if (user == NULL || cluster == NULL) {
		diag_set(diag, ctx, "context '%s' names no user or cluster",
		    cc);
		return CR_ERR_CONFIG;
	}
	kc->user = xstrdup(user);
	kc->cluster = xstrdup(cluster);
	kc->user_node = find_named(root, "users", user, "user");
	kc->cluster_node = find_named(root, "clusters", cluster, "cluster");
	if (kc->user_node == NULL || kc->cluster_node == NULL) {
		diag_set(diag, ctx, "context '%s' names %s '%s', not defined",
		    cc, kc->user_node == NULL ? "user" : "cluster",
		    kc->user_node == NULL ? user : cluster);
		return CR_ERR_CONFIG;
	}
	if ((server = ydoc_scalar(ydoc_get(kc->cluster_node, "server"))) !=
	    NULL)
		kc->server = xstrdup(server);
	return CR_OK;
}

/* Where one piece of PEM material goes: its text and the file it came from. */
struct pem_dest {
	struct buf *pem;
	char **file;
};

/* Reads a file a kubeconfig refers to, relative to the kubeconfig's dir. */
static enum cr_err
read_ref(const struct kcfgcert *kc, const struct ydoc_node *at, const char *ref,
    const struct pem_dest *d, struct ydoc_diag *diag)
{
	const struct kcfgcert_remap *rm = kc->remap;
	size_t n = rm != NULL ? strlen(rm->from) : 0;
	char *dir = xstrdup(kc->path);
	char *path;
	enum cr_err err;
	int saved;

	if (rm != NULL && strncmp(ref, rm->from, n) == 0 && ref[n] == '/')
		path = file_path_join(rm->to, ref + n + 1);
	else
		path = file_path_join(dirname(dir), ref);
	free(dir);
	if ((err = file_read(path, KCFGCERT_MAX_FILE, d->pem)) != CR_OK) {
		saved = errno;
		diag_set(diag, at, "cannot read '%s': %s", path,
		    strerror(saved));
		free(path);
		errno = saved;
		return saved == ENOENT ? CR_ERR_NOTFOUND : err;
	}
	*d->file = path;
	return CR_OK;
}

/* Which fields one piece of PEM material comes from. */
struct pem_field {
	const char *data; /* embedded base64 */
	const char *file; /* file reference */
	bool required;
};

static enum cr_err
read_pem(const struct kcfgcert *kc, const struct ydoc_node *map,
    const struct pem_field *f, const struct pem_dest *d, struct ydoc_diag *diag)
{
	const struct ydoc_node *data = ydoc_get(map, f->data);
	const struct ydoc_node *file = ydoc_get(map, f->file);
	const char *s;

	if (data != NULL && !ydoc_is_null(data)) {
		if ((s = ydoc_scalar(data)) == NULL ||
		    b64_decode(s, d->pem) == -1) {
			diag_set(diag, data, "%s is not valid base64", f->data);
			return CR_ERR_CONFIG;
		}
		return CR_OK;
	}
	if (file != NULL && !ydoc_is_null(file)) {
		if ((s = ydoc_scalar(file)) == NULL) {
			diag_set(diag, file, "%s is not a path", f->file);
			return CR_ERR_CONFIG;
		}
		return read_ref(kc, file, s, d, diag);
	}
	if (!f->required)
		return CR_OK;
	diag_set(diag, map, "no %s or %s", f->data, f->file);
	return CR_ERR_CONFIG;
}

static enum cr_err
load_doc(struct kcfgcert *kc, struct ydoc_diag *diag)
{
	struct buf b = BUF_INIT;
	enum cr_err err;

	if ((err = file_read(kc->path, KCFGCERT_MAX_FILE, &b)) != CR_OK) {
		diag_set(diag, NULL, "cannot read: %s", strerror(errno));
		return err;
	}
	err = ydoc_parse((const char *)b.data, b.len, &kc->doc, diag);
	buf_clear_secret(&b);
	if (err != CR_OK)
		return err;
	if (ydoc_root(kc->doc, 0) == NULL ||
	    ydoc_root(kc->doc, 0)->type != YDOC_MAP) {
		diag_set(diag, ydoc_root(kc->doc, 0),
		    "not a kubeconfig mapping");
		return CR_ERR_CONFIG;
	}
	return CR_OK;
}

enum cr_err
kcfgcert_load(const char *path, struct kcfgcert **kcp, struct ydoc_diag *diag)
{
	return kcfgcert_load_remap(path, NULL, kcp, diag);
}

enum cr_err
kcfgcert_load_remap(const char *path, const struct kcfgcert_remap *remap,
    struct kcfgcert **kcp, struct ydoc_diag *diag)
{
	static const struct pem_field cert = { "client-certificate-data",
		"client-certificate", true };
	static const struct pem_field key = { "client-key-data", "client-key",
		true };
	static const struct pem_field ca = { "certificate-authority-data",
		"certificate-authority", false };
	struct kcfgcert *kc = xcalloc(1, sizeof(*kc));
	const struct pem_dest cert_dest = { &kc->cert_pem, &kc->cert_file };
	const struct pem_dest key_dest = { &kc->key_pem, &kc->key_file };
	const struct pem_dest ca_dest = { &kc->ca_pem, &kc->ca_file };
	enum cr_err err;

	*kcp = NULL;
	kc->path = xstrdup(path);
	kc->remap = remap;
	if ((err = load_doc(kc, diag)) != CR_OK ||
	    (err = resolve_context(kc, ydoc_root(kc->doc, 0), diag)) != CR_OK)
		goto out;
	if ((err = read_pem(kc, kc->user_node, &cert, &cert_dest, diag)) !=
		CR_OK ||
	    (err = read_pem(kc, kc->user_node, &key, &key_dest, diag)) !=
		CR_OK ||
	    (err = read_pem(kc, kc->cluster_node, &ca, &ca_dest, diag)) !=
		CR_OK)
		goto out;
	kc->remap = NULL;
	*kcp = kc;
	kc = NULL;
out:
	kcfgcert_free(kc);
	return err;
}

/* The named cluster's mapping and server, when path defines it. */
static void
select_cluster(struct kcfgcert *kc, const char *cluster)
{
	const char *server;

	if (cluster == NULL ||
	    (kc->cluster_node = find_named(ydoc_root(kc->doc, 0), "clusters",
		 cluster, "cluster")) == NULL)
		return;
	kc->cluster = xstrdup(cluster);
	if ((server = ydoc_scalar(ydoc_get(kc->cluster_node, "server"))) !=
	    NULL)
		kc->server = xstrdup(server);
}

enum cr_err
kcfgcert_load_user(const char *path, const char *user, const char *cluster,
    struct kcfgcert **kcp, struct ydoc_diag *diag)
{
	static const struct pem_field cert = { "client-certificate-data",
		"client-certificate", true };
	static const struct pem_field key = { "client-key-data", "client-key",
		true };
	static const struct pem_field ca = { "certificate-authority-data",
		"certificate-authority", false };
	struct kcfgcert *kc = xcalloc(1, sizeof(*kc));
	const struct pem_dest cert_dest = { &kc->cert_pem, &kc->cert_file };
	const struct pem_dest key_dest = { &kc->key_pem, &kc->key_file };
	const struct pem_dest ca_dest = { &kc->ca_pem, &kc->ca_file };
	enum cr_err err;

	*kcp = NULL;
	kc->path = xstrdup(path);
	if ((err = load_doc(kc, diag)) != CR_OK)
		goto out;
	kc->user = xstrdup(user);
	if ((kc->user_node = find_named(ydoc_root(kc->doc, 0), "users", user,
		 "user")) == NULL) {
		diag_set(diag, ydoc_root(kc->doc, 0),
		    "user '%s' is not defined in users", user);
		err = CR_ERR_NOTFOUND;
		goto out;
	}
	select_cluster(kc, cluster);
	if ((err = read_pem(kc, kc->user_node, &cert, &cert_dest, diag)) !=
		CR_OK ||
	    (err = read_pem(kc, kc->user_node, &key, &key_dest, diag)) !=
		CR_OK ||
	    (kc->cluster_node != NULL &&
		(err = read_pem(kc, kc->cluster_node, &ca, &ca_dest, diag)) !=
		    CR_OK))
		goto out;
	*kcp = kc;
	kc = NULL;
out:
	kcfgcert_free(kc);
	return err;
}

void
kcfgcert_free(struct kcfgcert *kc)
{
	if (kc == NULL)
		return;
	free(kc->path);
	free(kc->context);
	free(kc->user);
	free(kc->cluster);
	free(kc->server);
	buf_clear(&kc->cert_pem);
	free(kc->cert_file);
	buf_clear_secret(&kc->key_pem);
	free(kc->key_file);
	buf_clear(&kc->ca_pem);
	free(kc->ca_file);
	ydoc_free(kc->doc);
	free(kc);
}

bool
kcfgcert_embedded(const struct kcfgcert *kc)
{
	return kc->cert_file == NULL && kc->key_file == NULL;
}

static void
set_b64(struct kcfgcert *kc, struct ydoc_node *map, const char *key,
    const struct buf *pem)
{
	char *s = b64_encode(pem);

	ydoc_set_scalar(kc->doc, map, key, s, false);
	freezero_str(s);
}

static void
buf_replace(struct buf *dst, const struct buf *src, bool secret)
{
	if (secret)
		buf_clear_secret(dst);
	else
		buf_clear(dst);
	buf_reserve(dst, src->len);
	buf_put(dst, src->data, src->len);
}

enum cr_err
kcfgcert_replace(struct kcfgcert *kc, const struct kcfgcert_creds *c)
{
	struct buf out = BUF_INIT;
	bool ca = c->ca != NULL && c->ca->len > 0 &&
	    ydoc_get(kc->cluster_node, "certificate-authority-data") != NULL;
	enum cr_err err;
	int saved;

	if (!kcfgcert_embedded(kc))
		return CR_ERR_STATE;
	set_b64(kc, kc->user_node, "client-certificate-data", c->cert);
	set_b64(kc, kc->user_node, "client-key-data", c->key);
	if (ca)
		set_b64(kc, kc->cluster_node, "certificate-authority-data",
		    c->ca);
	if ((err = ydoc_emit(kc->doc, &out)) == CR_OK)
		err = file_write_atomic(kc->path, out.data, out.len,
		    FILE_MODE_KEEP);
	saved = errno;
	buf_clear_secret(&out);
	if (err == CR_OK) {
		buf_replace(&kc->cert_pem, c->cert, false);
		buf_replace(&kc->key_pem, c->key, true);
		if (ca)
			buf_replace(&kc->ca_pem, c->ca, false);
	}
	errno = saved;
	return err;
}
