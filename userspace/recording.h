/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A recording read and analysed: the file's metadata turned into the
 * analysis options, every event fed in time order, the metrics kept. Every
 * subcommand that reports from a file (report, compare, ...) starts here. */
#ifndef __WEFT_RECORDING_H
#define __WEFT_RECORDING_H

#include <stddef.h>

#include "analysis.h"

struct recording;
struct stack_table;
struct weft_file;
struct weft_metrics;

/* What else sees the pass over the events, so that a report computes
 * everything in one read of the file: feed gets each event before the
 * analysis does (a negative errno stops the pass), slice is the analysis'
 * slice observer. Any of them may be NULL. */
struct recording_tap {
	int (*feed)(void *ctx, const struct weft_event_header *ev);
	weft_slice_fn slice;
	void *ctx;
};

/* NULL with one line in err (which names the file) when the file cannot be
 * read or is corrupt. A truncated file is analysed up to its last whole
 * section, and a warning naming it goes to stderr. */
struct recording *recording_analyze(const char *path, char *err, size_t errlen);
/* The file opened and its metadata turned into analysis options, for a
 * caller that feeds the events itself (weft timeline reads them through
 * recording_file()); nothing is analysed. *opts (the command and the lock
 * names too; opts may be NULL) belongs to rec and lives until
 * recording_free(). Errors and
 * the truncation warning as recording_analyze(). */
struct recording *recording_open(const char *path, const struct analysis_opts **opts, char *err,
				 size_t errlen);
/* After recording_open(): the pass over the events into the analysis and
 * tap (NULL: none), then the metrics (recording_metrics()). Once only. 0,
 * or a negative errno with one line in err (which names the file). */
int recording_run(struct recording *rec, const struct recording_tap *tap, char *err, size_t errlen);
/* Adds the recording's stacks (its STACKS sections) to t. A damaged
 * section costs the stacks from its fault on, not the report. */
void recording_read_stacks(struct recording *rec, struct stack_table *t);
/* After recording_run(): the critical path's summary into the metrics,
 * and the verdict chosen again with it (weft_analysis__set_path) */
int recording_set_path(struct recording *rec, const struct weft_path_summary *p);
/* NULL until recording_run() */
const struct weft_metrics *recording_metrics(const struct recording *rec);
struct weft_file *recording_file(const struct recording *rec);
void recording_free(struct recording *rec);

#endif /* __WEFT_RECORDING_H */
