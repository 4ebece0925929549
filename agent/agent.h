/*
 * certroll-agent: everything that must happen on a control-plane node.
 * Each capability is a subcommand (agent_cmd_<name>, one file each) and,
 * through "serve", a protocol request.
 */
#ifndef CR_AGENT_H
#define CR_AGENT_H

#include <stdio.h>

/* Exit codes, as the orchestrator's. */
#define AGENT_EXIT_OK    0
#define AGENT_EXIT_FAIL  1
#define AGENT_EXIT_USAGE 2

/* Default root of everything the agent reads and writes. */
#define AGENT_KUBERNETES_DIR "/etc/kubernetes"
/* Default backup root. */
#define AGENT_BACKUP_DIR "/var/lib/certroll/backups"

struct agent_cmd {
	const char *name;
	/* argv[0] is the subcommand; returns an exit code. */
	int (*run)(int argc, char **argv);
	const char *summary;
};

/*
 * Prints "certroll-agent CMD: message" and a pointer to --help on stderr
 * and returns AGENT_EXIT_USAGE.
 */
int agent_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* CR_AGENT_H */
