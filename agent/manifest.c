#include "manifest.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "certinfo.h"
#include "duration.h"
#include "fileio.h"
#include "xmalloc.h"
#include "ydoc.h"

struct manifest {
	char *name;
	struct strv argv; /* command then args */
};

static const struct comp_row {
	const char *name;
	const char *file;
} comps[MANIFEST__MAX] = {
	[MANIFEST_ETCD] = { "etcd", "etcd.yaml" },
	[MANIFEST_APISERVER] = { "kube-apiserver", "kube-apiserver.yaml" },
	[MANIFEST_CONTROLLER_MANAGER] = { "kube-controller-manager",
	    "kube-controller-manager.yaml" },
	[MANIFEST_SCHEDULER] = { "kube-scheduler", "kube-scheduler.yaml" },
};

static enum cr_err diag_set(struct manifest_diag *d, const struct ydoc_node *at,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum cr_err
diag_set(struct manifest_diag *d, const struct ydoc_node *at, const char *fmt,
    ...)
{
	va_list ap;

	if (d == NULL)
		return CR_ERR_CONFIG;
	d->line = at != NULL ? at->line : 0;
	d->col = at != NULL ? at->col : 0;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return CR_ERR_CONFIG;
}

const char *
manifest_comp_name(enum manifest_comp c)
{
	return c < MANIFEST__MAX ? comps[c].name : "unknown";
}

const char *
manifest_comp_file(enum manifest_comp c)
{
	return c < MANIFEST__MAX ? comps[c].file : "unknown";
}

bool
manifest_comp_parse(const char *name, enum manifest_comp *cp)
{
	size_t i;

	for (i = 0; i < MANIFEST__MAX; i++)
		if (strcmp(name, comps[i].name) == 0) {
			*cp = (enum manifest_comp)i;
			return true;
		}
	return false;
}

enum cr_err
manifest_comp_set_parse(const char *list, unsigned *setp,
    struct manifest_diag *d)
{
	char *copy = xstrdup(list), *p = copy, *tok;
	enum manifest_comp c;
	unsigned set = 0;
	enum cr_err err = CR_OK;

	for (;;) {
		tok = p;
		if ((p = strchr(p, ',')) != NULL)
			*p++ = '\0';
		if (!manifest_comp_parse(tok, &c)) {
			err = diag_set(d, NULL,
			    "unknown component '%s' (use etcd, kube-apiserver, "
			    "kube-controller-manager or kube-scheduler)",
			    tok);
			break;
		}
		set |= MANIFEST_BIT(c);
		if (p == NULL)
			break;
	}
	free(copy);
	if (err == CR_OK)
		*setp = set;
	return err;
}

/* Appends the scalars of a command or args sequence to argv. */
static enum cr_err
take_items(const struct ydoc_node *seq, const char *what, struct strv *argv,
    struct manifest_diag *d)
{
	size_t i;

	if (seq == NULL || ydoc_is_null(seq))
		return CR_OK;
	if (seq->type != YDOC_SEQ)
		return diag_set(d, seq, "container %s is a %s, not a sequence",
		    what, ydoc_type_name(seq->type));
	for (i = 0; i < seq->nitems; i++) {
		if (seq->items[i]->type != YDOC_SCALAR)
			return diag_set(d, seq->items[i],
			    "container %s item is a %s, not a string", what,
			    ydoc_type_name(seq->items[i]->type));
		strv_push(argv, seq->items[i]->value);
	}
	return CR_OK;
}

static const struct ydoc_node *
first_container(const struct ydoc_node *root, struct manifest_diag *d)
{
	const struct ydoc_node *spec = ydoc_get(root, "spec");
	const struct ydoc_node *cs = ydoc_get(spec, "containers");

	if (spec == NULL || spec->type != YDOC_MAP) {
		diag_set(d, spec != NULL ? spec : root,
		    "manifest has no spec mapping");
		return NULL;
	}
	if (cs == NULL || cs->type != YDOC_SEQ || cs->nitems == 0 ||
	    cs->items[0]->type != YDOC_MAP) {
		diag_set(d, cs != NULL ? cs : spec,
		    "spec.containers is not a non-empty list of containers");
		return NULL;
	}
	return cs->items[0];
}

static const char *
pick_name(const struct ydoc_node *root, const struct ydoc_node *container)
{
	const struct ydoc_node *meta = ydoc_get(root, "metadata");
	const char *s;

	if ((s = ydoc_scalar(
		 ydoc_get(ydoc_get(meta, "labels"), "component"))) != NULL)
		return s;
	if ((s = ydoc_scalar(ydoc_get(meta, "name"))) != NULL)
		return s;
	return ydoc_scalar(ydoc_get(container, "name"));
}

static enum cr_err
from_root(const struct ydoc_node *root, struct manifest *m,
    struct manifest_diag *d)
{
	const char *kind = ydoc_scalar(ydoc_get(root, "kind"));
	const struct ydoc_node *c;
	const char *name;
	enum cr_err err;

	if (root == NULL || root->type != YDOC_MAP)
		return diag_set(d, root, "manifest is not a YAML mapping");
	if (kind != NULL && strcmp(kind, "Pod") != 0)
		return diag_set(d, ydoc_get(root, "kind"),
		    "manifest kind is '%s', not 'Pod'", kind);
	if ((c = first_container(root, d)) == NULL)
		return CR_ERR_CONFIG;
	if ((err = take_items(ydoc_get(c, "command"), "command", &m->argv,
		 d)) != CR_OK ||
	    (err = take_items(ydoc_get(c, "args"), "args", &m->argv, d)) !=
		CR_OK)
		return err;
	if (m->argv.n == 0)
		return diag_set(d, c, "the container has no command or args");
	if ((name = pick_name(root, c)) == NULL || *name == '\0')
		return diag_set(d, root,
		    "manifest names no component (metadata.labels.component, "
		    "metadata.name or the container's name)");
	m->name = xstrdup(name);
	return CR_OK;
}

enum cr_err
manifest_parse(const char *data, size_t len, struct manifest **mp,
    struct manifest_diag *d)
{
	struct ydoc *doc = NULL;
	struct ydoc_diag yd;
	struct manifest *m = NULL;
	enum cr_err err;

	*mp = NULL;
	if (ydoc_parse(data, len, &doc, &yd) != CR_OK) {
		if (d != NULL) {
			d->line = yd.line;
			d->col = yd.col;
			snprintf(d->msg, sizeof(d->msg), "%s", yd.msg);
		}
		return CR_ERR_CONFIG;
	}
	m = xcalloc(1, sizeof(*m));
	if (ydoc_count(doc) != 1)
		err = diag_set(d, NULL, "expected one YAML document, found %zu",
		    ydoc_count(doc));
	else
		err = from_root(ydoc_root(doc, 0), m, d);
	ydoc_free(doc);
	if (err == CR_OK) {
		*mp = m;
		m = NULL;
	}
	manifest_free(m);
	return err;
}

enum cr_err
manifest_load(const char *path, struct manifest **mp, struct manifest_diag *d)
{
	struct buf b = BUF_INIT;
	enum cr_err err;

	*mp = NULL;
	if ((err = file_read(path, MANIFEST_MAX_SIZE, &b)) != CR_OK)
		return err;
	err = manifest_parse((const char *)b.data, b.len, mp, d);
	buf_clear(&b);
	return err;
}

void
manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	free(m->name);
	strv_clear(&m->argv);
	free(m);
}

const char *
manifest_name(const struct manifest *m)
{
	return m->name;
}

size_t
manifest_argc(const struct manifest *m)
{
	return m->argv.n;
}

const char *
manifest_arg(const struct manifest *m, size_t i)
{
	return i < m->argv.n ? m->argv.v[i] : NULL;
}

const char *
manifest_flag(const struct manifest *m, const char *flag)
{
	size_t i, fl = strlen(flag);
	const char *a, *val = NULL;

	if (m == NULL)
		return NULL;
	for (i = 1; i < m->argv.n; i++) {
		a = m->argv.v[i];
		if (strncmp(a, flag, fl) != 0)
			continue;
		if (a[fl] == '=')
			val = a + fl + 1;
		else if (a[fl] == '\0' && i + 1 < m->argv.n &&
		    strncmp(m->argv.v[i + 1], "--", 2) != 0)
			val = m->argv.v[++i];
		else if (a[fl] == '\0')
			val = "";
	}
	return val;
}

/* How one endpoint of a component is found in its flags. */
struct ep_rule {
	const char *role;
	const char *url_flags[2];  /* etcd: URL lists, first present wins */
	const char *addr_flags[2]; /* others: address flags, in order */
	const char *port_flag;
	const char *def_port;
	const char *cert_flag;
};

static const struct ep_rule rules[MANIFEST__MAX][MANIFEST_MAX_ENDPOINTS] = {
	[MANIFEST_ETCD] = {
	    { "client", { "--listen-client-urls", "--advertise-client-urls" },
		{ NULL, NULL }, NULL, "2379", "--cert-file" },
	    { "peer",
		{ "--listen-peer-urls", "--initial-advertise-peer-urls" },
		{ NULL, NULL }, NULL, "2380", "--peer-cert-file" },
	},
	[MANIFEST_APISERVER] = {
	    { "secure", { NULL, NULL },
		{ "--advertise-address", "--bind-address" }, "--secure-port",
		"6443", "--tls-cert-file" },
	},
	[MANIFEST_CONTROLLER_MANAGER] = {
	    { "secure", { NULL, NULL }, { "--bind-address", NULL },
		"--secure-port", "10257", "--tls-cert-file" },
	},
	[MANIFEST_SCHEDULER] = {
	    { "secure", { NULL, NULL }, { "--bind-address", NULL },
		"--secure-port", "10259", "--tls-cert-file" },
	},
};

static bool
valid_port(const char *s, size_t len)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static bool
valid_host(const char *h)
{
	unsigned char a[16];
	const char *p;

	if (inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1)
		return true;
	if (*h == '\0' || *h == '-' || *h == '.')
		return false;
	for (p = h; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return false;
	return true;
}

static bool
is_wildcard(const char *h)
{
	return strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
}

static bool
is_loopback(const char *h)
{
	return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 ||
	    strcmp(h, "localhost") == 0;
}

/* Sets the probe address: a wildcard listener is reached on loopback. */
static void
set_host(struct manifest_endpoint *ep, const char *h, size_t len)
{
	snprintf(ep->host, sizeof(ep->host), "%.*s", (int)len, h);
	if (strcmp(ep->host, "::") == 0)
		snprintf(ep->host, sizeof(ep->host), "::1");
	else if (is_wildcard(ep->host))
		snprintf(ep->host, sizeof(ep->host), "127.0.0.1");
}

/*
 * Sets ep->host from the authority [h, end) ("host[:port]" or
 * "[v6][:port]") and returns where ":port" starts, end when there is no
 * port, or NULL when it is malformed.
 */
static const char *
split_host(const char *h, const char *end, struct manifest_endpoint *ep)
{
	const char *he, *colon;

	if (h < end && *h == '[') {
		if ((he = memchr(h, ']', (size_t)(end - h))) == NULL)
			return NULL;
		set_host(ep, h + 1, (size_t)(he - h - 1));
		if (he + 1 == end || he[1] == ':')
			return he + 1;
		return NULL;
	}
	colon = memchr(h, ':', (size_t)(end - h));
	set_host(ep, h, (size_t)((colon != NULL ? colon : end) - h));
	return colon != NULL ? colon : end;
}

/* Splits "scheme://host[:port][/path]" (host may be "[v6]"). */
static bool
url_split(const char *url, size_t len, const char *def_port, bool *httpsp,
    struct manifest_endpoint *ep)
{
	const char *p = memchr(url, ':', len), *end = url + len, *h, *slash;

	if (p == NULL || end - p < 4 || memcmp(p, "://", 3) != 0)
		return false;
	*httpsp = p - url == 5 && memcmp(url, "https", 5) == 0;
	h = p + 3;
	if ((slash = memchr(h, '/', (size_t)(end - h))) != NULL)
		end = slash;
	if ((p = split_host(h, end, ep)) == NULL)
		return false;
	if (p == end)
		snprintf(ep->port, sizeof(ep->port), "%s", def_port);
	else if (valid_port(p + 1, (size_t)(end - p - 1)))
		snprintf(ep->port, sizeof(ep->port), "%.*s", (int)(end - p - 1),
		    p + 1);
	else
		return false;
	return valid_host(ep->host);
}

/* Picks the URL to probe from a list: loopback https first, else first. */
static enum cr_err
pick_url(const char *flag, const char *list, const char *def_port,
    struct manifest_endpoint *ep, struct manifest_diag *d)
{
	struct manifest_endpoint cand;
	const char *p = list, *comma;
	size_t len;
	bool https, found = false;

	for (; *p != '\0'; p = comma != NULL ? comma + 1 : p + len) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		memset(&cand, 0, sizeof(cand));
		if (!url_split(p, len, def_port, &https, &cand))
			return diag_set(d, NULL, "%s: malformed URL '%.*s'",
			    flag, (int)len, p);
		if (!https || (found && !is_loopback(cand.host)))
			continue;
		if (!found || !is_loopback(ep->host)) {
			snprintf(ep->host, sizeof(ep->host), "%s", cand.host);
			snprintf(ep->port, sizeof(ep->port), "%s", cand.port);
		}
		found = true;
	}
	if (!found)
		return diag_set(d, NULL,
		    "%s lists no https URL; certroll expects TLS", flag);
	return CR_OK;
}

static enum cr_err
endpoint_from_urls(const struct manifest *m, const struct ep_rule *r,
    struct manifest_endpoint *ep, struct manifest_diag *d)
{
	const char *v;
	size_t i;

	for (i = 0; i < 2 && r->url_flags[i] != NULL; i++)
		if ((v = manifest_flag(m, r->url_flags[i])) != NULL &&
		    *v != '\0')
			return pick_url(r->url_flags[i], v, r->def_port, ep, d);
	snprintf(ep->host, sizeof(ep->host), "127.0.0.1");
	snprintf(ep->port, sizeof(ep->port), "%s", r->def_port);
	return CR_OK;
}

static enum cr_err
endpoint_from_addr(const struct manifest *m, const struct ep_rule *r,
    struct manifest_endpoint *ep, struct manifest_diag *d)
{
	const char *v = NULL, *port;
	size_t i;

	snprintf(ep->host, sizeof(ep->host), "127.0.0.1");
	for (i = 0; i < 2 && r->addr_flags[i] != NULL; i++) {
		if ((v = manifest_flag(m, r->addr_flags[i])) == NULL ||
		    *v == '\0' || is_wildcard(v))
			continue;
		if (!valid_host(v))
			return diag_set(d, NULL, "%s: malformed address '%s'",
			    r->addr_flags[i], v);
		snprintf(ep->host, sizeof(ep->host), "%s", v);
		break;
	}
	port = manifest_flag(m, r->port_flag);
	if (port == NULL || *port == '\0')
		port = r->def_port;
	if (!valid_port(port, strlen(port)))
		return diag_set(d, NULL, "%s: malformed port '%s'",
		    r->port_flag, port);
	snprintf(ep->port, sizeof(ep->port), "%s", port);
	return CR_OK;
}

enum cr_err
manifest_endpoints(const struct manifest *m, enum manifest_comp c,
    struct manifest_endpoints *out, struct manifest_diag *d)
{
	struct manifest_endpoints eps;
	const struct ep_rule *r;
	const char *cert;
	size_t i;
	enum cr_err err;

	memset(&eps, 0, sizeof(eps));
	if (c >= MANIFEST__MAX)
		return diag_set(d, NULL, "unknown component");
	for (i = 0; i < MANIFEST_MAX_ENDPOINTS; i++) {
		r = &rules[c][i];
		if (r->role == NULL)
			break;
		eps.v[i].role = r->role;
		err = r->url_flags[0] != NULL ?
		    endpoint_from_urls(m, r, &eps.v[i], d) :
		    endpoint_from_addr(m, r, &eps.v[i], d);
		if (err != CR_OK)
			return err;
		cert = manifest_flag(m, r->cert_flag);
		eps.v[i].served_cert = cert != NULL && *cert != '\0' ? cert :
								       NULL;
		eps.n++;
	}
	*out = eps;
	return CR_OK;
}

enum cr_err
manifest_url_endpoint(const char *url, const char *def_port,
    struct manifest_endpoint *ep, struct manifest_diag *d)
{
	struct manifest_endpoint tmp;
	bool https;

	memset(&tmp, 0, sizeof(tmp));
	if (!url_split(url, strlen(url), def_port, &https, &tmp))
		return diag_set(d, NULL, "malformed URL '%s'", url);
	if (!https)
		return diag_set(d, NULL, "'%s' is not an https URL", url);
	memcpy(ep->host, tmp.host, sizeof(ep->host));
	memcpy(ep->port, tmp.port, sizeof(ep->port));
	return CR_OK;
}

enum cr_err
manifest_file_check_frequency(const char *path, int64_t *msp,
    struct manifest_diag *d)
{
	struct buf b = BUF_INIT;
	struct ydoc *doc = NULL;
	struct ydoc_diag yd;
	const struct ydoc_node *v;
	int64_t ms = MANIFEST_DEFAULT_FCF_MS;
	enum cr_err err;

	if ((err = file_read(path, MANIFEST_MAX_SIZE, &b)) != CR_OK)
		return err;
	if ((err = ydoc_parse((const char *)b.data, b.len, &doc, &yd)) !=
	    CR_OK) {
		if (d != NULL) {
			d->line = yd.line;
			d->col = yd.col;
			snprintf(d->msg, sizeof(d->msg), "%s", yd.msg);
		}
		goto out;
	}
	v = ydoc_get(ydoc_root(doc, 0), "fileCheckFrequency");
	if (v != NULL &&
	    (ydoc_scalar(v) == NULL ||
		duration_parse_ms(ydoc_scalar(v), &ms) != CR_OK || ms <= 0))
		err = diag_set(d, v,
		    "fileCheckFrequency is not a positive duration such as "
		    "'20s'");
	else
		*msp = ms;
out:
	ydoc_free(doc);
	buf_clear(&b);
	return err;
}
