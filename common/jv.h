/*
 * Small helpers over json-c for reading documents from peers we do not
 * trust (the agent, the Kubernetes API, etcd's gateway). Every getter
 * checks the type and returns "absent" for a wrong one, so a hostile
 * document cannot make a caller misread a field.
 *
 * Ownership follows json-c: getters return borrowed pointers that live as
 * long as the document; jv_parse() gives the caller one reference, released
 * with json_object_put().
 */
#ifndef CR_JV_H
#define CR_JV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

/*
 * Parses exactly len bytes as one JSON value. On failure returns
 * CR_ERR_PROTO and, if errbuf is not NULL, a description (json-c's
 * tokener error) in errbuf. On success *objp must be released with
 * json_object_put().
 */
enum cr_err jv_parse(const char *data, size_t len, json_object **objp,
    char *errbuf, size_t errlen) CR_MUST_CHECK;

/* Called with each item of a list (borrowed: take a reference to keep it). */
typedef enum cr_err (*jv_item_fn)(void *arg, json_object *item);

/* What jv_parse_list() reads and where its items go. */
struct jv_list {
	const char *key; /* the top-level member holding the list: "items" */
	jv_item_fn fn;
	void *arg;
	char *why; /* what is wrong with the document, or NULL */
	size_t whylen;
};

/*
 * jv_parse() of an object whose top-level member l->key is a long array
 * (a Kubernetes list's "items"), without holding the whole array at once:
 * each element is parsed and handed to l->fn in turn, then freed. *restp
 * becomes the rest of the document with the array emptied (or the member
 * as the document has it when it is not an array). Accepts and refuses
 * exactly the documents jv_parse() does. The rest is checked before any
 * item is handed out, but a bad item stops the list after fn saw those
 * before it. fn's error stops the list and is returned as is.
 */
enum cr_err jv_parse_list(const char *data, size_t len, const struct jv_list *l,
    json_object **restp) CR_MUST_CHECK;

/*
 * Looks up a dotted path ("metadata.name", "status.conditions") from obj.
 * Returns a borrowed pointer or NULL when any step is missing or not an
 * object.
 */
json_object *jv_path(json_object *obj, const char *path);

/* The string at path, or NULL if absent or not a string. Borrowed. */
const char *jv_str(json_object *obj, const char *path);

/* The object / array at path, or NULL if absent or of another type. */
json_object *jv_obj(json_object *obj, const char *path);
json_object *jv_arr(json_object *obj, const char *path);

/*
 * The integer at path: a JSON integer or a decimal string (etcd's gateway
 * writes 64-bit numbers as strings). Returns false and leaves *vp alone
 * when absent or malformed.
 */
bool jv_int(json_object *obj, const char *path, int64_t *vp);

/* The boolean at path; false when absent or not a boolean. */
bool jv_bool(json_object *obj, const char *path);

/* Adds key with a new string value (a NULL value adds JSON null). */
void jv_add_str(json_object *obj, const char *key, const char *val);
void jv_add_int(json_object *obj, const char *key, int64_t val);
void jv_add_bool(json_object *obj, const char *key, bool val);

/* Serialises obj compactly; the string is owned by obj. */
const char *jv_to_string(json_object *obj);

/* Serialises obj with two-space indentation; owned by obj. */
const char *jv_to_pretty(json_object *obj);

#endif /* CR_JV_H */
