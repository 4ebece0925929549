/*
 * agent renew: the native renewer on generated trees (every target,
 * checked with the openssl CLI), selection by --only and --renew-before,
 * every refusal with nothing changed, broken renewals that verify catches
 * and rolls back byte for byte, and the kubeadm backend against the
 * kubeadm stand-in, including its MISSING!/external exits with status 0.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_int.h"
#include "certtest.h"
#include "cu_run.h"
#include "fileio.h"
#include "jv.h"
#include "kcfgcert.h"
#include "xmalloc.h"

static const char standin[] = CR_SOURCE_DIR "/tests/sim/kubeadm";

static const char *const kubeconfigs[] = { "admin.conf", "super-admin.conf",
	"controller-manager.conf", "scheduler.conf", NULL };

static void
opts_init(struct agent_renew_opts *o, const struct ct_tree *t,
    enum agent_backend backend)
{
	static char root[512];

	memset(o, 0, sizeof(*o));
	snprintf(root, sizeof(root), "%s/backups", t->dir);
	o->kubernetes_dir = t->kdir;
	o->backup_dir = root;
	o->backend = backend;
	o->now = time(NULL);
}

static void
inspect(const struct ct_tree *t, struct agent_inspection *in)
{
	struct agent_inspect_opts o;

	memset(&o, 0, sizeof(o));
	memset(in, 0, sizeof(*in));
	o.kubernetes_dir = t->kdir;
	agent_inspect_certs(&o, false, in);
}

/* The certificate of row ci as a PEM file openssl can read. */
static char *
pem_file(const struct ct_tree *t, const struct cert_info *ci)
{
	struct kcfgcert *kc = NULL;
	char *path, *text;

	if (strstr(ci->file, ".conf") == NULL)
		return xstrdup(ci->file);
	CU_ASSERT_FATAL(kcfgcert_load(ci->file, &kc, NULL) == CR_OK);
	path = xasprintf("%s/%s.pem", t->dir, ci->name);
	text = xstrndup((const char *)kc->cert_pem.data, kc->cert_pem.len);
	ct_write(path, text);
	free(text);
	kcfgcert_free(kc);
	return path;
}

static bool
openssl_verifies(const struct ct_tree *t, const struct cert_info *ci)
{
	const struct pki_entry *ca = pki_find(ci->ca);
	char *ca_file = ct_path(t->kdir, ca->file), *pem = pem_file(t, ci);
	const char *argv[] = { "openssl", "verify", "-CAfile", ca_file, pem,
		NULL };
	bool ok = ct_run(argv, NULL) == 0;

	free(ca_file);
	free(pem);
	return ok;
}

/* When a renewal ran: from start to start + slack seconds. */
struct window {
	time_t start;
	time_t slack;
	int64_t validity;
};

/* Checks one renewed row against the row before. */
static void
check_window(const struct ct_tree *t, const struct cert_info *b,
    const struct cert_info *a, const struct window *w)
{
	const char *n = a->name;
	int64_t start = (int64_t)a->not_before + 300 - (int64_t)w->start;

	CU_ASSERT_CASE(strcmp(a->serial, b->serial) != 0, n);
	CU_ASSERT_CASE(strcmp(a->subject, b->subject) == 0, n);
	CU_ASSERT_CASE(strv_equal_set(&a->dns_names, &b->dns_names), n);
	CU_ASSERT_CASE(strv_equal_set(&a->ip_addresses, &b->ip_addresses), n);
	CU_ASSERT_CASE(strv_equal_set(&a->ext_key_usages, &b->ext_key_usages),
	    n);
	/* not-before five minutes back, not-after validity after that. */
	CU_ASSERT_CASE(start >= -1 && start <= w->slack + 1, n);
	CU_ASSERT_CASE(llabs((long long)(a->not_after - a->not_before - 300 -
			   w->validity)) <= 1,
	    n);
	CU_ASSERT_CASE(openssl_verifies(t, a), n);
}

static void
check_renewed(const struct ct_tree *t, const struct cert_info *b,
    const struct cert_info *a, time_t now, int64_t validity)
{
	const struct window w = { now, 0, validity };

	check_window(t, b, a, &w);
}

static void
check_key_files(const struct ct_tree *t, const char *header)
{
	const struct pki_entry *e;
	char *key, *text;
	size_t i;

	for (i = 0; (e = pki_at(i)) != NULL; i++) {
		if (e->kind != PKI_LEAF)
			continue;
		key = ct_path(t->kdir, e->key);
		text = ct_slurp(key);
		CU_ASSERT_CASE(ct_mode(key) == 0600, e->name);
		CU_ASSERT_CASE(text != NULL &&
			strncmp(text, header, strlen(header)) == 0,
		    e->name);
		free(text);
		free(key);
	}
}

/* Copies of the kubeconfigs, to compare their other entries afterwards. */
static void
copy_kubeconfigs(const struct ct_tree *t, struct ydoc **docs)
{
	char *p;
	size_t i;

	for (i = 0; kubeconfigs[i] != NULL; i++) {
		p = ct_path(t->kdir, kubeconfigs[i]);
		docs[i] = ct_parse_yaml(p);
		free(p);
	}
}

static void
check_kubeconfigs(const struct ct_tree *t, struct ydoc **before)
{
	static const char *const creds[] = { "client-certificate-data",
		"client-key-data", "certificate-authority-data", NULL };
	struct ydoc *after;
	char *p;
	size_t i;

	for (i = 0; kubeconfigs[i] != NULL; i++) {
		p = ct_path(t->kdir, kubeconfigs[i]);
		after = ct_parse_yaml(p);
		CU_ASSERT_CASE(ct_same_tree(ydoc_root(before[i], 0),
				   ydoc_root(after, 0), creds),
		    kubeconfigs[i]);
		CU_ASSERT_CASE(ct_mode(p) == 0600, kubeconfigs[i]);
		ydoc_free(after);
		ydoc_free(before[i]);
		free(p);
	}
}

static void
test_native_renews_everything(void)
{
	static const char *const extra[] = { "--expires-in", "20d", NULL };
	struct agent_inspection before, after;
	struct agent_renew_opts o;
	struct agent_renew_result r;
	struct ydoc *docs[4];
	json_object *j;
	struct ct_tree t;
	size_t i;

	ct_tree_make(&t, "ecdsa-p256", extra);
	inspect(&t, &before);
	copy_kubeconfigs(&t, docs);
	opts_init(&o, &t, AGENT_BACKEND_NATIVE);
	CU_ASSERT_EQUAL_FATAL(agent_renew(&o, &r), CR_OK);
	CU_ASSERT_EQUAL(r.nrenewed, 11);
	CU_ASSERT_EQUAL(r.nskipped, 0);
	CU_ASSERT_TRUE(r.verify.ok && r.verify.n == 11);
	CU_ASSERT_FALSE(r.rolled_back);
	CU_ASSERT_TRUE(r.backup != NULL && file_exists(r.backup));
	inspect(&t, &after);
	for (i = 0; i < after.certs.n; i++)
		check_renewed(&t, &before.certs.v[i], &after.certs.v[i], o.now,
		    AGENT_VALIDITY_S);
	/* CAs and the kubelet's certificate are never touched. */
	for (i = 0; i < after.cas.n; i++)
		CU_ASSERT_CASE(
		    strcmp(before.cas.v[i].serial, after.cas.v[i].serial) == 0,
		    after.cas.v[i].name);
	CU_ASSERT_STRING_EQUAL(before.kubelet_client.serial,
	    after.kubelet_client.serial);
	check_key_files(&t, "-----BEGIN EC PRIVATE KEY-----");
	check_kubeconfigs(&t, docs);
	j = agent_renew_result_to_json(&r);
	CU_ASSERT_EQUAL(json_object_array_length(jv_arr(j, "renewed")), 11);
	CU_ASSERT_STRING_EQUAL(jv_str(j, "backend"), "native");
	CU_ASSERT_STRING_EQUAL(jv_str(j, "backup"), r.backup);
	json_object_put(j);
	agent_renew_result_clear(&r);
	agent_inspection_clear(&before);
	agent_inspection_clear(&after);
	ct_tree_free(&t);
}

static void
test_native_key_algorithm_and_only(void)
{
	static const char *const soon[] = { "--expires-in", "20d", NULL };
	struct agent_inspection before, after;
	struct agent_renew_opts o;
	struct agent_renew_result r;
	struct strv only = { NULL, 0 };
	const struct cert_info *b, *a;
	struct ct_tree t;
	size_t i;

	ct_tree_make(&t, "rsa-2048", soon);
	inspect(&t, &before);
	strv_push(&only, "apiserver");
	strv_push(&only, "admin.conf");
	strv_push(&only, "etcd-server");
	opts_init(&o, &t, AGENT_BACKEND_NATIVE);
	o.only = &only;
	o.validity_s = 90 * 86400LL;
	CU_ASSERT_EQUAL_FATAL(agent_renew(&o, &r), CR_OK);
	CU_ASSERT_EQUAL(r.nrenewed, 3);
	agent_renew_result_clear(&r);
	inspect(&t, &after);
	for (i = 0; i < after.certs.n; i++) {
		b = &before.certs.v[i];
		a = &after.certs.v[i];
		if (strv_has(&only, a->name)) {
			check_renewed(&t, b, a, o.now, 90 * 86400LL);
			CU_ASSERT_CASE(
			    strcmp(a->key_algorithm, "RSA-2048") == 0, a->name);
		} else {
			CU_ASSERT_CASE(strcmp(a->serial, b->serial) == 0,
			    a->name);
		}
	}
	agent_inspection_clear(&after);
	/* An explicit key type replaces RSA keys with ECDSA ones. */
	strv_clear(&only);
	strv_push(&only, "apiserver");
	o.key_algorithm = CERT_KEY_ECDSA_P256;
	/* A minute later, so the expiry moves forward again. */
	o.now += 60;
	CU_ASSERT_EQUAL_FATAL(agent_renew(&o, &r), CR_OK);
	inspect(&t, &after);
	CU_ASSERT_STRING_EQUAL(
	    cert_list_find(&after.certs, "apiserver")->key_algorithm,
	    "ECDSA-P256");
	agent_renew_result_clear(&r);
	agent_inspection_clear(&before);
	agent_inspection_clear(&after);
	strv_clear(&only);
	ct_tree_free(&t);
}

static void
test_renew_before_selects(void)
{
	static const char *const soon[] = { "--expires-in", "10d", NULL };
	struct ct_tree t, s;
	struct agent_renew_opts o;
	struct agent_renew_result r;
	char *from, *to, *root;
	const char *files[] = { "pki/apiserver.crt", "pki/apiserver.key" };
	size_t i;

	ct_tree_make(&t, "ecdsa-p256", NULL);
	opts_init(&o, &t, AGENT_BACKEND_NATIVE);
	o.renew_before_s = 30 * 86400LL;
	/* Nothing expires within 30 days: nothing renewed, no backup. */
	CU_ASSERT_EQUAL(agent_renew(&o, &r), CR_OK);
	CU_ASSERT_EQUAL(r.nrenewed, 0);
	CU_ASSERT_EQUAL(r.nskipped, 11);
	CU_ASSERT_PTR_NULL(r.backup);
	root = xstrdup(o.backup_dir);
	CU_ASSERT_FALSE(file_exists(root));
	agent_renew_result_clear(&r);
	/* One certificate from a tree that expires in 10 days. */
	ct_tree_make(&s, "ecdsa-p256", soon);
	for (i = 0; i < 2; i++) {
		from = ct_path(s.kdir, files[i]);
		to = ct_path(t.kdir, files[i]);
		CU_ASSERT_FATAL(file_copy(from, to, FILE_MODE_KEEP) == CR_OK);
		free(from);
		free(to);
	}
	opts_init(&o, &t, AGENT_BACKEND_NATIVE);
	o.renew_before_s = 30 * 86400LL;
	CU_ASSERT_EQUAL(agent_renew(&o, &r), CR_OK);
	CU_ASSERT_EQUAL(r.nrenewed, 1);
	CU_ASSERT_STRING_EQUAL(r.renewed[0].name, "apiserver");
	CU_ASSERT_EQUAL(r.nskipped, 10);
	agent_renew_result_clear(&r);
	free(root);
	ct_tree_free(&s);
	ct_tree_free(&t);
}

struct refusal {
	const char *name;
	const char *tree; /* pkigen option, or NULL */
	const char *only; /* one name, or NULL */
	int64_t validity_s;
	const char *kubeadm;
	const char *etcd; /* ClusterConfiguration's etcd block, or NULL */
	const char *says; /* in r.error */
	enum agent_backend backend;
	enum cr_err err;
};

static void
refuse_one(const struct refusal *row)
{
	const char *extra[] = { row->tree, NULL };
	struct agent_renew_opts o;
	struct agent_renew_result r;
	struct strv only = { NULL, 0 };
	struct ct_tree t;
	char *before, *after, *config = NULL, *text = NULL;

	ct_tree_make(&t, "ecdsa-p256", extra);
	before = ct_digest(t.kdir);
	opts_init(&o, &t, row->backend);
	if (row->only != NULL) {
		strv_push(&only, row->only);
		o.only = &only;
	}
	o.validity_s = row->validity_s;
	o.kubeadm = row->kubeadm;
	if (row->etcd != NULL) {
		config = ct_path(t.dir, "cc.yaml");
		text = xasprintf("kind: ClusterConfiguration\n%s", row->etcd);
		ct_write(config, text);
		o.cluster_config = config;
	}
	CU_ASSERT_CASE(agent_renew(&o, &r) == row->err, row->name);
	CU_ASSERT_CASE(r.error != NULL && strstr(r.error, row->says) != NULL,
	    row->name);
	CU_ASSERT_CASE(r.backup == NULL && !file_exists(o.backup_dir),
	    row->name);
	after = ct_digest(t.kdir);
	CU_ASSERT_CASE(strcmp(before, after) == 0, row->name);
	free(before);
	free(after);
	free(config);
	free(text);
	strv_clear(&only);
	agent_renew_result_clear(&r);
	ct_tree_free(&t);
}

static void
test_refusals_change_nothing(void)
{
	static const char *const local = "etcd:\n  local: {}\n";
	static const char *const external = "etcd:\n  external:\n"
					    "    endpoints: [https://e:2379]\n";
	static const struct refusal rows[] = {
		{ "leaf would outlive its CA", NULL, NULL, 20LL * 365 * 86400,
		    NULL, NULL, "would outlive its CA 'ca'",
		    AGENT_BACKEND_NATIVE, CR_ERR_STATE },
		{ "a CA", NULL, "etcd-ca", 0, NULL, NULL, "is a CA",
		    AGENT_BACKEND_NATIVE, CR_ERR_CONFIG },
		{ "the kubelet's", NULL, "kubelet.conf", 0, NULL, NULL,
		    "managed by the kubelet", AGENT_BACKEND_NATIVE,
		    CR_ERR_CONFIG },
		{ "unknown name", NULL, "apiserver-etcd", 0, NULL, NULL,
		    "unknown certificate", AGENT_BACKEND_NATIVE,
		    CR_ERR_CONFIG },
		{ "external CA named", "--external-ca", "apiserver", 0, NULL,
		    NULL, "external CA 'ca'", AGENT_BACKEND_NATIVE,
		    CR_ERR_STATE },
		{ "external etcd", "--external-etcd", "etcd-server", 0, NULL,
		    external, "not used on this node", AGENT_BACKEND_NATIVE,
		    CR_ERR_CONFIG },
		{ "kubeadm without --config", NULL, NULL, 0, standin, NULL,
		    "silently renews with default settings",
		    AGENT_BACKEND_KUBEADM, CR_ERR_CONFIG },
		{ "kubeadm asked another validity", NULL, NULL, 86400, standin,
		    local, "certificateValidityPeriod (1y)",
		    AGENT_BACKEND_KUBEADM, CR_ERR_CONFIG },
		{ "kubeadm not installed", NULL, NULL, 0,
		    "/nonexistent/kubeadm", local, "not executable",
		    AGENT_BACKEND_KUBEADM, CR_ERR_CONFIG },
		{ "malformed validity in the config", NULL, NULL, 0, standin,
		    "certificateValidityPeriod: soon\n",
		    "cc.yaml':2:28: certificateValidityPeriod is not a "
		    "duration",
		    AGENT_BACKEND_KUBEADM, CR_ERR_CONFIG },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		refuse_one(&rows[i]);
}

static void
test_external_ca_skipped_in_all(void)
{
	static const char *const extra[] = { "--external-ca", "--expires-in",
		"20d", NULL };
	struct agent_renew_opts o;
	struct agent_renew_result r;
	struct ct_tree t;
	size_t i;

	ct_tree_make(&t, "ecdsa-p256", extra);
	opts_init(&o, &t, AGENT_BACKEND_NATIVE);
	CU_ASSERT_EQUAL(agent_renew(&o, &r), CR_OK);
	/* etcd's four and front-proxy-client have their CA keys. */
	CU_ASSERT_EQUAL(r.nrenewed, 5);
	CU_ASSERT_EQUAL(r.nskipped, 6);
	for (i = 0; i < r.nskipped; i++)
		CU_ASSERT_CASE(strstr(r.skipped[i].reason, "external CA") !=
			NULL,
		    r.skipped[i].name);
	agent_renew_result_clear(&r);
	ct_tree_free(&t);
}

/* A broken renewal is caught by verify and rolled back byte for byte. */
static void
test_fault_rolled_back(void)
{
	static const struct {
		enum agent_fault fault;
		const char *target, *problem;
	} rows[] = {
		{ AGENT_FAULT_DROP_CLIENT_AUTH, "etcd-server",
		    "extended key usages differ" },
		{ AGENT_FAULT_WRONG_KEY, "apiserver",
		    "private key does not match" },
		{ AGENT_FAULT_WRONG_KEY, "scheduler.conf",
		    "private key does not match" },
	};
	static const char *const soon[] = { "--expires-in", "20d", NULL };
	struct agent_renew_opts o;
	struct agent_renew_result r;
	struct ct_tree t;
	char *before, *after;
	size_t i, j;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ct_tree_make(&t, "ecdsa-p256", soon);
		before = ct_digest(t.kdir);
		opts_init(&o, &t, AGENT_BACKEND_NATIVE);
		agent_renew_set_fault(rows[i].fault, rows[i].target);
		CU_ASSERT_CASE(agent_renew(&o, &r) == CR_ERR_VERIFY,
		    rows[i].target);
		agent_renew_set_fault(AGENT_FAULT_NONE, NULL);
		CU_ASSERT_CASE(r.rolled_back && !r.verify.ok, rows[i].target);
		for (j = 0; j < r.verify.n; j++)
			CU_ASSERT_CASE(r.verify.v[j].ok ==
				    (strcmp(r.verify.v[j].name,
					 rows[i].target) != 0) &&
				(r.verify.v[j].ok ||
				    strstr(r.verify.v[j].problems.v[0],
					rows[i].problem) != NULL),
			    r.verify.v[j].name);
		after = ct_digest(t.kdir);
		CU_ASSERT_CASE(strcmp(before, after) == 0, rows[i].target);
		free(before);
		free(after);
		agent_renew_result_clear(&r);
		ct_tree_free(&t);
	}
}

/* The same through the subcommand: exit status 1, files as in the backup. */
static void
test_fault_exit_status(void)
{
	static const char *const soon[] = { "--expires-in", "20d", NULL };
	char cmd[] = "renew", opt_b[] = "--backend", native[] = "native";
	char opt_k[] = "--kubernetes-dir", opt_d[] = "--backup-dir";
	char *argv[] = { cmd, opt_b, native, opt_k, NULL, opt_d, NULL, NULL };
	char *root, *before, *after, *backup = NULL;
	const struct pki_entry *e;
	struct ct_tree t;
	size_t i;

	ct_tree_make(&t, "ecdsa-p256", soon);
	root = ct_path(t.dir, "backups");
	argv[4] = t.kdir;
	argv[6] = root;
	before = ct_digest(t.kdir);
	agent_renew_set_fault(AGENT_FAULT_DROP_CLIENT_AUTH, "etcd-server");
	CU_ASSERT_EQUAL(agent_cmd_renew(7, argv), 1);
	agent_renew_set_fault(AGENT_FAULT_NONE, NULL);
	after = ct_digest(t.kdir);
	CU_ASSERT_STRING_EQUAL(before, after);
	CU_ASSERT_FATAL(agent_backup_resolve(root, "latest", &backup) == CR_OK);
	for (i = 0; (e = pki_at(i)) != NULL; i++) {
		char *a = ct_path(t.kdir, e->file),
		     *b = ct_path(backup, e->file);

		CU_ASSERT_CASE(ct_same_file(a, b), e->name);
		free(a);
		free(b);
	}
	free(backup);
	free(before);
	free(after);
	free(root);
	ct_tree_free(&t);
}

static char *
write_config(const struct ct_tree *t)
{
	char *path = ct_path(t->dir, "cc.yaml");
	char *text = xasprintf("apiVersion: kubeadm.k8s.io/v1beta4\n"
			       "kind: ClusterConfiguration\n"
			       "certificatesDir: %s/pki\n"
			       "certificateValidityPeriod: 2160h0m0s\n"
			       "encryptionAlgorithm: ECDSA-P256\n"
			       "etcd:\n  local:\n    dataDir: /var/lib/etcd\n",
	    t->kdir);

	ct_write(path, text);
	free(text);
	return path;
}

static void
test_kubeadm_backend(void)
{
	static const char *const soon[] = { "--expires-in", "20d", NULL };
	struct agent_inspection before, after;
	struct agent_renew_opts o;
	struct agent_renew_result r;
	struct ct_tree t;
	struct window w;
	char *config;
	size_t i;

	ct_tree_make(&t, "ecdsa-p256", soon);
	config = write_config(&t);
	inspect(&t, &before);
	opts_init(&o, &t, AGENT_BACKEND_KUBEADM);
	o.kubeadm = standin;
	o.cluster_config = config;
	/* A key type the ClusterConfiguration does not name is refused. */
	o.key_algorithm = CERT_KEY_RSA4096;
	CU_ASSERT_EQUAL(agent_renew(&o, &r), CR_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.error, "encryptionAlgorithm"));
	agent_renew_result_clear(&r);
	/* Values that agree with it are accepted. */
	o.key_algorithm = CERT_KEY_ECDSA_P256;
	o.validity_s = 90 * 86400LL;
	CU_ASSERT_EQUAL_FATAL(agent_renew(&o, &r), CR_OK);
	w.start = o.now;
	w.slack = time(NULL) - o.now;
	w.validity = 90 * 86400LL;
	CU_ASSERT_EQUAL(r.nrenewed, 11);
	CU_ASSERT_EQUAL(r.backend, AGENT_BACKEND_KUBEADM);
	CU_ASSERT_TRUE(r.verify.ok);
	inspect(&t, &after);
	/* The stand-in took certificateValidityPeriod from the config. */
	for (i = 0; i < after.certs.n; i++)
		check_window(&t, &before.certs.v[i], &after.certs.v[i], &w);
	agent_renew_result_clear(&r);
	agent_inspection_clear(&before);
	agent_inspection_clear(&after);
	free(config);
	ct_tree_free(&t);
}

/* text with every "KDIR" and "standin" replaced, as a new string. */
static char *
subst(const char *text, const char *kdir)
{
	struct buf b = BUF_INIT;

	while (*text != '\0') {
		if (strncmp(text, "KDIR", 4) == 0) {
			buf_puts(&b, kdir);
			text += 4;
		} else if (strncmp(text, "standin", 7) == 0) {
			buf_puts(&b, standin);
			text += 7;
		} else {
			buf_putc(&b, *text++);
		}
	}
	return buf_detach(&b, NULL);
}

/*
 * kubeadm stand-ins that exit 0 without renewing: each must fail the run
 * and leave the files as the backup holds them.
 */
static void
test_kubeadm_exit_zero_is_not_success(void)
{
	static const struct {
		const char *name, *script;
		enum cr_err err;
	} rows[] = {
		{ "MISSING!",
		    "#!/bin/sh\n[ \"$3\" = apiserver ] && "
		    "rm -f KDIR/pki/apiserver.crt\nexec standin \"$@\"\n",
		    CR_ERR_SUBPROC },
		{ "Detected external",
		    "#!/bin/sh\n[ \"$3\" = apiserver ] && "
		    "mv KDIR/pki/ca.key KDIR.ca.key\nexec standin \"$@\"\n",
		    CR_ERR_SUBPROC },
		{ "silent", "#!/bin/sh\nexit 0\n", CR_ERR_SUBPROC },
		{ "claims without doing",
		    "#!/bin/sh\necho \"certificate embedded in the kubeconfig "
		    "file for the admin to use and for kubeadm itself "
		    "renewed\"\n",
		    CR_ERR_VERIFY },
	};
	static const char *const soon[] = { "--expires-in", "20d", NULL };
	struct agent_renew_opts o;
	struct agent_renew_result r;
	struct ct_tree t;
	char *config, *script, *text, *before, *after;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ct_tree_make(&t, "ecdsa-p256", soon);
		config = write_config(&t);
		script = ct_path(t.dir, "kubeadm");
		text = subst(rows[i].script, t.kdir);
		ct_write(script, text);
		CU_ASSERT_FATAL(chmod(script, 0755) == 0);
		before = ct_digest(t.kdir);
		opts_init(&o, &t, AGENT_BACKEND_KUBEADM);
		o.kubeadm = script;
		o.cluster_config = config;
		CU_ASSERT_CASE(agent_renew(&o, &r) == rows[i].err,
		    rows[i].name);
		CU_ASSERT_CASE(r.rolled_back && r.nrenewed == 0, rows[i].name);
		after = ct_digest(t.kdir);
		CU_ASSERT_CASE(strcmp(before, after) == 0, rows[i].name);
		agent_renew_result_clear(&r);
		free(before);
		free(after);
		free(text);
		free(script);
		free(config);
		ct_tree_free(&t);
	}
}

static void
test_kubeadm_output_parse(void)
{
	const struct pki_entry *api = pki_find("apiserver");
	const struct pki_entry *etcd = pki_find("etcd-server");
	static const struct {
		const char *name, *out;
		enum agent_kubeadm_said api, etcd;
	} rows[] = {
		{ "renewed",
		    "certificate for serving the Kubernetes API renewed\n",
		    AGENT_KUBEADM_RENEWED, AGENT_KUBEADM_UNKNOWN },
		{ "crlf and blanks",
		    "\r\ncertificate for serving the Kubernetes API renewed "
		    "\r\n",
		    AGENT_KUBEADM_RENEWED, AGENT_KUBEADM_UNKNOWN },
		{ "missing",
		    "MISSING! certificate for serving the Kubernetes API\n",
		    AGENT_KUBEADM_MISSING, AGENT_KUBEADM_UNKNOWN },
		{ "external",
		    "Detected external ca, certificate for serving the "
		    "Kubernetes API can't be renewed\n",
		    AGENT_KUBEADM_EXTERNAL, AGENT_KUBEADM_UNKNOWN },
		{ "external etcd ca",
		    "Detected external etcd/ca, certificate for serving etcd "
		    "can't be renewed\n",
		    AGENT_KUBEADM_UNKNOWN, AGENT_KUBEADM_EXTERNAL },
		{ "warning outranks success",
		    "certificate for serving etcd renewed\nMISSING! "
		    "certificate for serving etcd",
		    AGENT_KUBEADM_UNKNOWN, AGENT_KUBEADM_MISSING },
		{ "prefix is not enough",
		    "certificate for serving the Kubernetes API renewed later\n"
		    "xMISSING! certificate for serving etcd\n",
		    AGENT_KUBEADM_UNKNOWN, AGENT_KUBEADM_UNKNOWN },
		{ "empty", "", AGENT_KUBEADM_UNKNOWN, AGENT_KUBEADM_UNKNOWN },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CU_ASSERT_CASE(agent_kubeadm_parse(rows[i].out, api) ==
			rows[i].api,
		    rows[i].name);
		CU_ASSERT_CASE(agent_kubeadm_parse(rows[i].out, etcd) ==
			rows[i].etcd,
		    rows[i].name);
	}
}

/* The stand-in's own MISSING!/external lines, with status 0, parse so. */
static void
test_standin_exit_zero_lines(void)
{
	static const char *const extra[] = { "--external-ca", NULL };
	struct ct_tree t;
	struct buf out = BUF_INIT;
	char *config, *crt;
	const char *argv[] = { standin, "certs", "renew", NULL, "--config",
		NULL, NULL };

	ct_tree_make(&t, "ecdsa-p256", extra);
	config = write_config(&t);
	argv[5] = config;
	argv[3] = "apiserver";
	CU_ASSERT_EQUAL(ct_run(argv, &out), 0);
	CU_ASSERT_EQUAL(
	    agent_kubeadm_parse(buf_cstr(&out), pki_find("apiserver")),
	    AGENT_KUBEADM_EXTERNAL);
	buf_reset(&out);
	crt = ct_path(t.kdir, "pki/etcd/peer.crt");
	CU_ASSERT_EQUAL(unlink(crt), 0);
	argv[3] = "etcd-peer";
	CU_ASSERT_EQUAL(ct_run(argv, &out), 0);
	CU_ASSERT_EQUAL(
	    agent_kubeadm_parse(buf_cstr(&out), pki_find("etcd-peer")),
	    AGENT_KUBEADM_MISSING);
	buf_clear(&out);
	free(crt);
	free(config);
	ct_tree_free(&t);
}

static CU_TestInfo renew_tests[] = {
	{ "native_renews_everything", test_native_renews_everything },
	{ "native_key_algorithm_and_only", test_native_key_algorithm_and_only },
	{ "renew_before_selects", test_renew_before_selects },
	{ "refusals_change_nothing", test_refusals_change_nothing },
	{ "external_ca_skipped_in_all", test_external_ca_skipped_in_all },
	{ "fault_rolled_back", test_fault_rolled_back },
	{ "fault_exit_status", test_fault_exit_status },
	{ "kubeadm_backend", test_kubeadm_backend },
	{ "kubeadm_exit_zero_is_not_success",
	    test_kubeadm_exit_zero_is_not_success },
	{ "kubeadm_output_parse", test_kubeadm_output_parse },
	{ "standin_exit_zero_lines", test_standin_exit_zero_lines },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "agent_renew", .pTests = renew_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
