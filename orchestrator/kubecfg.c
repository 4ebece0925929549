#include "kubecfg.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cert.h"
#include "fileio.h"
#include "jv.h"
#include "run.h"
#include "timefmt.h"
#include "xmalloc.h"
#include "ydoc.h"

#define EXEC_API_V1      "client.authentication.k8s.io/v1"
#define EXEC_API_V1BETA1 "client.authentication.k8s.io/v1beta1"

/* An exec credential plugin (users[].user.exec). */
struct kexec {
	char *api_version;
	char *command;     /* as written, for messages */
	char **argv;       /* resolved command + args, NULL-terminated */
	char **env;        /* "NAME=value", NULL-terminated */
	char *interactive; /* Never, IfAvailable or Always */
	char *install_hint;
	bool provide_cluster_info;
};

struct kubecfg {
	char *path;
	char *display_path;
	char *context_name;
	char *cluster_name;
	char *user_name;
	char *server;
	char *tls_server_name;
	char *proxy_url;
	bool insecure;
	bool disable_compression;
	struct buf ca;
	struct buf cert;
	struct buf key; /* secret */
	char *token;    /* secret */
	char *token_file;
	struct kexec *exec;
	time_t cert_not_after;
};

/* One parsed kubeconfig file. */
struct kfile {
	char *path;
	char *display;
	char *dir;
	struct ydoc *doc;
	struct ydoc_node *root; /* NULL for an empty file */
};

struct kload {
	struct kfile *files;
	size_t n;
	char *label; /* names the set of files in messages */
	struct kubecfg_diag *diag;
};

/* A named entry of clusters, users or contexts, found in one file. */
struct kentry {
	const struct kfile *file;
	const char *list; /* "users" */
	const char *kind; /* "user" */
	size_t index;
	const struct ydoc_node *item; /* {name: ..., user: {...}} */
	const struct ydoc_node *body; /* the {...} */
};

static void diag_set(struct kubecfg_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
diag_set(struct kubecfg_diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

/* "FILE:LINE: users[0].user.FIELD: message" */
static void diag_field(const struct kload *kl, const struct kentry *e,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
diag_field(const struct kload *kl, const struct kentry *e, const char *field,
    const char *fmt, ...)
{
	const struct ydoc_node *at = e->body != NULL ? e->body : e->item;
	const struct ydoc_node *fn;
	char text[768];
	va_list ap;

	if (field != NULL && (fn = ydoc_get(e->body, field)) != NULL)
		at = fn;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	diag_set(kl->diag, "%s:%u: %s[%zu].%s%s%s: %s", e->file->display,
	    at->line, e->list, e->index, e->kind, field != NULL ? "." : "",
	    field != NULL ? field : "", text);
}

static char *
display_path(const char *path)
{
	const char *home = getenv("HOME");
	size_t n;

	if (home != NULL && (n = strlen(home)) > 1 &&
	    strncmp(path, home, n) == 0 && path[n] == '/')
		return xasprintf("~%s", path + n);
	return xstrdup(path);
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static char *
home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && *home != '\0')
		return xstrdup(home);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		return xstrdup(pw->pw_dir);
	return xstrdup("/");
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Appends the decoding of s (standard alphabet, whitespace ignored). */
static int
base64_decode(const char *s, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	uint32_t acc = 0;
	int bits = 0, pad = 0, v;

	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s))
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad != 0 || (v = b64_value((unsigned char)*s)) < 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(&tmp, (char)((acc >> bits) & 0xff));
		}
	}
	if (pad > 2 || bits >= 6)
		goto bad;
	buf_put(out, tmp.data, tmp.len);
	buf_clear_secret(&tmp);
	return 0;
bad:
	buf_clear_secret(&tmp);
	return -1;
}

static void
kfile_clear(struct kfile *f)
{
	free(f->path);
	free(f->display);
	free(f->dir);
	ydoc_free(f->doc);
}

static void
kload_clear(struct kload *kl)
{
	size_t i;

	for (i = 0; i < kl->n; i++)
		kfile_clear(&kl->files[i]);
	free(kl->files);
	free(kl->label);
}

/* Reads and parses one file; a missing optional file is skipped. */
static enum cr_err
kload_file(struct kload *kl, const char *path, bool required)
{
	struct buf data = BUF_INIT;
	struct ydoc_diag yd;
	struct kfile f = { 0 };
	enum cr_err err;

	f.path = xstrdup(path);
	f.display = display_path(path);
	if (file_read(path, KUBECFG_MAX_FILE, &data) != CR_OK) {
		err = CR_OK;
		if (required || errno != ENOENT) {
			diag_set(kl->diag, "%s: %s", f.display,
			    strerror(errno));
			err = CR_ERR_SYS;
		}
		goto out;
	}
	err = ydoc_parse((const char *)data.data, data.len, &f.doc, &yd);
	if (err != CR_OK) {
		diag_set(kl->diag, "%s:%u:%u: %s", f.display, yd.line, yd.col,
		    yd.msg);
		goto out;
	}
	f.root = ydoc_root(f.doc, 0);
	if (f.root != NULL && f.root->type != YDOC_MAP) {
		diag_set(kl->diag,
		    "%s:%u: not a kubeconfig (the top level is "
		    "a %s, not a mapping)",
		    f.display, f.root->line, ydoc_type_name(f.root->type));
		err = CR_ERR_CONFIG;
		goto out;
	}
	f.dir = dir_of(path);
	kl->files = xreallocarray(kl->files, kl->n + 1, sizeof(*kl->files));
	kl->files[kl->n++] = f;
	memset(&f, 0, sizeof(f));
out:
	buf_clear_secret(&data);
	kfile_clear(&f);
	return err;
}

/* $KUBECONFIG: ':'-separated, empty entries and duplicates dropped. */
static enum cr_err
kload_env(struct kload *kl, const char *list)
{
	struct strv seen = { 0 };
	char *copy = xstrdup(list), *p, *save = NULL;
	enum cr_err err = CR_OK;

	for (p = strtok_r(copy, ":", &save); p != NULL && err == CR_OK;
	     p = strtok_r(NULL, ":", &save)) {
		if (strv_has(&seen, p))
			continue;
		strv_push(&seen, p);
		err = kload_file(kl, p, false);
	}
	if (err == CR_OK && kl->n == 0) {
		diag_set(kl->diag, "none of the files in KUBECONFIG exist (%s)",
		    list);
		err = CR_ERR_CONFIG;
	}
	kl->label = xasprintf("KUBECONFIG (%s)", list);
	strv_clear(&seen);
	free(copy);
	return err;
}

static enum cr_err
kload_files(struct kload *kl, const struct kubecfg_opts *opts)
{
	const char *env = getenv("KUBECONFIG");
	char *home, *path;
	enum cr_err err;

	if (opts != NULL && opts->kubeconfig != NULL) {
		kl->label = display_path(opts->kubeconfig);
		return kload_file(kl, opts->kubeconfig, true);
	}
	if (env != NULL && *env != '\0')
		return kload_env(kl, env);
	home = home_dir();
	path = file_path_join(home, ".kube/config");
	kl->label = display_path(path);
	if ((err = kload_file(kl, path, true)) == CR_ERR_SYS && errno == ENOENT)
		diag_set(kl->diag,
		    "%s does not exist: pass --kubeconfig FILE "
		    "or set KUBECONFIG",
		    kl->label);
	free(path);
	free(home);
	return err;
}

static bool
find_named(const struct kload *kl, const char *list, const char *kind,
    const char *name, struct kentry *e)
{
	const struct ydoc_node *seq, *item;
	const char *n;
	size_t i, j;

	for (i = 0; i < kl->n; i++) {
		seq = ydoc_get(kl->files[i].root, list);
		if (seq == NULL || seq->type != YDOC_SEQ)
			continue;
		for (j = 0; j < seq->nitems; j++) {
			item = seq->items[j];
			n = ydoc_scalar(ydoc_get(item, "name"));
			if (n == NULL || strcmp(n, name) != 0)
				continue;
			*e = (struct kentry){ .file = &kl->files[i],
				.list = list,
				.kind = kind,
				.index = j,
				.item = item,
				.body = ydoc_get(item, kind) };
			return true;
		}
	}
	return false;
}

/* "a, b" from every file, in order, without repeats; "none" if empty. */
static char *
list_names(const struct kload *kl, const char *list)
{
	struct strv seen = { 0 };
	struct buf b = BUF_INIT;
	const struct ydoc_node *seq;
	const char *n;
	size_t i, j;

	for (i = 0; i < kl->n; i++) {
		seq = ydoc_get(kl->files[i].root, list);
		for (j = 0; seq != NULL && j < seq->nitems; j++) {
			n = ydoc_scalar(ydoc_get(seq->items[j], "name"));
			if (n == NULL || strv_has(&seen, n))
				continue;
			strv_push(&seen, n);
			buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", n);
		}
	}
	strv_clear(&seen);
	if (b.len == 0)
		buf_puts(&b, "none");
	return buf_detach(&b, NULL);
}

static const char *
current_context(const struct kload *kl)
{
	const char *s;
	size_t i;

	for (i = 0; i < kl->n; i++) {
		s = ydoc_scalar(ydoc_get(kl->files[i].root, "current-context"));
		if (s != NULL && *s != '\0')
			return s;
	}
	return NULL;
}

/* Finds name in list or explains what exists instead. */
static enum cr_err
lookup(const struct kload *kl, const char *list, const char *kind,
    const char *name, struct kentry *e)
{
	char *names;

	if (find_named(kl, list, kind, name, e)) {
		if (e->body != NULL && e->body->type == YDOC_MAP)
			return CR_OK;
		diag_set(kl->diag,
		    "%s:%u: %s[%zu]: '%s' is missing or not a "
		    "mapping",
		    e->file->display, e->item->line, list, e->index, kind);
		return CR_ERR_CONFIG;
	}
	names = list_names(kl, list);
	diag_set(kl->diag, "%s: %s \"%s\" not found (%s: %s)", kl->label, kind,
	    name, list, names);
	free(names);
	return CR_ERR_NOTFOUND;
}

/* A scalar field, or NULL when absent or null; reports a wrong type. */
static enum cr_err
scalar_field(const struct kload *kl, const struct kentry *e, const char *key,
    const char **vp)
{
	const struct ydoc_node *n = ydoc_get(e->body, key);

	*vp = NULL;
	if (n == NULL || ydoc_is_null(n))
		return CR_OK;
	if ((*vp = ydoc_scalar(n)) == NULL) {
		diag_field(kl, e, key, "expected a string, found a %s",
		    ydoc_type_name(n->type));
		return CR_ERR_CONFIG;
	}
	return CR_OK;
}

static enum cr_err
bool_field(const struct kload *kl, const struct kentry *e, const char *key,
    bool *vp)
{
	const struct ydoc_node *n = ydoc_get(e->body, key);

	*vp = false;
	if (n == NULL || ydoc_is_null(n) || ydoc_bool(n, vp))
		return CR_OK;
	diag_field(kl, e, key, "expected true or false");
	return CR_ERR_CONFIG;
}

/* Reads a "<x>-data" (base64) or "<x>" (file path) pair into out. */
static enum cr_err
load_bytes(const struct kload *kl, const struct kentry *e, const char *key,
    struct buf *out)
{
	char data_key[64];
	const char *v;
	char *path;
	enum cr_err err;

	snprintf(data_key, sizeof(data_key), "%s-data", key);
	if ((err = scalar_field(kl, e, data_key, &v)) != CR_OK)
		return err;
	if (v != NULL) {
		if (base64_decode(v, out) == 0)
			return CR_OK;
		diag_field(kl, e, data_key, "not valid base64");
		return CR_ERR_CONFIG;
	}
	if ((err = scalar_field(kl, e, key, &v)) != CR_OK || v == NULL)
		return err;
	path = file_path_join(e->file->dir, v);
	if (file_read(path, KUBECFG_MAX_FILE, out) != CR_OK) {
		diag_field(kl, e, key, "cannot read '%s': %s", path,
		    strerror(errno));
		err = CR_ERR_SYS;
	}
	free(path);
	return err;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum cr_err
check_proxy(const struct kload *kl, const struct kentry *e, const char *url)
{
	if (url == NULL || has_prefix(url, "http://") ||
	    has_prefix(url, "https://") || has_prefix(url, "socks5://"))
		return CR_OK;
	diag_field(kl, e, "proxy-url",
	    "unsupported scheme in '%s' (use http, https or socks5)", url);
	return CR_ERR_CONFIG;
}

static enum cr_err
load_cluster(const struct kload *kl, const struct kentry *e,
    struct kubecfg *cfg)
{
	const char *server, *tls_name, *proxy;
	enum cr_err err;

	if ((err = scalar_field(kl, e, "server", &server)) != CR_OK ||
	    (err = scalar_field(kl, e, "tls-server-name", &tls_name)) !=
		CR_OK ||
	    (err = scalar_field(kl, e, "proxy-url", &proxy)) != CR_OK ||
	    (err = check_proxy(kl, e, proxy)) != CR_OK ||
	    (err = bool_field(kl, e, "insecure-skip-tls-verify",
		 &cfg->insecure)) != CR_OK ||
	    (err = bool_field(kl, e, "disable-compression",
		 &cfg->disable_compression)) != CR_OK ||
	    (err = load_bytes(kl, e, "certificate-authority", &cfg->ca)) !=
		CR_OK)
		return err;
	if (server == NULL || *server == '\0') {
		diag_field(kl, e, NULL, "server is not set");
		return CR_ERR_CONFIG;
	}
	if (!has_prefix(server, "https://") && !has_prefix(server, "http://")) {
		diag_field(kl, e, "server", "'%s' is not an http(s) URL",
		    server);
		return CR_ERR_CONFIG;
	}
	if (cfg->insecure && cfg->ca.len > 0) {
		diag_field(kl, e, NULL,
		    "specifying a root certificates file "
		    "with the insecure flag is not allowed");
		return CR_ERR_CONFIG;
	}
	cfg->server = xstrdup(server);
	cfg->tls_server_name = tls_name != NULL ? xstrdup(tls_name) : NULL;
	cfg->proxy_url = proxy != NULL ? xstrdup(proxy) : NULL;
	return CR_OK;
}

static char *
trim_dup(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

static enum cr_err
read_token_file(const char *path, char **tokenp)
{
	struct buf b = BUF_INIT;
	enum cr_err err;

	if ((err = file_read(path, KUBECFG_MAX_FILE, &b)) == CR_OK)
		*tokenp = trim_dup((const char *)b.data, b.len);
	buf_clear_secret(&b);
	return err;
}

static enum cr_err
load_user_tls(const struct kload *kl, const struct kentry *e,
    struct kubecfg *cfg)
{
	struct cert_info ci = { 0 };
	enum cr_err err;

	if ((err = load_bytes(kl, e, "client-certificate", &cfg->cert)) !=
		CR_OK ||
	    (err = load_bytes(kl, e, "client-key", &cfg->key)) != CR_OK)
		return err;
	if (cfg->cert.len > 0 && cfg->key.len == 0) {
		diag_field(kl, e, NULL,
		    "client-certificate without client-key");
		return CR_ERR_CONFIG;
	}
	if (cfg->key.len > 0 && cfg->cert.len == 0) {
		diag_field(kl, e, NULL,
		    "client-key without client-certificate");
		return CR_ERR_CONFIG;
	}
	if (cfg->cert.len == 0)
		return CR_OK;
	if (kubecfg_pem_cert((const char *)cfg->cert.data, cfg->cert.len,
		&ci) != CR_OK) {
		diag_field(kl, e, NULL,
		    "the client certificate is not a PEM certificate");
		return CR_ERR_CERT;
	}
	cfg->cert_not_after = ci.not_after;
	certinfo_clear(&ci);
	return CR_OK;
}

static enum cr_err
load_user_token(const struct kload *kl, const struct kentry *e,
    struct kubecfg *cfg)
{
	const char *token, *file, *user, *pass;
	enum cr_err err;

	if ((err = scalar_field(kl, e, "token", &token)) != CR_OK ||
	    (err = scalar_field(kl, e, "tokenFile", &file)) != CR_OK ||
	    (err = scalar_field(kl, e, "username", &user)) != CR_OK ||
	    (err = scalar_field(kl, e, "password", &pass)) != CR_OK)
		return err;
	if ((user != NULL || pass != NULL) && (token != NULL || file != NULL)) {
		diag_field(kl, e, NULL,
		    "more than one authentication method "
		    "found for %s; found [token basicAuth], only one is "
		    "allowed",
		    cfg->user_name);
		return CR_ERR_CONFIG;
	}
	if (user != NULL || pass != NULL) {
		diag_field(kl, e, NULL,
		    "basic authentication (username and "
		    "password) is not supported; use a client certificate, "
		    "a token or an exec plugin");
		return CR_ERR_CONFIG;
	}
	if (ydoc_get(e->body, "auth-provider") != NULL) {
		diag_field(kl, e, "auth-provider",
		    "auth-provider plugins are "
		    "not supported; use an exec credential plugin");
		return CR_ERR_CONFIG;
	}
	if (file != NULL) {
		cfg->token_file = file_path_join(e->file->dir, file);
		if (read_token_file(cfg->token_file, &cfg->token) != CR_OK) {
			diag_field(kl, e, "tokenFile", "cannot read '%s': %s",
			    cfg->token_file, strerror(errno));
			return CR_ERR_SYS;
		}
	} else if (token != NULL)
		cfg->token = xstrdup(token);
	return CR_OK;
}

static void
kexec_free(struct kexec *x)
{
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; x->argv != NULL && x->argv[i] != NULL; i++)
		free(x->argv[i]);
	for (i = 0; x->env != NULL && x->env[i] != NULL; i++)
		freezero_str(x->env[i]);
	free(x->argv);
	free(x->env);
	free(x->api_version);
	free(x->command);
	free(x->interactive);
	free(x->install_hint);
	free(x);
}

/* Appends s to a NULL-terminated vector of n entries. */
static void
vec_push(char ***vp, size_t *np, char *s)
{
	*vp = xreallocarray(*vp, *np + 2, sizeof(**vp));
	(*vp)[(*np)++] = s;
	(*vp)[*np] = NULL;
}

static enum cr_err
exec_args(const struct kload *kl, const struct kentry *x, struct kexec *ex,
    size_t *nargv)
{
	const struct ydoc_node *seq = ydoc_get(x->body, "args");
	const char *s;
	size_t i;

	for (i = 0; seq != NULL && !ydoc_is_null(seq) && i < seq->nitems; i++) {
		if ((s = ydoc_scalar(seq->items[i])) == NULL)
			break;
		vec_push(&ex->argv, nargv, xstrdup(s));
	}
	if (seq == NULL || ydoc_is_null(seq) ||
	    (seq->type == YDOC_SEQ && i == seq->nitems))
		return CR_OK;
	diag_field(kl, x, "args", "expected a list of strings");
	return CR_ERR_CONFIG;
}

static enum cr_err
exec_env(const struct kload *kl, const struct kentry *x, struct kexec *ex,
    const char *user)
{
	const struct ydoc_node *seq = ydoc_get(x->body, "env");
	const char *name, *value;
	size_t i, n = 0;

	if (seq == NULL || ydoc_is_null(seq))
		return CR_OK;
	if (seq->type != YDOC_SEQ) {
		diag_field(kl, x, "env", "expected a list of {name, value}");
		return CR_ERR_CONFIG;
	}
	for (i = 0; i < seq->nitems; i++) {
		name = ydoc_scalar(ydoc_get(seq->items[i], "name"));
		value = ydoc_scalar(ydoc_get(seq->items[i], "value"));
		if (name == NULL || *name == '\0') {
			diag_field(kl, x, "env",
			    "env variable name must be "
			    "specified for %s to use exec authentication "
			    "plugin",
			    user);
			return CR_ERR_CONFIG;
		}
		vec_push(&ex->env, &n,
		    xasprintf("%s=%s", name, value != NULL ? value : ""));
	}
	return CR_OK;
}

/* client-go's validateAuthInfo rules for exec. */
static enum cr_err
exec_validate(const struct kload *kl, const struct kentry *x,
    const struct kexec *ex, const char *user)
{
	const char *mode = ex->interactive;

	if (ex->command == NULL || *ex->command == '\0') {
		diag_field(kl, x, NULL,
		    "command must be specified for %s to "
		    "use exec authentication plugin",
		    user);
		return CR_ERR_CONFIG;
	}
	if (ex->api_version == NULL || *ex->api_version == '\0') {
		diag_field(kl, x, NULL,
		    "apiVersion must be specified for %s "
		    "to use exec authentication plugin",
		    user);
		return CR_ERR_CONFIG;
	}
	if (strcmp(ex->api_version, EXEC_API_V1) != 0 &&
	    strcmp(ex->api_version, EXEC_API_V1BETA1) != 0) {
		diag_field(kl, x, "apiVersion",
		    "exec plugin: invalid apiVersion \"%s\"", ex->api_version);
		return CR_ERR_CONFIG;
	}
	if (mode == NULL && strcmp(ex->api_version, EXEC_API_V1) == 0) {
		diag_field(kl, x, NULL,
		    "interactiveMode must be specified "
		    "for %s to use exec authentication plugin",
		    user);
		return CR_ERR_CONFIG;
	}
	if (mode != NULL && strcmp(mode, "Never") != 0 &&
	    strcmp(mode, "IfAvailable") != 0 && strcmp(mode, "Always") != 0) {
		diag_field(kl, x, "interactiveMode",
		    "invalid interactiveMode for %s: \"%s\"", user, mode);
		return CR_ERR_CONFIG;
	}
	return CR_OK;
}

static enum cr_err
exec_scalars(const struct kload *kl, const struct kentry *x, struct kexec *ex)
{
	const char *api, *cmd, *mode, *hint;
	enum cr_err err;

	if ((err = scalar_field(kl, x, "apiVersion", &api)) != CR_OK ||
	    (err = scalar_field(kl, x, "command", &cmd)) != CR_OK ||
	    (err = scalar_field(kl, x, "interactiveMode", &mode)) != CR_OK ||
	    (err = scalar_field(kl, x, "installHint", &hint)) != CR_OK ||
	    (err = bool_field(kl, x, "provideClusterInfo",
		 &ex->provide_cluster_info)) != CR_OK)
		return err;
	ex->api_version = api != NULL ? xstrdup(api) : NULL;
	ex->command = cmd != NULL ? xstrdup(cmd) : NULL;
	ex->interactive = mode != NULL ? xstrdup(mode) : NULL;
	ex->install_hint = hint != NULL ? xstrdup(hint) : NULL;
	return CR_OK;
}

static enum cr_err
load_exec(const struct kload *kl, const struct kentry *e, struct kubecfg *cfg)
{
	struct kentry x = *e;
	struct kexec *ex = xcalloc(1, sizeof(*ex));
	size_t nargv = 0;
	enum cr_err err;

	x.kind = "user.exec";
	x.body = ydoc_get(e->body, "exec");
	if (x.body->type != YDOC_MAP) {
		diag_field(kl, e, "exec", "expected a mapping");
		err = CR_ERR_CONFIG;
		goto out;
	}
	if ((err = exec_scalars(kl, &x, ex)) != CR_OK ||
	    (err = exec_validate(kl, &x, ex, cfg->user_name)) != CR_OK)
		goto out;
	/* client-go resolves a command with a '/' against the file's dir. */
	vec_push(&ex->argv, &nargv,
	    strchr(ex->command, '/') != NULL ?
		file_path_join(e->file->dir, ex->command) :
		xstrdup(ex->command));
	if ((err = exec_args(kl, &x, ex, &nargv)) != CR_OK ||
	    (err = exec_env(kl, &x, ex, cfg->user_name)) != CR_OK)
		goto out;
	cfg->exec = ex;
	ex = NULL;
out:
	kexec_free(ex);
	return err;
}

static enum cr_err
load_user(const struct kload *kl, const struct kentry *e, struct kubecfg *cfg)
{
	const struct ydoc_node *x;
	enum cr_err err;

	if ((err = load_user_tls(kl, e, cfg)) != CR_OK ||
	    (err = load_user_token(kl, e, cfg)) != CR_OK)
		return err;
	x = ydoc_get(e->body, "exec");
	if (x != NULL && !ydoc_is_null(x))
		return load_exec(kl, e, cfg);
	return CR_OK;
}

static enum cr_err
context_refs(const struct kload *kl, const struct kentry *ctx,
    const char **clusterp, const char **userp)
{
	enum cr_err err;

	if ((err = scalar_field(kl, ctx, "cluster", clusterp)) != CR_OK ||
	    (err = scalar_field(kl, ctx, "user", userp)) != CR_OK)
		return err;
	if (*clusterp == NULL || **clusterp == '\0') {
		diag_field(kl, ctx, NULL, "no cluster is set");
		return CR_ERR_CONFIG;
	}
	return CR_OK;
}

static enum cr_err
resolve(const struct kload *kl, const char *name, struct kubecfg *cfg)
{
	struct kentry ctx, cl, us;
	const char *cluster, *user;
	enum cr_err err;

	if ((err = lookup(kl, "contexts", "context", name, &ctx)) != CR_OK ||
	    (err = context_refs(kl, &ctx, &cluster, &user)) != CR_OK)
		return err;
	cfg->context_name = xstrdup(name);
	cfg->cluster_name = xstrdup(cluster);
	if ((err = lookup(kl, "clusters", "cluster", cluster, &cl)) != CR_OK ||
	    (err = load_cluster(kl, &cl, cfg)) != CR_OK)
		return err;
	cfg->path = xstrdup(ctx.file->path);
	cfg->display_path = xstrdup(ctx.file->display);
	if (user == NULL || *user == '\0')
		return CR_OK;
	cfg->user_name = xstrdup(user);
	if ((err = lookup(kl, "users", "user", user, &us)) != CR_OK ||
	    (err = load_user(kl, &us, cfg)) != CR_OK)
		return err;
	free(cfg->path);
	free(cfg->display_path);
	cfg->path = xstrdup(us.file->path);
	cfg->display_path = xstrdup(us.file->display);
	return CR_OK;
}

enum cr_err
kubecfg_load(const struct kubecfg_opts *opts, struct kubecfg **cfgp,
    struct kubecfg_diag *diag)
{
	struct kload kl = { .diag = diag };
	struct kubecfg *cfg = xcalloc(1, sizeof(*cfg));
	const char *name;
	char *names;
	enum cr_err err;

	diag->msg[0] = '\0';
	if ((err = kload_files(&kl, opts)) != CR_OK)
		goto out;
	name = opts != NULL && opts->context != NULL ? opts->context :
						       current_context(&kl);
	if (name == NULL) {
		names = list_names(&kl, "contexts");
		diag_set(diag,
		    "%s: current-context is not set and --context "
		    "was not given (contexts: %s)",
		    kl.label, names);
		free(names);
		err = CR_ERR_CONFIG;
		goto out;
	}
	if ((err = resolve(&kl, name, cfg)) != CR_OK)
		goto out;
	*cfgp = cfg;
	cfg = NULL;
out:
	kubecfg_free(cfg);
	kload_clear(&kl);
	return err;
}

void
kubecfg_free(struct kubecfg *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->display_path);
	free(cfg->context_name);
	free(cfg->cluster_name);
	free(cfg->user_name);
	free(cfg->server);
	free(cfg->tls_server_name);
	free(cfg->proxy_url);
	buf_clear(&cfg->ca);
	buf_clear(&cfg->cert);
	buf_clear_secret(&cfg->key);
	freezero_str(cfg->token);
	free(cfg->token_file);
	kexec_free(cfg->exec);
	free(cfg);
}

const char *
kubecfg_server(const struct kubecfg *cfg)
{
	return cfg->server;
}

static const char *
buf_or_null(const struct buf *b, size_t *lenp)
{
	if (lenp != NULL)
		*lenp = b->len;
	return b->len > 0 ? (const char *)b->data : NULL;
}

const char *
kubecfg_ca_pem(const struct kubecfg *cfg, size_t *lenp)
{
	return buf_or_null(&cfg->ca, lenp);
}

const char *
kubecfg_cert_pem(const struct kubecfg *cfg, size_t *lenp)
{
	return buf_or_null(&cfg->cert, lenp);
}

const char *
kubecfg_key_pem(const struct kubecfg *cfg, size_t *lenp)
{
	return buf_or_null(&cfg->key, lenp);
}

const char *
kubecfg_token(const struct kubecfg *cfg)
{
	return cfg->token;
}

const char *
kubecfg_tls_server_name(const struct kubecfg *cfg)
{
	return cfg->tls_server_name;
}

const char *
kubecfg_proxy_url(const struct kubecfg *cfg)
{
	return cfg->proxy_url;
}

bool
kubecfg_insecure(const struct kubecfg *cfg)
{
	return cfg->insecure;
}

bool
kubecfg_disable_compression(const struct kubecfg *cfg)
{
	return cfg->disable_compression;
}

bool
kubecfg_has_exec(const struct kubecfg *cfg)
{
	return cfg->exec != NULL;
}

bool
kubecfg_has_token_file(const struct kubecfg *cfg)
{
	return cfg->token_file != NULL;
}

const char *
kubecfg_path(const struct kubecfg *cfg)
{
	return cfg->path;
}

const char *
kubecfg_display_path(const struct kubecfg *cfg)
{
	return cfg->display_path;
}

const char *
kubecfg_context_name(const struct kubecfg *cfg)
{
	return cfg->context_name;
}

const char *
kubecfg_cluster_name(const struct kubecfg *cfg)
{
	return cfg->cluster_name;
}

const char *
kubecfg_user_name(const struct kubecfg *cfg)
{
	return cfg->user_name;
}

time_t
kubecfg_cert_not_after(const struct kubecfg *cfg)
{
	return cfg->cert_not_after;
}

void
kubecfg_cred_clear(struct kubecfg_cred *cred)
{
	if (cred == NULL)
		return;
	freezero_str(cred->token);
	free(cred->cert_pem);
	if (cred->key_pem != NULL)
		freezero(cred->key_pem, cred->key_len);
	memset(cred, 0, sizeof(*cred));
}

static char *
base64_encode(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* KUBERNETES_EXEC_INFO: what the plugin may know about the call. */
static char *
exec_info(const struct kubecfg *cfg)
{
	json_object *o = json_object_new_object();
	json_object *spec = json_object_new_object();
	json_object *cl;
	char *s, *ca;

	jv_add_str(o, "kind", "ExecCredential");
	jv_add_str(o, "apiVersion", cfg->exec->api_version);
	jv_add_bool(spec, "interactive", false);
	if (cfg->exec->provide_cluster_info) {
		cl = json_object_new_object();
		jv_add_str(cl, "server", cfg->server);
		if (cfg->tls_server_name != NULL)
			jv_add_str(cl, "tls-server-name", cfg->tls_server_name);
		if (cfg->ca.len > 0) {
			ca = base64_encode(cfg->ca.data, cfg->ca.len);
			jv_add_str(cl, "certificate-authority-data", ca);
			free(ca);
		}
		if (cfg->proxy_url != NULL)
			jv_add_str(cl, "proxy-url", cfg->proxy_url);
		jv_add_bool(cl, "insecure-skip-tls-verify", cfg->insecure);
		jv_add_bool(cl, "disable-compression",
		    cfg->disable_compression);
		json_object_object_add(spec, "cluster", cl);
	}
	json_object_object_add(o, "spec", spec);
	s = xstrdup(jv_to_string(o));
	json_object_put(o);
	return s;
}

static enum cr_err
exec_status(json_object *status, struct kubecfg_cred *cred, char *msg,
    size_t len)
{
	const char *token = jv_str(status, "token");
	const char *cert = jv_str(status, "clientCertificateData");
	const char *key = jv_str(status, "clientKeyData");
	const char *exp = jv_str(status, "expirationTimestamp");
	int64_t ms = 0;

	if (token == NULL && cert == NULL && key == NULL) {
		snprintf(msg, len, "didn't return a token or cert/key pair");
		return CR_ERR_PROTO;
	}
	if ((cert == NULL) != (key == NULL)) {
		snprintf(msg, len,
		    "returned only certificate or key, not both");
		return CR_ERR_PROTO;
	}
	if (exp != NULL && timefmt_parse_rfc3339(exp, &ms) != CR_OK) {
		snprintf(msg, len,
		    "returned an invalid expirationTimestamp "
		    "\"%s\"",
		    exp);
		return CR_ERR_PROTO;
	}
	cred->token = token != NULL ? xstrdup(token) : NULL;
	if (cert != NULL) {
		cred->cert_pem = xstrdup(cert);
		cred->cert_len = strlen(cert);
		cred->key_pem = xstrdup(key);
		cred->key_len = strlen(key);
	}
	cred->expires_ms = ms;
	cred->from_exec = true;
	return CR_OK;
}

/* Parses an ExecCredential; never quotes the output (it holds secrets). */
static enum cr_err
exec_parse(const char *api_version, const struct buf *out,
    struct kubecfg_cred *cred, char *msg, size_t len)
{
	json_object *o = NULL, *status;
	const char *kind, *av;
	char jerr[128];
	enum cr_err err = CR_ERR_PROTO;

	if (jv_parse((const char *)out->data, out->len, &o, jerr,
		sizeof(jerr)) != CR_OK) {
		snprintf(msg, len, "printed invalid JSON (%s)", jerr);
		goto out;
	}
	kind = jv_str(o, "kind");
	av = jv_str(o, "apiVersion");
	if (kind == NULL || strcmp(kind, "ExecCredential") != 0) {
		snprintf(msg, len, "printed a %s, not an ExecCredential",
		    kind != NULL ? kind : "document without kind");
		goto out;
	}
	if (av == NULL || strcmp(av, api_version) != 0) {
		snprintf(msg, len,
		    "is configured to use API version %s, "
		    "plugin returned version %s",
		    api_version, av != NULL ? av : "(none)");
		goto out;
	}
	if ((status = jv_obj(o, "status")) == NULL) {
		snprintf(msg, len, "didn't return a status field");
		goto out;
	}
	err = exec_status(status, cred, msg, len);
out:
	json_object_put(o);
	return err;
}

/* The first line of the plugin's stderr, for the error message. */
static void
first_line(const struct buf *b, char *out, size_t len)
{
	const char *s = buf_cstr(b);
	size_t n = strcspn(s, "\n");

	snprintf(out, len, "%s%.*s", n > 0 ? ": " : "",
	    (int)(n < 300 ? n : 300), s);
}

static enum cr_err
exec_fail(const struct kubecfg *cfg, const struct run_cmd *c, enum cr_err err,
    struct kubecfg_diag *diag)
{
	const struct kexec *x = cfg->exec;
	char how[96], line[320];

	if (err == CR_ERR_SYS && errno == ENOENT) {
		diag_set(diag,
		    "%s: user \"%s\": exec plugin '%s' not found%s%s",
		    cfg->display_path, cfg->user_name, x->command,
		    x->install_hint != NULL ? "\n" : "",
		    x->install_hint != NULL ? x->install_hint : "");
		return CR_ERR_SUBPROC;
	}
	if (err == CR_ERR_SYS) {
		diag_set(diag,
		    "%s: user \"%s\": cannot run exec plugin '%s': "
		    "%s",
		    cfg->display_path, cfg->user_name, x->command,
		    strerror(errno));
		return CR_ERR_SUBPROC;
	}
	run_cmd_describe(c, how, sizeof(how));
	first_line(&c->err, line, sizeof(line));
	diag_set(diag, "%s: user \"%s\": exec plugin '%s' %s%s",
	    cfg->display_path, cfg->user_name, x->command, how, line);
	return err;
}

static enum cr_err
exec_run(const struct kubecfg *cfg, struct kubecfg_cred *cred,
    struct kubecfg_diag *diag)
{
	const struct kexec *x = cfg->exec;
	struct run_cmd c = RUN_CMD_INIT;
	char **env = NULL, *info = exec_info(cfg), msg[256];
	size_t n = 0, i;
	enum cr_err err;

	if (x->interactive != NULL && strcmp(x->interactive, "Always") == 0) {
		diag_set(diag,
		    "%s: user \"%s\": exec plugin '%s' needs a "
		    "terminal (interactiveMode: Always), but certroll runs it "
		    "without one",
		    cfg->display_path, cfg->user_name, x->command);
		free(info);
		return CR_ERR_CONFIG;
	}
	for (i = 0; x->env != NULL && x->env[i] != NULL; i++)
		vec_push(&env, &n, x->env[i]);
	vec_push(&env, &n, xasprintf("KUBERNETES_EXEC_INFO=%s", info));
	c.argv = (const char *const *)x->argv;
	c.env = (const char *const *)env;
	c.timeout_ms = KUBECFG_EXEC_TIMEOUT_MS;
	if ((err = run_cmd(&c)) != CR_OK)
		err = exec_fail(cfg, &c, err, diag);
	else if ((err = exec_parse(x->api_version, &c.out, cred, msg,
		      sizeof(msg))) != CR_OK)
		diag_set(diag, "%s: user \"%s\": exec plugin '%s' %s",
		    cfg->display_path, cfg->user_name, x->command, msg);
	buf_clear_secret(&c.out);
	run_cmd_clear(&c);
	free(env[n - 1]);
	free(env);
	free(info);
	return err;
}

static void
cred_add_static_tls(const struct kubecfg *cfg, struct kubecfg_cred *cred)
{
	if (cfg->cert.len == 0 || cred->cert_pem != NULL)
		return;
	cred->cert_pem = xstrndup((const char *)cfg->cert.data, cfg->cert.len);
	cred->cert_len = cfg->cert.len;
	cred->key_pem = xstrndup((const char *)cfg->key.data, cfg->key.len);
	cred->key_len = cfg->key.len;
}

enum cr_err
kubecfg_credential(const struct kubecfg *cfg, struct kubecfg_cred *cred,
    struct kubecfg_diag *diag)
{
	struct kubecfg_cred c = { 0 };
	enum cr_err err;

	if (cfg->exec != NULL) {
		if ((err = exec_run(cfg, &c, diag)) != CR_OK)
			return err;
	} else if (cfg->token_file != NULL) {
		if (read_token_file(cfg->token_file, &c.token) != CR_OK) {
			diag_set(diag,
			    "%s: user \"%s\": cannot read tokenFile "
			    "'%s': %s",
			    cfg->display_path, cfg->user_name, cfg->token_file,
			    strerror(errno));
			return CR_ERR_SYS;
		}
	} else if (cfg->token != NULL)
		c.token = xstrdup(cfg->token);
	cred_add_static_tls(cfg, &c);
	*cred = c;
	return CR_OK;
}

enum cr_err
kubecfg_pem_cert(const char *pem, size_t len, struct cert_info *ci)
{
	X509 *x = NULL;
	enum cr_err err;

	if (cert_parse(pem, len, &x) != CR_OK) {
		cert_clear_errors();
		return CR_ERR_CERT;
	}
	err = cert_info_fill(x, ci);
	X509_free(x);
	return err;
}
