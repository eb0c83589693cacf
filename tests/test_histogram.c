// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The log-linear histogram: every value falls in a bucket that contains
 * it, buckets are at most 1/32 of their value wide, percentiles stay within
 * 5% (in fact 1/64) of an exact sort over random data, and the memory does
 * not depend on how many values were added. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "histogram.h"

static int setup(void **state)
{
	*state = weft_hist__new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	weft_hist__free(*state);
	return 0;
}

/* xorshift64*: reproducible without touching the libc generator */
static __u64 rng_state = 0x9e3779b97f4a7c15ULL;

static __u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static double rnd_unit(void)
{
	return (rnd() >> 11) * (1.0 / 9007199254740992.0);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank, as the histogram defines its percentiles */
static __u64 exact_percentile(const __u64 *sorted, size_t n, double pct)
{
	size_t rank = (size_t)ceil(pct / 100.0 * n);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static void assert_within(__u64 got, __u64 want, double rel)
{
	double err = want ? fabs((double)got - (double)want) / (double)want : (double)got;

	if (err > rel)
		fail_msg("got %llu, want %llu (error %.4f > %.4f)", (unsigned long long)got,
			 (unsigned long long)want, err, rel);
}

static void test_buckets_contain_their_values(void **state)
{
	__u64 edges[] = { 0,
			  1,
			  31,
			  32,
			  63,
			  64,
			  65,
			  127,
			  128,
			  1000,
			  1ULL << 32,
			  (1ULL << 32) + 1,
			  UINT64_MAX - 1,
			  UINT64_MAX };
	unsigned int i, prev = 0;
	__u64 lo, hi, v;

	(void)state;
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		unsigned int b = weft_hist__bucket(edges[i]);

		assert_true(b < WEFT_HIST_BUCKETS);
		weft_hist__bucket_range(b, &lo, &hi);
		assert_true(lo <= edges[i] && edges[i] <= hi);
		assert_true(b >= prev);
		prev = b;
	}
	assert_int_equal(weft_hist__bucket(UINT64_MAX), WEFT_HIST_BUCKETS - 1);
	/* buckets tile the line: each starts where the previous ended */
	for (i = 1; i < WEFT_HIST_BUCKETS; i++) {
		__u64 plo, phi;

		weft_hist__bucket_range(i - 1, &plo, &phi);
		weft_hist__bucket_range(i, &lo, &hi);
		assert_true(lo == phi + 1);
		assert_true(hi - lo <= lo / 32);
	}
	for (i = 0; i < 100000; i++) {
		v = rnd() >> (rnd() % 64);
		weft_hist__bucket_range(weft_hist__bucket(v), &lo, &hi);
		assert_true(lo <= v && v <= hi);
	}
}

static void check_random(struct weft_hist *h, size_t n, int shape)
{
	__u64 *vals = malloc(n * sizeof(*vals)), sum = 0;
	double pcts[] = { 1, 10, 50, 90, 99, 99.9 };
	size_t i;

	assert_non_null(vals);
	weft_hist__reset(h);
	for (i = 0; i < n; i++) {
		switch (shape) {
		case 0: /* log-uniform from 100 ns to 10 s: run-queue delays */
			vals[i] = (__u64)exp(log(100) + rnd_unit() * (log(1e10) - log(100)));
			break;
		case 1: /* uniform 0..1 ms */
			vals[i] = rnd() % 1000000;
			break;
		default: /* exponential, mean 50 us, plus small integers */
			vals[i] = i % 7 ? (__u64)(-log(1 - rnd_unit()) * 50000) : i % 64;
			break;
		}
		sum += vals[i];
		weft_hist__add(h, vals[i]);
	}
	qsort(vals, n, sizeof(*vals), cmp_u64);
	assert_int_equal(weft_hist__count(h), n);
	assert_int_equal(weft_hist__sum(h), sum);
	assert_int_equal(weft_hist__min(h), vals[0]);
	assert_int_equal(weft_hist__max(h), vals[n - 1]);
	assert_int_equal(weft_hist__percentile(h, 100), vals[n - 1]);
	assert_int_equal(weft_hist__percentile(h, 0), vals[0]);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		/* the issue asks for 5%; the bucket layout promises 1/64 */
		assert_within(weft_hist__percentile(h, pcts[i]), exact_percentile(vals, n, pcts[i]),
			      0.05);
		assert_within(weft_hist__percentile(h, pcts[i]), exact_percentile(vals, n, pcts[i]),
			      1.0 / 64 + 1e-9);
	}
	free(vals);
}

static void test_percentiles_random(void **state)
{
	check_random(*state, 200000, 0);
	check_random(*state, 100000, 1);
	check_random(*state, 50001, 2);
	check_random(*state, 1, 0);
	check_random(*state, 2, 1);
}

static void test_memory_fixed(void **state)
{
	struct weft_hist *h = *state;
	size_t before = weft_hist__size();
	unsigned int i;

	for (i = 0; i < 1000000; i++)
		weft_hist__add(h, rnd());
	assert_int_equal(weft_hist__size(), before);
	/* a fixed array of counters, about 15 KB */
	assert_true(before <= 16 * 1024);
	assert_int_equal(weft_hist__count(h), 1000000);
}

static void test_empty_and_merge(void **state)
{
	struct weft_hist *h = *state, *o = weft_hist__new();
	unsigned int i;

	assert_non_null(o);
	assert_int_equal(weft_hist__percentile(h, 50), 0);
	assert_int_equal(weft_hist__max(h), 0);
	assert_int_equal(weft_hist__min(h), 0);
	for (i = 1; i <= 100; i++)
		weft_hist__add(i <= 50 ? h : o, i * 1000);
	weft_hist__merge(h, o);
	assert_int_equal(weft_hist__count(h), 100);
	assert_int_equal(weft_hist__min(h), 1000);
	assert_int_equal(weft_hist__max(h), 100000);
	assert_int_equal(weft_hist__sum(h), 5050 * 1000);
	assert_within(weft_hist__percentile(h, 50), 50000, 1.0 / 64);
	assert_within(weft_hist__percentile(h, 99), 99000, 1.0 / 64);
	/* small values are exact */
	weft_hist__reset(o);
	for (i = 0; i < 64; i++)
		weft_hist__add(o, i);
	for (i = 1; i <= 64; i++)
		assert_int_equal(weft_hist__percentile(o, i * 100.0 / 64), i - 1);
	weft_hist__free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_buckets_contain_their_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_percentiles_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_merge, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
