/*
 * The rollout's hold on the lock (lock.h) for as long as it runs.
 *
 * A step such as a restart can take minutes without a state transition,
 * longer than the Lease lasts, so a thread renews the Lease every quarter
 * of its duration on an API client of its own (libcurl handles are not
 * shared between threads). Every lock operation runs under one mutex.
 * When a renewal finds another holder the lock is lost for good: the
 * rollout asks lease_lost() before each disruptive act and stops.
 * Transient API errors are retried by the next renewal.
 */
#ifndef CR_LEASE_H
#define CR_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "kubecfg.h"
#include "lock.h"

struct lease;

struct lease_opts {
	struct lock_opts lock; /* which Lease, who holds it, for which run */
	bool break_lock;       /* take it over whatever its state, loudly */
	const char *resume_run_id; /* the run being resumed, or NULL */
};

/*
 * Acquires the lock (takes it over with break_lock, loudly) with a client
 * of its own made like like (kube_new_like(): the same endpoints, so the
 * lock survives the kubeconfig's server restarting; like's kubeconfig is
 * borrowed and must outlive the lease), then starts renewing. o's strings are
 * copied. When resuming run resume_run_id, a Lease held for that run by a
 * process of this host that no longer exists is taken over at once: its holder
 * is provably gone. On success *lp must be released with lease_stop(). Returns
 * lock_acquire()'s errors (logged there).
 */
enum cr_err lease_start(const struct kube *like, const struct lease_opts *o,
    int64_t deadline, struct lease **lp) CR_MUST_CHECK;

/* True once a renewal found that someone else holds the lock. */
bool lease_lost(struct lease *l);

/* Check-before-act: reads the Lease now; CR_ERR_STATE if it is not ours. */
enum cr_err lease_verify(struct lease *l, int64_t deadline) CR_MUST_CHECK;

/* Records the nodes this run holds cordoned ("cp1,cp2"; "" for none). */
enum cr_err lease_set_cordoned(struct lease *l, const char *nodes,
    int64_t deadline) CR_MUST_CHECK;

/*
 * Stops renewing and, with release, releases the Lease. NULL is a no-op.
 * Returns the release's outcome.
 */
enum cr_err lease_stop(struct lease *l, bool release) CR_MUST_CHECK;

#endif /* CR_LEASE_H */
