#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

static const char *procname = "certroll";
static enum log_level level = LOG_LEVEL_INFO;
static enum log_format format = LOG_FORMAT_TEXT;
static bool timestamps;
static FILE *out;
static void (*before)(void);

static const char *const level_names[LOG_LEVEL__MAX] = {
	[LOG_LEVEL_QUIET] = "quiet",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *name, enum log_level lvl)
{
	procname = name;
	level = lvl;
}

void
log_set_level(enum log_level lvl)
{
	level = lvl;
}

enum log_level
log_get_level(void)
{
	return level;
}

void
log_set_format(enum log_format fmt)
{
	format = fmt;
}

enum log_format
log_get_format(void)
{
	return format;
}

void
log_set_timestamps(bool on)
{
	timestamps = on;
}

void
log_set_before(void (*fn)(void))
{
	before = fn;
}

void
log_set_output(FILE *fp)
{
	out = fp;
}

bool
log_format_parse(const char *s, enum log_format *fmtp)
{
	if (strcmp(s, "text") == 0)
		*fmtp = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*fmtp = LOG_FORMAT_JSON;
	else
		return false;
	return true;
}

bool
log_level_parse(const char *s, enum log_level *lvlp)
{
	unsigned i;

	for (i = 0; i < LOG_LEVEL__MAX; i++) {
		if (strcmp(level_names[i], s) == 0) {
			*lvlp = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static void
now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

static void
emit(const char *lvl, const char *msg)
{
	FILE *fp = out != NULL ? out : stderr;
	char when[48];
	json_object *o;

	now_rfc3339(when, sizeof(when));
	if (before != NULL)
		before();
	if (format == LOG_FORMAT_JSON) {
		o = json_object_new_object();
		json_object_object_add(o, "time", json_object_new_string(when));
		json_object_object_add(o, "level", json_object_new_string(lvl));
		json_object_object_add(o, "program",
		    json_object_new_string(procname));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		fprintf(fp, "%s\n",
		    json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (timestamps) {
		fprintf(fp, "%s %s: %s\n", when, procname, msg);
	} else {
		fprintf(fp, "%s: %s\n", procname, msg);
	}
	fflush(fp);
}

__attribute__((format(printf, 3, 0))) static void
vlog(const char *lvl, int errnum, const char *fmt, va_list ap)
{
	char msg[2048];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
	}
	emit(lvl, msg);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (level >= LOG_LEVEL_WARN) {
		va_start(ap, fmt);
		vlog("warn", saved, fmt, ap);
		va_end(ap);
	}
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (level >= LOG_LEVEL_WARN) {
		va_start(ap, fmt);
		vlog("warn", 0, fmt, ap);
		va_end(ap);
	}
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (level >= LOG_LEVEL_INFO) {
		va_start(ap, fmt);
		vlog("info", 0, fmt, ap);
		va_end(ap);
	}
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (level >= LOG_LEVEL_DEBUG) {
		va_start(ap, fmt);
		vlog("debug", 0, fmt, ap);
		va_end(ap);
	}
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
