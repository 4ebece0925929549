/*
 * The inventory component against its data files (tests/data/inventory):
 * every resolved field of every valid file, the exact diagnostic of one
 * file per error, Ansible's precedence rules, boundaries, format
 * detection and the selection helper.
 */
#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu_run.h"
#include "inventory.h"

#define DATA     CR_TEST_DATA "/inventory/"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define CP   INV_ROLE_CONTROL_PLANE
#define ETCD INV_ROLE_ETCD
#define WORK INV_ROLE_WORKER

/* LOCAL stands for the local user name, the default of ansible_user. */
#define LOCAL NULL

/* In inv_node's order, for reading; padding is no concern in a test. */
struct want { /* NOLINT(clang-analyzer-optin.performance.Padding) */
	const char *name;
	const char *address;
	unsigned port;
	const char *user;
	const char *identity_file;
	bool become;
	const char *become_user;
	const char *node_name;
	const char *kubernetes_dir;
	unsigned roles;
	unsigned line;
	unsigned column;
};

static const char *
local_user(void)
{
	const struct passwd *pw = getpwuid(getuid());

	return pw != NULL ? pw->pw_name : "?";
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Compares every field of got with w; row names the case in reports. */
static void
check_node(const struct inv_node *got, const struct want *w, const char *row)
{
	char what[256];

	snprintf(what, sizeof(what), "%s: node %s", row, w->name);
	CU_ASSERT_CASE(got != NULL, what);
	if (got == NULL)
		return;
#define FIELD(cond, field)                                                     \
	do {                                                                   \
		snprintf(what, sizeof(what), "%s: node %s: %s", row, w->name,  \
		    field);                                                    \
		CU_ASSERT_CASE(cond, what);                                    \
	} while (0)
	FIELD(str_eq(got->name, w->name), "name");
	FIELD(str_eq(got->address, w->address), "address");
	FIELD(got->port == w->port, "port");
	FIELD(str_eq(got->user, w->user != NULL ? w->user : local_user()),
	    "user");
	FIELD(str_eq(got->identity_file, w->identity_file), "identity_file");
	FIELD(got->become == w->become, "become");
	FIELD(str_eq(got->become_user, w->become_user), "become_user");
	FIELD(str_eq(got->node_name, w->node_name), "node_name");
	FIELD(str_eq(got->kubernetes_dir, w->kubernetes_dir), "kubernetes_dir");
	FIELD(got->roles == w->roles, "roles");
	FIELD(got->line == w->line, "line");
	FIELD(got->column == w->column, "column");
#undef FIELD
}

static const struct want kubespray_nodes[] = {
	{ "node1", "95.54.0.12", 22, "ubuntu", "/home/ops/.ssh/prod_ed25519",
	    true, "root", "node1", "/etc/kubernetes", CP | ETCD, 5, 5 },
	{ "node2", "95.54.0.13", 22, "ubuntu", "/home/ops/.ssh/prod_ed25519",
	    true, "root", "node2", "/etc/kubernetes", CP | ETCD | WORK, 9, 5 },
	{ "node3", "95.54.0.14", 22, "ubuntu", "/home/ops/.ssh/prod_ed25519",
	    true, "root", "node3.prod.example.com", "/etc/kubernetes",
	    CP | ETCD | WORK, 13, 5 },
};

static const struct want cluster_nodes[] = {
	{ "cp01.lab", "cp01.lab", 2222, "admin", NULL, true, "kube admin",
	    "cp01.lab", "/srv/kubernetes", CP | ETCD, 6, 1 },
	{ "cp02.lab", "cp02.lab", 2222, "admin", NULL, true, "kube admin",
	    "cp02.lab", "/srv/kubernetes", CP | ETCD, 6, 1 },
	{ "cp03.lab", "cp03.lab", 2222, "admin", NULL, true, "kube admin",
	    "cp03.lab", "/srv/kubernetes", CP | ETCD, 6, 1 },
};

static const struct want plain_nodes[] = {
	{ "m1.dc.example", "m1.dc.example", 2200, "deploy", NULL, true, "root",
	    "m1.dc.example", "/etc/kubernetes", CP | ETCD, 15, 13 },
	{ "m3.dc.example", "198.51.100.3", 2200, "deploy", NULL, true, "root",
	    "m3.dc.example", "/etc/kubernetes", CP | ETCD, 15, 13 },
	{ "m5.dc.example", "m5.dc.example", 2200, "deploy", NULL, true, "root",
	    "m5.dc.example", "/etc/kubernetes", CP, 15, 13 },
};

/* precedence.ini explains each value in its comments. */
static const struct want precedence_nodes[] = {
	{ "cp1", "cp1", 2100, "from-zeta", NULL, true, "root", "cp1",
	    "/etc/kubernetes", CP, 4, 1 },
	{ "cp2", "cp2", 2201, "from-alpha", NULL, true, "root", "cp2",
	    "/etc/kubernetes", CP, 5, 1 },
	{ "cp3", "10.0.0.33", 22, "legacy", NULL, true, "inner", "cp3",
	    "/etc/kubernetes", CP, 6, 1 },
};

static const struct want legacy_nodes[] = {
	{ "km1", "km1", 2022, "ops team", "/keys/id_rsa", true, "k8s", "km1",
	    "/etc/kubernetes", CP | ETCD, 5, 1 },
	{ "km5", "km5", 2022, "ops team", "/keys/id_rsa", true, "k8s", "km5",
	    "/etc/kubernetes", CP | ETCD, 5, 1 },
	{ "km9", "km9", 2022, "ops team", "/keys/id_rsa", true, "k8s", "km9",
	    "/etc/kubernetes", CP | ETCD, 5, 1 },
	{ "km-extra", "km-extra", 2200, LOCAL, "/keys/id_rsa", false, "k8s",
	    "extra.node", "/etc/kubernetes", CP | ETCD, 6, 1 },
	{ "quoted name", "203.0.113.50", 22, LOCAL, "/keys/id_rsa", true, "k8s",
	    "quoted name", "/etc/kubernetes", CP | ETCD, 7, 1 },
	{ "esc aped", "esc aped", 22, LOCAL, "/keys/id ed25519", true, "k8s",
	    "esc aped", "/etc/kubernetes", CP | ETCD, 8, 1 },
};

static const struct {
	const char *file;
	enum inv_format fmt;
	const struct want *nodes;
	size_t n;
} valid_rows[] = {
	{ "kubespray.yaml", INV_FORMAT_AUTO, kubespray_nodes,
	    NELEM(kubespray_nodes) },
	{ "kubespray.yaml", INV_FORMAT_YAML, kubespray_nodes,
	    NELEM(kubespray_nodes) },
	{ "cluster.ini", INV_FORMAT_AUTO, cluster_nodes, NELEM(cluster_nodes) },
	{ "cluster.ini", INV_FORMAT_INI, cluster_nodes, NELEM(cluster_nodes) },
	{ "plain.yaml", INV_FORMAT_AUTO, plain_nodes, NELEM(plain_nodes) },
	{ "precedence.ini", INV_FORMAT_AUTO, precedence_nodes,
	    NELEM(precedence_nodes) },
	{ "legacy.ini", INV_FORMAT_AUTO, legacy_nodes, NELEM(legacy_nodes) },
};

static void
test_files_resolve_every_field(void)
{
	size_t i, j;

	for (i = 0; i < NELEM(valid_rows); i++) {
		char path[512];
		struct inv *inv = NULL;
		struct inv_diag diag;
		const char *row = valid_rows[i].file;

		snprintf(path, sizeof(path), DATA "%s", row);
		CU_ASSERT_CASE(inv_load(path, valid_rows[i].fmt, &inv, &diag) ==
			CR_OK,
		    diag.msg);
		if (inv == NULL)
			continue;
		CU_ASSERT_CASE(inv_count(inv) == valid_rows[i].n, row);
		CU_ASSERT_CASE(strcmp(inv_source(inv), path) == 0, row);
		for (j = 0; j < valid_rows[i].n; j++)
			check_node(inv_node_at(inv, j), &valid_rows[i].nodes[j],
			    row);
		CU_ASSERT_CASE(inv_node_at(inv, valid_rows[i].n) == NULL, row);
		inv_free(inv);
	}
}

/* The exact diagnostic for each bad file; line 0 means "no place". */
static const struct {
	const char *file;
	enum cr_err err;
	unsigned line, column;
	const char *msg;
	const char *hint;
} bad_rows[] = {
	{ "unterminated_header.ini", CR_ERR_INVENTORY, 2, 1,
	    "unterminated section header '[kube_control_plane'",
	    "close the header with ']': [NAME], [NAME:vars] or "
	    "[NAME:children]" },
	{ "invalid_header.ini", CR_ERR_INVENTORY, 1, 1,
	    "invalid section header '[kube control plane]'",
	    "a section header is [NAME], [NAME:vars] or [NAME:children] on a "
	    "line of its own; NAME has no blanks, ':' or ']'" },
	{ "unknown_section.ini", CR_ERR_INVENTORY, 1, 1,
	    "unknown section type 'hostz' in '[kube_control_plane:hostz]'",
	    "a section is [NAME] for hosts, [NAME:vars] or [NAME:children]" },
	{ "host_var_no_equals.ini", CR_ERR_INVENTORY, 2, 5,
	    "expected key=value after the host name, got 'ansible_host'",
	    "host variables are written name=value, e.g. cp1 "
	    "ansible_host=10.0.0.11" },
	{ "vars_no_equals.ini", CR_ERR_INVENTORY, 5, 3,
	    "expected key=value in [all:vars], got 'ansible_user'",
	    "write one variable per line, e.g. ansible_user=deploy" },
	{ "unclosed_quote.ini", CR_ERR_INVENTORY, 2, 18,
	    "quote opened here is never closed",
	    "close the quote on the same line, e.g. ansible_user=\"deploy\"" },
	{ "port_zero.ini", CR_ERR_INVENTORY, 2, 5,
	    "ansible_port 0 is out of range",
	    "a port is a number from 1 to 65535; 22 is the default" },
	{ "port_65536.ini", CR_ERR_INVENTORY, 5, 1,
	    "ansible_port 65536 is out of range",
	    "a port is a number from 1 to 65535; 22 is the default" },
	{ "port_name.ini", CR_ERR_INVENTORY, 2, 5,
	    "ansible_port 'ssh' is not a port number",
	    "a port is a number from 1 to 65535; 22 is the default" },
	{ "port_colon.ini", CR_ERR_INVENTORY, 2, 1,
	    "host 'cp1:' ends with ':' but has no port",
	    "write host:port, e.g. cp1:2222, or drop the ':'" },
	{ "duplicate_address.ini", CR_ERR_INVENTORY, 6, 5,
	    "host 'cp1' has address '10.0.0.11' here but '10.0.0.1' at line 2",
	    "one inventory name is one machine: keep one address, or give "
	    "the other machine its own name" },
	{ "range_backwards.ini", CR_ERR_INVENTORY, 2, 3,
	    "bad range '[3:1]' in 'cp[3:1]': it ends before it begins",
	    "ranges are [BEGIN:END] or [BEGIN:END:STEP], e.g. cp[1:3], "
	    "cp[01:10:2], cp-[a:c]" },
	{ "range_mixed.ini", CR_ERR_INVENTORY, 2, 3,
	    "bad range '[1:x]' in 'cp[1:x]': BEGIN and END must both be "
	    "numbers or both letters",
	    "ranges are [BEGIN:END] or [BEGIN:END:STEP], e.g. cp[1:3], "
	    "cp[01:10:2], cp-[a:c]" },
	{ "range_letter_number.ini", CR_ERR_INVENTORY, 2, 5,
	    "bad range '[a:3]' in 'cp[a:3]': BEGIN and END must both be "
	    "numbers or both letters",
	    "ranges are [BEGIN:END] or [BEGIN:END:STEP], e.g. cp[1:3], "
	    "cp[01:10:2], cp-[a:c]" },
	{ "range_unterminated.ini", CR_ERR_INVENTORY, 2, 3,
	    "bad range '[1:3' in 'cp[1:3': no closing ']'",
	    "ranges are [BEGIN:END] or [BEGIN:END:STEP], e.g. cp[1:3], "
	    "cp[01:10:2], cp-[a:c]" },
	{ "range_padding.ini", CR_ERR_INVENTORY, 2, 3,
	    "bad range '[01:3]' in 'cp[01:3]': a zero-padded BEGIN needs an "
	    "END of the same width",
	    "ranges are [BEGIN:END] or [BEGIN:END:STEP], e.g. cp[1:3], "
	    "cp[01:10:2], cp-[a:c]" },
	{ "range_step_zero.ini", CR_ERR_INVENTORY, 2, 3,
	    "bad range '[1:3:0]' in 'cp[1:3:0]': STEP must be a number of at "
	    "least 1",
	    "ranges are [BEGIN:END] or [BEGIN:END:STEP], e.g. cp[1:3], "
	    "cp[01:10:2], cp-[a:c]" },
	{ "empty_control_plane.ini", CR_ERR_INVENTORY, 0, 0,
	    "no host is in a control-plane group",
	    "certroll works on the hosts of kube_control_plane, "
	    "control_plane, masters or kube-master; put the control-plane "
	    "hosts in one of them" },
	{ "no_hosts.ini", CR_ERR_INVENTORY, 0, 0,
	    "the inventory defines no hosts",
	    "certroll works on the hosts of kube_control_plane, "
	    "control_plane, masters or kube-master; put the control-plane "
	    "hosts in one of them" },
	{ "unknown_certroll_var.ini", CR_ERR_INVENTORY, 2, 5,
	    "unknown certroll variable 'certroll_nodename'",
	    "did you mean 'certroll_node_name'? certroll knows "
	    "certroll_node_name and certroll_kubernetes_dir" },
	{ "undefined_child.ini", CR_ERR_INVENTORY, 6, 1,
	    "group 'kube_nodes' is used here but never defined",
	    "add a [kube_nodes] section (it may be empty), or remove the "
	    "reference" },
	{ "vars_undefined_group.ini", CR_ERR_INVENTORY, 4, 1,
	    "group 'kube_cp' is used here but never defined",
	    "add a [kube_cp] section (it may be empty), or remove the "
	    "reference" },
	{ "children_loop.ini", CR_ERR_INVENTORY, 8, 1,
	    "group 'a' cannot be a child of 'b': 'a' already contains 'b'",
	    "group children must not form a loop; remove one of the two "
	    "entries" },
	{ "become_bad.ini", CR_ERR_INVENTORY, 5, 1,
	    "ansible_become 'maybe' is not a boolean",
	    "use true or false (yes/no and 1/0 work too)" },
	{ "template.ini", CR_ERR_INVENTORY, 2, 5,
	    "ansible_host is a Jinja template ('{{ ip }}')",
	    "certroll does not evaluate templates; write the value itself, "
	    "e.g. ansible_host=10.0.0.11" },
	{ "kubernetes_dir_relative.ini", CR_ERR_INVENTORY, 2, 5,
	    "certroll_kubernetes_dir 'etc/kubernetes' is not an absolute path",
	    "write the full path on the node, e.g. /etc/kubernetes" },
	{ "node_name_invalid.ini", CR_ERR_INVENTORY, 2, 5,
	    "certroll_node_name 'CP_1' is not a Kubernetes node name",
	    "use the name 'kubectl get nodes' shows: lower-case letters, "
	    "digits, '-' and '.'" },
	{ "nul_byte.ini", CR_ERR_INVENTORY, 2, 4, "NUL byte in the inventory",
	    "an inventory is a UTF-8 text file; is this the right file?" },
	{ "syntax.yaml", CR_ERR_INVENTORY, 7, 10,
	    "invalid YAML: did not find expected key while parsing a block "
	    "mapping",
	    "YAML nests by indentation with spaces (no tabs) and every key "
	    "ends with ':'" },
	{ "group_sequence.yaml", CR_ERR_INVENTORY, 3, 25,
	    "group 'kube_control_plane' must be a mapping of hosts, children "
	    "and vars, found a sequence",
	    "write 'kube_control_plane:' then 'hosts:' below it and one "
	    "'NAME:' per host below that" },
	{ "hosts_sequence.yaml", CR_ERR_INVENTORY, 4, 7,
	    "'hosts' of group 'kube_control_plane' must be a mapping, found a "
	    "sequence",
	    "write each entry as a key ending in ':' on its own line below "
	    "'hosts:', not as a '- ' list" },
	{ "unknown_key.yaml", CR_ERR_INVENTORY, 4, 7,
	    "unexpected key 'host' in group 'kube_control_plane'",
	    "did you mean 'hosts'? a group holds only hosts, children and "
	    "vars" },
	{ "host_scalar.yaml", CR_ERR_INVENTORY, 3, 5,
	    "host 'cp1' must have a mapping of variables or nothing, found a "
	    "scalar",
	    "write 'cp1:' alone, or its variables below it, e.g. 'cp1: "
	    "{ansible_host: 10.0.0.11}'" },
	{ "port_range.yaml", CR_ERR_INVENTORY, 4, 7,
	    "ansible_port 70000 is out of range",
	    "a port is a number from 1 to 65535; 22 is the default" },
	{ "unknown_certroll_var.yaml", CR_ERR_INVENTORY, 3, 5,
	    "unknown certroll variable 'certroll_kubernetes_path'",
	    "did you mean 'certroll_kubernetes_dir'? certroll knows "
	    "certroll_node_name and certroll_kubernetes_dir" },
	{ "plugin.yaml", CR_ERR_INVENTORY, 1, 1,
	    "this is the configuration of an inventory plugin, not an "
	    "inventory",
	    "write the plugin's result to a file with 'ansible-inventory -i "
	    "FILE --list --yaml' and use that" },
	{ "root_sequence.yaml", CR_ERR_INVENTORY, 1, 1,
	    "the inventory must be a mapping of groups, found a sequence",
	    "start with 'all:' and put 'hosts:' and 'children:' below it" },
	{ "alias_loop.yaml", CR_ERR_INVENTORY, 3, 5,
	    "groups nested more than 64 deep",
	    "a YAML alias that refers to its own group makes an endless "
	    "nesting" },
	{ "duplicate_address.yaml", CR_ERR_INVENTORY, 9, 11,
	    "host 'cp1' has address '10.0.0.9' here but '10.0.0.1' at line 4",
	    "one inventory name is one machine: keep one address, or give "
	    "the other machine its own name" },
	{ "two_documents.yaml", CR_ERR_INVENTORY, 5, 1,
	    "a second YAML document starts here",
	    "an inventory is one document; remove the '---' line or split the "
	    "file" },
	{ "range.yaml", CR_ERR_INVENTORY, 3, 7,
	    "bad range '[a:3]' in 'cp[a:3]': BEGIN and END must both be "
	    "numbers or both letters",
	    "ranges are [BEGIN:END] or [BEGIN:END:STEP], e.g. cp[1:3], "
	    "cp[01:10:2], cp-[a:c]" },
	{ "empty_control_plane.yaml", CR_ERR_INVENTORY, 0, 0,
	    "no host is in a control-plane group",
	    "certroll works on the hosts of kube_control_plane, "
	    "control_plane, masters or kube-master; put the control-plane "
	    "hosts in one of them" },
	{ "var_mapping.yaml", CR_ERR_INVENTORY, 4, 7,
	    "ansible_host must be a single value, found a mapping",
	    "write it as 'ansible_host: VALUE'" },
	{ "null_var.yaml", CR_ERR_INVENTORY, 5, 5, "ansible_user has no value",
	    "give it a value or remove it" },
	{ "missing.ini", CR_ERR_SYS, 0, 0,
	    "cannot read: No such file or directory",
	    "check the path given with -i" },
	{ "", CR_ERR_SYS, 0, 0, "cannot read: Is a directory",
	    "give -i a readable Ansible inventory file" },
};

static void
test_errors_exact_diagnostics(void)
{
	size_t i;

	for (i = 0; i < NELEM(bad_rows); i++) {
		char path[512];
		struct inv *inv = (struct inv *)&path;
		struct inv_diag diag;
		const char *row = bad_rows[i].file[0] != '\0' ?
		    bad_rows[i].file :
		    "(directory)";

		snprintf(path, sizeof(path), DATA "bad/%s", bad_rows[i].file);
		CU_ASSERT_CASE(inv_load(path, INV_FORMAT_AUTO, &inv, &diag) ==
			bad_rows[i].err,
		    row);
		CU_ASSERT_CASE(inv == NULL, row);
		CU_ASSERT_CASE(strcmp(diag.file, path) == 0, row);
		CU_ASSERT_CASE(diag.line == bad_rows[i].line, row);
		CU_ASSERT_CASE(diag.column == bad_rows[i].column, row);
		CU_ASSERT_CASE(strcmp(diag.msg, bad_rows[i].msg) == 0,
		    diag.msg);
		CU_ASSERT_CASE(strcmp(diag.hint, bad_rows[i].hint) == 0,
		    diag.hint);
	}
}

/* Each row: an inventory and what cp1 resolves to (LOCAL: no user set). */
static const struct {
	const char *name;
	const char *text;
	const char *address;
	unsigned port;
	const char *user;
} precedence_rows[] = {
	{ "host var over group var",
	    "[kube_control_plane]\ncp1 ansible_port=2201\n"
	    "[kube_control_plane:vars]\nansible_port=2202\n",
	    "cp1", 2201, LOCAL },
	{ "child group over parent group",
	    "[kube_control_plane]\ncp1\n[zz_parent:children]\n"
	    "kube_control_plane\n[zz_parent:vars]\nansible_port=2301\n"
	    "[kube_control_plane:vars]\nansible_port=2302\n",
	    "cp1", 2302, LOCAL },
	{ "parent group over all",
	    "[kube_control_plane]\ncp1\n[p:children]\nkube_control_plane\n"
	    "[p:vars]\nansible_port=2401\n[all:vars]\nansible_port=2402\n",
	    "cp1", 2401, LOCAL },
	{ "siblings: later name wins",
	    "[kube_control_plane]\ncp1\n[b]\ncp1\n[a]\ncp1\n"
	    "[a:vars]\nansible_port=2501\n[b:vars]\nansible_port=2502\n",
	    "cp1", 2502, LOCAL },
	{ "depth wins over name",
	    "[kube_control_plane]\ncp1\n[zz]\ncp1\n[aa:children]\nmid\n"
	    "[mid]\ncp1\n[zz:vars]\nansible_port=2601\n"
	    "[mid:vars]\nansible_port=2602\n",
	    "cp1", 2602, LOCAL },
	{ "depth is the longest path",
	    "[kube_control_plane]\ncp1\n[a:children]\nb\n[b:children]\nc\n"
	    "[c]\ncp1\n[all:children]\nc\n[b]\ncp1\n[c:vars]\n"
	    "ansible_port=2701\n[b:vars]\nansible_port=2702\n",
	    "cp1", 2701, LOCAL },
	{ "later assignment in one group wins",
	    "[kube_control_plane]\ncp1\n[all:vars]\nansible_port=2801\n"
	    "ansible_port=2802\n",
	    "cp1", 2802, LOCAL },
	{ "host vars from several lines merge",
	    "[kube_control_plane]\ncp1 ansible_port=2901\n[etcd]\n"
	    "cp1 ansible_user=e\n",
	    "cp1", 2901, "e" },
	{ "ansible_ssh_host beats ansible_host at any level",
	    "[kube_control_plane]\ncp1 ansible_host=10.0.0.1\n[all:vars]\n"
	    "ansible_ssh_host=10.0.0.2\n",
	    "10.0.0.2", 22, LOCAL },
	{ "ansible_ssh_port and ansible_ssh_user are read",
	    "[kube_control_plane]\ncp1 ansible_ssh_port=3001 "
	    "ansible_ssh_user=s\n",
	    "cp1", 3001, "s" },
	{ "host:port is ansible_port, later vars override",
	    "[kube_control_plane]\ncp1:3101 ansible_port=3102\n", "cp1", 3102,
	    LOCAL },
	{ "yaml: host over group over all",
	    "all:\n  vars: {ansible_port: 3201, ansible_user: a}\n  children:\n"
	    "    kube_control_plane:\n      vars: {ansible_port: 3202}\n"
	    "      hosts:\n        cp1: {ansible_user: h}\n",
	    "cp1", 3202, "h" },
	{ "yaml: a host listed twice keeps both vars",
	    "all:\n  hosts:\n    cp1: {ansible_host: 10.1.1.1}\n  children:\n"
	    "    kube_control_plane:\n      hosts:\n"
	    "        cp1: {ansible_port: 3301, ansible_host: 10.1.1.1}\n",
	    "10.1.1.1", 3301, LOCAL },
	{ "ungrouped vars apply to hosts only in ungrouped",
	    "cp1\ncp2\n[kube_control_plane]\ncp1\n[masters]\ncp2\n"
	    "[ungrouped:vars]\nansible_port=3401\n",
	    "cp1", 22, LOCAL },
};

static void
test_precedence_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(precedence_rows); i++) {
		const char *row = precedence_rows[i].name;
		struct inv *inv = NULL;
		struct inv_diag diag;
		const struct inv_node *n;
		const char *text = precedence_rows[i].text;
		const char *user = precedence_rows[i].user;

		CU_ASSERT_CASE(inv_parse(row, text, strlen(text),
				   INV_FORMAT_AUTO, &inv, &diag) == CR_OK,
		    diag.msg);
		if (inv == NULL)
			continue;
		n = inv_node_find(inv, "cp1");
		CU_ASSERT_CASE(n != NULL, row);
		if (n != NULL) {
			CU_ASSERT_CASE(
			    strcmp(n->address, precedence_rows[i].address) == 0,
			    row);
			CU_ASSERT_CASE(n->port == precedence_rows[i].port, row);
			CU_ASSERT_CASE(
			    strcmp(n->user,
				user != NULL ? user : local_user()) == 0,
			    row);
		}
		inv_free(inv);
	}
}

/* Boundaries: ok rows list the node names expected, in order. */
static const struct { /* NOLINT(clang-analyzer-optin.performance.Padding) */
	const char *text;
	bool ok;
	const char *names; /* space-separated; or the error message */
	unsigned port;
} boundary_rows[] = {
	{ "[kube_control_plane]\ncp1 ansible_port=1\n", true, "cp1", 1 },
	{ "[kube_control_plane]\ncp1 ansible_port=65535\n", true, "cp1",
	    65535 },
	{ "[kube_control_plane]\ncp1 ansible_port=0\n", false,
	    "ansible_port 0 is out of range", 0 },
	{ "[kube_control_plane]\ncp1 ansible_port=65536\n", false,
	    "ansible_port 65536 is out of range", 0 },
	{ "[kube_control_plane]\ncp1 ansible_port=99999999999999999999\n",
	    false, "ansible_port 99999999999999999999 is out of range", 0 },
	{ "[kube_control_plane]\ncp1 ansible_port=-1\n", false,
	    "ansible_port '-1' is not a port number", 0 },
	{ "[kube_control_plane]\ncp1 ansible_port=022\n", true, "cp1", 22 },
	{ "[kube_control_plane]\ncp1:65535\n", true, "cp1", 65535 },
	{ "[kube_control_plane]\ncp[7:7]\n", true, "cp7", 22 },
	{ "[kube_control_plane]\ncp[a:a]x\n", true, "cpax", 22 },
	{ "[kube_control_plane]\ncp[08:11]\n", true, "cp08 cp09 cp10 cp11",
	    22 },
	{ "[kube_control_plane]\ncp[001:003]\n", true, "cp001 cp002 cp003",
	    22 },
	{ "[kube_control_plane]\ncp[1:10:4]\n", true, "cp1 cp5 cp9", 22 },
	{ "[kube_control_plane]\ncp[1:3:5]\n", true, "cp1", 22 },
	{ "[kube_control_plane]\ncp[:2]\n", true, "cp0 cp1 cp2", 22 },
	{ "[kube_control_plane]\ncp-[x:z]\n", true, "cp-x cp-y cp-z", 22 },
	{ "[kube_control_plane]\nr[1:2]n[a:b]\n", true, "r1na r1nb r2na r2nb",
	    22 },
	{ "[kube_control_plane]\ncp[1:]\n", false,
	    "bad range '[1:]' in 'cp[1:]': END is missing", 0 },
	{ "[kube_control_plane]\ncp[1]\n", false,
	    "bad range '[1]' in 'cp[1]': expected BEGIN:END or "
	    "BEGIN:END:STEP",
	    0 },
	{ "[kube_control_plane]\ncp[1:2:3:4]\n", false,
	    "bad range '[1:2:3:4]' in 'cp[1:2:3:4]': expected BEGIN:END or "
	    "BEGIN:END:STEP",
	    0 },
	{ "[kube_control_plane]\ncp[ab:c]\n", false,
	    "bad range '[ab:c]' in 'cp[ab:c]': BEGIN and END must both be "
	    "numbers or both letters",
	    0 },
	{ "[kube_control_plane]\ncp[1:20000]\n", false,
	    "host pattern 'cp[1:20000]' expands to more than 10000 hosts", 0 },
	{ "[kube_control_plane]\n\"\"\n", false, "empty host name", 0 },
	{ "[kube_control_plane]\ncp1 =x\n", false,
	    "variable name missing in '=x'", 0 },
	{ "[kube_control_plane]\ncp1 a=b\\\n", false,
	    "backslash at the end of the line", 0 },
	{ "[kube_control_plane]\ncp1\n[all:vars]\n = 1\n", false,
	    "variable name missing in '= 1'", 0 },
	{ "[kube_control_plane]\ncp1\n[g:children]\na b\n", false,
	    "expected a group name in [g:children], got 'a b'", 0 },
	{ "[kube_control_plane]\ncp1\n[x:children]\nall\n[x]\n", false,
	    "group 'all' cannot be a child of 'x'", 0 },
	{ "[kube_control_plane:children]\ncontrol_plane\n[control_plane]\n"
	  "c1\n",
	    true, "c1", 22 },
	{ "[masters]\nm1\n", true, "m1", 22 },
	/* Ansible drops cp1 from ungrouped, and so from its parent. */
	{ "cp1\n[kube_control_plane]\ncp2\n[kube_control_plane:children]\n"
	  "ungrouped\n",
	    true, "cp2", 22 },
	{ "cp1\n[ungrouped:vars]\nansible_port=3401\n[x]\ncp2\n"
	  "[kube_control_plane:children]\nx\nungrouped\n",
	    true, "cp2", 22 },
	{ "[kube-master]\nk1\n[kube_control_plane]\nk0\nk1\n", true, "k1 k0",
	    22 },
	{ "[kube_control_plane]\ncp1 ansible_become=maybe\n"
	  "[kube_node]\nw1 ansible_port=0 ansible_host={{x}}\n",
	    false, "ansible_become 'maybe' is not a boolean", 0 },
	{ "[kube_control_plane]\ncp1\n[kube_node]\n"
	  "w1 ansible_port=0 ansible_host={{x}}\n",
	    true, "cp1", 22 },
	{ "[kube_control_plane]\ncp1\n[all:vars]\nansible_port=0\n"
	  "[kube_control_plane:vars]\nansible_port=2222\n",
	    true, "cp1", 2222 },
	/* Fuzzing: an empty [group:vars] value was read past its end. */
	{ "[kube_control_plane]\ncp1\n[all:vars]\nansible_user=\n", false,
	    "ansible_user is empty", 0 },
	{ "[kube_control_plane]\ncp1 ansible_user=\n", false,
	    "ansible_user is empty", 0 },
	{ "[kube_control_plane]\n---\n", false,
	    "'---' is not a host name: this looks like YAML", 0 },
	{ "[kube_control_plane]\ncp1 ansible_host=a\n[etcd]\n"
	  "cp1 ansible_host=a\n",
	    true, "cp1", 22 },
	{ "\xef\xbb\xbf[kube_control_plane]\r\ncp1 ansible_port=2\r\n", true,
	    "cp1", 2 },
};

static void
names_of(const struct inv *inv, char *out, size_t len)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < inv_count(inv) && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		    i > 0 ? " " : "", inv_node_at(inv, i)->name);
}

static void
test_boundary_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(boundary_rows); i++) {
		const char *row = boundary_rows[i].text;
		struct inv *inv = NULL;
		struct inv_diag diag;
		char names[512];
		enum cr_err err;

		err = inv_parse("b.ini", row, strlen(row), INV_FORMAT_AUTO,
		    &inv, &diag);
		CU_ASSERT_CASE((err == CR_OK) == boundary_rows[i].ok, row);
		if (!boundary_rows[i].ok) {
			CU_ASSERT_CASE(
			    strcmp(diag.msg, boundary_rows[i].names) == 0,
			    diag.msg);
			CU_ASSERT_CASE(diag.hint[0] != '\0', row);
			continue;
		}
		if (inv == NULL)
			continue;
		names_of(inv, names, sizeof(names));
		CU_ASSERT_CASE(strcmp(names, boundary_rows[i].names) == 0,
		    names);
		CU_ASSERT_CASE(
		    inv_node_at(inv, 0)->port == boundary_rows[i].port, row);
		inv_free(inv);
	}
}

/* Format detection: what AUTO makes of the first significant line. */
static const struct {
	const char *text;
	enum inv_format as;
	bool ok;
} detect_rows[] = {
	{ "# c\n\n; c\n[kube_control_plane]\ncp1\n", INV_FORMAT_AUTO, true },
	{ "# c\n\n; c\n[kube_control_plane]\ncp1\n", INV_FORMAT_INI, true },
	{ "# c\n\n; c\n[kube_control_plane]\ncp1\n", INV_FORMAT_YAML, false },
	{ "kube_control_plane:\n  hosts:\n    cp1:\n", INV_FORMAT_AUTO, true },
	{ "kube_control_plane:\n  hosts:\n    cp1:\n", INV_FORMAT_INI, false },
	{ "---\nkube_control_plane: {hosts: {cp1: }}\n", INV_FORMAT_AUTO,
	    true },
	{ "---\nkube_control_plane: {hosts: {cp1: }}\n", INV_FORMAT_INI,
	    false },
	{ "  # indented comment\nall: {children: {masters: {hosts: cp1}}}\n",
	    INV_FORMAT_AUTO, true },
	{ "cp1:2222\n[kube_control_plane]\ncp1\n", INV_FORMAT_AUTO, true },
	{ "cp1 ansible_host=x:y\n[kube_control_plane]\ncp1\n", INV_FORMAT_AUTO,
	    true },
	{ "%YAML 1.1\n---\nmasters: {hosts: {m1: }}\n", INV_FORMAT_AUTO, true },
	{ "", INV_FORMAT_AUTO, false },
	{ "---\n", INV_FORMAT_AUTO, false },
	{ "kube_control_plane: ~\n", INV_FORMAT_AUTO, false },
};

static void
test_detect_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(detect_rows); i++) {
		const char *row = detect_rows[i].text;
		struct inv *inv = NULL;
		struct inv_diag diag;
		enum cr_err err;

		err = inv_parse("d", row, strlen(row), detect_rows[i].as, &inv,
		    &diag);
		CU_ASSERT_CASE((err == CR_OK) == detect_rows[i].ok, row);
		CU_ASSERT_CASE((inv != NULL) == detect_rows[i].ok, row);
		if (inv != NULL)
			CU_ASSERT_CASE(inv_count(inv) == 1, row);
		inv_free(inv);
	}
}

static struct inv *
load_kubespray(void)
{
	struct inv *inv = NULL;
	struct inv_diag diag;

	CU_ASSERT_FATAL(inv_load(DATA "kubespray.yaml", INV_FORMAT_AUTO, &inv,
			    &diag) == CR_OK);
	return inv;
}

static const struct {
	const char *csv;
	bool ok;
	const char *result; /* kept names, or the diagnostic */
} select_rows[] = {
	{ "node3,node1", true, "node1 node3" },
	{ " node2 ", true, "node2" },
	{ "node2,node2", true, "node2" },
	{ "node3.prod.example.com", true, "node3" },
	{ "node1,node2,node3", true, "node1 node2 node3" },
	{ "node4", false, "no control-plane node 'node4' in the inventory" },
	{ "node1,nope", false,
	    "no control-plane node 'nope' in the inventory" },
	{ "", false, "empty node name in the list" },
	{ "node1,", false, "empty node name in the list" },
	{ "node1,,node2", false, "empty node name in the list" },
};

static void
test_select_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(select_rows); i++) {
		const char *row = select_rows[i].csv;
		struct inv *inv = load_kubespray();
		struct inv_diag diag;
		char names[256];
		enum cr_err err;

		err = inv_select(inv, row, &diag);
		CU_ASSERT_CASE((err == CR_OK) == select_rows[i].ok, row);
		if (err == CR_OK) {
			names_of(inv, names, sizeof(names));
			CU_ASSERT_CASE(
			    strcmp(names, select_rows[i].result) == 0, names);
		} else {
			CU_ASSERT_CASE(
			    strcmp(diag.msg, select_rows[i].result) == 0,
			    diag.msg);
			CU_ASSERT_CASE(strcmp(diag.hint,
					   "the control-plane nodes are: "
					   "node1, node2, node3") == 0,
			    diag.hint);
			CU_ASSERT_CASE(diag.line == 0, row);
			/* A failed selection leaves the inventory whole. */
			CU_ASSERT_CASE(inv_count(inv) == 3, row);
		}
		inv_free(inv);
	}
}

static void
test_api_find_roles_formats(void)
{
	struct inv *inv = load_kubespray();
	enum inv_format fmt = INV_FORMAT_INI;

	CU_ASSERT_STRING_EQUAL(inv_node_find(inv, "node2")->name, "node2");
	CU_ASSERT_STRING_EQUAL(
	    inv_node_find(inv, "node3.prod.example.com")->name, "node3");
	CU_ASSERT_PTR_NULL(inv_node_find(inv, "node4"));
	CU_ASSERT_PTR_NULL(inv_node_find(inv, ""));
	inv_free(inv);
	inv_free(NULL);
	CU_ASSERT_STRING_EQUAL(inv_role_name(INV_ROLE_CONTROL_PLANE),
	    "control-plane");
	CU_ASSERT_STRING_EQUAL(inv_role_name(INV_ROLE_ETCD), "etcd");
	CU_ASSERT_STRING_EQUAL(inv_role_name(INV_ROLE_WORKER), "worker");
	CU_ASSERT_PTR_NULL(inv_role_name(INV_ROLE_ETCD | INV_ROLE_WORKER));
	CU_ASSERT_TRUE(inv_format_parse("yaml", &fmt));
	CU_ASSERT_EQUAL(fmt, INV_FORMAT_YAML);
	CU_ASSERT_TRUE(inv_format_parse("auto", &fmt));
	CU_ASSERT_EQUAL(fmt, INV_FORMAT_AUTO);
	CU_ASSERT_FALSE(inv_format_parse("toml", &fmt));
	CU_ASSERT_FALSE(inv_format_parse("YAML", &fmt));
	CU_ASSERT_EQUAL(fmt, INV_FORMAT_AUTO);
}

static void
test_defaults_and_home(void)
{
	const char *text = "[kube_control_plane]\ncp1 "
			   "ansible_ssh_private_key_file=~/.ssh/id\n"
			   "cp2 ansible_private_key_file=~other/id\n";
	const char *home = getenv("HOME");
	struct inv *inv = NULL;
	struct inv_diag diag;
	const struct inv_node *n;
	char want[512];

	CU_ASSERT_FATAL(inv_parse("h", text, strlen(text), INV_FORMAT_AUTO,
			    &inv, &diag) == CR_OK);
	n = inv_node_at(inv, 0);
	CU_ASSERT_STRING_EQUAL(n->user, local_user());
	CU_ASSERT_EQUAL(n->port, 22);
	CU_ASSERT_FALSE(n->become);
	CU_ASSERT_STRING_EQUAL(n->become_user, "root");
	CU_ASSERT_STRING_EQUAL(n->address, "cp1");
	CU_ASSERT_STRING_EQUAL(n->node_name, "cp1");
	CU_ASSERT_STRING_EQUAL(n->kubernetes_dir, "/etc/kubernetes");
	CU_ASSERT_EQUAL(n->roles, INV_ROLE_CONTROL_PLANE);
	snprintf(want, sizeof(want), "%s/.ssh/id",
	    home != NULL && *home != '\0' ? home : "~");
	CU_ASSERT_STRING_EQUAL(n->identity_file, want);
	/* Only the caller's own home is expanded. */
	CU_ASSERT_STRING_EQUAL(inv_node_at(inv, 1)->identity_file, "~other/id");
	inv_free(inv);
}

static void
test_diag_print(void)
{
	struct inv_diag d;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	memset(&d, 0, sizeof(d));
	snprintf(d.file, sizeof(d.file), "hosts.ini");
	d.line = 3;
	d.column = 7;
	snprintf(d.msg, sizeof(d.msg), "bad thing");
	snprintf(d.hint, sizeof(d.hint), "do this");
	fp = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	inv_diag_print(&d, fp);
	d.line = 0;
	d.hint[0] = '\0';
	inv_diag_print(&d, fp);
	fclose(fp);
	CU_ASSERT_STRING_EQUAL(text,
	    "hosts.ini:3:7: bad thing\n"
	    "  hint: do this\n"
	    "hosts.ini: bad thing\n");
	free(text);
}

#define TEN(x, r)                                                              \
	x "0: " r ", " x "1: " r ", " x "2: " r ", " x "3: " r ", " x "4: " r  \
	  ", " x "5: " r ", " x "6: " r ", " x "7: " r ", " x "8: " r ", " x   \
	  "9: " r

/* Inputs that must fail cleanly and quickly (fuzzing found some). */
static const struct {
	const char *name;
	const char *text;
	size_t len;
	const char *msg; /* the start of the diagnostic */
} hostile_rows[] = {
	{ "NUL in YAML", "a: \0", 4, "NUL byte in the inventory" },
	{ "lone bracket", "[", 1, "unterminated section header '['" },
	{ "lone quote", "\"", 1, "quote opened here is never closed" },
	{ "alias bomb",
	    "a: &a {hosts: {\"h[1:1000]\": }}\n"
	    "b: &b {children: {" TEN("b",
		"*a") "}}\n"
		      "c: &c {children: {" TEN("c",
			  "*b") "}}\n"
				"d: {children: {" TEN("d", "*c") "}}\n",
	    0, "inventory too large to resolve" },
	{ "range explosion", "[masters]\nh[1:99][1:99][1:99]\n", 0,
	    "host pattern 'h[1:99][1:99][1:99]' expands to more than 10000" },
	{ "colon only", ":", 1, "invalid YAML" },
	{ "key without value", "all:\n  hosts:\n", 0,
	    "the inventory defines no hosts" },
	{ "numeric names", "1: {hosts: {2: }}\n", 0,
	    "no host is in a control-plane group" },
	{ "mapping as group name", "---\n? {a: b}\n: x\n", 0,
	    "a group must be a name, found a mapping" },
	{ "mapping as host name", "masters:\n  hosts:\n    ? [a]\n    :\n", 0,
	    "a host must be a name, found a sequence" },
};

static void
test_hostile_inputs(void)
{
	size_t i;

	for (i = 0; i < NELEM(hostile_rows); i++) {
		const char *text = hostile_rows[i].text;
		size_t len = hostile_rows[i].len != 0 ? hostile_rows[i].len :
							strlen(text);
		struct inv *inv = NULL;
		struct inv_diag diag;

		CU_ASSERT_CASE(inv_parse("x", text, len, INV_FORMAT_AUTO, &inv,
				   &diag) == CR_ERR_INVENTORY,
		    hostile_rows[i].name);
		CU_ASSERT_CASE(inv == NULL, hostile_rows[i].name);
		CU_ASSERT_CASE(strncmp(diag.msg, hostile_rows[i].msg,
				   strlen(hostile_rows[i].msg)) == 0,
		    diag.msg);
	}
}

/* The limits on groups and hosts hold, and just below them all is well. */
static void
test_limits(void)
{
	static const struct {
		unsigned groups, hosts;
		const char *msg;
	} rows[] = {
		{ 1998, 1, NULL },
		{ 1999, 1, "more than 2000 groups" },
		{ 1, 9999, NULL },
		{ 1, 10000, "more than 10000 hosts" },
	};
	size_t i, g, h;

	for (i = 0; i < NELEM(rows); i++) {
		char *text = malloc(64 * (rows[i].groups + rows[i].hosts) + 64);
		struct inv *inv = NULL;
		struct inv_diag diag;
		size_t len = 0;
		enum cr_err err;

		CU_ASSERT_FATAL(text != NULL);
		/* "ungrouped" and kube_control_plane are groups too. */
		for (g = 0; g < rows[i].groups; g++)
			len += (size_t)sprintf(text + len, "[g%zu]\n", g);
		len += (size_t)sprintf(text + len,
		    "[kube_control_plane]\ncp\n");
		for (h = 0; h < rows[i].hosts; h++)
			len += (size_t)sprintf(text + len, "w%zu\n", h);
		err = inv_parse("big.ini", text, len, INV_FORMAT_INI, &inv,
		    &diag);
		CU_ASSERT_CASE((err == CR_OK) == (rows[i].msg == NULL),
		    diag.msg);
		if (rows[i].msg != NULL)
			CU_ASSERT_CASE(strcmp(diag.msg, rows[i].msg) == 0,
			    diag.msg);
		inv_free(inv);
		free(text);
	}
}

static CU_TestInfo file_tests[] = {
	{ "resolve_every_field", test_files_resolve_every_field },
	{ "exact_diagnostics", test_errors_exact_diagnostics },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo rule_tests[] = {
	{ "precedence", test_precedence_rows },
	{ "boundaries", test_boundary_rows },
	{ "detect_format", test_detect_rows },
	{ "defaults_and_home", test_defaults_and_home },
	{ "hostile_inputs", test_hostile_inputs },
	{ "limits", test_limits },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo api_tests[] = {
	{ "select", test_select_rows },
	{ "find_roles_formats", test_api_find_roles_formats },
	{ "diag_print", test_diag_print },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "inventory_files", .pTests = file_tests },
	{ .pName = "inventory_rules", .pTests = rule_tests },
	{ .pName = "inventory_api", .pTests = api_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
