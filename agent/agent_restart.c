/*
 * restart: the documented way to restart kubeadm's static pods
 * (kubeadm.md §2.1): move the manifest out of the kubelet's directory,
 * wait until the component is really gone, move it back, wait until it
 * answers. One component at a time, etcd first. The holding place is on
 * the same filesystem (<kubernetes-dir>/certroll-held), so every move is
 * one rename(2), fsynced; a manifest is never lost and never left out.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_int.h"
#include "buf.h"
#include "clock.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "run.h"
#include "tlsc.h"
#include "xmalloc.h"

#define DOWN_MARGIN_MS    60000
#define UP_MARGIN_MS      120000
#define POLL_MIN_MS       50
#define POLL_MAX_MS       1000
#define CRICTL_TIMEOUT_MS 10000
#define HAND_OFF_MS       10000 /* MoveLeader waits for the new leader */

struct restart {
	const struct agent_restart_req *req;
	const char *kdir;
	char *manifests; /* <kdir>/manifests */
	char *held;      /* <kdir>/certroll-held */
	int64_t fcf_ms;
	int64_t down_ms;
	int64_t up_ms;
	int64_t poll_ms;
	char *crictl; /* NULL: not used */
	json_object *res;
	char why[600]; /* the first failure, for the operator */
};

static void fail(struct restart *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct restart *r, const char *fmt, ...)
{
	va_list ap;

	if (r->why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

static void progress(const struct restart *r, const char *phase,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
progress(const struct restart *r, const char *phase, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (r->req->progress == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->req->progress(r->req->progress_arg, phase, msg);
}

static void
fmt_ms(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000 != 0)
		snprintf(buf, len, "%lldms", (long long)ms);
	else
		duration_format(ms / 1000, buf, len);
}

/* An executable crictl: the request's, or one found in PATH. */
static char *
find_crictl(const char *want)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL, *p;

	if (want != NULL)
		return *want != '\0' && access(want, X_OK) == 0 ?
		    xstrdup(want) :
		    NULL;
	if (path == NULL)
		return NULL;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir != NULL && found == NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		p = xasprintf("%s/crictl", dir);
		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

/* fileCheckFrequency and the deadlines derived from it. */
static enum cr_err
timing(struct restart *r)
{
	const char *kl = r->req->kubelet_dir != NULL ? r->req->kubelet_dir :
						       AGENT_KUBELET_DIR;
	char *conf = xasprintf("%s/config.yaml", kl);
	struct manifest_diag d;
	enum cr_err err;

	memset(&d, 0, sizeof(d));
	err = manifest_file_check_frequency(conf, &r->fcf_ms, &d);
	if (err == CR_ERR_SYS && errno == ENOENT) {
		r->fcf_ms = MANIFEST_DEFAULT_FCF_MS;
		err = CR_OK;
	} else if (err == CR_ERR_SYS)
		fail(r, "read '%s': %s", conf, strerror(errno));
	else if (err != CR_OK)
		fail(r, "'%s':%u:%u: %s", conf, d.line, d.col, d.msg);
	jv_add_str(r->res, "kubelet_config", conf);
	free(conf);
	if (err != CR_OK)
		return err;
	r->down_ms = r->req->down_timeout_ms > 0 ?
	    r->req->down_timeout_ms :
	    3 * r->fcf_ms + DOWN_MARGIN_MS;
	r->up_ms = r->req->up_timeout_ms > 0 ? r->req->up_timeout_ms :
					       3 * r->fcf_ms + UP_MARGIN_MS;
	r->poll_ms = r->fcf_ms / 4;
	if (r->poll_ms < POLL_MIN_MS)
		r->poll_ms = POLL_MIN_MS;
	if (r->poll_ms > POLL_MAX_MS)
		r->poll_ms = POLL_MAX_MS;
	jv_add_int(r->res, "file_check_frequency_ms", r->fcf_ms);
	jv_add_int(r->res, "down_timeout_ms", r->down_ms);
	jv_add_int(r->res, "up_timeout_ms", r->up_ms);
	return CR_OK;
}

/* rename(2) plus fsync of both directories: the move is durable. */
static enum cr_err
move(struct restart *r, const char *from, const char *to)
{
	if (rename(from, to) == -1) {
		fail(r, "move '%s' to '%s': %s", from, to, strerror(errno));
		return CR_ERR_SYS;
	}
	if (file_fsync_parent(to) != CR_OK ||
	    file_fsync_parent(from) != CR_OK) {
		fail(r, "fsync after moving '%s' to '%s': %s", from, to,
		    strerror(errno));
		return CR_ERR_SYS;
	}
	return CR_OK;
}

static enum cr_err
held_dir(struct restart *r)
{
	if (file_mkdirs(r->held, 0700) != CR_OK || chmod(r->held, 0700) == -1) {
		fail(r, "create '%s': %s", r->held, strerror(errno));
		return CR_ERR_SYS;
	}
	return CR_OK;
}

/*
 * Puts back every manifest an interrupted run left in the holding place.
 * One that is also in the manifests directory is not ours to choose.
 */
static enum cr_err
recover(struct restart *r)
{
	json_object *rec = json_object_new_array();
	char *in, *out;
	size_t c;
	enum cr_err err = CR_OK;

	json_object_object_add(r->res, "recovered", rec);
	for (c = 0; c < MANIFEST__MAX && err == CR_OK; c++) {
		out = file_path_join(r->held, manifest_comp_file(c));
		in = file_path_join(r->manifests, manifest_comp_file(c));
		if (file_exists(out) && file_exists(in)) {
			fail(r,
			    "both '%s' and '%s' exist: compare them, keep the "
			    "right one in '%s' and delete the other",
			    in, out, r->manifests);
			err = CR_ERR_STATE;
		} else if (file_exists(out) &&
		    (err = move(r, out, in)) == CR_OK) {
			log_info("restart: put back '%s' left in '%s' by an "
				 "interrupted run",
			    in, r->held);
			progress(r, "recover", "put back %s", in);
			json_object_array_add(rec,
			    json_object_new_string(manifest_comp_name(c)));
		}
		free(in);
		free(out);
	}
	return err;
}

/* True if crictl lists a running container called name. */
static bool
container_running(struct restart *r, const char *name)
{
	char *re = xasprintf("^%s$", name);
	const char *argv[] = { r->crictl, "ps", "--name", re, "-q", NULL };
	struct run_cmd c = RUN_CMD_INIT;
	char desc[80];
	bool running = false;

	c.argv = argv;
	c.timeout_ms = CRICTL_TIMEOUT_MS;
	if (run_cmd(&c) == CR_OK)
		running = c.out.len > 0;
	else {
		/* Without a runtime to ask, the ports alone decide. */
		run_cmd_describe(&c, desc, sizeof(desc));
		log_warnx("restart: '%s ps' %s; judging by ports only",
		    r->crictl, desc);
		free(r->crictl);
		r->crictl = NULL;
	}
	run_cmd_clear(&c);
	free(re);
	return running;
}

/* "" when every endpoint refuses connections, else the open ones. */
static void
open_ports(const struct manifest_endpoints *eps, char *buf, size_t len)
{
	struct tlsc_diag d;
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < eps->n; i++) {
		if (tlsc_tcp_probe(eps->v[i].host, eps->v[i].port,
			clock_deadline_ms(1000), &d) == CR_ERR_SYS &&
		    errno == ECONNREFUSED)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s:%s",
		    off > 0 ? ", " : "", eps->v[i].host, eps->v[i].port);
		if (off >= len)
			break;
	}
}

static enum cr_err
wait_down(struct restart *r, enum manifest_comp c,
    const struct manifest_endpoints *eps)
{
	int64_t deadline = clock_deadline_ms(r->down_ms);
	const char *name = manifest_comp_name(c);
	char open[200], limit[32];
	bool running;

	for (;;) {
		open_ports(eps, open, sizeof(open));
		running = open[0] == '\0' && r->crictl != NULL &&
		    container_running(r, name);
		if (open[0] == '\0' && !running)
			return CR_OK;
		if (clock_expired(deadline))
			break;
		clock_sleep_ms(r->poll_ms);
	}
	fmt_ms(r->down_ms, limit, sizeof(limit));
	fail(r,
	    "%s did not stop within %s (%s%s); its manifest is back in "
	    "place; see the kubelet's log",
	    name, limit, open[0] != '\0' ? "still listening on " : "",
	    open[0] != '\0' ? open : "crictl still lists its container");
	return CR_ERR_TIMEOUT;
}

/* Waits until the component answers its health checks. */
static enum cr_err
wait_up(struct restart *r, enum manifest_comp c)
{
	struct agent_health_req hr = {
		.kubernetes_dir = r->kdir,
		.probe_timeout_ms = r->req->probe_timeout_ms,
	};
	int64_t deadline = clock_deadline_ms(r->up_ms);
	json_object *rows = NULL;
	char last[400] = "", limit[32];
	size_t i;

	for (;;) {
		json_object_put(rows);
		rows = json_object_new_array();
		if (agent_health_probe(&hr, c, false, rows) == CR_OK)
			break;
		for (i = json_object_array_length(rows); i > 0; i--)
			if (!jv_bool(json_object_array_get_idx(rows, i - 1),
				"ok"))
				snprintf(last, sizeof(last), "%s",
				    jv_str(
					json_object_array_get_idx(rows, i - 1),
					"message"));
		if (clock_expired(deadline)) {
			json_object_put(rows);
			fmt_ms(r->up_ms, limit, sizeof(limit));
			fail(r,
			    "%s did not come back within %s: %s; its manifest "
			    "is in place: see the kubelet's and the "
			    "container's logs (crictl logs)",
			    manifest_comp_name(c), limit, last);
			return CR_ERR_HEALTH;
		}
		clock_sleep_ms(r->poll_ms);
	}
	json_object_put(rows);
	return CR_OK;
}

/* One component: out, gone, back, answering. The manifest always goes
 * back, whatever happened in between. */
static enum cr_err
restart_one(struct restart *r, enum manifest_comp c,
    const struct manifest_endpoints *eps, json_object *row)
{
	const char *name = manifest_comp_name(c);
	char *in = file_path_join(r->manifests, manifest_comp_file(c));
	char *out = file_path_join(r->held, manifest_comp_file(c));
	int64_t t0 = clock_mono_ms(), t1;
	enum cr_err err;

	progress(r, "stop",
	    "%s: moved its manifest to '%s'; waiting until "
	    "it is gone",
	    name, r->held);
	if ((err = move(r, in, out)) != CR_OK)
		goto out;
	err = wait_down(r, c, eps);
	t1 = clock_mono_ms();
	if (move(r, out, in) != CR_OK) {
		/* Worse than anything before: say this, not that. */
		snprintf(r->why, sizeof(r->why),
		    "could not put %s's manifest back (%s); move it back "
		    "now: mv '%s' '%s'",
		    name, strerror(errno), out, in);
		err = CR_ERR_SYS;
		goto out;
	}
	jv_add_int(row, "down_ms", t1 - t0);
	if (err != CR_OK)
		goto out;
	progress(r, "start",
	    "%s: manifest back after %lld ms; waiting "
	    "until it answers",
	    name, (long long)(t1 - t0));
	if ((err = wait_up(r, c)) == CR_OK)
		jv_add_int(row, "up_ms", clock_mono_ms() - t1);
out:
	free(in);
	free(out);
	return err;
}

static enum cr_err
endpoints_of(struct restart *r, const char *path, enum manifest_comp c,
    struct manifest_endpoints *eps)
{
	struct manifest *m = NULL;
	struct manifest_diag d;
	enum cr_err err;

	memset(&d, 0, sizeof(d));
	if ((err = manifest_load(path, &m, &d)) == CR_OK)
		err = manifest_endpoints(m, c, eps, &d);
	if (err == CR_ERR_SYS)
		fail(r, "read '%s': %s", path, strerror(errno));
	else if (err != CR_OK)
		fail(r, "'%s':%u:%u: %s; nothing was moved", path, d.line,
		    d.col, d.msg);
	manifest_free(m);
	return err;
}

/*
 * Before etcd stops: a member that leads hands leadership to another one
 * first, while it is fully up, and says so. etcd's own graceful stop
 * would transfer too, but in the middle of its shutdown. Best effort.
 */
static void
hand_off(struct restart *r, json_object *row)
{
	struct agent_etcd ec;
	char msg[400];

	if (agent_etcd_init(r->kdir, NULL, &ec, msg, sizeof(msg)) == CR_OK &&
	    agent_etcd_hand_off(&ec, clock_deadline_ms(HAND_OFF_MS), msg,
		sizeof(msg)) == CR_OK)
		progress(r, "hand-off", "etcd: %s", msg);
	else
		progress(r, "hand-off",
		    "etcd: leadership not handed off (%s); its own shutdown "
		    "tries",
		    msg);
	jv_add_str(row, "hand_off", msg);
	agent_etcd_clear(&ec);
}

static enum cr_err
restart_component(struct restart *r, enum manifest_comp c, json_object *list)
{
	json_object *row = json_object_new_object();
	char *path = file_path_join(r->manifests, manifest_comp_file(c));
	struct manifest_endpoints eps;
	enum cr_err err = CR_OK;

	jv_add_str(row, "component", manifest_comp_name(c));
	json_object_array_add(list, row);
	if (!file_exists(path) && r->req->components == 0) {
		jv_add_str(row, "status", "skipped");
		jv_add_str(row, "message",
		    "no manifest: this node does not run it (external etcd?)");
		free(path);
		return CR_OK;
	}
	if (!file_exists(path)) {
		fail(r, "no manifest '%s' to restart %s with", path,
		    manifest_comp_name(c));
		err = CR_ERR_NOTFOUND;
	} else if ((err = endpoints_of(r, path, c, &eps)) == CR_OK) {
		if (c == MANIFEST_ETCD)
			hand_off(r, row);
		err = restart_one(r, c, &eps, row);
	}
	jv_add_str(row, "status", err == CR_OK ? "restarted" : "failed");
	jv_add_str(row, "message",
	    err == CR_OK ? "stopped, then answered again" : r->why);
	free(path);
	return err;
}

static enum cr_err
restart_all(struct restart *r)
{
	json_object *list = json_object_new_array();
	size_t c;
	enum cr_err err = CR_OK;

	json_object_object_add(r->res, "components", list);
	r->crictl = find_crictl(r->req->crictl);
	jv_add_str(r->res, "crictl", r->crictl);
	for (c = 0; c < MANIFEST__MAX && err == CR_OK; c++) {
		if (r->req->components != 0 &&
		    (r->req->components & MANIFEST_BIT(c)) == 0)
			continue;
		if ((err = restart_component(r, (enum manifest_comp)c, list)) !=
		    CR_OK)
			jv_add_str(r->res, "failed",
			    manifest_comp_name((enum manifest_comp)c));
	}
	return err;
}

enum cr_err
agent_restart(const struct agent_restart_req *req, json_object **resultp)
{
	struct restart r = { .req = req };
	enum cr_err err;

	r.kdir = req->kubernetes_dir != NULL ? req->kubernetes_dir :
					       AGENT_KUBERNETES_DIR;
	r.manifests = file_path_join(r.kdir, "manifests");
	r.held = file_path_join(r.kdir, AGENT_HELD_DIR);
	r.res = json_object_new_object();
	if ((err = timing(&r)) == CR_OK && (err = held_dir(&r)) == CR_OK &&
	    (err = recover(&r)) == CR_OK && !req->recover_only)
		err = restart_all(&r);
	jv_add_bool(r.res, "ok", err == CR_OK);
	if (err != CR_OK) {
		log_warnx("restart: %s", r.why);
		jv_add_str(r.res, "error", r.why);
	}
	free(r.manifests);
	free(r.held);
	free(r.crictl);
	*resultp = r.res;
	return err;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent restart [--only COMPONENTS] "
	    "[--recover-held]\n"
	    "           [--kubernetes-dir DIR] [--kubelet-dir DIR] "
	    "[--down-timeout DURATION]\n"
	    "           [--up-timeout DURATION] [--probe-timeout DURATION] "
	    "[--no-crictl]\n"
	    "           [-o text|json]\n\n"
	    "Restarts the control-plane static pods one at a time, in the "
	    "order etcd,\nkube-apiserver, kube-controller-manager, "
	    "kube-scheduler, the way kubeadm's\ndocumentation says: move the "
	    "manifest to <kubernetes-dir>/%s,\nwait until the component is "
	    "gone (its ports closed; with crictl, its\ncontainer too), move "
	    "it back, wait until it answers its health check\n"
	    "(see 'certroll-agent health --help'). The waits follow the "
	    "kubelet's\nfileCheckFrequency (<kubelet-dir>/config.yaml, "
	    "default 20s): gone within\n3 x fileCheckFrequency + 1m, back "
	    "within 3 x fileCheckFrequency + 2m.\n\n"
	    "A manifest is never left out: if a component does not stop or "
	    "come back in\ntime its manifest is back in place, the rest are "
	    "left alone and the failure\nnames it. Manifests an interrupted "
	    "run left in %s are put\nback first.\n\n"
	    "Options:\n"
	    "  --only COMPONENTS       comma-separated subset (the order "
	    "stays the same)\n"
	    "  --recover-held          only put back manifests an "
	    "interrupted run left\n"
	    "  --kubernetes-dir DIR    kubeadm's directory (default %s)\n"
	    "  --kubelet-dir DIR       the kubelet's directory (default "
	    "%s)\n"
	    "  --down-timeout DURATION, --up-timeout DURATION\n"
	    "                          override the derived waits\n"
	    "  --probe-timeout DURATION  per probe (default 5s)\n"
	    "  --no-crictl             judge \"gone\" by the ports alone\n"
	    "  -o, --output FORMAT     text (default) or json\n"
	    "  -h, --help              this text\n\n"
	    "Examples:\n"
	    "  certroll-agent restart\n"
	    "  certroll-agent restart --only kube-apiserver,kube-scheduler\n"
	    "  certroll-agent restart --recover-held\n\n"
	    "Exit status: 0 restarted, 1 failed (the message names the "
	    "component),\n2 usage error.\n",
	    AGENT_HELD_DIR, AGENT_HELD_DIR, AGENT_KUBERNETES_DIR,
	    AGENT_KUBELET_DIR);
}

static void
print_text(json_object *res)
{
	json_object *list = jv_arr(res, "components"), *row;
	json_object *rec = jv_arr(res, "recovered");
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;
	int64_t down = -1, up = -1;

	for (i = 0; rec != NULL && i < json_object_array_length(rec); i++)
		printf("put back the held manifest of %s\n",
		    json_object_get_string(json_object_array_get_idx(rec, i)));
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(list, i);
		down = up = -1;
		jv_int(row, "down_ms", &down);
		jv_int(row, "up_ms", &up);
		printf("%-24s %-10s down %5lld ms  up %5lld ms  %s\n",
		    jv_str(row, "component"), jv_str(row, "status"),
		    (long long)down, (long long)up, jv_str(row, "message"));
	}
	if (!jv_bool(res, "ok"))
		printf("\nRESTART FAILED: %s\n", jv_str(res, "error"));
}

static int
parse_opt(int c, char **argv, struct agent_restart_req *req, bool *json)
{
	switch (c) {
	case 'n':
		return agent_ops_opt_components(argv[0], optarg,
		    &req->components);
	case 'r':
		req->recover_only = true;
		return AGENT_EXIT_OK;
	case 'k':
		req->kubernetes_dir = optarg;
		return AGENT_EXIT_OK;
	case 'l':
		req->kubelet_dir = optarg;
		return AGENT_EXIT_OK;
	case 'd':
		return agent_ops_opt_duration(argv[0], "--down-timeout", optarg,
		    &req->down_timeout_ms);
	case 'u':
		return agent_ops_opt_duration(argv[0], "--up-timeout", optarg,
		    &req->up_timeout_ms);
	case 't':
		return agent_ops_opt_duration(argv[0], "--probe-timeout",
		    optarg, &req->probe_timeout_ms);
	case 'C':
		req->crictl = "";
		return AGENT_EXIT_OK;
	case 'o':
		return agent_ops_opt_output(argv[0], optarg, json);
	default:
		return agent_usage(argv[0], "unknown option");
	}
}

int
agent_cmd_restart(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "only", required_argument, NULL, 'n' },
		{ "recover-held", no_argument, NULL, 'r' },
		{ "kubernetes-dir", required_argument, NULL, 'k' },
		{ "kubelet-dir", required_argument, NULL, 'l' },
		{ "down-timeout", required_argument, NULL, 'd' },
		{ "up-timeout", required_argument, NULL, 'u' },
		{ "probe-timeout", required_argument, NULL, 't' },
		{ "no-crictl", no_argument, NULL, 'C' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_restart_req req = { .progress = agent_ops_progress_log };
	json_object *res = NULL;
	bool json = false;
	enum cr_err err;
	int c, rc = AGENT_EXIT_OK;

	optind = 0;
	while (rc == AGENT_EXIT_OK &&
	    (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return AGENT_EXIT_OK;
		}
		rc = parse_opt(c, argv, &req, &json);
	}
	if (rc != AGENT_EXIT_OK)
		return rc;
	if (optind != argc)
		return agent_usage(argv[0], "unexpected argument '%s'",
		    argv[optind]);
	err = agent_restart(&req, &res);
	if (json)
		printf("%s\n", jv_to_pretty(res));
	else
		print_text(res);
	json_object_put(res);
	return err == CR_OK ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
}
