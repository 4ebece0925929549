/*
 * The client credential of a kubeconfig file, as kubeadm's renewal reads
 * and rewrites it (kubeadm.md §1.3 step 9): the current context names a
 * user and a cluster; the user holds a client certificate and key, either
 * embedded (client-certificate-data / client-key-data, base64 of PEM) or
 * as file references (client-certificate / client-key, relative to the
 * kubeconfig's directory); the cluster holds the CA (certificate-
 * authority-data or certificate-authority) and the server URL.
 *
 * kcfgcert_replace() rewrites only the embedded certificate, key and CA
 * data of that user and cluster; every other entry of the file is kept as
 * parsed (comments are not: kubeconfigs written by client-go have none),
 * and the file is replaced atomically with its mode kept.
 *
 * The file is parsed with ydoc.h; nothing here logs. Errors carry a
 * position and a message in a struct ydoc_diag.
 */
#ifndef CR_KCFGCERT_H
#define CR_KCFGCERT_H

#include <stdbool.h>

#include "buf.h"
#include "err.h"
#include "ydoc.h"

/* Largest kubeconfig, or referenced PEM file, that is read. */
#define KCFGCERT_MAX_FILE ((size_t)4 * 1024 * 1024)

struct kcfgcert {
	char *path;    /* the kubeconfig file */
	char *context; /* current-context */
	char *user;    /* the context's user */
	char *cluster; /* the context's cluster */
	char *server;  /* the cluster's server URL, or NULL */
	/* The client certificate and key as PEM, and their file or NULL. */
	struct buf cert_pem;
	char *cert_file;
	struct buf key_pem; /* secret: wiped by kcfgcert_free() */
	char *key_file;
	/* The cluster's CA as PEM (empty if the cluster names none). */
	struct buf ca_pem;
	char *ca_file;
	/* Private: the parsed file and the nodes replace() edits. */
	struct ydoc *doc;
	struct ydoc_node *user_node;
	struct ydoc_node *cluster_node;
	const struct kcfgcert_remap *remap; /* during the load only */
};

/*
 * Loads path and resolves its current context's credential. Returns
 * CR_ERR_SYS (errno set) when path cannot be read; CR_ERR_CONFIG when it
 * is not valid YAML, has no current context, names a context, user or
 * cluster it does not define, holds malformed base64, or has no client
 * certificate or key; CR_ERR_NOTFOUND when a referenced file does not
 * exist. diag (may be NULL) then says where and what. On success *kcp
 * must be released with kcfgcert_free().
 */
enum cr_err kcfgcert_load(const char *path, struct kcfgcert **kcp,
    struct ydoc_diag *diag) CR_MUST_CHECK;

/*
 * A directory a kubeconfig's file references should be read from another
 * place: a reference under from/ is read under to/ instead (the agent
 * inspects a node's kubelet.conf, which names /var/lib/kubelet/pki/...,
 * with the kubelet dir it was told about).
 */
struct kcfgcert_remap {
	const char *from;
	const char *to;
};

/* kcfgcert_load() with file references remapped; remap may be NULL. */
enum cr_err kcfgcert_load_remap(const char *path,
    const struct kcfgcert_remap *remap, struct kcfgcert **kcp,
    struct ydoc_diag *diag) CR_MUST_CHECK;

/*
 * Like kcfgcert_load(), but for the named user (and the named cluster,
 * when this file defines it) instead of the current context's: a
 * kubeconfig chosen with --context, or a user that one file of $KUBECONFIG
 * defines while another sets current-context. Without that cluster,
 * cluster, server and ca_pem stay empty and kcfgcert_replace() leaves the
 * CA data alone. Returns CR_ERR_NOTFOUND when the file does not define
 * the user; otherwise as kcfgcert_load(). On success *kcp must be
 * released with kcfgcert_free().
 */
enum cr_err kcfgcert_load_user(const char *path, const char *user,
    const char *cluster, struct kcfgcert **kcp,
    struct ydoc_diag *diag) CR_MUST_CHECK;

/* Wipes the key and releases kc. Passing NULL is a no-op. */
void kcfgcert_free(struct kcfgcert *kc);

/* True when the client certificate and key are both embedded data. */
bool kcfgcert_embedded(const struct kcfgcert *kc);

/* New PEM material for kcfgcert_replace(); all borrowed. */
struct kcfgcert_creds {
	const struct buf *cert;
	const struct buf *key;
	const struct buf *ca; /* NULL or empty: leave the CA data alone */
};

/*
 * Replaces the embedded client certificate and key of kc's user and,
 * when the cluster embeds certificate-authority-data, that data too; then
 * rewrites kc->path atomically with its mode kept and updates kc's PEM
 * buffers. Returns CR_ERR_STATE when the credential uses file references
 * (kubeadm renews only embedded ones), CR_ERR_CONFIG when the document
 * cannot be emitted, CR_ERR_SYS (errno set) when the write fails.
 */
enum cr_err kcfgcert_replace(struct kcfgcert *kc,
    const struct kcfgcert_creds *c) CR_MUST_CHECK;

#endif /* CR_KCFGCERT_H */
