// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "work.h"

/* The running sum passes through an empty asm that claims to change it, so
 * the compiler can neither use the closed form n(n-1)/2 nor vectorise: one
 * dependent addition per iteration, about one per cycle. noinline keeps the
 * frame in every stack. */
__attribute__((noinline)) uint64_t cpu_sum_range(uint64_t from, uint64_t to)
{
	uint64_t sum = 0;

	for (uint64_t i = from; i < to; i++) {
		sum += i;
		asm volatile("" : "+r"(sum));
	}
	return sum;
}

/* Slices let a model interrupt the unit (the gil's drop request) without
 * changing its result: the sum is the same in any number of pieces. */
__attribute__((noinline)) uint64_t cpu_unit(const struct work_opts *opts, long unit,
					    const struct work_hooks *hooks)
{
	uint64_t from = (uint64_t)unit * (uint64_t)opts->size, to = from + (uint64_t)opts->size;
	uint64_t sum = 0, end;

	for (uint64_t i = from; i < to; i = end) {
		end = to - i > CPU_SLICE ? i + CPU_SLICE : to;
		sum += cpu_sum_range(i, end);
		if (hooks && hooks->between_slices && end < to)
			hooks->between_slices(hooks->ctx);
	}
	return sum;
}
