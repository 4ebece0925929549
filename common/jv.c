#include "jv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

/* A tokener for values nested up to depth; like xmalloc(), never NULL. */
static json_tokener *
tokener(int depth)
{
	json_tokener *tok;

	if ((tok = json_tokener_new_ex(depth)) == NULL)
		fatalx("json_tokener_new_ex: out of memory");
	return tok;
}

/*
 * Parses exactly len bytes with tok (see jv_parse()): NULL on success, or
 * what is wrong.
 */
static const char *
parse_with(json_tokener *tok, const char *data, size_t len, json_object **objp)
{
	json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	*objp = NULL;
	if (len > INT32_MAX)
		return "document too large";
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/* Trailing bytes other than whitespace make the document invalid. */
	if (jerr == json_tokener_success && end < len &&
	    strspn(data + end, " \t\r\n") != len - end)
		jerr = json_tokener_error_parse_unexpected;
	if (jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (jerr == json_tokener_success && obj != NULL) {
		*objp = obj;
		return NULL;
	}
	json_object_put(obj);
	return jerr == json_tokener_success ? "null document" :
					      json_tokener_error_desc(jerr);
}

enum cr_err
jv_parse(const char *data, size_t len, json_object **objp, char *errbuf,
    size_t errlen)
{
	json_tokener *tok;
	const char *why;

	*objp = NULL;
	tok = tokener(JSON_TOKENER_DEFAULT_DEPTH);
	why = parse_with(tok, data, len, objp);
	json_tokener_free(tok);
	if (why == NULL)
		return CR_OK;
	if (errbuf != NULL)
		snprintf(errbuf, errlen, "%s", why);
	return CR_ERR_PROTO;
}

/* --- A list read an item at a time ------------------------------------ */

/*
 * A cursor over the document for jv_parse_list()'s fast path. It knows
 * only strict JSON's structure: anything else (json-c's comments and
 * single-quoted strings, a NUL, an escaped key) makes it give up, and the
 * document is parsed whole instead, so both paths accept the same input.
 */
struct scan {
	const char *s;
	size_t n, i;
};

static bool
scan_at(const struct scan *sc, char c)
{
	return sc->i < sc->n && sc->s[sc->i] == c;
}

/* JSON's whitespace (json-c's isspace() takes more: those fall back). */
static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
scan_ws(struct scan *sc)
{
	while (sc->i < sc->n && is_ws(sc->s[sc->i]))
		sc->i++;
}

/* Past the string at sc->i; *escp is set when it holds a backslash. */
static bool
scan_string(struct scan *sc, bool *escp)
{
	char c;

	for (sc->i++; sc->i < sc->n;) {
		c = sc->s[sc->i++];
		if (c == '"')
			return true;
		if (c == '\0')
			return false;
		if (c == '\\') {
			*escp = true;
			sc->i++;
		}
	}
	return false;
}

/* +1 for an opening bracket, -1 for a closing one, else 0. */
static int
bracket(char c)
{
	return (c == '{' || c == '[') - (c == '}' || c == ']');
}

/* Past the object or array at sc->i (its brackets balanced). */
static bool
scan_nested(struct scan *sc)
{
	long depth = 0;
	bool esc = false;

	do {
		if (sc->i >= sc->n || sc->s[sc->i] == '\0' ||
		    strchr("'/", sc->s[sc->i]) != NULL)
			return false;
		if (sc->s[sc->i] == '"') {
			if (!scan_string(sc, &esc))
				return false;
			continue;
		}
		depth += bracket(sc->s[sc->i++]);
	} while (depth > 0);
	return true;
}

/* Past one value at sc->i: a string, an object, an array or a scalar. */
static bool
scan_value(struct scan *sc)
{
	bool esc = false;
	size_t start = sc->i;

	if (scan_at(sc, '"'))
		return scan_string(sc, &esc);
	if (scan_at(sc, '{') || scan_at(sc, '['))
		return scan_nested(sc);
	while (sc->i < sc->n && strchr(",}] \t\r\n", sc->s[sc->i]) == NULL) {
		if (strchr("\"'/{[", sc->s[sc->i]) != NULL)
			return false;
		sc->i++;
	}
	return sc->i > start;
}

/*
 * Moves sc to the next element of the array it is in: past '[' or ','
 * and the whitespace. *endp: the array ended. Elements must be objects.
 */
static bool
scan_element(struct scan *sc, bool first, bool *endp)
{
	scan_ws(sc);
	if ((*endp = scan_at(sc, ']')))
		return true;
	if (!first) {
		if (!scan_at(sc, ','))
			return false;
		sc->i++;
		scan_ws(sc);
	}
	return scan_at(sc, '{');
}

/* Past the array of objects at sc->i. */
static bool
scan_list(struct scan *sc)
{
	bool end = false;

	if (!scan_at(sc, '['))
		return false;
	sc->i++;
	for (bool first = true;; first = false) {
		if (!scan_element(sc, first, &end))
			return false;
		if (end)
			break;
		if (!scan_nested(sc))
			return false;
	}
	sc->i++;
	return true;
}

/* Past a member's key and its ':'; *is_keyp: the key is key. */
static bool
scan_key(struct scan *sc, const char *key, bool *is_keyp)
{
	size_t k0 = sc->i, klen = strlen(key);
	bool esc = false;

	if (!scan_at(sc, '"') || !scan_string(sc, &esc) || esc)
		return false;
	*is_keyp = sc->i - k0 == klen + 2 &&
	    memcmp(sc->s + k0 + 1, key, klen) == 0;
	scan_ws(sc);
	if (!scan_at(sc, ':'))
		return false;
	sc->i++;
	scan_ws(sc);
	return true;
}

/* Past the ',' after a member, or at the object's closing '}'. */
static bool
scan_next_member(struct scan *sc)
{
	scan_ws(sc);
	if (scan_at(sc, ',')) {
		sc->i++;
		scan_ws(sc);
		return true;
	}
	return scan_at(sc, '}');
}

/* Where the list is in the document: [start, end), '[' to past ']'. */
struct span {
	size_t start, end;
	bool found;
};

/* Past one member of the top-level object, noting where key's list is. */
static bool
scan_member(struct scan *sc, const char *key, struct span *list)
{
	bool is_key = false;

	if (!scan_key(sc, key, &is_key))
		return false;
	if (!is_key)
		return scan_value(sc);
	if (list->found)
		return false;
	list->found = true;
	list->start = sc->i;
	if (!scan_list(sc))
		return false;
	list->end = sc->i;
	return true;
}

/*
 * Finds the array that is the value of the top-level member key. False
 * when the fast path does not apply: not an object, key absent, repeated
 * or not an array, an element not an object, or anything the scanner
 * does not know.
 */
static bool
find_list(const char *data, size_t len, const char *key, struct span *list)
{
	struct scan sc = { .s = data, .n = len, .i = 0 };

	memset(list, 0, sizeof(*list));
	scan_ws(&sc);
	if (!scan_at(&sc, '{'))
		return false;
	sc.i++;
	scan_ws(&sc);
	while (!scan_at(&sc, '}'))
		if (!scan_member(&sc, key, list) || !scan_next_member(&sc))
			return false;
	sc.i++;
	scan_ws(&sc);
	return list->found && sc.i == len;
}

/* The slow path: the document parsed whole, then its items handed out. */
static enum cr_err
list_whole(const char *data, size_t len, const struct jv_list *l,
    json_object **restp)
{
	json_object *doc, *items;
	enum cr_err err;
	size_t i, n;

	if ((err = jv_parse(data, len, &doc, l->why, l->whylen)) != CR_OK)
		return err;
	if ((items = jv_arr(doc, l->key)) != NULL) {
		n = json_object_array_length(items);
		for (i = 0; i < n && err == CR_OK; i++)
			err = l->fn(l->arg,
			    json_object_array_get_idx(items, i));
		json_object_object_add(doc, l->key, json_object_new_array());
	}
	if (err != CR_OK)
		json_object_put(doc);
	else
		*restp = doc;
	return err;
}

/* Parses and hands out each element of the list found in data. */
static enum cr_err
list_items(const char *data, const struct span *list, const struct jv_list *l)
{
	struct scan sc = { .s = data, .n = list->end, .i = list->start + 1 };
	json_tokener *tok;
	json_object *item;
	enum cr_err err = CR_OK;
	const char *why;
	size_t i0, idx = 0;
	bool last = false;

	/* Each element sits two levels deep in the whole document. */
	tok = tokener(JSON_TOKENER_DEFAULT_DEPTH - 2);
	for (bool first = true; err == CR_OK; first = false, idx++) {
		if (!scan_element(&sc, first, &last) || last)
			break;
		i0 = sc.i;
		if (!scan_nested(&sc))
			break;
		json_tokener_reset(tok);
		if ((why = parse_with(tok, data + i0, sc.i - i0, &item)) !=
		    NULL) {
			if (l->why != NULL)
				snprintf(l->why, l->whylen, "item %zu: %s", idx,
				    why);
			err = CR_ERR_PROTO;
			break;
		}
		err = l->fn(l->arg, item);
		json_object_put(item);
	}
	json_tokener_free(tok);
	return err;
}

enum cr_err
jv_parse_list(const char *data, size_t len, const struct jv_list *l,
    json_object **restp)
{
	struct span list;
	json_object *rest = NULL;
	struct buf b = BUF_INIT;
	enum cr_err err;

	*restp = NULL;
	if (len > INT32_MAX || !find_list(data, len, l->key, &list))
		return list_whole(data, len, l, restp);
	/* The rest first, with the list emptied: a bad document is refused
	 * before any item is handed out, whenever the fault is outside. */
	buf_put(&b, data, list.start);
	buf_put(&b, "[]", 2);
	buf_put(&b, data + list.end, len - list.end);
	err = jv_parse((const char *)b.data, b.len, &rest, l->why, l->whylen);
	buf_clear(&b);
	if (err == CR_OK)
		err = list_items(data, &list, l);
	if (err != CR_OK)
		json_object_put(rest);
	else
		*restp = rest;
	return err;
}

json_object *
jv_path(json_object *obj, const char *path)
{
	char key[256];
	const char *dot;
	size_t n;

	while (obj != NULL && *path != '\0') {
		if (!json_object_is_type(obj, json_type_object))
			return NULL;
		dot = strchr(path, '.');
		n = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(obj, key, &obj))
			return NULL;
		path += n + (dot != NULL);
	}
	return obj;
}

const char *
jv_str(json_object *obj, const char *path)
{
	json_object *v = jv_path(obj, path);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

json_object *
jv_obj(json_object *obj, const char *path)
{
	json_object *v = jv_path(obj, path);

	return v != NULL && json_object_is_type(v, json_type_object) ? v : NULL;
}

json_object *
jv_arr(json_object *obj, const char *path)
{
	json_object *v = jv_path(obj, path);

	return v != NULL && json_object_is_type(v, json_type_array) ? v : NULL;
}

bool
jv_int(json_object *obj, const char *path, int64_t *vp)
{
	json_object *v = jv_path(obj, path);
	const char *s;
	char *end;
	long long n;

	if (v == NULL)
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*vp = json_object_get_int64(v);
		return true;
	}
	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		return false;
	*vp = n;
	return true;
}

bool
jv_bool(json_object *obj, const char *path)
{
	json_object *v = jv_path(obj, path);

	return v != NULL && json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
}

void
jv_add_str(json_object *obj, const char *key, const char *val)
{
	json_object_object_add(obj, key,
	    val != NULL ? json_object_new_string(val) : NULL);
}

void
jv_add_int(json_object *obj, const char *key, int64_t val)
{
	json_object_object_add(obj, key, json_object_new_int64(val));
}

void
jv_add_bool(json_object *obj, const char *key, bool val)
{
	json_object_object_add(obj, key, json_object_new_boolean(val));
}

const char *
jv_to_string(json_object *obj)
{
	return json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

const char *
jv_to_pretty(json_object *obj)
{
	return json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		JSON_C_TO_STRING_NOSLASHESCAPE);
}
