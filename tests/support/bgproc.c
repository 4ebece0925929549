#include "bgproc.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

static void
child(int out[2], const char *const *argv, const char *errlog)
{
	char *const *av;
	int fd;

	/* execvp() takes the strings as char *const[]; it does not write. */
	memcpy(&av, &argv, sizeof(av));

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (errlog != NULL &&
	    (fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600)) != -1) {
		dup2(fd, 2);
		close(fd);
	}
	dup2(out[1], 1);
	close(out[0]);
	close(out[1]);
	execvp(argv[0], av);
	_exit(127);
}

enum cr_err
bgproc_start(struct bgproc *p, const char *const *argv, const char *errlog)
{
	int out[2];
	pid_t pid;

	if (pipe(out) == -1)
		return CR_ERR_SYS;
	if ((pid = fork()) == -1) {
		close(out[0]);
		close(out[1]);
		return CR_ERR_SYS;
	}
	if (pid == 0)
		child(out, argv, errlog);
	/* Also here, so a kill before the child's setpgid cannot miss it. */
	setpgid(pid, pid);
	close(out[1]);
	fcntl(out[0], F_SETFD, FD_CLOEXEC);
	p->pid = pid;
	p->out = out[0];
	return CR_OK;
}

enum cr_err
bgproc_read_line(struct bgproc *p, char *line, size_t cap, int timeout_ms)
{
	int64_t deadline = clock_deadline_ms(timeout_ms);
	struct pollfd pfd = { .fd = p->out, .events = POLLIN };
	size_t n = 0;
	char c;

	while (n + 1 < cap) {
		if (poll(&pfd, 1, clock_remaining_ms(deadline)) == 0)
			return CR_ERR_TIMEOUT;
		if (read(p->out, &c, 1) != 1)
			return CR_ERR_SYS;
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	return CR_OK;
}

/* True once the child has exited; it stays a zombie holding its PID. */
static bool
exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 &&
	    si.si_pid == pid;
}

void
bgproc_stop(struct bgproc *p)
{
	int i, status;

	if (p->pid > 0) {
		kill(-p->pid, SIGTERM);
		for (i = 0; i < 500 && !exited(p->pid); i++)
			clock_sleep_ms(10);
		/*
		 * The unreaped leader keeps the group's ID ours, so this only
		 * reaches what the test started: a leader that ignored
		 * SIGTERM and children that outlived it.
		 */
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
	}
	if (p->out != -1)
		close(p->out);
	p->pid = -1;
	p->out = -1;
}

/* Binds a socket to 127.0.0.1:port (0: any); the port in *portp. */
static int
bind_port(int port, int *portp)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		close(fd);
		return -1;
	}
	*portp = ntohs(sa.sin_port);
	return fd;
}

/*
 * Ports the kernel never hands to outgoing connections: below its
 * ephemeral range. A port from bind(0) lies inside that range, so a busy
 * machine's next connection may take it as its source port before the
 * child binds it (seen as EADDRINUSE).
 */
static bool
quiet_range(int *lo, int *hi)
{
	FILE *fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	char line[64];
	long first = 32768;

	if (fp != NULL) {
		if (fgets(line, sizeof(line), fp) != NULL)
			first = strtol(line, NULL, 10);
		fclose(fp);
	}
	*lo = 10000;
	*hi = first > 0 && first <= 65536 ? (int)first - 1 : 32767;
	return *hi - *lo >= 1000;
}

/* One port, not yet in ports[0..n), held open by the returned fd. */
static int
pick(int *ports, size_t n, unsigned *seed)
{
	int lo, hi, port, tries, fd;
	size_t i;

	if (!quiet_range(&lo, &hi))
		return bind_port(0, &ports[n]);
	for (tries = 0; tries < 500; tries++) {
		port = lo + rand_r(seed) % (hi - lo + 1);
		for (i = 0; i < n && ports[i] != port; i++)
			;
		if (i == n && (fd = bind_port(port, &ports[n])) != -1)
			return fd;
	}
	return -1;
}

int
bgproc_free_port(void)
{
	int port = -1;

	return bgproc_free_ports(&port, 1) == 0 ? port : -1;
}

int
bgproc_free_ports(int *ports, size_t n)
{
	unsigned seed = (unsigned)clock_mono_ms() ^ (unsigned)getpid() << 16;
	int fds[16];
	size_t i, got;
	int rc = 0;

	if (n > 16)
		return -1;
	for (got = 0; got < n; got++)
		if ((fds[got] = pick(ports, got, &seed)) == -1) {
			rc = -1;
			break;
		}
	for (i = 0; i < got; i++)
		close(fds[i]);
	return rc;
}
