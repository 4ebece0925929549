/*
 * What an operator sees while a rollout runs (on stderr).
 *
 * On a terminal: one line per node with its phase and elapsed time; the
 * current line is redrawn in place as details change ("evicted 7/12",
 * "waiting for etcd"). Elsewhere: plain timestamped lines, a detail printed
 * only when it changes. With --log-format json: one JSON object per event.
 * Ctrl-C handling lives here too: the first one asks the rollout to stop at
 * its next safe point, a second one stops at once.
 */
#ifndef CR_PROGRESS_H
#define CR_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "log.h"

enum progress_mode {
	PROGRESS_TTY = 0, /* redraw in place */
	PROGRESS_PLAIN,   /* timestamped lines */
	PROGRESS_JSON,    /* JSON lines */
};

/* Chooses the mode from the log format and whether fp is a terminal. */
enum progress_mode progress_mode_for(FILE *fp, enum log_format fmt);

/* Starts writing progress to fp (borrowed) in mode. */
void progress_init(FILE *fp, enum progress_mode mode);

/* A node enters a phase: ends the previous node's line if another. */
void progress_phase(const char *node, const char *phase);

/* The detail of the current phase changed ("evicted 7/12"). */
void progress_detail(const char *node, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Ends the node's line with its outcome ("done in 1m12s"). */
void progress_end(const char *node, const char *outcome);

/* A message not tied to a node, printed on its own line. */
void progress_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Installs the SIGINT/SIGTERM handlers described above. */
void progress_catch_interrupts(void);

/* True once the operator asked to stop. */
bool progress_interrupted(void);

#endif /* CR_PROGRESS_H */
