/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a recording's stacks say, for weft report: per process, the
 * functions its on-CPU samples were in and the stacks its threads blocked
 * in; and, for the whole recording, how the stacks were taken and how many
 * of them the unwinder could not finish.
 *
 * On-CPU functions: each sample counts once for its leaf (self) and once
 * for every distinct function of its stack (total). The leaf is the
 * kernel's when the sample has kernel frames (the CPU was in a system
 * call, a fault or an interrupt), named with flame's "_[k]" suffix
 * ("clear_page_erms_[k]"); else the user leaf. A sample without a stack
 * counts for "[unknown]". Shares are of the process's samples.
 *
 * Off-CPU stacks: the lines of the off-CPU flame graph by pid (flame.h,
 * FLAME_OFFCPU, FLAME_BY_PID), so that the report and `weft flame` always
 * agree, stack sampling's carried time included. Frames are flame's:
 * spaces and ';' made '_', kernel frames ending in "_[k]", a stack not
 * taken one "[unknown]" frame. Shares are of the process's blocked time as
 * that graph counts it.
 *
 * Lock stacks: per lock of the analysis' locks table, the user stacks its
 * waits blocked in, by time: that lock's own lines of the lock-wait flame
 * graph (flame.h, FLAME_LOCK, FLAME_BY_NONE, user frames only), stack
 * sampling's carried time included, so that they agree with `weft flame
 * --type lock`. Kernel frames are left out (they are the futex and
 * scheduler path of every wait) and stacks that differ only there are
 * one. Times are not rounded: a lock's stacks add up to at most its total
 * wait, and shares are of that total (weft_lock_metrics.total_s). A
 * pthread row (--locks=pthread) and the futex row of the same mutex show
 * the same stacks, the futex waits'.
 *
 * Cut short: a user stack whose last (outermost) frame is the unwinder's
 * marker WEFT_STACK_CUT_SHORT. Their share of off-CPU time gives each
 * blocked interval to the stack flame gives it to (a skipped switch's time
 * to its thread's next sampled stack, or its last one).
 *
 * Lifecycle: stack_summary__new() with the recording's stack table
 * (borrowed: it must live until stack_summary__finish()) and metadata
 * (read at once). For each event in time order, stack_summary__feed(),
 * then the analysis' feed, with stack_summary__slice() as the analysis'
 * slice observer; after weft_analysis__finish(), stack_summary__finish();
 * then read. Everything read belongs to the summary and lives until
 * stack_summary__free(). Memory grows with threads, processes, functions
 * and distinct stacks, never with events. Not thread-safe.
 */
#ifndef __WEFT_STACK_SUMMARY_H
#define __WEFT_STACK_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct stack_table;
struct weft_event_header;
struct weft_kv;
struct weft_metrics;
struct weft_slice;

/* Functions and stacks kept per process */
#define STACK_SUMMARY_TOP 5
/* Stacks kept per lock */
#define STACK_SUMMARY_LOCK_TOP 3

struct stack_summary_opts {
	/* The per-process tables. They cost a folded stack per blocked
	 * interval, so only reports that print them ask; the capture
	 * figures are computed either way. */
	bool per_process;
	/* Each lock's top user stacks: a folded stack per wait on an
	 * address, for reports that print the locks table. */
	bool locks;
};

/* How the stacks were taken. Settings the recording does not state
 * (older recordings) are 0 or NULL: each is at least 1 when stated. */
struct stack_capture {
	/* The recording holds stacks: false for --no-stacks, and for a file
	 * cut short before the recorder wrote them at the end. When false,
	 * nothing below is known. */
	bool recorded;
	const char *user_unwind; /* "tables", "fp" or NULL */
	unsigned int stack_every; /* 1: every blocking switch took stacks */
	/* stacks a second per CPU at most, beside stack_every (0: no limit,
	 * or not stated) */
	unsigned int stack_rate;
	/* every stack taken, the ones the sampling would skip marked */
	bool stack_audit;
	unsigned int sample_hz;
	unsigned int stack_entries;
	bool has_failures;
	__u64 failures; /* captures that failed in the kernel */
	/* Distinct user stacks, and those cut short */
	__u64 user_stacks, user_stacks_cut_short;
	/* Blocked time given to a stack, and to a cut-short one; false when
	 * no blocked interval was seen */
	bool has_blocked;
	__u64 blocked_ns, cut_short_ns;
};

struct stack_function {
	const char *name;
	__u64 self_samples; /* samples with it as their leaf */
	__u64 total_samples; /* samples with it anywhere on their stack */
};

struct stack_blocked {
	const char *const *frames; /* leaf first */
	unsigned int nframes;
	__u64 us;
};

struct stack_process {
	__u32 pid;
	__u64 samples;
	unsigned int nr_functions; /* by self samples, most first */
	struct stack_function functions[STACK_SUMMARY_TOP];
	__u64 blocked_us; /* the sum of all its off-CPU stacks */
	unsigned int nr_blocked; /* by time, longest first */
	struct stack_blocked blocked[STACK_SUMMARY_TOP];
};

/* A user stack that waited on a lock */
struct stack_waiter {
	/* user frames, leaf first; one "[unknown]" when the switch took no
	 * user stack */
	const char *const *frames;
	unsigned int nframes;
	__u64 ns; /* the lock's wait from this stack */
};

struct stack_lock {
	unsigned int nr_stacks; /* by time, longest first */
	struct stack_waiter stacks[STACK_SUMMARY_LOCK_TOP];
};

struct stack_summary;

/* stacks may be NULL (the recording has none); meta is the recording's
 * metadata. NULL and errno on failure. */
struct stack_summary *stack_summary__new(const struct stack_table *stacks,
					 const struct weft_kv *meta,
					 const struct stack_summary_opts *opts);
void stack_summary__free(struct stack_summary *s);

/* 0 or -ENOMEM */
int stack_summary__feed(void *ctx, const struct weft_event_header *ev);
/* A weft_slice_fn: ctx is the struct stack_summary */
void stack_summary__slice(void *ctx, const struct weft_slice *slice);
/* Closes the aggregation; m is the analysis' metrics. 0 or -ENOMEM. */
int stack_summary__finish(struct stack_summary *s, const struct weft_metrics *m);

const struct stack_capture *stack_summary__capture(const struct stack_summary *s);
/* Its stack_attrib, for another consumer to subscribe to before the first
 * feed (weft report --critical), so that the stacks are attributed once;
 * frames stay readable until the stack table is freed */
struct stack_attrib *stack_summary__attrib(struct stack_summary *s);
/* Whether the per-process tables were computed (asked for, and the
 * recording holds stacks) */
bool stack_summary__has_processes(const struct stack_summary *s);
/* After finish: the process's tables, or NULL when it had neither samples
 * nor blocked time */
const struct stack_process *stack_summary__process(const struct stack_summary *s, __u32 pid);

/* Whether the locks' stacks were computed (asked for, and the recording
 * holds stacks) */
bool stack_summary__has_locks(const struct stack_summary *s);
/* After finish: the top stacks of m->locks[i], m the metrics given to
 * finish (its locks table, in its order); NULL when they were not
 * computed or i is past the table. nr_stacks is 0 for a lock whose waits
 * took no stack. */
const struct stack_lock *stack_summary__lock(const struct stack_summary *s, unsigned int i);

/* A blocked stack in a few frames for a line of text, leaf first, joined
 * by " <- ": the kernel function the thread waited in (the first kernel
 * frame past the scheduler's own), then up to four user frames, with
 * "..." where frames are left out. Returns buf. */
char *stack_blocked__short(const struct stack_blocked *b, char *buf, size_t size);

/* A lock's waiting stack in a few frames for a line of text, leaf first,
 * joined by " <- ", starting where the program asked for the lock: the
 * lock implementation's frames at the leaf are left out (names, leading
 * underscores aside, starting with lll_, futex, pthread_mutex_,
 * pthread_rwlock_, pthread_spin_, sem_ and the like; frames that did not
 * resolve, and unnamed ones of libc), unless all of them are; a condition
 * variable's wait (pthread_cond_timedwait) is kept, as the call the
 * program made. Then up to four frames, with "..." when more are left
 * out. Returns buf. */
char *stack_waiter__short(const struct stack_waiter *w, char *buf, size_t size);

#endif /* __WEFT_STACK_SUMMARY_H */
