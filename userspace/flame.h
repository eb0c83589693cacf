/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Folded stacks (Brendan Gregg's format), one line per distinct stack,
 * "root;frame;...;leaf COUNT", root first, made from attributed stacks
 * (stack_attrib.h, which decides what each sample's and each blocked
 * interval's stack is):
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
 * name merge), "comm-pid", "comm-tid", or is left out (none). Frames are
 * spelled as stack_attrib__frames() gives them: spaces and ';' made '_',
 * kernel frames ending in "_[k]" (or left out: user_only); a stack that
 * was not taken, or has no frames of the kinds kept, is one "[unknown]"
 * frame; time that stack sampling carried and no later sampled stack of
 * its kind took is one "[unsampled wait]" frame.
 *
 * Lines are counted by numbers (the thread, the stack ids, the wait
 * address) while the events go by; their text is made once, at
 * flame__finish().
 *
 * Lifecycle: flame__new() subscribes the flame to a stack_attrib (it must
 * outlive the flame; several flames may share one); the
 * events go through the stack_attrib; flame__finish() with the analysis'
 * metrics (it finishes the stack_attrib first); then read the lines,
 * sorted by stack.
 */
#ifndef __WEFT_FLAME_H
#define __WEFT_FLAME_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>

#include "stack_attrib.h"

struct stack_attrib;
struct strtab;
struct weft_metrics;

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
	const __u32 *ids; /* the stack's frames, root first (flame__names()) */
	unsigned int nids;
	/* the lock's name as the locks table gives it ("gil+0x28"), or its
	 * kind and address ("mutex at 0x7f12a0") when it has none */
	const char *lock_name;
};

struct flame;

/* 0 and *out set, or -EINVAL for a name it does not know */
int flame_type__parse(const char *name, enum flame_type *out);
int flame_by__parse(const char *name, enum flame_by *out);
const char *flame_type__unit(enum flame_type type); /* "samples" or "us" */

/* NULL and errno on failure (ENOSPC: a has no room for one more
 * consumer) */
struct flame *flame__new(const struct flame_opts *opts, struct stack_attrib *a);
void flame__free(struct flame *f);
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
/* Line i's frames, root first, as ids of the names in flame__names() */
void flame__frames(const struct flame *f, size_t i, const __u32 **ids, unsigned int *n);
const struct strtab *flame__names(const struct flame *f);
/* Writes "stack COUNT\n" lines; 0 or -EIO */
int flame__write_folded(const struct flame *f, FILE *out);

/* After finish, lock type only (else none): the lines of each lock of the
 * locks table, sorted by pid, then address, then time (longest first; ties
 * by stack), so that a lock's lines are next to each other, its top ones
 * first. Owned by f, valid until flame__free(). */
size_t flame__lock_count(const struct flame *f);
const struct flame_lock_line *flame__lock_line(const struct flame *f, size_t i);

/* The lines a flame graph SVG draws (weft flame --svg, the HTML page's
 * tabs): the lock type's rooted at the lock's name, so that each lock is
 * one tower (a ';' in the name becomes '_': the name is one frame), in
 * microseconds, lines under 0.5 us left out; the other types' as
 * flame__stack() and flame__value(). texts holds the strings made here
 * (cap of them, NULL or malloc'd), for flame_lines__release(). */
struct flame_lines {
	const char **stacks;
	__u64 *values;
	char **texts;
	size_t n, cap;
};

/* After finish: *l filled (it may be zeroed or hold nothing); 0 or
 * -ENOMEM (then release *l all the same) */
int flame__lines(const struct flame *f, struct flame_lines *l);
/* One more line, stack copied into texts: 0 or -ENOMEM */
int flame_lines__add(struct flame_lines *l, const char *stack, __u64 us);
void flame_lines__release(struct flame_lines *l);

#endif /* __WEFT_FLAME_H */
