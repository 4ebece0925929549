#include "node.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

typedef enum node_state (
    *step_fn)(struct node *, const struct node_ops *, void *);

static enum node_state
next(struct node *n, enum cr_err err, enum node_state ok, enum node_state fail)
{
	if (err == CR_OK)
		return ok;
	if (n->last_err == CR_OK) {
		n->last_err = err;
		n->failed_in = n->state;
	}
	if (n->last_msg[0] == '\0')
		snprintf(n->last_msg, sizeof(n->last_msg), "%s: %s",
		    node_state_name(n->state), cr_strerror(err));
	return fail;
}

static enum node_state
step_pending(struct node *n, const struct node_ops *ops, void *ctx)
{
	(void)n;
	(void)ops;
	(void)ctx;
	return NODE_OBSERVE;
}

static enum node_state
step_observe(struct node *n, const struct node_ops *ops, void *ctx)
{
	enum cr_err err = ops->observe(ctx, n);

	if (err == CR_OK)
		n->cordon_known = true;
	/* Nothing has changed yet: a failure leaves the node as it was. */
	return next(n, err, NODE_CORDON, NODE_ABORTED);
}

static enum node_state
step_cordon(struct node *n, const struct node_ops *ops, void *ctx)
{
	return next(n, ops->cordon(ctx, n), NODE_DRAIN, NODE_RELEASE);
}

static enum node_state
step_drain(struct node *n, const struct node_ops *ops, void *ctx)
{
	return next(n, ops->drain(ctx, n), NODE_BACKUP, NODE_RELEASE);
}

static enum node_state
step_backup(struct node *n, const struct node_ops *ops, void *ctx)
{
	return next(n, ops->backup(ctx, n), NODE_RENEW, NODE_RELEASE);
}

static enum node_state
step_renew(struct node *n, const struct node_ops *ops, void *ctx)
{
	/* From here on the files may differ from the backup. */
	n->changed = true;
	return next(n, ops->renew(ctx, n), NODE_VERIFY, NODE_ROLLBACK);
}

static enum node_state
step_verify(struct node *n, const struct node_ops *ops, void *ctx)
{
	return next(n, ops->verify(ctx, n), NODE_RESTART, NODE_ROLLBACK);
}

static enum node_state
step_restart(struct node *n, const struct node_ops *ops, void *ctx)
{
	return next(n, ops->restart(ctx, n), NODE_HEALTH, NODE_ROLLBACK);
}

static enum node_state
step_health(struct node *n, const struct node_ops *ops, void *ctx)
{
	return next(n, ops->health(ctx, n), NODE_UNCORDON, NODE_ROLLBACK);
}

static enum node_state
step_uncordon(struct node *n, const struct node_ops *ops, void *ctx)
{
	/* Invariant 4: never uncordon what the operator cordoned. */
	if (n->was_cordoned)
		return NODE_DONE;
	return next(n, ops->uncordon(ctx, n), NODE_DONE, NODE_FAILED);
}

static enum node_state
step_rollback(struct node *n, const struct node_ops *ops, void *ctx)
{
	enum cr_err err = ops->rollback(ctx, n);

	if (err == CR_OK)
		n->rolled_back = true;
	/* A node that did not come back healthy stays cordoned. */
	return next(n, err, NODE_RELEASE, NODE_FAILED);
}

static enum node_state
step_release(struct node *n, const struct node_ops *ops, void *ctx)
{
	enum cr_err err = CR_OK;

	if (n->cordon_known && !n->was_cordoned)
		err = ops->uncordon(ctx, n);
	if (err != CR_OK)
		return next(n, err, NODE_FAILED, NODE_FAILED);
	n->released = true;
	return NODE_ABORTED;
}

/* One row per state; a NULL step marks a final state. */
static const struct node_step {
	const char *name;
	step_fn run;
	bool cancelable; /* Ctrl-C may stop here and release the node */
} steps[NODE__MAX] = {
	[NODE_PENDING] = { "pending", step_pending, true },
	[NODE_OBSERVE] = { "observe", step_observe, true },
	[NODE_CORDON] = { "cordon", step_cordon, true },
	[NODE_DRAIN] = { "drain", step_drain, true },
	[NODE_BACKUP] = { "backup", step_backup, true },
	[NODE_RENEW] = { "renew", step_renew, false },
	[NODE_VERIFY] = { "verify", step_verify, false },
	[NODE_RESTART] = { "restart", step_restart, false },
	[NODE_HEALTH] = { "health", step_health, false },
	[NODE_UNCORDON] = { "uncordon", step_uncordon, false },
	[NODE_DONE] = { "done", NULL, false },
	[NODE_ROLLBACK] = { "rollback", step_rollback, false },
	[NODE_RELEASE] = { "release", step_release, false },
	[NODE_ABORTED] = { "aborted", NULL, false },
	[NODE_FAILED] = { "failed", NULL, false },
};

const char *
node_state_name(enum node_state s)
{
	return (unsigned)s < NODE__MAX ? steps[s].name : "?";
}

bool
node_state_parse(const char *name, enum node_state *sp)
{
	unsigned i;

	for (i = 0; i < NODE__MAX; i++) {
		if (strcmp(steps[i].name, name) == 0) {
			*sp = (enum node_state)i;
			return true;
		}
	}
	return false;
}

bool
node_state_final(enum node_state s)
{
	return (unsigned)s < NODE__MAX && steps[s].run == NULL;
}

bool
node_state_touched_files(enum node_state s)
{
	return s >= NODE_RENEW && s != NODE_ABORTED;
}

void
node_init(struct node *n, const char *name, unsigned index)
{
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->index = index;
	n->first = index == 0;
	n->state = NODE_PENDING;
	n->failed_in = NODE_PENDING;
}

void
node_fail(struct node *n, enum cr_err err, const char *fmt, ...)
{
	char msg[sizeof(n->last_msg)];
	size_t len = strlen(n->last_msg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The first failure is the cause; later ones are appended. */
	if (n->last_err == CR_OK) {
		n->last_err = err;
		n->failed_in = n->state;
		snprintf(n->last_msg, sizeof(n->last_msg), "%s", msg);
	} else if (len + 8 < sizeof(n->last_msg)) {
		/* Truncation is fine: the cause at the front is what counts. */
		snprintf(n->last_msg + len, sizeof(n->last_msg) - len,
		    "; then %.*s", (int)(sizeof(n->last_msg) - len - 8), msg);
	}
}

/* The only place that changes n->state, so every transition is recorded. */
static enum cr_err
node_set_state(struct node *n, enum node_state to, const struct node_ops *ops,
    void *ctx)
{
	enum node_state from = n->state;
	int64_t now = clock_mono_ms();
	int64_t add = n->entered_ms != 0 ? now - n->entered_ms : 0;
	enum cr_err err;

	/* The record carries the time spent in the state being left. */
	n->spent_ms[from] += add;
	if ((err = ops->transition(ctx, n, from, to)) != CR_OK) {
		n->spent_ms[from] -= add;
		return err;
	}
	n->entered_ms = now;
	/* The progress lines show transitions; the log has them with -v. */
	log_debug("node %s: %s -> %s", n->name, node_state_name(from),
	    node_state_name(to));
	n->state = to;
	return CR_OK;
}

/* Stops at a safe point: an untouched node stays pending, one in
 * preparation is released so the cluster is left as it was. */
static enum node_state
cancel_target(struct node *n)
{
	if (n->state == NODE_PENDING)
		return NODE_PENDING;
	node_fail(n, CR_ERR_CANCELED, "interrupted by the operator in %s",
	    node_state_name(n->state));
	return NODE_RELEASE;
}

enum cr_err
node_run(struct node *n, const struct node_ops *ops, void *ctx)
{
	enum node_state to;
	enum cr_err err;

	while (!node_state_final(n->state)) {
		if (steps[n->state].cancelable && ops->interrupted != NULL &&
		    ops->interrupted(ctx)) {
			if ((to = cancel_target(n)) == NODE_PENDING)
				return CR_ERR_CANCELED;
		} else {
			to = steps[n->state].run(n, ops, ctx);
		}
		if ((err = node_set_state(n, to, ops, ctx)) != CR_OK) {
			node_fail(n, err, "cannot record %s -> %s",
			    node_state_name(n->state), node_state_name(to));
			return err;
		}
	}
	return n->state == NODE_DONE ? CR_OK : n->last_err;
}
