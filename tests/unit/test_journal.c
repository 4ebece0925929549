#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu_run.h"
#include "fileio.h"
#include "journal.h"
#include "jv.h"

static json_object *
fields(const char *node, const char *to)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "node", node);
	jv_add_str(o, "to", to);
	return o;
}

static void
test_journal_append_and_read(void)
{
	const char *dir = cu_tmpdir();
	struct journal *j = NULL;
	json_object *recs = NULL, *r;
	char *path = NULL, *id = NULL, *cdir;
	struct stat st;
	int torn = -1;
	int64_t seq = -1;

	CU_ASSERT_EQUAL_FATAL(journal_create(dir, "lab", "run-1", &j), CR_OK);
	CU_ASSERT_EQUAL(journal_append(j, "run-start", NULL), CR_OK);
	CU_ASSERT_EQUAL(journal_append(j, "transition", fields("cp1", "drain")),
	    CR_OK);
	CU_ASSERT_EQUAL(stat(journal_path(j), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	cdir = file_path_join(dir, "lab");
	CU_ASSERT_EQUAL(stat(cdir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	free(cdir);
	journal_close(j);

	CU_ASSERT_EQUAL(journal_latest(dir, "lab", &path, &id), CR_OK);
	CU_ASSERT_STRING_EQUAL(id, "run-1");
	CU_ASSERT_EQUAL_FATAL(journal_read(path, &recs, &torn, NULL), CR_OK);
	CU_ASSERT_EQUAL(torn, 0);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(recs), 2);
	r = json_object_array_get_idx(recs, 1);
	CU_ASSERT_STRING_EQUAL(jv_str(r, "event"), "transition");
	CU_ASSERT_STRING_EQUAL(jv_str(r, "node"), "cp1");
	CU_ASSERT_STRING_EQUAL(jv_str(r, "run"), "run-1");
	CU_ASSERT_PTR_NOT_NULL(jv_str(r, "ts"));
	CU_ASSERT_TRUE(jv_int(r, "seq", &seq));
	CU_ASSERT_EQUAL(seq, 1);
	json_object_put(recs);
	free(path);
	free(id);
}

static void
test_journal_refuses_existing_run(void)
{
	const char *dir = cu_tmpdir();
	struct journal *j = NULL, *j2 = NULL;

	CU_ASSERT_EQUAL_FATAL(journal_create(dir, "lab", "run-1", &j), CR_OK);
	CU_ASSERT_EQUAL(journal_create(dir, "lab", "run-1", &j2), CR_ERR_STATE);
	CU_ASSERT_PTR_NULL(j2);
	CU_ASSERT_EQUAL(journal_create(dir, "../etc", "run-2", &j2),
	    CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(journal_create(dir, "lab", "a/b", &j2), CR_ERR_CONFIG);
	journal_close(j);
	journal_close(NULL);
}

static void
test_journal_torn_line_and_reopen(void)
{
	const char *dir = cu_tmpdir();
	struct journal *j = NULL;
	json_object *recs = NULL;
	char *path;
	int torn = 0, fd;

	CU_ASSERT_EQUAL_FATAL(journal_create(dir, "c", "r", &j), CR_OK);
	CU_ASSERT_EQUAL(journal_append(j, "a", NULL), CR_OK);
	CU_ASSERT_EQUAL(journal_append(j, "b", NULL), CR_OK);
	path = strdup(journal_path(j));
	journal_close(j);
	/* A crash in the middle of a write leaves half a line. */
	fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_EQUAL(write(fd, "{\"ts\":\"2026", 11), 11);
	close(fd);
	CU_ASSERT_EQUAL(journal_read(path, &recs, &torn, NULL), CR_OK);
	CU_ASSERT_EQUAL(torn, 1);
	CU_ASSERT_EQUAL(json_object_array_length(recs), 2);
	json_object_put(recs);
	/* Resume appends after the last complete record, seq continues. */
	CU_ASSERT_EQUAL_FATAL(journal_reopen(path, &j), CR_OK);
	CU_ASSERT_STRING_EQUAL(journal_run_id(j), "r");
	CU_ASSERT_EQUAL(journal_append(j, "c", NULL), CR_OK);
	journal_close(j);
	/* The torn fragment now sits in the middle: that is corruption. */
	CU_ASSERT_EQUAL(journal_read(path, &recs, &torn, NULL), CR_ERR_PROTO);
	CU_ASSERT_PTR_NULL(recs);
	free(path);
}

static void
test_journal_reopen_continues_seq(void)
{
	const char *dir = cu_tmpdir();
	struct journal *j = NULL;
	json_object *recs = NULL;
	char *path;
	int64_t seq = -1;

	CU_ASSERT_EQUAL_FATAL(journal_create(dir, "c", "r2", &j), CR_OK);
	CU_ASSERT_EQUAL(journal_append(j, "a", NULL), CR_OK);
	CU_ASSERT_EQUAL(journal_append(j, "b", NULL), CR_OK);
	path = strdup(journal_path(j));
	journal_close(j);
	CU_ASSERT_EQUAL_FATAL(journal_reopen(path, &j), CR_OK);
	CU_ASSERT_EQUAL(journal_append(j, "c", NULL), CR_OK);
	journal_close(j);
	CU_ASSERT_EQUAL_FATAL(journal_read(path, &recs, NULL, NULL), CR_OK);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(recs), 3);
	CU_ASSERT_TRUE(jv_int(json_object_array_get_idx(recs, 2), "seq", &seq));
	CU_ASSERT_EQUAL(seq, 2);
	json_object_put(recs);
	free(path);
}

static void
test_journal_bad_middle_line(void)
{
	const char *dir = cu_tmpdir();
	char *path = file_path_join(dir, "x.jsonl");
	const char *text = "{\"seq\":0}\nnot json\n{\"seq\":2}\n";
	json_object *recs = NULL;
	size_t bad = 0;

	CU_ASSERT_EQUAL(file_write_atomic(path, text, strlen(text), 0600),
	    CR_OK);
	CU_ASSERT_EQUAL(journal_read(path, &recs, NULL, &bad), CR_ERR_PROTO);
	CU_ASSERT_EQUAL(bad, 2);
	free(path);
}

static void
test_journal_latest_missing_and_ids(void)
{
	const char *dir = cu_tmpdir();
	char *path = NULL, *a, *b;

	CU_ASSERT_EQUAL(journal_latest(dir, "none", &path, NULL),
	    CR_ERR_NOTFOUND);
	CU_ASSERT_PTR_NULL(path);
	a = journal_new_run_id();
	b = journal_new_run_id();
	CU_ASSERT_EQUAL(strlen(a), strlen("20261128T130000Z-1a2b3c"));
	CU_ASSERT_EQUAL(a[8], 'T');
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	free(a);
	free(b);
}

static void
test_journal_default_dir(void)
{
	char *d;

	setenv("XDG_STATE_HOME", "/x/state", 1);
	d = journal_default_dir();
	CU_ASSERT_STRING_EQUAL(d, "/x/state/certroll");
	free(d);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/op", 1);
	d = journal_default_dir();
	CU_ASSERT_STRING_EQUAL(d, "/home/op/.local/state/certroll");
	free(d);
}

static CU_TestInfo journal_tests[] = {
	{ "append_and_read", test_journal_append_and_read },
	{ "refuses_existing_run", test_journal_refuses_existing_run },
	{ "torn_line_and_reopen", test_journal_torn_line_and_reopen },
	{ "reopen_continues_seq", test_journal_reopen_continues_seq },
	{ "bad_middle_line", test_journal_bad_middle_line },
	{ "latest_missing_and_ids", test_journal_latest_missing_and_ids },
	{ "default_dir", test_journal_default_dir },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "journal", .pTests = journal_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
