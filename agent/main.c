/*
 * certroll-agent: runs on a control-plane node as root. The orchestrator
 * drives it over SSH ("serve"); every capability is also a subcommand an
 * operator can run on the node. main() only dispatches.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"

static const struct agent_cmd cmds[] = {
	{ "snapshot", agent_cmd_snapshot,
	    "save an etcd snapshot through the v3 gateway" },
	{ "restart", agent_cmd_restart,
	    "restart the static pods one at a time, etcd first" },
	{ "health", agent_cmd_health,
	    "probe the components and the certificates they serve" },
	{ "rollback", agent_cmd_rollback,
	    "restore a backup, restart, wait for health" },
	{ "inspect", agent_cmd_inspect,
	    "show the node's certificates as kubeadm does, and its facts" },
	{ "backup", agent_cmd_backup,
	    "copy pki/, the kubeconfigs and manifests aside" },
	{ "restore", agent_cmd_restore, "put a backup back, checked first" },
	{ "renew", agent_cmd_renew,
	    "back up, renew, verify (rolled back on failure)" },
	{ "verify", agent_cmd_verify,
	    "check renewed certificates against a backup" },
	{ "serve", agent_cmd_serve,
	    "speak certroll's protocol on stdin/stdout (started by certroll)" },
	{ NULL, NULL, NULL },
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "usage: certroll-agent COMMAND [OPTIONS]\n\n"
	    "Inspects, backs up, renews, verifies and restarts a kubeadm "
	    "control-plane\nnode's certificates. Runs on the node as root.\n\n"
	    "Commands:\n");
	for (i = 0; cmds[i].name != NULL; i++)
		fprintf(fp, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(fp, "\n'certroll-agent COMMAND --help' explains a command.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	log_init("certroll-agent", LOG_LEVEL_INFO);
	if (argc < 2) {
		usage(stderr);
		return AGENT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return AGENT_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("certroll-agent %s\n", CERTROLL_VERSION);
		return AGENT_EXIT_OK;
	}
	for (i = 0; cmds[i].name != NULL; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "certroll-agent: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return AGENT_EXIT_USAGE;
}
