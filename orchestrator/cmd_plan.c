/*
 * certroll plan: what apply would do and what would stop it, read-only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctx.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "plan.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll plan -i INVENTORY [options]\n\n"
	    "Shows, without changing anything, what 'certroll apply' would "
	    "do: for each\ncontrol-plane node in rollout order, every "
	    "certificate with its expiry now\nand after renewal, what its "
	    "drain would evict, keep and be blocked by; the\npreflight "
	    "gates (lock, API, node readiness, etcd quorum, SSH and agent, "
	    "clock\nskew, CA lifetime, backup space, leftovers, kubeadm's "
	    "configuration); the\nwarnings; and an estimate of the "
	    "duration. Run it before the maintenance\nwindow.\n\n"
	    "Options:\n");
	fputs(CTX_USAGE, fp);
	fputs(PLAN_USAGE, fp);
	fprintf(fp,
	    "  -o, --output FORMAT         text (default) or json\n"
	    "      --out FILE              also save the plan as JSON (for "
	    "'apply --plan FILE')\n"
	    "  -h, --help                  this text\n\n"
	    "Examples:\n"
	    "  certroll plan -i inventory/prod/hosts.yaml\n"
	    "  certroll plan -i hosts.ini --renew-before 30d --out "
	    "plan.json\n"
	    "  certroll plan -i hosts.ini -o json | jq '.preflight[] | "
	    "select(.ok == false)'\n\n"
	    "Exit status: 0 apply would proceed, 1 something blocks it, 2 "
	    "usage or\ninput error.\n");
}

struct cmd {
	struct ctx_opts ctx;
	struct plan_opts plan;
	bool json;
	const char *out;
};

static int
parse(int argc, char **argv, struct cmd *m)
{
	static const struct option opts[] = {
		CTX_LONG_OPTIONS,
		PLAN_LONG_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "out", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:o:h", opts, NULL)) != -1) {
		if ((rc = ctx_opts_parse(&m->ctx, "plan", c, optarg)) != 0 ||
		    (rc = plan_opts_parse(&m->plan, "plan", c, optarg)) != 0) {
			if (rc < 0)
				return CLI_EXIT_USAGE;
		} else if (c == 'o' &&
		    (strcmp(optarg, "json") == 0 ||
			strcmp(optarg, "text") == 0)) {
			m->json = strcmp(optarg, "json") == 0;
		} else if (c == 'o') {
			return cli_usage("plan", "-o: '%s' is not text or json",
			    optarg);
		} else if (c == 'O') {
			m->out = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return -1;
		} else {
			return cli_bad_option("plan", c, argv);
		}
	}
	if (optind < argc)
		return cli_usage("plan", "unexpected argument '%s'",
		    argv[optind]);
	return CLI_EXIT_OK;
}

static int
save(const char *path, json_object *o)
{
	const char *text = jv_to_pretty(o);

	if (file_write_atomic(path, text, strlen(text), 0600) != CR_OK) {
		log_warn("cannot write the plan to '%s'", path);
		return -1;
	}
	return 0;
}

int
cmd_plan(int argc, char **argv)
{
	struct cmd m;
	struct ctx c;
	struct plan p;
	json_object *o;
	int rc;

	memset(&m, 0, sizeof(m));
	ctx_opts_init(&m.ctx);
	plan_opts_init(&m.plan);
	if ((rc = parse(argc, argv, &m)) != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	ctx_init(&c, "plan", &m.ctx);
	c.keep_unselected = true;
	if (ctx_load_inventory(&c) != CR_OK) {
		ctx_clear(&c);
		return CLI_EXIT_USAGE;
	}
	if (plan_build(&c, &m.plan, &p) != CR_OK) {
		ctx_clear(&c);
		return CLI_EXIT_FAIL;
	}
	o = plan_to_json(&p);
	if (m.json)
		printf("%s\n", jv_to_pretty(o));
	else
		plan_print(&p, stdout);
	rc = plan_blocked(&p) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	if (m.out != NULL && save(m.out, o) != 0)
		rc = CLI_EXIT_FAIL;
	json_object_put(o);
	plan_clear(&p);
	ctx_clear(&c);
	return rc;
}
