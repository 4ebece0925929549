#include "jv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cr_err
jv_parse(const char *data, size_t len, json_object **objp, char *errbuf,
    size_t errlen)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;

	*objp = NULL;
	if (len > INT32_MAX) {
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "document too large");
		return CR_ERR_PROTO;
	}
	if ((tok = json_tokener_new()) == NULL)
		return CR_ERR_SYS;
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
	json_tokener_free(tok);
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
