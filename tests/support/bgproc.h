/*
 * Background processes for tests that need a live peer: a scripted TLS
 * server, the kubelet stand-in, a real etcd. The child runs in its own
 * process group and gets SIGKILL if the test program dies first
 * (PR_SET_PDEATHSIG), so a crashed test leaves nothing running; a test
 * that ends normally stops it with bgproc_stop() by its PID.
 */
#ifndef CR_BGPROC_H
#define CR_BGPROC_H

#include <sys/types.h>

#include <stddef.h>

#include "err.h"

struct bgproc {
	pid_t pid; /* -1 when not running */
	int out;   /* read end of the child's stdout, or -1 */
};

#define BGPROC_INIT                                                            \
	{                                                                      \
		-1, -1                                                         \
	}

/*
 * Starts argv (argv[0] searched in PATH) with stdout to a pipe and stderr
 * appended to the file errlog (NULL: inherited). Returns CR_ERR_SYS if it
 * cannot be started.
 */
enum cr_err bgproc_start(struct bgproc *p, const char *const *argv,
    const char *errlog) CR_MUST_CHECK;

/*
 * Reads one line of the child's stdout (without the newline) within
 * timeout_ms. Returns CR_ERR_TIMEOUT, or CR_ERR_SYS at EOF.
 */
enum cr_err bgproc_read_line(struct bgproc *p, char *line, size_t cap,
    int timeout_ms) CR_MUST_CHECK;

/*
 * Stops the child's process group: SIGTERM, then SIGKILL after 5 s, and
 * reaps the child. Passing a stopped bgproc is a no-op.
 */
void bgproc_stop(struct bgproc *p);

/*
 * A TCP port on 127.0.0.1 that was free a moment ago, or -1. It is chosen
 * below the kernel's ephemeral range, so no outgoing connection can take
 * it before a child binds it.
 */
int bgproc_free_port(void);

/*
 * n distinct such ports (all held open while choosing). Returns 0, or -1
 * if it could not.
 */
int bgproc_free_ports(int *ports, size_t n);

#endif /* CR_BGPROC_H */
