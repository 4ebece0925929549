#include "progress.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clock.h"
#include "duration.h"
#include "jv.h"
#include "timefmt.h"

static FILE *out;
static enum progress_mode mode = PROGRESS_PLAIN;
static char cur_node[128];
static char cur_phase[64];
static char cur_detail[256];
static int64_t node_start_ms, phase_start_ms;
static bool line_open;
static volatile sig_atomic_t interrupts;
/* Workers and the lock's renewer log too: one writer at a time. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void close_line_for_log(void);

enum progress_mode
progress_mode_for(FILE *fp, enum log_format fmt)
{
	if (fmt == LOG_FORMAT_JSON)
		return PROGRESS_JSON;
	return isatty(fileno(fp)) ? PROGRESS_TTY : PROGRESS_PLAIN;
}

void
progress_init(FILE *fp, enum progress_mode m)
{
	pthread_mutex_lock(&mu);
	out = fp;
	mode = m;
	cur_node[0] = cur_phase[0] = cur_detail[0] = '\0';
	line_open = false;
	pthread_mutex_unlock(&mu);
	log_set_before(
	    fp != NULL && m == PROGRESS_TTY ? close_line_for_log : NULL);
}

static void
elapsed(int64_t since, char *buf, size_t len)
{
	duration_format((clock_mono_ms() - since) / 1000, buf, len);
}

static void
emit_json(const char *node, const char *event, const char *text)
{
	json_object *o = json_object_new_object();
	char when[TIMEFMT_MAX];

	timefmt_micro(clock_now_ms(), when, sizeof(when));
	jv_add_str(o, "time", when);
	jv_add_str(o, "node", node);
	jv_add_str(o, "event", event);
	jv_add_str(o, "phase", cur_phase[0] != '\0' ? cur_phase : NULL);
	jv_add_str(o, "text", text);
	jv_add_int(o, "elapsed_ms", clock_mono_ms() - node_start_ms);
	fprintf(out, "%s\n", jv_to_string(o));
	json_object_put(o);
}

static void
emit_plain(const char *node, const char *text)
{
	char when[TIMEFMT_MAX];

	timefmt_rfc3339(clock_now(), when, sizeof(when));
	fprintf(out, "%s %-10s %s\n", when, node != NULL ? node : "-", text);
}

/* Redraws the current node's line in place. */
static void
redraw(void)
{
	char took[32];

	elapsed(node_start_ms, took, sizeof(took));
	fprintf(out, "\r\033[K  %-10s %-9s %6s  %s", cur_node, cur_phase, took,
	    cur_detail);
	line_open = true;
}

static void
close_line(void)
{
	if (mode == PROGRESS_TTY && line_open)
		fputc('\n', out);
	line_open = false;
}

/*
 * Before a log message, from any thread: the open progress line ends
 * first.
 */
static void
close_line_for_log(void)
{
	pthread_mutex_lock(&mu);
	if (out != NULL && line_open) {
		close_line();
		fflush(out);
	}
	pthread_mutex_unlock(&mu);
}

/*
 * Makes node the current one; its clock starts with the first line about
 * it, whichever kind (a resumed node may begin with a detail or its end).
 */
static void
enter(const char *node)
{
	if (strcmp(node, cur_node) == 0)
		return;
	close_line();
	snprintf(cur_node, sizeof(cur_node), "%s", node);
	cur_phase[0] = cur_detail[0] = '\0';
	node_start_ms = clock_mono_ms();
}

/* A phase or detail line: redrawn in place, or one line of its own. */
static void
show(const char *node, const char *event, const char *text)
{
	if (mode == PROGRESS_TTY)
		redraw();
	else if (mode == PROGRESS_JSON)
		emit_json(node, event, text);
	else
		emit_plain(node, text);
}

static void
phase_locked(const char *node, const char *phase)
{
	enter(node);
	snprintf(cur_phase, sizeof(cur_phase), "%s", phase);
	cur_detail[0] = '\0';
	phase_start_ms = clock_mono_ms();
	show(node, "phase", phase);
}

static void
detail_locked(const char *node, const char *text)
{
	enter(node);
	/* Unchanged details are not repeated outside a terminal. */
	if (strcmp(text, cur_detail) == 0 && mode != PROGRESS_TTY)
		return;
	snprintf(cur_detail, sizeof(cur_detail), "%s", text);
	show(node, "detail", text);
}

static void
end_locked(const char *node, const char *outcome)
{
	char took[32], text[sizeof(cur_detail)];

	enter(node);
	elapsed(node_start_ms, took, sizeof(took));
	snprintf(text, sizeof(text), "%.200s in %s", outcome, took);
	if (mode == PROGRESS_TTY) {
		snprintf(cur_detail, sizeof(cur_detail), "%s", text);
		snprintf(cur_phase, sizeof(cur_phase), "%s", "");
	}
	show(node, "end", text);
	close_line();
	cur_node[0] = '\0';
}

/* node is NULL: a note belongs to no node. */
static void
note_locked(const char *node, const char *text)
{
	close_line();
	if (mode == PROGRESS_TTY)
		fprintf(out, "%s\n", text);
	else
		show(node, "note", text);
	if (mode == PROGRESS_TTY && cur_node[0] != '\0')
		redraw();
}

/* Runs fn under the lock, when progress goes anywhere, and flushes. */
static void
locked(void (*fn)(const char *, const char *), const char *node,
    const char *text)
{
	pthread_mutex_lock(&mu);
	if (out != NULL) {
		fn(node, text);
		fflush(out);
	}
	pthread_mutex_unlock(&mu);
}

void
progress_phase(const char *node, const char *phase)
{
	locked(phase_locked, node, phase);
}

void
progress_detail(const char *node, const char *fmt, ...)
{
	char text[sizeof(cur_detail)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	locked(detail_locked, node, text);
}

void
progress_end(const char *node, const char *outcome)
{
	locked(end_locked, node, outcome);
}

void
progress_note(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	locked(note_locked, NULL, text);
}

static void
on_signal(int sig)
{
	static const char msg[] = "\ncertroll: stopping at the next safe "
				  "point (Ctrl-C again to stop now)\n";
	ssize_t w;

	if (++interrupts > 1) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
}

void
progress_catch_interrupts(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
progress_interrupted(void)
{
	return interrupts > 0;
}
