/*
 * agent_snapshot: against the scripted gateway (tlsfixture.py), streams
 * that are fine, cut off, carry a wrong or no SHA-256 trailer, an in-stream
 * error, an oversize line or an HTTP error; against a real etcd 3.4 with
 * TLS client authentication, a snapshot that "etcdctl snapshot status"
 * and "snapshot restore" accept, with the revision and keys put before.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent.h"
#include "agent_int.h"
#include "buf.h"
#include "clock.h"
#include "cu_run.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "opsfix.h"
#include "run.h"
#include "xmalloc.h"

#define DB_SIZE (5 * 32768 + 1234) /* the fixture's default */

static char dir[256];

static const char *
path(const char *rel)
{
	return opsfix_path(dir, rel);
}

/* The string at path, or "" when absent (so strstr() can test it). */
static const char *
jtext(json_object *obj, const char *path)
{
	const char *s = jv_str(obj, path);

	return s != NULL ? s : "";
}

static int
suite_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("test_agent_snapshot", LOG_LEVEL_WARN);
	snprintf(dir, sizeof(dir), "%s", cu_tmpdir());
	return opsfix_pki(dir);
}

static int
suite_clean(void)
{
	opsfix_rmtree(dir);
	return 0;
}

/* True if the file's last 32 bytes are the SHA-256 of the rest. */
static bool
trailer_ok(const char *file, size_t *sizep)
{
	struct buf b = BUF_INIT;
	unsigned char sum[32];
	unsigned len = 0;
	bool ok = false;

	if (file_read(file, (size_t)64 * 1024 * 1024, &b) == CR_OK &&
	    b.len > 32 &&
	    EVP_Digest(b.data, b.len - 32, sum, &len, EVP_sha256(), NULL) == 1)
		ok = memcmp(sum, b.data + b.len - 32, 32) == 0;
	*sizep = b.len;
	buf_clear(&b);
	return ok;
}

static const struct stream_case {
	const char *name;
	const char *mode; /* tlsfixture.py --snapshot-mode */
	size_t max_line;  /* 0: the default */
	enum cr_err err;
	const char *why; /* substring of the result's "error" */
} stream_cases[] = {
	{ "good", "good", 0, CR_OK, NULL },
	{ "line_cap_fits", "good", 44000, CR_OK, NULL },
	{ "cut_off", "cut", 0, CR_ERR_PROTO, "connection closed" },
	{ "wrong_trailer", "badtrailer", 0, CR_ERR_VERIFY, "not the SHA-256" },
	{ "no_trailer", "nohash", 0, CR_ERR_VERIFY, "not the SHA-256" },
	{ "in_stream_error", "error", 0, CR_ERR_PROTO,
	    "etcd aborted the snapshot after 32768 bytes: etcdserver: "
	    "snapshot aborted" },
	{ "oversize_line", "oversize", 0, CR_ERR_PROTO,
	    "message 2 is longer than 262144 bytes" },
	{ "line_cap_boundary", "good", 40000, CR_ERR_PROTO, "longer than" },
	{ "http_error", "status503", 0, CR_ERR_PROTO,
	    "etcd answered HTTP 503: {\"error\":\"connection closed\"" },
};

static void
check_saved(const struct stream_case *t, json_object *res, const char *dest)
{
	const char *file = jv_str(res, "file");
	struct stat st;
	int64_t v = 0;
	size_t size = 0;

	CU_ASSERT_CASE(opsfix_dir_entries(dest) == 1, t->name);
	CU_ASSERT_CASE(file != NULL && strncmp(file, dest, strlen(dest)) == 0,
	    t->name);
	if (file == NULL)
		return;
	CU_ASSERT_CASE(strstr(file, "/etcd-snapshot-") != NULL, t->name);
	CU_ASSERT_CASE(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600,
	    t->name);
	CU_ASSERT_CASE(trailer_ok(file, &size), t->name);
	CU_ASSERT_CASE(size == DB_SIZE + 32, t->name);
	CU_ASSERT_CASE(jv_int(res, "db_bytes", &v) && v == DB_SIZE, t->name);
	CU_ASSERT_CASE(jv_int(res, "messages", &v) && v == 7, t->name);
	CU_ASSERT_CASE(jv_int(res, "revision", &v) && v == 7, t->name);
	CU_ASSERT_CASE(strcmp(jtext(res, "member_id"), "42") == 0, t->name);
	CU_ASSERT_CASE(jv_bool(res, "ok"), t->name);
}

static void
run_stream_case(const struct stream_case *t)
{
	const char *args[] = { "--cert", path("pki/etcd/server.crt"), "--key",
		path("pki/etcd/server.key"), "--client-ca",
		path("pki/etcd/ca.crt"), "--snapshot-mode", t->mode, NULL };
	struct bgproc fix = BGPROC_INIT;
	struct agent_snapshot_req req = { .kubernetes_dir = dir };
	json_object *res = NULL;
	char port[16], url[64], dest[300];
	const char *why;
	enum cr_err err;

	snprintf(dest, sizeof(dest), "%s/dest-%s", dir, t->name);
	if (opsfix_tls_fixture(&fix, args, port, sizeof(port)) != 0) {
		CU_FAIL("fixture");
		return;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%s", port);
	req.endpoint = url;
	req.dest_dir = dest;
	req.max_line = t->max_line;
	err = agent_snapshot(&req, &res);
	bgproc_stop(&fix);
	CU_ASSERT_CASE(err == t->err, t->name);
	CU_ASSERT_CASE(res != NULL, t->name);
	if ((why = jv_str(res, "error")) == NULL)
		why = "";
	if (t->why != NULL)
		CU_ASSERT_CASE(strstr(why, t->why) != NULL, t->name);
	if (err != t->err || (t->why != NULL && strstr(why, t->why) == NULL))
		fprintf(stderr, "%s: %s: %s\n", t->name, cr_strerror(err), why);
	if (t->err == CR_OK)
		check_saved(t, res, dest);
	else
		CU_ASSERT_CASE(opsfix_dir_entries(dest) == 0, t->name);
	json_object_put(res);
}

static void
test_snapshot_streams(void)
{
	size_t i;

	for (i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++)
		run_stream_case(&stream_cases[i]);
}

static const struct setup_case {
	const char *name;
	const char *endpoint; /* NULL: from the manifest */
	const char *manifest; /* NULL: none */
	enum cr_err err;
	const char *why;
} setup_cases[] = {
	{ "http_endpoint", "http://127.0.0.1:2379", NULL, CR_ERR_CONFIG,
	    "--endpoint: 'http://127.0.0.1:2379' is not an https URL" },
	{ "malformed_endpoint", "https//127.0.0.1", NULL, CR_ERR_CONFIG,
	    "malformed URL" },
	{ "bad_manifest", NULL, "kind: Pod\nspec: [\n", CR_ERR_CONFIG,
	    "manifests/etcd.yaml':" },
	{ "http_manifest", NULL,
	    "kind: Pod\nmetadata: {name: etcd}\nspec:\n  containers:\n"
	    "  - command: [etcd, --listen-client-urls=http://127.0.0.1:1]\n",
	    CR_ERR_CONFIG, "no https URL" },
};

static void
test_snapshot_setup_errors(void)
{
	const struct setup_case *t;
	struct agent_snapshot_req req = { .dest_dir = NULL };
	json_object *res = NULL;
	char kdir[300], dest[320];
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(setup_cases) / sizeof(setup_cases[0]); i++) {
		t = &setup_cases[i];
		snprintf(kdir, sizeof(kdir), "%s/k-%s", dir, t->name);
		snprintf(dest, sizeof(dest), "%s/dest", kdir);
		if (t->manifest != NULL)
			CU_ASSERT_CASE(opsfix_write(opsfix_path(kdir,
							"manifests/etcd.yaml"),
					   t->manifest) == 0,
			    t->name);
		req.kubernetes_dir = kdir;
		req.endpoint = t->endpoint;
		req.dest_dir = dest;
		CU_ASSERT_CASE(agent_snapshot(&req, &res) == t->err, t->name);
		if ((why = jv_str(res, "error")) == NULL)
			why = "";
		CU_ASSERT_CASE(strstr(why, t->why) != NULL, t->name);
		if (strstr(why, t->why) == NULL)
			fprintf(stderr, "%s: '%s'\n", t->name, why);
		CU_ASSERT_CASE(!file_exists(dest), t->name);
		json_object_put(res);
	}
}

static void
test_snapshot_unreachable(void)
{
	/* A member whose certificate our etcd CA did not sign. */
	const char *args[] = { "--cert", path("other/client.crt"), "--key",
		path("other/client.key"), "--client-ca",
		path("pki/etcd/ca.crt"), NULL };
	struct agent_snapshot_req req = { .kubernetes_dir = dir };
	struct bgproc fix = BGPROC_INIT;
	json_object *res = NULL;
	char url[64], port[16];

	/* Nothing listens. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", bgproc_free_port());
	req.endpoint = url;
	req.dest_dir = path("dest-unreachable");
	CU_ASSERT_EQUAL(agent_snapshot(&req, &res), CR_ERR_SYS);
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "error"), "refused"));
	CU_ASSERT_FALSE(file_exists(req.dest_dir));
	json_object_put(res);
	CU_ASSERT_EQUAL_FATAL(
	    opsfix_tls_fixture(&fix, args, port, sizeof(port)), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%s", port);
	CU_ASSERT_EQUAL(agent_snapshot(&req, &res), CR_ERR_TLS);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(jtext(res, "error"), "certificate verify failed"));
	CU_ASSERT_FALSE(file_exists(req.dest_dir));
	json_object_put(res);
	bgproc_stop(&fix);
}

/* The live suite: a real etcd, data put through its gateway. */
static struct bgproc etcd = BGPROC_INIT;
static char edir[256];
static int eport;

#define KEYS 40

static int
etcd_init(void)
{
	unsigned char b64[32];
	char key[16], body[128];
	int i, pport, ports[2];

	snprintf(edir, sizeof(edir), "%s", cu_tmpdir());
	if (bgproc_free_ports(ports, 2) != 0)
		return -1;
	eport = ports[0];
	pport = ports[1];
	if (opsfix_pki(edir) != 0 ||
	    opsfix_etcd_manifest(edir, eport, pport) != 0 ||
	    opsfix_etcd_start(&etcd, edir, eport, pport) != 0)
		return -1;
	for (i = 0; i < KEYS; i++) {
		snprintf(key, sizeof(key), "key-%02d", i);
		EVP_EncodeBlock(b64, (const unsigned char *)key,
		    (int)strlen(key));
		/* The value is base64("value"). */
		snprintf(body, sizeof(body),
		    "{\"key\":\"%s\",\"value\":\"dmFsdWU=\"}", b64);
		if (opsfix_etcd_post(edir, eport, "/v3/kv/put", body, NULL) !=
		    200)
			return -1;
	}
	return 0;
}

static int
etcd_clean(void)
{
	bgproc_stop(&etcd);
	opsfix_rmtree(edir);
	return 0;
}

/* etcdctl snapshot status FILE -w json -> its JSON object. */
static json_object *
etcdctl_status(const char *file)
{
	const char *argv[] = { "etcdctl", "snapshot", "status", file, "-w",
		"json", NULL };
	struct run_cmd c = RUN_CMD_INIT;
	json_object *doc = NULL;

	c.argv = argv;
	c.timeout_ms = 30000;
	if (run_cmd(&c) != CR_OK ||
	    jv_parse((const char *)c.out.data, c.out.len, &doc, NULL, 0) !=
		CR_OK)
		fprintf(stderr, "etcdctl: %s%s\n", buf_cstr(&c.out),
		    buf_cstr(&c.err));
	run_cmd_clear(&c);
	return doc;
}

static int
etcdctl_restore(const char *file, const char *data_dir)
{
	const char *argv[] = { "etcdctl", "snapshot", "restore", file,
		"--data-dir", data_dir, NULL };
	struct run_cmd c = RUN_CMD_INIT;
	int rc = 0;

	c.argv = argv;
	c.timeout_ms = 30000;
	if (run_cmd(&c) != CR_OK) {
		fprintf(stderr, "etcdctl restore: %s\n", buf_cstr(&c.err));
		rc = -1;
	}
	run_cmd_clear(&c);
	return rc;
}

static void
test_snapshot_real_etcd(void)
{
	struct agent_snapshot_req req = { .kubernetes_dir = edir };
	json_object *res = NULL, *st = NULL;
	int64_t rev = 0, keys = 0, size = 0, db = 0;
	const char *file;

	req.dest_dir = opsfix_path(edir, "backups");
	CU_ASSERT_EQUAL_FATAL(agent_snapshot(&req, &res), CR_OK);
	file = jv_str(res, "file");
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	/* The endpoint came from the manifest. */
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "endpoint"), "127.0.0.1:"));
	st = etcdctl_status(file);
	CU_ASSERT_PTR_NOT_NULL(st);
	CU_ASSERT_TRUE(jv_int(st, "revision", &rev));
	CU_ASSERT_EQUAL(rev, KEYS + 1);
	CU_ASSERT_TRUE(jv_int(st, "totalKey", &keys));
	CU_ASSERT(keys >= KEYS);
	CU_ASSERT_TRUE(jv_int(st, "totalSize", &size));
	CU_ASSERT_TRUE(jv_int(res, "db_bytes", &db));
	CU_ASSERT_EQUAL(size, db);
	CU_ASSERT_TRUE(jv_int(res, "revision", &rev));
	CU_ASSERT_EQUAL(rev, KEYS + 1);
	/* restore insists on the SHA-256 trailer. */
	CU_ASSERT_EQUAL(etcdctl_restore(file, opsfix_path(edir, "restored")),
	    0);
	json_object_put(st);
	json_object_put(res);
}

/*
 * The hand-off before a restart, against the one-member etcd: it leads,
 * and with no other member there is no one to hand off to; the status and
 * member list are read through the real gateway. A member that cannot be
 * reached is an error naming it.
 */
static void
test_hand_off_alone(void)
{
	struct agent_etcd ec;
	char msg[400], why[300];

	CU_ASSERT_EQUAL_FATAL(
	    agent_etcd_init(edir, NULL, &ec, why, sizeof(why)), CR_OK);
	CU_ASSERT_EQUAL(agent_etcd_hand_off(&ec, clock_deadline_ms(10000), msg,
			    sizeof(msg)),
	    CR_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg,
	    "this member leads and no other "
	    "member is started"));
	agent_etcd_clear(&ec);
	CU_ASSERT_EQUAL_FATAL(
	    agent_etcd_init(edir, "https://127.0.0.1:1", &ec, why, sizeof(why)),
	    CR_OK);
	CU_ASSERT_NOT_EQUAL(
	    agent_etcd_hand_off(&ec, clock_deadline_ms(5000), msg, sizeof(msg)),
	    CR_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "https://127.0.0.1:1"));
	agent_etcd_clear(&ec);
}

/* etcd's stream for a database of db_len bytes in blobs of chunk bytes. */
static void
door_stream(struct buf *out, size_t db_len, size_t chunk, bool bad_trailer,
    struct buf *db)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * 256];
	unsigned mdlen = 0;
	size_t i, n;

	for (i = 0; i < db_len; i++)
		buf_putc(db, (char)(i * 7 + 3));
	for (i = 0; i < db_len; i += n) {
		n = db_len - i < chunk ? db_len - i : chunk;
		EVP_EncodeBlock(b64, db->data + i, (int)n);
		buf_printf(out,
		    "{\"result\":{\"remaining_bytes\":\"%zu\",\"blob\":\"%s\"}}"
		    "\n",
		    db_len - i - n + 32, b64);
	}
	EVP_Digest(db->data, db->len, md, &mdlen, EVP_sha256(), NULL);
	md[0] ^= bad_trailer ? 1 : 0;
	buf_put(db, md, mdlen);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	buf_printf(out, "{\"result\":{\"blob\":\"%s\"}}\n", b64);
}

static const struct door_case {
	const char *name;
	size_t db_len, chunk, piece, max_line;
	bool bad_trailer;
	enum cr_err want;
} door_cases[] = {
	{ "whole", 1000, 180, 0, 0, false, CR_OK },
	{ "byte_by_byte", 100, 40, 1, 0, false, CR_OK },
	{ "odd_pieces", 500, 128, 7, 0, false, CR_OK },
	{ "trailer_only", 0, 1, 0, 0, false, CR_ERR_PROTO },
	{ "bad_trailer", 100, 50, 3, 0, true, CR_ERR_VERIFY },
	{ "line_over_cap", 100, 100, 0, 64, false, CR_ERR_PROTO },
};

/* agent_snapshot_parse(): the parser without TLS (agent_int.h's door). */
static void
test_snapshot_door(void)
{
	struct agent_snapshot_stream st;
	struct buf body, db, back;
	char *path = xasprintf("%s/door.db", cu_tmpdir());
	size_t i;
	enum cr_err err;

	for (i = 0; i < sizeof(door_cases) / sizeof(door_cases[0]); i++) {
		const struct door_case *c = &door_cases[i];

		body = (struct buf)BUF_INIT;
		db = (struct buf)BUF_INIT;
		back = (struct buf)BUF_INIT;
		door_stream(&body, c->db_len, c->chunk, c->bad_trailer, &db);
		memset(&st, 0, sizeof(st));
		st.data = body.data;
		st.len = body.len;
		st.piece = c->piece;
		st.max_line = c->max_line;
		st.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CU_ASSERT_FATAL(st.fd != -1);
		err = agent_snapshot_parse(&st);
		close(st.fd);
		CU_ASSERT_CASE(err == c->want, c->name);
		CU_ASSERT_CASE((err == CR_OK) == (st.why[0] == '\0'), c->name);
		if (err == CR_OK) {
			CU_ASSERT_CASE(file_read(path, 1 << 20, &back) ==
				    CR_OK &&
				back.len == db.len &&
				memcmp(back.data, db.data, db.len) == 0 &&
				st.total == db.len && strlen(st.sha256) == 64,
			    c->name);
		}
		buf_clear(&back);
		buf_clear(&db);
		buf_clear(&body);
	}
	free(path);
}

static CU_TestInfo door_tests[] = {
	{ "parse", test_snapshot_door },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo stream_tests[] = {
	{ "streams", test_snapshot_streams },
	{ "setup_errors", test_snapshot_setup_errors },
	{ "unreachable", test_snapshot_unreachable },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo etcd_tests[] = {
	{ "etcdctl_reads_it", test_snapshot_real_etcd },
	{ "hand_off_alone", test_hand_off_alone },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "snapshot_door", .pTests = door_tests },
	{ .pName = "snapshot_stream",
	    .pInitFunc = suite_init,
	    .pCleanupFunc = suite_clean,
	    .pTests = stream_tests },
	{ .pName = "snapshot_etcd",
	    .pInitFunc = etcd_init,
	    .pCleanupFunc = etcd_clean,
	    .pTests = etcd_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
