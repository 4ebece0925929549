/*
 * What each state of a node's renewal does (node.h's struct node_ops):
 * the Kubernetes side through kube/drain, the node side through its
 * agent, the lock checked before every disruptive act, and the health
 * gates that must pass before a node is given back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc.h"
#include "clock.h"
#include "drain.h"
#include "jv.h"
#include "kube.h"
#include "log.h"
#include "progress.h"
#include "rollout_int.h"
#include "runlog.h"
#include "timefmt.h"
#include "xmalloc.h"

#define API_CALL_MS   (30LL * 1000)
#define AGENT_CALL_MS (10LL * 60 * 1000)
/* The gates are a handful of cheap reads of one node: a short interval
 * keeps a healthy node from waiting (docs/benchmarks.md, rollout). */
#define GATE_POLL_MS 500
/* How much earlier than our restart a container may claim to have
 * started (clock skew between the node and this machine). */
#define START_SLACK_MS 5000

/* The agent's default backup root (the requests' fields are not const). */
static char backup_root[] = "/var/lib/certroll/backups";

struct rnode *
rollout_rnode(struct node *n)
{
	return (struct rnode *)(void *)n;
}

static const char *
kname(const struct rnode *rn)
{
	return rn->pn->inv->node_name;
}

/* rn's agent connection, reopened if it broke; NULL if unreachable. */
static struct proto_conn *
agent(struct run *r, struct rnode *rn)
{
	return ctx_agent_live(r->c, rn->ci, clock_deadline_ms(API_CALL_MS));
}

static void
on_progress(void *arg, const struct proto_progress *p)
{
	const struct rnode *rn = arg;

	progress_detail(rn->n.name, "%s: %s", p->phase, p->message);
}

/* The agent connection of rn with progress shown, or NULL (node_fail). */
static struct proto_conn *
agent_for(struct run *r, struct rnode *rn)
{
	struct proto_conn *conn = agent(r, rn);

	if (conn == NULL) {
		node_fail(&rn->n, CR_ERR_SSH, "%s: the agent cannot be reached",
		    node_state_name(rn->n.state));
		return NULL;
	}
	proto_conn_on_progress(conn, on_progress, rn);
	return conn;
}

static enum cr_err
agent_failed(struct rnode *rn, struct proto_conn *conn, enum cr_err err)
{
	node_fail(&rn->n, err, "%s: %s", node_state_name(rn->n.state),
	    agentc_why(conn)[0] != '\0' ? agentc_why(conn) : cr_strerror(err));
	return err;
}

/* Check-before-act: the lock must still be ours (invariant 6). */
static enum cr_err
lock_ok(struct run *r, struct rnode *rn)
{
	if (lease_verify(r->lease, clock_deadline_ms(API_CALL_MS)) == CR_OK)
		return CR_OK;
	node_fail(&rn->n, CR_ERR_STATE,
	    "%s: the rollout lock is no longer ours; stopping",
	    node_state_name(rn->n.state));
	return CR_ERR_STATE;
}

static char *
cordoned_csv(const struct run *r)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < r->cordoned.n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_puts(&b, r->cordoned.v[i]);
	}
	return buf_detach(&b, NULL);
}

static enum cr_err
record_cordoned(struct run *r)
{
	char *csv = cordoned_csv(r);
	enum cr_err err = lease_set_cordoned(r->lease, csv,
	    clock_deadline_ms(API_CALL_MS));

	free(csv);
	return err;
}

static void
forget_cordoned(struct run *r, const char *name)
{
	size_t i, j;

	for (i = j = 0; i < r->cordoned.n; i++) {
		if (strcmp(r->cordoned.v[i], name) == 0) {
			free(r->cordoned.v[i]);
			continue;
		}
		r->cordoned.v[j++] = r->cordoned.v[i];
	}
	r->cordoned.n = j;
}

/* --- etcd quorum (invariant 2) --------------------------------------- */

/*
 * True when node i's etcd member answers, gateway call included. An agent
 * session that died while idle (its agent killed after the node's last
 * request: agent@uncordon) shows it only by failing this request; that
 * says nothing about etcd, so the question is asked again over a new
 * session, once.
 */
static bool
etcd_member_healthy(struct run *r, size_t i)
{
	struct proto_health_req req;
	struct proto_health_rep rep;
	struct proto_conn *conn;
	bool ok = false, answered = false;
	int attempt;

	memset(&req, 0, sizeof(req));
	req.kubernetes_dir = r->c->nodes[i].inv->kubernetes_dir;
	strv_push(&req.components, "etcd");
	for (attempt = 0; attempt < 2 && !answered; attempt++) {
		conn = ctx_agent_live(r->c, i, clock_deadline_ms(API_CALL_MS));
		if (conn == NULL)
			break;
		if (agentc_health(conn, r->c->nodes[i].inv->name, &req,
			clock_deadline_ms(API_CALL_MS), &rep) == CR_OK) {
			ok = rep.ok;
			proto_health_rep_clear(&rep);
			answered = true;
		} else if (!proto_conn_broken(conn)) {
			break; /* refused: not a dead session */
		}
	}
	strv_clear(&req.components);
	return ok;
}

/*
 * Every etcd member of the control plane but node skip's ((size_t)-1:
 * none) answers right now; unhealthy members are named in bad. Nodes with
 * external etcd do not count.
 */
static bool
etcd_healthy_but(struct run *r, size_t skip, struct buf *bad)
{
	size_t i;

	for (i = 0; i < r->c->nnodes; i++) {
		if (i == skip ||
		    (r->plan.nodes[i].reached &&
			r->plan.nodes[i].inspect.facts.etcd_external))
			continue;
		if (!etcd_member_healthy(r, i)) {
			if (bad->len > 0)
				buf_puts(bad, ", ");
			buf_puts(bad, r->c->nodes[i].inv->name);
		}
	}
	return bad->len == 0;
}

static bool
etcd_all_healthy(struct run *r, struct buf *bad)
{
	return etcd_healthy_but(r, (size_t)-1, bad);
}

/*
 * Invariant 2 where it bites: the restart (or rollback) about to run
 * stops rn's etcd member, so every other member must be healthy now. The
 * check before the cordon can be minutes old (a long drain; a member cut
 * off since). rn's own member does not count: it may be down already (an
 * agent killed in its restart left its manifest held, which the restart
 * or rollback puts back), and stopping it again changes nothing. Waits
 * like a gate, up to the health timeout; then fails the node with
 * nothing stopped.
 */
static enum cr_err
quorum_wait(struct run *r, struct rnode *rn)
{
	int64_t deadline = clock_deadline_ms(r->o->health_timeout_s * 1000);
	struct buf bad = BUF_INIT;

	if (rn->pn->inspect.facts.etcd_external)
		return CR_OK; /* no member of its own to stop */
	for (;;) {
		buf_reset(&bad);
		if (etcd_healthy_but(r, rn->ci, &bad)) {
			buf_clear(&bad);
			return CR_OK;
		}
		progress_detail(rn->n.name,
		    "waiting: other etcd members not healthy: %s (stopping "
		    "%s's member now could lose quorum)",
		    buf_cstr(&bad), rn->n.name);
		if (clock_remaining_ms(deadline) < GATE_POLL_MS)
			break;
		clock_sleep_ms(GATE_POLL_MS);
	}
	node_fail(&rn->n, CR_ERR_HEALTH,
	    "%s: other etcd members not healthy for %llds (%s): stopping "
	    "%s's member could lose quorum, so nothing was restarted",
	    node_state_name(rn->n.state), (long long)r->o->health_timeout_s,
	    buf_cstr(&bad), rn->n.name);
	buf_clear(&bad);
	return CR_ERR_HEALTH;
}

/* --- The Kubernetes side --------------------------------------------- */

static enum cr_err
op_observe(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	struct kube_node_info ni;
	struct buf bad = BUF_INIT;
	enum cr_err err;

	if ((err = lock_ok(r, rn)) != CR_OK)
		return err;
	/* Quorum can change during a rollout: look again before each node. */
	if (!etcd_all_healthy(r, &bad)) {
		node_fail(n, CR_ERR_HEALTH,
		    "observe: etcd members not healthy (%s): taking %s out "
		    "could lose quorum",
		    buf_cstr(&bad), n->name);
		buf_clear(&bad);
		return CR_ERR_HEALTH;
	}
	buf_clear(&bad);
	memset(&ni, 0, sizeof(ni));
	if ((err = kube_get_node(r->c->kube, kname(rn),
		 clock_deadline_ms(API_CALL_MS), &ni)) != CR_OK) {
		node_fail(n, err, "observe: %s",
		    kube_error_message(r->c->kube));
		return err;
	}
	n->was_cordoned = ni.unschedulable;
	kube_node_info_clear(&ni);
	return CR_OK;
}

static enum cr_err
op_cordon(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	bool was = false;
	enum cr_err err;

	if (n->was_cordoned)
		return CR_OK; /* the operator's cordon; ours is not needed */
	if ((err = lock_ok(r, rn)) != CR_OK)
		return err;
	/* The intent goes into the Lease before the request, so whoever
	 * takes over after a crash knows the cordon may be ours. */
	if (!strv_has(&r->cordoned, n->name))
		strv_push(&r->cordoned, n->name);
	if (record_cordoned(r) != CR_OK)
		log_warnx("node %s: could not record the cordon in the lock",
		    n->name);
	if ((err = kube_cordon(r->c->kube, kname(rn),
		 clock_deadline_ms(API_CALL_MS), &was)) != CR_OK)
		node_fail(n, err, "cordon: %s", kube_error_message(r->c->kube));
	return err;
}

static void
on_drain(void *arg, const struct drain_progress *p)
{
	const char *name = ((const struct rnode *)arg)->n.name;

	if (p->blocker != NULL)
		progress_detail(name, "evicted %zu/%zu, waiting: %s", p->done,
		    p->total, p->blocker);
	else
		progress_detail(name, "evicted %zu/%zu", p->done, p->total);
}

static enum cr_err
op_drain(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	struct drain_opts d = r->o->plan.drain;
	struct drain_result res;
	enum cr_err err;
	char *why;

	if ((err = lock_ok(r, rn)) != CR_OK)
		return err;
	d.out = NULL;
	d.err = NULL;
	d.progress = on_drain;
	d.progress_arg = rn;
	memset(&res, 0, sizeof(res));
	err = drain_node(r->c->kube, kname(rn), &d, &res);
	if (err != CR_OK) {
		why = drain_join_errors(&res.errors);
		node_fail(n, err, "drain: %s%s",
		    why[0] != '\0' ? why : cr_strerror(err),
		    err == CR_ERR_TIMEOUT ? " (the node is released; pass a "
					    "longer --timeout or fix the "
					    "PodDisruptionBudget)" :
					    "");
		free(why);
	}
	drain_result_clear(&res);
	return err;
}

static enum cr_err
op_uncordon(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	bool was = false;
	enum cr_err err;

	err = kube_uncordon(r->c->kube, kname(rn),
	    clock_deadline_ms(API_CALL_MS), &was);
	if (err != CR_OK) {
		node_fail(n, err,
		    "uncordon: %s; the node is still cordoned: run "
		    "'certroll uncordon %s' or 'certroll resume'",
		    kube_error_message(r->c->kube), kname(rn));
		return err;
	}
	forget_cordoned(r, n->name);
	if (record_cordoned(r) != CR_OK)
		log_warnx("node %s: could not record the uncordon in the lock",
		    n->name);
	return CR_OK;
}

/* --- The node side --------------------------------------------------- */

static enum cr_err
take_snapshot(struct run *r, struct rnode *rn, struct proto_conn *conn)
{
	struct proto_snapshot_req req;
	struct proto_snapshot_rep rep;
	enum cr_err err;

	req.kubernetes_dir = rn->pn->inv->kubernetes_dir;
	req.dest_dir = rn->backup;
	err = agentc_snapshot(conn, rn->n.name, &req,
	    clock_deadline_ms(AGENT_CALL_MS), &rep);
	if (err != CR_OK)
		return agent_failed(rn, conn, err);
	free(rn->snapshot);
	rn->snapshot = xstrdup(rep.path);
	proto_snapshot_rep_clear(&rep);
	r->snapshot_taken = true;
	return rollout_fact(r, rn, "snapshot", rn->snapshot);
}

/*
 * Copies the node's backup (with the snapshot inside it) to the
 * workstation: <fetch-backups>/<run>/<node>/<backup name>, files 0600
 * under 0700 directories.
 */
static enum cr_err
fetch_backup(struct run *r, struct rnode *rn)
{
	const char *base = strrchr(rn->backup, '/');
	char *local;
	enum cr_err err;

	local = xasprintf("%s/%s/%s/%s", r->o->fetch_backups,
	    journal_run_id(r->j), rn->n.name,
	    base != NULL ? base + 1 : rn->backup);
	progress_detail(rn->n.name, "copying the backup to %s", local);
	err = ssh_download_tree(r->c->nodes[rn->ci].ssh, rn->backup, local,
	    clock_deadline_ms(AGENT_CALL_MS));
	if (err == CR_OK)
		err = rollout_fact(r, rn, "fetched", local);
	else
		node_fail(&rn->n, err, "backup: copying it to '%s' failed",
		    local);
	free(local);
	return err;
}

static enum cr_err
op_backup(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	struct proto_conn *conn;
	struct proto_backup_req req;
	struct proto_backup_rep rep;
	enum cr_err err;

	if ((err = lock_ok(r, rn)) != CR_OK)
		return err;
	if ((conn = agent_for(r, rn)) == NULL)
		return CR_ERR_SSH;
	req.kubernetes_dir = rn->pn->inv->kubernetes_dir;
	req.backup_dir = backup_root;
	req.keep = r->o->keep;
	err = agentc_backup(conn, n->name, &req,
	    clock_deadline_ms(AGENT_CALL_MS), &rep);
	if (err != CR_OK)
		return agent_failed(rn, conn, err);
	free(rn->backup);
	rn->backup = xstrdup(rep.path);
	proto_backup_rep_clear(&rep);
	if ((err = rollout_fact(r, rn, "backup", rn->backup)) != CR_OK)
		return err;
	if (r->o->snapshot && !r->snapshot_taken &&
	    !rn->pn->inspect.facts.etcd_external &&
	    (err = take_snapshot(r, rn, conn)) != CR_OK)
		return err;
	return r->o->fetch_backups != NULL ? fetch_backup(r, rn) : CR_OK;
}

static json_object *
renewed_json(const struct proto_renew_rep *rep)
{
	json_object *a = json_object_new_array(), *o;
	char when[TIMEFMT_MAX];
	size_t i;

	for (i = 0; i < rep->nrenewed; i++) {
		o = json_object_new_object();
		jv_add_str(o, "name", rep->renewed[i].name);
		jv_add_str(o, "old_serial", rep->renewed[i].old_serial);
		jv_add_str(o, "new_serial", rep->renewed[i].new_serial);
		timefmt_rfc3339(rep->renewed[i].old_not_after, when,
		    sizeof(when));
		jv_add_str(o, "old_not_after", when);
		timefmt_rfc3339(rep->renewed[i].new_not_after, when,
		    sizeof(when));
		jv_add_str(o, "new_not_after", when);
		json_object_array_add(a, o);
	}
	return a;
}

static const struct proto_renewed *
find_renewed(const struct proto_renew_rep *rep, const char *name)
{
	size_t k;

	for (k = 0; k < rep->nrenewed; k++)
		if (strcmp(rep->renewed[k].name, name) == 0)
			return &rep->renewed[k];
	return NULL;
}

static const char *
skip_reason(const struct proto_renew_rep *rep, const char *name)
{
	size_t k;

	for (k = 0; k < rep->nskipped; k++)
		if (strcmp(rep->skipped[k].name, name) == 0)
			return rep->skipped[k].reason;
	return NULL;
}

/* Every certificate the plan meant to renew was renewed. */
static enum cr_err
renewed_all(struct rnode *rn, const struct proto_renew_rep *rep)
{
	const char *name, *why;
	size_t i;

	for (i = 0; i < rn->pn->renew.n; i++) {
		name = rn->pn->renew.v[i];
		if (find_renewed(rep, name) != NULL)
			continue;
		why = skip_reason(rep, name);
		node_fail(&rn->n, CR_ERR_VERIFY,
		    "renew: %s was not renewed%s%s", name,
		    why != NULL ? ": " : "", why != NULL ? why : "");
		return CR_ERR_VERIFY;
	}
	return CR_OK;
}

static enum cr_err
verify_files(struct rnode *rn, struct proto_conn *conn, bool quiet)
{
	struct proto_verify_req req;
	struct proto_verify_rep rep;
	enum cr_err err;
	size_t i;

	req.kubernetes_dir = rn->pn->inv->kubernetes_dir;
	req.backup = rn->backup;
	req.names = rn->pn->renew;
	err = agentc_verify(conn, rn->n.name, &req,
	    clock_deadline_ms(AGENT_CALL_MS), &rep);
	if (err != CR_OK)
		return quiet ? err : agent_failed(rn, conn, err);
	for (i = 0; !rep.ok && !quiet && i < rep.nresults; i++)
		if (!rep.results[i].ok)
			node_fail(&rn->n, CR_ERR_VERIFY, "verify: %s: %s",
			    rep.results[i].name,
			    rep.results[i].problems.n > 0 ?
				rep.results[i].problems.v[0] :
				"failed");
	err = rep.ok ? CR_OK : CR_ERR_VERIFY;
	proto_verify_rep_clear(&rep);
	return err;
}

/* The RENEW request; free run_id and key_algorithm afterwards. */
static void
renew_req(struct run *r, struct rnode *rn, struct proto_renew_req *req)
{
	memset(req, 0, sizeof(*req));
	req->run_id = xstrdup(journal_run_id(r->j));
	req->kubernetes_dir = rn->pn->inv->kubernetes_dir;
	req->backup_dir = backup_root;
	req->keep = r->o->keep;
	req->targets = rn->pn->renew;
	req->backend = r->o->backend;
	req->validity_s = plan_validity(&r->plan);
	req->key_algorithm = xstrdup(
	    r->o->key_algorithm != NULL ? r->o->key_algorithm : "");
	req->cluster_config = r->plan.config_ok ? r->plan.config.yaml : NULL;
}

static enum cr_err
op_renew(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	struct proto_renew_req req;
	struct proto_renew_rep rep;
	struct proto_conn *conn;
	enum cr_err err;

	if ((err = lock_ok(r, rn)) != CR_OK)
		return err;
	if ((conn = agent_for(r, rn)) == NULL)
		return CR_ERR_SSH;
	/* A run killed during renewal: if every certificate was renewed and
	 * verifies, it is not renewed again. */
	if (rn->resumed_renew && verify_files(rn, conn, true) == CR_OK) {
		log_info("node %s: already renewed before the interruption",
		    n->name);
		return CR_OK;
	}
	renew_req(r, rn, &req);
	err = agentc_renew(conn, n->name, &req,
	    clock_deadline_ms(AGENT_CALL_MS), &rep);
	free(req.run_id);
	free(req.key_algorithm);
	if (err != CR_OK)
		return agent_failed(rn, conn, err);
	if (journal_append(r->j, "renewed",
		runlog_renewed(n->name, renewed_json(&rep))) != CR_OK)
		log_warn("node %s: cannot record the renewed certificates",
		    n->name);
	err = renewed_all(rn, &rep);
	proto_renew_rep_clear(&rep);
	return err;
}

static enum cr_err
op_verify(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	struct proto_conn *conn;

	if ((conn = agent_for(r, rn)) == NULL)
		return CR_ERR_SSH;
	return verify_files(rn, conn, false);
}

/* --- Restart, gates, rollback ---------------------------------------- */

/* True when the URL server names host (as its host part). */
static bool
server_is(const char *server, const char *host)
{
	const char *h = strstr(server, "//");
	size_t n;

	if (host == NULL || h == NULL)
		return false;
	h += 2;
	n = strcspn(h, ":/");
	if (h[0] == '[')
		n = strcspn(h, "]") + 1;
	return n == strlen(host) + (h[0] == '[' ? 2 : 0) &&
	    strncmp(h + (h[0] == '['), host, strlen(host)) == 0;
}

/* Moves API traffic away from (or back to) rn's own API server. */
static void
steer(struct run *r, struct rnode *rn, bool away)
{
	const char *server = kubecfg_server(r->c->kcfg);
	enum cr_err err;

	err = away ? kube_avoid_endpoint(r->c->kube, kname(rn)) :
		     kube_allow_endpoint(r->c->kube, kname(rn));
	if (err != CR_OK)
		log_debug("node %s: no endpoint of its own", rn->n.name);
	/* The kubeconfig's server may be this very node. */
	if (server_is(server, rn->pn->internal_ip) ||
	    server_is(server, rn->pn->inv->address)) {
		err = away ? kube_avoid_endpoint(r->c->kube, "kubeconfig") :
			     kube_allow_endpoint(r->c->kube, "kubeconfig");
		if (err != CR_OK)
			log_debug("kubeconfig endpoint not found");
	}
}

static int64_t
restart_timeout_s(const struct run *r, const struct rnode *rn)
{
	if (r->o->restart_timeout_s > 0)
		return r->o->restart_timeout_s;
	return 3 * (rn->pn->inspect.facts.file_check_frequency_ms / 1000) + 120;
}

static enum cr_err
op_restart(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	struct proto_restart_req req;
	struct proto_restart_rep rep;
	struct proto_conn *conn;
	enum cr_err err;
	size_t i;

	if ((conn = agent_for(r, rn)) == NULL)
		return CR_ERR_SSH;
	/* The agent restarts nothing before a VERIFY in its session, and a
	 * resumed run (or a restarted agent) has a new session. */
	if ((err = verify_files(rn, conn, false)) != CR_OK ||
	    (err = quorum_wait(r, rn)) != CR_OK)
		return err;
	steer(r, rn, true);
	rn->restart_wall_ms = clock_now_ms();
	memset(&req, 0, sizeof(req));
	req.kubernetes_dir = rn->pn->inv->kubernetes_dir;
	req.timeout_s = restart_timeout_s(r, rn);
	err = agentc_restart(conn, n->name, &req,
	    clock_deadline_ms(8 * req.timeout_s * 1000LL + 60000), &rep);
	if (err != CR_OK)
		return agent_failed(rn, conn, err);
	for (i = 0; i < rep.ncomponents; i++)
		if (!rep.components[i].ok && err == CR_OK) {
			node_fail(n, CR_ERR_HEALTH, "restart: %s: %s",
			    rep.components[i].name,
			    rep.components[i].message != NULL ?
				rep.components[i].message :
				"did not come back");
			err = CR_ERR_HEALTH;
		}
	proto_restart_rep_clear(&rep);
	return err;
}

/* The node's own checks through its agent; the first failure in why. */
static bool
gate_agent(struct run *r, struct rnode *rn, char *why, size_t len)
{
	struct proto_health_req req;
	struct proto_health_rep rep;
	struct proto_conn *conn = agent(r, rn);
	bool ok;
	size_t i;

	if (conn == NULL) {
		snprintf(why, len, "the agent cannot be reached");
		return false;
	}
	memset(&req, 0, sizeof(req));
	req.kubernetes_dir = rn->pn->inv->kubernetes_dir;
	if (agentc_health(conn, rn->n.name, &req,
		clock_deadline_ms(API_CALL_MS), &rep) != CR_OK) {
		snprintf(why, len, "health: %s", agentc_why(conn));
		return false;
	}
	ok = rep.ok;
	for (i = 0; !ok && i < rep.nchecks; i++)
		if (!rep.checks[i].ok) {
			snprintf(why, len, "%s %s: %s", rep.checks[i].component,
			    rep.checks[i].check,
			    rep.checks[i].message != NULL ?
				rep.checks[i].message :
				"failed");
			break;
		}
	proto_health_rep_clear(&rep);
	return ok;
}

/* The component a manifest file runs ("etcd.yaml" -> "etcd"). */
static void
component_of(const char *manifest, char *buf, size_t len)
{
	size_t n = strcspn(manifest, ".");

	snprintf(buf, len, "%.*s", (int)n, manifest);
}

static bool
pod_fresh(const struct kube_mirror_pod *mp, int64_t since_ms)
{
	size_t i;

	if (!mp->ready)
		return false;
	for (i = 0; since_ms != 0 && i < mp->ncontainers; i++)
		if (mp->containers[i].started_at * 1000 < since_ms)
			return false;
	return true;
}

/* The mirror pod of component comp is Ready (and fresh since since_ms). */
static bool
mirror_ok(const struct kube_mirror_list *ml, const char *comp, int64_t since_ms,
    bool *listed)
{
	size_t k;

	for (k = 0; k < ml->n; k++)
		if (strcmp(ml->v[k].component, comp) == 0)
			break;
	*listed = k < ml->n;
	return *listed && pod_fresh(&ml->v[k], since_ms);
}

/* Every static pod's mirror is Ready, started after our restart. */
static bool
gate_mirrors(struct run *r, struct rnode *rn, bool fresh, char *why, size_t len)
{
	const struct strv *mf = &rn->pn->inspect.facts.manifests;
	struct kube_mirror_list ml = { NULL, 0 };
	int64_t skew = rn->pn->skew_ms < 0 ? -rn->pn->skew_ms : rn->pn->skew_ms;
	int64_t since = fresh && rn->restart_wall_ms != 0 ?
	    rn->restart_wall_ms - START_SLACK_MS - skew :
	    0;
	char comp[64];
	bool ok = true, listed = false;
	size_t i;

	if (kube_mirror_pods(r->c->kube, kname(rn),
		clock_deadline_ms(API_CALL_MS), &ml) != CR_OK) {
		snprintf(why, len, "mirror pods: %s",
		    kube_error_message(r->c->kube));
		return false;
	}
	for (i = 0; ok && i < mf->n; i++) {
		component_of(mf->v[i], comp, sizeof(comp));
		if (!(ok = mirror_ok(&ml, comp, since, &listed)))
			snprintf(why, len, "pod %s-%s %s", comp, kname(rn),
			    listed ? "not Ready since the restart" :
				     "not listed yet");
	}
	kube_mirror_list_clear(&ml);
	return ok;
}

static bool
gate_api(struct run *r, struct rnode *rn, bool fresh, char *why, size_t len)
{
	struct buf detail = BUF_INIT;
	struct buf bad = BUF_INIT;
	enum kube_cond ready = KUBE_COND_UNKNOWN;
	bool ok = false;

	if (!etcd_all_healthy(r, &bad))
		snprintf(why, len, "etcd members not healthy: %s",
		    buf_cstr(&bad));
	else if (kube_node_ready(r->c->kube, kname(rn),
		     clock_deadline_ms(API_CALL_MS), &ready) != CR_OK ||
	    ready != KUBE_COND_TRUE)
		snprintf(why, len, "node %s not Ready", kname(rn));
	else if (kube_readyz(r->c->kube, kname(rn),
		     clock_deadline_ms(API_CALL_MS), &ok, &detail) != CR_OK ||
	    !ok)
		snprintf(why, len, "its API server is not ready: %s",
		    buf_cstr(&detail));
	else
		ok = gate_mirrors(r, rn, fresh, why, len);
	buf_clear(&detail);
	buf_clear(&bad);
	return ok;
}

/*
 * The health gates of design.md step 7, retried until they all pass or
 * the health timeout: the node's components healthy and serving their new
 * certificates, etcd healthy everywhere, the node Ready, its API server
 * ready, its mirror pods Ready (and started after the restart if fresh).
 */
static enum cr_err
gates(struct run *r, struct rnode *rn, bool fresh)
{
	int64_t deadline = clock_deadline_ms(r->o->health_timeout_s * 1000);
	char why[512] = "not checked";

	for (;;) {
		if (gate_agent(r, rn, why, sizeof(why)) &&
		    gate_api(r, rn, fresh, why, sizeof(why)))
			return CR_OK;
		progress_detail(rn->n.name, "waiting: %s", why);
		if (clock_remaining_ms(deadline) < GATE_POLL_MS)
			break;
		clock_sleep_ms(GATE_POLL_MS);
	}
	node_fail(&rn->n, CR_ERR_HEALTH, "%s: still failing after %llds: %s",
	    node_state_name(rn->n.state), (long long)r->o->health_timeout_s,
	    why);
	return CR_ERR_HEALTH;
}

static enum cr_err
op_health(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	enum cr_err err = gates(r, rn, true);

	if (err == CR_OK)
		steer(r, rn, false);
	return err;
}

static enum cr_err
op_rollback(void *ctx, struct node *n)
{
	struct run *r = ctx;
	struct rnode *rn = rollout_rnode(n);
	struct proto_rollback_req req;
	struct proto_rollback_rep rep;
	struct proto_conn *conn;
	enum cr_err err;

	if (rn->backup == NULL) {
		node_fail(n, CR_ERR_STATE, "rollback: no backup was recorded");
		return CR_ERR_STATE;
	}
	if ((err = quorum_wait(r, rn)) != CR_OK)
		return err;
	if ((conn = agent_for(r, rn)) == NULL)
		return CR_ERR_SSH;
	steer(r, rn, true);
	rn->restart_wall_ms = clock_now_ms();
	req.kubernetes_dir = rn->pn->inv->kubernetes_dir;
	req.backup = rn->backup;
	err = agentc_rollback(conn, n->name, &req,
	    clock_deadline_ms(
		8 * restart_timeout_s(r, rn) * 1000LL + AGENT_CALL_MS),
	    &rep);
	if (err != CR_OK)
		return agent_failed(rn, conn, err);
	proto_rollback_rep_clear(&rep);
	if ((err = gates(r, rn, true)) == CR_OK)
		steer(r, rn, false);
	return err;
}

/* --- Journal, progress, interruption --------------------------------- */

enum cr_err
rollout_fact(struct run *r, const struct rnode *rn, const char *key,
    const char *value)
{
	enum cr_err err = journal_append(r->j, "node-fact",
	    runlog_node_fact(rn->n.name, key, value));

	if (err != CR_OK)
		log_warn("journal '%s': cannot record the %s of %s",
		    journal_path(r->j), key, rn->n.name);
	return err;
}

static enum cr_err
op_transition(void *ctx, const struct node *n, enum node_state from,
    enum node_state to)
{
	struct run *r = ctx;
	enum cr_err err;

	err = journal_append(r->j, "transition",
	    runlog_transition(n, from, to));
	if (err != CR_OK) {
		log_warn("journal '%s': cannot record %s: %s -> %s",
		    journal_path(r->j), n->name, node_state_name(from),
		    node_state_name(to));
		return err;
	}
	if (node_state_final(to))
		progress_end(n->name, node_state_name(to));
	else
		progress_phase(n->name, node_state_name(to));
	return CR_OK;
}

static bool
op_interrupted(void *ctx)
{
	(void)ctx;
	return progress_interrupted();
}

static const struct node_ops ops = {
	.observe = op_observe,
	.cordon = op_cordon,
	.drain = op_drain,
	.backup = op_backup,
	.renew = op_renew,
	.verify = op_verify,
	.restart = op_restart,
	.health = op_health,
	.uncordon = op_uncordon,
	.rollback = op_rollback,
	.transition = op_transition,
	.interrupted = op_interrupted,
};

const struct node_ops *
rollout_node_ops(void)
{
	return &ops;
}
