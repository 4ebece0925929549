#include "lock.h"

#include <sys/types.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clock.h"
#include "duration.h"
#include "jv.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

#define WRITE_ATTEMPTS 3

struct lock {
	struct kube *k;
	char *ns;
	char *name;
	char *identity;
	char *run_id;
	int lease_seconds;
	int64_t wait_ms;
	int64_t poll_ms;
	char *path;       /* .../leases/<name> */
	char *collection; /* .../leases */
	json_object *obj; /* the Lease as last read or written; NULL: absent */
	struct lock_info seen;
	struct lock_info prev;
	int64_t observed_at; /* clock_mono_ms() when the record last changed */
	int64_t renewed_at;  /* clock_mono_ms() of our last write as holder */
	bool held;
};

/* Changes a copy of the Lease before it is written. */
typedef void (
    *lease_edit_fn)(const struct lock *l, json_object *obj, const char *arg);

void
lock_opts_init(struct lock_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->namespace = LOCK_NAMESPACE;
	o->name = LOCK_NAME;
	o->lease_seconds = LOCK_LEASE_SECONDS;
	o->poll_ms = 2000;
}

char *
lock_default_identity(void)
{
	const char *user = getenv("USER");
	struct passwd *pw;
	char host[256];

	if ((user == NULL || *user == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		user = pw->pw_name;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	return xasprintf("%s@%s/%ld", user != NULL ? user : "unknown", host,
	    (long)getpid());
}

/* --- Reading a Lease -------------------------------------------------- */

static const char *
annotation(json_object *obj, const char *key)
{
	json_object *ann = jv_obj(obj, "metadata.annotations"), *v;

	if (ann == NULL || !json_object_object_get_ex(ann, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A MicroTime field: absent is 0, malformed is an error. */
static bool
micro_field(json_object *lease, const char *path, int64_t *msp)
{
	const char *s = jv_str(lease, path);

	*msp = 0;
	return s == NULL || timefmt_parse_rfc3339(s, msp) == CR_OK;
}

enum cr_err
lock_info_parse(json_object *lease, struct lock_info *li)
{
	const char *holder = jv_str(lease, "spec.holderIdentity");
	int64_t v;

	li->exists = true;
	li->holder = xstrdup(holder != NULL ? holder : "");
	li->run_id = dup_or_null(annotation(lease, LOCK_ANN_RUN_ID));
	li->cordoned = dup_or_null(annotation(lease, LOCK_ANN_CORDONED));
	li->resource_version = dup_or_null(
	    jv_str(lease, "metadata.resourceVersion"));
	if (jv_int(lease, "spec.leaseDurationSeconds", &v))
		li->lease_seconds = (int)v;
	if (jv_int(lease, "spec.leaseTransitions", &v))
		li->transitions = (int)v;
	if (!micro_field(lease, "spec.acquireTime", &li->acquire_ms) ||
	    !micro_field(lease, "spec.renewTime", &li->renew_ms)) {
		lock_info_clear(li);
		return CR_ERR_PROTO;
	}
	return CR_OK;
}

void
lock_info_clear(struct lock_info *li)
{
	free(li->holder);
	free(li->run_id);
	free(li->cordoned);
	free(li->resource_version);
	memset(li, 0, sizeof(*li));
}

static void
info_copy(struct lock_info *dst, const struct lock_info *src)
{
	lock_info_clear(dst);
	*dst = *src;
	dst->holder = dup_or_null(src->holder);
	dst->run_id = dup_or_null(src->run_id);
	dst->cordoned = dup_or_null(src->cordoned);
	dst->resource_version = dup_or_null(src->resource_version);
}

void
lock_describe_holder(const struct lock_info *li, int64_t expires_in_ms,
    char *buf, size_t len)
{
	char since[TIMEFMT_MAX + 8] = "", run[128] = "", exp[96] = "", d[32];

	if (li->acquire_ms > 0) {
		snprintf(since, sizeof(since), " since ");
		timefmt_rfc3339((time_t)(li->acquire_ms / 1000), since + 7,
		    sizeof(since) - 7);
	}
	if (li->run_id != NULL)
		snprintf(run, sizeof(run), " (run %s)", li->run_id);
	if (expires_in_ms >= 0) {
		duration_format((expires_in_ms + 999) / 1000, d, sizeof(d));
		snprintf(exp, sizeof(exp), "; it expires in %s if not renewed",
		    d);
	}
	snprintf(buf, len,
	    "lock held by %s%s%s%s; use --break-lock to take "
	    "it over",
	    li->holder != NULL ? li->holder : "?", since, run, exp);
}

/* --- The handle ------------------------------------------------------- */

void
lock_new(struct kube *k, const struct lock_opts *o, struct lock **lp)
{
	struct lock *l = xcalloc(1, sizeof(*l));

	l->k = k;
	l->ns = xstrdup(o->namespace != NULL ? o->namespace : LOCK_NAMESPACE);
	l->name = xstrdup(o->name != NULL ? o->name : LOCK_NAME);
	l->identity = o->identity != NULL ? xstrdup(o->identity) :
					    lock_default_identity();
	l->run_id = dup_or_null(o->run_id);
	l->lease_seconds = o->lease_seconds > 0 ? o->lease_seconds :
						  LOCK_LEASE_SECONDS;
	l->wait_ms = o->wait_ms;
	l->poll_ms = o->poll_ms > 0 ? o->poll_ms : 2000;
	l->collection = xasprintf(
	    "/apis/coordination.k8s.io/v1/namespaces/%s/leases", l->ns);
	l->path = xasprintf("%s/%s", l->collection, l->name);
	*lp = l;
}

void
lock_free(struct lock *l)
{
	if (l == NULL)
		return;
	json_object_put(l->obj);
	lock_info_clear(&l->seen);
	lock_info_clear(&l->prev);
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l->run_id);
	free(l->path);
	free(l->collection);
	free(l);
}

const char *
lock_identity(const struct lock *l)
{
	return l->identity;
}

const struct lock_info *
lock_seen(const struct lock *l)
{
	return &l->seen;
}

const struct lock_info *
lock_previous(const struct lock *l)
{
	return &l->prev;
}

/* Takes obj (or NULL: absent) as the current Lease. */
static enum cr_err
adopt(struct lock *l, json_object *obj)
{
	struct lock_info li = { 0 };
	bool changed;

	if (obj != NULL && lock_info_parse(obj, &li) != CR_OK) {
		log_warnx("rollout lock %s/%s: the Lease holds a malformed "
			  "time",
		    l->ns, l->name);
		json_object_put(obj);
		return CR_ERR_PROTO;
	}
	changed = li.exists != l->seen.exists ||
	    (li.resource_version != NULL) !=
		(l->seen.resource_version != NULL) ||
	    (li.resource_version != NULL &&
		strcmp(li.resource_version, l->seen.resource_version) != 0);
	if (changed || l->observed_at == 0)
		l->observed_at = clock_mono_ms();
	lock_info_clear(&l->seen);
	l->seen = li;
	json_object_put(l->obj);
	l->obj = obj;
	return CR_OK;
}

static bool
held_by_me(const struct lock *l)
{
	return l->seen.exists && strcmp(l->seen.holder, l->identity) == 0;
}

/* Expired by client-go's rule: unchanged on our clock for its duration. */
static int64_t
expires_in(const struct lock *l)
{
	int64_t dur = l->seen.lease_seconds > 0 ? l->seen.lease_seconds :
						  l->lease_seconds;

	return l->observed_at + dur * 1000 - clock_mono_ms();
}

static void
api_warn(const struct lock *l, const char *what)
{
	log_warnx("rollout lock %s/%s: %s: %s", l->ns, l->name, what,
	    kube_error_message(l->k));
}

enum cr_err
lock_observe(struct lock *l, int64_t deadline)
{
	json_object *obj = NULL;
	enum cr_err err;

	err = kube_get(l->k, l->path, deadline, &obj);
	if (err == CR_ERR_KUBE &&
	    kube_status_is(kube_last_status(l->k), KUBE_REASON_NOT_FOUND))
		return adopt(l, NULL);
	if (err != CR_OK) {
		api_warn(l, "cannot read it");
		return err;
	}
	return adopt(l, obj);
}

/* --- Writing a Lease -------------------------------------------------- */

static void
set_annotation(json_object *obj, const char *key, const char *value)
{
	json_object *md = jv_obj(obj, "metadata"), *ann;

	if (md == NULL) {
		md = json_object_new_object();
		json_object_object_add(obj, "metadata", md);
	}
	if ((ann = jv_obj(md, "annotations")) == NULL) {
		if (value == NULL)
			return;
		ann = json_object_new_object();
		json_object_object_add(md, "annotations", ann);
	}
	if (value == NULL)
		json_object_object_del(ann, key);
	else
		jv_add_str(ann, key, value);
}

static json_object *
spec_of(json_object *obj)
{
	json_object *spec = jv_obj(obj, "spec");

	if (spec == NULL) {
		spec = json_object_new_object();
		json_object_object_add(obj, "spec", spec);
	}
	return spec;
}

/* holderIdentity, leaseDurationSeconds, times (MicroTime) and transitions. */
static void
set_spec(json_object *obj, const char *holder, int duration, bool acquire,
    int transitions)
{
	json_object *spec = spec_of(obj);
	char now[TIMEFMT_MAX];

	timefmt_micro(clock_now_ms(), now, sizeof(now));
	jv_add_str(spec, "holderIdentity", holder);
	jv_add_int(spec, "leaseDurationSeconds", duration);
	if (acquire)
		jv_add_str(spec, "acquireTime", now);
	jv_add_str(spec, "renewTime", now);
	jv_add_int(spec, "leaseTransitions", transitions);
}

/*
 * Sends obj; on success the answer becomes the current Lease. *conflictp
 * tells a lost race (409 Conflict or AlreadyExists) from other failures.
 */
static enum cr_err
send_lease(struct lock *l, const char *method, json_object *obj,
    int64_t deadline, bool *conflictp)
{
	struct kube_call c = KUBE_CALL_INIT;
	enum cr_err err;

	c.method = method;
	c.path = strcmp(method, "POST") == 0 ? l->collection : l->path;
	c.body = obj;
	*conflictp = false;
	if ((err = kube_call(l->k, &c, deadline)) == CR_OK) {
		err = adopt(l, c.reply);
		c.reply = NULL;
	} else if (c.status == 409)
		*conflictp = true;
	else
		api_warn(l,
		    strcmp(method, "POST") == 0 ? "cannot create it" :
						  "cannot update it");
	kube_call_clear(&c);
	return err;
}

static void
became_holder(struct lock *l)
{
	l->held = true;
	l->renewed_at = clock_mono_ms();
}

static enum cr_err
create(struct lock *l, int64_t deadline)
{
	json_object *obj = json_object_new_object(), *md;
	bool conflict;
	enum cr_err err;

	jv_add_str(obj, "apiVersion", "coordination.k8s.io/v1");
	jv_add_str(obj, "kind", "Lease");
	md = json_object_new_object();
	jv_add_str(md, "name", l->name);
	jv_add_str(md, "namespace", l->ns);
	json_object_object_add(obj, "metadata", md);
	if (l->run_id != NULL)
		set_annotation(obj, LOCK_ANN_RUN_ID, l->run_id);
	set_spec(obj, l->identity, l->lease_seconds, true, 0);
	err = send_lease(l, "POST", obj, deadline, &conflict);
	json_object_put(obj);
	if (err == CR_OK)
		became_holder(l);
	else if (conflict && (err = lock_observe(l, deadline)) == CR_OK)
		err = CR_ERR_STATE;
	return err;
}

static json_object *
lease_copy(const struct lock *l)
{
	json_object *copy = NULL;

	if (json_object_deep_copy(l->obj, &copy, NULL) != 0)
		fatalx("out of memory");
	return copy;
}

/* PUT with the resourceVersion read: take the lock as it was last seen. */
static enum cr_err
take(struct lock *l, int64_t deadline)
{
	json_object *obj = lease_copy(l);
	bool conflict, mine = held_by_me(l);
	enum cr_err err;

	if (!mine) {
		info_copy(&l->prev, &l->seen);
		if (l->seen.run_id != NULL)
			set_annotation(obj, LOCK_ANN_PREV_RUN, l->seen.run_id);
	}
	set_annotation(obj, LOCK_ANN_RUN_ID, l->run_id);
	set_spec(obj, l->identity, l->lease_seconds, !mine,
	    l->seen.transitions + (mine ? 0 : 1));
	err = send_lease(l, "PUT", obj, deadline, &conflict);
	json_object_put(obj);
	if (err == CR_OK)
		became_holder(l);
	else if (conflict && (err = lock_observe(l, deadline)) == CR_OK)
		err = CR_ERR_STATE;
	return err;
}

enum cr_err
lock_try(struct lock *l, int64_t deadline)
{
	if (!l->seen.exists)
		return create(l, deadline);
	if (!held_by_me(l) && l->seen.holder[0] != '\0' && expires_in(l) > 0)
		return CR_ERR_STATE;
	return take(l, deadline);
}

static void
refuse(const struct lock *l)
{
	char msg[512];

	lock_describe_holder(&l->seen, expires_in(l), msg, sizeof(msg));
	log_warnx("rollout lock %s/%s: %s", l->ns, l->name, msg);
}

enum cr_err
lock_acquire(struct lock *l, int64_t deadline)
{
	int64_t give_up = clock_mono_ms() + l->wait_ms;
	enum cr_err err;

	for (;;) {
		if ((err = lock_observe(l, deadline)) != CR_OK ||
		    (err = lock_try(l, deadline)) != CR_ERR_STATE)
			break;
		if (clock_mono_ms() + l->poll_ms > give_up ||
		    clock_expired(deadline)) {
			refuse(l);
			break;
		}
		clock_sleep_ms(l->poll_ms);
	}
	if (err == CR_OK && l->prev.exists && l->prev.holder[0] != '\0')
		log_info("rollout lock %s/%s: taken over from %s, whose lease "
			 "expired",
		    l->ns, l->name, l->prev.holder);
	return err;
}

enum cr_err
lock_break(struct lock *l, int64_t deadline)
{
	char since[TIMEFMT_MAX];
	enum cr_err err = CR_ERR_STATE;
	int i;

	for (i = 0; i < WRITE_ATTEMPTS && err == CR_ERR_STATE; i++) {
		if ((err = lock_observe(l, deadline)) != CR_OK)
			return err;
		if (!l->seen.exists) {
			err = create(l, deadline);
			continue;
		}
		timefmt_rfc3339((time_t)(l->seen.acquire_ms / 1000), since,
		    sizeof(since));
		log_warnx(
		    "rollout lock %s/%s: BREAKING the lock held by %s "
		    "since %s (run %s); if that run is still working, two "
		    "rollouts now run at once",
		    l->ns, l->name,
		    l->seen.holder[0] != '\0' ? l->seen.holder : "nobody",
		    since, l->seen.run_id != NULL ? l->seen.run_id : "unknown");
		err = take(l, deadline);
	}
	return err;
}

static void
lost(struct lock *l, const char *why)
{
	char since[TIMEFMT_MAX] = "?";

	l->held = false;
	if (!l->seen.exists) {
		log_warnx("rollout lock %s/%s: lost (%s): the Lease was "
			  "deleted; stop the rollout",
		    l->ns, l->name, why);
		return;
	}
	if (l->seen.acquire_ms > 0)
		timefmt_rfc3339((time_t)(l->seen.acquire_ms / 1000), since,
		    sizeof(since));
	log_warnx("rollout lock %s/%s: lost (%s): now held by %s since %s "
		  "(run %s); stop the rollout",
	    l->ns, l->name, why,
	    l->seen.holder[0] != '\0' ? l->seen.holder : "nobody", since,
	    l->seen.run_id != NULL ? l->seen.run_id : "unknown");
}

/* Writes an edit of the Lease we hold; a conflict re-reads and retries. */
static enum cr_err
held_update(struct lock *l, lease_edit_fn edit, const char *arg,
    int64_t deadline)
{
	json_object *obj;
	bool conflict = true;
	enum cr_err err = CR_ERR_STATE;
	int i;

	for (i = 0; i < WRITE_ATTEMPTS && conflict; i++) {
		if (!l->held || !held_by_me(l)) {
			lost(l, "it changed under us");
			return CR_ERR_STATE;
		}
		obj = lease_copy(l);
		edit(l, obj, arg);
		err = send_lease(l, "PUT", obj, deadline, &conflict);
		json_object_put(obj);
		if (err == CR_ERR_KUBE &&
		    kube_status_is(kube_last_status(l->k),
			KUBE_REASON_NOT_FOUND))
			conflict = true;
		if (conflict && (err = lock_observe(l, deadline)) != CR_OK)
			return err;
	}
	if (conflict) {
		log_warnx("rollout lock %s/%s: it kept changing under us; "
			  "giving up after %d attempts",
		    l->ns, l->name, WRITE_ATTEMPTS);
		return CR_ERR_STATE;
	}
	if (err == CR_OK)
		l->renewed_at = clock_mono_ms();
	return err;
}

static void
edit_renew(const struct lock *l, json_object *obj, const char *arg)
{
	(void)arg;
	set_spec(obj, l->identity, l->lease_seconds, false,
	    l->seen.transitions);
}

enum cr_err
lock_renew(struct lock *l, int64_t deadline)
{
	return held_update(l, edit_renew, NULL, deadline);
}

enum cr_err
lock_verify(struct lock *l, int64_t deadline)
{
	enum cr_err err;

	if ((err = lock_observe(l, deadline)) != CR_OK)
		return err;
	if (!l->held || !held_by_me(l)) {
		lost(l, "checked before acting");
		return CR_ERR_STATE;
	}
	if (clock_mono_ms() - l->renewed_at > l->lease_seconds * 1000LL) {
		log_warnx("rollout lock %s/%s: not renewed for more than %ds, "
			  "so another run may take it over; stop the rollout",
		    l->ns, l->name, l->lease_seconds);
		return CR_ERR_STATE;
	}
	return CR_OK;
}

static void
edit_cordoned(const struct lock *l, json_object *obj, const char *nodes)
{
	set_annotation(obj, LOCK_ANN_CORDONED,
	    nodes != NULL && *nodes != '\0' ? nodes : NULL);
	edit_renew(l, obj, NULL);
}

enum cr_err
lock_set_cordoned(struct lock *l, const char *nodes, int64_t deadline)
{
	return held_update(l, edit_cordoned, nodes, deadline);
}

static void
edit_release(const struct lock *l, json_object *obj, const char *arg)
{
	(void)arg;
	set_annotation(obj, LOCK_ANN_CORDONED, NULL);
	set_annotation(obj, LOCK_ANN_RUN_ID, NULL);
	set_annotation(obj, LOCK_ANN_PREV_RUN, NULL);
	/* client-go's ReleaseOnCancel: no holder, duration 1. */
	set_spec(obj, "", 1, true, l->seen.transitions);
}

enum cr_err
lock_release(struct lock *l, int64_t deadline)
{
	enum cr_err err = held_update(l, edit_release, NULL, deadline);

	if (err == CR_OK)
		l->held = false;
	return err;
}
