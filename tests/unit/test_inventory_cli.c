/*
 * "certroll inventory" as an operator runs it: the built program on the
 * data files, its JSON and table output against golden files, and exit
 * status 2 with FILE:LINE:COL for bad input and bad options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "fileio.h"
#include "run.h"

#define DATA     CR_TEST_DATA "/inventory/"
#define CERTROLL CR_BIN_DIR "/certroll"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	const char *args[8]; /* "@name": the data file DATA "name" */
	int exit_code;
	const char *golden;     /* file stdout must equal, or NULL */
	const char *out_has;    /* text stdout must contain, or NULL */
	const char *err_equals; /* exact stderr, or NULL */
	const char *err_has;    /* text stderr must contain, or NULL */
} rows[] = {
	{ "kubespray json", { "-i", "@kubespray.yaml", "-o", "json" }, 0,
	    DATA "golden/kubespray.json", NULL, "", NULL },
	{ "ini json", { "-i", "@cluster.ini", "-o", "json" }, 0,
	    DATA "golden/cluster.json", NULL, "", NULL },
	{ "forced format",
	    { "--inventory", "@cluster.ini", "--format", "ini", "--output",
		"json" },
	    0, DATA "golden/cluster.json", NULL, "", NULL },
	{ "table with --only",
	    { "-i", "@kubespray.yaml", "--only", "node3,node1" }, 0,
	    DATA "golden/kubespray-only.txt", NULL, "", NULL },
	{ "bad file", { "-i", "@bad/port_zero.ini" }, 2, NULL, NULL,
	    DATA "bad/port_zero.ini:2:5: ansible_port 0 is out of range\n"
		 "  hint: a port is a number from 1 to 65535; 22 is the "
		 "default\n",
	    NULL },
	{ "bad yaml file", { "-i", "@bad/unknown_key.yaml", "-o", "json" }, 2,
	    NULL, NULL,
	    DATA "bad/unknown_key.yaml:4:7: unexpected key 'host' in group "
		 "'kube_control_plane'\n"
		 "  hint: did you mean 'hosts'? a group holds only hosts, "
		 "children and vars\n",
	    NULL },
	{ "missing file", { "-i", "@bad/missing.ini" }, 2, NULL, NULL,
	    DATA "bad/missing.ini: cannot read: No such file or directory\n"
		 "  hint: check the path given with -i\n",
	    NULL },
	{ "wrong forced format", { "-i", "@cluster.ini", "--format", "yaml" },
	    2, NULL, NULL, NULL, "cluster.ini:8:1: invalid YAML" },
	{ "unknown --only name", { "-i", "@kubespray.yaml", "--only", "cp9" },
	    2, NULL, NULL, NULL,
	    "no control-plane node 'cp9' in the inventory\n"
	    "  hint: the control-plane nodes are: node1, node2, node3\n" },
	{ "no -i", { "-o", "json" }, 2, NULL, NULL, NULL,
	    "no inventory given; use -i FILE" },
	{ "unknown output", { "-i", "@cluster.ini", "-o", "yaml" }, 2, NULL,
	    NULL, NULL, "unknown output 'yaml' (table or json)" },
	{ "unknown format", { "-i", "@cluster.ini", "--format", "toml" }, 2,
	    NULL, NULL, NULL, "unknown format 'toml' (auto, ini or yaml)" },
	{ "unknown option", { "--bogus" }, 2, NULL, NULL, NULL,
	    "certroll inventory: unknown option '--bogus'\n" },
	{ "option without value", { "-i" }, 2, NULL, NULL, NULL,
	    "certroll inventory: option '-i' needs a value\n" },
	{ "stray argument", { "-i", "@cluster.ini", "extra" }, 2, NULL, NULL,
	    NULL, "unexpected argument 'extra'" },
	{ "help", { "--help" }, 0, NULL, "[kube_control_plane]", "", NULL },
};

static char *
read_golden(const char *path)
{
	struct buf b = BUF_INIT;
	size_t len;

	if (file_read(path, 1 << 20, &b) != CR_OK)
		return NULL;
	return buf_detach(&b, &len);
}

static void
check_row(size_t i, struct run_cmd *c)
{
	const char *row = rows[i].name;
	char *golden;

	CU_ASSERT_CASE(c->exited && c->exit_code == rows[i].exit_code, row);
	if (rows[i].golden != NULL) {
		golden = read_golden(rows[i].golden);
		CU_ASSERT_CASE(golden != NULL, rows[i].golden);
		CU_ASSERT_CASE(golden != NULL &&
			strcmp(buf_cstr(&c->out), golden) == 0,
		    buf_cstr(&c->out));
		free(golden);
	}
	if (rows[i].out_has != NULL)
		CU_ASSERT_CASE(
		    strstr(buf_cstr(&c->out), rows[i].out_has) != NULL, row);
	if (rows[i].exit_code != 0)
		CU_ASSERT_CASE(c->out.len == 0, row);
	if (rows[i].err_equals != NULL)
		CU_ASSERT_CASE(strcmp(buf_cstr(&c->err), rows[i].err_equals) ==
			0,
		    buf_cstr(&c->err));
	if (rows[i].err_has != NULL)
		CU_ASSERT_CASE(strstr(buf_cstr(&c->err), rows[i].err_has) !=
			NULL,
		    buf_cstr(&c->err));
}

static void
test_cli_rows(void)
{
	size_t i, j;

	for (i = 0; i < NELEM(rows); i++) {
		const char *argv[12] = { CERTROLL, "inventory" };
		struct run_cmd c = RUN_CMD_INIT;

		char paths[NELEM(rows[i].args)][512];

		for (j = 0; j < NELEM(rows[i].args) && rows[i].args[j] != NULL;
		     j++) {
			argv[j + 2] = rows[i].args[j];
			if (rows[i].args[j][0] != '@')
				continue;
			snprintf(paths[j], sizeof(paths[j]), "%s%s", DATA,
			    rows[i].args[j] + 1);
			argv[j + 2] = paths[j];
		}
		c.argv = argv;
		c.timeout_ms = 30000;
		CU_ASSERT_CASE(run_cmd(&c) != CR_ERR_SYS, rows[i].name);
		check_row(i, &c);
		run_cmd_clear(&c);
	}
}

/* "certroll help inventory" shows the same text as --help. */
static void
test_cli_help_command(void)
{
	const char *help[] = { CERTROLL, "help", "inventory", NULL };
	const char *direct[] = { CERTROLL, "inventory", "-h", NULL };
	struct run_cmd a = RUN_CMD_INIT, b = RUN_CMD_INIT;

	a.argv = help;
	b.argv = direct;
	a.timeout_ms = b.timeout_ms = 30000;
	CU_ASSERT_EQUAL(run_cmd(&a), CR_OK);
	CU_ASSERT_EQUAL(run_cmd(&b), CR_OK);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&a.out), buf_cstr(&b.out));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&a.out), "Examples:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&a.out), "hosts.yaml -o json"));
	run_cmd_clear(&a);
	run_cmd_clear(&b);
}

static CU_TestInfo cli_tests[] = {
	{ "rows", test_cli_rows },
	{ "help_command", test_cli_help_command },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "inventory_cli", .pTests = cli_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
