/*
 * The requests "certroll-agent serve" answers: each handler decodes its
 * request, confines the paths it names, runs the capability the
 * subcommands also use, and encodes the reply.
 */
#include <sys/file.h>
#include <sys/poll.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_serve_int.h"
#include "clock.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "xmalloc.h"

typedef enum cr_err (
    *handler_fn)(struct serve *, json_object *, json_object **, char *, size_t);

/*
 * The proto structs hold char * because their decoders fill them with
 * copies; their encoders only read. This hands a borrowed string to an
 * encoder without a cast through an integer.
 */
static char *
borrow(const char *s)
{
	char *p;

	memcpy(&p, &s, sizeof(p));
	return p;
}

static const char *
hostname(char *buf, size_t len)
{
	if (gethostname(buf, len) != 0)
		snprintf(buf, len, "unknown");
	buf[len - 1] = '\0';
	return buf;
}

/* The JSON "error" of a capability's result, else the code's text. */
static void
why_from(json_object *res, enum cr_err err, char *why, size_t len)
{
	const char *e = res != NULL ? jv_str(res, "error") : NULL;

	snprintf(why, len, "%s", e != NULL ? e : cr_strerror(err));
}

static enum cr_err
components(const struct strv *names, unsigned *setp, char *why, size_t len)
{
	enum manifest_comp c;
	size_t i;

	*setp = 0;
	for (i = 0; i < names->n; i++) {
		if (!manifest_comp_parse(names->v[i], &c)) {
			snprintf(why, len, "unknown component '%s'",
			    names->v[i]);
			return CR_ERR_CONFIG;
		}
		*setp |= MANIFEST_BIT(c);
	}
	return CR_OK;
}

/* The backup root itself or a directory below it. */
static enum cr_err
backup_root_ok(struct serve *s, const char *dir, char *why, size_t len)
{
	if (dir != NULL && strcmp(dir, s->backup_root) == 0)
		return file_mkdirs(dir, 0700) == CR_OK ? CR_OK : CR_ERR_SYS;
	return serve_backup_path(s, dir, why, len);
}

/* --- INSPECT --------------------------------------------------------- */

static enum cr_err
h_inspect(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_inspect_req req;
	struct agent_inspect_opts o;
	struct agent_inspection in;
	char host[256];
	enum cr_err err;

	if ((err = proto_inspect_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	if ((err = serve_kdir(s, req.kubernetes_dir, why, len)) == CR_OK) {
		memset(&o, 0, sizeof(o));
		o.kubernetes_dir = req.kubernetes_dir;
		o.kubelet_dir = s->kubelet_dir;
		o.backup_dir = s->backup_root;
		o.now = clock_now();
		if ((err = agent_inspect(&o, &in)) == CR_OK) {
			*replyp = agent_inspection_to_json(&in,
			    hostname(host, sizeof(host)), o.now);
			/* What goes out must be what the peer decodes. */
			err = proto_body_check(PROTO_INSPECT_REP, *replyp, why,
			    len);
		}
		agent_inspection_clear(&in);
	}
	proto_inspect_req_clear(&req);
	return err;
}

/* --- BACKUP and SNAPSHOT --------------------------------------------- */

static enum cr_err
h_backup(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_backup_req req;
	struct proto_backup_rep rep;
	struct agent_backup_opts o;
	struct agent_backup_result r;
	enum cr_err err;

	if ((err = proto_backup_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	memset(&r, 0, sizeof(r));
	if ((err = serve_kdir(s, req.kubernetes_dir, why, len)) == CR_OK &&
	    (err = backup_root_ok(s, req.backup_dir, why, len)) == CR_OK) {
		memset(&o, 0, sizeof(o));
		o.kubernetes_dir = req.kubernetes_dir;
		o.backup_dir = req.backup_dir;
		o.keep = (unsigned)req.keep;
		o.now = clock_now();
		if ((err = agent_backup(&o, &r)) == CR_OK) {
			rep.path = r.path;
			rep.files = (int64_t)r.files;
			rep.bytes = (int64_t)r.bytes;
			*replyp = proto_backup_rep_encode(&rep);
		} else {
			snprintf(why, len, "backup of '%s' failed: %s",
			    req.kubernetes_dir,
			    r.error != NULL ? r.error : cr_strerror(err));
		}
	}
	agent_backup_result_clear(&r);
	proto_backup_req_clear(&req);
	return err;
}

static enum cr_err
h_snapshot(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_snapshot_req req;
	struct proto_snapshot_rep rep;
	struct agent_snapshot_req o;
	json_object *res = NULL;
	int64_t v = 0;
	enum cr_err err;

	if ((err = proto_snapshot_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	if ((err = serve_kdir(s, req.kubernetes_dir, why, len)) == CR_OK &&
	    (err = serve_backup_path(s, req.dest_dir, why, len)) == CR_OK) {
		memset(&o, 0, sizeof(o));
		o.kubernetes_dir = req.kubernetes_dir;
		o.dest_dir = req.dest_dir;
		o.progress = serve_progress;
		o.progress_arg = s;
		if ((err = agent_snapshot(&o, &res)) == CR_OK) {
			memset(&rep, 0, sizeof(rep));
			rep.path = borrow(jv_str(res, "file"));
			rep.sha256 = borrow(jv_str(res, "sha256"));
			rep.bytes = jv_int(res, "size", &v) ? v : 0;
			rep.revision = jv_int(res, "revision", &v) ? v : 0;
			*replyp = proto_snapshot_rep_encode(&rep);
		} else {
			why_from(res, err, why, len);
		}
	}
	json_object_put(res);
	proto_snapshot_req_clear(&req);
	return err;
}

/* --- RENEW and VERIFY ------------------------------------------------ */

/* Writes the ClusterConfiguration for kubeadm --config (0600). */
static char *
config_file(struct serve *s, const char *yaml)
{
	char *path;

	if (yaml == NULL)
		return NULL;
	path = xasprintf("%s/cluster-config-%ld.yaml", s->backup_root,
	    (long)getpid());
	if (file_write_atomic(path, yaml, strlen(yaml), 0600) != CR_OK) {
		log_warn("cannot write '%s'", path);
		free(path);
		return NULL;
	}
	return path;
}

static json_object *
renew_reply(const struct agent_renew_result *r)
{
	struct proto_renew_rep rep;
	json_object *o;
	size_t i;

	memset(&rep, 0, sizeof(rep));
	rep.backup = r->backup != NULL ? r->backup : borrow("");
	rep.nrenewed = r->nrenewed;
	rep.renewed = xcalloc(r->nrenewed + 1, sizeof(*rep.renewed));
	for (i = 0; i < r->nrenewed; i++) {
		rep.renewed[i].name = r->renewed[i].name;
		rep.renewed[i].old_serial = r->renewed[i].old_serial;
		rep.renewed[i].new_serial = r->renewed[i].new_serial;
		rep.renewed[i].old_not_after = r->renewed[i].old_not_after;
		rep.renewed[i].new_not_after = r->renewed[i].new_not_after;
	}
	rep.nskipped = r->nskipped;
	rep.skipped = xcalloc(r->nskipped + 1, sizeof(*rep.skipped));
	for (i = 0; i < r->nskipped; i++) {
		rep.skipped[i].name = r->skipped[i].name;
		rep.skipped[i].reason = r->skipped[i].reason;
	}
	o = proto_renew_rep_encode(&rep);
	free(rep.renewed);
	free(rep.skipped);
	return o;
}

static enum cr_err
renew_opts(const struct proto_renew_req *req, struct agent_renew_opts *o,
    char *why, size_t len)
{
	static const enum agent_backend backends[PROTO_BACKEND__MAX] = {
		[PROTO_BACKEND_AUTO] = AGENT_BACKEND_AUTO,
		[PROTO_BACKEND_KUBEADM] = AGENT_BACKEND_KUBEADM,
		[PROTO_BACKEND_NATIVE] = AGENT_BACKEND_NATIVE,
	};

	memset(o, 0, sizeof(*o));
	o->kubernetes_dir = req->kubernetes_dir;
	o->backup_dir = req->backup_dir;
	o->keep = (unsigned)req->keep;
	o->only = &req->targets;
	o->renew_before_s = req->renew_before_s;
	o->backend = backends[req->backend];
	o->validity_s = req->validity_s;
	o->now = clock_now();
	o->key_algorithm = CERT_KEY_KEEP;
	if (req->key_algorithm[0] != '\0' &&
	    cert_keyalg_parse(req->key_algorithm, &o->key_algorithm) != CR_OK) {
		snprintf(why, len, "unknown key algorithm '%s'",
		    req->key_algorithm);
		return CR_ERR_CONFIG;
	}
	return CR_OK;
}

static enum cr_err
h_renew(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_renew_req req;
	struct agent_renew_opts o;
	struct agent_renew_result r;
	char *cfg = NULL;
	enum cr_err err;

	if ((err = proto_renew_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	memset(&r, 0, sizeof(r));
	if ((err = serve_kdir(s, req.kubernetes_dir, why, len)) == CR_OK &&
	    (err = backup_root_ok(s, req.backup_dir, why, len)) == CR_OK &&
	    (err = renew_opts(&req, &o, why, len)) == CR_OK) {
		o.cluster_config = cfg = config_file(s, req.cluster_config);
		log_info("run %s: renewing in '%s'", req.run_id,
		    req.kubernetes_dir);
		if ((err = agent_renew(&o, &r)) == CR_OK)
			*replyp = renew_reply(&r);
		else
			snprintf(why, len, "%s%s",
			    r.error != NULL ? r.error : cr_strerror(err),
			    r.rolled_back ? " (the files were restored from "
					    "the backup)" :
					    "");
	}
	if (cfg != NULL && unlink(cfg) == -1)
		log_warn("cannot remove '%s'", cfg);
	free(cfg);
	agent_renew_result_clear(&r);
	proto_renew_req_clear(&req);
	return err;
}

static json_object *
verify_reply(const struct agent_verify_result *r)
{
	struct proto_verify_rep rep;
	json_object *o;
	size_t i;

	rep.ok = r->ok;
	rep.nresults = r->n;
	rep.results = xcalloc(r->n + 1, sizeof(*rep.results));
	for (i = 0; i < r->n; i++) {
		rep.results[i].name = r->v[i].name;
		rep.results[i].ok = r->v[i].ok;
		rep.results[i].problems = r->v[i].problems;
	}
	o = proto_verify_rep_encode(&rep);
	free(rep.results);
	return o;
}

static enum cr_err
verify_failure(const struct agent_verify_result *r, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!r->v[i].ok)
			break;
	snprintf(why, len, "verification against the backup failed: %s: %s",
	    i < r->n ? r->v[i].name : "?",
	    i < r->n && r->v[i].problems.n > 0 ? r->v[i].problems.v[0] :
						 "failed");
	return CR_ERR_VERIFY;
}

static enum cr_err
h_verify(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_verify_req req;
	struct agent_verify_opts o;
	struct agent_verify_result r;
	enum cr_err err;

	if ((err = proto_verify_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	memset(&r, 0, sizeof(r));
	if ((err = serve_kdir(s, req.kubernetes_dir, why, len)) == CR_OK &&
	    (err = serve_backup_path(s, req.backup, why, len)) == CR_OK) {
		o.kubernetes_dir = req.kubernetes_dir;
		o.backup = req.backup;
		o.names = &req.names;
		o.now = clock_now();
		if ((err = agent_verify(&o, &r)) == CR_OK)
			*replyp = verify_reply(&r);
		else
			snprintf(why, len, "verify: %s", cr_strerror(err));
		/* A failed verification is an error, so the session does not
		 * open the way to RESTART (invariant 3). */
		if (err == CR_OK && !r.ok) {
			err = verify_failure(&r, why, len);
			json_object_put(*replyp);
			*replyp = NULL; /* an ERROR goes out, not this */
		}
	}
	agent_verify_result_clear(&r);
	proto_verify_req_clear(&req);
	return err;
}

/* --- RESTART, HEALTH, ROLLBACK --------------------------------------- */

/* The string at key of row, or dflt when absent; borrowed for encoders. */
static char *
field(json_object *row, const char *key, const char *dflt)
{
	const char *v = jv_str(row, key);

	return borrow(v != NULL ? v : dflt);
}

/* Maps agent_restart()'s result onto the RESTART_REP struct (borrowing
 * its strings; free rep->components only). */
static void
restart_rep_from(json_object *res, struct proto_restart_rep *rep)
{
	json_object *rows = jv_arr(res, "components"), *row;
	struct proto_restart_result *c;
	const char *st;
	size_t i, n = rows != NULL ? json_object_array_length(rows) : 0;

	memset(rep, 0, sizeof(*rep));
	rep->components = xcalloc(n + 1, sizeof(*rep->components));
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(rows, i);
		st = jv_str(row, "status");
		if (st != NULL && strcmp(st, "skipped") == 0)
			continue;
		c = &rep->components[rep->ncomponents++];
		c->name = field(row, "component", "?");
		c->ok = st != NULL && strcmp(st, "restarted") == 0;
		(void)jv_int(row, "down_ms", &c->down_ms);
		(void)jv_int(row, "up_ms", &c->up_ms);
		c->message = borrow(jv_str(row, "message"));
	}
}

static void
health_rep_from(json_object *res, struct proto_health_rep *rep)
{
	json_object *rows = jv_arr(res, "checks"), *row;
	size_t i, n = rows != NULL ? json_object_array_length(rows) : 0;
	struct proto_health_check *c;

	memset(rep, 0, sizeof(*rep));
	rep->ok = jv_bool(res, "healthy");
	rep->checks = xcalloc(n + 1, sizeof(*rep->checks));
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(rows, i);
		c = &rep->checks[rep->nchecks++];
		c->component = field(row, "component", "?");
		c->check = field(row, "check", "?");
		c->ok = jv_bool(row, "ok") || jv_bool(row, "skipped");
		c->message = field(row, "message", "");
		c->served_serial = borrow(jv_str(row, "served_serial"));
		c->disk_serial = borrow(jv_str(row, "disk_serial"));
	}
}

static enum cr_err
h_restart(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_restart_req req;
	struct proto_restart_rep rep;
	struct agent_restart_req o;
	json_object *res = NULL;
	enum cr_err err;

	if ((err = proto_restart_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	memset(&o, 0, sizeof(o));
	if ((err = serve_kdir(s, req.kubernetes_dir, why, len)) == CR_OK &&
	    (err = components(&req.components, &o.components, why, len)) ==
		CR_OK) {
		o.kubernetes_dir = req.kubernetes_dir;
		o.kubelet_dir = s->kubelet_dir;
		o.down_timeout_ms = req.timeout_s * 1000;
		o.up_timeout_ms = req.timeout_s * 1000;
		o.progress = serve_progress;
		o.progress_arg = s;
		if ((err = agent_restart(&o, &res)) == CR_OK) {
			restart_rep_from(res, &rep);
			*replyp = proto_restart_rep_encode(&rep);
			free(rep.components);
		} else {
			why_from(res, err, why, len);
		}
	}
	json_object_put(res);
	proto_restart_req_clear(&req);
	return err;
}

static enum cr_err
h_health(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_health_req req;
	struct proto_health_rep rep;
	struct agent_health_req o;
	json_object *res = NULL;
	enum cr_err err;

	if ((err = proto_health_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	memset(&o, 0, sizeof(o));
	if ((err = serve_kdir(s, req.kubernetes_dir, why, len)) == CR_OK &&
	    (err = components(&req.components, &o.components, why, len)) ==
		CR_OK) {
		o.kubernetes_dir = req.kubernetes_dir;
		err = agent_health(&o, &res);
		/* Unhealthy is an answer (ok false), not a failed request. */
		if (res != NULL && (err == CR_OK || err == CR_ERR_HEALTH)) {
			health_rep_from(res, &rep);
			*replyp = proto_health_rep_encode(&rep);
			free(rep.checks);
			err = CR_OK;
		} else {
			why_from(res, err, why, len);
		}
	}
	json_object_put(res);
	proto_health_req_clear(&req);
	return err;
}

static json_object *
rollback_reply(json_object *res)
{
	struct proto_rollback_rep rep;
	json_object *stages = jv_arr(res, "stages"), *st, *files, *o;
	const char *name;
	size_t i, k;

	memset(&rep, 0, sizeof(rep));
	for (i = 0; stages != NULL && i < json_object_array_length(stages);
	     i++) {
		st = json_object_array_get_idx(stages, i);
		if ((name = jv_str(st, "stage")) == NULL)
			continue;
		if (strcmp(name, "restore") == 0 &&
		    (files = jv_arr(st, "result.restored")) != NULL)
			for (k = 0; k < json_object_array_length(files); k++)
				strv_push(&rep.restored,
				    json_object_get_string(
					json_object_array_get_idx(files, k)));
		else if (strcmp(name, "restart") == 0)
			restart_rep_from(jv_obj(st, "result"), &rep.restart);
		else if (strcmp(name, "health") == 0)
			health_rep_from(jv_obj(st, "result"), &rep.health);
	}
	o = proto_rollback_rep_encode(&rep);
	strv_clear(&rep.restored);
	free(rep.restart.components);
	free(rep.health.checks);
	return o;
}

static enum cr_err
h_rollback(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_rollback_req req;
	struct agent_rollback_req o;
	json_object *res = NULL;
	enum cr_err err;

	if ((err = proto_rollback_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	if ((err = serve_kdir(s, req.kubernetes_dir, why, len)) == CR_OK &&
	    (err = serve_backup_path(s, req.backup, why, len)) == CR_OK) {
		memset(&o, 0, sizeof(o));
		o.backup = req.backup;
		o.kubernetes_dir = req.kubernetes_dir;
		o.kubelet_dir = s->kubelet_dir;
		o.progress = serve_progress;
		o.progress_arg = s;
		if ((err = agent_rollback(&o, &res)) == CR_OK)
			*replyp = rollback_reply(res);
		else
			why_from(res, err, why, len);
	}
	json_object_put(res);
	proto_rollback_req_clear(&req);
	return err;
}

/* --- READ_FILE and BYE ----------------------------------------------- */

static enum cr_err
h_read_file(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	struct proto_read_file_req req;
	struct proto_read_file_rep rep;
	struct buf b = BUF_INIT;
	struct stat st;
	enum cr_err err;

	if ((err = proto_read_file_req_decode(body, &req, why, len)) != CR_OK)
		return err;
	if ((err = serve_readable(s, req.path, why, len)) == CR_OK) {
		if (stat(req.path, &st) == -1 ||
		    (err = file_read(req.path, PROTO_READ_FILE_MAX, &b)) !=
			CR_OK) {
			snprintf(why, len, "cannot read '%s': %s", req.path,
			    strerror(errno));
			err = CR_ERR_SYS;
		} else {
			rep.path = req.path;
			rep.mode = st.st_mode & 07777;
			rep.data = b.data;
			rep.len = b.len;
			*replyp = proto_read_file_rep_encode(&rep);
		}
	}
	buf_clear_secret(&b);
	proto_read_file_req_clear(&req);
	return err;
}

static enum cr_err
h_bye(struct serve *s, json_object *body, json_object **replyp, char *why,
    size_t len)
{
	(void)s;
	if (proto_body_check(PROTO_BYE_REQ, body, why, len) != CR_OK)
		return CR_ERR_PROTO;
	*replyp = json_object_new_object();
	return CR_OK;
}

static const struct {
	uint16_t type;
	handler_fn run;
} handlers[] = {
	{ PROTO_INSPECT_REQ, h_inspect },
	{ PROTO_BACKUP_REQ, h_backup },
	{ PROTO_SNAPSHOT_REQ, h_snapshot },
	{ PROTO_RENEW_REQ, h_renew },
	{ PROTO_VERIFY_REQ, h_verify },
	{ PROTO_RESTART_REQ, h_restart },
	{ PROTO_HEALTH_REQ, h_health },
	{ PROTO_ROLLBACK_REQ, h_rollback },
	{ PROTO_READ_FILE_REQ, h_read_file },
	{ PROTO_BYE_REQ, h_bye },
};

/* Requests that change the node: one session at a time makes them. */
static bool
changes_node(uint16_t type)
{
	return type == PROTO_BACKUP_REQ || type == PROTO_SNAPSHOT_REQ ||
	    type == PROTO_RENEW_REQ || type == PROTO_RESTART_REQ ||
	    type == PROTO_ROLLBACK_REQ;
}

/*
 * True when the orchestrator has gone (certroll killed, its connection
 * lost): the other end of our input is closed.
 */
static bool
peer_gone(const struct serve *s)
{
	struct pollfd p = { .fd = s->peer_fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/*
 * Takes the node's change lock, an flock on the backup root, waiting up to
 * lock_wait_ms for another session to finish (an agent whose certroll was
 * killed finishes the request it was serving). A request whose certroll
 * went away while it waited is not started: its resumed run sends its own,
 * and a late one would restart a node under that run's health gates.
 * Returns the descriptor that holds it, or -1 with why.
 */
static int
change_lock(const struct serve *s, char *why, size_t len)
{
	int64_t deadline = clock_deadline_ms(s->lock_wait_ms);
	bool waited = false;
	int fd;

	if ((fd = open(s->backup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		snprintf(why, len,
		    "cannot open the backup root '%s' to lock "
		    "the node: %s",
		    s->backup_root, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK || clock_expired(deadline)) {
			snprintf(why, len,
			    "another certroll-agent session is still changing "
			    "this node (it holds the lock on '%s'%s); a "
			    "session "
			    "whose certroll was stopped finishes its request "
			    "on its own: retry once it is done",
			    s->backup_root,
			    errno == EWOULDBLOCK ? ", waited for it" : "");
			close(fd);
			return -1;
		}
		if (!waited)
			log_info("waiting for another session changing this "
				 "node (lock on '%s')",
			    s->backup_root);
		waited = true;
		if (peer_gone(s))
			break;
		clock_sleep_ms(100);
	}
	if (waited && peer_gone(s)) {
		snprintf(why, len,
		    "certroll went away while this request waited for "
		    "another session's changes; not started");
		close(fd);
		return -1;
	}
	return fd;
}

enum cr_err
serve_dispatch(struct serve *s, const struct proto_frame *f,
    json_object **replyp, char *why, size_t len)
{
	enum cr_err err;
	size_t i;
	int fd = -1;

	*replyp = NULL;
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (handlers[i].type != f->hdr.type)
			continue;
		if (changes_node(f->hdr.type) &&
		    (fd = change_lock(s, why, len)) == -1)
			return CR_ERR_STATE;
		err = handlers[i].run(s, f->body, replyp, why, len);
		if (fd != -1)
			close(fd); /* releases the lock */
		return err;
	}
	snprintf(why, len, "%s is not a request", proto_type_name(f->hdr.type));
	return CR_ERR_PROTO;
}
