/*
 * The shared CUnit runner: every tests/unit/test_<module>.c ends with
 * "return cu_run(suites);".
 */
#ifndef CR_CU_RUN_H
#define CR_CU_RUN_H

#include <CUnit/CUnit.h>

#ifdef __clang_analyzer__
/*
 * A failed fatal assertion longjmps out of the test, which the static
 * analyzer cannot see: for it alone, the check is an assumption that ends
 * the paths where it is false.
 */
static inline void
cu_analyzer_assume(int value)
{
	__builtin_assume(value);
}
#undef CU_ASSERT_FATAL
#define CU_ASSERT_FATAL(value) cu_analyzer_assume(!!(value))
#undef CU_ASSERT_PTR_NOT_NULL_FATAL
#define CU_ASSERT_PTR_NOT_NULL_FATAL(value)                                    \
	cu_analyzer_assume((const void *)(value) != NULL)
#endif

/* Like CU_ASSERT, but the report names the failing table row. */
#define CU_ASSERT_CASE(value, name)                                            \
	CU_assertImplementation((value), __LINE__, (name), __FILE__, "",       \
	    CU_FALSE)

/*
 * Runs every suite with the basic interface in verbose mode. Returns 0 when
 * all assertions passed, 1 otherwise (a CTest exit status). A test name or
 * suite given in CR_TEST_FILTER ("suite" or "suite:test") limits the run.
 */
int cu_run(CU_SuiteInfo *suites);

/*
 * Makes a fresh private temporary directory for a test and returns its
 * path (static storage, valid until the next call). Fatal on failure.
 * cu_run() removes every such directory when the run ends, unless
 * CR_TEST_KEEP is set in the environment (to look at them afterwards).
 */
const char *cu_tmpdir(void);

#endif /* CR_CU_RUN_H */
