#include "jv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Parses exactly len bytes with tok (see jv_parse()). */
static enum cr_err
parse_with(json_tokener *tok, const char *data, size_t len, json_object **objp,
    char *errbuf, size_t errlen)
{
	json_object *obj;
	enum json_tokener_error jerr;

	*objp = NULL;
	if (len > INT32_MAX) {
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "document too large");
		return CR_ERR_PROTO;
	}
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	/* Trailing bytes other than whitespace make the document invalid. */
	if (jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) < len &&
	    strspn(data + json_tokener_get_parse_end(tok), " \t\r\n") !=
		len - json_tokener_get_parse_end(tok))
		jerr = json_tokener_error_parse_unexpected;
	if (jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (jerr != json_tokener_success || obj == NULL) {
		json_object_put(obj);
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "%s",
			    obj == NULL && jerr == json_tokener_success ?
				"null document" :
				json_tokener_error_desc(jerr));
		return CR_ERR_PROTO;
	}
	*objp = obj;
	return CR_OK;
}

enum cr_err
jv_parse(const char *data, size_t len, json_object **objp, char *errbuf,
    size_t errlen)
{
	json_tokener *tok;
	enum cr_err err;

	*objp = NULL;
	if ((tok = json_tokener_new()) == NULL)
		return CR_ERR_SYS;
	err = parse_with(tok, data, len, objp, errbuf, errlen);
	json_tokener_free(tok);
	return err;
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

/* Past the object or array at sc->i (its brackets balanced). */
static bool
scan_nested(struct scan *sc)
{
	size_t depth = 0;
	bool esc = false;
	char c;

	do {
		if (sc->i >= sc->n)
			return false;
		c = sc->s[sc->i];
		if (c == '"') {
			if (!scan_string(sc, &esc))
				return false;
			continue;
		}
		if (c == '\'' || c == '/' || c == '\0')
			return false;
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		sc->i++;
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

/*
 * Finds the array that is the value of the top-level member key: *startp
 * at its '[' and *endp past its ']'. False when the fast path does not
 * apply: not an object, key absent, repeated or not an array, an element
 * not an object, or anything the scanner does not know.
 */
static bool
find_list(const char *data, size_t len, const char *key, size_t *startp,
    size_t *endp)
{
	struct scan sc = { .s = data, .n = len, .i = 0 };
	size_t klen = strlen(key), k0;
	bool esc = false, found = false, is_key, end;

	scan_ws(&sc);
	if (!scan_at(&sc, '{'))
		return false;
	sc.i++;
	scan_ws(&sc);
	while (!scan_at(&sc, '}')) {
		k0 = sc.i;
		if (!scan_at(&sc, '"') || !scan_string(&sc, &esc) || esc)
			return false;
		is_key = sc.i - k0 == klen + 2 &&
		    memcmp(data + k0 + 1, key, klen) == 0;
		scan_ws(&sc);
		if (!scan_at(&sc, ':'))
			return false;
		sc.i++;
		scan_ws(&sc);
		if (is_key) {
			if (found || !scan_at(&sc, '['))
				return false;
			found = true;
			*startp = sc.i;
			sc.i++;
			for (bool first = true;; first = false) {
				if (!scan_element(&sc, first, &end))
					return false;
				if (end)
					break;
				if (!scan_nested(&sc))
					return false;
			}
			sc.i++;
			*endp = sc.i;
		} else if (!scan_value(&sc))
			return false;
		scan_ws(&sc);
		if (scan_at(&sc, ','))
			sc.i++;
		else if (!scan_at(&sc, '}'))
			return false;
		scan_ws(&sc);
	}
	sc.i++;
	scan_ws(&sc);
	return found && sc.i == len;
}

/* The slow path: the document parsed whole, then its items handed out. */
static enum cr_err
list_whole(const char *data, size_t len, const char *key, jv_item_fn fn,
    void *arg, json_object **restp, char *errbuf, size_t errlen)
{
	json_object *doc, *items;
	enum cr_err err;
	size_t i, n;

	if ((err = jv_parse(data, len, &doc, errbuf, errlen)) != CR_OK)
		return err;
	if ((items = jv_arr(doc, key)) != NULL) {
		n = json_object_array_length(items);
		for (i = 0; i < n && err == CR_OK; i++)
			err = fn(arg, json_object_array_get_idx(items, i));
		json_object_object_add(doc, key, json_object_new_array());
	}
	if (err != CR_OK)
		json_object_put(doc);
	else
		*restp = doc;
	return err;
}

/* Parses and hands out each element of the array data[start, end). */
static enum cr_err
list_items(const char *data, size_t start, size_t end, jv_item_fn fn, void *arg,
    char *errbuf, size_t errlen)
{
	struct scan sc = { .s = data, .n = end, .i = start + 1 };
	json_tokener *tok;
	json_object *item;
	enum cr_err err = CR_OK;
	size_t i0, idx = 0;
	char why[96];
	bool last;

	/* Each element sits two levels deep in the whole document. */
	if ((tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH - 2)) == NULL)
		return CR_ERR_SYS;
	for (bool first = true; err == CR_OK; first = false, idx++) {
		if (!scan_element(&sc, first, &last) || last)
			break;
		i0 = sc.i;
		if (!scan_nested(&sc))
			break;
		json_tokener_reset(tok);
		err = parse_with(tok, data + i0, sc.i - i0, &item, why,
		    sizeof(why));
		if (err != CR_OK) {
			if (errbuf != NULL)
				snprintf(errbuf, errlen, "item %zu: %s", idx,
				    why);
			break;
		}
		err = fn(arg, item);
		json_object_put(item);
	}
	json_tokener_free(tok);
	return err;
}

enum cr_err
jv_parse_list(const char *data, size_t len, const char *key, jv_item_fn fn,
    void *arg, json_object **restp, char *errbuf, size_t errlen)
{
	size_t start = 0, end = 0;
	json_object *rest = NULL;
	struct buf b = BUF_INIT;
	enum cr_err err;

	*restp = NULL;
	if (len > INT32_MAX || !find_list(data, len, key, &start, &end))
		return list_whole(data, len, key, fn, arg, restp, errbuf,
		    errlen);
	/* The rest first, with the list emptied: a bad document is refused
	 * before any item is handed out, whenever the fault is outside. */
	buf_put(&b, data, start);
	buf_put(&b, "[]", 2);
	buf_put(&b, data + end, len - end);
	err = jv_parse((const char *)b.data, b.len, &rest, errbuf, errlen);
	buf_clear(&b);
	if (err == CR_OK)
		err = list_items(data, start, end, fn, arg, errbuf, errlen);
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
