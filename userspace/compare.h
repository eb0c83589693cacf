/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The comparison table of weft compare: one row per recording (or the
 * median of several recordings of one model), the same columns in every
 * format. Rows are built from analysed recordings and the notes that
 * weft compare appended to them (model, the workload's own result). */
#ifndef __WEFT_COMPARE_H
#define __WEFT_COMPARE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "analysis.h"

struct weft_metrics;
struct weft_kv;

#define COMPARE_NAME_LEN 64

/* The figures of a row that runs can spread over (min-max). */
enum compare_figure {
	FIG_WALL,
	FIG_ELAPSED,
	FIG_ON_CPU,
	FIG_PARALLELISM,
	FIG_PARALLELISM_MAX,
	FIG_CONCURRENCY,
	FIG_INTERLEAVED,
	FIG_SERIALIZED,
	FIG_TOP_WAIT_SHARE,
	FIG_THREADS,
	FIG_PROCESSES,
	FIG_MAXRSS,
	FIG_SWITCHES,
	FIG_LOCK_WAITS,
	FIG_HANDOFFS,
	COMPARE_FIGURES,
};

/* Other programs taking more of the cores than this in a run are warned
 * of: the figures are then theirs as much as the model's. */
#define COMPARE_OTHERS_WARN 0.20

struct compare_row {
	char model[COMPARE_NAME_LEN]; /* the mode name, or the file's name */
	char task[16]; /* weft-work's task from the notes; "" when not one */
	char checksum[COMPARE_NAME_LEN]; /* the workload's, "" when unknown */
	unsigned int workers; /* 0 when unknown */
	double wall_s; /* DESIGN's wall: first to last event of the tree */
	double elapsed_s; /* the workload's own; < 0 when unknown */
	double speedup; /* wall of the reference row / this wall; < 0 unknown */
	double on_cpu_s;
	double parallelism_avg;
	unsigned int parallelism_max;
	double concurrency_avg;
	double interleaved_share;
	double serialized_share; /* < 0 when the recording has no lock data */
	char top_wait[16]; /* an off_cpu key without _s; "" when unknown */
	double top_wait_share; /* of the summed thread lifetime */
	unsigned int threads, processes;
	__u64 maxrss_kb; /* the sum of each process's peak */
	__u64 rss_per_worker_kb;
	bool has_rss_per_worker; /* only against a model of the same task */
	double switches_per_s;
	__u64 lock_waits;
	double handoffs_per_s; /* of the lock with the most wait: how often it changed hands */
	int checksum_ok; /* 1, 0, or -1 when unknown */
	char verdict[WEFT_VERDICT_LEN];
	/* the share of the cores other programs held (the largest over the
	 * runs), as weft_metrics__others_share() */
	double others_share;
	/* Runs behind the row; every figure above is the median run's (the
	 * one whose wall is the median), lo and hi their range over runs. */
	unsigned int runs;
	double lo[COMPARE_FIGURES], hi[COMPARE_FIGURES];
};

/* The value of a figure of a row. */
double compare_row__figure(const struct compare_row *row, enum compare_figure fig);

/* Fills a row from one recording's metrics and notes (which may be NULL). */
void compare_row_from_metrics(struct compare_row *row, const struct weft_metrics *m,
			      const struct weft_kv *notes, const char *fallback_name);

/* The median run of n runs of one model (the one whose wall is the median;
 * of an even n the faster of the two middle ones), so that its verdict and
 * its figures agree, with each figure's range over the runs. */
void compare_row_median(struct compare_row *out, const struct compare_row *rows, int n);

/* Whether the rows are models of one task (their notes name the same task):
 * only then is one row's wall a reference for another's. */
bool compare_rows_one_task(const struct compare_row *rows, int n);

/* Checksum agreement always; speedups against the reference row (sync's
 * when it is there, else the first) and RSS per worker only when
 * one_task, else unknown. */
void compare_rows_finish(struct compare_row *rows, int n, bool one_task);

/* The table's columns, for a writer outside compare.c (the HTML page):
 * their count, each header, and cell c of a row as the text table shows
 * it, with the number behind it in *sort (NAN for a name, or a figure not
 * known). */
unsigned int compare_columns(void);
const char *compare_column_header(unsigned int c);
void compare_cell(char *buf, size_t size, unsigned int c, const struct compare_row *row,
		  double *sort);

enum compare_format {
	COMPARE_TEXT,
	COMPARE_MARKDOWN,
	COMPARE_JSON,
	COMPARE_CSV,
	COMPARE_HTML, /* a page of its own: output_html_compare(), not compare_print() */
};

/* task may be NULL (comparing files). width: the terminal's columns for
 * text. 0, or a negative errno from writing. */
int compare_print(FILE *out, enum compare_format format, const char *task,
		  const struct compare_row *rows, int n, int width);

#endif /* __WEFT_COMPARE_H */
