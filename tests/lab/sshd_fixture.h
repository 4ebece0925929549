/*
 * A real OpenSSH sshd for the SSH unit tests, without root or namespaces
 * (lab.md §7): it listens on 127.0.0.N at a free high port, with its own
 * ed25519 host key, configuration and authorized_keys in a private
 * temporary directory, and accepts the invoking user's login with the
 * client key made here. Stopped by PID; the directory is removed.
 */
#ifndef CR_SSHD_FIXTURE_H
#define CR_SSHD_FIXTURE_H

#include <sys/types.h>

#include <stdbool.h>

struct sshd_fixture {
	char dir[256]; /* private temporary directory */
	char addr[32]; /* "127.0.0.N" */
	unsigned port;
	pid_t pid;             /* the listening sshd */
	char user[64];         /* who logs in (the invoking user) */
	char client_key[512];  /* ed25519 key in authorized_keys */
	char host_pub[512];    /* the host's public key file */
	char known_hosts[512]; /* "[addr]:port" with the host key */
	char authorized[512];  /* the authorized_keys file */
};

/*
 * Starts sshd. Returns 0, or 77 (the CTest skip code) with the reason on
 * stderr when OpenSSH's server is not installed; other failures are fatal.
 */
int sshd_fixture_start(struct sshd_fixture *f);

/* Stops sshd and every session process below it, removes the directory. */
void sshd_fixture_stop(struct sshd_fixture *f);

/*
 * Sends sig to every process below the listening sshd (the per-connection
 * sshd processes and their sessions): SIGSTOP makes a node that stops
 * answering, SIGKILL one whose sshd dies. Returns how many were signalled.
 */
int sshd_fixture_signal_sessions(const struct sshd_fixture *f, int sig);

/* Runs argv (no shell) and returns its exit status; output to stderr. */
int sshd_fixture_run(const char *const argv[]);

/* Writes text to path with mode; fatal on failure. */
void sshd_fixture_write(const char *path, const char *text, int mode);

/* The first line of path (without the newline) into buf; fatal if absent. */
void sshd_fixture_read_line(const char *path, char *buf, size_t len);

#endif /* CR_SSHD_FIXTURE_H */
