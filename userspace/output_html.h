/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* weft's HTML pages: one self-contained file per recording (weft report
 * --format html) and per comparison (weft compare --format html), with
 * everything inline (style, a small script, SVG charts, the flame graphs
 * in iframe srcdoc so that each graph's script has its own document), so
 * that it opens from disk with no network and can be attached to a bug.
 *
 * The figures come from struct weft_metrics (the JSON report's, and each
 * headline figure carries the JSON's value in data-key/data-value); the
 * shapes over time come from an html_series fed during the same pass over
 * the recording: the analysis' slices binned (downsample.h) into R(t),
 * Q(t) and per-thread state lanes, and the recorder's per-CPU totals
 * every 100 ms (WEFT_EV_CPU_TICK) into the per-CPU strip.
 *
 * Lifecycle: html_series__new() before the pass; html_series__feed()
 * with each event (a recording_tap's feed) and html_series__slice() with
 * each slice; then the writers; html_series__free() accepts NULL.
 * Memory: a few thousand bins per channel, 7 channels for the tree, 7 per
 * thread for the first HTML_LANES_TRACKED threads, 3 per CPU.
 */
#ifndef __WEFT_OUTPUT_HTML_H
#define __WEFT_OUTPUT_HTML_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "analysis.h"
#include "output.h"

struct compare_row;

/* Threads with a lane of their own (the first ones seen); the page shows
 * the busiest HTML_LANES_SHOWN of them and folds the rest into one lane */
#define HTML_LANES_TRACKED 64
#define HTML_LANES_SHOWN 24
/* Columns of the R(t) chart and of the lanes */
#define HTML_COLUMNS 800
#define HTML_LANE_COLUMNS 480
/* The strip's resolution is the recorder's (100 ms); at most this many
 * columns */
#define HTML_CPU_COLUMNS 240

struct html_series;

/* lanes: keep per-thread lanes and the per-CPU strip (the report); the
 * compare page needs R(t) and Q(t) only. start_ns: the recording's start
 * (analysis_opts.start_ns), where the recorder's per-CPU totals begin.
 * NULL and errno on failure. */
struct html_series *html_series__new(__u64 start_ns, bool lanes);
void html_series__free(struct html_series *s);
/* A recording_tap feed: ctx is the html_series. 0 or -ENOMEM. */
int html_series__feed(void *ctx, const struct weft_event_header *ev);
/* A weft_slice_fn: ctx is the html_series */
void html_series__slice(void *ctx, const struct weft_slice *slice);
/* After the analysis: the charts span its wall (m->wall_start_ns to
 * wall_end_ns), so that R(t) averages to its parallelism; until then,
 * and when the wall is empty, the first slice's start to the last's end */
void html_series__window(struct html_series *s, const struct weft_metrics *m);
/* The window drawn, in seconds */
double html_series__span_s(const struct html_series *s);
/* Whether the recording had the per-CPU totals over time */
bool html_series__has_cpu_ticks(const struct html_series *s);

/* A flame graph for the page's tabs: folded stacks and their counts */
struct html_flame {
	const char *id; /* "oncpu": the tab's and the panel's ids */
	const char *title; /* "On-CPU" */
	const char *unit; /* "samples" or "us" */
	int palette; /* enum flame_svg_palette */
	const char *const *stacks;
	const __u64 *values;
	size_t n;
};

#define HTML_MAX_FLAMES 4

struct html_opts {
	const struct output_opts *out; /* stacks (locks' top stacks), waits */
	const struct html_series *series; /* may be NULL: no charts over time */
	struct html_flame flames[HTML_MAX_FLAMES];
	unsigned int nr_flames;
	const char *source; /* the recording's file name, shown */
};

/* The report page. 0 or a negative errno (-EIO when the stream failed,
 * -ENOMEM). */
int output_html(FILE *out, const struct weft_metrics *m, const struct html_opts *o);

/* The compare page: the model table, bars of wall, speedup, parallelism,
 * serialized share and RSS per worker, each row's R(t) on one time scale
 * (series[i] may be NULL), the verdicts. task may be NULL. */
int output_html_compare(FILE *out, const char *task, const struct compare_row *rows,
			const struct html_series *const *series, int n);

#endif /* __WEFT_OUTPUT_HTML_H */
