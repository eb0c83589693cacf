// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The HTML page writers on synthetic recordings: names from the recording
 * are escaped wherever they land, the summary carries the JSON's values,
 * the R(t) path's area is the on-CPU time, the per-CPU strip is drawn from
 * WEFT_EV_CPU_TICK records and said to be unavailable without them, and
 * the compare page has a chart per row on one time scale. */
#include <errno.h>
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
#include "html_charts.h"
#include "output.h"
#include "output_html.h"

struct both {
	struct weft_analysis *a;
	struct html_series *s;
};

#define EVENT_TARGET struct both
#include "event_builders.h"

#define MS 1000000ULL

static void feed(struct both *b, const void *ev)
{
	assert_int_equal(html_series__feed(b->s, ev), 0);
	assert_int_equal(weft_analysis__feed(b->a, ev), 0);
}

/* What fn writes, as a string (a temporary file: open_memstream's buffer
 * reads to gcc 12 as a pointer that dangles) */
static char *html_of(void (*fn)(FILE *, void *), void *ctx)
{
	FILE *f = tmpfile();
	char *buf;
	long len;

	assert_non_null(f);
	fn(f, ctx);
	assert_int_equal(fflush(f), 0);
	len = ftell(f);
	assert_true(len >= 0);
	buf = malloc(len + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void write_text(FILE *f, void *ctx)
{
	html_text(f, ctx);
}

static void test_escaping(void **state)
{
	char *s = html_of(write_text, "<b>&'\"x\x01");

	(void)state;
	assert_string_equal(s, "&lt;b&gt;&amp;&#39;&quot;x?");
	free(s);
}

/* the area under a step path's levels ("V1.5H1V2H2...") times the column */
static double path_area(const char *page, const char *series)
{
	char key[64];
	const char *p, *d;
	double col, sum = 0;

	snprintf(key, sizeof(key), "data-series=\"%s\" data-col-ns=\"", series);
	p = strstr(page, key);
	assert_non_null(p);
	col = strtod(p + strlen(key), NULL);
	d = strstr(p, " d=\"M0 0");
	assert_non_null(d);
	for (d += 8; *d == 'V';) {
		char *end;
		double v = strtod(d + 1, &end);

		if (*end != 'H')
			break;
		sum += v;
		strtoul(end + 1, &end, 10);
		d = end;
	}
	return sum * col;
}

struct page_ctx {
	const struct weft_metrics *m;
	struct html_opts *o;
	int err;
};

static void write_page(FILE *f, void *ctx)
{
	struct page_ctx *p = ctx;

	p->err = output_html(f, p->m, p->o);
}

static void tick(struct both *b, __u64 ts, unsigned int cpu, __u64 idle, __u64 traced, __u64 other)
{
	struct weft_ev_cpu_totals e = {
		.hdr = { .ts_ns = ts, .type = WEFT_EV_CPU_TICK, .cpu = cpu }
	};

	e.idle_ns = idle;
	e.traced_ns = traced;
	e.other_ns = other;
	feed(b, &e);
}

/* Two threads of a process named "<b>&'\"x" taking turns on two CPUs for
 * 1 s, with or without the recorder's ticks */
static char *page(bool ticks, const struct weft_metrics **mout, struct both *b)
{
	struct analysis_opts o = { .ncpu = 2, .usable_cpus = 2, .start_ns = 1 * MS };
	struct html_opts ho = { .out = NULL };
	struct page_ctx pc;
	__u64 t = 2 * MS;
	unsigned int k;
	char *s;

	b->a = weft_analysis__new(&o);
	b->s = html_series__new(o.start_ns, true);
	assert_non_null(b->a);
	assert_non_null(b->s);
	weft_analysis__set_slice_observer(b->a, html_series__slice, b->s);
	fork_ev(b, t, 1000, 1000, false, "<b>&'\"x");
	fork_ev(b, t, 1000, 1001, true, "<b>&'\"x");
	sw(b, t, 0, 0, BLOCK, 1000);
	for (k = 1; k <= 100; k++) {
		t += 10 * MS;
		/* 1000 runs on CPU 0 throughout; 1001 on CPU 1 every other 10 ms */
		if (k % 2) {
			sw(b, t, 1, 0, BLOCK, 1001);
		} else {
			sw(b, t, 1, 1001, BLOCK, 0);
			wake(b, t + 1, 1001, 1);
		}
		if (ticks && k % 10 == 0) {
			tick(b, t, 0, 0, t - o.start_ns, 0);
			tick(b, t, 1, (t - o.start_ns) / 2, (t - o.start_ns) / 2, 0);
		}
	}
	sw(b, t + 5 * MS, 0, 1000, DIE, 0);
	*mout = weft_analysis__finish(b->a);
	assert_non_null(*mout);
	html_series__window(b->s, *mout);
	ho.series = b->s;
	ho.source = "x<y>.data";
	pc = (struct page_ctx){ *mout, &ho, -1 };
	s = html_of(write_page, &pc);
	assert_int_equal(pc.err, 0);
	return s;
}

static void test_report_page(void **state)
{
	const struct weft_metrics *m;
	struct both b;
	char *s = page(true, &m, &b), want[128];

	(void)state;
	/* the recording's names never become markup */
	assert_null(strstr(s, "<b>"));
	assert_null(strstr(s, "x<y>"));
	assert_non_null(strstr(s, "&lt;b&gt;&amp;&#39;&quot;x"));
	/* the JSON's value beside the figure */
	snprintf(want, sizeof(want), "data-key=\"parallelism.avg\" data-value=\"");
	assert_non_null(strstr(s, want));
	assert_true(fabs(strtod(strstr(s, want) + strlen(want), NULL) - m->parallelism.avg) < 5e-7);
	assert_non_null(strstr(s, "data-key=\"verdict\""));
	/* R(t)'s area is the on-CPU time, within 0.5% */
	assert_true(m->on_cpu_s > 1);
	assert_true(fabs(path_area(s, "R") / 1e9 - m->on_cpu_s) <= 0.005 * m->on_cpu_s);
	/* the strip from the ticks; the lanes name both threads */
	assert_true(html_series__has_cpu_ticks(b.s));
	assert_non_null(strstr(s, "class=\"c-traced\""));
	assert_null(strstr(s, "strip-unavailable"));
	assert_non_null(strstr(s, "1001 &lt;b&gt;"));
	free(s);
	html_series__free(b.s);
	weft_analysis__free(b.a);
}

static void test_no_ticks_no_strip(void **state)
{
	const struct weft_metrics *m;
	struct both b;
	char *s = page(false, &m, &b);

	(void)state;
	assert_false(html_series__has_cpu_ticks(b.s));
	assert_non_null(strstr(s, "id=\"strip-unavailable\""));
	assert_non_null(strstr(s, "older weft"));
	assert_null(strstr(s, "<rect class=\"c-traced\""));
	free(s);
	html_series__free(b.s);
	weft_analysis__free(b.a);
}

struct compare_ctx {
	const struct compare_row *rows;
	const struct html_series *const *series;
	int n, err;
};

static void write_compare(FILE *f, void *ctx)
{
	struct compare_ctx *c = ctx;

	c->err = output_html_compare(f, NULL, c->rows, c->series, c->n);
}

static void test_compare_page(void **state)
{
	const struct weft_metrics *m1, *m2;
	struct compare_row rows[2];
	const struct html_series *series[2];
	struct compare_ctx cc;
	struct both b1, b2;
	char *p1 = page(true, &m1, &b1), *p2 = page(false, &m2, &b2), *s;

	(void)state;
	free(p1);
	free(p2);
	compare_row_from_metrics(&rows[0], m1, NULL, "a<i>.data");
	compare_row_from_metrics(&rows[1], m2, NULL, "b.data");
	compare_rows_finish(rows, 2, true);
	series[0] = b1.s;
	series[1] = b2.s;
	cc = (struct compare_ctx){ rows, series, 2, -1 };
	s = html_of(write_compare, &cc);
	assert_int_equal(cc.err, 0);
	assert_null(strstr(s, "<i>"));
	assert_non_null(strstr(s, "a&lt;i&gt;.data"));
	/* a chart per row, and the R path of each has its on-CPU area */
	assert_non_null(strstr(s, "data-series=\"R\""));
	assert_non_null(strstr(strstr(s, "data-series=\"R\"") + 1, "data-series=\"R\""));
	assert_true(fabs(path_area(s, "R") / 1e9 - m1->on_cpu_s) <= 0.005 * m1->on_cpu_s);
	assert_non_null(strstr(s, "id=\"verdicts\""));
	free(s);
	html_series__free(b1.s);
	html_series__free(b2.s);
	weft_analysis__free(b1.a);
	weft_analysis__free(b2.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_report_page),
		cmocka_unit_test(test_no_ticks_no_strip),
		cmocka_unit_test(test_compare_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
