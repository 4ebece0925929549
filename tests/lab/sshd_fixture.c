#include "sshd_fixture.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "cu_run.h"
#include "run.h"

#define SSHD "/usr/sbin/sshd"

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

int
sshd_fixture_run(const char *const argv[])
{
	struct run_cmd c = RUN_CMD_INIT;
	int rc;

	c.argv = argv;
	c.timeout_ms = 20000;
	rc = run_cmd(&c) == CR_OK ? 0 : (c.exited ? c.exit_code : -1);
	if (rc != 0)
		fprintf(stderr, "%s: %s%s", argv[0], buf_cstr(&c.out),
		    buf_cstr(&c.err));
	run_cmd_clear(&c);
	return rc;
}

void
sshd_fixture_write(const char *path, const char *text, int mode)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) == EOF || fclose(fp) != 0)
		die(path);
	if (chmod(path, (mode_t)mode) == -1)
		die(path);
}

void
sshd_fixture_read_line(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");

	if (fp == NULL || fgets(buf, (int)len, fp) == NULL)
		die(path);
	fclose(fp);
	buf[strcspn(buf, "\n")] = '\0';
}

/* A port nobody listens on now at addr (the race is harmless in tests). */
static unsigned
free_port(const char *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		die("bind");
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static bool
accepts(const struct sshd_fixture *f)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sin.sin_port = htons((unsigned short)f->port);
	inet_pton(AF_INET, f->addr, &sin.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void
keygen(const char *path)
{
	const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
		"-C", "fixture", "-f", path, NULL };

	if (sshd_fixture_run(argv) != 0)
		exit(2);
}

/*
 * Sessions get HOME set to the fixture's directory: a remote command runs
 * through the user's login shell, and Debian's bash reads ~/.bashrc when
 * sshd starts it. The invoking user's startup files are no part of the
 * test: on this machine root's runs `pyenv init`, which waits up to 60 s
 * for a lock file that a session killed mid-startup (as the tests do)
 * leaves behind, so every later command "timed out".
 */
static void
write_config(struct sshd_fixture *f)
{
	char path[300], text[2048];

	snprintf(text, sizeof(text),
	    "ListenAddress %s:%u\nHostKey %s/host_ed25519\n"
	    "PidFile %s/sshd.pid\nAuthorizedKeysFile %s\n"
	    "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
	    "PermitRootLogin prohibit-password\n"
	    "Subsystem sftp /usr/lib/openssh/sftp-server\n"
	    "SetEnv HOME=%s\n",
	    f->addr, f->port, f->dir, f->dir, f->authorized, f->dir);
	snprintf(path, sizeof(path), "%s/sshd_config", f->dir);
	sshd_fixture_write(path, text, 0644);
}

static void
write_keys(struct sshd_fixture *f)
{
	char path[300], pub[300], line[1024], text[1200];

	snprintf(path, sizeof(path), "%s/host_ed25519", f->dir);
	keygen(path);
	snprintf(f->host_pub, sizeof(f->host_pub), "%s/host_ed25519.pub",
	    f->dir);
	snprintf(f->client_key, sizeof(f->client_key), "%s/id_ed25519", f->dir);
	keygen(f->client_key);
	snprintf(pub, sizeof(pub), "%s/id_ed25519.pub", f->dir);
	path[0] = '\0';
	sshd_fixture_read_line(pub, line, sizeof(line));
	snprintf(f->authorized, sizeof(f->authorized), "%s/authorized_keys",
	    f->dir);
	snprintf(text, sizeof(text), "%s\n", line);
	sshd_fixture_write(f->authorized, text, 0600);
	sshd_fixture_read_line(f->host_pub, line, sizeof(line));
	*strrchr(line, ' ') = '\0'; /* drop the comment */
	snprintf(text, sizeof(text), "[%s]:%u %s\n", f->addr, f->port, line);
	snprintf(f->known_hosts, sizeof(f->known_hosts), "%s/known_hosts",
	    f->dir);
	sshd_fixture_write(f->known_hosts, text, 0600);
}

static void
spawn(struct sshd_fixture *f)
{
	char cfg[300], log[300];
	int64_t deadline;

	snprintf(cfg, sizeof(cfg), "%s/sshd_config", f->dir);
	snprintf(log, sizeof(log), "%s/sshd.log", f->dir);
	if ((f->pid = fork()) == -1)
		die("fork");
	if (f->pid == 0) {
		execl(SSHD, SSHD, "-D", "-f", cfg, "-E", log, (char *)NULL);
		_exit(127);
	}
	deadline = clock_deadline_ms(10000);
	while (!accepts(f)) {
		if (clock_expired(deadline) || waitpid(f->pid, NULL, WNOHANG))
			fprintf(stderr, "sshd did not start; see %s\n", log),
			    exit(2);
		clock_sleep_ms(20);
	}
}

int
sshd_fixture_start(struct sshd_fixture *f)
{
	const struct passwd *pw = getpwuid(getuid());

	memset(f, 0, sizeof(*f));
	if (access(SSHD, X_OK) != 0) {
		fprintf(stderr, "skip: %s not installed (openssh-server)\n",
		    SSHD);
		return 77;
	}
	/* Privilege separation needs it when sshd runs as root (P4). */
	if (geteuid() == 0 && mkdir("/run/sshd", 0755) == -1 && errno != EEXIST)
		die("/run/sshd");
	snprintf(f->dir, sizeof(f->dir), "%s", cu_tmpdir());
	snprintf(f->addr, sizeof(f->addr), "127.0.0.%d",
	    20 + (int)(getpid() % 200));
	snprintf(f->user, sizeof(f->user), "%s",
	    pw != NULL ? pw->pw_name : "root");
	f->port = free_port(f->addr);
	write_keys(f);
	write_config(f);
	spawn(f);
	return 0;
}

/* A decimal PID, or -1 for anything else. */
static pid_t
parse_pid(const char *s, char **endp)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (endp != NULL)
		*endp = end;
	if (errno != 0 || end == s || v <= 0 || v > 4194304)
		return -1;
	return (pid_t)v;
}

/* The parent from /proc/PID/stat: "PID (comm) STATE PPID ...". */
static pid_t
parent_of(pid_t pid)
{
	char path[64], stat[512], *p;
	FILE *fp;
	pid_t ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(stat, sizeof(stat), fp) != NULL &&
	    (p = strrchr(stat, ')')) != NULL && strlen(p) > 4)
		ppid = parse_pid(p + 4, NULL);
	fclose(fp);
	return ppid;
}

static bool
below(pid_t pid, pid_t root)
{
	int depth;

	for (depth = 0; depth < 16 && pid > 1; depth++)
		if ((pid = parent_of(pid)) == root)
			return true;
	return false;
}

/*
 * Every PID is collected before any is signalled: a session process whose
 * sshd parent died first is reparented to init, no longer looks "below"
 * the listener, and was left behind (stopped, after SIGSTOP) for good.
 */
int
sshd_fixture_signal_sessions(const struct sshd_fixture *f, int sig)
{
	DIR *d = opendir("/proc");
	const struct dirent *de;
	pid_t pid, pids[512];
	size_t i, npids = 0;
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL && npids < 512) {
		char *end;

		if ((pid = parse_pid(de->d_name, &end)) <= 0 || *end != '\0' ||
		    pid == f->pid)
			continue;
		if (below(pid, f->pid))
			pids[npids++] = pid;
	}
	if (d != NULL)
		closedir(d);
	for (i = 0; i < npids; i++)
		if (kill(pids[i], sig) == 0)
			n++;
	return n;
}

void
sshd_fixture_stop(struct sshd_fixture *f)
{
	const char *rm[] = { "rm", "-rf", f->dir, NULL };

	if (f->pid > 0) {
		sshd_fixture_signal_sessions(f, SIGKILL);
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	if (f->dir[0] != '\0' && sshd_fixture_run(rm) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
}
