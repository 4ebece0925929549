#include "clock.h"

#include <errno.h>
#include <stdint.h>

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_deadline_ms(int64_t ms)
{
	return clock_mono_ms() + (ms > 0 ? ms : 0);
}

int
clock_remaining_ms(int64_t deadline)
{
	int64_t left = deadline - clock_mono_ms();

	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

int
clock_expired(int64_t deadline)
{
	return deadline != 0 && clock_mono_ms() >= deadline;
}

void
clock_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

time_t
clock_now(void)
{
	return time(NULL);
}

int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
