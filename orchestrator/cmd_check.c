/*
 * certroll check: the expiry of every certificate on every node, for cron
 * and monitoring (check.h). Exit codes are a monitoring plugin's, usage
 * errors included (3, not 2): a monitoring system reads any other code
 * as a verdict about the certificates.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "clock.h"
#include "ctx.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"

#define CHECK_DEFAULT_TIMEOUT_MS ((int64_t)60 * 1000)

static void
usage_head(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll check -i INVENTORY [-o table|json|prometheus] "
	    "[--out FILE]\n"
	    "                      [--warn DURATION] [--crit DURATION] "
	    "[--include-cas]\n"
	    "                      [--include-kubelet] [options]\n\n"
	    "Reads the expiry of every control-plane certificate on every "
	    "node at once,\nover SSH and certroll-agent only (the Kubernetes "
	    "API is not needed, so it\nworks on an expired cluster too), and "
	    "says how soon the first one expires.\nRead-only; meant for cron "
	    "and monitoring systems.\n\n"
	    "Options:\n");
	fputs(CTX_USAGE, fp);
	fprintf(fp,
	    "  -o, --output FORMAT         table (default), json, or "
	    "prometheus (text\n"
	    "                              exposition format for "
	    "node_exporter's textfile\n"
	    "                              collector)\n"
	    "      --out FILE              write the output to FILE "
	    "atomically (mode 0644)\n"
	    "                              instead of standard output\n"
	    "      --warn DURATION         warning when a certificate expires "
	    "within this\n"
	    "                              (default 30d)\n"
	    "      --crit DURATION         critical when within this "
	    "(default 7d); expired\n"
	    "                              certificates are always critical\n"
	    "      --include-cas           also the CAs (ca, etcd-ca, "
	    "front-proxy-ca)\n"
	    "      --include-kubelet       also the kubelet's client "
	    "certificate (it\n"
	    "                              rotates itself; a late one means "
	    "rotation broke)\n"
	    "      --timeout DURATION      give up on nodes that have not "
	    "answered by then\n"
	    "                              (default 60s)\n"
	    "  -h, --help                  this text\n\n");
}

static void
usage(FILE *fp)
{
	usage_head(fp);
	fprintf(fp,
	    "Examples:\n"
	    "  certroll check -i hosts.ini\n"
	    "  certroll check -i hosts.ini --warn 60d --crit 14d "
	    "--include-cas\n"
	    "  certroll check -i hosts.ini -o json | jq '.certificates[] | "
	    "select(.status != \"ok\")'\n"
	    "  # crontab: every hour, for node_exporter "
	    "--collector.textfile.directory\n"
	    "  17 * * * * certroll -q check -i /etc/certroll/hosts.ini -o "
	    "prometheus \\\n"
	    "      --out /var/lib/node_exporter/textfile/certroll.prom\n\n"
	    "Exit status (the Nagios/Icinga plugin convention): 0 ok, 1 "
	    "warning\n(something expires within --warn, or a certificate "
	    "file is missing),\n2 critical (within --crit, expired, or "
	    "unreadable), 3 unknown (a node could\nnot be reached or "
	    "inspected). Usage and inventory errors are 3 too, unlike\nother "
	    "certroll commands: a monitoring system would read 2 as "
	    "\"critical\".\nWhen findings differ, critical wins over unknown, "
	    "unknown over warning.\n");
}

enum {
	OPT_WARN = CTX_OPT_LAST,
	OPT_CRIT,
	OPT_CAS,
	OPT_KUBELET,
	OPT_OUT,
	OPT_TIMEOUT,
};

struct cmd {
	struct ctx_opts ctx;
	struct check_opts check;
	void (*format)(const struct check_report *r, struct buf *out);
	const char *out;
	int64_t timeout_ms;
};

static void
format_json(const struct check_report *r, struct buf *out)
{
	json_object *o = check_to_json(r);

	buf_puts(out, jv_to_pretty(o));
	buf_puts(out, "\n");
	json_object_put(o);
}

static const struct {
	const char *name;
	void (*format)(const struct check_report *r, struct buf *out);
} formats[] = {
	{ "table", check_format_table },
	{ "json", format_json },
	{ "prometheus", check_format_prometheus },
};

static int
parse_format(struct cmd *m, const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(arg, formats[i].name) == 0) {
			m->format = formats[i].format;
			return 1;
		}
	cli_usage("check", "-o: '%s' is not table, json or prometheus", arg);
	return -1;
}

static int
parse_duration(const char *opt, const char *arg, int64_t *out)
{
	if (duration_parse(arg, out) == CR_OK)
		return 1;
	cli_usage("check", "%s: '%s' is not a duration such as 30d, 720h or 2w",
	    opt, arg);
	return -1;
}

/* One option of check's own: 1 done, 0 not one, -1 usage error shown. */
static int
parse_own(struct cmd *m, int c, const char *arg)
{
	int64_t s;
	int rc;

	switch (c) {
	case 'o':
		return parse_format(m, arg);
	case OPT_OUT:
		m->out = arg;
		return 1;
	case OPT_WARN:
		return parse_duration("--warn", arg, &m->check.warn_s);
	case OPT_CRIT:
		return parse_duration("--crit", arg, &m->check.crit_s);
	case OPT_CAS:
		m->check.include_cas = true;
		return 1;
	case OPT_KUBELET:
		m->check.include_kubelet = true;
		return 1;
	case OPT_TIMEOUT:
		if ((rc = parse_duration("--timeout", arg, &s)) == 1)
			m->timeout_ms = s * 1000;
		return rc;
	default:
		return 0;
	}
}

/* CLI_EXIT_OK to go on, -1 after --help, else a usage error shown. */
static int
parse(int argc, char **argv, struct cmd *m)
{
	static const struct option opts[] = {
		CTX_LONG_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "warn", required_argument, NULL, OPT_WARN },
		{ "crit", required_argument, NULL, OPT_CRIT },
		{ "include-cas", no_argument, NULL, OPT_CAS },
		{ "include-kubelet", no_argument, NULL, OPT_KUBELET },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char crit[32], warn[32];
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if ((rc = ctx_opts_parse(&m->ctx, "check", c, optarg)) == 0)
			rc = parse_own(m, c, optarg);
		if (rc == 0)
			return cli_bad_option("check", c, argv);
		if (rc < 0)
			return CLI_EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage("check", "unexpected argument '%s'",
		    argv[optind]);
	if (m->check.crit_s > m->check.warn_s) {
		duration_format(m->check.crit_s, crit, sizeof(crit));
		duration_format(m->check.warn_s, warn, sizeof(warn));
		return cli_usage("check",
		    "--crit %s is longer than --warn %s: the critical "
		    "threshold must be the nearer one",
		    crit, warn);
	}
	if (m->timeout_ms <= 0)
		return cli_usage("check", "--timeout must be longer than 0s");
	return CLI_EXIT_OK;
}

/* Writes the report where it goes; -1 (logged) when it cannot. */
static int
emit(const struct cmd *m, const struct check_report *r)
{
	struct buf out = BUF_INIT;
	int rc = 0;

	m->format(r, &out);
	if (m->out == NULL) {
		fputs(buf_cstr(&out), stdout);
		if (fflush(stdout) != 0) {
			log_warn("cannot write the report to standard output");
			rc = -1;
		}
	} else if (file_write_atomic(m->out, out.data, out.len, 0644) !=
	    CR_OK) {
		log_warn("cannot write the report to '%s'", m->out);
		rc = -1;
	}
	buf_clear(&out);
	return rc;
}

int
cmd_check(int argc, char **argv)
{
	struct check_report r;
	struct cmd m;
	struct ctx c;
	int rc;

	memset(&m, 0, sizeof(m));
	ctx_opts_init(&m.ctx);
	check_opts_init(&m.check);
	m.format = check_format_table;
	m.timeout_ms = CHECK_DEFAULT_TIMEOUT_MS;
	if ((rc = parse(argc, argv, &m)) != CLI_EXIT_OK)
		return rc < 0 ? CHECK_EXIT_OK : CHECK_EXIT_UNKNOWN;
	ctx_init(&c, "check", &m.ctx);
	if (ctx_load_inventory(&c) != CR_OK) {
		ctx_clear(&c);
		return CHECK_EXIT_UNKNOWN;
	}
	check_init(&r, &m.check, clock_now());
	check_gather(&c, clock_deadline_ms(m.timeout_ms), &r);
	check_finish(&r);
	rc = check_exit_code(&r);
	if (emit(&m, &r) != 0)
		rc = CHECK_EXIT_UNKNOWN;
	check_clear(&r);
	ctx_clear(&c);
	return rc;
}
