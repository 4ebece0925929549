/*
 * A YAML document tree over libyaml, for the small YAML files certroll
 * reads and rewrites: inventories, kubeconfigs, kubeadm's and the kubelet's
 * configuration.
 *
 * Every node remembers its line and column (1-based) so parsers built on
 * top can report FILE:LINE:COL. All nodes belong to the struct ydoc and are
 * released together by ydoc_free(); aliases point at their anchor's node.
 * Limits (nesting depth, node count) guard against hostile input.
 *
 *	struct ydoc *doc;
 *	struct ydoc_diag diag;
 *	if (ydoc_parse(data, len, &doc, &diag) != CR_OK)
 *		warnx("%s:%u:%u: %s", path, diag.line, diag.col, diag.msg);
 *	const struct ydoc_node *root = ydoc_root(doc, 0);
 *	const char *server = ydoc_scalar(ydoc_get(root, "server"));
 */
#ifndef CR_YDOC_H
#define CR_YDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define YDOC_MAX_DEPTH 64
#define YDOC_MAX_NODES 200000

enum ydoc_type {
	YDOC_SCALAR = 0,
	YDOC_SEQ,
	YDOC_MAP,
};

struct ydoc_node;

struct ydoc_pair {
	struct ydoc_node *key;
	struct ydoc_node *val;
};

struct ydoc_node {
	enum ydoc_type type;
	unsigned line;
	unsigned col;
	/* Scalars: the value (NUL-terminated; len excludes the NUL). */
	char *value;
	size_t len;
	bool quoted; /* single, double, literal or folded style */
	/* Sequences. */
	struct ydoc_node **items;
	size_t nitems;
	/* Mappings, in document order. */
	struct ydoc_pair *pairs;
	size_t npairs;
};

struct ydoc;

struct ydoc_diag {
	unsigned line;
	unsigned col;
	char msg[160];
};

/*
 * Parses every document in data. On success *docp must be released with
 * ydoc_free(). On failure returns CR_ERR_CONFIG and fills diag (when not
 * NULL) with the position and libyaml's problem, or the limit exceeded.
 */
enum cr_err ydoc_parse(const char *data, size_t len, struct ydoc **docp,
    struct ydoc_diag *diag) CR_MUST_CHECK;

/* Passing NULL is a no-op. Scalars are wiped (kubeconfigs hold keys). */
void ydoc_free(struct ydoc *doc);

/* Number of documents; an empty stream has none. */
size_t ydoc_count(const struct ydoc *doc);

/* Root node of document i, or NULL if i is out of range. */
struct ydoc_node *ydoc_root(const struct ydoc *doc, size_t i);

/*
 * The value for key in a mapping (the last one if the key repeats), or NULL
 * if map is NULL, not a mapping, or has no such scalar key.
 */
struct ydoc_node *ydoc_get(const struct ydoc_node *map, const char *key);

/* The pair holding key (last one), or NULL; for reporting the key's line. */
const struct ydoc_pair *ydoc_get_pair(const struct ydoc_node *map,
    const char *key);

/* The scalar's text, or NULL if node is NULL or not a scalar. */
const char *ydoc_scalar(const struct ydoc_node *node);

/* True for a plain "", "~", "null", "Null" or "NULL" scalar. */
bool ydoc_is_null(const struct ydoc_node *node);

/*
 * Reads a YAML 1.1 boolean as Ansible does (true/false, yes/no, on/off in
 * any case; quoted strings too). Returns false if node is not one.
 */
bool ydoc_bool(const struct ydoc_node *node, bool *outp);

/* Human name of a node type ("mapping", "sequence", "scalar"). */
const char *ydoc_type_name(enum ydoc_type type);

/*
 * Sets key in map to a new scalar value, replacing the existing value node
 * (of any type) or appending a pair. The strings are copied; quoted forces
 * a quoted style on output. map must be a mapping of doc.
 */
void ydoc_set_scalar(struct ydoc *doc, struct ydoc_node *map, const char *key,
    const char *value, bool quoted);

/* Removes key from map if present. Returns true if it was there. */
bool ydoc_remove(struct ydoc_node *map, const char *key);

/*
 * Writes every document as YAML to out (block style, keys in their
 * original order). Returns CR_ERR_CONFIG if libyaml's emitter fails.
 */
enum cr_err ydoc_emit(const struct ydoc *doc, struct buf *out) CR_MUST_CHECK;

#endif /* CR_YDOC_H */
