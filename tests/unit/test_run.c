#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cu_run.h"
#include "run.h"

static void
test_run_captures_output(void)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3",
		NULL };
	struct run_cmd c = RUN_CMD_INIT;
	char desc[64];

	c.argv = argv;
	c.timeout_ms = 10000;
	CU_ASSERT_EQUAL(run_cmd(&c), CR_ERR_SUBPROC);
	CU_ASSERT_TRUE(c.exited);
	CU_ASSERT_EQUAL(c.exit_code, 3);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&c.out), "out\n");
	CU_ASSERT_STRING_EQUAL(buf_cstr(&c.err), "err\n");
	run_cmd_describe(&c, desc, sizeof(desc));
	CU_ASSERT_STRING_EQUAL(desc, "exited with status 3");
	run_cmd_clear(&c);
}

static void
test_run_no_shell_interpretation(void)
{
	/* Metacharacters in an argument reach the program verbatim. */
	const char *argv[] = { "printf", "%s", "a;b $(id) `x` | c", NULL };
	struct run_cmd c = RUN_CMD_INIT;

	c.argv = argv;
	CU_ASSERT_EQUAL(run_cmd(&c), CR_OK);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&c.out), "a;b $(id) `x` | c");
	run_cmd_clear(&c);
}

static void
test_run_feeds_stdin(void)
{
	static char big[300000];
	const char *argv[] = { "wc", "-c", NULL };
	struct run_cmd c = RUN_CMD_INIT;

	memset(big, 'x', sizeof(big));
	c.argv = argv;
	c.in = big;
	c.in_len = sizeof(big);
	c.timeout_ms = 10000;
	CU_ASSERT_EQUAL(run_cmd(&c), CR_OK);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&c.out), "300000\n");
	run_cmd_clear(&c);
}

/* True once pid no longer runs (gone, or a zombie awaiting its reaper). */
static bool
wait_gone(pid_t pid)
{
	char path[64], stat[256];
	int i;
	FILE *fp;

	for (i = 0; i < 500; i++) {
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return true;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((fp = fopen(path, "r")) != NULL) {
			stat[0] = '\0';
			if (fgets(stat, sizeof(stat), fp) == NULL)
				stat[0] = '\0';
			fclose(fp);
			if (strstr(stat, ") Z ") != NULL)
				return true;
		}
		clock_sleep_ms(10);
	}
	return false;
}

static void
test_run_deadline_kills_group(void)
{
	/* The grandchild sleep must die with its parent's process group. */
	const char *argv[] = { "sh", "-c", "sleep 30 & echo $!; sleep 30; wait",
		NULL };
	struct run_cmd c = RUN_CMD_INIT;
	int64_t t0 = clock_mono_ms();
	char desc[64];
	pid_t grandchild;

	c.argv = argv;
	c.timeout_ms = 300;
	CU_ASSERT_EQUAL(run_cmd(&c), CR_ERR_TIMEOUT);
	CU_ASSERT_TRUE(c.timed_out);
	/* Loose bound: proves the child was stopped, not how fast. */
	CU_ASSERT(clock_mono_ms() - t0 < 20000);
	run_cmd_describe(&c, desc, sizeof(desc));
	CU_ASSERT_STRING_EQUAL(desc, "timed out after 300 ms");
	grandchild = (pid_t)strtol(buf_cstr(&c.out), NULL, 10);
	CU_ASSERT(grandchild > 1);
	if (grandchild > 1)
		CU_ASSERT_TRUE(wait_gone(grandchild));
	run_cmd_clear(&c);
}

static void
test_run_missing_program(void)
{
	const char *argv[] = { "/nonexistent/certroll-test", NULL };
	struct run_cmd c = RUN_CMD_INIT;

	c.argv = argv;
	CU_ASSERT_EQUAL(run_cmd(&c), CR_ERR_SYS);
	CU_ASSERT_EQUAL(errno, ENOENT);
	run_cmd_clear(&c);
}

static void
test_run_output_cap_and_env(void)
{
	const char *argv[] = { "sh", "-c",
		"printf '%s' \"$CR_T\"; head -c 100000 /dev/zero", NULL };
	const char *env[] = { "CR_T=v1", NULL };
	struct run_cmd c = RUN_CMD_INIT;

	c.argv = argv;
	c.env = env;
	c.max_output = 1000;
	CU_ASSERT_EQUAL(run_cmd(&c), CR_OK);
	CU_ASSERT_EQUAL(c.out.len, 1000);
	CU_ASSERT_TRUE(c.truncated);
	CU_ASSERT_EQUAL(memcmp(c.out.data, "v1", 2), 0);
	run_cmd_clear(&c);
}

static void
test_run_signal(void)
{
	const char *argv[] = { "sh", "-c", "kill -9 $$", NULL };
	struct run_cmd c = RUN_CMD_INIT;
	char desc[64];

	c.argv = argv;
	CU_ASSERT_EQUAL(run_cmd(&c), CR_ERR_SUBPROC);
	CU_ASSERT_EQUAL(c.signal, 9);
	run_cmd_describe(&c, desc, sizeof(desc));
	CU_ASSERT_STRING_EQUAL(desc, "killed by signal 9");
	run_cmd_clear(&c);
}

/* A variable the caller sets wins over the same one in our environment. */
static void
test_run_env_overrides(void)
{
	const char *argv[] = { "sh", "-c", "printf '%s' \"$CR_T2\"", NULL };
	const char *env[] = { "CR_T2=mine", NULL };
	struct run_cmd c = RUN_CMD_INIT;

	setenv("CR_T2", "inherited", 1);
	c.argv = argv;
	c.env = env;
	CU_ASSERT_EQUAL(run_cmd(&c), CR_OK);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&c.out), "mine");
	unsetenv("CR_T2");
	run_cmd_clear(&c);
}

static CU_TestInfo run_tests[] = {
	{ "env_overrides", test_run_env_overrides },
	{ "captures_output", test_run_captures_output },
	{ "no_shell_interpretation", test_run_no_shell_interpretation },
	{ "feeds_stdin", test_run_feeds_stdin },
	{ "deadline_kills_group", test_run_deadline_kills_group },
	{ "missing_program", test_run_missing_program },
	{ "output_cap_and_env", test_run_output_cap_and_env },
	{ "signal", test_run_signal },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "run", .pTests = run_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
