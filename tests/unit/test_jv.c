#include <string.h>

#include "cu_run.h"
#include "jv.h"

static void
test_jv_getters(void)
{
	const char *doc = "{\"metadata\":{\"name\":\"cp1\",\"labels\":{}},"
			  "\"n\":5,\"s\":\"42\",\"bad\":\"4x\",\"t\":true,"
			  "\"arr\":[1,2]}";
	json_object *o = NULL;
	int64_t v = -1;

	CU_ASSERT_EQUAL(jv_parse(doc, strlen(doc), &o, NULL, 0), CR_OK);
	CU_ASSERT_STRING_EQUAL(jv_str(o, "metadata.name"), "cp1");
	CU_ASSERT_PTR_NULL(jv_str(o, "metadata.labels"));
	CU_ASSERT_PTR_NOT_NULL(jv_obj(o, "metadata.labels"));
	CU_ASSERT_PTR_NULL(jv_str(o, "metadata.name.x"));
	CU_ASSERT_PTR_NULL(jv_str(o, "nope"));
	CU_ASSERT_TRUE(jv_int(o, "n", &v));
	CU_ASSERT_EQUAL(v, 5);
	CU_ASSERT_TRUE(jv_int(o, "s", &v));
	CU_ASSERT_EQUAL(v, 42);
	v = -1;
	CU_ASSERT_FALSE(jv_int(o, "bad", &v));
	CU_ASSERT_FALSE(jv_int(o, "metadata", &v));
	CU_ASSERT_EQUAL(v, -1);
	CU_ASSERT_TRUE(jv_bool(o, "t"));
	CU_ASSERT_FALSE(jv_bool(o, "n"));
	CU_ASSERT_PTR_NOT_NULL(jv_arr(o, "arr"));
	CU_ASSERT_PTR_NULL(jv_arr(o, "metadata"));
	json_object_put(o);
}

static const struct {
	const char *doc;
	enum cr_err err;
} parse_rows[] = {
	{ "{}", CR_OK },
	{ "  [1] \n", CR_OK },
	{ "{\"a\":", CR_ERR_PROTO },
	{ "{} {}", CR_ERR_PROTO },
	{ "", CR_ERR_PROTO },
	{ "null", CR_ERR_PROTO },
	{ "{\"a\":1}x", CR_ERR_PROTO },
};

static void
test_jv_parse_table(void)
{
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		json_object *o = NULL;
		enum cr_err e;

		err[0] = '\0';
		e = jv_parse(parse_rows[i].doc, strlen(parse_rows[i].doc), &o,
		    err, sizeof(err));
		CU_ASSERT_CASE(e == parse_rows[i].err, parse_rows[i].doc);
		if (e != CR_OK) {
			CU_ASSERT_CASE(o == NULL, parse_rows[i].doc);
			CU_ASSERT_CASE(err[0] != '\0', parse_rows[i].doc);
		}
		json_object_put(o);
	}
}

static void
test_jv_builders(void)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "a", "x/y");
	jv_add_int(o, "b", 9007199254740993LL);
	jv_add_bool(o, "c", true);
	jv_add_str(o, "d", NULL);
	CU_ASSERT_STRING_EQUAL(jv_to_string(o),
	    "{\"a\":\"x/y\",\"b\":9007199254740993,\"c\":true,\"d\":null}");
	json_object_put(o);
}

static CU_TestInfo jv_tests[] = {
	{ "getters", test_jv_getters },
	{ "parse_table", test_jv_parse_table },
	{ "builders", test_jv_builders },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "jv", .pTests = jv_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
