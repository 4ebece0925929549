/*
 * The rollout lock: one coordination.k8s.io/v1 Lease (default
 * kube-system/certroll) so that only one certroll rollout runs per
 * cluster (design.md invariant 6; kube-api.md §5).
 *
 * The rules are client-go leader election's:
 * - acquire creates the Lease, or takes it over when it is free (released:
 *   empty holder) or expired; expiry is judged on our own clock: the
 *   record has been observed unchanged for leaseDurationSeconds. The other
 *   host's renewTime is shown to people but never trusted (clock skew);
 * - every write is a PUT with the resourceVersion last read (optimistic
 *   concurrency): of two acquirers that start from the same read exactly
 *   one wins, the other sees 409 and reports the holder;
 * - the holder renews between steps (lock_renew()) and checks before each
 *   disruptive act (lock_verify()); a renewal that finds another holder
 *   means the lock was lost and the rollout must stop;
 * - release clears the holder and sets leaseDurationSeconds to 1.
 * Times are MicroTime (six fractional digits). The holder identity is
 * "user@host/pid". Annotations record the run id (certroll.io/run-id) and
 * the nodes this run cordoned (certroll.io/cordoned: "cp1,cp2"), so a run
 * that takes over after a crash can finish the crashed run's work.
 *
 * The lock functions log their failures once, naming the Lease; callers
 * need not log again.
 */
#ifndef CR_LOCK_H
#define CR_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"
#include "kube.h"

#define LOCK_NAMESPACE     "kube-system"
#define LOCK_NAME          "certroll"
#define LOCK_ANN_RUN_ID    "certroll.io/run-id"
#define LOCK_ANN_CORDONED  "certroll.io/cordoned"
#define LOCK_ANN_PREV_RUN  "certroll.io/previous-run-id"
#define LOCK_LEASE_SECONDS 60

struct lock_opts {
	const char *namespace; /* LOCK_NAMESPACE */
	const char *name;      /* LOCK_NAME */
	const char *identity;  /* NULL: "user@host/pid" */
	const char *run_id;    /* recorded in LOCK_ANN_RUN_ID, or NULL */
	int lease_seconds;     /* leaseDurationSeconds */
	int64_t wait_ms; /* how long acquire watches another holder's Lease
			    for expiry before it gives up; 0: not at all */
	int64_t poll_ms; /* how often it reads the Lease meanwhile */
};

/* Defaults: kube-system/certroll, 60 s lease, no waiting, 2 s polls. */
void lock_opts_init(struct lock_opts *o);

/* What a Lease says, as read. Strings are owned; times are epoch ms. */
struct lock_info {
	bool exists;
	char *holder; /* "" when free */
	int64_t acquire_ms;
	int64_t renew_ms;
	int lease_seconds;
	int transitions;
	char *run_id;   /* or NULL */
	char *cordoned; /* "cp1,cp2", or NULL */
	char *resource_version;
};

/*
 * Reads a Lease object into *li (zeroed by the caller; exists is set).
 * Returns CR_ERR_PROTO when a time is not a valid MicroTime; *li is then
 * cleared. Release with lock_info_clear().
 */
enum cr_err lock_info_parse(json_object *lease,
    struct lock_info *li) CR_MUST_CHECK;
void lock_info_clear(struct lock_info *li);

/*
 * The refusal text: "lock held by alice@ws1/4242 since
 * 2026-11-28T13:00:00Z (run 20261128-1300); it expires in 45s if not
 * renewed; use --break-lock to take it over". expires_in_ms < 0 leaves
 * the expiry out.
 */
void lock_describe_holder(const struct lock_info *li, int64_t expires_in_ms,
    char *buf, size_t len);

/* "user@host/pid" of this process, to free(). */
char *lock_default_identity(void);

struct lock;

/*
 * Makes a lock handle for k; nothing is sent. k is borrowed and must
 * outlive the lock; o's strings are copied. Release with lock_free()
 * (which does not release the Lease: call lock_release() first).
 */
void lock_new(struct kube *k, const struct lock_opts *o, struct lock **lp);
void lock_free(struct lock *l);

/* This handle's identity. Borrowed. */
const char *lock_identity(const struct lock *l);

/*
 * The Lease as last read or written (exists is false when it was absent),
 * and, after a takeover or lock_break(), what it said before. Borrowed
 * from l until its next call.
 */
const struct lock_info *lock_seen(const struct lock *l);
const struct lock_info *lock_previous(const struct lock *l);

/*
 * GETs the Lease and remembers it, with the time on our clock when its
 * resourceVersion last changed. CR_ERR_KUBE when the read failed.
 */
enum cr_err lock_observe(struct lock *l, int64_t deadline) CR_MUST_CHECK;

/*
 * One attempt from the last observation: create the Lease when absent,
 * take it when free or expired. Returns CR_OK when we hold it;
 * CR_ERR_STATE when another holder's Lease is valid or another acquirer
 * won the race (409; the Lease is read again so lock_seen() names the
 * winner); CR_ERR_KUBE when the API failed.
 */
enum cr_err lock_try(struct lock *l, int64_t deadline) CR_MUST_CHECK;

/*
 * lock_observe() and lock_try(), repeated every poll_ms for up to wait_ms
 * while another holder's Lease may still expire. On CR_ERR_STATE it logs
 * who holds the lock, since when, when it expires, and --break-lock.
 */
enum cr_err lock_acquire(struct lock *l, int64_t deadline) CR_MUST_CHECK;

/*
 * Takes the lock whatever its state, and says so loudly (a warning naming
 * the previous holder and run). For --break-lock.
 */
enum cr_err lock_break(struct lock *l, int64_t deadline) CR_MUST_CHECK;

/*
 * Renews the Lease (renewTime = now). CR_ERR_STATE when it was lost:
 * another holder took it or it was deleted. Call between steps.
 */
enum cr_err lock_renew(struct lock *l, int64_t deadline) CR_MUST_CHECK;

/*
 * Check-before-act: reads the Lease and returns CR_OK only if we still
 * hold it and it has not gone unrenewed for its duration on our clock;
 * CR_ERR_STATE otherwise.
 */
enum cr_err lock_verify(struct lock *l, int64_t deadline) CR_MUST_CHECK;

/*
 * Records the nodes this run cordoned (comma-separated; NULL or "" clears
 * the annotation), renewing the Lease at the same time.
 */
enum cr_err lock_set_cordoned(struct lock *l, const char *nodes,
    int64_t deadline) CR_MUST_CHECK;

/*
 * Releases the lock: empty holder, leaseDurationSeconds 1, the run's
 * annotations removed. CR_ERR_STATE if another holder has it by now.
 */
enum cr_err lock_release(struct lock *l, int64_t deadline) CR_MUST_CHECK;

#endif /* CR_LOCK_H */
