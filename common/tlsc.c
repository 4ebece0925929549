#include "tlsc.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "timefmt.h"
#include "xmalloc.h"

#define READ_CHUNK    16384
#define MAX_LINE      1024
#define MAX_INTERIM   8
#define MAX_CHUNK_HEX 15 /* < 2^60 bytes, no overflow */

struct tlsc {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	int64_t deadline;
	char *authority; /* Host header: "host:port" or "[v6]:port" */
	struct buf in;   /* received and not yet consumed */
	bool eof;
	bool used;
	struct tlsc_peer peer;
};

/* What the response headers say about the body. */
struct framing {
	int64_t content_length; /* -1: none */
	bool chunked;
};

/* A transfer in progress: where body bytes go. */
struct xfer {
	struct tlsc *c;
	const struct tlsc_req *req;
	struct tlsc_resp *resp;
	struct tlsc_diag *d;
};

static enum cr_err fail(struct tlsc_diag *d, enum cr_err err, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static enum cr_err
fail(struct tlsc_diag *d, enum cr_err err, const char *fmt, ...)
{
	va_list ap;

	if (d != NULL) {
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

/* The reason of the newest OpenSSL error, and an empty queue after. */
static const char *
ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (r != NULL)
		snprintf(buf, len, "%s", r);
	else if (e != 0)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown TLS error");
	ERR_clear_error();
	return buf;
}

static bool
is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/* Waits until fd is ready for events or the deadline passes. */
static enum cr_err
wait_io(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	for (;;) {
		if (deadline != 0 && clock_remaining_ms(deadline) == 0)
			return CR_ERR_TIMEOUT;
		rc = poll(&p, 1,
		    deadline == 0 ? -1 : clock_remaining_ms(deadline));
		if (rc > 0)
			return CR_OK;
		if (rc == -1 && errno != EINTR)
			return CR_ERR_SYS;
	}
}

/* Non-blocking connect to one address; *fdp is set on success. */
static enum cr_err
tcp_connect_one(const struct addrinfo *ai, int64_t deadline, int *fdp)
{
	socklen_t sl = sizeof(int);
	int fd, soerr = 0, saved;
	enum cr_err err = CR_ERR_SYS;

	if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) ==
	    -1)
		return CR_ERR_SYS;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto out;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		err = CR_OK;
		goto out;
	}
	if (errno != EINPROGRESS)
		goto out;
	if ((err = wait_io(fd, POLLOUT, deadline)) != CR_OK)
		goto out;
	err = CR_ERR_SYS;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
		goto out;
	if (soerr != 0) {
		errno = soerr;
		goto out;
	}
	err = CR_OK;
out:
	if (err == CR_OK) {
		*fdp = fd;
		return CR_OK;
	}
	saved = errno;
	close(fd);
	errno = saved;
	return err;
}

/* Tries every address of host:port in turn. */
static enum cr_err
tcp_connect(const char *host, const char *port, int64_t deadline, int *fdp,
    struct tlsc_diag *d)
{
	struct addrinfo hints, *res = NULL, *ai;
	enum cr_err err = CR_ERR_SYS;
	int rc, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return fail(d, CR_ERR_CONFIG, "resolve '%s' port '%s': %s",
		    host, port, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((err = tcp_connect_one(ai, deadline, fdp)) == CR_OK ||
		    err == CR_ERR_TIMEOUT)
			break;
		saved = errno;
	}
	freeaddrinfo(res);
	if (err == CR_ERR_TIMEOUT)
		return fail(d, err, "connect to %s:%s: timed out", host, port);
	if (err != CR_OK) {
		errno = saved;
		return fail(d, err, "connect to %s:%s: %s", host, port,
		    strerror(saved));
	}
	return CR_OK;
}

/* OpenSSL says "system lib" for a missing file; say what is wrong. */
static enum cr_err
check_readable(const char *path, const char *what, struct tlsc_diag *d)
{
	if (access(path, R_OK) == 0)
		return CR_OK;
	return fail(d, CR_ERR_CONFIG, "%s '%s': %s", what, path,
	    strerror(errno));
}

static enum cr_err
ctx_client_cert(SSL_CTX *ctx, const struct tlsc_opts *o, struct tlsc_diag *d)
{
	char why[160];
	const char *key = o->key_file != NULL ? o->key_file : o->cert_file;

	if (check_readable(o->cert_file, "client certificate", d) != CR_OK ||
	    check_readable(key, "client key", d) != CR_OK)
		return CR_ERR_CONFIG;
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
		return fail(d, CR_ERR_CONFIG, "client certificate '%s': %s",
		    o->cert_file, ssl_reason(why, sizeof(why)));
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 &&
	    SSL_CTX_check_private_key(ctx) == 1)
		return CR_OK;
	if (ERR_GET_REASON(ERR_peek_last_error()) ==
	    X509_R_KEY_VALUES_MISMATCH) {
		ERR_clear_error();
		return fail(d, CR_ERR_CONFIG,
		    "client key '%s' does not match certificate '%s'", key,
		    o->cert_file);
	}
	return fail(d, CR_ERR_CONFIG, "client key '%s': %s", key,
	    ssl_reason(why, sizeof(why)));
}

static enum cr_err
ctx_new(const struct tlsc_opts *o, SSL_CTX **ctxp, struct tlsc_diag *d)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX *ctx;
	char why[160];
	enum cr_err err = CR_ERR_TLS;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return fail(d, CR_ERR_TLS, "TLS context: %s",
		    ssl_reason(why, sizeof(why)));
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Truncation is caught by HTTP framing, not by close_notify. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0)
		goto out;
	if (!o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if ((err = check_readable(o->ca_file, "CA file", d)) != CR_OK)
			goto out;
		err = CR_ERR_CONFIG;
		if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
			fail(d, err, "CA file '%s': %s", o->ca_file,
			    ssl_reason(why, sizeof(why)));
			goto out;
		}
	}
	if (o->cert_file != NULL && (err = ctx_client_cert(ctx, o, d)) != CR_OK)
		goto out;
	*ctxp = ctx;
	return CR_OK;
out:
	if (err == CR_ERR_TLS)
		fail(d, err, "TLS context: %s", ssl_reason(why, sizeof(why)));
	SSL_CTX_free(ctx);
	return err;
}

/*
 * SSL_set_tlsext_host_name() is a macro that casts its argument to void *,
 * so a const name cannot be passed without dropping the qualifier; OpenSSL
 * copies the name, so a short-lived copy of ours is enough.
 */
static int
set_sni(SSL *ssl, const char *name)
{
	char *copy = xstrdup(name);
	int rc = (int)SSL_set_tlsext_host_name(ssl, copy);

	free(copy);
	return rc;
}

/* SNI for names only; the certificate must name host (DNS or IP SAN). */
static enum cr_err
ssl_new(struct tlsc *c, const struct tlsc_opts *o, struct tlsc_diag *d)
{
	const char *name = o->server_name != NULL ? o->server_name : o->host;
	bool ip = is_ip_literal(name);
	char why[160];

	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		return fail(d, CR_ERR_TLS, "TLS session: %s",
		    ssl_reason(why, sizeof(why)));
	if (!ip && set_sni(c->ssl, name) != 1)
		return fail(d, CR_ERR_TLS, "server name '%s': %s", name,
		    ssl_reason(why, sizeof(why)));
	if (o->insecure)
		return CR_OK;
	if ((ip &&
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) !=
		    1) ||
	    (!ip && SSL_set1_host(c->ssl, name) != 1))
		return fail(d, CR_ERR_CONFIG, "cannot check the name '%s'",
		    name);
	return CR_OK;
}

/* Turns a failed SSL call into a wait or an error with a reason. */
static enum cr_err
ssl_step(struct tlsc *c, int rc, const char *what, struct tlsc_diag *d)
{
	char why[160];
	int e = SSL_get_error(c->ssl, rc), saved = errno;
	enum cr_err err;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		err = wait_io(c->fd,
		    e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, c->deadline);
		if (err == CR_ERR_TIMEOUT)
			return fail(d, err, "%s: timed out", what);
		if (err != CR_OK)
			return fail(d, err, "%s: %s", what, strerror(errno));
		return CR_OK;
	}
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return fail(d, CR_ERR_SYS, "%s: %s", what,
		    saved != 0 ? strerror(saved) : "connection closed");
	ssl_reason(why, sizeof(why));
	if (strstr(why, "certificate required") != NULL)
		return fail(d, CR_ERR_TLS,
		    "%s: %s (the server requires a client certificate)", what,
		    why);
	return fail(d, CR_ERR_TLS, "%s: %s", what, why);
}

static enum cr_err
handshake(struct tlsc *c, struct tlsc_diag *d)
{
	long vr;
	int rc;
	enum cr_err err;

	while ((rc = SSL_connect(c->ssl)) != 1) {
		if ((err = ssl_step(c, rc, "TLS handshake", d)) == CR_OK)
			continue;
		vr = SSL_get_verify_result(c->ssl);
		if (err == CR_ERR_TLS && vr != X509_V_OK)
			return fail(d, err,
			    "TLS handshake: certificate verify failed: %s",
			    X509_verify_cert_error_string(vr));
		return err;
	}
	return CR_OK;
}

/* Describes x into p (serial, subject, validity); verified stays false. */
static enum cr_err
describe_x509(X509 *x, struct tlsc_peer *p)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	BIO *mem = BIO_new(BIO_s_mem());
	struct tm tm;
	char *s = NULL;
	long n;
	enum cr_err err = CR_ERR_CERT;

	memset(p, 0, sizeof(*p));
	if (hex == NULL || mem == NULL || strlen(hex) >= sizeof(p->serial))
		goto out;
	snprintf(p->serial, sizeof(p->serial), "%s", hex);
	if (X509_NAME_print_ex(mem, X509_get_subject_name(x), 0,
		XN_FLAG_RFC2253) < 0)
		goto out;
	n = BIO_get_mem_data(mem, &s);
	snprintf(p->subject, sizeof(p->subject), "%.*s", (int)n, s);
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1)
		goto out;
	p->not_before = timefmt_timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		goto out;
	p->not_after = timefmt_timegm(&tm);
	err = CR_OK;
out:
	BIO_free(mem);
	OPENSSL_free(hex);
	BN_free(bn);
	return err;
}

static enum cr_err
check_opts(const struct tlsc_opts *o, struct tlsc_diag *d)
{
	if (o->host == NULL || *o->host == '\0' || o->port == NULL ||
	    *o->port == '\0')
		return fail(d, CR_ERR_CONFIG, "no host or port to connect to");
	if (!o->insecure && o->ca_file == NULL)
		return fail(d, CR_ERR_CONFIG,
		    "no CA file to verify %s:%s against (skipping "
		    "verification must be asked for explicitly)",
		    o->host, o->port);
	return CR_OK;
}

static void
take_peer(struct tlsc *c, bool insecure)
{
	X509 *x = SSL_get1_peer_certificate(c->ssl);

	if (x != NULL && describe_x509(x, &c->peer) == CR_OK)
		c->peer.verified = !insecure &&
		    SSL_get_verify_result(c->ssl) == X509_V_OK;
	X509_free(x);
}

enum cr_err
tlsc_connect(const struct tlsc_opts *o, struct tlsc **cp, struct tlsc_diag *d)
{
	struct tlsc *c = NULL;
	enum cr_err err;
	int saved;

	*cp = NULL;
	if (d != NULL)
		d->msg[0] = '\0';
	if ((err = check_opts(o, d)) != CR_OK)
		return err;
	c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	c->deadline = o->deadline;
	c->authority = strchr(o->host, ':') != NULL ?
	    xasprintf("[%s]:%s", o->host, o->port) :
	    xasprintf("%s:%s", o->host, o->port);
	if ((err = ctx_new(o, &c->ctx, d)) != CR_OK ||
	    (err = tcp_connect(o->host, o->port, o->deadline, &c->fd, d)) !=
		CR_OK ||
	    (err = ssl_new(c, o, d)) != CR_OK ||
	    (err = handshake(c, d)) != CR_OK)
		goto out;
	take_peer(c, o->insecure);
	*cp = c;
	c = NULL;
out:
	saved = errno;
	tlsc_free(c);
	errno = saved;
	return err;
}

const struct tlsc_peer *
tlsc_peer(const struct tlsc *c)
{
	return &c->peer;
}

void
tlsc_set_deadline(struct tlsc *c, int64_t deadline)
{
	c->deadline = deadline;
}

void
tlsc_free(struct tlsc *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		/* Best effort, non-blocking; pointless once the peer left. */
		if (SSL_is_init_finished(c->ssl) && !c->eof)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	buf_clear(&c->in);
	free(c->authority);
	ERR_clear_error();
	free(c);
}

static enum cr_err
write_all(struct tlsc *c, const void *data, size_t len, struct tlsc_diag *d)
{
	const char *p = data;
	size_t n;
	int rc;
	enum cr_err err;

	while (len > 0) {
		ERR_clear_error();
		rc = SSL_write_ex(c->ssl, p, len, &n);
		if (rc == 1) {
			p += n;
			len -= n;
			continue;
		}
		if ((err = ssl_step(c, rc, "send request", d)) != CR_OK)
			return err;
	}
	return CR_OK;
}

/* Appends what the server sends next to c->in; sets c->eof at its end. */
static enum cr_err
fill(struct tlsc *c, struct tlsc_diag *d)
{
	char chunk[READ_CHUNK];
	size_t n;
	int rc, e;
	enum cr_err err;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_read_ex(c->ssl, chunk, sizeof(chunk), &n);
		if (rc == 1) {
			buf_put(&c->in, chunk, n);
			return CR_OK;
		}
		e = SSL_get_error(c->ssl, rc);
		if (e == SSL_ERROR_ZERO_RETURN ||
		    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 &&
			errno == 0)) {
			c->eof = true;
			return CR_OK;
		}
		if ((err = ssl_step(c, rc, "read response", d)) != CR_OK)
			return err;
	}
}

static const char *
find_crlf2(const struct buf *b)
{
	size_t i;

	for (i = 0; i + 3 < b->len; i++)
		if (memcmp(b->data + i, "\r\n\r\n", 4) == 0)
			return (const char *)b->data + i;
	return NULL;
}

/* Parses "HTTP/1.x NNN reason" (reason optional). */
static bool
parse_status(const char *line, size_t len, int *statusp)
{
	int s = 0;
	size_t i;

	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)line[7]) || line[8] != ' ')
		return false;
	for (i = 9; i < 12; i++) {
		if (!isdigit((unsigned char)line[i]))
			return false;
		s = s * 10 + (line[i] - '0');
	}
	if (len > 12 && line[12] != ' ')
		return false;
	if (s < 100)
		return false;
	*statusp = s;
	return true;
}

static bool
parse_length(const char *v, size_t len, int64_t *outp)
{
	int64_t n = 0;
	size_t i;

	if (len == 0 || len > 15)
		return false;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i]))
			return false;
		n = n * 10 + (v[i] - '0');
	}
	*outp = n;
	return true;
}

/* The last transfer coding must be chunked; we accept nothing else. */
static bool
te_is_chunked(const char *v, size_t len)
{
	size_t end = len, start;

	while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && v[start - 1] != ',' && v[start - 1] != ' ')
		start--;
	return end - start == 7 && strncasecmp(v + start, "chunked", 7) == 0;
}

static enum cr_err
field_length(struct framing *f, struct tlsc_resp *resp, const char *v,
    size_t vlen, struct tlsc_diag *d)
{
	int64_t cl;

	(void)resp;
	if (!parse_length(v, vlen, &cl) ||
	    (f->content_length != -1 && f->content_length != cl))
		return fail(d, CR_ERR_PROTO, "malformed Content-Length '%.*s'",
		    (int)vlen, v);
	f->content_length = cl;
	return CR_OK;
}

static enum cr_err
field_coding(struct framing *f, struct tlsc_resp *resp, const char *v,
    size_t vlen, struct tlsc_diag *d)
{
	(void)resp;
	if (!te_is_chunked(v, vlen))
		return fail(d, CR_ERR_PROTO,
		    "unsupported Transfer-Encoding '%.*s'", (int)vlen, v);
	f->chunked = true;
	return CR_OK;
}

static enum cr_err
field_type(struct framing *f, struct tlsc_resp *resp, const char *v,
    size_t vlen, struct tlsc_diag *d)
{
	(void)f;
	(void)d;
	snprintf(resp->content_type, sizeof(resp->content_type), "%.*s",
	    (int)vlen, v);
	return CR_OK;
}

/* The response fields we act on; every other one is ignored. */
static const struct field {
	const char *name;
	enum cr_err (*take)(struct framing *f, struct tlsc_resp *resp,
	    const char *v, size_t vlen, struct tlsc_diag *d);
} fields[] = {
	{ "Content-Length", field_length },
	{ "Transfer-Encoding", field_coding },
	{ "Content-Type", field_type },
};

/* One "Name: value" line. */
static enum cr_err
parse_field(const char *line, size_t len, struct framing *f,
    struct tlsc_resp *resp, struct tlsc_diag *d)
{
	const char *colon = memchr(line, ':', len);
	const char *v;
	size_t nlen, vlen, i;

	if (colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t')
		return fail(d, CR_ERR_PROTO, "malformed response header '%.*s'",
		    (int)(len > 60 ? 60 : len), line);
	nlen = (size_t)(colon - line);
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == nlen &&
		    strncasecmp(line, fields[i].name, nlen) == 0)
			return fields[i].take(f, resp, v, vlen, d);
	return CR_OK;
}

/* Parses the header block in [p, end) (status line first). */
static enum cr_err
parse_head(const char *p, const char *end, struct framing *f,
    struct tlsc_resp *resp, struct tlsc_diag *d)
{
	const char *nl;
	size_t len;
	enum cr_err err;
	bool first = true;

	f->content_length = -1;
	f->chunked = false;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (first && !parse_status(p, len, &resp->status))
			return fail(d, CR_ERR_PROTO,
			    "malformed status line '%.*s'",
			    (int)(len > 60 ? 60 : len), p);
		if (!first && (err = parse_field(p, len, f, resp, d)) != CR_OK)
			return err;
		first = false;
		p = nl + 1;
	}
	return CR_OK;
}

/* Reads one header block into *f and resp; consumes it from c->in. */
static enum cr_err
read_head(struct tlsc *c, struct framing *f, struct tlsc_resp *resp,
    struct tlsc_diag *d)
{
	const char *end;
	size_t hlen;
	enum cr_err err;

	while ((end = find_crlf2(&c->in)) == NULL) {
		if (c->in.len > TLSC_MAX_HEADER)
			return fail(d, CR_ERR_PROTO,
			    "response header larger than %zu bytes",
			    TLSC_MAX_HEADER);
		if ((err = fill(c, d)) != CR_OK)
			return err;
		if (c->eof)
			return fail(d, CR_ERR_PROTO, "connection closed %s",
			    c->in.len == 0 ? "without a response" :
					     "inside the response header");
	}
	hlen = (size_t)(end - (const char *)c->in.data);
	if (hlen > TLSC_MAX_HEADER)
		return fail(d, CR_ERR_PROTO,
		    "response header larger than %zu bytes", TLSC_MAX_HEADER);
	err = parse_head((const char *)c->in.data, end, f, resp, d);
	buf_consume(&c->in, hlen + 4);
	return err;
}

static enum cr_err
deliver(struct xfer *x, const uint8_t *data, size_t n)
{
	size_t max = x->req->max_body != 0 ? x->req->max_body :
					     TLSC_DEFAULT_MAX_BODY;
	enum cr_err err;

	x->resp->body_len += (int64_t)n;
	if (x->req->on_body != NULL) {
		if ((err = x->req->on_body(x->req->on_body_arg, data, n)) !=
		    CR_OK)
			return fail(x->d, err, "response body refused: %s",
			    cr_strerror(err));
		return CR_OK;
	}
	if (x->resp->body.len + n > max)
		return fail(x->d, CR_ERR_PROTO,
		    "response body larger than %zu bytes", max);
	buf_put(&x->resp->body, data, n);
	return CR_OK;
}

/* Passes exactly n body bytes on; what is the body is told by what. */
static enum cr_err
body_exact(struct xfer *x, int64_t n, const char *what)
{
	struct tlsc *c = x->c;
	size_t take;
	enum cr_err err;

	while (n > 0) {
		if (c->in.len == 0) {
			if ((err = fill(c, x->d)) != CR_OK)
				return err;
			if (c->eof)
				return fail(x->d, CR_ERR_PROTO,
				    "connection closed inside %s "
				    "(%lld bytes missing)",
				    what, (long long)n);
			continue;
		}
		take = c->in.len < (uint64_t)n ? c->in.len : (size_t)n;
		if ((err = deliver(x, c->in.data, take)) != CR_OK)
			return err;
		buf_consume(&c->in, take);
		n -= (int64_t)take;
	}
	return CR_OK;
}

/* Reads one CRLF-terminated line (without it) into line. */
static enum cr_err
read_line(struct tlsc *c, char *line, size_t cap, struct tlsc_diag *d)
{
	const uint8_t *nl = NULL;
	size_t len;
	enum cr_err err;

	while (c->in.len == 0 ||
	    (nl = memchr(c->in.data, '\n', c->in.len)) == NULL) {
		if (c->in.len >= cap)
			return fail(d, CR_ERR_PROTO, "chunk line too long");
		if ((err = fill(c, d)) != CR_OK)
			return err;
		if (c->eof)
			return fail(d, CR_ERR_PROTO,
			    "connection closed inside the chunked body");
	}
	len = (size_t)(nl - c->in.data);
	if (len >= cap)
		return fail(d, CR_ERR_PROTO, "chunk line too long");
	memcpy(line, c->in.data, len);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	buf_consume(&c->in, (size_t)(nl - c->in.data) + 1);
	return CR_OK;
}

/* "1a2b[;ext]" -> size; at most MAX_CHUNK_HEX digits. */
static bool
parse_chunk_size(const char *line, int64_t *np)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; isxdigit((unsigned char)line[i]); i++) {
		if (i == MAX_CHUNK_HEX)
			return false;
		n = n * 16 +
		    (isdigit((unsigned char)line[i]) ?
			    line[i] - '0' :
			    tolower((unsigned char)line[i]) - 'a' + 10);
	}
	if (i == 0)
		return false;
	while (line[i] == ' ' || line[i] == '\t')
		i++;
	if (line[i] != '\0' && line[i] != ';')
		return false;
	*np = n;
	return true;
}

static enum cr_err
body_chunked(struct xfer *x)
{
	char line[MAX_LINE] = "";
	int64_t n;
	enum cr_err err;

	for (;;) {
		if ((err = read_line(x->c, line, sizeof(line), x->d)) != CR_OK)
			return err;
		if (!parse_chunk_size(line, &n))
			return fail(x->d, CR_ERR_PROTO,
			    "malformed chunk size '%.40s'", line);
		if (n == 0)
			break;
		if ((err = body_exact(x, n, "a chunk")) != CR_OK ||
		    (err = read_line(x->c, line, sizeof(line), x->d)) != CR_OK)
			return err;
		if (line[0] != '\0')
			return fail(x->d, CR_ERR_PROTO,
			    "chunk not followed by CRLF");
	}
	/* Trailer fields, up to the empty line. */
	do {
		if ((err = read_line(x->c, line, sizeof(line), x->d)) != CR_OK)
			return err;
	} while (line[0] != '\0');
	return CR_OK;
}

static enum cr_err
body_to_close(struct xfer *x)
{
	struct tlsc *c = x->c;
	enum cr_err err;

	for (;;) {
		if (c->in.len > 0) {
			if ((err = deliver(x, c->in.data, c->in.len)) != CR_OK)
				return err;
			buf_reset(&c->in);
		}
		if (c->eof)
			return CR_OK;
		if ((err = fill(c, x->d)) != CR_OK)
			return err;
	}
}

static bool
valid_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static enum cr_err
send_request(struct tlsc *c, const struct tlsc_req *req, struct tlsc_diag *d)
{
	const char *method = req->method != NULL ? req->method : "GET";
	struct buf b = BUF_INIT;
	enum cr_err err;

	if (!valid_token(method) || !valid_token(req->path) ||
	    req->path[0] != '/')
		return fail(d, CR_ERR_CONFIG, "invalid request line");
	buf_printf(&b,
	    "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: certroll/%s\r\n"
	    "Accept: */*\r\nConnection: close\r\n",
	    method, req->path, c->authority, CERTROLL_VERSION);
	if (req->body != NULL || strcmp(method, "POST") == 0 ||
	    strcmp(method, "PUT") == 0)
		buf_printf(&b, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    req->content_type != NULL ? req->content_type :
						"application/json",
		    req->body != NULL ? req->body_len : 0);
	buf_puts(&b, "\r\n");
	if (req->body != NULL)
		buf_put(&b, req->body, req->body_len);
	err = write_all(c, b.data, b.len, d);
	buf_clear(&b);
	return err;
}

/*
 * Under TLS 1.3 a server refuses our client certificate after the
 * handshake: its alert may already wait for us when sending fails because
 * it reset the connection. The alert is the better reason.
 */
static enum cr_err
pending_alert(struct tlsc *c, enum cr_err err, struct tlsc_diag *d)
{
	struct tlsc_diag alert;

	if (err == CR_ERR_SYS && fill(c, &alert) == CR_ERR_TLS) {
		if (d != NULL)
			*d = alert;
		return CR_ERR_TLS;
	}
	return err;
}

enum cr_err
tlsc_request(struct tlsc *c, const struct tlsc_req *req, struct tlsc_resp *resp,
    struct tlsc_diag *d)
{
	struct xfer x = { .c = c, .req = req, .resp = resp, .d = d };
	struct framing f = { .content_length = -1, .chunked = false };
	int interim = 0;
	enum cr_err err;

	if (d != NULL)
		d->msg[0] = '\0';
	if (c->used)
		return fail(d, CR_ERR_STATE, "connection already used");
	c->used = true;
	resp->peer = c->peer;
	if ((err = send_request(c, req, d)) != CR_OK)
		return pending_alert(c, err, d);
	do {
		if (interim++ > MAX_INTERIM)
			return fail(d, CR_ERR_PROTO, "too many 1xx responses");
		if ((err = read_head(c, &f, resp, d)) != CR_OK)
			return err;
	} while (resp->status < 200);
	resp->chunked = f.chunked;
	if (resp->status == 204 || resp->status == 304)
		return CR_OK;
	if (f.chunked)
		return body_chunked(&x);
	if (f.content_length >= 0)
		return body_exact(&x, f.content_length, "the body");
	return body_to_close(&x);
}

enum cr_err
tlsc_fetch(const struct tlsc_opts *o, const struct tlsc_req *req,
    struct tlsc_resp *resp, struct tlsc_diag *d)
{
	struct tlsc *c = NULL;
	enum cr_err err;

	if ((err = tlsc_connect(o, &c, d)) != CR_OK)
		return err;
	err = tlsc_request(c, req, resp, d);
	tlsc_free(c);
	return err;
}

void
tlsc_resp_clear(struct tlsc_resp *resp)
{
	buf_clear(&resp->body);
	memset(resp, 0, sizeof(*resp));
}

enum cr_err
tlsc_tcp_probe(const char *host, const char *port, int64_t deadline,
    struct tlsc_diag *d)
{
	int fd = -1;
	enum cr_err err;

	if (d != NULL)
		d->msg[0] = '\0';
	if ((err = tcp_connect(host, port, deadline, &fd, d)) != CR_OK)
		return err;
	close(fd);
	return CR_OK;
}

/* Skips a sign and leading zeros so "00AB" and "ab" compare equal. */
static const char *
serial_digits(const char *s, bool *negp)
{
	*negp = *s == '-';
	if (*negp)
		s++;
	while (*s == '0' && s[1] != '\0')
		s++;
	return s;
}

bool
tlsc_serial_equal(const char *a, const char *b)
{
	bool na, nb;

	if (a == NULL || b == NULL || *a == '\0' || *b == '\0')
		return false;
	a = serial_digits(a, &na);
	b = serial_digits(b, &nb);
	return na == nb && strcasecmp(a, b) == 0;
}
