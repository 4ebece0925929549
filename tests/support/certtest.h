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
#include "ydoc.h"

/*
 * A fresh private temporary directory (cu_tmpdir()) that is removed with
 * everything in it when the test program exits, unless CR_TEST_KEEP is
 * set in the environment. Static storage, valid until the next call.
 */
const char *ct_tmpdir(void);

/*
 * Runs argv (NULL-terminated) with a 120 s deadline, standard output into
 * out when not NULL (appended). Returns the exit status, or -1 when it was
 * killed or timed out.
 */
int ct_run(const char *const *argv, struct buf *out);

/*
 * Runs certroll-pkigen (from CR_BIN_DIR) with the arguments in args, up to
 * the first NULL. Returns its exit status.
 */
int ct_pkigen_v(const char *const *args);

/* ct_pkigen_v() with the arguments listed: CT_PKIGEN("ca", "--dir", d). */
#define CT_PKIGEN(...) ct_pkigen_v((const char *const[]){ __VA_ARGS__, NULL })

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

/* The clock the test CAs are made with (certroll-pkigen --now). */
#define CT_FIXED_NOW "2026-11-28T13:00:00Z"

/* A CA dir and one node's tree made by certroll-pkigen, in cu_tmpdir(). */
struct ct_tree {
	char *dir;     /* the temporary directory */
	char *ca;      /* dir/ca: the shared CAs */
	char *kdir;    /* dir/kubernetes: the node's /etc/kubernetes */
	char *kubelet; /* dir/kubelet: for --kubelet-dir */
};

/*
 * Makes the CAs (key type ca_alg, dated CT_FIXED_NOW) and node cp1
 * (10.0.0.1) with the extra node options (NULL-terminated, may be NULL;
 * the word "KUBELET" stands for t->kubelet). Keys come from the shared
 * pool. Fatal on failure.
 */
void ct_tree_make(struct ct_tree *t, const char *ca_alg,
    const char *const *extra);
void ct_tree_free(struct ct_tree *t);

/*
 * Every file and symlink under dir with its mode and SHA-256, sorted, as
 * one string to free(): equal strings mean byte-identical trees.
 */
char *ct_digest(const char *dir);

/* Parses the YAML file path; fatal when it does not parse. */
struct ydoc *ct_parse_yaml(const char *path);

/*
 * True if a and b are equal trees, except for the values of the mapping
 * keys listed in skip (NULL-terminated).
 */
bool ct_same_tree(const struct ydoc_node *a, const struct ydoc_node *b,
    const char *const *skip);

/* st_mode & 07777 of path, or -1. */
int ct_mode(const char *path);

#endif /* CR_CERTTEST_H */
