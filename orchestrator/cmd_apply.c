/*
 * certroll apply and certroll resume: the rolling renewal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctx.h"
#include "rollout.h"

enum {
	OPT_BACKEND = PLAN_OPT_LAST,
	OPT_KEY_ALGORITHM,
	OPT_KEEP,
	OPT_NO_SNAPSHOT,
	OPT_BREAK_LOCK,
	OPT_PLAN,
	OPT_REPORT,
	OPT_RESTART_TIMEOUT,
	OPT_HEALTH_TIMEOUT,
	OPT_JOURNAL,
	OPT_FETCH,
	OPT_REFRESH_KUBECONFIG,
};

#define REFRESH_USAGE                                                          \
	"      --refresh-kubeconfig    at the end, also replace your "         \
	"kubeconfig's\n"                                                       \
	"                              client certificate with the renewed "   \
	"admin.conf\n"                                                         \
	"                              one ('certroll kubeconfig refresh'); "  \
	"without it\n"                                                         \
	"                              you are asked on a terminal, unless "   \
	"--yes\n"

#define APPLY_USAGE                                                            \
	"  -y, --yes                   do not ask for confirmation\n"          \
	"      --backend B             auto (default: kubeadm where "          \
	"installed), kubeadm\n"                                                \
	"                              or native (OpenSSL, as kubeadm "        \
	"would)\n"                                                             \
	"      --key-algorithm A       native backend: rsa-2048, rsa-3072, "   \
	"rsa-4096 or\n"                                                        \
	"                              ecdsa-p256 (default: keep each "        \
	"certificate's)\n"                                                     \
	"      --keep N                backups kept on each node (default "    \
	"5)\n"                                                                 \
	"      --no-snapshot           skip the etcd snapshot before the "     \
	"first node\n"                                                         \
	"      --restart-timeout DUR   per component (default: 3 x the "       \
	"kubelet's\n"                                                          \
	"                              fileCheckFrequency + 2m)\n"             \
	"      --health-timeout DUR    health gates of one node (default "     \
	"5m)\n"                                                                \
	"      --break-lock            take the rollout lock over from "       \
	"another holder\n"                                                     \
	"      --report FILE           also write the report as JSON\n"        \
	"      --fetch-backups DIR     copy each node's backup (and the etcd " \
	"snapshot)\n"                                                          \
	"                              to DIR/RUN/NODE/ on this machine, "     \
	"0600\n"

static void
apply_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll apply -i INVENTORY [options]\n\n"
	    "Renews the control plane's certificates one node at a time: "
	    "after the\npreflight of 'certroll plan', and under the rollout "
	    "lock, each node is\ncordoned, drained, backed up (the first with "
	    "an etcd snapshot), renewed,\nverified, restarted (etcd, "
	    "kube-apiserver, kube-controller-manager,\nkube-scheduler, one at "
	    "a time) and must pass its health gates before it\nis uncordoned "
	    "and the next node starts. A failure from renewal on rolls\nthat "
	    "node back and stops. Every step is in the journal: 'certroll "
	    "status'\nshows it, 'certroll resume' continues after an "
	    "interruption. Ctrl-C stops\nat the next safe point.\n\n"
	    "Options:\n");
	fputs(CTX_USAGE, fp);
	fputs(PLAN_USAGE, fp);
	fputs(APPLY_USAGE, fp);
	fputs(REFRESH_USAGE, fp);
	fprintf(fp,
	    "      --plan FILE             run exactly this saved plan ('plan "
	    "--out'); refuse\n"
	    "                              if the cluster changed since\n"
	    "  -h, --help                  this text\n\n"
	    "Examples:\n"
	    "  certroll apply -i hosts.ini\n"
	    "  certroll plan -i hosts.ini --out plan.json && certroll apply "
	    "-i hosts.ini --plan plan.json --yes\n"
	    "  certroll apply -i hosts.yaml --renew-before 30d --only "
	    "cp2,cp3\n\n"
	    "Exit status: 0 every node renewed (or nothing to do), 1 the "
	    "rollout was\nblocked or stopped, 2 usage or input error.\n");
}

static void
resume_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll resume [-i INVENTORY] [options]\n\n"
	    "Continues the cluster's last rollout from its journal, whatever "
	    "stopped it\n(Ctrl-C, a crash, a lost connection): each node "
	    "continues from its last\nrecorded state with the options the run "
	    "was started with; nodes already\nrenewed are not renewed again; "
	    "a node that stopped cleanly is tried\nafresh; a node left "
	    "unhealthy is rolled back first. The inventory defaults\nto the "
	    "one the run used.\n\n"
	    "Options:\n");
	fputs(CTX_USAGE, fp);
	fprintf(fp,
	    "      --journal FILE          resume this journal instead of the "
	    "cluster's latest\n"
	    "  -y, --yes                   do not ask for confirmation\n"
	    "      --break-lock            take the rollout lock over from "
	    "another holder\n"
	    "      --report FILE           also write the report as JSON\n");
	fputs(REFRESH_USAGE, fp);
	fprintf(fp,
	    "  -h, --help                  this text\n\n"
	    "Examples:\n"
	    "  certroll status && certroll resume --yes\n\n"
	    "Exit status: 0 every node renewed, 1 the rollout stopped again, "
	    "2 usage\nor input error.\n");
}

static int
parse_keep(struct rollout_opts *o, const char *cmd, const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < 1 || v > 1000)
		return cli_usage(cmd,
		    "--keep: '%s' is not a number from 1 to "
		    "1000",
		    arg);
	o->keep = (unsigned)v;
	return CLI_EXIT_OK;
}

/* An apply/resume option other than the shared ones. */
static int
own_option(struct rollout_opts *o, const char *cmd, int c, const char *arg,
    const char **journal)
{
	switch (c) {
	case 'y':
		o->yes = true;
		return CLI_EXIT_OK;
	case OPT_BACKEND:
		return cli_backend(cmd, arg, &o->backend);
	case OPT_KEY_ALGORITHM:
		return cli_key_algorithm(cmd, arg, &o->key_algorithm);
	case OPT_KEEP:
		return parse_keep(o, cmd, arg);
	case OPT_NO_SNAPSHOT:
		o->snapshot = false;
		return CLI_EXIT_OK;
	case OPT_BREAK_LOCK:
		o->break_lock = true;
		return CLI_EXIT_OK;
	case OPT_PLAN:
		o->plan_file = arg;
		return CLI_EXIT_OK;
	case OPT_REPORT:
		o->report_file = arg;
		return CLI_EXIT_OK;
	case OPT_RESTART_TIMEOUT:
		return cli_seconds(cmd, "--restart-timeout", arg,
		    &o->restart_timeout_s);
	case OPT_HEALTH_TIMEOUT:
		return cli_seconds(cmd, "--health-timeout", arg,
		    &o->health_timeout_s);
	case OPT_JOURNAL:
		*journal = arg;
		return CLI_EXIT_OK;
	case OPT_FETCH:
		o->fetch_backups = arg;
		return CLI_EXIT_OK;
	case OPT_REFRESH_KUBECONFIG:
		o->refresh_kubeconfig = true;
		return CLI_EXIT_OK;
	default:
		return -1;
	}
}

static const struct option apply_opts[] = {
	CTX_LONG_OPTIONS,
	PLAN_LONG_OPTIONS,
	{ "yes", no_argument, NULL, 'y' },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "key-algorithm", required_argument, NULL, OPT_KEY_ALGORITHM },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "no-snapshot", no_argument, NULL, OPT_NO_SNAPSHOT },
	{ "break-lock", no_argument, NULL, OPT_BREAK_LOCK },
	{ "plan", required_argument, NULL, OPT_PLAN },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "fetch-backups", required_argument, NULL, OPT_FETCH },
	{ "restart-timeout", required_argument, NULL, OPT_RESTART_TIMEOUT },
	{ "health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT },
	{ "refresh-kubeconfig", no_argument, NULL, OPT_REFRESH_KUBECONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct option resume_opts[] = {
	CTX_LONG_OPTIONS,
	{ "yes", no_argument, NULL, 'y' },
	{ "break-lock", no_argument, NULL, OPT_BREAK_LOCK },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "journal", required_argument, NULL, OPT_JOURNAL },
	{ "refresh-kubeconfig", no_argument, NULL, OPT_REFRESH_KUBECONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* What the command line fills. */
struct args {
	const char *cmd;
	bool resume;
	struct ctx_opts *co;
	struct rollout_opts *ro;
	const char **journal;
};

/* One option: CLI_EXIT_OK to go on, -1 after --help, else an exit code. */
static int
one_option(const struct args *a, int c, char **argv)
{
	int rc;

	if ((rc = ctx_opts_parse(a->co, a->cmd, c, optarg)) != 0 ||
	    (!a->resume &&
		(rc = plan_opts_parse(&a->ro->plan, a->cmd, c, optarg)) != 0))
		return rc < 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	if (c == 'h') {
		(a->resume ? resume_usage : apply_usage)(stdout);
		return -1;
	}
	if (c == ':' || c == '?')
		return cli_bad_option(a->cmd, c, argv);
	if ((rc = own_option(a->ro, a->cmd, c, optarg, a->journal)) < 0)
		return cli_bad_option(a->cmd, '?', argv);
	return rc;
}

/* Returns -1 after --help, else an exit code (CLI_EXIT_OK to go on). */
static int
parse(int argc, char **argv, const struct args *a)
{
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:yh",
		    a->resume ? resume_opts : apply_opts, NULL)) != -1)
		if ((rc = one_option(a, c, argv)) != CLI_EXIT_OK)
			return rc;
	if (optind < argc)
		return cli_usage(a->cmd, "unexpected argument '%s'",
		    argv[optind]);
	return CLI_EXIT_OK;
}

static int
run(int argc, char **argv, const char *cmd)
{
	struct ctx_opts co;
	struct rollout_opts ro;
	const char *journal = NULL;
	struct ctx c;
	int rc;

	struct args a = { cmd, strcmp(cmd, "resume") == 0, &co, &ro, &journal };

	ctx_opts_init(&co);
	rollout_opts_init(&ro);
	if ((rc = parse(argc, argv, &a)) != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	ctx_init(&c, cmd, &co);
	c.keep_unselected = true;
	if (strcmp(cmd, "resume") == 0)
		rc = rollout_resume(&c, &ro, journal);
	else if (ctx_load_inventory(&c) != CR_OK)
		rc = CLI_EXIT_USAGE;
	else
		rc = rollout_apply(&c, &ro);
	ctx_clear(&c);
	return rc;
}

int
cmd_apply(int argc, char **argv)
{
	return run(argc, argv, "apply");
}

int
cmd_resume(int argc, char **argv)
{
	return run(argc, argv, "resume");
}
