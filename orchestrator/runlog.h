/*
 * The vocabulary of the rollout journal and its replay.
 *
 * The rollout writes these records (journal.h adds ts, run, seq, event):
 *
 *   run-start   {cluster, inventory, nodes:[names], identity, options:{}}
 *   resume      {identity}
 *   transition  {node, from, to, was_cordoned, cordon_known, changed,
 *                rolled_back, released, spent_ms (total time in
 *                "from"), [error, message, failed_in]}
 *   node-fact   {node, [backup], [snapshot], [fetched]: the backup's copy
 *                on this machine}
 *   renewed     {node, certificates:[{name, old_serial, new_serial,
 *                old_not_after, new_not_after}]}
 *   run-end     {result: "done"|"stopped"|"canceled", [message]}
 *
 * runlog_load() replays them into the state of every node, which is what
 * "certroll status" shows and "certroll resume" continues from. The record
 * builders and the replay sit side by side so they cannot drift apart.
 */
#ifndef CR_RUNLOG_H
#define CR_RUNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"
#include "node.h"

struct runlog_node {
	char *name;
	enum node_state state;
	bool was_cordoned;
	bool cordon_known;
	bool changed;
	bool rolled_back;
	bool released;
	enum node_state failed_in;
	enum cr_err err;
	char *message;        /* why it stopped, or NULL */
	char *backup;         /* backup directory on the node, or NULL */
	char *snapshot;       /* etcd snapshot on the node, or NULL */
	json_object *renewed; /* the "certificates" array, or NULL */
	int64_t spent_ms[NODE__MAX];
	bool resumed; /* replay: a resume came after its last transition */
};

struct runlog {
	char *run_id;
	char *cluster;
	char *inventory;
	char *identity;       /* who started the run */
	json_object *options; /* as recorded at run-start (owned) */
	struct runlog_node *nodes;
	size_t nnodes;
	char *result;  /* NULL while the run has not ended */
	char *message; /* run-end message, or NULL */
	char *started; /* RFC 3339 time of run-start */
	char *ended;   /* RFC 3339 time of the last record */
	size_t resumes;
	bool torn; /* the last line was incomplete (a crash mid-write) */
};

/* What a run-start record says; everything borrowed but options. */
struct runlog_start {
	const char *cluster;
	const char *inventory;
	const char *const *nodes;
	size_t nnodes;
	const char *identity;
	json_object *options; /* taken by runlog_run_start(); may be NULL */
};

/* Builders; each returns a new object for journal_append() to take. */
json_object *runlog_run_start(const struct runlog_start *st);
json_object *runlog_transition(const struct node *n, enum node_state from,
    enum node_state to);
json_object *runlog_node_fact(const char *node, const char *key,
    const char *value);
json_object *runlog_renewed(const char *node, json_object *certificates);
json_object *runlog_run_end(const char *result, const char *message);
json_object *runlog_resume(const char *identity);

/*
 * Replays the journal at path. On success *rp must be released with
 * runlog_free(). A malformed journal gives CR_ERR_PROTO with a description
 * in why (size len).
 */
enum cr_err runlog_load(const char *path, struct runlog **rp, char *why,
    size_t len) CR_MUST_CHECK;

/* Passing NULL is a no-op. */
void runlog_free(struct runlog *r);

/* The entry for node name, or NULL. */
struct runlog_node *runlog_find(const struct runlog *r, const char *name);

/*
 * Where "certroll resume" continues a node recorded in rn's state: an
 * aborted node afresh, a failed one by rolling back what it changed (or
 * finishing its uncordon, or releasing it), any other where it was.
 */
enum node_state runlog_resume_state(const struct runlog_node *rn);

/* Copies a replayed node's facts into a fresh struct node for resume. */
void runlog_restore_node(const struct runlog_node *rn, struct node *n);

/* True when every node is done. */
bool runlog_complete(const struct runlog *r);

#endif /* CR_RUNLOG_H */
