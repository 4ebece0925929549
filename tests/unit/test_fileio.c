#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu_run.h"
#include "fileio.h"

static char *
path_in(const char *dir, const char *name)
{
	return file_path_join(dir, name);
}

static void
test_fileio_write_read(void)
{
	const char *dir = cu_tmpdir();
	char *p = path_in(dir, "a.conf");
	struct buf b = BUF_INIT;
	struct stat st;

	CU_ASSERT_EQUAL(file_write_atomic(p, "hello\n", 6, 0640), CR_OK);
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
	CU_ASSERT_EQUAL(file_read(p, 100, &b), CR_OK);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "hello\n");
	buf_reset(&b);
	/* FILE_MODE_KEEP keeps the replaced file's mode. */
	CU_ASSERT_EQUAL(file_write_atomic(p, "x", 1, FILE_MODE_KEEP), CR_OK);
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
	CU_ASSERT_EQUAL(file_read(p, 100, &b), CR_OK);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "x");
	buf_clear(&b);
	free(p);
}

static void
test_fileio_new_file_default_private(void)
{
	const char *dir = cu_tmpdir();
	char *p = path_in(dir, "key.pem");
	struct stat st;

	CU_ASSERT_EQUAL(file_write_atomic(p, "k", 1, FILE_MODE_KEEP), CR_OK);
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	free(p);
}

static void
test_fileio_read_limits(void)
{
	const char *dir = cu_tmpdir();
	char *p = path_in(dir, "big");
	struct buf b = BUF_INIT;

	CU_ASSERT_EQUAL(file_write_atomic(p, "0123456789", 10, 0600), CR_OK);
	CU_ASSERT_EQUAL(file_read(p, 9, &b), CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, EFBIG);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_EQUAL(file_read(p, 10, &b), CR_OK);
	CU_ASSERT_EQUAL(b.len, 10);
	buf_clear(&b);
	free(p);
	p = path_in(dir, "missing");
	CU_ASSERT_EQUAL(file_read(p, 10, &b), CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, ENOENT);
	free(p);
}

static void
test_fileio_write_failure_leaves_nothing(void)
{
	const char *dir = cu_tmpdir();
	char *p = path_in(dir, "nodir/file");

	CU_ASSERT_EQUAL(file_write_atomic(p, "x", 1, 0600), CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_FALSE(file_exists(p));
	free(p);
}

static void
test_fileio_no_temp_left_behind(void)
{
	const char *dir = cu_tmpdir();
	char *p = path_in(dir, "f");
	const struct dirent *e;
	size_t n = 0;
	DIR *d;

	CU_ASSERT_EQUAL(file_write_atomic(p, "1", 1, 0600), CR_OK);
	CU_ASSERT_EQUAL(file_write_atomic(p, "2", 1, 0600), CR_OK);
	/* Only "f" remains: every temporary was renamed or removed. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0) {
			CU_ASSERT_STRING_EQUAL(e->d_name, "f");
			n++;
		}
	closedir(d);
	CU_ASSERT_EQUAL(n, 1);
	free(p);
}

static void
test_fileio_mkdirs_and_copy(void)
{
	const char *dir = cu_tmpdir();
	char *deep = path_in(dir, "a/b/c");
	char *src = path_in(dir, "a/src"), *dst = path_in(dir, "a/b/c/dst");
	struct stat st;
	struct buf b = BUF_INIT;

	CU_ASSERT_EQUAL(file_mkdirs(deep, 0700), CR_OK);
	CU_ASSERT_EQUAL(file_mkdirs(deep, 0700), CR_OK);
	CU_ASSERT_EQUAL(stat(deep, &st), 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	CU_ASSERT_EQUAL(file_write_atomic(src, "data", 4, 0644), CR_OK);
	CU_ASSERT_EQUAL(file_copy(src, dst, FILE_MODE_KEEP), CR_OK);
	CU_ASSERT_EQUAL(stat(dst, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	CU_ASSERT_EQUAL(file_read(dst, 100, &b), CR_OK);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "data");
	/* A file in the way of a directory is an error, not a success. */
	CU_ASSERT_EQUAL(file_mkdirs(src, 0700), CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, ENOTDIR);
	buf_clear(&b);
	free(deep);
	free(src);
	free(dst);
}

static void
test_fileio_path_join(void)
{
	char *p;

	p = file_path_join("/etc/kubernetes", "pki/ca.crt");
	CU_ASSERT_STRING_EQUAL(p, "/etc/kubernetes/pki/ca.crt");
	free(p);
	p = file_path_join("/etc/kubernetes/", "admin.conf");
	CU_ASSERT_STRING_EQUAL(p, "/etc/kubernetes/admin.conf");
	free(p);
	p = file_path_join("/etc/kubernetes", "/abs");
	CU_ASSERT_STRING_EQUAL(p, "/abs");
	free(p);
}

static CU_TestInfo fileio_tests[] = {
	{ "write_read", test_fileio_write_read },
	{ "new_file_default_private", test_fileio_new_file_default_private },
	{ "read_limits", test_fileio_read_limits },
	{ "write_failure_leaves_nothing",
	    test_fileio_write_failure_leaves_nothing },
	{ "no_temp_left_behind", test_fileio_no_temp_left_behind },
	{ "mkdirs_and_copy", test_fileio_mkdirs_and_copy },
	{ "path_join", test_fileio_path_join },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "fileio", .pTests = fileio_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	umask(022);
	return cu_run(suites);
}
