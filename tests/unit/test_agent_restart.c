/*
 * agent_restart against tests/support/fakepod.py, a kubelet stand-in that
 * runs TLS components for the manifests it finds and logs every start and
 * stop: the order of a full restart, a subset, a component that does not
 * come back or does not stop (its manifest must be back in place), held
 * manifests from an interrupted run, crictl, and the derived deadlines.
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "clock.h"
#include "cu_run.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "opsfix.h"

#define FCF         "100ms"
#define FAKE_CRICTL CR_SOURCE_DIR "/tests/support/fakecrictl.sh"

static const char *const comps[] = { "etcd", "kube-apiserver",
	"kube-controller-manager", "kube-scheduler" };

static char base[256];    /* the suite's PKI */
static char kdir[300];    /* the current test's kubernetes dir */
static char kubelet[320]; /* and its kubelet dir */
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
	log_init("test_agent_restart", LOG_LEVEL_WARN);
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

/* A kubernetes dir sharing the suite's PKI, its manifests, no kubelet. */
static int
prepare(const char *name)
{
	snprintf(kdir, sizeof(kdir), "%s/%s", base, name);
	snprintf(kubelet, sizeof(kubelet), "%s/kubelet", kdir);
	if (file_mkdirs(kdir, 0755) != CR_OK ||
	    symlink(opsfix_path(base, "pki"), kpath("pki")) == -1 ||
	    symlink(opsfix_path(base, "selfsigned"), kpath("selfsigned")) == -1)
		return -1;
	return opsfix_control_plane(kdir, &ports, FCF);
}

/* prepare() and the stand-in kubelet with its faults. */
static int
setup(const char *name, const char *const *faults)
{
	if (prepare(name) != 0)
		return -1;
	return opsfix_fakepod_start(&pod, kdir, faults);
}

static struct agent_restart_req
request(void)
{
	struct agent_restart_req r = { .kubernetes_dir = kdir };

	r.kubelet_dir = kubelet;
	r.crictl = "";
	return r;
}

/* Waits up to ms for the events from first on to equal want. */
static bool
events_become(size_t first, const char *want, int ms)
{
	struct buf ev = BUF_INIT;
	int64_t deadline = clock_deadline_ms(ms);
	bool ok;

	while (!(ok = opsfix_events(kdir, first, &ev) == 0 &&
		       strcmp(buf_cstr(&ev), want) == 0) &&
	    !clock_expired(deadline))
		clock_sleep_ms(50);
	if (!ok)
		fprintf(stderr, "events: got '%s'\n  want '%s'\n",
		    buf_cstr(&ev), want);
	buf_clear(&ev);
	return ok;
}

static bool
all_manifests_in_place(void)
{
	char rel[64];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(rel, sizeof(rel), "manifests/%s.yaml", comps[i]);
		if (!file_exists(kpath(rel)))
			return false;
	}
	return opsfix_dir_entries(kpath(AGENT_HELD_DIR)) == 0;
}

/* Length of the array at key; -1 when there is none. */
static int
arr_len(json_object *res, const char *key)
{
	json_object *a = jv_arr(res, key);

	return a != NULL ? (int)json_object_array_length(a) : -1;
}

static const char *
row_str(json_object *res, size_t i, const char *key)
{
	return jtext(json_object_array_get_idx(jv_arr(res, "components"), i),
	    key);
}

/* The progress callback's record: "stop etcd,start etcd,...". */
static void
record(void *arg, const char *phase, const char *message)
{
	struct buf *b = arg;
	size_t i;

	for (i = 0; i < 4; i++)
		if (strncmp(message, comps[i], strlen(comps[i])) == 0 &&
		    message[strlen(comps[i])] == ':')
			buf_printf(b, "%s%s %s", b->len > 0 ? "," : "", phase,
			    comps[i]);
}

static const char full_order[] =
    "stop etcd,start etcd,stop kube-apiserver,start kube-apiserver,"
    "stop kube-controller-manager,start kube-controller-manager,"
    "stop kube-scheduler,start kube-scheduler";

static void
test_restart_full_in_order(void)
{
	struct agent_restart_req req = request();
	struct buf seen = BUF_INIT;
	json_object *res = NULL;
	struct stat st;
	int64_t v;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(setup("full", NULL), 0);
	req.progress = record;
	req.progress_arg = &seen;
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_OK);
	/* The four initial starts, then each one down and up in order. */
	CU_ASSERT_TRUE(events_become(4, full_order, 3000));
	/* etcd's member first offers to hand leadership off (the fake has
	 * no gateway, so it says why not), and only then stops. */
	CU_ASSERT_STRING_EQUAL(buf_cstr(&seen),
	    "hand-off etcd,"
	    "stop etcd,start etcd,stop kube-apiserver,start kube-apiserver,"
	    "stop kube-controller-manager,start kube-controller-manager,"
	    "stop kube-scheduler,start kube-scheduler");
	CU_ASSERT_TRUE(jv_bool(res, "ok"));
	CU_ASSERT_EQUAL(arr_len(res, "components"), 4);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_STRING_EQUAL(row_str(res, i, "component"), comps[i]);
		CU_ASSERT_STRING_EQUAL(row_str(res, i, "status"), "restarted");
	}
	CU_ASSERT_EQUAL(arr_len(res, "recovered"), 0);
	CU_ASSERT_TRUE(jv_int(res, "file_check_frequency_ms", &v) && v == 100);
	CU_ASSERT_TRUE(jv_int(res, "down_timeout_ms", &v) && v == 60300);
	CU_ASSERT_TRUE(jv_int(res, "up_timeout_ms", &v) && v == 120300);
	CU_ASSERT_TRUE(all_manifests_in_place());
	CU_ASSERT(stat(kpath(AGENT_HELD_DIR), &st) == 0 &&
	    (st.st_mode & 0777) == 0700);
	json_object_put(res);
	buf_clear(&seen);
	bgproc_stop(&pod);
}

static void
test_restart_subset_keeps_order(void)
{
	struct agent_restart_req req = request();
	json_object *res = NULL;

	CU_ASSERT_EQUAL_FATAL(setup("subset", NULL), 0);
	req.components = MANIFEST_BIT(MANIFEST_SCHEDULER) |
	    MANIFEST_BIT(MANIFEST_ETCD);
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_OK);
	CU_ASSERT_TRUE(events_become(4,
	    "stop etcd,start etcd,stop kube-scheduler,start kube-scheduler",
	    3000));
	CU_ASSERT_EQUAL(arr_len(res, "components"), 2);
	json_object_put(res);
	bgproc_stop(&pod);
}

static void
test_restart_does_not_come_back(void)
{
	const char *faults[] = { "--no-restart", "kube-controller-manager",
		NULL };
	struct agent_restart_req req = request();
	json_object *res = NULL;
	const char *err;

	CU_ASSERT_EQUAL_FATAL(setup("noreturn", faults), 0);
	req.up_timeout_ms = 800;
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_ERR_HEALTH);
	CU_ASSERT_FALSE(jv_bool(res, "ok"));
	CU_ASSERT_STRING_EQUAL(jtext(res, "failed"), "kube-controller-manager");
	err = jtext(res, "error");
	CU_ASSERT_PTR_NOT_NULL(strstr(err,
	    "kube-controller-manager did not come back within 800ms"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "manifest is in place"));
	/* Its manifest is back, and the scheduler was left alone. */
	CU_ASSERT_TRUE(all_manifests_in_place());
	CU_ASSERT_EQUAL(arr_len(res, "components"), 3);
	CU_ASSERT_STRING_EQUAL(row_str(res, 2, "status"), "failed");
	CU_ASSERT_TRUE(events_become(4,
	    "stop etcd,start etcd,stop kube-apiserver,start kube-apiserver,"
	    "stop kube-controller-manager,refused kube-controller-manager",
	    3000));
	json_object_put(res);
	bgproc_stop(&pod);
}

static void
test_restart_does_not_stop(void)
{
	const char *faults[] = { "--stop-delay", "kube-apiserver=1.2", NULL };
	struct agent_restart_req req = request();
	json_object *res = NULL;
	char want[80];
	int64_t t0;

	CU_ASSERT_EQUAL_FATAL(setup("nostop", faults), 0);
	req.components = MANIFEST_BIT(MANIFEST_APISERVER);
	req.down_timeout_ms = 400;
	t0 = clock_mono_ms();
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_ERR_TIMEOUT);
	/* The deadline, not the slow component, ended the wait. */
	CU_ASSERT(clock_mono_ms() - t0 < 1100);
	snprintf(want, sizeof(want),
	    "kube-apiserver did not stop within 400ms (still listening on "
	    "127.0.0.1:%d)",
	    ports.apiserver);
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "error"), want));
	CU_ASSERT_STRING_EQUAL(jtext(res, "failed"), "kube-apiserver");
	CU_ASSERT_TRUE(all_manifests_in_place());
	/* With its manifest back, the kubelet starts it once it stopped. */
	CU_ASSERT_TRUE(
	    events_become(4, "stop kube-apiserver,start kube-apiserver", 5000));
	json_object_put(res);
	bgproc_stop(&pod);
}

static void
test_restart_recovers_held(void)
{
	struct agent_restart_req req = request();
	json_object *res = NULL, *rec;

	CU_ASSERT_EQUAL_FATAL(prepare("held"), 0);
	/* An interrupted run parked the scheduler's manifest. */
	CU_ASSERT_EQUAL_FATAL(file_mkdirs(kpath(AGENT_HELD_DIR), 0700), CR_OK);
	CU_ASSERT_EQUAL_FATAL(rename(kpath("manifests/kube-scheduler.yaml"),
				  kpath(AGENT_HELD_DIR "/kube-scheduler.yaml")),
	    0);
	CU_ASSERT_EQUAL_FATAL(opsfix_fakepod_start(&pod, kdir, NULL), 0);
	req.recover_only = true;
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_OK);
	rec = jv_arr(res, "recovered");
	CU_ASSERT_EQUAL_FATAL(arr_len(res, "recovered"), 1);
	CU_ASSERT_STRING_EQUAL(
	    json_object_get_string(json_object_array_get_idx(rec, 0)),
	    "kube-scheduler");
	CU_ASSERT_TRUE(all_manifests_in_place());
	/* Nothing was restarted; the kubelet starts what came back. */
	CU_ASSERT_PTR_NULL(jv_arr(res, "components"));
	CU_ASSERT_TRUE(events_become(3, "start kube-scheduler", 3000));
	json_object_put(res);
	bgproc_stop(&pod);
}

static void
test_restart_held_conflict(void)
{
	struct agent_restart_req req = request();
	json_object *res = NULL;

	CU_ASSERT_EQUAL_FATAL(prepare("conflict"), 0);
	CU_ASSERT_EQUAL_FATAL(
	    opsfix_write(kpath(AGENT_HELD_DIR "/etcd.yaml"), "kind: Pod\n"), 0);
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_ERR_STATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "error"), "both '"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(jtext(res, "error"), AGENT_HELD_DIR "/etcd.yaml' exist"));
	/* Neither file was touched, nothing was restarted. */
	CU_ASSERT_TRUE(file_exists(kpath(AGENT_HELD_DIR "/etcd.yaml")));
	CU_ASSERT_TRUE(file_exists(kpath("manifests/etcd.yaml")));
	CU_ASSERT_PTR_NULL(jv_arr(res, "components"));
	json_object_put(res);
}

static void
test_restart_waits_for_container(void)
{
	const char *faults[] = { "--linger", "etcd=0.7", NULL };
	struct agent_restart_req req = request();
	json_object *res = NULL;
	struct buf log = BUF_INIT;
	int64_t down = 0;

	CU_ASSERT_EQUAL_FATAL(setup("crictl", faults), 0);
	req.components = MANIFEST_BIT(MANIFEST_ETCD);
	/* Ports alone: back as soon as they close. */
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_OK);
	CU_ASSERT_TRUE(
	    jv_int(json_object_array_get_idx(jv_arr(res, "components"), 0),
		"down_ms", &down));
	CU_ASSERT(down < 700);
	json_object_put(res);
	CU_ASSERT_TRUE(events_become(4, "stop etcd,start etcd", 5000));
	/* With crictl: until the container is gone too. */
	req.crictl = FAKE_CRICTL;
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_OK);
	CU_ASSERT_STRING_EQUAL(jtext(res, "crictl"), FAKE_CRICTL);
	CU_ASSERT_TRUE(
	    jv_int(json_object_array_get_idx(jv_arr(res, "components"), 0),
		"down_ms", &down));
	CU_ASSERT(down >= 700);
	CU_ASSERT_EQUAL(file_read(kpath("state/crictl.log"), 65536, &log),
	    CR_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&log), "ps --name ^etcd$ -q"));
	buf_clear(&log);
	json_object_put(res);
	bgproc_stop(&pod);
}

static const struct timing_case {
	const char *name;
	const char *config; /* kubelet config.yaml; NULL: none */
	int64_t down, up;   /* requested; 0: derived */
	enum cr_err err;
	int64_t want_fcf, want_down, want_up;
	const char *why;
} timing_cases[] = {
	{ "no_config", NULL, 0, 0, CR_OK, 20000, 120000, 180000, NULL },
	{ "fcf_5s", "fileCheckFrequency: 5s\n", 0, 0, CR_OK, 5000, 75000,
	    135000, NULL },
	{ "overridden", "fileCheckFrequency: 5s\n", 3000, 4000, CR_OK, 5000,
	    3000, 4000, NULL },
	{ "bad_fcf", "fileCheckFrequency: soon\n", 0, 0, CR_ERR_CONFIG, 0, 0, 0,
	    "config.yaml':1:" },
};

static void
test_restart_timing(void)
{
	const struct timing_case *t;
	struct agent_restart_req req;
	json_object *res = NULL;
	char kl[320];
	int64_t v;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(prepare("timing"), 0);
	for (i = 0; i < sizeof(timing_cases) / sizeof(timing_cases[0]); i++) {
		t = &timing_cases[i];
		req = request();
		snprintf(kl, sizeof(kl), "%s/kubelet-%s", kdir, t->name);
		if (t->config != NULL)
			CU_ASSERT_CASE(
			    opsfix_write(opsfix_path(kl, "config.yaml"),
				t->config) == 0,
			    t->name);
		req.kubelet_dir = kl;
		req.down_timeout_ms = t->down;
		req.up_timeout_ms = t->up;
		req.recover_only = true;
		CU_ASSERT_CASE(agent_restart(&req, &res) == t->err, t->name);
		if (t->err != CR_OK)
			CU_ASSERT_CASE(strstr(jtext(res, "error"), t->why) !=
				NULL,
			    t->name);
		else {
			CU_ASSERT_CASE(
			    jv_int(res, "file_check_frequency_ms", &v) &&
				v == t->want_fcf,
			    t->name);
			CU_ASSERT_CASE(jv_int(res, "down_timeout_ms", &v) &&
				v == t->want_down,
			    t->name);
			CU_ASSERT_CASE(jv_int(res, "up_timeout_ms", &v) &&
				v == t->want_up,
			    t->name);
		}
		json_object_put(res);
	}
	CU_ASSERT_TRUE(all_manifests_in_place());
}

static void
test_restart_missing_manifest(void)
{
	struct agent_restart_req req = request();
	json_object *res = NULL;

	CU_ASSERT_EQUAL_FATAL(prepare("missing"), 0);
	CU_ASSERT_EQUAL_FATAL(unlink(kpath("manifests/etcd.yaml")), 0);
	/* Asked for by name: an error that names the file. */
	req.components = MANIFEST_BIT(MANIFEST_ETCD);
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_ERR_NOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(jtext(res, "error"), "no manifest '"));
	CU_ASSERT_STRING_EQUAL(jtext(res, "failed"), "etcd");
	json_object_put(res);
	/* A malformed manifest fails before anything moves. */
	CU_ASSERT_EQUAL_FATAL(
	    opsfix_write(kpath("manifests/etcd.yaml"), "kind: Pod\nspec: [\n"),
	    0);
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(jtext(res, "error"), "nothing was moved"));
	CU_ASSERT_TRUE(file_exists(kpath("manifests/etcd.yaml")));
	json_object_put(res);
}

static void
test_restart_skips_external_etcd(void)
{
	struct agent_restart_req req = request();
	json_object *res = NULL;

	CU_ASSERT_EQUAL_FATAL(prepare("external"), 0);
	CU_ASSERT_EQUAL_FATAL(unlink(kpath("manifests/etcd.yaml")), 0);
	CU_ASSERT_EQUAL_FATAL(opsfix_fakepod_start(&pod, kdir, NULL), 0);
	CU_ASSERT_EQUAL(agent_restart(&req, &res), CR_OK);
	CU_ASSERT_STRING_EQUAL(row_str(res, 0, "status"), "skipped");
	CU_ASSERT_STRING_EQUAL(row_str(res, 3, "status"), "restarted");
	CU_ASSERT_TRUE(events_become(3,
	    "stop kube-apiserver,start kube-apiserver,"
	    "stop kube-controller-manager,start kube-controller-manager,"
	    "stop kube-scheduler,start kube-scheduler",
	    3000));
	json_object_put(res);
	bgproc_stop(&pod);
}

static CU_TestInfo tests[] = {
	{ "full_in_order", test_restart_full_in_order },
	{ "subset_keeps_order", test_restart_subset_keeps_order },
	{ "does_not_come_back", test_restart_does_not_come_back },
	{ "does_not_stop", test_restart_does_not_stop },
	{ "recovers_held", test_restart_recovers_held },
	{ "held_conflict", test_restart_held_conflict },
	{ "waits_for_container", test_restart_waits_for_container },
	{ "timing", test_restart_timing },
	{ "missing_manifest", test_restart_missing_manifest },
	{ "skips_external_etcd", test_restart_skips_external_etcd },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "restart",
	    .pInitFunc = suite_init,
	    .pCleanupFunc = suite_clean,
	    .pTests = tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
