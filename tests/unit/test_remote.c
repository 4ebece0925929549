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
static char lab_cmd[512], agent[512], key[512];

static struct ssh_session *
node(const char *name)
{
	char ip[32];
	struct ssh_target t = { .name = name,
		.host = ip,
		.port = 22,
		.user = "root",
		.identity_file = key };
	struct ssh_opts o = { .no_agent = true,
		.no_default_key = true,
		.keepalive_s = 1 };
	struct ssh_session *s = NULL;

	snprintf(ip, sizeof(ip), "10.200.0.%d", 10 + atoi(name + 2));
	if (ssh_connect(&t, &o, &s) != CR_OK)
		return NULL;
	return s;
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
	const char *corrupt[] = { lab_cmd, "node", "cp1", "--", "sh", "-c",
		"echo x >> " REMOTE_AGENT_PATH, NULL };
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
	const char *rm[] = { lab_cmd, "node", "cp2", "--", "rm", "-rf",
		REMOTE_AGENT_DIR "/certroll-agent", NULL };

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
}

static enum cr_err
roundtrip(void *arg, size_t i)
{
	static const char *const names[] = { "cp1", "cp2", "cp3" };
	struct remote_opts o = { .agent_path = agent };
	struct ssh_session *s = node(names[i]);
	struct remote *r = NULL;
	struct proto_inspect_req req = { .kubernetes_dir = "/etc/kubernetes" };
	struct proto_inspect_rep rep;
	json_object *body, *reply = NULL;
	enum cr_err err;

	(void)arg;
	memset(&rep, 0, sizeof(rep));
	if (s == NULL || (err = remote_open(s, &o, &r)) != CR_OK) {
		ssh_close(s);
		return CR_ERR_SSH;
	}
	body = proto_inspect_req_encode(&req);
	err = proto_call(remote_conn(r), PROTO_INSPECT_REQ, body,
	    clock_deadline_ms(30000), &reply);
	if (err == CR_OK)
		err = proto_inspect_rep_decode(reply, &rep, NULL, 0);
	if (err == CR_OK &&
	    (strcmp(rep.node, names[i]) != 0 ||
		cert_list_find(&rep.certificates, "apiserver") == NULL))
		err = CR_ERR_VERIFY;
	json_object_put(body);
	json_object_put(reply);
	proto_inspect_rep_clear(&rep);
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
	log_init("test_remote", LOG_LEVEL_INFO);
	if (strcmp(getenv("CR_TEST_FILTER") != NULL ? getenv("CR_TEST_FILTER") :
						      "",
		"remote_serve") == 0 &&
	    !agent_serves()) {
		fprintf(stderr, "skip: '%s' has no 'serve' command yet\n",
		    agent);
		return 77;
	}
	return cu_run(suites);
}
