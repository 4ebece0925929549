#include "certtest.h"

#include <sys/stat.h>

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "run.h"
#include "xmalloc.h"

#ifndef CR_BIN_DIR
#error "CR_BIN_DIR must name the directory of certroll-pkigen"
#endif

int
ct_run(const char *const *argv, struct buf *out)
{
	struct run_cmd c = RUN_CMD_INIT;
	enum cr_err err;
	int rc;

	c.argv = argv;
	c.timeout_ms = 120000;
	c.max_output = 16 * 1024 * 1024;
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
ct_pkigen(const char *arg, ...)
{
	const char *argv[64];
	size_t n = 0;
	va_list ap;

	argv[n++] = CR_BIN_DIR "/certroll-pkigen";
	va_start(ap, arg);
	for (; arg != NULL && n < 63; arg = va_arg(ap, const char *))
		argv[n++] = arg;
	va_end(ap);
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

	if (file_read(path, 64 * 1024 * 1024, &b) != CR_OK)
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
	bool same = file_read(a, 64 * 1024 * 1024, &x) == CR_OK &&
	    file_read(b, 64 * 1024 * 1024, &y) == CR_OK && x.len == y.len &&
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
