/*
 * The frame layer: header layout and checks, type table, body parsing,
 * whole frames, UTF-8, wiping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cu_run.h"
#include "jv.h"
#include "proto.h"
#include "proto_int.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static void
put_hdr(uint8_t *p, uint32_t len, uint16_t type, uint16_t ver, uint32_t id)
{
	struct proto_hdr h = {
		.body_len = len,
		.type = type,
		.version = ver,
		.req_id = id,
	};

	proto_hdr_encode(&h, p);
}

static void
test_hdr_golden(void)
{
	static const uint8_t want[PROTO_HDR_LEN] = { 0x01, 0x02, 0x03, 0x04,
		0x00, 0x68, 0x00, 0x01, 0xa1, 0xb2, 0xc3, 0xd4 };
	uint8_t got[PROTO_HDR_LEN];

	put_hdr(got, 0x01020304, PROTO_RENEW_REQ, PROTO_VERSION, 0xa1b2c3d4);
	CU_ASSERT_EQUAL(memcmp(got, want, sizeof(want)), 0);
}

static const struct hdr_row {
	const char *name;
	uint32_t body_len;
	uint16_t type;
	uint16_t version;
	uint32_t req_id;
	enum cr_err err;
	size_t len;      /* bytes given to the decoder */
	const char *why; /* substring of the explanation */
} hdr_rows[] = {
	{ "empty body", 0, PROTO_BYE_REQ, PROTO_VERSION, 1, CR_OK, 12, "" },
	{ "body at the limit", PROTO_MAX_BODY, PROTO_INSPECT_REP, PROTO_VERSION,
	    7, CR_OK, 12, "" },
	{ "req_id max", 2, PROTO_BYE_REP, PROTO_VERSION, 0xffffffff, CR_OK, 12,
	    "" },
	{ "longer input is fine", 2, PROTO_HELLO, PROTO_VERSION, 1, CR_OK, 20,
	    "" },
	{ "HELLO of another version", 2, PROTO_HELLO, 2, 1, CR_OK, 12, "" },
	{ "ERROR of another version", 2, PROTO_ERROR, 9, 1, CR_OK, 12, "" },
	{ "no bytes", 2, PROTO_HELLO, PROTO_VERSION, 1, CR_ERR_PROTO, 0,
	    "short frame header: 0 of 12" },
	{ "11 bytes", 2, PROTO_HELLO, PROTO_VERSION, 1, CR_ERR_PROTO, 11,
	    "short frame header: 11 of 12" },
	{ "type 0", 2, 0, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 0" },
	{ "type 3", 2, 3, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 3" },
	{ "type 100", 2, 100, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 100" },
	{ "type 111", 2, 111, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 111" },
	{ "type 200", 2, 200, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 200" },
	{ "type 211", 2, 211, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 211" },
	{ "type 254", 2, 254, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 254" },
	{ "type 256", 2, 256, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 256" },
	{ "type 65535", 2, 65535, PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "unknown message type 65535" },
	{ "version 0", 2, PROTO_INSPECT_REQ, 0, 1, CR_ERR_PROTO, 12,
	    "INSPECT_REQ frame of protocol version 0, this side speaks 1" },
	{ "version 2", 2, PROTO_RENEW_REQ, 2, 1, CR_ERR_PROTO, 12,
	    "RENEW_REQ frame of protocol version 2" },
	{ "version 65535", 2, PROTO_PROGRESS, 65535, 1, CR_ERR_PROTO, 12,
	    "PROGRESS frame of protocol version 65535" },
	{ "one byte over the limit", PROTO_MAX_BODY + 1, PROTO_RENEW_REP,
	    PROTO_VERSION, 1, CR_ERR_PROTO, 12,
	    "RENEW_REP body of 262145 bytes exceeds the limit of 262144" },
	{ "length 2^32-1", 0xffffffff, PROTO_HELLO, PROTO_VERSION, 1,
	    CR_ERR_PROTO, 12, "exceeds the limit" },
};

static void
test_hdr_table(void)
{
	uint8_t raw[20] = { 0 };
	char why[PROTO_WHY_MAX];
	struct proto_hdr h;
	size_t i;

	for (i = 0; i < NROWS(hdr_rows); i++) {
		const struct hdr_row *r = &hdr_rows[i];
		enum cr_err err;

		put_hdr(raw, r->body_len, r->type, r->version, r->req_id);
		memset(&h, 0xa5, sizeof(h));
		why[0] = '\0';
		err = proto_hdr_decode(raw, r->len, &h, why, sizeof(why));
		CU_ASSERT_CASE(err == r->err, r->name);
		CU_ASSERT_CASE(strstr(why, r->why) != NULL, r->name);
		if (r->err != CR_OK) {
			/* *h is written only on success. */
			CU_ASSERT_CASE(h.type == 0xa5a5, r->name);
			continue;
		}
		CU_ASSERT_CASE(h.body_len == r->body_len, r->name);
		CU_ASSERT_CASE(h.type == r->type, r->name);
		CU_ASSERT_CASE(h.version == r->version, r->name);
		CU_ASSERT_CASE(h.req_id == r->req_id, r->name);
	}
	/* A NULL why is allowed. */
	put_hdr(raw, 1, 3, PROTO_VERSION, 1);
	CU_ASSERT_EQUAL(proto_hdr_decode(raw, 12, &h, NULL, 0), CR_ERR_PROTO);
}

static const struct {
	const char *name;
	uint16_t type;
	uint16_t reply;
} types[] = {
	{ "HELLO", PROTO_HELLO, PROTO_HELLO },
	{ "PROGRESS", PROTO_PROGRESS, PROTO_NONE },
	{ "INSPECT_REQ", PROTO_INSPECT_REQ, PROTO_INSPECT_REP },
	{ "BACKUP_REQ", PROTO_BACKUP_REQ, PROTO_BACKUP_REP },
	{ "SNAPSHOT_REQ", PROTO_SNAPSHOT_REQ, PROTO_SNAPSHOT_REP },
	{ "RENEW_REQ", PROTO_RENEW_REQ, PROTO_RENEW_REP },
	{ "VERIFY_REQ", PROTO_VERIFY_REQ, PROTO_VERIFY_REP },
	{ "RESTART_REQ", PROTO_RESTART_REQ, PROTO_RESTART_REP },
	{ "HEALTH_REQ", PROTO_HEALTH_REQ, PROTO_HEALTH_REP },
	{ "ROLLBACK_REQ", PROTO_ROLLBACK_REQ, PROTO_ROLLBACK_REP },
	{ "READ_FILE_REQ", PROTO_READ_FILE_REQ, PROTO_READ_FILE_REP },
	{ "BYE_REQ", PROTO_BYE_REQ, PROTO_BYE_REP },
	{ "INSPECT_REP", PROTO_INSPECT_REP, PROTO_NONE },
	{ "BACKUP_REP", PROTO_BACKUP_REP, PROTO_NONE },
	{ "SNAPSHOT_REP", PROTO_SNAPSHOT_REP, PROTO_NONE },
	{ "RENEW_REP", PROTO_RENEW_REP, PROTO_NONE },
	{ "VERIFY_REP", PROTO_VERIFY_REP, PROTO_NONE },
	{ "RESTART_REP", PROTO_RESTART_REP, PROTO_NONE },
	{ "HEALTH_REP", PROTO_HEALTH_REP, PROTO_NONE },
	{ "ROLLBACK_REP", PROTO_ROLLBACK_REP, PROTO_NONE },
	{ "READ_FILE_REP", PROTO_READ_FILE_REP, PROTO_NONE },
	{ "BYE_REP", PROTO_BYE_REP, PROTO_NONE },
	{ "ERROR", PROTO_ERROR, PROTO_NONE },
};

static void
test_type_table(void)
{
	unsigned t;
	size_t i, nvalid = 0;

	for (i = 0; i < NROWS(types); i++) {
		CU_ASSERT_CASE(proto_type_valid(types[i].type), types[i].name);
		CU_ASSERT_CASE(
		    strcmp(proto_type_name(types[i].type), types[i].name) == 0,
		    types[i].name);
		CU_ASSERT_CASE(proto_reply_type(types[i].type) ==
			types[i].reply,
		    types[i].name);
		CU_ASSERT_CASE(proto_type_is_request(types[i].type) ==
			(types[i].type >= 101 && types[i].type <= 110),
		    types[i].name);
	}
	/* Nothing else in the whole 16-bit space is a type. */
	for (t = 0; t <= 0xffff; t++)
		nvalid += proto_type_valid((uint16_t)t);
	CU_ASSERT_EQUAL(nvalid, NROWS(types));
	CU_ASSERT_FALSE(proto_type_valid(PROTO_NONE));
	CU_ASSERT_STRING_EQUAL(proto_type_name(PROTO_NONE), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(proto_type_name(300), "UNKNOWN");
	CU_ASSERT_EQUAL(proto_reply_type(PROTO_NONE), PROTO_NONE);
	CU_ASSERT_EQUAL(proto_reply_type(PROTO_ERROR), PROTO_NONE);
}

static const struct body_row {
	const char *name;
	const char *text;
	enum cr_err err;
	const char *why;
} body_rows[] = {
	{ "empty object", "{}", CR_OK, "" },
	{ "object with whitespace", " \t{\"a\": [1, 2]}\r\n", CR_OK, "" },
	{ "multibyte UTF-8", "{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	    CR_OK, "" },
	{ "empty body", "", CR_ERR_PROTO, "RENEW_REQ body is not JSON" },
	{ "array", "[]", CR_ERR_PROTO, "RENEW_REQ body is not a JSON object" },
	{ "number", "1 ", CR_ERR_PROTO, "not a JSON object" },
	{ "string", "\"s\"", CR_ERR_PROTO, "not a JSON object" },
	{ "null", "null", CR_ERR_PROTO, "not JSON" },
	{ "truncated", "{\"a\":", CR_ERR_PROTO, "not JSON" },
	{ "trailing garbage", "{} x", CR_ERR_PROTO, "not JSON" },
	{ "two objects", "{}{}", CR_ERR_PROTO, "not JSON" },
	{ "invalid byte 0xff", "{\"a\":\"\xff\"}", CR_ERR_PROTO,
	    "not valid UTF-8" },
	{ "overlong slash", "{\"a\":\"\xc0\xaf\"}", CR_ERR_PROTO,
	    "not valid UTF-8" },
	{ "UTF-16 surrogate", "{\"a\":\"\xed\xa0\x80\"}", CR_ERR_PROTO,
	    "not valid UTF-8" },
	{ "above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", CR_ERR_PROTO,
	    "not valid UTF-8" },
	{ "truncated sequence", "{\"a\":\"\xe2\x82\"}", CR_ERR_PROTO,
	    "not valid UTF-8" },
	{ "lone continuation", "{\"a\":\"\x80\"}", CR_ERR_PROTO,
	    "not valid UTF-8" },
};

static void
test_body_table(void)
{
	char why[PROTO_WHY_MAX];
	size_t i;

	for (i = 0; i < NROWS(body_rows); i++) {
		const struct body_row *r = &body_rows[i];
		struct proto_hdr h = {
			.body_len = (uint32_t)strlen(r->text),
			.type = PROTO_RENEW_REQ,
			.version = PROTO_VERSION,
		};
		json_object *o = NULL;
		enum cr_err err;

		why[0] = '\0';
		err = proto_body_decode(&h, (const uint8_t *)r->text, &o, why,
		    sizeof(why));
		CU_ASSERT_CASE(err == r->err, r->name);
		CU_ASSERT_CASE(strstr(why, r->why) != NULL, r->name);
		CU_ASSERT_CASE((err == CR_OK) == (o != NULL), r->name);
		json_object_put(err == CR_OK ? o : NULL);
	}
}

static const struct {
	const char *name;
	const char *bytes;
	size_t seq; /* length of the valid sequence at the start, 0 = none */
} utf8_rows[] = {
	{ "U+007F", "\x7f", 1 },
	{ "U+0080", "\xc2\x80", 2 },
	{ "U+07FF", "\xdf\xbf", 2 },
	{ "C1 lead (overlong)", "\xc1\xbf", 0 },
	{ "U+0800", "\xe0\xa0\x80", 3 },
	{ "E0 overlong", "\xe0\x9f\xbf", 0 },
	{ "U+D7FF", "\xed\x9f\xbf", 3 },
	{ "U+D800 surrogate", "\xed\xa0\x80", 0 },
	{ "U+FFFF", "\xef\xbf\xbf", 3 },
	{ "bad third byte", "\xef\xbf\x41", 0 },
	{ "U+10000", "\xf0\x90\x80\x80", 4 },
	{ "F0 overlong", "\xf0\x8f\xbf\xbf", 0 },
	{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 4 },
	{ "U+110000", "\xf4\x90\x80\x80", 0 },
	{ "F5 lead", "\xf5\x80\x80\x80", 0 },
	{ "lone continuation", "\x80", 0 },
	{ "truncated", "\xf0\x90\x80", 0 },
};

static void
test_utf8_table(void)
{
	size_t i, len;

	for (i = 0; i < NROWS(utf8_rows); i++) {
		const uint8_t *p = (const uint8_t *)utf8_rows[i].bytes;

		len = strlen(utf8_rows[i].bytes);
		CU_ASSERT_CASE(proto_utf8_seq(p, len) == utf8_rows[i].seq,
		    utf8_rows[i].name);
		CU_ASSERT_CASE(proto_utf8_valid(p, len) ==
			(utf8_rows[i].seq == len),
		    utf8_rows[i].name);
	}
	CU_ASSERT_EQUAL(proto_utf8_seq((const uint8_t *)"", 0), 0);
	CU_ASSERT_TRUE(proto_utf8_valid((const uint8_t *)"", 0));
}

/* Encodes {"s": <n x's>}, whose serialisation is n + 8 bytes. */
static json_object *
body_of_size(size_t total)
{
	json_object *o = json_object_new_object();
	char *s = malloc(total - 8 + 1);

	memset(s, 'x', total - 8);
	s[total - 8] = '\0';
	jv_add_str(o, "s", s);
	free(s);
	return o;
}

static void
test_frame_roundtrip(void)
{
	struct buf b = BUF_INIT;
	struct proto_frame f;
	char why[PROTO_WHY_MAX];
	json_object *o = json_object_new_object();

	jv_add_str(o, "kubernetes_dir", "/etc/kubernetes");
	CU_ASSERT_EQUAL_FATAL(proto_frame_encode(PROTO_INSPECT_REQ, 42, o, &b),
	    CR_OK);
	CU_ASSERT_EQUAL(b.len, PROTO_HDR_LEN + strlen(jv_to_string(o)));
	CU_ASSERT_EQUAL(proto_frame_decode(b.data, b.len, &f, why, sizeof(why)),
	    CR_OK);
	CU_ASSERT_EQUAL(f.hdr.type, PROTO_INSPECT_REQ);
	CU_ASSERT_EQUAL(f.hdr.version, PROTO_VERSION);
	CU_ASSERT_EQUAL(f.hdr.req_id, 42);
	CU_ASSERT_EQUAL(f.hdr.body_len, b.len - PROTO_HDR_LEN);
	CU_ASSERT_STRING_EQUAL(jv_str(f.body, "kubernetes_dir"),
	    "/etc/kubernetes");
	proto_frame_clear(&f);
	CU_ASSERT_PTR_NULL(f.body);

	/* One byte short of the body, one byte after it. */
	CU_ASSERT_EQUAL(
	    proto_frame_decode(b.data, b.len - 1, &f, why, sizeof(why)),
	    CR_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "truncated INSPECT_REQ frame"));
	CU_ASSERT_PTR_NULL(f.body);
	buf_putc(&b, ' ');
	CU_ASSERT_EQUAL(proto_frame_decode(b.data, b.len, &f, why, sizeof(why)),
	    CR_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "1 bytes after the INSPECT_REQ"));
	CU_ASSERT_EQUAL(proto_frame_decode(b.data, 5, &f, why, sizeof(why)),
	    CR_ERR_PROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "short frame header"));
	buf_clear(&b);
	json_object_put(o);
	proto_frame_clear(NULL);
}

static void
test_frame_encode_refuses(void)
{
	struct buf b = BUF_INIT;
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	json_object *max = body_of_size(PROTO_MAX_BODY);
	json_object *over = body_of_size(PROTO_MAX_BODY + 1);
	json_object *bad = json_object_new_object();

	jv_add_str(bad, "s", "\xff");
	buf_puts(&b, "keep");
	CU_ASSERT_EQUAL(proto_frame_encode(3, 1, o, &b), CR_ERR_PROTO);
	CU_ASSERT_EQUAL(proto_frame_encode(PROTO_NONE, 1, o, &b), CR_ERR_PROTO);
	CU_ASSERT_EQUAL(proto_frame_encode(PROTO_BYE_REQ, 1, arr, &b),
	    CR_ERR_PROTO);
	CU_ASSERT_EQUAL(proto_frame_encode(PROTO_BYE_REQ, 1, NULL, &b),
	    CR_ERR_PROTO);
	CU_ASSERT_EQUAL(proto_frame_encode(PROTO_BYE_REQ, 1, over, &b),
	    CR_ERR_PROTO);
	CU_ASSERT_EQUAL(proto_frame_encode(PROTO_BYE_REQ, 1, bad, &b),
	    CR_ERR_PROTO);
	/* Refusals leave the output alone. */
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "keep");
	buf_reset(&b);
	CU_ASSERT_EQUAL(proto_frame_encode(PROTO_BYE_REQ, 1, max, &b), CR_OK);
	CU_ASSERT_EQUAL(b.len, PROTO_HDR_LEN + PROTO_MAX_BODY);
	buf_clear(&b);
	json_object_put(o);
	json_object_put(arr);
	json_object_put(max);
	json_object_put(over);
	json_object_put(bad);
}

static void
test_body_wipe(void)
{
	json_object *o = json_object_new_object();
	json_object *a = json_object_new_array();
	json_object *inner = json_object_new_object();
	const char *text, *s;
	size_t i, len;
	bool zero = true;

	jv_add_str(inner, "key", "-----BEGIN EC PRIVATE KEY-----");
	json_object_array_add(a, json_object_new_string("secret-in-array"));
	json_object_array_add(a, inner);
	json_object_object_add(o, "list", a);
	jv_add_str(o, "data", "c2VjcmV0");
	jv_add_int(o, "mode", 384);
	text = jv_to_string(o);
	len = strlen(text);
	proto_body_wipe(o);
	/* The serialisation json-c cached in the root is wiped in place. */
	for (i = 0; i < len; i++)
		zero = zero && text[i] == '\0';
	CU_ASSERT_TRUE(zero);
	s = jv_str(o, "data");
	CU_ASSERT_EQUAL(
	    json_object_get_string_len(json_object_object_get(o, "data")), 8);
	CU_ASSERT_EQUAL(s[0], '\0');
	CU_ASSERT_EQUAL(s[7], '\0');
	s = json_object_get_string(json_object_array_get_idx(a, 0));
	CU_ASSERT_EQUAL(s[0], '\0');
	CU_ASSERT_EQUAL(s[14], '\0');
	s = jv_str(inner, "key");
	CU_ASSERT_EQUAL(memcmp(s, "\0\0\0\0\0", 5), 0);
	json_object_put(o);
	proto_body_wipe(NULL);
}

static CU_TestInfo hdr_tests[] = {
	{ "golden_bytes", test_hdr_golden },
	{ "decode_table", test_hdr_table },
	{ "type_table", test_type_table },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo frame_tests[] = {
	{ "body_table", test_body_table },
	{ "utf8_table", test_utf8_table },
	{ "roundtrip_and_truncation", test_frame_roundtrip },
	{ "encode_refuses", test_frame_encode_refuses },
	{ "body_wipe", test_body_wipe },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "proto_hdr", .pTests = hdr_tests },
	{ .pName = "proto_frame", .pTests = frame_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
