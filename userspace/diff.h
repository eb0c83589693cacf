/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* weft diff: two recordings (or two sets of them, A1,A2 against B1,B2)
 * side by side, and what changed between them beyond noise.
 *
 * Each recording gives a diff_run (plain numbers and texts, copied in):
 * its metrics with the count of events behind each (samples, waits,
 * intervals), its locks keyed by name (an unnamed heap lock, whose address
 * changes from run to run, by its kind and the functions of its top
 * waiting stack), and its folded stacks of one type. A side is the mean of
 * its runs. Where the runs differ in length (walls more than 1% apart),
 * every time and count is divided by its run's wall, so that a longer run
 * does not look worse for being longer.
 *
 * The change rule (diff_changed()): a change is marked when it is beyond
 * max(5% of A, 3 sqrt(count) events), the count noise of a Poisson
 * process, each event worth the metric's mean per event; with several
 * recordings on a side, also beyond the spread (max - min) of either side.
 * A recording against itself changes nothing.
 *
 * Lifecycle: diff__new(); diff__add() each run; diff__finish(); then the
 * rows or a writer. Not thread-safe.
 */
#ifndef __WEFT_DIFF_H
#define __WEFT_DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "analysis.h"
#include "flame.h"

struct attributed_stack;

enum diff_metric {
	DIFF_WALL,
	DIFF_PARALLELISM,
	DIFF_CONCURRENCY,
	DIFF_ON_CPU,
	DIFF_SAMPLES,
	DIFF_INTERLEAVED,
	DIFF_SERIALIZED,
	DIFF_RUNQUEUE,
	DIFF_OFF_CPU, /* + enum weft_wait_reason: one per reason */
	DIFF_NR_METRICS = DIFF_OFF_CPU + WEFT_OFF_CPU_REASONS,
};

/* A figure and the number of events it sums (0: not known; the 5% rule
 * alone applies) */
struct diff_value {
	double v;
	double count;
};

struct diff_lock_in {
	char name[192];
	double total_s;
	__u64 waits;
};

struct diff_run {
	const char *path;
	struct diff_value metrics[DIFF_NR_METRICS];
	struct diff_lock_in *locks;
	unsigned int nr_locks;
	/* folded stacks of the diff's type: text and count */
	const char *const *stacks;
	const __u64 *values;
	size_t nstacks;
};

/* One side's figure: mean of its runs, their spread, the mean count */
struct diff_stat {
	double mean, min, max, count;
	unsigned int runs;
};

/* The change rule above */
bool diff_changed(const struct diff_stat *a, const struct diff_stat *b);

struct diff_row {
	const char *name;
	double a, b, delta;
	bool changed;
};

struct diff;

struct diff *diff__new(enum flame_type type);
void diff__free(struct diff *d);
/* side 0 is A, 1 is B; r is copied. 0 or -ENOMEM */
int diff__add(struct diff *d, int side, const struct diff_run *r);
/* 0 or -ENOMEM; -EINVAL when a side has no run */
int diff__finish(struct diff *d);

/* After finish. Metrics in enum order; locks and reasons by the size of
 * their change in wait time, largest first (ties by name) */
size_t diff__metrics(const struct diff *d, const struct diff_row **rows);
size_t diff__locks(const struct diff *d, const struct diff_row **rows);
size_t diff__reasons(const struct diff *d, const struct diff_row **rows);
bool diff__per_wall(const struct diff *d);
/* Rows marked changed, in all three lists */
size_t diff__changes(const struct diff *d);

/* 0 or -EIO (-ENOMEM for folded and svg) */
int diff__write_text(const struct diff *d, FILE *out, bool markdown);
int diff__write_json(const struct diff *d, FILE *out);
/* "stack COUNT_A COUNT_B" per line, sorted by stack, as difffolded.pl */
int diff__write_folded(const struct diff *d, FILE *out);
int diff__write_svg(const struct diff *d, FILE *out);

/* --- gathering a run from a recording's pass --- */

/* A stack_attrib consumer counting what the metrics need counts of:
 * on-CPU samples, and blocked intervals by reason */
struct diff_counts {
	__u64 samples;
	__u64 intervals[WEFT_OFF_CPU_REASONS];
};
void diff_counts__add(void *ctx, const struct attributed_stack *as);

/* Fills r from a finished pass: the metrics m, the counts, the typed
 * flame's lines and the lock flame's (type lock, --by none, user frames
 * only), which names unnamed locks. Strings and arrays are allocated into
 * r; diff_run__release() frees them. 0 or -ENOMEM. */
int diff_run__fill(struct diff_run *r, const struct weft_metrics *m, const struct diff_counts *c,
		   const struct flame *typed, const struct flame *locks);
void diff_run__release(struct diff_run *r);

#endif /* __WEFT_DIFF_H */
