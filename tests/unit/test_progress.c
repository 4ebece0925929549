#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "jv.h"
#include "log.h"
#include "progress.h"

static char *
run_mode(enum progress_mode m)
{
	char *data = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&data, &len);

	progress_init(fp, m);
	progress_phase("cp1", "drain");
	progress_detail("cp1", "evicted %d/%d", 1, 3);
	progress_detail("cp1", "evicted %d/%d", 1, 3);
	progress_detail("cp1", "evicted %d/%d", 3, 3);
	progress_note("lock taken");
	progress_end("cp1", "done");
	progress_init(NULL, PROGRESS_PLAIN);
	fclose(fp);
	return data;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_progress_plain(void)
{
	char *s = run_mode(PROGRESS_PLAIN);

	/* phase, two distinct details (the repeat is dropped), note, end */
	CU_ASSERT_EQUAL(count_lines(s), 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "cp1        drain\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "cp1        evicted 1/3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "cp1        evicted 3/3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "-          lock taken\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "cp1        done in 0s\n"));
	free(s);
}

/*
 * A resumed node's first line may be a detail or its end (a rollback
 * retried, then failed). It must become the current node then: its clock
 * starts there (once printed "failed in 6h1m59s", time since boot), and
 * the terminal line names it, not the node before.
 */
static void
test_progress_resumed_node(void)
{
	char *data = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&data, &len);

	progress_init(fp, PROGRESS_TTY);
	progress_detail("cp1", "rollback: restoring");
	progress_end("cp1", "failed");
	progress_phase("cp2", "drain");
	progress_detail("cp3", "rollback: restoring");
	progress_init(NULL, PROGRESS_PLAIN);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(data,
	    "\r\033[K  cp1"
	    "                      0s  "
	    "rollback: restoring"));
	CU_ASSERT_PTR_NOT_NULL(strstr(data, "failed in 0s\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(data,
	    "\r\033[K  cp3"
	    "                      0s  "
	    "rollback: restoring"));
	free(data);
}

static void
test_progress_json(void)
{
	char *s = run_mode(PROGRESS_JSON), *line, *save = NULL;
	static const char *const events[] = { "phase", "detail", "detail",
		"note", "end" };
	int i = 0;

	for (line = strtok_r(s, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), i++) {
		json_object *o = NULL;

		CU_ASSERT_FATAL(i < 5);
		CU_ASSERT_FATAL(
		    jv_parse(line, strlen(line), &o, NULL, 0) == CR_OK);
		CU_ASSERT_STRING_EQUAL(jv_str(o, "event"), events[i]);
		CU_ASSERT_PTR_NOT_NULL(jv_str(o, "time"));
		json_object_put(o);
	}
	CU_ASSERT_EQUAL(i, 5);
	free(s);
}

static void
test_progress_tty(void)
{
	char *s = run_mode(PROGRESS_TTY);

	/* Redrawn in place: carriage returns, one line per node plus note. */
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\r\033[K  cp1        drain"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "evicted 3/3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "lock taken\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "done in 0s\n"));
	free(s);
}

/*
 * A message logged while a node's line is open on a terminal starts a
 * line of its own (it once ran on from the progress line), and the node's
 * line is drawn again after it. Elsewhere lines are whole already.
 */
static void
test_progress_tty_log_line(void)
{
	char *data = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&data, &len);

	log_set_output(fp);
	progress_init(fp, PROGRESS_TTY);
	progress_phase("cp1", "backup");
	log_warnx("node cp2: the agent connection broke; reconnecting");
	progress_phase("cp1", "renew");
	progress_end("cp1", "done");
	progress_init(NULL, PROGRESS_PLAIN);
	log_set_output(NULL);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(data,
	    "backup        0s  \ncertroll: node cp2: the agent connection "
	    "broke; reconnecting\n\r\033[K  cp1        renew"));
	if (strstr(data, "  \ncertroll: node cp2") == NULL)
		fprintf(stderr, "\ngot: %s\n", data);
	free(data);
	/* Not a terminal: nothing to close. */
	fp = open_memstream(&data, &len);
	log_set_output(fp);
	progress_init(fp, PROGRESS_PLAIN);
	progress_phase("cp1", "backup");
	log_warnx("a warning");
	progress_init(NULL, PROGRESS_PLAIN);
	log_set_output(NULL);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(data, "backup\ncertroll: a warning\n"));
	free(data);
}

static CU_TestInfo progress_tests[] = {
	/* First, before any node has started the clock. */
	{ "resumed_node", test_progress_resumed_node },
	{ "plain", test_progress_plain },
	{ "json", test_progress_json },
	{ "tty", test_progress_tty },
	{ "tty_log_line", test_progress_tty_log_line },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "progress", .pTests = progress_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
