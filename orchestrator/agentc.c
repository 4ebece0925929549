#include "agentc.h"

#include <string.h>

#include "log.h"

/* What one request expects back: its type, the reply's decoder, where to. */
struct expect {
	uint16_t type;
	enum cr_err (*decode)(json_object *, void *, char *, size_t);
	void *rep;
};

/*
 * Sends one request (req is released here), decodes the reply as e says,
 * and logs a failure once with the node's name. Bodies are wiped before
 * release: READ_FILE replies carry key material.
 */
static enum cr_err
call(struct proto_conn *c, const char *node, json_object *req, int64_t deadline,
    const struct expect *e)
{
	uint16_t type = e->type;
	json_object *body = NULL;
	char why[PROTO_WHY_MAX];
	enum cr_err err = proto_call(c, type, req, deadline, &body);

	json_object_put(req);
	if (err != CR_OK) {
		log_warnx("node %s: %s: %s", node, proto_type_name(type),
		    proto_conn_errmsg(c)[0] != '\0' ? proto_conn_errmsg(c) :
						      cr_strerror(err));
		return err;
	}
	err = e->decode(body, e->rep, why, sizeof(why));
	proto_body_wipe(body);
	json_object_put(body);
	if (err != CR_OK)
		log_warnx("node %s: %s: malformed reply: %s", node,
		    proto_type_name(proto_reply_type(type)), why);
	return err;
}

const char *
agentc_why(const struct proto_conn *c)
{
	return proto_conn_errmsg(c);
}

static enum cr_err
dec_inspect(json_object *body, void *rep, char *why, size_t len)
{
	return proto_inspect_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_inspect(struct proto_conn *c, const char *node,
    const struct proto_inspect_req *req, int64_t deadline,
    struct proto_inspect_rep *rep)
{
	struct expect e = { PROTO_INSPECT_REQ, dec_inspect, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_inspect_req_encode(req), deadline, &e);
}

static enum cr_err
dec_backup(json_object *body, void *rep, char *why, size_t len)
{
	return proto_backup_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_backup(struct proto_conn *c, const char *node,
    const struct proto_backup_req *req, int64_t deadline,
    struct proto_backup_rep *rep)
{
	struct expect e = { PROTO_BACKUP_REQ, dec_backup, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_backup_req_encode(req), deadline, &e);
}

static enum cr_err
dec_snapshot(json_object *body, void *rep, char *why, size_t len)
{
	return proto_snapshot_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_snapshot(struct proto_conn *c, const char *node,
    const struct proto_snapshot_req *req, int64_t deadline,
    struct proto_snapshot_rep *rep)
{
	struct expect e = { PROTO_SNAPSHOT_REQ, dec_snapshot, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_snapshot_req_encode(req), deadline, &e);
}

static enum cr_err
dec_renew(json_object *body, void *rep, char *why, size_t len)
{
	return proto_renew_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_renew(struct proto_conn *c, const char *node,
    const struct proto_renew_req *req, int64_t deadline,
    struct proto_renew_rep *rep)
{
	struct expect e = { PROTO_RENEW_REQ, dec_renew, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_renew_req_encode(req), deadline, &e);
}

static enum cr_err
dec_verify(json_object *body, void *rep, char *why, size_t len)
{
	return proto_verify_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_verify(struct proto_conn *c, const char *node,
    const struct proto_verify_req *req, int64_t deadline,
    struct proto_verify_rep *rep)
{
	struct expect e = { PROTO_VERIFY_REQ, dec_verify, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_verify_req_encode(req), deadline, &e);
}

static enum cr_err
dec_restart(json_object *body, void *rep, char *why, size_t len)
{
	return proto_restart_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_restart(struct proto_conn *c, const char *node,
    const struct proto_restart_req *req, int64_t deadline,
    struct proto_restart_rep *rep)
{
	struct expect e = { PROTO_RESTART_REQ, dec_restart, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_restart_req_encode(req), deadline, &e);
}

static enum cr_err
dec_health(json_object *body, void *rep, char *why, size_t len)
{
	return proto_health_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_health(struct proto_conn *c, const char *node,
    const struct proto_health_req *req, int64_t deadline,
    struct proto_health_rep *rep)
{
	struct expect e = { PROTO_HEALTH_REQ, dec_health, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_health_req_encode(req), deadline, &e);
}

static enum cr_err
dec_rollback(json_object *body, void *rep, char *why, size_t len)
{
	return proto_rollback_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_rollback(struct proto_conn *c, const char *node,
    const struct proto_rollback_req *req, int64_t deadline,
    struct proto_rollback_rep *rep)
{
	struct expect e = { PROTO_ROLLBACK_REQ, dec_rollback, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_rollback_req_encode(req), deadline, &e);
}

static enum cr_err
dec_read_file(json_object *body, void *rep, char *why, size_t len)
{
	return proto_read_file_rep_decode(body, rep, why, len);
}

enum cr_err
agentc_read_file(struct proto_conn *c, const char *node,
    const struct proto_read_file_req *req, int64_t deadline,
    struct proto_read_file_rep *rep)
{
	struct expect e = { PROTO_READ_FILE_REQ, dec_read_file, rep };

	memset(rep, 0, sizeof(*rep));
	return call(c, node, proto_read_file_req_encode(req), deadline, &e);
}
