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

struct weft_metrics;
struct weft_kv;

#define COMPARE_NAME_LEN 64

struct compare_row {
	char model[COMPARE_NAME_LEN]; /* the mode name, or the file's name */
	char checksum[COMPARE_NAME_LEN]; /* the workload's, "" when unknown */
	unsigned int workers; /* 0 when unknown */
	double wall_s; /* DESIGN's wall: first to last event of the tree */
	double elapsed_s; /* the workload's own; < 0 when unknown */
	double speedup; /* wall of the reference row / this wall */
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
	double switches_per_s;
	__u64 lock_waits;
	double handoffs_per_s; /* of the lock with the most wait: how often it changed hands */
	int checksum_ok; /* 1, 0, or -1 when unknown */
	char verdict[160];
};

/* Fills a row from one recording's metrics and notes (which may be NULL). */
void compare_row_from_metrics(struct compare_row *row, const struct weft_metrics *m,
			      const struct weft_kv *notes, const char *fallback_name);

/* The median of each column over n rows of one model, with the verdict of
 * the row whose wall is the median. */
void compare_row_median(struct compare_row *out, const struct compare_row *rows, int n);

/* Speedups against the reference row (sync's when prefer_sync and it is
 * there, else the first), checksum agreement, and RSS per worker. */
void compare_rows_finish(struct compare_row *rows, int n, bool prefer_sync);

enum compare_format {
	COMPARE_TEXT,
	COMPARE_MARKDOWN,
	COMPARE_JSON,
	COMPARE_CSV,
};

/* task may be NULL (comparing files). width: the terminal's columns for
 * text. 0, or a negative errno from writing. */
int compare_print(FILE *out, enum compare_format format, const char *task,
		  const struct compare_row *rows, int n, int width);

#endif /* __WEFT_COMPARE_H */
