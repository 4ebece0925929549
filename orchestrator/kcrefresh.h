/*
 * certroll kubeconfig refresh: replaces the client certificate and key of
 * the workstation kubeconfig's user with the ones of a node's renewed
 * admin.conf, fetched through the agent (READ_FILE), never through the
 * API: it must work when the old certificate has expired.
 *
 * The steps, each its own function so the checks are testable alone:
 *
 *   kcrefresh_load_current()  the user's credential, refused unless it is
 *                             an embedded client certificate
 *   kcrefresh_fetch()         admin.conf from --node, or from the node
 *                             whose admin.conf expires last
 *   kcrefresh_check()         same cluster, chain, key, later expiry,
 *                             same identity (kubeadm.md §2.5)
 *   kcrefresh_write()         backup <file>.certroll-<UTC time> (0600),
 *                             then the atomic replacement (mode kept)
 *
 * Only client-certificate-data and client-key-data of that user change,
 * plus the cluster's certificate-authority-data when admin.conf carries
 * a re-issued copy of the same CA (kubeadm refreshes it on renewal too);
 * every other entry of the file is kept as parsed (common/kcfgcert.h).
 * Secrets are never logged; the fetched admin.conf lives in memory only.
 */
#ifndef CR_KCREFRESH_H
#define CR_KCREFRESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "certinfo.h"
#include "ctx.h"
#include "err.h"
#include "kcfgcert.h"
#include "kubecfg.h"

struct kcrefresh_opts {
	const char *node;     /* --node; NULL: the best node */
	bool dry_run;         /* check and report, write nothing */
	bool accept_identity; /* allow admin.conf's subject to replace ours */
};

/* What the refresh found and did, for the report. */
struct kcrefresh_result {
	char *source; /* "cp1:/etc/kubernetes/admin.conf" */
	struct cert_info old_cert;
	struct cert_info new_cert;
	bool identity_changed; /* accepted with accept_identity */
	bool ca_replaced;      /* certificate-authority-data changes too */
	char *backup;          /* the backup's path */
};

/* What kcrefresh_check() compares. All borrowed. */
struct kcrefresh_input {
	const struct kcfgcert *cur;   /* the kubeconfig's credential */
	const char *cluster_ca;       /* CA bundle kubectl trusts, or NULL */
	size_t cluster_ca_len;        /* its length */
	const struct kcfgcert *fresh; /* the node's admin.conf */
	time_t now;
};

/*
 * Loads the credential of cfg's user from the file that defines it
 * (symlinks followed, so the link's target is what gets rewritten).
 * Refuses with CR_ERR_STATE, and says in why what to do instead, a user
 * that authenticates with an exec plugin, a bearer token or no
 * certificate at all, and one whose certificate or key is a file
 * reference; CR_ERR_CONFIG or CR_ERR_SYS when the file cannot be read
 * (why names it). On success *kcp must be released with kcfgcert_free().
 */
enum cr_err kcrefresh_load_current(const struct kubecfg *cfg,
    struct kcfgcert **kcp, char *why, size_t len) CR_MUST_CHECK;

/*
 * Parses the bytes of a node's admin.conf (in memory; nothing touches the
 * disk). Refuses with CR_ERR_CONFIG, why filled, a document that does not
 * parse, has no current context, or names any file (a path in a fetched
 * file would be read on this machine). On success *kcp must be released
 * with kcfgcert_free().
 */
enum cr_err kcrefresh_parse_admin(const void *data, size_t len,
    struct kcfgcert **kcp, char *why, size_t whylen) CR_MUST_CHECK;

/*
 * The checks before anything is written. Fills res's old_cert, new_cert,
 * identity_changed and ca_replaced. Returns CR_OK when the refresh may go
 * ahead; otherwise why says what is wrong and what to do:
 * CR_ERR_CERT     a certificate or key does not parse, or admin.conf
 *                 carries no CA;
 * CR_ERR_STATE    admin.conf belongs to another cluster (its CA is not the
 *                 kubeconfig's), its certificate expires no later than
 *                 ours, or its subject differs and !o->accept_identity;
 * CR_ERR_VERIFY   its certificate does not chain to the CA, or its key
 *                 does not match.
 */
enum cr_err kcrefresh_check(const struct kcrefresh_input *in,
    const struct kcrefresh_opts *o, struct kcrefresh_result *res, char *why,
    size_t len) CR_MUST_CHECK;

/*
 * "<path>.certroll-<YYYYMMDDTHHMMSSZ>", with "-N" added while that name
 * exists. To free().
 */
char *kcrefresh_backup_path(const char *path, time_t now);

/*
 * Copies cur's file to a new backup (res->backup, mode 0600), then
 * replaces the credential with fresh's (and the CA data when
 * res->ca_replaced) in one atomic write that keeps the file's mode.
 * Returns CR_ERR_SYS (logged with the file) when either write fails; the
 * kubeconfig is then unchanged.
 */
enum cr_err kcrefresh_write(struct kcfgcert *cur, const struct kcfgcert *fresh,
    time_t now, struct kcrefresh_result *res) CR_MUST_CHECK;

/*
 * Fetches admin.conf for c's inventory (loaded) into *freshp and sets
 * res->source: from node o->node, or else from the node whose admin.conf
 * expires last (every node inspected in parallel; unreachable ones are
 * skipped). Failures are logged with the node. Returns CR_ERR_NOTFOUND for
 * an unknown --node, CR_ERR_SSH when no node could be read, the agent's
 * error, or CR_ERR_CONFIG for an admin.conf that is not usable. On success
 * *freshp must be released with kcfgcert_free().
 */
enum cr_err kcrefresh_fetch(struct ctx *c, const struct kcrefresh_opts *o,
    int64_t deadline, struct kcfgcert **freshp,
    struct kcrefresh_result *res) CR_MUST_CHECK;

/*
 * The whole refresh, for c with its inventory and kubeconfig loaded and
 * cur from kcrefresh_load_current(): kcrefresh_fetch(), kcrefresh_check(),
 * then kcrefresh_write() (with o->dry_run, nothing is written), and
 * kcrefresh_print() to stdout. Returns CR_OK when refreshed (or, in a dry
 * run, when it would be); otherwise the error of the step that refused or
 * failed, already logged with the reason and what to do.
 */
enum cr_err kcrefresh_run(struct ctx *c, const struct kcrefresh_opts *o,
    struct kcfgcert *cur, int64_t deadline) CR_MUST_CHECK;

/* What to do with the kubeconfig after the nodes were renewed. */
enum kcrefresh_when {
	KCREFRESH_HINT,   /* only say how to refresh it */
	KCREFRESH_ASK,    /* ask on a terminal; elsewhere, only say how */
	KCREFRESH_ALWAYS, /* refresh it */
};

/*
 * The end of a renewal (apply, resume, recover): fetches and checks the
 * renewed admin.conf against c's kubeconfig as kcrefresh_run() does (the
 * default node, the identity check). When the check passes it refreshes
 * the kubeconfig as when says, or prints the command that would; when the
 * check refuses, it asks nothing and prints why, with what to do. A user
 * that does not log in with an embedded client certificate is only told
 * why there is nothing to refresh. Everything goes to stdout, except the
 * question (stderr). The renewal's outcome does not depend on it: a
 * refusal is printed, not returned.
 */
void kcrefresh_after(struct ctx *c, enum kcrefresh_when when);

/*
 * Prints what changed (or, with dry_run, what would): the file and user,
 * the source, the old and new subject, expiry and serial, the backup.
 */
void kcrefresh_print(const struct kcrefresh_result *res, const char *file,
    const char *user, bool dry_run, FILE *fp);

/* Releases the members of res and zeroes it. */
void kcrefresh_result_clear(struct kcrefresh_result *res);

#endif /* CR_KCREFRESH_H */
