#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cu_run.h"

static void
test_buf_append_and_detach(void)
{
	struct buf b = BUF_INIT;
	char *s;
	size_t len;
	int i;

	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "");
	buf_puts(&b, "abc");
	buf_putc(&b, '-');
	buf_printf(&b, "%d/%s", 42, "x");
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "abc-42/x");
	CU_ASSERT_EQUAL(b.len, 8);
	for (i = 0; i < 1000; i++)
		buf_put(&b, "0123456789", 10);
	CU_ASSERT_EQUAL(b.len, 10008);
	CU_ASSERT(b.cap > b.len);
	CU_ASSERT_EQUAL(b.data[b.len], '\0');
	s = buf_detach(&b, &len);
	CU_ASSERT_EQUAL(len, 10008);
	CU_ASSERT_EQUAL(strncmp(s, "abc-42/x0123", 12), 0);
	CU_ASSERT_PTR_NULL(b.data);
	CU_ASSERT_EQUAL(b.len, 0);
	free(s);
}

static void
test_buf_consume_and_reset(void)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "header:body");
	buf_consume(&b, 7);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "body");
	buf_consume(&b, 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "body");
	buf_reset(&b);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "");
	buf_put(&b, "\0x", 2);
	CU_ASSERT_EQUAL(b.len, 2);
	buf_clear_secret(&b);
	CU_ASSERT_PTR_NULL(b.data);
}

static void
test_buf_detach_empty(void)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *s = buf_detach(&b, &len);

	CU_ASSERT_STRING_EQUAL(s, "");
	CU_ASSERT_EQUAL(len, 0);
	free(s);
	buf_clear(&b);
}

static CU_TestInfo buf_tests[] = {
	{ "append_and_detach", test_buf_append_and_detach },
	{ "consume_and_reset", test_buf_consume_and_reset },
	{ "detach_empty", test_buf_detach_empty },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "buf", .pTests = buf_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
