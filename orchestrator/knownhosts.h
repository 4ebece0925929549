/*
 * SSH host key verification against an OpenSSH known_hosts file (safety
 * invariant 7). libssh2's knownhost API does the matching, including
 * hashed entries ("|1|salt|hash") and non-default ports ("[host]:2222");
 * this module adds what an operator needs around it: the file to use, the
 * fingerprint in OpenSSH's format, the line to fix when a key changed, and
 * recording a new host atomically when the operator allowed it.
 */
#ifndef CR_KNOWNHOSTS_H
#define CR_KNOWNHOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include <libssh2.h>

#include "err.h"

/* Environment variable naming the known_hosts file (after --known-hosts). */
#define KNOWNHOSTS_ENV "CERTROLL_KNOWN_HOSTS"

/* One known_hosts line that names a host. */
struct knownhosts_entry {
	unsigned line;    /* 1-based */
	char keytype[48]; /* "ssh-ed25519", "ecdsa-sha2-nistp256" */
	bool hashed;      /* the host was matched through a |1| hash */
};

struct knownhosts_list {
	struct knownhosts_entry *v;
	size_t n;
};

/*
 * Returns the known_hosts file to use as a new string the caller frees:
 * explicit when not NULL, else $CERTROLL_KNOWN_HOSTS, else
 * ~/.ssh/known_hosts (home from $HOME, then the password database).
 */
char *knownhosts_path(const char *explicit_path);

/* Writes "host" for port 22 and "[host]:port" otherwise (OpenSSH's form). */
void knownhosts_hostspec(const char *host, unsigned port, char *buf,
    size_t len);

/*
 * Writes "SHA256:" and the unpadded base64 of a 32-byte SHA-256 digest,
 * as ssh-keygen -l prints it.
 */
void knownhosts_fingerprint(const unsigned char *digest, char *buf, size_t len);

/*
 * OpenSSH's name of a libssh2 host key type (LIBSSH2_HOSTKEY_TYPE_*), or
 * "unknown".
 */
const char *knownhosts_keytype_name(int type);

/*
 * Parses the known_hosts text data (len bytes) and appends to out every
 * line whose host patterns name host:port exactly, plain or hashed (no
 * wildcards, as libssh2). Comment, marker (@cert-authority, @revoked) and
 * malformed lines are skipped. Pure: no I/O, no logging. The caller owns
 * out and releases it with knownhosts_list_clear().
 */
void knownhosts_scan(const char *data, size_t len, const char *host,
    unsigned port, struct knownhosts_list *out);

/* Releases the entries and resets l. */
void knownhosts_list_clear(struct knownhosts_list *l);

/*
 * Returns the host key algorithms to offer, best first, as a new string
 * to free: the key types known for this host come first (so the server
 * presents the key we can check), then libssh2's others.
 */
char *knownhosts_algorithms(const struct knownhosts_list *known);

/* What knownhosts_verify() checks. All pointers are borrowed. */
struct knownhosts_check {
	const char *path; /* the known_hosts file */
	const char *node; /* for messages */
	const char *host; /* as connected to */
	unsigned port;
	bool accept_new; /* record an unknown host instead of refusing */
};

/*
 * Checks the host key the session (after its handshake) received. Returns
 * CR_OK when the key is known for host:port, or when it was unknown,
 * accept_new is set and the key was appended to the file (atomically; the
 * file and its directory are created when missing). Returns CR_ERR_SSH
 * for an unknown host without accept_new and for a changed key (always,
 * with the fingerprint and the known_hosts line to fix), CR_ERR_SYS when
 * the file cannot be read or written. Each failure is logged once here
 * with the node name.
 */
enum cr_err knownhosts_verify(LIBSSH2_SESSION *ls,
    const struct knownhosts_check *c) CR_MUST_CHECK;

#endif /* CR_KNOWNHOSTS_H */
