/*
 * certroll recover: the control plane's certificates have already expired,
 * so the API refuses everyone and there is no lock, cordon or drain to be
 * had through it (design.md, "Expired mode"). Over SSH only:
 *
 *   1. inspect every node (all must answer: every member is needed);
 *   2. back up every node (and try an etcd snapshot on the first);
 *   3. renew on every node (each renewal verifies itself and puts the
 *      files back if it fails: then nothing is restarted anywhere);
 *   4. restart etcd on every node at once: peers whose certificates all
 *      expired cannot form a quorum one member at a time;
 *   5. restart kube-apiserver, kube-controller-manager and kube-scheduler
 *      on every node;
 *   6. wait until every node's components are healthy and serve their new
 *      certificates.
 *
 * Every phase of every node is in the journal (run-start carries
 * "mode":"recover"; "certroll resume" refuses such a run and says to run
 * recover again: every node is renewed again, which is harmless here).
 */
#include "recover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentc.h"
#include "cli.h"
#include "clock.h"
#include "journal.h"
#include "jv.h"
#include "kcrefresh.h"
#include "log.h"
#include "node.h"
#include "progress.h"
#include "runlog.h"
#include "xmalloc.h"

#define CALL_MS        (10LL * 60 * 1000)
#define CONNECT_MS     (60LL * 1000)
#define HEALTH_POLL_MS 3000

struct rec_node {
	struct node n;
	struct proto_inspect_rep inspect;
	bool inspected;
	char *backup;
	char why[512];
};

struct rec {
	struct ctx *c;
	const struct recover_opts *o;
	struct rec_node *nodes;
	struct journal *j;
	int64_t health_deadline;
};

/* The agent's default backup root (the requests' fields are not const). */
static char backup_root[] = "/var/lib/certroll/backups";

void
recover_opts_init(struct recover_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = PROTO_BACKEND_AUTO;
	o->key_algorithm = "";
	o->keep = 5;
	o->timeout_s = 600;
	o->refresh_kubeconfig = true;
}

/* --- Journal --------------------------------------------------------- */

static enum cr_err
step(struct rec *r, size_t i, enum node_state to)
{
	struct node *n = &r->nodes[i].n;
	enum cr_err err;

	err = journal_append(r->j, "transition",
	    runlog_transition(n, n->state, to));
	if (err != CR_OK) {
		log_warn("journal '%s': cannot record %s -> %s",
		    journal_path(r->j), n->name, node_state_name(to));
		return err;
	}
	progress_phase(n->name, node_state_name(to));
	n->state = to;
	return CR_OK;
}

/* Moves every node that is still in from to to. */
static enum cr_err
step_all(struct rec *r, enum node_state from, enum node_state to)
{
	enum cr_err err;
	size_t i;

	for (i = 0; i < r->c->nnodes; i++)
		if (r->nodes[i].n.state == from &&
		    (err = step(r, i, to)) != CR_OK)
			return err;
	return CR_OK;
}

static void
fail(struct rec *r, size_t i, enum cr_err err, const char *what)
{
	struct proto_conn *conn = ctx_agent(r->c, i);

	snprintf(r->nodes[i].why, sizeof(r->nodes[i].why), "%s: %s", what,
	    conn != NULL && agentc_why(conn)[0] != '\0' ? agentc_why(conn) :
							  cr_strerror(err));
	node_fail(&r->nodes[i].n, err, "%s", r->nodes[i].why);
}

/* --- The phases, each run on every node in parallel ------------------ */

/*
 * Node i's agent for the next request, reopened if its session broke since
 * the last one (the agent or sshd restarted, a lost connection). NULL when
 * the node cannot be reached; the node then fails with what.
 */
static struct proto_conn *
agent(struct rec *r, size_t i, const char *what)
{
	struct proto_conn *conn = ctx_agent_live(r->c, i,
	    clock_deadline_ms(CONNECT_MS));

	if (conn == NULL)
		fail(r, i, CR_ERR_SSH, what);
	return conn;
}

static enum cr_err
do_inspect(void *arg, size_t i)
{
	struct rec *r = arg;
	struct rec_node *rn = &r->nodes[i];
	struct proto_inspect_req req;
	enum cr_err err;

	if ((err = ctx_connect(r->c, i, clock_deadline_ms(CALL_MS))) != CR_OK)
		return err;
	req.kubernetes_dir = r->c->nodes[i].inv->kubernetes_dir;
	err = agentc_inspect(ctx_agent(r->c, i), rn->n.name, &req,
	    clock_deadline_ms(CALL_MS), &rn->inspect);
	if (err != CR_OK)
		return err;
	rn->inspected = true;
	return CR_OK;
}

static enum cr_err
do_backup(void *arg, size_t i)
{
	struct rec *r = arg;
	struct rec_node *rn = &r->nodes[i];
	struct proto_backup_req req;
	struct proto_backup_rep rep;
	enum cr_err err;

	struct proto_conn *conn;

	if ((conn = agent(r, i, "backup")) == NULL)
		return CR_ERR_SSH;
	req.kubernetes_dir = r->c->nodes[i].inv->kubernetes_dir;
	req.backup_dir = backup_root;
	req.keep = r->o->keep;
	err = agentc_backup(conn, rn->n.name, &req, clock_deadline_ms(CALL_MS),
	    &rep);
	if (err != CR_OK) {
		fail(r, i, err, "backup");
		return err;
	}
	rn->backup = xstrdup(rep.path);
	proto_backup_rep_clear(&rep);
	return CR_OK;
}

static enum cr_err
do_renew(void *arg, size_t i)
{
	struct rec *r = arg;
	struct rec_node *rn = &r->nodes[i];
	struct proto_renew_req req;
	struct proto_renew_rep rep;
	enum cr_err err;

	struct proto_conn *conn;

	if ((conn = agent(r, i, "renew")) == NULL)
		return CR_ERR_SSH;
	memset(&req, 0, sizeof(req));
	req.run_id = xstrdup(journal_run_id(r->j));
	req.kubernetes_dir = r->c->nodes[i].inv->kubernetes_dir;
	req.backup_dir = backup_root;
	req.keep = r->o->keep;
	req.backend = r->o->backend;
	req.validity_s = r->o->validity_s;
	req.key_algorithm = xstrdup(r->o->key_algorithm);
	err = agentc_renew(conn, rn->n.name, &req, clock_deadline_ms(CALL_MS),
	    &rep);
	free(req.run_id);
	free(req.key_algorithm);
	if (err != CR_OK) {
		fail(r, i, err, "renew");
		return err;
	}
	proto_renew_rep_clear(&rep);
	return CR_OK;
}

/*
 * VERIFY in conn's session: the agent restarts nothing before one, and a
 * session reopened since the renewal is a new one.
 */
static enum cr_err
verify(struct rec *r, size_t i, struct proto_conn *conn)
{
	struct proto_verify_req req;
	struct proto_verify_rep rep;
	enum cr_err err;

	memset(&req, 0, sizeof(req));
	req.kubernetes_dir = r->c->nodes[i].inv->kubernetes_dir;
	req.backup = r->nodes[i].backup;
	err = agentc_verify(conn, r->nodes[i].n.name, &req,
	    clock_deadline_ms(CALL_MS), &rep);
	if (err == CR_OK) {
		err = rep.ok ? CR_OK : CR_ERR_VERIFY;
		proto_verify_rep_clear(&rep);
	}
	if (err != CR_OK)
		fail(r, i, err, "verify");
	return err;
}

static enum cr_err
restart(struct rec *r, size_t i, const char *const *comps, size_t ncomps)
{
	struct proto_restart_req req;
	struct proto_restart_rep rep;
	struct proto_conn *conn;
	enum cr_err err;
	size_t k;

	if ((conn = agent(r, i, "restart")) == NULL)
		return CR_ERR_SSH;
	if ((err = verify(r, i, conn)) != CR_OK)
		return err;
	memset(&req, 0, sizeof(req));
	req.kubernetes_dir = r->c->nodes[i].inv->kubernetes_dir;
	req.timeout_s = r->o->timeout_s;
	for (k = 0; k < ncomps; k++)
		strv_push(&req.components, comps[k]);
	err = agentc_restart(conn, r->nodes[i].n.name, &req,
	    clock_deadline_ms((int64_t)(2 * ncomps + 1) * req.timeout_s * 1000),
	    &rep);
	strv_clear(&req.components);
	for (k = 0; err == CR_OK && k < rep.ncomponents; k++)
		if (!rep.components[k].ok)
			err = CR_ERR_HEALTH;
	if (err != CR_OK)
		fail(r, i, err, "restart");
	proto_restart_rep_clear(&rep);
	return err;
}

static enum cr_err
do_restart_etcd(void *arg, size_t i)
{
	static const char *const comps[] = { "etcd" };
	struct rec *r = arg;

	if (r->nodes[i].inspect.facts.etcd_external)
		return CR_OK;
	return restart(r, i, comps, 1);
}

static enum cr_err
do_restart_rest(void *arg, size_t i)
{
	static const char *const comps[] = { "kube-apiserver",
		"kube-controller-manager", "kube-scheduler" };

	return restart(arg, i, comps, 3);
}

/* Waits until node i's components are healthy with their new serials. */
static enum cr_err
do_health(void *arg, size_t i)
{
	struct rec *r = arg;
	struct proto_health_req req;
	struct proto_health_rep rep;
	enum cr_err err;
	bool ok = false;

	struct proto_conn *conn;

	memset(&req, 0, sizeof(req));
	req.kubernetes_dir = r->c->nodes[i].inv->kubernetes_dir;
	do {
		if ((conn = agent(r, i, "health")) == NULL)
			return CR_ERR_SSH;
		err = agentc_health(conn, r->nodes[i].n.name, &req,
		    clock_deadline_ms(CALL_MS), &rep);
		if (err != CR_OK)
			break;
		ok = rep.ok;
		proto_health_rep_clear(&rep);
		if (!ok)
			clock_sleep_ms(HEALTH_POLL_MS);
	} while (!ok && !clock_expired(r->health_deadline));
	if (err == CR_OK && !ok)
		err = CR_ERR_HEALTH;
	if (err != CR_OK)
		fail(r, i, err, "health");
	return err;
}

/* Runs fn on every node in parallel; true when all succeeded. */
static bool
all(struct rec *r, enum cr_err (*fn)(void *, size_t))
{
	enum cr_err *res = xcalloc(r->c->nnodes, sizeof(*res));
	bool ok = ssh_parallel(r->c->nnodes, r->c->o.parallel, fn, r, res) ==
	    CR_OK;

	free(res);
	return ok;
}

/* --- The run --------------------------------------------------------- */

static void
print_expiry(const struct rec *r)
{
	time_t now = clock_now();
	size_t i, k, expired;

	for (i = 0; i < r->c->nnodes; i++) {
		const struct cert_list *l = &r->nodes[i].inspect.certificates;

		for (k = expired = 0; k < l->n; k++)
			expired += !l->v[k].missing && l->v[k].not_after <= now;
		printf("  %-16s %zu of %zu certificates expired\n",
		    r->nodes[i].n.name, expired, l->n);
	}
}

static bool
confirm(const struct rec *r)
{
	printf("\nRecover renews the certificates on all %zu nodes, then "
	       "restarts etcd on all\nof them at once and then the other "
	       "control-plane components: the API is\nalready down, this "
	       "brings it back. Nodes are not drained.\n",
	    r->c->nnodes);
	if (r->o->yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr,
		    "certroll recover: standard input is not a "
		    "terminal: pass --yes to confirm\n");
		return false;
	}
	printf("Proceed? [y/N] ");
	fflush(stdout);
	return cli_answer_yes();
}

static enum cr_err
start_journal(struct rec *r)
{
	const char **names = xcalloc(r->c->nnodes + 1, sizeof(*names));
	char *run_id = journal_new_run_id(), *identity = ctx_identity();
	json_object *opts = json_object_new_object();
	enum cr_err err;
	size_t i;

	for (i = 0; i < r->c->nnodes; i++)
		names[i] = r->nodes[i].n.name;
	jv_add_str(opts, "mode", "recover");
	err = journal_create(r->c->state_dir, ctx_cluster(r->c), run_id, &r->j);
	if (err == CR_OK)
		err = journal_append(r->j, "run-start",
		    runlog_run_start(&(struct runlog_start){
			.cluster = ctx_cluster(r->c),
			.inventory = r->c->o.inventory,
			.nodes = names,
			.nnodes = r->c->nnodes,
			.identity = identity,
			.options = opts,
		    }));
	else
		json_object_put(opts);
	if (err != CR_OK)
		log_warn("cannot start the journal under '%s'",
		    r->c->state_dir);
	free(run_id);
	free(identity);
	free(names);
	return err;
}

/* The etcd snapshot is worth trying but may be impossible: no quorum. */
static void
try_snapshot(struct rec *r)
{
	struct proto_snapshot_req req;
	struct proto_snapshot_rep rep;
	struct proto_conn *conn;

	if (r->nodes[0].inspect.facts.etcd_external ||
	    r->nodes[0].backup == NULL)
		return;
	if ((conn = ctx_agent_live(r->c, 0, clock_deadline_ms(CONNECT_MS))) ==
	    NULL) {
		log_warnx("%s: no etcd snapshot: the node cannot be reached",
		    r->nodes[0].n.name);
		return;
	}
	req.kubernetes_dir = r->c->nodes[0].inv->kubernetes_dir;
	req.dest_dir = r->nodes[0].backup;
	if (agentc_snapshot(conn, r->nodes[0].n.name, &req,
		clock_deadline_ms(60000), &rep) != CR_OK) {
		log_warnx("no etcd snapshot (etcd has no quorum while its "
			  "certificates are expired); the file backups are "
			  "taken");
		return;
	}
	if (journal_append(r->j, "node-fact",
		runlog_node_fact(r->nodes[0].n.name, "snapshot", rep.path)) !=
	    CR_OK)
		log_warn("journal: cannot record the snapshot");
	proto_snapshot_rep_clear(&rep);
}

static void
record_backups(struct rec *r)
{
	size_t i;

	for (i = 0; i < r->c->nnodes; i++)
		if (r->nodes[i].backup != NULL &&
		    journal_append(r->j, "node-fact",
			runlog_node_fact(r->nodes[i].n.name, "backup",
			    r->nodes[i].backup)) != CR_OK)
			log_warn("journal: cannot record a backup");
}

/* Marks the nodes that failed (their message set) as failed. */
static void
mark_failed(struct rec *r)
{
	size_t i;

	for (i = 0; i < r->c->nnodes; i++)
		if (r->nodes[i].why[0] != '\0' &&
		    step(r, i, NODE_FAILED) != CR_OK)
			log_warnx("node %s: cannot record its failure",
			    r->nodes[i].n.name);
}

/* Runs the phases; returns NULL when all passed, else the phase. */
static const char *
phases(struct rec *r)
{
	if (step_all(r, NODE_PENDING, NODE_BACKUP) != CR_OK ||
	    !all(r, do_backup))
		return "backup";
	record_backups(r);
	try_snapshot(r);
	if (step_all(r, NODE_BACKUP, NODE_RENEW) != CR_OK)
		return "journal";
	for (size_t i = 0; i < r->c->nnodes; i++)
		r->nodes[i].n.changed = true;
	if (!all(r, do_renew))
		return "renew (the failed node's files were put back; nothing "
		       "was restarted)";
	if (step_all(r, NODE_RENEW, NODE_RESTART) != CR_OK)
		return "journal";
	if (!all(r, do_restart_etcd))
		return "restart of etcd";
	if (!all(r, do_restart_rest))
		return "restart of the control-plane components";
	if (step_all(r, NODE_RESTART, NODE_HEALTH) != CR_OK)
		return "journal";
	r->health_deadline = clock_deadline_ms(r->o->timeout_s * 1000);
	if (!all(r, do_health))
		return "health";
	return step_all(r, NODE_HEALTH, NODE_DONE) == CR_OK ? NULL : "journal";
}

static void
after(struct rec *r, const char *failed)
{
	size_t i;

	if (failed != NULL) {
		printf("\nRecovery stopped in %s:\n", failed);
		for (i = 0; i < r->c->nnodes; i++)
			if (r->nodes[i].why[0] != '\0')
				printf("  %s: %s\n", r->nodes[i].n.name,
				    r->nodes[i].why);
		printf("Backups are on each node under %s; the journal is %s.\n"
		       "Fix the cause and run 'certroll recover' again.\n",
		    backup_root, journal_path(r->j));
		return;
	}
	printf("\nEvery node renewed and healthy; the API should answer "
	       "again.\nJournal: %s\n",
	    journal_path(r->j));
	kcrefresh_after(r->c,
	    r->o->refresh_kubeconfig ? KCREFRESH_ALWAYS : KCREFRESH_HINT);
}

static int
run(struct rec *r)
{
	const char *failed;
	enum cr_err err;

	if (!all(r, do_inspect)) {
		fprintf(stderr,
		    "certroll recover: every control-plane node "
		    "must answer (see above); nothing was "
		    "changed\n");
		return CLI_EXIT_FAIL;
	}
	printf("Certificates now:\n");
	print_expiry(r);
	if (!confirm(r) || start_journal(r) != CR_OK)
		return CLI_EXIT_FAIL;
	fflush(stdout); /* the summary comes before the progress lines */
	progress_init(stderr, progress_mode_for(stderr, log_get_format()));
	failed = phases(r);
	if (failed != NULL)
		mark_failed(r);
	err = journal_append(r->j, "run-end",
	    runlog_run_end(failed == NULL ? "done" : "stopped", failed));
	if (err != CR_OK)
		log_warn("journal: cannot record the end of the run");
	after(r, failed);
	return failed == NULL ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int
recover_run(struct ctx *c, const struct recover_opts *o)
{
	struct rec r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.o = o;
	r.nodes = xcalloc(c->nnodes + 1, sizeof(*r.nodes));
	for (i = 0; i < c->nnodes; i++)
		node_init(&r.nodes[i].n, c->nodes[i].inv->name, (unsigned)i);
	rc = run(&r);
	for (i = 0; i < c->nnodes; i++) {
		proto_inspect_rep_clear(&r.nodes[i].inspect);
		free(r.nodes[i].backup);
	}
	free(r.nodes);
	journal_close(r.j);
	return rc;
}
