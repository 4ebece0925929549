/*
 * Agent delivery and the protocol over an SSH channel; see remote.h.
 */
#include "remote.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "clock.h"
#include "log.h"
#include "xmalloc.h"

#define MAX_ARGV 16

struct remote {
	struct ssh_session *s; /* borrowed */
	struct ssh_channel *ch;
	struct proto_conn *conn;
	struct proto_hello hello;
	struct remote_delivery d;
};

char *
remote_agent_path(const char *explicit_path)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (explicit_path != NULL && *explicit_path != '\0')
		return xstrdup(explicit_path);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		log_warn("cannot find the running program to locate "
			 "certroll-agent beside it; name it with --agent");
		return NULL;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	return xasprintf("%s/certroll-agent", self);
}

static enum cr_err
local_sha256(const char *path, char *hex)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	enum cr_err err = CR_ERR_SYS;
	ssize_t n;
	int fd;

	if (ctx == NULL)
		fatalx("EVP_MD_CTX_new: out of memory");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("cannot read the agent '%s' (build it, or name it "
			 "with --agent)",
		    path);
		goto out;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	if (n == -1) {
		log_warn("read '%s'", path);
		goto out;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * (size_t)i, 3, "%02x", md[i]);
	err = CR_OK;
out:
	if (fd != -1)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return err;
}

/* cmd, behind "sudo -n -u USER --" when the inventory says become. */
static void
with_become(const struct remote_opts *o, const char *const cmd[],
    const char **argv)
{
	size_t i = 0, j;

	if (o->become) {
		argv[i++] = "sudo";
		argv[i++] = "-n";
		argv[i++] = "-u";
		argv[i++] = o->become_user != NULL ? o->become_user : "root";
		argv[i++] = "--";
	}
	for (j = 0; cmd[j] != NULL && i < MAX_ARGV - 1; j++)
		argv[i++] = cmd[j];
	argv[i] = NULL;
}

/* The first line of a command's stderr, for a message. */
static void
first_line(const struct ssh_result *r, char *buf, size_t len)
{
	const char *e = buf_cstr(&r->err);

	snprintf(buf, len, "%.*s", (int)strcspn(e, "\n"), e);
	if (buf[0] == '\0')
		snprintf(buf, len, "exit status %d", r->exit_status);
}

/* Runs cmd (with become); logs a failure with what it was for. */
static enum cr_err
run_step(struct ssh_session *s, const struct remote_opts *o,
    const char *const cmd[], const char *what, int64_t deadline)
{
	const char *argv[MAX_ARGV];
	struct ssh_result r = SSH_RESULT_INIT;
	char why[256];
	enum cr_err err;

	with_become(o, cmd, argv);
	if ((err = ssh_exec(s, argv, &r, deadline)) == CR_ERR_SUBPROC) {
		first_line(&r, why, sizeof(why));
		log_warnx("node %s: %s: '%s' failed: %s", ssh_node_name(s),
		    what, cmd[0], why);
	}
	ssh_result_clear(&r);
	return err;
}

/* hex = the node's agent checksum, or "" when it has none. */
static enum cr_err
remote_sha256(struct ssh_session *s, const struct remote_opts *o, char *hex,
    int64_t deadline)
{
	const char *const cmd[] = { "sha256sum", REMOTE_AGENT_PATH, NULL };
	const char *argv[MAX_ARGV];
	struct ssh_result r = SSH_RESULT_INIT;
	char why[256];
	enum cr_err err;

	hex[0] = '\0';
	with_become(o, cmd, argv);
	err = ssh_exec(s, argv, &r, deadline);
	if (err == CR_OK && r.out.len >= 64 &&
	    strspn(buf_cstr(&r.out), "0123456789abcdef") == 64) {
		memcpy(hex, r.out.data, 64);
		hex[64] = '\0';
	} else if (err == CR_ERR_SUBPROC &&
	    strstr(buf_cstr(&r.err), "No such file") != NULL) {
		err = CR_OK;
	} else if (err == CR_OK || err == CR_ERR_SUBPROC) {
		first_line(&r, why, sizeof(why));
		log_warnx("node %s: cannot checksum '%s': %s", ssh_node_name(s),
		    REMOTE_AGENT_PATH, why);
		err = CR_ERR_SUBPROC;
	}
	ssh_result_clear(&r);
	return err;
}

/* Straight into the agent directory over SFTP, then rename. */
static enum cr_err
upload_direct(struct ssh_session *s, const struct remote_opts *o,
    const char *local, const char *name, int64_t deadline)
{
	char *tmp = xasprintf("%s/%s", REMOTE_AGENT_DIR, name);
	const char *const mv[] = { "mv", "-f", "--", tmp, REMOTE_AGENT_PATH,
		NULL };
	enum cr_err err;

	if ((err = ssh_mkdir(s, REMOTE_AGENT_DIR, 0700, deadline)) == CR_OK &&
	    (err = ssh_upload(s, local, tmp, 0700, deadline)) == CR_OK &&
	    (err = run_step(s, o, mv, "installing the agent", deadline)) !=
		CR_OK &&
	    ssh_unlink(s, tmp, deadline) != CR_OK)
		log_warnx("node %s: could not remove '%s'", ssh_node_name(s),
		    tmp);
	free(tmp);
	return err;
}

/*
 * With become the login user cannot write the agent directory: upload
 * into the home directory (SFTP's relative paths), then copy it in as
 * root, make it durable and rename it into place.
 */
static enum cr_err
upload_become(struct ssh_session *s, const struct remote_opts *o,
    const char *local, const char *name, int64_t deadline)
{
	char *tmp = xasprintf("%s/%s", REMOTE_AGENT_DIR, name);
	const char *const make_dir[] = { "mkdir", "-p", REMOTE_AGENT_DIR,
		NULL };
	const char *const mode_dir[] = { "chmod", "0700", REMOTE_AGENT_DIR,
		NULL };
	const char *const cp[] = { "cp", "--", name, tmp, NULL };
	const char *const mode_tmp[] = { "chmod", "0700", tmp, NULL };
	const char *const flush[] = { "sync", "--", tmp, NULL };
	const char *const mv[] = { "mv", "-f", "--", tmp, REMOTE_AGENT_PATH,
		NULL };
	const char *const *const steps[] = { make_dir, mode_dir, cp, mode_tmp,
		flush, mv };
	enum cr_err err;
	size_t i;

	err = ssh_upload(s, local, name, 0700, deadline);
	for (i = 0; err == CR_OK && i < sizeof(steps) / sizeof(steps[0]); i++)
		err = run_step(s, o, steps[i], "installing the agent",
		    deadline);
	if (ssh_unlink(s, name, deadline) != CR_OK)
		log_warnx("node %s: could not remove '~/%s'", ssh_node_name(s),
		    name);
	free(tmp);
	return err;
}

static enum cr_err
upload(struct ssh_session *s, const struct remote_opts *o, const char *local,
    int64_t deadline)
{
	unsigned char rnd[8];
	char name[64];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatalx("RAND_bytes failed");
	snprintf(name, sizeof(name), ".certroll-agent.%02x%02x%02x%02x%02x%02x",
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	if (o->become)
		return upload_become(s, o, local, name, deadline);
	return upload_direct(s, o, local, name, deadline);
}

static enum cr_err
deliver(struct ssh_session *s, const struct remote_opts *o, const char *local,
    struct remote_delivery *d, int64_t deadline)
{
	char after[65];
	enum cr_err err;

	memset(d, 0, sizeof(*d));
	if ((err = local_sha256(local, d->local_sha256)) != CR_OK ||
	    (err = remote_sha256(s, o, d->remote_sha256, deadline)) != CR_OK)
		return err;
	if (strcmp(d->local_sha256, d->remote_sha256) == 0) {
		log_debug("node %s: agent up to date (sha256 %.12s)",
		    ssh_node_name(s), d->local_sha256);
		return CR_OK;
	}
	log_info("node %s: %s the agent (sha256 %.12s)", ssh_node_name(s),
	    d->remote_sha256[0] == '\0' ? "installing" : "updating",
	    d->local_sha256);
	if ((err = upload(s, o, local, deadline)) != CR_OK ||
	    (err = remote_sha256(s, o, after, deadline)) != CR_OK)
		return err;
	d->uploaded = true;
	if (strcmp(after, d->local_sha256) != 0) {
		log_warnx("node %s: the agent's checksum after the upload is "
			  "%s, not %s; not running it. Check the node's disk "
			  "and '%s'",
		    ssh_node_name(s), after[0] ? after : "(missing)",
		    d->local_sha256, REMOTE_AGENT_PATH);
		return CR_ERR_VERIFY;
	}
	return CR_OK;
}

/*
 * The become user goes on the node's command line, which SSH hands to a
 * shell: only a plain user name. ssh_exec() would refuse anything else
 * too, but without saying where it came from and what to do.
 */
static enum cr_err
become_ok(struct ssh_session *s, const struct remote_opts *o)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._-";
	const char *u = o->become_user;
	char *shown, *p;

	if (!o->become || u == NULL ||
	    (u[0] != '\0' && u[0] != '-' && strspn(u, chars) == strlen(u)))
		return CR_OK;
	shown = xstrdup(u); /* one log line: control characters as '?' */
	for (p = shown; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p))
			*p = '?';
	log_warnx("node %s: ansible_become_user '%s' is not a user name: "
		  "certroll runs 'sudo -u USER' on the node and never passes "
		  "shell syntax; fix it in the inventory (letters, digits, "
		  "'.', '_' and '-')",
	    ssh_node_name(s), shown);
	free(shown);
	return CR_ERR_CONFIG;
}

enum cr_err
remote_deliver(struct ssh_session *s, const struct remote_opts *o,
    struct remote_delivery *d, int64_t deadline)
{
	char *local;
	enum cr_err err;

	if ((err = become_ok(s, o)) != CR_OK)
		return err;
	if ((local = remote_agent_path(o->agent_path)) == NULL)
		return CR_ERR_CONFIG;
	err = deliver(s, o, local, d, deadline);
	free(local);
	return err;
}

static ssize_t
chan_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct remote *r = ctx;
	size_t got = 0;
	enum cr_err err;

	err = ssh_channel_read(r->ch, buf, len, &got,
	    timeout_ms < 0 ? 0 : clock_deadline_ms(timeout_ms));
	if (err == CR_OK)
		return (ssize_t)got;
	errno = err == CR_ERR_TIMEOUT ? ETIMEDOUT : ECONNRESET;
	return -1;
}

static ssize_t
chan_write(void *ctx, const void *buf, size_t len, int timeout_ms)
{
	struct remote *r = ctx;
	enum cr_err err;

	err = ssh_channel_write(r->ch, buf, len,
	    timeout_ms < 0 ? 0 : clock_deadline_ms(timeout_ms));
	if (err == CR_OK)
		return (ssize_t)len;
	errno = err == CR_ERR_TIMEOUT ? ETIMEDOUT : ECONNRESET;
	return -1;
}

static void
trace(void *arg, bool sent, const struct proto_hdr *h)
{
	const struct remote *r = arg;

	log_debug("node %s: %s %s #%u, %u bytes", ssh_node_name(r->s),
	    sent ? "sent" : "received", proto_type_name(h->type), h->req_id,
	    h->body_len);
}

/* The agent's stderr, trimmed to one line, for a message. */
static const char *
stderr_line(const struct remote *r, char *buf, size_t len)
{
	const char *e = r->ch != NULL ? ssh_channel_stderr(r->ch) : "";

	snprintf(buf, len, "%.*s", (int)strcspn(e, "\n"), e);
	return buf;
}

static enum cr_err
start(struct remote *r, const struct remote_opts *o, int64_t deadline)
{
	const char *const cmd[] = { REMOTE_AGENT_PATH, "serve", NULL };
	const char *argv[MAX_ARGV];
	struct proto_hello mine = { .protocol = PROTO_VERSION,
		.program = PROTO_PROGRAM_ORCH,
		.version = CERTROLL_VERSION };
	struct proto_transport t = { chan_read, chan_write, NULL, r };
	char line[256];
	enum cr_err err;

	with_become(o, cmd, argv);
	if ((err = ssh_channel_start(r->s, argv, deadline, &r->ch)) != CR_OK)
		return err;
	r->conn = proto_conn_new(&t);
	proto_conn_set_trace(r->conn, trace, r);
	if ((err = proto_handshake(r->conn, &mine, deadline, &r->hello)) !=
	    CR_OK) {
		log_warnx("node %s: the agent did not start: %s%s%s",
		    ssh_node_name(r->s), proto_conn_errmsg(r->conn),
		    *stderr_line(r, line, sizeof(line)) ? "; it said: " : "",
		    line);
		return err;
	}
	if (strcmp(r->hello.agent_sha256, r->d.local_sha256) != 0) {
		log_warnx("node %s: the running agent reports sha256 %s, not "
			  "the delivered %s; refusing to use it",
		    ssh_node_name(r->s), r->hello.agent_sha256,
		    r->d.local_sha256);
		return CR_ERR_VERIFY;
	}
	return CR_OK;
}

enum cr_err
remote_open(struct ssh_session *s, const struct remote_opts *o,
    struct remote **rp)
{
	int64_t deadline = clock_deadline_ms(
	    o->timeout_ms > 0 ? o->timeout_ms : REMOTE_OPEN_TIMEOUT_MS);
	struct remote *r = xcalloc(1, sizeof(*r));
	enum cr_err err;

	*rp = NULL;
	r->s = s;
	if ((err = remote_deliver(s, o, &r->d, deadline)) != CR_OK ||
	    (err = start(r, o, deadline)) != CR_OK) {
		remote_free(r);
		return err;
	}
	log_debug("node %s: agent %s on '%s' ready", ssh_node_name(s),
	    r->hello.version, r->hello.node);
	*rp = r;
	return CR_OK;
}

struct proto_conn *
remote_conn(struct remote *r)
{
	return r->conn;
}

const struct proto_hello *
remote_hello(const struct remote *r)
{
	return &r->hello;
}

const struct remote_delivery *
remote_delivery(const struct remote *r)
{
	return &r->d;
}

const char *
remote_stderr(const struct remote *r)
{
	return r->ch != NULL ? ssh_channel_stderr(r->ch) : "";
}

enum cr_err
remote_close(struct remote *r, int64_t deadline)
{
	json_object *req, *reply = NULL;
	struct ssh_result res = SSH_RESULT_INIT;
	char line[256];
	enum cr_err err;

	if (r == NULL)
		return CR_OK;
	if (proto_conn_broken(r->conn)) { /* said when it broke */
		remote_free(r);
		return CR_ERR_PROTO;
	}
	req = json_object_new_object();
	err = proto_call(r->conn, PROTO_BYE_REQ, req, deadline, &reply);
	json_object_put(req);
	json_object_put(reply);
	if (err != CR_OK)
		log_warnx("node %s: the agent did not answer BYE: %s",
		    ssh_node_name(r->s), proto_conn_errmsg(r->conn));
	else if ((err = ssh_channel_finish(r->ch, &res, deadline)) ==
	    CR_ERR_SUBPROC)
		log_warnx("node %s: the agent exited with status %d%s%s: %s",
		    ssh_node_name(r->s), res.exit_status,
		    res.signal[0] ? ", signal " : "", res.signal,
		    stderr_line(r, line, sizeof(line)));
	ssh_result_clear(&res);
	remote_free(r);
	return err;
}

void
remote_free(struct remote *r)
{
	if (r == NULL)
		return;
	proto_conn_free(r->conn);
	ssh_channel_free(r->ch);
	proto_hello_clear(&r->hello);
	free(r);
}
