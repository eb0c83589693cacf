/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The tests' clock: CLOCK_MONOTONIC in seconds, for time limits and
 * timings printed. */
#ifndef __WEFT_TEST_CLOCK_H
#define __WEFT_TEST_CLOCK_H

#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* __WEFT_TEST_CLOCK_H */
