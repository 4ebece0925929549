#include "runlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "jv.h"
#include "xmalloc.h"

json_object *
runlog_run_start(const struct runlog_start *st)
{
	json_object *o = json_object_new_object(), *a;
	size_t i;

	jv_add_str(o, "cluster", st->cluster);
	jv_add_str(o, "inventory", st->inventory);
	a = json_object_new_array();
	for (i = 0; i < st->nnodes; i++)
		json_object_array_add(a, json_object_new_string(st->nodes[i]));
	json_object_object_add(o, "nodes", a);
	jv_add_str(o, "identity", st->identity);
	json_object_object_add(o, "options",
	    st->options != NULL ? st->options : json_object_new_object());
	return o;
}

json_object *
runlog_transition(const struct node *n, enum node_state from,
    enum node_state to)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "node", n->name);
	jv_add_str(o, "from", node_state_name(from));
	jv_add_str(o, "to", node_state_name(to));
	jv_add_bool(o, "was_cordoned", n->was_cordoned);
	jv_add_bool(o, "cordon_known", n->cordon_known);
	jv_add_bool(o, "changed", n->changed);
	jv_add_bool(o, "rolled_back", n->rolled_back);
	jv_add_bool(o, "released", n->released);
	jv_add_int(o, "spent_ms", n->spent_ms[from]);
	if (n->last_err != CR_OK) {
		jv_add_str(o, "error", cr_errname(n->last_err));
		jv_add_str(o, "message", n->last_msg);
		jv_add_str(o, "failed_in", node_state_name(n->failed_in));
	}
	return o;
}

json_object *
runlog_node_fact(const char *node, const char *key, const char *value)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "node", node);
	jv_add_str(o, key, value);
	return o;
}

json_object *
runlog_renewed(const char *node, json_object *certificates)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "node", node);
	json_object_object_add(o, "certificates", certificates);
	return o;
}

json_object *
runlog_run_end(const char *result, const char *message)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "result", result);
	if (message != NULL)
		jv_add_str(o, "message", message);
	return o;
}

json_object *
runlog_resume(const char *identity)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "identity", identity);
	return o;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
replace(char **dst, const char *s)
{
	if (s == NULL)
		return;
	free(*dst);
	*dst = xstrdup(s);
}

static struct runlog_node *
node_add(struct runlog *r, const char *name)
{
	struct runlog_node *rn;

	r->nodes = xreallocarray(r->nodes, r->nnodes + 1, sizeof(*r->nodes));
	rn = &r->nodes[r->nnodes++];
	memset(rn, 0, sizeof(*rn));
	rn->name = xstrdup(name);
	rn->state = NODE_PENDING;
	rn->failed_in = NODE_PENDING;
	return rn;
}

static int
replay_start(struct runlog *r, json_object *rec)
{
	json_object *nodes = jv_arr(rec, "nodes"), *opts;
	const char *name;
	size_t i;

	if (r->nnodes > 0 || nodes == NULL || jv_str(rec, "cluster") == NULL)
		return -1;
	r->cluster = xstrdup(jv_str(rec, "cluster"));
	r->inventory = dup_or_null(jv_str(rec, "inventory"));
	r->identity = dup_or_null(jv_str(rec, "identity"));
	r->started = dup_or_null(jv_str(rec, "ts"));
	if ((opts = jv_obj(rec, "options")) != NULL)
		r->options = json_object_get(opts);
	for (i = 0; i < json_object_array_length(nodes); i++) {
		name = json_object_get_string(
		    json_object_array_get_idx(nodes, i));
		if (name == NULL || runlog_find(r, name) != NULL)
			return -1;
		node_add(r, name);
	}
	return 0;
}

static int
parse_state(json_object *rec, const char *key, enum node_state *sp)
{
	const char *s = jv_str(rec, key);

	return s != NULL && node_state_parse(s, sp) ? 0 : -1;
}

enum node_state
runlog_resume_state(const struct runlog_node *rn)
{
	if (rn->state == NODE_ABORTED)
		return NODE_PENDING; /* stopped cleanly: try it afresh */
	if (rn->state != NODE_FAILED)
		return rn->state;
	if (rn->failed_in == NODE_UNCORDON)
		return NODE_UNCORDON;
	if (rn->changed && !rn->rolled_back)
		return NODE_ROLLBACK; /* make it healthy again first */
	return NODE_RELEASE;
}

static int
replay_transition(struct runlog_node *rn, json_object *rec)
{
	enum node_state from, to;
	int64_t spent = 0;

	if (parse_state(rec, "from", &from) == -1 ||
	    parse_state(rec, "to", &to) == -1)
		return -1;
	/* Its first step after a resume starts where resume put it. */
	if (rn->resumed)
		rn->state = runlog_resume_state(rn);
	rn->resumed = false;
	if (from != rn->state)
		return -1;
	rn->state = to;
	rn->was_cordoned = jv_bool(rec, "was_cordoned");
	rn->cordon_known = jv_bool(rec, "cordon_known");
	rn->changed = jv_bool(rec, "changed");
	rn->rolled_back = jv_bool(rec, "rolled_back");
	rn->released = jv_bool(rec, "released");
	/* spent_ms is the total time in "from" so far, across resumes. */
	if (jv_int(rec, "spent_ms", &spent))
		rn->spent_ms[from] = spent;
	if (jv_str(rec, "error") != NULL) {
		rn->err = cr_err_from_name(jv_str(rec, "error"));
		replace(&rn->message, jv_str(rec, "message"));
		if (parse_state(rec, "failed_in", &rn->failed_in) == -1)
			return -1;
	}
	return 0;
}

static int
replay_fact(struct runlog_node *rn, json_object *rec)
{
	json_object *certs;

	replace(&rn->backup, jv_str(rec, "backup"));
	replace(&rn->snapshot, jv_str(rec, "snapshot"));
	if ((certs = jv_arr(rec, "certificates")) != NULL) {
		json_object_put(rn->renewed);
		rn->renewed = json_object_get(certs);
	}
	return 0;
}

static int
replay_one(struct runlog *r, json_object *rec)
{
	const char *ev = jv_str(rec, "event"), *node = jv_str(rec, "node");
	struct runlog_node *rn = node != NULL ? runlog_find(r, node) : NULL;
	size_t i;

	if (ev == NULL)
		return -1;
	replace(&r->ended, jv_str(rec, "ts"));
	if (strcmp(ev, "run-start") == 0)
		return replay_start(r, rec);
	if (strcmp(ev, "resume") == 0) {
		for (i = 0; i < r->nnodes; i++)
			r->nodes[i].resumed = true;
		r->resumes++;
		free(r->result);
		r->result = NULL;
		return 0;
	}
	if (strcmp(ev, "run-end") == 0) {
		replace(&r->result, jv_str(rec, "result"));
		replace(&r->message, jv_str(rec, "message"));
		return r->result != NULL ? 0 : -1;
	}
	/* Node records name a node of this run. */
	if (rn == NULL)
		return -1;
	if (strcmp(ev, "transition") == 0)
		return replay_transition(rn, rec);
	if (strcmp(ev, "node-fact") == 0 || strcmp(ev, "renewed") == 0)
		return replay_fact(rn, rec);
	return 0; /* unknown events from newer versions are ignored */
}

static char *
run_id_from(json_object *recs)
{
	json_object *first = json_object_array_get_idx(recs, 0);

	return first != NULL ? dup_or_null(jv_str(first, "run")) : NULL;
}

enum cr_err
runlog_load(const char *path, struct runlog **rp, char *why, size_t len)
{
	json_object *recs = NULL;
	struct runlog *r;
	size_t i, bad = 0;
	int torn = 0;
	enum cr_err err;

	*rp = NULL;
	if ((err = journal_read(path, &recs, &torn, &bad)) != CR_OK) {
		snprintf(why, len,
		    bad > 0 ? "line %zu is not a JSON object" :
			      "cannot read it",
		    bad);
		return err;
	}
	r = xcalloc(1, sizeof(*r));
	r->torn = torn != 0;
	r->run_id = run_id_from(recs);
	for (i = 0; i < json_object_array_length(recs); i++) {
		if (replay_one(r, json_object_array_get_idx(recs, i)) == -1) {
			snprintf(why, len, "record %zu does not fit the run",
			    i + 1);
			json_object_put(recs);
			runlog_free(r);
			return CR_ERR_PROTO;
		}
	}
	json_object_put(recs);
	if (r->cluster == NULL) {
		snprintf(why, len, "no run-start record");
		runlog_free(r);
		return CR_ERR_PROTO;
	}
	*rp = r;
	return CR_OK;
}

void
runlog_free(struct runlog *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nnodes; i++) {
		free(r->nodes[i].name);
		free(r->nodes[i].message);
		free(r->nodes[i].backup);
		free(r->nodes[i].snapshot);
		json_object_put(r->nodes[i].renewed);
	}
	free(r->nodes);
	free(r->run_id);
	free(r->cluster);
	free(r->inventory);
	free(r->identity);
	json_object_put(r->options);
	free(r->result);
	free(r->message);
	free(r->started);
	free(r->ended);
	free(r);
}

struct runlog_node *
runlog_find(const struct runlog *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nnodes; i++)
		if (strcmp(r->nodes[i].name, name) == 0)
			return &r->nodes[i];
	return NULL;
}

void
runlog_restore_node(const struct runlog_node *rn, struct node *n)
{
	n->state = rn->state;
	n->was_cordoned = rn->was_cordoned;
	n->cordon_known = rn->cordon_known;
	n->changed = rn->changed;
	n->rolled_back = rn->rolled_back;
	n->released = rn->released;
	n->failed_in = rn->failed_in;
	n->last_err = rn->err;
	if (rn->message != NULL)
		snprintf(n->last_msg, sizeof(n->last_msg), "%s", rn->message);
	memcpy(n->spent_ms, rn->spent_ms, sizeof(n->spent_ms));
}

bool
runlog_complete(const struct runlog *r)
{
	size_t i;

	for (i = 0; i < r->nnodes; i++)
		if (r->nodes[i].state != NODE_DONE)
			return false;
	return r->nnodes > 0;
}
