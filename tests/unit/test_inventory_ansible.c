/*
 * Ansible itself as the oracle: for every valid inventory in
 * tests/data/inventory, the real "ansible-inventory --list" decides which
 * hosts are in the control plane, etcd and kube_node and what each
 * host's variables resolve to; certroll must agree on every field. The
 * connection settings follow Ansible's ssh plugin, where of two names for
 * one setting (ansible_host, ansible_ssh_host) the later one wins.
 * Exits 77 (skipped) when ansible-inventory is not installed.
 */
#include <sys/types.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cu_run.h"
#include "inventory.h"
#include "jv.h"
#include "run.h"

#define DATA     CR_TEST_DATA "/inventory/"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const files[] = {
	"kubespray.yaml",
	"cluster.ini",
	"plain.yaml",
	"precedence.ini",
	"legacy.ini",
};

static const char *const cp_groups[] = { "kube_control_plane", "control_plane",
	"masters", "kube-master" };

static char env_home[300], env_tmp[300];

/* obj[key] without jv_obj()'s dotted paths: host names have dots. */
static json_object *
member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static bool
lists_host(json_object *g, const char *host)
{
	json_object *hosts = jv_arr(g, "hosts");
	size_t i;

	for (i = 0; hosts != NULL && i < json_object_array_length(hosts); i++)
		if (strcmp(json_object_get_string(
			       json_object_array_get_idx(hosts, i)),
			host) == 0)
			return true;
	return false;
}

/* True if host is in group, directly or through its children. */
static bool
in_group(json_object *list, const char *group, const char *host)
{
	const char *todo[256];
	size_t n = 0, i, visits = 0;
	json_object *g, *children;

	todo[n++] = group;
	while (n > 0 && visits++ < 1000) {
		if ((g = member(list, todo[--n])) == NULL)
			continue;
		if (lists_host(g, host))
			return true;
		children = jv_arr(g, "children");
		for (i = 0; children != NULL &&
		     i < json_object_array_length(children) && n < NELEM(todo);
		     i++)
			todo[n++] = json_object_get_string(
			    json_object_array_get_idx(children, i));
	}
	return false;
}

/* The value of the last name in names that vars defines, as text. */
static const char *
setting(json_object *vars, const char *const *names, const char *dflt)
{
	const char *val = dflt;
	json_object *v;

	for (; vars != NULL && *names != NULL; names++)
		if (json_object_object_get_ex(vars, *names, &v))
			val = json_object_get_string(v);
	return val;
}

static bool
ansible_bool(const char *s)
{
	static const char *const yes[] = { "y", "yes", "on", "1", "true", "t" };
	size_t i;

	for (i = 0; s != NULL && i < NELEM(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return true;
	return false;
}

static void
compare_node(json_object *list, const char *host, const struct inv_node *n,
    const char *file)
{
	static const char *const addr[] = { "ansible_host", "ansible_ssh_host",
		NULL };
	static const char *const port[] = { "ansible_port", "ansible_ssh_port",
		NULL };
	static const char *const user[] = { "ansible_user", "ansible_ssh_user",
		NULL };
	static const char *const key[] = { "ansible_private_key_file",
		"ansible_ssh_private_key_file", NULL };
	static const char *const become[] = { "ansible_become", NULL };
	static const char *const buser[] = { "ansible_become_user", NULL };
	static const char *const node[] = { "certroll_node_name", NULL };
	static const char *const kdir[] = { "certroll_kubernetes_dir", NULL };
	json_object *vars = member(member(member(list, "_meta"), "hostvars"),
	    host);
	const struct passwd *pw = getpwuid(getuid());
	const char *identity = setting(vars, key, NULL);
	char what[256], portbuf[16];

	snprintf(what, sizeof(what), "%s: %s", file, host);
	snprintf(portbuf, sizeof(portbuf), "%u", n->port);
	CU_ASSERT_CASE(strcmp(n->address, setting(vars, addr, host)) == 0,
	    what);
	CU_ASSERT_CASE(strcmp(portbuf, setting(vars, port, "22")) == 0, what);
	CU_ASSERT_CASE(strcmp(n->user, setting(vars, user, pw->pw_name)) == 0,
	    what);
	CU_ASSERT_CASE(identity == NULL ? n->identity_file == NULL :
					  n->identity_file != NULL &&
		    strcmp(n->identity_file, identity) == 0,
	    what);
	CU_ASSERT_CASE(n->become == ansible_bool(setting(vars, become, "no")),
	    what);
	CU_ASSERT_CASE(
	    strcmp(n->become_user, setting(vars, buser, "root")) == 0, what);
	CU_ASSERT_CASE(strcmp(n->node_name, setting(vars, node, host)) == 0,
	    what);
	CU_ASSERT_CASE(strcmp(n->kubernetes_dir,
			   setting(vars, kdir, "/etc/kubernetes")) == 0,
	    what);
	CU_ASSERT_CASE(((n->roles & INV_ROLE_ETCD) != 0) ==
		in_group(list, "etcd", host),
	    what);
	CU_ASSERT_CASE(((n->roles & INV_ROLE_WORKER) != 0) ==
		in_group(list, "kube_node", host),
	    what);
}

static bool
is_cp(json_object *list, const char *host)
{
	size_t i;

	for (i = 0; i < NELEM(cp_groups); i++)
		if (in_group(list, cp_groups[i], host))
			return true;
	return false;
}

static json_object *
ansible_list(const char *path, enum cr_err *errp)
{
	const char *argv[] = { "ansible-inventory", "-i", path, "--list",
		NULL };
	const char *env[] = { env_home, env_tmp, "ANSIBLE_NOCOLOR=1", NULL };
	struct run_cmd c = RUN_CMD_INIT;
	json_object *list = NULL;

	c.argv = argv;
	c.env = env;
	c.timeout_ms = 60000;
	if ((*errp = run_cmd(&c)) == CR_OK &&
	    jv_parse(buf_cstr(&c.out), c.out.len, &list, NULL, 0) != CR_OK)
		*errp = CR_ERR_PROTO;
	if (*errp != CR_OK)
		fprintf(stderr, "ansible-inventory -i %s: %s\n", path,
		    buf_cstr(&c.err));
	run_cmd_clear(&c);
	return list;
}

/* Control-plane hosts Ansible sees, each counted once. */
static size_t
count_cp(json_object *list)
{
	json_object *seen = json_object_new_object(), *hosts;
	size_t i, n = 0;

	json_object_object_foreach(list, group, g)
	{
		(void)group;
		if ((hosts = jv_arr(g, "hosts")) == NULL)
			continue;
		for (i = 0; i < json_object_array_length(hosts); i++) {
			const char *h = json_object_get_string(
			    json_object_array_get_idx(hosts, i));

			if (member(seen, h) != NULL || !is_cp(list, h))
				continue;
			json_object_object_add(seen, h,
			    json_object_new_object());
			n++;
		}
	}
	json_object_put(seen);
	return n;
}

static void
test_agrees_with_ansible(void)
{
	size_t i, n;

	for (i = 0; i < NELEM(files); i++) {
		char path[512];
		struct inv *inv = NULL;
		struct inv_diag diag;
		json_object *list;
		enum cr_err err;

		snprintf(path, sizeof(path), DATA "%s", files[i]);
		list = ansible_list(path, &err);
		CU_ASSERT_CASE(err == CR_OK, files[i]);
		CU_ASSERT_CASE(inv_load(path, INV_FORMAT_AUTO, &inv, &diag) ==
			CR_OK,
		    diag.msg);
		if (list == NULL || inv == NULL) {
			json_object_put(list);
			inv_free(inv);
			continue;
		}
		CU_ASSERT_CASE(count_cp(list) == inv_count(inv), files[i]);
		for (n = 0; n < inv_count(inv); n++) {
			const struct inv_node *node = inv_node_at(inv, n);

			CU_ASSERT_CASE(is_cp(list, node->name), node->name);
			compare_node(list, node->name, node, files[i]);
		}
		json_object_put(list);
		inv_free(inv);
	}
}

static CU_TestInfo tests[] = {
	{ "agrees_with_ansible", test_agrees_with_ansible },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "inventory_ansible", .pTests = tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	const char *probe[] = { "ansible-inventory", "--version", NULL };
	const char *rm[] = { "rm", "-rf", NULL, NULL };
	struct run_cmd c = RUN_CMD_INIT;
	const char *dir;
	enum cr_err err;
	int rc;

	c.argv = probe;
	c.timeout_ms = 60000;
	err = run_cmd(&c);
	run_cmd_clear(&c);
	if (err == CR_ERR_SYS) {
		fprintf(stderr,
		    "SKIP: ansible-inventory is not installed "
		    "(cmake/deps.sh bench installs ansible-core)\n");
		return 77;
	}
	/* Ansible writes under its home; keep that in a private directory. */
	dir = cu_tmpdir();
	snprintf(env_home, sizeof(env_home), "ANSIBLE_HOME=%s", dir);
	snprintf(env_tmp, sizeof(env_tmp), "ANSIBLE_LOCAL_TEMP=%s/tmp", dir);
	rc = cu_run(suites);
	rm[2] = dir;
	c.argv = rm;
	if (run_cmd(&c) != CR_OK)
		fprintf(stderr, "cannot remove %s\n", dir);
	run_cmd_clear(&c);
	return rc;
}
