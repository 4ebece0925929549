/*
 * Ansible's YAML inventory (ansible/plugins/inventory/yaml.py), which is
 * also Kubespray's inventory/<cluster>/hosts.yaml:
 *
 *	all:
 *	  hosts:
 *	    cp1: {ansible_host: 10.0.0.11}
 *	  children:
 *	    kube_control_plane: {hosts: {cp1: }}
 *	    k8s_cluster: {children: {kube_control_plane: , kube_node: }}
 *	  vars: {ansible_user: deploy}
 *
 * Every top-level key is a group; a group holds hosts, children and vars,
 * each a mapping (a single name as a plain string is accepted, as in
 * Ansible). Host names may carry ranges. Unlike Ansible, which only warns,
 * a group that is not a mapping or a key other than hosts, children and
 * vars is an error: a typo there would silently drop hosts.
 */
#include <stdio.h>
#include <string.h>

#include "inv_int.h"
#include "ydoc.h"

/* Group nesting deeper than this is an alias loop, not an inventory. */
#define YAML_MAX_GROUP_DEPTH 64

struct yaml {
	struct inv_model *m;
};

static const char *const group_keys[] = { "hosts", "children", "vars", NULL };

static struct inv_pos
node_pos(const struct ydoc_node *n)
{
	struct inv_pos pos = { n->line, n->col };

	return pos;
}

/* How a node reads in a message: its kind, or "null" for an empty one. */
static const char *
kind_of(const struct ydoc_node *n)
{
	return ydoc_is_null(n) ? "null" : ydoc_type_name(n->type);
}

static void
val_of(const struct ydoc_node *key, const struct ydoc_node *n,
    struct inv_val *val)
{
	memset(val, 0, sizeof(*val));
	val->pos = node_pos(key);
	if (n == NULL || ydoc_is_null(n)) {
		val->kind = "null";
	} else if (n->type == YDOC_SCALAR) {
		val->str = n->value;
	} else {
		val->kind = ydoc_type_name(n->type);
	}
}

static enum cr_err
need_scalar_key(struct yaml *p, const struct ydoc_node *key, const char *what)
{
	if (key->type == YDOC_SCALAR)
		return CR_OK;
	inv_fail(p->m, node_pos(key), "%s must be a name, found a %s", what,
	    ydoc_type_name(key->type));
	return inv_hint(p->m, "write the name as a plain key ending in ':'");
}

/* Variables of a host (h != -1) or of group g. */
static enum cr_err
vars_of(struct yaml *p, const struct ydoc_node *map, size_t g, size_t h)
{
	struct inv_val val;
	enum cr_err err = CR_OK;
	size_t i;

	for (i = 0; i < map->npairs && err == CR_OK; i++) {
		const struct ydoc_pair *pair = &map->pairs[i];

		if ((err = need_scalar_key(p, pair->key, "a variable")) !=
		    CR_OK)
			break;
		val_of(pair->key, pair->val, &val);
		if (h != (size_t)-1)
			err = inv_model_host_var(p->m, h, pair->key->value,
			    &val);
		else
			err = inv_model_group_var(p->m, g, pair->key->value,
			    &val);
	}
	return err;
}

static enum cr_err
host_entry(struct yaml *p, size_t g, const struct ydoc_pair *pair)
{
	const struct ydoc_node *v = pair->val;
	char **names = NULL;
	size_t n = 0, i, h;
	enum cr_err err;

	if ((err = need_scalar_key(p, pair->key, "a host")) != CR_OK)
		return err;
	if (v != NULL && !ydoc_is_null(v) && v->type != YDOC_MAP) {
		inv_fail(p->m, node_pos(pair->key),
		    "host '%s' must have a mapping of variables or nothing, "
		    "found a %s",
		    pair->key->value, kind_of(v));
		return inv_hint(p->m,
		    "write '%s:' alone, or its variables "
		    "below it, e.g. '%s: {ansible_host: "
		    "10.0.0.11}'",
		    pair->key->value, pair->key->value);
	}
	err = inv_range_expand(p->m, pair->key->value, node_pos(pair->key),
	    &names, &n);
	for (i = 0; i < n && err == CR_OK; i++) {
		err = inv_model_host(p->m, names[i], g, node_pos(pair->key),
		    &h);
		if (err == CR_OK && v != NULL && v->type == YDOC_MAP)
			err = vars_of(p, v, g, h);
	}
	inv_names_free(names, n);
	return err;
}

static enum cr_err group_of(struct yaml *p, const struct ydoc_pair *pair,
    unsigned depth, size_t *gp);

static enum cr_err
section_hosts(struct yaml *p, size_t g, const struct ydoc_node *map,
    unsigned depth)
{
	enum cr_err err = CR_OK;
	size_t i;

	(void)depth;
	for (i = 0; i < map->npairs && err == CR_OK; i++)
		err = host_entry(p, g, &map->pairs[i]);
	return err;
}

static enum cr_err
section_children(struct yaml *p, size_t g, const struct ydoc_node *map,
    unsigned depth)
{
	enum cr_err err = CR_OK;
	size_t i, child = 0;

	for (i = 0; i < map->npairs && err == CR_OK; i++) {
		err = group_of(p, &map->pairs[i], depth + 1, &child);
		if (err == CR_OK)
			err = inv_model_child(p->m, g, child,
			    node_pos(map->pairs[i].key));
	}
	return err;
}

static enum cr_err
section_vars(struct yaml *p, size_t g, const struct ydoc_node *map,
    unsigned depth)
{
	(void)depth;
	return vars_of(p, map, g, (size_t)-1);
}

static const struct {
	const char *key;
	enum cr_err (
	    *parse)(struct yaml *, size_t, const struct ydoc_node *, unsigned);
} sections[] = {
	{ "hosts", section_hosts },
	{ "children", section_children },
	{ "vars", section_vars },
};

/* "hosts: cp1" means "hosts: {cp1: }", as in Ansible. */
static enum cr_err
section(struct yaml *p, size_t g, const struct ydoc_pair *pair, size_t i,
    unsigned depth)
{
	const struct ydoc_node *v = pair->val;
	struct ydoc_pair one;
	struct ydoc_node map;

	if (ydoc_is_null(v))
		return CR_OK;
	if (v->type == YDOC_MAP)
		return sections[i].parse(p, g, v, depth);
	if (v->type == YDOC_SCALAR) {
		memset(&map, 0, sizeof(map));
		map.type = YDOC_MAP;
		one.key = pair->val;
		one.val = NULL;
		map.pairs = &one;
		map.npairs = 1;
		return sections[i].parse(p, g, &map, depth);
	}
	inv_fail(p->m, node_pos(pair->key),
	    "'%s' of group '%s' must be a mapping, found a %s", sections[i].key,
	    p->m->groups[g].name, kind_of(v));
	return inv_hint(p->m,
	    "write each entry as a key ending in ':' on its "
	    "own line below '%s:', not as a '- ' list",
	    sections[i].key);
}

static enum cr_err
group_key(struct yaml *p, size_t g, const struct ydoc_pair *pair,
    unsigned depth)
{
	const char *key = pair->key->value;
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(key, sections[i].key) == 0)
			return section(p, g, pair, i, depth);
	inv_fail(p->m, node_pos(pair->key), "unexpected key '%s' in group '%s'",
	    key, p->m->groups[g].name);
	return inv_hint(p->m,
	    "did you mean '%s'? a group holds only hosts, "
	    "children and vars",
	    inv_closest(key, group_keys));
}

static enum cr_err
group_body(struct yaml *p, size_t g, const struct ydoc_node *v, unsigned depth)
{
	enum cr_err err = CR_OK;
	size_t i;

	if (v == NULL || ydoc_is_null(v))
		return CR_OK;
	if (v->type != YDOC_MAP) {
		inv_fail(p->m, node_pos(v),
		    "group '%s' must be a mapping of hosts, children and vars, "
		    "found a %s",
		    p->m->groups[g].name, kind_of(v));
		return inv_hint(p->m,
		    "write '%s:' then 'hosts:' below it and "
		    "one 'NAME:' per host below that",
		    p->m->groups[g].name);
	}
	for (i = 0; i < v->npairs && err == CR_OK; i++) {
		err = need_scalar_key(p, v->pairs[i].key, "a group key");
		if (err == CR_OK)
			err = group_key(p, g, &v->pairs[i], depth);
	}
	return err;
}

static enum cr_err
group_of(struct yaml *p, const struct ydoc_pair *pair, unsigned depth,
    size_t *gp)
{
	struct inv_pos pos = node_pos(pair->key);
	enum cr_err err;

	if ((err = need_scalar_key(p, pair->key, "a group")) != CR_OK ||
	    (err = inv_model_work(p->m, 1, pos)) != CR_OK)
		return err;
	if (depth > YAML_MAX_GROUP_DEPTH) {
		inv_fail(p->m, pos, "groups nested more than %d deep",
		    YAML_MAX_GROUP_DEPTH);
		return inv_hint(p->m,
		    "a YAML alias that refers to its own "
		    "group makes an endless nesting");
	}
	if ((err = inv_model_group(p->m, pair->key->value, pos, gp)) != CR_OK)
		return err;
	p->m->groups[*gp].declared = true;
	return group_body(p, *gp, pair->val, depth);
}

static enum cr_err
check_root(struct yaml *p, const struct ydoc *doc, const struct ydoc_node *root)
{
	const struct ydoc_pair *plugin;

	if (ydoc_count(doc) > 1) {
		inv_fail(p->m, node_pos(ydoc_root(doc, 1)),
		    "a second YAML document starts here");
		return inv_hint(p->m,
		    "an inventory is one document; remove "
		    "the '---' line or split the file");
	}
	if (ydoc_is_null(root))
		return CR_OK;
	if (root->type != YDOC_MAP) {
		inv_fail(p->m, node_pos(root),
		    "the inventory must be a mapping of groups, found a %s",
		    kind_of(root));
		return inv_hint(p->m,
		    "start with 'all:' and put 'hosts:' and "
		    "'children:' below it");
	}
	if ((plugin = ydoc_get_pair(root, "plugin")) != NULL) {
		inv_fail(p->m, node_pos(plugin->key),
		    "this is the configuration of an inventory plugin, not an "
		    "inventory");
		return inv_hint(p->m,
		    "write the plugin's result to a file "
		    "with 'ansible-inventory -i FILE --list "
		    "--yaml' and use that");
	}
	return CR_OK;
}

enum cr_err
inv_yaml_parse(struct inv_model *m, const char *data, size_t len)
{
	struct yaml p = { m };
	struct ydoc *doc = NULL;
	struct ydoc_diag yd;
	const struct ydoc_node *root;
	struct inv_pos pos;
	enum cr_err err = CR_OK;
	size_t i, g;

	if (ydoc_parse(data, len, &doc, &yd) != CR_OK) {
		pos.line = yd.line;
		pos.column = yd.col;
		inv_fail(m, pos, "invalid YAML: %s", yd.msg);
		return inv_hint(m,
		    "YAML nests by indentation with spaces (no "
		    "tabs) and every key ends with ':'");
	}
	if ((root = ydoc_root(doc, 0)) == NULL)
		goto out;
	if ((err = check_root(&p, doc, root)) != CR_OK)
		goto out;
	for (i = 0; i < root->npairs && err == CR_OK; i++)
		err = group_of(&p, &root->pairs[i], 0, &g);
out:
	ydoc_free(doc);
	return err;
}
