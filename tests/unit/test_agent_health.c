/*
 * agent_health against tests/support/fakepod.py (all healthy, an old
 * certificate still served, etcd's gateway failing while /health is true,
 * retries until a deadline, a held or missing manifest, a missing client
 * certificate) and against a real etcd 3.4 (health, gateway, and the
 * serials served on its client and peer ports). Also the subcommands'
 * exit codes and messages, and agent_rollback: restore, restart, health,
 * and the stage that fails.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "clock.h"
#include "cu_run.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "opsfix.h"
#include "run.h"

#define AGENT CR_BIN_DIR "/certroll-agent"

static char base[256];
static char kdir[300];
static struct bgproc pod = BGPROC_INIT;
static struct opsfix_ports ports;

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
	log_init("test_agent_health", LOG_LEVEL_WARN);
	snprintf(base, sizeof(base), "%s", cu_tmpdir());
	return opsfix_pki(base);
}

static int
suite_clean(void)
{
	bgproc_stop(&pod);
	opsfix_rmtree(base);
	return 0;
}

static const char *
kpath(const char *rel)
{
	return opsfix_path(kdir, rel);
}

/* A kubernetes dir with its own copy of the suite's PKI. */
static int
prepare(const char *name)
{
	const char *argv[] = { "cp", "-a", opsfix_path(base, "pki"),
		opsfix_path(base, "selfsigned"), NULL, NULL };
	struct run_cmd c = RUN_CMD_INIT;
	enum cr_err err;

	snprintf(kdir, sizeof(kdir), "%s/%s", base, name);
	if (file_mkdirs(kdir, 0755) != CR_OK)
		return -1;
	argv[4] = kdir;
	c.argv = argv;
	err = run_cmd(&c);
	run_cmd_clear(&c);
	if (err != CR_OK)
		return -1;
	return opsfix_control_plane(kdir, &ports, "100ms");
}

static int
setup(const char *name, const char *const *faults)
{
	if (prepare(name) != 0)
		return -1;
	return opsfix_fakepod_start(&pod, kdir, faults);
}

/* The row of component's check, or NULL. */
static json_object *
row(json_object *res, const char *component, const char *check)
{
	json_object *checks = jv_arr(res, "checks"), *r;
	size_t i, n = checks != NULL ? json_object_array_length(checks) : 0;

	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(checks, i);
		if (strcmp(jtext(r, "component"), component) == 0 &&
		    strcmp(jtext(r, "check"), check) == 0)
			return r;
	}
	return NULL;
}

/* The array at key as "a,b" (empty: ""). */
static const char *
joined(json_object *res, const char *key)
{
	static char out[256];
	json_object *a = jv_arr(res, key);
	size_t i, n = a != NULL ? json_object_array_length(a) : 0;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i > 0 ? "," : "",
		    json_object_get_string(json_object_array_get_idx(a, i)));
	return a != NULL ? out : "(none)";
}

static void
test_health_all_healthy(void)
{
	static const char *const rows[][2] = { { "etcd", "health" },
		{ "etcd", "serving-cert" }, { "etcd", "gateway" },
		{ "etcd", "peer" }, { "etcd", "peer-serving-cert" },
		{ "kube-apiserver", "readyz" },
		{ "kube-apiserver", "serving-cert" },
		{ "kube-controller-manager", "healthz" },
		{ "kube-scheduler", "healthz" } };
	struct agent_health_req req = { .kubernetes_dir = NULL };
	json_object *res = NULL, *r;
	int64_t n = 0;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(setup("healthy", NULL), 0);
	req.kubernetes_dir = kdir;
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_OK);
	CU_ASSERT_TRUE(jv_bool(res, "healthy"));
	CU_ASSERT_TRUE(jv_int(res, "attempts", &n) && n == 1);
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(res, "checks")), 9);
	for (i = 0; i < 9; i++) {
		r = row(res, rows[i][0], rows[i][1]);
		CU_ASSERT_CASE(r != NULL && jv_bool(r, "ok"), rows[i][1]);
	}
	r = row(res, "kube-apiserver", "serving-cert");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(jtext(r, "served_serial"),
	    jtext(r, "disk_serial"));
	CU_ASSERT_STRING_EQUAL(jtext(r, "disk_file"),
	    kpath("pki/apiserver.crt"));
	CU_ASSERT_STRING_EQUAL(joined(res, "unhealthy"), "");
	CU_ASSERT_STRING_EQUAL(joined(res, "stale"), "");
	CU_ASSERT_PTR_NULL(jv_str(res, "error"));
	json_object_put(res);
	bgproc_stop(&pod);
}

static const struct stale_case {
	const char *reissue; /* under pki/ */
	const char *component;
	unsigned bit;
	const char *check;
} stale_cases[] = {
	{ "apiserver", "kube-apiserver", MANIFEST_BIT(MANIFEST_APISERVER),
	    "serving-cert" },
	{ "etcd/server", "etcd", MANIFEST_BIT(MANIFEST_ETCD), "serving-cert" },
	{ "etcd/peer", "etcd", MANIFEST_BIT(MANIFEST_ETCD),
	    "peer-serving-cert" },
};

/* Renewed on disk, still served from memory; a restart fixes it. */
static void
run_stale_case(const struct stale_case *t)
{
	struct agent_health_req req = { .kubernetes_dir = kdir };
	struct agent_restart_req rr = { .kubernetes_dir = kdir, .crictl = "" };
	json_object *res = NULL, *r;
	char kubelet[320], want[128];

	CU_ASSERT_CASE(opsfix_reissue(kdir, t->reissue) == 0, t->reissue);
	CU_ASSERT_CASE(agent_health(&req, &res) == CR_ERR_HEALTH, t->reissue);
	CU_ASSERT_CASE(strcmp(joined(res, "stale"), t->component) == 0,
	    t->reissue);
	CU_ASSERT_CASE(strcmp(joined(res, "unhealthy"), "") == 0, t->reissue);
	r = row(res, t->component, t->check);
	CU_ASSERT_CASE(r != NULL && !jv_bool(r, "ok"), t->reissue);
	CU_ASSERT_CASE(r != NULL &&
		strcmp(jtext(r, "served_serial"), jv_str(r, "disk_serial")) !=
		    0,
	    t->reissue);
	snprintf(want, sizeof(want),
	    "still the old certificate; restart it (certroll-agent restart "
	    "--only %s)",
	    t->component);
	CU_ASSERT_CASE(r != NULL && strstr(jtext(r, "message"), want) != NULL,
	    t->reissue);
	json_object_put(res);
	snprintf(kubelet, sizeof(kubelet), "%s/kubelet", kdir);
	rr.kubelet_dir = kubelet;
	rr.components = t->bit;
	CU_ASSERT_CASE(agent_restart(&rr, &res) == CR_OK, t->reissue);
	json_object_put(res);
	CU_ASSERT_CASE(agent_health(&req, &res) == CR_OK, t->reissue);
	r = row(res, t->component, t->check);
	CU_ASSERT_CASE(r != NULL && jv_bool(r, "ok"), t->reissue);
	json_object_put(res);
}

static void
test_health_old_certificate_served(void)
{
	size_t i;

	CU_ASSERT_EQUAL_FATAL(setup("stale", NULL), 0);
	for (i = 0; i < sizeof(stale_cases) / sizeof(stale_cases[0]); i++)
		run_stale_case(&stale_cases[i]);
	bgproc_stop(&pod);
}

static void
test_health_gateway_failure(void)
{
	const char *faults[] = { "--gateway-fail", NULL };
	struct agent_health_req req = { .kubernetes_dir = NULL };
	json_object *res = NULL, *r;

	CU_ASSERT_EQUAL_FATAL(setup("gateway", faults), 0);
	req.kubernetes_dir = kdir;
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_ERR_HEALTH);
	/* /health is true, the gateway is not: etcd is unhealthy. */
	r = row(res, "etcd", "health");
	CU_ASSERT_TRUE(r != NULL && jv_bool(r, "ok"));
	r = row(res, "etcd", "gateway");
	CU_ASSERT_TRUE(r != NULL && !jv_bool(r, "ok"));
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(r, "message"),
	    "the v3 gateway call failed with HTTP 503"));
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(r, "message"), "clientAuth"));
	CU_ASSERT_STRING_EQUAL(joined(res, "unhealthy"), "etcd");
	CU_ASSERT_STRING_EQUAL(joined(res, "stale"), "");
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "error"), "etcd gateway: "));
	json_object_put(res);
	bgproc_stop(&pod);
}

/* Puts the scheduler's manifest back after the first failed attempt. */
static void
put_back(void *arg, const char *phase, const char *message)
{
	int *calls = arg;

	(void)message;
	if (strcmp(phase, "probe") == 0 && (*calls)++ == 0 &&
	    rename(kpath("sched.yaml.away"),
		kpath("manifests/kube-scheduler.yaml")) == -1)
		perror("rename");
}

static void
test_health_waits(void)
{
	struct agent_health_req req = { .kubernetes_dir = NULL };
	json_object *res = NULL;
	int calls = 0;
	int64_t n = 0, t0;

	CU_ASSERT_EQUAL_FATAL(setup("wait", NULL), 0);
	req.kubernetes_dir = kdir;
	req.components = MANIFEST_BIT(MANIFEST_SCHEDULER);
	/* Not running at first: healthy on a later attempt. */
	CU_ASSERT_EQUAL_FATAL(rename(kpath("manifests/kube-scheduler.yaml"),
				  kpath("sched.yaml.away")),
	    0);
	clock_sleep_ms(400);
	req.deadline = clock_deadline_ms(10000);
	req.progress = put_back;
	req.progress_arg = &calls;
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_OK);
	CU_ASSERT_TRUE(jv_int(res, "attempts", &n) && n >= 2);
	CU_ASSERT(calls >= 1);
	json_object_put(res);
	/* Never answering: unhealthy once the deadline has passed. */
	CU_ASSERT_EQUAL_FATAL(
	    opsfix_write(kpath("manifests/kube-scheduler.yaml"),
		"kind: Pod\nmetadata: {name: kube-scheduler}\n"
		"spec:\n  containers:\n  - command:\n"
		"    - kube-scheduler\n"
		"    - --secure-port=1\n"),
	    0);
	req.progress = NULL;
	req.deadline = clock_deadline_ms(1500);
	t0 = clock_mono_ms();
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_ERR_HEALTH);
	CU_ASSERT(clock_mono_ms() - t0 >= 1500);
	CU_ASSERT(clock_mono_ms() - t0 < 4000);
	CU_ASSERT_TRUE(jv_int(res, "attempts", &n) && n >= 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "error"),
	    "kube-scheduler healthz: connect to 127.0.0.1:1: Connection "
	    "refused: not listening; is it running?"));
	json_object_put(res);
	bgproc_stop(&pod);
}

static void
test_health_manifest_states(void)
{
	struct agent_health_req req = { .kubernetes_dir = NULL };
	json_object *res = NULL, *r;

	CU_ASSERT_EQUAL_FATAL(setup("manifests", NULL), 0);
	req.kubernetes_dir = kdir;
	/* External etcd: no manifest, nothing to check. */
	CU_ASSERT_EQUAL_FATAL(unlink(kpath("manifests/etcd.yaml")), 0);
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_OK);
	r = row(res, "etcd", "manifest");
	CU_ASSERT_TRUE(r != NULL && jv_bool(r, "ok") && jv_bool(r, "skipped"));
	json_object_put(res);
	/* Parked by an interrupted restart: say how to recover. */
	CU_ASSERT_EQUAL_FATAL(
	    opsfix_write(kpath(AGENT_HELD_DIR "/etcd.yaml"), "kind: Pod\n"), 0);
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_ERR_HEALTH);
	r = row(res, "etcd", "manifest");
	CU_ASSERT_TRUE(r != NULL && !jv_bool(r, "ok"));
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(r, "message"),
	    "certroll-agent restart --recover-held"));
	CU_ASSERT_STRING_EQUAL(joined(res, "unhealthy"), "etcd");
	json_object_put(res);
	/* The API server's client certificate is gone. */
	CU_ASSERT_EQUAL_FATAL(unlink(kpath("pki/apiserver-kubelet-client.key")),
	    0);
	req.components = MANIFEST_BIT(MANIFEST_APISERVER);
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_ERR_HEALTH);
	r = row(res, "kube-apiserver", "readyz");
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(r, "message"),
	    "apiserver-kubelet-client.key': No such file"));
	/* No handshake, so no verdict on the certificate: not "stale". */
	CU_ASSERT_STRING_EQUAL(joined(res, "unhealthy"), "kube-apiserver");
	CU_ASSERT_STRING_EQUAL(joined(res, "stale"), "");
	json_object_put(res);
	bgproc_stop(&pod);
}

/* A real etcd: the gateway, and what its two ports serve. */
static void
test_health_real_etcd(void)
{
	struct agent_health_req req = { .kubernetes_dir = NULL };
	struct bgproc etcd = BGPROC_INIT;
	json_object *res = NULL, *r;
	int p[2] = { -1, -1 }, cport, pport;

	CU_ASSERT_EQUAL_FATAL(bgproc_free_ports(p, 2), 0);
	cport = p[0];
	pport = p[1];

	CU_ASSERT_EQUAL_FATAL(prepare("etcd"), 0);
	CU_ASSERT_EQUAL_FATAL(opsfix_etcd_manifest(kdir, cport, pport), 0);
	CU_ASSERT_EQUAL_FATAL(opsfix_etcd_start(&etcd, kdir, cport, pport), 0);
	req.kubernetes_dir = kdir;
	req.components = MANIFEST_BIT(MANIFEST_ETCD);
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_OK);
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(res, "checks")), 5);
	r = row(res, "etcd", "peer-serving-cert");
	CU_ASSERT_TRUE(r != NULL && jv_bool(r, "ok"));
	CU_ASSERT_STRING_EQUAL(jtext(r, "disk_file"),
	    kpath("pki/etcd/peer.crt"));
	json_object_put(res);
	/* etcd 3.4 reads its certificate on every handshake (lab.md P8). */
	CU_ASSERT_EQUAL(opsfix_reissue(kdir, "etcd/server"), 0);
	CU_ASSERT_EQUAL(agent_health(&req, &res), CR_OK);
	json_object_put(res);
	bgproc_stop(&etcd);
}

/* Runs the agent binary; its exit status, stdout and stderr. */
static int
agent(const char *const *args, struct buf *out)
{
	const char *argv[16] = { AGENT };
	struct run_cmd c = RUN_CMD_INIT;
	size_t n = 1;
	int rc = -1;

	for (; *args != NULL && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	c.argv = argv;
	c.timeout_ms = 30000;
	if (run_cmd(&c) == CR_OK || c.exited)
		rc = c.exit_code;
	buf_reset(out);
	buf_put(out, c.out.data, c.out.len);
	buf_put(out, c.err.data, c.err.len);
	run_cmd_clear(&c);
	return rc;
}

static const struct cli_case {
	const char *name;
	const char *args[8];
	int rc;
	const char *text;
} cli_cases[] = {
	{ "health_help", { "health", "--help", NULL }, 0, "--wait DURATION" },
	{ "restart_help", { "restart", "--help", NULL }, 0, "--recover-held" },
	{ "snapshot_help", { "snapshot", "--help", NULL }, 0, "Examples:" },
	{ "bad_only", { "health", "--only", "etcd,kube-proxy", NULL }, 2,
	    "unknown component 'kube-proxy'" },
	{ "bad_wait", { "health", "--wait", "soon", NULL }, 2,
	    "--wait: 'soon' is not a duration" },
	{ "bad_output", { "restart", "-o", "yaml", NULL }, 2,
	    "'yaml' is neither text nor json" },
	{ "stray_arg", { "health", "now", NULL }, 2,
	    "unexpected argument 'now'" },
	{ "bad_timeout", { "snapshot", "--timeout", "-1s", NULL }, 2,
	    "--timeout" },
	{ "rollback_help", { "rollback", "--help", NULL }, 0,
	    "stops at the first\nstage that fails" },
	{ "rollback_two_backups", { "rollback", "a", "b", NULL }, 2,
	    "unexpected argument 'b'" },
	{ "rollback_bad_wait", { "rollback", "--health-wait", "x", NULL }, 2,
	    "--health-wait: 'x' is not a duration" },
};

static void
test_health_cli(void)
{
	const char *args[8];
	struct buf out = BUF_INIT;
	const struct cli_case *t;
	size_t i;

	for (i = 0; i < sizeof(cli_cases) / sizeof(cli_cases[0]); i++) {
		t = &cli_cases[i];
		CU_ASSERT_CASE(agent(t->args, &out) == t->rc, t->name);
		CU_ASSERT_CASE(strstr(buf_cstr(&out), t->text) != NULL,
		    t->name);
	}
	/* A live run, table and JSON. */
	CU_ASSERT_EQUAL_FATAL(setup("cli", NULL), 0);
	args[0] = "health";
	args[1] = "--kubernetes-dir";
	args[2] = kdir;
	args[3] = NULL;
	CU_ASSERT_EQUAL(agent(args, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&out), "\nhealthy\n"));
	args[3] = "-o";
	args[4] = "json";
	args[5] = NULL;
	CU_ASSERT_EQUAL(agent(args, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&out), "\"healthy\": true"));
	bgproc_stop(&pod);
	/* Nothing runs any more. */
	args[3] = NULL;
	CU_ASSERT_EQUAL(agent(args, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&out), "NOT HEALTHY: etcd "));
	buf_clear(&out);
}

/* True if the JSON array a holds the string want. */
static bool
has(json_object *a, const char *want)
{
	size_t i, n = a != NULL ? json_object_array_length(a) : 0;

	for (i = 0; i < n; i++)
		if (strcmp(
			json_object_get_string(json_object_array_get_idx(a, i)),
			want) == 0)
			return true;
	return false;
}

/* Backs up kdir into base/backups-<name>; the backup's path in out. */
static int
backup(const char *name, char *out, size_t len)
{
	struct agent_backup_opts o = { .kubernetes_dir = kdir };
	struct agent_backup_result r;
	char dir[320];
	int rc = -1;

	snprintf(dir, sizeof(dir), "%s/backups-%s", base, name);
	o.backup_dir = dir;
	o.now = time(NULL);
	if (agent_backup(&o, &r) == CR_OK) {
		snprintf(out, len, "%s", r.path);
		rc = 0;
	}
	agent_backup_result_clear(&r);
	return rc;
}

/* The serial kube-apiserver serves, as health reports it. */
static void
served_apiserver(char *serial, size_t len)
{
	struct agent_health_req req = { .kubernetes_dir = kdir };
	json_object *res = NULL, *r;

	req.components = MANIFEST_BIT(MANIFEST_APISERVER);
	serial[0] = '\0';
	if (agent_health(&req, &res) != CR_ERR_SYS &&
	    (r = row(res, "kube-apiserver", "serving-cert")) != NULL &&
	    jv_str(r, "served_serial") != NULL)
		snprintf(serial, len, "%s", jv_str(r, "served_serial"));
	json_object_put(res);
}

static struct agent_rollback_req
rollback_req(const char *name, char *kubelet, size_t len)
{
	struct agent_rollback_req req = { .kubernetes_dir = kdir };
	static char dir[320];

	snprintf(dir, sizeof(dir), "%s/backups-%s", base, name);
	snprintf(kubelet, len, "%s/kubelet", kdir);
	req.backup = "latest";
	req.backup_dir = dir;
	req.kubelet_dir = kubelet;
	req.health_wait_ms = 10000;
	return req;
}

static void
test_rollback_restores_and_restarts(void)
{
	struct agent_rollback_req req;
	json_object *res = NULL, *st;
	char path[512], before[64], after[64], kubelet[320];
	static const char *const names[] = { "restore", "restart", "health" };
	struct buf ev = BUF_INIT;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(setup("rollback", NULL), 0);
	served_apiserver(before, sizeof(before));
	CU_ASSERT_EQUAL_FATAL(backup("rollback", path, sizeof(path)), 0);
	/* A renewal the node must be rolled back from. */
	CU_ASSERT_EQUAL_FATAL(opsfix_reissue(kdir, "apiserver"), 0);
	req = rollback_req("rollback", kubelet, sizeof(kubelet));
	CU_ASSERT_EQUAL(agent_rollback(&req, &res), CR_OK);
	CU_ASSERT_TRUE(jv_bool(res, "ok"));
	CU_ASSERT_STRING_EQUAL(jtext(res, "backup"), path);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(jv_arr(res, "stages")),
	    3);
	for (i = 0; i < 3; i++) {
		st = json_object_array_get_idx(jv_arr(res, "stages"), i);
		CU_ASSERT_STRING_EQUAL(jtext(st, "stage"), names[i]);
		CU_ASSERT_TRUE(jv_bool(st, "ok"));
	}
	/* The renewed file was among those written back. */
	st = json_object_array_get_idx(jv_arr(res, "stages"), 0);
	CU_ASSERT_TRUE(has(jv_arr(st, "result.restored"), "pki/apiserver.crt"));
	/* The restored certificate is the one served again. */
	served_apiserver(after, sizeof(after));
	CU_ASSERT(before[0] != '\0');
	CU_ASSERT_STRING_EQUAL(after, before);
	CU_ASSERT_EQUAL(opsfix_events(kdir, 4, &ev), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&ev),
	    "stop etcd,start etcd,stop kube-apiserver,start kube-apiserver"));
	buf_clear(&ev);
	json_object_put(res);
	bgproc_stop(&pod);
}

static void
test_rollback_refusals(void)
{
	struct agent_rollback_req req;
	json_object *res = NULL;
	char path[512], file[600], kubelet[320];
	struct buf ev = BUF_INIT;

	CU_ASSERT_EQUAL_FATAL(setup("refusals", NULL), 0);
	req = rollback_req("refusals", kubelet, sizeof(kubelet));
	/* No backup at all. */
	CU_ASSERT_EQUAL(agent_rollback(&req, &res), CR_ERR_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(jtext(res, "failed"), "restore");
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(res, "stages")), 0);
	json_object_put(res);
	/* A backup whose file no longer matches its checksum. */
	CU_ASSERT_EQUAL_FATAL(backup("refusals", path, sizeof(path)), 0);
	snprintf(file, sizeof(file), "%s/pki/apiserver.crt", path);
	CU_ASSERT_EQUAL_FATAL(opsfix_write(file, "tampered\n"), 0);
	CU_ASSERT_EQUAL(agent_rollback(&req, &res), CR_ERR_VERIFY);
	CU_ASSERT_STRING_EQUAL(jtext(res, "failed"), "restore");
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "error"), "checksums"));
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(res, "stages")), 1);
	json_object_put(res);
	/* Nothing was restarted. */
	CU_ASSERT_EQUAL(opsfix_events(kdir, 4, &ev), 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&ev), "");
	buf_clear(&ev);
	bgproc_stop(&pod);
}

static void
test_rollback_restart_fails(void)
{
	const char *faults[] = { "--no-restart", "kube-scheduler", NULL };
	struct agent_rollback_req req;
	json_object *res = NULL;
	char path[512], kubelet[320];

	CU_ASSERT_EQUAL_FATAL(setup("rbfail", faults), 0);
	CU_ASSERT_EQUAL_FATAL(backup("rbfail", path, sizeof(path)), 0);
	req = rollback_req("rbfail", kubelet, sizeof(kubelet));
	req.up_timeout_ms = 800;
	CU_ASSERT_EQUAL(agent_rollback(&req, &res), CR_ERR_HEALTH);
	CU_ASSERT_STRING_EQUAL(jtext(res, "failed"), "restart");
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "error"),
	    "restart failed: kube-scheduler did not come back within 800ms"));
	/* restore and restart ran; health did not. */
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(res, "stages")), 2);
	json_object_put(res);
	bgproc_stop(&pod);
}

static CU_TestInfo rollback_tests[] = {
	{ "restores_and_restarts", test_rollback_restores_and_restarts },
	{ "refusals", test_rollback_refusals },
	{ "restart_fails", test_rollback_restart_fails },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo tests[] = {
	{ "all_healthy", test_health_all_healthy },
	{ "old_certificate_served", test_health_old_certificate_served },
	{ "gateway_failure", test_health_gateway_failure },
	{ "waits", test_health_waits },
	{ "manifest_states", test_health_manifest_states },
	{ "real_etcd", test_health_real_etcd },
	{ "cli", test_health_cli },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "health",
	    .pInitFunc = suite_init,
	    .pCleanupFunc = suite_clean,
	    .pTests = tests },
	{ .pName = "rollback",
	    .pInitFunc = suite_init,
	    .pCleanupFunc = suite_clean,
	    .pTests = rollback_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
