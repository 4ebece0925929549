/*
 * certroll kubeconfig: the workstation's own credential. Subcommands come
 * from a table; "refresh" (kcrefresh.h) replaces the client certificate
 * with a node's renewed admin.conf one, without the Kubernetes API.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "ctx.h"
#include "duration.h"
#include "kcrefresh.h"
#include "log.h"

#define REFRESH_DEFAULT_TIMEOUT_MS ((int64_t)60 * 1000)

static int refresh(int argc, char **argv);

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} subs[] = {
	{ "refresh", refresh,
	    "replace your client certificate with a node's renewed "
	    "admin.conf one" },
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "usage: certroll kubeconfig SUBCOMMAND [options]\n\n"
	    "Subcommands:\n");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		fprintf(fp, "  %-10s %s\n", subs[i].name, subs[i].summary);
	fprintf(fp,
	    "\n'certroll kubeconfig SUBCOMMAND --help' explains one.\n");
}

static void
refresh_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll kubeconfig refresh -i INVENTORY [--node NAME] "
	    "[--dry-run]\n"
	    "           [--accept-identity] [--kubeconfig FILE] [--context "
	    "NAME] [options]\n\n"
	    "Replaces the client certificate and key of your kubeconfig's "
	    "user with the\nrenewed ones in a control-plane node's "
	    "admin.conf, read over SSH through\ncertroll-agent. The "
	    "Kubernetes API is not used, so this works after your\n"
	    "certificate has expired. Before writing it checks that "
	    "admin.conf belongs\nto the same cluster (same CA), that its "
	    "certificate chains to that CA,\nmatches its key and expires "
	    "later than yours, and that its subject is\nyours: admin.conf "
	    "is the shared kubernetes-admin identity, so replacing a\nnamed "
	    "user's certificate with it needs --accept-identity. The old "
	    "file is\nkept as FILE.certroll-<UTC time> (mode 0600); the new "
	    "one replaces it\natomically with its mode kept, and every "
	    "other entry of the file stays as\nit was. Users that log in "
	    "through an exec plugin, a token or certificate\nfiles named by "
	    "path are refused with what to do instead.\n\n"
	    "Options:\n");
	fputs(CTX_USAGE, fp);
	fprintf(fp,
	    "      --node NAME             read admin.conf from this node "
	    "(default: the\n"
	    "                              node whose admin.conf expires "
	    "last)\n"
	    "      --dry-run               check and show what would change; "
	    "write nothing\n"
	    "      --accept-identity       take admin.conf's subject even "
	    "though it is not\n"
	    "                              yours\n"
	    "      --timeout DURATION      give up on the nodes after this "
	    "long (default 60s)\n"
	    "  -h, --help                  this text\n\n"
	    "Examples:\n"
	    "  certroll apply -i hosts.ini && certroll kubeconfig refresh -i "
	    "hosts.ini\n"
	    "  certroll kubeconfig refresh -i hosts.ini --node cp2 "
	    "--dry-run\n"
	    "  certroll kubeconfig refresh -i hosts.ini --kubeconfig "
	    "~/.kube/prod \\\n"
	    "      --context prod-admin\n\n"
	    "Exit status: 0 refreshed (with --dry-run: would be), 1 refused "
	    "or failed,\n2 usage or input error.\n");
}

enum {
	OPT_NODE = CTX_OPT_LAST,
	OPT_DRY_RUN,
	OPT_ACCEPT_IDENTITY,
	OPT_TIMEOUT,
};

struct refresh_cmd {
	struct ctx_opts ctx;
	struct kcrefresh_opts o;
	int64_t timeout_ms;
};

/* One option of refresh's own: 1 done, 0 not one, -1 usage error shown. */
static int
parse_own(struct refresh_cmd *m, int c, const char *arg)
{
	int64_t s;

	switch (c) {
	case OPT_NODE:
		m->o.node = arg;
		return 1;
	case OPT_DRY_RUN:
		m->o.dry_run = true;
		return 1;
	case OPT_ACCEPT_IDENTITY:
		m->o.accept_identity = true;
		return 1;
	case OPT_TIMEOUT:
		if (duration_parse(arg, &s) != CR_OK || s <= 0) {
			cli_usage("kubeconfig refresh",
			    "--timeout: '%s' is not a duration such as 90s or "
			    "5m",
			    arg);
			return -1;
		}
		m->timeout_ms = s * 1000;
		return 1;
	default:
		return 0;
	}
}

/* CLI_EXIT_OK to go on, -1 after --help, else a usage error shown. */
static int
parse(int argc, char **argv, struct refresh_cmd *m)
{
	static const struct option opts[] = {
		CTX_LONG_OPTIONS,
		{ "node", required_argument, NULL, OPT_NODE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "accept-identity", no_argument, NULL, OPT_ACCEPT_IDENTITY },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
		if (c == 'h') {
			refresh_usage(stdout);
			return -1;
		}
		if ((rc = ctx_opts_parse(&m->ctx, "kubeconfig refresh", c,
			 optarg)) == 0)
			rc = parse_own(m, c, optarg);
		if (rc == 0)
			return cli_bad_option("kubeconfig refresh", c, argv);
		if (rc < 0)
			return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage("kubeconfig refresh",
		    "unexpected argument '%s'", argv[optind]);
	return CLI_EXIT_OK;
}

static int
run(struct ctx *c, const struct refresh_cmd *m)
{
	struct kcfgcert *cur = NULL;
	char why[2048];
	enum cr_err err;

	if (ctx_load_kubeconfig(c) != CR_OK)
		return CLI_EXIT_USAGE;
	if (kcrefresh_load_current(c->kcfg, &cur, why, sizeof(why)) != CR_OK) {
		log_warnx("kubeconfig refresh: %s", why);
		return CLI_EXIT_FAIL;
	}
	if (ctx_load_inventory(c) != CR_OK) {
		kcfgcert_free(cur);
		return CLI_EXIT_USAGE;
	}
	err = kcrefresh_run(c, &m->o, cur, clock_deadline_ms(m->timeout_ms));
	kcfgcert_free(cur);
	if (err == CR_OK)
		return CLI_EXIT_OK;
	return err == CR_ERR_NOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

static int
refresh(int argc, char **argv)
{
	struct refresh_cmd m;
	struct ctx c;
	int rc;

	memset(&m, 0, sizeof(m));
	ctx_opts_init(&m.ctx);
	m.timeout_ms = REFRESH_DEFAULT_TIMEOUT_MS;
	if ((rc = parse(argc, argv, &m)) != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	ctx_init(&c, "kubeconfig refresh", &m.ctx);
	rc = run(&c, &m);
	ctx_clear(&c);
	return rc;
}

int
cmd_kubeconfig(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0) {
			optind = 0;
			return subs[i].run(argc - 1, argv + 1);
		}
	return cli_usage("kubeconfig", "unknown subcommand '%s' (try refresh)",
	    argv[1]);
}
