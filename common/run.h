/*
 * Running a program from an argv, never through a shell (git's
 * run-command). Standard input comes from a buffer (or /dev/null), standard
 * output and error are captured up to a cap, and every run has a deadline:
 * when it passes, the child's whole process group gets SIGTERM, then
 * SIGKILL a second later.
 *
 *	const char *argv[] = { "kubeadm", "version", "-o", "short", NULL };
 *	struct run_cmd c = RUN_CMD_INIT;
 *	c.argv = argv;
 *	c.timeout_ms = 10000;
 *	err = run_cmd(&c);
 *	...
 *	run_cmd_clear(&c);
 *
 * The process ignores SIGPIPE from the first run on, so a child that closes
 * its input early cannot kill us.
 */
#ifndef CR_RUN_H
#define CR_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

struct run_cmd {
	/* Inputs. argv[0] without a '/' is searched in PATH. */
	const char *const *argv;
	const char *const *env; /* "NAME=value" entries over environ, or NULL */
	const void *in;         /* standard input, or NULL for /dev/null */
	size_t in_len;
	int timeout_ms;    /* <= 0: no deadline */
	size_t max_output; /* per stream; 0 means 1 MiB */

	/* Outputs. */
	struct buf out;
	struct buf err;
	int exit_code; /* valid when exited */
	int signal;    /* non-zero when killed by a signal */
	bool exited;
	bool timed_out;
	bool truncated; /* output beyond max_output was dropped */
};

#define RUN_CMD_INIT                                                           \
	{                                                                      \
		.argv = NULL, .out = BUF_INIT, .err = BUF_INIT,                \
	}

/*
 * Runs c->argv to completion. Returns CR_OK when it exited with status 0;
 * CR_ERR_SUBPROC when it exited non-zero or was killed by a signal;
 * CR_ERR_TIMEOUT when the deadline passed (the child was killed);
 * CR_ERR_SYS when it could not be started (errno set, e.g. ENOENT).
 * Captured output is in c->out and c->err in every case.
 */
enum cr_err run_cmd(struct run_cmd *c) CR_MUST_CHECK;

/*
 * Describes how the command ended ("exited with status 2", "killed by
 * signal 9", "timed out after 5000 ms") into buf of size len.
 */
void run_cmd_describe(const struct run_cmd *c, char *buf, size_t len);

/* Releases the captured output. The inputs are borrowed and not touched. */
void run_cmd_clear(struct run_cmd *c);

#endif /* CR_RUN_H */
