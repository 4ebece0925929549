/*
 * Security checks that need no lab (docs/reliability.md, "Security"):
 * inventory values with shell and path syntax are refused with file:line
 * or kept as plain data, and, with "sim", certroll's API client refuses an
 * API server whose certificate comes from another CA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cu_run.h"
#include "fileio.h"
#include "inventory.h"
#include "kube.h"
#include "kubesim_fix.h"
#include "run.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- Inventory: refused with file:line, or kept verbatim ------------- */

struct inv_row {
	const char *name;
	const char *text;
	unsigned line, column; /* where the diagnostic points */
	const char *msg;       /* how it starts */
};

static const struct inv_row refused_rows[] = {
	{ "host .. out of --fetch-backups",
	    "[kube_control_plane]\n../../tmp/pwned ansible_host=10.0.0.1\n", 2,
	    1, "host '../../tmp/pwned': a host name cannot be" },
	{ "host with a slash", "[kube_control_plane]\ncp1/x\n", 2, 1,
	    "host 'cp1/x'" },
	{ "host .", "[kube_control_plane]\n. ansible_host=10.0.0.1\n", 2, 1,
	    "host '.'" },
	{ "host ..", "[kube_control_plane]\n.. ansible_host=10.0.0.1\n", 2, 1,
	    "host '..'" },
	{ "host $(...) with a slash",
	    "[kube_control_plane]\ncp$(touch${IFS}/tmp/pwned)\n", 2, 1,
	    "host 'cp$(touch${IFS}/tmp/pwned)'" },
	{ "yaml host with a newline",
	    "all:\n  children:\n    kube_control_plane:\n      hosts:\n"
	    "        \"cp1\\ntouch x\":\n          ansible_host: 10.0.0.1\n",
	    5, 9, "host 'cp1\ntouch x'" },
	{ "yaml host with a tab",
	    "all:\n  children:\n    kube_control_plane:\n      hosts:\n"
	    "        \"cp1\\tx\": {}\n",
	    5, 9, "host 'cp1\tx'" },
	{ "node name $(...)",
	    "[kube_control_plane]\ncp1 certroll_node_name='$(id)'\n", 2, 5,
	    "certroll_node_name '$(id)' is not a Kubernetes "
	    "node name" },
	{ "node name with a newline",
	    "all:\n  children:\n    kube_control_plane:\n      hosts:\n"
	    "        cp1:\n          certroll_node_name: \"cp1\\nx\"\n",
	    6, 11, "certroll_node_name 'cp1\nx' is not a Kubernetes" },
	{ "relative kubernetes dir `...`",
	    "[kube_control_plane]\ncp1 certroll_kubernetes_dir='`id`'\n", 2, 5,
	    "certroll_kubernetes_dir '`id`' is not an "
	    "absolute path" },
	{ "port ;", "[kube_control_plane]\ncp1 ansible_port='22;id'\n", 2, 5,
	    "ansible_port '22;id' is not a port number" },
};

static void
test_inventory_refused(void)
{
	size_t i;

	for (i = 0; i < NELEM(refused_rows); i++) {
		const struct inv_row *r = &refused_rows[i];
		struct inv *inv = NULL;
		struct inv_diag diag;

		CU_ASSERT_CASE(inv_parse("hosts.ini", r->text, strlen(r->text),
				   INV_FORMAT_AUTO, &inv,
				   &diag) == CR_ERR_INVENTORY,
		    r->name);
		CU_ASSERT_CASE(inv == NULL, r->name);
		CU_ASSERT_CASE(strcmp(diag.file, "hosts.ini") == 0 &&
			diag.line == r->line && diag.column == r->column,
		    r->name);
		CU_ASSERT_CASE(strncmp(diag.msg, r->msg, strlen(r->msg)) == 0,
		    r->name);
		/* And what to do about it. */
		CU_ASSERT_CASE(diag.hint[0] != '\0', r->name);
		if (strncmp(diag.msg, r->msg, strlen(r->msg)) != 0)
			fprintf(stderr, "\n%s: got '%s'\n", r->name, diag.msg);
		inv_free(inv);
	}
}

/*
 * Values certroll only hands to libssh2 (address, login user) or sends to
 * the agent as data (kubernetes directory) resolve verbatim: nothing
 * evaluates them, and the agent confines the directory (test_agent_serve).
 * A become user with shell syntax resolves too; ssh_exec() refuses to put
 * it on a command line (tests/integration/security_lab.sh proves both on
 * the lab: no marker file anywhere).
 */
static void
test_inventory_verbatim(void)
{
	static const char text[] =
	    "[kube_control_plane]\n"
	    "cp1 ansible_host='$(touch /tmp/pwned-a)' "
	    "ansible_user='`touch /tmp/pwned-b`' "
	    "certroll_kubernetes_dir='/etc/k;touch /tmp/pwned-c' "
	    "ansible_become=true ansible_become_user='root;touch x'\n"
	    "cp;2 ansible_host=\"10.0.0.2 && id\"\n";
	struct inv *inv = NULL;
	struct inv_diag diag;
	const struct inv_node *n;

	CU_ASSERT_EQUAL_FATAL(inv_parse("hosts.ini", text, strlen(text),
				  INV_FORMAT_INI, &inv, &diag),
	    CR_OK);
	CU_ASSERT_EQUAL_FATAL(inv_count(inv), 2);
	n = inv_node_at(inv, 0);
	CU_ASSERT_STRING_EQUAL(n->address, "$(touch /tmp/pwned-a)");
	CU_ASSERT_STRING_EQUAL(n->user, "`touch /tmp/pwned-b`");
	CU_ASSERT_STRING_EQUAL(n->kubernetes_dir, "/etc/k;touch /tmp/pwned-c");
	CU_ASSERT_STRING_EQUAL(n->become_user, "root;touch x");
	n = inv_node_at(inv, 1);
	CU_ASSERT_STRING_EQUAL(n->name, "cp;2");
	CU_ASSERT_STRING_EQUAL(n->address, "10.0.0.2 && id");
	inv_free(inv);
}

/* --- API server certificate from another CA (with "sim") ------------- */

static struct ksf sim;

static int
run_ok(const char *const *argv)
{
	struct run_cmd c = RUN_CMD_INIT;
	int rc;

	c.argv = argv;
	c.timeout_ms = 60000;
	rc = run_cmd(&c) == CR_OK ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", argv[0], buf_cstr(&c.err));
	run_cmd_clear(&c);
	return rc;
}

/*
 * A CA of its own (CN=other-ca) and a serving certificate from it for
 * 127.0.0.1; kubesim serves that, while the kubeconfig it writes trusts
 * kubesim's own CA.
 */
static int
foreign_init(void)
{
	char *ca, *cakey, *key, *csr, *crt, *ext;
	int rc;

	ksf_init(&sim);
	ca = xasprintf("%s/other-ca.crt", sim.dir);
	cakey = xasprintf("%s/other-ca.key", sim.dir);
	key = xasprintf("%s/other-server.key", sim.dir);
	csr = xasprintf("%s/other-server.csr", sim.dir);
	crt = xasprintf("%s/other-server.crt", sim.dir);
	ext = xasprintf("%s/other-server.ext", sim.dir);
	{
		const char *const mkca[] = { "openssl", "req", "-x509",
			"-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
			cakey, "-out", ca, "-subj", "/CN=other-ca", "-days",
			"30", NULL };
		const char *const mkreq[] = { "openssl", "req", "-new",
			"-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
			key, "-out", csr, "-subj", "/CN=kube-apiserver", NULL };
		const char *const sign[] = { "openssl", "x509", "-req", "-in",
			csr, "-CA", ca, "-CAkey", cakey, "-CAcreateserial",
			"-days", "30", "-extfile", ext, "-out", crt, NULL };
		const char *const extra[] = { "--tls-cert-file", crt,
			"--tls-private-key-file", key, NULL };
		static const char san[] =
		    "subjectAltName=DNS:localhost,DNS:kubernetes,"
		    "IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";

		rc = file_write_atomic(ext, san, strlen(san), 0600) == CR_OK &&
			run_ok(mkca) == 0 && run_ok(mkreq) == 0 &&
			run_ok(sign) == 0 ?
		    0 :
		    1;
		if (rc == 0)
			ksf_start(&sim, extra);
	}
	free(ca);
	free(cakey);
	free(key);
	free(csr);
	free(crt);
	free(ext);
	return rc;
}

static int
foreign_clean(void)
{
	ksf_stop(&sim);
	return 0;
}

static void
test_foreign_ca_refused(void)
{
	json_object *o = NULL;
	const char *msg;

	CU_ASSERT_EQUAL(
	    kube_get(sim.k, "/api/v1/nodes", clock_deadline_ms(30000), &o),
	    CR_ERR_TLS);
	CU_ASSERT_PTR_NULL(o);
	msg = kube_error_message(sim.k);
	/* It names the server, the certificate and who issued it. */
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, sim.url));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "issued by CN=other-ca"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "certificate-authority"));
	if (strstr(msg, "certificate-authority") == NULL)
		fprintf(stderr, "\ngot: %s\n", msg);
	json_object_put(o);
}

static CU_TestInfo inventory_tests[] = {
	{ "refused", test_inventory_refused },
	{ "verbatim", test_inventory_verbatim },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo foreign_tests[] = {
	{ "foreign_ca_refused", test_foreign_ca_refused },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo unit_suites[] = {
	{ .pName = "security_inventory", .pTests = inventory_tests },
	CU_SUITE_INFO_NULL,
};

static CU_SuiteInfo sim_suites[] = {
	{ .pName = "security_foreign_ca",
	    .pInitFunc = foreign_init,
	    .pCleanupFunc = foreign_clean,
	    .pTests = foreign_tests },
	CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sim") == 0)
		return cu_run(sim_suites);
	return cu_run(unit_suites);
}
