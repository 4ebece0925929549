/*
 * snapshot: an etcd snapshot through the v3 HTTP/JSON gateway, without
 * etcdctl (lab.md §5). etcd 3.4 answers POST /v3/maintenance/snapshot
 * with newline-delimited JSON, one {"result":{"remaining_bytes","blob"}}
 * per 32 KiB of database, then one message whose blob is the SHA-256 of
 * the database; errors arrive in the stream as {"error":{...}}. The blobs
 * concatenated are exactly what "etcdctl snapshot save" writes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent.h"
#include "agent_int.h"
#include "buf.h"
#include "clock.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "tlsc.h"
#include "xmalloc.h"

#define SNAP_TIMEOUT_MS        ((int64_t)15 * 60 * 1000)
#define SNAP_STATUS_TIMEOUT_MS 10000
#define SNAP_HASH_LEN          32
#define SNAP_PROGRESS_EVERY    ((uint64_t)16 * 1024 * 1024)
#define SNAP_ERR_BODY_MAX      4096

/* The stream being received and written. */
struct snap {
	const struct agent_snapshot_req *req;
	const struct tlsc_resp *resp; /* status is known before the body */
	int fd;
	size_t max_line;
	struct buf line;    /* the partial line so far */
	struct buf errbody; /* the body of a non-200 answer */
	struct buf blob;    /* one decoded blob */
	EVP_MD_CTX *md;
	uint8_t tail[SNAP_HASH_LEN]; /* the newest bytes, not yet hashed */
	size_t tail_len;
	uint64_t total;    /* bytes written */
	uint64_t expected; /* database size announced by the first message */
	uint64_t next_progress;
	size_t messages;
	char why[300]; /* the first failure, for the operator */
};

static void snap_fail(struct snap *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
snap_fail(struct snap *s, const char *fmt, ...)
{
	va_list ap;

	if (s->why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static void progress(const struct agent_snapshot_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
progress(const struct agent_snapshot_req *req, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (req->progress == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	req->progress(req->progress_arg, "snapshot", msg);
}

/* Asks the member's status first: it proves the gateway works and gives
 * the revision the snapshot holds at least. */
static enum cr_err
member_status(struct agent_etcd *ec, json_object *res, char *why, size_t whylen)
{
	json_object *doc = NULL;
	int64_t rev;
	enum cr_err err;

	err = agent_etcd_call(ec, "/v3/maintenance/status", "{}",
	    clock_deadline_ms(SNAP_STATUS_TIMEOUT_MS), &doc);
	if (err != CR_OK) {
		snprintf(why, whylen, "%s", ec->why);
	} else {
		if (jv_int(doc, "header.revision", &rev))
			jv_add_int(res, "revision", rev);
		jv_add_str(res, "member_id", jv_str(doc, "header.member_id"));
	}
	json_object_put(doc);
	return err;
}

/* Hashes all but the newest SNAP_HASH_LEN bytes seen: those may be the
 * trailer. */
static void
hash_lagged(struct snap *s, const uint8_t *p, size_t n)
{
	size_t push;

	if (s->tail_len + n <= SNAP_HASH_LEN) {
		memcpy(s->tail + s->tail_len, p, n);
		s->tail_len += n;
		return;
	}
	push = s->tail_len + n - SNAP_HASH_LEN;
	if (push <= s->tail_len) {
		EVP_DigestUpdate(s->md, s->tail, push);
		memmove(s->tail, s->tail + push, s->tail_len - push);
		memcpy(s->tail + s->tail_len - push, p, n);
	} else {
		EVP_DigestUpdate(s->md, s->tail, s->tail_len);
		EVP_DigestUpdate(s->md, p, push - s->tail_len);
		memcpy(s->tail, p + (push - s->tail_len), SNAP_HASH_LEN);
	}
	s->tail_len = SNAP_HASH_LEN;
}

static enum cr_err
snap_write(struct snap *s, const uint8_t *p, size_t n)
{
	ssize_t w;
	size_t off = 0;

	while (off < n) {
		if ((w = write(s->fd, p + off, n - off)) == -1) {
			if (errno == EINTR)
				continue;
			snap_fail(s, "write snapshot: %s", strerror(errno));
			return CR_ERR_SYS;
		}
		off += (size_t)w;
	}
	hash_lagged(s, p, n);
	s->total += n;
	if (s->total >= s->next_progress) {
		progress(s->req, "received %llu of %llu KiB",
		    (unsigned long long)(s->total >> 10),
		    (unsigned long long)(s->expected >> 10));
		s->next_progress = s->total + SNAP_PROGRESS_EVERY;
	}
	return CR_OK;
}

static enum cr_err
blob_decode(struct snap *s, const char *b64, size_t len)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int out = 0, fin = 0;
	bool ok;

	if (ctx == NULL || len > INT32_MAX)
		fatalx("base64 decoder");
	buf_reset(&s->blob);
	buf_reserve(&s->blob, len / 4 * 3 + 3);
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, s->blob.data, &out,
		 (const unsigned char *)b64, (int)len) >= 0 &&
	    EVP_DecodeFinal(ctx, s->blob.data + out, &fin) == 1;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok) {
		snap_fail(s, "message %zu: blob is not base64", s->messages);
		return CR_ERR_PROTO;
	}
	s->blob.len = (size_t)out + (size_t)fin;
	return CR_OK;
}

/* The error etcd put in the stream, as an operator reads it. */
static void
stream_error(struct snap *s, json_object *doc)
{
	const char *msg = jv_str(doc, "error.message");

	if (msg == NULL)
		msg = jv_str(doc, "error");
	if (msg == NULL)
		msg = jv_to_string(jv_path(doc, "error"));
	snap_fail(s, "etcd aborted the snapshot after %llu bytes: %s",
	    (unsigned long long)s->total, msg);
}

/* One message of the stream. */
static enum cr_err
snap_message(struct snap *s, const char *p, size_t len)
{
	json_object *doc = NULL;
	const char *blob;
	int64_t remaining;
	char jerr[80];
	enum cr_err err = CR_ERR_PROTO;

	s->messages++;
	if (jv_parse(p, len, &doc, jerr, sizeof(jerr)) != CR_OK)
		snap_fail(s, "message %zu is not JSON: %s", s->messages, jerr);
	else if (jv_path(doc, "error") != NULL)
		stream_error(s, doc);
	else if ((blob = jv_str(doc, "result.blob")) == NULL)
		snap_fail(s, "message %zu has no result.blob", s->messages);
	else if ((err = blob_decode(s, blob, strlen(blob))) == CR_OK) {
		if (s->messages == 1 &&
		    jv_int(doc, "result.remaining_bytes", &remaining) &&
		    remaining >= 0)
			s->expected = (uint64_t)remaining + s->blob.len;
		err = snap_write(s, s->blob.data, s->blob.len);
	}
	json_object_put(doc);
	return err;
}

static bool
blank(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\r' && p[i] != '\t')
			return false;
	return true;
}

/* Appends to the partial line, refusing one longer than max_line. */
static enum cr_err
line_add(struct snap *s, const uint8_t *p, size_t n)
{
	if (s->line.len + n > s->max_line) {
		snap_fail(s,
		    "message %zu is longer than %zu bytes; not an etcd "
		    "snapshot stream",
		    s->messages + 1, s->max_line);
		return CR_ERR_PROTO;
	}
	buf_put(&s->line, p, n);
	return CR_OK;
}

static enum cr_err
line_flush(struct snap *s)
{
	enum cr_err err = CR_OK;

	if (!blank(s->line.data, s->line.len))
		err = snap_message(s, (const char *)s->line.data, s->line.len);
	buf_reset(&s->line);
	return err;
}

/* tlsc's body callback: splits the stream into lines. */
static enum cr_err
snap_body(void *arg, const void *data, size_t len)
{
	struct snap *s = arg;
	const uint8_t *p = data, *nl;
	size_t n;
	enum cr_err err;

	if (s->resp->status != 200) {
		n = SNAP_ERR_BODY_MAX - s->errbody.len;
		buf_put(&s->errbody, p, len < n ? len : n);
		return CR_OK;
	}
	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		if ((err = line_add(s, p, n)) != CR_OK)
			return err;
		if (nl != NULL && (err = line_flush(s)) != CR_OK)
			return err;
		n += nl != NULL ? 1 : 0;
		p += n;
		len -= n;
	}
	return CR_OK;
}

/* After the stream: the last 32 bytes must be sha256(everything else). */
static enum cr_err
snap_check(struct snap *s, char *hex, size_t hexlen)
{
	uint8_t sum[EVP_MAX_MD_SIZE];
	unsigned sumlen = 0;
	size_t i;

	if (s->total <= SNAP_HASH_LEN) {
		snap_fail(s,
		    "the stream ended after %llu bytes, before any "
		    "data and its SHA-256",
		    (unsigned long long)s->total);
		return CR_ERR_PROTO;
	}
	EVP_DigestFinal_ex(s->md, sum, &sumlen);
	if (sumlen != SNAP_HASH_LEN || memcmp(sum, s->tail, sumlen) != 0) {
		snap_fail(s,
		    "the last 32 bytes are not the SHA-256 of the %llu bytes "
		    "before them: the snapshot is incomplete or damaged",
		    (unsigned long long)(s->total - SNAP_HASH_LEN));
		return CR_ERR_VERIFY;
	}
	for (i = 0; i < sumlen && 2 * i + 2 < hexlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	return CR_OK;
}

/* The end of a 200 answer: its last line, then the trailer check. */
static enum cr_err
snap_finish(struct snap *s, char *hex, size_t hexlen)
{
	enum cr_err err = CR_OK;

	if (s->line.len > 0)
		err = line_flush(s);
	if (err == CR_OK)
		err = snap_check(s, hex, hexlen);
	return err;
}

#define SNAP_PREFIX      "etcd-snapshot-"
#define SNAP_TEMP_PREFIX "." SNAP_PREFIX

bool
agent_snapshot_file(const char *name)
{
	size_t len = strlen(name);

	if (strncmp(name, SNAP_TEMP_PREFIX, strlen(SNAP_TEMP_PREFIX)) == 0)
		return true;
	return strncmp(name, SNAP_PREFIX, strlen(SNAP_PREFIX)) == 0 &&
	    len > strlen(SNAP_PREFIX) + 3 && strcmp(name + len - 3, ".db") == 0;
}

static enum cr_err
open_temp(const char *dest, char **tmpp, int *fdp, char *why, size_t whylen)
{
	/* mkstemp(3) replaces the six X's with a unique suffix. */
	char *tmp = xasprintf("%s/" SNAP_TEMP_PREFIX "XXXXXX", dest);
	int fd;

	if (file_mkdirs(dest, 0700) != CR_OK) {
		snprintf(why, whylen, "create '%s': %s", dest, strerror(errno));
		free(tmp);
		return CR_ERR_SYS;
	}
	if ((fd = mkstemp(tmp)) == -1 || fchmod(fd, 0600) == -1) {
		snprintf(why, whylen, "create a file in '%s': %s", dest,
		    strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return CR_ERR_SYS;
	}
	*tmpp = tmp;
	*fdp = fd;
	return CR_OK;
}

/* fsync, then rename to a name no other snapshot has, then fsync dir. */
static enum cr_err
place(struct snap *s, const char *tmp, const char *dest, char **pathp)
{
	char stamp[32], *path = NULL;
	time_t now = clock_now();
	struct tm tm;
	int i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (fsync(s->fd) == -1) {
		snap_fail(s, "fsync snapshot: %s", strerror(errno));
		return CR_ERR_SYS;
	}
	for (i = 1; i < 100; i++) {
		free(path);
		path = i == 1 ?
		    xasprintf("%s/" SNAP_PREFIX "%s.db", dest, stamp) :
		    xasprintf("%s/" SNAP_PREFIX "%s-%d.db", dest, stamp, i);
		if (!file_exists(path))
			break;
	}
	if (rename(tmp, path) == -1 || file_fsync_dir(dest) != CR_OK) {
		snap_fail(s, "rename to '%s': %s", path, strerror(errno));
		free(path);
		return CR_ERR_SYS;
	}
	*pathp = path;
	return CR_OK;
}

/* Receives the stream into s->fd and checks it. */
static enum cr_err
receive(struct snap *s, const struct agent_etcd *ec, int64_t deadline,
    char *hex, size_t hexlen)
{
	struct tlsc_opts o = agent_etcd_opts(ec, deadline);
	struct tlsc_req rq = TLSC_REQ_INIT;
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc_diag d;
	enum cr_err err;

	rq.method = "POST";
	rq.path = "/v3/maintenance/snapshot";
	rq.body = "{}";
	rq.body_len = 2;
	rq.on_body = snap_body;
	rq.on_body_arg = s;
	s->resp = &rs;
	err = tlsc_fetch(&o, &rq, &rs, &d);
	if (err == CR_OK && rs.status != 200) {
		err = CR_ERR_PROTO;
		snap_fail(s, "etcd answered HTTP %d: %s", rs.status,
		    buf_cstr(&s->errbody));
	}
	if (err == CR_OK)
		err = snap_finish(s, hex, hexlen);
	if (err != CR_OK)
		snap_fail(s, "%s: %s (after %llu bytes)", ec->url, d.msg,
		    (unsigned long long)s->total);
	s->resp = NULL;
	tlsc_resp_clear(&rs);
	return err;
}

static void
snap_init(struct snap *s, const struct agent_snapshot_req *req)
{
	memset(s, 0, sizeof(*s));
	s->req = req;
	s->fd = -1;
	s->max_line = req->max_line != 0 ? req->max_line :
					   AGENT_SNAPSHOT_MAX_LINE;
	if ((s->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		fatalx("sha256 context");
}

static void
snap_clear(struct snap *s)
{
	buf_clear(&s->line);
	buf_clear(&s->errbody);
	buf_clear(&s->blob);
	EVP_MD_CTX_free(s->md);
	if (s->fd != -1)
		close(s->fd);
}

static void
add_stats(json_object *res, const struct snap *s, const char *hex, int64_t t0)
{
	jv_add_int(res, "db_bytes", (int64_t)(s->total - SNAP_HASH_LEN));
	jv_add_int(res, "size", (int64_t)s->total);
	jv_add_str(res, "sha256", hex);
	jv_add_int(res, "messages", (int64_t)s->messages);
	jv_add_int(res, "duration_ms", clock_mono_ms() - t0);
}

/* Takes the snapshot into dest; *pathp is the file on success. */
static enum cr_err
take(struct snap *s, struct agent_etcd *ec, const char *dest, json_object *res,
    char **pathp)
{
	int64_t t0 = clock_mono_ms();
	int64_t timeout = s->req->timeout_ms > 0 ? s->req->timeout_ms :
						   SNAP_TIMEOUT_MS;
	char *tmp = NULL, hex[2 * SNAP_HASH_LEN + 1] = "";
	enum cr_err err;

	if ((err = member_status(ec, res, s->why, sizeof(s->why))) != CR_OK ||
	    (err = open_temp(dest, &tmp, &s->fd, s->why, sizeof(s->why))) !=
		CR_OK)
		return err;
	progress(s->req, "streaming from %s into '%s'", ec->url, dest);
	if ((err = receive(s, ec, clock_deadline_ms(timeout), hex,
		 sizeof(hex))) == CR_OK &&
	    (err = place(s, tmp, dest, pathp)) == CR_OK)
		add_stats(res, s, hex, t0);
	if (err != CR_OK)
		unlink(tmp);
	free(tmp);
	return err;
}

enum cr_err
agent_snapshot(const struct agent_snapshot_req *req, json_object **resultp)
{
	const char *kdir = req->kubernetes_dir != NULL ? req->kubernetes_dir :
							 AGENT_KUBERNETES_DIR;
	const char *dest = req->dest_dir != NULL ? req->dest_dir :
						   AGENT_BACKUP_DIR;
	struct agent_etcd ec;
	struct snap s;
	json_object *res = json_object_new_object();
	char *path = NULL;
	enum cr_err err;

	memset(&ec, 0, sizeof(ec));
	snap_init(&s, req);
	if ((err = agent_etcd_init(kdir, req->endpoint, &ec, s.why,
		 sizeof(s.why))) == CR_OK) {
		jv_add_str(res, "endpoint", ec.url);
		err = take(&s, &ec, dest, res, &path);
	}
	jv_add_bool(res, "ok", err == CR_OK);
	jv_add_str(res, "file", path);
	if (err != CR_OK) {
		log_warnx("etcd snapshot: %s", s.why);
		jv_add_str(res, "error", s.why);
	} else
		progress(req, "saved '%s'", path);
	free(path);
	snap_clear(&s);
	agent_etcd_clear(&ec);
	*resultp = res;
	return err;
}

/*
 * The door of agent_int.h: the body of a 200 answer handed over in pieces
 * through the same callback and end check that receive() uses, so only
 * the TLS connection is left out.
 */
enum cr_err
agent_snapshot_parse(struct agent_snapshot_stream *st)
{
	struct agent_snapshot_req req = { .max_line = st->max_line };
	struct tlsc_resp ok = TLSC_RESP_INIT;
	size_t off, n, piece = st->piece != 0 ? st->piece : st->len;
	struct snap s;
	enum cr_err err = CR_OK;

	snap_init(&s, &req);
	ok.status = 200;
	s.resp = &ok;
	s.fd = st->fd;
	for (off = 0; off < st->len && err == CR_OK; off += n) {
		n = st->len - off < piece ? st->len - off : piece;
		err = snap_body(&s, st->data + off, n);
	}
	st->sha256[0] = '\0';
	if (err == CR_OK)
		err = snap_finish(&s, st->sha256, sizeof(st->sha256));
	st->total = s.total;
	st->expected = s.expected;
	st->messages = s.messages;
	snprintf(st->why, sizeof(st->why), "%s", s.why);
	s.fd = -1; /* the caller's */
	snap_clear(&s);
	return err;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent snapshot [--dest-dir DIR] [--endpoint URL]\n"
	    "           [--kubernetes-dir DIR] [--timeout DURATION] "
	    "[-o text|json]\n\n"
	    "Saves a snapshot of the local etcd member through its v3 gateway "
	    "(POST\n/v3/maintenance/snapshot), presenting "
	    "pki/etcd/healthcheck-client.crt and\nverifying the member against "
	    "pki/etcd/ca.crt. The stream goes straight to\ndisk, is checked "
	    "against the SHA-256 etcd appends, and lands atomically as\n"
	    "DIR/etcd-snapshot-<UTC time>.db (mode 0600). The file is what "
	    "'etcdctl\nsnapshot save' writes: 'etcdctl snapshot status' and "
	    "'snapshot restore'\nread it. etcdctl is not needed. On failure "
	    "nothing is left behind.\n\n"
	    "Options:\n"
	    "  --dest-dir DIR        where the file goes (default %s)\n"
	    "  --endpoint URL        the member to ask (default: the loopback "
	    "URL of\n"
	    "                        --listen-client-urls in "
	    "manifests/etcd.yaml, else\n"
	    "                        https://127.0.0.1:2379)\n"
	    "  --kubernetes-dir DIR  kubeadm's directory (default %s)\n"
	    "  --timeout DURATION    give up after this long (default 15m)\n"
	    "  -o, --output FORMAT   text (default) or json\n"
	    "  -h, --help            this text\n\n"
	    "Examples:\n"
	    "  certroll-agent snapshot\n"
	    "  certroll-agent snapshot --dest-dir /var/backups/etcd -o json\n"
	    "  certroll-agent snapshot --endpoint https://10.0.0.11:2379 "
	    "--timeout 30m\n\n"
	    "Exit status: 0 saved, 1 failed, 2 usage error.\n",
	    AGENT_BACKUP_DIR, AGENT_KUBERNETES_DIR);
}

static int
print_result(json_object *res, bool json, enum cr_err err)
{
	int64_t rev = 0, db = 0;

	if (json)
		printf("%s\n", jv_to_pretty(res));
	else if (err == CR_OK) {
		jv_int(res, "revision", &rev);
		jv_int(res, "db_bytes", &db);
		printf("saved %s\n  %lld bytes of data + SHA-256, revision "
		       "%lld, from %s\n  check: etcdctl snapshot status %s\n",
		    jv_str(res, "file"), (long long)db, (long long)rev,
		    jv_str(res, "endpoint"), jv_str(res, "file"));
	}
	return err == CR_OK ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
}

int
agent_cmd_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dest-dir", required_argument, NULL, 'd' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "kubernetes-dir", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_snapshot_req req = { .progress = agent_ops_progress_log };
	json_object *res = NULL;
	bool json = false;
	enum cr_err err;
	int c, rc = AGENT_EXIT_OK;

	optind = 0;
	while (rc == AGENT_EXIT_OK &&
	    (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			req.dest_dir = optarg;
			break;
		case 'e':
			req.endpoint = optarg;
			break;
		case 'k':
			req.kubernetes_dir = optarg;
			break;
		case 't':
			rc = agent_ops_opt_duration(argv[0], "--timeout",
			    optarg, &req.timeout_ms);
			break;
		case 'o':
			rc = agent_ops_opt_output(argv[0], optarg, &json);
			break;
		case 'h':
			usage(stdout);
			return AGENT_EXIT_OK;
		default:
			return agent_usage(argv[0], "unknown option");
		}
	}
	if (rc != AGENT_EXIT_OK)
		return rc;
	if (optind != argc)
		return agent_usage(argv[0], "unexpected argument '%s'",
		    argv[optind]);
	err = agent_snapshot(&req, &res);
	rc = print_result(res, json, err);
	json_object_put(res);
	return rc;
}
