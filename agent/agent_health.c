/*
 * health: local TLS probes of the four control-plane components, with the
 * client certificates they expect, and the served-certificate check that
 * tells a renewed node from one still serving its old certificates
 * (kubeadm.md §2.1, §2.6; lab.md P8, P9).
 *
 * etcd answers /health through raft even when its gateway cannot dial the
 * member (lab.md P9), so a real gateway call is checked as well.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "agent.h"
#include "buf.h"
#include "cert.h"
#include "clock.h"
#include "duration.h"
#include "fileio.h"
#include "jv.h"
#include "log.h"
#include "timefmt.h"
#include "tlsc.h"
#include "xmalloc.h"

#define PROBE_TIMEOUT_MS 5000
#define RETRY_PAUSE_MS   1000
#define SUMMARY_MAX      1024

enum verify_with {
	VERIFY_ETCD_CA,    /* pki/etcd/ca.crt */
	VERIFY_CLUSTER_CA, /* pki/ca.crt */
	VERIFY_NONE,       /* self-signed serving certificate: explicit */
};

enum client_cert {
	CLIENT_ETCD_HEALTHCHECK, /* pki/etcd/healthcheck-client */
	CLIENT_KUBELET,          /* pki/apiserver-kubelet-client */
	CLIENT_NONE,
};

/* One check: a request (or a bare handshake) on one endpoint. */
struct check_def {
	enum manifest_comp comp;
	const char *name;
	size_t ep;          /* index into the component's endpoints */
	const char *method; /* NULL: the TLS handshake is the check */
	const char *path;
	const char *body;
	enum verify_with verify;
	enum client_cert client;
	bool (*judge)(const struct tlsc_resp *rs, char *msg, size_t len);
	const char *serial_check; /* name of the served-certificate row */
	const char *default_cert; /* disk certificate under pki/ */
};

static bool judge_etcd_health(const struct tlsc_resp *rs, char *msg,
    size_t len);
static bool judge_etcd_gateway(const struct tlsc_resp *rs, char *msg,
    size_t len);
static bool judge_ok(const struct tlsc_resp *rs, char *msg, size_t len);

static const struct check_def defs[] = {
	{ MANIFEST_ETCD, "health", 0, "GET", "/health", NULL, VERIFY_ETCD_CA,
	    CLIENT_ETCD_HEALTHCHECK, judge_etcd_health, "serving-cert",
	    "etcd/server.crt" },
	{ MANIFEST_ETCD, "gateway", 0, "POST", "/v3/maintenance/status", "{}",
	    VERIFY_ETCD_CA, CLIENT_ETCD_HEALTHCHECK, judge_etcd_gateway, NULL,
	    NULL },
	{ MANIFEST_ETCD, "peer", 1, NULL, NULL, NULL, VERIFY_ETCD_CA,
	    CLIENT_ETCD_HEALTHCHECK, NULL, "peer-serving-cert",
	    "etcd/peer.crt" },
	{ MANIFEST_APISERVER, "readyz", 0, "GET", "/readyz", NULL,
	    VERIFY_CLUSTER_CA, CLIENT_KUBELET, judge_ok, "serving-cert",
	    "apiserver.crt" },
	{ MANIFEST_CONTROLLER_MANAGER, "healthz", 0, "GET", "/healthz", NULL,
	    VERIFY_NONE, CLIENT_NONE, judge_ok, NULL, NULL },
	{ MANIFEST_SCHEDULER, "healthz", 0, "GET", "/healthz", NULL,
	    VERIFY_NONE, CLIENT_NONE, judge_ok, NULL, NULL },
};

/* What one component's probe needs. */
struct probe {
	const struct agent_health_req *req;
	const char *kdir;
	enum manifest_comp comp;
	struct manifest *m;
	struct manifest_endpoints eps;
	json_object *checks; /* borrowed */
};

static const char *
kdir_of(const struct agent_health_req *req)
{
	return req->kubernetes_dir != NULL ? req->kubernetes_dir :
					     AGENT_KUBERNETES_DIR;
}

static bool
judge_etcd_health(const struct tlsc_resp *rs, char *msg, size_t len)
{
	json_object *doc = NULL;
	const char *h = NULL;
	bool ok;

	if (rs->status == 200 &&
	    jv_parse((const char *)rs->body.data, rs->body.len, &doc, NULL,
		0) == CR_OK)
		h = jv_str(doc, "health");
	ok = h != NULL && strcmp(h, "true") == 0;
	if (ok)
		snprintf(msg, len, "/health says true");
	else
		snprintf(msg, len, "/health answered HTTP %d: %.120s",
		    rs->status, buf_cstr(&rs->body));
	json_object_put(doc);
	return ok;
}

static bool
judge_etcd_gateway(const struct tlsc_resp *rs, char *msg, size_t len)
{
	json_object *doc = NULL;
	int64_t rev = 0;
	bool ok = false;

	if (rs->status == 200 &&
	    jv_parse((const char *)rs->body.data, rs->body.len, &doc, NULL,
		0) == CR_OK)
		ok = jv_int(doc, "header.revision", &rev);
	if (ok)
		snprintf(msg, len, "gateway answers (revision %lld)",
		    (long long)rev);
	else
		snprintf(msg, len,
		    "the v3 gateway call failed with HTTP %d: %.100s; etcd's "
		    "gateway dials its own member with etcd/server.crt, which "
		    "must keep the clientAuth usage",
		    rs->status, buf_cstr(&rs->body));
	json_object_put(doc);
	return ok;
}

static bool
judge_ok(const struct tlsc_resp *rs, char *msg, size_t len)
{
	if (rs->status == 200) {
		snprintf(msg, len, "HTTP 200 %.40s", buf_cstr(&rs->body));
		return true;
	}
	if (rs->status == 401 || rs->status == 403)
		snprintf(msg, len,
		    "HTTP %d: the client certificate was not accepted",
		    rs->status);
	else
		snprintf(msg, len, "HTTP %d: %.120s", rs->status,
		    buf_cstr(&rs->body));
	return false;
}

/* kubeadm writes /etc/kubernetes paths into manifests; follow a prefix. */
static char *
rebase(const char *kdir, const char *path)
{
	static const char def[] = AGENT_KUBERNETES_DIR "/";

	if (strncmp(path, def, sizeof(def) - 1) == 0 &&
	    strcmp(kdir, AGENT_KUBERNETES_DIR) != 0)
		return xasprintf("%s/%s", kdir, path + sizeof(def) - 1);
	return xstrdup(path);
}

static json_object *
row_add(struct probe *p, const char *check, const char *url)
{
	json_object *row = json_object_new_object();

	jv_add_str(row, "component", manifest_comp_name(p->comp));
	jv_add_str(row, "check", check);
	jv_add_str(row, "endpoint", url);
	json_object_array_add(p->checks, row);
	return row;
}

static void
row_set(json_object *row, bool ok, const char *msg)
{
	jv_add_bool(row, "ok", ok);
	jv_add_str(row, "message", msg);
}

/* The TLS options of a check, with paths owned by paths[]. */
static struct tlsc_opts
check_opts(const struct probe *p, const struct check_def *def, char *paths[3])
{
	static const char *const cl[][2] = {
		[CLIENT_ETCD_HEALTHCHECK] = { "etcd/healthcheck-client.crt",
		    "etcd/healthcheck-client.key" },
		[CLIENT_KUBELET] = { "apiserver-kubelet-client.crt",
		    "apiserver-kubelet-client.key" },
	};
	const struct manifest_endpoint *ep = &p->eps.v[def->ep];
	struct tlsc_opts o = TLSC_OPTS_INIT;
	int64_t t = p->req->probe_timeout_ms > 0 ? p->req->probe_timeout_ms :
						   PROBE_TIMEOUT_MS;

	o.host = ep->host;
	o.port = ep->port;
	o.deadline = clock_deadline_ms(t);
	/* Within the caller's deadline, but a last pass still gets 1 s. */
	if (p->req->deadline != 0 && o.deadline > p->req->deadline)
		o.deadline = p->req->deadline > clock_deadline_ms(1000) ?
		    p->req->deadline :
		    clock_deadline_ms(1000);
	o.insecure = def->verify == VERIFY_NONE;
	if (!o.insecure)
		o.ca_file = paths[0] = xasprintf("%s/pki/%s", p->kdir,
		    def->verify == VERIFY_ETCD_CA ? "etcd/ca.crt" : "ca.crt");
	if (def->client != CLIENT_NONE) {
		o.cert_file = paths[1] = xasprintf("%s/pki/%s", p->kdir,
		    cl[def->client][0]);
		o.key_file = paths[2] = xasprintf("%s/pki/%s", p->kdir,
		    cl[def->client][1]);
	}
	return o;
}

static void
endpoint_url(const struct manifest_endpoint *ep, const char *path, char *buf,
    size_t len)
{
	snprintf(buf, len,
	    strchr(ep->host, ':') != NULL ? "https://[%s]:%s%s" :
					    "https://%s:%s%s",
	    ep->host, ep->port, path != NULL ? path : "");
}

/* The serial of the certificate in path, to free(); NULL if unreadable. */
static char *
disk_serial(const char *path)
{
	X509 *x = NULL;
	char *serial;

	if (cert_load(path, &x) != CR_OK) {
		cert_clear_errors();
		return NULL;
	}
	serial = cert_serial_hex(x);
	X509_free(x);
	return serial;
}

/* The served-certificate row: serial from the handshake vs the file. */
static bool
serial_row(struct probe *p, const struct check_def *def,
    const struct tlsc_peer *peer, const char *url)
{
	const struct manifest_endpoint *ep = &p->eps.v[def->ep];
	const char *name = manifest_comp_name(p->comp);
	json_object *row = row_add(p, def->serial_check, url);
	char *disk = ep->served_cert != NULL ?
	    rebase(p->kdir, ep->served_cert) :
	    xasprintf("%s/pki/%s", p->kdir, def->default_cert);
	char *serial = disk_serial(disk), msg[400];
	bool ok = false;

	jv_add_str(row, "disk_file", disk);
	jv_add_str(row, "disk_serial", serial);
	jv_add_str(row, "served_serial",
	    peer->serial[0] != '\0' ? peer->serial : NULL);
	if (serial == NULL)
		snprintf(msg, sizeof(msg), "cannot read the certificate '%s'",
		    disk);
	else if (peer->serial[0] == '\0')
		snprintf(msg, sizeof(msg),
		    "no certificate was served (see the '%s' check)",
		    def->name);
	else if (!(ok = tlsc_serial_equal(peer->serial, serial)))
		snprintf(msg, sizeof(msg),
		    "serves serial %s but '%s' has serial %s: still the old "
		    "certificate; restart it (certroll-agent restart --only "
		    "%s)",
		    peer->serial, disk, serial, name);
	else
		snprintf(msg, sizeof(msg), "serves the certificate on disk");
	row_set(row, ok, msg);
	free(serial);
	free(disk);
	return ok;
}

/* tlsc's reason; a refused connection also says what it means. */
static void
describe_failure(enum cr_err err, const struct tlsc_diag *d, char *msg,
    size_t len)
{
	if (err == CR_ERR_SYS && errno == ECONNREFUSED)
		snprintf(msg, len,
		    "%s: not listening; is it running? (crictl ps, the "
		    "kubelet's log)",
		    d->msg);
	else
		snprintf(msg, len, "%s", d->msg);
}

/* The check's request, or bare handshake; the verdict in msg. */
static bool
exchange(const struct probe *p, const struct check_def *def,
    struct tlsc_resp *rs, char *msg, size_t len)
{
	char *paths[3] = { NULL, NULL, NULL };
	struct tlsc_opts o = check_opts(p, def, paths);
	struct tlsc_req rq = TLSC_REQ_INIT;
	struct tlsc_diag d;
	struct tlsc *c = NULL;
	enum cr_err err;
	bool ok = false;

	rq.method = def->method;
	rq.path = def->path;
	rq.body = def->body;
	rq.body_len = def->body != NULL ? strlen(def->body) : 0;
	errno = 0;
	if (def->method == NULL) {
		if ((err = tlsc_connect(&o, &c, &d)) == CR_OK) {
			rs->peer = *tlsc_peer(c);
			snprintf(msg, len, "TLS handshake completed");
			ok = true;
		}
		tlsc_free(c);
	} else if ((err = tlsc_fetch(&o, &rq, rs, &d)) == CR_OK)
		ok = def->judge(rs, msg, len);
	if (err != CR_OK)
		describe_failure(err, &d, msg, len);
	free(paths[0]);
	free(paths[1]);
	free(paths[2]);
	return ok;
}

static bool
run_check(struct probe *p, const struct check_def *def, bool serials)
{
	struct tlsc_resp rs = TLSC_RESP_INIT;
	char url[320], msg[400];
	json_object *row;
	bool ok;

	endpoint_url(&p->eps.v[def->ep], def->path, url, sizeof(url));
	row = row_add(p, def->name, url);
	ok = exchange(p, def, &rs, msg, sizeof(msg));
	if (rs.peer.serial[0] != '\0')
		jv_add_str(row, "served_serial", rs.peer.serial);
	row_set(row, ok, msg);
	if (serials && def->serial_check != NULL)
		ok = serial_row(p, def, &rs.peer, url) && ok;
	tlsc_resp_clear(&rs);
	return ok;
}

/* Loads the manifest and its endpoints; on failure adds the row why. */
static bool
probe_init(struct probe *p)
{
	const char *file = manifest_comp_file(p->comp);
	char *path = xasprintf("%s/manifests/%s", p->kdir, file);
	char *held = xasprintf("%s/%s/%s", p->kdir, AGENT_HELD_DIR, file);
	struct manifest_diag d;
	char msg[400];
	enum cr_err err;

	memset(&d, 0, sizeof(d));
	if ((err = manifest_load(path, &p->m, &d)) == CR_OK)
		err = manifest_endpoints(p->m, p->comp, &p->eps, &d);
	if (err == CR_ERR_SYS && errno == ENOENT && file_exists(held))
		snprintf(msg, sizeof(msg),
		    "the manifest is parked in '%s' by an interrupted "
		    "restart, so the kubelet does not run it; put it back "
		    "with certroll-agent restart --recover-held",
		    held);
	else if (err == CR_ERR_SYS)
		snprintf(msg, sizeof(msg), "read '%s': %s", path,
		    strerror(errno));
	else if (err != CR_OK)
		snprintf(msg, sizeof(msg), "'%s':%u:%u: %s", path, d.line,
		    d.col, d.msg);
	if (err != CR_OK)
		row_set(row_add(p, "manifest", path), false, msg);
	free(path);
	free(held);
	return err == CR_OK;
}

enum cr_err
agent_health_probe(const struct agent_health_req *req, enum manifest_comp c,
    bool serials, json_object *checks)
{
	struct probe p = {
		.req = req,
		.kdir = kdir_of(req),
		.comp = c,
		.checks = checks,
	};
	size_t i;
	bool ok;

	if ((ok = probe_init(&p)))
		for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
			if (defs[i].comp == c)
				ok = run_check(&p, &defs[i], serials) && ok;
	manifest_free(p.m);
	return ok ? CR_OK : CR_ERR_HEALTH;
}

static void progress(const struct agent_health_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
progress(const struct agent_health_req *req, const char *fmt, ...)
{
	char msg[SUMMARY_MAX + 64];
	va_list ap;

	if (req->progress == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	req->progress(req->progress_arg, "probe", msg);
}

/* One pass over the components. */
struct pass {
	json_object *checks;
	json_object *unhealthy; /* components failing a health check */
	json_object *stale;     /* components serving an old certificate */
	bool healthy;
	struct buf summary; /* "etcd gateway: ...; kube-apiserver ..." */
};

static void
pass_clear(struct pass *ps)
{
	json_object_put(ps->checks);
	json_object_put(ps->unhealthy);
	json_object_put(ps->stale);
	ps->checks = ps->unhealthy = ps->stale = NULL;
	buf_clear(&ps->summary);
}

/*
 * With every component asked for, one without a manifest (external etcd)
 * is not this node's to run: a skipped row, not a failure. A manifest
 * parked by an interrupted restart is a failure the probe reports.
 */
static bool
skip_absent(const struct agent_health_req *req, enum manifest_comp c,
    json_object *checks)
{
	const char *file = manifest_comp_file(c);
	char *path = xasprintf("%s/manifests/%s", kdir_of(req), file);
	char *held = xasprintf("%s/%s/%s", kdir_of(req), AGENT_HELD_DIR, file);
	bool skip = req->components == 0 && !file_exists(path) &&
	    !file_exists(held);
	json_object *row;

	if (skip) {
		row = json_object_new_object();
		jv_add_str(row, "component", manifest_comp_name(c));
		jv_add_str(row, "check", "manifest");
		jv_add_str(row, "endpoint", path);
		row_set(row, true,
		    "no manifest: this node does not run it (external etcd?)");
		jv_add_bool(row, "skipped", true);
		json_object_array_add(checks, row);
	}
	free(path);
	free(held);
	return skip;
}

/* Sorts the component's failed rows [from, end) into the pass. */
static void
classify(struct pass *ps, enum manifest_comp c, size_t from)
{
	size_t i, n = json_object_array_length(ps->checks);
	const char *check, *name = manifest_comp_name(c);
	json_object *row;
	bool sick = false, stale = false;

	for (i = from; i < n; i++) {
		row = json_object_array_get_idx(ps->checks, i);
		if (jv_bool(row, "ok"))
			continue;
		check = jv_str(row, "check");
		/* Stale only if something was served, and not the file. */
		if (check != NULL && strstr(check, "serving-cert") != NULL &&
		    jv_str(row, "served_serial") != NULL)
			stale = true;
		else
			sick = true;
		if (ps->summary.len < SUMMARY_MAX)
			buf_printf(&ps->summary, "%s%s %s: %s",
			    ps->summary.len > 0 ? "; " : "", name, check,
			    jv_str(row, "message"));
	}
	if (sick)
		json_object_array_add(ps->unhealthy,
		    json_object_new_string(name));
	if (stale)
		json_object_array_add(ps->stale, json_object_new_string(name));
}

static void
one_pass(const struct agent_health_req *req, struct pass *ps)
{
	size_t c, from;

	ps->checks = json_object_new_array();
	ps->unhealthy = json_object_new_array();
	ps->stale = json_object_new_array();
	ps->healthy = true;
	for (c = 0; c < MANIFEST__MAX; c++) {
		if (req->components != 0 &&
		    (req->components & MANIFEST_BIT(c)) == 0)
			continue;
		if (skip_absent(req, (enum manifest_comp)c, ps->checks))
			continue;
		from = json_object_array_length(ps->checks);
		if (agent_health_probe(req, (enum manifest_comp)c, true,
			ps->checks) == CR_OK)
			continue;
		ps->healthy = false;
		classify(ps, (enum manifest_comp)c, from);
	}
}

enum cr_err
agent_health(const struct agent_health_req *req, json_object **resultp)
{
	struct pass ps = { .healthy = false, .summary = BUF_INIT };
	json_object *res = json_object_new_object();
	int attempts = 0, left;

	for (;;) {
		attempts++;
		pass_clear(&ps);
		one_pass(req, &ps);
		if (ps.healthy || req->deadline == 0 ||
		    clock_expired(req->deadline))
			break;
		progress(req, "attempt %d: %s; retrying", attempts,
		    buf_cstr(&ps.summary));
		left = clock_remaining_ms(req->deadline);
		clock_sleep_ms(left < RETRY_PAUSE_MS ? left : RETRY_PAUSE_MS);
	}
	jv_add_bool(res, "healthy", ps.healthy);
	jv_add_int(res, "attempts", attempts);
	json_object_object_add(res, "checks", ps.checks);
	json_object_object_add(res, "unhealthy", ps.unhealthy);
	json_object_object_add(res, "stale", ps.stale);
	ps.checks = ps.unhealthy = ps.stale = NULL;
	if (!ps.healthy) {
		log_warnx("health: %s", buf_cstr(&ps.summary));
		jv_add_str(res, "error", buf_cstr(&ps.summary));
	}
	pass_clear(&ps);
	*resultp = res;
	return jv_bool(res, "healthy") ? CR_OK : CR_ERR_HEALTH;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll-agent health [--only COMPONENTS] [--wait "
	    "DURATION]\n"
	    "           [--kubernetes-dir DIR] [--probe-timeout DURATION] "
	    "[-o text|json]\n\n"
	    "Checks, from this node, that each control-plane component "
	    "answers and serves\nthe certificate on disk:\n"
	    "  etcd           GET /health says true, and a real gateway call "
	    "(POST\n"
	    "                 /v3/maintenance/status) works: /health can be "
	    "true while\n"
	    "                 the gateway fails; client certificate "
	    "pki/etcd/healthcheck-client\n"
	    "  kube-apiserver GET /readyz is 200, client certificate "
	    "pki/apiserver-kubelet-client,\n"
	    "                 verified against pki/ca.crt\n"
	    "  kube-controller-manager, kube-scheduler\n"
	    "                 GET /healthz is 200 (self-signed serving "
	    "certificates: not verified)\n"
	    "and that the serial served in the TLS handshake on the API "
	    "server's port and\netcd's client and peer ports equals the one of "
	    "apiserver.crt, etcd/server.crt\nand etcd/peer.crt. Addresses and "
	    "ports come from the static pod manifests.\n\n"
	    "Options:\n"
	    "  --only COMPONENTS       comma-separated: etcd, kube-apiserver,\n"
	    "                          kube-controller-manager, "
	    "kube-scheduler (default all)\n"
	    "  --wait DURATION         retry until healthy or DURATION has "
	    "passed\n"
	    "  --kubernetes-dir DIR    kubeadm's directory (default %s)\n"
	    "  --probe-timeout DURATION  per probe (default 5s)\n"
	    "  -o, --output FORMAT     text (default) or json\n"
	    "  -h, --help              this text\n\n"
	    "Examples:\n"
	    "  certroll-agent health\n"
	    "  certroll-agent health --only etcd,kube-apiserver --wait 2m\n"
	    "  certroll-agent health -o json | jq '.checks[] | "
	    "select(.ok | not)'\n\n"
	    "Exit status: 0 healthy, 1 unhealthy or serving an old "
	    "certificate, 2 usage error.\n",
	    AGENT_KUBERNETES_DIR);
}

void
agent_ops_progress_log(void *arg, const char *phase, const char *message)
{
	(void)arg;
	log_info("%s: %s", phase, message);
}

static void
print_text(json_object *res)
{
	json_object *checks = jv_arr(res, "checks"), *row;
	size_t i, n = checks != NULL ? json_object_array_length(checks) : 0;

	printf("%-24s %-18s %-4s %s\n", "COMPONENT", "CHECK", "OK", "DETAIL");
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(checks, i);
		printf("%-24s %-18s %-4s %s\n", jv_str(row, "component"),
		    jv_str(row, "check"), jv_bool(row, "ok") ? "yes" : "NO",
		    jv_str(row, "message"));
	}
	if (jv_bool(res, "healthy"))
		printf("\nhealthy\n");
	else
		printf("\nNOT HEALTHY: %s\n", jv_str(res, "error"));
}

int
agent_ops_opt_duration(const char *cmd, const char *opt, const char *arg,
    int64_t *msp)
{
	if (duration_parse_ms(arg, msp) != CR_OK || *msp <= 0)
		return agent_usage(cmd,
		    "%s: '%s' is not a duration such as '2m' or '500ms'", opt,
		    arg);
	return AGENT_EXIT_OK;
}

int
agent_ops_opt_output(const char *cmd, const char *arg, bool *jsonp)
{
	if (strcmp(arg, "json") != 0 && strcmp(arg, "text") != 0 &&
	    strcmp(arg, "table") != 0)
		return agent_usage(cmd, "-o: '%s' is neither text nor json",
		    arg);
	*jsonp = strcmp(arg, "json") == 0;
	return AGENT_EXIT_OK;
}

int
agent_ops_opt_components(const char *cmd, const char *arg, unsigned *setp)
{
	struct manifest_diag d;

	if (manifest_comp_set_parse(arg, setp, &d) != CR_OK)
		return agent_usage(cmd, "--only: %s", d.msg);
	return AGENT_EXIT_OK;
}

/*
 * Options into req. Returns AGENT_EXIT_OK to go on, -1 after --help, or
 * the usage error's exit code.
 */
static int
parse_opts(int argc, char **argv, struct agent_health_req *req, bool *json,
    int64_t *waitp)
{
	static const struct option opts[] = {
		{ "only", required_argument, NULL, 'n' },
		{ "wait", required_argument, NULL, 'w' },
		{ "kubernetes-dir", required_argument, NULL, 'k' },
		{ "probe-timeout", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = AGENT_EXIT_OK;

	optind = 0;
	while (rc == AGENT_EXIT_OK &&
	    (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			rc = agent_ops_opt_components(argv[0], optarg,
			    &req->components);
			break;
		case 'w':
			rc = agent_ops_opt_duration(argv[0], "--wait", optarg,
			    waitp);
			break;
		case 't':
			rc = agent_ops_opt_duration(argv[0], "--probe-timeout",
			    optarg, &req->probe_timeout_ms);
			break;
		case 'k':
			req->kubernetes_dir = optarg;
			break;
		case 'o':
			rc = agent_ops_opt_output(argv[0], optarg, json);
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return agent_usage(argv[0], "unknown option");
		}
	}
	if (rc == AGENT_EXIT_OK && optind != argc)
		rc = agent_usage(argv[0], "unexpected argument '%s'",
		    argv[optind]);
	return rc;
}

int
agent_cmd_health(int argc, char **argv)
{
	struct agent_health_req req = { .progress = agent_ops_progress_log };
	json_object *res = NULL;
	int64_t wait = 0;
	bool json = false;
	enum cr_err err;
	int rc;

	if ((rc = parse_opts(argc, argv, &req, &json, &wait)) != AGENT_EXIT_OK)
		return rc == -1 ? AGENT_EXIT_OK : rc;
	if (wait > 0)
		req.deadline = clock_deadline_ms(wait);
	err = agent_health(&req, &res);
	if (json)
		printf("%s\n", jv_to_pretty(res));
	else
		print_text(res);
	json_object_put(res);
	return err == CR_OK ? AGENT_EXIT_OK : AGENT_EXIT_FAIL;
}
