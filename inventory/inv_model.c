/*
 * The group/host model both inventory parsers fill: groups with their
 * variables, children and hosts, hosts with their variables, each with the
 * place it was written for diagnostics.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_int.h"
#include "xmalloc.h"

/* The certroll_* variables; any other certroll_* name is a typo. */
static const char *const certroll_vars[] = {
	"certroll_node_name",
	"certroll_kubernetes_dir",
	NULL,
};

void *
inv_grow(void *p, size_t n, size_t size)
{
	if (n != 0 && (n & (n - 1)) != 0)
		return p;
	return xreallocarray(p, n == 0 ? 1 : n * 2, size);
}

void
inv_model_init(struct inv_model *m, const char *file, struct inv_diag *diag)
{
	memset(m, 0, sizeof(*m));
	m->file = file;
	m->diag = diag;
}

static void
vars_clear(struct inv_vars *vars)
{
	size_t i;

	for (i = 0; i < vars->n; i++) {
		free(vars->v[i].key);
		free(vars->v[i].str);
	}
	free(vars->v);
}

void
inv_model_clear(struct inv_model *m)
{
	size_t i;

	for (i = 0; i < m->ngroups; i++) {
		struct inv_group *g = &m->groups[i];

		free(g->name);
		vars_clear(&g->vars);
		free(g->children);
		free(g->parents);
		free(g->hosts);
	}
	for (i = 0; i < m->nhosts; i++) {
		free(m->hosts[i].name);
		vars_clear(&m->hosts[i].vars);
		free(m->hosts[i].groups);
	}
	free(m->groups);
	free(m->hosts);
	free(m->group_idx.slots);
	free(m->group_idx.names);
	free(m->host_idx.slots);
	free(m->host_idx.names);
	free(m->stack);
	free(m->seen);
	memset(m, 0, sizeof(*m));
}

void
inv_fail(struct inv_model *m, struct inv_pos pos, const char *fmt, ...)
{
	va_list ap;

	snprintf(m->diag->file, sizeof(m->diag->file), "%s", m->file);
	m->diag->line = pos.line;
	m->diag->column = pos.column;
	va_start(ap, fmt);
	vsnprintf(m->diag->msg, sizeof(m->diag->msg), fmt, ap);
	va_end(ap);
	m->diag->hint[0] = '\0';
}

enum cr_err
inv_hint(struct inv_model *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->diag->hint, sizeof(m->diag->hint), fmt, ap);
	va_end(ap);
	return CR_ERR_INVENTORY;
}

enum cr_err
inv_model_work(struct inv_model *m, size_t n, struct inv_pos pos)
{
	m->work += n;
	if (m->work <= INV_MAX_WORK)
		return CR_OK;
	inv_fail(m, pos,
	    "inventory too large to resolve (aliases or ranges "
	    "expand to too many entries)");
	return inv_hint(m,
	    "certroll reads at most %u hosts; split the "
	    "inventory or remove repeated YAML aliases",
	    INV_MAX_HOSTS);
}

/* FNV-1a; the index only needs a cheap, stable spread. */
static size_t
hash_name(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot holding name, or the free slot where it would go. */
static size_t *
idx_slot(const struct inv_idx *idx, const char *name)
{
	size_t mask = idx->cap - 1, i = hash_name(name) & mask;

	while (idx->slots[i] != 0 &&
	    strcmp(idx->names[idx->slots[i] - 1], name) != 0)
		i = (i + 1) & mask;
	return &idx->slots[i];
}

/* Returns the index name was added under, or (size_t)-1. */
static size_t
idx_find(const struct inv_idx *idx, const char *name)
{
	size_t *slot;

	if (idx->cap == 0)
		return (size_t)-1;
	slot = idx_slot(idx, name);
	return *slot != 0 ? *slot - 1 : (size_t)-1;
}

/* Adds name (borrowed) as index idx->n; grows the table at half load. */
static void
idx_add(struct inv_idx *idx, const char *name)
{
	size_t i;

	idx->names = inv_grow(idx->names, idx->n, sizeof(*idx->names));
	idx->names[idx->n++] = name;
	if (idx->n * 2 > idx->cap) {
		free(idx->slots);
		idx->cap = idx->cap == 0 ? 64 : idx->cap * 2;
		idx->slots = xcalloc(idx->cap, sizeof(*idx->slots));
		for (i = 0; i + 1 < idx->n; i++)
			*idx_slot(idx, idx->names[i]) = i + 1;
	}
	*idx_slot(idx, name) = idx->n;
}

size_t
inv_model_find_group(const struct inv_model *m, const char *name)
{
	return idx_find(&m->group_idx, name);
}

enum cr_err
inv_model_group(struct inv_model *m, const char *name, struct inv_pos pos,
    size_t *gp)
{
	struct inv_group *grp;

	if ((*gp = inv_model_find_group(m, name)) != (size_t)-1)
		return CR_OK;
	if (m->ngroups >= INV_MAX_GROUPS) {
		inv_fail(m, pos, "more than %u groups", INV_MAX_GROUPS);
		return inv_hint(m,
		    "certroll needs only the control-plane "
		    "groups; give it a smaller inventory");
	}
	m->groups = inv_grow(m->groups, m->ngroups, sizeof(*m->groups));
	grp = &m->groups[m->ngroups++];
	memset(grp, 0, sizeof(*grp));
	grp->name = xstrdup(name);
	grp->pos = pos;
	idx_add(&m->group_idx, grp->name);
	*gp = m->ngroups - 1;
	return CR_OK;
}

static bool
has_index(const size_t *v, size_t n, size_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void
push_index(size_t **vp, size_t *np, size_t x)
{
	*vp = inv_grow(*vp, *np, sizeof(**vp));
	(*vp)[(*np)++] = x;
}

enum cr_err
inv_model_host(struct inv_model *m, const char *name, size_t g,
    struct inv_pos pos, size_t *hostp)
{
	size_t h = idx_find(&m->host_idx, name);
	struct inv_host *host;
	enum cr_err err;

	if (h == (size_t)-1) {
		if (m->nhosts >= INV_MAX_HOSTS) {
			inv_fail(m, pos, "more than %u hosts", INV_MAX_HOSTS);
			return inv_hint(m,
			    "certroll needs only the control-plane "
			    "hosts; give it a smaller inventory");
		}
		m->hosts = inv_grow(m->hosts, m->nhosts, sizeof(*m->hosts));
		host = &m->hosts[m->nhosts++];
		memset(host, 0, sizeof(*host));
		host->name = xstrdup(name);
		host->pos = pos;
		idx_add(&m->host_idx, host->name);
		h = m->nhosts - 1;
	}
	host = &m->hosts[h];
	if ((err = inv_model_work(m, 1, pos)) != CR_OK)
		return err;
	if (!has_index(host->groups, host->ngroups, g)) {
		push_index(&host->groups, &host->ngroups, g);
		push_index(&m->groups[g].hosts, &m->groups[g].nhosts, h);
	}
	*hostp = h;
	return CR_OK;
}

/*
 * Sets *foundp if to is from or one of its descendants. Each group visited
 * costs a work unit, so a hostile graph cannot make this quadratic.
 */
static enum cr_err
reaches(struct inv_model *m, size_t from, size_t to, struct inv_pos pos,
    bool *foundp)
{
	size_t n = 0, g, i;
	enum cr_err err = CR_OK;

	m->stack = xreallocarray(m->stack, m->ngroups, sizeof(*m->stack));
	m->seen = xreallocarray(m->seen, m->ngroups, sizeof(*m->seen));
	memset(m->seen, 0, m->ngroups * sizeof(*m->seen));
	*foundp = false;
	m->stack[n++] = from;
	m->seen[from] = true;
	while (n > 0 && !*foundp && err == CR_OK) {
		g = m->stack[--n];
		*foundp = g == to;
		err = inv_model_work(m, 1, pos);
		for (i = 0; i < m->groups[g].nchildren; i++) {
			size_t c = m->groups[g].children[i];

			if (!m->seen[c]) {
				m->seen[c] = true;
				m->stack[n++] = c;
			}
		}
	}
	return err;
}

enum cr_err
inv_model_child(struct inv_model *m, size_t parent, size_t child,
    struct inv_pos pos)
{
	struct inv_group *p = &m->groups[parent], *c = &m->groups[child];
	enum cr_err err;
	bool loop;

	if (strcmp(c->name, "all") == 0) {
		inv_fail(m, pos, "group 'all' cannot be a child of '%s'",
		    p->name);
		return inv_hint(m,
		    "every group is already inside 'all'; "
		    "remove this entry");
	}
	if (has_index(p->children, p->nchildren, child))
		return CR_OK;
	if ((err = reaches(m, child, parent, pos, &loop)) != CR_OK)
		return err;
	if (loop) {
		inv_fail(m, pos,
		    "group '%s' cannot be a child of '%s': '%s' "
		    "already contains '%s'",
		    c->name, p->name, c->name, p->name);
		return inv_hint(m,
		    "group children must not form a loop; "
		    "remove one of the two entries");
	}
	push_index(&p->children, &p->nchildren, child);
	push_index(&c->parents, &c->nparents, parent);
	return CR_OK;
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, diag, up;
	size_t *row = xcalloc(lb + 1, sizeof(*row));
	size_t best;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	best = row[lb];
	free(row);
	return best;
}

const char *
inv_closest(const char *s, const char *const *names)
{
	const char *best = names[0];
	size_t i, d, bestd = (size_t)-1;

	for (i = 0; names[i] != NULL; i++) {
		d = edit_distance(s, names[i]);
		if (d < bestd) {
			bestd = d;
			best = names[i];
		}
	}
	return best;
}

static enum cr_err
check_name(struct inv_model *m, const char *key, const struct inv_val *val)
{
	size_t i;

	if (strncmp(key, "certroll_", 9) != 0)
		return CR_OK;
	for (i = 0; certroll_vars[i] != NULL; i++)
		if (strcmp(key, certroll_vars[i]) == 0)
			return CR_OK;
	inv_fail(m, val->pos, "unknown certroll variable '%s'", key);
	return inv_hint(m, "did you mean '%s'? certroll knows %s and %s",
	    inv_closest(key, certroll_vars), certroll_vars[0],
	    certroll_vars[1]);
}

static void
vars_add(struct inv_vars *vars, const char *key, const struct inv_val *val)
{
	struct inv_var *v;

	vars->v = inv_grow(vars->v, vars->n, sizeof(*vars->v));
	v = &vars->v[vars->n++];
	v->key = xstrdup(key);
	v->str = val->str != NULL ? xstrdup(val->str) : NULL;
	v->kind = val->str != NULL ? "scalar" : val->kind;
	v->pos = val->pos;
}

enum cr_err
inv_model_group_var(struct inv_model *m, size_t g, const char *key,
    const struct inv_val *val)
{
	enum cr_err err;

	if ((err = check_name(m, key, val)) != CR_OK ||
	    (err = inv_model_work(m, 1, val->pos)) != CR_OK)
		return err;
	vars_add(&m->groups[g].vars, key, val);
	return CR_OK;
}

static bool
is_address_var(const char *key)
{
	return strcmp(key, "ansible_host") == 0 ||
	    strcmp(key, "ansible_ssh_host") == 0;
}

/* A host written twice with two addresses is two machines under one name. */
static enum cr_err
check_address(struct inv_model *m, size_t h, const char *key,
    const struct inv_val *val)
{
	const struct inv_host *host = &m->hosts[h];
	const struct inv_var *v;
	size_t i;

	if (!is_address_var(key) || val->str == NULL)
		return CR_OK;
	for (i = 0; i < host->vars.n; i++) {
		v = &host->vars.v[i];
		/* One line may set both names; Ansible then uses the last. */
		if (!is_address_var(v->key) || v->str == NULL ||
		    v->pos.line == val->pos.line ||
		    strcmp(v->str, val->str) == 0)
			continue;
		inv_fail(m, val->pos,
		    "host '%s' has address '%s' here but '%s' at line %u",
		    host->name, val->str, v->str, v->pos.line);
		return inv_hint(m,
		    "one inventory name is one machine: keep "
		    "one address, or give the other machine "
		    "its own name");
	}
	return CR_OK;
}

enum cr_err
inv_model_host_var(struct inv_model *m, size_t h, const char *key,
    const struct inv_val *val)
{
	enum cr_err err;

	if ((err = check_name(m, key, val)) != CR_OK ||
	    (err = check_address(m, h, key, val)) != CR_OK ||
	    (err = inv_model_work(m, 1, val->pos)) != CR_OK)
		return err;
	vars_add(&m->hosts[h].vars, key, val);
	return CR_OK;
}
