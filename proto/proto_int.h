/*
 * Internal to proto/ and its tests (unit tests, fuzz targets): the field
 * decoding kit the message codecs are written with, the byte-level checks,
 * and the table of codecs by type.
 *
 * The decoding kit keeps the first failure in a struct proto_dec: every
 * proto_dec_* call after a failure does nothing, so a decoder is a flat
 * list of calls with one check at the end, and the explanation names the
 * message and the field path ("RENEW_REP: 'renewed[1].new_serial':
 * missing (string)").
 */
#ifndef CR_PROTO_INT_H
#define CR_PROTO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "certinfo.h"
#include "err.h"

struct proto_dec {
	const char *msg; /* type name, the first word of an explanation */
	char *why;       /* caller's buffer or NULL */
	size_t whylen;
	bool failed;
	char path[128]; /* prefix of nested fields: "renewed[1]." */
	size_t plen;
};

/* The integer ranges fields are checked against (docs/protocol.md). */
enum proto_range {
	PROTO_RANGE_COUNT = 0, /* 0 .. INT64_MAX: sizes, counts, durations */
	PROTO_RANGE_PROTOCOL,  /* 1 .. 65535 */
	PROTO_RANGE_PERCENT,   /* 0 .. 100 */
	PROTO_RANGE_KEEP,      /* 1 .. 1000 */
	PROTO_RANGE_TIMEOUT,   /* 1 .. 86400 seconds */
	PROTO_RANGE_VALIDITY,  /* 0 .. 100 years in seconds */
	PROTO_RANGE_MODE,      /* 0 .. 07777 */
	PROTO_RANGE__MAX
};

/*
 * Times the protocol carries: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z,
 * the range timefmt_rfc3339() writes back in a form it parses.
 */
#define PROTO_TIME_MAX 253402300799LL

/* True when t is within 0 .. PROTO_TIME_MAX. */
bool proto_time_ok(int64_t t);

/* How to decode one element of a JSON array of objects into a C array. */
struct proto_elem {
	size_t size; /* of one C element */
	void (*decode)(struct proto_dec *d, json_object *o, void *elem);
};

/* Starts decoding message msg (a type name, borrowed) into why. */
void proto_dec_init(struct proto_dec *d, const char *msg, char *why,
    size_t whylen);

/* Fails unless o is a JSON object; true when decoding may go on. */
bool proto_dec_root(struct proto_dec *d, json_object *o);

/* Records a failure about field key (NULL: the message itself). */
void proto_dec_fail(struct proto_dec *d, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Field getters. Each requires key in o with the stated JSON type, copies
 * the value into *out, and records a failure otherwise. Strings with an
 * embedded NUL are refused.
 */
void proto_dec_str(struct proto_dec *d, json_object *o, const char *key,
    char **out);
/* A string or null (NULL). */
void proto_dec_str_or_null(struct proto_dec *d, json_object *o, const char *key,
    char **out);
/* An integer within range r. */
void proto_dec_int(struct proto_dec *d, json_object *o, const char *key,
    enum proto_range r, int64_t *out);
void proto_dec_bool(struct proto_dec *d, json_object *o, const char *key,
    bool *out);
/* An array of strings, appended to *out. */
void proto_dec_strv(struct proto_dec *d, json_object *o, const char *key,
    struct strv *out);
/* An RFC 3339 time string within proto_time_ok(). */
void proto_dec_time(struct proto_dec *d, json_object *o, const char *key,
    time_t *out);
/* 64 lower-case hex digits (a SHA-256). */
void proto_dec_sha256(struct proto_dec *d, json_object *o, const char *key,
    char **out);

/*
 * Decodes the object at key with fn(d, sub, p), under the path prefix
 * "key.".
 */
void proto_dec_sub(struct proto_dec *d, json_object *o, const char *key,
    void (*fn)(struct proto_dec *d, json_object *sub, void *p), void *p);

/*
 * Decodes the array of objects at key into a new C array of *np elements
 * of e->size bytes (zeroed, then e->decode each under "key[i]."). Returns
 * the array (NULL when empty or failed before allocating); *np is set as
 * soon as the array exists, so the caller's clear function releases a
 * partly decoded array. Release with free() after clearing the elements.
 */
void *proto_dec_list(struct proto_dec *d, json_object *o, const char *key,
    const struct proto_elem *e, size_t *np);

/* Adds key: [strings] / key: RFC 3339 time to o. */
void proto_enc_strv(json_object *o, const char *key, const struct strv *sv);
void proto_enc_time(json_object *o, const char *key, time_t t);

/*
 * Base64 (RFC 4648 section 4, padded). proto_b64_encode() returns a new
 * string to free(). proto_b64_decode() accepts only canonical input (no
 * whitespace, correct padding, zero pad bits) decoding to at most max
 * bytes; on success *outp (NULL when *lenp is 0) must be released with
 * freezero(). Returns CR_ERR_PROTO otherwise.
 */
char *proto_b64_encode(const uint8_t *p, size_t len);
enum cr_err proto_b64_decode(const char *s, size_t max, uint8_t **outp,
    size_t *lenp) CR_MUST_CHECK;

/* True when the len bytes at p are well-formed UTF-8 (RFC 3629). */
bool proto_utf8_valid(const uint8_t *p, size_t len);

/*
 * Length of the well-formed UTF-8 sequence at the start of the len bytes
 * at p (1-4), or 0 when there is none.
 */
size_t proto_utf8_seq(const uint8_t *p, size_t len);

/*
 * A message codec by type, through void pointers so that tests and fuzz
 * targets can drive every message alike. The struct of a message is size
 * bytes; encode may be NULL (BYE: nothing to encode).
 */
struct proto_codec {
	uint16_t type;
	size_t size;
	json_object *(*encode)(const void *m);
	enum cr_err (
	    *decode)(json_object *body, void *m, char *why, size_t whylen);
	void (*clear)(void *m);
};

/* The codec of type, or NULL when type has no body to decode. */
const struct proto_codec *proto_codec_find(uint16_t type);

#endif /* CR_PROTO_INT_H */
