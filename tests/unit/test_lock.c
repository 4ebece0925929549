/*
 * lock: the rollout Lease. Hermetic: reading a Lease and the refusal
 * text. Against kubesim ("sim"): two acquirers racing from the same read,
 * takeover after expiry judged on our clock, a renewal that finds the lock
 * lost, release, --break-lock and the annotations a crashed run leaves.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cu_run.h"
#include "jv.h"
#include "kube.h"
#include "kubesim_fix.h"
#include "lock.h"
#include "log.h"
#include "xmalloc.h"

static json_object *
jq(const char *text)
{
	char *copy = xstrdup(text), *p;
	json_object *o = NULL;

	for (p = copy; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	if (jv_parse(copy, strlen(copy), &o, NULL, 0) != CR_OK) {
		fprintf(stderr, "bad test JSON: %s\n", copy);
		exit(2);
	}
	free(copy);
	return o;
}

/* --- Hermetic --------------------------------------------------------- */

static void
test_info_parse(void)
{
	struct lock_info li = { 0 };
	json_object *l = jq(
	    "{'apiVersion':'coordination.k8s.io/v1','kind':'Lease','metadata':"
	    "{'name':'certroll','namespace':'kube-system','resourceVersion':"
	    "'17','annotations':{'certroll.io/run-id':'20261128-1300',"
	    "'certroll.io/cordoned':'cp1,cp2'}},'spec':{'holderIdentity':"
	    "'alice@ws1/4242','leaseDurationSeconds':60,'acquireTime':"
	    "'2026-11-28T13:00:00.000000Z','renewTime':"
	    "'2026-11-28T13:00:20.123456Z','leaseTransitions':3}}");

	CU_ASSERT_EQUAL_FATAL(lock_info_parse(l, &li), CR_OK);
	CU_ASSERT_TRUE(li.exists);
	CU_ASSERT_STRING_EQUAL(li.holder, "alice@ws1/4242");
	CU_ASSERT_EQUAL(li.acquire_ms, 1795870800000LL);
	CU_ASSERT_EQUAL(li.renew_ms, 1795870820123LL);
	CU_ASSERT_EQUAL(li.lease_seconds, 60);
	CU_ASSERT_EQUAL(li.transitions, 3);
	CU_ASSERT_STRING_EQUAL(li.run_id, "20261128-1300");
	CU_ASSERT_STRING_EQUAL(li.cordoned, "cp1,cp2");
	CU_ASSERT_STRING_EQUAL(li.resource_version, "17");
	lock_info_clear(&li);
	json_object_put(l);

	/* A released or bare Lease: free, nothing recorded. */
	l = jq("{'metadata':{'name':'certroll'},'spec':{'holderIdentity':'',"
	       "'leaseDurationSeconds':1}}");
	CU_ASSERT_EQUAL_FATAL(lock_info_parse(l, &li), CR_OK);
	CU_ASSERT_STRING_EQUAL(li.holder, "");
	CU_ASSERT_EQUAL(li.acquire_ms, 0);
	CU_ASSERT_PTR_NULL(li.run_id);
	CU_ASSERT_PTR_NULL(li.cordoned);
	lock_info_clear(&li);
	json_object_put(l);
	l = jq("{'metadata':{'name':'certroll'}}");
	CU_ASSERT_EQUAL_FATAL(lock_info_parse(l, &li), CR_OK);
	CU_ASSERT_STRING_EQUAL(li.holder, "");
	lock_info_clear(&li);
	json_object_put(l);

	/* A malformed MicroTime is refused, not read as zero. */
	l = jq("{'spec':{'holderIdentity':'x','renewTime':'yesterday'}}");
	CU_ASSERT_EQUAL(lock_info_parse(l, &li), CR_ERR_PROTO);
	CU_ASSERT_PTR_NULL(li.holder);
	json_object_put(l);
}

static void
test_describe(void)
{
	char holder[] = "alice@ws1/4242", run[] = "20261128-1300";
	struct lock_info li = { .exists = true,
		.holder = holder,
		.acquire_ms = 1795870800000LL,
		.run_id = run };
	char buf[512], *id;

	lock_describe_holder(&li, 45000, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
	    "lock held by alice@ws1/4242 since 2026-11-28T13:00:00Z (run "
	    "20261128-1300); it expires in 45s if not renewed; use "
	    "--break-lock to take it over");
	li.run_id = NULL;
	li.acquire_ms = 0;
	lock_describe_holder(&li, 44001, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
	    "lock held by alice@ws1/4242; it expires in 45s if not renewed; "
	    "use --break-lock to take it over");
	lock_describe_holder(&li, -1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
	    "lock held by alice@ws1/4242; use "
	    "--break-lock to take it over");
	id = lock_default_identity();
	snprintf(buf, sizeof(buf), "/%ld", (long)getpid());
	CU_ASSERT_PTR_NOT_NULL(strchr(id, '@'));
	CU_ASSERT_PTR_NOT_NULL(strstr(id, buf));
	free(id);
}

/* --- Against kubesim -------------------------------------------------- */

static struct ksf sim;

static int
sim_init(void)
{
	ksf_init(&sim);
	ksf_start(&sim, NULL);
	return 0;
}

static int
sim_clean(void)
{
	ksf_stop(&sim);
	return 0;
}

static int64_t
soon(void)
{
	return clock_deadline_ms(20000);
}

static struct lock *
handle(const char *name, const char *who, const char *run, int lease_s)
{
	struct lock_opts o;
	struct lock *l;

	lock_opts_init(&o);
	o.name = name;
	o.identity = who;
	o.run_id = run;
	o.lease_seconds = lease_s;
	o.poll_ms = 200;
	lock_new(sim.k, &o, &l);
	return l;
}

static json_object *
lease(const char *name)
{
	char *path = xasprintf("/apis/coordination.k8s.io/v1/namespaces/"
			       "kube-system/leases/%s",
	    name);
	json_object *o = ksf_get(&sim, path);

	free(path);
	return o;
}

/* An annotation of l (keys hold dots, so jv_str() cannot take them). */
static const char *
annotation(json_object *l, const char *key)
{
	json_object *ann = jv_obj(l, "metadata.annotations"), *v;

	if (ann == NULL || !json_object_object_get_ex(ann, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static void
test_race_on_create(void)
{
	struct lock *a = handle("race1", "alice@ws1/1", "run-a", 60);
	struct lock *b = handle("race1", "bob@ws2/2", "run-b", 60);
	int64_t seq = ksf_seq(&sim);

	/* Both read "absent", both create: exactly one wins. */
	CU_ASSERT_EQUAL(lock_observe(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_observe(b, soon()), CR_OK);
	CU_ASSERT_FALSE(lock_seen(a)->exists);
	CU_ASSERT_EQUAL(lock_try(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_try(b, soon()), CR_ERR_STATE);
	CU_ASSERT_STRING_EQUAL(lock_seen(b)->holder, "alice@ws1/1");
	CU_ASSERT_STRING_EQUAL(lock_seen(b)->run_id, "run-a");
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "POST", "leases", NULL), 2);
	CU_ASSERT_EQUAL(lock_release(a, soon()), CR_OK);
	lock_free(a);
	lock_free(b);
}

static void
test_race_on_takeover(void)
{
	struct lock *a = handle("race2", "alice@ws1/1", "run-a", 60);
	struct lock *b = handle("race2", "bob@ws2/2", "run-b", 60);
	struct lock *c = handle("race2", "carol@ws3/3", "run-c", 60);
	json_object *l;
	int64_t seq;

	CU_ASSERT_EQUAL(lock_acquire(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_release(a, soon()), CR_OK);
	/* Free now: b and c read the same resourceVersion and race. */
	CU_ASSERT_EQUAL(lock_observe(b, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_observe(c, soon()), CR_OK);
	CU_ASSERT_STRING_EQUAL(lock_seen(b)->resource_version,
	    lock_seen(c)->resource_version);
	seq = ksf_seq(&sim);
	CU_ASSERT_EQUAL(lock_try(c, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_try(b, soon()), CR_ERR_STATE);
	CU_ASSERT_STRING_EQUAL(lock_seen(b)->holder, "carol@ws3/3");
	CU_ASSERT_EQUAL(ksf_count(&sim, seq, "PUT", "leases/race2", NULL), 2);
	l = lease("race2");
	CU_ASSERT_STRING_EQUAL(jv_str(l, "spec.holderIdentity"), "carol@ws3/3");
	json_object_put(l);
	CU_ASSERT_EQUAL(lock_release(c, soon()), CR_OK);
	lock_free(a);
	lock_free(b);
	lock_free(c);
}

static void
test_refusal_says_who(void)
{
	struct lock *a = handle("held", "alice@ws1/4242", "run-a", 60);
	struct lock *b = handle("held", "bob@ws2/2", NULL, 60);
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	regex_t re;

	CU_ASSERT_EQUAL(lock_acquire(a, soon()), CR_OK);
	log_set_output(fp);
	CU_ASSERT_EQUAL(lock_acquire(b, soon()), CR_ERR_STATE);
	log_set_output(NULL);
	fclose(fp);
	CU_ASSERT_EQUAL_FATAL(
	    regcomp(&re,
		"rollout lock kube-system/held: lock held by "
		"alice@ws1/4242 since 20[0-9-]+T[0-9:]+Z \\(run "
		"run-a\\); it expires in (1m|59s) if not "
		"renewed; use --break-lock to take it over",
		REG_EXTENDED),
	    0);
	CU_ASSERT_EQUAL(regexec(&re, text, 0, NULL, 0), 0);
	if (regexec(&re, text, 0, NULL, 0) != 0)
		fprintf(stderr, "\ngot: %s\n", text);
	regfree(&re);
	free(text);
	CU_ASSERT_EQUAL(lock_verify(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_release(a, soon()), CR_OK);
	lock_free(a);
	lock_free(b);
}

static void
test_takeover_after_expiry(void)
{
	struct lock *a = handle("expiry", "alice@ws1/1", "run-a", 1);
	struct lock *b = handle("expiry", "bob@ws2/2", "run-b", 60);
	struct lock_opts o;
	json_object *l;
	int64_t t0;

	CU_ASSERT_EQUAL(lock_acquire(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_set_cordoned(a, "cp1,cp2", soon()), CR_OK);
	lock_free(b);
	lock_opts_init(&o);
	o.name = "expiry";
	o.identity = "bob@ws2/2";
	o.run_id = "run-b";
	o.wait_ms = 5000;
	o.poll_ms = 200;
	lock_new(sim.k, &o, &b);
	/* a stops renewing (it crashed): b must watch it unchanged for 1s. */
	t0 = clock_mono_ms();
	CU_ASSERT_EQUAL(lock_acquire(b, soon()), CR_OK);
	CU_ASSERT_TRUE(clock_mono_ms() - t0 >= 1000);
	CU_ASSERT_STRING_EQUAL(lock_previous(b)->holder, "alice@ws1/1");
	CU_ASSERT_STRING_EQUAL(lock_previous(b)->cordoned, "cp1,cp2");
	CU_ASSERT_STRING_EQUAL(lock_previous(b)->run_id, "run-a");
	l = lease("expiry");
	CU_ASSERT_STRING_EQUAL(jv_str(l, "spec.holderIdentity"), "bob@ws2/2");
	CU_ASSERT_EQUAL(
	    json_object_get_int(jv_path(l, "spec.leaseTransitions")), 1);
	/* The crashed run's record survives the takeover. */
	CU_ASSERT_STRING_EQUAL(annotation(l, LOCK_ANN_RUN_ID), "run-b");
	CU_ASSERT_STRING_EQUAL(annotation(l, LOCK_ANN_PREV_RUN), "run-a");
	CU_ASSERT_STRING_EQUAL(annotation(l, LOCK_ANN_CORDONED), "cp1,cp2");
	json_object_put(l);
	/* a comes back: its renewal finds the lock lost. */
	CU_ASSERT_EQUAL(lock_renew(a, soon()), CR_ERR_STATE);
	CU_ASSERT_EQUAL(lock_verify(a, soon()), CR_ERR_STATE);
	CU_ASSERT_EQUAL(lock_release(b, soon()), CR_OK);
	lock_free(a);
	lock_free(b);
}

static void
test_break_and_lost(void)
{
	struct lock *a = handle("brk", "alice@ws1/1", "run-a", 60);
	struct lock *b = handle("brk", "bob@ws2/2", "run-b", 60);
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	CU_ASSERT_EQUAL(lock_acquire(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_renew(a, soon()), CR_OK);
	log_set_output(fp);
	CU_ASSERT_EQUAL(lock_break(b, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_renew(a, soon()), CR_ERR_STATE);
	log_set_output(NULL);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
	    "BREAKING the lock held by "
	    "alice@ws1/1 since "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "(run run-a)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
	    "rollout lock kube-system/brk: lost (it changed under us): now "
	    "held by bob@ws2/2 since "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "(run run-b); stop the rollout"));
	free(text);
	CU_ASSERT_EQUAL(lock_verify(b, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_release(a, soon()), CR_ERR_STATE);
	CU_ASSERT_EQUAL(lock_release(b, soon()), CR_OK);
	lock_free(a);
	lock_free(b);
	/* Breaking a lock nobody has made creates it. */
	a = handle("brk-new", "alice@ws1/1", NULL, 60);
	CU_ASSERT_EQUAL(lock_break(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_verify(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_release(a, soon()), CR_OK);
	lock_free(a);
}

static void
test_verify_needs_renewal(void)
{
	struct lock *a = handle("ver", "alice@ws1/1", NULL, 1);

	CU_ASSERT_EQUAL(lock_acquire(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_verify(a, soon()), CR_OK);
	clock_sleep_ms(1200);
	/* Unrenewed for its duration: others may take it; do not act. */
	CU_ASSERT_EQUAL(lock_verify(a, soon()), CR_ERR_STATE);
	CU_ASSERT_EQUAL(lock_renew(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_verify(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_release(a, soon()), CR_OK);
	lock_free(a);
}

static void
test_release_and_annotations(void)
{
	struct lock *a = handle("rel", "alice@ws1/1", "run-a", 60);
	struct lock *b = handle("rel", "bob@ws2/2", "run-b", 60);
	json_object *l;
	regex_t re;

	CU_ASSERT_EQUAL(lock_acquire(a, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_set_cordoned(a, "cp1,cp2", soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_observe(b, soon()), CR_OK);
	CU_ASSERT_STRING_EQUAL(lock_seen(b)->cordoned, "cp1,cp2");
	CU_ASSERT_STRING_EQUAL(lock_seen(b)->run_id, "run-a");
	l = lease("rel");
	/* MicroTime: exactly six fractional digits. */
	CU_ASSERT_EQUAL_FATAL(
	    regcomp(&re,
		"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
		"[0-9]{2}\\.[0-9]{6}Z$",
		REG_EXTENDED | REG_NOSUB),
	    0);
	CU_ASSERT_EQUAL(regexec(&re, jv_str(l, "spec.renewTime"), 0, NULL, 0),
	    0);
	CU_ASSERT_EQUAL(regexec(&re, jv_str(l, "spec.acquireTime"), 0, NULL, 0),
	    0);
	regfree(&re);
	json_object_put(l);
	CU_ASSERT_EQUAL(lock_set_cordoned(a, NULL, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_observe(b, soon()), CR_OK);
	CU_ASSERT_PTR_NULL(lock_seen(b)->cordoned);
	CU_ASSERT_EQUAL(lock_release(a, soon()), CR_OK);
	l = lease("rel");
	CU_ASSERT_STRING_EQUAL(jv_str(l, "spec.holderIdentity"), "");
	CU_ASSERT_EQUAL(
	    json_object_get_int(jv_path(l, "spec.leaseDurationSeconds")), 1);
	CU_ASSERT_PTR_NULL(annotation(l, LOCK_ANN_RUN_ID));
	CU_ASSERT_PTR_NULL(annotation(l, LOCK_ANN_CORDONED));
	json_object_put(l);
	/* Released: the next acquirer takes it at once. */
	CU_ASSERT_EQUAL(lock_acquire(b, soon()), CR_OK);
	CU_ASSERT_EQUAL(lock_release(b, soon()), CR_OK);
	lock_free(a);
	lock_free(b);
}

static CU_TestInfo unit_tests[] = {
	{ "info_parse", test_info_parse },
	{ "describe", test_describe },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo sim_tests[] = {
	{ "race_on_create", test_race_on_create },
	{ "race_on_takeover", test_race_on_takeover },
	{ "refusal_says_who", test_refusal_says_who },
	{ "takeover_after_expiry", test_takeover_after_expiry },
	{ "break_and_lost", test_break_and_lost },
	{ "verify_needs_renewal", test_verify_needs_renewal },
	{ "release_and_annotations", test_release_and_annotations },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo unit_suites[] = {
	{ .pName = "lock_info", .pTests = unit_tests },
	CU_SUITE_INFO_NULL,
};

static CU_SuiteInfo sim_suites[] = {
	{ .pName = "lock_sim",
	    .pInitFunc = sim_init,
	    .pCleanupFunc = sim_clean,
	    .pTests = sim_tests },
	CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sim") == 0)
		return cu_run(sim_suites);
	return cu_run(unit_suites);
}
