/*
 * certroll-agent serve: the agent's end of the protocol (docs/protocol.md)
 * on standard input and output, started by the orchestrator over SSH.
 *
 * The orchestrator speaks first (HELLO); every later frame is a request
 * that the session table (proto_allowed) must permit in the current state,
 * so, for instance, no RESTART is served before a RENEW, VERIFY or
 * ROLLBACK succeeded in this session (safety invariant 3). A malformed or
 * refused request gets an ERROR reply and the session goes on; a broken
 * stream ends it. Paths in requests are confined: the kubernetes
 * directory must hold a pki/ directory, backups must lie under the backup
 * root, and READ_FILE serves only kubeconfigs and certificates (never
 * keys) under a kubernetes directory of this session.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent.h"
#include "agent_serve_int.h"
#include "clock.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define SERVE_IO_MS (60LL * 1000)

/* --- Path confinement ------------------------------------------------ */

/* path's canonical form, or NULL when it does not exist. To free(). */
static char *
canonical(const char *path)
{
	char buf[PATH_MAX];

	if (path == NULL || path[0] != '/' || realpath(path, buf) == NULL)
		return NULL;
	return xstrdup(buf);
}

/* True when path is root itself or lies below it (both canonical). */
static bool
below(const char *path, const char *root)
{
	size_t n = strlen(root);

	return strncmp(path, root, n) == 0 &&
	    (path[n] == '/' || path[n] == '\0' || strcmp(root, "/") == 0);
}

enum cr_err
serve_kdir(struct serve *s, const char *kdir, char *why, size_t len)
{
	char *real = canonical(kdir), *pki;
	struct stat st;
	bool ok;

	if (real == NULL) {
		snprintf(why, len, "kubernetes directory '%s' does not exist",
		    kdir != NULL ? kdir : "(none)");
		return CR_ERR_STATE;
	}
	pki = file_path_join(real, "pki");
	ok = stat(pki, &st) == 0 && S_ISDIR(st.st_mode);
	free(pki);
	if (!ok) {
		snprintf(why, len,
		    "'%s' has no pki/ directory: not a kubeadm "
		    "kubernetes directory",
		    real);
		free(real);
		return CR_ERR_STATE;
	}
	if (!strv_has(&s->kdirs, real))
		strv_push(&s->kdirs, real);
	free(real);
	return CR_OK;
}

enum cr_err
serve_backup_path(struct serve *s, const char *path, char *why, size_t len)
{
	char *real = canonical(path), *root = canonical(s->backup_root);
	bool ok = real != NULL && root != NULL && below(real, root) &&
	    strcmp(real, root) != 0;

	if (!ok)
		snprintf(why, len,
		    "backup '%s' is not under the backup root "
		    "'%s'",
		    path != NULL ? path : "(none)", s->backup_root);
	free(real);
	free(root);
	return ok ? CR_OK : CR_ERR_STATE;
}

enum cr_err
serve_readable(struct serve *s, const char *path, char *why, size_t len)
{
	char *real = canonical(path);
	size_t i, n;
	bool ok = false;

	if (real != NULL) {
		n = strlen(real);
		for (i = 0; i < s->kdirs.n && !ok; i++)
			ok = below(real, s->kdirs.v[i]);
		ok = ok && n > 5 &&
		    (strcmp(real + n - 5, ".conf") == 0 ||
			strcmp(real + n - 4, ".crt") == 0);
	}
	if (!ok)
		snprintf(why, len,
		    "'%s' is not a kubeconfig or certificate under a "
		    "kubernetes directory of this session",
		    path != NULL ? path : "(none)");
	free(real);
	return ok ? CR_OK : CR_ERR_STATE;
}

/* --- The session ----------------------------------------------------- */

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* The SHA-256 of the running binary, as the orchestrator computes it. */
static enum cr_err
self_sha256(char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf b = BUF_INIT;
	enum cr_err err;

	if ((err = file_read("/proc/self/exe", 256u << 20, &b)) != CR_OK)
		return err;
	if (EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL) != 1)
		err = CR_ERR_TLS;
	else
		hex(md, mdlen, out);
	buf_clear(&b);
	return err;
}

static json_object *
my_hello(void)
{
	static char program[] = PROTO_PROGRAM_AGENT;
	static char version[] = CERTROLL_VERSION;
	static const char *const caps[] = { PROTO_CAP_INSPECT, PROTO_CAP_BACKUP,
		PROTO_CAP_SNAPSHOT, PROTO_CAP_RENEW, PROTO_CAP_VERIFY,
		PROTO_CAP_RESTART, PROTO_CAP_HEALTH, PROTO_CAP_ROLLBACK,
		PROTO_CAP_READ_FILE };
	struct proto_hello h;
	char sha[65] = "", host[256];
	json_object *o;
	size_t i;

	memset(&h, 0, sizeof(h));
	if (self_sha256(sha) != CR_OK)
		log_warn("cannot hash /proc/self/exe");
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	h.protocol = PROTO_VERSION;
	h.program = program;
	h.version = version;
	h.agent_sha256 = sha;
	h.node = host;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		strv_push(&h.capabilities, caps[i]);
	o = proto_hello_encode(&h);
	strv_clear(&h.capabilities);
	return o;
}

/* Answers the orchestrator's HELLO; false ends the session. */
static bool
handshake(struct serve *s, const struct proto_frame *f)
{
	struct proto_hello peer;
	char why[PROTO_WHY_MAX];
	json_object *mine;
	bool ok;

	if (proto_hello_decode(f->body, &peer, why, sizeof(why)) != CR_OK ||
	    proto_hello_check(&peer, why, sizeof(why)) != CR_OK) {
		log_warnx("refusing the session: %s", why);
		if (proto_reply_error(s->conn, &f->hdr, CR_ERR_PROTO, why,
			clock_deadline_ms(SERVE_IO_MS)) != CR_OK)
			log_debug("could not send the refusal");
		return false;
	}
	proto_hello_clear(&peer);
	mine = my_hello();
	ok = proto_reply(s->conn, &f->hdr, mine,
		 clock_deadline_ms(SERVE_IO_MS)) == CR_OK;
	json_object_put(mine);
	return ok;
}

void
serve_progress(void *arg, const char *phase, const char *message)
{
	struct serve *s = arg;
	struct proto_progress p;

	p.phase = xstrdup(phase);
	p.message = xstrdup(message);
	p.percent = -1;
	if (s->req != NULL &&
	    proto_reply_progress(s->conn, s->req, &p,
		clock_deadline_ms(SERVE_IO_MS)) != CR_OK)
		log_debug("progress not delivered");
	free(p.phase);
	free(p.message);
}

/* Serves one request frame; false when the session must end. */
static bool
serve_one(struct serve *s, const struct proto_frame *f)
{
	json_object *reply = NULL;
	char why[1024] = "";
	enum cr_err err;
	bool sent;

	if (!proto_allowed(s->state, f->hdr.type)) {
		proto_refusal(s->state, f->hdr.type, why, sizeof(why));
		log_warnx("refused %s: %s", proto_type_name(f->hdr.type), why);
		return proto_reply_error(s->conn, &f->hdr, CR_ERR_STATE, why,
			   clock_deadline_ms(SERVE_IO_MS)) == CR_OK;
	}
	s->req = &f->hdr;
	err = serve_dispatch(s, f, &reply, why, sizeof(why));
	s->req = NULL;
	s->state = proto_next_state(s->state, f->hdr.type, err == CR_OK);
	if (err == CR_OK)
		sent = proto_reply(s->conn, &f->hdr, reply,
			   clock_deadline_ms(SERVE_IO_MS)) == CR_OK;
	else
		sent = proto_reply_error(s->conn, &f->hdr, err,
			   why[0] != '\0' ? why : cr_strerror(err),
			   clock_deadline_ms(SERVE_IO_MS)) == CR_OK;
	proto_body_wipe(reply);
	json_object_put(reply);
	return sent && f->hdr.type != PROTO_BYE_REQ;
}

static int
loop(struct serve *s)
{
	struct proto_frame f;
	bool go = true;

	while (go) {
		memset(&f, 0, sizeof(f));
		if (proto_recv(s->conn, 0, &f) != CR_OK) {
			log_warnx("session: %s", proto_conn_errmsg(s->conn));
			return AGENT_EXIT_FAIL;
		}
		if (f.hdr.type == PROTO_NONE)
			return AGENT_EXIT_OK; /* the orchestrator went away */
		if (s->state == PROTO_STATE_START &&
		    f.hdr.type == PROTO_HELLO) {
			go = handshake(s, &f);
			s->state = proto_next_state(s->state, PROTO_HELLO, go);
		} else {
			go = serve_one(s, &f);
		}
		proto_frame_clear(&f);
	}
	return s->state == PROTO_STATE_CLOSED ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent serve [--backup-dir DIR] [--kubelet-dir "
	    "DIR]\n"
	    "                            [--lock-wait DURATION]\n\n"
	    "Speaks certroll's protocol on standard input and output. "
	    "'certroll' starts\nthis over SSH; there is no reason to run it "
	    "by hand.\n\n"
	    "Options:\n"
	    "      --backup-dir DIR   the backup root (default %s)\n"
	    "      --kubelet-dir DIR  the kubelet's directory (default %s)\n"
	    "      --lock-wait D      how long a request that changes the "
	    "node waits for\n"
	    "                         another session's to finish (default "
	    "5m); one\n"
	    "                         session at a time backs up, snapshots, "
	    "renews,\n"
	    "                         restarts or rolls back (an flock on the "
	    "backup root);\n"
	    "                         a request whose certroll goes away "
	    "while it waits\n"
	    "                         is dropped\n"
	    "  -h, --help             this text\n",
	    AGENT_BACKUP_DIR, AGENT_KUBELET_DIR);
}

int
agent_cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backup-dir", required_argument, NULL, 'b' },
		{ "kubelet-dir", required_argument, NULL, 'k' },
		{ "lock-wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct proto_transport t;
	struct serve s;
	int64_t wait_s;
	int c, rc;

	memset(&s, 0, sizeof(s));
	s.backup_root = AGENT_BACKUP_DIR;
	s.kubelet_dir = AGENT_KUBELET_DIR;
	s.lock_wait_ms = 5LL * 60 * 1000;
	s.peer_fd = STDIN_FILENO;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'b')
			s.backup_root = optarg;
		else if (c == 'k')
			s.kubelet_dir = optarg;
		else if (c == 'w') {
			if (duration_parse(optarg, &wait_s) != CR_OK ||
			    wait_s < 0)
				return agent_usage("serve",
				    "--lock-wait '%s' is not a duration "
				    "(e.g. 30s, 5m)",
				    optarg);
			s.lock_wait_ms = wait_s * 1000;
		} else if (c == 'h') {
			usage(stdout);
			return AGENT_EXIT_OK;
		} else
			return agent_usage("serve", "unknown option '%s'",
			    argv[optind - 1]);
	}
	if (file_mkdirs(s.backup_root, 0700) != CR_OK)
		log_warn("cannot create the backup root '%s'", s.backup_root);
	t = proto_transport_fd(STDIN_FILENO, STDOUT_FILENO);
	s.conn = proto_conn_new(&t);
	s.state = PROTO_STATE_START;
	rc = loop(&s);
	proto_conn_free(s.conn);
	strv_clear(&s.kdirs);
	return rc;
}
