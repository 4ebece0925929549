/*
 * The header, the type table and whole frames as bytes. No I/O here and no
 * logging: see proto_io.c for moving frames.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jv.h"
#include "proto.h"
#include "proto_int.h"

/* Indexed by type; a NULL name marks a number that is not a type. */
static const char *const type_names[PROTO__MAX] = {
	[PROTO_HELLO] = "HELLO",
	[PROTO_PROGRESS] = "PROGRESS",
	[PROTO_INSPECT_REQ] = "INSPECT_REQ",
	[PROTO_BACKUP_REQ] = "BACKUP_REQ",
	[PROTO_SNAPSHOT_REQ] = "SNAPSHOT_REQ",
	[PROTO_RENEW_REQ] = "RENEW_REQ",
	[PROTO_VERIFY_REQ] = "VERIFY_REQ",
	[PROTO_RESTART_REQ] = "RESTART_REQ",
	[PROTO_HEALTH_REQ] = "HEALTH_REQ",
	[PROTO_ROLLBACK_REQ] = "ROLLBACK_REQ",
	[PROTO_READ_FILE_REQ] = "READ_FILE_REQ",
	[PROTO_BYE_REQ] = "BYE_REQ",
	[PROTO_INSPECT_REP] = "INSPECT_REP",
	[PROTO_BACKUP_REP] = "BACKUP_REP",
	[PROTO_SNAPSHOT_REP] = "SNAPSHOT_REP",
	[PROTO_RENEW_REP] = "RENEW_REP",
	[PROTO_VERIFY_REP] = "VERIFY_REP",
	[PROTO_RESTART_REP] = "RESTART_REP",
	[PROTO_HEALTH_REP] = "HEALTH_REP",
	[PROTO_ROLLBACK_REP] = "ROLLBACK_REP",
	[PROTO_READ_FILE_REP] = "READ_FILE_REP",
	[PROTO_BYE_REP] = "BYE_REP",
	[PROTO_ERROR] = "ERROR",
};

const char *
proto_type_name(uint16_t type)
{
	if (type >= PROTO__MAX || type_names[type] == NULL)
		return "UNKNOWN";
	return type_names[type];
}

bool
proto_type_valid(uint16_t type)
{
	return type < PROTO__MAX && type_names[type] != NULL;
}

bool
proto_type_is_request(uint16_t type)
{
	return type >= PROTO_REQ_FIRST && type <= PROTO_REQ_LAST;
}

uint16_t
proto_reply_type(uint16_t type)
{
	if (type == PROTO_HELLO)
		return PROTO_HELLO;
	if (proto_type_is_request(type))
		return (uint16_t)(type + PROTO_REP_OFFSET);
	return PROTO_NONE;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void
proto_hdr_encode(const struct proto_hdr *h, uint8_t out[PROTO_HDR_LEN])
{
	put_u32(out, h->body_len);
	put_u16(out + 4, h->type);
	put_u16(out + 6, h->version);
	put_u32(out + 8, h->req_id);
}

static enum cr_err refuse(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum cr_err
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return CR_ERR_PROTO;
}

/* HELLO and ERROR are frozen so that any two versions can say why not. */
static bool
version_ok(uint16_t type, uint16_t version)
{
	return version == PROTO_VERSION || type == PROTO_HELLO ||
	    type == PROTO_ERROR;
}

enum cr_err
proto_hdr_decode(const uint8_t *p, size_t len, struct proto_hdr *h, char *why,
    size_t whylen)
{
	struct proto_hdr in;

	if (len < PROTO_HDR_LEN)
		return refuse(why, whylen,
		    "short frame header: %zu of %d bytes", len, PROTO_HDR_LEN);
	in.body_len = get_u32(p);
	in.type = get_u16(p + 4);
	in.version = get_u16(p + 6);
	in.req_id = get_u32(p + 8);
	if (!proto_type_valid(in.type))
		return refuse(why, whylen, "unknown message type %u", in.type);
	if (!version_ok(in.type, in.version))
		return refuse(why, whylen,
		    "%s frame of protocol version %u, this side speaks %d",
		    proto_type_name(in.type), in.version, PROTO_VERSION);
	if (in.body_len > PROTO_MAX_BODY)
		return refuse(why, whylen,
		    "%s body of %lu bytes exceeds the limit of %d",
		    proto_type_name(in.type), (unsigned long)in.body_len,
		    PROTO_MAX_BODY);
	*h = in;
	return CR_OK;
}

/* Length of the sequence a lead byte starts; 0 for an invalid lead. */
static size_t
utf8_seqlen(uint8_t c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/*
 * The second byte's range depends on the lead (RFC 3629 section 4): it
 * excludes overlong forms, UTF-16 surrogates and code points above
 * U+10FFFF.
 */
static bool
utf8_second_ok(uint8_t lead, uint8_t b)
{
	if (lead == 0xe0)
		return b >= 0xa0 && b <= 0xbf;
	if (lead == 0xed)
		return b >= 0x80 && b <= 0x9f;
	if (lead == 0xf0)
		return b >= 0x90 && b <= 0xbf;
	if (lead == 0xf4)
		return b >= 0x80 && b <= 0x8f;
	return b >= 0x80 && b <= 0xbf;
}

size_t
proto_utf8_seq(const uint8_t *p, size_t len)
{
	size_t n, k;

	if (len == 0 || (n = utf8_seqlen(p[0])) == 0 || n > len)
		return 0;
	if (n > 1 && !utf8_second_ok(p[0], p[1]))
		return 0;
	for (k = 2; k < n; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool
proto_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if ((n = proto_utf8_seq(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

enum cr_err
proto_body_decode(const struct proto_hdr *h, const uint8_t *p,
    json_object **bodyp, char *why, size_t whylen)
{
	char jerr[128];
	json_object *o = NULL;
	const char *name = proto_type_name(h->type);
	size_t len = h->body_len;

	*bodyp = NULL;
	if (!proto_utf8_valid(p, len))
		return refuse(why, whylen, "%s body is not valid UTF-8", name);
	if (jv_parse((const char *)p, len, &o, jerr, sizeof(jerr)) != CR_OK)
		return refuse(why, whylen, "%s body is not JSON: %s", name,
		    jerr);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return refuse(why, whylen, "%s body is not a JSON object",
		    name);
	}
	*bodyp = o;
	return CR_OK;
}

enum cr_err
proto_frame_encode(uint16_t type, uint32_t req_id, json_object *body,
    struct buf *out)
{
	uint8_t hdr[PROTO_HDR_LEN];
	struct proto_hdr h = {
		.type = type,
		.version = PROTO_VERSION,
		.req_id = req_id,
	};
	const char *text;
	size_t len;

	if (!proto_type_valid(type) || body == NULL ||
	    !json_object_is_type(body, json_type_object))
		return CR_ERR_PROTO;
	text = jv_to_string(body);
	len = strlen(text);
	if (len > PROTO_MAX_BODY ||
	    !proto_utf8_valid((const uint8_t *)text, len))
		return CR_ERR_PROTO;
	h.body_len = (uint32_t)len;
	proto_hdr_encode(&h, hdr);
	/* One allocation, so no copy of the body is left behind by a realloc.
	 */
	buf_reserve(out, sizeof(hdr) + len);
	buf_put(out, hdr, sizeof(hdr));
	buf_put(out, text, len);
	return CR_OK;
}

enum cr_err
proto_frame_decode(const uint8_t *p, size_t len, struct proto_frame *f,
    char *why, size_t whylen)
{
	struct proto_hdr h;
	json_object *body = NULL;
	enum cr_err err;

	memset(f, 0, sizeof(*f));
	memset(&h, 0, sizeof(h));
	if ((err = proto_hdr_decode(p, len, &h, why, whylen)) != CR_OK)
		return err;
	if (len - PROTO_HDR_LEN < h.body_len)
		return refuse(why, whylen,
		    "truncated %s frame: %zu of %lu body bytes",
		    proto_type_name(h.type), len - PROTO_HDR_LEN,
		    (unsigned long)h.body_len);
	if (len - PROTO_HDR_LEN > h.body_len)
		return refuse(why, whylen, "%zu bytes after the %s frame",
		    len - PROTO_HDR_LEN - h.body_len, proto_type_name(h.type));
	err = proto_body_decode(&h, p + PROTO_HDR_LEN, &body, why, whylen);
	if (err != CR_OK)
		return err;
	f->hdr = h;
	f->body = body;
	return CR_OK;
}

void
proto_frame_clear(struct proto_frame *f)
{
	if (f == NULL)
		return;
	json_object_put(f->body);
	memset(f, 0, sizeof(*f));
}
