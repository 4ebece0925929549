/*
 * The per-node rolling renewal, as a state machine (docs/state-machine.md).
 *
 * States are listed in the order they happen. One table maps each state to
 * its step; a step performs one side effect through struct node_ops and
 * returns the next state. node_set_state() in node.c is the only place the
 * state changes, and every change goes through ops->transition (the
 * journal) before the next step runs, so a run killed at any point resumes
 * from the last state recorded.
 *
 * Safety: a node is renewed only after it was cordoned and drained and its
 * files backed up; components restart only on certificates that passed
 * verification; any failure from renewal to the health gates rolls the
 * node back; a node is uncordoned only if certroll cordoned it.
 */
#ifndef CR_NODE_H
#define CR_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

enum node_state {
	NODE_PENDING = 0, /* untouched */
	NODE_OBSERVE,     /* read the node: was it cordoned before us? */
	NODE_CORDON,      /* mark it unschedulable */
	NODE_DRAIN,       /* evict its pods (DaemonSets and mirror pods stay) */
	NODE_BACKUP,      /* back up pki, kubeconfigs, manifests (+ snapshot) */
	NODE_RENEW,       /* the agent renews the certificates */
	NODE_VERIFY,      /* check the renewed files before any restart */
	NODE_RESTART,     /* restart etcd and the control-plane components */
	NODE_HEALTH,      /* gates: components healthy, new serials served */
	NODE_UNCORDON,    /* make it schedulable again if we cordoned it */
	NODE_DONE,        /* renewed and back in service */
	NODE_ROLLBACK,    /* restore the backup, restart, re-check */
	NODE_RELEASE,     /* undo our cordon after an abort or a rollback */
	NODE_ABORTED,     /* stopped; the node is as it was before the run */
	NODE_FAILED,      /* stopped; the node needs the operator */
	NODE__MAX
};

struct node {
	const char *name; /* inventory name (borrowed) */
	unsigned index;   /* position in the rollout, from 0 */
	bool first;       /* the first node also takes the etcd snapshot */
	enum node_state state;
	/* Facts the steps record (and the journal replays). */
	bool was_cordoned;         /* cordoned by someone else before we came */
	bool cordon_known;         /* was_cordoned has been observed */
	bool changed;              /* renewal touched its files */
	bool rolled_back;          /* a rollback restored the backup */
	bool released;             /* our cordon was lifted after a stop */
	enum node_state failed_in; /* the state whose step failed */
	enum cr_err last_err;
	char last_msg[512]; /* what went wrong, for the operator */
	/* Milliseconds spent in each state (for the report). */
	int64_t spent_ms[NODE__MAX];
	int64_t entered_ms;
};

/* The side effects; the rollout wires the agent and the API, tests fakes. */
struct node_ops {
	/* Reads the node; sets n->was_cordoned. */
	enum cr_err (*observe)(void *ctx, struct node *n);
	enum cr_err (*cordon)(void *ctx, struct node *n);
	enum cr_err (*drain)(void *ctx, struct node *n);
	enum cr_err (*backup)(void *ctx, struct node *n);
	enum cr_err (*renew)(void *ctx, struct node *n);
	enum cr_err (*verify)(void *ctx, struct node *n);
	enum cr_err (*restart)(void *ctx, struct node *n);
	enum cr_err (*health)(void *ctx, struct node *n);
	enum cr_err (*uncordon)(void *ctx, struct node *n);
	enum cr_err (*rollback)(void *ctx, struct node *n);
	/*
	 * Records a transition durably before the next step runs. A failure
	 * to record stops the node where it is (nothing more is changed).
	 */
	enum cr_err (*transition)(void *ctx, const struct node *n,
	    enum node_state from, enum node_state to);
	/* True once the operator asked to stop (Ctrl-C). */
	bool (*interrupted)(void *ctx);
};

/* Sets up n at NODE_PENDING. name is borrowed. */
void node_init(struct node *n, const char *name, unsigned index);

/*
 * Runs n from its current state (NODE_PENDING, or one replayed from a
 * journal) until a final state. Returns CR_OK when the node ended DONE,
 * CR_ERR_CANCELED when an interruption stopped it at a safe point, else
 * the error that stopped it (n->last_msg says what happened).
 */
enum cr_err node_run(struct node *n, const struct node_ops *ops,
    void *ctx) CR_MUST_CHECK;

/* Records err and a message on n (for ops implementations). */
void node_fail(struct node *n, enum cr_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "pending", "cordon", …; "?" for an out-of-range value. */
const char *node_state_name(enum node_state s);

/* Parses a name from node_state_name(); false if unknown. */
bool node_state_parse(const char *name, enum node_state *sp);

/* True for DONE, ABORTED and FAILED. */
bool node_state_final(enum node_state s);

/* True once the node's certificate files may have changed (RENEW on). */
bool node_state_touched_files(enum node_state s);

#endif /* CR_NODE_H */
