/*
 * libFuzzer target: the agent's request handling, as "certroll-agent
 * serve" runs it (agent/agent_serve.c, agent_serve_ops.c), through the door
 * of agent_serve_int.h. Seeds: tests/fuzz/corpus/agent_request (sessions
 * as the orchestrator opens them: HELLO, then INSPECT, READ_FILE, VERIFY,
 * HEALTH, BYE, with paths good, confined and escaping).
 *
 * The input is the byte stream the orchestrator would write to the agent.
 * Frames are read with proto_recv(); HELLO is judged as the handshake
 * does; every other frame goes through the session table
 * (proto_allowed(), proto_next_state()) and, when legal and read-only, to
 * serve_dispatch(). RENEW, RESTART, ROLLBACK, BACKUP and SNAPSHOT change
 * files or processes and are never dispatched. Replies and progress go to
 * a sink.
 *
 * The scratch tree is a kubeadm /etc/kubernetes made by certroll-pkigen in
 * a private directory at start, with one backup of it; a string that
 * starts with "$TREE" in a request names a path in it, so seeds work
 * wherever it lies. HEALTH is served only in a network namespace of our
 * own (no route anywhere, nothing listening), so its probes fail at once.
 *
 * Contract checked beyond memory safety: a refused or failed request says
 * why; a served one returns a reply its decoder
 * accepts; READ_FILE serves only a kubeconfig or certificate in a
 * kubernetes directory (one with a pki/ directory), never anything
 * outside it whatever the path says; and no request changes the tree.
 */
#define _GNU_SOURCE /* unshare(2) */

#include <sys/stat.h>

#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_serve_int.h"
#include "buf.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "proto.h"
#include "run.h"

#ifndef CR_BIN_DIR
#error "CR_BIN_DIR must name the directory of certroll-pkigen"
#endif

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TREE_VAR "$TREE"

static char tree[PATH_MAX];    /* the private directory */
static char backups[PATH_MAX]; /* tree/backups: the backup root */
static char kubelet[PATH_MAX]; /* tree/kubelet */
static bool own_netns;         /* HEALTH is served only then */
static struct buf digest_before = BUF_INIT;

static void
pkigen(const char *const *argv)
{
	struct run_cmd c = RUN_CMD_INIT;

	c.argv = argv;
	c.timeout_ms = 120000;
	if (run_cmd(&c) != CR_OK) {
		fprintf(stderr, "fuzz_agent_request: certroll-pkigen: %s\n",
		    buf_cstr(&c.err));
		abort();
	}
	run_cmd_clear(&c);
}

/* One backup, renamed to tree/backups/b1 so seeds can name it. */
static void
backup_once(const char *kdir)
{
	struct agent_backup_opts o;
	struct agent_backup_result r;
	char *b1 = file_path_join(backups, "b1");

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	o.kubernetes_dir = kdir;
	o.backup_dir = backups;
	o.now = 1795870800;
	if (agent_backup(&o, &r) != CR_OK || rename(r.path, b1) == -1)
		abort();
	agent_backup_result_clear(&r);
	free(b1);
}

static struct buf *digest_out;

static int
digest_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	buf_printf(digest_out, "%s %o %lld %lld.%09ld\n", path,
	    (unsigned)st->st_mode, (long long)st->st_size,
	    (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	return 0;
}

/* Every path, mode, size and mtime under the tree. */
static void
digest(struct buf *out)
{
	digest_out = out;
	buf_reset(out);
	if (nftw(tree, digest_entry, 16, FTW_PHYS) != 0)
		abort();
}

static void
setup(void)
{
	const char *base = getenv("TMPDIR");
	char ca[PATH_MAX + 8], kdir[PATH_MAX + 16];
	const char *ca_args[] = { CR_BIN_DIR "/certroll-pkigen", "ca", "--dir",
		ca, "--key-algorithm", "ecdsa-p256", NULL };
	const char *node_args[] = { CR_BIN_DIR "/certroll-pkigen", "node",
		"--ca", ca, "--dir", kdir, "--node", "cp1", "--ip", "10.0.0.1",
		"--kubelet-dir", kubelet, NULL };

	snprintf(tree, sizeof(tree), "%s/certroll-fuzz-agent.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(tree) == NULL)
		abort();
	snprintf(ca, sizeof(ca), "%s/ca", tree);
	snprintf(kdir, sizeof(kdir), "%s/kubernetes", tree);
	snprintf(backups, sizeof(backups), "%s/backups", tree);
	snprintf(kubelet, sizeof(kubelet), "%s/kubelet", tree);
	pkigen(ca_args);
	pkigen(node_args);
	if (file_mkdirs(backups, 0700) != CR_OK)
		abort();
	backup_once(kdir);
	/* No program the agent might look for (kubeadm, crictl) is found. */
	if (setenv("PATH", "/nonexistent", 1) != 0)
		abort();
	own_netns = unshare(CLONE_NEWNET) == 0 ||
	    unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
	if (!own_netns)
		fprintf(stderr,
		    "fuzz_agent_request: no network namespace of "
		    "our own: HEALTH requests are not served\n");
	log_init("fuzz_agent_request", LOG_LEVEL_QUIET);
	digest(&digest_before);
}

static void
teardown(void)
{
	const char *argv[] = { "/bin/rm", "-rf", "--", tree, NULL };
	struct run_cmd c = RUN_CMD_INIT;

	c.argv = argv;
	c.timeout_ms = 60000;
	if (run_cmd(&c) != CR_OK)
		fprintf(stderr, "fuzz_agent_request: cannot remove '%s'\n",
		    tree);
	run_cmd_clear(&c);
	buf_clear(&digest_before);
}

/* Replaces a leading "$TREE" in every string of o with the tree. */
static void
substitute(json_object *o, unsigned depth)
{
	const char *s;
	char *path;
	size_t i;

	if (depth > 16)
		return;
	if (json_object_is_type(o, json_type_string)) {
		s = json_object_get_string(o);
		if (strncmp(s, TREE_VAR, strlen(TREE_VAR)) != 0)
			return;
		if (asprintf(&path, "%s%s", tree, s + strlen(TREE_VAR)) == -1)
			abort();
		json_object_set_string(o, path);
		free(path);
	} else if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++)
			substitute(json_object_array_get_idx(o, i), depth + 1);
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			substitute(val, depth + 1);
		}
	}
}

/* The input as the stream the agent reads; what it writes is dropped. */
struct stream {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static ssize_t
stream_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct stream *s = ctx;
	size_t n = s->len - s->pos;

	(void)timeout_ms;
	if (n > len)
		n = len;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static ssize_t
sink_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	(void)ctx;
	(void)buf;
	(void)timeout_ms;
	return (ssize_t)len;
}

/* Only requests that read are dispatched; HEALTH only in our netns. */
static bool
read_only(uint16_t type)
{
	switch (type) {
	case PROTO_INSPECT_REQ:
	case PROTO_VERIFY_REQ:
	case PROTO_READ_FILE_REQ:
	case PROTO_BYE_REQ:
		return true;
	case PROTO_HEALTH_REQ:
		return own_netns;
	default:
		return false;
	}
}

/* True when some directory above path holds a pki/ directory. */
static bool
in_kubernetes_dir(const char *path)
{
	char dir[PATH_MAX + 8], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		snprintf(slash, sizeof(dir) - (size_t)(slash - dir), "/pki");
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
		*slash = '\0';
	}
	return false;
}

/* READ_FILE served something: a kubeconfig or certificate, confined. */
static void
check_served(json_object *req, json_object *rep)
{
	struct proto_read_file_rep m;
	char why[PROTO_WHY_MAX], real[PATH_MAX];
	const char *path = jv_str(req, "path");
	size_t n;

	if (path == NULL || realpath(path, real) == NULL)
		abort();
	n = strlen(real);
	if (!(n > 5 && strcmp(real + n - 5, ".conf") == 0) &&
	    !(n > 4 && strcmp(real + n - 4, ".crt") == 0))
		abort();
	if (!in_kubernetes_dir(real))
		abort();
	if (proto_read_file_rep_decode(rep, &m, why, sizeof(why)) != CR_OK)
		abort();
	proto_read_file_rep_clear(&m);
}

/* Serves one legal request frame, as serve_one() does. */
static void
serve_frame(struct serve *s, struct proto_frame *f)
{
	json_object *reply = NULL;
	char why[1024] = "";
	enum cr_err err;

	substitute(f->body, 0);
	s->req = &f->hdr;
	err = serve_dispatch(s, f, &reply, why, sizeof(why));
	s->req = NULL;
	s->state = proto_next_state(s->state, f->hdr.type, err == CR_OK);
	/* A failed VERIFY encodes its findings before it fails; serve_one()
	 * drops such a reply, as this does. */
	if (err != CR_OK) {
		if (why[0] == '\0')
			abort();
		json_object_put(reply);
		return;
	}
	if (reply == NULL ||
	    proto_body_check((uint16_t)(f->hdr.type + 100), reply, why,
		sizeof(why)) != CR_OK)
		abort();
	if (f->hdr.type == PROTO_READ_FILE_REQ)
		check_served(f->body, reply);
	json_object_put(reply);
}

/* The handshake's judgement of the orchestrator's HELLO. */
static bool
hello_ok(const struct proto_frame *f)
{
	struct proto_hello peer;
	char why[PROTO_WHY_MAX];
	bool ok;

	ok = proto_hello_decode(f->body, &peer, why, sizeof(why)) == CR_OK;
	if (ok) {
		ok = proto_hello_check(&peer, why, sizeof(why)) == CR_OK;
		proto_hello_clear(&peer);
	}
	return ok;
}

static void
handle(struct serve *s, struct proto_frame *f)
{
	char why[1024] = "";

	if (s->state == PROTO_STATE_START && f->hdr.type == PROTO_HELLO) {
		s->state = proto_next_state(s->state, PROTO_HELLO, hello_ok(f));
	} else if (!proto_allowed(s->state, f->hdr.type)) {
		proto_refusal(s->state, f->hdr.type, why, sizeof(why));
		if (why[0] == '\0')
			abort();
	} else if (read_only(f->hdr.type)) {
		serve_frame(s, f);
	}
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream in = { data, size, 0 };
	struct proto_transport t = { stream_read, sink_write, NULL, &in };
	struct buf after = BUF_INIT;
	struct proto_frame f;
	struct serve s;

	if (tree[0] == '\0') {
		setup();
		atexit(teardown);
	}
	memset(&s, 0, sizeof(s));
	s.conn = proto_conn_new(&t);
	s.state = PROTO_STATE_START;
	s.backup_root = backups;
	s.kubelet_dir = kubelet;
	memset(&f, 0, sizeof(f));
	while (s.state != PROTO_STATE_CLOSED &&
	    proto_recv(s.conn, 0, &f) == CR_OK && f.hdr.type != PROTO_NONE) {
		handle(&s, &f);
		proto_frame_clear(&f);
	}
	proto_frame_clear(&f);
	proto_conn_free(s.conn);
	strv_clear(&s.kdirs);
	digest(&after);
	if (after.len != digest_before.len ||
	    memcmp(after.data, digest_before.data, after.len) != 0)
		abort();
	buf_clear(&after);
	return 0;
}
