#include "kube.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>

#include "clock.h"
#include "duration.h"
#include "jv.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

#define KUBECONFIG_ENDPOINT "kubeconfig"
#define UPDATE_ATTEMPTS     5  /* client-go retry.DefaultRetry.Steps */
#define UPDATE_PAUSE_MS     10 /* and its Duration */
#define PROBE_TIMEOUT_MS    5000
#define CHAIN_MAX           4

struct endpoint {
	char *name;
	char *url; /* as dialled, for messages */
	char
	    *base; /* prefix of request URLs: scheme://<tls name>:port[/path] */
	struct curl_slist *connect_to; /* tls name -> real host, or NULL */
	bool avoided;
	int64_t down_until; /* clock_mono_ms(); 0 = healthy */
};

struct kube {
	const struct kubecfg *cfg;
	CURLM *multi;
	CURLSH *share;
	struct endpoint eps[KUBE_MAX_ENDPOINTS];
	size_t neps;
	size_t cur;     /* the endpoint in use */
	char *tls_name; /* name verified on added endpoints, or NULL */
	bool tls;       /* the cluster speaks https */
	struct kubecfg_cred cred;
	bool have_cred;
	unsigned cred_gen; /* bumped by every refresh */
	int connect_ms;
	int request_ms;
	struct kube_status last_st;
	char last_msg[KUBE_MSG_MAX];
};

/* One call's transfer state inside kube_call_many(). */
struct slot {
	struct kube_call *call;
	CURL *easy;
	struct curl_slist *headers;
	char *url;
	char *body;
	struct buf resp;
	char errbuf[CURL_ERROR_SIZE];
	size_t ep;
	uint32_t tried; /* endpoints that failed this call (bit mask) */
	int64_t ready_at;
	int64_t started;
	unsigned retries;
	unsigned gen; /* credential generation the request carried */
	bool refreshed;
	bool active;
	bool done;
};

/* --- Status ----------------------------------------------------------- */

static const struct {
	const char *name;
	long code;
	bool by_code;        /* errors.IsX also matches the bare code */
	const char *generic; /* message for a body that is not a Status */
} reasons[KUBE_REASON__MAX] = {
	[KUBE_REASON_UNKNOWN] = { "", 0, false, NULL },
	[KUBE_REASON_UNAUTHORIZED] = { "Unauthorized", 401, true,
	    "the server has asked for the client to provide credentials" },
	[KUBE_REASON_FORBIDDEN] = { "Forbidden", 403, true,
	    "the server does not allow access to the requested resource" },
	[KUBE_REASON_NOT_FOUND] = { "NotFound", 404, true,
	    "the server could not find the requested resource" },
	[KUBE_REASON_ALREADY_EXISTS] = { "AlreadyExists", 409, false, NULL },
	[KUBE_REASON_CONFLICT] = { "Conflict", 409, true,
	    "the server reported a conflict" },
	[KUBE_REASON_GONE] = { "Gone", 410, true,
	    "the server reported that the resource is gone" },
	[KUBE_REASON_EXPIRED] = { "Expired", 410, false, NULL },
	[KUBE_REASON_INVALID] = { "Invalid", 422, true,
	    "the server rejected our request due to an error in our "
	    "request" },
	[KUBE_REASON_SERVER_TIMEOUT] = { "ServerTimeout", 500, false, NULL },
	[KUBE_REASON_TIMEOUT] = { "Timeout", 504, true,
	    "the server was unable to return a response in the time "
	    "allotted, but may still be processing the request" },
	[KUBE_REASON_TOO_MANY_REQUESTS] = { "TooManyRequests", 429, true,
	    "the server has received too many requests and has asked us to "
	    "try again later" },
	[KUBE_REASON_BAD_REQUEST] = { "BadRequest", 400, true,
	    "the server rejected our request for an unknown reason" },
	[KUBE_REASON_METHOD_NOT_ALLOWED] = { "MethodNotAllowed", 405, true,
	    "the server does not allow this method on the requested "
	    "resource" },
	[KUBE_REASON_NOT_ACCEPTABLE] = { "NotAcceptable", 406, true,
	    "the server was unable to respond with a content type that the "
	    "client supports" },
	[KUBE_REASON_TOO_LARGE] = { "RequestEntityTooLarge", 413, true,
	    "the server has rejected the request because it is too large" },
	[KUBE_REASON_UNSUPPORTED_MEDIA] = { "UnsupportedMediaType", 415, true,
	    "the server was unable to handle the media type of the request" },
	[KUBE_REASON_INTERNAL_ERROR] = { "InternalError", 500, true,
	    "an error on the server has prevented the request from "
	    "succeeding" },
	[KUBE_REASON_SERVICE_UNAVAILABLE] = { "ServiceUnavailable", 503, true,
	    "the server is currently unable to handle the request" },
};

enum kube_reason
kube_reason_parse(const char *s)
{
	int i;

	if (s == NULL || *s == '\0')
		return KUBE_REASON_UNKNOWN;
	for (i = 1; i < KUBE_REASON__MAX; i++)
		if (strcmp(reasons[i].name, s) == 0)
			return (enum kube_reason)i;
	return KUBE_REASON_UNKNOWN;
}

const char *
kube_reason_name(enum kube_reason r)
{
	if ((unsigned)r >= KUBE_REASON__MAX)
		return "";
	return reasons[r].name;
}

bool
kube_status_is(const struct kube_status *st, enum kube_reason r)
{
	enum kube_reason got = kube_reason_parse(st->reason);

	if ((unsigned)r >= KUBE_REASON__MAX || r == KUBE_REASON_UNKNOWN)
		return false;
	if (r == KUBE_REASON_TOO_MANY_REQUESTS && st->code == 429)
		return true;
	if (got != KUBE_REASON_UNKNOWN)
		return got == r;
	return reasons[r].by_code && st->code == reasons[r].code;
}

/* The reason a bare code stands for (a body that is not a Status). */
static enum kube_reason
reason_for_code(long code)
{
	int i;

	for (i = 1; i < KUBE_REASON__MAX; i++)
		if (reasons[i].code == code && reasons[i].generic != NULL)
			return (enum kube_reason)i;
	return KUBE_REASON_UNKNOWN;
}

static void
status_details(json_object *body, struct kube_status *st)
{
	json_object *causes = jv_arr(body, "details.causes"), *c0;
	int64_t v;
	const char *s;

	if (st->retry_after == 0 &&
	    jv_int(body, "details.retryAfterSeconds", &v) && v > 0)
		st->retry_after = (long)v;
	if (causes == NULL || json_object_array_length(causes) == 0)
		return;
	c0 = json_object_array_get_idx(causes, 0);
	if ((s = jv_str(c0, "reason")) != NULL)
		snprintf(st->cause_reason, sizeof(st->cause_reason), "%s", s);
	if ((s = jv_str(c0, "message")) != NULL)
		snprintf(st->cause_message, sizeof(st->cause_message), "%s", s);
}

void
kube_status_parse(json_object *body, long code, long retry_after,
    struct kube_status *st)
{
	const char *kind = jv_str(body, "kind"), *s;
	json_object *jc;
	enum kube_reason r;
	int64_t v;

	memset(st, 0, sizeof(*st));
	st->code = code;
	st->retry_after = retry_after > 0 ? retry_after : 0;
	if (kind != NULL && strcmp(kind, "Status") == 0) {
		st->is_status = true;
		if ((s = jv_str(body, "reason")) != NULL)
			snprintf(st->reason, sizeof(st->reason), "%s", s);
		if ((s = jv_str(body, "message")) != NULL)
			snprintf(st->message, sizeof(st->message), "%s", s);
		/* Status.code is an int32; a string is a malformed body. */
		if ((jc = jv_path(body, "code")) != NULL &&
		    json_object_is_type(jc, json_type_int) &&
		    (v = json_object_get_int64(jc)) > 0 && v < 1000)
			st->code = (long)v;
		status_details(body, st);
	}
	if (st->message[0] != '\0')
		return;
	r = reason_for_code(st->code);
	if (st->reason[0] == '\0' && r != KUBE_REASON_UNKNOWN)
		snprintf(st->reason, sizeof(st->reason), "%s", reasons[r].name);
	if (r != KUBE_REASON_UNKNOWN)
		snprintf(st->message, sizeof(st->message), "%s",
		    reasons[r].generic);
	else
		snprintf(st->message, sizeof(st->message),
		    "the server responded with the status code %ld but did "
		    "not return more information",
		    st->code);
}

void
kube_status_describe(const struct kube_status *st, char *buf, size_t len)
{
	enum kube_reason r = kube_reason_parse(st->reason);

	if (r == KUBE_REASON_UNAUTHORIZED)
		snprintf(buf, len,
		    "error: You must be logged in to the "
		    "server (%s)",
		    st->message);
	else if (st->reason[0] != '\0')
		snprintf(buf, len, "Error from server (%s): %s", st->reason,
		    st->message);
	else
		snprintf(buf, len, "Error from server: %s", st->message);
}

char *
kube_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(3 * strlen(s) + 1), *p = out;
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			*p++ = (char)c;
			continue;
		}
		*p++ = '%';
		*p++ = hex[c >> 4];
		*p++ = hex[c & 0xf];
	}
	*p = '\0';
	return out;
}

void
kube_call_clear(struct kube_call *c)
{
	json_object_put(c->reply);
	c->reply = NULL;
	buf_clear(&c->text);
	memset(&c->st, 0, sizeof(c->st));
	c->msg[0] = '\0';
	c->err = CR_OK;
	c->status = 0;
	c->attempts = 0;
}

/* --- Endpoints -------------------------------------------------------- */

struct url_parts {
	char *scheme;
	char *host; /* IPv6 in brackets */
	char *port;
	char *path; /* "" or "/prefix" without a trailing '/' */
};

static void
url_parts_clear(struct url_parts *u)
{
	free(u->scheme);
	free(u->host);
	free(u->port);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

static char *
url_part(CURLU *u, CURLUPart what, unsigned flags)
{
	char *s = NULL, *copy;

	if (curl_url_get(u, what, &s, flags) != CURLUE_OK)
		return NULL;
	copy = xstrdup(s);
	curl_free(s);
	return copy;
}

static enum cr_err
url_split(const char *url, struct url_parts *out)
{
	CURLU *u = curl_url();
	size_t n;

	if (u == NULL)
		fatalx("out of memory");
	memset(out, 0, sizeof(*out));
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		out->scheme = url_part(u, CURLUPART_SCHEME, 0);
		out->host = url_part(u, CURLUPART_HOST, 0);
		out->port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
		out->path = url_part(u, CURLUPART_PATH, 0);
	}
	curl_url_cleanup(u);
	if (out->scheme == NULL || out->host == NULL || out->port == NULL ||
	    out->path == NULL ||
	    (strcmp(out->scheme, "https") != 0 &&
		strcmp(out->scheme, "http") != 0)) {
		url_parts_clear(out);
		return CR_ERR_CONFIG;
	}
	n = strlen(out->path);
	while (n > 0 && out->path[n - 1] == '/')
		out->path[--n] = '\0';
	return CR_OK;
}

static bool
is_ip_literal(const char *host)
{
	unsigned char addr[16];

	return host[0] == '[' || inet_pton(AF_INET, host, addr) == 1;
}

static void
endpoint_clear(struct endpoint *ep)
{
	free(ep->name);
	free(ep->url);
	free(ep->base);
	curl_slist_free_all(ep->connect_to);
	memset(ep, 0, sizeof(*ep));
}

static struct curl_slist *
slist_add(struct curl_slist *list, const char *s)
{
	struct curl_slist *l = curl_slist_append(list, s);

	if (l == NULL)
		fatalx("out of memory");
	return l;
}

/* Sets up ep to dial url while verifying tls_name (NULL: url's host). */
static enum cr_err
endpoint_set(struct endpoint *ep, const char *name, const char *url,
    const char *tls_name)
{
	struct url_parts u;
	char *map;

	if (url_split(url, &u) != CR_OK)
		return CR_ERR_CONFIG;
	endpoint_clear(ep);
	ep->name = xstrdup(name);
	ep->url = xstrdup(url);
	if (tls_name != NULL && strcmp(u.scheme, "https") == 0 &&
	    strcmp(tls_name, u.host) != 0) {
		/* SNI and verification use tls_name; the socket goes to host.
		 */
		ep->base = xasprintf("https://%s:%s%s", tls_name, u.port,
		    u.path);
		map = xasprintf("%s:%s:%s:%s", tls_name, u.port, u.host,
		    u.port);
		ep->connect_to = slist_add(NULL, map);
		free(map);
	} else
		ep->base = xasprintf("%s://%s:%s%s", u.scheme, u.host, u.port,
		    u.path);
	url_parts_clear(&u);
	return CR_OK;
}

static void
warn_insecure(const struct kube *k, const struct endpoint *ep)
{
	log_warnx("cluster '%s': insecure-skip-tls-verify is set in %s: the "
		  "identity of the API server at %s is NOT verified",
	    kubecfg_cluster_name(k->cfg), kubecfg_display_path(k->cfg),
	    ep->url);
}

enum cr_err
kube_new(const struct kubecfg *cfg, struct kube **kp)
{
	struct kube *k = xcalloc(1, sizeof(*k));
	struct url_parts u;
	const char *tls_name = kubecfg_tls_server_name(cfg);

	k->cfg = cfg;
	k->connect_ms = KUBE_CONNECT_TIMEOUT_MS;
	k->request_ms = KUBE_REQUEST_TIMEOUT_MS;
	if (url_split(kubecfg_server(cfg), &u) != CR_OK) {
		free(k);
		return CR_ERR_CONFIG;
	}
	k->tls = strcmp(u.scheme, "https") == 0;
	if (tls_name != NULL)
		k->tls_name = xstrdup(tls_name);
	else if (!is_ip_literal(u.host))
		k->tls_name = xstrdup(u.host);
	url_parts_clear(&u);
	if (endpoint_set(&k->eps[0], KUBECONFIG_ENDPOINT, kubecfg_server(cfg),
		tls_name) != CR_OK) {
		kube_free(k);
		return CR_ERR_CONFIG;
	}
	k->neps = 1;
	if ((k->multi = curl_multi_init()) == NULL ||
	    (k->share = curl_share_init()) == NULL)
		fatalx("cannot initialise libcurl");
	curl_share_setopt(k->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(k->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	if (k->tls && kubecfg_insecure(cfg))
		warn_insecure(k, &k->eps[0]);
	*kp = k;
	return CR_OK;
}

enum cr_err
kube_new_like(const struct kube *k, struct kube **kp)
{
	struct kube *n = NULL;
	enum cr_err err;
	size_t i;

	if ((err = kube_new(k->cfg, &n)) != CR_OK)
		return err;
	n->connect_ms = k->connect_ms;
	n->request_ms = k->request_ms;
	for (i = 0; i < k->neps && err == CR_OK; i++)
		err = kube_add_endpoint(n, k->eps[i].name, k->eps[i].url);
	if (err != CR_OK) {
		kube_free(n);
		return err;
	}
	*kp = n;
	return CR_OK;
}

enum cr_err
kube_open(const struct kubecfg_opts *opts, struct kubecfg **cfgp,
    struct kube **kp)
{
	struct kubecfg_diag d;
	struct kubecfg *cfg = NULL;
	enum cr_err err;

	if ((err = kubecfg_load(opts, &cfg, &d)) != CR_OK) {
		log_warnx("%s", d.msg);
		return err;
	}
	if ((err = kube_new(cfg, kp)) != CR_OK) {
		log_warnx("%s: cluster '%s': server '%s' is not a usable URL",
		    kubecfg_display_path(cfg), kubecfg_cluster_name(cfg),
		    kubecfg_server(cfg));
		kubecfg_free(cfg);
		return err;
	}
	*cfgp = cfg;
	return CR_OK;
}

void
kube_free(struct kube *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->neps; i++)
		endpoint_clear(&k->eps[i]);
	if (k->multi != NULL)
		curl_multi_cleanup(k->multi);
	if (k->share != NULL)
		curl_share_cleanup(k->share);
	kubecfg_cred_clear(&k->cred);
	free(k->tls_name);
	free(k);
}

void
kube_set_timeouts(struct kube *k, int connect_ms, int request_ms)
{
	if (connect_ms > 0)
		k->connect_ms = connect_ms;
	if (request_ms > 0)
		k->request_ms = request_ms;
}

static struct endpoint *
endpoint_find(struct kube *k, const char *name, size_t *idxp)
{
	size_t i;

	for (i = 0; i < k->neps; i++) {
		if (strcmp(k->eps[i].name, name) != 0)
			continue;
		if (idxp != NULL)
			*idxp = i;
		return &k->eps[i];
	}
	return NULL;
}

enum cr_err
kube_add_endpoint(struct kube *k, const char *name, const char *url)
{
	struct endpoint *ep = endpoint_find(k, name, NULL);
	struct endpoint fresh = { 0 };

	if (ep == NULL && k->neps >= KUBE_MAX_ENDPOINTS)
		return CR_ERR_STATE;
	if (endpoint_set(&fresh, name, url, k->tls_name) != CR_OK)
		return CR_ERR_CONFIG;
	if (ep == NULL)
		ep = &k->eps[k->neps++];
	fresh.avoided = ep->avoided;
	endpoint_clear(ep);
	*ep = fresh;
	if (k->tls && kubecfg_insecure(k->cfg))
		warn_insecure(k, ep);
	return CR_OK;
}

static enum cr_err
endpoint_mark(struct kube *k, const char *name, bool avoided)
{
	struct endpoint *ep = endpoint_find(k, name, NULL);

	if (ep == NULL)
		return CR_ERR_NOTFOUND;
	ep->avoided = avoided;
	return CR_OK;
}

enum cr_err
kube_avoid_endpoint(struct kube *k, const char *name)
{
	return endpoint_mark(k, name, true);
}

enum cr_err
kube_allow_endpoint(struct kube *k, const char *name)
{
	return endpoint_mark(k, name, false);
}

const char *
kube_current_endpoint(const struct kube *k)
{
	size_t i, j;
	int64_t now = clock_mono_ms();

	for (i = 0; i < k->neps; i++) {
		j = (k->cur + i) % k->neps;
		if (!k->eps[j].avoided && k->eps[j].down_until <= now)
			return k->eps[j].name;
	}
	return k->eps[k->cur].name;
}

/*
 * Picks slot s's endpoint: the current one if usable, else the next usable
 * one this call has not tried, else any untried one (an avoided or resting
 * endpoint beats giving up). False when every endpoint failed this call.
 */
static bool
choose_endpoint(struct kube *k, struct slot *s)
{
	int64_t now = clock_mono_ms();
	size_t i, j, fallback = SIZE_MAX;

	for (i = 0; i < k->neps; i++) {
		j = (k->cur + i) % k->neps;
		if (s->tried & (1u << j))
			continue;
		if (!k->eps[j].avoided && k->eps[j].down_until <= now) {
			k->cur = j;
			s->ep = j;
			return true;
		}
		if (fallback == SIZE_MAX ||
		    (k->eps[fallback].avoided && !k->eps[j].avoided))
			fallback = j;
	}
	if (fallback == SIZE_MAX)
		return false;
	s->ep = fallback;
	return true;
}

/* --- Credentials and TLS explanations --------------------------------- */

static enum cr_err
cred_refresh(struct kube *k, char *msg, size_t len)
{
	struct kubecfg_cred c = { 0 };
	struct kubecfg_diag d;
	enum cr_err err;

	if ((err = kubecfg_credential(k->cfg, &c, &d)) != CR_OK) {
		snprintf(msg, len, "%s", d.msg);
		return err;
	}
	kubecfg_cred_clear(&k->cred);
	k->cred = c;
	k->have_cred = true;
	k->cred_gen++;
	log_debug("credentials of user '%s' loaded%s",
	    kubecfg_user_name(k->cfg) != NULL ? kubecfg_user_name(k->cfg) : "",
	    c.from_exec ? " from its exec plugin" : "");
	return CR_OK;
}

/* Loads the credential, or runs the plugin again once it has expired. */
static enum cr_err
cred_ensure(struct kube *k, char *msg, size_t len)
{
	if (k->have_cred &&
	    (k->cred.expires_ms == 0 || clock_now_ms() < k->cred.expires_ms))
		return CR_OK;
	return cred_refresh(k, msg, len);
}

static void
ago(time_t then, time_t now, char *buf, size_t len)
{
	char d[64];

	duration_human(now > then ? now - then : then - now, d, sizeof(d));
	snprintf(buf, len, now >= then ? "%s ago" : "in %s", d);
}

/* True (and msg set) when our client certificate is outside its validity. */
static bool
explain_client_cert(const struct kube *k, char *msg, size_t len)
{
	struct cert_info ci = { 0 };
	char when[TIMEFMT_MAX], rel[80];
	time_t now = clock_now();
	bool bad = false;

	if (k->cred.cert_pem == NULL ||
	    kubecfg_pem_cert(k->cred.cert_pem, k->cred.cert_len, &ci) != CR_OK)
		return false;
	if (now > ci.not_after) {
		timefmt_rfc3339(ci.not_after, when, sizeof(when));
		ago(ci.not_after, now, rel, sizeof(rel));
		snprintf(msg, len,
		    "the client certificate of user '%s' in %s "
		    "(%s) expired on %s (%s), so the API server refuses it: "
		    "run 'certroll kubeconfig refresh' for a new one, or "
		    "'certroll recover' if the control plane's certificates "
		    "have expired too",
		    kubecfg_user_name(k->cfg), kubecfg_display_path(k->cfg),
		    ci.subject, when, rel);
		bad = true;
	} else if (now < ci.not_before) {
		timefmt_rfc3339(ci.not_before, when, sizeof(when));
		ago(ci.not_before, now, rel, sizeof(rel));
		snprintf(msg, len,
		    "the client certificate of user '%s' in %s "
		    "is not valid before %s (%s): check this machine's clock",
		    kubecfg_user_name(k->cfg), kubecfg_display_path(k->cfg),
		    when, rel);
		bad = true;
	}
	certinfo_clear(&ci);
	return bad;
}

static void
probe_setup(const struct kube *k, const struct endpoint *ep, CURL *e, char *url)
{
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)k->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)PROBE_TIMEOUT_MS);
	if (ep->connect_to != NULL)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, ep->connect_to);
	if (kubecfg_proxy_url(k->cfg) != NULL)
		curl_easy_setopt(e, CURLOPT_PROXY, kubecfg_proxy_url(k->cfg));
}

/*
 * The certificates ep presents, read from a second handshake made without
 * verification and without a client certificate. Returns how many.
 */
static size_t
probe_chain(const struct kube *k, const struct endpoint *ep,
    struct cert_info *out, size_t max)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *l;
	CURL *e = curl_easy_init();
	char *url = xasprintf("%s/", ep->base);
	size_t n = 0;
	int i;

	if (e == NULL)
		fatalx("out of memory");
	probe_setup(k, ep, e, url);
	(void)curl_easy_perform(e);
	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) == CURLE_OK &&
	    ci != NULL) {
		for (i = 0; i < ci->num_of_certs && n < max; i++)
			for (l = ci->certinfo[i]; l != NULL; l = l->next)
				if (strncmp(l->data, "Cert:", 5) == 0 &&
				    kubecfg_pem_cert(l->data + 5,
					strlen(l->data + 5), &out[n]) == CR_OK)
					n++;
	}
	curl_easy_cleanup(e);
	free(url);
	return n;
}

static bool
explain_server_cert(const struct cert_info *c, bool leaf, char *msg, size_t len)
{
	char when[TIMEFMT_MAX], rel[80];
	time_t now = clock_now();

	if (now > c->not_after) {
		timefmt_rfc3339(c->not_after, when, sizeof(when));
		ago(c->not_after, now, rel, sizeof(rel));
		if (leaf)
			snprintf(msg, len,
			    "(x509: certificate has expired or is not yet "
			    "valid): the API server's serving certificate (%s) "
			    "expired on %s, %s, so the control plane's "
			    "certificates have lapsed; run 'certroll recover "
			    "-i INVENTORY' to renew them on every node",
			    c->subject, when, rel);
		else
			snprintf(msg, len,
			    "(x509: certificate has expired or is not yet "
			    "valid): the CA certificate (%s) in the API "
			    "server's chain expired on %s, %s; renewing leaf "
			    "certificates cannot fix this, the cluster CA must "
			    "be replaced",
			    c->subject, when, rel);
		return true;
	}
	if (now < c->not_before) {
		timefmt_rfc3339(c->not_before, when, sizeof(when));
		ago(c->not_before, now, rel, sizeof(rel));
		snprintf(msg, len,
		    "(x509: certificate has expired or is not yet valid): the "
		    "API server's certificate (%s) is not valid before %s, %s: "
		    "the clocks of this machine and the node disagree",
		    c->subject, when, rel);
		return true;
	}
	return false;
}

/* Says why a handshake with ep failed; why is libcurl's text. */
static void
explain_tls(const struct kube *k, const struct endpoint *ep, const char *why,
    char *msg, size_t len)
{
	struct cert_info chain[CHAIN_MAX];
	char reason[KUBE_MSG_MAX], until[TIMEFMT_MAX];
	size_t n, i;
	bool found = false;

	if (explain_client_cert(k, reason, sizeof(reason))) {
		snprintf(msg, len, "TLS handshake with %.200s failed: %.700s",
		    ep->url, reason);
		return;
	}
	memset(chain, 0, sizeof(chain));
	n = probe_chain(k, ep, chain, CHAIN_MAX);
	for (i = 0; i < n && !found; i++)
		found = explain_server_cert(&chain[i], i == 0, reason,
		    sizeof(reason));
	if (found)
		snprintf(msg, len, "TLS handshake with %.200s failed %.700s",
		    ep->url, reason);
	else if (n > 0) {
		timefmt_rfc3339(chain[0].not_after, until, sizeof(until));
		snprintf(msg, len,
		    "TLS handshake with %s failed: %s; its "
		    "serving certificate (%s, issued by %s) is valid until %s, "
		    "so check that the kubeconfig's certificate-authority is "
		    "this cluster's CA and that the certificate names the "
		    "server (tls-server-name)",
		    ep->url, why, chain[0].subject, chain[0].issuer, until);
	} else
		snprintf(msg, len, "TLS handshake with %s failed: %s", ep->url,
		    why);
	for (i = 0; i < n; i++)
		certinfo_clear(&chain[i]);
}

/* --- Transfers -------------------------------------------------------- */

static size_t
on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > KUBE_MAX_BODY)
		return 0;
	buf_put(b, ptr, n);
	return n;
}

/* Header lists may carry a bearer token: wipe before freeing. */
static void
headers_free(struct curl_slist *h)
{
	struct curl_slist *l;

	for (l = h; l != NULL; l = l->next)
		OPENSSL_cleanse(l->data, strlen(l->data));
	curl_slist_free_all(h);
}

static void
easy_headers(struct kube *k, struct slot *s)
{
	const struct kube_call *c = s->call;
	char *line;

	s->headers = slist_add(s->headers, "Accept: application/json");
	s->headers = slist_add(s->headers, "Expect:");
	if (s->body != NULL) {
		line = xasprintf("Content-Type: %s",
		    c->content_type != NULL ? c->content_type :
					      "application/json");
		s->headers = slist_add(s->headers, line);
		free(line);
	}
	/* Like kubectl: no credentials over plain http. */
	if (k->tls && k->cred.token != NULL) {
		line = xasprintf("Authorization: Bearer %s", k->cred.token);
		s->headers = slist_add(s->headers, line);
		freezero_str(line);
	}
}

static void
easy_tls(struct kube *k, CURL *e)
{
	struct curl_blob b = { .flags = CURL_BLOB_COPY };
	union {
		const char *c;
		void *v;
	} ca;

	if (!k->tls)
		return;
	if (kubecfg_insecure(k->cfg)) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if ((ca.c = kubecfg_ca_pem(k->cfg, &b.len)) != NULL) {
		/* libcurl copies the blob (CURL_BLOB_COPY), never writes it. */
		b.data = ca.v;
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	if (k->cred.cert_pem == NULL)
		return;
	b.data = k->cred.cert_pem;
	b.len = k->cred.cert_len;
	curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
	curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	b.data = k->cred.key_pem;
	b.len = k->cred.key_len;
	curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
	curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
}

static void
easy_method(struct slot *s, CURL *e)
{
	const char *m = s->call->method;

	if (strcmp(m, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return;
	}
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	if (s->body != NULL || strcmp(m, "DELETE") != 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
		    s->body != NULL ? s->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(s->body != NULL ? strlen(s->body) : 0));
	}
}

static long
transfer_timeout(const struct kube *k, int64_t deadline)
{
	int left;

	if (deadline == 0)
		return k->request_ms;
	left = clock_remaining_ms(deadline);
	return left < k->request_ms ? (left > 0 ? left : 1) : k->request_ms;
}

static void
slot_start(struct kube *k, struct slot *s, int64_t deadline)
{
	const struct endpoint *ep = &k->eps[s->ep];
	CURL *e = curl_easy_init();

	if (e == NULL)
		fatalx("out of memory");
	s->url = xasprintf("%s%s", ep->base, s->call->path);
	if (s->call->body != NULL && s->body == NULL)
		s->body = xstrdup(jv_to_string(s->call->body));
	easy_headers(k, s);
	curl_easy_setopt(e, CURLOPT_URL, s->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->resp);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "certroll/" CERTROLL_VERSION);
	curl_easy_setopt(e, CURLOPT_SHARE, k->share);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)k->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, transfer_timeout(k, deadline));
	if (!kubecfg_disable_compression(k->cfg))
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (ep->connect_to != NULL)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, ep->connect_to);
	if (kubecfg_proxy_url(k->cfg) != NULL)
		curl_easy_setopt(e, CURLOPT_PROXY, kubecfg_proxy_url(k->cfg));
	easy_tls(k, e);
	easy_method(s, e);
	s->errbuf[0] = '\0';
	buf_reset(&s->resp);
	s->easy = e;
	s->active = true;
	s->gen = k->cred_gen;
	s->started = clock_mono_ms();
	s->call->attempts++;
	if (curl_multi_add_handle(k->multi, e) != CURLM_OK)
		fatalx("cannot add a transfer to libcurl");
}

static void
slot_stop(struct kube *k, struct slot *s)
{
	if (s->easy != NULL) {
		curl_multi_remove_handle(k->multi, s->easy);
		curl_easy_cleanup(s->easy);
	}
	headers_free(s->headers);
	free(s->url);
	s->easy = NULL;
	s->headers = NULL;
	s->url = NULL;
	s->active = false;
}

static void
slot_fail(struct slot *s, enum cr_err err)
{
	s->call->err = err;
	s->done = true;
}

static bool
method_repeatable(const struct kube_call *c)
{
	return strcmp(c->method, "POST") != 0 || c->retry_writes;
}

static bool
is_tls_error(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR ||
	    rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
	    rc == CURLE_SSL_ISSUER_ERROR;
}

static bool
is_conn_error(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT ||
	    rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SEND_ERROR ||
	    rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
	    rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_HTTP2 ||
	    rc == CURLE_HTTP2_STREAM || rc == CURLE_PARTIAL_FILE;
}

/*
 * Under TLS 1.3 a server refuses our certificate after the handshake, so
 * libcurl reports a receive error carrying the TLS alert.
 */
static bool
is_tls_failure(CURLcode rc, const char *why)
{
	return is_tls_error(rc) ||
	    ((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) &&
		(strstr(why, "alert") != NULL || strstr(why, "SSL") != NULL));
}

static void
transport_error(struct kube *k, struct slot *s, CURLcode rc, bool sent,
    int64_t deadline)
{
	struct kube_call *c = s->call;
	struct endpoint *ep = &k->eps[s->ep];
	const char *why = s->errbuf[0] != '\0' ? s->errbuf :
						 curl_easy_strerror(rc);
	bool tls = is_tls_failure(rc, why);

	if (is_conn_error(rc) || tls) {
		ep->down_until = clock_mono_ms() + KUBE_ENDPOINT_DOWN_MS;
		s->tried |= 1u << s->ep;
		if (c->endpoint == NULL && (!sent || method_repeatable(c)) &&
		    !clock_expired(deadline) && choose_endpoint(k, s)) {
			log_info("API server %s (%s) failed: %s; trying %s",
			    ep->name, ep->url, why, k->eps[s->ep].name);
			s->ready_at = 0;
			return;
		}
	}
	if (tls) {
		explain_tls(k, ep, why, c->msg, sizeof(c->msg));
		slot_fail(s, CR_ERR_TLS);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(c->msg, sizeof(c->msg),
		    "%s %s on %s: no answer in "
		    "time: %s",
		    c->method, c->path, ep->url, why);
		slot_fail(s, CR_ERR_TIMEOUT);
	} else {
		snprintf(c->msg, sizeof(c->msg),
		    "Unable to connect to the server %s: %s (is the API "
		    "server running, and is that its address?)",
		    ep->url, why);
		slot_fail(s, CR_ERR_KUBE);
	}
}

/* A 429/5xx with Retry-After: wait and send again (client-go). */
static bool
retry_after(struct slot *s, long code, long ra, int64_t deadline)
{
	int64_t at;

	if ((code != 429 && code < 500) || ra <= 0 ||
	    s->retries >= KUBE_MAX_RETRIES)
		return false;
	at = clock_mono_ms() + (int64_t)ra * 1000;
	if (deadline != 0 && at >= deadline)
		return false;
	s->retries++;
	s->ready_at = at;
	log_debug("%s %s: %ld, retrying after %lds (Retry-After, %u of %d)",
	    s->call->method, s->call->path, code, ra, s->retries,
	    KUBE_MAX_RETRIES);
	return true;
}

/* A 401 with a plugin or tokenFile: refresh the credential, send again. */
static bool
retry_unauthorized(struct kube *k, struct slot *s, long code)
{
	char msg[KUBE_MSG_MAX];

	if (code != 401 || s->refreshed ||
	    (!kubecfg_has_exec(k->cfg) && !kubecfg_has_token_file(k->cfg)))
		return false;
	s->refreshed = true;
	if (s->gen == k->cred_gen &&
	    cred_refresh(k, msg, sizeof(msg)) != CR_OK) {
		log_warnx("%s", msg);
		return false;
	}
	s->ready_at = 0;
	return true;
}

static bool
looks_json(const char *ct, const struct buf *b)
{
	const char *s = buf_cstr(b);

	if (ct != NULL && *ct != '\0')
		return strstr(ct, "json") != NULL;
	while (isspace((unsigned char)*s))
		s++;
	return *s == '{' || *s == '[';
}

static void
unauthorized_message(const struct kube *k, struct kube_call *c)
{
	char why[KUBE_MSG_MAX];

	if (explain_client_cert(k, why, sizeof(why)))
		snprintf(c->msg, sizeof(c->msg), "%s", why);
}

static void
slot_complete(struct kube *k, struct slot *s, long code, const char *ct,
    long ra)
{
	struct kube_call *c = s->call;
	json_object *obj = NULL;
	char jerr[128];
	bool json = s->resp.len > 0 && looks_json(ct, &s->resp);

	c->status = code;
	if (c->keep_text && code >= 200 && code < 300) {
		c->text = s->resp;
		memset(&s->resp, 0, sizeof(s->resp));
		s->done = true;
		c->err = CR_OK;
		return;
	}
	if (json &&
	    jv_parse((const char *)s->resp.data, s->resp.len, &obj, jerr,
		sizeof(jerr)) != CR_OK)
		obj = NULL;
	if (obj == NULL) {
		c->text = s->resp;
		memset(&s->resp, 0, sizeof(s->resp));
	}
	c->reply = obj;
	s->done = true;
	if (code >= 200 && code < 300) {
		c->err = json && obj == NULL ? CR_ERR_PROTO : CR_OK;
		if (c->err != CR_OK)
			snprintf(c->msg, sizeof(c->msg),
			    "%s %s: the answer is "
			    "not valid JSON (%s)",
			    c->method, c->path, jerr);
		return;
	}
	kube_status_parse(obj, code, ra, &c->st);
	kube_status_describe(&c->st, c->msg, sizeof(c->msg));
	if (code == 401)
		unauthorized_message(k, c);
	c->err = CR_ERR_KUBE;
}

static void
slot_finish(struct kube *k, struct slot *s, CURLcode rc, int64_t deadline)
{
	long code = 0, sent = 0;
	curl_off_t ra = 0;
	char *ct = NULL, ctype[128] = "";

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &ra);
	curl_easy_getinfo(s->easy, CURLINFO_REQUEST_SIZE, &sent);
	if (curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ct) ==
		CURLE_OK &&
	    ct != NULL)
		snprintf(ctype, sizeof(ctype), "%s", ct);
	log_debug("%s %s%s -> %ld%s%s (%s, %lld ms)", s->call->method,
	    k->eps[s->ep].base, s->call->path, code, rc != CURLE_OK ? ": " : "",
	    rc != CURLE_OK ? curl_easy_strerror(rc) : "", k->eps[s->ep].name,
	    (long long)(clock_mono_ms() - s->started));
	slot_stop(k, s);
	if (rc != CURLE_OK) {
		transport_error(k, s, rc, sent > 0, deadline);
		return;
	}
	if (retry_unauthorized(k, s, code) ||
	    retry_after(s, code, (long)ra, deadline))
		return;
	slot_complete(k, s, code, ctype, (long)ra);
}

/* Prepares s for its first attempt; false if it failed already. */
static bool
slot_init(struct kube *k, struct slot *s, struct kube_call *c)
{
	size_t idx;

	kube_call_clear(c);
	s->call = c;
	if (c->endpoint == NULL)
		return choose_endpoint(k, s);
	if (endpoint_find(k, c->endpoint, &idx) == NULL) {
		snprintf(c->msg, sizeof(c->msg), "no API endpoint named '%s'",
		    c->endpoint);
		slot_fail(s, CR_ERR_NOTFOUND);
		return false;
	}
	s->ep = idx;
	return true;
}

/* Starts ready slots while there is room; returns how many started. */
static unsigned
start_ready(struct kube *k, struct slot *slots, size_t n, unsigned room,
    int64_t deadline)
{
	int64_t now = clock_mono_ms();
	unsigned started = 0;
	size_t i;

	for (i = 0; i < n && started < room; i++) {
		if (slots[i].active || slots[i].done || slots[i].ready_at > now)
			continue;
		if (clock_expired(deadline)) {
			snprintf(slots[i].call->msg, sizeof(slots[i].call->msg),
			    "%s %s: deadline passed before the request was "
			    "sent",
			    slots[i].call->method, slots[i].call->path);
			slot_fail(&slots[i], CR_ERR_TIMEOUT);
			continue;
		}
		if (cred_ensure(k, slots[i].call->msg,
			sizeof(slots[i].call->msg)) != CR_OK) {
			slot_fail(&slots[i], CR_ERR_CONFIG);
			continue;
		}
		slot_start(k, &slots[i], deadline);
		started++;
	}
	return started;
}

/* How long to wait for libcurl: until the next retry is due, <= 1 s. */
static int
wait_ms(const struct slot *slots, size_t n, int64_t deadline)
{
	int64_t now = clock_mono_ms(), wake = now + 1000;
	size_t i;

	for (i = 0; i < n; i++)
		if (!slots[i].active && !slots[i].done &&
		    slots[i].ready_at < wake)
			wake = slots[i].ready_at;
	if (deadline != 0 && deadline < wake)
		wake = deadline;
	return wake > now ? (int)(wake - now) : 0;
}

/* Runs libcurl and handles finished transfers; returns how many ended. */
static unsigned
collect(struct kube *k, int64_t deadline)
{
	CURLMsg *m;
	struct slot *s;
	unsigned ended = 0;
	int running, left;

	curl_multi_perform(k->multi, &running);
	while ((m = curl_multi_info_read(k->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		s = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
		slot_finish(k, s, m->data.result, deadline);
		ended++;
	}
	return ended;
}

static size_t
count_done(const struct slot *slots, size_t n)
{
	size_t i, done = 0;

	for (i = 0; i < n; i++)
		done += slots[i].done;
	return done;
}

enum cr_err
kube_call_many(struct kube *k, struct kube_call *calls, size_t n,
    unsigned max_inflight, int64_t deadline)
{
	struct slot *slots = xcalloc(n > 0 ? n : 1, sizeof(*slots));
	unsigned active = 0;
	enum cr_err err = CR_OK;
	size_t i;

	for (i = 0; i < n; i++)
		(void)slot_init(k, &slots[i], &calls[i]);
	if (max_inflight == 0)
		max_inflight = 1;
	while (count_done(slots, n) < n) {
		active += start_ready(k, slots, n, max_inflight - active,
		    deadline);
		if (count_done(slots, n) == n)
			break;
		curl_multi_poll(k->multi, NULL, 0, wait_ms(slots, n, deadline),
		    NULL);
		active -= collect(k, deadline);
	}
	for (i = 0; i < n; i++) {
		buf_clear(&slots[i].resp);
		free(slots[i].body);
		if (err == CR_OK)
			err = calls[i].err;
	}
	free(slots);
	return err;
}

enum cr_err
kube_call(struct kube *k, struct kube_call *c, int64_t deadline)
{
	enum cr_err err = kube_call_many(k, c, 1, 1, deadline);

	if (err != CR_OK) {
		snprintf(k->last_msg, sizeof(k->last_msg), "%s", c->msg);
		k->last_st = c->st;
	}
	return err;
}

enum cr_err
kube_get(struct kube *k, const char *path, int64_t deadline,
    json_object **replyp)
{
	struct kube_call c = KUBE_CALL_INIT;
	enum cr_err err;

	c.path = path;
	if ((err = kube_call(k, &c, deadline)) == CR_OK) {
		if (c.reply == NULL) {
			snprintf(k->last_msg, sizeof(k->last_msg),
			    "GET %s: the answer is not JSON", path);
			memset(&k->last_st, 0, sizeof(k->last_st));
			err = CR_ERR_PROTO;
		} else {
			*replyp = c.reply;
			c.reply = NULL;
		}
	}
	kube_call_clear(&c);
	return err;
}

void
kube_print_error(FILE *fp, const struct kube *k)
{
	const char *m = k->last_msg;

	if (strncmp(m, "Error from server", 17) == 0 ||
	    strncmp(m, "error: ", 7) == 0)
		fprintf(fp, "%s\n", m);
	else
		fprintf(fp, "error: %s\n", m);
}

const char *
kube_node_arg(const char *arg)
{
	if (strncmp(arg, "node/", 5) == 0)
		return arg + 5;
	if (strncmp(arg, "nodes/", 6) == 0)
		return arg + 6;
	return arg;
}

const char *
kube_error_message(const struct kube *k)
{
	return k->last_msg;
}

const struct kube_status *
kube_last_status(const struct kube *k)
{
	return &k->last_st;
}

static bool
list_expired(const struct kube *k)
{
	return kube_status_is(&k->last_st, KUBE_REASON_EXPIRED) ||
	    kube_status_is(&k->last_st, KUBE_REASON_GONE);
}

static char *
page_url(const char *path, const char *cont)
{
	char *esc, *url;

	if (cont == NULL)
		return xstrdup(path);
	esc = kube_escape(cont);
	url = xasprintf("%s%ccontinue=%s", path,
	    strchr(path, '?') != NULL ? '&' : '?', esc);
	free(esc);
	return url;
}

/* Items handed to a kube_page_fn at once: few, so a batch stays small. */
#define PAGE_BATCH 64

/* jv_parse_list() callback of get_page(): items gathered into batches. */
struct page_feed {
	kube_page_fn fn;
	void *arg;
	json_object *batch;
	enum cr_err err; /* fn's */
};

static enum cr_err
feed_flush(struct page_feed *pf)
{
	if (json_object_array_length(pf->batch) > 0) {
		pf->err = pf->fn(pf->arg, pf->batch);
		json_object_put(pf->batch);
		pf->batch = json_object_new_array();
	}
	return pf->err;
}

static enum cr_err
feed_item(void *arg, json_object *item)
{
	struct page_feed *pf = arg;

	json_object_array_add(pf->batch, json_object_get(item));
	return json_object_array_length(pf->batch) < PAGE_BATCH ?
	    CR_OK :
	    feed_flush(pf);
}

/*
 * GETs one page of a list at url and hands its items to pf's function a
 * batch at a time; *contp becomes the next page's token or NULL.
 */
static enum cr_err
get_page(struct kube *k, const char *url, int64_t deadline,
    struct page_feed *pf, char **contp)
{
	struct kube_call c = KUBE_CALL_INIT;
	char why[160];
	struct jv_list l = { .key = "items",
		.fn = feed_item,
		.arg = pf,
		.why = why,
		.whylen = sizeof(why) };
	json_object *rest = NULL;
	const char *next = NULL;
	enum cr_err err;

	c.path = url;
	c.keep_text = true;
	free(*contp);
	*contp = NULL;
	if ((err = kube_call(k, &c, deadline)) != CR_OK) {
		kube_call_clear(&c);
		return err;
	}
	pf->err = CR_OK;
	pf->batch = json_object_new_array();
	err = jv_parse_list((const char *)c.text.data, c.text.len, &l, &rest);
	if (err == CR_OK)
		err = feed_flush(pf);
	if (err != CR_OK && pf->err == CR_OK) {
		snprintf(k->last_msg, sizeof(k->last_msg),
		    "GET %s: the answer is not valid JSON (%s)", url, why);
		memset(&k->last_st, 0, sizeof(k->last_st));
	}
	if (err == CR_OK &&
	    (next = jv_str(rest, "metadata.continue")) != NULL && *next != '\0')
		*contp = xstrdup(next);
	json_object_put(pf->batch);
	pf->batch = NULL;
	json_object_put(rest);
	kube_call_clear(&c);
	return err;
}

enum cr_err
kube_list_pages(struct kube *k, const char *path, int64_t deadline,
    kube_page_fn fn, void *arg)
{
	struct page_feed pf = { .fn = fn, .arg = arg };
	char *cont = NULL, *url;
	bool restarted = false, continued;
	enum cr_err err;

	for (;;) {
		url = page_url(path, cont);
		continued = cont != NULL;
		err = get_page(k, url, deadline, &pf, &cont);
		free(url);
		if (err == CR_ERR_KUBE && continued && !restarted &&
		    list_expired(k)) {
			/* The continue token expired: start over (kubectl). */
			log_debug("list %s: continue token expired, restarting",
			    path);
			restarted = true;
			if ((err = fn(arg, NULL)) != CR_OK)
				break;
			continue;
		}
		if (err != CR_OK || cont == NULL)
			break;
	}
	free(cont);
	return err;
}

/* kube_list_pages() callback of kube_list_all(): every item, in order. */
static enum cr_err
add_items(void *arg, json_object *items)
{
	json_object **allp = arg;
	size_t i, n;

	if (items == NULL) { /* starting over */
		json_object_put(*allp);
		*allp = json_object_new_array();
		return CR_OK;
	}
	n = json_object_array_length(items);
	for (i = 0; i < n; i++)
		json_object_array_add(*allp,
		    json_object_get(json_object_array_get_idx(items, i)));
	return CR_OK;
}

enum cr_err
kube_list_all(struct kube *k, const char *path, int64_t deadline,
    json_object **itemsp)
{
	json_object *all = json_object_new_array();
	enum cr_err err;

	if ((err = kube_list_pages(k, path, deadline, add_items, &all)) ==
	    CR_OK) {
		*itemsp = all;
		all = NULL;
	}
	json_object_put(all);
	return err;
}

static enum cr_err
put_object(struct kube *k, const char *path, json_object *obj, int64_t deadline,
    bool *conflictp)
{
	struct kube_call c = KUBE_CALL_INIT;
	enum cr_err err;

	c.method = "PUT";
	c.path = path;
	c.body = obj;
	err = kube_call(k, &c, deadline);
	*conflictp = err == CR_ERR_KUBE &&
	    kube_status_is(&c.st, KUBE_REASON_CONFLICT);
	kube_call_clear(&c);
	return err;
}

enum cr_err
kube_update(struct kube *k, const char *path, kube_mutate_fn fn, void *arg,
    int64_t deadline)
{
	json_object *obj = NULL;
	bool conflict = false;
	enum cr_err err = CR_OK;
	int attempt;

	for (attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
		if (attempt > 0) {
			log_debug("PUT %s: conflict, reading it again", path);
			clock_sleep_ms(UPDATE_PAUSE_MS);
		}
		if ((err = kube_get(k, path, deadline, &obj)) != CR_OK)
			return err;
		if ((err = fn(obj, arg)) == CR_OK)
			err = put_object(k, path, obj, deadline, &conflict);
		json_object_put(obj);
		obj = NULL;
		if (err == CR_OK || !conflict)
			return err;
	}
	return err;
}

/* --- Nodes ------------------------------------------------------------ */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* The entry of array arr whose key is value, or NULL. */
static json_object *
find_by(json_object *arr, const char *key, const char *value)
{
	size_t i, n = arr != NULL ? json_object_array_length(arr) : 0;
	json_object *o;
	const char *s;

	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(arr, i);
		if ((s = jv_str(o, key)) != NULL && strcmp(s, value) == 0)
			return o;
	}
	return NULL;
}

static enum kube_cond
cond_parse(const char *s)
{
	if (s != NULL && strcmp(s, "True") == 0)
		return KUBE_COND_TRUE;
	if (s != NULL && strcmp(s, "False") == 0)
		return KUBE_COND_FALSE;
	return KUBE_COND_UNKNOWN;
}

static bool
has_key(json_object *obj, const char *key)
{
	return obj != NULL && json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, key, NULL);
}

enum cr_err
kube_node_info_parse(json_object *node, struct kube_node_info *ni)
{
	json_object *ready, *addr, *labels = jv_obj(node, "metadata.labels");
	const char *name = jv_str(node, "metadata.name");

	if (name == NULL)
		return CR_ERR_PROTO;
	ni->name = xstrdup(name);
	ni->uid = dup_or_null(jv_str(node, "metadata.uid"));
	ni->resource_version = dup_or_null(
	    jv_str(node, "metadata.resourceVersion"));
	addr = find_by(jv_arr(node, "status.addresses"), "type", "InternalIP");
	ni->internal_ip = dup_or_null(jv_str(addr, "address"));
	ready = find_by(jv_arr(node, "status.conditions"), "type", "Ready");
	ni->ready = cond_parse(jv_str(ready, "status"));
	ni->ready_reason = dup_or_null(jv_str(ready, "reason"));
	ni->unschedulable = jv_bool(node, "spec.unschedulable");
	ni->control_plane = has_key(labels,
				"node-role.kubernetes.io/control-plane") ||
	    has_key(labels, "node-role.kubernetes.io/master");
	ni->kubelet_version = dup_or_null(
	    jv_str(node, "status.nodeInfo.kubeletVersion"));
	return CR_OK;
}

void
kube_node_info_clear(struct kube_node_info *ni)
{
	if (ni == NULL)
		return;
	free(ni->name);
	free(ni->uid);
	free(ni->resource_version);
	free(ni->internal_ip);
	free(ni->ready_reason);
	free(ni->kubelet_version);
	memset(ni, 0, sizeof(*ni));
}

void
kube_node_list_clear(struct kube_node_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		kube_node_info_clear(&list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

static char *
node_path(const char *name)
{
	char *esc = kube_escape(name), *path;

	path = xasprintf("/api/v1/nodes/%s", esc);
	free(esc);
	return path;
}

enum cr_err
kube_get_node(struct kube *k, const char *name, int64_t deadline,
    struct kube_node_info *ni)
{
	json_object *obj = NULL;
	char *path = node_path(name);
	enum cr_err err;

	if ((err = kube_get(k, path, deadline, &obj)) == CR_OK &&
	    (err = kube_node_info_parse(obj, ni)) != CR_OK)
		snprintf(k->last_msg, sizeof(k->last_msg),
		    "node '%s': the answer has no metadata.name", name);
	json_object_put(obj);
	free(path);
	return err;
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kube_node_info *)a)->name,
	    ((const struct kube_node_info *)b)->name);
}

static bool
node_listed(const struct kube_node_list *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (strcmp(list->v[i].name, name) == 0)
			return true;
	return false;
}

/* Appends the nodes of one selector that list does not hold yet. */
static enum cr_err
nodes_add(struct kube *k, const char *selector, int64_t deadline,
    struct kube_node_list *list)
{
	json_object *items = NULL;
	struct kube_node_info ni;
	char *esc = selector != NULL ? kube_escape(selector) : NULL, *path;
	size_t i, n;
	enum cr_err err;

	path = esc != NULL ? xasprintf("/api/v1/nodes?labelSelector=%s", esc) :
			     xstrdup("/api/v1/nodes");
	err = kube_list_all(k, path, deadline, &items);
	n = err == CR_OK ? json_object_array_length(items) : 0;
	for (i = 0; i < n; i++) {
		memset(&ni, 0, sizeof(ni));
		if (kube_node_info_parse(json_object_array_get_idx(items, i),
			&ni) != CR_OK ||
		    node_listed(list, ni.name)) {
			kube_node_info_clear(&ni);
			continue;
		}
		list->v = xreallocarray(list->v, list->n + 1, sizeof(ni));
		list->v[list->n++] = ni;
	}
	json_object_put(items);
	free(path);
	free(esc);
	return err;
}

enum cr_err
kube_list_nodes(struct kube *k, const char *label_selector, int64_t deadline,
    struct kube_node_list *list)
{
	enum cr_err err = nodes_add(k, label_selector, deadline, list);

	if (list->n > 1)
		qsort(list->v, list->n, sizeof(*list->v), node_cmp);
	return err;
}

enum cr_err
kube_list_control_plane_nodes(struct kube *k, int64_t deadline,
    struct kube_node_list *list)
{
	enum cr_err err;

	if ((err = nodes_add(k, "node-role.kubernetes.io/control-plane",
		 deadline, list)) == CR_OK)
		err = nodes_add(k, "node-role.kubernetes.io/master", deadline,
		    list);
	if (list->n > 1)
		qsort(list->v, list->n, sizeof(*list->v), node_cmp);
	return err;
}

enum cr_err
kube_node_ready(struct kube *k, const char *name, int64_t deadline,
    enum kube_cond *readyp)
{
	struct kube_node_info ni = { 0 };
	enum cr_err err;

	if ((err = kube_get_node(k, name, deadline, &ni)) == CR_OK)
		*readyp = ni.ready;
	kube_node_info_clear(&ni);
	return err;
}

/* kubectl's CordonHelper: GET, then a strategic merge patch if needed. */
static enum cr_err
set_unschedulable(struct kube *k, const char *node, bool want, int64_t deadline,
    bool *alreadyp)
{
	struct kube_node_info ni = { 0 };
	struct kube_call c = KUBE_CALL_INIT;
	json_object *body = NULL, *spec;
	char *path = NULL;
	enum cr_err err;

	if ((err = kube_get_node(k, node, deadline, &ni)) != CR_OK)
		goto out;
	if (ni.unschedulable == want) {
		*alreadyp = true;
		goto out;
	}
	body = json_object_new_object();
	spec = json_object_new_object();
	if (want)
		jv_add_bool(spec, "unschedulable", true);
	else
		jv_add_str(spec, "unschedulable", NULL);
	json_object_object_add(body, "spec", spec);
	path = node_path(node);
	c.method = "PATCH";
	c.path = path;
	c.body = body;
	c.content_type = "application/strategic-merge-patch+json";
	if ((err = kube_call(k, &c, deadline)) == CR_OK)
		*alreadyp = false;
out:
	kube_call_clear(&c);
	json_object_put(body);
	free(path);
	kube_node_info_clear(&ni);
	return err;
}

enum cr_err
kube_cordon(struct kube *k, const char *node, int64_t deadline,
    bool *was_cordoned)
{
	return set_unschedulable(k, node, true, deadline, was_cordoned);
}

enum cr_err
kube_uncordon(struct kube *k, const char *node, int64_t deadline,
    bool *was_schedulable)
{
	return set_unschedulable(k, node, false, deadline, was_schedulable);
}

/* --- Mirror pods ------------------------------------------------------ */

static int64_t
epoch_s(const char *rfc3339)
{
	int64_t ms;

	if (rfc3339 == NULL || timefmt_parse_rfc3339(rfc3339, &ms) != CR_OK)
		return 0;
	return ms / 1000;
}

static void
containers_parse(json_object *pod, struct kube_mirror_pod *mp)
{
	json_object *arr = jv_arr(pod, "status.containerStatuses"), *cs;
	struct kube_container *c;
	size_t i, n = arr != NULL ? json_object_array_length(arr) : 0;

	if (n == 0)
		return;
	mp->containers = xcalloc(n, sizeof(*mp->containers));
	for (i = 0; i < n; i++) {
		cs = json_object_array_get_idx(arr, i);
		c = &mp->containers[mp->ncontainers++];
		c->name = dup_or_null(jv_str(cs, "name"));
		c->id = dup_or_null(jv_str(cs, "containerID"));
		c->started_at = epoch_s(jv_str(cs, "state.running.startedAt"));
		c->ready = jv_bool(cs, "ready");
		if (!jv_int(cs, "restartCount", &c->restarts))
			c->restarts = 0;
	}
}

/* kubeadm labels its static pods component=<name>; else strip "-node". */
static char *
component_of(json_object *labels, const char *name, const char *node)
{
	json_object *v;
	size_t n = strlen(name), m = node != NULL ? strlen(node) : 0;

	if (labels != NULL &&
	    json_object_object_get_ex(labels, "component", &v) &&
	    json_object_is_type(v, json_type_string))
		return xstrdup(json_object_get_string(v));
	if (m > 0 && n > m + 1 && strcmp(name + n - m, node) == 0 &&
	    name[n - m - 1] == '-')
		return xstrndup(name, n - m - 1);
	return xstrdup(name);
}

enum cr_err
kube_mirror_pod_parse(json_object *pod, const char *node,
    struct kube_mirror_pod *mp)
{
	json_object *ready;
	const char *name = jv_str(pod, "metadata.name");

	if (!has_key(jv_obj(pod, "metadata.annotations"),
		"kubernetes.io/config.mirror"))
		return CR_ERR_NOTFOUND;
	if (name == NULL)
		return CR_ERR_PROTO;
	mp->name = xstrdup(name);
	mp->component = component_of(jv_obj(pod, "metadata.labels"), name,
	    node);
	mp->uid = dup_or_null(jv_str(pod, "metadata.uid"));
	mp->phase = dup_or_null(jv_str(pod, "status.phase"));
	ready = find_by(jv_arr(pod, "status.conditions"), "type", "Ready");
	mp->ready = cond_parse(jv_str(ready, "status")) == KUBE_COND_TRUE;
	containers_parse(pod, mp);
	return CR_OK;
}

static void
mirror_pod_clear(struct kube_mirror_pod *mp)
{
	size_t i;

	for (i = 0; i < mp->ncontainers; i++) {
		free(mp->containers[i].name);
		free(mp->containers[i].id);
	}
	free(mp->containers);
	free(mp->name);
	free(mp->component);
	free(mp->uid);
	free(mp->phase);
	memset(mp, 0, sizeof(*mp));
}

void
kube_mirror_list_clear(struct kube_mirror_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		mirror_pod_clear(&list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

static int
mirror_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kube_mirror_pod *)a)->name,
	    ((const struct kube_mirror_pod *)b)->name);
}

enum cr_err
kube_mirror_pods(struct kube *k, const char *node, int64_t deadline,
    struct kube_mirror_list *list)
{
	json_object *items = NULL;
	struct kube_mirror_pod mp;
	char *sel = xasprintf("spec.nodeName=%s", node), *esc, *path;
	size_t i, n;
	enum cr_err err;

	esc = kube_escape(sel);
	path = xasprintf("/api/v1/namespaces/kube-system/pods?fieldSelector=%s",
	    esc);
	err = kube_list_all(k, path, deadline, &items);
	n = err == CR_OK ? json_object_array_length(items) : 0;
	for (i = 0; i < n; i++) {
		memset(&mp, 0, sizeof(mp));
		if (kube_mirror_pod_parse(json_object_array_get_idx(items, i),
			node, &mp) != CR_OK) {
			mirror_pod_clear(&mp);
			continue;
		}
		list->v = xreallocarray(list->v, list->n + 1, sizeof(mp));
		list->v[list->n++] = mp;
	}
	if (list->n > 1)
		qsort(list->v, list->n, sizeof(*list->v), mirror_cmp);
	json_object_put(items);
	free(path);
	free(esc);
	free(sel);
	return err;
}

/* --- Health and version ----------------------------------------------- */

enum cr_err
kube_readyz(struct kube *k, const char *endpoint, int64_t deadline,
    bool *readyp, struct buf *detail)
{
	struct kube_call c = KUBE_CALL_INIT;
	enum cr_err err;

	c.path = "/readyz?verbose";
	c.endpoint = endpoint;
	err = kube_call(k, &c, deadline);
	if (err == CR_OK || (err == CR_ERR_KUBE && c.status == 500)) {
		*readyp = err == CR_OK;
		if (detail != NULL)
			buf_put(detail, c.text.data, c.text.len);
		err = CR_OK;
	}
	kube_call_clear(&c);
	return err;
}

enum cr_err
kube_version(struct kube *k, int64_t deadline, char **versionp)
{
	json_object *obj = NULL;
	const char *v;
	enum cr_err err;

	if ((err = kube_get(k, "/version", deadline, &obj)) != CR_OK)
		return err;
	if ((v = jv_str(obj, "gitVersion")) == NULL) {
		snprintf(k->last_msg, sizeof(k->last_msg),
		    "GET /version: no gitVersion in the answer");
		err = CR_ERR_PROTO;
	} else
		*versionp = xstrdup(v);
	json_object_put(obj);
	return err;
}
