#include "check.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc.h"
#include "duration.h"
#include "jv.h"
#include "log.h"
#include "ssh.h"
#include "timefmt.h"
#include "xmalloc.h"

static const struct {
	const char *name;
	int exit_code; /* what one such certificate calls for */
} statuses[CHECK_STATUS__MAX] = {
	[CHECK_OK] = { "ok", CHECK_EXIT_OK },
	[CHECK_WARNING] = { "warning", CHECK_EXIT_WARNING },
	[CHECK_CRITICAL] = { "critical", CHECK_EXIT_CRITICAL },
	[CHECK_EXPIRED] = { "expired", CHECK_EXIT_CRITICAL },
	[CHECK_MISSING] = { "missing", CHECK_EXIT_WARNING },
	[CHECK_INVALID] = { "invalid", CHECK_EXIT_CRITICAL },
};

static const char *const kind_names[CHECK_KIND__MAX] = {
	[CHECK_KIND_LEAF] = "leaf",
	[CHECK_KIND_CA] = "ca",
	[CHECK_KIND_KUBELET] = "kubelet",
};

/* Plugin exit codes by severity (Icinga): ok, warning, unknown, critical. */
static const struct {
	const char *name;
	int rank;
} exits[] = {
	[CHECK_EXIT_OK] = { "OK", 0 },
	[CHECK_EXIT_WARNING] = { "WARNING", 1 },
	[CHECK_EXIT_CRITICAL] = { "CRITICAL", 3 },
	[CHECK_EXIT_UNKNOWN] = { "UNKNOWN", 2 },
};

void
check_opts_init(struct check_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->warn_s = CHECK_DEFAULT_WARN_S;
	o->crit_s = CHECK_DEFAULT_CRIT_S;
}

enum check_status
check_classify(int64_t residual_s, const struct check_opts *o)
{
	if (residual_s < 0)
		return CHECK_EXPIRED;
	if (residual_s <= o->crit_s)
		return CHECK_CRITICAL;
	if (residual_s <= o->warn_s)
		return CHECK_WARNING;
	return CHECK_OK;
}

const char *
check_status_name(enum check_status s)
{
	return (unsigned)s < CHECK_STATUS__MAX ? statuses[s].name : "unknown";
}

const char *
check_exit_name(int code)
{
	if (code < CHECK_EXIT_OK || code > CHECK_EXIT_UNKNOWN)
		return "UNKNOWN";
	return exits[code].name;
}

/* --- Building -------------------------------------------------------- */

void
check_init(struct check_report *r, const struct check_opts *o, time_t now)
{
	memset(r, 0, sizeof(*r));
	r->opts = *o;
	r->now = now;
}

static struct check_node *
node_new(struct check_report *r, const char *name, const char *address)
{
	struct check_node *n;

	r->nodes = xreallocarray(r->nodes, r->nnodes + 1, sizeof(*r->nodes));
	n = &r->nodes[r->nnodes++];
	memset(n, 0, sizeof(*n));
	n->name = xstrdup(name);
	n->address = xstrdup(address != NULL ? address : name);
	return n;
}

void
check_add_node(struct check_report *r, const char *name, const char *address,
    struct proto_inspect_rep *rep)
{
	struct check_node *n = node_new(r, name, address);

	n->up = true;
	n->inspect = *rep;
	memset(rep, 0, sizeof(*rep));
}

void
check_add_unreachable(struct check_report *r, const char *name,
    const char *address, const char *why)
{
	struct check_node *n = node_new(r, name, address);

	n->error = xstrdup(why);
}

static void
add_finding(struct check_report *r, size_t node, const struct cert_info *ci,
    enum check_kind kind)
{
	struct check_finding *f;

	r->findings = xreallocarray(r->findings, r->nfindings + 1,
	    sizeof(*r->findings));
	f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof(*f));
	f->node = node;
	f->ci = ci;
	f->kind = kind;
	if (ci->missing) {
		f->status = CHECK_MISSING;
		/* kubeadm writes it only where 'kubeadm init' ran. */
		f->normal = strcmp(ci->name, "super-admin.conf") == 0;
	} else if (ci->not_after == 0) {
		f->status = CHECK_INVALID;
	} else {
		f->residual_s = (int64_t)ci->not_after - (int64_t)r->now;
		f->status = check_classify(f->residual_s, &r->opts);
	}
}

static void
add_list(struct check_report *r, size_t node, const struct cert_list *l,
    enum check_kind kind)
{
	size_t k;

	for (k = 0; k < l->n; k++)
		add_finding(r, node, &l->v[k], kind);
}

/* Unreadable first, then soonest expiry, missing last. */
static int
sort_class(const struct check_finding *f)
{
	if (f->status == CHECK_INVALID)
		return 0;
	return f->status == CHECK_MISSING ? 2 : 1;
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct check_finding *x = a, *y = b;

	if (sort_class(x) != sort_class(y))
		return sort_class(x) < sort_class(y) ? -1 : 1;
	if (x->residual_s != y->residual_s)
		return x->residual_s < y->residual_s ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->ci->name, y->ci->name);
}

void
check_finish(struct check_report *r)
{
	const struct proto_inspect_rep *in;
	size_t i;

	for (i = 0; i < r->nnodes; i++) {
		if (!r->nodes[i].up)
			continue;
		in = &r->nodes[i].inspect;
		add_list(r, i, &in->certificates, CHECK_KIND_LEAF);
		if (r->opts.include_cas)
			add_list(r, i, &in->certificate_authorities,
			    CHECK_KIND_CA);
		if (r->opts.include_kubelet && in->kubelet_client != NULL)
			add_finding(r, i, in->kubelet_client,
			    CHECK_KIND_KUBELET);
	}
	if (r->nfindings > 1)
		qsort(r->findings, r->nfindings, sizeof(*r->findings),
		    finding_cmp);
}

void
check_clear(struct check_report *r)
{
	size_t i;

	for (i = 0; i < r->nnodes; i++) {
		free(r->nodes[i].name);
		free(r->nodes[i].address);
		free(r->nodes[i].error);
		proto_inspect_rep_clear(&r->nodes[i].inspect);
	}
	free(r->nodes);
	free(r->findings);
	memset(r, 0, sizeof(*r));
}

/* --- Verdict --------------------------------------------------------- */

static int
finding_exit(const struct check_finding *f)
{
	return f->normal ? CHECK_EXIT_OK : statuses[f->status].exit_code;
}

static int
worse(int a, int b)
{
	return exits[b].rank > exits[a].rank ? b : a;
}

int
check_exit_code(const struct check_report *r)
{
	int code = CHECK_EXIT_OK;
	size_t i;

	for (i = 0; i < r->nnodes; i++)
		if (!r->nodes[i].up)
			code = worse(code, CHECK_EXIT_UNKNOWN);
	for (i = 0; i < r->nfindings; i++)
		code = worse(code, finding_exit(&r->findings[i]));
	return code;
}

/* The finding that decided the verdict: the first of the worst kind. */
static const struct check_finding *
decisive(const struct check_report *r)
{
	const struct check_finding *best = NULL;
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (best == NULL ||
		    exits[finding_exit(&r->findings[i])].rank >
			exits[finding_exit(best)].rank)
			best = &r->findings[i];
	return best;
}

static void
describe(const struct check_report *r, const struct check_finding *f,
    struct buf *out)
{
	const char *node = r->nodes[f->node].name, *name = f->ci->name;
	char when[TIMEFMT_MAX], left[32];

	if (f->status == CHECK_MISSING) {
		buf_printf(out, "%s on %s is missing%s", name, node,
		    f->normal ? " (normal)" : "");
		return;
	}
	if (f->status == CHECK_INVALID) {
		buf_printf(out, "%s on %s cannot be read", name, node);
		return;
	}
	timefmt_kubeadm(f->ci->not_after, when, sizeof(when));
	if (f->status == CHECK_EXPIRED) {
		duration_short_human(-f->residual_s, left, sizeof(left));
		buf_printf(out, "%s on %s expired %s ago (%s)", name, node,
		    left, when);
		return;
	}
	duration_short_human(f->residual_s, left, sizeof(left));
	buf_printf(out, "%s on %s expires in %s (%s)", name, node, left, when);
}

static void
unreachable_list(const struct check_report *r, struct buf *out)
{
	size_t i, down = 0, listed = 0;

	for (i = 0; i < r->nnodes; i++)
		down += !r->nodes[i].up;
	if (down == 0)
		return;
	buf_printf(out, "%zu of %zu node%s not inspected (", down, r->nnodes,
	    r->nnodes == 1 ? "" : "s");
	for (i = 0; i < r->nnodes; i++)
		if (!r->nodes[i].up)
			buf_printf(out, "%s%s", listed++ > 0 ? ", " : "",
			    r->nodes[i].name);
	buf_puts(out, ")");
}

static void
counts(const struct check_report *r, struct buf *out)
{
	static const enum check_status order[] = { CHECK_EXPIRED,
		CHECK_CRITICAL, CHECK_WARNING, CHECK_OK, CHECK_MISSING,
		CHECK_INVALID };
	size_t by[CHECK_STATUS__MAX] = { 0 }, i, up = 0, listed = 0;

	for (i = 0; i < r->nfindings; i++)
		by[r->findings[i].status]++;
	for (i = 0; i < r->nnodes; i++)
		up += r->nodes[i].up;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (by[order[i]] > 0)
			buf_printf(out, "%s%zu %s", listed++ > 0 ? ", " : "",
			    by[order[i]], statuses[order[i]].name);
	buf_printf(out, "%s%zu certificate%s on %zu node%s",
	    listed > 0 ? " of " : "", r->nfindings,
	    r->nfindings == 1 ? "" : "s", up, up == 1 ? "" : "s");
}

/* Appends part b, after "; " unless it is the first since start. */
static void
part(struct buf *out, size_t start, const struct buf *b)
{
	if (b->len == 0)
		return;
	if (out->len > start)
		buf_puts(out, "; ");
	buf_put(out, b->data, b->len);
}

void
check_headline(const struct check_report *r, struct buf *out)
{
	const struct check_finding *f = decisive(r);
	struct buf down = BUF_INIT, worst = BUF_INIT, tally = BUF_INIT;
	int code = check_exit_code(r);
	size_t start;

	unreachable_list(r, &down);
	if (f != NULL)
		describe(r, f, &worst);
	counts(r, &tally);
	buf_printf(out, "%s: ", check_exit_name(code));
	start = out->len;
	/* What decided the verdict comes first. */
	part(out, start, code == CHECK_EXIT_UNKNOWN ? &down : &worst);
	part(out, start, code == CHECK_EXIT_UNKNOWN ? &worst : &down);
	part(out, start, &tally);
	buf_clear(&down);
	buf_clear(&worst);
	buf_clear(&tally);
}

/* --- Table ----------------------------------------------------------- */

struct widths {
	int node;
	int cert;
};

static void
table_row(struct buf *out, const struct widths *w, const char *const col[5])
{
	buf_printf(out, "%-*s   %-*s   %-22s   %-13s   %s\n", w->node, col[0],
	    w->cert, col[1], col[2], col[3], col[4]);
}

static void
finding_row(const struct check_report *r, const struct check_finding *f,
    const struct widths *w, struct buf *out)
{
	char when[TIMEFMT_MAX] = "-", left[32] = "-", status[32];
	const char *col[5];

	if (f->status != CHECK_MISSING && f->status != CHECK_INVALID) {
		timefmt_kubeadm(f->ci->not_after, when, sizeof(when));
		duration_short_human(f->residual_s, left, sizeof(left));
	}
	snprintf(status, sizeof(status), "%s%s", check_status_name(f->status),
	    f->normal ? " (normal)" : "");
	col[0] = r->nodes[f->node].name;
	col[1] = f->ci->name;
	col[2] = when;
	col[3] = left;
	col[4] = status;
	table_row(out, w, col);
}

static void
table_widths(const struct check_report *r, struct widths *w)
{
	size_t i, n;

	w->node = 4;
	w->cert = 11;
	for (i = 0; i < r->nnodes; i++)
		if ((n = strlen(r->nodes[i].name)) > (size_t)w->node && n < 64)
			w->node = (int)n;
	for (i = 0; i < r->nfindings; i++)
		if ((n = strlen(r->findings[i].ci->name)) > (size_t)w->cert &&
		    n < 64)
			w->cert = (int)n;
}

static void
table_notes(const struct check_report *r, struct buf *out)
{
	const struct check_finding *f;
	bool first = true;
	size_t i;

	for (i = 0; i < r->nnodes; i++) {
		if (r->nodes[i].up)
			continue;
		buf_printf(out, "%s%s (%s): %s\n",
		    first ? "\nNot inspected (status unknown):\n  " : "  ",
		    r->nodes[i].name, r->nodes[i].address, r->nodes[i].error);
		first = false;
	}
	first = true;
	for (i = 0; i < r->nfindings; i++) {
		f = &r->findings[i];
		if ((f->status != CHECK_MISSING &&
			f->status != CHECK_INVALID) ||
		    f->ci->note == NULL)
			continue;
		buf_printf(out, "%s%s %s: %s\n", first ? "\nNotes:\n  " : "  ",
		    r->nodes[f->node].name, f->ci->name, f->ci->note);
		first = false;
	}
}

void
check_format_table(const struct check_report *r, struct buf *out)
{
	static const char *const head[5] = { "NODE", "CERTIFICATE", "EXPIRES",
		"RESIDUAL TIME", "STATUS" };
	char warn[32], crit[32];
	struct widths w;
	size_t i;

	check_headline(r, out);
	buf_puts(out, "\n");
	table_widths(r, &w);
	if (r->nfindings > 0)
		table_row(out, &w, head);
	for (i = 0; i < r->nfindings; i++)
		finding_row(r, &r->findings[i], &w, out);
	table_notes(r, out);
	duration_format(r->opts.warn_s, warn, sizeof(warn));
	duration_format(r->opts.crit_s, crit, sizeof(crit));
	buf_printf(out,
	    "\nThresholds: warning within %s (--warn), critical within %s "
	    "(--crit).\n",
	    warn, crit);
}

/* --- JSON ------------------------------------------------------------ */

static void
add_time(json_object *o, const char *key, time_t t)
{
	char when[TIMEFMT_MAX];

	timefmt_rfc3339(t, when, sizeof(when));
	jv_add_str(o, key, when);
}

static json_object *
finding_json(const struct check_report *r, const struct check_finding *f)
{
	json_object *o = json_object_new_object();
	bool dated = f->status != CHECK_MISSING && f->status != CHECK_INVALID;

	jv_add_str(o, "node", r->nodes[f->node].name);
	jv_add_str(o, "name", f->ci->name);
	jv_add_str(o, "kind", kind_names[f->kind]);
	jv_add_str(o, "file", f->ci->file);
	jv_add_str(o, "subject", f->ci->subject);
	jv_add_str(o, "issuer", f->ci->issuer);
	jv_add_str(o, "serial", f->ci->serial);
	if (dated) {
		add_time(o, "not_before", f->ci->not_before);
		add_time(o, "not_after", f->ci->not_after);
		jv_add_int(o, "residual_seconds", f->residual_s);
	} else {
		jv_add_str(o, "not_before", NULL);
		jv_add_str(o, "not_after", NULL);
		jv_add_str(o, "residual_seconds", NULL);
	}
	jv_add_str(o, "status", check_status_name(f->status));
	jv_add_bool(o, "normal", f->normal);
	jv_add_str(o, "note", f->ci->note);
	return o;
}

static json_object *
nodes_json(const struct check_report *r)
{
	json_object *a = json_object_new_array(), *o;
	size_t i, k, n;

	for (i = 0; i < r->nnodes; i++) {
		for (k = 0, n = 0; k < r->nfindings; k++)
			n += r->findings[k].node == i;
		o = json_object_new_object();
		jv_add_str(o, "node", r->nodes[i].name);
		jv_add_str(o, "address", r->nodes[i].address);
		jv_add_bool(o, "reachable", r->nodes[i].up);
		jv_add_str(o, "error", r->nodes[i].error);
		jv_add_int(o, "certificates", (int64_t)n);
		json_object_array_add(a, o);
	}
	return a;
}

json_object *
check_to_json(const struct check_report *r)
{
	json_object *o = json_object_new_object(), *t, *a;
	struct buf line = BUF_INIT;
	int code = check_exit_code(r);
	size_t i;

	add_time(o, "time", r->now);
	jv_add_str(o, "status", check_exit_name(code));
	jv_add_int(o, "exit_code", code);
	check_headline(r, &line);
	jv_add_str(o, "summary", buf_cstr(&line));
	buf_clear(&line);
	t = json_object_new_object();
	jv_add_int(t, "warning_seconds", r->opts.warn_s);
	jv_add_int(t, "critical_seconds", r->opts.crit_s);
	json_object_object_add(o, "thresholds", t);
	json_object_object_add(o, "nodes", nodes_json(r));
	a = json_object_new_array();
	for (i = 0; i < r->nfindings; i++)
		json_object_array_add(a, finding_json(r, &r->findings[i]));
	json_object_object_add(o, "certificates", a);
	return o;
}

/* --- Prometheus ------------------------------------------------------ */

void
check_prom_escape(const char *s, struct buf *out)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\')
			buf_puts(out, "\\\\");
		else if (*s == '"')
			buf_puts(out, "\\\"");
		else if (*s == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *s);
	}
}

/* NaN, infinities and zero as Go writes them; false for other values. */
static bool
prom_special(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == 0)
		snprintf(buf, len, "0");
	else
		return false;
	return true;
}

void
check_prom_float(double v, char *buf, size_t len)
{
	char tmp[48];
	long exp10;
	int prec, frac;

	if (prom_special(v, buf, len))
		return;
	/* The fewest significant digits that read back as v. */
	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
	exp10 = strtol(strchr(tmp, 'e') + 1, NULL, 10);
	frac = prec - 1 - (int)exp10;
	if (exp10 < -4 || exp10 >= 6)
		snprintf(buf, len, "%s", tmp);
	else
		snprintf(buf, len, "%.*f", frac > 0 ? frac : 0, v);
}

/* One metric family's HELP and TYPE lines. */
static void
family(struct buf *out, const char *name, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* name{k1="v1",...} value, from NULL-terminated key/value pairs. */
static void
sample(struct buf *out, const char *name, const char *const *kv, double v)
{
	char num[48];
	size_t i;

	buf_puts(out, name);
	for (i = 0; kv != NULL && kv[i] != NULL; i += 2) {
		buf_printf(out, "%s%s=\"", i == 0 ? "{" : ",", kv[i]);
		check_prom_escape(kv[i + 1], out);
		buf_puts(out, "\"");
	}
	check_prom_float(v, num, sizeof(num));
	buf_printf(out, "%s %s\n", kv != NULL && kv[0] != NULL ? "}" : "", num);
}

/* Which x509_cert_* value a family writes. */
enum cert_value {
	VALUE_NOT_AFTER = 0,
	VALUE_NOT_BEFORE,
	VALUE_EXPIRED,
};

static double
cert_value(const struct check_finding *f, enum cert_value which)
{
	if (which == VALUE_NOT_AFTER)
		return (double)f->ci->not_after;
	if (which == VALUE_NOT_BEFORE)
		return (double)f->ci->not_before;
	return f->status == CHECK_EXPIRED ? 1 : 0;
}

static void
cert_family(const struct check_report *r, struct buf *out, const char *name,
    enum cert_value which)
{
	const struct check_finding *f;
	const char *kv[11];
	char *scn, *icn;
	size_t i;

	for (i = 0; i < r->nfindings; i++) {
		f = &r->findings[i];
		if (f->status == CHECK_MISSING || f->status == CHECK_INVALID)
			continue;
		scn = check_dn_get(f->ci->subject, "CN");
		icn = check_dn_get(f->ci->issuer, "CN");
		kv[0] = "node";
		kv[1] = r->nodes[f->node].name;
		kv[2] = "certificate";
		kv[3] = f->ci->name;
		kv[4] = "filepath";
		kv[5] = f->ci->file != NULL ? f->ci->file : "";
		kv[6] = "subject_CN";
		kv[7] = scn;
		kv[8] = "issuer_CN";
		kv[9] = icn;
		kv[10] = NULL;
		sample(out, name, kv, cert_value(f, which));
		free(scn);
		free(icn);
	}
}

static void
node_families(const struct check_report *r, struct buf *out)
{
	size_t i, k, bad;

	family(out, "x509_read_errors",
	    "Certificates certroll-agent found on the node but could not "
	    "read.");
	for (i = 0; i < r->nnodes; i++) {
		const char *const kv[] = { "node", r->nodes[i].name, NULL };

		for (k = 0, bad = 0; k < r->nfindings; k++)
			bad += r->findings[k].node == i &&
			    r->findings[k].status == CHECK_INVALID;
		if (r->nodes[i].up)
			sample(out, "x509_read_errors", kv, (double)bad);
	}
	family(out, "certroll_check_node_up",
	    "1 when certroll-agent on the node answered, 0 when the node "
	    "could not be inspected.");
	for (i = 0; i < r->nnodes; i++) {
		const char *const kv[] = { "node", r->nodes[i].name, NULL };

		sample(out, "certroll_check_node_up", kv,
		    r->nodes[i].up ? 1 : 0);
	}
}

void
check_format_prometheus(const struct check_report *r, struct buf *out)
{
	family(out, "x509_cert_not_after",
	    "The certificate's notAfter date, seconds since the epoch.");
	cert_family(r, out, "x509_cert_not_after", VALUE_NOT_AFTER);
	family(out, "x509_cert_not_before",
	    "The certificate's notBefore date, seconds since the epoch.");
	cert_family(r, out, "x509_cert_not_before", VALUE_NOT_BEFORE);
	family(out, "x509_cert_expired",
	    "1 when the certificate has expired, else 0.");
	cert_family(r, out, "x509_cert_expired", VALUE_EXPIRED);
	node_families(r, out);
	family(out, "certroll_check_last_run_timestamp_seconds",
	    "When certroll check read the nodes, seconds since the epoch.");
	sample(out, "certroll_check_last_run_timestamp_seconds", NULL,
	    (double)r->now);
}

/* --- Distinguished names --------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends the escaped character at *sp (after a backslash); advances. */
static void
unescape_one(const char **sp, struct buf *out)
{
	const char *s = *sp;

	if (s[0] == '\0')
		return;
	if (hexval((unsigned char)s[0]) >= 0 && s[1] != '\0' &&
	    hexval((unsigned char)s[1]) >= 0) {
		buf_putc(out,
		    (char)(hexval((unsigned char)s[0]) * 16 +
			hexval((unsigned char)s[1])));
		*sp = s + 2;
		return;
	}
	buf_putc(out, s[0]);
	*sp = s + 1;
}

/*
 * Reads one attribute value at s (quoted or with backslash escapes) into
 * out and returns where it ends (at the separator or the end).
 */
static const char *
dn_value(const char *s, struct buf *out)
{
	bool quoted = *s == '"';

	if (quoted)
		s++;
	while (*s != '\0') {
		if (*s == '\\') {
			s++;
			unescape_one(&s, out);
		} else if (quoted ? *s == '"' : *s == ',' || *s == '+') {
			break;
		} else {
			buf_putc(out, *s++);
		}
	}
	if (quoted && *s == '"')
		s++;
	/* " + " separates the values of a multi-valued RDN. */
	if (!quoted && *s == '+' && out->len > 0 &&
	    out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	return s;
}

char *
check_dn_get(const char *dn, const char *attr)
{
	struct buf val = BUF_INIT;
	size_t n = strlen(attr);
	const char *s = dn;
	bool match;

	while (s != NULL && *s != '\0') {
		while (*s == ' ')
			s++;
		match = strncmp(s, attr, n) == 0 && s[n] == '=';
		s = strchr(s, '=');
		if (s == NULL)
			break;
		buf_reset(&val);
		s = dn_value(s + 1, &val);
		if (match)
			return buf_detach(&val, NULL);
		if (*s != '\0')
			s++;
	}
	buf_clear(&val);
	return xstrdup("");
}

/* --- Gathering ------------------------------------------------------- */

struct gather {
	struct ctx *c;
	int64_t deadline;
	struct proto_inspect_rep *reps;
	char **why;
};

static enum cr_err
gather_one(void *arg, size_t i)
{
	struct gather *g = arg;
	const struct inv_node *n = g->c->nodes[i].inv;
	struct proto_inspect_req req;
	struct proto_conn *conn;
	enum cr_err err;

	if ((err = ctx_connect(g->c, i, g->deadline)) != CR_OK) {
		g->why[i] = xasprintf("SSH or the agent failed (%s): the "
				      "messages above say why",
		    cr_strerror(err));
		return err;
	}
	conn = ctx_agent(g->c, i);
	req.kubernetes_dir = n->kubernetes_dir;
	if ((err = agentc_inspect(conn, n->name, &req, g->deadline,
		 &g->reps[i])) != CR_OK)
		g->why[i] = xasprintf("INSPECT failed: %s", agentc_why(conn));
	/* Say goodbye here, so every node's session ends in parallel. */
	ctx_disconnect(g->c, i);
	return err;
}

void
check_gather(struct ctx *c, int64_t deadline, struct check_report *r)
{
	size_t n = c->nnodes > 0 ? c->nnodes : 1, i;
	enum cr_err *res = xcalloc(n, sizeof(*res));
	struct gather g = { c, deadline, NULL, NULL };
	const struct inv_node *in;

	g.reps = xcalloc(n, sizeof(*g.reps));
	g.why = xcalloc(n, sizeof(*g.why));
	if (c->nnodes > 0 &&
	    ssh_parallel(c->nnodes, c->o.parallel, gather_one, &g, res) !=
		CR_OK)
		log_debug("check: not every node could be inspected");
	for (i = 0; i < c->nnodes; i++) {
		in = c->nodes[i].inv;
		if (res[i] == CR_OK)
			check_add_node(r, in->name, in->address, &g.reps[i]);
		else
			check_add_unreachable(r, in->name, in->address,
			    g.why[i] != NULL ? g.why[i] : cr_strerror(res[i]));
		proto_inspect_rep_clear(&g.reps[i]);
		free(g.why[i]);
	}
	free(g.reps);
	free(g.why);
	free(res);
}
