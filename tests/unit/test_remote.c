/*
 * Agent delivery and the agent connection on the lab's nodes (label lab;
 * CTest runs it in the lab's hub namespace through "lab exec" after "lab
 * up"). Proves that an up-to-date agent is not uploaded again (the remote
 * file's inode and mtime stay), that a different one is replaced, that a
 * node whose link goes down mid-command is reported as lost, and - where
 * the agent has "serve" - a HELLO, INSPECT, BYE round trip on every node.
 */
#include <sys/types.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cu_run.h"
#include "log.h"
#include "proto.h"
#include "remote.h"
#include "run.h"
#include "ssh.h"

static const char *lab_dir;
static char lab_cmd[512], agent[512], key[512], known_hosts[512];

/* The N of lab node "cpN" (1-9), or 0. */
static int
node_num(const char *name)
{
	return strlen(name) == 3 && strncmp(name, "cp", 2) == 0 &&
		name[2] >= '1' && name[2] <= '9' ?
	    name[2] - '0' :
	    0;
}

/* Connects to a lab node with known_hosts file kh; logs go to *logp. */
static enum cr_err
connect_node(const char *name, const char *kh, struct ssh_session **sp,
    char **logp)
{
	char ip[32];
	struct ssh_target t = { .name = name,
		.host = ip,
		.port = 22,
		.user = "root",
		.identity_file = key };
	struct ssh_opts o = { .known_hosts = kh,
		.no_agent = true,
		.no_default_key = true,
		.keepalive_s = 1 };
	size_t len = 0;
	FILE *fp = NULL;
	enum cr_err err;

	*logp = NULL;
	snprintf(ip, sizeof(ip), "10.200.0.%d", 10 + node_num(name));
	if ((fp = open_memstream(logp, &len)) != NULL)
		log_set_output(fp);
	err = ssh_connect(&t, &o, sp);
	if (fp != NULL) {
		log_set_output(NULL);
		fclose(fp);
	}
	return err;
}

static struct ssh_session *
node(const char *name)
{
	struct ssh_session *s = NULL;
	char *log = NULL;

	if (connect_node(name, known_hosts, &s, &log) != CR_OK)
		fprintf(stderr, "%s", log != NULL ? log : "");
	free(log);
	return s;
}

/* known_hosts of the lab with NAME's line dropped or its key replaced. */
static void
write_known_hosts(const char *path, const char *name, const char *key_line)
{
	char line[1024], prefix[64];
	FILE *in = fopen(known_hosts, "r"), *out = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	snprintf(prefix, sizeof(prefix), "10.200.0.%d,%s ", 10 + node_num(name),
	    name);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, prefix, strlen(prefix)) != 0)
			fputs(line, out);
		else if (key_line != NULL)
			fprintf(out, "%s%s\n", prefix, key_line);
	}
	fclose(in);
	fclose(out);
}

/* libssh2 against a lab node's sshd with a right, unknown, changed key. */
static void
test_host_key_rows(void)
{
	static const struct {
		const char *name;
		const char *key_line; /* a wrong key for cp2, or NULL */
		bool drop;            /* cp2 missing from known_hosts */
		enum cr_err want;
		const char *msg;
	} rows[] = {
		{ "correct", NULL, false, CR_OK, "" },
		{ "unknown", NULL, true, CR_ERR_SSH, "unknown host key" },
		{ "changed",
		    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdSgVbgSwPJ1JtaF7Zl"
		    "SXXVDSHFpRwwJ8NNydIvKq4g",
		    false, CR_ERR_SSH, "HOST KEY CHANGED" },
	};
	char path[600];
	size_t i;

	snprintf(path, sizeof(path), "%s/known_hosts.test", lab_dir);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ssh_session *s = NULL;
		char *log = NULL;
		enum cr_err err;

		if (rows[i].drop || rows[i].key_line != NULL)
			write_known_hosts(path, "cp2", rows[i].key_line);
		err = connect_node("cp2",
		    rows[i].drop || rows[i].key_line != NULL ? path :
							       known_hosts,
		    &s, &log);
		CU_ASSERT_CASE(err == rows[i].want, rows[i].name);
		CU_ASSERT_CASE((s != NULL) == (rows[i].want == CR_OK),
		    rows[i].name);
		CU_ASSERT_CASE(log != NULL && strstr(log, rows[i].msg) != NULL,
		    rows[i].name);
		ssh_close(s);
		free(log);
	}
	unlink(path);
}

/* Runs argv on the host side (root namespace tools); returns stdout. */
static char *
host(const char *const argv[])
{
	struct run_cmd c = RUN_CMD_INIT;
	char *out;

	c.argv = argv;
	c.timeout_ms = 20000;
	if (run_cmd(&c) != CR_OK)
		fprintf(stderr, "%s: %s\n", argv[0], buf_cstr(&c.err));
	out = strdup(buf_cstr(&c.out));
	run_cmd_clear(&c);
	return out;
}

/* "inode mtime mode" of the node's agent, as the node sees it. */
static char *
agent_stat(const char *name)
{
	const char *argv[] = { lab_cmd, "node", name, "--", "stat", "-c",
		"%i %Y %a", REMOTE_AGENT_PATH, NULL };

	return host(argv);
}

static void
test_delivery_by_checksum(void)
{
	struct ssh_session *s = node("cp1");
	struct remote_opts o = { .agent_path = agent };
	struct remote_delivery d;
	static const char append[] = "echo x >> " REMOTE_AGENT_PATH;
	const char *corrupt[] = { lab_cmd, "node", "cp1", "--", "sh", "-c",
		append, NULL };
	const char *dirmode[] = { lab_cmd, "node", "cp1", "--", "stat", "-c",
		"%a", REMOTE_AGENT_DIR, NULL };
	char *before, *after, *mode;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(remote_deliver(s, &o, &d, clock_deadline_ms(30000)),
	    CR_OK);
	before = agent_stat("cp1");
	CU_ASSERT_PTR_NOT_NULL(strstr(before, " 700"));
	mode = host(dirmode);
	CU_ASSERT_STRING_EQUAL(mode, "700\n");
	sleep(1); /* an upload now would show in the mtime */
	CU_ASSERT_EQUAL(remote_deliver(s, &o, &d, clock_deadline_ms(30000)),
	    CR_OK);
	CU_ASSERT_FALSE(d.uploaded);
	CU_ASSERT_STRING_EQUAL(d.local_sha256, d.remote_sha256);
	after = agent_stat("cp1");
	CU_ASSERT_STRING_EQUAL(before, after);
	free(after);
	free(host(corrupt));
	CU_ASSERT_EQUAL(remote_deliver(s, &o, &d, clock_deadline_ms(30000)),
	    CR_OK);
	CU_ASSERT_TRUE(d.uploaded);
	CU_ASSERT_STRING_NOT_EQUAL(d.local_sha256, d.remote_sha256);
	after = agent_stat("cp1");
	CU_ASSERT_STRING_NOT_EQUAL(before, after);
	CU_ASSERT_PTR_NOT_NULL(strstr(after, " 700"));
	free(before);
	free(after);
	free(mode);
	ssh_close(s);
}

/* A fresh node: nothing there, so the agent is installed. */
static void
test_delivery_fresh_node(void)
{
	struct ssh_session *s = node("cp2");
	struct remote_opts o = { .agent_path = agent };
	struct remote_delivery d;
	const char *rm[] = { lab_cmd, "node", "cp2", "--", "rm", "-f",
		REMOTE_AGENT_PATH, NULL };

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	free(host(rm));
	CU_ASSERT_EQUAL(remote_deliver(s, &o, &d, clock_deadline_ms(30000)),
	    CR_OK);
	CU_ASSERT_TRUE(d.uploaded);
	CU_ASSERT_STRING_EQUAL(d.remote_sha256, "");
	ssh_close(s);
}

static void *
link_down_later(void *arg)
{
	const char *argv[] = { "ip", "-n", "crlab-cp3", "link", "set", "eth0",
		"down", NULL };

	(void)arg;
	clock_sleep_ms(500);
	free(host(argv));
	return NULL;
}

/*
 * Whether cp3 is back as the next test expects it (lab.md): its etcd member
 * says it is healthy on /health and its API server, whose readyz caches its
 * own etcd probe, answers /readyz.
 */
static bool
cp3_ready(void)
{
	char ca[600], cert[600], keyf[600], kca[600];
	const char *etcd[] = { "curl", "-s", "--max-time", "2", "--cacert", ca,
		"--cert", cert, "--key", keyf,
		"https://10.200.0.13:2379/health", NULL };
	const char *api[] = { "curl", "-s", "--max-time", "3", "--cacert", kca,
		"https://10.200.0.13:6443/readyz", NULL };
	char *out;
	bool ok;

	snprintf(ca, sizeof(ca), "%s/nodes/cp1/kubernetes/pki/etcd/ca.crt",
	    lab_dir);
	snprintf(cert, sizeof(cert),
	    "%s/nodes/cp1/kubernetes/pki/etcd/healthcheck-client.crt", lab_dir);
	snprintf(keyf, sizeof(keyf),
	    "%s/nodes/cp1/kubernetes/pki/etcd/healthcheck-client.key", lab_dir);
	snprintf(kca, sizeof(kca), "%s/nodes/cp1/kubernetes/pki/ca.crt",
	    lab_dir);
	out = host(etcd);
	ok = strstr(out, "\"health\":\"true\"") != NULL;
	free(out);
	if (!ok)
		return false;
	out = host(api);
	ok = strcmp(out, "ok") == 0;
	free(out);
	return ok;
}

static void
test_node_link_down(void)
{
	const char *up[] = { "ip", "-n", "crlab-cp3", "link", "set", "eth0",
		"up", NULL };
	const char *argv[] = { "sleep", "30", NULL };
	struct ssh_session *s = node("cp3");
	struct ssh_result r = SSH_RESULT_INIT;
	int64_t t0 = clock_mono_ms();
	pthread_t tid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	pthread_create(&tid, NULL, link_down_later, NULL);
	CU_ASSERT_EQUAL(ssh_exec(s, argv, &r, clock_deadline_ms(25000)),
	    CR_ERR_SSH);
	CU_ASSERT(clock_mono_ms() - t0 < 8000);
	pthread_join(tid, NULL);
	free(host(up));
	ssh_result_clear(&r);
	ssh_close(s);
	/* Leave the lab as found: cp3's etcd member and API server back. */
	t0 = clock_mono_ms();
	while (!cp3_ready() && clock_mono_ms() - t0 < 30000)
		clock_sleep_ms(200);
	CU_ASSERT(cp3_ready());
}

/* INSPECT: the node's own name and its API server certificate. */
static enum cr_err
inspect(struct remote *r, const char *name)
{
	struct proto_inspect_req req = { .kubernetes_dir = "/etc/kubernetes" };
	struct proto_inspect_rep rep;
	json_object *body = proto_inspect_req_encode(&req), *reply = NULL;
	enum cr_err err;

	memset(&rep, 0, sizeof(rep));
	err = proto_call(remote_conn(r), PROTO_INSPECT_REQ, body,
	    clock_deadline_ms(30000), &reply);
	if (err == CR_OK)
		err = proto_inspect_rep_decode(reply, &rep, NULL, 0);
	if (err == CR_OK &&
	    (strcmp(rep.node, name) != 0 ||
		cert_list_find(&rep.certificates, "apiserver") == NULL)) {
		fprintf(stderr, "%s: INSPECT_REP names node '%s'\n", name,
		    rep.node);
		err = CR_ERR_VERIFY;
	}
	json_object_put(body);
	json_object_put(reply);
	proto_inspect_rep_clear(&rep);
	return err;
}

/* HEALTH: every component of the lab node answers, etcd included. */
static enum cr_err
health(struct remote *r, const char *name)
{
	struct proto_health_req req = { .kubernetes_dir = "/etc/kubernetes" };
	struct proto_health_rep rep;
	json_object *body = proto_health_req_encode(&req), *reply = NULL;
	enum cr_err err;
	bool etcd = false;
	size_t i;

	memset(&rep, 0, sizeof(rep));
	err = proto_call(remote_conn(r), PROTO_HEALTH_REQ, body,
	    clock_deadline_ms(30000), &reply);
	if (err == CR_OK)
		err = proto_health_rep_decode(reply, &rep, NULL, 0);
	for (i = 0; err == CR_OK && i < rep.nchecks; i++) {
		etcd |= strcmp(rep.checks[i].component, "etcd") == 0;
		if (!rep.checks[i].ok)
			fprintf(stderr, "%s: %s %s: %s\n", name,
			    rep.checks[i].component, rep.checks[i].check,
			    rep.checks[i].message);
	}
	if (err == CR_OK && (!rep.ok || !etcd))
		err = CR_ERR_HEALTH;
	json_object_put(body);
	json_object_put(reply);
	proto_health_rep_clear(&rep);
	return err;
}

static enum cr_err
roundtrip(void *arg, size_t i)
{
	static const char *const names[] = { "cp1", "cp2", "cp3" };
	struct remote_opts o = { .agent_path = agent };
	struct ssh_session *s = node(names[i]);
	struct remote *r = NULL;
	enum cr_err err;

	(void)arg;
	if (s == NULL || (err = remote_open(s, &o, &r)) != CR_OK) {
		ssh_close(s);
		return CR_ERR_SSH;
	}
	if (strcmp(remote_hello(r)->node, names[i]) != 0)
		err = CR_ERR_VERIFY;
	if (err == CR_OK)
		err = inspect(r, names[i]);
	if (err == CR_OK)
		err = health(r, names[i]);
	if (remote_close(r, clock_deadline_ms(10000)) != CR_OK && err == CR_OK)
		err = CR_ERR_PROTO;
	ssh_close(s);
	return err;
}

static void
test_agent_roundtrip_every_node(void)
{
	enum cr_err res[3];

	CU_ASSERT_EQUAL(ssh_parallel(3, 3, roundtrip, NULL, res), CR_OK);
	CU_ASSERT_EQUAL(res[0], CR_OK);
	CU_ASSERT_EQUAL(res[1], CR_OK);
	CU_ASSERT_EQUAL(res[2], CR_OK);
}

/* Does the agent know "serve"? (It lands separately.) */
static bool
agent_serves(void)
{
	const char *argv[] = { agent, "serve", "--help", NULL };
	struct run_cmd c = RUN_CMD_INIT;
	bool ok;

	c.argv = argv;
	c.timeout_ms = 10000;
	ok = run_cmd(&c) == CR_OK ||
	    strstr(buf_cstr(&c.err), "unknown command") == NULL;
	run_cmd_clear(&c);
	return ok;
}

static CU_TestInfo delivery_tests[] = {
	{ "host_key_rows", test_host_key_rows },
	{ "delivery_by_checksum", test_delivery_by_checksum },
	{ "delivery_fresh_node", test_delivery_fresh_node },
	{ "node_link_down", test_node_link_down },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo serve_tests[] = {
	{ "agent_roundtrip_every_node", test_agent_roundtrip_every_node },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "remote_lab", .pTests = delivery_tests },
	{ .pName = "remote_serve", .pTests = serve_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	const char *filter;

	if (geteuid() != 0) {
		fprintf(stderr, "skip: the lab needs root\n");
		return 77;
	}
	lab_dir = getenv("CERTROLL_LAB_DIR");
	if (lab_dir == NULL || access(lab_dir, F_OK) != 0) {
		fprintf(stderr,
		    "skip: no lab (run under 'tests/lab/lab exec' "
		    "after 'lab up')\n");
		return 77;
	}
	snprintf(lab_cmd, sizeof(lab_cmd), "%s/tests/lab/lab", CR_SOURCE_DIR);
	snprintf(agent, sizeof(agent), "%s/certroll-agent", CR_BIN_DIR);
	snprintf(key, sizeof(key), "%s/id_ed25519", lab_dir);
	snprintf(known_hosts, sizeof(known_hosts), "%s/known_hosts", lab_dir);
	log_init("test_remote", LOG_LEVEL_INFO);
	filter = getenv("CR_TEST_FILTER");
	if (filter != NULL && strcmp(filter, "remote_serve") == 0 &&
	    !agent_serves()) {
		fprintf(stderr, "skip: '%s' has no 'serve' command yet\n",
		    agent);
		return 77;
	}
	return cu_run(suites);
}
