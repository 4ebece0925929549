/*
 * What every certroll command shares: the command table entry, exit codes
 * and how a usage error is reported.
 */
#ifndef CR_CLI_H
#define CR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

/* Exit codes of every command (docs/operations.md lists them). */
#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	/* argv[0] is the command name; returns an exit code. */
	int (*run)(int argc, char **argv);
	const char *summary;
};

/*
 * Prints "certroll CMD: message" and a pointer to --help on stderr and
 * returns CLI_EXIT_USAGE, for "return cli_usage(...)".
 */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * For getopt_long()'s ':' (missing value; optstring starts with ':') and
 * '?' (unknown option) with opterr = 0: names the option once, as
 * cli_usage() does, and returns CLI_EXIT_USAGE.
 */
int cli_bad_option(const char *cmd, int c, char *const *argv);

/*
 * Option values several commands share. Each returns CLI_EXIT_OK and sets
 * the result, or prints a usage error for cmd and returns CLI_EXIT_USAGE.
 */
int cli_backend(const char *cmd, const char *arg, enum proto_backend *out);
int cli_key_algorithm(const char *cmd, const char *arg, const char **out);
/* A positive duration ("90s", "5m") in seconds. */
int cli_seconds(const char *cmd, const char *opt, const char *arg,
    int64_t *out);

/*
 * The operator's answer to a [y/N] question, read from standard input:
 * true when it starts with y or Y; false otherwise and at end of input.
 */
bool cli_answer_yes(void);

/* The command implementations, one file each (cmd_<name>.c). */
int cmd_inventory(int argc, char **argv);
int cmd_cordon(int argc, char **argv);
int cmd_uncordon(int argc, char **argv);
int cmd_drain(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_kubeconfig(int argc, char **argv);

#endif /* CR_CLI_H */
