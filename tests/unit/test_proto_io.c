/*
 * Frame I/O over real descriptors (socketpairs, pipes, a forked peer) and
 * over a scripted in-memory transport: partial transfers, end of stream
 * between and inside frames, deadlines, errors, proto_call() against
 * scripted answers, and a whole session against a forked agent loop.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "cu_run.h"
#include "jv.h"
#include "proto.h"
#include "xmalloc.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void
make_pair(int sv[2])
{
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
}

static struct proto_conn *
conn_fd(int rfd, int wfd)
{
	struct proto_transport t = proto_transport_fd(rfd, wfd);

	return proto_conn_new(&t);
}

static void
write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, b, len);
		CU_ASSERT_FATAL(n > 0);
		b += n;
		len -= (size_t)n;
	}
}

/* Writes a frame with any header fields and any body text. */
static void
put_frame(int fd, uint16_t type, uint16_t version, uint32_t req_id,
    const char *body)
{
	uint8_t hdr[PROTO_HDR_LEN];
	struct proto_hdr h = {
		.body_len = (uint32_t)strlen(body),
		.type = type,
		.version = version,
		.req_id = req_id,
	};

	proto_hdr_encode(&h, hdr);
	write_all(fd, hdr, sizeof(hdr));
	write_all(fd, body, strlen(body));
}

static json_object *
obj(const char *text)
{
	return json_tokener_parse(text);
}

/* Frames seen by the trace callback. */
struct seen {
	unsigned sent;
	unsigned received;
	uint32_t last_len;
	uint16_t last_type;
};

static void
trace_cb(void *arg, bool sent, const struct proto_hdr *h)
{
	struct seen *s = arg;

	if (sent)
		s->sent++;
	else
		s->received++;
	s->last_len = h->body_len;
	s->last_type = h->type;
}

/* ------------------------------------------------------------------ */
/* Frames over descriptors                                             */
/* ------------------------------------------------------------------ */

static void
test_io_socketpair_roundtrip(void)
{
	int sv[2];
	struct proto_conn *a, *b;
	struct proto_frame f;
	struct seen sa = { 0 }, sb = { 0 };
	json_object *body = obj("{\"kubernetes_dir\":\"/etc/kubernetes\"}");

	make_pair(sv);
	a = conn_fd(sv[0], sv[0]);
	b = conn_fd(sv[1], sv[1]);
	proto_conn_set_trace(a, trace_cb, &sa);
	proto_conn_set_trace(b, trace_cb, &sb);
	CU_ASSERT_EQUAL(
	    proto_send(a, PROTO_INSPECT_REQ, 7, body, clock_deadline_ms(2000)),
	    CR_OK);
	CU_ASSERT_EQUAL(proto_recv(b, clock_deadline_ms(2000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_INSPECT_REQ);
	CU_ASSERT_EQUAL(f.hdr.req_id, 7);
	CU_ASSERT_STRING_EQUAL(jv_str(f.body, "kubernetes_dir"),
	    "/etc/kubernetes");
	CU_ASSERT_EQUAL(sa.sent, 1);
	CU_ASSERT_EQUAL(sb.received, 1);
	CU_ASSERT_EQUAL(sb.last_len, strlen(jv_to_string(body)));
	CU_ASSERT_EQUAL(sb.last_type, PROTO_INSPECT_REQ);
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(b), "");
	proto_frame_clear(&f);
	json_object_put(body);
	proto_conn_free(a);
	proto_conn_free(b);
	close(sv[0]);
	close(sv[1]);
}

/* The agent's arrangement: stdin and stdout are two pipes. */
static void
test_io_pipes_both_ways(void)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	struct proto_conn *orch, *agent;
	struct proto_frame f;
	json_object *body = obj("{}");

	CU_ASSERT_FATAL(pipe(in) == 0 && pipe(out) == 0);
	orch = conn_fd(out[0], in[1]);
	agent = conn_fd(in[0], out[1]);
	CU_ASSERT_EQUAL(proto_send(orch, PROTO_BYE_REQ, 3, body, 0), CR_OK);
	CU_ASSERT_EQUAL(proto_recv(agent, clock_deadline_ms(2000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_BYE_REQ);
	CU_ASSERT_EQUAL(proto_reply(agent, &f.hdr, body, 0), CR_OK);
	proto_frame_clear(&f);
	CU_ASSERT_EQUAL(proto_recv(orch, clock_deadline_ms(2000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_BYE_REP);
	CU_ASSERT_EQUAL(f.hdr.req_id, 3);
	proto_frame_clear(&f);
	json_object_put(body);
	proto_conn_free(orch);
	proto_conn_free(agent);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

/* A forked writer sends one frame a byte at a time. */
static void
test_io_one_byte_writes(void)
{
	const char *body = "{\"path\":\"/var/lib/kubelet/config.yaml\"}";
	uint8_t hdr[PROTO_HDR_LEN];
	struct proto_hdr h = {
		.body_len = (uint32_t)strlen(body),
		.type = PROTO_READ_FILE_REQ,
		.version = PROTO_VERSION,
		.req_id = 9,
	};
	struct proto_frame f;
	struct proto_conn *c;
	int sv[2], status = -1;
	size_t i;
	pid_t pid;

	proto_hdr_encode(&h, hdr);
	make_pair(sv);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		for (i = 0; i < PROTO_HDR_LEN + h.body_len; i++) {
			const uint8_t *b = i < PROTO_HDR_LEN ?
			    hdr + i :
			    (const uint8_t *)body + i - PROTO_HDR_LEN;

			if (write(sv[1], b, 1) != 1)
				_exit(1);
			clock_sleep_ms(1);
		}
		_exit(0);
	}
	CU_ASSERT_FATAL(pid > 0);
	close(sv[1]);
	c = conn_fd(sv[0], sv[0]);
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(10000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_READ_FILE_REQ);
	CU_ASSERT_EQUAL(f.hdr.req_id, 9);
	CU_ASSERT_STRING_EQUAL(jv_str(f.body, "path"),
	    "/var/lib/kubelet/config.yaml");
	proto_frame_clear(&f);
	/* Then the writer is gone: a clean end of stream. */
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(10000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_NONE);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	proto_conn_free(c);
	close(sv[0]);
}

static void
test_io_eof_between_frames(void)
{
	int sv[2];
	struct proto_conn *c;
	struct proto_frame f;

	make_pair(sv);
	put_frame(sv[1], PROTO_BYE_REP, PROTO_VERSION, 1, "{}");
	close(sv[1]);
	c = conn_fd(sv[0], sv[0]);
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(2000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_BYE_REP);
	proto_frame_clear(&f);
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(2000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_NONE);
	CU_ASSERT_PTR_NULL(f.body);
	/* End of stream stays an outcome. */
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(2000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_NONE);
	proto_conn_free(c);
	close(sv[0]);
}

/*
 * proto_conn_probe(): an idle connection stays usable while the peer is
 * there and says nothing; it breaks when the peer has gone, on a socket
 * and on a pipe, or has sent bytes nobody asked for.
 */
static void
test_io_probe_idle(void)
{
	int sv[2], p[2];
	struct proto_conn *c;

	make_pair(sv);
	c = conn_fd(sv[0], sv[0]);
	CU_ASSERT_TRUE(proto_conn_probe(c));
	CU_ASSERT_TRUE(proto_conn_probe(c));
	CU_ASSERT_FALSE(proto_conn_broken(c));
	close(sv[1]);
	CU_ASSERT_FALSE(proto_conn_probe(c));
	CU_ASSERT_TRUE(proto_conn_broken(c));
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c),
	    "the peer closed the stream while idle");
	proto_conn_free(c);
	close(sv[0]);

	CU_ASSERT_FATAL(pipe(p) == 0);
	c = conn_fd(p[0], p[0]); /* never written */
	CU_ASSERT_TRUE(proto_conn_probe(c));
	close(p[1]);
	CU_ASSERT_FALSE(proto_conn_probe(c));
	proto_conn_free(c);
	close(p[0]);

	make_pair(sv);
	c = conn_fd(sv[0], sv[0]);
	CU_ASSERT_EQUAL(write(sv[1], "x", 1), 1);
	CU_ASSERT_FALSE(proto_conn_probe(c));
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c),
	    "the peer sent data nobody asked for");
	/* Broken stays broken, whatever the peer does next. */
	CU_ASSERT_FALSE(proto_conn_probe(c));
	proto_conn_free(c);
	close(sv[0]);
	close(sv[1]);
}

/* What the peer writes before it closes, and what the reader gets. */
static const struct broken_row {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	const char *why;
} broken_rows[] = {
	{ "eof inside the header", (const uint8_t *)"\0\0\0\x02\0", 5,
	    "peer closed the stream inside a frame header (5 of 12 bytes)" },
	{ "eof inside the body",
	    (const uint8_t *)"\0\0\0\x0a\0\x6e\0\x01\0\0\0\x01{\"a", 15,
	    "peer closed the stream inside a frame body (3 of 10 bytes)" },
	{ "oversize body",
	    (const uint8_t *)"\0\x04\0\x01\0\x01\0\x01\0\0\0\x01", 12,
	    "HELLO body of 262145 bytes exceeds the limit of 262144" },
	{ "wrong version",
	    (const uint8_t *)"\0\0\0\x02\0\x65\0\x02\0\0\0\x01{}", 14,
	    "INSPECT_REQ frame of protocol version 2, this side speaks 1" },
	{ "unknown type", (const uint8_t *)"\0\0\0\x02\0\x03\0\x01\0\0\0\x01{}",
	    14, "unknown message type 3" },
	{ "body not JSON",
	    (const uint8_t *)"\0\0\0\x02\0\x6e\0\x01\0\0\0\x01{]", 14,
	    "BYE_REQ body is not JSON: quoted object property name expected" },
	{ "body not an object",
	    (const uint8_t *)"\0\0\0\x02\0\x6e\0\x01\0\0\0\x01[]", 14,
	    "BYE_REQ body is not a JSON object" },
};

static void
test_io_broken_streams(void)
{
	struct proto_frame f;
	struct proto_conn *c;
	size_t i;
	int sv[2];

	for (i = 0; i < NROWS(broken_rows); i++) {
		const struct broken_row *r = &broken_rows[i];

		make_pair(sv);
		write_all(sv[1], r->bytes, r->len);
		close(sv[1]);
		c = conn_fd(sv[0], sv[0]);
		CU_ASSERT_CASE(!proto_conn_broken(c), r->name);
		CU_ASSERT_CASE(proto_recv(c, clock_deadline_ms(2000), &f) ==
			CR_ERR_PROTO,
		    r->name);
		CU_ASSERT_CASE(proto_conn_broken(c), r->name);
		CU_ASSERT_CASE(f.body == NULL && f.hdr.type == PROTO_NONE,
		    r->name);
		CU_ASSERT_CASE(strcmp(proto_conn_errmsg(c), r->why) == 0,
		    r->name);
		/* The connection is out of step for good. */
		CU_ASSERT_CASE(proto_recv(c, clock_deadline_ms(2000), &f) ==
			CR_ERR_PROTO,
		    r->name);
		CU_ASSERT_CASE(strstr(proto_conn_errmsg(c),
				   "connection unusable after an earlier "
				   "failure") != NULL,
		    r->name);
		proto_conn_free(c);
		close(sv[0]);
	}
}

static void
test_io_deadline_idle(void)
{
	struct proto_frame f;
	struct proto_conn *c;
	int64_t t0, spent;
	int sv[2];

	make_pair(sv);
	c = conn_fd(sv[0], sv[0]);
	t0 = clock_mono_ms();
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(150), &f),
	    CR_ERR_TIMEOUT);
	spent = clock_mono_ms() - t0;
	CU_ASSERT(spent >= 150 && spent < 2000);
	CU_ASSERT_PTR_NOT_NULL(strstr(proto_conn_errmsg(c), "no frame"));
	/* Nothing was read: the connection is still in step. */
	put_frame(sv[1], PROTO_BYE_REQ, PROTO_VERSION, 1, "{}");
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(2000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_BYE_REQ);
	proto_frame_clear(&f);
	proto_conn_free(c);
	close(sv[0]);
	close(sv[1]);
}

static void
test_io_deadline_mid_frame(void)
{
	struct proto_frame f;
	struct proto_conn *c;
	int sv[2];

	make_pair(sv);
	write_all(sv[1], "\0\0\0\x02\0", 5);
	c = conn_fd(sv[0], sv[0]);
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(100), &f),
	    CR_ERR_TIMEOUT);
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c),
	    "reading a frame header: deadline exceeded after 5 of 12 bytes");
	/* The rest arrives, too late: the stream is out of step. */
	write_all(sv[1], "\x6e\0\x01\0\0\0\x01{}", 9);
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(1000), &f),
	    CR_ERR_PROTO);
	proto_conn_free(c);
	close(sv[0]);
	close(sv[1]);
}

static void
test_io_send_deadline(void)
{
	struct proto_conn *c;
	int sv[2], small = 4096;
	char *big = xmalloc(200000);
	json_object *body = json_object_new_object();
	int64_t t0;

	memset(big, 'x', 199999);
	big[199999] = '\0';
	jv_add_str(body, "data", big);
	make_pair(sv);
	CU_ASSERT_EQUAL(
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	c = conn_fd(sv[0], sv[0]);
	t0 = clock_mono_ms();
	/* The peer never reads. */
	CU_ASSERT_EQUAL(
	    proto_send(c, PROTO_READ_FILE_REP, 1, body, clock_deadline_ms(200)),
	    CR_ERR_TIMEOUT);
	CU_ASSERT(clock_mono_ms() - t0 < 3000);
	CU_ASSERT_PTR_NOT_NULL(strstr(proto_conn_errmsg(c),
	    "sending READ_FILE_REP: deadline exceeded after"));
	/* Part of the frame went out: the connection is unusable. */
	CU_ASSERT_EQUAL(proto_send(c, PROTO_BYE_REQ, 2, body, 0), CR_ERR_PROTO);
	free(big);
	json_object_put(body);
	proto_conn_free(c);
	close(sv[0]);
	close(sv[1]);
}

/* A socket peer that went away: EPIPE, and no SIGPIPE kills us. */
static void
test_io_send_to_closed_socket(void)
{
	struct proto_conn *c;
	json_object *body = obj("{}");
	int sv[2];

	make_pair(sv);
	close(sv[1]);
	c = conn_fd(sv[0], sv[0]);
	errno = 0;
	CU_ASSERT_EQUAL(proto_send(c, PROTO_BYE_REQ, 1, body, 0), CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, EPIPE);
	CU_ASSERT_PTR_NOT_NULL(strstr(proto_conn_errmsg(c), "Broken pipe"));
	json_object_put(body);
	proto_conn_free(c);
	close(sv[0]);
}

/* Over a pipe the program ignores SIGPIPE (as proto.h says to). */
static void
test_io_send_to_closed_pipe(void)
{
	struct sigaction ign = { 0 }, old;
	struct proto_conn *c;
	json_object *body = obj("{}");
	int p[2];

	ign.sa_handler = SIG_IGN;
	CU_ASSERT_FATAL(sigaction(SIGPIPE, &ign, &old) == 0);
	CU_ASSERT_FATAL(pipe(p) == 0);
	close(p[0]);
	c = conn_fd(-1, p[1]);
	CU_ASSERT_EQUAL(proto_send(c, PROTO_BYE_REQ, 1, body, 0), CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, EPIPE);
	json_object_put(body);
	proto_conn_free(c);
	close(p[1]);
	CU_ASSERT(sigaction(SIGPIPE, &old, NULL) == 0);
}

static void
test_io_send_refuses(void)
{
	int sv[2];
	struct proto_conn *c;
	json_object *arr = obj("[1]"), *bad = json_object_new_object();
	json_object *empty = obj("{}");
	struct seen s = { 0 };

	jv_add_str(bad, "s", "\xc3");
	make_pair(sv);
	c = conn_fd(sv[0], sv[0]);
	proto_conn_set_trace(c, trace_cb, &s);
	CU_ASSERT_EQUAL(proto_send(c, 3, 1, arr, 0), CR_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c),
	    "cannot send message type 3: not a valid type");
	CU_ASSERT_EQUAL(proto_send(c, PROTO_BYE_REQ, 1, arr, 0), CR_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c),
	    "cannot send BYE_REQ: its body is not a JSON object");
	CU_ASSERT_EQUAL(proto_send(c, PROTO_BYE_REQ, 1, bad, 0), CR_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c),
	    "cannot send BYE_REQ: its body is not valid UTF-8");
	/* Nothing went out, so the connection is still good. */
	CU_ASSERT_EQUAL(s.sent, 0);
	CU_ASSERT_EQUAL(proto_send(c, PROTO_BYE_REQ, 1, empty, 0), CR_OK);
	json_object_put(empty);
	json_object_put(arr);
	json_object_put(bad);
	proto_conn_free(c);
	close(sv[0]);
	close(sv[1]);
}

/* ------------------------------------------------------------------ */
/* A scripted in-memory transport                                      */
/* ------------------------------------------------------------------ */

struct mem {
	const uint8_t *data; /* what reads return */
	size_t len;
	size_t pos;
	size_t chunk;    /* at most this many bytes per read; 0 = any */
	const int *errs; /* errno for the first calls (0 = succeed) */
	size_t nerrs;
	int forever;    /* when not 0: every call fails with it */
	bool lie;       /* claim one byte more than asked */
	struct buf out; /* what writes wrote */
	size_t calls;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct mem *m = ctx;
	size_t n = m->len - m->pos;

	(void)timeout_ms;
	if (m->forever != 0 || (m->calls < m->nerrs && m->errs[m->calls])) {
		errno = m->forever != 0 ? m->forever : m->errs[m->calls];
		m->calls++;
		return -1;
	}
	m->calls++;
	if (m->lie)
		return (ssize_t)len + 1;
	if (n > len)
		n = len;
	if (m->chunk > 0 && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static ssize_t
mem_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	struct mem *m = ctx;

	(void)timeout_ms;
	m->calls++;
	if (m->forever != 0) {
		errno = m->forever;
		return -1;
	}
	if (m->chunk > 0 && len > m->chunk)
		len = m->chunk;
	buf_put(&m->out, buf, len);
	return (ssize_t)len;
}

static struct proto_conn *
conn_mem(struct mem *m)
{
	struct proto_transport t = {
		.read = mem_read,
		.write = mem_write,
		.release = NULL,
		.ctx = m,
	};

	return proto_conn_new(&t);
}

static const uint8_t bye_frame[] = "\0\0\0\x02\0\x6e\0\x01\0\0\0\x05{}";

/* One byte per call both ways; interruptions are retried. */
static void
test_io_mem_trickle(void)
{
	static const int errs[] = { EINTR, EAGAIN, 0, EINTR };
	struct mem m = { .data = bye_frame, .len = 14, .chunk = 1 };
	struct mem w = { .chunk = 1 };
	struct proto_frame f;
	struct proto_conn *c = conn_mem(&m), *cw = conn_mem(&w);
	json_object *body = obj("{}");

	m.errs = errs;
	m.nerrs = NROWS(errs);
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(1000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_BYE_REQ);
	CU_ASSERT_EQUAL(f.hdr.req_id, 5);
	/* 14 bytes one at a time, after three interruptions. */
	CU_ASSERT_EQUAL(m.calls, 14 + 3);
	proto_frame_clear(&f);
	CU_ASSERT_EQUAL(proto_send(cw, PROTO_BYE_REQ, 5, body, 0), CR_OK);
	CU_ASSERT_EQUAL(w.out.len, 14);
	CU_ASSERT_EQUAL(memcmp(w.out.data, bye_frame, 14), 0);
	CU_ASSERT_EQUAL(w.calls, 14);
	buf_clear(&w.out);
	json_object_put(body);
	proto_conn_free(c);
	proto_conn_free(cw);
}

static const struct mem_row {
	const char *name;
	int forever;
	bool lie;
	enum cr_err err;
	bool usable_after; /* nothing read, so still in step */
} mem_rows[] = {
	{ "EAGAIN forever ends at the deadline", EAGAIN, false, CR_ERR_TIMEOUT,
	    true },
	{ "EINTR forever ends at the deadline", EINTR, false, CR_ERR_TIMEOUT,
	    true },
	{ "transport timeout", ETIMEDOUT, false, CR_ERR_TIMEOUT, true },
	{ "cancelled", ECANCELED, false, CR_ERR_CANCELED, true },
	{ "I/O error", EIO, false, CR_ERR_SYS, false },
	{ "a count larger than asked", 0, true, CR_ERR_SYS, false },
};

static void
test_io_mem_errors(void)
{
	struct proto_frame f;
	size_t i;
	int64_t t0;

	for (i = 0; i < NROWS(mem_rows); i++) {
		const struct mem_row *r = &mem_rows[i];
		struct mem m = { .data = bye_frame, .len = 14 };
		struct proto_conn *c;

		m.forever = r->forever;
		m.lie = r->lie;
		c = conn_mem(&m);
		t0 = clock_mono_ms();
		CU_ASSERT_CASE(proto_recv(c, clock_deadline_ms(100), &f) ==
			r->err,
		    r->name);
		CU_ASSERT_CASE(clock_mono_ms() - t0 < 2000, r->name);
		m.forever = 0;
		m.lie = false;
		CU_ASSERT_CASE((proto_recv(c, clock_deadline_ms(100), &f) ==
				   CR_OK) == r->usable_after,
		    r->name);
		proto_frame_clear(&f);
		proto_conn_free(c);
	}
}

/* ------------------------------------------------------------------ */
/* proto_call() against scripted answers                               */
/* ------------------------------------------------------------------ */

struct frame_spec {
	uint16_t type; /* PROTO_NONE ends the script */
	uint32_t req_id;
	const char *body;
};

static const struct call_row {
	const char *name;
	const char *why; /* substring of proto_conn_errmsg() */
	struct frame_spec frames[4];
	enum cr_err err;
	unsigned progress; /* PROGRESS frames handed to the callback */
	bool close_after;  /* the peer closes after its frames */
	bool usable_after;
} call_rows[] = {
	{ "progress then reply", "",
	    { { PROTO_PROGRESS, 1, "{\"phase\":\"backup\",\"message\":\"m\"}" },
		{ PROTO_PROGRESS, 1,
		    "{\"phase\":\"renew\",\"message\":\"m\",\"percent\":50}" },
		{ PROTO_RENEW_REP, 1,
		    "{\"backup\":\"/b\",\"renewed\":[],\"skipped\":[]}" } },
	    CR_OK, 2, false, true },
	{ "error reply", "ca.key is missing: restore it",
	    { { PROTO_PROGRESS, 1, "{\"phase\":\"p\",\"message\":\"m\"}" },
		{ PROTO_ERROR, 1,
		    "{\"code\":\"cert\",\"message\":\"ca.key is missing: "
		    "restore it\",\"request\":\"RENEW_REQ\"}" } },
	    CR_ERR_CERT, 1, false, true },
	{ "error with an unknown code", "m",
	    { { PROTO_ERROR, 1,
		"{\"code\":\"martian\",\"message\":\"m\",\"request\":"
		"\"x\"}" } },
	    CR_ERR_PROTO, 0, false, true },
	{ "malformed error", "ERROR: 'code': 'ok' is not an error",
	    { { PROTO_ERROR, 1,
		"{\"code\":\"ok\",\"message\":\"m\",\"request\":\"x\"}" } },
	    CR_ERR_PROTO, 0, false, false },
	{ "reply to another request",
	    "RENEW_REP for request #99 while waiting for the answer to "
	    "RENEW_REQ #1",
	    { { PROTO_RENEW_REP, 99,
		"{\"backup\":\"/b\",\"renewed\":[],\"skipped\":[]}" } },
	    CR_ERR_PROTO, 0, false, false },
	{ "another reply type",
	    "INSPECT_REP while waiting for the answer to RENEW_REQ",
	    { { PROTO_INSPECT_REP, 1, "{}" } }, CR_ERR_PROTO, 0, false, false },
	{ "malformed progress", "PROGRESS: 'percent': 900 is out of range",
	    { { PROTO_PROGRESS, 1,
		"{\"phase\":\"p\",\"message\":\"m\",\"percent\":900}" } },
	    CR_ERR_PROTO, 0, false, false },
	{ "end of stream before the reply",
	    "peer closed the stream before answering RENEW_REQ",
	    { { PROTO_PROGRESS, 1, "{\"phase\":\"p\",\"message\":\"m\"}" } },
	    CR_ERR_PROTO, 1, true, false },
	{ "no answer", "no answer to RENEW_REQ within the deadline",
	    { { PROTO_NONE, 0, NULL } }, CR_ERR_TIMEOUT, 0, false, false },
};

static void
count_progress(void *arg, const struct proto_progress *p)
{
	unsigned *n = arg;

	CU_ASSERT_PTR_NOT_NULL(p->phase);
	CU_ASSERT(p->percent == -1 || p->percent == 50);
	(*n)++;
}

/* Runs one row: the peer's frames are written before the call. */
static void
run_call_row(const struct call_row *r)
{
	struct proto_conn *c, *peer;
	struct proto_frame f;
	json_object *req = obj("{\"run_id\":\"x\"}"), *rep = NULL;
	unsigned progress = 0;
	size_t k;
	int sv[2];

	make_pair(sv);
	for (k = 0; k < NROWS(r->frames) && r->frames[k].type != PROTO_NONE;
	     k++)
		put_frame(sv[1], r->frames[k].type, PROTO_VERSION,
		    r->frames[k].req_id, r->frames[k].body);
	if (r->close_after)
		shutdown(sv[1], SHUT_WR);
	c = conn_fd(sv[0], sv[0]);
	proto_conn_on_progress(c, count_progress, &progress);
	CU_ASSERT_CASE(proto_call(c, PROTO_RENEW_REQ, req,
			   clock_deadline_ms(300), &rep) == r->err,
	    r->name);
	CU_ASSERT_CASE((rep != NULL) == (r->err == CR_OK), r->name);
	CU_ASSERT_CASE(progress == r->progress, r->name);
	CU_ASSERT_CASE(strstr(proto_conn_errmsg(c), r->why) != NULL, r->name);
	json_object_put(rep);
	rep = NULL;
	/* The peer got the request, numbered 1. */
	peer = conn_fd(sv[1], sv[1]);
	CU_ASSERT_CASE(proto_recv(peer, clock_deadline_ms(300), &f) == CR_OK &&
		f.hdr.type == PROTO_RENEW_REQ && f.hdr.req_id == 1,
	    r->name);
	proto_frame_clear(&f);
	proto_conn_free(peer);
	/* A second call works only on a connection still in step. */
	if (!r->close_after)
		put_frame(sv[1], PROTO_BYE_REP, PROTO_VERSION, 2, "{}");
	CU_ASSERT_CASE(
	    (proto_call(c, PROTO_BYE_REQ, req, clock_deadline_ms(300), &rep) ==
		CR_OK) == r->usable_after,
	    r->name);
	json_object_put(rep);
	json_object_put(req);
	proto_conn_free(c);
	close(sv[0]);
	close(sv[1]);
}

static void
test_io_call_table(void)
{
	size_t i;

	for (i = 0; i < NROWS(call_rows); i++)
		run_call_row(&call_rows[i]);
}

static void
test_io_call_refuses_non_requests(void)
{
	struct mem m = { 0 };
	struct proto_conn *c = conn_mem(&m);
	json_object *body = obj("{}"), *arr = obj("[]"), *rep = NULL;

	CU_ASSERT_EQUAL(proto_call(c, PROTO_RENEW_REP, body, 0, &rep),
	    CR_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c),
	    "RENEW_REP is not a request");
	CU_ASSERT_EQUAL(proto_call(c, PROTO_PROGRESS, body, 0, &rep),
	    CR_ERR_PROTO);
	CU_ASSERT_EQUAL(proto_call(c, PROTO_RENEW_REQ, arr, 0, &rep),
	    CR_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c),
	    "cannot send RENEW_REQ: its body is not a JSON object");
	CU_ASSERT_EQUAL(m.out.len, 0);
	/* Nothing went out, so the connection is still in step. */
	CU_ASSERT_EQUAL(proto_send(c, PROTO_BYE_REQ, 9, body, 0), CR_OK);
	CU_ASSERT_EQUAL(m.out.len, 14);
	buf_reset(&m.out);
	CU_ASSERT_EQUAL(
	    proto_reply(c, &(struct proto_hdr){ .type = 2 }, body, 0),
	    CR_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(proto_conn_errmsg(c), "PROGRESS has no reply");
	CU_ASSERT_EQUAL(proto_reply_error(c,
			    &(struct proto_hdr){ .type = PROTO_RENEW_REQ },
			    CR_OK, "fine", 0),
	    CR_ERR_PROTO);
	CU_ASSERT_EQUAL(m.out.len, 0);
	buf_clear(&m.out);
	json_object_put(body);
	json_object_put(arr);
	proto_conn_free(c);
}

/* ------------------------------------------------------------------ */
/* The handshake                                                       */
/* ------------------------------------------------------------------ */

static const struct hs_row {
	const char *name;
	const char *body;
	const char *why; /* exact proto_conn_errmsg() */
	enum cr_err err;
	uint16_t version; /* header version of the agent's HELLO */
} hs_rows[] = {
	{ "agent of this version",
	    "{\"protocol\":1,\"program\":\"certroll-agent\",\"version\":"
	    "\"0.1.0\",\"agent_sha256\":\"" SHA "\",\"capabilities\":"
	    "[\"renew\"],\"node\":\"cp1\"}",
	    "", CR_OK, PROTO_VERSION },
	{ "newer agent (frozen HELLO still decodes)",
	    "{\"protocol\":2,\"program\":\"certroll-agent\",\"version\":"
	    "\"0.2.0\",\"agent_sha256\":\"" SHA "\",\"capabilities\":[],"
	    "\"node\":\"cp1\",\"new_field\":{}}",
	    "agent speaks protocol 2, certroll speaks 1: upgrade certroll or "
	    "let it re-upload the agent",
	    CR_ERR_PROTO, 2 },
	{ "agent HELLO without node",
	    "{\"protocol\":1,\"program\":\"certroll-agent\",\"version\":"
	    "\"0.1.0\",\"agent_sha256\":\"" SHA "\",\"capabilities\":[]}",
	    "HELLO: 'node': missing (string)", CR_ERR_PROTO, PROTO_VERSION },
	{ "something else answered",
	    "{\"protocol\":1,\"program\":\"bash\",\"version\":\"5\","
	    "\"capabilities\":[]}",
	    "peer program is 'bash', not certroll or certroll-agent: check "
	    "what the agent path runs",
	    CR_ERR_PROTO, PROTO_VERSION },
};

static void
test_io_handshake(void)
{
	struct proto_hello mine = { 0 }, peer = { 0 };
	struct proto_conn *c;
	size_t i;
	int sv[2];

	mine.protocol = PROTO_VERSION;
	mine.program = xstrdup(PROTO_PROGRAM_ORCH);
	mine.version = xstrdup(CERTROLL_VERSION);
	for (i = 0; i < NROWS(hs_rows); i++) {
		const struct hs_row *r = &hs_rows[i];

		make_pair(sv);
		put_frame(sv[1], PROTO_HELLO, r->version, 1, r->body);
		c = conn_fd(sv[0], sv[0]);
		CU_ASSERT_CASE(proto_handshake(c, &mine,
				   clock_deadline_ms(1000), &peer) == r->err,
		    r->name);
		CU_ASSERT_CASE(strcmp(proto_conn_errmsg(c), r->why) == 0,
		    r->name);
		CU_ASSERT_CASE((peer.program != NULL) == (r->err == CR_OK),
		    r->name);
		if (r->err == CR_OK)
			CU_ASSERT_CASE(strcmp(peer.node, "cp1") == 0 &&
				strv_has(&peer.capabilities, PROTO_CAP_RENEW),
			    r->name);
		proto_hello_clear(&peer);
		proto_conn_free(c);
		close(sv[0]);
		close(sv[1]);
	}
	proto_hello_clear(&mine);
}

/* ------------------------------------------------------------------ */
/* A whole session against a forked agent loop                        */
/* ------------------------------------------------------------------ */

/* The agent's handlers: answer, report whether the request succeeded. */
typedef bool (*handler_fn)(struct proto_conn *c, const struct proto_frame *f);

static bool
agent_reply(struct proto_conn *c, const struct proto_frame *f, const char *body)
{
	json_object *o = obj(body);
	enum cr_err err = proto_reply(c, &f->hdr, o, clock_deadline_ms(2000));

	json_object_put(o);
	return err == CR_OK;
}

static bool
agent_hello(struct proto_conn *c, const struct proto_frame *f)
{
	return agent_reply(c, f,
	    "{\"protocol\":1,\"program\":\"certroll-agent\",\"version\":"
	    "\"0.1.0\",\"agent_sha256\":\"" SHA "\",\"capabilities\":"
	    "[\"renew\",\"restart\"],\"node\":\"cp1\"}");
}

static bool
agent_renew(struct proto_conn *c, const struct proto_frame *f)
{
	struct proto_progress p = {
		.phase = xstrdup("renew"),
		.message = xstrdup("apiserver \xff"),
		.percent = 50,
	};
	enum cr_err err;

	err = proto_reply_progress(c, &f->hdr, &p, 0);
	proto_progress_clear(&p);
	if (err != CR_OK)
		return false;
	return agent_reply(c, f,
	    "{\"backup\":\"/b\",\"renewed\":[],\"skipped\":[]}");
}

static bool
agent_restart(struct proto_conn *c, const struct proto_frame *f)
{
	return agent_reply(c, f, "{\"components\":[]}");
}

static bool
agent_bye(struct proto_conn *c, const struct proto_frame *f)
{
	return agent_reply(c, f, "{}");
}

static const struct {
	uint16_t type;
	handler_fn fn;
} agent_table[] = {
	{ PROTO_HELLO, agent_hello },
	{ PROTO_RENEW_REQ, agent_renew },
	{ PROTO_RESTART_REQ, agent_restart },
	{ PROTO_BYE_REQ, agent_bye },
};

/* Serves one frame in *st; false when the loop must end in error. */
static bool
agent_serve_one(struct proto_conn *c, const struct proto_frame *f,
    enum proto_state *st)
{
	char why[PROTO_WHY_MAX];
	size_t i;

	if (!proto_allowed(*st, f->hdr.type)) {
		proto_refusal(*st, f->hdr.type, why, sizeof(why));
		return proto_reply_error(c, &f->hdr, CR_ERR_STATE, why, 0) ==
		    CR_OK;
	}
	for (i = 0; i < NROWS(agent_table); i++)
		if (agent_table[i].type == f->hdr.type) {
			*st = proto_next_state(*st, f->hdr.type,
			    agent_table[i].fn(c, f));
			return true;
		}
	return false;
}

/* The serve loop as certroll-agent runs it; the exit status says how. */
static int
agent_main(int fd)
{
	struct proto_conn *c = conn_fd(fd, fd);
	enum proto_state st = PROTO_STATE_START;
	struct proto_frame f;
	int rc = 1;

	while (st != PROTO_STATE_CLOSED) {
		if (proto_recv(c, clock_deadline_ms(5000), &f) != CR_OK)
			break;
		if (f.hdr.type == PROTO_NONE || !agent_serve_one(c, &f, &st)) {
			proto_frame_clear(&f);
			break;
		}
		proto_frame_clear(&f);
	}
	if (st == PROTO_STATE_CLOSED)
		rc = 0;
	proto_conn_free(c);
	return rc;
}

static void
on_progress_text(void *arg, const struct proto_progress *p)
{
	/* Invalid UTF-8 in the agent's text arrived replaced, not refused. */
	snprintf(arg, 64, "%s %s %d", p->phase, p->message, p->percent);
}

/* The orchestrator's side of the session. */
static void
orchestrate(struct proto_conn *c)
{
	struct proto_hello mine = { 0 }, peer = { 0 };
	json_object *empty = obj("{}"), *rep = NULL;
	char seen[64] = "";

	mine.protocol = PROTO_VERSION;
	mine.program = xstrdup(PROTO_PROGRAM_ORCH);
	mine.version = xstrdup(CERTROLL_VERSION);
	proto_conn_on_progress(c, on_progress_text, seen);
	CU_ASSERT_EQUAL(
	    proto_handshake(c, &mine, clock_deadline_ms(5000), &peer), CR_OK);
	CU_ASSERT_EQUAL(proto_call(c, PROTO_RESTART_REQ, empty,
			    clock_deadline_ms(5000), &rep),
	    CR_ERR_STATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(proto_conn_errmsg(c),
	    "RESTART_REQ needs a successful RENEW_REQ"));
	CU_ASSERT_EQUAL(proto_call(c, PROTO_RENEW_REQ, empty,
			    clock_deadline_ms(5000), &rep),
	    CR_OK);
	CU_ASSERT_STRING_EQUAL(seen, "renew apiserver ? 50");
	json_object_put(rep);
	CU_ASSERT_EQUAL(proto_call(c, PROTO_RESTART_REQ, empty,
			    clock_deadline_ms(5000), &rep),
	    CR_OK);
	json_object_put(rep);
	CU_ASSERT_EQUAL(
	    proto_call(c, PROTO_BYE_REQ, empty, clock_deadline_ms(5000), &rep),
	    CR_OK);
	json_object_put(rep);
	json_object_put(empty);
	proto_hello_clear(&mine);
	proto_hello_clear(&peer);
}

static void
test_io_session_with_forked_agent(void)
{
	struct proto_conn *c;
	struct proto_frame f;
	int sv[2], status = -1;
	pid_t pid;

	make_pair(sv);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(agent_main(sv[1]));
	}
	CU_ASSERT_FATAL(pid > 0);
	close(sv[1]);
	c = conn_fd(sv[0], sv[0]);
	orchestrate(c);
	/* After BYE the agent exits: end of stream, then status 0. */
	CU_ASSERT_EQUAL(proto_recv(c, clock_deadline_ms(5000), &f), CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_NONE);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	proto_conn_free(c);
	close(sv[0]);
}

static CU_TestInfo fd_tests[] = {
	{ "socketpair_roundtrip", test_io_socketpair_roundtrip },
	{ "pipes_both_ways", test_io_pipes_both_ways },
	{ "one_byte_writes", test_io_one_byte_writes },
	{ "eof_between_frames", test_io_eof_between_frames },
	{ "probe_idle", test_io_probe_idle },
	{ "broken_streams", test_io_broken_streams },
	{ "deadline_idle", test_io_deadline_idle },
	{ "deadline_mid_frame", test_io_deadline_mid_frame },
	{ "send_deadline", test_io_send_deadline },
	{ "send_to_closed_socket", test_io_send_to_closed_socket },
	{ "send_to_closed_pipe", test_io_send_to_closed_pipe },
	{ "send_refuses", test_io_send_refuses },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo mem_tests[] = {
	{ "trickle_and_retries", test_io_mem_trickle },
	{ "transport_errors", test_io_mem_errors },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo call_tests[] = {
	{ "scripted_answers", test_io_call_table },
	{ "refuses_non_requests", test_io_call_refuses_non_requests },
	{ "handshake", test_io_handshake },
	{ "session_with_forked_agent", test_io_session_with_forked_agent },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "proto_io_fd", .pTests = fd_tests },
	{ .pName = "proto_io_mem", .pTests = mem_tests },
	{ .pName = "proto_call", .pTests = call_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
