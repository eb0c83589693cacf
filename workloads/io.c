// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <time.h>

#include "work.h"

/* An absolute deadline keeps the wait whole across signals. The thread
 * sleeps in clock_nanosleep, which weft reports as sleep. */
__attribute__((noinline)) int io_wait(uint64_t latency_ns)
{
	struct timespec deadline;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += latency_ns / 1000000000ULL;
	deadline.tv_nsec += latency_ns % 1000000000ULL;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	do {
		err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
	} while (err == EINTR);
	return -err;
}

/* The reply's bytes come from xorshift64 seeded by the unit, so every
 * model sees the same reply for the same unit; FNV-1a sums it. */
__attribute__((noinline)) uint64_t io_reply_checksum(long unit)
{
	unsigned char reply[IO_REPLY_BYTES];
	uint64_t x = (uint64_t)unit * 0x9e3779b97f4a7c15ULL + 1, h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < IO_REPLY_BYTES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		reply[i] = (unsigned char)x;
	}
	for (int i = 0; i < IO_REPLY_BYTES; i++) {
		h ^= reply[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

__attribute__((noinline)) int io_unit(const struct work_opts *opts, long unit,
				      const struct work_hooks *hooks, uint64_t *value)
{
	int err;

	if (hooks && hooks->before_wait)
		hooks->before_wait(hooks->ctx);
	err = io_wait(opts->latency_ns);
	if (hooks && hooks->after_wait)
		hooks->after_wait(hooks->ctx);
	if (err)
		return err;
	*value = io_reply_checksum(unit);
	return 0;
}
