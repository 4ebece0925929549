#include "rollout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "duration.h"
#include "fileio.h"
#include "journal.h"
#include "jv.h"
#include "kcrefresh.h"
#include "lease.h"
#include "lock.h"
#include "log.h"
#include "progress.h"
#include "report.h"
#include "rollout_int.h"
#include "runlog.h"
#include "xmalloc.h"

#define LOCK_TIMEOUT_MS (2LL * 60 * 1000)
#define PLAN_FILE_MAX   ((size_t)16 * 1024 * 1024)

void
rollout_opts_init(struct rollout_opts *o)
{
	memset(o, 0, sizeof(*o));
	plan_opts_init(&o->plan);
	o->backend = PROTO_BACKEND_AUTO;
	o->key_algorithm = "";
	o->keep = 5;
	o->snapshot = true;
	o->health_timeout_s = 300;
}

/* --- Options recorded in the journal (resume uses them) -------------- */

static json_object *
opts_json(const struct rollout_opts *o)
{
	json_object *j = json_object_new_object(), *d;

	jv_add_int(j, "renew_before_s", o->plan.renew_before_s);
	jv_add_int(j, "validity_s", o->plan.validity_s);
	jv_add_str(j, "backend", proto_backend_name(o->backend));
	jv_add_str(j, "key_algorithm", o->key_algorithm);
	jv_add_int(j, "keep", o->keep);
	jv_add_bool(j, "snapshot", o->snapshot);
	jv_add_bool(j, "accept_downtime", o->plan.accept_downtime);
	jv_add_int(j, "restart_timeout_s", o->restart_timeout_s);
	jv_add_int(j, "health_timeout_s", o->health_timeout_s);
	jv_add_str(j, "fetch_backups", o->fetch_backups);
	d = json_object_new_object();
	jv_add_bool(d, "ignore_daemonsets", o->plan.drain.ignore_daemonsets);
	jv_add_bool(d, "delete_emptydir_data",
	    o->plan.drain.delete_emptydir_data);
	jv_add_bool(d, "force", o->plan.drain.force);
	jv_add_int(d, "grace_period", o->plan.drain.grace_period);
	jv_add_int(d, "timeout_ms", o->plan.drain.timeout_ms);
	jv_add_str(d, "pod_selector", o->plan.drain.pod_selector);
	json_object_object_add(j, "drain", d);
	return j;
}

/* Reads opts_json()'s form back; strings stay borrowed from j. */
static void
opts_from_json(json_object *j, struct rollout_opts *o)
{
	int64_t v;
	const char *s;
	unsigned b;

	if (jv_int(j, "renew_before_s", &v))
		o->plan.renew_before_s = v;
	if (jv_int(j, "validity_s", &v))
		o->plan.validity_s = v;
	for (b = 0;
	     (s = jv_str(j, "backend")) != NULL && b < PROTO_BACKEND__MAX; b++)
		if (strcmp(s, proto_backend_name(b)) == 0)
			o->backend = b;
	if ((s = jv_str(j, "key_algorithm")) != NULL)
		o->key_algorithm = s;
	if (jv_int(j, "keep", &v) && v > 0 && v <= 1000)
		o->keep = (unsigned)v;
	o->snapshot = jv_bool(j, "snapshot");
	o->plan.accept_downtime = jv_bool(j, "accept_downtime");
	if (jv_int(j, "restart_timeout_s", &v))
		o->restart_timeout_s = v;
	if (jv_int(j, "health_timeout_s", &v) && v > 0)
		o->health_timeout_s = v;
	o->fetch_backups = jv_str(j, "fetch_backups");
	o->plan.drain.ignore_daemonsets = jv_bool(j, "drain.ignore_daemonsets");
	o->plan.drain.delete_emptydir_data = jv_bool(j,
	    "drain.delete_emptydir_data");
	o->plan.drain.force = jv_bool(j, "drain.force");
	if (jv_int(j, "drain.grace_period", &v))
		o->plan.drain.grace_period = v;
	if (jv_int(j, "drain.timeout_ms", &v))
		o->plan.drain.timeout_ms = v;
	o->plan.drain.pod_selector = jv_str(j, "drain.pod_selector");
}

/* --- The run --------------------------------------------------------- */

static void
run_clear(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nnodes; i++) {
		free(r->nodes[i].backup);
		free(r->nodes[i].snapshot);
	}
	free(r->nodes);
	strv_clear(&r->cordoned);
	journal_close(r->j);
	plan_clear(&r->plan);
}

static void
node_add(struct run *r, size_t ci)
{
	struct rnode *rn;

	r->nodes = xreallocarray(r->nodes, r->nnodes + 1, sizeof(*r->nodes));
	rn = &r->nodes[r->nnodes];
	memset(rn, 0, sizeof(*rn));
	rn->ci = ci;
	rn->pn = &r->plan.nodes[ci];
	node_init(&rn->n, r->c->nodes[ci].inv->name, (unsigned)r->nnodes);
	r->nnodes++;
}

/* The nodes with something to renew, in inventory order. */
static void
nodes_from_plan(struct run *r)
{
	size_t i;

	for (i = 0; i < r->plan.nnodes; i++)
		if (r->plan.nodes[i].renew.n > 0)
			node_add(r, i);
}

static bool
confirm(const struct run *r)
{
	size_t i;

	if (r->o->yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr,
		    "certroll: standard input is not a terminal: "
		    "pass --yes to confirm the rollout\n");
		return false;
	}
	fprintf(stderr, "Renew the certificates of");
	for (i = 0; i < r->nnodes; i++)
		fprintf(stderr, " %s", r->nodes[i].n.name);
	fprintf(stderr, ", one node at a time? [y/N] ");
	return cli_answer_yes();
}

static enum cr_err
take_lock(struct run *r, const char *run_id, const char *resume_id)
{
	struct lease_opts lo;
	char *identity = ctx_identity();
	enum cr_err err;

	memset(&lo, 0, sizeof(lo));
	lock_opts_init(&lo.lock);
	lo.lock.identity = identity;
	lo.lock.run_id = run_id;
	lo.break_lock = r->o->break_lock;
	lo.resume_run_id = resume_id;
	err = lease_start(r->c->kube, &lo, clock_deadline_ms(LOCK_TIMEOUT_MS),
	    &r->lease);
	free(identity);
	return err;
}

/* Runs the nodes in order until one does not end done. */
static const char *
run_nodes(struct run *r, const char **why)
{
	struct rnode *rn;
	enum cr_err err;
	size_t i;

	*why = NULL;
	for (i = 0; i < r->nnodes; i++) {
		rn = &r->nodes[i];
		if (rn->n.state == NODE_DONE)
			continue;
		if (lease_lost(r->lease)) {
			*why = "the rollout lock was lost";
			return "stopped";
		}
		err = node_run(&rn->n, rollout_node_ops(), r);
		if (err == CR_ERR_CANCELED ||
		    (rn->n.state != NODE_DONE && progress_interrupted())) {
			*why = "interrupted by the operator";
			return "canceled";
		}
		if (rn->n.state != NODE_DONE) {
			*why = rn->n.last_msg;
			return "stopped";
		}
	}
	return "done";
}

static void
write_report(const struct run *r, const char *path)
{
	json_object *o;
	struct runlog *rl = NULL;
	char why[128];
	const char *text;

	if (runlog_load(journal_path(r->j), &rl, why, sizeof(why)) != CR_OK) {
		log_warnx("journal '%s': %s", journal_path(r->j), why);
		return;
	}
	report_print(rl, stdout);
	if (path != NULL) {
		o = report_json(rl);
		text = jv_to_pretty(o);
		if (file_write_atomic(path, text, strlen(text), 0600) != CR_OK)
			log_warn("cannot write the report to '%s'", path);
		json_object_put(o);
	}
	runlog_free(rl);
}

/* --refresh-kubeconfig: refresh it; --yes: only say how; else ask. */
static enum kcrefresh_when
refresh_when(const struct rollout_opts *o)
{
	if (o->refresh_kubeconfig)
		return KCREFRESH_ALWAYS;
	return o->yes ? KCREFRESH_HINT : KCREFRESH_ASK;
}

static void
next_steps(const struct run *r, const char *result)
{
	size_t i;

	if (strcmp(result, "done") == 0) {
		printf("\nEvery node is renewed.\n");
		kcrefresh_after(r->c, refresh_when(r->o));
		return;
	}
	for (i = 0; i < r->nnodes; i++)
		if (r->nodes[i].n.state == NODE_FAILED)
			printf("\n%s needs attention: %s.\n",
			    r->nodes[i].n.name,
			    r->nodes[i].n.rolled_back ||
				    !r->nodes[i].n.changed ?
				"it could not be made schedulable again" :
				"it did not come back healthy and is left "
				"cordoned");
	printf("\nThe rollout stopped; the journal has every step.\n"
	       "'certroll status' shows where; 'certroll resume%s%s' "
	       "continues once the\ncause is fixed.\n",
	    r->c->o.inventory != NULL ? " -i " : "",
	    r->c->o.inventory != NULL ? r->c->o.inventory : "");
}

/* Runs the nodes and closes the run: journal, lock, report. */
static int
finish(struct run *r)
{
	const char *why = NULL, *result;
	enum cr_err err;

	progress_init(stderr, progress_mode_for(stderr, log_get_format()));
	progress_catch_interrupts();
	result = run_nodes(r, &why);
	err = journal_append(r->j, "run-end", runlog_run_end(result, why));
	if (err != CR_OK)
		log_warn("journal '%s': cannot record the end of the run",
		    journal_path(r->j));
	if (lease_stop(r->lease, true) != CR_OK)
		log_warnx("the rollout lock was not released; it expires by "
			  "itself in %d s",
		    LOCK_LEASE_SECONDS);
	r->lease = NULL;
	write_report(r, r->o->report_file);
	next_steps(r, result);
	printf("Journal: %s\n", journal_path(r->j));
	return strcmp(result, "done") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --- apply ----------------------------------------------------------- */

static enum cr_err
check_plan_file(const struct run *r, const char *path)
{
	struct buf b = BUF_INIT;
	json_object *saved = NULL;
	char why[512];
	enum cr_err err;

	if ((err = file_read(path, PLAN_FILE_MAX, &b)) != CR_OK) {
		log_warn("cannot read the plan '%s'", path);
		return err;
	}
	err = jv_parse(buf_cstr(&b), b.len, &saved, why, sizeof(why));
	buf_clear(&b);
	if (err != CR_OK) {
		log_warnx("'%s' is not a saved plan: %s", path, why);
		return CR_ERR_CONFIG;
	}
	if ((err = plan_compare(saved, &r->plan, why, sizeof(why))) != CR_OK)
		log_warnx("the cluster changed since the plan '%s' was made: "
			  "%s; make a new plan",
		    path, why);
	json_object_put(saved);
	return err;
}

/* Prints why apply cannot go ahead, from the plan's failed gates. */
static void
print_blocked(const struct plan *p)
{
	size_t i;

	fprintf(stderr, "certroll apply: blocked by the preflight:\n");
	for (i = 0; i < p->nchecks; i++)
		if (!p->checks[i].ok)
			fprintf(stderr, "  %s: %s\n", p->checks[i].check,
			    p->checks[i].message);
	fprintf(stderr,
	    "'certroll plan' shows everything; nothing was "
	    "changed.\n");
}

static enum cr_err
start_journal(struct run *r, const char *run_id)
{
	const char **names = xcalloc(r->nnodes + 1, sizeof(*names));
	char *identity = ctx_identity();
	enum cr_err err;
	size_t i;

	for (i = 0; i < r->nnodes; i++)
		names[i] = r->nodes[i].n.name;
	err = journal_create(r->c->state_dir, ctx_cluster(r->c), run_id, &r->j);
	if (err == CR_OK)
		err = journal_append(r->j, "run-start",
		    runlog_run_start(&(struct runlog_start){
			.cluster = ctx_cluster(r->c),
			.inventory = r->c->o.inventory,
			.nodes = names,
			.nnodes = r->nnodes,
			.identity = identity,
			.options = opts_json(r->o),
		    }));
	else
		log_warn("cannot create the journal under '%s'",
		    r->c->state_dir);
	free(identity);
	free(names);
	return err;
}

int
rollout_apply(struct ctx *c, const struct rollout_opts *o)
{
	struct run r;
	char *run_id = journal_new_run_id();
	int rc = CLI_EXIT_FAIL;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.o = o;
	if (plan_build(c, &o->plan, &r.plan) != CR_OK)
		goto out;
	if (plan_blocked(&r.plan)) {
		print_blocked(&r.plan);
		goto out;
	}
	if (o->plan_file != NULL && check_plan_file(&r, o->plan_file) != CR_OK)
		goto out;
	nodes_from_plan(&r);
	if (r.nnodes == 0) {
		printf("Nothing to renew: no certificate expires within the "
		       "chosen window.\n");
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (!confirm(&r) || take_lock(&r, run_id, NULL) != CR_OK)
		goto out;
	if (start_journal(&r, run_id) != CR_OK) {
		if (lease_stop(r.lease, true) != CR_OK)
			log_debug("lock release failed");
		goto out;
	}
	log_info("rollout %s: %zu node(s), journal %s", run_id, r.nnodes,
	    journal_path(r.j));
	rc = finish(&r);
out:
	run_clear(&r);
	free(run_id);
	return rc;
}

/* --- resume ---------------------------------------------------------- */

static enum cr_err
nodes_from_runlog(struct run *r, const struct runlog *rl)
{
	struct rnode *rn;
	size_t i, ci;

	for (i = 0; i < rl->nnodes; i++) {
		if ((ci = ctx_find(r->c, rl->nodes[i].name)) == (size_t)-1) {
			log_warnx("node %s of run %s is not in the inventory "
				  "'%s'",
			    rl->nodes[i].name, rl->run_id, r->c->o.inventory);
			return CR_ERR_INVENTORY;
		}
		node_add(r, ci);
		rn = &r->nodes[r->nnodes - 1];
		runlog_restore_node(&rl->nodes[i], &rn->n);
		rn->n.state = runlog_resume_state(&rl->nodes[i]);
		if (rn->n.state == NODE_PENDING) {
			/* Afresh: the cordon, changes and release of the
			 * earlier attempt are history. */
			rn->n.last_err = CR_OK;
			rn->n.last_msg[0] = '\0';
			rn->n.changed = false;
			rn->n.rolled_back = false;
			rn->n.released = false;
		}
		rn->resumed_renew = rn->n.state == NODE_RENEW;
		if (rl->nodes[i].backup != NULL)
			rn->backup = xstrdup(rl->nodes[i].backup);
		if (rl->nodes[i].snapshot != NULL) {
			rn->snapshot = xstrdup(rl->nodes[i].snapshot);
			r->snapshot_taken = true;
		}
	}
	return CR_OK;
}

/* Gates that still bind when resuming (others concern the node that was
 * in progress, which resume is there to finish). */
static bool
resume_blocked(const struct plan *p)
{
	static const char *const binding[] = { PLAN_CHECK_LOCK, PLAN_CHECK_API,
		PLAN_CHECK_SSH, PLAN_CHECK_CLOCK, PLAN_CHECK_CA,
		PLAN_CHECK_CONFIG, PLAN_CHECK_INVENTORY, PLAN_CHECK_PREV_RUN };
	bool blocked = false;
	size_t i, k;

	for (i = 0; i < p->nchecks; i++)
		for (k = 0; k < sizeof(binding) / sizeof(binding[0]); k++)
			if (!p->checks[i].ok &&
			    strcmp(p->checks[i].check, binding[k]) == 0) {
				fprintf(stderr, "certroll resume: %s: %s\n",
				    p->checks[i].check, p->checks[i].message);
				blocked = true;
			}
	return blocked;
}

static enum cr_err
load_run(struct ctx *c, const char *path, struct runlog **rlp, char **pathp)
{
	char why[128];
	enum cr_err err;

	*pathp = path != NULL ? xstrdup(path) : NULL;
	if (path == NULL &&
	    (err = journal_latest(c->state_dir, ctx_cluster(c), pathp, NULL)) !=
		CR_OK) {
		fprintf(stderr,
		    "certroll resume: no rollout of cluster '%s' "
		    "is recorded under %s\n",
		    ctx_cluster(c), c->state_dir);
		return err;
	}
	if ((err = runlog_load(*pathp, rlp, why, sizeof(why))) != CR_OK)
		log_warnx("journal '%s' cannot be read: %s", *pathp, why);
	return err;
}

static int
resume_run(struct run *r, const struct runlog *rl, const char *path)
{
	char *identity;

	if (plan_build(r->c, &r->o->plan, &r->plan) != CR_OK ||
	    resume_blocked(&r->plan) || nodes_from_runlog(r, rl) != CR_OK ||
	    !confirm(r) || take_lock(r, rl->run_id, rl->run_id) != CR_OK)
		return CLI_EXIT_FAIL;
	if (journal_reopen(path, &r->j) != CR_OK) {
		log_warn("cannot reopen the journal '%s'", path);
		if (lease_stop(r->lease, true) != CR_OK)
			log_debug("lock release failed");
		return CLI_EXIT_FAIL;
	}
	identity = ctx_identity();
	if (journal_append(r->j, "resume", runlog_resume(identity)) != CR_OK)
		log_warn("journal '%s': cannot record the resume", path);
	free(identity);
	log_info("resuming rollout %s", rl->run_id);
	return finish(r);
}

int
rollout_resume(struct ctx *c, const struct rollout_opts *o, const char *path)
{
	struct rollout_opts ro = *o;
	struct runlog *rl = NULL;
	struct run r;
	char *jpath = NULL;
	int rc = CLI_EXIT_FAIL;

	memset(&r, 0, sizeof(r));
	if (load_run(c, path, &rl, &jpath) != CR_OK)
		goto out;
	if (jv_str(rl->options, "mode") != NULL &&
	    strcmp(jv_str(rl->options, "mode"), "recover") == 0) {
		fprintf(stderr,
		    "certroll resume: run %s was a 'certroll "
		    "recover'; run recover again (it renews every "
		    "node and restarts them together)\n",
		    rl->run_id);
		goto out;
	}
	if (runlog_complete(rl)) {
		printf("Run %s is complete: every node was renewed.\n",
		    rl->run_id);
		rc = CLI_EXIT_OK;
		goto out;
	}
	opts_from_json(rl->options, &ro);
	ro.plan.resume_run_id = rl->run_id;
	if (c->o.inventory == NULL)
		c->o.inventory = rl->inventory;
	if (ctx_load_inventory(c) != CR_OK) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	r.c = c;
	r.o = &ro;
	rc = resume_run(&r, rl, jpath);
out:
	run_clear(&r);
	runlog_free(rl);
	free(jpath);
	return rc;
}
