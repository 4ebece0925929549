/*
 * Session legality: every state against every type, every transition,
 * whole sessions, and the explanations a refused request gets.
 */
#include <stdio.h>
#include <string.h>

#include "cu_run.h"
#include "proto.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* Short names keep the tables on one line per row. */
#define START   PROTO_STATE_START
#define READY   PROTO_STATE_READY
#define RENEWED PROTO_STATE_RENEWED
#define CLOSED  PROTO_STATE_CLOSED

/*
 * The expected table, written out independently of proto_state.c: per
 * state, the types the agent serves.
 */
static const uint16_t in_start[] = { PROTO_HELLO, PROTO_BYE_REQ };
static const uint16_t in_ready[] = { PROTO_INSPECT_REQ, PROTO_BACKUP_REQ,
	PROTO_SNAPSHOT_REQ, PROTO_RENEW_REQ, PROTO_VERIFY_REQ, PROTO_HEALTH_REQ,
	PROTO_ROLLBACK_REQ, PROTO_READ_FILE_REQ, PROTO_BYE_REQ };
static const uint16_t in_renewed[] = { PROTO_INSPECT_REQ, PROTO_BACKUP_REQ,
	PROTO_SNAPSHOT_REQ, PROTO_RENEW_REQ, PROTO_VERIFY_REQ,
	PROTO_RESTART_REQ, PROTO_HEALTH_REQ, PROTO_ROLLBACK_REQ,
	PROTO_READ_FILE_REQ, PROTO_BYE_REQ };

static bool
expected_allowed(enum proto_state st, unsigned type)
{
	const uint16_t *v = NULL;
	size_t i, n = 0;

	if (st == PROTO_STATE_START) {
		v = in_start;
		n = NROWS(in_start);
	} else if (st == PROTO_STATE_READY) {
		v = in_ready;
		n = NROWS(in_ready);
	} else if (st == PROTO_STATE_RENEWED) {
		v = in_renewed;
		n = NROWS(in_renewed);
	}
	for (i = 0; i < n; i++)
		if (v[i] == type)
			return true;
	return false;
}

static void
test_state_every_pair(void)
{
	char name[64];
	unsigned st, t;

	for (st = 0; st <= PROTO_STATE__MAX + 1; st++) {
		for (t = 0; t <= 0xffff; t++) {
			bool want = expected_allowed((enum proto_state)st, t);
			bool got = proto_allowed((enum proto_state)st,
			    (uint16_t)t);

			if (got == want && (t > 300 && t != 0xffff))
				continue;
			snprintf(name, sizeof(name), "%s x %s (%u)",
			    proto_state_name((enum proto_state)st),
			    proto_type_name((uint16_t)t), t);
			CU_ASSERT_CASE(got == want, name);
			/* A refused frame changes nothing. */
			if (!want)
				CU_ASSERT_CASE(
				    proto_next_state((enum proto_state)st,
					(uint16_t)t, true) == st,
				    name);
		}
	}
}

static const struct next_row {
	enum proto_state from;
	uint16_t type;
	enum proto_state ok;   /* next state after success */
	enum proto_state fail; /* next state after failure */
} next_rows[] = {
	{ START, PROTO_HELLO, READY, CLOSED },
	{ START, PROTO_BYE_REQ, CLOSED, CLOSED },
	{ READY, PROTO_INSPECT_REQ, READY, READY },
	{ READY, PROTO_BACKUP_REQ, READY, READY },
	{ READY, PROTO_SNAPSHOT_REQ, READY, READY },
	{ READY, PROTO_RENEW_REQ, RENEWED, READY },
	{ READY, PROTO_VERIFY_REQ, RENEWED, READY },
	{ READY, PROTO_HEALTH_REQ, READY, READY },
	{ READY, PROTO_ROLLBACK_REQ, RENEWED, READY },
	{ READY, PROTO_READ_FILE_REQ, READY, READY },
	{ READY, PROTO_BYE_REQ, CLOSED, CLOSED },
	{ RENEWED, PROTO_INSPECT_REQ, RENEWED, RENEWED },
	{ RENEWED, PROTO_BACKUP_REQ, RENEWED, RENEWED },
	{ RENEWED, PROTO_SNAPSHOT_REQ, RENEWED, RENEWED },
	{ RENEWED, PROTO_RENEW_REQ, RENEWED, READY },
	{ RENEWED, PROTO_VERIFY_REQ, RENEWED, READY },
	{ RENEWED, PROTO_RESTART_REQ, RENEWED, RENEWED },
	{ RENEWED, PROTO_HEALTH_REQ, RENEWED, RENEWED },
	{ RENEWED, PROTO_ROLLBACK_REQ, RENEWED, READY },
	{ RENEWED, PROTO_READ_FILE_REQ, RENEWED, RENEWED },
	{ RENEWED, PROTO_BYE_REQ, CLOSED, CLOSED },
};

static void
test_state_transitions(void)
{
	char name[64];
	size_t i, allowed = 0;
	unsigned st, t;

	for (i = 0; i < NROWS(next_rows); i++) {
		const struct next_row *r = &next_rows[i];

		snprintf(name, sizeof(name), "%s x %s",
		    proto_state_name(r->from), proto_type_name(r->type));
		CU_ASSERT_CASE(proto_allowed(r->from, r->type), name);
		CU_ASSERT_CASE(
		    proto_next_state(r->from, r->type, true) == r->ok, name);
		CU_ASSERT_CASE(
		    proto_next_state(r->from, r->type, false) == r->fail, name);
	}
	/* The rows above are every allowed pair. */
	for (st = 0; st < PROTO_STATE__MAX; st++)
		for (t = 0; t < 256; t++)
			allowed += proto_allowed((enum proto_state)st,
			    (uint16_t)t);
	CU_ASSERT_EQUAL(allowed, NROWS(next_rows));
}

/* One request in a session: is it served, did it succeed, where are we. */
struct step {
	uint16_t type;
	bool ok;
	bool allowed;
	enum proto_state after;
};

static const struct session_row {
	const char *name;
	struct step steps[10];
} sessions[] = {
	{ "restart needs a renewal",
	    { { PROTO_HELLO, true, true, READY },
		{ PROTO_RESTART_REQ, true, false, READY },
		{ PROTO_RENEW_REQ, false, true, READY },
		{ PROTO_RESTART_REQ, true, false, READY },
		{ PROTO_RENEW_REQ, true, true, RENEWED },
		{ PROTO_RESTART_REQ, true, true, RENEWED },
		{ PROTO_HEALTH_REQ, true, true, RENEWED },
		{ PROTO_BYE_REQ, true, true, CLOSED },
		{ PROTO_INSPECT_REQ, true, false, CLOSED } } },
	{ "a failed verify takes the restart back",
	    { { PROTO_HELLO, true, true, READY },
		{ PROTO_RENEW_REQ, true, true, RENEWED },
		{ PROTO_VERIFY_REQ, false, true, READY },
		{ PROTO_RESTART_REQ, true, false, READY },
		{ PROTO_ROLLBACK_REQ, true, true, RENEWED },
		{ PROTO_RESTART_REQ, true, true, RENEWED } } },
	{ "a failed rollback allows no restart",
	    { { PROTO_HELLO, true, true, READY },
		{ PROTO_ROLLBACK_REQ, false, true, READY },
		{ PROTO_RESTART_REQ, true, false, READY } } },
	{ "a failed restart keeps verified files",
	    { { PROTO_HELLO, true, true, READY },
		{ PROTO_VERIFY_REQ, true, true, RENEWED },
		{ PROTO_RESTART_REQ, false, true, RENEWED },
		{ PROTO_RESTART_REQ, true, true, RENEWED } } },
	{ "HELLO comes first",
	    { { PROTO_INSPECT_REQ, true, false, START },
		{ PROTO_HELLO, false, true, CLOSED },
		{ PROTO_HELLO, true, false, CLOSED } } },
	{ "HELLO once",
	    { { PROTO_HELLO, true, true, READY },
		{ PROTO_HELLO, true, false, READY },
		{ PROTO_INSPECT_REP, true, false, READY },
		{ PROTO_PROGRESS, true, false, READY },
		{ PROTO_ERROR, true, false, READY } } },
	{ "BYE before HELLO",
	    { { PROTO_BYE_REQ, true, true, CLOSED },
		{ PROTO_HELLO, true, false, CLOSED } } },
};

static void
test_state_sessions(void)
{
	size_t i, k;

	for (i = 0; i < NROWS(sessions); i++) {
		enum proto_state st = PROTO_STATE_START;

		for (k = 0; k < NROWS(sessions[i].steps); k++) {
			const struct step *s = &sessions[i].steps[k];

			if (s->type == PROTO_NONE)
				break;
			CU_ASSERT_CASE(proto_allowed(st, s->type) == s->allowed,
			    sessions[i].name);
			st = proto_next_state(st, s->type, s->ok);
			CU_ASSERT_CASE(st == s->after, sessions[i].name);
		}
	}
}

static const struct refusal_row {
	enum proto_state st;
	uint16_t type;
	const char *why; /* exact */
} refusals[] = {
	{ READY, PROTO_RESTART_REQ,
	    "RESTART_REQ needs a successful RENEW_REQ, VERIFY_REQ or "
	    "ROLLBACK_REQ earlier in this session: components never restart "
	    "on certificates that failed verification; fix the files and run "
	    "VERIFY_REQ, or roll back" },
	{ START, PROTO_INSPECT_REQ,
	    "INSPECT_REQ before HELLO: send HELLO "
	    "first" },
	{ START, PROTO_RESTART_REQ,
	    "RESTART_REQ before HELLO: send HELLO "
	    "first" },
	{ CLOSED, PROTO_HEALTH_REQ,
	    "HEALTH_REQ after the session closed: "
	    "open a new session" },
	{ READY, PROTO_HELLO,
	    "HELLO again: the handshake happens once per "
	    "session" },
	{ RENEWED, PROTO_PROGRESS,
	    "PROGRESS is not a request certroll-agent serves: send HELLO or a "
	    "request (101-110)" },
	{ READY, PROTO_RENEW_REP,
	    "RENEW_REP is not a request certroll-agent serves: send HELLO or "
	    "a request (101-110)" },
	{ READY, 77,
	    "UNKNOWN is not a request certroll-agent serves: send "
	    "HELLO or a request (101-110)" },
	{ READY, PROTO_INSPECT_REQ, "INSPECT_REQ is allowed in state ready" },
};

static void
test_state_refusals(void)
{
	char why[PROTO_WHY_MAX];
	size_t i;

	for (i = 0; i < NROWS(refusals); i++) {
		why[0] = '\0';
		proto_refusal(refusals[i].st, refusals[i].type, why,
		    sizeof(why));
		CU_ASSERT_CASE(strcmp(why, refusals[i].why) == 0,
		    refusals[i].why);
	}
	proto_refusal(READY, PROTO_RESTART_REQ, NULL, 0);
	CU_ASSERT_STRING_EQUAL(proto_state_name(PROTO_STATE_START), "start");
	CU_ASSERT_STRING_EQUAL(proto_state_name(PROTO_STATE_READY), "ready");
	CU_ASSERT_STRING_EQUAL(proto_state_name(PROTO_STATE_RENEWED),
	    "renewed");
	CU_ASSERT_STRING_EQUAL(proto_state_name(PROTO_STATE_CLOSED), "closed");
	CU_ASSERT_STRING_EQUAL(proto_state_name(PROTO_STATE__MAX), "?");
}

static CU_TestInfo state_tests[] = {
	{ "every_state_x_type", test_state_every_pair },
	{ "transitions", test_state_transitions },
	{ "sessions", test_state_sessions },
	{ "refusals", test_state_refusals },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "proto_state", .pTests = state_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
