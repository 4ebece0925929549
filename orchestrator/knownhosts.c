/*
 * known_hosts handling; see knownhosts.h. The matching itself is
 * libssh2's; the scanner here only finds line numbers and key types for
 * messages and algorithm preferences, so it mirrors libssh2's rules (exact
 * names and |1| hashes, no wildcards).
 */
#include "knownhosts.h"

#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libssh2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"

/* known_hosts files are small; a bigger one is not a known_hosts file. */
#define KNOWNHOSTS_MAX ((size_t)16 * 1024 * 1024)

/* Serialises "read, append, replace" when parallel connects accept keys. */
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *name;
	int type;
	int kh_bits;
} keytypes[] = {
	{ "ssh-rsa", LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA },
	{ "ssh-dss", LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS },
	{ "ecdsa-sha2-nistp256", LIBSSH2_HOSTKEY_TYPE_ECDSA_256,
	    LIBSSH2_KNOWNHOST_KEY_ECDSA_256 },
	{ "ecdsa-sha2-nistp384", LIBSSH2_HOSTKEY_TYPE_ECDSA_384,
	    LIBSSH2_KNOWNHOST_KEY_ECDSA_384 },
	{ "ecdsa-sha2-nistp521", LIBSSH2_HOSTKEY_TYPE_ECDSA_521,
	    LIBSSH2_KNOWNHOST_KEY_ECDSA_521 },
	{ "ssh-ed25519", LIBSSH2_HOSTKEY_TYPE_ED25519,
	    LIBSSH2_KNOWNHOST_KEY_ED25519 },
};

#define NKEYTYPES (sizeof(keytypes) / sizeof(keytypes[0]))

char *
knownhosts_path(const char *explicit_path)
{
	const char *env = getenv(KNOWNHOSTS_ENV);
	const char *home = getenv("HOME");
	const struct passwd *pw;

	if (explicit_path != NULL && *explicit_path != '\0')
		return xstrdup(explicit_path);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if ((home == NULL || *home == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	return xasprintf("%s/.ssh/known_hosts", home != NULL ? home : "");
}

void
knownhosts_hostspec(const char *host, unsigned port, char *buf, size_t len)
{
	if (port == 0 || port == 22)
		snprintf(buf, len, "%s", host);
	else
		snprintf(buf, len, "[%s]:%u", host, port);
}

void
knownhosts_fingerprint(const unsigned char *digest, char *buf, size_t len)
{
	unsigned char b64[64];
	int n = EVP_EncodeBlock(b64, digest, 32);

	while (n > 0 && b64[n - 1] == '=')
		n--;
	snprintf(buf, len, "SHA256:%.*s", n, (const char *)b64);
}

const char *
knownhosts_keytype_name(int type)
{
	size_t i;

	for (i = 0; i < NKEYTYPES; i++)
		if (keytypes[i].type == type)
			return keytypes[i].name;
	return "unknown";
}

static int
keytype_bits(int type)
{
	size_t i;

	for (i = 0; i < NKEYTYPES; i++)
		if (keytypes[i].type == type)
			return keytypes[i].kh_bits;
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

/* Decodes standard base64 into out (at most max bytes); -1 if malformed. */
static int
b64_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
	unsigned char tmp[128];
	int len;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(tmp))
		return -1;
	if ((len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n)) < 0)
		return -1;
	if (s[n - 1] == '=')
		len--;
	if (s[n - 2] == '=')
		len--;
	if ((size_t)len > max)
		return -1;
	memcpy(out, tmp, (size_t)len);
	return len;
}

/* "|1|salt|hash": HMAC-SHA1 of the host spec keyed with the salt. */
static bool
hashed_match(const char *pat, size_t n, const char *spec)
{
	unsigned char salt[64], want[64], got[EVP_MAX_MD_SIZE];
	const char *bar;
	unsigned glen = 0;
	int slen, wlen;

	if (n < 4 || strncmp(pat, "|1|", 3) != 0)
		return false;
	pat += 3;
	n -= 3;
	if ((bar = memchr(pat, '|', n)) == NULL)
		return false;
	slen = b64_decode(pat, (size_t)(bar - pat), salt, sizeof(salt));
	wlen = b64_decode(bar + 1, n - (size_t)(bar - pat) - 1, want,
	    sizeof(want));
	if (slen <= 0 || wlen != 20)
		return false;
	if (HMAC(EVP_sha1(), salt, slen, (const unsigned char *)spec,
		strlen(spec), got, &glen) == NULL ||
	    glen != 20)
		return false;
	return memcmp(got, want, 20) == 0;
}

/* Does the comma-separated pattern field name spec? Sets *hashedp. */
static bool
hosts_match(const char *field, size_t flen, const char *spec, bool *hashedp)
{
	const char *p = field, *end = field + flen, *comma;
	size_t n;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		n = (size_t)((comma != NULL ? comma : end) - p);
		if (hashed_match(p, n, spec)) {
			*hashedp = true;
			return true;
		}
		if (n == strlen(spec) && strncasecmp(p, spec, n) == 0) {
			*hashedp = false;
			return true;
		}
		p += n + 1;
	}
	return false;
}

/* Splits off the next whitespace-separated field of [*p, end). */
static bool
next_field(const char **p, const char *end, const char **fp, size_t *np)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*fp = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*np = (size_t)(s - *fp);
	*p = s;
	return *np > 0;
}

static void
scan_line(const char *line, size_t len, unsigned lineno, const char *spec,
    struct knownhosts_list *out)
{
	const char *p = line, *end = line + len, *hosts, *type;
	size_t hlen, tlen;
	bool hashed = false;
	struct knownhosts_entry *e;

	if (!next_field(&p, end, &hosts, &hlen) || *hosts == '#' ||
	    *hosts == '@')
		return;
	if (!next_field(&p, end, &type, &tlen) || tlen >= sizeof(e->keytype))
		return;
	if (!hosts_match(hosts, hlen, spec, &hashed))
		return;
	out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
	e = &out->v[out->n++];
	e->line = lineno;
	snprintf(e->keytype, sizeof(e->keytype), "%.*s", (int)tlen, type);
	e->hashed = hashed;
}

void
knownhosts_scan(const char *data, size_t len, const char *host, unsigned port,
    struct knownhosts_list *out)
{
	char spec[300];
	const char *p = data, *end = data + len, *nl;
	unsigned lineno = 0;

	knownhosts_hostspec(host, port, spec, sizeof(spec));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		lineno++;
		scan_line(p, (size_t)((nl != NULL ? nl : end) - p), lineno,
		    spec, out);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

void
knownhosts_list_clear(struct knownhosts_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool
known_keytype(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYTYPES; i++)
		if (strcmp(name, keytypes[i].name) == 0)
			return true;
	return false;
}

/* Appends name to the comma-separated list in b unless it is there. */
static void
add_algorithm(struct buf *b, const char *name)
{
	const char *list = buf_cstr(b), *p = list;
	size_t n = strlen(name);

	for (; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\0'))
			return;
	buf_printf(b, "%s%s", b->len > 0 ? "," : "", name);
}

char *
knownhosts_algorithms(const struct knownhosts_list *known)
{
	static const char *const defaults[] = { "ssh-ed25519",
		"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "ssh-rsa", "ssh-dss" };
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < known->n; i++)
		if (known_keytype(known->v[i].keytype))
			add_algorithm(&b, known->v[i].keytype);
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		add_algorithm(&b, defaults[i]);
	return buf_detach(&b, NULL);
}

/*
 * Feeds every line libssh2 understands into hosts, one NUL-terminated
 * copy at a time (libssh2 reads the key up to the terminator); others
 * are skipped.
 */
static void
load_hosts(LIBSSH2_KNOWNHOSTS *hosts, const struct buf *file)
{
	const char *p = (const char *)file->data, *end = p + file->len, *nl;
	char *line;
	size_t n;

	while (p != NULL && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		line = xstrndup(p, n);
		if (n > 0 && *p != '#' && *p != '@' &&
		    libssh2_knownhost_readline(hosts, line, n,
			LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
			log_debug("known_hosts: skipping a line libssh2 cannot "
				  "parse");
		free(line);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

static enum cr_err
read_file(const struct knownhosts_check *c, struct buf *out)
{
	if (!file_exists(c->path))
		return CR_OK;
	if (file_read(c->path, KNOWNHOSTS_MAX, out) != CR_OK) {
		log_warn("node %s: cannot read known_hosts '%s'", c->node,
		    c->path);
		return CR_ERR_SYS;
	}
	return CR_OK;
}

/* The host key as received: raw bytes, type, fingerprint. */
struct hostkey {
	const char *key;
	size_t len;
	int type;
	char fp[64];
};

static enum cr_err
get_hostkey(LIBSSH2_SESSION *ls, const struct knownhosts_check *c,
    struct hostkey *hk)
{
	const char *digest;

	hk->key = libssh2_session_hostkey(ls, &hk->len, &hk->type);
	digest = libssh2_hostkey_hash(ls, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (hk->key == NULL || digest == NULL) {
		log_warnx("node %s: %s sent no usable host key", c->node,
		    c->host);
		return CR_ERR_SSH;
	}
	knownhosts_fingerprint((const unsigned char *)digest, hk->fp,
	    sizeof(hk->fp));
	return CR_OK;
}

/*
 * libssh2 falls back to a port-less entry for any port; OpenSSH does not
 * ("[host]:2222" and "host" are different hosts), and neither do we.
 */
static bool
has_exact_entry(const struct buf *file, const struct knownhosts_check *c,
    int type)
{
	struct knownhosts_list l = { NULL, 0 };
	bool found = false;
	size_t i;

	knownhosts_scan((const char *)file->data, file->len, c->host, c->port,
	    &l);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].keytype, knownhosts_keytype_name(type)) == 0)
			found = true;
	knownhosts_list_clear(&l);
	return found;
}

static int
check_key(const struct buf *file, const struct knownhosts_check *c,
    LIBSSH2_SESSION *ls, const struct hostkey *hk)
{
	LIBSSH2_KNOWNHOSTS *hosts;
	int rc;

	if ((hosts = libssh2_knownhost_init(ls)) == NULL)
		fatalx("libssh2_knownhost_init: out of memory");
	load_hosts(hosts, file);
	rc = libssh2_knownhost_checkp(hosts, c->host, (int)c->port, hk->key,
	    hk->len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
		keytype_bits(hk->type),
	    NULL);
	libssh2_knownhost_free(hosts);
	if (rc != LIBSSH2_KNOWNHOST_CHECK_FAILURE && c->port != 22 &&
	    !has_exact_entry(file, c, hk->type))
		rc = LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;
	return rc;
}

static void
report_changed(const struct buf *file, const struct knownhosts_check *c,
    const struct hostkey *hk)
{
	struct knownhosts_list l = { NULL, 0 };
	const char *type = knownhosts_keytype_name(hk->type);
	char spec[300], where[64] = "";
	size_t i;

	knownhosts_hostspec(c->host, c->port, spec, sizeof(spec));
	knownhosts_scan((const char *)file->data, file->len, c->host, c->port,
	    &l);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.v[i].keytype, type) == 0) {
			snprintf(where, sizeof(where), ":%u%s", l.v[i].line,
			    l.v[i].hashed ? " (hashed entry)" : "");
			break;
		}
	log_warnx("node %s: HOST KEY CHANGED: %s now presents %s %s, which "
		  "does not match %s%s; refusing to connect. Someone may be "
		  "intercepting the connection, or the node was reinstalled. "
		  "Check the fingerprint on the node (ssh-keygen -lf "
		  "/etc/ssh/ssh_host_*_key.pub); if the change is expected, "
		  "remove the old entry (ssh-keygen -R '%s' -f '%s') and "
		  "connect again with --accept-new-host-keys",
	    c->node, spec, type, hk->fp, c->path, where, spec, c->path);
	knownhosts_list_clear(&l);
}

static enum cr_err
record_key(const struct knownhosts_check *c, const struct hostkey *hk)
{
	struct buf file = BUF_INIT;
	char spec[300], *dir = NULL, *slash;
	unsigned char b64[4096];
	enum cr_err err = CR_ERR_SYS;

	if (hk->len > 3000)
		return CR_ERR_SSH;
	knownhosts_hostspec(c->host, c->port, spec, sizeof(spec));
	EVP_EncodeBlock(b64, (const unsigned char *)hk->key, (int)hk->len);
	pthread_mutex_lock(&record_lock);
	dir = xstrdup(c->path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (file_mkdirs(dir, 0700) != CR_OK)
			goto out;
	}
	if (read_file(c, &file) != CR_OK)
		goto out;
	if (file.len > 0 && file.data[file.len - 1] != '\n')
		buf_putc(&file, '\n');
	buf_printf(&file, "%s %s %s\n", spec, knownhosts_keytype_name(hk->type),
	    (const char *)b64);
	err = file_write_atomic(c->path, file.data, file.len, FILE_MODE_KEEP);
out:
	pthread_mutex_unlock(&record_lock);
	if (err != CR_OK)
		log_warn("node %s: cannot record the host key in '%s'", c->node,
		    c->path);
	else
		log_info("node %s: recorded new host key %s %s for %s in '%s'",
		    c->node, knownhosts_keytype_name(hk->type), hk->fp, spec,
		    c->path);
	free(dir);
	buf_clear(&file);
	return err;
}

static enum cr_err
refuse_unknown(const struct knownhosts_check *c, const struct hostkey *hk)
{
	char spec[300];

	knownhosts_hostspec(c->host, c->port, spec, sizeof(spec));
	log_warnx("node %s: unknown host key: %s presents %s %s, which is not "
		  "in '%s'; refusing to connect. Check the fingerprint on the "
		  "node (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then "
		  "record it with --accept-new-host-keys (or ssh-keyscan)",
	    c->node, spec, knownhosts_keytype_name(hk->type), hk->fp, c->path);
	return CR_ERR_SSH;
}

enum cr_err
knownhosts_verify(LIBSSH2_SESSION *ls, const struct knownhosts_check *c)
{
	struct buf file = BUF_INIT;
	struct hostkey hk;
	enum cr_err err;
	int rc;

	if ((err = get_hostkey(ls, c, &hk)) != CR_OK)
		return err;
	if ((err = read_file(c, &file)) != CR_OK)
		return err;
	rc = check_key(&file, c, ls, &hk);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		log_debug("node %s: host key %s %s matches '%s'", c->node,
		    knownhosts_keytype_name(hk.type), hk.fp, c->path);
		err = CR_OK;
	} else if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		report_changed(&file, c, &hk);
		err = CR_ERR_SSH;
	} else if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
		err = c->accept_new ? record_key(c, &hk) :
				      refuse_unknown(c, &hk);
	} else {
		log_warnx("node %s: cannot check the host key of %s against "
			  "'%s'",
		    c->node, c->host, c->path);
		err = CR_ERR_SSH;
	}
	buf_clear(&file);
	return err;
}
