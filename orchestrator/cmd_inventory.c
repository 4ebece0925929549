/*
 * certroll inventory: shows the control-plane nodes an inventory file
 * resolves to, so an operator can check what plan and apply will touch.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "cli.h"
#include "inventory.h"
#include "jv.h"

enum output {
	OUTPUT_TABLE = 0,
	OUTPUT_JSON,
};

struct opts {
	const char *path;
	const char *only;
	enum inv_format fmt;
	enum output output;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll inventory -i FILE [-o table|json] "
	    "[--format auto|ini|yaml]\n"
	    "                          [--only NAME[,NAME...]]\n\n"
	    "Shows the control-plane nodes FILE resolves to, in inventory "
	    "order, with the\naddress, port, user and privilege escalation "
	    "certroll will use for each.\nFILE is an Ansible inventory, INI "
	    "or YAML, including Kubespray's hosts.yaml;\nthe control plane "
	    "is the hosts of kube_control_plane, control_plane, masters\n"
	    "or kube-master (docs/inventory.md has every rule).\n\n"
	    "Options:\n"
	    "  -i, --inventory FILE  the inventory to read (required)\n"
	    "  -o, --output FORMAT   table (default) or json\n"
	    "      --format FORMAT   auto (default: from the content), ini or "
	    "yaml\n"
	    "      --only NAMES      only these nodes, comma-separated "
	    "(inventory or\n"
	    "                        Kubernetes node names)\n"
	    "  -h, --help            this text\n\n"
	    "Examples:\n"
	    "  An INI inventory, hosts.ini:\n"
	    "    [kube_control_plane]\n"
	    "    cp[1:3] ansible_user=deploy ansible_become=true\n"
	    "    [kube_control_plane:vars]\n"
	    "    ansible_ssh_private_key_file=~/.ssh/id_ed25519\n\n"
	    "    certroll inventory -i hosts.ini\n\n"
	    "  Kubespray's inventory/prod/hosts.yaml:\n"
	    "    all:\n"
	    "      hosts:\n"
	    "        node1: {ansible_host: 10.0.0.11}\n"
	    "        node2: {ansible_host: 10.0.0.12}\n"
	    "      children:\n"
	    "        kube_control_plane: {hosts: {node1: , node2: }}\n"
	    "        etcd: {hosts: {node1: }}\n\n"
	    "    certroll inventory -i inventory/prod/hosts.yaml -o json\n\n"
	    "  Two of the nodes only:\n"
	    "    certroll inventory -i hosts.ini --only cp1,cp3\n\n"
	    "Exit status: 0 success, 2 usage error or invalid inventory "
	    "(FILE:LINE:COL\nsays what is wrong and a hint line how to fix "
	    "it).\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'F' },
		{ "only", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:o:h", longopts, NULL)) != -1) {
		if (c == 'i')
			o->path = optarg;
		else if (c == 'O')
			o->only = optarg;
		else if (c == 'o' && strcmp(optarg, "json") == 0)
			o->output = OUTPUT_JSON;
		else if (c == 'o' && strcmp(optarg, "table") != 0)
			return cli_usage("inventory",
			    "unknown output '%s' (table or json)", optarg);
		else if (c == 'F' && !inv_format_parse(optarg, &o->fmt))
			return cli_usage("inventory",
			    "unknown format '%s' (auto, ini or yaml)", optarg);
		else if (c == 'h') {
			usage(stdout);
			return -1;
		} else if (c == ':')
			return cli_usage("inventory",
			    "option '%s' needs a value", argv[optind - 1]);
		else if (c == '?')
			return cli_usage("inventory", "unknown option '%s'",
			    argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage("inventory", "unexpected argument '%s'",
		    argv[optind]);
	if (o->path == NULL)
		return cli_usage("inventory",
		    "no inventory given; use -i FILE, e.g. -i hosts.ini");
	return CLI_EXIT_OK;
}

static void
roles_text(const struct inv_node *n, struct buf *b)
{
	unsigned bit;

	buf_reset(b);
	for (bit = 1; bit <= INV_ROLE_WORKER; bit <<= 1)
		if ((n->roles & bit) != 0)
			buf_printf(b, "%s%s", b->len > 0 ? "," : "",
			    inv_role_name(bit));
}

static json_object *
node_json(const struct inv_node *n)
{
	json_object *obj = json_object_new_object();
	json_object *roles = json_object_new_array();
	unsigned bit;

	jv_add_str(obj, "name", n->name);
	jv_add_str(obj, "address", n->address);
	jv_add_int(obj, "port", n->port);
	jv_add_str(obj, "user", n->user);
	jv_add_str(obj, "identity_file", n->identity_file);
	jv_add_bool(obj, "become", n->become);
	jv_add_str(obj, "node_name", n->node_name);
	jv_add_str(obj, "kubernetes_dir", n->kubernetes_dir);
	for (bit = 1; bit <= INV_ROLE_WORKER; bit <<= 1)
		if ((n->roles & bit) != 0)
			json_object_array_add(roles,
			    json_object_new_string(inv_role_name(bit)));
	json_object_object_add(obj, "roles", roles);
	return obj;
}

static void
print_json(const struct inv *inv)
{
	json_object *root = json_object_new_object();
	json_object *nodes = json_object_new_array();
	size_t i;

	for (i = 0; i < inv_count(inv); i++)
		json_object_array_add(nodes, node_json(inv_node_at(inv, i)));
	json_object_object_add(root, "nodes", nodes);
	printf("%s\n", jv_to_pretty(root));
	json_object_put(root);
}

/* One row's cells; the header is row "-1". */
static void
row_cells(const struct inv *inv, size_t i, struct buf *cells, size_t ncells)
{
	static const char *const head[] = { "NAME", "ADDRESS", "PORT", "USER",
		"BECOME", "NODE-NAME", "ROLES" };
	const struct inv_node *n = inv_node_at(inv, i);
	size_t c;

	for (c = 0; c < ncells; c++)
		buf_reset(&cells[c]);
	if (n == NULL) {
		for (c = 0; c < ncells; c++)
			buf_puts(&cells[c], head[c]);
		return;
	}
	buf_puts(&cells[0], n->name);
	buf_puts(&cells[1], n->address);
	buf_printf(&cells[2], "%u", n->port);
	buf_puts(&cells[3], n->user);
	buf_puts(&cells[4], n->become ? n->become_user : "no");
	buf_puts(&cells[5], n->node_name);
	roles_text(n, &cells[6]);
}

#define TABLE_COLS 7

/* Aligned columns; BECOME shows the user certroll becomes, or "no". */
static void
print_table(const struct inv *inv)
{
	struct buf cells[TABLE_COLS];
	size_t width[TABLE_COLS] = { 0 }, i, c;

	for (c = 0; c < TABLE_COLS; c++)
		memset(&cells[c], 0, sizeof(cells[c]));
	/* Row inv_count() is past the end: the header. */
	for (i = 0; i <= inv_count(inv); i++) {
		row_cells(inv, i, cells, TABLE_COLS);
		for (c = 0; c < TABLE_COLS; c++)
			if (cells[c].len > width[c])
				width[c] = cells[c].len;
	}
	for (i = 0; i <= inv_count(inv); i++) {
		row_cells(inv, i == 0 ? inv_count(inv) : i - 1, cells,
		    TABLE_COLS);
		for (c = 0; c + 1 < TABLE_COLS; c++)
			printf("%-*s  ", (int)width[c], buf_cstr(&cells[c]));
		printf("%s\n", buf_cstr(&cells[TABLE_COLS - 1]));
	}
	for (c = 0; c < TABLE_COLS; c++)
		buf_clear(&cells[c]);
}

int
cmd_inventory(int argc, char **argv)
{
	struct opts o;
	struct inv *inv = NULL;
	struct inv_diag diag;
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = parse_opts(argc, argv, &o)) != CLI_EXIT_OK)
		return rc == -1 ? CLI_EXIT_OK : rc;
	if (inv_load(o.path, o.fmt, &inv, &diag) != CR_OK ||
	    (o.only != NULL && inv_select(inv, o.only, &diag) != CR_OK)) {
		inv_diag_print(&diag, stderr);
		inv_free(inv);
		return CLI_EXIT_USAGE;
	}
	if (o.output == OUTPUT_JSON)
		print_json(inv);
	else
		print_table(inv);
	inv_free(inv);
	return CLI_EXIT_OK;
}
