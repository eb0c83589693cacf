/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The critical path through wakeups (DESIGN.md, "Causality"): the one
 * chain of work and waits that decided the wall time, walked back from the
 * end of the path.
 *
 * From the end (the root process's last event; with -p, the last event of
 * the tree's thread that ended last), backwards, on the thread at hand:
 *   running   its running segment is on the path;
 *   queued    its queued segment is (cause: the tree's thread that held
 *             that CPU longest meanwhile, or others);
 *   blocked   woken by a thread of the tree: the path jumps to the waker at
 *             the wake and goes on there (if the waker was no longer
 *             running at the wake, the wakee's wait is on the path back to
 *             the waker's last running instant); woken by a timer, an
 *             interrupt or a task outside the tree: the blocked segment is
 *             on the path, classified by its off-CPU reason;
 *   forked    before a thread's first segment, or in its NEW segment, the
 *             path goes to the thread that forked it;
 *   unknown   a gap, lost records, no parent: "other" on the thread.
 * The segments tile [first event, end of path] exactly: path_ns is that
 * span, and the shares below each sum to it.
 *
 * Shares: per thread; per state; per lock, the path's time inside a
 * critical section others were waiting for (the wait-for graph's holders,
 * waitfor__set_hold_observer), only for the addresses of the report's locks
 * table; with it, a what-if bound per lock: the path's time spent in waits
 * on that lock, which is the most the wall could shrink if it were never
 * contended. Per function: a thread's running time on the path spread over
 * its on-CPU samples that fall in its path segments (leaf frame), a blocked
 * segment by its stack (leaf user frame), queued and other time by state.
 *
 * Lifecycle: critical__new(); for each event critical__feed() (forks) and,
 * when stacks are wanted, stack_attrib's records to critical__stack()
 * (critical__new subscribes it to attrib); critical__slice() for every
 * slice, and the waitfor's hold observer; critical__finish() once after the
 * analysis finished; then the getters until critical__free().
 *
 * Memory grows with the events: a slice is kept encoded in 3 to 8 bytes
 * (about 5.3 on ping-pong), a piece of the path in about 7, a lock wait
 * with its holder in 24, a sample and a blocked interval with a stack in
 * 24 (a blocked interval without a frame is not kept). The path needs the
 * whole history, which is why the report computes it only when asked.
 */
#ifndef __WEFT_CRITICAL_H
#define __WEFT_CRITICAL_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "analysis.h"

struct attributed_stack;
struct stack_attrib;
struct weft_event_header;
struct weft_metrics;

enum critical_state {
	CRIT_RUNNING,
	CRIT_QUEUED, /* tree_ns of it behind a thread of the tree */
	CRIT_BLOCKED, /* reason says why */
	CRIT_OTHER, /* not yet enqueued after a fork with no parent known, gaps, lost records */
};

/* One piece of the path, on one thread, in time order */
struct critical_segment {
	__u64 start_ns, end_ns;
	__u64 tree_ns; /* CRIT_QUEUED: the part behind a thread of the tree */
	__u64 slice_start_ns; /* the start of the slice it was cut from */
	__u64 addr; /* CRIT_BLOCKED, or a jump's wait: the address waited on (0 none) */
	__u32 tid, pid;
	__u32 cause_tid; /* CRIT_QUEUED: the tree's thread that held the CPU (0 others) */
	__u8 state;
	__u8 reason; /* CRIT_BLOCKED: enum weft_wait_reason */
};

struct critical_thread {
	__u32 tid, pid;
	char comm[WEFT_COMM_LEN + 1];
	__u64 ns;
	double share; /* of the path */
};

struct critical_state_ns {
	__u64 running, runnable_tree, runnable_others, sleep, io, lock, wait, other;
};

struct critical_lock {
	__u32 pid;
	__u64 addr;
	char name[64]; /* weft_lock_metrics__label(): the name, or "kernel at 0x..." */
	__u64 ns; /* the path inside critical sections of it that others waited for */
	double share;
	/* the path's time in waits on it: an upper bound on what the wall
	 * would gain if it were never contended */
	__u64 bound_ns;
};

struct critical_function {
	const char *name; /* owned by the critical's attrib names */
	__u64 ns;
	double share;
};

struct critical_cause {
	__u32 tid; /* 0: other tasks */
	char comm[WEFT_COMM_LEN + 1];
	__u64 ns;
};

struct critical;

/* attrib (borrowed, may be NULL: no functions, no folded stacks) gets the
 * critical as a subscriber. NULL and errno on failure. */
struct critical *critical__new(struct stack_attrib *attrib);
void critical__free(struct critical *c);

/* A recording_tap's feed: forks (who created whom); 0 always */
int critical__feed(void *ctx, const struct weft_event_header *ev);
/* A weft_slice_fn (ctx: the critical) */
void critical__slice(void *ctx, const struct weft_slice *s);
/* A waitfor hold observer (ctx: the critical): holder held addr of pid
 * over [from, to] while the waiter waited there */
void critical__hold(void *ctx, __u32 pid, __u64 addr, __u32 holder, __u64 from, __u64 to);

/* The walk and the shares; m (may be NULL in tests: the first thread's
 * process is the root, every address a lock) gives the root, the mode,
 * wall and the locks. 0, -ENOMEM, or -ENODATA when no slice was seen. */
int critical__finish(struct critical *c, const struct weft_metrics *m);

double critical__wall_s(const struct critical *c);
__u64 critical__path_ns(const struct critical *c);
__u64 critical__first_ns(const struct critical *c);
/* the thread the path ends on */
__u32 critical__end_tid(const struct critical *c);
unsigned int critical__nr_segments(const struct critical *c);
/* the i-th piece of the path, in time order */
void critical__segment(const struct critical *c, unsigned int i, struct critical_segment *out);
const struct critical_state_ns *critical__by_state(const struct critical *c);
/* each list by ns, largest first */
const struct critical_thread *critical__by_thread(const struct critical *c, unsigned int *nr);
const struct critical_lock *critical__by_lock(const struct critical *c, unsigned int *nr);
const struct critical_function *critical__by_function(const struct critical *c, unsigned int *nr);
/* what queued path segments waited behind */
const struct critical_cause *critical__queued_behind(const struct critical *c, unsigned int *nr);
/* The summary the verdict reads (analysis.h) */
void critical__summary(const struct critical *c, struct weft_path_summary *out);

enum critical_by {
	CRITICAL_BY_THREAD,
	CRITICAL_BY_FUNCTION,
	CRITICAL_BY_LOCK,
};

/* Writers (output_critical.c): 0 or -EIO */
struct json_writer;
/* the critical_path object's value (the caller writes its key); with
 * verdict (may be NULL) and its kind as members, for weft critical */
void critical__write_json(const struct critical *c, struct json_writer *w, const char *verdict,
			  const char *verdict_kind);
int critical__write_text(const struct critical *c, FILE *out, enum critical_by by,
			 const char *verdict);
/* The path as folded stacks, microseconds: by thread, the root is
 * comm-tid; by function, comm. -EINVAL for CRITICAL_BY_LOCK. */
int critical__write_folded(struct critical *c, FILE *out, enum critical_by by);
/* The same lines one by one (stack, microseconds; never 0), for a caller
 * that draws them (the HTML page's tab); fn's non-zero return stops the
 * walk and is returned. 0, -ENOMEM or -EINVAL as above. */
typedef int (*critical_folded_fn)(void *ctx, const char *stack, __u64 us);
int critical__for_each_folded(struct critical *c, enum critical_by by, critical_folded_fn fn,
			      void *ctx);

#endif /* __WEFT_CRITICAL_H */
