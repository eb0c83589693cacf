/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A recording as a Chrome trace-event JSON file (the format Perfetto's UI,
 * chrome://tracing and speedscope open as they are), written as the events
 * go by.
 *
 * The timeline owns an analysis and feeds it every event; the analysis's
 * slice observer gives each closed interval of each thread (running,
 * runnable, blocked), which becomes a complete event ("ph":"X") on the
 * thread's track; switch records give the CPU tracks; the analysis's R and
 * Q after each event give the counters; the waker named on a blocked
 * interval gives a flow arrow to the wakee's next running slice. Thread
 * and process names ("ph":"M") come from the finished analysis, so they
 * are the latest ones.
 *
 * Output layout: { "traceEvents": [ ... ], "displayTimeUnit": "ms",
 * "otherData": { ... } }. Timestamps are microseconds (three decimals, so
 * nanoseconds are exact) from the recording's first event. Threads are
 * tracks of their process (pid = process id, tid = kernel thread id);
 * CPUs are tracks of the pseudo-process TIMELINE_CPUS_PID ("CPUs", tid =
 * CPU number + 1, named "CPU n"); the counters belong to the
 * pseudo-process TIMELINE_TREE_PID ("traced tree").
 *
 * Long recordings: a piece of a track shorter than min_ns joins its
 * neighbours into one slice named "mixed" whose args give the microseconds
 * spent in each state, so every total is kept; counters are averaged over
 * such runs the same way (the integral of R and Q is kept). Wakeups that
 * end a wait shorter than min_ns are not drawn. Memory holds a little
 * state per thread and per CPU, never a list of slices.
 *
 * Lifecycle: timeline__new() writes the opening of the file; feed every
 * event in time order (an event reader's order); timeline__finish() once,
 * which finishes the analysis and writes the rest; timeline__free()
 * accepts NULL and never closes the stream.
 */
#ifndef __WEFT_TIMELINE_H
#define __WEFT_TIMELINE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "analysis.h"
#include "events.h"

#define TIMELINE_CPUS_PID 0x7fffffffU
#define TIMELINE_TREE_PID 0x7ffffffeU

/* Chosen so a 10 s pingpong on one CPU (about 500,000 switches a second,
 * the most a machine does) stays under about 100 MB; see README. */
#define TIMELINE_MIN_US_DEFAULT 64

struct timeline_opts {
	__u64 min_ns; /* shorter pieces are merged into "mixed"; 0 merges nothing */
	/* The window, in ns from the recording's first event; to_ns 0 means
	 * to the end. Slices are cut at its edges. */
	__u64 from_ns, to_ns;
	bool threads; /* thread tracks and wakeup flows */
	bool cpus; /* CPU tracks */
};

/* What was written, for the user and the tests. */
struct timeline_stats {
	__u64 slices; /* thread slices from the analysis, before merging */
	__u64 cpu_slices; /* CPU slices, before merging */
	__u64 events; /* trace events written */
	__u64 mixed; /* "mixed" slices written */
	__u64 merged; /* slices that went into them */
	__u64 flows; /* wakeup arrows (s/f pairs) */
};

struct timeline;

/* Writes to out (the caller opens and closes it). aopts as for
 * weft_analysis__new(), borrowed until timeline__free(); its lock_name
 * callback names the addresses of blocked slices. NULL and errno on
 * failure. */
struct timeline *timeline__new(FILE *out, const struct timeline_opts *o,
			       const struct analysis_opts *aopts);
void timeline__free(struct timeline *tl);

/* One event, after the one before it in time. 0, or a negative errno
 * (-ENOMEM; -EIO once the stream failed). */
int timeline__feed(struct timeline *tl, const struct weft_event_header *ev);

/* True once an event past the window's end was fed: later events change
 * nothing in the file, so the caller may stop reading. */
bool timeline__past_end(const struct timeline *tl);

/* Finishes the analysis, closes every open slice and writes the names and
 * the end of the file. 0, or a negative errno (-EIO when the stream
 * failed). */
int timeline__finish(struct timeline *tl);

/* After finish: the analysis's metrics (NULL before), and the counts. */
const struct weft_metrics *timeline__metrics(const struct timeline *tl);
const struct timeline_stats *timeline__stats(const struct timeline *tl);
/* After finish: how long the recording is, in the window's time (from its
 * first event, or the recording's start with -p): what --from must stay
 * below for the window to show anything. */
__u64 timeline__span_ns(const struct timeline *tl);

#endif /* __WEFT_TIMELINE_H */
