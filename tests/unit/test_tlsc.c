/*
 * tlsc against live servers on loopback: a scripted Python TLS server
 * (tests/support/tlsfixture.py) for every body framing, malformed and
 * truncated responses and stalls, with certificates made by the openssl
 * CLI; the served serial and expiry are cross-checked with "openssl x509".
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgproc.h"
#include "buf.h"
#include "clock.h"
#include "cu_run.h"
#include "opsfix.h"
#include "run.h"
#include "timefmt.h"
#include "tlsc.h"

static char dir[256];
static struct bgproc plain = BGPROC_INIT;  /* no client certificate asked */
static struct bgproc mutual = BGPROC_INIT; /* client certificate required */
static struct bgproc stuck = BGPROC_INIT;  /* never completes a handshake */
static char plain_port[16], mutual_port[16], stuck_port[16];

static const char *
path(const char *rel)
{
	return opsfix_path(dir, rel);
}

static int
suite_init(void)
{
	const char *plain_args[] = { "--cert", NULL, "--key", NULL, NULL };
	const char *mutual_args[] = { "--cert", NULL, "--key", NULL,
		"--client-ca", NULL, NULL };
	const char *stuck_args[] = { "--cert", NULL, "--key", NULL,
		"--stall-handshake", NULL };

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s", cu_tmpdir());
	if (opsfix_pki(dir) != 0)
		return -1;
	plain_args[1] = mutual_args[1] = stuck_args[1] = path(
	    "pki/apiserver.crt");
	plain_args[3] = mutual_args[3] = stuck_args[3] = path(
	    "pki/apiserver.key");
	mutual_args[5] = path("pki/ca.crt");
	if (opsfix_tls_fixture(&plain, plain_args, plain_port,
		sizeof(plain_port)) != 0 ||
	    opsfix_tls_fixture(&mutual, mutual_args, mutual_port,
		sizeof(mutual_port)) != 0 ||
	    opsfix_tls_fixture(&stuck, stuck_args, stuck_port,
		sizeof(stuck_port)) != 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	bgproc_stop(&plain);
	bgproc_stop(&mutual);
	bgproc_stop(&stuck);
	opsfix_rmtree(dir);
	return 0;
}

/* Options for the plain server, verified against the cluster CA. */
static struct tlsc_opts
opts_for(const char *port)
{
	struct tlsc_opts o = TLSC_OPTS_INIT;

	o.host = "127.0.0.1";
	o.port = port;
	o.ca_file = path("pki/ca.crt");
	o.deadline = clock_deadline_ms(10000);
	return o;
}

static enum cr_err
get(const struct tlsc_opts *o, const char *p, struct tlsc_resp *rs,
    struct tlsc_diag *d)
{
	struct tlsc_req rq = TLSC_REQ_INIT;

	rq.path = p;
	return tlsc_fetch(o, &rq, rs, d);
}

static const struct body_case {
	const char *path;
	enum cr_err err;
	int status;
	const char *body;
	bool chunked;
} body_cases[] = {
	{ "/cl", CR_OK, 200, "hello, content-length", false },
	{ "/chunked", CR_OK, 200, "hello, chunked", true },
	{ "/close", CR_OK, 200, "until close", false },
	{ "/empty", CR_OK, 204, "", false },
	{ "/interim", CR_OK, 200, "ok", false },
	{ "/missing", CR_OK, 404, "", false },
	{ "/cut-chunked", CR_ERR_PROTO, 200, NULL, true },
	{ "/cut-length", CR_ERR_PROTO, 200, NULL, false },
	{ "/bad-chunk", CR_ERR_PROTO, 200, NULL, true },
	{ "/bad-chunk-crlf", CR_ERR_PROTO, 200, NULL, true },
	{ "/bad-status", CR_ERR_PROTO, 0, NULL, false },
	{ "/not-http", CR_ERR_PROTO, 0, NULL, false },
	{ "/bad-te", CR_ERR_PROTO, 200, NULL, false },
	{ "/bad-length", CR_ERR_PROTO, 200, NULL, false },
	{ "/two-lengths", CR_ERR_PROTO, 200, NULL, false },
	{ "/huge-header", CR_ERR_PROTO, 0, NULL, false },
	{ "/no-response", CR_ERR_PROTO, 0, NULL, false },
	{ "/big", CR_ERR_PROTO, 200, NULL, true }, /* over the 1 MiB cap */
};

static void
test_tlsc_bodies(void)
{
	struct tlsc_opts o = opts_for(plain_port);
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc_diag d;
	const struct body_case *t;
	size_t i;
	enum cr_err err;

	for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		t = &body_cases[i];
		err = get(&o, t->path, &rs, &d);
		CU_ASSERT_CASE(err == t->err, t->path);
		if (err != t->err)
			fprintf(stderr, "%s: %s (%s)\n", t->path,
			    cr_strerror(err), d.msg);
		CU_ASSERT_CASE(err == CR_OK || d.msg[0] != '\0', t->path);
		if (t->status != 0)
			CU_ASSERT_CASE(rs.status == t->status, t->path);
		CU_ASSERT_CASE(rs.chunked == t->chunked, t->path);
		if (t->body != NULL)
			CU_ASSERT_CASE(strcmp(buf_cstr(&rs.body), t->body) == 0,
			    t->path);
		tlsc_resp_clear(&rs);
	}
}

struct sink {
	size_t total;
	size_t calls;
	size_t stop_after; /* 0: never */
	bool all_b;
};

static enum cr_err
sink_cb(void *arg, const void *data, size_t len)
{
	struct sink *s = arg;
	const char *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != 'b')
			s->all_b = false;
	s->total += len;
	s->calls++;
	if (s->stop_after != 0 && s->total >= s->stop_after)
		return CR_ERR_CANCELED;
	return CR_OK;
}

static void
test_tlsc_streams_body(void)
{
	struct tlsc_opts o = opts_for(plain_port);
	struct tlsc_req rq = TLSC_REQ_INIT;
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct sink s = { .all_b = true };
	struct tlsc_diag d;

	rq.path = "/big";
	rq.on_body = sink_cb;
	rq.on_body_arg = &s;
	CU_ASSERT_EQUAL(tlsc_fetch(&o, &rq, &rs, &d), CR_OK);
	CU_ASSERT_EQUAL(s.total, 1100000);
	CU_ASSERT_EQUAL(rs.body_len, 1100000);
	CU_ASSERT(s.calls > 1);
	CU_ASSERT_TRUE(s.all_b);
	CU_ASSERT_EQUAL(rs.body.len, 0);
	tlsc_resp_clear(&rs);

	/* The receiver's error stops the transfer and is returned. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 100000;
	o.deadline = clock_deadline_ms(10000);
	CU_ASSERT_EQUAL(tlsc_fetch(&o, &rq, &rs, &d), CR_ERR_CANCELED);
	CU_ASSERT(s.total < 1100000);
	tlsc_resp_clear(&rs);
}

static void
test_tlsc_post(void)
{
	struct tlsc_opts o = opts_for(plain_port);
	struct tlsc_req rq = TLSC_REQ_INIT;
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc_diag d;
	char want[64];

	rq.method = "POST";
	rq.path = "/echo";
	rq.body = "{\"a\":1}";
	rq.body_len = 7;
	CU_ASSERT_EQUAL(tlsc_fetch(&o, &rq, &rs, &d), CR_OK);
	CU_ASSERT_EQUAL(rs.status, 200);
	CU_ASSERT_STRING_EQUAL(rs.content_type, "application/json");
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf_cstr(&rs.body), "\"method\": \"POST\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&rs.body), "\"len\": 7"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&rs.body),
	    "\"content_type\": \"application/json\""));
	snprintf(want, sizeof(want), "\"host\": \"127.0.0.1:%s\"", plain_port);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&rs.body), want));
	tlsc_resp_clear(&rs);
}

static const struct verify_case {
	const char *name;
	const char *ca;          /* relative to dir; NULL: none */
	const char *server_name; /* NULL: the host */
	const char *diag;        /* substring of the diagnostic */
	enum cr_err err;
	bool insecure;
	bool verified;
} verify_cases[] = {
	{ "right_ca", "pki/ca.crt", NULL, "", CR_OK, false, true },
	{ "dns_san", "pki/ca.crt", "kubernetes", "", CR_OK, false, true },
	{ "wrong_ca", "other/ca.crt", NULL, "certificate verify failed",
	    CR_ERR_TLS, false, false },
	{ "wrong_name", "pki/ca.crt", "etcd.example",
	    "certificate verify failed", CR_ERR_TLS, false, false },
	{ "wrong_ip", "pki/ca.crt", "10.1.2.3", "IP address mismatch",
	    CR_ERR_TLS, false, false },
	{ "insecure", "other/ca.crt", NULL, "", CR_OK, true, false },
	{ "no_ca", NULL, NULL, "explicitly", CR_ERR_CONFIG, false, false },
	{ "missing_ca", "pki/nope.crt", NULL,
	    "nope.crt': No such file or directory", CR_ERR_CONFIG, false,
	    false },
};

static void
test_tlsc_verify(void)
{
	struct tlsc_opts o;
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc_diag d;
	const struct verify_case *t;
	size_t i;
	enum cr_err err;

	for (i = 0; i < sizeof(verify_cases) / sizeof(verify_cases[0]); i++) {
		t = &verify_cases[i];
		o = opts_for(plain_port);
		o.ca_file = t->ca != NULL ? path(t->ca) : NULL;
		o.server_name = t->server_name;
		o.insecure = t->insecure;
		err = get(&o, "/cl", &rs, &d);
		CU_ASSERT_CASE(err == t->err, t->name);
		CU_ASSERT_CASE(strstr(d.msg, t->diag) != NULL, t->name);
		if (err != t->err || strstr(d.msg, t->diag) == NULL)
			fprintf(stderr, "%s: %s: %s\n", t->name,
			    cr_strerror(err), d.msg);
		if (err == CR_OK) {
			CU_ASSERT_CASE(rs.peer.verified == t->verified,
			    t->name);
			CU_ASSERT_CASE(rs.status == 200, t->name);
		}
		tlsc_resp_clear(&rs);
	}
}

static const struct client_case {
	const char *name;
	const char *cert; /* NULL: none */
	const char *key;
	enum cr_err err;
	const char *diag;
} client_cases[] = {
	{ "none", NULL, NULL, CR_ERR_TLS, "requires a client certificate" },
	{ "untrusted", "other/client.crt", "other/client.key", CR_ERR_TLS, "" },
	{ "trusted", "pki/apiserver-kubelet-client.crt",
	    "pki/apiserver-kubelet-client.key", CR_OK, "" },
	{ "key_mismatch", "pki/apiserver-kubelet-client.crt",
	    "other/client.key", CR_ERR_CONFIG, "does not match" },
	{ "missing_key", "pki/apiserver-kubelet-client.crt", "pki/nope.key",
	    CR_ERR_CONFIG, "client key '" },
	{ "garbage_cert", "pki/ca.key", "pki/ca.key", CR_ERR_CONFIG,
	    "client certificate '" },
};

static void
test_tlsc_client_cert(void)
{
	struct tlsc_opts o;
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc_diag d;
	const struct client_case *t;
	size_t i;
	enum cr_err err;

	for (i = 0; i < sizeof(client_cases) / sizeof(client_cases[0]); i++) {
		t = &client_cases[i];
		o = opts_for(mutual_port);
		o.cert_file = t->cert != NULL ? path(t->cert) : NULL;
		o.key_file = t->key != NULL ? path(t->key) : NULL;
		err = get(&o, "/cl", &rs, &d);
		CU_ASSERT_CASE(err == t->err, t->name);
		CU_ASSERT_CASE(strstr(d.msg, t->diag) != NULL, t->name);
		if (err != t->err || strstr(d.msg, t->diag) == NULL)
			fprintf(stderr, "%s: %s: %s\n", t->name,
			    cr_strerror(err), d.msg);
		if (t->err == CR_OK)
			CU_ASSERT_CASE(rs.status == 200, t->name);
		tlsc_resp_clear(&rs);
	}
}

/* "serial=ABC\nnotAfter=2027-11-28 12:00:00Z" from the openssl CLI. */
static int
openssl_facts(const char *crt, char *serial, size_t len, time_t *not_after)
{
	const char *argv[] = { "openssl", "x509", "-in", crt, "-noout",
		"-serial", "-enddate", "-dateopt", "iso_8601", NULL };
	struct run_cmd c = RUN_CMD_INIT;
	char date[64], *sp;
	int64_t ms;
	int rc = -1;

	c.argv = argv;
	if (run_cmd(&c) == CR_OK &&
	    sscanf(buf_cstr(&c.out), "serial=%47s\nnotAfter=%63[^\n]", serial,
		date) == 2 &&
	    len > 0 && (sp = strchr(date, ' ')) != NULL) {
		*sp = 'T';
		if (timefmt_parse_rfc3339(date, &ms) == CR_OK) {
			*not_after = (time_t)(ms / 1000);
			rc = 0;
		}
	}
	run_cmd_clear(&c);
	return rc;
}

static void
test_tlsc_peer_certificate(void)
{
	struct tlsc_opts o = opts_for(plain_port);
	struct tlsc *c = NULL;
	struct tlsc_diag d;
	const struct tlsc_peer *p;
	char serial[TLSC_SERIAL_MAX] = "";
	time_t not_after = 0;

	CU_ASSERT_EQUAL_FATAL(openssl_facts(path("pki/apiserver.crt"), serial,
				  sizeof(serial), &not_after),
	    0);
	CU_ASSERT_EQUAL_FATAL(tlsc_connect(&o, &c, &d), CR_OK);
	p = tlsc_peer(c);
	CU_ASSERT_STRING_EQUAL(p->serial, serial);
	CU_ASSERT_EQUAL(p->not_after, not_after);
	CU_ASSERT(p->not_before < p->not_after);
	CU_ASSERT_STRING_EQUAL(p->subject, "CN=kube-apiserver");
	CU_ASSERT_TRUE(p->verified);
	tlsc_free(c);
}

static void
test_tlsc_deadlines(void)
{
	struct tlsc_opts o = opts_for(plain_port);
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc *c = NULL;
	struct tlsc_diag d;
	const char *stalls[] = { "/stall-head", "/stall-body" };
	int64_t t0;
	size_t i;

	for (i = 0; i < 2; i++) {
		t0 = clock_mono_ms();
		o.deadline = clock_deadline_ms(300);
		CU_ASSERT_CASE(get(&o, stalls[i], &rs, &d) == CR_ERR_TIMEOUT,
		    stalls[i]);
		CU_ASSERT_CASE(clock_mono_ms() - t0 >= 290, stalls[i]);
		CU_ASSERT_CASE(clock_mono_ms() - t0 < 5000, stalls[i]);
		CU_ASSERT_CASE(strstr(d.msg, "timed out") != NULL, stalls[i]);
		tlsc_resp_clear(&rs);
	}
	o = opts_for(stuck_port);
	o.deadline = clock_deadline_ms(300);
	t0 = clock_mono_ms();
	CU_ASSERT_EQUAL(tlsc_connect(&o, &c, &d), CR_ERR_TIMEOUT);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(clock_mono_ms() - t0 < 5000);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "handshake: timed out"));
}

static void
test_tlsc_tcp_probe(void)
{
	char closed[16];
	struct tlsc_diag d;
	struct tlsc_opts o = TLSC_OPTS_INIT;
	struct tlsc *c = NULL;

	snprintf(closed, sizeof(closed), "%d", bgproc_free_port());
	CU_ASSERT_EQUAL(tlsc_tcp_probe("127.0.0.1", plain_port,
			    clock_deadline_ms(5000), &d),
	    CR_OK);
	errno = 0;
	CU_ASSERT_EQUAL(
	    tlsc_tcp_probe("127.0.0.1", closed, clock_deadline_ms(5000), &d),
	    CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "refused"));
	o.host = "127.0.0.1";
	o.port = closed;
	o.insecure = true;
	errno = 0;
	CU_ASSERT_EQUAL(tlsc_connect(&o, &c, &d), CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	CU_ASSERT_PTR_NULL(c);
	o.host = "no-such-host.invalid";
	CU_ASSERT_EQUAL(tlsc_connect(&o, &c, &d), CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "no-such-host.invalid"));
}

static void
test_tlsc_name_resolution(void)
{
	/*
	 * "localhost" may resolve to ::1 first, where nothing listens: the
	 * next address is tried. kubeadm's apiserver.crt names "kubernetes".
	 */
	struct tlsc_opts o = opts_for(plain_port);
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc_diag d;

	o.host = "localhost";
	o.server_name = "kubernetes";
	CU_ASSERT_EQUAL(get(&o, "/cl", &rs, &d), CR_OK);
	CU_ASSERT_EQUAL(rs.status, 200);
	CU_ASSERT_TRUE(rs.peer.verified);
	tlsc_resp_clear(&rs);
}

static void
test_tlsc_request_rules(void)
{
	struct tlsc_opts o = opts_for(plain_port);
	struct tlsc_req rq = TLSC_REQ_INIT;
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc *c = NULL;
	struct tlsc_diag d;

	CU_ASSERT_EQUAL_FATAL(tlsc_connect(&o, &c, &d), CR_OK);
	rq.path = "no-slash";
	CU_ASSERT_EQUAL(tlsc_request(c, &rq, &rs, &d), CR_ERR_CONFIG);
	tlsc_free(c);
	CU_ASSERT_EQUAL_FATAL(tlsc_connect(&o, &c, &d), CR_OK);
	rq.path = "/a b\r\nX-Injected: 1";
	CU_ASSERT_EQUAL(tlsc_request(c, &rq, &rs, &d), CR_ERR_CONFIG);
	tlsc_free(c);
	CU_ASSERT_EQUAL_FATAL(tlsc_connect(&o, &c, &d), CR_OK);
	rq.path = "/cl";
	CU_ASSERT_EQUAL(tlsc_request(c, &rq, &rs, &d), CR_OK);
	CU_ASSERT_EQUAL(tlsc_request(c, &rq, &rs, &d), CR_ERR_STATE);
	tlsc_free(c);
	tlsc_resp_clear(&rs);
	tlsc_free(NULL);
}

static const struct serial_case {
	const char *a, *b;
	bool equal;
} serial_cases[] = {
	{ "0A", "a", true },
	{ "00AB", "ab", true },
	{ "7F3C", "7f3c", true },
	{ "0", "00", true },
	{ "AB", "AC", false },
	{ "-0A", "0A", false },
	{ "ABC", "AB", false },
	{ "", "", false },
	{ NULL, "A", false },
};

static void
test_tlsc_serial_equal(void)
{
	size_t i;

	for (i = 0; i < sizeof(serial_cases) / sizeof(serial_cases[0]); i++)
		CU_ASSERT_CASE(tlsc_serial_equal(serial_cases[i].a,
				   serial_cases[i].b) == serial_cases[i].equal,
		    serial_cases[i].b);
}

static CU_TestInfo live_tests[] = {
	{ "bodies", test_tlsc_bodies },
	{ "streams_body", test_tlsc_streams_body },
	{ "post", test_tlsc_post },
	{ "verify", test_tlsc_verify },
	{ "client_cert", test_tlsc_client_cert },
	{ "peer_certificate", test_tlsc_peer_certificate },
	{ "deadlines", test_tlsc_deadlines },
	{ "tcp_probe", test_tlsc_tcp_probe },
	{ "name_resolution", test_tlsc_name_resolution },
	{ "request_rules", test_tlsc_request_rules },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo pure_tests[] = {
	{ "serial_equal", test_tlsc_serial_equal },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "tlsc",
	    .pInitFunc = suite_init,
	    .pCleanupFunc = suite_clean,
	    .pTests = live_tests },
	{ .pName = "tlsc_serial", .pTests = pure_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
