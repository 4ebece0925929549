/*
 * certroll-agent serve end to end over pipes, as the orchestrator drives
 * it through SSH: the handshake, the session table (nothing before HELLO,
 * no RESTART before a successful RENEW or VERIFY), path confinement, and
 * real requests against a tree made by certroll-pkigen.
 */
#include <sys/file.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "certtest.h"
#include "clock.h"
#include "cu_run.h"
#include "fileio.h"
#include "proto.h"
#include "xmalloc.h"

struct agent {
	pid_t pid;
	int to, from;
	struct proto_conn *conn;
	struct ct_tree t;
	char *backups;
};

static const char *
agent_bin(void)
{
	return CR_BIN_DIR "/certroll-agent";
}

/* Starts the agent; lock_wait, when not NULL, is its --lock-wait. */
static void
agent_start_waiting(struct agent *a, const char *lock_wait)
{
	int in[2], out[2];
	/*
	 * Certificates with 20 days left, as an operator renews them: made
	 * with a year left, a renewal in the same second would not move
	 * not-after and verification would rightly refuse it.
	 */
	static const char *const soon[] = { "--expires-in", "20d", NULL };
	struct proto_transport tr;

	memset(a, 0, sizeof(*a));
	ct_tree_make(&a->t, "ecdsa-p256", soon);
	a->backups = ct_path(a->t.dir, "backups");
	if (pipe(in) != 0 || pipe(out) != 0) {
		CU_FAIL_FATAL("pipe");
		return;
	}
	if ((a->pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(agent_bin(), "certroll-agent", "serve", "--backup-dir",
		    a->backups, "--kubelet-dir", a->t.kubelet,
		    lock_wait != NULL ? "--lock-wait" : (char *)NULL, lock_wait,
		    (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	a->to = in[1];
	a->from = out[0];
	tr = proto_transport_fd(a->from, a->to);
	a->conn = proto_conn_new(&tr);
}

static void
agent_start(struct agent *a)
{
	agent_start_waiting(a, NULL);
}

static int
agent_stop(struct agent *a)
{
	int status = -1;

	proto_conn_free(a->conn);
	close(a->to);
	close(a->from);
	if (waitpid(a->pid, &status, 0) != a->pid)
		status = -1;
	free(a->backups);
	ct_tree_free(&a->t);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int64_t
soon(void)
{
	return clock_deadline_ms(60000);
}

static void
hello(struct agent *a, struct proto_hello *peer)
{
	char program[] = PROTO_PROGRAM_ORCH, version[] = "test";
	struct proto_hello mine;

	memset(&mine, 0, sizeof(mine));
	mine.protocol = PROTO_VERSION;
	mine.program = program;
	mine.version = version;
	CU_ASSERT_EQUAL_FATAL(proto_handshake(a->conn, &mine, soon(), peer),
	    CR_OK);
}

static char *
sha256_hex(const char *path)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	struct buf b = BUF_INIT;
	char *out = xmalloc(65);

	CU_ASSERT_FATAL(file_read(path, 256u << 20, &b) == CR_OK);
	EVP_Digest(b.data, b.len, md, &n, EVP_sha256(), NULL);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * (size_t)i, 3, "%02x", md[i]);
	buf_clear(&b);
	return out;
}

/* One request whose reply body the caller releases (NULL on failure). */
static enum cr_err
call(struct agent *a, uint16_t type, json_object *req, json_object **rep)
{
	enum cr_err err = proto_call(a->conn, type, req, soon(), rep);

	json_object_put(req);
	return err;
}

static json_object *
inspect_req(const char *kdir)
{
	struct proto_inspect_req r = { xstrdup(kdir) };
	json_object *o = proto_inspect_req_encode(&r);

	free(r.kubernetes_dir);
	return o;
}

static void
test_serve_handshake_and_order(void)
{
	struct proto_hello peer;
	struct proto_restart_req rr;
	json_object *rep = NULL;
	struct agent a;
	char *sha;

	agent_start(&a);
	/* Nothing is served before HELLO. */
	CU_ASSERT_EQUAL(
	    call(&a, PROTO_INSPECT_REQ, inspect_req(a.t.kdir), &rep),
	    CR_ERR_STATE);
	hello(&a, &peer);
	CU_ASSERT_STRING_EQUAL(peer.program, PROTO_PROGRAM_AGENT);
	sha = sha256_hex(agent_bin());
	CU_ASSERT_STRING_EQUAL(peer.agent_sha256, sha);
	CU_ASSERT_TRUE(strv_has(&peer.capabilities, PROTO_CAP_RENEW));
	free(sha);
	proto_hello_clear(&peer);
	/* Invariant 3: no restart before a renewal verified in session. */
	memset(&rr, 0, sizeof(rr));
	rr.kubernetes_dir = a.t.kdir;
	rr.timeout_s = 5;
	CU_ASSERT_EQUAL(
	    call(&a, PROTO_RESTART_REQ, proto_restart_req_encode(&rr), &rep),
	    CR_ERR_STATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(proto_conn_errmsg(a.conn), "RENEW"));
	CU_ASSERT_EQUAL(call(&a, PROTO_BYE_REQ, json_object_new_object(), &rep),
	    CR_OK);
	json_object_put(rep);
	CU_ASSERT_EQUAL(agent_stop(&a), 0);
}

static void
test_serve_inspect_and_confinement(void)
{
	struct proto_inspect_rep ir;
	struct proto_read_file_req fr;
	struct proto_read_file_rep frep;
	struct proto_hello peer;
	json_object *rep = NULL;
	const struct cert_info *api;
	char why[PROTO_WHY_MAX], *serial, *key, *conf, *text, *crt;
	struct agent a;

	agent_start(&a);
	hello(&a, &peer);
	proto_hello_clear(&peer);
	CU_ASSERT_EQUAL(call(&a, PROTO_INSPECT_REQ, inspect_req("/proc"), &rep),
	    CR_ERR_STATE);
	CU_ASSERT_EQUAL_FATAL(
	    call(&a, PROTO_INSPECT_REQ, inspect_req(a.t.kdir), &rep), CR_OK);
	CU_ASSERT_EQUAL_FATAL(
	    proto_inspect_rep_decode(rep, &ir, why, sizeof(why)), CR_OK);
	json_object_put(rep);
	api = cert_list_find(&ir.certificates, "apiserver");
	CU_ASSERT_PTR_NOT_NULL(api);
	crt = ct_path(a.t.kdir, "pki/apiserver.crt");
	serial = ct_x509(crt, "-serial", NULL);
	if (api != NULL)
		CU_ASSERT_STRING_EQUAL(api->serial, serial);
	free(serial);
	free(crt);
	proto_inspect_rep_clear(&ir);
	/* Keys never leave the node; kubeconfigs may (kubeconfig refresh). */
	key = ct_path(a.t.kdir, "pki/apiserver.key");
	fr.path = key;
	CU_ASSERT_EQUAL(call(&a, PROTO_READ_FILE_REQ,
			    proto_read_file_req_encode(&fr), &rep),
	    CR_ERR_STATE);
	conf = ct_path(a.t.kdir, "admin.conf");
	fr.path = conf;
	CU_ASSERT_EQUAL_FATAL(call(&a, PROTO_READ_FILE_REQ,
				  proto_read_file_req_encode(&fr), &rep),
	    CR_OK);
	CU_ASSERT_EQUAL_FATAL(
	    proto_read_file_rep_decode(rep, &frep, why, sizeof(why)), CR_OK);
	text = ct_slurp(conf);
	CU_ASSERT_EQUAL(frep.len, strlen(text));
	CU_ASSERT_EQUAL(memcmp(frep.data, text, frep.len), 0);
	CU_ASSERT_EQUAL(frep.mode, 0600);
	free(text);
	proto_read_file_rep_clear(&frep);
	proto_body_wipe(rep);
	json_object_put(rep);
	free(key);
	free(conf);
	close(a.to); /* EOF between frames ends the session cleanly */
	a.to = -1;
	CU_ASSERT_EQUAL(agent_stop(&a), 0);
}

static json_object *
renew_req(const struct agent *a)
{
	char run_id[] = "test-run", no_algorithm[] = "";
	struct proto_renew_req r;
	json_object *o;

	memset(&r, 0, sizeof(r));
	r.run_id = run_id;
	r.kubernetes_dir = a->t.kdir;
	r.backup_dir = a->backups;
	r.keep = 5;
	strv_push(&r.targets, "apiserver");
	strv_push(&r.targets, "admin.conf");
	r.backend = PROTO_BACKEND_NATIVE;
	r.validity_s = 365 * 86400LL;
	r.key_algorithm = no_algorithm;
	o = proto_renew_req_encode(&r);
	strv_clear(&r.targets);
	return o;
}

static json_object *
verify_req(const struct agent *a, const char *backup)
{
	struct proto_verify_req v;
	json_object *o;

	memset(&v, 0, sizeof(v));
	v.kubernetes_dir = a->t.kdir;
	v.backup = xstrdup(backup);
	strv_push(&v.names, "apiserver");
	strv_push(&v.names, "admin.conf");
	o = proto_verify_req_encode(&v);
	strv_clear(&v.names);
	free(v.backup);
	return o;
}

static const struct proto_renewed *
renewed(const struct proto_renew_rep *rr, const char *name)
{
	size_t i;

	for (i = 0; i < rr->nrenewed; i++)
		if (strcmp(rr->renewed[i].name, name) == 0)
			return &rr->renewed[i];
	return NULL;
}

static void
test_serve_renew_and_verify(void)
{
	struct proto_renew_rep rr;
	struct proto_hello peer;
	json_object *rep = NULL;
	char why[PROTO_WHY_MAX], *before, *after, *crt;
	const struct proto_renewed *api;
	struct agent a;

	agent_start(&a);
	hello(&a, &peer);
	proto_hello_clear(&peer);
	crt = ct_path(a.t.kdir, "pki/apiserver.crt");
	before = ct_x509(crt, "-serial", NULL);
	CU_ASSERT_EQUAL_FATAL(call(&a, PROTO_RENEW_REQ, renew_req(&a), &rep),
	    CR_OK);
	CU_ASSERT_EQUAL_FATAL(
	    proto_renew_rep_decode(rep, &rr, why, sizeof(why)), CR_OK);
	json_object_put(rep);
	CU_ASSERT_EQUAL(rr.nrenewed, 2);
	after = ct_x509(crt, "-serial", NULL);
	CU_ASSERT_STRING_NOT_EQUAL(before, after);
	api = renewed(&rr, "apiserver");
	CU_ASSERT_PTR_NOT_NULL(api);
	if (api != NULL) {
		CU_ASSERT_STRING_EQUAL(api->old_serial, before);
		CU_ASSERT_STRING_EQUAL(api->new_serial, after);
	}
	/* The backup the renewal took verifies; one outside the root is
	 * refused without being looked at. */
	CU_ASSERT_EQUAL(
	    call(&a, PROTO_VERIFY_REQ, verify_req(&a, rr.backup), &rep), CR_OK);
	json_object_put(rep);
	CU_ASSERT_EQUAL(
	    call(&a, PROTO_VERIFY_REQ, verify_req(&a, "/etc"), &rep),
	    CR_ERR_STATE);
	proto_renew_rep_clear(&rr);
	free(before);
	free(after);
	free(crt);
	CU_ASSERT_EQUAL(call(&a, PROTO_BYE_REQ, json_object_new_object(), &rep),
	    CR_OK);
	json_object_put(rep);
	CU_ASSERT_EQUAL(agent_stop(&a), 0);
}

/* --- Hostile requests: refused with a reason, nothing changed -------- */

/*
 * Everything under dir: files and symlinks with mode and SHA-256
 * (ct_digest) and the directories with their modes. To free().
 */
static char *
tree_state(const char *dir)
{
	const char *const argv[] = { "find", dir, "-type", "d", "-printf",
		"%p %m\n", NULL };
	struct buf b = BUF_INIT;
	char *files = ct_digest(dir), *all;

	CU_ASSERT_FATAL(ct_run(argv, &b) == 0);
	all = xasprintf("%s--\n%s", files, buf_cstr(&b));
	free(files);
	buf_clear(&b);
	return all;
}

/*
 * Beside the node's tree: an outside directory holding a kubeconfig-like
 * secret and a fake backup (with a pki/ to restore from), and symlinks
 * from inside the kubernetes and backup directories pointing out.
 */
static void
hostile_fixture(const struct agent *a)
{
	char *p;
	size_t i;
	static const char *const files[] = { "outside/secret.conf",
		"outside/fake-backup/pki/ca.crt",
		"outside/fake-backup/pki/ca.key", NULL };
	static const char *const links[][2] = {
		{ "kubernetes/evil.conf", "../outside/secret.conf" },
		{ "kubernetes/pki/leak.crt", "apiserver.key" },
		{ "kubernetes/link-out", "../outside" },
		{ "backups/link-out", "../outside/fake-backup" },
	};

	for (i = 0; files[i] != NULL; i++) {
		p = ct_path(a->t.dir, files[i]);
		ct_write(p, "not for the agent to touch\n");
		free(p);
	}
	CU_ASSERT_FATAL(file_mkdirs(a->backups, 0700) == CR_OK);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		p = ct_path(a->t.dir, links[i][0]);
		CU_ASSERT_FATAL(symlink(links[i][1], p) == 0);
		free(p);
	}
}

/* "@" at the start of a row's path stands for the test's directory. */
static char *
row_path(const struct agent *a, const char *tmpl)
{
	if (tmpl[0] == '@')
		return xasprintf("%s%s", a->t.dir, tmpl + 1);
	return xstrdup(tmpl);
}

struct hostile {
	const char *name;
	uint16_t type;
	const char *kdir; /* NULL: the node's kubernetes directory */
	const char *path; /* the backup, destination or file named */
	const char *why;  /* in the refusal */
};

/* The kubernetes directory and the path a hostile row names. */
struct row_paths {
	char *k, *p;
};

static json_object *
hostile_body(const struct hostile *h, const struct row_paths *x)
{
	char *k = x->k, *p = x->p;
	struct proto_backup_req b = { k, p, 5 };
	struct proto_snapshot_req sn = { k, p };
	struct proto_verify_req v = { .kubernetes_dir = k, .backup = p };
	struct proto_rollback_req rb = { k, p };
	struct proto_read_file_req rf = { p };
	struct proto_inspect_req in = { k };
	struct proto_health_req he = { .kubernetes_dir = k };
	struct proto_restart_req rs = { .kubernetes_dir = k, .timeout_s = 5 };

	switch (h->type) {
	case PROTO_BACKUP_REQ:
		return proto_backup_req_encode(&b);
	case PROTO_SNAPSHOT_REQ:
		return proto_snapshot_req_encode(&sn);
	case PROTO_VERIFY_REQ:
		return proto_verify_req_encode(&v);
	case PROTO_ROLLBACK_REQ:
		return proto_rollback_req_encode(&rb);
	case PROTO_READ_FILE_REQ:
		return proto_read_file_req_encode(&rf);
	case PROTO_HEALTH_REQ:
		return proto_health_req_encode(&he);
	case PROTO_RESTART_REQ:
		return proto_restart_req_encode(&rs);
	default:
		return proto_inspect_req_encode(&in);
	}
}

/* A RENEW whose kubernetes and backup directories are the row's. */
static json_object *
hostile_renew(const struct agent *a, char *kdir, char *path)
{
	struct agent copy = *a;

	copy.t.kdir = kdir;
	copy.backups = path;
	return renew_req(&copy);
}

/* Sends row h; it must be refused with CR_ERR_STATE and its reason. */
static void
hostile_send(struct agent *a, const struct hostile *h)
{
	char *kdir = row_path(a, h->kdir != NULL ? h->kdir : "@/kubernetes");
	char *path = row_path(a, h->path != NULL ? h->path : "@/backups");
	const struct row_paths x = { kdir, path };
	json_object *rep = NULL, *body;

	body = h->type == PROTO_RENEW_REQ ? hostile_renew(a, kdir, path) :
					    hostile_body(h, &x);
	CU_ASSERT_CASE(call(a, h->type, body, &rep) == CR_ERR_STATE, h->name);
	CU_ASSERT_CASE(rep == NULL, h->name);
	CU_ASSERT_CASE(strstr(proto_conn_errmsg(a->conn), h->why) != NULL,
	    h->name);
	json_object_put(rep);
	free(kdir);
	free(path);
}

static const char why_pki[] = "no pki/ directory";
static const char why_nokdir[] = "does not exist";
static const char why_read[] = "is not a kubeconfig or certificate";
static const char why_backup[] = "is not under the backup root";
static const char why_restart[] = "RENEW";

static const struct hostile hostile_rows[] = {
	{ "inspect /proc/self", PROTO_INSPECT_REQ, "/proc/self", NULL,
	    why_pki },
	{ "inspect /proc/self/environ", PROTO_INSPECT_REQ, "/proc/self/environ",
	    NULL, why_pki },
	{ "inspect .. out of the kubernetes dir", PROTO_INSPECT_REQ,
	    "@/kubernetes/pki/../..", NULL, why_pki },
	{ "inspect symlink out", PROTO_INSPECT_REQ, "@/kubernetes/link-out",
	    NULL, why_pki },
	{ "inspect relative path", PROTO_INSPECT_REQ, "kubernetes", NULL,
	    why_nokdir },
	{ "inspect missing", PROTO_INSPECT_REQ, "/nonexistent/k8s", NULL,
	    why_nokdir },
	{ "health /", PROTO_HEALTH_REQ, "/", NULL, why_pki },
	{ "read /proc/self/environ", PROTO_READ_FILE_REQ, NULL,
	    "/proc/self/environ", why_read },
	{ "read /etc/passwd", PROTO_READ_FILE_REQ, NULL, "/etc/passwd",
	    why_read },
	{ "read key via a .crt symlink", PROTO_READ_FILE_REQ, NULL,
	    "@/kubernetes/pki/leak.crt", why_read },
	{ "read .conf symlink out", PROTO_READ_FILE_REQ, NULL,
	    "@/kubernetes/evil.conf", why_read },
	{ "read .. out", PROTO_READ_FILE_REQ, NULL,
	    "@/kubernetes/../outside/secret.conf", why_read },
	{ "read pki/../.. out", PROTO_READ_FILE_REQ, NULL,
	    "@/kubernetes/pki/../../outside/secret.conf", why_read },
	{ "read relative", PROTO_READ_FILE_REQ, NULL, "admin.conf", why_read },
	{ "read the pki dir", PROTO_READ_FILE_REQ, NULL, "@/kubernetes/pki",
	    why_read },
	{ "backup into /etc", PROTO_BACKUP_REQ, NULL, "/etc", why_backup },
	{ "backup outside", PROTO_BACKUP_REQ, NULL, "@/outside", why_backup },
	{ "backup .. out", PROTO_BACKUP_REQ, NULL, "@/backups/../outside",
	    why_backup },
	{ "backup symlink out", PROTO_BACKUP_REQ, NULL, "@/backups/link-out",
	    why_backup },
	{ "backup kdir /proc/self", PROTO_BACKUP_REQ, "/proc/self", NULL,
	    why_pki },
	{ "snapshot into the root itself", PROTO_SNAPSHOT_REQ, NULL,
	    "@/backups", why_backup },
	{ "snapshot into /tmp", PROTO_SNAPSHOT_REQ, NULL, "/tmp", why_backup },
	{ "verify the root itself", PROTO_VERIFY_REQ, NULL, "@/backups",
	    why_backup },
	{ "verify outside", PROTO_VERIFY_REQ, NULL, "@/outside/fake-backup",
	    why_backup },
	{ "rollback from outside", PROTO_ROLLBACK_REQ, NULL,
	    "@/outside/fake-backup", why_backup },
	{ "rollback symlink out", PROTO_ROLLBACK_REQ, NULL,
	    "@/backups/link-out", why_backup },
	{ "rollback .. out", PROTO_ROLLBACK_REQ, NULL,
	    "@/backups/../outside/fake-backup", why_backup },
	{ "rollback the root itself", PROTO_ROLLBACK_REQ, NULL, "@/backups",
	    why_backup },
	{ "rollback /proc/self/environ", PROTO_ROLLBACK_REQ, NULL,
	    "/proc/self/environ", why_backup },
	{ "renew kdir /proc/self/environ", PROTO_RENEW_REQ,
	    "/proc/self/environ", NULL, why_pki },
	{ "renew backups outside", PROTO_RENEW_REQ, NULL, "@/outside",
	    why_backup },
	{ "renew backups symlink out", PROTO_RENEW_REQ, NULL,
	    "@/backups/link-out", why_backup },
	{ "renew backups in /tmp", PROTO_RENEW_REQ, NULL, "/tmp", why_backup },
	{ "restart before renew", PROTO_RESTART_REQ, NULL, NULL, why_restart },
};

static void
test_serve_hostile_requests(void)
{
	struct proto_read_file_req fr;
	struct proto_hello peer;
	json_object *rep = NULL;
	char *before, *after, *conf;
	struct agent a;
	size_t i;

	agent_start(&a);
	hostile_fixture(&a);
	hello(&a, &peer);
	proto_hello_clear(&peer);
	/*
	 * The node's kubernetes directory is known to the session and one of
	 * its kubeconfigs readable: the rows are refused for their paths,
	 * not for want of a directory.
	 */
	CU_ASSERT_EQUAL_FATAL(
	    call(&a, PROTO_INSPECT_REQ, inspect_req(a.t.kdir), &rep), CR_OK);
	json_object_put(rep);
	conf = ct_path(a.t.kdir, "admin.conf");
	fr.path = conf;
	CU_ASSERT_EQUAL_FATAL(call(&a, PROTO_READ_FILE_REQ,
				  proto_read_file_req_encode(&fr), &rep),
	    CR_OK);
	proto_body_wipe(rep);
	json_object_put(rep);
	free(conf);
	before = tree_state(a.t.dir);
	for (i = 0; i < sizeof(hostile_rows) / sizeof(hostile_rows[0]); i++) {
		hostile_send(&a, &hostile_rows[i]);
		after = tree_state(a.t.dir);
		CU_ASSERT_CASE(strcmp(before, after) == 0,
		    hostile_rows[i].name);
		free(after);
	}
	/* None of the refused requests opened the way to RESTART. */
	hostile_send(&a, &hostile_rows[i - 1]);
	CU_ASSERT_EQUAL(call(&a, PROTO_BYE_REQ, json_object_new_object(), &rep),
	    CR_OK);
	json_object_put(rep);
	free(before);
	CU_ASSERT_EQUAL(agent_stop(&a), 0);
}

/* Before HELLO every request, even a well-formed one, is refused. */
static void
test_serve_nothing_before_hello(void)
{
	static const struct hostile rows[] = {
		{ "inspect", PROTO_INSPECT_REQ, NULL, NULL, "before HELLO" },
		{ "renew", PROTO_RENEW_REQ, NULL, NULL, "before HELLO" },
		{ "backup", PROTO_BACKUP_REQ, NULL, NULL, "before HELLO" },
		{ "restart", PROTO_RESTART_REQ, NULL, NULL, "before HELLO" },
		{ "read admin.conf", PROTO_READ_FILE_REQ, NULL,
		    "@/kubernetes/admin.conf", "before HELLO" },
	};
	struct proto_hello peer;
	json_object *rep = NULL;
	char *before, *after;
	struct agent a;
	size_t i;

	agent_start(&a);
	hostile_fixture(&a);
	before = tree_state(a.t.dir);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		hostile_send(&a, &rows[i]);
	after = tree_state(a.t.dir);
	CU_ASSERT_STRING_EQUAL(before, after);
	/* The session is still usable: HELLO now opens it. */
	hello(&a, &peer);
	proto_hello_clear(&peer);
	CU_ASSERT_EQUAL(call(&a, PROTO_BYE_REQ, json_object_new_object(), &rep),
	    CR_OK);
	json_object_put(rep);
	free(before);
	free(after);
	CU_ASSERT_EQUAL(agent_stop(&a), 0);
}

/* A VERIFY that fails (nothing was renewed) does not allow RESTART. */
static void
test_serve_no_restart_after_failed_verify(void)
{
	static const struct hostile restart = { "restart after failed verify",
		PROTO_RESTART_REQ, NULL, NULL, why_restart };
	struct proto_backup_req br;
	struct proto_backup_rep brep;
	struct proto_hello peer;
	json_object *rep = NULL;
	char why[PROTO_WHY_MAX], *before, *after;
	struct agent a;

	agent_start(&a);
	hello(&a, &peer);
	proto_hello_clear(&peer);
	br.kubernetes_dir = a.t.kdir;
	br.backup_dir = a.backups;
	br.keep = 5;
	CU_ASSERT_EQUAL_FATAL(
	    call(&a, PROTO_BACKUP_REQ, proto_backup_req_encode(&br), &rep),
	    CR_OK);
	CU_ASSERT_EQUAL_FATAL(
	    proto_backup_rep_decode(rep, &brep, why, sizeof(why)), CR_OK);
	json_object_put(rep);
	before = tree_state(a.t.kdir);
	CU_ASSERT_EQUAL(
	    call(&a, PROTO_VERIFY_REQ, verify_req(&a, brep.path), &rep),
	    CR_ERR_VERIFY);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(proto_conn_errmsg(a.conn), "verification against"));
	hostile_send(&a, &restart);
	after = tree_state(a.t.kdir);
	CU_ASSERT_STRING_EQUAL(before, after);
	proto_backup_rep_clear(&brep);
	free(before);
	free(after);
	CU_ASSERT_EQUAL(call(&a, PROTO_BYE_REQ, json_object_new_object(), &rep),
	    CR_OK);
	json_object_put(rep);
	CU_ASSERT_EQUAL(agent_stop(&a), 0);
}

/* A BACKUP of the agent's tree; its reply code. */
static enum cr_err
backup(struct agent *a)
{
	struct proto_backup_req br = { a->t.kdir, a->backups, 5 };
	json_object *rep = NULL;
	enum cr_err err = call(a, PROTO_BACKUP_REQ,
	    proto_backup_req_encode(&br), &rep);

	json_object_put(rep);
	return err;
}

/* Holds the change lock on dir from a child process for ms, then exits;
 * returns once the child holds it. */
static pid_t
hold_lock(const char *dir, int ms)
{
	int ready[2], fd;
	pid_t pid;
	char c;

	CU_ASSERT_FATAL(pipe(ready) == 0);
	if ((pid = fork()) == 0) {
		/* Not the test's end of an agent's input: it is the peer. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != ready[1])
				close(fd);
		fd = open(dir, O_RDONLY | O_DIRECTORY);
		if (fd == -1 || flock(fd, LOCK_EX) == -1 ||
		    write(ready[1], "x", 1) != 1)
			_exit(1);
		clock_sleep_ms(ms);
		_exit(0);
	}
	close(ready[1]);
	CU_ASSERT_FATAL(read(ready[0], &c, 1) == 1);
	close(ready[0]);
	return pid;
}

/*
 * Two sessions never change a node at once (an agent whose certroll was
 * killed finishes its request while the resumed run's agent starts): a
 * changing request waits for the other session's lock, and is refused,
 * with the reason and nothing written, when it is held past --lock-wait.
 */
static void
test_serve_changes_take_turns(void)
{
	struct proto_hello peer;
	json_object *rep = NULL;
	struct agent a;
	char *before, *after;
	pid_t holder;
	int status;

	agent_start_waiting(&a, "1s");
	hello(&a, &peer);
	proto_hello_clear(&peer);
	before = tree_state(a.t.dir);
	holder = hold_lock(a.backups, 3000);
	CU_ASSERT_EQUAL(backup(&a), CR_ERR_STATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(proto_conn_errmsg(a.conn),
	    "another certroll-agent session is still changing this node"));
	/* Reading does not wait. */
	CU_ASSERT_EQUAL(
	    call(&a, PROTO_INSPECT_REQ, inspect_req(a.t.kdir), &rep), CR_OK);
	json_object_put(rep);
	after = tree_state(a.t.dir);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(after);
	CU_ASSERT_EQUAL(waitpid(holder, &status, 0), holder);
	/* Held for a moment only: the request waits, then backs up. */
	holder = hold_lock(a.backups, 300);
	CU_ASSERT_EQUAL(backup(&a), CR_OK);
	CU_ASSERT_EQUAL(waitpid(holder, &status, 0), holder);
	free(before);
	CU_ASSERT_EQUAL(agent_stop(&a), 0);
}

/*
 * A changing request still waiting for the lock when its certroll goes
 * away is dropped, not run once the lock is free. Found by
 * faults.sigkill_every_phase: each killed run left a RESTART queued on
 * cp1, and they ran one after the other under the resumed run's health
 * gates, restarting etcd while the next node's quorum check looked.
 */
static void
test_serve_queued_change_dropped(void)
{
	struct proto_hello peer;
	struct proto_backup_req br;
	struct buf frame = BUF_INIT;
	json_object *body;
	struct agent a;
	char *before, *after;
	pid_t holder;
	int status;

	agent_start_waiting(&a, "30s");
	hello(&a, &peer);
	proto_hello_clear(&peer);
	before = tree_state(a.t.dir);
	holder = hold_lock(a.backups, 1500);
	br.kubernetes_dir = a.t.kdir;
	br.backup_dir = a.backups;
	br.keep = 5;
	body = proto_backup_req_encode(&br);
	CU_ASSERT_EQUAL_FATAL(
	    proto_frame_encode(PROTO_BACKUP_REQ, 1000, body, &frame), CR_OK);
	json_object_put(body);
	CU_ASSERT_EQUAL_FATAL(write(a.to, frame.data, frame.len),
	    (ssize_t)frame.len);
	buf_clear(&frame);
	clock_sleep_ms(300); /* it waits for the lock now */
	close(a.to);         /* certroll is gone */
	CU_ASSERT_EQUAL(waitpid(holder, &status, 0), holder);
	CU_ASSERT_EQUAL(waitpid(a.pid, &status, 0), a.pid);
	after = tree_state(a.t.dir);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(before);
	free(after);
	proto_conn_free(a.conn);
	close(a.from);
	free(a.backups);
	ct_tree_free(&a.t);
}

static CU_TestInfo serve_tests[] = {
	{ "handshake_and_order", test_serve_handshake_and_order },
	{ "inspect_and_confinement", test_serve_inspect_and_confinement },
	{ "renew_and_verify", test_serve_renew_and_verify },
	{ "hostile_requests", test_serve_hostile_requests },
	{ "nothing_before_hello", test_serve_nothing_before_hello },
	{ "no_restart_after_failed_verify",
	    test_serve_no_restart_after_failed_verify },
	{ "changes_take_turns", test_serve_changes_take_turns },
	{ "queued_change_dropped", test_serve_queued_change_dropped },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "agent_serve", .pTests = serve_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return cu_run(suites);
}
