/*
 * Session legality: which frame the agent may serve in which state, and
 * the state after it (OpenSSH's mon_table with MON_ONCE/MON_AUTH).
 * Mirrored in docs/protocol.md ("Session states").
 */
#include <stdio.h>

#include "proto.h"

#define IN(st) (1u << (st))
/* next_* value meaning "stay where you are". */
#define KEEP PROTO_STATE__MAX

static const char *const state_names[PROTO_STATE__MAX] = {
	[PROTO_STATE_START] = "start",
	[PROTO_STATE_READY] = "ready",
	[PROTO_STATE_RENEWED] = "renewed",
	[PROTO_STATE_CLOSED] = "closed",
};

/*
 * One row per frame type the agent serves. RESTART is legal only once a
 * RENEW, VERIFY or ROLLBACK succeeded (safety invariant 3), and a failed
 * RENEW, VERIFY or ROLLBACK takes that back: the files may be half
 * written or wrong, so nothing restarts on them.
 */
static const struct rule {
	uint16_t type;
	unsigned allowed; /* IN(state) bits */
	enum proto_state next_ok;
	enum proto_state next_fail;
} rules[] = {
	{ PROTO_HELLO, IN(PROTO_STATE_START), PROTO_STATE_READY,
	    PROTO_STATE_CLOSED },
	{ PROTO_INSPECT_REQ, IN(PROTO_STATE_READY) | IN(PROTO_STATE_RENEWED),
	    KEEP, KEEP },
	{ PROTO_BACKUP_REQ, IN(PROTO_STATE_READY) | IN(PROTO_STATE_RENEWED),
	    KEEP, KEEP },
	{ PROTO_SNAPSHOT_REQ, IN(PROTO_STATE_READY) | IN(PROTO_STATE_RENEWED),
	    KEEP, KEEP },
	{ PROTO_RENEW_REQ, IN(PROTO_STATE_READY) | IN(PROTO_STATE_RENEWED),
	    PROTO_STATE_RENEWED, PROTO_STATE_READY },
	{ PROTO_VERIFY_REQ, IN(PROTO_STATE_READY) | IN(PROTO_STATE_RENEWED),
	    PROTO_STATE_RENEWED, PROTO_STATE_READY },
	{ PROTO_RESTART_REQ, IN(PROTO_STATE_RENEWED), KEEP, KEEP },
	{ PROTO_HEALTH_REQ, IN(PROTO_STATE_READY) | IN(PROTO_STATE_RENEWED),
	    KEEP, KEEP },
	{ PROTO_ROLLBACK_REQ, IN(PROTO_STATE_READY) | IN(PROTO_STATE_RENEWED),
	    PROTO_STATE_RENEWED, PROTO_STATE_READY },
	{ PROTO_READ_FILE_REQ, IN(PROTO_STATE_READY) | IN(PROTO_STATE_RENEWED),
	    KEEP, KEEP },
	{ PROTO_BYE_REQ,
	    IN(PROTO_STATE_START) | IN(PROTO_STATE_READY) |
		IN(PROTO_STATE_RENEWED),
	    PROTO_STATE_CLOSED, PROTO_STATE_CLOSED },
};

const char *
proto_state_name(enum proto_state st)
{
	if ((unsigned)st >= PROTO_STATE__MAX)
		return "?";
	return state_names[st];
}

static const struct rule *
rule_find(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

bool
proto_allowed(enum proto_state st, uint16_t type)
{
	const struct rule *r = rule_find(type);

	if ((unsigned)st >= PROTO_STATE__MAX || r == NULL)
		return false;
	return (r->allowed & IN(st)) != 0;
}

enum proto_state
proto_next_state(enum proto_state st, uint16_t type, bool ok)
{
	const struct rule *r = rule_find(type);
	enum proto_state next;

	if (!proto_allowed(st, type))
		return st;
	next = ok ? r->next_ok : r->next_fail;
	return next == KEEP ? st : next;
}

void
proto_refusal(enum proto_state st, uint16_t type, char *why, size_t whylen)
{
	const char *name = proto_type_name(type);

	if (why == NULL || whylen == 0)
		return;
	if (rule_find(type) == NULL)
		snprintf(why, whylen,
		    "%s is not a request certroll-agent serves: send HELLO or "
		    "a request (101-110)",
		    name);
	else if (st == PROTO_STATE_CLOSED)
		snprintf(why, whylen,
		    "%s after the session closed: open a new session", name);
	else if (st == PROTO_STATE_START)
		snprintf(why, whylen, "%s before HELLO: send HELLO first",
		    name);
	else if (type == PROTO_HELLO)
		snprintf(why, whylen,
		    "HELLO again: the handshake happens once per session");
	else if (type == PROTO_RESTART_REQ && !proto_allowed(st, type))
		snprintf(why, whylen,
		    "RESTART_REQ needs a successful RENEW_REQ, VERIFY_REQ or "
		    "ROLLBACK_REQ earlier in this session: components never "
		    "restart on certificates that failed verification; fix the "
		    "files and run VERIFY_REQ, or roll back");
	else
		snprintf(why, whylen, "%s is allowed in state %s", name,
		    proto_state_name(st));
}
