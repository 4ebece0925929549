#include <stdio.h>
#include <string.h>

#include "cu_run.h"
#include "duration.h"
#include "timefmt.h"

#define DAY  86400LL
#define YEAR (365 * DAY)

static const struct {
	const char *in;
	enum cr_err err;
	int64_t ms;
} parse_rows[] = {
	{ "30d", CR_OK, 30 * DAY * 1000 },
	{ "8760h", CR_OK, YEAR * 1000 },
	{ "8760h0m0s", CR_OK, YEAR * 1000 },
	{ "1y", CR_OK, YEAR * 1000 },
	{ "90m", CR_OK, 5400 * 1000LL },
	{ "1h30m", CR_OK, 5400 * 1000LL },
	{ "2w", CR_OK, 14 * DAY * 1000 },
	{ "500ms", CR_OK, 500 },
	{ "1s500ms", CR_OK, 1500 },
	{ "0s", CR_OK, 0 },
	{ "", CR_ERR_CONFIG, 0 },
	{ "30", CR_ERR_CONFIG, 0 },
	{ "-5m", CR_ERR_CONFIG, 0 },
	{ "5x", CR_ERR_CONFIG, 0 },
	{ "d", CR_ERR_CONFIG, 0 },
	{ "5 m", CR_ERR_CONFIG, 0 },
	{ "1.5h", CR_ERR_CONFIG, 0 },
	{ "5mo", CR_ERR_CONFIG, 0 },
	{ "99999999999999999999s", CR_ERR_CONFIG, 0 },
	{ "9223372036854775807y", CR_ERR_CONFIG, 0 },
};

static void
test_duration_parse_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		int64_t ms = -1;
		enum cr_err err = duration_parse_ms(parse_rows[i].in, &ms);

		CU_ASSERT_CASE(err == parse_rows[i].err, parse_rows[i].in);
		if (parse_rows[i].err == CR_OK)
			CU_ASSERT_CASE(ms == parse_rows[i].ms,
			    parse_rows[i].in);
		else
			CU_ASSERT_CASE(ms == -1, parse_rows[i].in);
	}
}

static void
test_duration_parse_seconds(void)
{
	int64_t s = 0;

	CU_ASSERT_EQUAL(duration_parse("2m", &s), CR_OK);
	CU_ASSERT_EQUAL(s, 120);
	CU_ASSERT_EQUAL(duration_parse("1500ms", &s), CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(s, 120);
}

static const struct {
	int64_t secs;
	const char *fmt, *short_h, *human;
} fmt_rows[] = {
	{ 0, "0s", "0s", "0s" },
	{ -1, "-1s", "0s", "0s" },
	{ -2, "-2s", "<invalid>", "<invalid>" },
	{ 59, "59s", "59s", "59s" },
	{ 119, "1m59s", "1m", "119s" },
	{ 450, "7m30s", "7m", "7m30s" },
	{ 5400, "1h30m", "1h", "90m" },
	{ 4 * 3600LL + 60, "4h1m", "4h", "4h1m" },
	{ 30 * 3600LL, "1d6h", "1d", "30h" },
	{ 5 * DAY + 3 * 3600LL, "5d3h", "5d", "5d3h" },
	{ 30 * DAY, "30d", "30d", "30d" },
	{ 341 * DAY + 100, "341d1m40s", "341d", "341d" },
	{ YEAR, "1y", "1y", "365d" },
	{ 2 * YEAR + 327 * DAY, "2y327d", "2y", "2y327d" },
	{ 9 * YEAR + 10 * DAY, "9y10d", "9y", "9y" },
};

static void
test_duration_format_table(void)
{
	char buf[64], name[64];
	size_t i;

	for (i = 0; i < sizeof(fmt_rows) / sizeof(fmt_rows[0]); i++) {
		snprintf(name, sizeof(name), "%lld",
		    (long long)fmt_rows[i].secs);
		duration_format(fmt_rows[i].secs, buf, sizeof(buf));
		CU_ASSERT_CASE(strcmp(buf, fmt_rows[i].fmt) == 0, name);
		duration_short_human(fmt_rows[i].secs, buf, sizeof(buf));
		CU_ASSERT_CASE(strcmp(buf, fmt_rows[i].short_h) == 0, name);
		duration_human(fmt_rows[i].secs, buf, sizeof(buf));
		CU_ASSERT_CASE(strcmp(buf, fmt_rows[i].human) == 0, name);
	}
}

static void
test_duration_format_roundtrip(void)
{
	static const int64_t v[] = { 1, 61, 3661, 90061, 31536000, 40000000 };
	char buf[64];
	int64_t back;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		duration_format(v[i], buf, sizeof(buf));
		CU_ASSERT_CASE(duration_parse(buf, &back) == CR_OK, buf);
		CU_ASSERT_CASE(back == v[i], buf);
	}
}

static void
test_timefmt_formats(void)
{
	char buf[TIMEFMT_MAX];
	int64_t ms;

	/* 2025-03-04 15:35:07 UTC */
	timefmt_kubeadm(1741102507, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "Mar 04, 2025 15:35 UTC");
	timefmt_rfc3339(1741102507, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2025-03-04T15:35:07Z");
	timefmt_micro(1741102507123LL, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2025-03-04T15:35:07.123000Z");
	/* Years below 1000 keep four digits, so the text parses back. */
	timefmt_rfc3339(-43429132800LL, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0593-10-14T00:00:00Z");
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339(buf, &ms), CR_OK);
	CU_ASSERT_EQUAL(ms, -43429132800000LL);
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339("2025-03-04T15:35:07Z", &ms),
	    CR_OK);
	CU_ASSERT_EQUAL(ms, 1741102507000LL);
	CU_ASSERT_EQUAL(
	    timefmt_parse_rfc3339("2025-03-04T15:35:07.123456Z", &ms), CR_OK);
	CU_ASSERT_EQUAL(ms, 1741102507123LL);
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339("2025-03-04T17:35:07+02:00", &ms),
	    CR_OK);
	CU_ASSERT_EQUAL(ms, 1741102507000LL);
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339("1969-12-31T23:59:59Z", &ms),
	    CR_OK);
	CU_ASSERT_EQUAL(ms, -1000);
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339("2025-13-04T15:35:07Z", &ms),
	    CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339("2025-03-04 15:35", &ms),
	    CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339("2025-03-04T15:35:07", &ms),
	    CR_ERR_CONFIG);
	CU_ASSERT_EQUAL(timefmt_parse_rfc3339("", &ms), CR_ERR_CONFIG);
}

static CU_TestInfo duration_tests[] = {
	{ "parse_table", test_duration_parse_table },
	{ "parse_seconds", test_duration_parse_seconds },
	{ "format_table", test_duration_format_table },
	{ "format_roundtrip", test_duration_format_roundtrip },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo timefmt_tests[] = {
	{ "formats", test_timefmt_formats },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "duration", .pTests = duration_tests },
	{ .pName = "timefmt", .pTests = timefmt_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
