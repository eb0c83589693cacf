// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The down-sampler: bins keep every integral through their merges, the
 * columns a page draws keep it through the resampling, and R(t) drawn
 * from the analysis' running slices (levels rounded as the page writes
 * them) has the area of the on-CPU time, within 0.5%. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

#include "analysis.h"
#include "downsample.h"

#define EVENT_TARGET struct weft_analysis
#include "event_builders.h"

#define US 1000ULL
#define MS 1000000ULL

static void feed(struct weft_analysis *a, const void *ev)
{
	assert_int_equal(weft_analysis__feed(a, ev), 0);
}

static __u64 rnd_state = 88172645463325252ULL;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* the drawn area of n columns over [from, to): levels rounded as written */
static double drawn(const double *cols, unsigned int n, __u64 from, __u64 to)
{
	double sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += downsample__round(cols[i]);
	return sum * (double)(to - from) / n;
}

static void test_bins_keep_integrals(void **state)
{
	struct downsample *ds = downsample__new(1000, 10, 8);
	double want[2] = { 0, 0 };
	__u64 s, e;
	int a, b, i;

	(void)state;
	assert_non_null(ds);
	a = downsample__channel(ds);
	b = downsample__channel(ds);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	/* one bin, then across bins */
	assert_int_equal(downsample__add(ds, a, 1000, 1005, 1), 0);
	want[0] += 5;
	assert_int_equal(downsample__add(ds, b, 1005, 1075, 2), 0);
	want[1] += 140;
	assert_int_equal(downsample__bins(ds), 8);
	assert_int_equal(downsample__bin_ns(ds), 10);
	assert_true(fabs(downsample__bin(ds, b, 0) - 10) < 1e-9);
	assert_true(fabs(downsample__bin(ds, b, 7) - 10) < 1e-9);
	/* far past the last bin: merged until it fits, every sum kept */
	for (i = 0; i < 200; i++) {
		s = 1000 + rnd() % 100000;
		e = s + rnd() % 5000;
		assert_int_equal(downsample__add(ds, i % 2, s, e, 1.5), 0);
		want[i % 2] += 1.5 * (double)(e - s);
	}
	assert_true(downsample__bins(ds) <= 8);
	assert_true(downsample__bin_ns(ds) * 8 >= downsample__end(ds) - 1000);
	assert_true(fabs(downsample__total(ds, a) - want[0]) < 1e-6 * want[0]);
	assert_true(fabs(downsample__total(ds, b) - want[1]) < 1e-6 * want[1]);
	/* before base: cut and counted; reversed and empty add nothing */
	assert_int_equal(downsample__add(ds, a, 900, 1010, 1), 0);
	assert_true(fabs(downsample__clipped(ds) - 100) < 1e-9);
	assert_true(fabs(downsample__total(ds, a) - want[0] - 10) < 1e-6 * want[0]);
	assert_int_equal(downsample__add(ds, a, 2000, 1000, 1), 0);
	assert_int_equal(downsample__add(ds, 7, 1000, 2000, 1), -EINVAL);
	downsample__free(ds);
}

static void test_bad_arguments(void **state)
{
	double out[4];
	struct downsample *ds;

	(void)state;
	errno = 0;
	assert_null(downsample__new(0, 0, 8));
	assert_int_equal(errno, EINVAL);
	assert_null(downsample__new(0, 10, 7));
	assert_null(downsample__new(0, 10, 0));
	ds = downsample__new(0, 10, 8);
	assert_non_null(ds);
	assert_int_equal(downsample__resample(ds, 0, out, 4, 0, 100), -EINVAL);
	assert_int_equal(downsample__channel(ds), 0);
	assert_int_equal(downsample__resample(ds, 0, out, 0, 0, 100), -EINVAL);
	assert_int_equal(downsample__resample(ds, 0, out, 4, 100, 100), -EINVAL);
	assert_int_equal(downsample__resample(ds, 0, out, 4, 0, 100), 0);
	assert_true(out[0] == 0 && out[3] == 0);
	downsample__free(ds);
	downsample__free(NULL);
}

/* Columns that do not line up with the bins (3 bins of 40 ns over 7
 * columns) still share each bin's integral by overlap; a window that
 * leaves part of the bins out holds only its part. */
static void test_resample_keeps_area(void **state)
{
	struct downsample *ds = downsample__new(0, 40, 4);
	double out[7], sum = 0;
	unsigned int i;

	(void)state;
	assert_non_null(ds);
	assert_int_equal(downsample__channel(ds), 0);
	assert_int_equal(downsample__add(ds, 0, 0, 120, 1), 0);
	assert_int_equal(downsample__add(ds, 0, 50, 60, 3), 0);
	assert_int_equal(downsample__resample(ds, 0, out, 7, 0, 140), 0);
	for (i = 0; i < 7; i++)
		sum += out[i] * 20;
	assert_true(fabs(sum - 150) < 1e-9);
	/* the second bin held 40 + 30 over 40 ns: even level 1.75 in it */
	assert_true(fabs(out[2] - 1.75) < 1e-9);
	assert_true(fabs(out[6]) < 1e-12);
	/* half the window: [0, 60) holds the first bin and half the second */
	assert_int_equal(downsample__resample(ds, 0, out, 3, 0, 60), 0);
	assert_true(fabs((out[0] + out[1] + out[2]) * 20 - (40 + 35)) < 1e-9);
	assert_true(fabs(downsample__round(1.23456) - 1.235) < 1e-12);
	downsample__free(ds);
}

struct r_of_t {
	struct downsample *ds;
	int run, queue;
	double running_ns; /* the slices' own sum */
};

static void on_slice(void *ctx, const struct weft_slice *s)
{
	struct r_of_t *r = ctx;

	if (s->state == WEFT_SLICE_RUNNING) {
		assert_int_equal(downsample__add(r->ds, r->run, s->start_ns, s->end_ns, 1), 0);
		r->running_ns += (double)(s->end_ns - s->start_ns);
	} else if (s->state == WEFT_SLICE_RUNNABLE) {
		assert_int_equal(downsample__add(r->ds, r->queue, s->start_ns, s->end_ns, 1), 0);
	}
}

/* 6 threads on 2 CPUs, switched at random for a simulated 20 s (slices
 * from 10 us to 3 ms, some idle, some blocked and woken): R(t) binned in
 * at most 256 bins (merged many times), drawn as 700 columns with levels
 * rounded to 3 decimals, has the area of the analysis' on-CPU time. */
static void test_drawn_r_is_on_cpu_time(void **state)
{
	struct analysis_opts o = { .ncpu = 2, .usable_cpus = 2 };
	__u32 cur[2] = { 0, 0 };
	bool blocked[6] = { false };
	const struct weft_metrics *m;
	struct weft_analysis *a;
	struct r_of_t r = { 0 };
	__u64 t = 1 * MS, first = t;
	double cols[700], area, q_area;
	unsigned int c, k;

	(void)state;
	a = weft_analysis__new(&o);
	assert_non_null(a);
	r.ds = downsample__new(first, 10 * US, 256);
	assert_non_null(r.ds);
	r.run = downsample__channel(r.ds);
	r.queue = downsample__channel(r.ds);
	weft_analysis__set_slice_observer(a, on_slice, &r);
	for (k = 0; k < 6; k++)
		fork_ev(a, t, 1000, 1000 + k, k > 0, "w");
	while (t < first + 20000 * MS) {
		__u32 next, prev;
		unsigned int pick;

		t += 10 * US + rnd() % (3 * MS);
		c = rnd() % 2;
		prev = cur[c];
		pick = rnd() % 8;
		next = pick < 6 ? 1000 + pick : 0;
		if (next == prev || (next && next == cur[!c]))
			continue;
		if (next && blocked[next - 1000]) {
			wake(a, t, next, c);
			blocked[next - 1000] = false;
		}
		if (prev && rnd() % 3 == 0) {
			sw(a, t, c, prev, BLOCK, next);
			blocked[prev - 1000] = true;
		} else {
			sw(a, t, c, prev, prev ? PREEMPT : BLOCK, next);
		}
		cur[c] = next;
	}
	m = weft_analysis__finish(a);
	assert_non_null(m);
	assert_true(m->on_cpu_s > 1);
	assert_true(downsample__bin_ns(r.ds) > 10 * US); /* it merged */
	assert_true(fabs(r.running_ns / 1e9 - m->on_cpu_s) < 1e-6 * m->on_cpu_s);

	assert_int_equal(downsample__resample(r.ds, r.run, cols, 700, first, t), 0);
	area = drawn(cols, 700, first, t) / 1e9;
	assert_true(fabs(area - m->on_cpu_s) <= 0.005 * m->on_cpu_s);
	/* Q(t) likewise has the area of the queued time */
	assert_int_equal(downsample__resample(r.ds, r.queue, cols, 700, first, t), 0);
	q_area = drawn(cols, 700, first, t) / 1e9;
	assert_true(fabs(q_area * 1e9 - downsample__total(r.ds, r.queue)) <=
		    0.005 * downsample__total(r.ds, r.queue));
	/* the averages of the curves are parallelism and concurrency */
	assert_true(fabs(area / m->wall_s - m->parallelism.avg) < 0.01 * m->parallelism.avg);
	assert_true(fabs((area + q_area) / m->wall_s - m->concurrency.avg) <
		    0.01 * m->concurrency.avg);
	downsample__free(r.ds);
	weft_analysis__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bins_keep_integrals),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_resample_keeps_area),
		cmocka_unit_test(test_drawn_r_is_on_cpu_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
