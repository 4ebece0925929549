#include <sys/wait.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cu_run.h"
#include "jv.h"
#include "log.h"

/*
 * The test links with -Wl,--wrap=json_tokener_new_ex (tests/cmake/
 * common.cmake): json-c's tokener can be made to fail as it does when
 * calloc() does.
 */
static bool tokener_fails;

/*
 * The names ld --wrap gives are reserved and not in our style:
 * NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp,readability-identifier-naming)
 */
json_tokener *__real_json_tokener_new_ex(int depth);
json_tokener *__wrap_json_tokener_new_ex(int depth);

json_tokener *
__wrap_json_tokener_new_ex(int depth)
{
	return tokener_fails ? NULL : __real_json_tokener_new_ex(depth);
}
/*
 * NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp,readability-identifier-naming)
 */

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

/* jv_parse_list() callback: keeps every item; fails at call fail_at. */
struct collect {
	json_object *items;
	int calls, fail_at;
};

static enum cr_err
collect_item(void *arg, json_object *item)
{
	struct collect *c = arg;

	if (++c->calls == c->fail_at)
		return CR_ERR_STATE;
	json_object_array_add(c->items, json_object_get(item));
	return CR_OK;
}

/*
 * jv_parse_list() against jv_parse() of the whole document: the same
 * verdict; on success the same items in order and the same rest (the
 * items emptied). Returns how many items were handed out.
 */
static int
list_like_whole(const char *doc, size_t len)
{
	struct collect c = { .items = json_object_new_array() };
	json_object *whole = NULL, *rest = NULL, *items;
	enum cr_err want, got;
	char why[128] = "";
	struct jv_list l = { .key = "items",
		.fn = collect_item,
		.arg = &c,
		.why = why,
		.whylen = sizeof(why) };

	want = jv_parse(doc, len, &whole, NULL, 0);
	got = jv_parse_list(doc, len, &l, &rest);
	CU_ASSERT_EQUAL(got, want);
	if (got != want)
		fprintf(stderr, "%.*s: %d, whole %d (%s)\n", (int)len, doc, got,
		    want, why);
	if (want == CR_OK && got == CR_OK) {
		items = jv_arr(whole, "items");
		CU_ASSERT(items != NULL ?
			json_object_equal(c.items, items) :
			json_object_array_length(c.items) == 0);
		if (items != NULL)
			json_object_object_add(whole, "items",
			    json_object_new_array());
		CU_ASSERT(json_object_equal(rest, whole));
	}
	if (got != CR_OK)
		CU_ASSERT(why[0] != '\0');
	json_object_put(whole);
	json_object_put(rest);
	json_object_put(c.items);
	return c.calls;
}

/* A page of a list, with brackets and an escaped quote inside strings. */
static const char page[] =
    "{\"kind\":\"PodList\",\"metadata\":{\"continue\":\"a=\"},"
    "\"items\":[{\"a\":1},{\"b\":[1,2,{\"c\":\"]}\\\"{[\"}]}]}";

/* Lists the fast path reads an item at a time, and all that it leaves to
 * json-c whole: every one agrees with jv_parse(). */
static void
test_jv_list_like_whole(void)
{
	static const char *const docs[] = {
		page,
		"{\"items\":[]}",
		" \r\n{ \"items\" :\t[ { } ,\n{\"x\":null} ] , \"z\":[[]] }\n",
		"{\"metadata\":{},\"items\":null}",
		"{\"metadata\":{}}",
		"{\"items\":\"not a list\"}",
		"{\"items\":[1,\"two\",null]}",
		"{\"items\":[{\"a\":1}],\"items\":[{\"b\":2}]}",
		"{\"\\u0069tems\":[{\"a\":1}]}",
		"{\"items2\":[{\"a\":1}],\"item\":[{}]}",
		"{\"items\":[{\"items\":[{\"x\":1}]}]}",
		"{\"items\":[{\"a\":\"\\\\\"},{\"b\":\"x\\\\\\\"y\"}]}",
		"{\"items\":[]} x",
		"{\"items\":[{},]}",
		"{\"items\":[,{}]}",
		"{\"items\":[/* c */{}]}",
		"{'items':[{}]}",
		"{\"items\":[{\"a\":1},{\"b\":2}]",
		"{\"items\":[{\"a\":1},{\"b\"",
		"{\"items\":[{\"a\":1}]}}",
		"{\"items\":[{\"a\":1]}]}",
		"[{\"items\":[]}]",
		"{\"n\":1e5,\"t\":true,\"items\":[{\"f\":-0.5}],\"z\":false}",
		"{\"n\":tru,\"items\":[{}]}",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		(void)list_like_whole(docs[i], strlen(docs[i]));
}

/* Items nested near json-c's depth limit: the same verdict either way. */
static void
test_jv_list_depth(void)
{
	char doc[256];
	int depth, i, n;

	for (depth = 24; depth <= 36; depth++) {
		n = snprintf(doc, sizeof(doc), "{\"items\":[");
		for (i = 0; i < depth; i++)
			n += snprintf(doc + n, sizeof(doc) - (size_t)n,
			    "{\"a\":");
		n += snprintf(doc + n, sizeof(doc) - (size_t)n, "1");
		for (i = 0; i < depth; i++)
			n += snprintf(doc + n, sizeof(doc) - (size_t)n, "}");
		n += snprintf(doc + n, sizeof(doc) - (size_t)n, "]}");
		(void)list_like_whole(doc, (size_t)n);
	}
}

/*
 * What shows that items are read one at a time: a bad item after a good
 * one is refused after the good one was handed out (a whole parse hands
 * out nothing), while a fault outside the list is found before any item.
 * An error from the callback stops the list and comes back as is.
 */
static void
test_jv_list_one_at_a_time(void)
{
	static const struct {
		const char *doc;
		int fail_at;
		enum cr_err err;
		int calls;
		const char *why; /* what the error says, or NULL */
	} rows[] = {
		{ "{\"items\":[{\"a\":1},{\"b\":}]}", 0, CR_ERR_PROTO, 1,
		    "item 1: unexpected character" },
		{ "{\"items\":[{\"a\":1},{\"b\":2}],\"x\":}", 0, CR_ERR_PROTO,
		    0, "unexpected character" },
		{ "{\"items\":[{\"a\":1},{\"b\":2},{\"c\":3}]}", 2,
		    CR_ERR_STATE, 2, NULL },
		{ "{\"items\":[{\"a\":1},{\"b\":2},{\"c\":3}]}", 0, CR_OK, 3,
		    NULL },
	};
	json_object *rest;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct collect c = { .items = json_object_new_array(),
			.fail_at = rows[i].fail_at };
		struct jv_list l = { .key = "items",
			.fn = collect_item,
			.arg = &c,
			.why = why,
			.whylen = sizeof(why) };

		why[0] = '\0';
		CU_ASSERT_EQUAL(
		    jv_parse_list(rows[i].doc, strlen(rows[i].doc), &l, &rest),
		    rows[i].err);
		CU_ASSERT_EQUAL(c.calls, rows[i].calls);
		if (c.calls != rows[i].calls)
			fprintf(stderr, "row %zu: %d calls (%s)\n", i, c.calls,
			    why);
		if (rows[i].why != NULL)
			CU_ASSERT_STRING_EQUAL(why, rows[i].why);
		if (rows[i].err == CR_OK)
			json_object_put(rest);
		json_object_put(c.items);
	}
}

/*
 * Runs a parse in a child whose tokener cannot be allocated: like every
 * allocation, that is fatal (exit 1, "out of memory" logged), not an error
 * code whose message would read an unset reason. Returns what it logged.
 */
static int
parse_without_memory(bool list, char *logged, size_t len)
{
	const char doc[] = "{\"items\":[{\"a\":1}]}";
	int fd[2], status;
	ssize_t n;
	pid_t pid;

	CU_ASSERT_FATAL(pipe(fd) == 0);
	if ((pid = fork()) == 0) {
		char why[64];
		json_object *o = NULL;
		struct jv_list l = { .key = "items",
			.fn = collect_item,
			.arg = &(
			    struct collect){ json_object_new_array(), 0, 0 },
			.why = why,
			.whylen = sizeof(why) };
		enum cr_err err;

		close(fd[0]);
		log_set_output(fdopen(fd[1], "w"));
		tokener_fails = true;
		err = list ? jv_parse_list(doc, strlen(doc), &l, &o) :
			     jv_parse(doc, strlen(doc), &o, why, sizeof(why));
		_exit(err == CR_OK ? 10 : 20);
	}
	close(fd[1]);
	n = read(fd[0], logged, len - 1);
	logged[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_jv_tokener_out_of_memory(void)
{
	char logged[256];

	CU_ASSERT_EQUAL(parse_without_memory(false, logged, sizeof(logged)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(logged, "out of memory"));
	CU_ASSERT_EQUAL(parse_without_memory(true, logged, sizeof(logged)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(logged, "out of memory"));
}

static CU_TestInfo jv_tests[] = {
	{ "getters", test_jv_getters },
	{ "parse_table", test_jv_parse_table },
	{ "builders", test_jv_builders },
	{ "list_like_whole", test_jv_list_like_whole },
	{ "list_depth", test_jv_list_depth },
	{ "list_one_at_a_time", test_jv_list_one_at_a_time },
	{ "tokener_out_of_memory", test_jv_tokener_out_of_memory },
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
