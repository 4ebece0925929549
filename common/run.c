#include "run.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "xmalloc.h"

extern char **environ;

#define RUN_DEFAULT_MAX   ((size_t)1024 * 1024)
#define RUN_KILL_GRACE_MS 1000

struct pipes {
	int in[2];
	int out[2];
	int err[2];
};

static void
close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

static void
pipes_close(struct pipes *p)
{
	close_fd(&p->in[0]);
	close_fd(&p->in[1]);
	close_fd(&p->out[0]);
	close_fd(&p->out[1]);
	close_fd(&p->err[0]);
	close_fd(&p->err[1]);
}

static int
pipes_open(struct pipes *p, bool with_input)
{
	memset(p, -1, sizeof(*p));
	if ((with_input && pipe(p->in) == -1) || pipe(p->out) == -1 ||
	    pipe(p->err) == -1)
		return -1;
	/* The parent's ends never leak into other children. */
	if ((with_input && fcntl(p->in[1], F_SETFD, FD_CLOEXEC) == -1) ||
	    fcntl(p->out[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(p->err[0], F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	if (with_input && fcntl(p->in[1], F_SETFL, O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/* True when extra sets the variable of entry ("NAME=..."). */
static bool
overridden(const char *entry, const char *const *extra)
{
	size_t n = strcspn(entry, "=");

	for (; extra != NULL && *extra != NULL; extra++)
		if (strncmp(*extra, entry, n) == 0 && (*extra)[n] == '=')
			return true;
	return false;
}

/*
 * environ without what extra sets, then extra's entries: the caller's
 * values win. Free the array, not the strings.
 */
static char **
build_env(const char *const *extra)
{
	size_t n = 0, m = 0, i, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	while (extra != NULL && extra[m] != NULL)
		m++;
	env = xcalloc(n + m + 1, sizeof(*env));
	for (i = 0; i < n; i++)
		if (!overridden(environ[i], extra))
			env[k++] = environ[i];
	/* posix_spawn() wants char *const[]; the strings are not written. */
	if (m > 0)
		memcpy(&env[k], extra, m * sizeof(*env));
	return env;
}

static int
spawn(struct run_cmd *c, struct pipes *p, pid_t *pidp)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char **env = build_env(c->env), **argv;
	size_t n = 0;
	int rc;

	while (c->argv[n] != NULL)
		n++;
	if (n == 0) {
		free(env);
		return EINVAL;
	}
	/* A copy of the pointers in the type posix_spawn() wants. */
	argv = xcalloc(n + 1, sizeof(*argv));
	memcpy(argv, c->argv, n * sizeof(*argv));

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (p->in[0] != -1)
		posix_spawn_file_actions_adddup2(&fa, p->in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
		    0);
	posix_spawn_file_actions_adddup2(&fa, p->out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p->err[1], 2);
	/* Its own process group, so a deadline can stop the whole tree. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(pidp, argv[0], &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	free(argv);
	return rc;
}

static void
sink(struct run_cmd *c, struct buf *b, const char *data, size_t n)
{
	size_t max = c->max_output != 0 ? c->max_output : RUN_DEFAULT_MAX;

	if (b->len >= max) {
		c->truncated = true;
		return;
	}
	if (n > max - b->len) {
		n = max - b->len;
		c->truncated = true;
	}
	buf_put(b, data, n);
}

/* Reads from one ready output pipe; closes it on EOF. */
static void
drain_fd(struct run_cmd *c, int *fd, struct buf *b)
{
	char chunk[8192];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n > 0)
		sink(c, b, chunk, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(fd);
}

static void
feed_input(struct run_cmd *c, int *fd, size_t *off)
{
	ssize_t n = write(*fd, (const char *)c->in + *off, c->in_len - *off);

	if (n > 0)
		*off += (size_t)n;
	else if (n == -1 && errno != EINTR && errno != EAGAIN)
		*off = c->in_len; /* EPIPE: the child stopped reading */
	if (*off >= c->in_len)
		close_fd(fd);
}

/* One poll() round: returns false when the deadline passed or poll
 * failed. */
static bool
pump_once(struct run_cmd *c, struct pipes *p, int64_t deadline, size_t *off)
{
	struct pollfd pfd[3];
	int timeout = clock_remaining_ms(deadline);

	if (deadline != 0 && timeout == 0)
		return false;
	pfd[0] = (struct pollfd){ .fd = p->out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = p->err[0], .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = p->in[1], .events = POLLOUT };
	if (poll(pfd, 3, deadline == 0 ? -1 : timeout) == -1)
		return errno == EINTR;
	if (pfd[0].revents != 0)
		drain_fd(c, &p->out[0], &c->out);
	if (pfd[1].revents != 0)
		drain_fd(c, &p->err[0], &c->err);
	if (pfd[2].revents != 0)
		feed_input(c, &p->in[1], off);
	return true;
}

/* Moves data until both outputs hit EOF or the deadline passes. */
static bool
pump(struct run_cmd *c, struct pipes *p, int64_t deadline)
{
	size_t off = 0;

	if (p->in[1] != -1 && c->in_len == 0)
		close_fd(&p->in[1]);
	while (p->out[0] != -1 || p->err[0] != -1)
		if (!pump_once(c, p, deadline, &off))
			return false;
	return true;
}

static int
wait_child(pid_t pid, int64_t deadline, int *statusp)
{
	pid_t r;

	for (;;) {
		r = waitpid(pid, statusp, deadline == 0 ? 0 : WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		if (deadline != 0 && clock_remaining_ms(deadline) == 0)
			return 1;
		if (r == 0)
			clock_sleep_ms(10);
	}
}

/* Stops the child's process group: TERM, a grace period, then KILL. */
static void
kill_group(pid_t pid, int *statusp)
{
	kill(-pid, SIGTERM);
	if (wait_child(pid, clock_deadline_ms(RUN_KILL_GRACE_MS), statusp) == 0)
		return;
	kill(-pid, SIGKILL);
	(void)wait_child(pid, 0, statusp);
}

static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static enum cr_err
decode_status(struct run_cmd *c, int status)
{
	if (WIFEXITED(status)) {
		c->exited = true;
		c->exit_code = WEXITSTATUS(status);
		return c->exit_code == 0 ? CR_OK : CR_ERR_SUBPROC;
	}
	if (WIFSIGNALED(status))
		c->signal = WTERMSIG(status);
	return CR_ERR_SUBPROC;
}

enum cr_err
run_cmd(struct run_cmd *c)
{
	struct pipes p;
	int64_t deadline = 0;
	pid_t pid = -1;
	int status = 0, rc, saved;

	c->exited = c->timed_out = c->truncated = false;
	c->exit_code = c->signal = 0;
	ignore_sigpipe();
	if (c->timeout_ms > 0)
		deadline = clock_deadline_ms(c->timeout_ms);
	if (pipes_open(&p, c->in != NULL) == -1) {
		saved = errno;
		pipes_close(&p);
		errno = saved;
		return CR_ERR_SYS;
	}
	rc = spawn(c, &p, &pid);
	close_fd(&p.in[0]);
	close_fd(&p.out[1]);
	close_fd(&p.err[1]);
	if (rc != 0) {
		pipes_close(&p);
		errno = rc;
		return CR_ERR_SYS;
	}
	if (!pump(c, &p, deadline) || wait_child(pid, deadline, &status) != 0) {
		pipes_close(&p);
		kill_group(pid, &status);
		c->timed_out = true;
		return CR_ERR_TIMEOUT;
	}
	pipes_close(&p);
	return decode_status(c, status);
}

void
run_cmd_describe(const struct run_cmd *c, char *buf, size_t len)
{
	if (c->timed_out)
		snprintf(buf, len, "timed out after %d ms", c->timeout_ms);
	else if (c->signal != 0)
		snprintf(buf, len, "killed by signal %d", c->signal);
	else if (c->exited)
		snprintf(buf, len, "exited with status %d", c->exit_code);
	else
		snprintf(buf, len, "did not run");
}

void
run_cmd_clear(struct run_cmd *c)
{
	buf_clear(&c->out);
	buf_clear(&c->err);
}
