/*
 * The orchestrator <-> agent protocol (docs/protocol.md).
 *
 * certroll starts "certroll-agent serve" on a node over SSH and the two
 * exchange frames on the channel's stdin/stdout. A frame is a fixed 12-byte
 * big-endian header followed by one JSON object (UTF-8):
 *
 *	0               4       6       8               12
 *	+---------------+-------+-------+---------------+------------ - -
 *	|   body_len    | type  |version|    req_id     | body (JSON)
 *	+---------------+-------+-------+---------------+------------ - -
 *
 * Layers, lowest first:
 *   - header and framing (proto_hdr_*, proto_frame_*): bytes <-> structs,
 *     no I/O, never logs;
 *   - messages (proto_<msg>_encode/_decode): JSON body <-> C struct, one
 *     pair per message, side by side in proto_msg.c;
 *   - session legality (proto_allowed, proto_next_state): which request the
 *     agent may serve now;
 *   - frame I/O (struct proto_conn): whole frames over a struct
 *     proto_transport with deadlines, and proto_call() for the orchestrator.
 *
 * Nothing here logs. Functions that fail explain themselves in a caller
 * buffer ("why", PROTO_WHY_MAX bytes are always enough) or through
 * proto_conn_errmsg(); the caller, which knows the node, logs once. Traffic
 * can be traced through proto_conn_set_trace() (types and lengths only:
 * bodies may carry key material and are never to be logged).
 *
 * Decoders treat the peer as untrusted: every required field is checked
 * with its JSON type, integers against their range, counts are those of
 * the arrays actually received, unknown fields are ignored (forward
 * compatibility). A malformed message gives CR_ERR_PROTO, which costs the
 * connection and never the process.
 */
#ifndef CR_PROTO_H
#define CR_PROTO_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "certinfo.h"
#include "err.h"

/*
 * Bump PROTO_VERSION whenever a message layout changes: a type added or
 * removed, a required field added, removed, renamed or given another type
 * or meaning, a range narrowed. Adding an optional field that older peers
 * may ignore needs no bump. Two things never change, so that peers of any
 * two versions can tell each other why they cannot talk: the 12-byte
 * header, and the HELLO and ERROR messages (type numbers and fields).
 * proto_hdr_decode() accepts HELLO and ERROR at any version for that
 * reason. Record every bump in docs/protocol.md ("Version history").
 */
#define PROTO_VERSION  1
#define PROTO_HDR_LEN  12
#define PROTO_MAX_BODY 262144 /* bytes (256 KiB), OpenSSH's monitor cap */

/* Largest file READ_FILE carries (its base64 form must fit a body). */
#define PROTO_READ_FILE_MAX 131072 /* 128 KiB */

/* A "why" buffer of this size holds any explanation written here. */
#define PROTO_WHY_MAX 256

/*
 * Message types, numbered in ranges: 1-99 session messages, 101-199
 * requests (orchestrator -> agent), 201-299 replies (reply = request +
 * 100, echoing the request's req_id), 255 ERROR. Zero is never sent: it is
 * what proto_recv() reports for a clean end of stream.
 */
enum proto_type {
	PROTO_NONE = 0,
	PROTO_HELLO = 1,    /* both ways, first; frozen */
	PROTO_PROGRESS = 2, /* agent -> orchestrator during a request */

	PROTO_INSPECT_REQ = 101,
	PROTO_BACKUP_REQ = 102,
	PROTO_SNAPSHOT_REQ = 103,
	PROTO_RENEW_REQ = 104,
	PROTO_VERIFY_REQ = 105,
	PROTO_RESTART_REQ = 106,
	PROTO_HEALTH_REQ = 107,
	PROTO_ROLLBACK_REQ = 108,
	PROTO_READ_FILE_REQ = 109,
	PROTO_BYE_REQ = 110,

	PROTO_INSPECT_REP = 201,
	PROTO_BACKUP_REP = 202,
	PROTO_SNAPSHOT_REP = 203,
	PROTO_RENEW_REP = 204,
	PROTO_VERIFY_REP = 205,
	PROTO_RESTART_REP = 206,
	PROTO_HEALTH_REP = 207,
	PROTO_ROLLBACK_REP = 208,
	PROTO_READ_FILE_REP = 209,
	PROTO_BYE_REP = 210,

	PROTO_ERROR = 255, /* a request failed or was refused; frozen */
	PROTO__MAX
};

#define PROTO_REQ_FIRST  PROTO_INSPECT_REQ
#define PROTO_REQ_LAST   PROTO_BYE_REQ
#define PROTO_REP_OFFSET 100

/* "RENEW_REQ", "HELLO", ...; "UNKNOWN" for a type not in the table. */
const char *proto_type_name(uint16_t type);

/* True for a type that may travel on the wire (not PROTO_NONE). */
bool proto_type_valid(uint16_t type);

/* True for 101-110. */
bool proto_type_is_request(uint16_t type);

/*
 * The type that answers a request: request + 100, HELLO for HELLO,
 * PROTO_NONE for anything else.
 */
uint16_t proto_reply_type(uint16_t type);

/* Capability names an agent announces in its HELLO. */
#define PROTO_CAP_INSPECT   "inspect"
#define PROTO_CAP_BACKUP    "backup"
#define PROTO_CAP_SNAPSHOT  "snapshot"
#define PROTO_CAP_RENEW     "renew"
#define PROTO_CAP_VERIFY    "verify"
#define PROTO_CAP_RESTART   "restart"
#define PROTO_CAP_HEALTH    "health"
#define PROTO_CAP_ROLLBACK  "rollback"
#define PROTO_CAP_READ_FILE "read-file"
#define PROTO_CAP_KUBEADM   "kubeadm" /* kubeadm is installed */
#define PROTO_CAP_CRICTL    "crictl"  /* crictl is installed */

#define PROTO_PROGRAM_ORCH  "certroll"
#define PROTO_PROGRAM_AGENT "certroll-agent"

/* ------------------------------------------------------------------ */
/* Header and frames (proto_frame.c)                                   */
/* ------------------------------------------------------------------ */

struct proto_hdr {
	uint32_t body_len; /* bytes of JSON after the header */
	uint16_t type;     /* enum proto_type */
	uint16_t version;  /* PROTO_VERSION of the sender */
	uint32_t req_id;   /* chosen by the requester, echoed by the reply */
};

/* One received frame. body is NULL only for PROTO_NONE (end of stream). */
struct proto_frame {
	struct proto_hdr hdr;
	json_object *body;
};

/*
 * Writes h in wire order into out. See proto_hdr_decode() for the other
 * side of the wire.
 */
void proto_hdr_encode(const struct proto_hdr *h, uint8_t out[PROTO_HDR_LEN]);

/*
 * Reads a header from the first len bytes of p. Rejects, before anything
 * is allocated, with CR_ERR_PROTO and an explanation in why (may be NULL):
 * fewer than PROTO_HDR_LEN bytes, a type that is not valid, a version other
 * than PROTO_VERSION (except for HELLO and ERROR, which are frozen), and
 * body_len above PROTO_MAX_BODY. *h is written only on success. See
 * proto_hdr_encode().
 */
enum cr_err proto_hdr_decode(const uint8_t *p, size_t len, struct proto_hdr *h,
    char *why, size_t whylen) CR_MUST_CHECK;

/*
 * Parses the body of the frame whose header is h: the h->body_len bytes at
 * p must be UTF-8 forming one JSON object and nothing else (whitespace
 * aside). On success *bodyp must be released with json_object_put().
 * Returns CR_ERR_PROTO with why otherwise.
 */
enum cr_err proto_body_decode(const struct proto_hdr *h, const uint8_t *p,
    json_object **bodyp, char *why, size_t whylen) CR_MUST_CHECK;

/*
 * Appends the frame (header and the compact serialisation of body, which
 * must be a JSON object) to out. Returns CR_ERR_PROTO, leaving out as it
 * was, for an invalid type, a body that is not an object, is not valid
 * UTF-8 or is larger than PROTO_MAX_BODY. The body is borrowed. See
 * proto_frame_decode() for the other side of the wire.
 */
enum cr_err proto_frame_encode(uint16_t type, uint32_t req_id,
    json_object *body, struct buf *out) CR_MUST_CHECK;

/*
 * Decodes exactly one whole frame that fills the len bytes at p (header
 * checks, then body checks; a truncated frame or bytes after it are
 * errors). On success f->body must be released with proto_frame_clear().
 * See proto_frame_encode().
 */
enum cr_err proto_frame_decode(const uint8_t *p, size_t len,
    struct proto_frame *f, char *why, size_t whylen) CR_MUST_CHECK;

/* Releases f->body and zeroes f. Passing NULL is a no-op. */
void proto_frame_clear(struct proto_frame *f);

/*
 * Overwrites every string inside body with zero bytes (in place, keeping
 * lengths), for bodies that carried key material (READ_FILE_REP of a key or
 * kubeconfig); call it before json_object_put(). Passing NULL is a no-op.
 */
void proto_body_wipe(json_object *body);

/* ------------------------------------------------------------------ */
/* Messages (proto_msg.c)                                              */
/* ------------------------------------------------------------------ */

/*
 * Conventions for every message below:
 *   - proto_<msg>_encode(m) returns a new JSON object the caller owns
 *     (release with json_object_put()). Required strings must not be NULL;
 *     "or NULL" fields are written as JSON null.
 *   - proto_<msg>_decode(body, m, why, whylen) overwrites *m without
 *     freeing it and fills it with copies; on success *m must be released
 *     with proto_<msg>_clear(). On failure it returns CR_ERR_PROTO, leaves
 *     *m cleared and explains in why (may be NULL), naming the message and
 *     the field: "RENEW_REP: 'renewed[1].new_serial': missing (string)".
 *   - proto_<msg>_clear(m) releases the members and zeroes *m; a zeroed
 *     struct is valid to clear.
 *   - Times travel as RFC 3339 UTC strings and are time_t here.
 *   - Lists of strings use struct strv from certinfo.h (strv_has() ...).
 */

/* HELLO, both ways, first. Frozen: these fields never change. */
struct proto_hello {
	int64_t protocol;   /* PROTO_VERSION of the sender */
	char *program;      /* PROTO_PROGRAM_ORCH or PROTO_PROGRAM_AGENT */
	char *version;      /* the program's version, "0.1.0" */
	char *agent_sha256; /* agent: hex SHA-256 of its binary; else NULL */
	struct strv capabilities; /* PROTO_CAP_* (may be empty) */
	char *node;               /* agent: its hostname; else NULL */
};

/* See proto_hello_decode() for the other side of the wire. */
json_object *proto_hello_encode(const struct proto_hello *m);
/*
 * See proto_hello_encode(). An agent's HELLO must carry agent_sha256 (64
 * hex digits) and node. Any protocol >= 1 decodes: proto_hello_check()
 * judges it.
 */
enum cr_err proto_hello_decode(json_object *body, struct proto_hello *m,
    char *why, size_t whylen) CR_MUST_CHECK;
void proto_hello_clear(struct proto_hello *m);

/*
 * Judges the peer's HELLO from this side: the peer must be the other
 * program and speak PROTO_VERSION. Returns CR_OK, or CR_ERR_PROTO with what
 * is wrong and what to do in why, e.g. "agent speaks protocol 2, certroll
 * speaks 1: upgrade certroll or let it re-upload the agent".
 */
enum cr_err proto_hello_check(const struct proto_hello *peer, char *why,
    size_t whylen) CR_MUST_CHECK;

/* PROGRESS: agent -> orchestrator during a long request (its req_id). */
struct proto_progress {
	char *phase;   /* "backup", "renew apiserver", "wait etcd" */
	char *message; /* human text */
	int percent;   /* 0-100, or -1 when absent */
};

/* See proto_progress_decode() for the other side of the wire. */
json_object *proto_progress_encode(const struct proto_progress *m);
/* See proto_progress_encode(). */
enum cr_err proto_progress_decode(json_object *body, struct proto_progress *m,
    char *why, size_t whylen) CR_MUST_CHECK;
void proto_progress_clear(struct proto_progress *m);

/* ERROR: a request failed or was refused. Frozen. */
struct proto_error {
	enum cr_err code; /* on the wire as cr_errname(); never CR_OK */
	char *message;    /* human text: what is wrong and what to do */
	char *request;    /* proto_type_name() of the request */
};

/* See proto_error_decode() for the other side of the wire. */
json_object *proto_error_encode(const struct proto_error *m);
/*
 * See proto_error_encode(). A code this build does not know decodes as
 * CR_ERR_PROTO; "ok" is malformed.
 */
enum cr_err proto_error_decode(json_object *body, struct proto_error *m,
    char *why, size_t whylen) CR_MUST_CHECK;
void proto_error_clear(struct proto_error *m);

/* INSPECT_REQ: what is on the node. */
struct proto_inspect_req {
	char *kubernetes_dir;
};

/* See proto_inspect_req_decode() for the other side of the wire. */
json_object *proto_inspect_req_encode(const struct proto_inspect_req *m);
/* See proto_inspect_req_encode(). */
enum cr_err proto_inspect_req_decode(json_object *body,
    struct proto_inspect_req *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_inspect_req_clear(struct proto_inspect_req *m);

/* The node facts the plan needs. */
struct proto_facts {
	int64_t clock_ms;      /* node wall clock, epoch milliseconds */
	char *kubeadm_version; /* "v1.31.2", or NULL when not installed */
	char *backup_dir;      /* where backups go */
	int64_t backup_free_bytes;
	int64_t file_check_frequency_ms; /* the kubelet's fileCheckFrequency */
	struct strv manifests;           /* "etcd.yaml", ... present */
	bool etcd_external;              /* wire: "external" | "local" */
	bool sa_key;
	bool sa_pub;
	struct strv leftovers; /* traces of an interrupted run */
	bool super_admin_expected;
};

/* INSPECT_REP. */
struct proto_inspect_rep {
	char *node;
	time_t
	    time; /* when the agent looked; residual_seconds counts from it */
	struct cert_list certificates;
	struct cert_list certificate_authorities;
	struct cert_info *kubelet_client; /* NULL when absent */
	struct proto_facts facts;
};

/* See proto_inspect_rep_decode() for the other side of the wire. */
json_object *proto_inspect_rep_encode(const struct proto_inspect_rep *m);
/* See proto_inspect_rep_encode(). */
enum cr_err proto_inspect_rep_decode(json_object *body,
    struct proto_inspect_rep *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_inspect_rep_clear(struct proto_inspect_rep *m);

/* BACKUP_REQ: copy pki/, *.conf and manifests/ aside. */
struct proto_backup_req {
	char *kubernetes_dir;
	char *backup_dir;
	int64_t keep; /* backups to keep, 1-1000 */
};

/* See proto_backup_req_decode() for the other side of the wire. */
json_object *proto_backup_req_encode(const struct proto_backup_req *m);
/* See proto_backup_req_encode(). */
enum cr_err proto_backup_req_decode(json_object *body,
    struct proto_backup_req *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_backup_req_clear(struct proto_backup_req *m);

/* BACKUP_REP. */
struct proto_backup_rep {
	char *path; /* the new backup directory */
	int64_t files;
	int64_t bytes;
};

/* See proto_backup_rep_decode() for the other side of the wire. */
json_object *proto_backup_rep_encode(const struct proto_backup_rep *m);
/* See proto_backup_rep_encode(). */
enum cr_err proto_backup_rep_decode(json_object *body,
    struct proto_backup_rep *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_backup_rep_clear(struct proto_backup_rep *m);

/* SNAPSHOT_REQ: an etcd snapshot into dest_dir. */
struct proto_snapshot_req {
	char *kubernetes_dir;
	char *dest_dir;
};

/* See proto_snapshot_req_decode() for the other side of the wire. */
json_object *proto_snapshot_req_encode(const struct proto_snapshot_req *m);
/* See proto_snapshot_req_encode(). */
enum cr_err proto_snapshot_req_decode(json_object *body,
    struct proto_snapshot_req *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_snapshot_req_clear(struct proto_snapshot_req *m);

/* SNAPSHOT_REP. */
struct proto_snapshot_rep {
	char *path;
	int64_t bytes;
	char *sha256; /* 64 lower-case hex digits */
	int64_t revision;
};

/* See proto_snapshot_rep_decode() for the other side of the wire. */
json_object *proto_snapshot_rep_encode(const struct proto_snapshot_rep *m);
/* See proto_snapshot_rep_encode(). */
enum cr_err proto_snapshot_rep_decode(json_object *body,
    struct proto_snapshot_rep *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_snapshot_rep_clear(struct proto_snapshot_rep *m);

enum proto_backend {
	PROTO_BACKEND_AUTO = 0, /* kubeadm when installed, else native */
	PROTO_BACKEND_KUBEADM,
	PROTO_BACKEND_NATIVE,
	PROTO_BACKEND__MAX
};

/* "auto", "kubeadm", "native"; "?" when out of range. */
const char *proto_backend_name(enum proto_backend b);

/* RENEW_REQ: back up, then renew. */
struct proto_renew_req {
	char *run_id;
	char *kubernetes_dir;
	char *backup_dir;
	int64_t keep;           /* 1-1000, as BACKUP_REQ */
	struct strv targets;    /* kubeadm names; empty = all */
	int64_t renew_before_s; /* renew only what expires sooner; 0 = all */
	enum proto_backend backend;
	int64_t validity_s;   /* new validity; 0 = the backend's default */
	char *key_algorithm;  /* "rsa-2048", ...; "" = keep the current one */
	char *cluster_config; /* ClusterConfiguration YAML, or NULL */
};

/* See proto_renew_req_decode() for the other side of the wire. */
json_object *proto_renew_req_encode(const struct proto_renew_req *m);
/* See proto_renew_req_encode(). */
enum cr_err proto_renew_req_decode(json_object *body, struct proto_renew_req *m,
    char *why, size_t whylen) CR_MUST_CHECK;
void proto_renew_req_clear(struct proto_renew_req *m);

struct proto_renewed {
	char *name;
	char *old_serial;
	char *new_serial;
	time_t old_not_after;
	time_t new_not_after;
};

struct proto_skipped {
	char *name;
	char *reason;
};

/* RENEW_REP. */
struct proto_renew_rep {
	char *backup; /* the backup taken first */
	struct proto_renewed *renewed;
	size_t nrenewed;
	struct proto_skipped *skipped;
	size_t nskipped;
};

/* See proto_renew_rep_decode() for the other side of the wire. */
json_object *proto_renew_rep_encode(const struct proto_renew_rep *m);
/* See proto_renew_rep_encode(). */
enum cr_err proto_renew_rep_decode(json_object *body, struct proto_renew_rep *m,
    char *why, size_t whylen) CR_MUST_CHECK;
void proto_renew_rep_clear(struct proto_renew_rep *m);

/* VERIFY_REQ: check the files on disk against the backup. */
struct proto_verify_req {
	char *kubernetes_dir;
	char *backup;      /* backup directory to compare with */
	struct strv names; /* empty = everything renewed */
};

/* See proto_verify_req_decode() for the other side of the wire. */
json_object *proto_verify_req_encode(const struct proto_verify_req *m);
/* See proto_verify_req_encode(). */
enum cr_err proto_verify_req_decode(json_object *body,
    struct proto_verify_req *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_verify_req_clear(struct proto_verify_req *m);

struct proto_verify_result {
	char *name;
	bool ok;
	struct strv problems;
};

/* VERIFY_REP. */
struct proto_verify_rep {
	bool ok;
	struct proto_verify_result *results;
	size_t nresults;
};

/* See proto_verify_rep_decode() for the other side of the wire. */
json_object *proto_verify_rep_encode(const struct proto_verify_rep *m);
/* See proto_verify_rep_encode(). */
enum cr_err proto_verify_rep_decode(json_object *body,
    struct proto_verify_rep *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_verify_rep_clear(struct proto_verify_rep *m);

/* RESTART_REQ: restart static pods one at a time. */
struct proto_restart_req {
	char *kubernetes_dir;
	/*
	 * Empty = etcd, kube-apiserver, kube-controller-manager,
	 * kube-scheduler, in that order.
	 */
	struct strv components;
	int64_t timeout_s; /* per component, 1-86400 */
};

/* See proto_restart_req_decode() for the other side of the wire. */
json_object *proto_restart_req_encode(const struct proto_restart_req *m);
/* See proto_restart_req_encode(). */
enum cr_err proto_restart_req_decode(json_object *body,
    struct proto_restart_req *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_restart_req_clear(struct proto_restart_req *m);

struct proto_restart_result {
	char *name;
	bool ok;
	int64_t down_ms; /* until the old instance was gone */
	int64_t up_ms;   /* until the new one answered */
	char *message;
};

/* RESTART_REP. */
struct proto_restart_rep {
	struct proto_restart_result *components;
	size_t ncomponents;
};

/* See proto_restart_rep_decode() for the other side of the wire. */
json_object *proto_restart_rep_encode(const struct proto_restart_rep *m);
/* See proto_restart_rep_encode(). */
enum cr_err proto_restart_rep_decode(json_object *body,
    struct proto_restart_rep *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_restart_rep_clear(struct proto_restart_rep *m);

/* HEALTH_REQ: probe components. */
struct proto_health_req {
	char *kubernetes_dir;
	struct strv components; /* empty = every component the node runs */
};

/* See proto_health_req_decode() for the other side of the wire. */
json_object *proto_health_req_encode(const struct proto_health_req *m);
/* See proto_health_req_encode(). */
enum cr_err proto_health_req_decode(json_object *body,
    struct proto_health_req *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_health_req_clear(struct proto_health_req *m);

struct proto_health_check {
	char *component;
	char *check; /* "livez", "serves-new-cert", "etcd-range" */
	bool ok;
	char *message;
	char *served_serial; /* from the TLS handshake, or NULL */
	char *disk_serial;   /* of the file on disk, or NULL */
};

/* HEALTH_REP. */
struct proto_health_rep {
	bool ok;
	struct proto_health_check *checks;
	size_t nchecks;
};

/* See proto_health_rep_decode() for the other side of the wire. */
json_object *proto_health_rep_encode(const struct proto_health_rep *m);
/* See proto_health_rep_encode(). */
enum cr_err proto_health_rep_decode(json_object *body,
    struct proto_health_rep *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_health_rep_clear(struct proto_health_rep *m);

/* ROLLBACK_REQ: restore a backup, restart, check health. */
struct proto_rollback_req {
	char *kubernetes_dir;
	char *backup;
};

/* See proto_rollback_req_decode() for the other side of the wire. */
json_object *proto_rollback_req_encode(const struct proto_rollback_req *m);
/* See proto_rollback_req_encode(). */
enum cr_err proto_rollback_req_decode(json_object *body,
    struct proto_rollback_req *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_rollback_req_clear(struct proto_rollback_req *m);

/* ROLLBACK_REP. */
struct proto_rollback_rep {
	struct strv restored; /* files put back */
	struct proto_restart_rep restart;
	struct proto_health_rep health;
};

/* See proto_rollback_rep_decode() for the other side of the wire. */
json_object *proto_rollback_rep_encode(const struct proto_rollback_rep *m);
/* See proto_rollback_rep_encode(). */
enum cr_err proto_rollback_rep_decode(json_object *body,
    struct proto_rollback_rep *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_rollback_rep_clear(struct proto_rollback_rep *m);

/* READ_FILE_REQ: one small file (the agent decides which paths it serves). */
struct proto_read_file_req {
	char *path;
};

/* See proto_read_file_req_decode() for the other side of the wire. */
json_object *proto_read_file_req_encode(const struct proto_read_file_req *m);
/* See proto_read_file_req_encode(). */
enum cr_err proto_read_file_req_decode(json_object *body,
    struct proto_read_file_req *m, char *why, size_t whylen) CR_MUST_CHECK;
void proto_read_file_req_clear(struct proto_read_file_req *m);

/* READ_FILE_REP. data may be key material: clear wipes it. */
struct proto_read_file_rep {
	char *path;
	unsigned mode; /* permission bits, 0-07777 */
	uint8_t *data; /* base64 on the wire; NULL when len is 0 */
	size_t len;    /* at most PROTO_READ_FILE_MAX */
};

/* See proto_read_file_rep_decode() for the other side of the wire. */
json_object *proto_read_file_rep_encode(const struct proto_read_file_rep *m);
/* See proto_read_file_rep_encode(). */
enum cr_err proto_read_file_rep_decode(json_object *body,
    struct proto_read_file_rep *m, char *why, size_t whylen) CR_MUST_CHECK;
/* Wipes data before freeing it. */
void proto_read_file_rep_clear(struct proto_read_file_rep *m);

/*
 * BYE_REQ and BYE_REP carry an empty object ({}); no struct. Any decoder
 * for a type: proto_body_check() below.
 */

/*
 * Checks body against the decoder of type (every type with a body, BYE
 * included), discarding the result. Returns CR_ERR_PROTO with why for a
 * malformed body or a type without a decoder.
 */
enum cr_err proto_body_check(uint16_t type, json_object *body, char *why,
    size_t whylen) CR_MUST_CHECK;

/* ------------------------------------------------------------------ */
/* Session legality (proto_state.c), used by the agent's serve loop    */
/* ------------------------------------------------------------------ */

enum proto_state {
	PROTO_STATE_START = 0, /* before HELLO: HELLO (or BYE) only */
	PROTO_STATE_READY,     /* handshake done; no restart allowed */
	PROTO_STATE_RENEWED,   /* a RENEW, VERIFY or ROLLBACK succeeded */
	PROTO_STATE_CLOSED,    /* after BYE or a failed HELLO: nothing */
	PROTO_STATE__MAX
};

/* "start", "ready", "renewed", "closed"; "?" when out of range. */
const char *proto_state_name(enum proto_state st);

/* True when the agent may serve a frame of this type in st. */
bool proto_allowed(enum proto_state st, uint16_t type);

/*
 * The state after serving type in st with outcome ok. A failed RENEW or
 * VERIFY goes back to READY (safety invariant 3: never restart on
 * certificates that failed verification); BYE and a failed HELLO close.
 * For a type not allowed in st, returns st: a refused request changes
 * nothing.
 */
enum proto_state proto_next_state(enum proto_state st, uint16_t type, bool ok);

/*
 * Explains in why, for the ERROR reply and the log, why type is refused in
 * st and what the peer must do first.
 */
void proto_refusal(enum proto_state st, uint16_t type, char *why,
    size_t whylen);

/* ------------------------------------------------------------------ */
/* Frame I/O over a transport (proto_io.c)                             */
/* ------------------------------------------------------------------ */

/*
 * A byte stream with timeouts: an SSH channel, a pair of descriptors.
 *
 * read: reads up to len (> 0) bytes, waiting at most timeout_ms (-1 =
 *   forever). Returns the count read (> 0), 0 at end of stream, or -1 with
 *   errno: ETIMEDOUT when nothing arrived in time; EINTR or EAGAIN when
 *   nothing happened and the caller should simply call again; ECANCELED
 *   when the operation was cancelled; anything else is an error.
 * write: writes up to len (> 0) bytes, same timeout rules; returns the
 *   count written (> 0) or -1 with errno as for read.
 * release: optional; called with ctx by proto_conn_free() so a connection
 *   can own its transport. NULL when ctx belongs to someone else.
 */
struct proto_transport {
	ssize_t (*read)(void *ctx, void *buf, size_t len, int timeout_ms);
	ssize_t (
	    *write)(void *ctx, const void *buf, size_t len, int timeout_ms);
	void (*release)(void *ctx);
	void *ctx;
};

/*
 * A transport over two file descriptors (stdin/stdout, a socketpair, two
 * pipes), with poll(2) for the timeouts. The descriptors are borrowed and
 * never closed and may stay blocking: writes never wait past the timeout
 * (sockets are written with MSG_DONTWAIT, anything else in PIPE_BUF
 * pieces once poll(2) says writable). ctx is allocated: hand the result to
 * proto_conn_new(), which releases it. Writes to a socket use
 * MSG_NOSIGNAL; a program that writes to a pipe should ignore SIGPIPE so
 * that a vanished peer is an EPIPE error rather than a signal.
 */
struct proto_transport proto_transport_fd(int rfd, int wfd);

/* One end of a protocol conversation. Opaque. */
struct proto_conn;

/*
 * Creates a connection over t (copied). Takes ownership of t->ctx when
 * t->release is not NULL. Must be released with proto_conn_free().
 */
struct proto_conn *proto_conn_new(const struct proto_transport *t);

/* Releases c and its transport's ctx (see above). Passing NULL is a no-op. */
void proto_conn_free(struct proto_conn *c);

/*
 * Called by proto_call() for each PROGRESS frame of the pending request;
 * p is valid during the call only. NULL removes the callback.
 */
void proto_conn_on_progress(struct proto_conn *c,
    void (*on_progress)(void *arg, const struct proto_progress *p), void *arg);

/*
 * Called once for every whole frame sent (sent = true) or received, with
 * its header only: for the caller's debug log ("send RENEW_REQ #4, 412
 * bytes"). NULL removes the callback.
 */
void proto_conn_set_trace(struct proto_conn *c,
    void (*trace)(void *arg, bool sent, const struct proto_hdr *h), void *arg);

/*
 * What went wrong in the last failed call on c: the peer's ERROR message
 * after proto_call() returned its code, else a local explanation ("peer
 * closed the stream inside a frame header (5 of 12 bytes)"). "" when
 * nothing failed. Valid until the next call on c; do not free.
 */
const char *proto_conn_errmsg(const struct proto_conn *c);

/*
 * True once c is out of step with its peer (a failure mid-frame, the peer
 * gone): every later call on c fails, only a new connection helps.
 */
bool proto_conn_broken(const struct proto_conn *c);

/*
 * Between calls, when the peer owes nothing: looks, without waiting,
 * whether it is still there. The stream's end, a failure or any byte
 * nobody asked for breaks c (proto_conn_errmsg() says which), so that an
 * idle connection whose peer died is known before a request is sent into
 * it. Returns false when c is broken.
 */
bool proto_conn_probe(struct proto_conn *c);

/*
 * Sends one frame (body borrowed) before deadline (clock.h: absolute
 * monotonic ms, 0 = none). Returns CR_ERR_TIMEOUT, CR_ERR_SYS (errno kept),
 * CR_ERR_CANCELED, or CR_ERR_PROTO for a frame proto_frame_encode()
 * refuses. A failure after part of the frame went out leaves the
 * connection unusable: later calls return CR_ERR_PROTO.
 */
enum cr_err proto_send(struct proto_conn *c, uint16_t type, uint32_t req_id,
    json_object *body, int64_t deadline) CR_MUST_CHECK;

/*
 * Receives one whole frame before deadline. A clean end of stream between
 * frames is an outcome, not an error: CR_OK with out->hdr.type ==
 * PROTO_NONE and out->body NULL. End of stream inside a frame, or a frame
 * that fails proto_hdr_decode() / proto_body_decode(), is CR_ERR_PROTO and
 * leaves the connection unusable; so does CR_ERR_TIMEOUT once part of a
 * frame was read (a timeout before any byte leaves c usable). On success
 * out->body must be released with proto_frame_clear().
 */
enum cr_err proto_recv(struct proto_conn *c, int64_t deadline,
    struct proto_frame *out) CR_MUST_CHECK;

/*
 * The orchestrator's request: sends type (a request, or HELLO) with body
 * req (borrowed) and a fresh req_id, hands each PROGRESS frame for it to
 * the progress callback, and returns the reply's body in *replyp (release
 * with json_object_put()). An ERROR reply returns its code (never CR_OK)
 * with the peer's message in proto_conn_errmsg(); the connection stays
 * usable. A request that could not be sent fails as proto_send() does.
 * Any failure after it was sent (CR_ERR_TIMEOUT, CR_ERR_PROTO for end of
 * stream, a wrong req_id, an unexpected type or a malformed PROGRESS or
 * ERROR, CR_ERR_SYS) leaves the connection unusable: the agent may still
 * be working on the request. The reply body is not decoded here: pass it
 * to the reply's proto_<msg>_decode().
 */
enum cr_err proto_call(struct proto_conn *c, uint16_t type, json_object *req,
    int64_t deadline, json_object **replyp) CR_MUST_CHECK;

/*
 * The orchestrator's handshake: sends mine (as proto_call() does),
 * receives the agent's HELLO and judges it with proto_hello_check(). On a
 * mismatch returns CR_ERR_PROTO with what is wrong and what to do in
 * proto_conn_errmsg(). On success *peer must be released with
 * proto_hello_clear(); on failure it is left cleared.
 */
enum cr_err proto_handshake(struct proto_conn *c,
    const struct proto_hello *mine, int64_t deadline,
    struct proto_hello *peer) CR_MUST_CHECK;

/*
 * The agent's answers to the request whose header is req: the reply type
 * with the request's req_id (body borrowed); an ERROR frame (code, message;
 * invalid UTF-8 in message is replaced by '?'); a PROGRESS frame.
 */
enum cr_err proto_reply(struct proto_conn *c, const struct proto_hdr *req,
    json_object *body, int64_t deadline) CR_MUST_CHECK;
enum cr_err proto_reply_error(struct proto_conn *c, const struct proto_hdr *req,
    enum cr_err code, const char *message, int64_t deadline) CR_MUST_CHECK;
enum cr_err proto_reply_progress(struct proto_conn *c,
    const struct proto_hdr *req, const struct proto_progress *p,
    int64_t deadline) CR_MUST_CHECK;

#endif /* CR_PROTO_H */
