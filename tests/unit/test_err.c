#include <string.h>

#include "cu_run.h"
#include "err.h"

static void
test_err_names_roundtrip(void)
{
	int i;

	for (i = 0; i < CR_ERR__MAX; i++) {
		const char *name = cr_errname((enum cr_err)i);

		CU_ASSERT_CASE(cr_err_from_name(name) == (enum cr_err)i, name);
		CU_ASSERT_CASE(
		    strcmp(cr_strerror((enum cr_err)i), "unknown error") != 0,
		    name);
	}
}

static void
test_err_out_of_range(void)
{
	CU_ASSERT_STRING_EQUAL(cr_strerror(CR_ERR__MAX), "unknown error");
	CU_ASSERT_STRING_EQUAL(cr_strerror((enum cr_err) - 1), "unknown error");
	CU_ASSERT_STRING_EQUAL(cr_errname(CR_ERR__MAX), "unknown");
	CU_ASSERT_EQUAL(cr_err_from_name("no-such"), CR_ERR_PROTO);
	CU_ASSERT_STRING_EQUAL(cr_strerror(CR_ERR_TIMEOUT),
	    "deadline exceeded");
}

static CU_TestInfo err_tests[] = {
	{ "names_roundtrip", test_err_names_roundtrip },
	{ "out_of_range", test_err_out_of_range },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "err", .pTests = err_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
