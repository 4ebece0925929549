#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "jv.h"
#include "log.h"

static char *
capture(enum log_format fmt, enum log_level lvl, void (*emit)(void))
{
	char *data = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&data, &len);

	log_init("certroll", lvl);
	log_set_format(fmt);
	log_set_output(fp);
	emit();
	log_set_output(NULL);
	fclose(fp);
	log_set_format(LOG_FORMAT_TEXT);
	return data;
}

static void
emit_all(void)
{
	log_warnx("node %s: renew: %s", "cp1", "boom");
	log_info("info \"quoted\"");
	log_debug("debug line");
}

static void
test_log_text_levels(void)
{
	char *s = capture(LOG_FORMAT_TEXT, LOG_LEVEL_INFO, emit_all);

	CU_ASSERT_STRING_EQUAL(s,
	    "certroll: node cp1: renew: boom\ncertroll: info \"quoted\"\n");
	free(s);
	s = capture(LOG_FORMAT_TEXT, LOG_LEVEL_WARN, emit_all);
	CU_ASSERT_STRING_EQUAL(s, "certroll: node cp1: renew: boom\n");
	free(s);
}

static void
test_log_json_lines(void)
{
	char *s = capture(LOG_FORMAT_JSON, LOG_LEVEL_DEBUG, emit_all);
	char *line, *save = NULL;
	int n = 0;
	static const char *const levels[] = { "warn", "info", "debug" };
	static const char *const msgs[] = { "node cp1: renew: boom",
		"info \"quoted\"", "debug line" };

	for (line = strtok_r(s, "\n", &save); line != NULL && n < 3;
	     line = strtok_r(NULL, "\n", &save), n++) {
		json_object *o = NULL;

		CU_ASSERT_EQUAL_FATAL(jv_parse(line, strlen(line), &o, NULL, 0),
		    CR_OK);
		CU_ASSERT_STRING_EQUAL(jv_str(o, "level"), levels[n]);
		CU_ASSERT_STRING_EQUAL(jv_str(o, "msg"), msgs[n]);
		CU_ASSERT_STRING_EQUAL(jv_str(o, "program"), "certroll");
		CU_ASSERT_PTR_NOT_NULL(jv_str(o, "time"));
		json_object_put(o);
	}
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_PTR_NULL(line); /* no fourth line */
	free(s);
}

static void
test_log_parse_names(void)
{
	enum log_level l;
	enum log_format f;

	CU_ASSERT_TRUE(log_level_parse("debug", &l));
	CU_ASSERT_EQUAL(l, LOG_LEVEL_DEBUG);
	CU_ASSERT_FALSE(log_level_parse("loud", &l));
	CU_ASSERT_TRUE(log_format_parse("json", &f));
	CU_ASSERT_EQUAL(f, LOG_FORMAT_JSON);
	CU_ASSERT_FALSE(log_format_parse("xml", &f));
}

static CU_TestInfo log_tests[] = {
	{ "text_levels", test_log_text_levels },
	{ "json_lines", test_log_json_lines },
	{ "parse_names", test_log_parse_names },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "log", .pTests = log_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
