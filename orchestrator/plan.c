#include "plan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc.h"
#include "cli.h"
#include "clock.h"
#include "duration.h"
#include "journal.h"
#include "jv.h"
#include "lock.h"
#include "log.h"
#include "runlog.h"
#include "timefmt.h"
#include "xmalloc.h"

#define PLAN_TIMEOUT_MS (2LL * 60 * 1000)
#define DAY_S           86400LL

void
plan_opts_init(struct plan_opts *o)
{
	memset(o, 0, sizeof(*o));
	drain_opts_init(&o->drain);
	o->drain.ignore_daemonsets = true;
	o->max_skew_ms = 30LL * 1000;
	o->min_free_bytes = 64LL * 1024 * 1024;
	o->warn_expiry_s = 30 * DAY_S;
	o->drain.timeout_ms = 10LL * 60 * 1000;
}

static int
parse_duration_opt(const char *cmd, const char *opt, const char *arg,
    int64_t *secsp, bool allow_zero)
{
	int64_t v;

	if (duration_parse(arg, &v) != CR_OK || (v == 0 && !allow_zero)) {
		cli_usage(cmd,
		    "%s: '%s' is not a duration such as 30d, 8760h or 90m", opt,
		    arg);
		return -1;
	}
	*secsp = v;
	return 1;
}

static int
parse_grace(struct plan_opts *o, const char *cmd, const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < -1 || v > 86400) {
		cli_usage(cmd,
		    "--grace-period: '%s' is not -1 or a number of "
		    "seconds",
		    arg);
		return -1;
	}
	o->drain.grace_period = v;
	return 1;
}

/* "--opt", "--opt=true" or "--opt=false". */
static int
parse_bool_opt(const char *cmd, const char *opt, const char *arg, bool *out)
{
	if (arg == NULL) {
		*out = true;
		return 1;
	}
	if (strcmp(arg, "true") == 0 || strcmp(arg, "false") == 0) {
		*out = strcmp(arg, "true") == 0;
		return 1;
	}
	cli_usage(cmd, "%s: '%s' is not true or false", opt, arg);
	return -1;
}

int
plan_opts_parse(struct plan_opts *o, const char *cmd, int c, const char *arg)
{
	int64_t s;
	int rc;

	switch (c) {
	case PLAN_OPT_RENEW_BEFORE:
		return parse_duration_opt(cmd, "--renew-before", arg,
		    &o->renew_before_s, false);
	case PLAN_OPT_VALIDITY:
		return parse_duration_opt(cmd, "--validity", arg,
		    &o->validity_s, false);
	case PLAN_OPT_DRAIN_TIMEOUT:
		if ((rc = parse_duration_opt(cmd, "--timeout", arg, &s,
			 true)) == 1)
			o->drain.timeout_ms = s * 1000;
		return rc;
	case PLAN_OPT_GRACE:
		return parse_grace(o, cmd, arg);
	case PLAN_OPT_EMPTYDIR:
		o->drain.delete_emptydir_data = true;
		return 1;
	case PLAN_OPT_FORCE:
		o->drain.force = true;
		return 1;
	case PLAN_OPT_POD_SELECTOR:
		o->drain.pod_selector = arg;
		return 1;
	case PLAN_OPT_DAEMONSETS:
		return parse_bool_opt(cmd, "--ignore-daemonsets", arg,
		    &o->drain.ignore_daemonsets);
	case PLAN_OPT_DOWNTIME:
		o->accept_downtime = true;
		return 1;
	default:
		return 0;
	}
}

__attribute__((format(printf, 4, 5))) static void
check(struct plan *p, const char *name, bool ok, const char *fmt, ...)
{
	struct plan_check *pc;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->checks = xreallocarray(p->checks, p->nchecks + 1,
	    sizeof(*p->checks));
	pc = &p->checks[p->nchecks++];
	pc->check = name;
	pc->ok = ok;
	pc->message = xstrdup(msg);
}

__attribute__((format(printf, 2, 3))) static void
warn(struct plan *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strv_push(&p->warnings, msg);
}

/*
 * A warning about node: "cp1: <text>". The same text for several nodes
 * becomes one warning, "cp1, cp2, cp3: <text>", instead of a wall of
 * repeats.
 */
__attribute__((format(printf, 3, 4))) static void
warn_node(struct plan *p, const char *node, const char *fmt, ...)
{
	char text[1024], *merged;
	size_t i, n, t;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	t = strlen(text);
	for (i = 0; i < p->warnings.n; i++) {
		n = strlen(p->warnings.v[i]);
		if (n < t + 2 || strcmp(p->warnings.v[i] + n - t, text) != 0 ||
		    strncmp(p->warnings.v[i] + n - t - 2, ": ", 2) != 0)
			continue;
		merged = xasprintf("%.*s, %s: %s", (int)(n - t - 2),
		    p->warnings.v[i], node, text);
		free(p->warnings.v[i]);
		p->warnings.v[i] = merged;
		return;
	}
	warn(p, "%s: %s", node, text);
}

/* Appends ", name" (or "name") to a growing list in buf. */
static void
list_add(struct buf *b, const char *name)
{
	if (b->len > 0)
		buf_puts(b, ", ");
	buf_puts(b, name);
}

int64_t
plan_validity(const struct plan *p)
{
	if (p->validity_s > 0)
		return p->validity_s;
	if (p->config_ok && p->config.cert_validity_s > 0)
		return p->config.cert_validity_s;
	return KUBEADMCFG_LEAF_VALIDITY;
}

/* --- The API side ---------------------------------------------------- */

static void
api_checks(struct ctx *c, struct plan *p, int64_t deadline)
{
	char *version = NULL;

	if (ctx_open_kube(c, true, deadline) != CR_OK ||
	    kube_version(c->kube, deadline, &version) != CR_OK) {
		check(p, PLAN_CHECK_API, false, "%s",
		    c->kube != NULL ? kube_error_message(c->kube) :
				      "the kubeconfig cannot be used");
		return;
	}
	if (strcmp(kube_current_endpoint(c->kube), "kubeconfig") == 0)
		check(p, PLAN_CHECK_API, true, "Kubernetes %s answers at %s",
		    version, kubecfg_server(c->kcfg));
	else
		check(p, PLAN_CHECK_API, true,
		    "Kubernetes %s answers through %s; the kubeconfig's "
		    "server %s does not",
		    version, kube_current_endpoint(c->kube),
		    kubecfg_server(c->kcfg));
	free(version);
	if (kubeadmcfg_fetch(c->kube, deadline, &p->config) == CR_OK) {
		p->config_ok = true;
		check(p, PLAN_CHECK_CONFIG, true,
		    "ClusterConfiguration read from kube-system/kubeadm-config "
		    "(%s); it is passed to 'kubeadm --config'",
		    p->config.api_version);
	} else {
		check(p, PLAN_CHECK_CONFIG, false,
		    "kube-system/kubeadm-config cannot be read: without it "
		    "kubeadm falls back to defaults (certificate directory, "
		    "etcd, key type)");
	}
}

static void
lock_check(struct ctx *c, struct plan *p, const struct plan_opts *o,
    int64_t deadline)
{
	const struct lock_info *li;
	struct lock_opts lo;
	struct lock *l = NULL;
	char msg[512];
	int64_t left;

	lock_opts_init(&lo);
	lock_new(c->kube, &lo, &l);
	if (lock_observe(l, deadline) != CR_OK) {
		check(p, PLAN_CHECK_LOCK, false,
		    "the Lease %s/%s cannot be read", LOCK_NAMESPACE,
		    LOCK_NAME);
	} else if (!(li = lock_seen(l))->exists || li->holder[0] == '\0') {
		check(p, PLAN_CHECK_LOCK, true, "no rollout holds %s/%s",
		    LOCK_NAMESPACE, LOCK_NAME);
	} else if (o->resume_run_id != NULL && li->run_id != NULL &&
	    strcmp(li->run_id, o->resume_run_id) == 0) {
		check(p, PLAN_CHECK_LOCK, true,
		    "held by the run being resumed (%s)", li->run_id);
	} else {
		left = li->renew_ms + li->lease_seconds * 1000LL -
		    clock_now_ms();
		lock_describe_holder(li, left, msg, sizeof(msg));
		check(p, PLAN_CHECK_LOCK, false, "%s", msg);
	}
	lock_free(l);
}

static struct plan_node *
node_by_name(struct plan *p, const char *node_name)
{
	size_t i;

	for (i = 0; i < p->nnodes; i++)
		if (strcmp(p->nodes[i].inv->node_name, node_name) == 0)
			return &p->nodes[i];
	return NULL;
}

static void
cluster_nodes(struct ctx *c, struct plan *p, int64_t deadline)
{
	struct kube_node_list list = { NULL, 0 };
	struct buf missing = BUF_INIT, notready = BUF_INIT;
	struct plan_node *pn;
	size_t i;

	if (kube_list_control_plane_nodes(c->kube, deadline, &list) != CR_OK)
		return;
	for (i = 0; i < list.n; i++) {
		if ((pn = node_by_name(p, list.v[i].name)) == NULL) {
			warn(p,
			    "%s is a control-plane node but not in the "
			    "inventory: its certificates will not be renewed",
			    list.v[i].name);
			continue;
		}
		pn->in_cluster = true;
		if (list.v[i].internal_ip != NULL)
			pn->internal_ip = xstrdup(list.v[i].internal_ip);
		pn->ready = list.v[i].ready == KUBE_COND_TRUE;
		pn->unschedulable = list.v[i].unschedulable;
	}
	for (i = 0; i < p->nnodes; i++) {
		if (!p->nodes[i].in_cluster)
			list_add(&missing, p->nodes[i].inv->node_name);
		else if (!p->nodes[i].ready)
			list_add(&notready, p->nodes[i].inv->node_name);
	}
	if (missing.len == 0)
		check(p, PLAN_CHECK_INVENTORY, true,
		    "every inventory host is a control-plane node");
	else
		check(p, PLAN_CHECK_INVENTORY, false,
		    "not control-plane nodes of this cluster: %s (set "
		    "certroll_node_name when the names differ)",
		    buf_cstr(&missing));
	if (notready.len == 0)
		check(p, PLAN_CHECK_NODES, true,
		    "every control-plane node in the inventory is Ready");
	else
		check(p, PLAN_CHECK_NODES, false, "not Ready: %s",
		    buf_cstr(&notready));
	buf_clear(&missing);
	buf_clear(&notready);
	kube_node_list_clear(&list);
}

/* --- The node side --------------------------------------------------- */

struct gather {
	struct ctx *c;
	struct plan *p;
	int64_t deadline;
};

static void
etcd_probe(struct gather *g, size_t i, struct proto_conn *conn)
{
	struct plan_node *pn = &g->p->nodes[i];
	struct proto_health_req req;
	struct proto_health_rep rep;
	size_t k;

	memset(&req, 0, sizeof(req));
	req.kubernetes_dir = pn->inv->kubernetes_dir;
	strv_push(&req.components, "etcd");
	if (agentc_health(conn, pn->inv->name, &req, g->deadline, &rep) !=
	    CR_OK) {
		pn->etcd_message = xstrdup(agentc_why(conn));
		strv_clear(&req.components);
		return;
	}
	pn->etcd_healthy = rep.ok;
	for (k = 0; k < rep.nchecks && pn->etcd_message == NULL; k++)
		if (!rep.checks[k].ok)
			pn->etcd_message = xasprintf("%s: %s",
			    rep.checks[k].check, rep.checks[k].message);
	proto_health_rep_clear(&rep);
	strv_clear(&req.components);
}

static enum cr_err
gather_one(void *arg, size_t i)
{
	struct gather *g = arg;
	struct plan_node *pn = &g->p->nodes[i];
	struct proto_conn *conn = ctx_agent(g->c, i);
	struct proto_inspect_req req;
	int64_t before, after;
	enum cr_err err;

	if (conn == NULL)
		return CR_ERR_SSH;
	req.kubernetes_dir = pn->inv->kubernetes_dir;
	before = clock_now_ms();
	err = agentc_inspect(conn, pn->inv->name, &req, g->deadline,
	    &pn->inspect);
	after = clock_now_ms();
	if (err != CR_OK)
		return err;
	pn->reached = true;
	pn->skew_ms = pn->inspect.facts.clock_ms - (before + after) / 2;
	if (!pn->inspect.facts.etcd_external)
		etcd_probe(g, i, conn);
	return CR_OK;
}

static void
nodes_gather(struct ctx *c, struct plan *p, int64_t deadline)
{
	enum cr_err *res = xcalloc(c->nnodes, sizeof(*res));
	struct gather g = { c, p, deadline };
	struct buf bad = BUF_INIT;
	size_t i;

	if (ctx_connect_all(c, deadline, res) != CR_OK)
		log_debug("not every node could be reached");
	if (ssh_parallel(c->nnodes, c->o.parallel, gather_one, &g, res) !=
	    CR_OK)
		log_debug("not every node could be inspected");
	for (i = 0; i < p->nnodes; i++)
		if (!p->nodes[i].reached)
			list_add(&bad, p->nodes[i].inv->name);
	if (bad.len == 0)
		check(p, PLAN_CHECK_SSH, true,
		    "SSH and the agent work on every node (%zu)", p->nnodes);
	else
		check(p, PLAN_CHECK_SSH, false,
		    "unreachable or agent failed: %s (see the messages above)",
		    buf_cstr(&bad));
	buf_clear(&bad);
	free(res);
}

/* --- Derived gates --------------------------------------------------- */

static void
etcd_check(struct plan *p, const struct plan_opts *o)
{
	struct buf bad = BUF_INIT;
	size_t i, members = 0, healthy = 0, quorum;

	for (i = 0; i < p->nnodes; i++) {
		if (!p->nodes[i].reached ||
		    p->nodes[i].inspect.facts.etcd_external)
			continue;
		members++;
		if (p->nodes[i].etcd_healthy)
			healthy++;
		else
			list_add(&bad, p->nodes[i].inv->name);
	}
	quorum = members / 2 + 1;
	if (members == 0)
		check(p, PLAN_CHECK_ETCD, true,
		    "etcd is external: not restarted by this rollout");
	else if (healthy < members)
		check(p, PLAN_CHECK_ETCD, false,
		    "%zu of %zu members healthy (unhealthy: %s): taking one "
		    "more down could lose quorum",
		    healthy, members, buf_cstr(&bad));
	else if (members - 1 < quorum && !o->accept_downtime)
		check(p, PLAN_CHECK_ETCD, false,
		    "%zu member(s): quorum (%zu) cannot survive one member "
		    "restarting, so the API would be down; pass "
		    "--accept-downtime to go ahead anyway",
		    members, quorum);
	else
		check(p, PLAN_CHECK_ETCD, true,
		    "%zu of %zu members healthy; quorum (%zu) holds with one "
		    "member down",
		    healthy, members, quorum);
	buf_clear(&bad);
}

/*
 * Whether the rollout may change pn: reached, and named by --only (or no
 * --only). The gates about what a renewal needs (clock, CA, space,
 * leftovers) look at these nodes only; etcd's and the nodes' health look
 * at every node.
 */
static bool
changes(const struct plan_node *pn)
{
	return pn->reached && pn->selected;
}

static void
clock_check(struct plan *p, const struct plan_opts *o)
{
	struct buf bad = BUF_INIT;
	int64_t worst = 0, s;
	size_t i;

	for (i = 0; i < p->nnodes; i++) {
		if (!changes(&p->nodes[i]))
			continue;
		s = p->nodes[i].skew_ms < 0 ? -p->nodes[i].skew_ms :
					      p->nodes[i].skew_ms;
		worst = s > worst ? s : worst;
		if (s > o->max_skew_ms) {
			char item[160];

			snprintf(item, sizeof(item), "%s (%+.1fs)",
			    p->nodes[i].inv->name,
			    (double)p->nodes[i].skew_ms / 1000.0);
			list_add(&bad, item);
		}
	}
	if (bad.len == 0)
		check(p, PLAN_CHECK_CLOCK, true,
		    "node clocks within %.1fs of this machine (limit %.0fs)",
		    (double)worst / 1000.0, (double)o->max_skew_ms / 1000.0);
	else
		check(p, PLAN_CHECK_CLOCK, false,
		    "clocks off by more than %.0fs: %s; renewed certificates "
		    "are back-dated only 5 minutes, so fix the clocks (NTP) "
		    "first",
		    (double)o->max_skew_ms / 1000.0, buf_cstr(&bad));
	buf_clear(&bad);
}

static void
ca_check(struct plan *p)
{
	time_t until = p->now + (time_t)plan_validity(p);
	char when[TIMEFMT_MAX], item[256];
	struct buf bad = BUF_INIT;
	const struct cert_info *ca;
	size_t i, k;

	for (i = 0; i < p->nnodes; i++) {
		const struct cert_list *cas =
		    &p->nodes[i].inspect.certificate_authorities;

		for (k = 0; changes(&p->nodes[i]) && k < cas->n; k++) {
			ca = &cas->v[k];
			if (ca->missing || ca->not_after >= until)
				continue;
			timefmt_rfc3339(ca->not_after, when, sizeof(when));
			snprintf(item, sizeof(item), "%s on %s (until %s)",
			    ca->name, p->nodes[i].inv->name, when);
			list_add(&bad, item);
		}
	}
	timefmt_rfc3339(until, when, sizeof(when));
	if (bad.len == 0)
		check(p, PLAN_CHECK_CA, true,
		    "every CA outlives the renewed certificates (until %s)",
		    when);
	else
		check(p, PLAN_CHECK_CA, false,
		    "renewed certificates (until %s) would outlive their CA: "
		    "%s; replace the CA first or pass a shorter --validity",
		    when, buf_cstr(&bad));
	buf_clear(&bad);
}

static void
space_check(struct plan *p, const struct plan_opts *o)
{
	struct buf bad = BUF_INIT;
	char item[256];
	size_t i;

	for (i = 0; i < p->nnodes; i++) {
		const struct proto_facts *f = &p->nodes[i].inspect.facts;

		if (!changes(&p->nodes[i]) ||
		    f->backup_free_bytes >= o->min_free_bytes)
			continue;
		snprintf(item, sizeof(item), "%s (%" PRId64 " MiB free in %s)",
		    p->nodes[i].inv->name, f->backup_free_bytes >> 20,
		    f->backup_dir);
		list_add(&bad, item);
	}
	if (bad.len == 0)
		check(p, PLAN_CHECK_SPACE, true,
		    "at least %" PRId64 " MiB free for backups on every node",
		    o->min_free_bytes >> 20);
	else
		check(p, PLAN_CHECK_SPACE, false,
		    "less than %" PRId64 " MiB free for backups: %s",
		    o->min_free_bytes >> 20, buf_cstr(&bad));
	buf_clear(&bad);
}

static void
leftovers_check(struct plan *p, const struct plan_opts *o)
{
	struct buf bad = BUF_INIT;
	size_t i, k;

	for (i = 0; i < p->nnodes; i++) {
		const struct strv *l = &p->nodes[i].inspect.facts.leftovers;

		for (k = 0; changes(&p->nodes[i]) && k < l->n; k++) {
			char item[600];

			snprintf(item, sizeof(item), "%s: %s",
			    p->nodes[i].inv->name, l->v[k]);
			list_add(&bad, item);
		}
	}
	/* Resuming an interrupted run finds its own traces: resume fixes
	 * them (held manifests go back first). */
	if (bad.len > 0 && o->resume_run_id != NULL) {
		warn(p, "traces of the interrupted run: %s", buf_cstr(&bad));
		buf_reset(&bad);
	}
	if (bad.len == 0)
		check(p, PLAN_CHECK_LEFTOVERS, true,
		    "no traces of an interrupted run on the nodes");
	else
		check(p, PLAN_CHECK_LEFTOVERS, false,
		    "traces of an interrupted run: %s; 'certroll resume' "
		    "finishes it, 'certroll-agent restart --recover-held' on "
		    "the node puts held manifests back",
		    buf_cstr(&bad));
	buf_clear(&bad);
}

static void
previous_run_check(struct ctx *c, struct plan *p, const struct plan_opts *o)
{
	char *path = NULL, *id = NULL, why[128];
	struct runlog *r = NULL;
	size_t i;

	if (journal_latest(c->state_dir, ctx_cluster(c), &path, &id) != CR_OK) {
		check(p, PLAN_CHECK_PREV_RUN, true, "no earlier run recorded");
		return;
	}
	if (o->resume_run_id != NULL && strcmp(id, o->resume_run_id) == 0) {
		check(p, PLAN_CHECK_PREV_RUN, true, "resuming run %s", id);
	} else if (runlog_load(path, &r, why, sizeof(why)) != CR_OK) {
		check(p, PLAN_CHECK_PREV_RUN, false,
		    "the journal of run %s cannot be read (%s): look at %s", id,
		    why, path);
	} else if (r->result == NULL) {
		check(p, PLAN_CHECK_PREV_RUN, false,
		    "run %s did not finish: 'certroll resume' continues it "
		    "('certroll status' shows where it stopped)",
		    id);
	} else {
		for (i = 0; i < r->nnodes; i++)
			if (r->nodes[i].state == NODE_FAILED)
				break;
		if (i == r->nnodes)
			check(p, PLAN_CHECK_PREV_RUN, true, "run %s ended (%s)",
			    id, r->result);
		else
			check(p, PLAN_CHECK_PREV_RUN, false,
			    "run %s ended (%s) with node %s needing attention: "
			    "see 'certroll status'",
			    id, r->result, r->nodes[i].name);
	}
	runlog_free(r);
	free(path);
	free(id);
}

/* --- Renewal sets, expiry and drains --------------------------------- */

static bool
renewable(const struct cert_info *ci)
{
	return !ci->missing && !ci->externally_managed && !ci->is_ca &&
	    ci->not_after != 0;
}

static void
renew_sets(struct plan *p)
{
	size_t i, k;

	for (i = 0; i < p->nnodes; i++) {
		const struct cert_list *l = &p->nodes[i].inspect.certificates;

		for (k = 0; changes(&p->nodes[i]) && k < l->n; k++) {
			if (!renewable(&l->v[k]))
				continue;
			if (p->renew_before_s == 0 ||
			    l->v[k].not_after - p->now < p->renew_before_s)
				strv_push(&p->nodes[i].renew, l->v[k].name);
		}
	}
}

static void
expired_check(struct plan *p)
{
	char when[TIMEFMT_MAX];
	size_t i, k;

	for (i = 0; i < p->nnodes; i++) {
		const struct cert_list *l = &p->nodes[i].inspect.certificates;

		for (k = 0; p->nodes[i].reached && k < l->n; k++) {
			const struct cert_info *ci = &l->v[k];

			if (ci->missing || ci->not_after > p->now ||
			    (strcmp(ci->name, "apiserver") != 0 &&
				strncmp(ci->name, "etcd-", 5) != 0))
				continue;
			p->expired = true;
			timefmt_rfc3339(ci->not_after, when, sizeof(when));
			check(p, PLAN_CHECK_EXPIRED, false,
			    "%s on %s expired on %s: the control plane cannot "
			    "be drained through its API; run 'certroll "
			    "recover'",
			    ci->name, p->nodes[i].inv->name, when);
			return;
		}
	}
	check(p, PLAN_CHECK_EXPIRED, true,
	    "no serving certificate of the control plane has expired");
}

static void
drain_previews(struct ctx *c, struct plan *p, const struct plan_opts *o)
{
	struct buf bad = BUF_INIT;
	size_t i, k;

	for (i = 0; i < p->nnodes; i++) {
		struct plan_node *pn = &p->nodes[i];

		if (!pn->in_cluster || pn->renew.n == 0)
			continue;
		if (drain_preview(c->kube, pn->inv->node_name, &o->drain,
			&pn->drain) != CR_OK) {
			list_add(&bad, pn->inv->name);
			continue;
		}
		pn->drain_known = true;
		for (k = 0; k < pn->drain.nblockers; k++) {
			char item[700];

			if (!drain_blocks(&pn->drain.blockers[k])) {
				warn_node(p, pn->inv->name,
				    "the drain waits on %s: %s",
				    pn->drain.blockers[k].pod,
				    pn->drain.blockers[k].message);
				continue;
			}
			snprintf(item, sizeof(item), "%s: %s %s: %s",
			    pn->inv->name, pn->drain.blockers[k].kind,
			    pn->drain.blockers[k].pod,
			    pn->drain.blockers[k].message);
			list_add(&bad, item);
		}
	}
	if (bad.len == 0)
		check(p, PLAN_CHECK_DRAIN, true, "every drain can complete");
	else
		check(p, PLAN_CHECK_DRAIN, false,
		    "drains that would not complete: %s", buf_cstr(&bad));
	buf_clear(&bad);
}

/* --- Warnings and the estimate --------------------------------------- */

static bool
legacy_subject(const struct cert_info *ci)
{
	static const char *const names[] = { "apiserver-kubelet-client",
		"admin.conf", "etcd-healthcheck-client",
		"apiserver-etcd-client" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(ci->name, names[i]) == 0)
			return !ci->missing && ci->subject != NULL &&
			    strstr(ci->subject, "O=system:masters") != NULL;
	return false;
}

static void
node_warnings(struct plan *p, const struct plan_node *pn,
    const struct plan_opts *o)
{
	const struct cert_info *kc = pn->inspect.kubelet_client;
	struct buf legacy = BUF_INIT, ext = BUF_INIT;
	char left[32];
	size_t k;

	for (k = 0; k < pn->inspect.certificates.n; k++) {
		const struct cert_info *ci = &pn->inspect.certificates.v[k];

		if (legacy_subject(ci))
			list_add(&legacy, ci->name);
		if (!ci->missing && ci->externally_managed)
			list_add(&ext, ci->name);
	}
	if (legacy.len > 0)
		warn_node(p, pn->inv->name,
		    "%s carry the pre-1.29 subject O=system:masters; renewal "
		    "keeps it, as kubeadm does",
		    buf_cstr(&legacy));
	if (ext.len > 0)
		warn_node(p, pn->inv->name,
		    "%s are signed by an external CA (its key is not on the "
		    "node): they are not renewed here",
		    buf_cstr(&ext));
	if (kc != NULL && !kc->missing &&
	    kc->not_after - p->now < o->warn_expiry_s) {
		duration_short_human(kc->not_after - p->now, left,
		    sizeof(left));
		warn_node(p, pn->inv->name,
		    "the kubelet's client certificate expires in %s; the "
		    "kubelet rotates it itself at 70-90%% of its life, so "
		    "check that rotation works (kubelet.conf should point at "
		    "kubelet-client-current.pem)",
		    left);
	}
	if (pn->inspect.facts.kubeadm_version == NULL)
		warn_node(p, pn->inv->name,
		    "kubeadm is not installed; the native OpenSSL renewer "
		    "re-issues the certificates as kubeadm would");
	buf_clear(&legacy);
	buf_clear(&ext);
}

static void
super_admin_warning(struct plan *p)
{
	struct buf have = BUF_INIT;
	size_t i;
	const struct cert_info *ci;

	for (i = 0; i < p->nnodes; i++) {
		ci = cert_list_find(&p->nodes[i].inspect.certificates,
		    "super-admin.conf");
		if (p->nodes[i].reached && ci != NULL && !ci->missing)
			list_add(&have, p->nodes[i].inv->name);
	}
	if (have.len > 0 && p->nnodes > 1)
		warn(p,
		    "super-admin.conf exists only on %s: kubeadm writes it on "
		    "the node that ran 'kubeadm init'; its absence elsewhere "
		    "is normal",
		    buf_cstr(&have));
	buf_clear(&have);
}

static void
kubeconfig_warning(struct ctx *c, struct plan *p, const struct plan_opts *o)
{
	time_t until;
	char left[32];

	if (c->kcfg == NULL || (until = kubecfg_cert_not_after(c->kcfg)) == 0 ||
	    until - p->now >= o->warn_expiry_s)
		return;
	duration_short_human(until - p->now, left, sizeof(left));
	warn(p,
	    "the client certificate of your kubeconfig (user '%s' in %s) "
	    "expires in %s: run 'certroll kubeconfig refresh' after the "
	    "rollout",
	    kubecfg_user_name(c->kcfg), kubecfg_display_path(c->kcfg), left);
}

/*
 * One node's renewal, from what the plan knows and what the lab measured
 * (docs/operations.md, "The estimate"): a typical duration and an upper
 * bound. Evicted pods usually stop within seconds of SIGTERM, but may use
 * their whole grace period (kubectl's default 30 s, or --grace-period). A
 * restart waits for the kubelet to notice that the manifest left and that
 * it came back: on average one fileCheckFrequency in all, at most two,
 * plus the container's stop and start (etcd takes up to 2.7 s to stop).
 */
struct plan_duration
plan_estimate_node(const struct plan_node *pn, bool first, int64_t grace_s)
{
	int64_t fcf = pn->inspect.facts.file_check_frequency_ms / 1000;
	int64_t parts = pn->inspect.facts.etcd_external ? 3 : 4;
	bool evicts = !pn->drain_known || pn->drain.nevict > 0;
	struct plan_duration d = { 0, 0 };

	if (pn->renew.n == 0)
		return d;
	d.typical_s = (evicts ? 3 : 1) + (first ? 2 : 1) /* backup */ +
	    2 /* renew, verify */ + parts * (fcf + 1) + 1 /* gates */;
	d.max_s = (evicts ? (grace_s >= 0 ? grace_s : 30) + 5 : 2) +
	    (first ? 10 : 3) + 5 + (int64_t)pn->renew.n +
	    parts * (2 * fcf + 7) + 10;
	return d;
}

static void
estimate(struct plan *p, const struct plan_opts *o)
{
	struct plan_duration d;
	bool first = true;
	size_t i;

	p->estimated_s = p->estimated_max_s = 0;
	for (i = 0; i < p->nnodes; i++) {
		if (p->nodes[i].renew.n == 0)
			continue;
		d = plan_estimate_node(&p->nodes[i], first,
		    o->drain.grace_period);
		p->estimated_s += d.typical_s;
		p->estimated_max_s += d.max_s;
		first = false;
	}
}

/* --- Building -------------------------------------------------------- */

enum cr_err
plan_build(struct ctx *c, const struct plan_opts *o, struct plan *p)
{
	int64_t deadline = clock_deadline_ms(PLAN_TIMEOUT_MS);
	size_t i;

	memset(p, 0, sizeof(*p));
	p->now = clock_now();
	p->validity_s = o->validity_s;
	p->renew_before_s = o->renew_before_s;
	p->nnodes = c->nnodes;
	p->nodes = xcalloc(p->nnodes > 0 ? p->nnodes : 1, sizeof(*p->nodes));
	for (i = 0; i < p->nnodes; i++) {
		p->nodes[i].inv = c->nodes[i].inv;
		p->nodes[i].selected = c->nodes[i].selected;
	}
	api_checks(c, p, deadline);
	if (c->kube != NULL && p->nchecks > 0 && p->checks[0].ok) {
		lock_check(c, p, o, deadline);
		cluster_nodes(c, p, deadline);
	}
	nodes_gather(c, p, deadline);
	renew_sets(p);
	expired_check(p);
	etcd_check(p, o);
	clock_check(p, o);
	ca_check(p);
	space_check(p, o);
	leftovers_check(p, o);
	previous_run_check(c, p, o);
	if (c->kube != NULL && p->checks[0].ok)
		drain_previews(c, p, o);
	for (i = 0; i < p->nnodes; i++)
		if (changes(&p->nodes[i]))
			node_warnings(p, &p->nodes[i], o);
	super_admin_warning(p);
	kubeconfig_warning(c, p, o);
	estimate(p, o);
	return CR_OK;
}

bool
plan_blocked(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nchecks; i++)
		if (!p->checks[i].ok)
			return true;
	return false;
}

void
plan_clear(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nnodes; i++) {
		proto_inspect_rep_clear(&p->nodes[i].inspect);
		free(p->nodes[i].etcd_message);
		free(p->nodes[i].internal_ip);
		strv_clear(&p->nodes[i].renew);
		drain_preview_clear(&p->nodes[i].drain);
	}
	free(p->nodes);
	for (i = 0; i < p->nchecks; i++)
		free(p->checks[i].message);
	free(p->checks);
	strv_clear(&p->warnings);
	if (p->config_ok)
		kubeadmcfg_clear(&p->config);
	memset(p, 0, sizeof(*p));
}

/* --- JSON ------------------------------------------------------------ */

static json_object *
certs_json(const struct plan *p, const struct plan_node *pn)
{
	json_object *a = json_object_new_array(), *o;
	char when[TIMEFMT_MAX];
	bool renew;
	size_t k;

	timefmt_rfc3339(p->now + (time_t)plan_validity(p), when, sizeof(when));
	for (k = 0; k < pn->inspect.certificates.n; k++) {
		const struct cert_info *ci = &pn->inspect.certificates.v[k];

		o = certinfo_to_json(ci, p->now);
		renew = strv_has(&pn->renew, ci->name);
		jv_add_bool(o, "renew", renew);
		jv_add_str(o, "new_not_after", renew ? when : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *
strv_json(const struct strv *sv)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_object_array_add(a, json_object_new_string(sv->v[i]));
	return a;
}

/* Moves the members of the drain preview's JSON into o. */
static void
drain_json(const struct plan_node *pn, json_object *o)
{
	static const char *const keys[] = { "evict", "keep", "blockers" };
	json_object *d = pn->drain_known ? drain_preview_to_json(&pn->drain) :
					   NULL;
	json_object *v;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = d != NULL ? jv_arr(d, keys[i]) : NULL;
		json_object_object_add(o, keys[i],
		    v != NULL ? json_object_get(v) : json_object_new_array());
	}
	json_object_put(d);
}

static json_object *
node_json(const struct plan *p, const struct plan_node *pn, size_t order)
{
	json_object *o = json_object_new_object(), *enc, *facts;

	jv_add_str(o, "name", pn->inv->name);
	jv_add_str(o, "node_name", pn->inv->node_name);
	jv_add_str(o, "address", pn->inv->address);
	jv_add_int(o, "order", (int64_t)order);
	jv_add_bool(o, "selected", pn->selected);
	jv_add_bool(o, "reached", pn->reached);
	jv_add_bool(o, "ready", pn->ready);
	jv_add_bool(o, "unschedulable", pn->unschedulable);
	jv_add_bool(o, "etcd_healthy", pn->etcd_healthy);
	jv_add_int(o, "clock_skew_ms", pn->skew_ms);
	json_object_object_add(o, "certificates", certs_json(p, pn));
	json_object_object_add(o, "certificate_authorities",
	    cert_list_to_json(&pn->inspect.certificate_authorities, p->now));
	json_object_object_add(o, "renew", strv_json(&pn->renew));
	drain_json(pn, o);
	if (pn->reached) {
		enc = proto_inspect_rep_encode(&pn->inspect);
		facts = jv_obj(enc, "facts");
		json_object_object_add(o, "facts",
		    facts != NULL ? json_object_get(facts) : NULL);
		json_object_put(enc);
	}
	return o;
}

json_object *
plan_to_json(const struct plan *p)
{
	json_object *o = json_object_new_object(), *a, *c;
	char when[TIMEFMT_MAX];
	size_t i;

	timefmt_rfc3339(p->now, when, sizeof(when));
	jv_add_str(o, "time", when);
	jv_add_int(o, "validity_seconds", plan_validity(p));
	jv_add_int(o, "renew_before_seconds", p->renew_before_s);
	a = json_object_new_array();
	for (i = 0; i < p->nnodes; i++)
		json_object_array_add(a, node_json(p, &p->nodes[i], i + 1));
	json_object_object_add(o, "nodes", a);
	a = json_object_new_array();
	for (i = 0; i < p->nchecks; i++) {
		c = json_object_new_object();
		jv_add_str(c, "check", p->checks[i].check);
		jv_add_bool(c, "ok", p->checks[i].ok);
		jv_add_str(c, "message", p->checks[i].message);
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "preflight", a);
	json_object_object_add(o, "warnings", strv_json(&p->warnings));
	jv_add_int(o, "estimated_seconds", p->estimated_s);
	jv_add_int(o, "estimated_max_seconds", p->estimated_max_s);
	jv_add_bool(o, "blocked", plan_blocked(p));
	jv_add_bool(o, "expired", p->expired);
	json_object_object_add(o, "cluster_config",
	    p->config_ok ? kubeadmcfg_to_json(&p->config) : NULL);
	return o;
}

/* --- Text ------------------------------------------------------------ */

static void
print_cert(const struct plan *p, const struct plan_node *pn,
    const struct cert_info *ci, FILE *fp)
{
	char exp[TIMEFMT_MAX], left[32], after[TIMEFMT_MAX];
	bool renew = strv_has(&pn->renew, ci->name);

	if (ci->missing) {
		fprintf(fp, "     %-26s !MISSING!%s%s\n", ci->name,
		    ci->note != NULL ? " " : "",
		    ci->note != NULL ? ci->note : "");
		return;
	}
	timefmt_kubeadm(ci->not_after, exp, sizeof(exp));
	duration_short_human(ci->not_after - p->now, left, sizeof(left));
	timefmt_kubeadm(p->now + (time_t)plan_validity(p), after,
	    sizeof(after));
	fprintf(fp, "     %-26s %-24s %-10s %s\n", ci->name, exp, left,
	    renew                      ? after :
		ci->externally_managed ? "kept (external CA)" :
					 "kept");
}

static void
print_drain(const struct plan_node *pn, FILE *fp)
{
	size_t k;

	if (!pn->drain_known) {
		fprintf(fp, "     drain: not known (the API did not answer)\n");
		return;
	}
	fprintf(fp, "     drain: evicts %zu pod%s", pn->drain.nevict,
	    pn->drain.nevict == 1 ? "" : "s");
	for (k = 0; k < pn->drain.nevict; k++)
		fprintf(fp, "%s%s/%s", k == 0 ? ": " : ", ",
		    pn->drain.evict[k].namespace, pn->drain.evict[k].name);
	fprintf(fp, "\n            keeps %zu", pn->drain.nkeep);
	for (k = 0; k < pn->drain.nkeep; k++)
		fprintf(fp, "%s%s/%s (%s)", k == 0 ? ": " : ", ",
		    pn->drain.keep[k].namespace, pn->drain.keep[k].name,
		    pn->drain.keep[k].reason);
	fprintf(fp, "\n");
	for (k = 0; k < pn->drain.nblockers; k++)
		fprintf(fp, "            %s %s %s: %s\n",
		    drain_blocks(&pn->drain.blockers[k]) ? "BLOCKED by" :
							   "waits on",
		    pn->drain.blockers[k].kind, pn->drain.blockers[k].pod,
		    pn->drain.blockers[k].message);
}

static void
print_node(const struct plan *p, const struct plan_node *pn, size_t order,
    FILE *fp)
{
	size_t k;

	fprintf(fp, "\n%zu. %s (%s, node %s)", order, pn->inv->name,
	    pn->inv->address, pn->inv->node_name);
	if (!pn->reached) {
		fprintf(fp, ": not reached, nothing known\n");
		return;
	}
	fprintf(fp, ": %s, %s, etcd %s\n",
	    !pn->in_cluster ? "not in the cluster" :
		pn->ready   ? "Ready" :
			      "NOT Ready",
	    pn->unschedulable ? "cordoned by someone (stays cordoned)" :
				"schedulable",
	    pn->inspect.facts.etcd_external ? "external" :
		pn->etcd_healthy            ? "healthy" :
					      "UNHEALTHY");
	fprintf(fp, "     %-26s %-24s %-10s %s\n", "CERTIFICATE", "EXPIRES",
	    "RESIDUAL", "AFTER RENEWAL");
	for (k = 0; k < pn->inspect.certificates.n; k++)
		print_cert(p, pn, &pn->inspect.certificates.v[k], fp);
	if (!pn->selected)
		fprintf(fp,
		    "     not in --only: nothing renewed; its etcd "
		    "member still counts for quorum\n");
	else if (pn->renew.n == 0)
		fprintf(fp, "     nothing to renew: the node is skipped\n");
	else
		print_drain(pn, fp);
}

void
plan_print(const struct plan *p, FILE *fp)
{
	char valid[32], until[TIMEFMT_MAX], before[32], took[32], most[32];
	size_t i;

	duration_format(plan_validity(p), valid, sizeof(valid));
	timefmt_kubeadm(p->now + (time_t)plan_validity(p), until,
	    sizeof(until));
	duration_format(p->renew_before_s, before, sizeof(before));
	fprintf(fp,
	    "Plan for %zu control-plane node%s: renewing %s%s; new "
	    "certificates valid for %s (until %s)\n",
	    p->nnodes, p->nnodes == 1 ? "" : "s",
	    p->renew_before_s == 0 ? "every certificate" :
				     "what expires within ",
	    p->renew_before_s == 0 ? "" : before, valid, until);
	fprintf(fp, "\nPreflight\n");
	for (i = 0; i < p->nchecks; i++)
		fprintf(fp, "  %-4s  %-18s %s\n",
		    p->checks[i].ok ? "ok" : "FAIL", p->checks[i].check,
		    p->checks[i].message);
	for (i = 0; i < p->nnodes; i++)
		print_node(p, &p->nodes[i], i + 1, fp);
	if (p->warnings.n > 0)
		fprintf(fp, "\nWarnings\n");
	for (i = 0; i < p->warnings.n; i++)
		fprintf(fp, "  - %s\n", p->warnings.v[i]);
	duration_format(p->estimated_s, took, sizeof(took));
	duration_format(p->estimated_max_s, most, sizeof(most));
	fprintf(fp,
	    "\nEstimated duration: about %s; at most about %s if every "
	    "evicted pod takes\nits whole grace period and every restart "
	    "the kubelet's fileCheckFrequency twice\n",
	    took, most);
	if (!plan_blocked(p)) {
		fprintf(fp, "Result: 'certroll apply' would proceed.\n");
		return;
	}
	fprintf(fp, "Result: 'certroll apply' is blocked by:");
	for (i = 0; i < p->nchecks; i++)
		if (!p->checks[i].ok)
			fprintf(fp, " %s", p->checks[i].check);
	fprintf(fp, "%s\n",
	    p->expired ? "\n        The certificates have expired: run "
			 "'certroll recover -i INVENTORY'." :
			 "");
}

/* --- Comparing a saved plan ------------------------------------------ */

static const char *
saved_serial(json_object *node, const char *cert)
{
	json_object *certs = jv_arr(node, "certificates"), *c;
	size_t i;

	for (i = 0; certs != NULL && i < json_object_array_length(certs); i++) {
		c = json_object_array_get_idx(certs, i);
		if (jv_str(c, "name") != NULL &&
		    strcmp(jv_str(c, "name"), cert) == 0)
			return jv_str(c, "serial");
	}
	return NULL;
}

static bool
same_renew_set(json_object *node, const struct plan_node *pn, char *why,
    size_t len)
{
	json_object *renew = jv_arr(node, "renew");
	const struct cert_info *ci;
	const char *serial;
	size_t k;

	if (renew == NULL || json_object_array_length(renew) != pn->renew.n) {
		snprintf(why, len, "%s: the certificates to renew changed",
		    pn->inv->name);
		return false;
	}
	for (k = 0; k < pn->renew.n; k++) {
		ci = cert_list_find(&pn->inspect.certificates, pn->renew.v[k]);
		serial = saved_serial(node, pn->renew.v[k]);
		if (ci == NULL || serial == NULL || ci->serial == NULL ||
		    strcmp(serial, ci->serial) != 0) {
			snprintf(why, len,
			    "%s: %s is not the certificate the plan saw "
			    "(serial changed)",
			    pn->inv->name, pn->renew.v[k]);
			return false;
		}
	}
	return true;
}

/* How many of a saved plan's blockers b stop the drain. */
static size_t
saved_blocking(json_object *b)
{
	size_t i, n = 0, len = b != NULL ? json_object_array_length(b) : 0;
	const char *kind;

	for (i = 0; i < len; i++) {
		kind = jv_str(json_object_array_get_idx(b, i), "kind");
		if (kind == NULL || strcmp(kind, DRAIN_PDB_WAIT) != 0)
			n++;
	}
	return n;
}

/* How many of the preview's blockers stop the drain. */
static size_t
now_blocking(const struct drain_preview *pv)
{
	size_t i, n = 0;

	for (i = 0; i < pv->nblockers; i++)
		if (drain_blocks(&pv->blockers[i]))
			n++;
	return n;
}

/* One node of a saved plan against the same node now. */
static bool
same_node(json_object *n, const struct plan_node *pn, size_t i, char *why,
    size_t len)
{
	const char *name = jv_str(n, "name");
	json_object *b = jv_arr(n, "blockers");

	if (name == NULL || strcmp(name, pn->inv->name) != 0) {
		snprintf(why, len, "node %zu is %s now, not %s", i + 1,
		    pn->inv->name, name != NULL ? name : "?");
		return false;
	}
	if (!same_renew_set(n, pn, why, len))
		return false;
	if (now_blocking(&pn->drain) > saved_blocking(b)) {
		snprintf(why, len, "%s: its drain is blocked now",
		    pn->inv->name);
		return false;
	}
	return true;
}

enum cr_err
plan_compare(json_object *saved, const struct plan *now, char *why, size_t len)
{
	json_object *nodes = jv_arr(saved, "nodes");
	size_t i;

	if (nodes == NULL || json_object_array_length(nodes) != now->nnodes) {
		snprintf(why, len, "the plan has %zu nodes, the inventory %zu",
		    nodes != NULL ? json_object_array_length(nodes) : 0,
		    now->nnodes);
		return CR_ERR_STATE;
	}
	for (i = 0; i < now->nnodes; i++)
		if (!same_node(json_object_array_get_idx(nodes, i),
			&now->nodes[i], i, why, len))
			return CR_ERR_STATE;
	return CR_OK;
}
