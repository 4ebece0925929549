/*
 * libFuzzer target: the frame layer on arbitrary bytes. Seeds:
 * tests/fuzz/corpus/proto_frame (one frame of every type, and broken ones).
 *
 * Three views of the same input, each checked against its contract:
 *   - proto_hdr_decode(): success re-encodes to the same 12 bytes and never
 *     admits a body above PROTO_MAX_BODY; failure explains itself;
 *   - proto_frame_decode() then proto_body_check(): a decoded frame has an
 *     object body that frames again; failures leave nothing allocated;
 *   - the input as a stream read by proto_recv() in pieces whose sizes the
 *     input chooses: frames until a clean end or an error, after which the
 *     connection refuses everything.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proto.h"

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_header(const uint8_t *data, size_t size)
{
	uint8_t again[PROTO_HDR_LEN];
	char why[PROTO_WHY_MAX] = "";
	struct proto_hdr h;

	if (proto_hdr_decode(data, size, &h, why, sizeof(why)) != CR_OK) {
		if (why[0] == '\0')
			abort();
		return;
	}
	proto_hdr_encode(&h, again);
	if (memcmp(again, data, PROTO_HDR_LEN) != 0 ||
	    h.body_len > PROTO_MAX_BODY || !proto_type_valid(h.type))
		abort();
}

static void
check_frame(const uint8_t *data, size_t size)
{
	char why[PROTO_WHY_MAX] = "";
	struct proto_frame f, g;
	struct buf b = BUF_INIT;

	if (proto_frame_decode(data, size, &f, why, sizeof(why)) != CR_OK) {
		if (f.body != NULL || why[0] == '\0')
			abort();
		return;
	}
	if (f.body == NULL || !json_object_is_type(f.body, json_type_object))
		abort();
	why[0] = '\0';
	if (proto_body_check(f.hdr.type, f.body, why, sizeof(why)) != CR_OK &&
	    why[0] == '\0')
		abort();
	/* What frames again decodes again, as the same message. */
	if (proto_frame_encode(f.hdr.type, f.hdr.req_id, f.body, &b) == CR_OK) {
		if (proto_frame_decode(b.data, b.len, &g, why, sizeof(why)) !=
			CR_OK ||
		    g.hdr.type != f.hdr.type || g.hdr.req_id != f.hdr.req_id)
			abort();
		proto_frame_clear(&g);
	}
	buf_clear(&b);
	proto_frame_clear(&f);
}

/* The input as a byte stream, delivered in input-chosen pieces. */
struct stream {
	const uint8_t *p;
	size_t len;
	size_t pos;
	uint8_t piece;
};

static ssize_t
stream_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct stream *s = ctx;
	size_t n = s->len - s->pos;

	(void)timeout_ms;
	if (n > len)
		n = len;
	if (n > (size_t)s->piece % 16 + 1)
		n = (size_t)s->piece % 16 + 1;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	s->piece = (uint8_t)(s->piece * 31 + 7);
	return (ssize_t)n;
}

static ssize_t
stream_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	(void)ctx;
	(void)buf;
	(void)timeout_ms;
	return (ssize_t)len;
}

static void
check_stream(const uint8_t *data, size_t size)
{
	struct stream s = {
		.p = data,
		.len = size,
		.piece = size > 0 ? data[0] : 0,
	};
	struct proto_transport t = {
		.read = stream_read,
		.write = stream_write,
		.ctx = &s,
	};
	struct proto_conn *c = proto_conn_new(&t);
	struct proto_frame f;
	enum cr_err err;

	while (
	    (err = proto_recv(c, 0, &f)) == CR_OK && f.hdr.type != PROTO_NONE)
		proto_frame_clear(&f);
	if (err == CR_OK && s.pos != s.len)
		abort();
	if (err != CR_OK &&
	    (f.body != NULL || proto_recv(c, 0, &f) != CR_ERR_PROTO))
		abort();
	proto_conn_free(c);
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_header(data, size);
	check_frame(data, size);
	check_stream(data, size);
	return 0;
}
