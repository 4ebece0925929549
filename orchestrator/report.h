/*
 * The report at the end of a rollout, made from its journal alone: per
 * node, its final state, the time spent in each phase, and the old and new
 * expiry and serial of every certificate renewed. The same journal gives
 * the same report, whether the run just ended or ended last week.
 */
#ifndef CR_REPORT_H
#define CR_REPORT_H

#include <stdio.h>

#include <json-c/json.h>

#include "runlog.h"

/*
 * {"run","cluster","result","message","started","ended","duration_seconds",
 *  "nodes":[{"name","state","message","rolled_back","phases":{state: ms},
 *  "certificates":[{"name","old_serial","new_serial","old_not_after",
 *  "new_not_after"}]}]}. Owned by the caller.
 */
json_object *report_json(const struct runlog *r);

/* The readable form. */
void report_print(const struct runlog *r, FILE *fp);

#endif /* CR_REPORT_H */
