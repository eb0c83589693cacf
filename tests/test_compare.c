// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The comparison table of weft compare: the median run and its spread,
 * what is compared against what, and every format written from the same
 * rows. make san-tests runs this under ASan and UBSan, which is the
 * sanitizer run of compare.c (a cell read a double at every column's
 * offset, an int's and a string's too: UBSan stopped on any compare). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

#include "analysis.h"
#include "compare.h"
#include "kv.h"
#include "json_check.h"

/* A row as compare_row_from_metrics leaves it, with one run's figures. */
static void make_row(struct compare_row *r, const char *model, const char *task, double wall,
		     double par)
{
	int f;

	memset(r, 0, sizeof(*r));
	snprintf(r->model, sizeof(r->model), "%s", model);
	snprintf(r->task, sizeof(r->task), "%s", task);
	snprintf(r->checksum, sizeof(r->checksum), "42");
	snprintf(r->top_wait, sizeof(r->top_wait), "runqueue");
	snprintf(r->verdict, sizeof(r->verdict), "parallel: %.2f of 2 usable cores busy", par);
	r->wall_s = wall;
	r->elapsed_s = wall - 0.01;
	r->speedup = -1;
	r->on_cpu_s = wall * par;
	r->parallelism_avg = par;
	r->parallelism_max = 2;
	r->concurrency_avg = par;
	r->serialized_share = -1;
	r->top_wait_share = 0.25;
	r->threads = 3;
	r->processes = 1;
	r->maxrss_kb = 2000;
	r->workers = 2;
	r->checksum_ok = -1;
	r->runs = 1;
	for (f = 0; f < COMPARE_FIGURES; f++)
		r->lo[f] = r->hi[f] = compare_row__figure(r, f);
}

static char *print(enum compare_format fmt, const struct compare_row *rows, int n, int width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(compare_print(f, fmt, "cpu", rows, n, width), 0);
	fclose(f);
	return buf;
}

/* Three runs of one model, walls 1.2, 1.0, 1.1: the median run is the
 * third (wall 1.1); its parallelism (1.5) is the one the table shows and
 * its verdict quotes, though the median of the parallelisms (1.6, 1.9,
 * 1.5) is 1.6. */
static void test_median_run_and_spread(void **state)
{
	struct compare_row runs[3], out;

	(void)state;
	make_row(&runs[0], "threads", "cpu", 1.2, 1.6);
	make_row(&runs[1], "threads", "cpu", 1.0, 1.9);
	make_row(&runs[2], "threads", "cpu", 1.1, 1.5);
	runs[0].others_share = 0.3;
	compare_row_median(&out, runs, 3);
	assert_int_equal(out.runs, 3);
	assert_true(out.wall_s == 1.1);
	assert_true(out.parallelism_avg == 1.5);
	assert_string_equal(out.verdict, "parallel: 1.50 of 2 usable cores busy");
	assert_true(out.lo[FIG_WALL] == 1.0 && out.hi[FIG_WALL] == 1.2);
	assert_true(out.lo[FIG_PARALLELISM] == 1.5 && out.hi[FIG_PARALLELISM] == 1.9);
	assert_true(out.lo[FIG_THREADS] == 3 && out.hi[FIG_THREADS] == 3);
	assert_true(out.others_share == 0.3);
	assert_string_equal(out.checksum, "42");
	/* of an even number, the faster of the two middle runs */
	compare_row_median(&out, runs, 2);
	assert_true(out.wall_s == 1.0);
	/* runs that disagree on the checksum leave it unknown */
	snprintf(runs[1].checksum, sizeof(runs[1].checksum), "43");
	compare_row_median(&out, runs, 3);
	assert_string_equal(out.checksum, "");
}

/* Speedup and RSS per worker only between models of one task. */
static void test_reference_only_for_one_task(void **state)
{
	struct compare_row rows[3];
	char *text;

	(void)state;
	make_row(&rows[0], "threads", "cpu", 1.0, 1.9);
	make_row(&rows[1], "sync", "cpu", 2.0, 1.0);
	make_row(&rows[2], "pool", "cpu", 0.5, 1.9);
	rows[1].maxrss_kb = 1000;
	rows[2].maxrss_kb = 5000;
	rows[2].workers = 4;
	assert_true(compare_rows_one_task(rows, 3));
	compare_rows_finish(rows, 3, true);
	/* against sync, wherever it is */
	assert_true(rows[0].speedup == 2.0 && rows[1].speedup == 1.0 && rows[2].speedup == 4.0);
	assert_true(rows[2].has_rss_per_worker);
	assert_int_equal(rows[2].rss_per_worker_kb, (5000 - 1000) / 4);
	assert_int_equal(rows[0].checksum_ok, 1);

	/* files of different programs (no task, or another task) */
	rows[2].task[0] = '\0';
	assert_false(compare_rows_one_task(rows, 3));
	snprintf(rows[2].task, sizeof(rows[2].task), "io");
	assert_false(compare_rows_one_task(rows, 3));
	compare_rows_finish(rows, 3, false);
	assert_true(rows[0].speedup < 0 && rows[2].speedup < 0);
	assert_false(rows[0].has_rss_per_worker);
	text = print(COMPARE_JSON, rows, 3, 100);
	assert_non_null(strstr(text, "\"speedup\":null"));
	assert_non_null(strstr(text, "\"rss_per_worker_kb\":null"));
	assert_null(strstr(text, "\"speedup\":0"));
	free(text);
	text = print(COMPARE_TEXT, rows, 3, 1000);
	assert_non_null(strstr(text, "speedup, RSS/worker: only between models of one task"));
	free(text);
}

/* A top wait that rounds to 0% reads as nothing, not "runqueue 0%". */
static void test_top_wait_zero_share(void **state)
{
	struct compare_row row;
	char *text;

	(void)state;
	make_row(&row, "sync", "cpu", 1.0, 1.0);
	row.top_wait_share = 0.004;
	text = print(COMPARE_TEXT, &row, 1, 1000);
	assert_null(strstr(text, "runqueue 0%"));
	free(text);
	row.top_wait_share = 0.006;
	text = print(COMPARE_TEXT, &row, 1, 1000);
	assert_non_null(strstr(text, "runqueue 1%"));
	free(text);
}

static void check_json_table(const char *text, int rows, unsigned int runs)
{
	struct jv *v = json_parse(text, strlen(text));
	const struct jv *arr, *row, *spread, *range;
	int i;

	assert_non_null(v);
	arr = jneed(v, "rows", J_ARR);
	assert_int_equal(arr->n, rows);
	for (i = 0; i < rows; i++) {
		row = arr->items[i];
		assert_true(jneed(row, "runs", J_NUM)->num == runs);
		spread = jneed(row, "spread", J_OBJ);
		range = jneed(spread, "wall_s", J_ARR);
		assert_int_equal(range->n, 2);
		assert_true(range->items[0]->num <= jneed(row, "wall_s", J_NUM)->num + 1e-6);
		assert_true(range->items[1]->num >= jneed(row, "wall_s", J_NUM)->num - 1e-6);
		range = jneed(spread, "parallelism_avg", J_ARR);
		assert_true(range->items[0]->num <=
			    jneed(jneed(row, "parallelism", J_OBJ), "avg", J_NUM)->num + 1e-4);
		jneed(row, "others_share", J_NUM);
		jneed(row, "verdict", J_STR);
	}
	jv_free(v);
}

/* Every format from the same rows: the spread in text (a line under the
 * row), markdown (in brackets) and JSON ([min, max]); markdown keeps the
 * legend and the fastest line; csv stays one line per row. */
static void test_every_format(void **state)
{
	struct compare_row runs[3], rows[2];
	char *text, *line;
	int n = 0;

	(void)state;
	make_row(&runs[0], "threads", "cpu", 1.2, 1.6);
	make_row(&runs[1], "threads", "cpu", 1.0, 1.9);
	make_row(&runs[2], "threads", "cpu", 1.1, 1.5);
	compare_row_median(&rows[0], runs, 3);
	make_row(&runs[0], "sync", "cpu", 2.0, 1.0);
	make_row(&runs[1], "sync", "cpu", 2.1, 1.0);
	make_row(&runs[2], "sync", "cpu", 2.2, 1.0);
	compare_row_median(&rows[1], runs, 3);
	compare_rows_finish(rows, 2, true);

	text = print(COMPARE_TEXT, rows, 2, 1000);
	assert_non_null(strstr(text, "1.000-1.200"));
	assert_non_null(strstr(text, "1.50-1.90"));
	assert_non_null(strstr(text, "median run's (by wall) of 3"));
	assert_non_null(strstr(text, "fastest: threads (1.100 s wall)"));
	free(text);
	/* narrow: models as columns, ranges still there */
	text = print(COMPARE_TEXT, rows, 2, 60);
	assert_non_null(strstr(text, "1.000-1.200"));
	free(text);

	text = print(COMPARE_MARKDOWN, rows, 2, 0);
	assert_non_null(strstr(text, "| 1.100 [1.000-1.200] "));
	assert_non_null(strstr(text, "| 1.50 [1.50-1.90] "));
	assert_non_null(strstr(text, "\nparallel: threads of the program"));
	assert_non_null(strstr(text, "\nfastest: threads (1.100 s wall)"));
	free(text);

	text = print(COMPARE_JSON, rows, 2, 0);
	check_json_table(text, 2, 3);
	free(text);

	text = print(COMPARE_CSV, rows, 2, 0);
	for (line = text; (line = strchr(line, '\n')); line++)
		n++;
	assert_int_equal(n, 3);
	assert_non_null(strstr(text, "\"threads\",1.100,"));
	free(text);
}

/* A row from analysed metrics: the notes name model and task; others'
 * share is the analysis's; a file without notes is of no task. */
static void test_row_from_metrics(void **state)
{
	struct weft_cpu_metrics cpus[2] = {
		{ .has_totals = true, .traced = 0.5, .other = 0.5, .threads = 1 },
		{ .has_totals = true, .traced = 0.9, .other = 0.1, .threads = 1 },
	};
	struct weft_metrics m;
	struct weft_kv *notes = weft_kv__new();
	struct compare_row row;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.ncpu = m.usable_cpus = 2;
	m.cpus = cpus;
	m.nr_threads = 2;
	m.wall_s = 2;
	m.parallelism.avg = 1.4;
	snprintf(m.verdict, sizeof(m.verdict), "parallel: 1.40 of 2 usable cores busy");
	assert_non_null(notes);
	weft_kv__set(notes, "model", "gil");
	weft_kv__set(notes, "task", "mixed");
	compare_row_from_metrics(&row, &m, notes, "file.data");
	assert_string_equal(row.model, "gil");
	assert_string_equal(row.task, "mixed");
	assert_true(fabs(row.others_share - 0.3) < 1e-12);
	assert_int_equal(row.runs, 1);
	assert_true(row.lo[FIG_PARALLELISM] == 1.4 && row.hi[FIG_PARALLELISM] == 1.4);
	assert_true(row.speedup < 0);
	compare_row_from_metrics(&row, &m, NULL, "file.data");
	assert_string_equal(row.model, "file.data");
	assert_string_equal(row.task, "");
	weft_kv__free(notes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median_run_and_spread),
		cmocka_unit_test(test_reference_only_for_one_task),
		cmocka_unit_test(test_top_wait_zero_share),
		cmocka_unit_test(test_every_format),
		cmocka_unit_test(test_row_from_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
