/*
 * Internals of the rollout shared by rollout.c (the driver) and
 * rollout_ops.c (the side effects of each state) and their tests.
 */
#ifndef CR_ROLLOUT_INT_H
#define CR_ROLLOUT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"
#include "ctx.h"
#include "journal.h"
#include "lease.h"
#include "node.h"
#include "plan.h"
#include "rollout.h"

/* One node of the run: the state machine plus what its steps learn. */
struct rnode {
	struct node n;
	size_t ci;               /* index in the context's nodes */
	struct plan_node *pn;    /* its part of the plan */
	char *backup;            /* backup directory on the node */
	char *snapshot;          /* etcd snapshot on the node, or NULL */
	int64_t restart_wall_ms; /* when its restart began (our clock) */
	bool resumed_renew;      /* resuming in RENEW: verify first */
};

struct run {
	struct ctx *c;
	const struct rollout_opts *o;
	struct plan plan;
	struct lease *lease;
	struct journal *j;
	struct rnode *nodes;
	size_t nnodes;
	struct strv cordoned; /* nodes we hold cordoned now */
	bool snapshot_taken;
};

/* The side effects of every state, for node_run(); ctx is the run. */
const struct node_ops *rollout_node_ops(void);

/* The rnode that owns n (n is the first member of struct rnode). */
struct rnode *rollout_rnode(struct node *n);

/* Records a node fact ("backup", path) in the journal; logs failures. */
enum cr_err rollout_fact(struct run *r, const struct rnode *rn, const char *key,
    const char *value) CR_MUST_CHECK;

#endif /* CR_ROLLOUT_INT_H */
