#include "certtest.h"

#include <sys/stat.h>

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"
#include "cu_run.h"
#include "fileio.h"
#include "run.h"
#include "xmalloc.h"

#ifndef CR_BIN_DIR
#error "CR_BIN_DIR must name the directory of certroll-pkigen"
#endif

static struct strv made; /* directories ct_tmpdir() made */

static void
remove_made(void)
{
	const char **argv = xcalloc(made.n + 4, sizeof(*argv));
	size_t i;

	argv[0] = "rm";
	argv[1] = "-rf";
	argv[2] = "--";
	for (i = 0; i < made.n; i++)
		argv[3 + i] = made.v[i];
	if (made.n > 0 && ct_run(argv, NULL) != 0)
		fprintf(stderr, "could not remove the test directories\n");
	free(argv);
	strv_clear(&made);
}

const char *
ct_tmpdir(void)
{
	const char *dir = cu_tmpdir();
	const char *keep = getenv("CR_TEST_KEEP");

	if (keep != NULL && *keep != '\0')
		return dir;
	if (made.n == 0 && atexit(remove_made) != 0) {
		perror("atexit");
		exit(2);
	}
	strv_push(&made, dir);
	return dir;
}

int
ct_run(const char *const *argv, struct buf *out)
{
	struct run_cmd c = RUN_CMD_INIT;
	enum cr_err err;
	int rc;

	c.argv = argv;
	c.timeout_ms = 120000;
	c.max_output = (size_t)16 * 1024 * 1024;
	err = run_cmd(&c);
	if (err == CR_ERR_SYS) {
		fprintf(stderr, "cannot run '%s'\n", argv[0]);
		exit(2);
	}
	if (out != NULL)
		buf_put(out, c.out.data, c.out.len);
	if (c.err.len > 0 && err != CR_OK)
		fprintf(stderr, "%s: %s", argv[0], buf_cstr(&c.err));
	rc = c.exited ? c.exit_code : -1;
	run_cmd_clear(&c);
	return rc;
}

int
ct_pkigen_v(const char *const *args)
{
	const char *argv[64];
	size_t n = 0;

	argv[n++] = CR_BIN_DIR "/certroll-pkigen";
	for (; *args != NULL && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return ct_run(argv, NULL);
}

const char *
ct_key_pool(void)
{
	static char path[512];
	const char *base = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/certroll-test-keypool",
	    base != NULL && *base != '\0' ? base : "/tmp");
	return path;
}

char *
ct_x509(const char *file, const char *opt, const char *value)
{
	const char *argv[] = { "openssl", "x509", "-in", file, "-noout", opt,
		value, NULL };
	struct buf out = BUF_INIT;
	char *s, *eq;

	if (ct_run(argv, &out) != 0) {
		buf_clear(&out);
		return NULL;
	}
	s = buf_detach(&out, NULL);
	while (*s != '\0' && s[strlen(s) - 1] == '\n')
		s[strlen(s) - 1] = '\0';
	/* "serial=ABC", "notAfter=...", "subject=..." lose their prefix. */
	if ((eq = strchr(s, '=')) != NULL && strchr(s, '\n') == NULL &&
	    strncmp(opt, "-ext", 4) != 0)
		memmove(s, eq + 1, strlen(eq + 1) + 1);
	return s;
}

char *
ct_slurp(const char *path)
{
	struct buf b = BUF_INIT;

	if (file_read(path, (size_t)64 * 1024 * 1024, &b) != CR_OK)
		return NULL;
	return buf_detach(&b, NULL);
}

char *
ct_path(const char *dir, const char *rel)
{
	return file_path_join(dir, rel);
}

bool
ct_same_file(const char *a, const char *b)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	bool same = file_read(a, (size_t)64 * 1024 * 1024, &x) == CR_OK &&
	    file_read(b, (size_t)64 * 1024 * 1024, &y) == CR_OK &&
	    x.len == y.len &&
	    (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);

	buf_clear(&x);
	buf_clear(&y);
	return same;
}

void
ct_write(const char *path, const char *text)
{
	char *dir = xstrdup(path);

	if (file_mkdirs(dirname(dir), 0755) != CR_OK ||
	    file_write_atomic(path, text, strlen(text), 0600) != CR_OK) {
		perror(path);
		exit(2);
	}
	free(dir);
}

int
ct_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

struct ydoc *
ct_parse_yaml(const char *path)
{
	char *text = ct_slurp(path);
	struct ydoc *doc = NULL;

	if (text == NULL ||
	    ydoc_parse(text, strlen(text), &doc, NULL) != CR_OK) {
		fprintf(stderr, "%s: not YAML\n", path);
		exit(2);
	}
	free(text);
	return doc;
}

static bool
skipped(const char *key, const char *const *skip)
{
	size_t i;

	for (i = 0; skip[i] != NULL; i++)
		if (strcmp(key, skip[i]) == 0)
			return true;
	return false;
}

/* NOLINTBEGIN(misc-no-recursion): the walk follows the tree's shape. */
static bool
same_items(const struct ydoc_node *a, const struct ydoc_node *b,
    const char *const *skip)
{
	size_t i;

	if (a->nitems != b->nitems)
		return false;
	for (i = 0; i < a->nitems; i++)
		if (!ct_same_tree(a->items[i], b->items[i], skip))
			return false;
	return true;
}

static bool
same_pairs(const struct ydoc_node *a, const struct ydoc_node *b,
    const char *const *skip)
{
	const struct ydoc_node *key;
	size_t i;

	if (a->npairs != b->npairs)
		return false;
	for (i = 0; i < a->npairs; i++) {
		key = a->pairs[i].key;
		if (!ct_same_tree(key, b->pairs[i].key, skip))
			return false;
		if (key->type == YDOC_SCALAR && skipped(key->value, skip))
			continue;
		if (!ct_same_tree(a->pairs[i].val, b->pairs[i].val, skip))
			return false;
	}
	return true;
}

bool
ct_same_tree(const struct ydoc_node *a, const struct ydoc_node *b,
    const char *const *skip)
{
	if (a == NULL || b == NULL || a->type != b->type)
		return a == b;
	if (a->type == YDOC_SCALAR)
		return strcmp(a->value, b->value) == 0;
	if (a->type == YDOC_SEQ)
		return same_items(a, b, skip);
	return same_pairs(a, b, skip);
}
/* NOLINTEND(misc-no-recursion) */

void
ct_tree_make(struct ct_tree *t, const char *ca_alg, const char *const *extra)
{
	const char *ca_args[] = { "ca", "--dir", NULL, "--key-algorithm",
		ca_alg, "--now", CT_FIXED_NOW, "--key-pool", ct_key_pool(),
		NULL };
	const char *args[40] = { "node", "--ca", NULL, "--dir", NULL, "--node",
		"cp1", "--ip", "10.0.0.1", "--key-pool", ct_key_pool() };
	size_t n = 11;

	t->dir = xstrdup(ct_tmpdir());
	t->ca = ct_path(t->dir, "ca");
	t->kdir = ct_path(t->dir, "kubernetes");
	t->kubelet = ct_path(t->dir, "kubelet");
	ca_args[2] = t->ca;
	args[2] = t->ca;
	args[4] = t->kdir;
	for (; extra != NULL && *extra != NULL && n < 38; extra++)
		args[n++] = strcmp(*extra, "KUBELET") == 0 ? t->kubelet :
							     *extra;
	args[n] = NULL;
	if (ct_pkigen_v(ca_args) != 0 || ct_pkigen_v(args) != 0) {
		fprintf(stderr, "certroll-pkigen failed\n");
		exit(2);
	}
}

void
ct_tree_free(struct ct_tree *t)
{
	free(t->dir);
	free(t->ca);
	free(t->kdir);
	free(t->kubelet);
}

char *
ct_digest(const char *dir)
{
	static const char script[] =
	    "cd \"$1\" && find . \\( -type f -o -type l \\) -printf '%p %m\\n' "
	    "| sort && find . -type f -print0 | sort -z | xargs -0 -r "
	    "sha256sum";
	const char *argv[] = { "sh", "-c", script, "sh", dir, NULL };
	struct buf out = BUF_INIT;

	if (ct_run(argv, &out) != 0) {
		fprintf(stderr, "cannot digest '%s'\n", dir);
		exit(2);
	}
	return buf_detach(&out, NULL);
}
