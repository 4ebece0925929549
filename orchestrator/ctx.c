#include "ctx.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "journal.h"
#include "log.h"
#include "xmalloc.h"

#define CTX_DEFAULT_PARALLEL 16
#define CTX_DEFAULT_API_PORT 6443

void
ctx_opts_init(struct ctx_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->inv_format = INV_FORMAT_AUTO;
	o->parallel = CTX_DEFAULT_PARALLEL;
	o->api_port = CTX_DEFAULT_API_PORT;
}

static int
parse_uint(const char *cmd, const char *opt, const char *arg, unsigned max,
    unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v == 0 || v > max) {
		cli_usage(cmd, "%s: '%s' is not a number from 1 to %u", opt,
		    arg, max);
		return -1;
	}
	*out = (unsigned)v;
	return 1;
}

static int
parse_format(struct ctx_opts *o, const char *cmd, const char *arg)
{
	if (inv_format_parse(arg, &o->inv_format))
		return 1;
	cli_usage(cmd, "--inventory-format: '%s' is not auto, ini or yaml",
	    arg);
	return -1;
}

int
ctx_opts_parse(struct ctx_opts *o, const char *cmd, int c, const char *arg)
{
	switch (c) {
	case CTX_OPT_INVENTORY:
		o->inventory = arg;
		return 1;
	case CTX_OPT_INV_FORMAT:
		return parse_format(o, cmd, arg);
	case CTX_OPT_ONLY:
		o->only = arg;
		return 1;
	case CTX_OPT_KUBECONFIG:
		o->kc.kubeconfig = arg;
		return 1;
	case CTX_OPT_CONTEXT:
		o->kc.context = arg;
		return 1;
	case CTX_OPT_KNOWN_HOSTS:
		o->known_hosts = arg;
		return 1;
	case CTX_OPT_ACCEPT_NEW:
		o->accept_new_host_keys = true;
		return 1;
	case CTX_OPT_AGENT:
		o->agent = arg;
		return 1;
	case CTX_OPT_STATE_DIR:
		o->state_dir = arg;
		return 1;
	case CTX_OPT_PARALLEL:
		return parse_uint(cmd, "--parallel", arg, 256, &o->parallel);
	case CTX_OPT_CLUSTER:
		o->cluster = arg;
		return 1;
	case CTX_OPT_API_PORT:
		return parse_uint(cmd, "--api-port", arg, 65535, &o->api_port);
	default:
		return 0;
	}
}

void
ctx_init(struct ctx *c, const char *cmd, const struct ctx_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = *o;
	c->cmd = cmd;
	c->state_dir = o->state_dir != NULL ? xstrdup(o->state_dir) :
					      journal_default_dir();
}

/* Marks the nodes --only names; the others stay. */
static enum cr_err
mark_selected(struct ctx *c, struct inv_diag *diag)
{
	bool *keep = xcalloc(c->nnodes + 1, sizeof(*keep));
	enum cr_err err;
	size_t i;

	if ((err = inv_mark(c->inv, c->o.only, keep, diag)) == CR_OK)
		for (i = 0; i < c->nnodes; i++)
			c->nodes[i].selected = keep[i];
	free(keep);
	return err;
}

enum cr_err
ctx_load_inventory(struct ctx *c)
{
	bool marks = c->o.only != NULL && c->keep_unselected;
	struct inv_diag diag;
	enum cr_err err;
	size_t i;

	if (c->o.inventory == NULL) {
		cli_usage(c->cmd, "an inventory is required (-i FILE)");
		return CR_ERR_CONFIG;
	}
	if ((err = inv_load(c->o.inventory, c->o.inv_format, &c->inv, &diag)) !=
		CR_OK ||
	    (c->o.only != NULL && !marks &&
		(err = inv_select(c->inv, c->o.only, &diag)) != CR_OK)) {
		inv_diag_print(&diag, stderr);
		return err;
	}
	c->nnodes = inv_count(c->inv);
	c->nodes = xcalloc(c->nnodes, sizeof(*c->nodes));
	for (i = 0; i < c->nnodes; i++) {
		c->nodes[i].inv = inv_node_at(c->inv, i);
		c->nodes[i].selected = true;
	}
	if (marks && (err = mark_selected(c, &diag)) != CR_OK) {
		inv_diag_print(&diag, stderr);
		return err;
	}
	return CR_OK;
}

enum cr_err
ctx_load_kubeconfig(struct ctx *c)
{
	struct kubecfg_diag diag;
	enum cr_err err;

	if (c->kcfg != NULL)
		return CR_OK;
	if ((err = kubecfg_load(&c->o.kc, &c->kcfg, &diag)) != CR_OK)
		log_warnx("%s", diag.msg);
	return err;
}

/* "https://HOST:PORT", with an IPv6 literal in brackets. To free(). */
static char *
api_url(const char *host, unsigned port)
{
	return strchr(host, ':') != NULL ?
	    xasprintf("https://[%s]:%u", host, port) :
	    xasprintf("https://%s:%u", host, port);
}

/* True when err says the server did not answer at all. */
static bool
unanswered(const struct kube *k, enum cr_err err)
{
	return err == CR_ERR_TIMEOUT ||
	    (err == CR_ERR_KUBE && kube_last_status(k)->code == 0);
}

/*
 * Each inventory node's address as its API server, named as its Node: for
 * when the kubeconfig's server is down (it may be the node whose API
 * server restarts), so the Node objects cannot be read to learn them.
 */
static enum cr_err
add_inventory_endpoints(struct ctx *c)
{
	enum cr_err err = CR_OK;
	char *url;
	size_t i;

	for (i = 0; i < c->nnodes && err == CR_OK; i++) {
		url = api_url(c->nodes[i].inv->address, c->o.api_port);
		err = kube_add_endpoint(c->kube, c->nodes[i].inv->node_name,
		    url);
		free(url);
	}
	return err;
}

/*
 * Adds each control-plane node's own API server as an endpoint, from the
 * Node objects' InternalIP. When the kubeconfig's server does not answer,
 * the Nodes are read through the inventory's addresses first.
 */
static enum cr_err
add_node_endpoints(struct ctx *c, int64_t deadline)
{
	struct kube_node_list nodes = { NULL, 0 };
	enum cr_err err;
	char *url;
	size_t i;

	err = kube_list_control_plane_nodes(c->kube, deadline, &nodes);
	if (unanswered(c->kube, err) && c->nnodes > 0) {
		log_warnx("%s; trying the inventory's nodes on port %u",
		    kube_error_message(c->kube), c->o.api_port);
		if (add_inventory_endpoints(c) == CR_OK)
			err = kube_list_control_plane_nodes(c->kube, deadline,
			    &nodes);
	}
	if (err != CR_OK)
		return err;
	for (i = 0; i < nodes.n && err == CR_OK; i++) {
		if (nodes.v[i].internal_ip == NULL)
			continue;
		url = api_url(nodes.v[i].internal_ip, c->o.api_port);
		err = kube_add_endpoint(c->kube, nodes.v[i].name, url);
		free(url);
	}
	kube_node_list_clear(&nodes);
	return err;
}

enum cr_err
ctx_open_kube(struct ctx *c, bool node_endpoints, int64_t deadline)
{
	enum cr_err err;

	if (c->kube == NULL) {
		if ((err = ctx_load_kubeconfig(c)) != CR_OK)
			return err;
		if ((err = kube_new(c->kcfg, &c->kube)) != CR_OK) {
			log_warnx("%s: the kubeconfig's server cannot be used",
			    kubecfg_display_path(c->kcfg));
			return err;
		}
	}
	return node_endpoints ? add_node_endpoints(c, deadline) : CR_OK;
}

enum cr_err
ctx_connect(struct ctx *c, size_t i, int64_t deadline)
{
	struct ctx_node *n = &c->nodes[i];
	struct ssh_target t;
	struct ssh_opts so;
	struct remote_opts ro;
	enum cr_err err;

	if (n->agent != NULL)
		return CR_OK;
	memset(&t, 0, sizeof(t));
	memset(&so, 0, sizeof(so));
	memset(&ro, 0, sizeof(ro));
	t.name = n->inv->name;
	t.host = n->inv->address;
	t.port = n->inv->port;
	t.user = n->inv->user;
	t.identity_file = n->inv->identity_file;
	so.known_hosts = c->o.known_hosts;
	so.accept_new_host_keys = c->o.accept_new_host_keys;
	so.connect_timeout_ms = clock_remaining_ms(deadline);
	ro.agent_path = c->o.agent;
	ro.become = n->inv->become;
	ro.become_user = n->inv->become_user;
	ro.timeout_ms = clock_remaining_ms(deadline);
	if (n->ssh == NULL && (err = ssh_connect(&t, &so, &n->ssh)) != CR_OK) {
		n->err = err;
		return err;
	}
	if ((err = remote_open(n->ssh, &ro, &n->agent)) != CR_OK) {
		n->err = err;
		ssh_close(n->ssh);
		n->ssh = NULL;
		return err;
	}
	n->err = CR_OK;
	return CR_OK;
}

struct connect_arg {
	struct ctx *c;
	int64_t deadline;
};

static enum cr_err
connect_one(void *arg, size_t i)
{
	struct connect_arg *a = arg;

	return ctx_connect(a->c, i, a->deadline);
}

enum cr_err
ctx_connect_all(struct ctx *c, int64_t deadline, enum cr_err *results)
{
	struct connect_arg a = { c, deadline };

	if (c->nnodes == 0)
		return CR_OK;
	return ssh_parallel(c->nnodes, c->o.parallel, connect_one, &a, results);
}

struct proto_conn *
ctx_agent(struct ctx *c, size_t i)
{
	return c->nodes[i].agent != NULL ? remote_conn(c->nodes[i].agent) :
					   NULL;
}

void
ctx_disconnect(struct ctx *c, size_t i)
{
	struct ctx_node *n = &c->nodes[i];

	if (n->agent != NULL &&
	    remote_close(n->agent, clock_deadline_ms(10000)) != CR_OK)
		log_debug("node %s: agent did not say goodbye cleanly",
		    n->inv->name);
	n->agent = NULL;
	ssh_close(n->ssh);
	n->ssh = NULL;
}

struct proto_conn *
ctx_agent_live(struct ctx *c, size_t i, int64_t deadline)
{
	struct proto_conn *conn;

	if (ctx_connect(c, i, deadline) != CR_OK)
		return NULL;
	conn = ctx_agent(c, i);
	if (conn != NULL && !proto_conn_probe(conn)) {
		log_warnx("node %s: the agent connection broke (%s); "
			  "reconnecting",
		    c->nodes[i].inv->name, proto_conn_errmsg(conn));
		ctx_disconnect(c, i);
		if (ctx_connect(c, i, deadline) != CR_OK)
			return NULL;
		conn = ctx_agent(c, i);
	}
	return conn;
}

size_t
ctx_find(const struct ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nnodes; i++)
		if (strcmp(c->nodes[i].inv->name, name) == 0 ||
		    strcmp(c->nodes[i].inv->node_name, name) == 0)
			return i;
	return (size_t)-1;
}

/* Keeps [A-Za-z0-9._-] and maps everything else to '_'. */
static char *
safe_name(const char *s)
{
	char *out = xstrdup(*s != '\0' ? s : "cluster"), *p;

	for (p = out; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			*p = '_';
	if (out[0] == '.')
		out[0] = '_';
	return out;
}

static char *
inventory_base(const char *path)
{
	const char *base = strrchr(path, '/');
	char *name, *dot;

	name = xstrdup(base != NULL ? base + 1 : path);
	if ((dot = strrchr(name, '.')) != NULL && dot != name)
		*dot = '\0';
	return name;
}

const char *
ctx_cluster(struct ctx *c)
{
	char *raw;

	if (c->cluster != NULL)
		return c->cluster;
	if (c->o.cluster != NULL)
		raw = xstrdup(c->o.cluster);
	else if (c->kcfg != NULL || ctx_load_kubeconfig(c) == CR_OK)
		raw = xstrdup(kubecfg_cluster_name(c->kcfg));
	else if (c->o.inventory != NULL)
		raw = inventory_base(c->o.inventory);
	else
		raw = xstrdup("cluster");
	c->cluster = safe_name(raw);
	free(raw);
	return c->cluster;
}

void
ctx_clear(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nnodes; i++)
		ctx_disconnect(c, i);
	free(c->nodes);
	inv_free(c->inv);
	kube_free(c->kube);
	kubecfg_free(c->kcfg);
	free(c->state_dir);
	free(c->cluster);
	memset(c, 0, sizeof(*c));
}

char *
ctx_identity(void)
{
	struct passwd *pw = getpwuid(getuid());
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	return xasprintf("%s@%s/%ld", pw != NULL ? pw->pw_name : "unknown",
	    host, (long)getpid());
}
