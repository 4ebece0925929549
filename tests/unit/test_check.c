/*
 * certroll check (orchestrator/check.c): classification at the
 * boundaries, the exit code for tables of findings, the order and the
 * three output forms. The Prometheus text is read back by the Python
 * client's own parser (Debian's python3-prometheus-client) and the JSON
 * by json-c; subjects come from real certificates formatted by OpenSSL;
 * one report is built from a real agent's INSPECT over pipes.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert.h"
#include "certtest.h"
#include "check.h"
#include "clock.h"
#include "cu_run.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "timefmt.h"
#include "xmalloc.h"

/* 2026-11-28T13:00:00Z, the clock of every synthetic report. */
#define NOW ((time_t)1795870800)
#define DAY ((int64_t)86400)

/* --- Synthetic reports ------------------------------------------------ */

/* One certificate: VALUE is a signed duration, "missing" or "invalid". */
static void
add_cert(struct cert_list *l, const char *name, const char *value)
{
	struct cert_info *ci = cert_list_add(l);
	bool neg = value[0] == '-';
	int64_t s = 0;

	ci->name = xstrdup(name);
	ci->file = xasprintf("/etc/kubernetes/pki/%s.crt", name);
	ci->subject = xasprintf("O=test, CN=%s", name);
	ci->issuer = xstrdup("CN=kubernetes");
	ci->serial = xstrdup("0A");
	if (strcmp(value, "missing") == 0) {
		ci->missing = true;
		return;
	}
	if (strcmp(value, "invalid") == 0) {
		ci->note = xstrdup("cannot read: no certificate in the file");
		return;
	}
	CU_ASSERT_FATAL(duration_parse(value + neg, &s) == CR_OK);
	ci->not_after = NOW + (time_t)(neg ? -s : s);
	ci->not_before = NOW - (time_t)DAY;
}

/* "name=VALUE,name=VALUE" into l; NULL or "" adds nothing. */
static void
add_certs(struct cert_list *l, const char *spec)
{
	char *copy, *item, *save = NULL, *eq;

	if (spec == NULL || *spec == '\0')
		return;
	copy = xstrdup(spec);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		CU_ASSERT_FATAL((eq = strchr(item, '=')) != NULL);
		*eq = '\0';
		add_cert(l, item, eq + 1);
	}
	free(copy);
}

struct node_spec {
	const char *name;
	const char *certs; /* NULL: the node was not reached */
	const char *cas;
	const char *kubelet; /* "kubelet.conf=VALUE" or NULL */
};

#define NODE(name, certs)                                                      \
	{                                                                      \
		(name), (certs), NULL, NULL                                    \
	}
#define END NODE(NULL, NULL)

static void
add_spec_node(struct check_report *r, const struct node_spec *s)
{
	struct proto_inspect_rep rep;
	struct cert_list k = { NULL, 0 };
	char addr[64];

	snprintf(addr, sizeof(addr), "10.0.0.%zu", r->nnodes + 11);
	if (s->certs == NULL) {
		check_add_unreachable(r, s->name, addr, "connection refused");
		return;
	}
	memset(&rep, 0, sizeof(rep));
	add_certs(&rep.certificates, s->certs);
	add_certs(&rep.certificate_authorities, s->cas);
	if (s->kubelet != NULL) {
		add_certs(&k, s->kubelet);
		rep.kubelet_client = k.v; /* the array of one is the struct */
	}
	check_add_node(r, s->name, addr, &rep);
	CU_ASSERT_PTR_NULL(rep.certificates.v); /* ownership moved */
}

static void
build(struct check_report *r, const struct node_spec *nodes, bool cas,
    bool kubelet)
{
	struct check_opts o;
	size_t i;

	check_opts_init(&o);
	o.include_cas = cas;
	o.include_kubelet = kubelet;
	check_init(r, &o, NOW);
	for (i = 0; nodes[i].name != NULL; i++)
		add_spec_node(r, &nodes[i]);
	check_finish(r);
}

static const struct check_finding *
find(const struct check_report *r, const char *node, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->nodes[r->findings[i].node].name, node) == 0 &&
		    strcmp(r->findings[i].ci->name, name) == 0)
			return &r->findings[i];
	return NULL;
}

/* --- Classification --------------------------------------------------- */

static void
test_classify_boundaries(void)
{
	static const struct {
		const char *name;
		int64_t warn, crit, residual;
		enum check_status want;
	} rows[] = {
		{ "one second past --warn", 30 * DAY, 7 * DAY, 30 * DAY + 1,
		    CHECK_OK },
		{ "exactly --warn", 30 * DAY, 7 * DAY, 30 * DAY,
		    CHECK_WARNING },
		{ "one second inside --warn", 30 * DAY, 7 * DAY, 30 * DAY - 1,
		    CHECK_WARNING },
		{ "one second past --crit", 30 * DAY, 7 * DAY, 7 * DAY + 1,
		    CHECK_WARNING },
		{ "exactly --crit", 30 * DAY, 7 * DAY, 7 * DAY,
		    CHECK_CRITICAL },
		{ "nothing left yet valid", 30 * DAY, 7 * DAY, 0,
		    CHECK_CRITICAL },
		{ "expired by one second", 30 * DAY, 7 * DAY, -1,
		    CHECK_EXPIRED },
		{ "expired long ago", 30 * DAY, 7 * DAY, -400 * DAY,
		    CHECK_EXPIRED },
		{ "ten years left", 30 * DAY, 7 * DAY, 3650 * DAY, CHECK_OK },
		{ "zero thresholds, zero left", 0, 0, 0, CHECK_CRITICAL },
		{ "zero thresholds, one second left", 0, 0, 1, CHECK_OK },
		{ "equal thresholds", 10 * DAY, 10 * DAY, 10 * DAY,
		    CHECK_CRITICAL },
		{ "equal thresholds, one second more", 10 * DAY, 10 * DAY,
		    10 * DAY + 1, CHECK_OK },
		{ "largest residual", 30 * DAY, 7 * DAY, INT64_MAX, CHECK_OK },
	};
	struct check_opts o;
	size_t i;

	check_opts_init(&o);
	CU_ASSERT_EQUAL(o.warn_s, 30 * DAY);
	CU_ASSERT_EQUAL(o.crit_s, 7 * DAY);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		o.warn_s = rows[i].warn;
		o.crit_s = rows[i].crit;
		CU_ASSERT_CASE(check_classify(rows[i].residual, &o) ==
			rows[i].want,
		    rows[i].name);
	}
}

static void
test_classify_names(void)
{
	CU_ASSERT_STRING_EQUAL(check_status_name(CHECK_OK), "ok");
	CU_ASSERT_STRING_EQUAL(check_status_name(CHECK_EXPIRED), "expired");
	CU_ASSERT_STRING_EQUAL(check_status_name(CHECK_INVALID), "invalid");
	CU_ASSERT_STRING_EQUAL(check_status_name(CHECK_STATUS__MAX), "unknown");
	CU_ASSERT_STRING_EQUAL(check_exit_name(0), "OK");
	CU_ASSERT_STRING_EQUAL(check_exit_name(1), "WARNING");
	CU_ASSERT_STRING_EQUAL(check_exit_name(2), "CRITICAL");
	CU_ASSERT_STRING_EQUAL(check_exit_name(3), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(check_exit_name(7), "UNKNOWN");
}

/* --- Exit codes ------------------------------------------------------- */

struct exit_row {
	const char *name;
	struct node_spec nodes[4];
	bool cas, kubelet;
	int code;
};

static const struct exit_row exit_rows[] = {
	{ "all ok", { { "cp1", "apiserver=31d,admin.conf=1y", NULL, NULL } },
	    false, false, 0 },
	{ "exactly --warn is a warning", { NODE("cp1", "apiserver=30d") },
	    false, false, 1 },
	{ "one second past --warn is ok", { NODE("cp1", "apiserver=30d1s") },
	    false, false, 0 },
	{ "exactly --crit is critical", { NODE("cp1", "apiserver=7d") }, false,
	    false, 2 },
	{ "one second past --crit is a warning",
	    { NODE("cp1", "apiserver=7d1s") }, false, false, 1 },
	{ "expired by one second", { NODE("cp1", "apiserver=-1s") }, false,
	    false, 2 },
	{ "missing super-admin.conf is normal",
	    { NODE("cp1", "apiserver=1y,super-admin.conf=missing") }, false,
	    false, 0 },
	{ "another missing certificate is a warning",
	    { NODE("cp1", "apiserver=1y,apiserver-etcd-client=missing") },
	    false, false, 1 },
	{ "an unreadable certificate is critical",
	    { NODE("cp1", "apiserver=1y,front-proxy-client=invalid") }, false,
	    false, 2 },
	{ "an unreachable node is unknown",
	    { NODE("cp1", "apiserver=1y"), NODE("cp2", NULL) }, false, false,
	    3 },
	{ "unknown beats warning",
	    { NODE("cp1", "apiserver=20d"), NODE("cp2", NULL) }, false, false,
	    3 },
	{ "critical beats unknown",
	    { NODE("cp1", "apiserver=3d"), NODE("cp2", NULL) }, false, false,
	    2 },
	{ "expired beats unknown",
	    { NODE("cp2", NULL), NODE("cp1", "apiserver=-2d") }, false, false,
	    2 },
	{ "every node unreachable", { NODE("cp1", NULL), NODE("cp2", NULL) },
	    false, false, 3 },
	{ "the worst node decides",
	    { NODE("cp1", "apiserver=1y"), NODE("cp2", "apiserver=29d"),
		NODE("cp3", "apiserver=300d") },
	    false, false, 1 },
	{ "a CA is not counted without --include-cas",
	    { { "cp1", "apiserver=1y", "ca=3d", NULL } }, false, false, 0 },
	{ "a CA is counted with --include-cas",
	    { { "cp1", "apiserver=1y", "ca=3d", NULL } }, true, false, 2 },
	{ "the kubelet is not counted without --include-kubelet",
	    { { "cp1", "apiserver=1y", NULL, "kubelet.conf=-1d" } }, false,
	    false, 0 },
	{ "the kubelet is counted with --include-kubelet",
	    { { "cp1", "apiserver=1y", NULL, "kubelet.conf=-1d" } }, false,
	    true, 2 },
	{ "a node with no certificates is ok", { NODE("cp1", "") }, false,
	    false, 0 },
};

static void
test_exit_codes(void)
{
	struct check_report r;
	size_t i;

	for (i = 0; i < sizeof(exit_rows) / sizeof(exit_rows[0]); i++) {
		build(&r, exit_rows[i].nodes, exit_rows[i].cas,
		    exit_rows[i].kubelet);
		CU_ASSERT_CASE(check_exit_code(&r) == exit_rows[i].code,
		    exit_rows[i].name);
		check_clear(&r);
	}
}

static void
test_exit_statuses(void)
{
	static const struct node_spec nodes[] = {
		{ "cp1",
		    "a=1y,b=30d,c=7d,d=-1s,e=0s,super-admin.conf=missing,"
		    "g=missing,h=invalid",
		    "ca=9y", "kubelet.conf=5d" },
		END,
	};
	static const struct {
		const char *name;
		enum check_status status;
		bool normal;
	} want[] = {
		{ "a", CHECK_OK, false },
		{ "b", CHECK_WARNING, false },
		{ "c", CHECK_CRITICAL, false },
		{ "d", CHECK_EXPIRED, false },
		{ "e", CHECK_CRITICAL, false },
		{ "super-admin.conf", CHECK_MISSING, true },
		{ "g", CHECK_MISSING, false },
		{ "h", CHECK_INVALID, false },
		{ "ca", CHECK_OK, false },
		{ "kubelet.conf", CHECK_CRITICAL, false },
	};
	const struct check_finding *f;
	struct check_report r;
	size_t i;

	build(&r, nodes, true, true);
	CU_ASSERT_EQUAL(r.nfindings, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		f = find(&r, "cp1", want[i].name);
		CU_ASSERT_CASE(f != NULL && f->status == want[i].status &&
			f->normal == want[i].normal,
		    want[i].name);
	}
	CU_ASSERT_EQUAL(find(&r, "cp1", "d")->residual_s, -1);
	CU_ASSERT_EQUAL(find(&r, "cp1", "ca")->kind, CHECK_KIND_CA);
	CU_ASSERT_EQUAL(find(&r, "cp1", "kubelet.conf")->kind,
	    CHECK_KIND_KUBELET);
	check_clear(&r);
}

/* --- Order and the readable forms ------------------------------------- */

static void
test_order(void)
{
	static const struct node_spec nodes[] = {
		NODE("cp1", "z=20d,super-admin.conf=missing,a=20d,m=-1d"),
		NODE("cp2", "a=20d,bad=invalid,b=3d,g=missing"),
		END,
	};
	static const char *const want[] = { "cp2/bad", "cp1/m", "cp2/b",
		"cp1/a", "cp1/z", "cp2/a", "cp1/super-admin.conf", "cp2/g" };
	struct check_report r;
	char got[64];
	size_t i;

	build(&r, nodes, false, false);
	CU_ASSERT_FATAL(r.nfindings == sizeof(want) / sizeof(want[0]));
	for (i = 0; i < r.nfindings; i++) {
		snprintf(got, sizeof(got), "%s/%s",
		    r.nodes[r.findings[i].node].name, r.findings[i].ci->name);
		CU_ASSERT_CASE(strcmp(got, want[i]) == 0, want[i]);
	}
	check_clear(&r);
}

static void
test_headline(void)
{
	static const struct {
		const char *name;
		struct node_spec nodes[3];
		const char *want;
	} rows[] = {
		{ "ok", { NODE("cp1", "apiserver=364d,admin.conf=1y") },
		    "OK: apiserver on cp1 expires in 364d (Nov 27, 2027 13:00 "
		    "UTC); 2 ok of 2 certificates on 1 node" },
		{ "warning", { NODE("cp1", "apiserver=20d,admin.conf=1y") },
		    "WARNING: apiserver on cp1 expires in 20d (Dec 18, 2026 "
		    "13:00 UTC); 1 warning, 1 ok of 2 certificates on 1 node" },
		{ "expired",
		    { NODE("cp1", "apiserver=-1d"), NODE("cp2", "a=3d") },
		    "CRITICAL: apiserver on cp1 expired 1d ago (Nov 27, 2026 "
		    "13:00 UTC); 1 expired, 1 critical of 2 certificates on 2 "
		    "nodes" },
		{ "unknown first",
		    { NODE("cp1", "apiserver=20d"), NODE("cp2", NULL) },
		    "UNKNOWN: 1 of 2 nodes not inspected (cp2); apiserver on "
		    "cp1 "
		    "expires in 20d (Dec 18, 2026 13:00 UTC); 1 warning of 1 "
		    "certificate on 1 node" },
		{ "critical before unknown",
		    { NODE("cp2", NULL), NODE("cp1", "x=invalid,a=1y") },
		    "CRITICAL: x on cp1 cannot be read; 1 of 2 nodes not "
		    "inspected (cp2); 1 ok, 1 invalid of 2 certificates on 1 "
		    "node" },
		{ "missing decides",
		    { NODE("cp1", "apiserver-etcd-client=missing,a=1y") },
		    "WARNING: apiserver-etcd-client on cp1 is missing; 1 ok, 1 "
		    "missing of 2 certificates on 1 node" },
		{ "nothing reached", { NODE("cp1", NULL), NODE("cp2", NULL) },
		    "UNKNOWN: 2 of 2 nodes not inspected (cp1, cp2); 0 "
		    "certificates on 0 nodes" },
	};
	struct check_report r;
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		build(&r, rows[i].nodes, false, false);
		buf_reset(&b);
		check_headline(&r, &b);
		CU_ASSERT_CASE(strcmp(buf_cstr(&b), rows[i].want) == 0,
		    rows[i].name);
		if (strcmp(buf_cstr(&b), rows[i].want) != 0)
			fprintf(stderr, "\n%s:\n got  %s\n want %s\n",
			    rows[i].name, buf_cstr(&b), rows[i].want);
		check_clear(&r);
	}
	buf_clear(&b);
}

static void
test_table(void)
{
	static const struct node_spec nodes[] = {
		NODE("cp1", "apiserver=20d,super-admin.conf=missing"),
		NODE("cp2", "apiserver=-1s"),
		NODE("cp3", NULL),
		END,
	};
	static const char want[] =
	    "CRITICAL: apiserver on cp2 expired 1s ago (Nov 28, 2026 12:59 "
	    "UTC); 1 of 3 nodes not inspected (cp3); 1 expired, 1 warning, 1 "
	    "missing of 3 certificates on 2 nodes\n"
	    "NODE   CERTIFICATE        EXPIRES                  RESIDUAL TIME "
	    "  STATUS\n"
	    "cp2    apiserver          Nov 28, 2026 12:59 UTC   0s            "
	    "  expired\n"
	    "cp1    apiserver          Dec 18, 2026 13:00 UTC   20d           "
	    "  warning\n"
	    "cp1    super-admin.conf   -                        -             "
	    "  missing (normal)\n"
	    "\nNot inspected (status unknown):\n"
	    "  cp3 (10.0.0.13): connection refused\n"
	    "\nThresholds: warning within 30d (--warn), critical within 7d "
	    "(--crit).\n";
	struct check_report r;
	struct buf b = BUF_INIT;

	build(&r, nodes, false, false);
	check_format_table(&r, &b);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), want);
	if (strcmp(buf_cstr(&b), want) != 0)
		fprintf(stderr, "\ngot:\n%s\nwant:\n%s\n", buf_cstr(&b), want);
	check_clear(&r);
	buf_clear(&b);
}

static void
test_json(void)
{
	static const struct node_spec nodes[] = {
		NODE("cp1", "apiserver=20d,super-admin.conf=missing"),
		NODE("cp2", NULL),
		END,
	};
	json_object *o, *back, *c, *n;
	struct check_report r;
	char err[128];
	int64_t v = 0;
	const char *text;

	build(&r, nodes, false, false);
	o = check_to_json(&r);
	text = jv_to_string(o);
	/* What goes out parses back as one document. */
	CU_ASSERT_FATAL(
	    jv_parse(text, strlen(text), &back, err, sizeof(err)) == CR_OK);
	CU_ASSERT_STRING_EQUAL(jv_str(back, "status"), "UNKNOWN");
	CU_ASSERT_TRUE(jv_int(back, "exit_code", &v) && v == 3);
	CU_ASSERT_STRING_EQUAL(jv_str(back, "time"), "2026-11-28T13:00:00Z");
	CU_ASSERT_TRUE(
	    jv_int(back, "thresholds.warning_seconds", &v) && v == 30 * DAY);
	CU_ASSERT_PTR_NOT_NULL(strstr(jv_str(back, "summary"), "UNKNOWN: 1"));
	n = json_object_array_get_idx(jv_arr(back, "nodes"), 1);
	CU_ASSERT_STRING_EQUAL(jv_str(n, "node"), "cp2");
	CU_ASSERT_FALSE(jv_bool(n, "reachable"));
	CU_ASSERT_STRING_EQUAL(jv_str(n, "error"), "connection refused");
	n = json_object_array_get_idx(jv_arr(back, "nodes"), 0);
	CU_ASSERT_TRUE(jv_bool(n, "reachable"));
	CU_ASSERT_TRUE(jv_int(n, "certificates", &v) && v == 2);
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(back, "certificates")),
	    2);
	c = json_object_array_get_idx(jv_arr(back, "certificates"), 0);
	CU_ASSERT_STRING_EQUAL(jv_str(c, "node"), "cp1");
	CU_ASSERT_STRING_EQUAL(jv_str(c, "name"), "apiserver");
	CU_ASSERT_STRING_EQUAL(jv_str(c, "kind"), "leaf");
	CU_ASSERT_STRING_EQUAL(jv_str(c, "not_after"), "2026-12-18T13:00:00Z");
	CU_ASSERT_TRUE(jv_int(c, "residual_seconds", &v) && v == 20 * DAY);
	CU_ASSERT_STRING_EQUAL(jv_str(c, "status"), "warning");
	c = json_object_array_get_idx(jv_arr(back, "certificates"), 1);
	CU_ASSERT_STRING_EQUAL(jv_str(c, "status"), "missing");
	CU_ASSERT_TRUE(jv_bool(c, "normal"));
	CU_ASSERT_TRUE(
	    json_object_is_type(jv_path(c, "not_after"), json_type_null));
	CU_ASSERT_FALSE(jv_int(c, "residual_seconds", &v));
	json_object_put(back);
	json_object_put(o);
	check_clear(&r);
}

/* --- Prometheus -------------------------------------------------------- */

static void
test_prom_escape(void)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "/etc/kubernetes/pki/apiserver.crt",
		    "/etc/kubernetes/pki/apiserver.crt" },
		{ "a\\b", "a\\\\b" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "two\nlines", "two\\nlines" },
		{ "\\\"\n", "\\\\\\\"\\n" },
		{ "tab\tstays", "tab\tstays" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "{x=\"y\"}", "{x=\\\"y\\\"}" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_reset(&b);
		check_prom_escape(rows[i].in, &b);
		CU_ASSERT_CASE(strcmp(buf_cstr(&b), rows[i].want) == 0,
		    rows[i].in);
	}
	buf_reset(&b);
	check_prom_escape(NULL, &b);
	CU_ASSERT_EQUAL(b.len, 0);
	buf_clear(&b);
}

static void
test_prom_float(void)
{
	/* What Go's strconv.FormatFloat(v, 'g', -1, 64) prints. */
	static const struct {
		double v;
		const char *want;
	} rows[] = {
		{ 1795870800.0, "1.7958708e+09" },
		{ 1795870812.0, "1.795870812e+09" },
		{ 1764334800.0, "1.7643348e+09" },
		{ 0.0, "0" },
		{ 1.0, "1" },
		{ -1.0, "-1" },
		{ 0.5, "0.5" },
		{ 0.1, "0.1" },
		{ 123.0, "123" },
		{ 100000.0, "100000" },
		{ 999999.0, "999999" },
		{ 1000000.0, "1e+06" },
		{ 1234567.0, "1.234567e+06" },
		{ 0.0001, "0.0001" },
		{ 0.00001, "1e-05" },
		{ -2.5, "-2.5" },
		{ 1.0 / 3.0, "0.3333333333333333" },
		{ 1e300, "1e+300" },
		{ 253402300799.0, "2.53402300799e+11" },
	};
	char buf[48];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		check_prom_float(rows[i].v, buf, sizeof(buf));
		CU_ASSERT_CASE(strcmp(buf, rows[i].want) == 0, rows[i].want);
		/* It reads back as the same number. */
		CU_ASSERT_CASE(strtod(buf, NULL) == rows[i].v, rows[i].want);
	}
	check_prom_float(NAN, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "NaN");
	check_prom_float(INFINITY, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "+Inf");
	check_prom_float(-INFINITY, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "-Inf");
}

/*
 * Parses the exposition text with prometheus_client's parser and prints
 * one line per sample: name, then label=value pairs sorted, then the value
 * as repr(float), separated by tabs (label values JSON-encoded, so a
 * newline in one stays on its line).
 */
static const char prom_parse_py[] =
    "import json, sys\n"
    "from prometheus_client.parser import text_string_to_metric_families\n"
    "for fam in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
    "    print('#', fam.name, fam.type, json.dumps(fam.documentation))\n"
    "    for s in fam.samples:\n"
    "        labels = '\\t'.join('%s=%s' % (k, json.dumps(v))\n"
    "                            for k, v in sorted(s.labels.items()))\n"
    "        print(s.name, labels, repr(float(s.value)), sep='\\t')\n";

static char *
prom_parse(const char *text)
{
	char *dir = xstrdup(cu_tmpdir());
	char *file = ct_path(dir, "certroll.prom");
	const char *argv[] = { "/usr/bin/python3", "-c", prom_parse_py, file,
		NULL };
	struct buf out = BUF_INIT;
	int rc;

	ct_write(file, text);
	rc = ct_run(argv, &out);
	if (rc != 0)
		fprintf(stderr,
		    "the Python Prometheus parser refused the text (or "
		    "python3-prometheus-client is missing: make deps):\n%s\n",
		    text);
	CU_ASSERT_EQUAL(rc, 0);
	unlink(file);
	rmdir(dir);
	free(file);
	free(dir);
	return buf_detach(&out, NULL);
}

/* Lines of prom_parse() output the exposition must give. */
static const char *const prom_want[] = {
	"# x509_cert_not_after gauge",
	"# x509_cert_not_before gauge",
	"# x509_cert_expired gauge",
	"x509_cert_not_after\tcertificate=\"apiserver\"\tfilepath=\"/"
	"etc/"
	"kubernetes/pki/we\\\"ird\\\\dir\\nx.crt\"\tissuer_CN="
	"\"kubernetes\"\tnode=\"cp1\"\tsubject_CN=\"kube, "
	"\\\"apiserver\\\"\"\t1797598800.0",
	"x509_cert_not_after\tcertificate=\"apiserver\"\tfilepath=\"/"
	"etc/"
	"kubernetes/pki/"
	"apiserver.crt\"\tissuer_CN=\"kubernetes\"\tnode="
	"\"cp2\"\tsubject_CN=\"apiserver\"\t1795870799.0",
	"x509_cert_expired\tcertificate=\"apiserver\"\tfilepath=\"/etc/"
	"kubernetes/pki/"
	"apiserver.crt\"\tissuer_CN=\"kubernetes\"\tnode="
	"\"cp2\"\tsubject_CN=\"apiserver\"\t1.0",
	"x509_read_errors\tnode=\"cp1\"\t1.0",
	"x509_read_errors\tnode=\"cp2\"\t0.0",
	"certroll_check_node_up\tnode=\"cp1\"\t1.0",
	"certroll_check_node_up\tnode=\"cp3\"\t0.0",
	"certroll_check_last_run_timestamp_seconds\t\t1795870800.0",
};

static void
test_prom_exposition(void)
{
	static const struct node_spec nodes[] = {
		NODE("cp1", "apiserver=20d,super-admin.conf=missing,x=invalid"),
		NODE("cp2", "apiserver=-1s"),
		NODE("cp3", NULL),
		END,
	};
	struct check_report r;
	struct cert_info *ci;
	struct buf b = BUF_INIT;
	char *parsed;
	size_t i;

	build(&r, nodes, false, false);
	/* Hostile text in a label value must survive the round trip. */
	ci = &r.nodes[0].inspect.certificates.v[0]; /* cp1's apiserver */
	CU_ASSERT_FATAL(strcmp(ci->name, "apiserver") == 0);
	free(ci->file);
	ci->file = xstrdup("/etc/kubernetes/pki/we\"ird\\dir\nx.crt");
	free(ci->subject);
	ci->subject = xstrdup("O=test, CN=\"kube, \\\"apiserver\\\"\"");
	check_format_prometheus(&r, &b);
	parsed = prom_parse(buf_cstr(&b));
	for (i = 0; i < sizeof(prom_want) / sizeof(prom_want[0]); i++) {
		CU_ASSERT_CASE(strstr(parsed, prom_want[i]) != NULL,
		    prom_want[i]);
		if (strstr(parsed, prom_want[i]) == NULL)
			fprintf(stderr, "\nmissing: %s\nparsed:\n%s\n",
			    prom_want[i], parsed);
	}
	/* Missing, unreadable and unreached certificates have no dates. */
	CU_ASSERT_PTR_NULL(strstr(parsed, "super-admin.conf"));
	CU_ASSERT_PTR_NULL(strstr(parsed, "certificate=\"x\""));
	CU_ASSERT_PTR_NULL(strstr(parsed, "x509_read_errors\tnode=\"cp3\""));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf_cstr(&b), "# HELP x509_cert_not_after "));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&b),
	    "\ncertroll_check_last_run_timestamp_seconds "
	    "1.7958708e+09\n"));
	free(parsed);
	buf_clear(&b);
	check_clear(&r);
}

/* --- Distinguished names --------------------------------------------- */

static void
test_dn_get(void)
{
	static const struct {
		const char *dn, *attr, *want;
	} rows[] = {
		{ "O=system:masters, CN=kube-apiserver-etcd-client", "CN",
		    "kube-apiserver-etcd-client" },
		{ "O=system:masters, CN=kube-apiserver-etcd-client", "O",
		    "system:masters" },
		{ "CN=kubernetes", "CN", "kubernetes" },
		{ "CN=kubernetes", "O", "" },
		{ "", "CN", "" },
		{ "O=a, O=b, CN=x", "O", "a" },
		{ "OU=ops, CN=x", "O", "" },
		{ "CN=a\\, b", "CN", "a, b" },
		{ "CN=\"a, b\", O=z", "CN", "a, b" },
		{ "CN=\"a, b\", O=z", "O", "z" },
		{ "CN=x + O=y, C=DE", "CN", "x" },
		{ "CN=x + O=y, C=DE", "O", "y" },
		{ "CN=tab\\09here", "CN", "tab\there" },
		{ "CN=back\\\\slash", "CN", "back\\slash" },
		{ "CN=", "CN", "" },
		{ "garbage", "CN", "" },
		{ "CN=trailing\\", "CN", "trailing" },
	};
	char *got;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		got = check_dn_get(rows[i].dn, rows[i].attr);
		CU_ASSERT_CASE(strcmp(got, rows[i].want) == 0, rows[i].dn);
		free(got);
	}
	got = check_dn_get(NULL, "CN");
	CU_ASSERT_STRING_EQUAL(got, "");
	free(got);
}

/* Names as OpenSSL formats them, read back to what was put in. */
static void
test_dn_real_certificates(void)
{
	static const char *const cns[] = { "kube-apiserver", "a, b",
		"quote \" and \\ backslash", "x+y=z;<w>", " lead", "#hash" };
	struct strv orgs = { NULL, 0 };
	struct cert_tmpl t;
	struct cert_info ci;
	X509_NAME *name;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *got;
	size_t i;

	strv_push(&orgs, "kubeadm:cluster-admins");
	CU_ASSERT_FATAL(cert_key_new(CERT_KEY_ECDSA_P256, &key) == CR_OK);
	for (i = 0; i < sizeof(cns) / sizeof(cns[0]); i++) {
		memset(&t, 0, sizeof(t));
		memset(&ci, 0, sizeof(ci));
		t.subject = name = cert_name_new(cns[i], &orgs);
		t.not_before = NOW;
		t.not_after = NOW + (time_t)DAY;
		CU_ASSERT_FATAL(cert_issue(&t, key, NULL, key, &x) == CR_OK);
		CU_ASSERT_FATAL(cert_info_fill(x, &ci) == CR_OK);
		got = check_dn_get(ci.subject, "CN");
		CU_ASSERT_CASE(strcmp(got, cns[i]) == 0, cns[i]);
		if (strcmp(got, cns[i]) != 0)
			fprintf(stderr, "\n'%s' -> '%s' -> '%s'\n", cns[i],
			    ci.subject, got);
		free(got);
		got = check_dn_get(ci.subject, "O");
		CU_ASSERT_CASE(strcmp(got, "kubeadm:cluster-admins") == 0,
		    cns[i]);
		free(got);
		certinfo_clear(&ci);
		X509_NAME_free(name);
		X509_free(x);
		x = NULL;
	}
	EVP_PKEY_free(key);
	strv_clear(&orgs);
}

/* --- A real agent ------------------------------------------------------ */

/* certroll-agent serve over pipes, as over SSH; INSPECT of kdir. */
static enum cr_err
agent_inspect(const struct ct_tree *t, struct proto_inspect_rep *rep)
{
	struct proto_inspect_req req = { t->kdir };
	static char program[] = PROTO_PROGRAM_ORCH, version[] = "test";
	struct proto_hello mine, peer;
	struct proto_transport tr;
	struct proto_conn *conn;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status;
	char *backups = ct_path(t->dir, "backups");
	json_object *body = NULL, *reply = NULL;
	enum cr_err err;
	char why[PROTO_WHY_MAX];
	pid_t pid;

	CU_ASSERT_FATAL(pipe(in) == 0 && pipe(out) == 0);
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(CR_BIN_DIR "/certroll-agent", "certroll-agent", "serve",
		    "--backup-dir", backups, "--kubelet-dir", t->kubelet,
		    (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	tr = proto_transport_fd(out[0], in[1]);
	conn = proto_conn_new(&tr);
	memset(&mine, 0, sizeof(mine));
	mine.protocol = PROTO_VERSION;
	mine.program = program;
	mine.version = version;
	err = proto_handshake(conn, &mine, clock_deadline_ms(60000), &peer);
	if (err == CR_OK) {
		proto_hello_clear(&peer);
		body = proto_inspect_req_encode(&req);
		err = proto_call(conn, PROTO_INSPECT_REQ, body,
		    clock_deadline_ms(60000), &reply);
	}
	if (err == CR_OK)
		err = proto_inspect_rep_decode(reply, rep, why, sizeof(why));
	json_object_put(body);
	json_object_put(reply);
	proto_conn_free(conn);
	close(in[1]);
	close(out[0]);
	waitpid(pid, &status, 0);
	free(backups);
	return err;
}

static void
test_agent_inspection(void)
{
	const char *const extra[] = { "--expires-in", "3d", "--no-super-admin",
		NULL };
	struct proto_inspect_rep rep;
	const struct check_finding *f;
	struct check_report r;
	struct check_opts o;
	struct ct_tree t;
	const char *enddate[] = { "openssl", "x509", "-in", NULL, "-noout",
		"-enddate", "-dateopt", "iso_8601", NULL };
	struct buf out = BUF_INIT;
	int64_t at_ms = 0;
	char *crt, *end, *sp;

	memset(&rep, 0, sizeof(rep));
	ct_tree_make(&t, "ecdsa-p256", extra);
	CU_ASSERT_FATAL(agent_inspect(&t, &rep) == CR_OK);
	check_opts_init(&o);
	o.include_cas = true;
	check_init(&r, &o, clock_now());
	check_add_node(&r, "cp1", "10.0.0.1", &rep);
	check_finish(&r);
	/* 3 days left: critical under the default 7d; CAs (10y) are ok. */
	CU_ASSERT_EQUAL(check_exit_code(&r), CHECK_EXIT_CRITICAL);
	CU_ASSERT_FATAL((f = find(&r, "cp1", "apiserver")) != NULL);
	CU_ASSERT_EQUAL(f->status, CHECK_CRITICAL);
	CU_ASSERT_EQUAL(find(&r, "cp1", "ca")->status, CHECK_OK);
	CU_ASSERT_TRUE(find(&r, "cp1", "super-admin.conf")->normal);
	/* The date is the one openssl reads from the file. */
	crt = ct_path(t.kdir, "pki/apiserver.crt");
	enddate[3] = crt;
	/* "notAfter=2026-12-01 13:00:00Z" */
	CU_ASSERT_FATAL(ct_run(enddate, &out) == 0);
	end = buf_detach(&out, NULL);
	if ((sp = strchr(end, ' ')) != NULL)
		*sp = 'T';
	if ((sp = strchr(end, '\n')) != NULL)
		*sp = '\0';
	CU_ASSERT_FATAL(strncmp(end, "notAfter=", 9) == 0);
	CU_ASSERT_FATAL(timefmt_parse_rfc3339(end + 9, &at_ms) == CR_OK);
	CU_ASSERT_EQUAL((int64_t)f->ci->not_after, at_ms / 1000);
	free(end);
	free(crt);
	check_clear(&r);
	ct_tree_free(&t);
}

static CU_TestInfo classify_tests[] = {
	{ "boundaries", test_classify_boundaries },
	{ "names", test_classify_names },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo exit_tests[] = {
	{ "codes", test_exit_codes },
	{ "statuses", test_exit_statuses },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo output_tests[] = {
	{ "order", test_order },
	{ "headline", test_headline },
	{ "table", test_table },
	{ "json", test_json },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo prom_tests[] = {
	{ "escape", test_prom_escape },
	{ "float", test_prom_float },
	{ "exposition", test_prom_exposition },
	{ "dn_get", test_dn_get },
	{ "dn_real_certificates", test_dn_real_certificates },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo agent_tests[] = {
	{ "inspection", test_agent_inspection },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "check_classify", .pTests = classify_tests },
	{ .pName = "check_exit", .pTests = exit_tests },
	{ .pName = "check_output", .pTests = output_tests },
	{ .pName = "check_prometheus", .pTests = prom_tests },
	{ .pName = "check_agent", .pTests = agent_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
