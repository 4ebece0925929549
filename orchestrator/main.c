/*
 * certroll: renews a kubeadm control plane's certificates one node at a
 * time. main() only parses the global options and dispatches to a command.
 */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "log.h"

static int cmd_help(int argc, char **argv);

static const struct cli_cmd cmds[] = {
	{ "help", cmd_help, "explain certroll or one of its commands" },
	{ "inventory", cmd_inventory,
	    "show the control-plane nodes an inventory file resolves to" },
	{ "cordon", cmd_cordon, "mark nodes unschedulable, as kubectl does" },
	{ "uncordon", cmd_uncordon, "mark nodes schedulable, as kubectl does" },
	{ "drain", cmd_drain,
	    "cordon nodes and evict their pods, as kubectl "
	    "does" },
	{ "plan", cmd_plan,
	    "show what apply would do and what would stop it (read-only)" },
	{ "apply", cmd_apply,
	    "renew the certificates, one control-plane node at a time" },
	{ "resume", cmd_resume, "continue an interrupted rollout" },
	{ "recover", cmd_recover,
	    "renew a control plane whose certificates already expired" },
	{ "status", cmd_status,
	    "show the last rollout: each node's state and what to run next" },
	{ "check", cmd_check,
	    "expiry of every certificate on every node, for monitoring" },
	{ "kubeconfig", cmd_kubeconfig,
	    "refresh your kubeconfig's client certificate from a node" },
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "usage: certroll [-v | -q] [--log-format text|json] COMMAND "
	    "[ARGS]\n\n"
	    "Renews the certificates of a kubeadm control plane, one node at "
	    "a time,\nwithout downtime, from this workstation.\n\n"
	    "Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(fp,
	    "\nGlobal options:\n"
	    "  -v, --verbose        more detail (repeat for protocol "
	    "traffic)\n"
	    "  -q, --quiet          only errors\n"
	    "      --log-format F   text (default) or json, one object per "
	    "line\n"
	    "      --version        print the version and exit\n"
	    "  -h, --help           this text\n\n"
	    "'certroll COMMAND --help' explains a command. Exit status: 0 "
	    "success,\n1 failure, 2 usage or input error.\n");
}

/* "certroll help" prints the overview; "certroll help CMD" runs CMD --help. */
static int
cmd_help(int argc, char **argv)
{
	static char help_flag[] = "--help";
	char *help_argv[] = { NULL, help_flag, NULL };
	size_t i;

	if (argc < 2) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0 ||
		    cmds[i].run == cmd_help)
			continue;
		help_argv[0] = argv[1];
		optind = 0;
		return cmds[i].run(2, help_argv);
	}
	return cli_usage("help", "unknown command '%s'", argv[1]);
}

static int
parse_globals(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum log_format fmt;
	int c;

	/* '+' stops at the command name; its options belong to it. */
	while ((c = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			if (log_get_level() < LOG_LEVEL_DEBUG)
				log_set_level(log_get_level() + 1);
			break;
		case 'q':
			log_set_level(LOG_LEVEL_WARN);
			break;
		case 'F':
			if (!log_format_parse(optarg, &fmt))
				return cli_usage("--log-format",
				    "unknown format '%s' (text or json)",
				    optarg);
			log_set_format(fmt);
			break;
		case 'V':
			printf("certroll %s\n", CERTROLL_VERSION);
			exit(CLI_EXIT_OK);
		case 'h':
			usage(stdout);
			exit(CLI_EXIT_OK);
		default:
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	return CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
	size_t i;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	log_init("certroll", LOG_LEVEL_INFO);
	if ((rc = parse_globals(argc, argv)) != CLI_EXIT_OK)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name) != 0)
			continue;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatalx("cannot initialise libcurl");
		argv += optind;
		argc -= optind;
		optind = 0;
		rc = cmds[i].run(argc, argv);
		curl_global_cleanup();
		return rc;
	}
	fprintf(stderr, "certroll: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
