/*
 * Internals of "certroll-agent serve": the session (agent_serve.c) and the
 * request handlers (agent_serve_ops.c).
 */
#ifndef CR_AGENT_SERVE_INT_H
#define CR_AGENT_SERVE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "certinfo.h"
#include "err.h"
#include "proto.h"

struct serve {
	struct proto_conn *conn;
	enum proto_state state;
	const char *backup_root;
	const char *kubelet_dir;
	int64_t lock_wait_ms;        /* for another session's changes */
	int peer_fd;                 /* the orchestrator's end: our input */
	struct strv kdirs;           /* kubernetes dirs named this session */
	const struct proto_hdr *req; /* the request being served */
};

/*
 * Serves the request frame f: decodes its body, runs the capability and
 * encodes the reply into *replyp (owned by the caller). On failure returns
 * the code with what went wrong (and what to do) in why.
 */
enum cr_err serve_dispatch(struct serve *s, const struct proto_frame *f,
    json_object **replyp, char *why, size_t len) CR_MUST_CHECK;

/* Confinement checks; CR_ERR_STATE with why when refused. */
enum cr_err serve_kdir(struct serve *s, const char *kdir, char *why,
    size_t len) CR_MUST_CHECK;
enum cr_err serve_backup_path(struct serve *s, const char *path, char *why,
    size_t len) CR_MUST_CHECK;
enum cr_err serve_readable(struct serve *s, const char *path, char *why,
    size_t len) CR_MUST_CHECK;

/* A capability's progress callback: sends PROGRESS for the request. */
void serve_progress(void *arg, const char *phase, const char *message);

#endif /* CR_AGENT_SERVE_INT_H */
