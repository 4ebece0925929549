#include "kubesim_fix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cu_run.h"
#include "fileio.h"
#include "jv.h"
#include "run.h"
#include "xmalloc.h"

#define START_TIMEOUT_MS 30000

static void
die(const struct ksf *f, const char *what)
{
	char log[400];
	struct buf b = BUF_INIT;

	snprintf(log, sizeof(log), "%s/kubesim.log", f->dir);
	if (file_read(log, 1 << 16, &b) != CR_OK)
		buf_puts(&b, "(no kubesim.log)");
	fprintf(stderr, "kubesim fixture: %s\n%s\n", what, buf_cstr(&b));
	buf_clear(&b);
	exit(2);
}

void
ksf_init(struct ksf *f)
{
	memset(f, 0, sizeof(*f));
	f->proc = (struct bgproc)BGPROC_INIT;
	f->front = (struct bgproc)BGPROC_INIT;
	snprintf(f->dir, sizeof(f->dir), "%s", cu_tmpdir());
	snprintf(f->kubeconfig, sizeof(f->kubeconfig), "%s/kubeconfig", f->dir);
}

static void
wait_for_file(struct ksf *f, const char *path)
{
	int64_t deadline = clock_deadline_ms(START_TIMEOUT_MS);

	while (!file_exists(path)) {
		if (clock_expired(deadline))
			die(f, "kubesim did not start in time");
		clock_sleep_ms(50);
	}
}

static void
load_admin(struct ksf *f)
{
	struct kubecfg_opts o = { .kubeconfig = f->kubeconfig };
	struct kubecfg_diag d;

	if (kubecfg_load(&o, &f->cfg, &d) != CR_OK)
		die(f, d.msg);
	if (kube_new(f->cfg, &f->k) != CR_OK)
		die(f, "cannot make a client for kubesim");
	snprintf(f->url, sizeof(f->url), "%s", kubecfg_server(f->cfg));
}

void
ksf_start(struct ksf *f, const char *const *extra)
{
	const char *argv[40];
	char sim[300], sock[300], log[300];
	size_t n = 0, i;

	snprintf(sim, sizeof(sim), "%s/tests/sim/kubesim", CR_SOURCE_DIR);
	snprintf(sock, sizeof(sock), "%s/core.sock", f->dir);
	snprintf(log, sizeof(log), "%s/kubesim.log", f->dir);
	argv[n++] = "python3";
	argv[n++] = sim;
	argv[n++] = "--state-dir";
	argv[n++] = f->dir;
	argv[n++] = "--core-socket";
	argv[n++] = sock;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (bgproc_start(&f->proc, argv, log) != CR_OK)
		die(f, "cannot start python3");
	wait_for_file(f, f->kubeconfig);
	load_admin(f);
}

void
ksf_frontend(struct ksf *f, const char *name)
{
	char sim[300], sock[300], listen[64], crt[300], key[300], ca[300];
	char log[300];
	int port = bgproc_free_port();
	int64_t deadline = clock_deadline_ms(START_TIMEOUT_MS);
	bool ready = false;

	snprintf(sim, sizeof(sim), "%s/tests/sim/kubesim", CR_SOURCE_DIR);
	snprintf(sock, sizeof(sock), "%s/core.sock", f->dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(crt, sizeof(crt), "%s/server.crt", f->dir);
	snprintf(key, sizeof(key), "%s/server.key", f->dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", f->dir);
	snprintf(log, sizeof(log), "%s/frontend.log", f->dir);
	snprintf(f->front_url, sizeof(f->front_url), "https://%s", listen);
	{
		const char *argv[] = { "python3", sim, "frontend",
			"--core-socket", sock, "--listen", listen,
			"--tls-cert-file", crt, "--tls-private-key-file", key,
			"--client-ca-file", ca, "--node", name, NULL };
		if (bgproc_start(&f->front, argv, log) != CR_OK)
			die(f, "cannot start kubesim frontend");
	}
	if (kube_add_endpoint(f->k, name, f->front_url) != CR_OK)
		die(f, "cannot add the frontend endpoint");
	while (!ready && !clock_expired(deadline)) {
		if (kube_readyz(f->k, name, clock_deadline_ms(2000), &ready,
			NULL) != CR_OK ||
		    !ready)
			clock_sleep_ms(100);
	}
	if (!ready)
		die(f, "kubesim frontend did not become ready");
}

void
ksf_stop(struct ksf *f)
{
	const char *argv[] = { "rm", "-rf", f->dir, NULL };
	struct run_cmd c = RUN_CMD_INIT;

	bgproc_stop(&f->front);
	bgproc_stop(&f->proc);
	kube_free(f->k);
	kubecfg_free(f->cfg);
	f->k = NULL;
	f->cfg = NULL;
	c.argv = argv;
	c.timeout_ms = 30000;
	if (run_cmd(&c) != CR_OK)
		fprintf(stderr, "kubesim fixture: cannot remove %s\n", f->dir);
	run_cmd_clear(&c);
}

/* The JSON text with ' as " (see kubesim_fix.h). */
static json_object *
parse_quoted(const char *text)
{
	char *copy = xstrdup(text), *p;
	json_object *o = NULL;

	for (p = copy; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	if (jv_parse(copy, strlen(copy), &o, NULL, 0) != CR_OK) {
		fprintf(stderr, "kubesim fixture: bad JSON: %s\n", copy);
		exit(2);
	}
	free(copy);
	return o;
}

long
ksf_send(struct ksf *f, const char *method, const char *path,
    const char *json_body)
{
	struct kube_call c = KUBE_CALL_INIT;
	json_object *body = NULL;
	long status;

	if (json_body != NULL)
		body = parse_quoted(json_body);
	c.method = method;
	c.path = path;
	c.body = body;
	if (strcmp(method, "PATCH") == 0)
		c.content_type = "application/merge-patch+json";
	if (kube_call(f->k, &c, clock_deadline_ms(20000)) != CR_OK)
		fprintf(stderr, "kubesim fixture: %s %s: %s\n", method, path,
		    c.msg);
	status = c.status;
	kube_call_clear(&c);
	json_object_put(body);
	return status;
}

int
ksf_bulk(struct ksf *f, const char *items_json)
{
	char *body = xasprintf("{\"items\":%s}", items_json);
	long status = ksf_send(f, "POST", "/sim/bulk", body);

	free(body);
	return status == 201 ? 0 : -1;
}

int
ksf_faults(struct ksf *f, const char *json)
{
	long status = json != NULL ? ksf_send(f, "POST", "/sim/faults", json) :
				     ksf_send(f, "DELETE", "/sim/faults", NULL);

	return status == 200 ? 0 : -1;
}

int
ksf_controller(struct ksf *f, const char *name, bool on)
{
	char *body = xasprintf("{\"%s\":%s}", name, on ? "true" : "false");
	long status = ksf_send(f, "POST", "/sim/controllers", body);

	free(body);
	return status == 200 ? 0 : -1;
}

json_object *
ksf_get(struct ksf *f, const char *path)
{
	json_object *obj = NULL;

	if (kube_get(f->k, path, clock_deadline_ms(20000), &obj) != CR_OK)
		return NULL;
	return obj;
}

int64_t
ksf_seq(struct ksf *f)
{
	json_object *o = ksf_get(f, "/sim/requests?since=999999999");
	int64_t seq = -1;

	if (o == NULL || !jv_int(o, "seq", &seq))
		seq = -1;
	json_object_put(o);
	return seq;
}

static bool
str_match(const char *got, const char *want, bool substring)
{
	if (want == NULL)
		return true;
	if (got == NULL)
		return false;
	return substring ? strstr(got, want) != NULL : strcmp(got, want) == 0;
}

/* What a logged request must match; NULL or 0: anything. */
struct req_filter {
	const char *method;
	const char *path; /* a substring of the target */
	const char *listener;
	int64_t status;
};

static size_t
count_where(struct ksf *f, int64_t seq, const struct req_filter *w)
{
	char *q = xasprintf("/sim/requests?since=%lld", (long long)seq);
	json_object *o = ksf_get(f, q), *items, *e;
	size_t i, n, count = 0;
	int64_t got;

	items = jv_arr(o, "items");
	n = items != NULL ? json_object_array_length(items) : 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(items, i);
		count += str_match(jv_str(e, "method"), w->method, false) &&
		    str_match(jv_str(e, "path"), w->path, true) &&
		    str_match(jv_str(e, "frontend"), w->listener, false) &&
		    (w->status == 0 ||
			(jv_int(e, "status", &got) && got == w->status));
	}
	json_object_put(o);
	free(q);
	return count;
}

size_t
ksf_count(struct ksf *f, int64_t seq, const char *method, const char *path,
    const char *listener)
{
	const struct req_filter w = { method, path, listener, 0 };

	return count_where(f, seq, &w);
}

size_t
ksf_count_status(struct ksf *f, int64_t seq, const char *path, int64_t status)
{
	const struct req_filter w = { NULL, path, NULL, status };

	return count_where(f, seq, &w);
}

void
ksf_kubeconfig(struct ksf *f, const char *file, const char *url,
    const char *user_yaml)
{
	char *path = xasprintf("%s/%s", f->dir, file);
	char *text = xasprintf("apiVersion: v1\nkind: Config\n"
			       "current-context: t\n"
			       "contexts:\n- name: t\n"
			       "  context: {cluster: sim, user: u}\n"
			       "clusters:\n- name: sim\n  cluster:\n"
			       "    server: %s\n"
			       "    certificate-authority: %s/ca.crt\n"
			       "users:\n- name: u\n  user:\n%s",
	    url, f->dir, user_yaml);

	if (file_write_atomic(path, text, strlen(text), 0600) != CR_OK) {
		perror(path);
		exit(2);
	}
	free(text);
	free(path);
}
