/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Causality: who waited for whom (DESIGN.md, "Causality").
 *
 * The wait-for graph is built in the analysis' one pass from its slices
 * (waitfor__slice is a weft_slice_fn): every blocked or queued interval of
 * a traced thread becomes time on an edge waiter -> holder, per lock.
 *
 * Who held a lock while a thread waited on it, in order of trust:
 * - the owner the recorder read at the switch (a PI futex word, glibc's
 *   pthread_mutex_t.__owner), checked by the analysis to be a live thread
 *   of the waiter's process (weft_slice.owner_tid);
 * - the handoffs on the same address: a wait there ended by another
 *   traced thread's wakeup says the woken thread took the lock from its
 *   waker at that instant. A wait that outlives one holder is split at
 *   each handoff: before it, the one who handed over; after it, the one
 *   who took it;
 * - the releaser, the thread whose wakeup ended the wait, where nothing
 *   else says (condition variables, a GIL's).
 * A wait no traced thread ended goes to a pseudo-node: child (wait4,
 * waitid), timer (a sleep, or woken from an interrupt not waiting for I/O), io (woken
 * from an interrupt while in I/O or a page fault), unknown (woken by a
 * task outside the tree, or no wakeup seen); time in a run queue goes to
 * cpu-tree (the CPU ran a thread of the tree) and cpu-others.
 *
 * Knots (wPerf's term) are the strongly connected parts of the graph of
 * threads, over the edges that hold 1% or more of their waiter's thread
 * time, by the time their members waited on each other.
 *
 * Lifecycle: waitfor__new(), waitfor__slice() for every slice,
 * waitfor__finish() once the analysis finished (names, sorting, knots),
 * then the getters, until waitfor__free(). Memory grows with threads,
 * addresses and edges, never with events: each address keeps its last
 * WAITFOR_HISTORY handoffs, and a wait that outlives more of them gives
 * its oldest part to the oldest holder kept.
 */
#ifndef __WEFT_WAITFOR_H
#define __WEFT_WAITFOR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "analysis.h"

#define WAITFOR_HISTORY 64

enum waitfor_pseudo {
	WAITFOR_THREAD = 0, /* not a pseudo-node: holder_tid says who */
	WAITFOR_TIMER,
	WAITFOR_IO,
	WAITFOR_CHILD,
	WAITFOR_CPU_TREE,
	WAITFOR_CPU_OTHERS,
	WAITFOR_UNKNOWN,
	WAITFOR_PSEUDO_NR,
};

/* "timer", "io", "child", "cpu-tree", "cpu-others", "unknown"; NULL for
 * WAITFOR_THREAD */
const char *waitfor_pseudo__name(enum waitfor_pseudo p);

struct waitfor_edge {
	__u32 waiter_tid, pid;
	__u32 holder_tid; /* 0 for a pseudo-node */
	enum waitfor_pseudo pseudo;
	bool has_lock; /* waited on an address: addr (of process pid) */
	__u64 addr;
	__u64 wait_ns;
	__u64 waits; /* intervals that gave this edge time */
	__u64 last_slice; /* internal: the last interval counted in waits */
	/* set by finish */
	char waiter_comm[WEFT_COMM_LEN + 1];
	char holder_comm[WEFT_COMM_LEN + 1]; /* a pseudo-node's name */
	char lock[64]; /* the address's name or 0x..., "" without an address */
};

struct waitfor_thread {
	__u32 tid;
	char comm[WEFT_COMM_LEN + 1];
};

struct waitfor_knot {
	struct waitfor_thread *threads; /* by tid */
	unsigned int nr_threads;
	__u64 wait_ns; /* on edges between its threads */
	char lock[64]; /* the address that carried most of it, "" none */
	__u64 lifetime_ns; /* the summed lifetime of its threads */
	double share; /* wait_ns / lifetime_ns */
};

/* Threads still blocked when the recording ended, each on a lock whose
 * owner (read at the switch, or at attach) is the next: a deadlock the
 * recording ended in (DESIGN: Causality). In the cycle's order. */
struct waitfor_end_cycle {
	struct waitfor_thread *threads;
	char (*locks)[64]; /* what each waits on, as the edges name it */
	unsigned int nr_threads;
};

struct waitfor_holder {
	__u32 tid;
	char comm[WEFT_COMM_LEN + 1];
	__u64 wait_ns; /* others waited here while it held the lock */
};

struct waitfor;

/* lock_name as in analysis_opts (may be NULL): names the addresses;
 * ctx must outlive the waitfor's finish */
struct waitfor *waitfor__new(const char *(*lock_name)(void *ctx, __u32 pid, __u64 addr),
			     void *lock_name_ctx);
/* Told each part of a lock wait whose holder is known, as the graph takes
 * it: holder held addr (of process pid) over [from_ns, to_ns] while
 * another thread waited there. The critical path finds its time inside
 * critical sections with them (critical.h). */
typedef void (*waitfor_hold_fn)(void *ctx, __u32 pid, __u64 addr, __u32 holder, __u64 from_ns,
				__u64 to_ns);
/* Before the first slice; fn NULL: none */
void waitfor__set_hold_observer(struct waitfor *w, waitfor_hold_fn fn, void *ctx);
/* A weft_slice_fn: ctx is the struct waitfor. Out of memory is remembered
 * and returned by finish. */
void waitfor__slice(void *ctx, const struct weft_slice *slice);
/* Names (threads' latest comm), sorts the edges by wait, longest first,
 * and finds the knots. 0 or -ENOMEM. */
int waitfor__finish(struct waitfor *w);
void waitfor__free(struct waitfor *w);

const struct waitfor_edge *waitfor__edges(const struct waitfor *w, unsigned int *nr);
/* by wait_ns, heaviest first */
const struct waitfor_knot *waitfor__knots(const struct waitfor *w, unsigned int *nr);
/* A lock's top holders (by the time others waited while they held it),
 * at most max, heaviest first, into out; returns how many. */
unsigned int waitfor__lock_holders(const struct waitfor *w, __u32 pid, __u64 addr,
				   struct waitfor_holder *out, unsigned int max);
/* Lock waits whose owner was read and accepted */
/* The cycles the recording ended in (finish), ordered by their first
 * thread's tid; NULL and 0 when none. */
const struct waitfor_end_cycle *waitfor__end_cycles(const struct waitfor *w, unsigned int *nr);
__u64 waitfor__owned_waits(const struct waitfor *w);

#endif /* __WEFT_WAITFOR_H */
