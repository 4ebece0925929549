/*
 * Durations as operators write them and as kubeadm prints them.
 *
 * Input: one or more <integer><unit> parts, summed: "30d", "8760h",
 * "8760h0m0s" (Go), "1y", "90m", "1h30m", "500ms". Units: ms, s, m, h,
 * d (24h), w (7d), y (365d). A bare number, a negative value, an unknown
 * unit or an overflow is refused.
 */
#ifndef CR_DURATION_H
#define CR_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Parses s into milliseconds. Returns CR_ERR_CONFIG for malformed input and
 * leaves *msp untouched.
 */
enum cr_err duration_parse_ms(const char *s, int64_t *msp) CR_MUST_CHECK;

/* Like duration_parse_ms(), in whole seconds; a fraction is refused. */
enum cr_err duration_parse(const char *s, int64_t *secsp) CR_MUST_CHECK;

/*
 * Formats secs the way operators write it, largest units first, zero parts
 * left out: 31536000 -> "1y", 2592000 -> "30d", 5400 -> "1h30m", 0 -> "0s".
 * Negative values get a leading '-'. Writes at most len bytes.
 */
void duration_format(int64_t secs, char *buf, size_t len);

/*
 * kubeadm's RESIDUAL TIME up to v1.30 (apimachinery ShortHumanDuration):
 * "<invalid>" below -1 s, then "Ns", "Nm", "Nh", "Nd" below a year, "Ny".
 */
void duration_short_human(int64_t secs, char *buf, size_t len);

/* apimachinery HumanDuration (kubeadm v1.31+): "2y327d", "5d3h", "7m30s". */
void duration_human(int64_t secs, char *buf, size_t len);

#endif /* CR_DURATION_H */
