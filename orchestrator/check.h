/*
 * certroll check: the expiry of every certificate on every node, read-only
 * and without the Kubernetes API (SSH and the agent's INSPECT only), for
 * cron and monitoring.
 *
 * A report is built in three steps: check_init(), then one
 * check_add_node() or check_add_unreachable() per inventory node (what
 * check_gather() does, every node in parallel), then check_finish(),
 * which classifies and sorts. The printers and check_exit_code() only
 * read it.
 *
 * Classification (residual = notAfter - now, with one "now" per report):
 * expired when residual < 0; critical when residual <= --crit; warning
 * when residual <= --warn; ok otherwise. A certificate with exactly --warn
 * left is a warning, one with exactly --crit left is critical ("expires
 * within"). A file the agent cannot read is "invalid" (counts as
 * critical: the component using it cannot start); a missing file is
 * "missing" (counts as a warning), except super-admin.conf, which
 * kubeadm writes only on the node that ran 'kubeadm init'.
 *
 * Exit codes follow the Nagios/Icinga plugin convention: 0 ok, 1 warning,
 * 2 critical, 3 unknown (a node was not inspected, or a usage error). When
 * findings disagree the worst wins in Icinga's order of severity:
 * critical, then unknown, then warning, then ok. A certain critical
 * finding on a reachable node is more urgent than a node we could not
 * read.
 */
#ifndef CR_CHECK_H
#define CR_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "certinfo.h"
#include "ctx.h"
#include "err.h"
#include "proto.h"

#define CHECK_EXIT_OK       0
#define CHECK_EXIT_WARNING  1
#define CHECK_EXIT_CRITICAL 2
#define CHECK_EXIT_UNKNOWN  3

#define CHECK_DEFAULT_WARN_S (30 * 86400LL)
#define CHECK_DEFAULT_CRIT_S (7 * 86400LL)

enum check_status {
	CHECK_OK = 0,
	CHECK_WARNING,
	CHECK_CRITICAL,
	CHECK_EXPIRED,
	CHECK_MISSING,
	CHECK_INVALID,
	CHECK_STATUS__MAX
};

/* Which INSPECT list a certificate came from. */
enum check_kind {
	CHECK_KIND_LEAF = 0, /* certificates kubeadm renews */
	CHECK_KIND_CA,       /* with include_cas */
	CHECK_KIND_KUBELET,  /* with include_kubelet */
	CHECK_KIND__MAX
};

struct check_opts {
	int64_t warn_s; /* warning at or below this residual time */
	int64_t crit_s; /* critical at or below this; <= warn_s */
	bool include_cas;
	bool include_kubelet;
};

struct check_node {
	char *name;    /* inventory name */
	char *address; /* where it was reached */
	bool up;       /* the agent answered INSPECT */
	char *error;   /* why not, when !up */
	struct proto_inspect_rep inspect;
};

struct check_finding {
	size_t node;                /* index into nodes */
	const struct cert_info *ci; /* borrowed from nodes[node].inspect */
	enum check_kind kind;
	enum check_status status;
	int64_t residual_s; /* not_after - now; 0 when missing or invalid */
	bool normal;        /* its absence is normal (super-admin.conf) */
};

struct check_report {
	time_t now;
	struct check_opts opts;
	struct check_node *nodes; /* inventory order */
	size_t nnodes;
	struct check_finding *findings; /* check_finish(): worst first */
	size_t nfindings;
};

void check_opts_init(struct check_opts *o);

/* The status of a certificate with residual_s left under o. */
enum check_status check_classify(int64_t residual_s,
    const struct check_opts *o);

/* "ok", "warning", "critical", "expired", "missing", "invalid". */
const char *check_status_name(enum check_status s);

/* "OK", "WARNING", "CRITICAL", "UNKNOWN" for an exit code. */
const char *check_exit_name(int code);

/* Starts an empty report; release it with check_clear(). */
void check_init(struct check_report *r, const struct check_opts *o, time_t now);

/*
 * Adds a node the agent inspected. Takes ownership of rep's contents
 * (rep is left zeroed). name and address are copied.
 */
void check_add_node(struct check_report *r, const char *name,
    const char *address, struct proto_inspect_rep *rep);

/* Adds a node that was not inspected, and why (copied). */
void check_add_unreachable(struct check_report *r, const char *name,
    const char *address, const char *why);

/*
 * Classifies every certificate of the inspected nodes (leaves, and CAs
 * and the kubelet's certificate when the options say so) and sorts the
 * findings: unreadable first, then by residual time (soonest first),
 * missing last; ties in inventory order, then by name.
 */
void check_finish(struct check_report *r);

/* The exit code the report calls for (see above). */
int check_exit_code(const struct check_report *r);

/*
 * The one-line verdict at the top of the table, Nagios style:
 * "WARNING: apiserver on cp1 expires in 19d (Dec 18, 2026 13:00 UTC);
 * 30 warning, 3 missing of 33 certificates on 3 nodes".
 */
void check_headline(const struct check_report *r, struct buf *out);

/* The readable report (headline, table, unreachable nodes, notes). */
void check_format_table(const struct check_report *r, struct buf *out);

/*
 * The JSON form: time, status, exit_code, summary, thresholds, nodes
 * (node, address, reachable, error, certificates) and certificates (node,
 * name, kind, file, subject, issuer, serial, not_before, not_after as RFC
 * 3339, residual_seconds, status, note). Owned by the caller.
 */
json_object *check_to_json(const struct check_report *r);

/*
 * Prometheus text exposition format 0.0.4 for node_exporter's textfile
 * collector, in the style of enix/x509-certificate-exporter:
 * x509_cert_not_after, x509_cert_not_before, x509_cert_expired (labels
 * node, certificate, filepath, subject_CN, issuer_CN), x509_read_errors
 * {node}, certroll_check_node_up{node} and
 * certroll_check_last_run_timestamp_seconds, each with HELP and TYPE.
 */
void check_format_prometheus(const struct check_report *r, struct buf *out);

/*
 * Appends s as a label value of the exposition format: backslash, double
 * quote and newline escaped as \\, \" and \n.
 */
void check_prom_escape(const char *s, struct buf *out);

/*
 * Formats v as Prometheus' Go client writes sample values
 * (strconv.FormatFloat(v, 'g', -1, 64)): the shortest text that reads
 * back as v, in exponent form when the decimal exponent is below -4 or 6
 * and above: "1.7958708e+09", "0.5", "123", "+Inf", "NaN".
 */
void check_prom_float(double v, char *buf, size_t len);

/*
 * The value of attribute attr ("CN", "O") in a subject as cert_info
 * writes it ("O=system:masters, CN=kube-apiserver-etcd-client"; RFC 2253
 * escapes undone), the first one when it repeats; "" when absent. To
 * free().
 */
char *check_dn_get(const char *dn, const char *attr);

/*
 * Connects every node of c (inventory loaded) and inspects it, --parallel
 * at a time, each over one SSH session (the agent is delivered only when
 * its checksum differs), and adds each to r in inventory order. Nodes that
 * fail are added as unreachable, with why (the transport logged the
 * details). Nothing here fails as a whole: an unreachable node is a
 * finding.
 */
void check_gather(struct ctx *c, int64_t deadline, struct check_report *r);

/* Releases everything r holds. */
void check_clear(struct check_report *r);

#endif /* CR_CHECK_H */
