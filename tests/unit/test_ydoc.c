#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "ydoc.h"

static struct ydoc *
parse_ok(const char *text)
{
	struct ydoc *doc = NULL;
	struct ydoc_diag diag;

	CU_ASSERT_EQUAL_FATAL(ydoc_parse(text, strlen(text), &doc, &diag),
	    CR_OK);
	return doc;
}

static void
test_ydoc_lookup_and_marks(void)
{
	const char *text = "apiVersion: v1\n"
			   "clusters:\n"
			   "- name: lab\n"
			   "  cluster:\n"
			   "    server: https://10.0.0.1:6443\n"
			   "become: yes\n"
			   "quoted: \"yes\"\n"
			   "empty:\n"
			   "dup: 1\n"
			   "dup: 2\n";
	struct ydoc *doc = parse_ok(text);
	struct ydoc_node *root = ydoc_root(doc, 0), *clusters, *server;
	bool b = false;

	CU_ASSERT_EQUAL(ydoc_count(doc), 1);
	CU_ASSERT_EQUAL(root->type, YDOC_MAP);
	clusters = ydoc_get(root, "clusters");
	CU_ASSERT_EQUAL_FATAL(clusters->type, YDOC_SEQ);
	CU_ASSERT_EQUAL(clusters->nitems, 1);
	server = ydoc_get(ydoc_get(clusters->items[0], "cluster"), "server");
	CU_ASSERT_STRING_EQUAL(ydoc_scalar(server), "https://10.0.0.1:6443");
	CU_ASSERT_EQUAL(server->line, 5);
	CU_ASSERT_EQUAL(server->col, 13);
	CU_ASSERT_TRUE(ydoc_bool(ydoc_get(root, "become"), &b));
	CU_ASSERT_TRUE(b);
	CU_ASSERT_TRUE(ydoc_get(root, "quoted")->quoted);
	CU_ASSERT_TRUE(ydoc_is_null(ydoc_get(root, "empty")));
	CU_ASSERT_FALSE(ydoc_is_null(ydoc_get(root, "quoted")));
	CU_ASSERT_STRING_EQUAL(ydoc_scalar(ydoc_get(root, "dup")), "2");
	CU_ASSERT_EQUAL(ydoc_get_pair(root, "dup")->key->line, 10);
	CU_ASSERT_PTR_NULL(ydoc_get(root, "missing"));
	CU_ASSERT_PTR_NULL(ydoc_get(server, "x"));
	CU_ASSERT_PTR_NULL(ydoc_scalar(clusters));
	ydoc_free(doc);
}

static void
test_ydoc_multi_doc_and_alias(void)
{
	const char *text = "kind: InitConfiguration\n"
			   "---\n"
			   "kind: ClusterConfiguration\n"
			   "base: &b {port: 22}\n"
			   "use: *b\n";
	struct ydoc *doc = parse_ok(text);
	struct ydoc_node *second = ydoc_root(doc, 1);

	CU_ASSERT_EQUAL(ydoc_count(doc), 2);
	CU_ASSERT_STRING_EQUAL(ydoc_scalar(ydoc_get(second, "kind")),
	    "ClusterConfiguration");
	CU_ASSERT_STRING_EQUAL(
	    ydoc_scalar(ydoc_get(ydoc_get(second, "use"), "port")), "22");
	CU_ASSERT_PTR_NULL(ydoc_root(doc, 2));
	ydoc_free(doc);
}

static const struct {
	const char *text;
	unsigned line;
	const char *msg_part;
} bad_rows[] = {
	{ "a: [1, 2\n", 2, "flow sequence" },
	{ "a: b\n c: d\n", 2, "mapping values are not allowed" },
	{ "a: *nope\n", 1, "unknown alias" },
	{ "a:\n\t- tab\n", 2, "cannot start any token" },
};

static void
test_ydoc_errors(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct ydoc *doc = NULL;
		struct ydoc_diag diag;

		memset(&diag, 0, sizeof(diag));
		CU_ASSERT_CASE(ydoc_parse(bad_rows[i].text,
				   strlen(bad_rows[i].text), &doc,
				   &diag) == CR_ERR_CONFIG,
		    bad_rows[i].text);
		CU_ASSERT_CASE(doc == NULL, bad_rows[i].text);
		CU_ASSERT_CASE(diag.line == bad_rows[i].line, bad_rows[i].text);
		CU_ASSERT_CASE(strstr(diag.msg, bad_rows[i].msg_part) != NULL,
		    diag.msg);
	}
}

static void
test_ydoc_depth_limit(void)
{
	char text[YDOC_MAX_DEPTH * 2 + 8];
	struct ydoc *doc = NULL;
	struct ydoc_diag diag;
	size_t i;

	for (i = 0; i <= YDOC_MAX_DEPTH; i++)
		text[i] = '[';
	text[i] = '\0';
	CU_ASSERT_EQUAL(ydoc_parse(text, strlen(text), &doc, &diag),
	    CR_ERR_CONFIG);
	CU_ASSERT_STRING_EQUAL(diag.msg, "nesting too deep");
}

static void
test_ydoc_edit_and_emit(void)
{
	const char *text = "users:\n"
			   "- name: admin\n"
			   "  user:\n"
			   "    client-certificate-data: OLD\n"
			   "    client-key-data: OLDKEY\n"
			   "    token: \"yes\"\n";
	struct ydoc *doc = parse_ok(text), *again;
	struct ydoc_node *user;
	struct buf out = BUF_INIT;

	user = ydoc_get(ydoc_get(ydoc_root(doc, 0), "users")->items[0], "user");
	ydoc_set_scalar(doc, user, "client-certificate-data", "NEW", false);
	ydoc_set_scalar(doc, user, "extra", "true", true);
	CU_ASSERT_TRUE(ydoc_remove(user, "client-key-data"));
	CU_ASSERT_FALSE(ydoc_remove(user, "client-key-data"));
	CU_ASSERT_EQUAL(ydoc_emit(doc, &out), CR_OK);
	again = parse_ok(buf_cstr(&out));
	user = ydoc_get(ydoc_get(ydoc_root(again, 0), "users")->items[0],
	    "user");
	CU_ASSERT_STRING_EQUAL(
	    ydoc_scalar(ydoc_get(user, "client-certificate-data")), "NEW");
	CU_ASSERT_PTR_NULL(ydoc_get(user, "client-key-data"));
	CU_ASSERT_TRUE(ydoc_get(user, "extra")->quoted);
	CU_ASSERT_TRUE(ydoc_get(user, "token")->quoted);
	CU_ASSERT_STRING_EQUAL(ydoc_scalar(ydoc_get(user, "token")), "yes");
	ydoc_free(again);
	ydoc_free(doc);
	buf_clear(&out);
}

static void
test_ydoc_alias_cycle_emit_fails(void)
{
	const char *text = "a: &x [ *x ]\n";
	struct ydoc *doc = NULL;
	struct buf out = BUF_INIT;

	if (ydoc_parse(text, strlen(text), &doc, NULL) == CR_OK) {
		CU_ASSERT_EQUAL(ydoc_emit(doc, &out), CR_ERR_CONFIG);
		ydoc_free(doc);
	} else {
		CU_ASSERT_PTR_NULL(doc);
	}
	buf_clear(&out);
}

/* An empty struct buf holds NULL; libyaml asserts on a NULL input. */
static void
test_ydoc_empty_input(void)
{
	struct ydoc *doc = NULL;
	struct buf out = BUF_INIT;

	CU_ASSERT_EQUAL_FATAL(ydoc_parse(NULL, 0, &doc, NULL), CR_OK);
	CU_ASSERT_EQUAL(ydoc_count(doc), 0);
	CU_ASSERT_EQUAL(ydoc_emit(doc, &out), CR_OK);
	ydoc_free(doc);
	doc = NULL;
	/* Nothing emitted parses again, from the same NULL. */
	CU_ASSERT_EQUAL(ydoc_parse((const char *)out.data, out.len, &doc, NULL),
	    CR_OK);
	CU_ASSERT_EQUAL(ydoc_count(doc), 0);
	ydoc_free(doc);
	buf_clear(&out);
}

/* Streams whose documents have empty roots keep their documents. */
static const struct {
	const char *text;
	size_t docs;
} empty_root_rows[] = {
	{ "---\n", 1 },
	{ "--- !tag\n", 1 },
	{ "---\n--- a\n---\n", 3 },
	{ "a: 1\n---\n", 2 },
	{ "''\n", 1 },
};

static void
test_ydoc_empty_root_round_trip(void)
{
	struct ydoc *doc, *again;
	struct buf out;
	size_t i;

	for (i = 0; i < sizeof(empty_root_rows) / sizeof(empty_root_rows[0]);
	     i++) {
		const char *text = empty_root_rows[i].text;

		doc = parse_ok(text);
		again = NULL;
		out = (struct buf)BUF_INIT;
		CU_ASSERT_CASE(ydoc_count(doc) == empty_root_rows[i].docs,
		    text);
		CU_ASSERT_CASE(ydoc_emit(doc, &out) == CR_OK, text);
		CU_ASSERT_CASE(ydoc_parse((const char *)out.data, out.len,
				   &again, NULL) == CR_OK &&
			ydoc_count(again) == empty_root_rows[i].docs &&
			ydoc_is_null(ydoc_root(again, 0)) ==
			    ydoc_is_null(ydoc_root(doc, 0)),
		    text);
		ydoc_free(again);
		ydoc_free(doc);
		buf_clear(&out);
	}
}

static CU_TestInfo ydoc_tests[] = {
	{ "lookup_and_marks", test_ydoc_lookup_and_marks },
	{ "multi_doc_and_alias", test_ydoc_multi_doc_and_alias },
	{ "errors", test_ydoc_errors },
	{ "depth_limit", test_ydoc_depth_limit },
	{ "edit_and_emit", test_ydoc_edit_and_emit },
	{ "alias_cycle_emit_fails", test_ydoc_alias_cycle_emit_fails },
	{ "empty_input", test_ydoc_empty_input },
	{ "empty_root_round_trip", test_ydoc_empty_root_round_trip },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "ydoc", .pTests = ydoc_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
