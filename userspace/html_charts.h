/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The HTML page's charts, drawn as inline SVG from numbers the caller
 * computed (downsample.h gives the columns): no script, no font, no file.
 * Colours are CSS classes (s-run, s-queue, ..., c-traced, ...), so the
 * page's light and dark schemes and its print style colour them. Every
 * chart is an <svg role="img"> with a <title>, and its marks carry
 * <title>s a pointer or a screen reader finds.
 *
 * Every string drawn goes through html_text(), which escapes it for
 * element text and quoted attributes alike.
 */
#ifndef __WEFT_HTML_CHARTS_H
#define __WEFT_HTML_CHARTS_H

#include <stdio.h>

/* The plot's width in CSS pixels; charts scale down with the page */
#define CHART_WIDTH 960

/* A thread's states in its lane, and the classes that colour them */
enum lane_state {
	LANE_RUN,
	LANE_QUEUE,
	LANE_LOCK,
	LANE_WAIT,
	LANE_IO,
	LANE_SLEEP,
	LANE_OTHER, /* page faults, other waits, new, unknown */
	LANE_STATES,
};

const char *lane_state__name(enum lane_state s); /* "running", "runnable", "lock", ... */
const char *lane_state__class(enum lane_state s); /* "s-run", ... */

/* s escaped for HTML text and attributes (& < > " '), control characters
 * as '?' */
void html_text(FILE *out, const char *s);
/* A number as a short decimal: v with at most decimals digits after the
 * point, trailing zeros dropped ("1.5", "2", "0.125") */
void html_num(FILE *out, double v, int decimals);

/* The parallelism histogram: share[r] of wall at R = r, r < n */
void chart_histogram(FILE *out, const double *share, unsigned int n);

/* R(t) and Q(t) over n columns of col_ns each, starting t0_s seconds into
 * the recording: R as a filled step curve, Q stacked on it. The R path
 * carries data-series="R", data-col-ns and its levels rounded to
 * DOWNSAMPLE_DECIMALS, so its area can be read back. ymax 0: from the
 * data. compact: a small multiple (no legend, shorter). */
void chart_levels(FILE *out, const char *label, const double *r, const double *q, unsigned int n,
		  double col_ns, double t0_s, double ymax, unsigned int width, int compact);

/* One row per CPU: traced, other and idle shares of each of n columns
 * (row-major: v[cpu * n + col]), over span_s seconds */
void chart_cpu_strip(FILE *out, const double *traced, const double *other, const double *idle,
		     unsigned int ncpu, unsigned int n, double span_s);

/* A thread's lane: its level in each state per column (0..1) */
struct chart_lane {
	const char *name; /* "1234 worker" */
	const double *state[LANE_STATES]; /* n columns each */
};

/* One row per lane, each column coloured by the state that held most of
 * it (nothing where the thread did not exist), runs of one state as one
 * mark with a <title> */
void chart_lanes(FILE *out, const struct chart_lane *lanes, unsigned int nlanes, unsigned int n,
		 double span_s);

/* A bar of a bar chart */
struct chart_bar {
	const char *label; /* "threads" */
	double value; /* its length against the largest */
	const char *text; /* the figure written beside it ("2.01 s") */
	const char *cls; /* a colour class, or NULL */
};

/* Horizontal bars, one per row, labelled; title is the chart's title */
void chart_hbars(FILE *out, const char *title, const struct chart_bar *bars, unsigned int n);
/* One bar split into parts (shares of a whole, value in 0..1), with a
 * legend */
void chart_stacked(FILE *out, const char *title, const struct chart_bar *parts, unsigned int n);

#endif /* __WEFT_HTML_CHARTS_H */
