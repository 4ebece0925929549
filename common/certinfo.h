/*
 * What certroll knows about one certificate, as data: filled by the agent's
 * inspection (cert.h), carried in protocol replies, printed by both
 * programs. No OpenSSL here, so the codec and its fuzz target stay pure.
 *
 * JSON form (the agent's "inspect -o json" and the INSPECT reply):
 * {"name","file","ca","subject","issuer","serial","not_before","not_after",
 *  "residual_seconds","key_algorithm","dns_names":[],"ip_addresses":[],
 *  "key_usages":[],"ext_key_usages":[],"is_ca","externally_managed",
 *  "missing","note"}
 * Times are RFC 3339 UTC; residual_seconds is not_after minus the "now"
 * given to the encoder (so every row of one report uses one clock reading).
 */
#ifndef CR_CERTINFO_H
#define CR_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "err.h"

struct strv {
	char **v;
	size_t n;
};

struct cert_info {
	char *name;          /* kubeadm's name: "apiserver", "admin.conf" */
	char *file;          /* the file read */
	char *ca;            /* signing CA's name; NULL for a CA */
	char *subject;       /* "O=system:masters, CN=kube-apiserver-..." */
	char *issuer;        /* same format */
	char *serial;        /* upper-case hex, no separators */
	time_t not_before;   /* seconds since the epoch */
	time_t not_after;    /* seconds since the epoch */
	char *key_algorithm; /* "RSA-2048", "ECDSA-P256", "Ed25519" */
	struct strv dns_names;
	struct strv ip_addresses;
	struct strv key_usages;     /* "digitalSignature", "keyCertSign" */
	struct strv ext_key_usages; /* "serverAuth", "clientAuth" */
	bool is_ca;
	bool externally_managed; /* its CA's key is absent */
	bool missing;            /* the file does not exist */
	char *note;              /* operator-facing remark, or NULL */
};

struct cert_list {
	struct cert_info *v;
	size_t n;
};

/* Appends a copy of s. */
void strv_push(struct strv *sv, const char *s);
/* True if sv holds s. */
bool strv_has(const struct strv *sv, const char *s);
/* True if both hold the same strings in any order (duplicates count). */
bool strv_equal_set(const struct strv *a, const struct strv *b);
/* Releases the strings and resets sv. */
void strv_clear(struct strv *sv);

/* Releases the members of ci and zeroes it; the struct itself is not freed. */
void certinfo_clear(struct cert_info *ci);

/* Appends a zeroed entry to list and returns it. */
struct cert_info *cert_list_add(struct cert_list *list);

/* Finds the entry called name, or NULL. */
const struct cert_info *cert_list_find(const struct cert_list *list,
    const char *name);

/* Releases every entry and resets list. */
void cert_list_clear(struct cert_list *list);

/*
 * Encodes ci as a new JSON object (see the form above); now is the clock
 * reading residual_seconds is computed from. The caller owns the result.
 * See certinfo_from_json() for the other side.
 */
json_object *certinfo_to_json(const struct cert_info *ci, time_t now);

/*
 * Decodes one JSON object into *ci (which must be zeroed). Requires "name"
 * and, unless "missing" is true, "not_after"; other fields are optional.
 * Returns CR_ERR_PROTO for a wrong type or a malformed time and leaves *ci
 * cleared. See certinfo_to_json().
 */
enum cr_err certinfo_from_json(json_object *obj,
    struct cert_info *ci) CR_MUST_CHECK;

/* Encodes / decodes a whole list as a JSON array. */
json_object *cert_list_to_json(const struct cert_list *list, time_t now);
enum cr_err cert_list_from_json(json_object *arr,
    struct cert_list *list) CR_MUST_CHECK;

#endif /* CR_CERTINFO_H */
