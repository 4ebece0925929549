/*
 * Logging for both programs, after the OpenBSD daemons' log.h.
 *
 * Lines go to stderr (or the stream given to log_set_output()). Messages are
 * lower case, say what failed first, quote subjects with '%s' and never
 * carry secrets. In JSON format each line is one object:
 * {"time":"2026-11-28T13:00:00.123Z","level":"info","program":"certroll",
 *  "msg":"..."}.
 */
#ifndef CR_LOG_H
#define CR_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level {
	LOG_LEVEL_QUIET = 0, /* only fatal errors */
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL__MAX
};

enum log_format {
	LOG_FORMAT_TEXT = 0, /* "certroll: message" */
	LOG_FORMAT_JSON,     /* one JSON object per line */
	LOG_FORMAT__MAX
};

/* Sets the program name shown in each line and the verbosity. */
void log_init(const char *name, enum log_level lvl);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
void log_set_format(enum log_format fmt);
enum log_format log_get_format(void);

/* Prefix text lines with an RFC 3339 timestamp (for non-terminals). */
void log_set_timestamps(bool on);

/* Redirects output; NULL restores stderr. The stream is borrowed. */
void log_set_output(FILE *fp);

/*
 * fn (or nothing, with NULL) runs before each message is written: a
 * terminal's progress line ends there, so the message starts a line.
 */
void log_set_before(void (*fn)(void));

/* Parses "text"/"json" or "warn"/"info"/"debug"/"quiet"; false if unknown. */
bool log_format_parse(const char *s, enum log_format *fmtp);
bool log_level_parse(const char *s, enum log_level *lvlp);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs and exits with status 1: for bad options, OOM and broken invariants. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif /* CR_LOG_H */
