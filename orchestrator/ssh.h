/*
 * The SSH transport to the nodes (libssh2 1.10 over OpenSSL).
 *
 * One struct ssh_session per node, used by one thread at a time. Every
 * call takes a deadline (common/clock.h; 0 means none) and runs on a
 * non-blocking socket with poll(), so nothing blocks past it. While a
 * call waits for the node, keepalives go out every keepalive interval;
 * when nothing at all has come back for SSH_KEEPALIVE_COUNT intervals the
 * node is declared lost (like OpenSSH's ServerAliveCountMax).
 *
 * Host keys are verified against known_hosts (knownhosts.h) before any
 * authentication. Authentication tries, in order: ssh-agent (when
 * SSH_AUTH_SOCK is set), the target's identity file, then
 * ~/.ssh/id_ed25519. Passphrase-protected keys work through the agent.
 *
 * Failures are logged here, once, with the node's name and what was
 * happening ("node cp2: connection lost while running 'sha256sum' ...");
 * callers need not log them again. After a transport failure the session
 * is broken and every later call fails at once with CR_ERR_SSH.
 *
 * Commands are argv vectors of fixed strings. SSH hands the remote side a
 * command line that its shell interprets, so ssh_exec() refuses any
 * argument outside [A-Za-z0-9_./:=,+@%-]: no inventory or API data can be
 * turned into shell syntax, by accident or otherwise.
 */
#ifndef CR_SSH_H
#define CR_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Nothing received for this many keepalive intervals: the node is lost. */
#define SSH_KEEPALIVE_COUNT 3
/* Defaults for the zero values of struct ssh_opts. */
#define SSH_CONNECT_TIMEOUT_MS 15000
#define SSH_KEEPALIVE_S        10
/* Per-stream cap of what ssh_exec() and a channel's stderr collect. */
#define SSH_OUTPUT_MAX ((size_t)1024 * 1024)
#define SSH_STDERR_MAX ((size_t)64 * 1024)

/* Where and as whom to connect. All pointers are borrowed. */
struct ssh_target {
	const char *name;          /* node name, for messages only */
	const char *host;          /* address or DNS name */
	unsigned port;             /* 0 means 22 */
	const char *user;          /* remote user */
	const char *identity_file; /* private key file, or NULL */
};

/* How to connect; a zeroed struct gives the defaults. */
struct ssh_opts {
	const char *known_hosts; /* NULL: knownhosts_path() rules */
	bool
	    accept_new_host_keys; /* record unknown hosts instead of refusing */
	bool no_agent;            /* never ask ssh-agent */
	bool no_default_key;      /* never try ~/.ssh/id_ed25519 */
	int connect_timeout_ms;   /* 0: SSH_CONNECT_TIMEOUT_MS */
	int keepalive_s;          /* 0: SSH_KEEPALIVE_S; < 0: off */
};

struct ssh_session;
struct ssh_channel;

/* How a remote command ended, and what it printed. */
struct ssh_result {
	struct buf out;  /* standard output, up to SSH_OUTPUT_MAX */
	struct buf err;  /* standard error, up to SSH_STDERR_MAX */
	int exit_status; /* valid when signal[0] == '\0' */
	char signal[24]; /* "KILL" when killed by a signal, else "" */
};

#define SSH_RESULT_INIT                                                        \
	{                                                                      \
		BUF_INIT, BUF_INIT, -1, ""                                     \
	}

/* Remote file metadata (SFTP attributes). */
struct ssh_stat {
	uint64_t size;
	unsigned mode; /* permission and type bits as stat(2) */
	int64_t mtime; /* seconds since the epoch */
};

/*
 * Connects to t, verifies its host key and authenticates. On success *sp
 * is a session the caller releases with ssh_close(). Returns CR_ERR_SSH
 * (refused host key, failed authentication, protocol error, connection
 * lost), CR_ERR_TIMEOUT (the connect timeout passed) or CR_ERR_SYS (name
 * resolution, known_hosts I/O). An RSA key that the server refuses is
 * reported as such, with the advice to use an ed25519 key: libssh2 1.10
 * signs only with ssh-rsa (SHA-1), which OpenSSH 8.8 and later reject.
 */
enum cr_err ssh_connect(const struct ssh_target *t, const struct ssh_opts *o,
    struct ssh_session **sp) CR_MUST_CHECK;

/*
 * Says goodbye (best effort, briefly) and releases everything. NULL is a
 * no-op.
 */
void ssh_close(struct ssh_session *s);

/* The node name given at connect time; borrowed from s. */
const char *ssh_node_name(const struct ssh_session *s);

/*
 * Runs argv (fixed strings, see above) on the node with standard input
 * closed and collects its output into r (which the caller clears with
 * ssh_result_clear()). Returns CR_OK when it exited with status 0,
 * CR_ERR_SUBPROC when it exited non-zero or was killed (r says how),
 * CR_ERR_CONFIG for an argument that is not a fixed string, CR_ERR_SSH or
 * CR_ERR_TIMEOUT for the transport.
 */
enum cr_err ssh_exec(struct ssh_session *s, const char *const argv[],
    struct ssh_result *r, int64_t deadline) CR_MUST_CHECK;

/* Releases r's buffers and resets it to SSH_RESULT_INIT. */
void ssh_result_clear(struct ssh_result *r);

/*
 * Starts argv (as ssh_exec()) and returns a channel for streaming I/O over
 * its standard input and output; its standard error is collected (see
 * ssh_channel_stderr()). The caller ends it with ssh_channel_finish() and
 * releases it with ssh_channel_free(). The channel borrows s, which must
 * outlive it.
 */
enum cr_err ssh_channel_start(struct ssh_session *s, const char *const argv[],
    int64_t deadline, struct ssh_channel **chp) CR_MUST_CHECK;

/*
 * Reads up to len bytes of the command's standard output. *gotp is 0 at
 * end of file. Returns CR_ERR_TIMEOUT when nothing came before deadline
 * (the channel stays usable), CR_ERR_SSH when the transport failed.
 */
enum cr_err ssh_channel_read(struct ssh_channel *ch, void *buf, size_t len,
    size_t *gotp, int64_t deadline) CR_MUST_CHECK;

/* Writes all len bytes to the command's standard input. */
enum cr_err ssh_channel_write(struct ssh_channel *ch, const void *buf,
    size_t len, int64_t deadline) CR_MUST_CHECK;

/*
 * Closes standard input, discards remaining output, waits for the command
 * to end and fills r (output is not collected; r->err gets the stderr
 * collected so far). Returns as ssh_exec().
 */
enum cr_err ssh_channel_finish(struct ssh_channel *ch, struct ssh_result *r,
    int64_t deadline) CR_MUST_CHECK;

/*
 * What the command wrote to standard error so far (up to SSH_STDERR_MAX),
 * for diagnostics. Borrowed; valid until the next call on ch.
 */
const char *ssh_channel_stderr(const struct ssh_channel *ch);

/* Releases ch (closing it abruptly if unfinished). NULL is a no-op. */
void ssh_channel_free(struct ssh_channel *ch);

/*
 * SFTP stat of a remote path. Returns CR_ERR_NOTFOUND when it does not
 * exist, CR_ERR_SSH for other failures (logged).
 */
enum cr_err ssh_stat(struct ssh_session *s, const char *path,
    struct ssh_stat *st, int64_t deadline) CR_MUST_CHECK;

/*
 * Creates directory path with mode (its parent must exist); an existing
 * directory gets its mode set to mode. Returns CR_ERR_SSH on failure.
 */
enum cr_err ssh_mkdir(struct ssh_session *s, const char *path, unsigned mode,
    int64_t deadline) CR_MUST_CHECK;

/*
 * Copies local file local to the new remote file remote (which must not
 * exist: it is created exclusively), fsyncs it and sets mode. On failure
 * the remote file is removed. Returns CR_ERR_SYS when the local file
 * cannot be read, CR_ERR_SSH or CR_ERR_TIMEOUT for the transfer.
 */
enum cr_err ssh_upload(struct ssh_session *s, const char *local,
    const char *remote, unsigned mode, int64_t deadline) CR_MUST_CHECK;

/* Removes the remote file path (SFTP unlink); a missing file is CR_OK. */
enum cr_err ssh_unlink(struct ssh_session *s, const char *path,
    int64_t deadline) CR_MUST_CHECK;

/*
 * Copies the remote directory tree remote into local (created): regular
 * files 0600 (each written under a temporary name, fsync'd, renamed),
 * directories 0700, at most 8 levels; symbolic links and special files are
 * left out, and entry names from the node can never leave local. For
 * fetching backups to the workstation. Errors are logged here.
 */
enum cr_err ssh_download_tree(struct ssh_session *s, const char *remote,
    const char *local, int64_t deadline) CR_MUST_CHECK;

/*
 * Runs fn(arg, i) for every i in [0, n) on at most max_threads threads at
 * once (0 means n) and stores each result in results[i] (an array of n
 * that the caller owns). Returns CR_OK when every call returned CR_OK,
 * else the first failure in index order. For read-only work only (inspect,
 * health): disruptive steps never run in parallel.
 */
enum cr_err ssh_parallel(size_t n, unsigned max_threads,
    enum cr_err (*fn)(void *arg, size_t i), void *arg,
    enum cr_err *results) CR_MUST_CHECK;

#endif /* CR_SSH_H */
