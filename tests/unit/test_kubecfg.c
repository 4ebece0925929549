/*
 * kubecfg: every kubeconfig form kubectl accepts, its merge rules and the
 * messages for the broken ones. Hermetic: files in a private temporary
 * directory, certificates made with the openssl CLI, exec plugins as
 * shell scripts.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "cu_run.h"
#include "fileio.h"
#include "jv.h"
#include "kubecfg.h"
#include "run.h"
#include "timefmt.h"
#include "xmalloc.h"

static char dir[256];
static char *cert_b64, *key_b64;
static struct buf cert_pem = BUF_INIT, key_pem = BUF_INIT;

static char *
path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void put(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(const char *name, const char *fmt, ...)
{
	char *path = path_in(name), *text;
	va_list ap;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	if (file_write_atomic(path, text, strlen(text), 0700) != CR_OK) {
		perror(path);
		exit(2);
	}
	free(text);
	free(path);
}

static char *
b64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static int
run_quiet(const char *const *argv, struct buf *out)
{
	struct run_cmd c = RUN_CMD_INIT;
	int rc;

	c.argv = argv;
	c.timeout_ms = 60000;
	rc = run_cmd(&c) == CR_OK ? 0 : -1;
	if (out != NULL)
		buf_put(out, c.out.data, c.out.len);
	run_cmd_clear(&c);
	return rc;
}

static void
read_or_die(const char *name, struct buf *b)
{
	char *path = path_in(name);

	if (file_read(path, 1 << 20, b) != CR_OK) {
		perror(path);
		exit(2);
	}
	free(path);
}

/* A self-signed EC client certificate, made once for every test. */
static int
suite_init(void)
{
	char *key, *crt;
	int rc;

	snprintf(dir, sizeof(dir), "%s", cu_tmpdir());
	key = path_in("client.key");
	crt = path_in("client.crt");
	{
		const char *argv[] = { "openssl", "req", "-x509", "-newkey",
			"ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
			"-nodes", "-keyout", key, "-out", crt, "-subj",
			"/O=kubeadm:cluster-admins/CN=kubernetes-admin",
			"-days", "30", NULL };
		rc = run_quiet(argv, NULL);
	}
	free(key);
	free(crt);
	if (rc != 0)
		return 1;
	read_or_die("client.crt", &cert_pem);
	read_or_die("client.key", &key_pem);
	cert_b64 = b64(cert_pem.data, cert_pem.len);
	key_b64 = b64(key_pem.data, key_pem.len);
	unsetenv("KUBECONFIG");
	return 0;
}

static int
suite_clean(void)
{
	const char *argv[] = { "rm", "-rf", dir, NULL };

	(void)run_quiet(argv, NULL);
	free(cert_b64);
	free(key_b64);
	buf_clear(&cert_pem);
	buf_clear_secret(&key_pem);
	return 0;
}

/* Loads dir/name with --kubeconfig (and --context when not NULL). */
static enum cr_err
load(const char *name, const char *context, struct kubecfg **cfgp,
    struct kubecfg_diag *diag)
{
	char *path = path_in(name);
	struct kubecfg_opts o = { .kubeconfig = path, .context = context };
	enum cr_err err;

	*cfgp = NULL;
	err = kubecfg_load(&o, cfgp, diag);
	free(path);
	return err;
}

#define CONFIG_HEAD                                                            \
	"apiVersion: v1\n"                                                     \
	"kind: Config\n"                                                       \
	"current-context: a\n"                                                 \
	"contexts:\n"                                                          \
	"- name: a\n"                                                          \
	"  context: {cluster: c1, user: admin}\n"                              \
	"- name: b\n"                                                          \
	"  context: {cluster: c1, user: admin}\n"

/* ---------------------------------------------------------------------- */

static void
test_load_inline_data(void)
{
	struct kubecfg *cfg;
	struct kubecfg_diag d;
	char *ca_b64 = b64(cert_pem.data, cert_pem.len), *want;
	const char *p;
	size_t len;
	struct buf out = BUF_INIT;
	int64_t ms = 0;
	char *crt = path_in("client.crt");
	const char *argv[] = { "openssl", "x509", "-in", crt, "-noout",
		"-enddate", "-dateopt", "iso_8601", NULL };

	put("inline",
	    CONFIG_HEAD "clusters:\n- name: c1\n  cluster:\n"
			"    server: https://10.0.0.10:6443\n"
			"    certificate-authority-data: %s\n"
			"    tls-server-name: kubernetes\n"
			"users:\n- name: admin\n  user:\n"
			"    client-certificate-data: %s\n"
			"    client-key-data: %s\n",
	    ca_b64, cert_b64, key_b64);
	CU_ASSERT_EQUAL_FATAL(load("inline", NULL, &cfg, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(kubecfg_server(cfg), "https://10.0.0.10:6443");
	CU_ASSERT_STRING_EQUAL(kubecfg_context_name(cfg), "a");
	CU_ASSERT_STRING_EQUAL(kubecfg_cluster_name(cfg), "c1");
	CU_ASSERT_STRING_EQUAL(kubecfg_user_name(cfg), "admin");
	CU_ASSERT_STRING_EQUAL(kubecfg_tls_server_name(cfg), "kubernetes");
	p = kubecfg_ca_pem(cfg, &len);
	CU_ASSERT_TRUE(
	    len == cert_pem.len && memcmp(p, cert_pem.data, len) == 0);
	p = kubecfg_cert_pem(cfg, &len);
	CU_ASSERT_TRUE(
	    len == cert_pem.len && memcmp(p, cert_pem.data, len) == 0);
	p = kubecfg_key_pem(cfg, &len);
	CU_ASSERT_TRUE(len == key_pem.len && memcmp(p, key_pem.data, len) == 0);
	CU_ASSERT_PTR_NULL(kubecfg_token(cfg));
	CU_ASSERT_FALSE(kubecfg_insecure(cfg));
	CU_ASSERT_FALSE(kubecfg_has_exec(cfg));
	/* notAfter agrees with the openssl CLI's reading of the file. */
	CU_ASSERT_EQUAL_FATAL(run_quiet(argv, &out), 0);
	want = strchr(buf_cstr(&out), '=');
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	if (want == NULL || strlen(want) < 12)
		return;
	want[11] = 'T';
	want[strcspn(want, "\n")] = '\0';
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339(want + 1, &ms), CR_OK);
	CU_ASSERT_EQUAL(kubecfg_cert_not_after(cfg), ms / 1000);
	kubecfg_free(cfg);
	buf_clear(&out);
	free(crt);
	free(ca_b64);
}

static void
test_load_relative_files(void)
{
	struct kubecfg *cfg;
	struct kubecfg_diag d;
	char *sub = path_in("sub");
	const char *p;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(file_mkdirs(sub, 0700), CR_OK);
	/* Paths are relative to the kubeconfig's own directory. */
	put("sub/config",
	    CONFIG_HEAD "clusters:\n- name: c1\n  cluster:\n"
			"    server: https://cp.example:6443\n"
			"    certificate-authority: ../client.crt\n"
			"users:\n- name: admin\n  user:\n"
			"    client-certificate: ../client.crt\n"
			"    client-key: %s/client.key\n",
	    dir);
	CU_ASSERT_EQUAL_FATAL(load("sub/config", "b", &cfg, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(kubecfg_context_name(cfg), "b");
	p = kubecfg_cert_pem(cfg, &len);
	CU_ASSERT_TRUE(
	    len == cert_pem.len && memcmp(p, cert_pem.data, len) == 0);
	p = kubecfg_key_pem(cfg, &len);
	CU_ASSERT_TRUE(len == key_pem.len && memcmp(p, key_pem.data, len) == 0);
	CU_ASSERT_PTR_NOT_NULL(kubecfg_ca_pem(cfg, NULL));
	CU_ASSERT_TRUE(strstr(kubecfg_path(cfg), "sub/config") != NULL);
	kubecfg_free(cfg);
	free(sub);
}

static void
test_load_token_forms(void)
{
	struct kubecfg *cfg;
	struct kubecfg_cred cred = { 0 };
	struct kubecfg_diag d;
	char *tokfile;

	put("tok",
	    CONFIG_HEAD "clusters:\n- name: c1\n  cluster:\n"
			"    server: https://10.0.0.10:6443\n"
			"    insecure-skip-tls-verify: true\n"
			"    proxy-url: socks5://proxy:1080\n"
			"users:\n- name: admin\n  user:\n"
			"    token: s3cr3t\n");
	CU_ASSERT_EQUAL_FATAL(load("tok", NULL, &cfg, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(kubecfg_token(cfg), "s3cr3t");
	CU_ASSERT_TRUE(kubecfg_insecure(cfg));
	CU_ASSERT_STRING_EQUAL(kubecfg_proxy_url(cfg), "socks5://proxy:1080");
	CU_ASSERT_FALSE(kubecfg_has_token_file(cfg));
	CU_ASSERT_EQUAL(kubecfg_credential(cfg, &cred, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(cred.token, "s3cr3t");
	CU_ASSERT_PTR_NULL(cred.cert_pem);
	CU_ASSERT_EQUAL(cred.expires_ms, 0);
	kubecfg_cred_clear(&cred);
	kubecfg_free(cfg);

	/* tokenFile: trimmed, relative, and read again for each credential. */
	put("token.txt", "  first-token\n");
	put("tokfile",
	    CONFIG_HEAD "clusters:\n- name: c1\n  cluster:\n"
			"    server: http://127.0.0.1:8080\n"
			"    proxy-url: http://proxy:3128\n"
			"users:\n- name: admin\n  user:\n"
			"    tokenFile: token.txt\n");
	CU_ASSERT_EQUAL_FATAL(load("tokfile", NULL, &cfg, &d), CR_OK);
	CU_ASSERT_TRUE(kubecfg_has_token_file(cfg));
	CU_ASSERT_STRING_EQUAL(kubecfg_token(cfg), "first-token");
	CU_ASSERT_STRING_EQUAL(kubecfg_proxy_url(cfg), "http://proxy:3128");
	put("token.txt", "second-token");
	CU_ASSERT_EQUAL(kubecfg_credential(cfg, &cred, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(cred.token, "second-token");
	kubecfg_cred_clear(&cred);
	tokfile = path_in("token.txt");
	CU_ASSERT_EQUAL(unlink(tokfile), 0);
	free(tokfile);
	CU_ASSERT_EQUAL(kubecfg_credential(cfg, &cred, &d), CR_ERR_SYS);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "cannot read tokenFile"));
	CU_ASSERT_PTR_NULL(cred.token);
	kubecfg_free(cfg);
}

/* ---------------------------------------------------------------------- */

struct err_row {
	const char *name;
	const char
	    *body; /* appended to CONFIG_HEAD unless it starts with '!' */
	const char *context;
	enum cr_err err;
	const char *want; /* substring of the message */
};

#define C1         "clusters:\n- name: c1\n  cluster:\n"
#define C1_SERVER  C1 "    server: https://10.0.0.10:6443\n"
#define USER_ADMIN "users:\n- name: admin\n  user:\n"
#define EXEC_HEAD  USER_ADMIN "    exec:\n"

static const struct err_row err_rows[] = {
	{ "missing_context", C1_SERVER USER_ADMIN "    token: x\n", "prod",
	    CR_ERR_NOTFOUND, "context \"prod\" not found (contexts: a, b)" },
	{ "no_current_context",
	    "!apiVersion: v1\ncontexts:\n- name: x\n  context: {cluster: c}\n",
	    NULL, CR_ERR_CONFIG,
	    "current-context is not set and --context was not given "
	    "(contexts: x)" },
	{ "missing_cluster",
	    "clusters:\n- name: other\n  cluster: {server: https://h}\n", NULL,
	    CR_ERR_NOTFOUND, "cluster \"c1\" not found (clusters: other)" },
	{ "missing_user", C1_SERVER, NULL, CR_ERR_NOTFOUND,
	    "user \"admin\" not found (users: none)" },
	{ "cert_without_key",
	    C1_SERVER USER_ADMIN "    client-certificate: client.crt\n", NULL,
	    CR_ERR_CONFIG,
	    ":16: users[0].user: client-certificate without client-key" },
	{ "key_without_cert",
	    C1_SERVER USER_ADMIN "    client-key: client.key\n", NULL,
	    CR_ERR_CONFIG,
	    "users[0].user: client-key without client-certificate" },
	{ "server_unset", C1 "    tls-server-name: x\n", NULL, CR_ERR_CONFIG,
	    ":12: clusters[0].cluster: server is not set" },
	{ "server_not_url", C1 "    server: 10.0.0.1:6443\n", NULL,
	    CR_ERR_CONFIG,
	    "clusters[0].cluster.server: '10.0.0.1:6443' is not an http(s) "
	    "URL" },
	{ "server_not_string", C1 "    server: {a: b}\n", NULL, CR_ERR_CONFIG,
	    "clusters[0].cluster.server: expected a string, found a mapping" },
	{ "insecure_with_ca",
	    C1_SERVER "    insecure-skip-tls-verify: true\n"
		      "    certificate-authority: client.crt\n",
	    NULL, CR_ERR_CONFIG,
	    "specifying a root certificates file with the insecure flag is "
	    "not allowed" },
	{ "insecure_not_bool",
	    C1_SERVER "    insecure-skip-tls-verify: maybe\n", NULL,
	    CR_ERR_CONFIG,
	    "clusters[0].cluster.insecure-skip-tls-verify: expected true or "
	    "false" },
	{ "bad_base64", C1_SERVER "    certificate-authority-data: \"!!!\"\n",
	    NULL, CR_ERR_CONFIG,
	    "clusters[0].cluster.certificate-authority-data: not valid "
	    "base64" },
	{ "unreadable_ca", C1_SERVER "    certificate-authority: nope.crt\n",
	    NULL, CR_ERR_SYS, "nope.crt': No such file or directory" },
	{ "proxy_bad_scheme", C1_SERVER "    proxy-url: ftp://proxy\n", NULL,
	    CR_ERR_CONFIG,
	    "clusters[0].cluster.proxy-url: unsupported scheme in "
	    "'ftp://proxy'" },
	{ "not_a_pem_cert",
	    C1_SERVER USER_ADMIN
	    "    client-certificate-data: bm90IGEgY2VydA==\n"
	    "    client-key: client.key\n",
	    NULL, CR_ERR_CERT,
	    "the client certificate is not a PEM certificate" },
	{ "basic_and_token",
	    C1_SERVER USER_ADMIN "    token: t\n    username: u\n", NULL,
	    CR_ERR_CONFIG,
	    "more than one authentication method found for admin; found "
	    "[token basicAuth], only one is allowed" },
	{ "basic_only", C1_SERVER USER_ADMIN "    password: p\n", NULL,
	    CR_ERR_CONFIG,
	    "basic authentication (username and password) is "
	    "not supported" },
	{ "auth_provider",
	    C1_SERVER USER_ADMIN "    auth-provider: {name: gcp}\n", NULL,
	    CR_ERR_CONFIG, "auth-provider plugins are not supported" },
	{ "exec_no_command",
	    C1_SERVER EXEC_HEAD
	    "      apiVersion: client.authentication.k8s.io/v1\n"
	    "      interactiveMode: Never\n",
	    NULL, CR_ERR_CONFIG,
	    "users[0].user.exec: command must be specified for admin to use "
	    "exec authentication plugin" },
	{ "exec_no_api_version", C1_SERVER EXEC_HEAD "      command: x\n", NULL,
	    CR_ERR_CONFIG, "apiVersion must be specified for admin" },
	{ "exec_bad_api_version",
	    C1_SERVER EXEC_HEAD
	    "      command: x\n"
	    "      apiVersion: client.authentication.k8s.io/v2\n",
	    NULL, CR_ERR_CONFIG,
	    "exec plugin: invalid apiVersion "
	    "\"client.authentication.k8s.io/v2\"" },
	{ "exec_v1_needs_interactive_mode",
	    C1_SERVER EXEC_HEAD
	    "      command: x\n"
	    "      apiVersion: client.authentication.k8s.io/v1\n",
	    NULL, CR_ERR_CONFIG,
	    "interactiveMode must be specified for admin to use exec "
	    "authentication plugin" },
	{ "exec_bad_interactive_mode",
	    C1_SERVER EXEC_HEAD
	    "      command: x\n"
	    "      apiVersion: client.authentication.k8s.io/v1\n"
	    "      interactiveMode: Sometimes\n",
	    NULL, CR_ERR_CONFIG,
	    "invalid interactiveMode for admin: \"Sometimes\"" },
	{ "exec_env_without_name",
	    C1_SERVER EXEC_HEAD
	    "      command: x\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	    "      env: [{value: v}]\n",
	    NULL, CR_ERR_CONFIG,
	    "env variable name must be specified for admin" },
	{ "exec_args_not_list",
	    C1_SERVER EXEC_HEAD
	    "      command: x\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	    "      args: {a: b}\n",
	    NULL, CR_ERR_CONFIG, "users[0].user.exec.args: expected a list" },
	{ "top_level_list", "!- a\n- b\n", NULL, CR_ERR_CONFIG,
	    "not a kubeconfig (the top level is a sequence, not a mapping)" },
	{ "yaml_syntax", "!a: b\nc: [d\ne: f\n", NULL, CR_ERR_CONFIG,
	    "errconf:" },
};

static void
test_load_errors(void)
{
	const struct err_row *r;
	struct kubecfg *cfg;
	struct kubecfg_diag d;
	enum cr_err err;
	size_t i;

	for (i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
		r = &err_rows[i];
		if (r->body[0] == '!')
			put("errconf", "%s", r->body + 1);
		else
			put("errconf", CONFIG_HEAD "%s", r->body);
		err = load("errconf", r->context, &cfg, &d);
		CU_ASSERT_CASE(err == r->err, r->name);
		CU_ASSERT_CASE(strstr(d.msg, r->want) != NULL, r->name);
		CU_ASSERT_CASE(strstr(d.msg, "errconf") != NULL, r->name);
		CU_ASSERT_CASE(cfg == NULL, r->name);
		if (err != r->err || strstr(d.msg, r->want) == NULL)
			fprintf(stderr, "\n%s: got %d '%s'\n", r->name, err,
			    d.msg);
		kubecfg_free(cfg);
	}
}

static void
test_load_missing_file(void)
{
	struct kubecfg *cfg;
	struct kubecfg_diag d;

	CU_ASSERT_EQUAL(load("no-such-file", NULL, &cfg, &d), CR_ERR_SYS);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg,
	    "no-such-file: No such file or "
	    "directory"));
	CU_ASSERT_PTR_NULL(cfg);
}

/* ---------------------------------------------------------------------- */

static void
test_merge_kubeconfig_list(void)
{
	struct kubecfg *cfg = NULL;
	struct kubecfg_diag d;
	char *f1 = path_in("m1"), *f2 = path_in("m2"), *gone = path_in("gone");
	char *list = xasprintf("%s::%s:%s:%s", f1, gone, f2, f1);

	/* m1 defines context a and cluster c1, and sets current-context. */
	put("m1",
	    "current-context: a\n"
	    "contexts:\n"
	    "- name: a\n  context: {cluster: c1, user: u2}\n"
	    "clusters:\n"
	    "- name: c1\n  cluster: {server: https://first:6443}\n");
	/* m2 redefines both, sets another current-context, defines u2. */
	put("m2",
	    "current-context: b\n"
	    "contexts:\n"
	    "- name: a\n  context: {cluster: c2, user: nobody}\n"
	    "- name: b\n  context: {cluster: c1, user: u2}\n"
	    "clusters:\n"
	    "- name: c1\n  cluster: {server: https://second:6443}\n"
	    "users:\n- name: u2\n  user: {token: from-m2}\n");
	setenv("KUBECONFIG", list, 1);
	CU_ASSERT_EQUAL_FATAL(kubecfg_load(NULL, &cfg, &d), CR_OK);
	/* First file wins as a whole, current-context from the first. */
	CU_ASSERT_STRING_EQUAL(kubecfg_context_name(cfg), "a");
	CU_ASSERT_STRING_EQUAL(kubecfg_cluster_name(cfg), "c1");
	CU_ASSERT_STRING_EQUAL(kubecfg_server(cfg), "https://first:6443");
	CU_ASSERT_STRING_EQUAL(kubecfg_token(cfg), "from-m2");
	/* The user's file is the one 'kubeconfig refresh' would rewrite. */
	CU_ASSERT_STRING_EQUAL(kubecfg_path(cfg), f2);
	kubecfg_free(cfg);
	cfg = NULL;

	/* Context b exists only in m2; its cluster c1 still comes from m1. */
	{
		struct kubecfg_opts o = { .context = "b" };
		CU_ASSERT_EQUAL_FATAL(kubecfg_load(&o, &cfg, &d), CR_OK);
		CU_ASSERT_STRING_EQUAL(kubecfg_server(cfg),
		    "https://first:6443");
		kubecfg_free(cfg);
		cfg = NULL;
	}
	/* --kubeconfig beats KUBECONFIG: no merging at all. */
	CU_ASSERT_EQUAL(load("m1", NULL, &cfg, &d), CR_ERR_NOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "user \"u2\" not found"));
	/* Every file missing. */
	setenv("KUBECONFIG", gone, 1);
	CU_ASSERT_EQUAL(kubecfg_load(NULL, &cfg, &d), CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg,
	    "none of the files in "
	    "KUBECONFIG exist"));
	unsetenv("KUBECONFIG");
	free(list);
	free(gone);
	free(f2);
	free(f1);
}

static void
test_default_home_config(void)
{
	struct kubecfg *cfg = NULL;
	struct kubecfg_diag d;
	char *home = path_in("home"), *kdir = path_in("home/.kube");
	char *old = getenv("HOME") != NULL ? xstrdup(getenv("HOME")) : NULL;

	CU_ASSERT_EQUAL_FATAL(file_mkdirs(kdir, 0700), CR_OK);
	setenv("HOME", home, 1);
	CU_ASSERT_EQUAL(kubecfg_load(NULL, &cfg, &d), CR_ERR_SYS);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "~/.kube/config does not exist"));
	put("home/.kube/config",
	    CONFIG_HEAD C1_SERVER USER_ADMIN
	    "    client-certificate: ../../client.crt\n");
	CU_ASSERT_EQUAL(kubecfg_load(NULL, &cfg, &d), CR_ERR_CONFIG);
	/* Messages show the home directory as '~'. */
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "~/.kube/config:16: users[0]"));
	put("home/.kube/config",
	    CONFIG_HEAD C1_SERVER USER_ADMIN "    token: t\n");
	CU_ASSERT_EQUAL_FATAL(kubecfg_load(NULL, &cfg, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(kubecfg_display_path(cfg), "~/.kube/config");
	kubecfg_free(cfg);
	if (old != NULL)
		setenv("HOME", old, 1);
	free(old);
	free(kdir);
	free(home);
}

/* ---------------------------------------------------------------------- */

/* An exec plugin: a script that logs its calls and prints body. */
static void
plugin(const char *name, const char *body)
{
	put(name,
	    "#!/bin/sh\n"
	    "echo run >> \"%s/%s.calls\"\n"
	    "printf '%%s' \"$KUBERNETES_EXEC_INFO\" > \"%s/%s.info\"\n"
	    "printf '%%s' \"$PLUGIN_ENV\" > \"%s/%s.env\"\n"
	    "%s\n",
	    dir, name, dir, name, dir, name, body);
}

static int
calls_of(const char *name)
{
	char *path = xasprintf("%s/%s.calls", dir, name);
	struct buf b = BUF_INIT;
	int n = 0;
	size_t i;

	if (file_read(path, 1 << 16, &b) == CR_OK)
		for (i = 0; i < b.len; i++)
			n += b.data[i] == '\n';
	buf_clear(&b);
	free(path);
	return n;
}

static void
exec_config(const char *file, const char *command, const char *api,
    const char *extra)
{
	put(file,
	    CONFIG_HEAD C1_SERVER
	    "    certificate-authority: client.crt\n" USER_ADMIN "    exec:\n"
	    "      command: %s\n"
	    "      apiVersion: %s\n"
	    "      interactiveMode: Never\n"
	    "      args: [get-token, --cluster, c1]\n"
	    "      env: [{name: PLUGIN_ENV, value: from-kubeconfig}]\n"
	    "%s",
	    command, api, extra);
}

static void
test_exec_plugin_token(void)
{
	struct kubecfg *cfg;
	struct kubecfg_cred cred = { 0 };
	struct kubecfg_diag d;
	struct buf info = BUF_INIT, env = BUF_INIT;

	plugin("tok.sh",
	    "[ \"$1 $2 $3\" = 'get-token --cluster c1' ] || exit 9\n"
	    "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
	    "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-tok\","
	    "\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}'");
	exec_config("execcfg", "./tok.sh", "client.authentication.k8s.io/v1",
	    "      provideClusterInfo: true\n");
	CU_ASSERT_EQUAL_FATAL(load("execcfg", NULL, &cfg, &d), CR_OK);
	CU_ASSERT_TRUE(kubecfg_has_exec(cfg));
	CU_ASSERT_EQUAL(calls_of("tok.sh"), 0); /* loading runs nothing */
	CU_ASSERT_EQUAL_FATAL(kubecfg_credential(cfg, &cred, &d), CR_OK);
	CU_ASSERT_STRING_EQUAL(cred.token, "exec-tok");
	CU_ASSERT_TRUE(cred.from_exec);
	CU_ASSERT_EQUAL(cred.expires_ms, 1893553445000LL);
	CU_ASSERT_EQUAL(calls_of("tok.sh"), 1);
	read_or_die("tok.sh.info", &info);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf_cstr(&info), "\"kind\":\"ExecCredential\""));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf_cstr(&info), "\"interactive\":false"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf_cstr(&info), "\"server\":\"https://10.0.0.10:6443\""));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf_cstr(&info), "\"certificate-authority-data\":\"LS0t"));
	read_or_die("tok.sh.env", &env);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&env), "from-kubeconfig");
	kubecfg_cred_clear(&cred);
	CU_ASSERT_PTR_NULL(cred.token);
	kubecfg_free(cfg);
	buf_clear(&info);
	buf_clear(&env);
}

static void
test_exec_plugin_cert(void)
{
	struct kubecfg *cfg;
	struct kubecfg_cred cred = { 0 };
	struct kubecfg_diag d;
	json_object *o = json_object_new_object();
	json_object *st = json_object_new_object();
	char *script;

	jv_add_str(o, "apiVersion", "client.authentication.k8s.io/v1beta1");
	jv_add_str(o, "kind", "ExecCredential");
	jv_add_str(st, "clientCertificateData", buf_cstr(&cert_pem));
	jv_add_str(st, "clientKeyData", "k");
	json_object_object_add(o, "status", st);
	put("cert.json", "%s\n", jv_to_string(o));
	json_object_put(o);
	script = xasprintf("cat '%s/cert.json'", dir);
	plugin("cert.sh", script);
	free(script);
	exec_config("execcert", "./cert.sh",
	    "client.authentication.k8s.io/v1beta1", "");
	CU_ASSERT_EQUAL_FATAL(load("execcert", NULL, &cfg, &d), CR_OK);
	CU_ASSERT_EQUAL_FATAL(kubecfg_credential(cfg, &cred, &d), CR_OK);
	CU_ASSERT_PTR_NULL(cred.token);
	CU_ASSERT_EQUAL(cred.expires_ms, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cred.cert_pem);
	CU_ASSERT_EQUAL(cred.cert_pem != NULL &&
		strcmp(cred.cert_pem, buf_cstr(&cert_pem)) == 0,
	    true);
	CU_ASSERT_STRING_EQUAL(cred.key_pem, "k");
	kubecfg_cred_clear(&cred);
	kubecfg_free(cfg);
}

struct exec_row {
	const char *name;
	const char *command;
	const char *script; /* NULL: the command does not exist */
	const char *mode;
	enum cr_err err;
	const char *want;
};

#define EXEC_OUT(status)                                                       \
	"echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\","           \
	"\"kind\":\"ExecCredential\"" status "}'"

static const struct exec_row exec_rows[] = {
	{ "not_found", "./missing-plugin", NULL, "Never", CR_ERR_SUBPROC,
	    "exec plugin './missing-plugin' not found\nbrew install it" },
	{ "exit_status", "./fail.sh", "echo boom >&2; exit 3", "Never",
	    CR_ERR_SUBPROC,
	    "exec plugin './fail.sh' exited with status 3: boom" },
	{ "invalid_json", "./junk.sh", "echo 'tok: abc'", "Never", CR_ERR_PROTO,
	    "exec plugin './junk.sh' printed invalid JSON" },
	{ "wrong_kind", "./kind.sh",
	    "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
	    "\"kind\":\"Secret\"}'",
	    "Never", CR_ERR_PROTO, "printed a Secret, not an ExecCredential" },
	{ "wrong_api_version", "./ver.sh",
	    "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
	    "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'",
	    "Never", CR_ERR_PROTO,
	    "is configured to use API version client.authentication.k8s.io/v1, "
	    "plugin returned version client.authentication.k8s.io/v1beta1" },
	{ "no_status", "./nostatus.sh", EXEC_OUT(""), "Never", CR_ERR_PROTO,
	    "didn't return a status field" },
	{ "empty_status", "./empty.sh", EXEC_OUT(",\"status\":{}"), "Never",
	    CR_ERR_PROTO, "didn't return a token or cert/key pair" },
	{ "cert_only", "./half.sh",
	    EXEC_OUT(",\"status\":{\"clientCertificateData\":\"c\"}"), "Never",
	    CR_ERR_PROTO, "returned only certificate or key, not both" },
	{ "bad_expiry", "./exp.sh",
	    EXEC_OUT(",\"status\":{\"token\":\"t\",\"expirationTimestamp\":"
		     "\"tomorrow\"}"),
	    "Never", CR_ERR_PROTO,
	    "returned an invalid expirationTimestamp \"tomorrow\"" },
	{ "interactive_always", "./always.sh", "exit 0", "Always",
	    CR_ERR_CONFIG, "needs a terminal (interactiveMode: Always)" },
};

static void
test_exec_plugin_errors(void)
{
	const struct exec_row *r;
	struct kubecfg *cfg;
	struct kubecfg_cred cred = { 0 };
	struct kubecfg_diag d;
	enum cr_err err;
	size_t i;

	for (i = 0; i < sizeof(exec_rows) / sizeof(exec_rows[0]); i++) {
		r = &exec_rows[i];
		if (r->script != NULL)
			plugin(r->command + 2, r->script);
		put("execerr",
		    CONFIG_HEAD C1_SERVER USER_ADMIN
		    "    exec:\n"
		    "      command: %s\n"
		    "      apiVersion: client.authentication.k8s.io/v1\n"
		    "      interactiveMode: %s\n"
		    "      installHint: brew install it\n",
		    r->command, r->mode);
		CU_ASSERT_EQUAL_FATAL(load("execerr", NULL, &cfg, &d), CR_OK);
		err = kubecfg_credential(cfg, &cred, &d);
		CU_ASSERT_CASE(err == r->err, r->name);
		CU_ASSERT_CASE(strstr(d.msg, r->want) != NULL, r->name);
		CU_ASSERT_CASE(strstr(d.msg, "user \"admin\"") != NULL,
		    r->name);
		CU_ASSERT_CASE(cred.token == NULL && cred.cert_pem == NULL,
		    r->name);
		if (err != r->err || strstr(d.msg, r->want) == NULL)
			fprintf(stderr, "\n%s: got %d '%s'\n", r->name, err,
			    d.msg);
		kubecfg_free(cfg);
	}
}

static void
test_pem_cert(void)
{
	struct cert_info ci = { 0 };

	CU_ASSERT_EQUAL_FATAL(
	    kubecfg_pem_cert((const char *)cert_pem.data, cert_pem.len, &ci),
	    CR_OK);
	CU_ASSERT_STRING_EQUAL(ci.subject,
	    "O=kubeadm:cluster-admins, CN=kubernetes-admin");
	CU_ASSERT_STRING_EQUAL(ci.issuer, ci.subject);
	CU_ASSERT_EQUAL(ci.not_after - ci.not_before, 30LL * 86400);
	CU_ASSERT_PTR_NOT_NULL(ci.serial);
	certinfo_clear(&ci);
	CU_ASSERT_EQUAL(
	    kubecfg_pem_cert("-----BEGIN CERTIFICATE-----\n", 28, &ci),
	    CR_ERR_CERT);
	CU_ASSERT_EQUAL(kubecfg_pem_cert((const char *)cert_pem.data, 40, &ci),
	    CR_ERR_CERT);
	CU_ASSERT_PTR_NULL(ci.subject);
}

static CU_TestInfo load_tests[] = {
	{ "inline_data", test_load_inline_data },
	{ "relative_files", test_load_relative_files },
	{ "token_forms", test_load_token_forms },
	{ "errors", test_load_errors },
	{ "missing_file", test_load_missing_file },
	{ "merge_kubeconfig_list", test_merge_kubeconfig_list },
	{ "default_home_config", test_default_home_config },
	{ "pem_cert", test_pem_cert },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo exec_tests[] = {
	{ "token", test_exec_plugin_token },
	{ "cert", test_exec_plugin_cert },
	{ "errors", test_exec_plugin_errors },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "kubecfg_load",
	    .pInitFunc = suite_init,
	    .pCleanupFunc = suite_clean,
	    .pTests = load_tests },
	{ .pName = "kubecfg_exec",
	    .pInitFunc = suite_init,
	    .pCleanupFunc = suite_clean,
	    .pTests = exec_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
