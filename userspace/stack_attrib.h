/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Attributed stacks: the event stream of a recording turned into the
 * stacks that time or samples belong to, for every consumer of stacks
 * (folded lines and their SVG, the report's stack summary, and whatever
 * reads stacks next). This is the one place that decides which stack a
 * sample or a blocked interval is given:
 *
 *   on-CPU   each sample: its thread, its user and kernel stack, weight 1
 *   off-CPU  each blocked interval of a traced thread (the analysis'
 *            BLOCKED slices): the stacks of the switch that blocked it,
 *            the wakeup that ended it (who woke it, with the waker's
 *            stacks), weight its length in ns
 *
 * Stack sampling (--stack-every N) takes stacks at some blocking switches
 * only. A blocked interval whose switch took none gives its time to the
 * thread's next interval that did and waits the same way: the same system
 * call on the same address (what the switch knows without a stack), so
 * that a producer's rare lock wait does not take the time of its many
 * condition-variable waits. Time still carried at the end, with no later
 * sampled stack of its kind, goes to a record of its own whose stacks are
 * not taken and whose unsampled flag is set (the "[unsampled wait]"
 * frame): totals stay exact, and nothing is given to a stack it was not
 * seen in.
 *
 * A record names stacks by their ids in the recording's stack table;
 * stack_attrib__frames() gives a stack's frames as ids of interned names
 * (strtab.h), the same ids for the same frame text, so consumers count and
 * merge numbers and make text only when they print. Thread names are
 * interned ids too, as they were when the record was made.
 *
 * Lifecycle: stack_attrib__new() with the recording's stack table
 * (borrowed; NULL when there is none); stack_attrib__subscribe() each
 * consumer; then for each event in time order stack_attrib__feed(), and
 * the analysis' feed with stack_attrib__slice() as its slice observer
 * (a recording_tap); stack_attrib__finish() once, which hands out the
 * carried time still held. Records are valid during the call only.
 * Memory grows with threads and carries, never with events. Not
 * thread-safe.
 */
#ifndef __WEFT_STACK_ATTRIB_H
#define __WEFT_STACK_ATTRIB_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct stack_table;
struct strtab;
struct weft_event_header;
struct weft_slice;

enum stack_kind {
	STACK_KIND_ONCPU, /* a sample; weight 1 */
	STACK_KIND_OFFCPU, /* a blocked interval; weight in ns */
};

/* A thread as a record names it: its names (interned) when the record
 * was made. comm 0: not known; leader_comm 0: its process's main thread
 * is not known or has no name. */
struct attrib_thread {
	__u32 tid, pid;
	__u32 comm, leader_comm;
};

/* The stacks a thread was in: ids in the stack table (negative: none),
 * user ones of process tgid. taken false: no switch of the thread was
 * seen, so nothing is known of where it was. */
struct attrib_stacks {
	bool taken;
	__u32 tgid;
	__s32 user, kernel;
};

enum attrib_waker {
	ATTRIB_WAKER_NONE, /* no wakeup seen: unknown */
	ATTRIB_WAKER_IRQ, /* an interrupt (a timer, a device) */
	ATTRIB_WAKER_TASK, /* a task; waker_thread.tid 0 when the kernel did
			    * not say which */
};

struct attributed_stack {
	enum stack_kind kind;
	struct attrib_thread thread;
	struct attrib_stacks stacks;
	__u64 weight;
	/* STACK_KIND_OFFCPU: the interval (carried time not included);
	 * STACK_KIND_ONCPU: both the sample's time */
	__u64 start_ns, end_ns;
	/* STACK_KIND_OFFCPU only */
	int reason; /* enum weft_wait_reason */
	int syscall_nr;
	__u64 addr;
	enum attrib_waker waker;
	struct attrib_thread waker_thread;
	struct attrib_stacks waker_stacks;
	/* Part of weight is time carried from intervals that took no stack
	 * (carried_ns); or the record hands out, at the end, carried time
	 * that no later sampled stack of its kind took (unsampled: weight is
	 * all carried, stacks not taken, start_ns and end_ns 0) */
	__u64 carried_ns;
	bool unsampled;
};

typedef void (*stack_attrib_fn)(void *ctx, const struct attributed_stack *as);

struct stack_attrib;

/* stacks may be NULL: every record then has stacks that do not resolve.
 * NULL and errno on failure. */
struct stack_attrib *stack_attrib__new(const struct stack_table *stacks);
void stack_attrib__free(struct stack_attrib *a);

/* Adds a consumer; records go to every one, in the order they were added.
 * 0, or -ENOSPC past STACK_ATTRIB_SINKS: weft report --format html
 * --threads --critical has 9 (the summary's capture and Python counts and
 * its 3 flames, the critical path, the page's 3 flames). */
#define STACK_ATTRIB_SINKS 12
int stack_attrib__subscribe(struct stack_attrib *a, stack_attrib_fn fn, void *ctx);

/* A recording_tap's feed (ctx: the stack_attrib); 0 or -ENOMEM */
int stack_attrib__feed(void *ctx, const struct weft_event_header *ev);
/* A weft_slice_fn (ctx: the stack_attrib) */
void stack_attrib__slice(void *ctx, const struct weft_slice *slice);
/* On a recording made with record's hidden --stack-audit (every stack
 * taken, those the default sampling would have skipped marked
 * WEFT_SWITCH_WOULD_SKIP / WEFT_WAKE_WOULD_SKIP): attribute as the default
 * would have, the marked stacks taken for skipped ones, so that the same
 * recording gives both attributions and the sampling's bias is measured.
 * Before the first feed. */
void stack_attrib__as_sampled(struct stack_attrib *a);

/* Hands out the carries still holding time; once. 0 or -ENOMEM. */
int stack_attrib__finish(struct stack_attrib *a);
/* Whether an allocation failed along the way (the records since lack
 * what it was for); the slice observer cannot return an error */
bool stack_attrib__failed(const struct stack_attrib *a);

/* The names of frames and threads; owned by a, valid until its free */
struct strtab *stack_attrib__names(const struct stack_attrib *a);
const struct stack_table *stack_attrib__stacks(const struct stack_attrib *a);

/* The frames of a stack, leaf first, as name ids: a user frame's name,
 * a kernel frame's with "_[k]" after it (weft's own tracing frames at the
 * leaf of a kernel stack left out), in the folded format's spelling
 * (';', tabs and newlines made '_', spaces kept; a frame with no name
 * "[unknown]"). A user stack that carries Python frames has each
 * _PyEval_EvalFrameDefault frame replaced by the Python frames it ran,
 * "qualname (file.py:LINE)" (pyframes.h). *n 0 when the table does not hold the stack. The array
 * lives until stack_attrib__free(). 0 or -ENOMEM. */
int stack_attrib__frames(struct stack_attrib *a, bool user, __u32 tgid, __s32 id, const __u32 **ids,
			 unsigned int *n);

/* Whether the user stack is one the unwinder could not finish */
bool stack_attrib__cut_short(const struct stack_attrib *a, __u32 tgid, __s32 user_id);

/* The id of a name in the folded spelling (as the frames above), for the
 * frames consumers add of their own ("[unknown]", "--", roots); 0 on
 * failure */
__u32 stack_attrib__intern(struct stack_attrib *a, const char *name, const char *suffix);
/* The same for a root frame (a process or thread name): its spaces made
 * '_' too */
__u32 stack_attrib__intern_root(struct stack_attrib *a, const char *name);

#endif /* __WEFT_STACK_ATTRIB_H */
