/*
 * The field kit the message codecs are written with (proto_int.h): typed
 * getters that record the first failure with its field path, the encoders'
 * helpers, base64 and the wiping of bodies that carried secrets.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jv.h"
#include "proto.h"
#include "proto_int.h"
#include "timefmt.h"
#include "xmalloc.h"

static const struct {
	int64_t min;
	int64_t max;
} ranges[PROTO_RANGE__MAX] = {
	[PROTO_RANGE_COUNT] = { 0, INT64_MAX },
	[PROTO_RANGE_PROTOCOL] = { 1, 65535 },
	[PROTO_RANGE_PERCENT] = { 0, 100 },
	[PROTO_RANGE_KEEP] = { 1, 1000 },
	[PROTO_RANGE_TIMEOUT] = { 1, 86400 },
	[PROTO_RANGE_VALIDITY] = { 0, 100LL * 365 * 86400 },
	[PROTO_RANGE_MODE] = { 0, 07777 },
};

void
proto_dec_init(struct proto_dec *d, const char *msg, char *why, size_t whylen)
{
	memset(d, 0, sizeof(*d));
	d->msg = msg;
	d->why = why;
	d->whylen = whylen;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
}

void
proto_dec_fail(struct proto_dec *d, const char *key, const char *fmt, ...)
{
	char detail[PROTO_WHY_MAX];
	va_list ap;

	if (d->failed)
		return;
	d->failed = true;
	if (d->why == NULL || d->whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (key == NULL)
		snprintf(d->why, d->whylen, "%s: %s", d->msg, detail);
	else
		snprintf(d->why, d->whylen, "%s: '%s%s': %s", d->msg, d->path,
		    key, detail);
}

bool
proto_dec_root(struct proto_dec *d, json_object *o)
{
	if (d->failed)
		return false;
	if (o == NULL || !json_object_is_type(o, json_type_object))
		proto_dec_fail(d, NULL, "body is not a JSON object");
	return !d->failed;
}

/*
 * Looks key up; records "missing (what)" when absent. *vp is NULL for a
 * JSON null. Returns false when decoding must not go on.
 */
static bool
field(struct proto_dec *d, json_object *o, const char *key, const char *what,
    json_object **vp)
{
	*vp = NULL;
	if (d->failed)
		return false;
	if (!json_object_object_get_ex(o, key, vp)) {
		proto_dec_fail(d, key, "missing (%s)", what);
		return false;
	}
	return true;
}

/* A string without an embedded NUL, which would silently shorten it. */
static bool
clean_string(json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	    strlen(json_object_get_string(v)) ==
	    (size_t)json_object_get_string_len(v);
}

void
proto_dec_str(struct proto_dec *d, json_object *o, const char *key, char **out)
{
	json_object *v;

	if (!field(d, o, key, "string", &v))
		return;
	if (v == NULL || !clean_string(v)) {
		proto_dec_fail(d, key, "not a string");
		return;
	}
	*out = xstrdup(json_object_get_string(v));
}

void
proto_dec_str_or_null(struct proto_dec *d, json_object *o, const char *key,
    char **out)
{
	json_object *v;

	if (!field(d, o, key, "string or null", &v) || v == NULL)
		return;
	if (!clean_string(v)) {
		proto_dec_fail(d, key, "neither a string nor null");
		return;
	}
	*out = xstrdup(json_object_get_string(v));
}

void
proto_dec_int(struct proto_dec *d, json_object *o, const char *key,
    enum proto_range r, int64_t *out)
{
	json_object *v;
	int64_t n;

	if (!field(d, o, key, "integer", &v))
		return;
	if (v == NULL || !json_object_is_type(v, json_type_int)) {
		proto_dec_fail(d, key, "not an integer");
		return;
	}
	n = json_object_get_int64(v);
	/* json-c keeps 2^63 .. 2^64-1 as unsigned and clamps get_int64(). */
	if ((n == INT64_MAX && json_object_get_uint64(v) != INT64_MAX) ||
	    n < ranges[r].min || n > ranges[r].max) {
		proto_dec_fail(d, key, "%s is out of range %lld..%lld",
		    json_object_get_string(v), (long long)ranges[r].min,
		    (long long)ranges[r].max);
		return;
	}
	*out = n;
}

void
proto_dec_bool(struct proto_dec *d, json_object *o, const char *key, bool *out)
{
	json_object *v;

	if (!field(d, o, key, "boolean", &v))
		return;
	if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
		proto_dec_fail(d, key, "not a boolean");
		return;
	}
	*out = json_object_get_boolean(v);
}

void
proto_dec_strv(struct proto_dec *d, json_object *o, const char *key,
    struct strv *out)
{
	json_object *v, *item;
	size_t i, n;

	if (!field(d, o, key, "array of strings", &v))
		return;
	if (v == NULL || !json_object_is_type(v, json_type_array)) {
		proto_dec_fail(d, key, "not an array of strings");
		return;
	}
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(v, i);
		if (item == NULL || !clean_string(item)) {
			proto_dec_fail(d, key, "item %zu is not a string", i);
			return;
		}
		strv_push(out, json_object_get_string(item));
	}
}

void
proto_dec_time(struct proto_dec *d, json_object *o, const char *key,
    time_t *out)
{
	json_object *v;
	int64_t ms;

	if (!field(d, o, key, "RFC 3339 time", &v))
		return;
	if (v == NULL || !clean_string(v) ||
	    timefmt_parse_rfc3339(json_object_get_string(v), &ms) != CR_OK) {
		proto_dec_fail(d, key, "not an RFC 3339 time");
		return;
	}
	if (ms < 0 || !proto_time_ok(ms / 1000)) {
		proto_dec_fail(d, key, "'%s' is outside 1970..9999",
		    json_object_get_string(v));
		return;
	}
	*out = (time_t)(ms / 1000);
}

bool
proto_time_ok(int64_t t)
{
	return t >= 0 && t <= PROTO_TIME_MAX;
}

void
proto_dec_sha256(struct proto_dec *d, json_object *o, const char *key,
    char **out)
{
	json_object *v;
	const char *s;

	if (!field(d, o, key, "SHA-256 hex string", &v))
		return;
	s = v != NULL && clean_string(v) ? json_object_get_string(v) : "";
	if (strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64) {
		proto_dec_fail(d, key, "not 64 lower-case hex digits");
		return;
	}
	*out = xstrdup(s);
}

/* Appends to the field path; returns the mark pop() restores. */
static size_t
push(struct proto_dec *d, const char *key, long idx)
{
	size_t mark = d->plen;
	size_t room = sizeof(d->path) - mark;

	if (idx >= 0)
		snprintf(d->path + mark, room, "%s[%ld].", key, idx);
	else
		snprintf(d->path + mark, room, "%s.", key);
	d->plen = strlen(d->path);
	return mark;
}

static void
pop(struct proto_dec *d, size_t mark)
{
	d->plen = mark;
	d->path[mark] = '\0';
}

void
proto_dec_sub(struct proto_dec *d, json_object *o, const char *key,
    void (*fn)(struct proto_dec *d, json_object *sub, void *p), void *p)
{
	json_object *v;
	size_t mark;

	if (!field(d, o, key, "object", &v))
		return;
	if (v == NULL || !json_object_is_type(v, json_type_object)) {
		proto_dec_fail(d, key, "not an object");
		return;
	}
	mark = push(d, key, -1);
	fn(d, v, p);
	pop(d, mark);
}

void *
proto_dec_list(struct proto_dec *d, json_object *o, const char *key,
    const struct proto_elem *e, size_t *np)
{
	json_object *v, *item;
	uint8_t *arr;
	size_t i, n, mark;

	if (!field(d, o, key, "array of objects", &v))
		return NULL;
	if (v == NULL || !json_object_is_type(v, json_type_array)) {
		proto_dec_fail(d, key, "not an array of objects");
		return NULL;
	}
	/* The count is that of the array received, not a claimed one. */
	if ((n = json_object_array_length(v)) == 0)
		return NULL;
	arr = xcalloc(n, e->size);
	*np = n;
	for (i = 0; i < n && !d->failed; i++) {
		item = json_object_array_get_idx(v, i);
		if (item == NULL ||
		    !json_object_is_type(item, json_type_object)) {
			proto_dec_fail(d, key, "item %zu is not an object", i);
			break;
		}
		mark = push(d, key, (long)i);
		e->decode(d, item, arr + i * e->size);
		pop(d, mark);
	}
	return arr;
}

void
proto_enc_strv(json_object *o, const char *key, const struct strv *sv)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_object_array_add(a, json_object_new_string(sv->v[i]));
	json_object_object_add(o, key, a);
}

void
proto_enc_time(json_object *o, const char *key, time_t t)
{
	char when[TIMEFMT_MAX];

	timefmt_rfc3339(t, when, sizeof(when));
	jv_add_str(o, key, when);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
proto_b64_encode(const uint8_t *p, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *w = out;
	uint32_t v;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*w++ = b64[v >> 18 & 63];
		*w++ = b64[v >> 12 & 63];
		*w++ = b64[v >> 6 & 63];
		*w++ = b64[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16 |
		    (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		*w++ = b64[v >> 18 & 63];
		*w++ = b64[v >> 12 & 63];
		if (i + 1 < len)
			*w++ = b64[v >> 6 & 63];
		else
			*w++ = '=';
		*w++ = '=';
	}
	*w = '\0';
	return out;
}

static int
b64_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

/* Decodes the quartet at s into out; returns the bytes written or -1. */
static int
b64_quartet(const char *s, bool last, uint8_t *out)
{
	int v[4], i, pads = 0;
	uint32_t acc = 0;

	if (last)
		pads = (s[3] == '=') + (s[3] == '=' && s[2] == '=');
	for (i = 0; i < 4 - pads; i++) {
		if ((v[i] = b64_value(s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v[i];
	}
	acc <<= 6 * pads;
	/* Canonical input only: the bits padding drops must be zero. */
	if ((pads == 1 && (acc & 0xff) != 0) ||
	    (pads == 2 && (acc & 0xffff) != 0))
		return -1;
	out[0] = (uint8_t)(acc >> 16);
	if (pads < 2)
		out[1] = (uint8_t)(acc >> 8);
	if (pads < 1)
		out[2] = (uint8_t)acc;
	return 3 - pads;
}

enum cr_err
proto_b64_decode(const char *s, size_t max, uint8_t **outp, size_t *lenp)
{
	size_t slen = strlen(s), n, i, w = 0;
	uint8_t *out;
	int k;

	*outp = NULL;
	*lenp = 0;
	if (slen % 4 != 0)
		return CR_ERR_PROTO;
	n = slen / 4 * 3;
	if (slen > 0)
		n -= (s[slen - 1] == '=') + (s[slen - 2] == '=');
	if (n > max)
		return CR_ERR_PROTO;
	if (n == 0)
		return slen == 0 ? CR_OK : CR_ERR_PROTO;
	out = xmalloc(n);
	for (i = 0; i < slen; i += 4) {
		if ((k = b64_quartet(s + i, i + 4 == slen, out + w)) < 0) {
			freezero(out, n);
			return CR_ERR_PROTO;
		}
		w += (size_t)k;
	}
	*outp = out;
	*lenp = w;
	return CR_OK;
}

/*
 * Overwrites len bytes that json-c handed out as const but owns and keeps
 * writable (string values, the cached serialisation).
 */
static void
wipe_owned(const char *s, size_t len)
{
	char *w;

	memcpy(&w, &s, sizeof(w));
	memset(w, 0, len);
}

/* The work list of wipe_tree(). */
struct stack {
	json_object **v;
	size_t n;
};

static void
stack_push(struct stack *st, json_object *o)
{
	st->v = xreallocarray(st->v, st->n + 1, sizeof(json_object *));
	st->v[st->n++] = o;
}

/* Pushes the children of o (an array or an object). */
static void
push_children(struct stack *st, json_object *o)
{
	size_t i, n;

	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			stack_push(st, json_object_array_get_idx(o, i));
		return;
	}
	json_object_object_foreach(o, key, val)
	{
		(void)key;
		stack_push(st, val);
	}
}

/* Wipes every string in the tree; a stack, not recursion, bounds depth. */
static void
wipe_tree(json_object *root)
{
	struct stack st = {
		.v = NULL,
		.n = 0,
	};
	json_object *o;

	stack_push(&st, root);
	while (st.n > 0) {
		o = st.v[--st.n];
		if (json_object_is_type(o, json_type_string))
			wipe_owned(json_object_get_string(o),
			    (size_t)json_object_get_string_len(o));
		else if (json_object_is_type(o, json_type_array) ||
		    json_object_is_type(o, json_type_object))
			push_children(&st, o);
	}
	free(st.v);
}

void
proto_body_wipe(json_object *body)
{
	const char *text;

	if (body == NULL)
		return;
	/*
	 * json-c caches the last serialisation in the root. Serialising
	 * again with jv_to_string()'s flags (those proto_send() uses) writes
	 * the same text into the same buffer, which can then be wiped.
	 */
	text = jv_to_string(body);
	wipe_owned(text, strlen(text));
	wipe_tree(body);
}
