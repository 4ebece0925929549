/*
 * The rollout journal: the durable record of a run, one JSON object per
 * line, appended and fsync'd before the step it announces runs. It is the
 * audit trail and what "certroll resume" and "certroll status" replay.
 *
 * Every line carries {"ts","run","seq","event", ...fields}. seq increases
 * by one per line across reopenings. A crash can at worst leave a torn
 * last line (no newline); readers ignore it, because the step it would
 * have announced never ran.
 *
 * Layout: <state-dir>/<cluster>/<run-id>.jsonl (0600, directories 0700),
 * and <state-dir>/<cluster>/latest holding the newest run id.
 * Callers must never put secrets in a record.
 */
#ifndef CR_JOURNAL_H
#define CR_JOURNAL_H

#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

struct journal;

/*
 * Creates a new journal for run_id under dir/cluster and points "latest" at
 * it. Fails with CR_ERR_STATE if that run's journal already exists. On
 * success *jp must be released with journal_close().
 */
enum cr_err journal_create(const char *dir, const char *cluster,
    const char *run_id, struct journal **jp) CR_MUST_CHECK;

/*
 * Reopens an existing journal file to append to it (resume); seq continues
 * after the last complete line. On success *jp must be released with
 * journal_close().
 */
enum cr_err journal_reopen(const char *path, struct journal **jp) CR_MUST_CHECK;

/*
 * Appends one record and makes it durable (write + fsync). Takes ownership
 * of fields (a JSON object or NULL) whatever the outcome.
 */
enum cr_err journal_append(struct journal *j, const char *event,
    json_object *fields) CR_MUST_CHECK;

/* The journal's file path and run id; borrowed from j. */
const char *journal_path(const struct journal *j);
const char *journal_run_id(const struct journal *j);

/* Closes the file. Passing NULL is a no-op. */
void journal_close(struct journal *j);

/*
 * Reads every complete record of the journal at path into a new JSON array
 * (*recordsp, to be released with json_object_put()). A torn last line is
 * ignored and reported through *tornp (may be NULL). A malformed complete
 * line is CR_ERR_PROTO with its 1-based number in *bad_linep (may be NULL).
 */
enum cr_err journal_read(const char *path, json_object **recordsp, int *tornp,
    size_t *bad_linep) CR_MUST_CHECK;

/*
 * Finds the newest run of cluster under dir. On success *pathp is a new
 * string to free() and *run_idp too (either may be NULL). CR_ERR_NOTFOUND
 * when there has been no run.
 */
enum cr_err journal_latest(const char *dir, const char *cluster, char **pathp,
    char **run_idp) CR_MUST_CHECK;

/*
 * The default state directory: $XDG_STATE_HOME/certroll or
 * ~/.local/state/certroll. A new string to free().
 */
char *journal_default_dir(void);

/* A new run id "20261128T130000Z-1a2b3c" (UTC time + random). To free(). */
char *journal_new_run_id(void);

#endif /* CR_JOURNAL_H */
