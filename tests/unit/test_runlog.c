#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "fileio.h"
#include "journal.h"
#include "jv.h"
#include "runlog.h"

static const char *const names[] = { "cp1", "cp2", "cp3" };

static char *
write_run(const char *dir, void (*body)(struct journal *j))
{
	struct journal *j = NULL;
	char *path;

	CU_ASSERT_FATAL(journal_create(dir, "lab", "run-7", &j) == CR_OK);
	CU_ASSERT(journal_append(j, "run-start",
		      runlog_run_start(&(struct runlog_start){
			  .cluster = "lab",
			  .inventory = "/tmp/inv.ini",
			  .nodes = names,
			  .nnodes = 3,
			  .identity = "op@ws/1",
		      })) == CR_OK);
	body(j);
	path = strdup(journal_path(j));
	journal_close(j);
	return path;
}

/* The replay of a run whose records body wrote; NULL (failed) if none. */
static struct runlog *
replay(void (*body)(struct journal *j))
{
	char *path = write_run(cu_tmpdir(), body), why[128] = "";
	struct runlog *r = NULL;

	CU_ASSERT_EQUAL(runlog_load(path, &r, why, sizeof(why)), CR_OK);
	free(path);
	return r;
}

static void
step(struct journal *j, struct node *n, enum node_state to)
{
	CU_ASSERT(journal_append(j, "transition",
		      runlog_transition(n, n->state, to)) == CR_OK);
	n->state = to;
}

static void
body_interrupted(struct journal *j)
{
	struct node n;
	json_object *certs = json_object_new_array();

	node_init(&n, "cp1", 0);
	step(j, &n, NODE_OBSERVE);
	n.cordon_known = true;
	step(j, &n, NODE_CORDON);
	step(j, &n, NODE_DRAIN);
	step(j, &n, NODE_BACKUP);
	CU_ASSERT(
	    journal_append(j, "node-fact",
		runlog_node_fact("cp1", "backup", "/var/lib/b1")) == CR_OK);
	step(j, &n, NODE_RENEW);
	n.changed = true;
	json_object_array_add(certs, json_object_new_object());
	CU_ASSERT(journal_append(j, "renewed", runlog_renewed("cp1", certs)) ==
	    CR_OK);
	step(j, &n, NODE_VERIFY);
	n.spent_ms[NODE_VERIFY] = 250;
	step(j, &n, NODE_RESTART);
	/* killed here */
}

static void
test_runlog_replays_interrupted_run(void)
{
	struct runlog *r = replay(body_interrupted);
	struct runlog_node *cp1;
	struct node n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->run_id, "run-7");
	CU_ASSERT_STRING_EQUAL(r->cluster, "lab");
	CU_ASSERT_STRING_EQUAL(r->inventory, "/tmp/inv.ini");
	CU_ASSERT_PTR_NULL(r->result);
	CU_ASSERT_EQUAL(r->nnodes, 3);
	cp1 = runlog_find(r, "cp1");
	CU_ASSERT_FATAL(cp1 != NULL);
	CU_ASSERT_EQUAL(cp1->state, NODE_RESTART);
	CU_ASSERT_TRUE(cp1->cordon_known);
	CU_ASSERT_FALSE(cp1->was_cordoned);
	CU_ASSERT_TRUE(cp1->changed);
	CU_ASSERT_STRING_EQUAL(cp1->backup, "/var/lib/b1");
	CU_ASSERT_PTR_NOT_NULL(cp1->renewed);
	CU_ASSERT_EQUAL(cp1->spent_ms[NODE_VERIFY], 250);
	CU_ASSERT_EQUAL(runlog_find(r, "cp2")->state, NODE_PENDING);
	CU_ASSERT_FALSE(runlog_complete(r));
	node_init(&n, "cp1", 0);
	runlog_restore_node(cp1, &n);
	CU_ASSERT_EQUAL(n.state, NODE_RESTART);
	CU_ASSERT_TRUE(n.changed);
	runlog_free(r);
}

static void
body_failed(struct journal *j)
{
	struct node n;

	node_init(&n, "cp2", 1);
	step(j, &n, NODE_OBSERVE);
	n.cordon_known = true;
	n.was_cordoned = true;
	step(j, &n, NODE_CORDON);
	node_fail(&n, CR_ERR_TIMEOUT, "drain: PDB web-pdb blocks eviction");
	step(j, &n, NODE_RELEASE);
	step(j, &n, NODE_ABORTED);
	CU_ASSERT(journal_append(j, "run-end",
		      runlog_run_end("stopped", "cp2 aborted")) == CR_OK);
}

static void
test_runlog_records_failure(void)
{
	struct runlog *r = replay(body_failed);
	struct runlog_node *cp2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	cp2 = runlog_find(r, "cp2");
	CU_ASSERT_EQUAL(cp2->state, NODE_ABORTED);
	CU_ASSERT_TRUE(cp2->was_cordoned);
	CU_ASSERT_EQUAL(cp2->err, CR_ERR_TIMEOUT);
	CU_ASSERT_EQUAL(cp2->failed_in, NODE_CORDON);
	CU_ASSERT_STRING_EQUAL(cp2->message,
	    "drain: PDB web-pdb blocks eviction");
	CU_ASSERT_STRING_EQUAL(r->result, "stopped");
	CU_ASSERT_STRING_EQUAL(r->message, "cp2 aborted");
	runlog_free(r);
}

/* The stopped run resumed: cp2 is tried afresh (runlog_resume_state). */
static void
body_retried(struct journal *j)
{
	struct node n;

	body_failed(j);
	CU_ASSERT(
	    journal_append(j, "resume", runlog_resume("op@ws/2")) == CR_OK);
	node_init(&n, "cp2", 1);
	step(j, &n, NODE_OBSERVE);
	n.cordon_known = true;
	step(j, &n, NODE_CORDON);
}

static void
test_runlog_retries_aborted_node(void)
{
	struct runlog *r = replay(body_retried);
	struct runlog_node *cp2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	cp2 = runlog_find(r, "cp2");
	CU_ASSERT_EQUAL(cp2->state, NODE_CORDON);
	CU_ASSERT_FALSE(cp2->was_cordoned);
	CU_ASSERT_FALSE(cp2->released);
	CU_ASSERT_EQUAL(r->resumes, 1);
	CU_ASSERT_PTR_NULL(r->result);
	runlog_free(r);
}

/*
 * cp1 failed in renew and its rollback failed too: it stays failed with
 * its changes. Each resume starts it in rollback, with no transition into
 * it, and the replay must follow (agent@snapshot: "record 13 does not fit
 * the run").
 */
static void
rollback_fails(struct journal *j, struct node *n)
{
	step(j, n, NODE_ROLLBACK);
	node_fail(n, CR_ERR_PROTO, "rollback: restore failed");
	step(j, n, NODE_FAILED);
	CU_ASSERT(journal_append(j, "run-end",
		      runlog_run_end("stopped", "cp1 failed")) == CR_OK);
}

static void
body_rollback_retried(struct journal *j)
{
	struct node n;

	node_init(&n, "cp1", 0);
	step(j, &n, NODE_OBSERVE);
	n.cordon_known = true;
	step(j, &n, NODE_CORDON);
	step(j, &n, NODE_DRAIN);
	step(j, &n, NODE_BACKUP);
	step(j, &n, NODE_RENEW);
	n.changed = true;
	node_fail(&n, CR_ERR_PROTO, "renew: peer closed the stream");
	rollback_fails(j, &n);
	CU_ASSERT(
	    journal_append(j, "resume", runlog_resume("op@ws/2")) == CR_OK);
	n.state = NODE_ROLLBACK;
	node_fail(&n, CR_ERR_PROTO, "rollback: restore failed");
	step(j, &n, NODE_FAILED);
	CU_ASSERT(journal_append(j, "run-end",
		      runlog_run_end("stopped", "cp1 failed")) == CR_OK);
	CU_ASSERT(
	    journal_append(j, "resume", runlog_resume("op@ws/3")) == CR_OK);
	n.state = NODE_ROLLBACK;
	n.rolled_back = true;
	step(j, &n, NODE_RESTART);
}

static void
test_runlog_retries_rollback(void)
{
	struct runlog *r = replay(body_rollback_retried);
	struct runlog_node *cp1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	cp1 = runlog_find(r, "cp1");
	CU_ASSERT_EQUAL(cp1->state, NODE_RESTART);
	CU_ASSERT_TRUE(cp1->changed);
	CU_ASSERT_TRUE(cp1->rolled_back);
	CU_ASSERT_EQUAL(cp1->failed_in, NODE_RENEW);
	CU_ASSERT_EQUAL(r->resumes, 2);
	CU_ASSERT_PTR_NULL(r->result);
	/* Where a resume now would take each node. */
	CU_ASSERT_EQUAL(runlog_resume_state(cp1), NODE_RESTART);
	CU_ASSERT_EQUAL(runlog_resume_state(runlog_find(r, "cp2")),
	    NODE_PENDING);
	runlog_free(r);
}

/* Where resume takes a node in each final state, by what it did. */
static void
test_runlog_resume_state(void)
{
	static const struct {
		enum node_state state, failed_in;
		bool changed, rolled_back;
		enum node_state want;
	} rows[] = {
		{ NODE_ABORTED, NODE_DRAIN, false, false, NODE_PENDING },
		{ NODE_ABORTED, NODE_RENEW, true, true, NODE_PENDING },
		{ NODE_FAILED, NODE_RENEW, true, false, NODE_ROLLBACK },
		{ NODE_FAILED, NODE_BACKUP, false, false, NODE_RELEASE },
		{ NODE_FAILED, NODE_HEALTH, true, true, NODE_RELEASE },
		{ NODE_FAILED, NODE_UNCORDON, true, false, NODE_UNCORDON },
		{ NODE_DONE, NODE_PENDING, true, false, NODE_DONE },
		{ NODE_DRAIN, NODE_PENDING, false, false, NODE_DRAIN },
	};
	struct runlog_node rn;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&rn, 0, sizeof(rn));
		rn.state = rows[i].state;
		rn.failed_in = rows[i].failed_in;
		rn.changed = rows[i].changed;
		rn.rolled_back = rows[i].rolled_back;
		CU_ASSERT_EQUAL(runlog_resume_state(&rn), rows[i].want);
	}
}

static const struct {
	const char *name;
	const char *text;
} bad_rows[] = {
	{ "no_start", "{\"event\":\"run-end\",\"result\":\"done\"}\n" },
	{ "unknown_node",
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\"]}\n"
	    "{\"event\":\"transition\",\"node\":\"b\",\"from\":\"pending\","
	    "\"to\":\"observe\"}\n" },
	{ "out_of_order",
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\"]}\n"
	    "{\"event\":\"transition\",\"node\":\"a\",\"from\":\"drain\","
	    "\"to\":\"backup\"}\n" },
	{ "bad_state",
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\"]}\n"
	    "{\"event\":\"transition\",\"node\":\"a\",\"from\":\"pending\","
	    "\"to\":\"teleport\"}\n" },
	{ "duplicate_node",
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\","
	    "\"a\"]}\n" },
	{ "two_starts",
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\"]}\n"
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\"]}\n" },
	{ "not_json", "{\"event\":\"run-start\"\n" },
	{ "afresh_without_resume",
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\"]}\n"
	    "{\"event\":\"transition\",\"node\":\"a\",\"from\":\"pending\","
	    "\"to\":\"aborted\"}\n"
	    "{\"event\":\"transition\",\"node\":\"a\",\"from\":\"pending\","
	    "\"to\":\"observe\"}\n" },
	{ "rollback_without_resume",
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\"]}\n"
	    "{\"event\":\"transition\",\"node\":\"a\",\"from\":\"pending\","
	    "\"to\":\"failed\",\"changed\":true,\"error\":\"proto\","
	    "\"failed_in\":\"renew\"}\n"
	    "{\"event\":\"transition\",\"node\":\"a\",\"from\":\"rollback\","
	    "\"to\":\"failed\"}\n" },
	{ "resume_elsewhere",
	    "{\"event\":\"run-start\",\"cluster\":\"c\",\"nodes\":[\"a\"]}\n"
	    "{\"event\":\"transition\",\"node\":\"a\",\"from\":\"pending\","
	    "\"to\":\"failed\",\"changed\":true,\"error\":\"proto\","
	    "\"failed_in\":\"renew\"}\n"
	    "{\"event\":\"resume\"}\n"
	    "{\"event\":\"transition\",\"node\":\"a\",\"from\":\"release\","
	    "\"to\":\"failed\"}\n" },
};

static void
test_runlog_rejects_inconsistent(void)
{
	const char *dir = cu_tmpdir();
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		char *path = file_path_join(dir, bad_rows[i].name);
		struct runlog *r = NULL;

		CU_ASSERT_FATAL(file_write_atomic(path, bad_rows[i].text,
				    strlen(bad_rows[i].text), 0600) == CR_OK);
		why[0] = '\0';
		CU_ASSERT_CASE(runlog_load(path, &r, why, sizeof(why)) ==
			CR_ERR_PROTO,
		    bad_rows[i].name);
		CU_ASSERT_CASE(r == NULL && why[0] != '\0', bad_rows[i].name);
		free(path);
	}
}

static CU_TestInfo runlog_tests[] = {
	{ "replays_interrupted_run", test_runlog_replays_interrupted_run },
	{ "records_failure", test_runlog_records_failure },
	{ "retries_aborted_node", test_runlog_retries_aborted_node },
	{ "retries_rollback", test_runlog_retries_rollback },
	{ "resume_state", test_runlog_resume_state },
	{ "rejects_inconsistent", test_runlog_rejects_inconsistent },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "runlog", .pTests = runlog_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
