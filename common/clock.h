/*
 * Monotonic time and deadlines. A deadline is an absolute point on the
 * monotonic clock in milliseconds; 0 means "no deadline" wherever a
 * function takes one.
 */
#ifndef CR_CLOCK_H
#define CR_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock. */
int64_t clock_mono_ms(void);

/* The deadline ms milliseconds from now. */
int64_t clock_deadline_ms(int64_t ms);

/* Milliseconds left until deadline, clamped to [0, INT32_MAX]. */
int clock_remaining_ms(int64_t deadline);

/* True when a non-zero deadline has passed. */
int clock_expired(int64_t deadline);

/* Sleeps ms milliseconds (restarting after signals). */
void clock_sleep_ms(int64_t ms);

/* Wall-clock time in seconds and in milliseconds since the epoch. */
time_t clock_now(void);
int64_t clock_now_ms(void);

#endif /* CR_CLOCK_H */
