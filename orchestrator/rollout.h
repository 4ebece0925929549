/*
 * certroll apply and resume: the rolling renewal (design.md, "A node's
 * rolling renewal"). After the plan's preflight, under the rollout lock
 * and with every transition in the journal, each node goes through the
 * state machine of node.h, strictly one at a time; the rollout stops at
 * the first node that does not end done.
 */
#ifndef CR_ROLLOUT_H
#define CR_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "plan.h"
#include "proto.h"

struct rollout_opts {
	struct plan_opts plan;
	enum proto_backend backend;
	const char *key_algorithm; /* "" keeps each certificate's */
	unsigned keep;             /* backups kept on each node */
	bool snapshot;             /* etcd snapshot before the first node */
	const char *fetch_backups; /* copy backups here, or NULL */
	bool yes;                  /* do not ask */
	bool break_lock;           /* take the lock over, loudly */
	const char *plan_file;     /* run exactly this saved plan */
	const char *report_file;   /* write the JSON report here */
	int64_t restart_timeout_s; /* per component; 0: from the kubelet */
	int64_t health_timeout_s;  /* health gates of one node */
	bool refresh_kubeconfig;   /* at the end, without asking */
};

void rollout_opts_init(struct rollout_opts *o);

/*
 * certroll apply: plan, confirm, lock, journal, renew node by node,
 * report. c has its inventory loaded. Returns a CLI exit code: 0 every
 * node renewed, 1 the rollout stopped (or was blocked), 2 input error.
 */
int rollout_apply(struct ctx *c, const struct rollout_opts *o);

/*
 * certroll resume: continues the run recorded in the journal at path (the
 * cluster's latest when NULL) from its last recorded state, with the
 * options it was started with. Nodes already done are never renewed
 * again. Returns a CLI exit code as rollout_apply().
 */
int rollout_resume(struct ctx *c, const struct rollout_opts *o,
    const char *path);

#endif /* CR_ROLLOUT_H */
