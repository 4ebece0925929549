#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void
timefmt_rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	/* %Y does not pad years below 1000; RFC 3339 wants four digits. */
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
timefmt_micro(int64_t epoch_ms, char *buf, size_t len)
{
	time_t t = (time_t)(epoch_ms / 1000);
	char sec[80];
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(sec, sizeof(sec), "%04d-%02d-%02dT%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	snprintf(buf, len, "%s.%06dZ", sec, (int)(epoch_ms % 1000) * 1000);
}

void
timefmt_kubeadm(time_t t, char *buf, size_t len)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	/* strftime's %b follows the locale; kubeadm's Go layout does not. */
	snprintf(buf, len, "%s %02d, %04d %02d:%02d UTC", mon[tm.tm_mon],
	    tm.tm_mday, tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: days since 1970-01-01. */
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

time_t
timefmt_timegm(const struct tm *tm)
{
	int64_t days = days_from_civil((int64_t)tm->tm_year + 1900,
	    (unsigned)tm->tm_mon + 1, (unsigned)tm->tm_mday);

	return (time_t)(days * 86400 + (int64_t)tm->tm_hour * 3600 +
	    (int64_t)tm->tm_min * 60 + tm->tm_sec);
}

static int
digits(const char **sp, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**sp))
			return -1;
		v = v * 10 + (*(*sp)++ - '0');
	}
	return v;
}

static int
expect(const char **sp, const char *set)
{
	if (**sp == '\0' || strchr(set, **sp) == NULL)
		return -1;
	(*sp)++;
	return 0;
}

/* Parses "+hh:mm", "-hh:mm" or "Z"/"z" into seconds east of UTC. */
static int
zone(const char *s, int *offp)
{
	int sign, hh, mm;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*offp = 0;
		return 0;
	}
	if (s[0] != '+' && s[0] != '-')
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	s++;
	if ((hh = digits(&s, 2)) < 0 || expect(&s, ":") < 0 ||
	    (mm = digits(&s, 2)) < 0 || *s != '\0')
		return -1;
	*offp = sign * (hh * 3600 + mm * 60);
	return 0;
}

enum cr_err
timefmt_parse_rfc3339(const char *s, int64_t *epoch_msp)
{
	struct tm tm;
	int ms = 0, scale = 100, off;

	memset(&tm, 0, sizeof(tm));
	if ((tm.tm_year = digits(&s, 4)) < 0 || expect(&s, "-") < 0 ||
	    (tm.tm_mon = digits(&s, 2)) < 1 || tm.tm_mon > 12 ||
	    expect(&s, "-") < 0 || (tm.tm_mday = digits(&s, 2)) < 1 ||
	    tm.tm_mday > 31 || expect(&s, "Tt ") < 0 ||
	    (tm.tm_hour = digits(&s, 2)) < 0 || tm.tm_hour > 23 ||
	    expect(&s, ":") < 0 || (tm.tm_min = digits(&s, 2)) < 0 ||
	    tm.tm_min > 59 || expect(&s, ":") < 0 ||
	    (tm.tm_sec = digits(&s, 2)) < 0 || tm.tm_sec > 60)
		return CR_ERR_CONFIG;
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
			ms += (*s - '0') * scale;
	}
	if (zone(s, &off) < 0)
		return CR_ERR_CONFIG;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*epoch_msp = ((int64_t)timefmt_timegm(&tm) - off) * 1000 + ms;
	return CR_OK;
}
