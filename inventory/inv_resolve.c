/*
 * From the group/host model to the control-plane nodes, with Ansible's
 * variable precedence (ansible/inventory/helpers.py get_group_vars): a
 * host's groups, its direct ones and all their ancestors plus "all", are
 * sorted by depth (longest path from "all"), then by name; their variables
 * are applied in that order, later ones winning, and host variables win
 * over all of them. Where Ansible's connection plugins read two names for
 * one setting (ansible_host and ansible_ssh_host), the later name in the
 * plugin's list wins when both are set, as in Ansible.
 *
 * Values are checked only for the nodes certroll uses, where the winning
 * assignment is reported: a worker's odd port is none of our business.
 */
#include <sys/types.h>

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "inv_int.h"
#include "xmalloc.h"

const char *const inv_cp_groups[] = {
	"kube_control_plane",
	"control_plane",
	"masters",
	"kube-master",
	NULL,
};

static const struct {
	const char *group;
	unsigned role;
} role_groups[] = {
	{ "kube_control_plane", INV_ROLE_CONTROL_PLANE },
	{ "control_plane", INV_ROLE_CONTROL_PLANE },
	{ "masters", INV_ROLE_CONTROL_PLANE },
	{ "kube-master", INV_ROLE_CONTROL_PLANE },
	{ "etcd", INV_ROLE_ETCD },
	{ "kube_node", INV_ROLE_WORKER },
	{ "kube-node", INV_ROLE_WORKER },
};

struct ranked {
	unsigned depth;
	const char *name;
	size_t g;
};

struct res {
	struct inv_model *m;
	const struct inv_host *host;
	bool *in;          /* groups the host belongs to, ancestors included */
	struct ranked *rk; /* those groups, lowest precedence first */
	size_t nrk;
	struct inv_node *node;
};

/* Depth = longest path from "all" (Ansible's Group.depth), by Kahn. */
static void
compute_depths(struct inv_model *m)
{
	size_t *queue = xcalloc(m->ngroups + 1, sizeof(*queue));
	size_t *indeg = xcalloc(m->ngroups + 1, sizeof(*indeg));
	size_t head = 0, tail = 0, g, i;

	for (g = 0; g < m->ngroups; g++) {
		indeg[g] = m->groups[g].nparents;
		m->groups[g].depth = strcmp(m->groups[g].name, "all") == 0 ? 0 :
									     1;
		if (indeg[g] == 0)
			queue[tail++] = g;
	}
	while (head < tail) {
		const struct inv_group *grp = &m->groups[queue[head++]];

		for (i = 0; i < grp->nchildren; i++) {
			struct inv_group *c = &m->groups[grp->children[i]];

			if (c->depth < grp->depth + 1)
				c->depth = grp->depth + 1;
			if (--indeg[grp->children[i]] == 0)
				queue[tail++] = grp->children[i];
		}
	}
	free(queue);
	free(indeg);
}

/* Marks the host's groups and every ancestor of them, and "all". */
static void
mark_groups(const struct inv_model *m, const struct inv_host *host, bool *in)
{
	size_t *stack = xcalloc(m->ngroups + 1, sizeof(*stack));
	size_t n = 0, i, g, all = inv_model_find_group(m, "all");

	memset(in, 0, m->ngroups * sizeof(*in));
	if (all != (size_t)-1)
		in[all] = true;
	for (i = 0; i < host->ngroups; i++) {
		if (!in[host->groups[i]]) {
			in[host->groups[i]] = true;
			stack[n++] = host->groups[i];
		}
	}
	while (n > 0) {
		g = stack[--n];
		for (i = 0; i < m->groups[g].nparents; i++) {
			size_t p = m->groups[g].parents[i];

			if (!in[p]) {
				in[p] = true;
				stack[n++] = p;
			}
		}
	}
	free(stack);
}

/*
 * "ungrouped" holds the hosts in no other group, as Ansible's
 * reconcile_inventory() decides it: a host listed in ungrouped that has any
 * other group, ancestors included, leaves it (even when ungrouped's own
 * parent was that group); a host in no group joins it.
 */
static void
reconcile_ungrouped(struct inv_model *m)
{
	size_t ug = inv_model_find_group(m, "ungrouped");
	size_t all = inv_model_find_group(m, "all");
	bool *in = xcalloc(m->ngroups + 1, sizeof(*in));
	size_t h, g, i, j;

	for (h = 0; ug != (size_t)-1 && h < m->nhosts; h++) {
		struct inv_host *host = &m->hosts[h];
		bool others = false;

		mark_groups(m, host, in);
		for (g = 0; g < m->ngroups; g++)
			others = others || (in[g] && g != ug && g != all);
		for (i = j = 0; i < host->ngroups; i++)
			if (!others || host->groups[i] != ug)
				host->groups[j++] = host->groups[i];
		host->ngroups = j;
		if (!in[ug] && !others) {
			host->groups = inv_grow(host->groups, j,
			    sizeof(*host->groups));
			host->groups[host->ngroups++] = ug;
		}
	}
	free(in);
}

static int
ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sorts the groups mark_groups() found, lowest precedence first. */
static void
rank_groups(struct res *r)
{
	size_t g;

	r->nrk = 0;
	for (g = 0; g < r->m->ngroups; g++) {
		if (!r->in[g])
			continue;
		r->rk[r->nrk].depth = r->m->groups[g].depth;
		r->rk[r->nrk].name = r->m->groups[g].name;
		r->rk[r->nrk++].g = g;
	}
	qsort(r->rk, r->nrk, sizeof(*r->rk), ranked_cmp);
}

static const struct inv_var *
last_in(const struct inv_vars *vars, const char *key)
{
	size_t i = vars->n;

	while (i-- > 0)
		if (strcmp(vars->v[i].key, key) == 0)
			return &vars->v[i];
	return NULL;
}

/* The assignment of key that wins for the host, or NULL. */
static const struct inv_var *
lookup(const struct res *r, const char *key)
{
	const struct inv_var *v;
	size_t i = r->nrk;

	if ((v = last_in(&r->host->vars, key)) != NULL)
		return v;
	while (i-- > 0)
		if ((v = last_in(&r->m->groups[r->rk[i].g].vars, key)) != NULL)
			return v;
	return NULL;
}

/* A value certroll can use: one non-empty string, not a template. */
static enum cr_err
check_str(struct res *r, const struct inv_var *v)
{
	if (v->str == NULL && strcmp(v->kind, "null") == 0) {
		inv_fail(r->m, v->pos, "%s has no value", v->key);
		return inv_hint(r->m, "give it a value or remove it");
	}
	if (v->str == NULL) {
		inv_fail(r->m, v->pos, "%s must be a single value, found a %s",
		    v->key, v->kind);
		return inv_hint(r->m, "write it as '%s: VALUE'", v->key);
	}
	if (v->str[0] == '\0') {
		inv_fail(r->m, v->pos, "%s is empty", v->key);
		return inv_hint(r->m, "give it a value or remove it");
	}
	if (strstr(v->str, "{{") != NULL || strstr(v->str, "{%") != NULL) {
		inv_fail(r->m, v->pos, "%s is a Jinja template ('%s')", v->key,
		    v->str);
		return inv_hint(r->m,
		    "certroll does not evaluate templates; "
		    "write the value itself, e.g. "
		    "ansible_host=10.0.0.11");
	}
	return CR_OK;
}

static enum cr_err
set_address(struct res *r, const struct inv_var *v)
{
	enum cr_err err;

	if (v == NULL) {
		r->node->address = xstrdup(r->host->name);
		return CR_OK;
	}
	if ((err = check_str(r, v)) == CR_OK)
		r->node->address = xstrdup(v->str);
	return err;
}

static enum cr_err
set_port(struct res *r, const struct inv_var *v)
{
	unsigned long port = 0;
	enum cr_err err;
	size_t i;

	r->node->port = 22;
	if (v == NULL)
		return CR_OK;
	if ((err = check_str(r, v)) != CR_OK)
		return err;
	for (i = 0; isdigit((unsigned char)v->str[i]) && port <= 65535; i++)
		port = port * 10 + (unsigned long)(v->str[i] - '0');
	if (v->str[i] == '\0' && port >= 1 && port <= 65535) {
		r->node->port = (unsigned)port;
		return CR_OK;
	}
	inv_fail(r->m, v->pos,
	    isdigit((unsigned char)v->str[i]) || v->str[i] == '\0' ?
		"%s %s is out of range" :
		"%s '%s' is not a port number",
	    v->key, v->str);
	return inv_hint(r->m,
	    "a port is a number from 1 to 65535; 22 is "
	    "the default");
}

static enum cr_err
local_user(struct res *r, char **userp)
{
	const struct passwd *pw = getpwuid(getuid());
	struct inv_pos pos = r->host->pos;

	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0') {
		*userp = xstrdup(pw->pw_name);
		return CR_OK;
	}
	inv_fail(r->m, pos,
	    "host '%s' has no ansible_user and the local "
	    "user (uid %u) has no name",
	    r->host->name, (unsigned)getuid());
	return inv_hint(r->m,
	    "set ansible_user for the host or in "
	    "[all:vars]");
}

static enum cr_err
set_user(struct res *r, const struct inv_var *v)
{
	enum cr_err err;

	if (v == NULL)
		return local_user(r, &r->node->user);
	if ((err = check_str(r, v)) == CR_OK)
		r->node->user = xstrdup(v->str);
	return err;
}

/* "~/x" is expanded with $HOME, as Ansible's ssh plugin expands it. */
static enum cr_err
set_identity(struct res *r, const struct inv_var *v)
{
	const char *home = getenv("HOME");
	enum cr_err err;

	if (v == NULL)
		return CR_OK;
	if ((err = check_str(r, v)) != CR_OK)
		return err;
	if (home != NULL && home[0] != '\0' &&
	    (strcmp(v->str, "~") == 0 || strncmp(v->str, "~/", 2) == 0))
		r->node->identity_file = xasprintf("%s%s", home, v->str + 1);
	else
		r->node->identity_file = xstrdup(v->str);
	return CR_OK;
}

/* Ansible's boolean(): y/yes/on/1/true/t and n/no/off/0/false/f. */
static enum cr_err
set_become(struct res *r, const struct inv_var *v)
{
	static const char *const yes[] = { "y", "yes", "on", "1", "true", "t" };
	static const char *const no[] = { "n", "no", "off", "0", "false", "f" };
	enum cr_err err;
	size_t i;

	r->node->become = false;
	if (v == NULL)
		return CR_OK;
	if ((err = check_str(r, v)) != CR_OK)
		return err;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v->str, yes[i]) == 0)
			r->node->become = true;
		if (strcasecmp(v->str, yes[i]) == 0 ||
		    strcasecmp(v->str, no[i]) == 0)
			return CR_OK;
	}
	inv_fail(r->m, v->pos, "%s '%s' is not a boolean", v->key, v->str);
	return inv_hint(r->m, "use true or false (yes/no and 1/0 work too)");
}

static enum cr_err
set_become_user(struct res *r, const struct inv_var *v)
{
	enum cr_err err;

	if (v == NULL) {
		r->node->become_user = xstrdup("root");
		return CR_OK;
	}
	if ((err = check_str(r, v)) == CR_OK)
		r->node->become_user = xstrdup(v->str);
	return err;
}

/* Kubernetes node names are RFC 1123 subdomains. */
static bool
valid_node_name(const char *s)
{
	size_t i, len = strlen(s);

	if (len > 253 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return false;
	for (i = 0; i < len; i++)
		if (!(islower((unsigned char)s[i]) ||
			isdigit((unsigned char)s[i]) || s[i] == '-' ||
			s[i] == '.'))
			return false;
	return true;
}

static enum cr_err
set_node_name(struct res *r, const struct inv_var *v)
{
	enum cr_err err;

	if (v == NULL) {
		r->node->node_name = xstrdup(r->host->name);
		return CR_OK;
	}
	if ((err = check_str(r, v)) != CR_OK)
		return err;
	if (!valid_node_name(v->str)) {
		inv_fail(r->m, v->pos, "%s '%s' is not a Kubernetes node name",
		    v->key, v->str);
		return inv_hint(r->m,
		    "use the name 'kubectl get nodes' shows: "
		    "lower-case letters, digits, '-' and '.'");
	}
	r->node->node_name = xstrdup(v->str);
	return CR_OK;
}

static enum cr_err
set_kubernetes_dir(struct res *r, const struct inv_var *v)
{
	enum cr_err err;

	if (v == NULL) {
		r->node->kubernetes_dir = xstrdup("/etc/kubernetes");
		return CR_OK;
	}
	if ((err = check_str(r, v)) != CR_OK)
		return err;
	if (v->str[0] != '/') {
		inv_fail(r->m, v->pos, "%s '%s' is not an absolute path",
		    v->key, v->str);
		return inv_hint(r->m,
		    "write the full path on the node, e.g. "
		    "/etc/kubernetes");
	}
	r->node->kubernetes_dir = xstrdup(v->str);
	return CR_OK;
}

/* Each setting, its variable names (the last one wins) and its setter. */
static const struct {
	const char *names[3];
	enum cr_err (*set)(struct res *, const struct inv_var *);
} fields[] = {
	{ { "ansible_host", "ansible_ssh_host", NULL }, set_address },
	{ { "ansible_port", "ansible_ssh_port", NULL }, set_port },
	{ { "ansible_user", "ansible_ssh_user", NULL }, set_user },
	{ { "ansible_private_key_file", "ansible_ssh_private_key_file", NULL },
	    set_identity },
	{ { "ansible_become", NULL, NULL }, set_become },
	{ { "ansible_become_user", NULL, NULL }, set_become_user },
	{ { "certroll_node_name", NULL, NULL }, set_node_name },
	{ { "certroll_kubernetes_dir", NULL, NULL }, set_kubernetes_dir },
};

static const struct inv_var *
field_var(const struct res *r, size_t f)
{
	const struct inv_var *v = NULL;
	size_t i;

	for (i = 0; i < 3 && fields[f].names[i] != NULL; i++) {
		const struct inv_var *cand = lookup(r, fields[f].names[i]);

		if (cand != NULL)
			v = cand;
	}
	return v;
}

static unsigned
roles_of(const struct res *r)
{
	unsigned roles = 0;
	size_t i, g;

	for (i = 0; i < sizeof(role_groups) / sizeof(role_groups[0]); i++) {
		g = inv_model_find_group(r->m, role_groups[i].group);
		if (g != (size_t)-1 && r->in[g])
			roles |= role_groups[i].role;
	}
	return roles;
}

void
inv_node_clear(struct inv_node *n)
{
	free(n->name);
	free(n->address);
	free(n->user);
	free(n->identity_file);
	free(n->become_user);
	free(n->node_name);
	free(n->kubernetes_dir);
	memset(n, 0, sizeof(*n));
}

/*
 * The host name names the node's directory under apply --fetch-backups
 * (and is the default node name and address): no '/', no "." or "..", no
 * control characters.
 */
static enum cr_err
check_host_name(struct res *r)
{
	const char *name = r->host->name, *p;
	bool ok = strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0;

	for (p = name; ok && *p != '\0'; p++)
		ok = !iscntrl((unsigned char)*p);
	if (ok)
		return CR_OK;
	inv_fail(r->m, r->host->pos,
	    "host '%s': a host name cannot be '.' or '..' or hold '/' or "
	    "control characters",
	    name);
	return inv_hint(r->m,
	    "certroll makes a directory of that name (apply "
	    "--fetch-backups); name the host plainly and put the address in "
	    "ansible_host, e.g. cp1 ansible_host=10.0.0.11");
}

/* Resolves r->host into r->node if it is a control-plane host. */
static enum cr_err
resolve_host(struct res *r, bool *cpp)
{
	enum cr_err err = CR_OK;
	size_t f;

	mark_groups(r->m, r->host, r->in);
	memset(r->node, 0, sizeof(*r->node));
	r->node->roles = roles_of(r);
	if ((*cpp = (r->node->roles & INV_ROLE_CONTROL_PLANE) != 0) == false)
		return CR_OK;
	rank_groups(r);
	if ((err = check_host_name(r)) != CR_OK)
		return err;
	r->node->name = xstrdup(r->host->name);
	r->node->line = r->host->pos.line;
	r->node->column = r->host->pos.column;
	for (f = 0; f < sizeof(fields) / sizeof(fields[0]) && err == CR_OK; f++)
		err = fields[f].set(r, field_var(r, f));
	if (err != CR_OK)
		inv_node_clear(r->node);
	return err;
}

static enum cr_err
empty_fail(struct inv_model *m)
{
	struct inv_pos nowhere = { 0, 0 };

	inv_fail(m, nowhere,
	    m->nhosts == 0 ? "the inventory defines no hosts" :
			     "no host is in a control-plane group");
	return inv_hint(m,
	    "certroll works on the hosts of %s, %s, %s or %s; "
	    "put the control-plane hosts in one of them",
	    inv_cp_groups[0], inv_cp_groups[1], inv_cp_groups[2],
	    inv_cp_groups[3]);
}

void
inv_free(struct inv *inv)
{
	size_t i;

	if (inv == NULL)
		return;
	for (i = 0; i < inv->n; i++)
		inv_node_clear(&inv->nodes[i]);
	free(inv->nodes);
	free(inv->source);
	free(inv);
}

enum cr_err
inv_model_resolve(struct inv_model *m, struct inv **invp)
{
	struct inv *inv = xcalloc(1, sizeof(*inv));
	struct res r;
	enum cr_err err = CR_OK;
	bool cp = false;
	size_t h;

	*invp = NULL;
	inv->source = xstrdup(m->file);
	reconcile_ungrouped(m);
	compute_depths(m);
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.in = xcalloc(m->ngroups + 1, sizeof(*r.in));
	r.rk = xcalloc(m->ngroups + 1, sizeof(*r.rk));
	for (h = 0; h < m->nhosts && err == CR_OK; h++) {
		inv->nodes = inv_grow(inv->nodes, inv->n, sizeof(*inv->nodes));
		r.host = &m->hosts[h];
		r.node = &inv->nodes[inv->n];
		if ((err = resolve_host(&r, &cp)) == CR_OK && cp)
			inv->n++;
	}
	if (err == CR_OK && inv->n == 0)
		err = empty_fail(m);
	free(r.in);
	free(r.rk);
	if (err == CR_OK) {
		*invp = inv;
		inv = NULL;
	}
	inv_free(inv);
	return err;
}
