/*
 * Ansible inventories (INI and YAML, including Kubespray's hosts.yaml)
 * resolved to the control-plane nodes certroll works on.
 *
 * A host is a control-plane node when it belongs, directly or through
 * [group:children], to kube_control_plane, control_plane, masters or
 * kube-master. Variables are resolved as Ansible does: host variables over
 * child groups over parent groups over "all"; between groups at the same
 * depth the alphabetically later name wins. docs/inventory.md is the
 * reference for formats, variables and every diagnostic.
 *
 *	struct inv *inv;
 *	struct inv_diag diag;
 *	if (inv_load(path, INV_FORMAT_AUTO, &inv, &diag) != CR_OK) {
 *		inv_diag_print(&diag, stderr);
 *		return CLI_EXIT_USAGE;
 *	}
 *	for (i = 0; i < inv_count(inv); i++)
 *		connect_to(inv_node_at(inv, i));
 *	inv_free(inv);
 *
 * The parser never logs: every problem is described in a struct inv_diag
 * for the caller to print once.
 */
#ifndef CR_INVENTORY_H
#define CR_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum inv_format {
	INV_FORMAT_AUTO = 0, /* decide from the content */
	INV_FORMAT_INI,      /* Ansible INI */
	INV_FORMAT_YAML,     /* Ansible YAML / Kubespray hosts.yaml */
};

/* Bits of struct inv_node's roles. */
#define INV_ROLE_CONTROL_PLANE 0x1u /* kube_control_plane and its aliases */
#define INV_ROLE_ETCD          0x2u /* etcd */
#define INV_ROLE_WORKER        0x4u /* kube_node */

/* Upper bounds that keep a hostile file from exhausting memory. */
#define INV_MAX_FILE  ((size_t)16 << 20) /* bytes read by inv_load() */
#define INV_MAX_HOSTS 10000u             /* distinct hosts in one file */

/* One resolved control-plane node. Every string is owned by the inv. */
struct inv_node {
	char *name;           /* the inventory host name */
	char *address;        /* ansible_host, or name */
	unsigned port;        /* ansible_port, 1-65535; default 22 */
	char *user;           /* ansible_user; default the local user */
	char *identity_file;  /* ansible_ssh_private_key_file, or NULL */
	bool become;          /* ansible_become; default false */
	char *become_user;    /* ansible_become_user; default "root" */
	char *node_name;      /* certroll_node_name; default name */
	char *kubernetes_dir; /* certroll_kubernetes_dir; /etc/kubernetes */
	unsigned roles;       /* INV_ROLE_* bits */
	unsigned line;        /* where the host first appears (1-based) */
	unsigned column;
};

/*
 * What is wrong with an inventory, for "FILE:LINE:COL: msg" plus a hint
 * line. line and column are 0 when the problem has no single place (an
 * unreadable file, an empty control plane); hint may be empty.
 */
struct inv_diag {
	char file[512];
	unsigned line;
	unsigned column;
	char msg[256];
	char hint[512];
};

struct inv;

/*
 * Reads and resolves the inventory at path. On success *invp must be
 * released with inv_free(). Returns CR_ERR_SYS when the file cannot be read
 * (errno is set and diag says why) and CR_ERR_INVENTORY when it is invalid;
 * diag (which may not be NULL) is filled on every failure. *invp is NULL on
 * failure.
 */
enum cr_err inv_load(const char *path, enum inv_format fmt, struct inv **invp,
    struct inv_diag *diag) CR_MUST_CHECK;

/*
 * Like inv_load() for len bytes of data already in memory; name is used in
 * diagnostics only (borrowed). data need not be NUL-terminated. Returns
 * CR_OK or CR_ERR_INVENTORY.
 */
enum cr_err inv_parse(const char *name, const char *data, size_t len,
    enum inv_format fmt, struct inv **invp,
    struct inv_diag *diag) CR_MUST_CHECK;

/* Number of control-plane nodes (at least one in a loaded inventory). */
size_t inv_count(const struct inv *inv);

/*
 * Node i in inventory order, or NULL when i is out of range. Returns a
 * pointer into inv, valid until the next inv_select() or inv_free() on inv;
 * do not free.
 */
const struct inv_node *inv_node_at(const struct inv *inv, size_t i);

/*
 * The node whose inventory name, or else whose Kubernetes node name, is
 * name; NULL if none. Returns a pointer into inv, valid until the next
 * inv_select() or inv_free() on inv; do not free.
 */
const struct inv_node *inv_node_find(const struct inv *inv, const char *name);

/*
 * Keeps only the nodes named in csv_names ("cp1,cp3", inventory or node
 * names, spaces around commas allowed), in inventory order; the others are
 * released, so earlier inv_node_at() pointers are stale. Returns
 * CR_ERR_INVENTORY and fills diag (file: the inventory, no line), leaving
 * inv unchanged, when a name is unknown or the list is empty.
 */
enum cr_err inv_select(struct inv *inv, const char *csv_names,
    struct inv_diag *diag) CR_MUST_CHECK;

/*
 * What inv_select() would keep, without dropping anything: keep[i] (the
 * caller's array of inv_count() entries, zeroed) becomes true for each
 * node csv_names names. Errors as inv_select().
 */
enum cr_err inv_mark(const struct inv *inv, const char *csv_names, bool *keep,
    struct inv_diag *diag) CR_MUST_CHECK;

/*
 * The path the inventory was read from. Returns a pointer into inv, valid
 * until inv_free(); do not free.
 */
const char *inv_source(const struct inv *inv);

/*
 * "control-plane", "etcd" or "worker" for one INV_ROLE_* bit, else NULL.
 * The string is static; do not free.
 */
const char *inv_role_name(unsigned role);

/* Parses "auto", "ini" or "yaml"; false if s is none of them. */
bool inv_format_parse(const char *s, enum inv_format *fmtp);

/* Passing NULL is a no-op. */
void inv_free(struct inv *inv);

/*
 * Prints "FILE:LINE:COL: msg" (or "FILE: msg" without a place) and, when
 * there is one, "  hint: ..." on the next line.
 */
void inv_diag_print(const struct inv_diag *d, FILE *fp);

#endif /* CR_INVENTORY_H */
