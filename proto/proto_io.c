/*
 * Whole frames over a transport, with deadlines: the file-descriptor
 * transport, struct proto_conn, and the request/reply helpers of both
 * sides. No logging: failures are explained in proto_conn_errmsg() and
 * traffic is reported through the trace callback.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "jv.h"
#include "proto.h"
#include "proto_int.h"
#include "xmalloc.h"

struct proto_conn {
	struct proto_transport t;
	uint32_t last_id; /* req_id of the last proto_call() */
	bool broken;      /* out of step with the peer: refuse every call */
	void (*on_progress)(void *arg, const struct proto_progress *p);
	void *progress_arg;
	void (*trace)(void *arg, bool sent, const struct proto_hdr *h);
	void *trace_arg;
	char errmsg[PROTO_WHY_MAX + 64];
	char broken_why[PROTO_WHY_MAX + 64];
};

/* ------------------------------------------------------------------ */
/* The file-descriptor transport                                       */
/* ------------------------------------------------------------------ */

struct fd_pair {
	int rfd;
	int wfd;
	bool wsock; /* wfd is a socket: send() with MSG_NOSIGNAL */
};

/* Waits for events on fd; -1 with errno ETIMEDOUT when none came. */
static int
fd_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {
		.fd = fd,
		.events = events,
	};
	int n;

	if ((n = poll(&pfd, 1, timeout_ms)) == 0)
		errno = ETIMEDOUT;
	return n > 0 ? 0 : -1;
}

static ssize_t
fd_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	const struct fd_pair *f = ctx;

	if (fd_wait(f->rfd, POLLIN, timeout_ms) == -1)
		return -1;
	return read(f->rfd, buf, len);
}

static ssize_t
fd_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	const struct fd_pair *f = ctx;

	if (fd_wait(f->wfd, POLLOUT, timeout_ms) == -1)
		return -1;
	/*
	 * A blocking write waits until all of len is taken, whatever the
	 * deadline. A socket is told not to wait; a pipe that polled
	 * writable takes PIPE_BUF bytes without blocking.
	 */
	if (f->wsock)
		return send(f->wfd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return write(f->wfd, buf, len > PIPE_BUF ? PIPE_BUF : len);
}

struct proto_transport
proto_transport_fd(int rfd, int wfd)
{
	struct fd_pair *f = xcalloc(1, sizeof(*f));
	struct stat st;
	struct proto_transport t = {
		.read = fd_read,
		.write = fd_write,
		.release = free,
		.ctx = f,
	};

	f->rfd = rfd;
	f->wfd = wfd;
	f->wsock = fstat(wfd, &st) == 0 && S_ISSOCK(st.st_mode);
	return t;
}

/* ------------------------------------------------------------------ */
/* The connection                                                      */
/* ------------------------------------------------------------------ */

struct proto_conn *
proto_conn_new(const struct proto_transport *t)
{
	struct proto_conn *c = xcalloc(1, sizeof(*c));

	c->t = *t;
	return c;
}

void
proto_conn_free(struct proto_conn *c)
{
	if (c == NULL)
		return;
	if (c->t.release != NULL)
		c->t.release(c->t.ctx);
	free(c);
}

void
proto_conn_on_progress(struct proto_conn *c,
    void (*on_progress)(void *arg, const struct proto_progress *p), void *arg)
{
	c->on_progress = on_progress;
	c->progress_arg = arg;
}

void
proto_conn_set_trace(struct proto_conn *c,
    void (*trace)(void *arg, bool sent, const struct proto_hdr *h), void *arg)
{
	c->trace = trace;
	c->trace_arg = arg;
}

const char *
proto_conn_errmsg(const struct proto_conn *c)
{
	return c->errmsg;
}

static void conn_err(struct proto_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conn_err(struct proto_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
}

/* The peer and we are out of step: every later call fails. */
static void
conn_break(struct proto_conn *c)
{
	if (c->broken)
		return;
	c->broken = true;
	snprintf(c->broken_why, sizeof(c->broken_why), "%s", c->errmsg);
}

bool
proto_conn_broken(const struct proto_conn *c)
{
	return c->broken;
}

bool
proto_conn_probe(struct proto_conn *c)
{
	uint8_t b;
	ssize_t n;

	if (c->broken)
		return false;
	n = c->t.read(c->t.ctx, &b, 1, 0);
	if (n < 0 && (errno == ETIMEDOUT || errno == EAGAIN || errno == EINTR))
		return true;
	if (n == 0)
		conn_err(c, "the peer closed the stream while idle");
	else if (n > 0)
		conn_err(c, "the peer sent data nobody asked for");
	else
		conn_err(c, "the stream failed while idle: %s",
		    strerror(errno));
	conn_break(c);
	return false;
}

static enum cr_err
conn_usable(struct proto_conn *c)
{
	c->errmsg[0] = '\0';
	if (!c->broken)
		return CR_OK;
	conn_err(c, "connection unusable after an earlier failure (%s)",
	    c->broken_why);
	return CR_ERR_PROTO;
}

static int
timeout_of(int64_t deadline)
{
	return deadline == 0 ? -1 : clock_remaining_ms(deadline);
}

/* Turns a transport's errno into a code. */
static enum cr_err
errno_code(int e)
{
	if (e == ETIMEDOUT)
		return CR_ERR_TIMEOUT;
	if (e == ECANCELED)
		return CR_ERR_CANCELED;
	return CR_ERR_SYS;
}

/* What one transport call did. */
enum step {
	STEP_MOVED, /* some bytes went through */
	STEP_AGAIN, /* nothing happened: call again */
	STEP_FAILED /* stop; errno says why */
};

/* Classifies n, a transport's answer to a request for want bytes. */
static enum step
step_of(ssize_t n, size_t want, int64_t deadline)
{
	if (n > 0 && (size_t)n <= want)
		return STEP_MOVED;
	if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
		if (!clock_expired(deadline))
			return STEP_AGAIN;
		errno = ETIMEDOUT;
	} else if (n >= 0)
		errno = EIO; /* a transport that lies about its count */
	return STEP_FAILED;
}

/*
 * Reads len bytes into p. *donep counts the bytes read; it stops early,
 * with CR_OK, at end of stream.
 */
static enum cr_err
recv_all(struct proto_conn *c, uint8_t *p, size_t len, int64_t deadline,
    size_t *donep)
{
	ssize_t n;

	*donep = 0;
	while (*donep < len) {
		n = c->t.read(c->t.ctx, p + *donep, len - *donep,
		    timeout_of(deadline));
		if (n == 0)
			break;
		switch (step_of(n, len - *donep, deadline)) {
		case STEP_MOVED:
			*donep += (size_t)n;
			break;
		case STEP_AGAIN:
			break;
		case STEP_FAILED:
			return errno_code(errno);
		}
	}
	return CR_OK;
}

/* Writes the len bytes at p. *donep counts the bytes written. */
static enum cr_err
send_all(struct proto_conn *c, const uint8_t *p, size_t len, int64_t deadline,
    size_t *donep)
{
	ssize_t n;

	*donep = 0;
	while (*donep < len) {
		n = c->t.write(c->t.ctx, p + *donep, len - *donep,
		    timeout_of(deadline));
		switch (step_of(n, len - *donep, deadline)) {
		case STEP_MOVED:
			*donep += (size_t)n;
			break;
		case STEP_AGAIN:
			break;
		case STEP_FAILED:
			return errno_code(errno);
		}
	}
	return CR_OK;
}

static void
trace(struct proto_conn *c, bool sent, const struct proto_hdr *h)
{
	if (c->trace != NULL)
		c->trace(c->trace_arg, sent, h);
}

/* Says why proto_frame_encode() refused to frame body as type. */
static void
explain_encode(struct proto_conn *c, uint16_t type, json_object *body)
{
	const char *text;

	if (!proto_type_valid(type)) {
		conn_err(c, "cannot send message type %u: not a valid type",
		    type);
		return;
	}
	if (body == NULL || !json_object_is_type(body, json_type_object)) {
		conn_err(c, "cannot send %s: its body is not a JSON object",
		    proto_type_name(type));
		return;
	}
	text = jv_to_string(body);
	if (strlen(text) > PROTO_MAX_BODY)
		conn_err(c,
		    "cannot send %s: its body of %zu bytes exceeds "
		    "the limit of %d",
		    proto_type_name(type), strlen(text), PROTO_MAX_BODY);
	else
		conn_err(c, "cannot send %s: its body is not valid UTF-8",
		    proto_type_name(type));
}

enum cr_err
proto_send(struct proto_conn *c, uint16_t type, uint32_t req_id,
    json_object *body, int64_t deadline)
{
	struct buf b = BUF_INIT;
	struct proto_hdr h = {
		.type = type,
		.version = PROTO_VERSION,
		.req_id = req_id,
	};
	size_t done = 0;
	enum cr_err err;
	int e;

	if ((err = conn_usable(c)) != CR_OK)
		return err;
	if (proto_frame_encode(type, req_id, body, &b) != CR_OK) {
		explain_encode(c, type, body);
		return CR_ERR_PROTO;
	}
	h.body_len = (uint32_t)(b.len - PROTO_HDR_LEN);
	err = send_all(c, b.data, b.len, deadline, &done);
	e = errno;
	if (err == CR_OK)
		trace(c, true, &h);
	else {
		conn_err(c, "sending %s: %s after %zu of %zu bytes%s%s",
		    proto_type_name(type), cr_strerror(err), done, b.len,
		    err == CR_ERR_SYS ? ": " : "",
		    err == CR_ERR_SYS ? strerror(e) : "");
		if (done > 0 ||
		    (err != CR_ERR_TIMEOUT && err != CR_ERR_CANCELED))
			conn_break(c);
	}
	/* The body may be key material (READ_FILE_REP). */
	buf_clear_secret(&b);
	errno = e;
	return err;
}

/*
 * After a failed or short read of what (a header or a body): explains and,
 * unless nothing at all was read before a timeout, breaks the connection.
 */
static enum cr_err
read_failed(struct proto_conn *c, enum cr_err err, const char *what, size_t got,
    size_t want)
{
	int e = errno;

	if (err == CR_OK) {
		conn_err(c,
		    "peer closed the stream inside a %s (%zu of %zu "
		    "bytes)",
		    what, got, want);
		err = CR_ERR_PROTO;
	} else if (got == 0 &&
	    (err == CR_ERR_TIMEOUT || err == CR_ERR_CANCELED)) {
		conn_err(c, "no frame arrived: %s", cr_strerror(err));
		return err;
	} else
		conn_err(c, "reading a %s: %s after %zu of %zu bytes%s%s", what,
		    cr_strerror(err), got, want, err == CR_ERR_SYS ? ": " : "",
		    err == CR_ERR_SYS ? strerror(e) : "");
	conn_break(c);
	errno = e;
	return err;
}

static enum cr_err
read_body(struct proto_conn *c, const struct proto_hdr *h, int64_t deadline,
    json_object **bodyp)
{
	char why[PROTO_WHY_MAX];
	uint8_t *raw = xmalloc(h->body_len > 0 ? h->body_len : 1);
	size_t got = 0;
	enum cr_err err;

	err = recv_all(c, raw, h->body_len, deadline, &got);
	if (err != CR_OK || got < h->body_len)
		err = read_failed(c, err, "frame body", got, h->body_len);
	else if ((err = proto_body_decode(h, raw, bodyp, why, sizeof(why))) !=
	    CR_OK) {
		conn_err(c, "%s", why);
		conn_break(c);
	}
	freezero(raw, h->body_len > 0 ? h->body_len : 1);
	return err;
}

enum cr_err
proto_recv(struct proto_conn *c, int64_t deadline, struct proto_frame *out)
{
	uint8_t raw[PROTO_HDR_LEN];
	char why[PROTO_WHY_MAX];
	struct proto_hdr h;
	json_object *body = NULL;
	size_t got = 0;
	enum cr_err err;

	memset(out, 0, sizeof(*out));
	if ((err = conn_usable(c)) != CR_OK)
		return err;
	err = recv_all(c, raw, sizeof(raw), deadline, &got);
	if (err == CR_OK && got == 0)
		return CR_OK; /* end of stream between frames */
	if (err != CR_OK || got < sizeof(raw))
		return read_failed(c, err, "frame header", got, sizeof(raw));
	if (proto_hdr_decode(raw, got, &h, why, sizeof(why)) != CR_OK) {
		conn_err(c, "%s", why);
		conn_break(c);
		return CR_ERR_PROTO;
	}
	if ((err = read_body(c, &h, deadline, &body)) != CR_OK)
		return err;
	trace(c, false, &h);
	out->hdr = h;
	out->body = body;
	return CR_OK;
}

/* ------------------------------------------------------------------ */
/* The orchestrator's side: proto_call() and the handshake             */
/* ------------------------------------------------------------------ */

/* One pending request of proto_call(). */
struct call {
	uint16_t type; /* the request sent */
	uint32_t id;
	json_object *reply;
	bool done;
	bool peer_error; /* the peer answered ERROR */
};

static enum cr_err
on_progress(struct proto_conn *c, json_object *body)
{
	struct proto_progress p;
	char why[PROTO_WHY_MAX];

	if (proto_progress_decode(body, &p, why, sizeof(why)) != CR_OK) {
		conn_err(c, "%s", why);
		return CR_ERR_PROTO;
	}
	if (c->on_progress != NULL)
		c->on_progress(c->progress_arg, &p);
	proto_progress_clear(&p);
	return CR_OK;
}

static enum cr_err
on_error(struct proto_conn *c, struct call *k, json_object *body)
{
	struct proto_error e;
	char why[PROTO_WHY_MAX];
	enum cr_err code;

	if (proto_error_decode(body, &e, why, sizeof(why)) != CR_OK) {
		conn_err(c, "%s", why);
		return CR_ERR_PROTO;
	}
	conn_err(c, "%s", e.message);
	k->done = true;
	k->peer_error = true;
	code = e.code;
	proto_error_clear(&e);
	return code;
}

/* Handles one frame received while k is pending. */
static enum cr_err
on_frame(struct proto_conn *c, struct call *k, struct proto_frame *f)
{
	const char *req = proto_type_name(k->type);

	if (f->hdr.type == PROTO_NONE) {
		conn_err(c, "peer closed the stream before answering %s", req);
		return CR_ERR_PROTO;
	}
	if (f->hdr.req_id != k->id) {
		conn_err(c,
		    "%s for request #%lu while waiting for the answer "
		    "to %s #%lu",
		    proto_type_name(f->hdr.type), (unsigned long)f->hdr.req_id,
		    req, (unsigned long)k->id);
		return CR_ERR_PROTO;
	}
	if (f->hdr.type == PROTO_PROGRESS)
		return on_progress(c, f->body);
	if (f->hdr.type == PROTO_ERROR)
		return on_error(c, k, f->body);
	if (f->hdr.type != proto_reply_type(k->type)) {
		conn_err(c, "%s while waiting for the answer to %s",
		    proto_type_name(f->hdr.type), req);
		return CR_ERR_PROTO;
	}
	k->reply = f->body;
	f->body = NULL;
	k->done = true;
	return CR_OK;
}

enum cr_err
proto_call(struct proto_conn *c, uint16_t type, json_object *req,
    int64_t deadline, json_object **replyp)
{
	struct proto_frame f;
	struct call k = {
		.type = type,
	};
	enum cr_err err;

	*replyp = NULL;
	if ((err = conn_usable(c)) != CR_OK)
		return err;
	if (proto_reply_type(type) == PROTO_NONE) {
		conn_err(c, "%s is not a request", proto_type_name(type));
		return CR_ERR_PROTO;
	}
	/* req_id 0 is left for frames that answer no request. */
	if (++c->last_id == 0)
		c->last_id = 1;
	k.id = c->last_id;
	/* proto_send() breaks the connection itself if part went out. */
	if ((err = proto_send(c, type, k.id, req, deadline)) != CR_OK)
		return err;
	while (err == CR_OK && !k.done) {
		if ((err = proto_recv(c, deadline, &f)) == CR_OK)
			err = on_frame(c, &k, &f);
		proto_frame_clear(&f);
	}
	if (err == CR_ERR_TIMEOUT)
		conn_err(c, "no answer to %s within the deadline",
		    proto_type_name(type));
	if (err != CR_OK && !k.peer_error)
		conn_break(c);
	if (err == CR_OK)
		*replyp = k.reply;
	else
		json_object_put(k.reply);
	return err;
}

enum cr_err
proto_handshake(struct proto_conn *c, const struct proto_hello *mine,
    int64_t deadline, struct proto_hello *peer)
{
	char why[PROTO_WHY_MAX];
	json_object *req = proto_hello_encode(mine), *rep = NULL;
	enum cr_err err;

	memset(peer, 0, sizeof(*peer));
	err = proto_call(c, PROTO_HELLO, req, deadline, &rep);
	json_object_put(req);
	if (err != CR_OK)
		return err;
	err = proto_hello_decode(rep, peer, why, sizeof(why));
	json_object_put(rep);
	if (err == CR_OK)
		err = proto_hello_check(peer, why, sizeof(why));
	if (err != CR_OK) {
		conn_err(c, "%s", why);
		conn_break(c);
		proto_hello_clear(peer);
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* The agent's side                                                    */
/* ------------------------------------------------------------------ */

enum cr_err
proto_reply(struct proto_conn *c, const struct proto_hdr *req,
    json_object *body, int64_t deadline)
{
	uint16_t type = proto_reply_type(req->type);

	if (type == PROTO_NONE) {
		conn_err(c, "%s has no reply", proto_type_name(req->type));
		return CR_ERR_PROTO;
	}
	return proto_send(c, type, req->req_id, body, deadline);
}

/* A copy of human text with each byte that is not UTF-8 replaced by '?'. */
static char *
text_dup(const char *s)
{
	char *t = xstrdup(s != NULL ? s : "");
	size_t i = 0, n, len = strlen(t);

	while (i < len) {
		n = proto_utf8_seq((const uint8_t *)t + i, len - i);
		if (n == 0) {
			t[i] = '?';
			n = 1;
		}
		i += n;
	}
	return t;
}

enum cr_err
proto_reply_error(struct proto_conn *c, const struct proto_hdr *req,
    enum cr_err code, const char *message, int64_t deadline)
{
	struct proto_error e = {
		.code = code,
		.request = xstrdup(proto_type_name(req->type)),
		.message = text_dup(message),
	};
	json_object *body = NULL;
	enum cr_err err = CR_ERR_PROTO;

	if (code == CR_OK || (unsigned)code >= CR_ERR__MAX)
		conn_err(c, "ERROR needs a failure code, not %d", (int)code);
	else {
		body = proto_error_encode(&e);
		err = proto_send(c, PROTO_ERROR, req->req_id, body, deadline);
	}
	json_object_put(body);
	proto_error_clear(&e);
	return err;
}

enum cr_err
proto_reply_progress(struct proto_conn *c, const struct proto_hdr *req,
    const struct proto_progress *p, int64_t deadline)
{
	struct proto_progress clean = {
		.phase = text_dup(p->phase),
		.message = text_dup(p->message),
		.percent = p->percent >= 0 && p->percent <= 100 ? p->percent :
								  -1,
	};
	json_object *body = proto_progress_encode(&clean);
	enum cr_err err;

	err = proto_send(c, PROTO_PROGRESS, req->req_id, body, deadline);
	json_object_put(body);
	proto_progress_clear(&clean);
	return err;
}
