// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft diff's logic without recordings: the change rule at its edges, a
 * run against itself changes nothing, locks and reasons rank by the change
 * in wait, runs of different lengths compare per second of wall, and the
 * folded diff is difffolded.pl's three columns. */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

#include "diff.h"
#include "waits.h"

static struct diff_stat one(double v, double count)
{
	return (struct diff_stat){ .mean = v, .min = v, .max = v, .count = count, .runs = 1 };
}

static void test_change_rule(void **state)
{
	struct diff_stat a, b;

	(void)state;
	/* the same figure never changed */
	a = one(10, 100);
	assert_false(diff_changed(&a, &a));
	a = one(0, 0);
	assert_false(diff_changed(&a, &a));
	/* samples: 3 sqrt(count) decides, not 5%. 10000 -> 10200: 2%, under
	 * 5% (500); 100 -> 130: 30% but 3 sqrt(130) = 34 samples */
	a = one(10000, 10000);
	b = one(10200, 10200);
	assert_false(diff_changed(&a, &b));
	b = one(10600, 10600);
	assert_true(diff_changed(&a, &b));
	a = one(100, 100);
	b = one(130, 130);
	assert_false(diff_changed(&a, &b));
	b = one(140, 140);
	assert_true(diff_changed(&a, &b));
	/* a time of n waits: its noise is 3 sqrt(n) waits of the mean size;
	 * 1 s of 10000 waits (100 us each): 3 * 100 * 100 us = 30 ms, under
	 * 5% (50 ms), so 5% decides */
	a = one(1.0, 10000);
	b = one(1.04, 10000);
	assert_false(diff_changed(&a, &b));
	b = one(1.06, 10000);
	assert_true(diff_changed(&a, &b));
	/* without a count, 5% alone */
	a = one(2.0, 0);
	b = one(2.09, 0);
	assert_false(diff_changed(&a, &b));
	b = one(2.11, 0);
	assert_true(diff_changed(&a, &b));
	/* from nothing: 4 samples is within 3 sqrt(4) = 6 samples of 0; 40 is not */
	a = one(0, 0);
	b = one(4, 4);
	assert_false(diff_changed(&a, &b));
	b = one(40, 40);
	assert_true(diff_changed(&a, &b));
	/* several runs: a change inside the spread of a side is not one */
	a = (struct diff_stat){ .mean = 1.0, .min = 0.9, .max = 1.1, .count = 0, .runs = 2 };
	b = one(1.15, 0);
	assert_false(diff_changed(&a, &b));
	b = one(1.25, 0);
	assert_true(diff_changed(&a, &b));
}

static struct diff_lock_in locks_a[] = {
	{ "shared_lock", 0.010, 20 },
	{ "mutex in worker;pthread_mutex_lock;__lll_lock_wait", 0.5, 1000 },
};
static struct diff_lock_in locks_b[] = {
	{ "shared_lock", 0.900, 5000 },
	{ "mutex in worker;pthread_mutex_lock;__lll_lock_wait", 0.45, 1000 },
	{ "gil+0x28", 0.2, 300 },
};
static const char *const stacks_a[] = { "app;main;work", "app;main;wait" };
static const __u64 values_a[] = { 100, 40 };
static const char *const stacks_b[] = { "app;main;work", "app;main;spin" };
static const __u64 values_b[] = { 150, 7 };

static void run_fill(struct diff_run *r, const char *path, double wall, double lock_s,
		     struct diff_lock_in *locks, unsigned int nlocks, const char *const *stacks,
		     const __u64 *values, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->metrics[DIFF_WALL] = (struct diff_value){ wall, 0 };
	r->metrics[DIFF_PARALLELISM] = (struct diff_value){ 1.5, 1000 };
	r->metrics[DIFF_ON_CPU] = (struct diff_value){ 1.5 * wall, 1000 };
	r->metrics[DIFF_OFF_CPU + WEFT_WAIT_LOCK] = (struct diff_value){ lock_s, 1000 };
	r->metrics[DIFF_OFF_CPU + WEFT_WAIT_SLEEP] = (struct diff_value){ 0.3 * wall, 30 };
	r->locks = locks;
	r->nr_locks = nlocks;
	r->stacks = stacks;
	r->values = values;
	r->nstacks = n;
}

static void test_self_is_empty(void **state)
{
	struct diff *d = diff__new(FLAME_ONCPU);
	const struct diff_row *rows;
	struct diff_run r;
	size_t n, i;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	run_fill(&r, "a.data", 2.0, 0.51, locks_a, 2, stacks_a, values_a, 2);
	assert_int_equal(diff__add(d, 0, &r), 0);
	assert_int_equal(diff__add(d, 1, &r), 0);
	assert_int_equal(diff__finish(d), 0);
	assert_int_equal(diff__changes(d), 0);
	assert_false(diff__per_wall(d));
	n = diff__metrics(d, &rows);
	for (i = 0; i < n; i++)
		assert_true(rows[i].delta == 0 && !rows[i].changed);
	n = diff__locks(d, &rows);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		assert_true(rows[i].delta == 0 && !rows[i].changed);
	out = open_memstream(&text, &len);
	assert_int_equal(diff__write_text(d, out, false), 0);
	fclose(out);
	assert_non_null(strstr(text, "no change beyond noise"));
	assert_null(strstr(text, " *\n"));
	free(text);
	diff__free(d);
}

static void test_ranks_and_folded(void **state)
{
	struct diff *d = diff__new(FLAME_ONCPU);
	const struct diff_row *rows;
	struct diff_run r;
	regex_t re;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, n, lines = 0;
	FILE *out;

	(void)state;
	run_fill(&r, "a.data", 2.0, 0.51, locks_a, 2, stacks_a, values_a, 2);
	assert_int_equal(diff__add(d, 0, &r), 0);
	run_fill(&r, "b.data", 2.0, 1.55, locks_b, 3, stacks_b, values_b, 2);
	assert_int_equal(diff__add(d, 1, &r), 0);
	assert_int_equal(diff__finish(d), 0);
	n = diff__locks(d, &rows);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].name, "shared_lock");
	assert_true(fabs(rows[0].delta - 0.89) < 1e-9 && rows[0].changed);
	assert_string_equal(rows[1].name, "gil+0x28");
	assert_true(rows[1].a == 0 && rows[1].changed);
	/* 0.5 -> 0.45 s over 1000 waits each: 10%, beyond 3 sqrt(1000) waits
	 * of 0.475 ms (45 ms)? yes: 50 ms */
	assert_true(rows[2].changed);
	n = diff__reasons(d, &rows);
	assert_string_equal(rows[0].name, "lock");
	assert_true(rows[0].changed);
	assert_true(diff__changes(d) > 0);

	out = open_memstream(&text, &len);
	assert_int_equal(diff__write_folded(d, out), 0);
	fclose(out);
	assert_int_equal(regcomp(&re, "^[^ ]+ [0-9]+ [0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(regexec(&re, line, 0, NULL, 0), 0);
		lines++;
	}
	assert_int_equal(lines, 3);
	regfree(&re);
	free(text);
	text = NULL;
	out = open_memstream(&text, &len);
	assert_int_equal(diff__write_folded(d, out), 0);
	fclose(out);
	assert_string_equal(text, "app;main;spin 0 7\napp;main;wait 40 0\napp;main;work 100 150\n");
	free(text);
	/* the SVG: work grew (red, the deepest: the largest change), spin is
	 * new (red), wait is gone (no width); main grew by 17 */
	text = NULL;
	out = open_memstream(&text, &len);
	assert_int_equal(diff__write_svg(d, out), 0);
	fclose(out);
	assert_non_null(strstr(text, "<title>work (100 samples -> 150 samples, +50.0%)</title>"));
	assert_non_null(strstr(text, "<title>spin (0 samples -> 7 samples, new)</title>"));
	assert_null(strstr(text, "data-n=\"wait\""));
	line = strstr(text, "data-n=\"work\"");
	assert_non_null(line);
	assert_non_null(strstr(line, "fill=\"rgb(255,55,55)\""));
	free(text);
	diff__free(d);

	/* shrank: blue */
	d = diff__new(FLAME_ONCPU);
	run_fill(&r, "b.data", 2.0, 1.55, NULL, 0, stacks_b, values_b, 2);
	assert_int_equal(diff__add(d, 0, &r), 0);
	run_fill(&r, "a.data", 2.0, 0.51, NULL, 0, stacks_a, values_a, 2);
	assert_int_equal(diff__add(d, 1, &r), 0);
	assert_int_equal(diff__finish(d), 0);
	text = NULL;
	out = open_memstream(&text, &len);
	assert_int_equal(diff__write_svg(d, out), 0);
	fclose(out);
	line = strstr(text, "data-n=\"work\"");
	assert_non_null(line);
	assert_non_null(strstr(line, "fill=\"rgb(55,55,255)\""));
	free(text);
	diff__free(d);
}

/* A run twice as long with the same rates: nothing changed per second */
static void test_per_wall(void **state)
{
	struct diff *d = diff__new(FLAME_ONCPU);
	const struct diff_row *rows;
	struct diff_run r;
	size_t n, i;

	(void)state;
	run_fill(&r, "short.data", 1.0, 0.5, NULL, 0, NULL, NULL, 0);
	assert_int_equal(diff__add(d, 0, &r), 0);
	run_fill(&r, "long.data", 2.0, 1.0, NULL, 0, NULL, NULL, 0);
	assert_int_equal(diff__add(d, 1, &r), 0);
	assert_int_equal(diff__finish(d), 0);
	assert_true(diff__per_wall(d));
	assert_int_equal(diff__changes(d), 0);
	n = diff__metrics(d, &rows);
	for (i = 0; i < n; i++)
		if (!strcmp(rows[i].name, "on_cpu_s"))
			assert_true(fabs(rows[i].a - 1.5) < 1e-12 && fabs(rows[i].b - 1.5) < 1e-12);
	diff__free(d);
	/* no side: refused */
	d = diff__new(FLAME_ONCPU);
	assert_int_equal(diff__add(d, 0, &r), 0);
	assert_int_equal(diff__finish(d), -EINVAL);
	diff__free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_change_rule),
		cmocka_unit_test(test_self_is_empty),
		cmocka_unit_test(test_ranks_and_folded),
		cmocka_unit_test(test_per_wall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
