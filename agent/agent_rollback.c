/*
 * rollback: what the orchestrator does on a node when renewal, restart or
 * health failed (design.md, "A node's rolling renewal"): put the backup
 * back, restart the components so they load it, and wait until they are
 * healthy. Each stage is one capability of the agent; rollback stops at
 * the first that fails and says which.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "clock.h"
#include "jv.h"
#include "log.h"
#include "xmalloc.h"

#define HEALTH_WAIT_MS 120000 /* when restart reports no up-timeout */

struct rollback {
	const struct agent_rollback_req *req;
	json_object *stages; /* borrowed from the result */
	const char *failed;  /* the stage that failed */
	char why[700];
};

static void progress(const struct rollback *rb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
progress(const struct rollback *rb, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (rb->req->progress == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rb->req->progress(rb->req->progress_arg, "rollback", msg);
}

/* Records a stage; takes ownership of result. */
static void
stage_add(struct rollback *rb, const char *name, enum cr_err err,
    json_object *result)
{
	json_object *st = json_object_new_object();
	const char *msg = jv_str(result, "error");

	jv_add_str(st, "stage", name);
	jv_add_bool(st, "ok", err == CR_OK);
	json_object_object_add(st, "result", result);
	json_object_array_add(rb->stages, st);
	if (err != CR_OK) {
		rb->failed = name;
		snprintf(rb->why, sizeof(rb->why), "%s failed: %s", name,
		    msg != NULL ? msg : cr_strerror(err));
	}
}

/*
 * Restores the backup. Manifests an interrupted restart parked are put
 * back first, so the restored ones cannot meet a held copy later.
 */
static enum cr_err
stage_restore(struct rollback *rb, const char *path)
{
	struct agent_restart_req rr = {
		.kubernetes_dir = rb->req->kubernetes_dir,
		.kubelet_dir = rb->req->kubelet_dir,
		.recover_only = true,
	};
	struct agent_restore_result r;
	json_object *res = NULL;
	enum cr_err err;

	memset(&r, 0, sizeof(r));
	if ((err = agent_restart(&rr, &res)) != CR_OK) {
		stage_add(rb, "restore", err, res);
		return err;
	}
	json_object_put(res);
	progress(rb, "restoring '%s'", path);
	err = agent_restore(rb->req->kubernetes_dir, path, &r);
	res = agent_restore_result_to_json(&r);
	jv_add_str(res, "backup", path);
	if (err != CR_OK)
		jv_add_str(res, "error",
		    err == CR_ERR_VERIFY ?
			"the backup failed its checksums and was not used; "
			"see the agent's log for the file" :
			"see the agent's log for the reason");
	stage_add(rb, "restore", err, res);
	agent_restore_result_clear(&r);
	return err;
}

static enum cr_err
stage_restart(struct rollback *rb, int64_t *up_msp)
{
	struct agent_restart_req rr = {
		.kubernetes_dir = rb->req->kubernetes_dir,
		.kubelet_dir = rb->req->kubelet_dir,
		.down_timeout_ms = rb->req->down_timeout_ms,
		.up_timeout_ms = rb->req->up_timeout_ms,
		.progress = rb->req->progress,
		.progress_arg = rb->req->progress_arg,
	};
	json_object *res = NULL;
	enum cr_err err;

	progress(rb, "restarting the components on the restored files");
	err = agent_restart(&rr, &res);
	if (!jv_int(res, "up_timeout_ms", up_msp))
		*up_msp = HEALTH_WAIT_MS;
	stage_add(rb, "restart", err, res);
	return err;
}

static enum cr_err
stage_health(struct rollback *rb, int64_t wait_ms)
{
	struct agent_health_req hr = {
		.kubernetes_dir = rb->req->kubernetes_dir,
		.progress = rb->req->progress,
		.progress_arg = rb->req->progress_arg,
	};
	json_object *res = NULL;
	enum cr_err err;

	hr.deadline = clock_deadline_ms(wait_ms);
	progress(rb, "waiting up to %lld s for health",
	    (long long)(wait_ms / 1000));
	err = agent_health(&hr, &res);
	stage_add(rb, "health", err, res);
	return err;
}

enum cr_err
agent_rollback(const struct agent_rollback_req *req, json_object **resultp)
{
	struct rollback rb = { .req = req };
	json_object *res = json_object_new_object();
	char *path = NULL;
	int64_t up_ms = 0;
	enum cr_err err;

	rb.stages = json_object_new_array();
	json_object_object_add(res, "stages", rb.stages);
	if ((err = agent_backup_resolve(req->backup_dir, req->backup, &path)) !=
	    CR_OK) {
		rb.failed = "restore";
		snprintf(rb.why, sizeof(rb.why),
		    "restore failed: no backup '%s'",
		    req->backup != NULL ? req->backup : "latest");
	} else if ((err = stage_restore(&rb, path)) == CR_OK &&
	    (err = stage_restart(&rb, &up_ms)) == CR_OK)
		err = stage_health(&rb,
		    req->health_wait_ms > 0 ? req->health_wait_ms : up_ms);
	jv_add_bool(res, "ok", err == CR_OK);
	jv_add_str(res, "backup", path);
	if (err != CR_OK) {
		jv_add_str(res, "failed", rb.failed);
		jv_add_str(res, "error", rb.why);
	} else
		log_info("rollback: restored '%s', restarted, healthy", path);
	free(path);
	*resultp = res;
	return err;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent rollback [BACKUP] [--backup-dir DIR]\n"
	    "           [--kubernetes-dir DIR] [--kubelet-dir DIR] "
	    "[--down-timeout DURATION]\n"
	    "           [--up-timeout DURATION] [--health-wait DURATION] "
	    "[-o text|json]\n\n"
	    "Undoes a renewal on this node: restores BACKUP (a directory, "
	    "its name under\nthe backup directory, or 'latest', the default) "
	    "with 'certroll-agent\nrestore' (checksums first; nothing is "
	    "written if one fails), then restarts\netcd, kube-apiserver, "
	    "kube-controller-manager and kube-scheduler one at a\ntime "
	    "('certroll-agent restart'), then waits until they are healthy "
	    "and serve\nthe restored certificates ('certroll-agent health'). "
	    "It stops at the first\nstage that fails and names it.\n\n"
	    "Options:\n"
	    "  --backup-dir DIR        where backups are (default %s)\n"
	    "  --kubernetes-dir DIR    kubeadm's directory (default %s)\n"
	    "  --kubelet-dir DIR       the kubelet's directory (default %s)\n"
	    "  --down-timeout DURATION, --up-timeout DURATION\n"
	    "                          as for restart\n"
	    "  --health-wait DURATION  how long to wait for health (default: "
	    "restart's\n"
	    "                          up-timeout)\n"
	    "  -o, --output FORMAT     text (default) or json\n"
	    "  -h, --help              this text\n\n"
	    "Examples:\n"
	    "  certroll-agent rollback\n"
	    "  certroll-agent rollback 20261128T130000Z-a1b2c3 -o json\n"
	    "  certroll-agent rollback /var/lib/certroll/backups/"
	    "20261128T130000Z-a1b2c3\n\n"
	    "Exit status: 0 rolled back and healthy, 1 a stage failed, 2 "
	    "usage error.\n",
	    AGENT_BACKUP_DIR, AGENT_KUBERNETES_DIR, AGENT_KUBELET_DIR);
}

static void
print_text(json_object *res)
{
	json_object *stages = jv_arr(res, "stages"), *st;
	size_t i, n = stages != NULL ? json_object_array_length(stages) : 0;

	for (i = 0; i < n; i++) {
		st = json_object_array_get_idx(stages, i);
		printf("%-8s %s\n", jv_str(st, "stage"),
		    jv_bool(st, "ok") ? "ok" : "FAILED");
	}
	if (jv_bool(res, "ok"))
		printf("rolled back to %s; healthy\n", jv_str(res, "backup"));
	else
		printf("ROLLBACK FAILED at %s: %s\n", jv_str(res, "failed"),
		    jv_str(res, "error"));
}

static int
parse_opt(int c, char **argv, struct agent_rollback_req *req, bool *json)
{
	switch (c) {
	case 'b':
		req->backup_dir = optarg;
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
	case 'w':
		return agent_ops_opt_duration(argv[0], "--health-wait", optarg,
		    &req->health_wait_ms);
	case 'o':
		return agent_ops_opt_output(argv[0], optarg, json);
	default:
		return agent_usage(argv[0], "unknown option");
	}
}

int
agent_cmd_rollback(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backup-dir", required_argument, NULL, 'b' },
		{ "kubernetes-dir", required_argument, NULL, 'k' },
		{ "kubelet-dir", required_argument, NULL, 'l' },
		{ "down-timeout", required_argument, NULL, 'd' },
		{ "up-timeout", required_argument, NULL, 'u' },
		{ "health-wait", required_argument, NULL, 'w' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_rollback_req req = { .progress = agent_ops_progress_log };
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
	if (argc - optind > 1)
		return agent_usage(argv[0], "unexpected argument '%s'",
		    argv[optind + 1]);
	req.backup = optind < argc ? argv[optind] : "latest";
	err = agent_rollback(&req, &res);
	if (json)
		printf("%s\n", jv_to_pretty(res));
	else
		print_text(res);
	json_object_put(res);
	return err == CR_OK ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
}
