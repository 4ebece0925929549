/*
 * The node state machine with fake side effects: every failure at every
 * step ends in the documented state with the right calls made.
 */
#include <stdio.h>
#include <string.h>

#include "cu_run.h"
#include "log.h"
#include "node.h"

struct fake {
	const char *fail_at;       /* op that fails, or NULL */
	const char *fail_also;     /* a second op that fails, or NULL */
	const char *interrupt_at;  /* op after which Ctrl-C is "pressed" */
	bool was_cordoned;         /* what observe() finds */
	enum node_state refuse_to; /* transition() fails entering this */
	bool interrupted;
	char calls[512];
	char transitions[1024];
};

static enum cr_err
op(void *ctx, struct node *n, const char *name)
{
	struct fake *f = ctx;
	size_t len = strlen(f->calls);

	snprintf(f->calls + len, sizeof(f->calls) - len, "%s%s",
	    len > 0 ? "," : "", name);
	if (f->interrupt_at != NULL && strcmp(f->interrupt_at, name) == 0)
		f->interrupted = true;
	if ((f->fail_at != NULL && strcmp(f->fail_at, name) == 0) ||
	    (f->fail_also != NULL && strcmp(f->fail_also, name) == 0)) {
		node_fail(n, CR_ERR_HEALTH, "%s failed", name);
		return CR_ERR_HEALTH;
	}
	return CR_OK;
}

static enum cr_err
fake_observe(void *ctx, struct node *n)
{
	n->was_cordoned = ((struct fake *)ctx)->was_cordoned;
	return op(ctx, n, "observe");
}

#define FAKE_OP(name)                                                          \
	static enum cr_err fake_##name(void *ctx, struct node *n)              \
	{                                                                      \
		return op(ctx, n, #name);                                      \
	}
FAKE_OP(cordon)
FAKE_OP(drain)
FAKE_OP(backup)
FAKE_OP(renew)
FAKE_OP(verify)
FAKE_OP(restart)
FAKE_OP(health)
FAKE_OP(uncordon)
FAKE_OP(rollback)

static enum cr_err
fake_transition(void *ctx, const struct node *n, enum node_state from,
    enum node_state to)
{
	struct fake *f = ctx;
	size_t len = strlen(f->transitions);

	(void)n;
	if (to == f->refuse_to && to != NODE_PENDING)
		return CR_ERR_SYS;
	snprintf(f->transitions + len, sizeof(f->transitions) - len, "%s%s>%s",
	    len > 0 ? "," : "", node_state_name(from), node_state_name(to));
	return CR_OK;
}

static bool
fake_interrupted(void *ctx)
{
	return ((struct fake *)ctx)->interrupted;
}

static const struct node_ops fake_ops = {
	.observe = fake_observe,
	.cordon = fake_cordon,
	.drain = fake_drain,
	.backup = fake_backup,
	.renew = fake_renew,
	.verify = fake_verify,
	.restart = fake_restart,
	.health = fake_health,
	.uncordon = fake_uncordon,
	.rollback = fake_rollback,
	.transition = fake_transition,
	.interrupted = fake_interrupted,
};

#define PREP "observe,cordon,drain,backup"
#define ALL  PREP ",renew,verify,restart,health"

static const struct path_row {
	const char *name;
	const char *fail_at, *fail_also;
	bool was_cordoned;
	enum node_state final;
	enum cr_err ret;
	enum node_state failed_in;
	const char *calls;
} path_rows[] = {
	{ "happy", NULL, NULL, false, NODE_DONE, CR_OK, NODE_PENDING,
	    ALL ",uncordon" },
	{ "happy_operator_cordoned", NULL, NULL, true, NODE_DONE, CR_OK,
	    NODE_PENDING, ALL },
	{ "observe", "observe", NULL, false, NODE_ABORTED, CR_ERR_HEALTH,
	    NODE_OBSERVE, "observe" },
	{ "cordon", "cordon", NULL, false, NODE_ABORTED, CR_ERR_HEALTH,
	    NODE_CORDON, "observe,cordon,uncordon" },
	{ "cordon_operator_cordoned", "cordon", NULL, true, NODE_ABORTED,
	    CR_ERR_HEALTH, NODE_CORDON, "observe,cordon" },
	{ "drain", "drain", NULL, false, NODE_ABORTED, CR_ERR_HEALTH,
	    NODE_DRAIN, "observe,cordon,drain,uncordon" },
	{ "backup", "backup", NULL, false, NODE_ABORTED, CR_ERR_HEALTH,
	    NODE_BACKUP, PREP ",uncordon" },
	{ "renew", "renew", NULL, false, NODE_ABORTED, CR_ERR_HEALTH,
	    NODE_RENEW, PREP ",renew,rollback,uncordon" },
	{ "verify", "verify", NULL, false, NODE_ABORTED, CR_ERR_HEALTH,
	    NODE_VERIFY, PREP ",renew,verify,rollback,uncordon" },
	{ "restart", "restart", NULL, false, NODE_ABORTED, CR_ERR_HEALTH,
	    NODE_RESTART, PREP ",renew,verify,restart,rollback,uncordon" },
	{ "health", "health", NULL, false, NODE_ABORTED, CR_ERR_HEALTH,
	    NODE_HEALTH, ALL ",rollback,uncordon" },
	{ "health_operator_cordoned", "health", NULL, true, NODE_ABORTED,
	    CR_ERR_HEALTH, NODE_HEALTH, ALL ",rollback" },
	{ "uncordon", "uncordon", NULL, false, NODE_FAILED, CR_ERR_HEALTH,
	    NODE_UNCORDON, ALL ",uncordon" },
	{ "rollback_fails_stays_cordoned", "renew", "rollback", false,
	    NODE_FAILED, CR_ERR_HEALTH, NODE_RENEW, PREP ",renew,rollback" },
	{ "release_fails", "health", "uncordon", false, NODE_FAILED,
	    CR_ERR_HEALTH, NODE_HEALTH, ALL ",rollback,uncordon" },
	{ "drain_then_release_fails", "drain", "uncordon", false, NODE_FAILED,
	    CR_ERR_HEALTH, NODE_DRAIN, "observe,cordon,drain,uncordon" },
};

static void
test_node_paths(void)
{
	size_t i;

	for (i = 0; i < sizeof(path_rows) / sizeof(path_rows[0]); i++) {
		const struct path_row *r = &path_rows[i];
		struct fake f;
		struct node n;
		enum cr_err err;

		memset(&f, 0, sizeof(f));
		f.fail_at = r->fail_at;
		f.fail_also = r->fail_also;
		f.was_cordoned = r->was_cordoned;
		node_init(&n, "cp1", 0);
		err = node_run(&n, &fake_ops, &f);
		CU_ASSERT_CASE(err == r->ret, r->name);
		CU_ASSERT_CASE(n.state == r->final, r->name);
		CU_ASSERT_CASE(strcmp(f.calls, r->calls) == 0, r->name);
		if (r->ret != CR_OK) {
			CU_ASSERT_CASE(n.failed_in == r->failed_in, r->name);
			CU_ASSERT_CASE(strstr(n.last_msg, r->fail_at) != NULL,
			    r->name);
		}
		/* Only a rolled-back or untouched node counts as aborted. */
		if (n.state == NODE_ABORTED)
			CU_ASSERT_CASE(!n.changed || n.rolled_back, r->name);
	}
}

static void
test_node_transitions_recorded(void)
{
	struct fake f;
	struct node n;

	memset(&f, 0, sizeof(f));
	f.fail_at = "verify";
	node_init(&n, "cp2", 1);
	CU_ASSERT_EQUAL(node_run(&n, &fake_ops, &f), CR_ERR_HEALTH);
	CU_ASSERT_STRING_EQUAL(f.transitions,
	    "pending>observe,observe>cordon,cordon>drain,drain>backup,"
	    "backup>renew,renew>verify,verify>rollback,rollback>release,"
	    "release>aborted");
	CU_ASSERT_TRUE(n.changed);
	CU_ASSERT_TRUE(n.rolled_back);
	CU_ASSERT_TRUE(n.released);
	CU_ASSERT_FALSE(n.first);
}

static void
test_node_journal_failure_stops(void)
{
	struct fake f;
	struct node n;

	memset(&f, 0, sizeof(f));
	f.refuse_to = NODE_RENEW;
	node_init(&n, "cp1", 0);
	CU_ASSERT_EQUAL(node_run(&n, &fake_ops, &f), CR_ERR_SYS);
	/* Nothing is renewed when the transition could not be recorded. */
	CU_ASSERT_STRING_EQUAL(f.calls, PREP);
	CU_ASSERT_EQUAL(n.state, NODE_BACKUP);
	CU_ASSERT_FALSE(n.changed);
}

static const struct cancel_row {
	const char *name;
	const char *interrupt_at;
	bool before_start;
	enum node_state final;
	enum cr_err ret;
	const char *calls;
} cancel_rows[] = {
	{ "before_start", NULL, true, NODE_PENDING, CR_ERR_CANCELED, "" },
	{ "after_cordon", "cordon", false, NODE_ABORTED, CR_ERR_CANCELED,
	    "observe,cordon,uncordon" },
	{ "after_drain", "drain", false, NODE_ABORTED, CR_ERR_CANCELED,
	    "observe,cordon,drain,uncordon" },
	/* Once renewal started the node is finished, not abandoned. */
	{ "during_renew", "renew", false, NODE_DONE, CR_OK, ALL ",uncordon" },
	{ "during_health", "health", false, NODE_DONE, CR_OK, ALL ",uncordon" },
};

static void
test_node_interruption(void)
{
	size_t i;

	for (i = 0; i < sizeof(cancel_rows) / sizeof(cancel_rows[0]); i++) {
		const struct cancel_row *r = &cancel_rows[i];
		struct fake f;
		struct node n;

		memset(&f, 0, sizeof(f));
		f.interrupt_at = r->interrupt_at;
		f.interrupted = r->before_start;
		node_init(&n, "cp1", 0);
		CU_ASSERT_CASE(node_run(&n, &fake_ops, &f) == r->ret, r->name);
		CU_ASSERT_CASE(n.state == r->final, r->name);
		CU_ASSERT_CASE(strcmp(f.calls, r->calls) == 0, r->name);
	}
}

static const struct resume_row {
	const char *name;
	enum node_state from;
	bool was_cordoned;
	const char *calls;
} resume_rows[] = {
	{ "from_renew", NODE_RENEW, false,
	    "renew,verify,restart,health,uncordon" },
	{ "from_restart", NODE_RESTART, false, "restart,health,uncordon" },
	{ "from_uncordon_operator_cordoned", NODE_UNCORDON, true, "" },
};

static void
test_node_resume(void)
{
	size_t i;

	for (i = 0; i < sizeof(resume_rows) / sizeof(resume_rows[0]); i++) {
		const struct resume_row *r = &resume_rows[i];
		struct fake f;
		struct node n;

		memset(&f, 0, sizeof(f));
		node_init(&n, "cp3", 2);
		n.state = r->from;
		n.cordon_known = true;
		n.was_cordoned = r->was_cordoned;
		CU_ASSERT_CASE(node_run(&n, &fake_ops, &f) == CR_OK, r->name);
		CU_ASSERT_CASE(strcmp(f.calls, r->calls) == 0, r->name);
		CU_ASSERT_CASE(node_state_final(n.state), r->name);
	}
}

/* A resumed rollback still reports the stop as a failure of the run. */
static void
test_node_resume_rollback(void)
{
	struct fake f;
	struct node n;

	memset(&f, 0, sizeof(f));
	node_init(&n, "cp3", 2);
	n.state = NODE_ROLLBACK;
	n.cordon_known = true;
	n.changed = true;
	n.last_err = CR_ERR_HEALTH;
	CU_ASSERT_EQUAL(node_run(&n, &fake_ops, &f), CR_ERR_HEALTH);
	CU_ASSERT_STRING_EQUAL(f.calls, "rollback,uncordon");
	CU_ASSERT_EQUAL(n.state, NODE_ABORTED);
}

static void
test_node_state_names(void)
{
	enum node_state s;
	unsigned i;

	for (i = 0; i < NODE__MAX; i++) {
		CU_ASSERT_TRUE(node_state_parse(node_state_name(i), &s));
		CU_ASSERT_EQUAL(s, i);
	}
	CU_ASSERT_FALSE(node_state_parse("bogus", &s));
	CU_ASSERT_STRING_EQUAL(node_state_name(NODE__MAX), "?");
	CU_ASSERT_TRUE(node_state_final(NODE_DONE));
	CU_ASSERT_TRUE(node_state_final(NODE_FAILED));
	CU_ASSERT_FALSE(node_state_final(NODE_ROLLBACK));
	CU_ASSERT_FALSE(node_state_touched_files(NODE_BACKUP));
	CU_ASSERT_TRUE(node_state_touched_files(NODE_RESTART));
}

static CU_TestInfo node_tests[] = {
	{ "paths", test_node_paths },
	{ "transitions_recorded", test_node_transitions_recorded },
	{ "journal_failure_stops", test_node_journal_failure_stops },
	{ "interruption", test_node_interruption },
	{ "resume", test_node_resume },
	{ "resume_rollback", test_node_resume_rollback },
	{ "state_names", test_node_state_names },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "node_fsm", .pTests = node_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	log_init("test_node", LOG_LEVEL_WARN);
	return cu_run(suites);
}
