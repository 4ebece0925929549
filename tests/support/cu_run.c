#include "cu_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

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
	return rc == 0 && failed == 0 ? 0 : 1;
}

const char *
cu_tmpdir(void)
{
	static char path[256];
	const char *base = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/certroll-test-XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return path;
}
