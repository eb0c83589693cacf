/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Folded stacks (Brendan Gregg's format) from a recording: one line per
 * distinct stack, "root;frame;...;leaf COUNT", root first.
 *
 *   oncpu   the on-CPU samples' stacks; COUNT is samples
 *   offcpu  the stack each blocked interval started with (the switch that
 *           blocked the thread); COUNT is microseconds blocked
 *   wakeup  the blocked thread's stack, a "--" frame, then the stack of
 *           the thread that woke it, leaf first (as offwaketime prints
 *           it), ending with the waker's name; microseconds blocked
 *   lock    the off-CPU stacks of the waits on the addresses of the
 *           analysis' locks table (mutexes, kernel locks, turn-taking
 *           addresses); microseconds waited. Each lock's own lines are
 *           there too, before they merge (flame__lock_line()).
 *
 * The root frame names the process (--by process: processes of the same
 * name merge), "comm-pid", "comm-tid", or is left out (none). In every
 * frame, spaces and ';' become '_'; kernel frames end in "_[k]" (or are
 * left out: user_only); a stack that was not taken, or has no frames of
 * the kinds kept, is one "[unknown]" frame.
 *
 * Lifecycle: flame__new() with the recording's stack table (borrowed);
 * for each event in time order, flame__feed() and then the analysis' feed
 * (flame__slice() is the analysis' slice observer); flame__finish() with
 * the analysis' metrics; then read the lines, sorted by stack. Or all of
 * it at once from a file: flame__from_recording().
 */
#ifndef __WEFT_FLAME_H
#define __WEFT_FLAME_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>

struct stack_table;
struct weft_event_header;
struct weft_metrics;
struct weft_slice;

enum flame_type {
	FLAME_ONCPU,
	FLAME_OFFCPU,
	FLAME_WAKEUP,
	FLAME_LOCK,
};

enum flame_by {
	FLAME_BY_PROCESS,
	FLAME_BY_PID,
	FLAME_BY_THREAD,
	FLAME_BY_NONE,
};

struct flame_opts {
	enum flame_type type;
	enum flame_by by;
	/* Leave kernel frames out: stacks that differ only in the kernel
	 * (the futex and scheduler path a wait took) are one line. */
	bool user_only;
};

/* One line of one lock, for the lock type: the stack (as in the graph,
 * root first, without the "pid addr" the lines carry until finish) of
 * the waits of process pid on address addr, as the analysis' locks table
 * names them (struct weft_lock_metrics pid and addr), and the time they
 * waited in nanoseconds, not rounded, stack sampling's carried time
 * included: a lock's lines add up to at most its total wait (less when a
 * thread's skipped waits found no sampled stack of it on that lock). */
struct flame_lock_line {
	__u32 pid;
	__u64 addr;
	const char *stack;
	__u64 ns;
};

struct flame;

/* 0 and *out set, or -EINVAL for a name it does not know */
int flame_type__parse(const char *name, enum flame_type *out);
int flame_by__parse(const char *name, enum flame_by *out);
const char *flame_type__unit(enum flame_type type); /* "samples" or "us" */

/* NULL and errno on failure */
struct flame *flame__new(const struct flame_opts *opts, const struct stack_table *stacks);
void flame__free(struct flame *f);
/* 0 or -ENOMEM */
/* ctx is the struct flame (a recording_tap's feed) */
int flame__feed(void *ctx, const struct weft_event_header *ev);
/* A weft_slice_fn: ctx is the struct flame */
void flame__slice(void *ctx, const struct weft_slice *slice);
/* Closes the aggregation (m is needed for the lock type's locks table);
 * 0 or -ENOMEM. */
int flame__finish(struct flame *f, const struct weft_metrics *m);

/* After finish: the lines, sorted by stack */
size_t flame__count(const struct flame *f);
const char *flame__stack(const struct flame *f, size_t i);
__u64 flame__value(const struct flame *f, size_t i);
/* The process of line i's samples or blocked time; with --by none, lines
 * of several processes merge and this is the last one's */
__u32 flame__pid(const struct flame *f, size_t i);
__u64 flame__total(const struct flame *f);
/* Writes "stack COUNT\n" lines; 0 or -EIO */
int flame__write_folded(const struct flame *f, FILE *out);

/* After finish, lock type only (else none): the lines of each lock of the
 * locks table, sorted by pid, then address, then time (longest first; ties
 * by stack), so that a lock's lines are next to each other, its top ones
 * first. Owned by f, valid until flame__free(). */
size_t flame__lock_count(const struct flame *f);
const struct flame_lock_line *flame__lock_line(const struct flame *f, size_t i);

/* The whole pass over a recording (recording_run() with the flame as its
 * tap); NULL with one line in err (naming the file) on failure. */
struct flame *flame__from_recording(const char *path, const struct flame_opts *opts, char *err,
				    size_t errlen);

#endif /* __WEFT_FLAME_H */
