#include "cu_run.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

/* The directories cu_tmpdir() made, removed when the run ends. */
static char **tmpdirs;
static size_t ntmpdirs;

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	(void)remove(path); /* best effort: keep going */
	return 0;
}

/* Removes every test directory unless CR_TEST_KEEP is set (debugging). */
static void
tmpdirs_remove(void)
{
	const char *keep = getenv("CR_TEST_KEEP");
	size_t i;

	for (i = 0; i < ntmpdirs; i++) {
		if (keep == NULL || *keep == '\0')
			(void)nftw(tmpdirs[i], remove_one, 16,
			    FTW_DEPTH | FTW_PHYS);
		free(tmpdirs[i]);
	}
	free(tmpdirs);
	tmpdirs = NULL;
	ntmpdirs = 0;
}

static int
run_filtered(const char *filter)
{
	char suite[256];
	const char *colon = strchr(filter, ':');
	CU_pSuite s;
	CU_pTest t;

	snprintf(suite, sizeof(suite), "%.*s",
	    colon != NULL ? (int)(colon - filter) : (int)strlen(filter),
	    filter);
	if ((s = CU_get_suite(suite)) == NULL) {
		fprintf(stderr, "no suite '%s'\n", suite);
		return -1;
	}
	if (colon == NULL)
		return CU_basic_run_suite(s) == CUE_SUCCESS ? 0 : -1;
	if ((t = CU_get_test(s, colon + 1)) == NULL) {
		fprintf(stderr, "no test '%s'\n", filter);
		return -1;
	}
	return CU_basic_run_test(s, t) == CUE_SUCCESS ? 0 : -1;
}

int
cu_run(CU_SuiteInfo *suites)
{
	const char *filter = getenv("CR_TEST_FILTER");
	unsigned failed;
	int rc;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "cu_run: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (filter != NULL && *filter != '\0')
		rc = run_filtered(filter);
	else
		rc = CU_basic_run_tests() == CUE_SUCCESS ? 0 : -1;
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0)
		rc = -1;
	CU_cleanup_registry();
	tmpdirs_remove();
	return rc == 0 && failed == 0 ? 0 : 1;
}

const char *
cu_tmpdir(void)
{
	static char path[256];
	const char *base = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/certroll-test-XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	char **grown;

	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	grown = realloc(tmpdirs, (ntmpdirs + 1) * sizeof(*tmpdirs));
	if (grown == NULL || (grown[ntmpdirs] = strdup(path)) == NULL) {
		perror("cu_tmpdir");
		exit(2);
	}
	tmpdirs = grown;
	ntmpdirs++;
	return path;
}
