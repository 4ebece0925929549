/*
 * Wall-clock time as the formats certroll meets write it. All times are
 * UTC seconds since the epoch (time_t).
 */
#ifndef CR_TIMEFMT_H
#define CR_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* Size of a buffer that holds any string these functions write. */
#define TIMEFMT_MAX 40

/* "2026-11-28T13:00:00Z" (RFC 3339, as metav1.Time and our JSON). */
void timefmt_rfc3339(time_t t, char *buf, size_t len);

/* "2026-11-28T13:00:00.123456Z": Lease MicroTime, six fractional digits. */
void timefmt_micro(int64_t epoch_ms, char *buf, size_t len);

/* "Mar 04, 2025 15:35 UTC": kubeadm check-expiration's EXPIRES column. */
void timefmt_kubeadm(time_t t, char *buf, size_t len);

/*
 * Parses RFC 3339 with optional fraction and a "Z" or +hh:mm offset into
 * epoch milliseconds. Returns CR_ERR_CONFIG if s is not of that form.
 */
enum cr_err timefmt_parse_rfc3339(const char *s,
    int64_t *epoch_msp) CR_MUST_CHECK;

/* Converts a broken-down UTC time to time_t (timegm without _DEFAULT_SOURCE).
 */
time_t timefmt_timegm(const struct tm *tm);

#endif /* CR_TIMEFMT_H */
