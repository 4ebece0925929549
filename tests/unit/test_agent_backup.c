/*
 * agent backup/restore: what is copied and with which modes, the sums
 * checked by the real sha256sum, keep-N pruning, the free-space refusal,
 * a restore that brings a changed tree back byte for byte, and a tampered
 * backup refused with the node's files untouched.
 */
#include <sys/stat.h>

#include <dirent.h>
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
#include "xmalloc.h"

/* A small node tree written directly: backup does not parse files. */
static const struct {
	const char *rel;
	int mode;
} node_files[] = {
	{ "pki/ca.crt", 0644 },
	{ "pki/ca.key", 0600 },
	{ "pki/apiserver.crt", 0644 },
	{ "pki/apiserver.key", 0640 },
	{ "pki/etcd/server.crt", 0666 },
	{ "pki/etcd/server.key", 0600 },
	{ "admin.conf", 0644 },
	{ "scheduler.conf", 0600 },
	{ "manifests/etcd.yaml", 0755 },
	{ "manifests/kube-apiserver.yaml", 0600 },
};

#define NFILES (sizeof(node_files) / sizeof(node_files[0]))

static char *
make_node(void)
{
	char *kdir = ct_path(ct_tmpdir(), "kubernetes"), *p, *text;
	size_t i;

	for (i = 0; i < NFILES; i++) {
		p = ct_path(kdir, node_files[i].rel);
		text = xasprintf("contents of %s\n", node_files[i].rel);
		ct_write(p, text);
		CU_ASSERT_FATAL(chmod(p, (mode_t)node_files[i].mode) == 0);
		free(text);
		free(p);
	}
	/* Not backed up: a leftover temp file and a file outside the set. */
	p = ct_path(kdir, "pki/ca.crt.certroll-AbCdEf");
	ct_write(p, "partial");
	free(p);
	p = ct_path(kdir, "notes.txt");
	ct_write(p, "not a kubeadm file");
	free(p);
	return kdir;
}

static void
backup(const char *kdir, const char *root, time_t now, unsigned keep,
    struct agent_backup_result *r)
{
	struct agent_backup_opts o;

	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = kdir;
	o.backup_dir = root;
	o.keep = keep;
	o.now = now;
	CU_ASSERT_FATAL(agent_backup(&o, r) == CR_OK);
}

static void
test_backup_layout(void)
{
	char *kdir = make_node(), *root = ct_path(ct_tmpdir(), "backups");
	struct agent_backup_result r;
	const char *sum[] = { "sha256sum", "--quiet", "-c", "MANIFEST.sha256",
		NULL };
	char *p, *q, *cwd = getcwd(NULL, 0), *name;
	size_t i;
	int want;

	backup(kdir, root, 1795870800, 5, &r);
	CU_ASSERT_EQUAL(r.files, NFILES);
	name = strrchr(r.path, '/') + 1;
	CU_ASSERT_EQUAL(strncmp(name, "20261128T130000Z-", 17), 0);
	CU_ASSERT_EQUAL(strlen(name), 23);
	CU_ASSERT_EQUAL(ct_mode(root), 0700);
	CU_ASSERT_EQUAL(ct_mode(r.path), 0700);
	p = ct_path(r.path, "pki/etcd");
	CU_ASSERT_EQUAL(ct_mode(p), 0700);
	free(p);
	for (i = 0; i < NFILES; i++) {
		const char *rel = node_files[i].rel;

		want = strstr(rel, ".key") != NULL ||
			strstr(rel, ".conf") != NULL ?
		    0600 :
		    node_files[i].mode & 0644;
		p = ct_path(r.path, rel);
		q = ct_path(kdir, rel);
		CU_ASSERT_CASE(ct_mode(p) == want, rel);
		CU_ASSERT_CASE(ct_same_file(p, q), rel);
		free(p);
		free(q);
	}
	p = ct_path(r.path, "pki/ca.crt.certroll-AbCdEf");
	CU_ASSERT_FALSE(file_exists(p));
	free(p);
	p = ct_path(r.path, "notes.txt");
	CU_ASSERT_FALSE(file_exists(p));
	free(p);
	p = ct_path(r.path, "MANIFEST.sha256");
	CU_ASSERT_EQUAL(ct_mode(p), 0600);
	free(p);
	/* The real sha256sum accepts the manifest. */
	CU_ASSERT_FATAL(chdir(r.path) == 0);
	CU_ASSERT_EQUAL(ct_run(sum, NULL), 0);
	CU_ASSERT_FATAL(chdir(cwd) == 0);
	free(cwd);
	agent_backup_result_clear(&r);
	free(kdir);
	free(root);
}

static size_t
count_backups(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;
	size_t n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += de->d_name[0] == '2';
	if (d != NULL)
		closedir(d);
	return n;
}

static void
test_keep_prunes_oldest(void)
{
	char *kdir = make_node(), *root = ct_path(ct_tmpdir(), "backups");
	char *keep_paths[4], *foreign = ct_path(root, "operator-notes");
	struct agent_backup_result r;
	size_t i;

	ct_write(foreign, "mine");
	for (i = 0; i < 4; i++) {
		backup(kdir, root, 1795870800 + (time_t)i * 60, 2, &r);
		keep_paths[i] = xstrdup(r.path);
		CU_ASSERT_CASE(r.pruned.n == (i < 2 ? 0 : 1), keep_paths[i]);
		if (i >= 2)
			CU_ASSERT_CASE(
			    strcmp(r.pruned.v[0], keep_paths[i - 2]) == 0,
			    keep_paths[i]);
		agent_backup_result_clear(&r);
	}
	CU_ASSERT_EQUAL(count_backups(root), 2);
	CU_ASSERT_FALSE(file_exists(keep_paths[0]));
	CU_ASSERT_FALSE(file_exists(keep_paths[1]));
	CU_ASSERT_TRUE(file_exists(keep_paths[2]));
	CU_ASSERT_TRUE(file_exists(keep_paths[3]));
	CU_ASSERT_TRUE(file_exists(foreign));
	/* The new backup survives even when it sorts first (clock back). */
	backup(kdir, root, 1795870800 - 3600, 1, &r);
	CU_ASSERT_TRUE(file_exists(r.path));
	CU_ASSERT_EQUAL(count_backups(root), 1);
	agent_backup_result_clear(&r);
	for (i = 0; i < 4; i++)
		free(keep_paths[i]);
	free(foreign);
	free(kdir);
	free(root);
}

static void
test_refuses_without_space(void)
{
	char *kdir = make_node(), *root = ct_path(ct_tmpdir(), "backups");
	struct agent_backup_opts o;
	struct agent_backup_result r;

	memset(&o, 0, sizeof(o));
	o.kubernetes_dir = kdir;
	o.backup_dir = root;
	o.min_free_bytes = UINT64_MAX;
	o.now = 1795870800;
	CU_ASSERT_EQUAL(agent_backup(&o, &r), CR_ERR_STATE);
	CU_ASSERT_PTR_NULL(r.path);
	CU_ASSERT_FALSE(file_exists(root));
	/* The reason reaches the caller (the orchestrator shows it), not
	 * only the agent's log: where, how much, what to do. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.error);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.error, root));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.error, "bytes free; the copy needs"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.error, "choose another --backup-dir"));
	agent_backup_result_clear(&r);
	o.min_free_bytes = 0;
	o.kubernetes_dir = root;
	CU_ASSERT_EQUAL(agent_backup(&o, &r), CR_ERR_NOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(
	    r.error != NULL ? strstr(r.error, "nothing to back up") : NULL);
	agent_backup_result_clear(&r);
	free(kdir);
	free(root);
}

/* A copy of every file of node_files, to compare the tree with later. */
static char *
snapshot(const char *kdir)
{
	char *copy = ct_path(ct_tmpdir(), "copy"), *a, *b, *text;
	size_t i;

	for (i = 0; i < NFILES; i++) {
		a = ct_path(kdir, node_files[i].rel);
		b = ct_path(copy, node_files[i].rel);
		text = ct_slurp(a);
		ct_write(b, text);
		free(text);
		free(a);
		free(b);
	}
	return copy;
}

static bool
same_as(const char *kdir, const char *copy)
{
	bool same = true;
	char *a, *b;
	size_t i;

	for (i = 0; i < NFILES; i++) {
		a = ct_path(kdir, node_files[i].rel);
		b = ct_path(copy, node_files[i].rel);
		same = same && ct_same_file(a, b);
		free(a);
		free(b);
	}
	return same;
}

static void
test_restore_brings_back(void)
{
	char *kdir = make_node(), *root = ct_path(ct_tmpdir(), "backups");
	char *copy = snapshot(kdir), *p;
	struct agent_backup_result r;
	struct agent_restore_result rr;
	struct stat before, after;

	backup(kdir, root, 1795870800, 5, &r);
	p = ct_path(kdir, "pki/apiserver.crt");
	ct_write(p, "renewed\n");
	free(p);
	p = ct_path(kdir, "pki/apiserver.key");
	CU_ASSERT_EQUAL(unlink(p), 0);
	free(p);
	p = ct_path(kdir, "pki/extra.crt");
	ct_write(p, "added by a renewal\n");
	free(p);
	p = ct_path(kdir, "manifests/etcd.yaml");
	CU_ASSERT_EQUAL(stat(p, &before), 0);
	CU_ASSERT_EQUAL(agent_restore(kdir, r.path, &rr), CR_OK);
	CU_ASSERT_TRUE(same_as(kdir, copy));
	/* Unchanged files are not rewritten (no churn in manifests/). */
	CU_ASSERT_EQUAL(stat(p, &after), 0);
	CU_ASSERT_EQUAL(before.st_ino, after.st_ino);
	free(p);
	CU_ASSERT_EQUAL(rr.restored.n, 2);
	CU_ASSERT_STRING_EQUAL(rr.restored.v[0], "pki/apiserver.key");
	CU_ASSERT_STRING_EQUAL(rr.restored.v[1], "pki/apiserver.crt");
	/* Files the backup lacks go, leftover temporary files too. */
	CU_ASSERT_EQUAL(rr.removed.n, 2);
	CU_ASSERT_STRING_EQUAL(rr.removed.v[0], "pki/ca.crt.certroll-AbCdEf");
	CU_ASSERT_STRING_EQUAL(rr.removed.v[1], "pki/extra.crt");
	p = ct_path(kdir, "pki/apiserver.key");
	CU_ASSERT_EQUAL(ct_mode(p), 0600);
	free(p);
	agent_restore_result_clear(&rr);
	agent_backup_result_clear(&r);
	free(copy);
	free(kdir);
	free(root);
}

/*
 * The first node's backup directory also holds the etcd snapshot, saved
 * after the manifest was written, and maybe the temporary file of a
 * snapshot cut short: the rollback of that node must still restore.
 */
static void
test_restore_beside_snapshot(void)
{
	char *kdir = make_node(), *root = ct_path(ct_tmpdir(), "backups");
	char *copy = snapshot(kdir), *p;
	struct agent_backup_result r;
	struct agent_restore_result rr;

	backup(kdir, root, 1795870800, 5, &r);
	p = ct_path(r.path, "etcd-snapshot-20261128T191325Z.db");
	ct_write(p, "etcd snapshot\n");
	free(p);
	p = ct_path(r.path, ".etcd-snapshot-AbC123");
	ct_write(p, "half a snapshot\n");
	free(p);
	p = ct_path(kdir, "pki/apiserver.crt");
	ct_write(p, "renewed\n");
	free(p);
	CU_ASSERT_EQUAL(agent_restore(kdir, r.path, &rr), CR_OK);
	CU_ASSERT_TRUE(same_as(kdir, copy));
	CU_ASSERT_EQUAL(rr.restored.n, 1);
	CU_ASSERT_EQUAL(rr.removed.n, 1);
	/* The snapshot is not restored into the tree. */
	p = ct_path(kdir, "etcd-snapshot-20261128T191325Z.db");
	CU_ASSERT_FALSE(file_exists(p));
	free(p);
	agent_restore_result_clear(&rr);
	agent_backup_result_clear(&r);
	free(copy);
	free(kdir);
	free(root);
}

/* Each row damages a fresh backup; restore must refuse and change nothing. */
static void
tamper_manifest_path(const char *b)
{
	char *p = ct_path(b, "MANIFEST.sha256"), *text = ct_slurp(p);
	char *more = xasprintf("%s%064d  pki/../../etc/passwd\n", text, 0);

	ct_write(p, more);
	free(more);
	free(text);
	free(p);
}

static void
tamper_no_manifest(const char *b)
{
	char *p = ct_path(b, "MANIFEST.sha256");

	CU_ASSERT_EQUAL(unlink(p), 0);
	free(p);
}

static void
tamper_missing_file(const char *b)
{
	char *p = ct_path(b, "pki/etcd/server.key");

	CU_ASSERT_EQUAL(unlink(p), 0);
	free(p);
}

static void
tamper_symlink(const char *b)
{
	char *p = ct_path(b, "pki/ca.crt");

	CU_ASSERT_EQUAL(unlink(p), 0);
	CU_ASSERT_EQUAL(symlink("/etc/hostname", p), 0);
	free(p);
}

static void
test_restore_refuses_tampered(void)
{
	/* A row writes text to rel in the backup, or calls tamper. */
	static const struct {
		const char *name;
		const char *rel, *text;
		void (*tamper)(const char *backup);
	} rows[] = {
		{ "changed file", "pki/ca.key", "an attacker's key\n", NULL },
		{ "unlisted file", "pki/evil.crt", "unlisted\n", NULL },
		/* Only the backup's top level may hold a snapshot... */
		{ "snapshot below the top",
		    "pki/etcd-snapshot-20261128T191325Z.db",
		    "not where a snapshot goes\n", NULL },
		/* ... and a name like a snapshot's is not one. */
		{ "snapshot-like name", "etcd-snapshot-.db.conf",
		    "apiVersion: v1\n", NULL },
		{ "path escaping the tree", NULL, NULL, tamper_manifest_path },
		{ "no manifest (incomplete)", NULL, NULL, tamper_no_manifest },
		{ "listed file gone", NULL, NULL, tamper_missing_file },
		{ "malformed manifest", "MANIFEST.sha256", "not a sum line\n",
		    NULL },
		{ "listed file now a symlink", NULL, NULL, tamper_symlink },
	};
	struct agent_backup_result r;
	struct agent_restore_result rr;
	char *kdir, *root, *copy, *p;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		kdir = make_node();
		root = ct_path(ct_tmpdir(), "backups");
		backup(kdir, root, 1795870800, 5, &r);
		p = ct_path(kdir, "pki/apiserver.crt");
		ct_write(p, "renewed\n");
		free(p);
		copy = snapshot(kdir);
		if (rows[i].tamper != NULL) {
			rows[i].tamper(r.path);
		} else {
			p = ct_path(r.path, rows[i].rel);
			ct_write(p, rows[i].text);
			free(p);
		}
		CU_ASSERT_CASE(agent_restore(kdir, r.path, &rr) ==
			CR_ERR_VERIFY,
		    rows[i].name);
		CU_ASSERT_CASE(same_as(kdir, copy), rows[i].name);
		CU_ASSERT_CASE(rr.restored.n == 0 && rr.removed.n == 0,
		    rows[i].name);
		agent_restore_result_clear(&rr);
		agent_backup_result_clear(&r);
		free(copy);
		free(kdir);
		free(root);
	}
}

static void
test_resolve_and_json(void)
{
	char *kdir = make_node(), *root = ct_path(ct_tmpdir(), "backups");
	struct agent_backup_result r1, r2;
	char *path = NULL, *incomplete = ct_path(root, "20991231T000000Z-zz");
	json_object *j;

	backup(kdir, root, 1795870800, 5, &r1);
	backup(kdir, root, 1795870900, 5, &r2);
	CU_ASSERT_EQUAL(mkdir(incomplete, 0700), 0);
	CU_ASSERT_EQUAL(agent_backup_resolve(root, "latest", &path), CR_OK);
	CU_ASSERT_STRING_EQUAL(path, r2.path);
	free(path);
	CU_ASSERT_EQUAL(
	    agent_backup_resolve(root, strrchr(r1.path, '/') + 1, &path),
	    CR_OK);
	CU_ASSERT_STRING_EQUAL(path, r1.path);
	free(path);
	CU_ASSERT_EQUAL(agent_backup_resolve(root, "nonesuch", &path),
	    CR_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(agent_backup_resolve("/nonexistent", "latest", &path),
	    CR_ERR_NOTFOUND);
	/* Within one second, the backup made last is the latest. */
	agent_backup_result_clear(&r1);
	backup(kdir, root, 1795870900, 5, &r1);
	CU_ASSERT_EQUAL(agent_backup_resolve(root, NULL, &path), CR_OK);
	CU_ASSERT_STRING_EQUAL(path, r1.path);
	free(path);
	j = agent_backup_result_to_json(&r1);
	CU_ASSERT_STRING_EQUAL(jv_str(j, "path"), r1.path);
	json_object_put(j);
	agent_backup_result_clear(&r1);
	agent_backup_result_clear(&r2);
	free(incomplete);
	free(kdir);
	free(root);
}

static CU_TestInfo backup_tests[] = {
	{ "layout", test_backup_layout },
	{ "keep_prunes_oldest", test_keep_prunes_oldest },
	{ "refuses_without_space", test_refuses_without_space },
	{ "restore_brings_back", test_restore_brings_back },
	{ "restore_beside_snapshot", test_restore_beside_snapshot },
	{ "restore_refuses_tampered", test_restore_refuses_tampered },
	{ "resolve_and_json", test_resolve_and_json },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "agent_backup", .pTests = backup_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
