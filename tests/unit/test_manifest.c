/*
 * manifest: kubeadm static pod manifests, the flags on their command lines,
 * the endpoints derived from them, and the kubelet's fileCheckFrequency.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cu_run.h"
#include "fileio.h"
#include "manifest.h"

/* A kubeadm-style manifest for component name with the given flags. */
static void
mk(struct buf *b, const char *name, const char *const *flags)
{
	buf_reset(b);
	buf_printf(b,
	    "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n"
	    "    component: %s\n    tier: control-plane\n  name: %s\n"
	    "  namespace: kube-system\nspec:\n  containers:\n  - command:\n"
	    "    - %s\n",
	    name, name, name);
	for (; flags != NULL && *flags != NULL; flags++)
		buf_printf(b, "    - %s\n", *flags);
	buf_printf(b,
	    "    image: registry.k8s.io/%s:v1.30.0\n    name: %s\n"
	    "  hostNetwork: true\nstatus: {}\n",
	    name, name);
}

static const char *const etcd_flags[] = {
	"--advertise-client-urls=https://10.0.0.11:2379",
	"--cert-file=/etc/kubernetes/pki/etcd/server.crt",
	"--client-cert-auth=true",
	"--listen-client-urls=https://10.0.0.11:2379,https://127.0.0.1:2379",
	"--listen-peer-urls=https://10.0.0.11:2380",
	"--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
	NULL,
};

static const char *const api_flags[] = {
	"--advertise-address=10.0.0.11",
	"--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
	"--secure-port=6443",
	"--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
	"--profiling",
	"--v",
	"2",
	"--secure-port=6444",
	NULL,
};

static const struct parse_case {
	const char *name;
	const char *yaml;
	const char *component; /* on success */
	const char *msg;       /* substring of the diagnostic */
	enum cr_err err;
	unsigned line; /* on failure; 0: any */
} parse_cases[] = {
	{ "name_from_name",
	    "kind: Pod\nmetadata:\n  name: etcd\nspec:\n"
	    "  containers:\n  - command: [etcd, --name=a]\n",
	    "etcd", "", CR_OK, 0 },
	{ "name_from_container",
	    "spec:\n  containers:\n  - name: kube-x\n"
	    "    args: [--a=b]\n",
	    "kube-x", "", CR_OK, 0 },
	{ "not_a_map", "- a\n- b\n", NULL, "not a YAML", CR_ERR_CONFIG, 1 },
	{ "wrong_kind", "kind: Deployment\nspec: {}\n", NULL, "not 'Pod'",
	    CR_ERR_CONFIG, 1 },
	{ "no_spec", "kind: Pod\nmetadata: {name: x}\n", NULL, "no spec",
	    CR_ERR_CONFIG, 0 },
	{ "no_containers", "kind: Pod\nspec:\n  containers: []\n", NULL,
	    "spec.containers", CR_ERR_CONFIG, 3 },
	{ "command_is_map",
	    "spec:\n  containers:\n  - name: x\n"
	    "    command: {a: b}\n",
	    NULL, "not a sequence", CR_ERR_CONFIG, 4 },
	{ "item_is_map",
	    "spec:\n  containers:\n  - name: x\n    command:\n"
	    "    - etcd\n    - {a: b}\n",
	    NULL, "not a string", CR_ERR_CONFIG, 6 },
	{ "no_command", "spec:\n  containers:\n  - name: x\n", NULL,
	    "no command", CR_ERR_CONFIG, 3 },
	{ "no_name", "spec:\n  containers:\n  - command: [x]\n", NULL,
	    "names no component", CR_ERR_CONFIG, 0 },
	{ "syntax", "spec:\n  containers: [a\n", NULL, "", CR_ERR_CONFIG, 0 },
	{ "two_docs", "kind: Pod\n---\nkind: Pod\n", NULL, "one YAML document",
	    CR_ERR_CONFIG, 0 },
	{ "empty", "", NULL, "one YAML document", CR_ERR_CONFIG, 0 },
};

static void
test_manifest_parse(void)
{
	const struct parse_case *t;
	struct manifest *m;
	struct manifest_diag d;
	size_t i;
	enum cr_err err;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		t = &parse_cases[i];
		memset(&d, 0, sizeof(d));
		err = manifest_parse(t->yaml, strlen(t->yaml), &m, &d);
		CU_ASSERT_CASE(err == t->err, t->name);
		if (err == CR_OK && t->component != NULL)
			CU_ASSERT_CASE(strcmp(manifest_name(m), t->component) ==
				0,
			    t->name);
		if (err != CR_OK) {
			CU_ASSERT_CASE(m == NULL, t->name);
			CU_ASSERT_CASE(t->line == 0 || d.line == t->line,
			    t->name);
			CU_ASSERT_CASE(strstr(d.msg, t->msg) != NULL, t->name);
			if (strstr(d.msg, t->msg) == NULL ||
			    (t->line != 0 && d.line != t->line))
				fprintf(stderr, "%s: %u:%u %s\n", t->name,
				    d.line, d.col, d.msg);
		}
		manifest_free(m);
	}
}

static void
test_manifest_flags(void)
{
	struct buf b = BUF_INIT;
	struct manifest *m = NULL;
	struct manifest_diag d;

	mk(&b, "kube-apiserver", api_flags);
	CU_ASSERT_EQUAL_FATAL(
	    manifest_parse((const char *)b.data, b.len, &m, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(manifest_name(m), "kube-apiserver");
	CU_ASSERT_EQUAL(manifest_argc(m), 9);
	CU_ASSERT_STRING_EQUAL(manifest_arg(m, 0), "kube-apiserver");
	CU_ASSERT_PTR_NULL(manifest_arg(m, 9));
	/* The last occurrence wins. */
	CU_ASSERT_STRING_EQUAL(manifest_flag(m, "--secure-port"), "6444");
	CU_ASSERT_STRING_EQUAL(manifest_flag(m, "--advertise-address"),
	    "10.0.0.11");
	CU_ASSERT_STRING_EQUAL(manifest_flag(m, "--etcd-certfile"),
	    "/etc/kubernetes/pki/apiserver-etcd-client.crt");
	CU_ASSERT_STRING_EQUAL(manifest_flag(m, "--profiling"), "");
	CU_ASSERT_STRING_EQUAL(manifest_flag(m, "--v"), "2");
	/* A prefix of a longer flag is not that flag. */
	CU_ASSERT_PTR_NULL(manifest_flag(m, "--secure"));
	CU_ASSERT_PTR_NULL(manifest_flag(m, "--bind-address"));
	/* The command itself is not a flag. */
	CU_ASSERT_PTR_NULL(manifest_flag(m, "kube-apiserver"));
	CU_ASSERT_PTR_NULL(manifest_flag(NULL, "--v"));
	manifest_free(m);
	buf_clear(&b);
}

struct ep_want {
	const char *host;
	const char *port;
	const char *cert; /* NULL: none */
};

static const char *const etcd_v6[] = {
	"--listen-client-urls=https://[::1]:2379", NULL
};
static const char *const etcd_any[] = {
	"--listen-client-urls=https://0.0.0.0:23790",
	"--listen-peer-urls=https://[::]:23800", NULL
};
static const char *const etcd_adv[] = {
	"--advertise-client-urls=https://10.0.0.12:2379",
	"--initial-advertise-peer-urls=https://10.0.0.12", NULL
};
static const char *const etcd_http[] = {
	"--listen-client-urls=http://127.0.0.1:2379", NULL
};
static const char *const etcd_mal[] = {
	"--listen-client-urls=https//127.0.0.1:2379", NULL
};
static const char *const etcd_port[] = {
	"--listen-client-urls=https://127.0.0.1:99999", NULL
};
static const char *const etcd_bracket[] = {
	"--listen-client-urls=https://[::1:2379", NULL
};
static const char *const api_bind[] = { "--bind-address=0.0.0.0", NULL };
static const char *const api_badport[] = { "--secure-port=64a", NULL };
static const char *const api_badaddr[] = { "--advertise-address=a b", NULL };
static const char *const sched_flags[] = { "--bind-address=0.0.0.0",
	"--secure-port=10300", "--tls-cert-file=/x/sched.crt", NULL };

static const struct ep_case {
	const char *name;
	const char *const *flags; /* NULL: no manifest */
	size_t n;
	struct ep_want want[2];
	enum manifest_comp comp;
	enum cr_err err;
} ep_cases[] = {
	{ "etcd_kubeadm", etcd_flags, 2,
	    { { "127.0.0.1", "2379", "/etc/kubernetes/pki/etcd/server.crt" },
		{ "10.0.0.11", "2380", "/etc/kubernetes/pki/etcd/peer.crt" } },
	    MANIFEST_ETCD, CR_OK },
	{ "etcd_v6", etcd_v6, 2,
	    { { "::1", "2379", NULL }, { "127.0.0.1", "2380", NULL } },
	    MANIFEST_ETCD, CR_OK },
	{ "etcd_wildcard", etcd_any, 2,
	    { { "127.0.0.1", "23790", NULL }, { "::1", "23800", NULL } },
	    MANIFEST_ETCD, CR_OK },
	{ "etcd_advertised", etcd_adv, 2,
	    { { "10.0.0.12", "2379", NULL }, { "10.0.0.12", "2380", NULL } },
	    MANIFEST_ETCD, CR_OK },
	{ "etcd_defaults", NULL, 2,
	    { { "127.0.0.1", "2379", NULL }, { "127.0.0.1", "2380", NULL } },
	    MANIFEST_ETCD, CR_OK },
	{ .name = "etcd_http_only",
	    .comp = MANIFEST_ETCD,
	    .flags = etcd_http,
	    .err = CR_ERR_CONFIG },
	{ .name = "etcd_malformed",
	    .comp = MANIFEST_ETCD,
	    .flags = etcd_mal,
	    .err = CR_ERR_CONFIG },
	{ .name = "etcd_bad_port",
	    .comp = MANIFEST_ETCD,
	    .flags = etcd_port,
	    .err = CR_ERR_CONFIG },
	{ .name = "etcd_bracket",
	    .comp = MANIFEST_ETCD,
	    .flags = etcd_bracket,
	    .err = CR_ERR_CONFIG },
	{ "api_kubeadm", api_flags, 1,
	    { { "10.0.0.11", "6444", "/etc/kubernetes/pki/apiserver.crt" } },
	    MANIFEST_APISERVER, CR_OK },
	{ "api_bind_any", api_bind, 1, { { "127.0.0.1", "6443", NULL } },
	    MANIFEST_APISERVER, CR_OK },
	{ .name = "api_bad_port",
	    .comp = MANIFEST_APISERVER,
	    .flags = api_badport,
	    .err = CR_ERR_CONFIG },
	{ .name = "api_bad_addr",
	    .comp = MANIFEST_APISERVER,
	    .flags = api_badaddr,
	    .err = CR_ERR_CONFIG },
	{ "kcm_defaults", NULL, 1, { { "127.0.0.1", "10257", NULL } },
	    MANIFEST_CONTROLLER_MANAGER, CR_OK },
	{ "sched_flags", sched_flags, 1,
	    { { "127.0.0.1", "10300", "/x/sched.crt" } }, MANIFEST_SCHEDULER,
	    CR_OK },
};

static void
check_endpoints(const struct ep_case *t, const struct manifest_endpoints *e)
{
	size_t i;

	CU_ASSERT_CASE(e->n == t->n, t->name);
	for (i = 0; i < t->n && i < e->n; i++) {
		CU_ASSERT_CASE(strcmp(e->v[i].host, t->want[i].host) == 0,
		    t->name);
		CU_ASSERT_CASE(strcmp(e->v[i].port, t->want[i].port) == 0,
		    t->name);
		CU_ASSERT_CASE(t->want[i].cert == NULL ?
			e->v[i].served_cert == NULL :
			e->v[i].served_cert != NULL &&
			    strcmp(e->v[i].served_cert, t->want[i].cert) == 0,
		    t->name);
		if (strcmp(e->v[i].host, t->want[i].host) != 0 ||
		    strcmp(e->v[i].port, t->want[i].port) != 0)
			fprintf(stderr, "%s: %s %s\n", t->name, e->v[i].host,
			    e->v[i].port);
	}
}

static void
test_manifest_endpoints(void)
{
	struct buf b = BUF_INIT;
	struct manifest *m;
	struct manifest_endpoints e;
	struct manifest_diag d;
	const struct ep_case *t;
	size_t i;
	enum cr_err err;

	for (i = 0; i < sizeof(ep_cases) / sizeof(ep_cases[0]); i++) {
		t = &ep_cases[i];
		m = NULL;
		if (t->flags != NULL) {
			mk(&b, manifest_comp_name(t->comp), t->flags);
			CU_ASSERT_CASE(manifest_parse((const char *)b.data,
					   b.len, &m, &d) == CR_OK,
			    t->name);
		}
		memset(&e, 0, sizeof(e));
		d.msg[0] = '\0';
		err = manifest_endpoints(m, t->comp, &e, &d);
		CU_ASSERT_CASE(err == t->err, t->name);
		if (err == CR_OK)
			check_endpoints(t, &e);
		else
			CU_ASSERT_CASE(strstr(d.msg, "--") != NULL, t->name);
		manifest_free(m);
	}
	buf_clear(&b);
}

static void
test_manifest_components(void)
{
	unsigned set = 0;
	enum manifest_comp c;
	struct manifest_diag d;

	CU_ASSERT_STRING_EQUAL(manifest_comp_name(MANIFEST_ETCD), "etcd");
	CU_ASSERT_STRING_EQUAL(manifest_comp_file(MANIFEST_SCHEDULER),
	    "kube-scheduler.yaml");
	CU_ASSERT_TRUE(manifest_comp_parse("kube-controller-manager", &c));
	CU_ASSERT_EQUAL(c, MANIFEST_CONTROLLER_MANAGER);
	CU_ASSERT_FALSE(manifest_comp_parse("kube-proxy", &c));
	CU_ASSERT_EQUAL(
	    manifest_comp_set_parse("etcd,kube-scheduler", &set, &d), CR_OK);
	CU_ASSERT_EQUAL(set,
	    MANIFEST_BIT(MANIFEST_ETCD) | MANIFEST_BIT(MANIFEST_SCHEDULER));
	set = 99;
	CU_ASSERT_EQUAL(
	    manifest_comp_set_parse("etcd,,kube-scheduler", &set, &d),
	    CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(set, 99);
	CU_ASSERT_EQUAL(manifest_comp_set_parse("", &set, &d), CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(manifest_comp_set_parse("kube-proxy", &set, &d),
	    CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "'kube-proxy'"));
}

static const struct url_case {
	const char *url;
	enum cr_err err;
	const char *host;
	const char *port;
} url_cases[] = {
	{ "https://127.0.0.1:2379", CR_OK, "127.0.0.1", "2379" },
	{ "https://[::1]:12379/", CR_OK, "::1", "12379" },
	{ "https://etcd.local", CR_OK, "etcd.local", "2379" },
	{ "https://0.0.0.0:2379", CR_OK, "127.0.0.1", "2379" },
	{ "http://127.0.0.1:2379", CR_ERR_CONFIG, NULL, NULL },
	{ "127.0.0.1:2379", CR_ERR_CONFIG, NULL, NULL },
	{ "https://127.0.0.1:0", CR_ERR_CONFIG, NULL, NULL },
	{ "https://127.0.0.1:", CR_ERR_CONFIG, NULL, NULL },
	{ "https://", CR_ERR_CONFIG, NULL, NULL },
	{ "https://[::1", CR_ERR_CONFIG, NULL, NULL },
	{ "https://a_b:1", CR_ERR_CONFIG, NULL, NULL },
};

static void
test_manifest_url(void)
{
	const struct url_case *t;
	struct manifest_endpoint ep;
	struct manifest_diag d;
	size_t i;

	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		t = &url_cases[i];
		memset(&ep, 0, sizeof(ep));
		CU_ASSERT_CASE(manifest_url_endpoint(t->url, "2379", &ep, &d) ==
			t->err,
		    t->url);
		if (t->err != CR_OK) {
			CU_ASSERT_CASE(ep.host[0] == '\0', t->url);
			CU_ASSERT_CASE(strstr(d.msg, t->url) != NULL, t->url);
			continue;
		}
		CU_ASSERT_CASE(strcmp(ep.host, t->host) == 0, t->url);
		CU_ASSERT_CASE(strcmp(ep.port, t->port) == 0, t->url);
	}
}

static const struct fcf_case {
	const char *name;
	const char *yaml; /* NULL: no file */
	enum cr_err err;
	int64_t ms;
} fcf_cases[] = {
	{ "ms", "kind: KubeletConfiguration\nfileCheckFrequency: 200ms\n",
	    CR_OK, 200 },
	{ "go_form", "fileCheckFrequency: 1m0s\n", CR_OK, 60000 },
	{ "absent", "kind: KubeletConfiguration\nsyncFrequency: 1m\n", CR_OK,
	    MANIFEST_DEFAULT_FCF_MS },
	{ "garbage", "fileCheckFrequency: soon\n", CR_ERR_CONFIG, 0 },
	{ "zero", "fileCheckFrequency: 0s\n", CR_ERR_CONFIG, 0 },
	{ "not_scalar", "fileCheckFrequency: [20s]\n", CR_ERR_CONFIG, 0 },
	{ "syntax", "fileCheckFrequency: [20s\n", CR_ERR_CONFIG, 0 },
	{ "missing", NULL, CR_ERR_SYS, 0 },
};

static void
test_manifest_fcf(void)
{
	const char *dir = cu_tmpdir();
	char path[512];
	struct manifest_diag d;
	const struct fcf_case *t;
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(fcf_cases) / sizeof(fcf_cases[0]); i++) {
		t = &fcf_cases[i];
		snprintf(path, sizeof(path), "%s/%s.yaml", dir, t->name);
		if (t->yaml != NULL)
			CU_ASSERT_CASE(file_write_atomic(path, t->yaml,
					   strlen(t->yaml), 0600) == CR_OK,
			    t->name);
		ms = -1;
		errno = 0;
		CU_ASSERT_CASE(manifest_file_check_frequency(path, &ms, &d) ==
			t->err,
		    t->name);
		CU_ASSERT_CASE(ms == (t->err == CR_OK ? t->ms : -1), t->name);
		if (t->err == CR_ERR_SYS)
			CU_ASSERT_CASE(errno == ENOENT, t->name);
		unlink(path);
	}
	rmdir(dir);
}

static CU_TestInfo tests[] = {
	{ "parse", test_manifest_parse },
	{ "flags", test_manifest_flags },
	{ "endpoints", test_manifest_endpoints },
	{ "components", test_manifest_components },
	{ "url", test_manifest_url },
	{ "file_check_frequency", test_manifest_fcf },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "manifest", .pTests = tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
