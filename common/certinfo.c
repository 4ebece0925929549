#include "certinfo.h"

#include <stdlib.h>
#include <string.h>

#include "jv.h"
#include "timefmt.h"
#include "xmalloc.h"

void
strv_push(struct strv *sv, const char *s)
{
	sv->v = xreallocarray(sv->v, sv->n + 1, sizeof(*sv->v));
	sv->v[sv->n++] = xstrdup(s);
}

bool
strv_has(const struct strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

static size_t
count(const struct strv *sv, const char *s)
{
	size_t i, n = 0;

	for (i = 0; i < sv->n; i++)
		n += strcmp(sv->v[i], s) == 0;
	return n;
}

bool
strv_equal_set(const struct strv *a, const struct strv *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (count(a, a->v[i]) != count(b, a->v[i]))
			return false;
	return true;
}

void
strv_clear(struct strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

void
certinfo_clear(struct cert_info *ci)
{
	free(ci->name);
	free(ci->file);
	free(ci->ca);
	free(ci->subject);
	free(ci->issuer);
	free(ci->serial);
	free(ci->key_algorithm);
	free(ci->note);
	strv_clear(&ci->dns_names);
	strv_clear(&ci->ip_addresses);
	strv_clear(&ci->key_usages);
	strv_clear(&ci->ext_key_usages);
	memset(ci, 0, sizeof(*ci));
}

struct cert_info *
cert_list_add(struct cert_list *list)
{
	list->v = xreallocarray(list->v, list->n + 1, sizeof(*list->v));
	memset(&list->v[list->n], 0, sizeof(list->v[0]));
	return &list->v[list->n++];
}

const struct cert_info *
cert_list_find(const struct cert_list *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (list->v[i].name != NULL &&
		    strcmp(list->v[i].name, name) == 0)
			return &list->v[i];
	return NULL;
}

void
cert_list_clear(struct cert_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		certinfo_clear(&list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

static json_object *
strv_to_json(const struct strv *sv)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_object_array_add(a, json_object_new_string(sv->v[i]));
	return a;
}

static void
add_time(json_object *o, const char *key, time_t t, bool present)
{
	char when[TIMEFMT_MAX];

	if (!present) {
		jv_add_str(o, key, NULL);
		return;
	}
	timefmt_rfc3339(t, when, sizeof(when));
	jv_add_str(o, key, when);
}

json_object *
certinfo_to_json(const struct cert_info *ci, time_t now)
{
	json_object *o = json_object_new_object();
	bool dated = !ci->missing && ci->not_after != 0;

	jv_add_str(o, "name", ci->name);
	jv_add_str(o, "file", ci->file);
	jv_add_str(o, "ca", ci->ca);
	jv_add_str(o, "subject", ci->subject);
	jv_add_str(o, "issuer", ci->issuer);
	jv_add_str(o, "serial", ci->serial);
	add_time(o, "not_before", ci->not_before, dated);
	add_time(o, "not_after", ci->not_after, dated);
	if (dated)
		jv_add_int(o, "residual_seconds",
		    (int64_t)ci->not_after - (int64_t)now);
	else
		jv_add_str(o, "residual_seconds", NULL);
	jv_add_str(o, "key_algorithm", ci->key_algorithm);
	json_object_object_add(o, "dns_names", strv_to_json(&ci->dns_names));
	json_object_object_add(o, "ip_addresses",
	    strv_to_json(&ci->ip_addresses));
	json_object_object_add(o, "key_usages", strv_to_json(&ci->key_usages));
	json_object_object_add(o, "ext_key_usages",
	    strv_to_json(&ci->ext_key_usages));
	jv_add_bool(o, "is_ca", ci->is_ca);
	jv_add_bool(o, "externally_managed", ci->externally_managed);
	jv_add_bool(o, "missing", ci->missing);
	jv_add_str(o, "note", ci->note);
	return o;
}

/* Copies an optional string field; a present non-string is an error. */
static int
opt_str(json_object *o, const char *key, char **outp)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*outp = xstrdup(json_object_get_string(v));
	return 0;
}

static int
opt_strv(json_object *o, const char *key, struct strv *sv)
{
	json_object *v, *item;
	size_t i, n;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return -1;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(v, i);
		if (item == NULL ||
		    !json_object_is_type(item, json_type_string))
			return -1;
		strv_push(sv, json_object_get_string(item));
	}
	return 0;
}

static int
opt_bool(json_object *o, const char *key, bool *outp)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*outp = json_object_get_boolean(v);
	return 0;
}

static int
opt_time(json_object *o, const char *key, time_t *outp, bool required)
{
	const char *s = NULL;
	json_object *v;
	int64_t ms;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return required ? -1 : 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (timefmt_parse_rfc3339(s, &ms) != CR_OK)
		return -1;
	*outp = (time_t)(ms / 1000);
	return 0;
}

static int
decode_fields(json_object *o, struct cert_info *ci)
{
	if (opt_str(o, "name", &ci->name) == -1 || ci->name == NULL ||
	    opt_str(o, "file", &ci->file) == -1 ||
	    opt_str(o, "ca", &ci->ca) == -1 ||
	    opt_str(o, "subject", &ci->subject) == -1 ||
	    opt_str(o, "issuer", &ci->issuer) == -1 ||
	    opt_str(o, "serial", &ci->serial) == -1 ||
	    opt_str(o, "key_algorithm", &ci->key_algorithm) == -1 ||
	    opt_str(o, "note", &ci->note) == -1 ||
	    opt_bool(o, "missing", &ci->missing) == -1 ||
	    opt_bool(o, "is_ca", &ci->is_ca) == -1 ||
	    opt_bool(o, "externally_managed", &ci->externally_managed) == -1)
		return -1;
	if (opt_strv(o, "dns_names", &ci->dns_names) == -1 ||
	    opt_strv(o, "ip_addresses", &ci->ip_addresses) == -1 ||
	    opt_strv(o, "key_usages", &ci->key_usages) == -1 ||
	    opt_strv(o, "ext_key_usages", &ci->ext_key_usages) == -1)
		return -1;
	if (opt_time(o, "not_before", &ci->not_before, false) == -1 ||
	    opt_time(o, "not_after", &ci->not_after, !ci->missing) == -1)
		return -1;
	return 0;
}

enum cr_err
certinfo_from_json(json_object *obj, struct cert_info *ci)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    decode_fields(obj, ci) == -1) {
		certinfo_clear(ci);
		return CR_ERR_PROTO;
	}
	return CR_OK;
}

json_object *
cert_list_to_json(const struct cert_list *list, time_t now)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < list->n; i++)
		json_object_array_add(a, certinfo_to_json(&list->v[i], now));
	return a;
}

enum cr_err
cert_list_from_json(json_object *arr, struct cert_list *list)
{
	size_t i, n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return CR_ERR_PROTO;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		if (certinfo_from_json(json_object_array_get_idx(arr, i),
			cert_list_add(list)) != CR_OK) {
			cert_list_clear(list);
			return CR_ERR_PROTO;
		}
	}
	return CR_OK;
}
