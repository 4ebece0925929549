/*
 * Helpers the agentcert tests share: running programs (certroll-pkigen,
 * the openssl CLI, the kubeadm stand-in) and reading files. Test code
 * only; failures to start a program are fatal, as in cu_tmpdir().
 */
#ifndef CR_CERTTEST_H
#define CR_CERTTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Runs argv (NULL-terminated) with a 120 s deadline, standard output into
 * out when not NULL (appended). Returns the exit status, or -1 when it was
 * killed or timed out.
 */
int ct_run(const char *const *argv, struct buf *out);

/*
 * Runs certroll-pkigen (from CR_BIN_DIR) with the arguments that follow,
 * up to a NULL. Returns its exit status.
 */
int ct_pkigen(const char *arg, ...) __attribute__((sentinel));

/*
 * The directory of a shared key pool for certroll-pkigen --key-pool, so
 * RSA keys are generated once for every test program and run.
 */
const char *ct_key_pool(void);

/*
 * "openssl x509 -in file -noout <opt> [value]" and its output with the
 * "name=" prefix and trailing newline removed, as a new string; NULL when
 * openssl fails.
 */
char *ct_x509(const char *file, const char *opt, const char *value);

/* The whole file as a new string, or NULL when it cannot be read. */
char *ct_slurp(const char *path);

/* "dir/rel" as a new string. */
char *ct_path(const char *dir, const char *rel);

/* True when both files exist and hold the same bytes. */
bool ct_same_file(const char *a, const char *b);

/* Writes text to path (0600), creating parent directories; fatal on error. */
void ct_write(const char *path, const char *text);

/* st_mode & 07777 of path, or -1. */
int ct_mode(const char *path);

#endif /* CR_CERTTEST_H */
