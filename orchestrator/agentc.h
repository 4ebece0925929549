/*
 * Typed requests to a node's agent: each function encodes one request,
 * sends it with proto_call(), decodes the reply and, on failure, logs once
 * with the node's name ("node cp2: RENEW_REQ: <the agent's message>").
 * PROGRESS frames go to the callback set with proto_conn_on_progress().
 *
 * Ownership: requests are borrowed; on success the reply struct must be
 * released with its proto_<msg>_clear(); on failure it is left cleared.
 */
#ifndef CR_AGENTC_H
#define CR_AGENTC_H

#include <stdint.h>

#include "err.h"
#include "proto.h"

enum cr_err agentc_inspect(struct proto_conn *c, const char *node,
    const struct proto_inspect_req *req, int64_t deadline,
    struct proto_inspect_rep *rep) CR_MUST_CHECK;
enum cr_err agentc_backup(struct proto_conn *c, const char *node,
    const struct proto_backup_req *req, int64_t deadline,
    struct proto_backup_rep *rep) CR_MUST_CHECK;
enum cr_err agentc_snapshot(struct proto_conn *c, const char *node,
    const struct proto_snapshot_req *req, int64_t deadline,
    struct proto_snapshot_rep *rep) CR_MUST_CHECK;
enum cr_err agentc_renew(struct proto_conn *c, const char *node,
    const struct proto_renew_req *req, int64_t deadline,
    struct proto_renew_rep *rep) CR_MUST_CHECK;
enum cr_err agentc_verify(struct proto_conn *c, const char *node,
    const struct proto_verify_req *req, int64_t deadline,
    struct proto_verify_rep *rep) CR_MUST_CHECK;
enum cr_err agentc_restart(struct proto_conn *c, const char *node,
    const struct proto_restart_req *req, int64_t deadline,
    struct proto_restart_rep *rep) CR_MUST_CHECK;
enum cr_err agentc_health(struct proto_conn *c, const char *node,
    const struct proto_health_req *req, int64_t deadline,
    struct proto_health_rep *rep) CR_MUST_CHECK;
enum cr_err agentc_rollback(struct proto_conn *c, const char *node,
    const struct proto_rollback_req *req, int64_t deadline,
    struct proto_rollback_rep *rep) CR_MUST_CHECK;
enum cr_err agentc_read_file(struct proto_conn *c, const char *node,
    const struct proto_read_file_req *req, int64_t deadline,
    struct proto_read_file_rep *rep) CR_MUST_CHECK;

/*
 * The agent's explanation of the last failure on c (its ERROR message or
 * a transport problem). Borrowed; valid until the next call on c.
 */
const char *agentc_why(const struct proto_conn *c);

#endif /* CR_AGENTC_H */
