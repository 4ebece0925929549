/*
 * Inside the inventory component: the group/host model both parsers fill,
 * host-range expansion and the resolver that turns the model into the
 * public struct inv. Only inventory/ and its unit tests include this.
 *
 * The parsers report problems through inv_fail()/inv_hint() into the
 * model's struct inv_diag and never log.
 */
#ifndef CR_INV_INT_H
#define CR_INV_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "inventory.h"

/*
 * Work units one parse may spend (a host in a group, a variable, a group
 * visited, a step of the loop check): guards against YAML alias bombs and
 * quadratic group graphs.
 */
#define INV_MAX_WORK 200000u

/* Distinct groups in one inventory. */
#define INV_MAX_GROUPS 2000u

/* Names of the groups that make a host a control-plane node. */
extern const char *const inv_cp_groups[];

struct inv_pos {
	unsigned line; /* 1-based; 0 when there is no place */
	unsigned column;
};

/* A value as a parser found it. */
struct inv_val {
	const char *str;  /* the text; NULL for null or a non-scalar */
	const char *kind; /* "null", "mapping", "sequence" when str is NULL */
	struct inv_pos pos;
};

struct inv_var {
	char *key;
	char *str; /* NULL for null or a non-scalar (kind says which) */
	const char *kind;
	struct inv_pos pos;
};

struct inv_vars {
	struct inv_var *v;
	size_t n;
};

/* Name -> index hash table over names owned by the groups or hosts. */
struct inv_idx {
	size_t *slots; /* index + 1; 0 marks a free slot */
	size_t cap;
	const char **names; /* borrowed, by index */
	size_t n;
};

struct inv_group {
	char *name;
	struct inv_vars vars;
	size_t *children;
	size_t nchildren;
	size_t *parents;
	size_t nparents;
	size_t *hosts;
	size_t nhosts;
	bool declared; /* INI: has a [name] or [name:children] section */
	struct inv_pos pos;
	unsigned depth; /* longest path from "all", set by the resolver */
};

struct inv_host {
	char *name;
	struct inv_vars vars;
	size_t *groups; /* groups that list the host directly */
	size_t ngroups;
	struct inv_pos pos; /* first appearance */
};

/* The public struct inv: the resolved control-plane nodes. */
struct inv {
	char *source; /* the file name given to inv_load()/inv_parse() */
	struct inv_node *nodes;
	size_t n;
};

struct inv_model {
	const char *file; /* borrowed, for diagnostics */
	struct inv_diag *diag;
	struct inv_group *groups;
	size_t ngroups;
	struct inv_idx group_idx;
	struct inv_host *hosts;
	size_t nhosts;
	struct inv_idx host_idx;
	size_t work;   /* units spent; see INV_MAX_WORK */
	size_t *stack; /* scratch of the loop check, one slot per group */
	bool *seen;
};

/*
 * Returns p, an array of n elements of size bytes that was only ever grown
 * by inv_grow(), with room for at least n + 1: the capacity doubles at
 * powers of two, so appending stays linear (realloc copies under ASan).
 */
void *inv_grow(void *p, size_t n, size_t size);

/* Prepares m; file and diag are borrowed for the model's lifetime. */
void inv_model_init(struct inv_model *m, const char *file,
    struct inv_diag *diag);

/* Releases everything m holds. */
void inv_model_clear(struct inv_model *m);

/*
 * Fills m->diag with the place and message and clears its hint. Pair with
 * inv_hint(), which returns CR_ERR_INVENTORY for "return inv_hint(...)".
 */
void inv_fail(struct inv_model *m, struct inv_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum cr_err inv_hint(struct inv_model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Spends n work units; CR_ERR_INVENTORY (diag filled) past the limit. */
enum cr_err inv_model_work(struct inv_model *m, size_t n,
    struct inv_pos pos) CR_MUST_CHECK;

/*
 * Index of group name in *gp, created (at pos) if new; fails past
 * INV_MAX_GROUPS.
 */
enum cr_err inv_model_group(struct inv_model *m, const char *name,
    struct inv_pos pos, size_t *gp) CR_MUST_CHECK;

/* Index of group name, or (size_t)-1 if there is none. */
size_t inv_model_find_group(const struct inv_model *m, const char *name);

/*
 * Puts host name (created at pos if new) into group g and returns its
 * index in *hostp. Fails past INV_MAX_HOSTS.
 */
enum cr_err inv_model_host(struct inv_model *m, const char *name, size_t g,
    struct inv_pos pos, size_t *hostp) CR_MUST_CHECK;

/* Makes child a child group of parent; fails on a loop or on "all". */
enum cr_err inv_model_child(struct inv_model *m, size_t parent, size_t child,
    struct inv_pos pos) CR_MUST_CHECK;

/*
 * Sets a group or host variable (the strings are copied). Unknown
 * certroll_* names fail; so does a second, different address for a host.
 */
enum cr_err inv_model_group_var(struct inv_model *m, size_t g, const char *key,
    const struct inv_val *val) CR_MUST_CHECK;
enum cr_err inv_model_host_var(struct inv_model *m, size_t h, const char *key,
    const struct inv_val *val) CR_MUST_CHECK;

/*
 * Applies Ansible's rules for "ungrouped" and resolves every control-plane
 * host into a new struct inv. On success *invp must be released with
 * inv_free().
 */
enum cr_err inv_model_resolve(struct inv_model *m,
    struct inv **invp) CR_MUST_CHECK;

/* Releases a node's strings and zeroes it. */
void inv_node_clear(struct inv_node *n);

/*
 * Expands Ansible host ranges ("cp[1:3]", "cp[01:10:2]", "cp-[a:c]",
 * several per name) into the *np names of *namesp. On success *namesp must
 * be released with inv_names_free(). pos is the pattern's place; errors
 * point at the offending '['.
 */
enum cr_err inv_range_expand(struct inv_model *m, const char *pattern,
    struct inv_pos pos, char ***namesp, size_t *np) CR_MUST_CHECK;

/* Frees n strings and the array from inv_range_expand(). */
void inv_names_free(char **names, size_t n);

/* Fills m from INI / YAML text of len bytes (no NUL needed). */
enum cr_err inv_ini_parse(struct inv_model *m, const char *data,
    size_t len) CR_MUST_CHECK;
enum cr_err inv_yaml_parse(struct inv_model *m, const char *data,
    size_t len) CR_MUST_CHECK;

/*
 * The name in names (NULL-terminated) closest to s by edit distance, for
 * "did you mean" hints. Returns one of names; do not free.
 */
const char *inv_closest(const char *s, const char *const *names);

#endif /* CR_INV_INT_H */
