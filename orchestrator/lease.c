#include "lease.h"

#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "xmalloc.h"

#define LEASE_CALL_MS 10000

struct lease {
	struct kube *kube;
	struct lock *lock;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running;
	bool stop;
	bool lost;
	int64_t interval_ms;
};

static void
renew_once(struct lease *l)
{
	enum cr_err err;

	pthread_mutex_lock(&l->mu);
	err = lock_renew(l->lock, clock_deadline_ms(LEASE_CALL_MS));
	if (err == CR_ERR_STATE && !l->lost) {
		l->lost = true;
		log_warnx("lost the rollout lock: another process holds it "
			  "now; stopping before the next disruptive step");
	}
	pthread_mutex_unlock(&l->mu);
}

static void *
renewer(void *arg)
{
	struct lease *l = arg;
	struct timespec ts;
	int64_t due;

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		due = clock_now_ms() + l->interval_ms;
		ts.tv_sec = (time_t)(due / 1000);
		ts.tv_nsec = (long)(due % 1000) * 1000000;
		while (!l->stop &&
		    pthread_cond_timedwait(&l->cv, &l->mu, &ts) != ETIMEDOUT)
			;
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		renew_once(l);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static void
lease_free(struct lease *l)
{
	lock_free(l->lock);
	kube_free(l->kube);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
}

/*
 * True when the Lease is held for run_id by a process of this host that
 * is gone: holder "user@host/pid" with our host name and no such pid.
 */
static bool
holder_gone(struct lock *lk, const char *run_id, int64_t deadline)
{
	const struct lock_info *li;
	char host[256], *slash, *at;
	char *holder;
	long pid;
	bool gone = false;

	if (run_id == NULL || lock_observe(lk, deadline) != CR_OK)
		return false;
	li = lock_seen(lk);
	if (!li->exists || li->run_id == NULL ||
	    strcmp(li->run_id, run_id) != 0 || li->holder[0] == '\0')
		return false;
	holder = xstrdup(li->holder);
	if ((at = strchr(holder, '@')) != NULL &&
	    (slash = strrchr(at, '/')) != NULL &&
	    gethostname(host, sizeof(host)) == 0) {
		*slash = '\0';
		host[sizeof(host) - 1] = '\0';
		pid = strtol(slash + 1, NULL, 10);
		gone = strcmp(at + 1, host) == 0 && pid > 0 &&
		    kill((pid_t)pid, 0) == -1 && errno == ESRCH;
	}
	free(holder);
	return gone;
}

enum cr_err
lease_start(const struct kube *like, const struct lease_opts *o,
    int64_t deadline, struct lease **lp)
{
	bool break_lock = o->break_lock;
	struct lease *l = xcalloc(1, sizeof(*l));
	enum cr_err err;

	*lp = NULL;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if ((err = kube_new_like(like, &l->kube)) != CR_OK) {
		lease_free(l);
		return err;
	}
	lock_new(l->kube, &o->lock, &l->lock);
	if (!break_lock && holder_gone(l->lock, o->resume_run_id, deadline)) {
		log_info("taking over the lock of run %s: the process that "
			 "held it on this host is gone",
		    o->resume_run_id);
		break_lock = true;
	}
	err = break_lock ? lock_break(l->lock, deadline) :
			   lock_acquire(l->lock, deadline);
	if (err != CR_OK) {
		lease_free(l);
		return err;
	}
	l->interval_ms = (o->lock.lease_seconds > 0 ? o->lock.lease_seconds :
						      LOCK_LEASE_SECONDS) *
	    1000LL / 4;
	if (pthread_create(&l->thread, NULL, renewer, l) != 0)
		fatalx("cannot start the lock renewal thread");
	l->running = true;
	*lp = l;
	return CR_OK;
}

bool
lease_lost(struct lease *l)
{
	bool lost;

	pthread_mutex_lock(&l->mu);
	lost = l->lost;
	pthread_mutex_unlock(&l->mu);
	return lost;
}

enum cr_err
lease_verify(struct lease *l, int64_t deadline)
{
	enum cr_err err;

	pthread_mutex_lock(&l->mu);
	err = l->lost ? CR_ERR_STATE : lock_verify(l->lock, deadline);
	if (err == CR_ERR_STATE)
		l->lost = true;
	pthread_mutex_unlock(&l->mu);
	return err;
}

enum cr_err
lease_set_cordoned(struct lease *l, const char *nodes, int64_t deadline)
{
	enum cr_err err;

	pthread_mutex_lock(&l->mu);
	err = lock_set_cordoned(l->lock, nodes, deadline);
	pthread_mutex_unlock(&l->mu);
	return err;
}

enum cr_err
lease_stop(struct lease *l, bool release)
{
	enum cr_err err = CR_OK;

	if (l == NULL)
		return CR_OK;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (l->running)
		pthread_join(l->thread, NULL);
	if (release && !l->lost)
		err = lock_release(l->lock, clock_deadline_ms(LEASE_CALL_MS));
	lease_free(l);
	return err;
}
