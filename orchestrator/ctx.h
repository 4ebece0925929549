/*
 * What the rollout commands (plan, apply, resume, status, check, recover,
 * kubeconfig refresh) share: their common options, the inventory, the
 * Kubernetes client with one endpoint per control-plane node, and one SSH
 * session plus agent connection per node, opened on demand.
 *
 * A command declares its getopt_long table with CTX_LONG_OPTIONS among its
 * own entries and passes unknown option codes to ctx_opts_parse().
 */
#ifndef CR_CTX_H
#define CR_CTX_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "inventory.h"
#include "kube.h"
#include "kubecfg.h"
#include "proto.h"
#include "remote.h"
#include "ssh.h"

/* Option codes of the shared options (beyond any single character). */
enum {
	CTX_OPT_INVENTORY = 'i',
	CTX_OPT_FIRST = 1000,
	CTX_OPT_INV_FORMAT = CTX_OPT_FIRST,
	CTX_OPT_ONLY,
	CTX_OPT_KUBECONFIG,
	CTX_OPT_CONTEXT,
	CTX_OPT_KNOWN_HOSTS,
	CTX_OPT_ACCEPT_NEW,
	CTX_OPT_AGENT,
	CTX_OPT_STATE_DIR,
	CTX_OPT_PARALLEL,
	CTX_OPT_CLUSTER,
	CTX_OPT_API_PORT,
	CTX_OPT_LAST
};

#define CTX_LONG_OPTIONS                                                       \
	{ "inventory", required_argument, NULL, CTX_OPT_INVENTORY },           \
	    { "inventory-format", required_argument, NULL,                     \
		    CTX_OPT_INV_FORMAT },                                      \
	    { "only", required_argument, NULL, CTX_OPT_ONLY },                 \
	    { "kubeconfig", required_argument, NULL, CTX_OPT_KUBECONFIG },     \
	    { "context", required_argument, NULL, CTX_OPT_CONTEXT },           \
	    { "known-hosts", required_argument, NULL, CTX_OPT_KNOWN_HOSTS },   \
	    { "accept-new-host-keys", no_argument, NULL, CTX_OPT_ACCEPT_NEW }, \
	    { "agent", required_argument, NULL, CTX_OPT_AGENT },               \
	    { "state-dir", required_argument, NULL, CTX_OPT_STATE_DIR },       \
	    { "parallel", required_argument, NULL, CTX_OPT_PARALLEL },         \
	    { "cluster", required_argument, NULL, CTX_OPT_CLUSTER },           \
	{                                                                      \
		"api-port", required_argument, NULL, CTX_OPT_API_PORT          \
	}

/* The --help lines of the shared options. */
#define CTX_USAGE                                                              \
	"  -i, --inventory FILE        Ansible INI/YAML inventory "            \
	"(Kubespray's\n"                                                       \
	"                              hosts.yaml works) of the control "      \
	"plane\n"                                                              \
	"      --inventory-format F    auto (default), ini or yaml\n"          \
	"      --only NODES            only these inventory hosts (comma "     \
	"separated;\n"                                                         \
	"                              plan and apply still check the "        \
	"others' etcd)\n"                                                      \
	"      --kubeconfig FILE       default $KUBECONFIG, else "             \
	"~/.kube/config\n"                                                     \
	"      --context NAME          kubeconfig context\n"                   \
	"      --known-hosts FILE      SSH known_hosts (default "              \
	"$CERTROLL_KNOWN_HOSTS,\n"                                             \
	"                              else ~/.ssh/known_hosts)\n"             \
	"      --accept-new-host-keys  record unknown SSH host keys instead "  \
	"of refusing\n"                                                        \
	"      --agent FILE            the certroll-agent to deliver "         \
	"(default: next to\n"                                                  \
	"                              certroll)\n"                            \
	"      --state-dir DIR         journals and reports (default\n"        \
	"                              ~/.local/state/certroll)\n"             \
	"      --parallel N            nodes read at once (default 16)\n"      \
	"      --cluster NAME          name for the journal (default: the "    \
	"kubeconfig's\n"                                                       \
	"                              cluster)\n"                             \
	"      --api-port PORT         each node's API server port (default "  \
	"6443)\n"

struct ctx_opts {
	const char *inventory;
	enum inv_format inv_format;
	const char *only;
	struct kubecfg_opts kc;
	const char *known_hosts;
	bool accept_new_host_keys;
	const char *agent;
	const char *state_dir;
	unsigned parallel;
	const char *cluster;
	unsigned api_port;
};

struct ctx_node {
	const struct inv_node *inv; /* borrowed from ctx->inv */
	struct ssh_session *ssh;
	struct remote *agent;
	enum cr_err err; /* why the last connection attempt failed */
	bool selected;   /* named by --only (all when there is none) */
};

struct ctx {
	struct ctx_opts o;
	const char *cmd; /* for messages */
	struct inv *inv;
	struct ctx_node *nodes;
	size_t nnodes;
	struct kubecfg *kcfg;
	struct kube *kube;
	char *state_dir;
	char *cluster;
	/*
	 * --only marks the nodes to change and keeps the others, whose etcd
	 * members the rollout checks (plan, apply, resume); without it,
	 * --only drops them.
	 */
	bool keep_unselected;
};

void ctx_opts_init(struct ctx_opts *o);

/*
 * Handles a shared option. Returns 1 when c was one (applied), 0 when it
 * is not a shared option, -1 after printing a usage error for a bad value.
 */
int ctx_opts_parse(struct ctx_opts *o, const char *cmd, int c, const char *arg);

/* Sets up c for command cmd with options o (copied). */
void ctx_init(struct ctx *c, const char *cmd, const struct ctx_opts *o);

/*
 * Loads the inventory (-i is required) and applies --only (see
 * keep_unselected). Prints the
 * diagnostic (FILE:LINE:COL and a hint) on failure and returns
 * CR_ERR_INVENTORY, CR_ERR_SYS or CR_ERR_CONFIG (no -i).
 */
enum cr_err ctx_load_inventory(struct ctx *c) CR_MUST_CHECK;

/*
 * Loads the kubeconfig and makes the API client (logged on failure). With
 * node_endpoints, also adds every control-plane node's own API server as
 * an endpoint (from the Node objects' InternalIP), so that requests can
 * move away from a node whose API server restarts.
 */
enum cr_err ctx_open_kube(struct ctx *c, bool node_endpoints,
    int64_t deadline) CR_MUST_CHECK;

/* Loads only the kubeconfig (for the cluster name, or a refresh). */
enum cr_err ctx_load_kubeconfig(struct ctx *c) CR_MUST_CHECK;

/*
 * Connects to node i and opens its agent (delivering it when needed).
 * Already connected: CR_OK at once. Failures are logged and kept in
 * c->nodes[i].err.
 */
enum cr_err ctx_connect(struct ctx *c, size_t i,
    int64_t deadline) CR_MUST_CHECK;

/*
 * Connects every node, --parallel at a time. results[i] (caller's array of
 * c->nnodes) receives each outcome. Returns CR_OK when all connected.
 */
enum cr_err ctx_connect_all(struct ctx *c, int64_t deadline,
    enum cr_err *results) CR_MUST_CHECK;

/* The agent connection of node i (connected), or NULL. Borrowed. */
struct proto_conn *ctx_agent(struct ctx *c, size_t i);

/* Says goodbye to node i's agent and closes its session. */
void ctx_disconnect(struct ctx *c, size_t i);

/*
 * Node i's agent connection ready for a request: connected if it was not,
 * and opened again if it broke, or if the agent or its SSH session died
 * while the connection was idle (proto_conn_probe()). NULL when the node
 * cannot be reached before deadline. Borrowed.
 */
struct proto_conn *ctx_agent_live(struct ctx *c, size_t i, int64_t deadline);

/* The node index for an inventory name, or (size_t)-1. */
size_t ctx_find(const struct ctx *c, const char *name);

/*
 * The name the journal files go under: --cluster, else the kubeconfig's
 * cluster name, else the inventory file's base name; made safe for a file
 * name. Borrowed from c.
 */
const char *ctx_cluster(struct ctx *c);

/* Closes every connection and releases everything c holds. */
void ctx_clear(struct ctx *c);

/* "user@host/pid": who runs this rollout (the lock's holder identity). */
char *ctx_identity(void);

#endif /* CR_CTX_H */
