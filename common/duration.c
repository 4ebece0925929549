#include "duration.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_S 1000LL
#define S_PER_M  60LL
#define S_PER_H  3600LL
#define S_PER_D  86400LL
#define S_PER_Y  (365 * S_PER_D)

static const struct unit {
	const char *name;
	int64_t ms;
} units[] = {
	/* "ms" before "m" so the longest name wins. */
	{ "ms", 1 },
	{ "s", MS_PER_S },
	{ "m", S_PER_M *MS_PER_S },
	{ "h", S_PER_H *MS_PER_S },
	{ "d", S_PER_D *MS_PER_S },
	{ "w", 7 * S_PER_D *MS_PER_S },
	{ "y", S_PER_Y *MS_PER_S },
};

static const struct unit *
unit_at(const char *s, size_t *lenp)
{
	size_t i, n;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		n = strlen(units[i].name);
		if (strncmp(s, units[i].name, n) == 0 &&
		    !isalpha((unsigned char)s[n])) {
			*lenp = n;
			return &units[i];
		}
	}
	return NULL;
}

enum cr_err
duration_parse_ms(const char *s, int64_t *msp)
{
	const struct unit *u;
	int64_t total = 0, v;
	size_t ulen;

	if (s == NULL || *s == '\0')
		return CR_ERR_CONFIG;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return CR_ERR_CONFIG;
		for (v = 0; isdigit((unsigned char)*s); s++) {
			if (v > (INT64_MAX - 9) / 10)
				return CR_ERR_CONFIG;
			v = v * 10 + (*s - '0');
		}
		if ((u = unit_at(s, &ulen)) == NULL)
			return CR_ERR_CONFIG;
		if (v > (INT64_MAX - total) / u->ms)
			return CR_ERR_CONFIG;
		total += v * u->ms;
		s += ulen;
	}
	*msp = total;
	return CR_OK;
}

enum cr_err
duration_parse(const char *s, int64_t *secsp)
{
	int64_t ms;

	if (duration_parse_ms(s, &ms) != CR_OK || ms % MS_PER_S != 0)
		return CR_ERR_CONFIG;
	*secsp = ms / MS_PER_S;
	return CR_OK;
}

void
duration_format(int64_t secs, char *buf, size_t len)
{
	static const struct {
		char unit;
		int64_t secs;
	} parts[] = {
		{ 'y', S_PER_Y },
		{ 'd', S_PER_D },
		{ 'h', S_PER_H },
		{ 'm', S_PER_M },
		{ 's', 1 },
	};
	size_t i, off = 0;
	uint64_t left;
	int n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (secs == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	if (secs < 0)
		off += (size_t)snprintf(buf, len, "-");
	left = secs < 0 ? (uint64_t)0 - (uint64_t)secs : (uint64_t)secs;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]) && off < len; i++) {
		if (left < (uint64_t)parts[i].secs)
			continue;
		n = snprintf(buf + off, len - off, "%llu%c",
		    (unsigned long long)(left / (uint64_t)parts[i].secs),
		    parts[i].unit);
		if (n < 0)
			return;
		off += (size_t)n;
		left %= (uint64_t)parts[i].secs;
	}
}

void
duration_short_human(int64_t secs, char *buf, size_t len)
{
	if (secs < -1)
		snprintf(buf, len, "<invalid>");
	else if (secs < 0)
		snprintf(buf, len, "0s");
	else if (secs < S_PER_M)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < S_PER_H)
		snprintf(buf, len, "%lldm", (long long)(secs / S_PER_M));
	else if (secs < S_PER_D)
		snprintf(buf, len, "%lldh", (long long)(secs / S_PER_H));
	else if (secs < S_PER_Y)
		snprintf(buf, len, "%lldd", (long long)(secs / S_PER_D));
	else
		snprintf(buf, len, "%lldy", (long long)(secs / S_PER_Y));
}

/* "<a><u[0]>" or "<a><u[0]><b><u[1]>" when b is not zero. */
static void
pair(char *buf, size_t len, long long a, long long b, const char u[2])
{
	if (b == 0)
		snprintf(buf, len, "%lld%c", a, u[0]);
	else
		snprintf(buf, len, "%lld%c%lld%c", a, u[0], b, u[1]);
}

static void
human_long(int64_t secs, char *buf, size_t len)
{
	long long hours = secs / S_PER_H, days = hours / 24;

	if (hours < 8)
		pair(buf, len, hours, (secs / S_PER_M) % 60, "hm");
	else if (hours < 48)
		snprintf(buf, len, "%lldh", hours);
	else if (hours < 24LL * 8)
		pair(buf, len, days, hours % 24, "dh");
	else if (hours < 24LL * 365 * 2)
		snprintf(buf, len, "%lldd", days);
	else if (hours < 24LL * 365 * 8)
		pair(buf, len, days / 365, days % 365, "yd");
	else
		snprintf(buf, len, "%lldy", days / 365);
}

void
duration_human(int64_t secs, char *buf, size_t len)
{
	long long minutes = secs / S_PER_M;

	if (secs < -1)
		snprintf(buf, len, "<invalid>");
	else if (secs < 0)
		snprintf(buf, len, "0s");
	else if (secs < 2 * S_PER_M)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (minutes < 10)
		pair(buf, len, minutes, secs % 60, "ms");
	else if (minutes < 60LL * 3)
		snprintf(buf, len, "%lldm", minutes);
	else
		human_long(secs, buf, len);
}
