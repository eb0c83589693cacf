// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The wait-for graph fed by the analysis' slices of synthetic events, each
 * figure worked out by hand in the comments. Conventions as in
 * test_analysis.c: tids from 1000 up are traced, their process is the tid
 * rounded down to ten; times in ms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

#include "analysis.h"
#include "events.h"
#include "waitfor.h"

#define EVENT_TARGET struct weft_analysis
#include "event_builders.h"

#define MS 1000000ULL

#define NR_PREAD64 17 /* read (0) is "no system call" to sw_full */
#define NR_FUTEX 202
#define NR_WAIT4 61
#define NR_NANOSLEEP 230
#define FUTEX_WAIT_PRIVATE 128 /* a mutex's wait */
#define FUTEX_WAIT_BITSET_PRIVATE 0x89 /* a condition variable's */

#define MUTEX 0x1000ULL
#define COND 0x2000ULL

static void feed(struct weft_analysis *a, const void *ev)
{
	assert_int_equal(weft_analysis__feed(a, ev), 0);
}

struct fixture {
	struct weft_analysis *a;
	struct waitfor *w;
};

static int setup(void **state)
{
	struct analysis_opts o = { .ncpu = 2, .usable_cpus = 2 };
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->a = weft_analysis__new(&o);
	f->w = waitfor__new(NULL, NULL);
	assert_non_null(f->a);
	assert_non_null(f->w);
	weft_analysis__set_slice_observer(f->a, waitfor__slice, f->w);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	weft_analysis__free(f->a);
	waitfor__free(f->w);
	free(f);
	return 0;
}

static void finish(struct fixture *f)
{
	assert_non_null(weft_analysis__finish(f->a));
	assert_int_equal(waitfor__finish(f->w), 0);
}

/* prev blocks in a futex wait on uaddr whose owner the recorder read */
static void block_owned(struct weft_analysis *a, __u64 ts, unsigned int cpu, __u32 prev, __u32 next,
			__u64 uaddr, __u64 op, __u32 owner)
{
	struct weft_ev_switch e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_SWITCH, .cpu = cpu } };

	e.hdr.flags = WEFT_SWITCH_PREV_TRACED | WEFT_SWITCH_BLOCKING;
	if (traced(next))
		e.hdr.flags |= WEFT_SWITCH_NEXT_TRACED;
	e.prev_tid = prev;
	e.prev_tgid = tg(prev);
	e.next_tid = next;
	e.next_tgid = tg(next);
	e.prev_state = 1;
	e.syscall_nr = NR_FUTEX;
	e.sys_arg0 = uaddr;
	e.sys_arg1 = op;
	e.user_stack_id = e.kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	e.owner_tid = owner;
	feed(a, &e);
}

/* waker wakes tid onto cpu at ts, where it runs at once (cpu is idle) */
static void wake_run(struct weft_analysis *a, __u64 ts, __u32 tid, unsigned int cpu, __u32 waker,
		     __u32 flags)
{
	wake_from(a, ts, tid, cpu, waker, ts, flags);
	sw(a, ts, cpu, 0, BLOCK, tid);
}

/* The edge waiter -> holder (0: the pseudo-node p) through addr (0: none) */
static const struct waitfor_edge *edge(const struct waitfor *w, __u32 waiter, __u32 holder,
				       enum waitfor_pseudo p, __u64 addr)
{
	const struct waitfor_edge *e;
	unsigned int n, i;

	e = waitfor__edges(w, &n);
	for (i = 0; i < n; i++)
		if (e[i].waiter_tid == waiter && e[i].holder_tid == holder &&
		    e[i].pseudo == (holder ? WAITFOR_THREAD : p) && e[i].has_lock == !!addr &&
		    e[i].addr == addr)
			return &e[i];
	return NULL;
}

static void assert_edge(const struct waitfor *w, __u32 waiter, __u32 holder, enum waitfor_pseudo p,
			__u64 addr, __u64 ns, __u64 waits)
{
	const struct waitfor_edge *e = edge(w, waiter, holder, p, addr);

	if (!e)
		fail_msg("no edge %u -> %u (%s) through 0x%llx", waiter, holder,
			 holder ? "thread" : waitfor_pseudo__name(p), (unsigned long long)addr);
	assert_int_equal(e->wait_ns, ns);
	assert_int_equal(e->waits, waits);
}

/* Edges between threads of the tree (no pseudo-node) */
static unsigned int thread_edges(const struct waitfor *w)
{
	const struct waitfor_edge *e;
	unsigned int n, i, k = 0;

	e = waitfor__edges(w, &n);
	for (i = 0; i < n; i++)
		k += e[i].holder_tid != 0;
	return k;
}

/* H (1001) holds the mutex on cpu 0 all along. A (1002) blocks on it at 1
 * and B (1003) at 2, both reading owner H. At 10 H hands it to B (wakes
 * it); at 30 B hands it to A, and sleeps at 31, when A runs.
 *   A waited [1, 30]: [1, 10] while H held it (9 ms), [10, 30] while B did
 *   (20 ms), split at the handoff to B; B waited [2, 10] for H (8 ms).
 *   The mutex's holders: B 20 ms, H 9 + 8 = 17 ms. */
static void test_wait_split_between_holders(void **state)
{
	struct fixture *f = *state;
	struct waitfor_holder h[3];

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1002);
	rename_ev(f->a, 0, 1001, "H");
	rename_ev(f->a, 0, 1002, "A");
	rename_ev(f->a, 0, 1003, "B");
	wake_from(f->a, 0, 1003, 1, 0, 0, 0);
	block_owned(f->a, 1 * MS, 1, 1002, 1003, MUTEX, FUTEX_WAIT_PRIVATE, 1001);
	block_owned(f->a, 2 * MS, 1, 1003, 0, MUTEX, FUTEX_WAIT_PRIVATE, 1001);
	wake_run(f->a, 10 * MS, 1003, 1, 1001, 0);
	wake_from(f->a, 30 * MS, 1002, 1, 1003, 30 * MS, 0);
	sw_full(f->a, 31 * MS, 1, 1003, BLOCK, 1002, NR_NANOSLEEP, 0, 0);
	sw(f->a, 40 * MS, 0, 1001, BLOCK, 0);
	finish(f);

	assert_edge(f->w, 1002, 1001, 0, MUTEX, 9 * MS, 1);
	assert_edge(f->w, 1002, 1003, 0, MUTEX, 20 * MS, 1);
	assert_edge(f->w, 1003, 1001, 0, MUTEX, 8 * MS, 1);
	assert_int_equal(thread_edges(f->w), 3);
	/* A queued [30, 31] behind B, a thread of the tree, on cpu 1 */
	assert_edge(f->w, 1002, 0, WAITFOR_CPU_TREE, 0, 1 * MS, 1);
	assert_string_equal(edge(f->w, 1002, 1003, 0, MUTEX)->holder_comm, "B");
	assert_string_equal(edge(f->w, 1002, 1003, 0, MUTEX)->waiter_comm, "A");

	assert_int_equal(waitfor__lock_holders(f->w, 1000, MUTEX, h, 3), 2);
	assert_int_equal(h[0].tid, 1003);
	assert_int_equal(h[0].wait_ns, 20 * MS);
	assert_string_equal(h[0].comm, "B");
	assert_int_equal(h[1].tid, 1001);
	assert_int_equal(h[1].wait_ns, 17 * MS);
	/* max 1 keeps the heaviest */
	assert_int_equal(waitfor__lock_holders(f->w, 1000, MUTEX, h, 1), 1);
	assert_int_equal(h[0].tid, 1003);
	assert_int_equal(waitfor__owned_waits(f->w), 2);
}

/* The owner read is only memory: A (1002) blocks at 1 reading owner 2001,
 * a live thread of another process; C (1004) blocks at 2 reading owner
 * 1005, a thread of its process that has exited; D (1006) at 3 reading
 * 1009, which was never seen. All three are rejected, and the releaser,
 * H (1001), who wakes each at 10, 11 and 12, holds for them: A 9 ms, C 9
 * ms, D 9 ms. E (1007) reads owner 1008, live in its process, which wins
 * over the releaser H: 1007 -> 1008 for [4, 13], 9 ms. Each waits on a
 * mutex of its own. */
static void test_owner_not_live_rejected(void **state)
{
	struct fixture *f = *state;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 2001);
	sw(f->a, 0, 1, 2001, PREEMPT, 1005);
	sw(f->a, 0, 1, 1005, DIE, 1008);
	sw(f->a, 0, 1, 1008, PREEMPT, 1002);
	/* 1004, 1006 and 1007 take turns on cpu 1 before blocking */
	wake_from(f->a, 0, 1004, 1, 0, 0, 0);
	wake_from(f->a, 0, 1006, 1, 0, 0, 0);
	wake_from(f->a, 0, 1007, 1, 0, 0, 0);
	block_owned(f->a, 1 * MS, 1, 1002, 1004, MUTEX, FUTEX_WAIT_PRIVATE, 2001);
	block_owned(f->a, 2 * MS, 1, 1004, 1006, MUTEX + 16, FUTEX_WAIT_PRIVATE, 1005);
	block_owned(f->a, 3 * MS, 1, 1006, 1007, MUTEX + 32, FUTEX_WAIT_PRIVATE, 1009);
	block_owned(f->a, 4 * MS, 1, 1007, 0, MUTEX + 64, FUTEX_WAIT_PRIVATE, 1008);
	wake_run(f->a, 10 * MS, 1002, 1, 1001, 0);
	sw_full(f->a, 10 * MS + MS / 2, 1, 1002, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	wake_run(f->a, 11 * MS, 1004, 1, 1001, 0);
	sw_full(f->a, 11 * MS + MS / 2, 1, 1004, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	wake_run(f->a, 12 * MS, 1006, 1, 1001, 0);
	sw_full(f->a, 12 * MS + MS / 2, 1, 1006, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	wake_run(f->a, 13 * MS, 1007, 1, 1001, 0);
	sw(f->a, 20 * MS, 0, 1001, BLOCK, 0);
	finish(f);

	assert_edge(f->w, 1002, 1001, 0, MUTEX, 9 * MS, 1);
	assert_edge(f->w, 1004, 1001, 0, MUTEX + 16, 9 * MS, 1);
	assert_edge(f->w, 1006, 1001, 0, MUTEX + 32, 9 * MS, 1);
	assert_edge(f->w, 1007, 1008, 0, MUTEX + 64, 9 * MS, 1);
	assert_null(edge(f->w, 1002, 2001, 0, MUTEX));
	assert_null(edge(f->w, 1004, 1005, 0, MUTEX + 16));
	assert_null(edge(f->w, 1006, 1009, 0, MUTEX + 32));
	assert_null(edge(f->w, 1007, 1001, 0, MUTEX + 64));
	assert_int_equal(waitfor__owned_waits(f->w), 1);
}

/* No owner in a condition variable: C (1004) waits on it from 1 to 7,
 * when H (1001) signals it; the releaser H is its holder: C -> H through
 * the condvar, 6 ms, and H is the condvar's only holder. */
static void test_releaser_stands_in_for_condvar(void **state)
{
	struct fixture *f = *state;
	struct waitfor_holder h[3];

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1004);
	block_owned(f->a, 1 * MS, 1, 1004, 0, COND, FUTEX_WAIT_BITSET_PRIVATE, 0);
	wake_run(f->a, 7 * MS, 1004, 1, 1001, 0);
	sw(f->a, 9 * MS, 0, 1001, BLOCK, 0);
	finish(f);

	assert_edge(f->w, 1004, 1001, 0, COND, 6 * MS, 1);
	assert_int_equal(thread_edges(f->w), 1);
	assert_int_equal(waitfor__lock_holders(f->w, 1000, COND, h, 3), 1);
	assert_int_equal(h[0].tid, 1001);
	assert_int_equal(h[0].wait_ns, 6 * MS);
	assert_int_equal(waitfor__owned_waits(f->w), 0);
}

/* A (1002) on cpu 0 and B (1003) on cpu 1 pass a GIL-like condvar G back
 * and forth: B waits [1, 5] until A hands over, A waits [5, 9] until B
 * does, B waits [9, 12] until A does; both run to 20 and sleep.
 *   B -> A: 4 + 3 = 7 ms in 2 waits; A -> B: 4 ms. One knot {A, B}
 *   through G, 11 ms of their 20 + 20 ms of thread time: 0.275. H
 *   (1001), who only runs, is in no knot. */
static void test_knot_of_two(void **state)
{
	struct fixture *f = *state;
	const struct waitfor_knot *k;
	unsigned int n;

	sw(f->a, 0, 0, 0, BLOCK, 1002);
	sw(f->a, 0, 1, 0, BLOCK, 1003);
	block_owned(f->a, 1 * MS, 1, 1003, 0, COND, FUTEX_WAIT_BITSET_PRIVATE, 0);
	wake_from(f->a, 5 * MS, 1003, 1, 1002, 5 * MS, 0);
	block_owned(f->a, 5 * MS, 0, 1002, 0, COND, FUTEX_WAIT_BITSET_PRIVATE, 0);
	sw(f->a, 5 * MS, 1, 0, BLOCK, 1003);
	wake_from(f->a, 9 * MS, 1002, 0, 1003, 9 * MS, 0);
	block_owned(f->a, 9 * MS, 1, 1003, 0, COND, FUTEX_WAIT_BITSET_PRIVATE, 0);
	sw(f->a, 9 * MS, 0, 0, BLOCK, 1002);
	wake_run(f->a, 12 * MS, 1003, 1, 1002, 0);
	sw_full(f->a, 20 * MS, 0, 1002, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	sw_full(f->a, 20 * MS, 1, 1003, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	finish(f);

	assert_edge(f->w, 1003, 1002, 0, COND, 7 * MS, 2);
	assert_edge(f->w, 1002, 1003, 0, COND, 4 * MS, 1);
	k = waitfor__knots(f->w, &n);
	assert_int_equal(n, 1);
	assert_int_equal(k[0].nr_threads, 2);
	assert_int_equal(k[0].threads[0].tid, 1002);
	assert_int_equal(k[0].threads[1].tid, 1003);
	assert_int_equal(k[0].wait_ns, 11 * MS);
	assert_int_equal(k[0].lifetime_ns, 40 * MS);
	assert_float_equal(k[0].share, 0.275, 1e-9);
	assert_string_equal(k[0].lock, "0x2000");
}

/* Waits no thread of the tree ended:
 *   C (1004) sleeps [1, 6], its timer fires: timer 5 ms;
 *   A (1002) reads a file [1, 4] until a device interrupt: io 3 ms;
 *   P (1011, its own process) waits for a child [1, 8], which 1021, the
 *   child, ends by exiting: child 7 ms;
 *   E (1007) waits on a condvar [1, 3], woken by no waking seen: unknown
 *   2 ms;
 *   B (1003) is preempted on cpu 0 at 1 by task 500, outside the tree,
 *   and runs at 4: cpu-others 3 ms; H (1001) is preempted on cpu 1 at 1
 *   by D (1006) of the tree and runs at 5: cpu-tree 4 ms. */
static void test_pseudo_nodes(void **state)
{
	struct fixture *f = *state;

	sw(f->a, 0, 0, 0, BLOCK, 1004);
	sw_full(f->a, 1 * MS, 0, 1004, BLOCK, 1002, NR_NANOSLEEP, 0, 0);
	sw_full(f->a, 1 * MS, 0, 1002, BLOCK, 1011, NR_PREAD64, 3, 0);
	sw_full(f->a, 1 * MS, 0, 1011, BLOCK, 1007, NR_WAIT4, 0, 0);
	block_owned(f->a, 1 * MS, 0, 1007, 1003, COND, FUTEX_WAIT_BITSET_PRIVATE, 0);
	sw(f->a, 1 * MS, 0, 1003, PREEMPT, 500);
	sw(f->a, 0, 1, 0, BLOCK, 1001);
	sw(f->a, 1 * MS, 1, 1001, PREEMPT, 1006);
	wake_from(f->a, 3 * MS, 1007, 0, 0, 3 * MS, WEFT_WAKE_NO_WAKING);
	wake_from(f->a, 4 * MS, 1002, 0, 42, 4 * MS, WEFT_WAKE_IRQ);
	sw(f->a, 4 * MS, 0, 500, PREEMPT, 1003);
	sw(f->a, 5 * MS, 1, 1006, BLOCK, 1001);
	wake_from(f->a, 6 * MS, 1004, 1, 42, 6 * MS, WEFT_WAKE_IRQ);
	wake_from(f->a, 8 * MS, 1011, 1, 1021, 8 * MS, 0);
	sw(f->a, 10 * MS, 0, 1003, BLOCK, 0);
	sw(f->a, 10 * MS, 1, 1001, BLOCK, 0);
	finish(f);

	assert_edge(f->w, 1004, 0, WAITFOR_TIMER, 0, 5 * MS, 1);
	assert_edge(f->w, 1002, 0, WAITFOR_IO, 0, 3 * MS, 1);
	assert_edge(f->w, 1011, 0, WAITFOR_CHILD, 0, 7 * MS, 1);
	assert_edge(f->w, 1007, 0, WAITFOR_UNKNOWN, COND, 2 * MS, 1);
	assert_edge(f->w, 1003, 0, WAITFOR_CPU_OTHERS, 0, 3 * MS, 1);
	assert_edge(f->w, 1001, 0, WAITFOR_CPU_TREE, 0, 4 * MS, 1);
	assert_null(edge(f->w, 1011, 1021, 0, 0));
	assert_int_equal(thread_edges(f->w), 0);
	assert_string_equal(edge(f->w, 1004, 0, WAITFOR_TIMER, 0)->holder_comm, "timer");
	assert_string_equal(edge(f->w, 1001, 0, WAITFOR_CPU_TREE, 0)->holder_comm, "cpu-tree");
}

/* A cycle one way of which is a trifle is no knot: B (1003) waits 10 ms
 * for A (1002) on a condvar [1, 11]; A waits 0.1 ms for B [12, 12.1] on
 * another; both live 20 ms, and 0.1 ms is under 1% of A's 20 ms. The
 * edges are there, the knot is not. */
static void test_weak_cycle_is_no_knot(void **state)
{
	struct fixture *f = *state;
	unsigned int n;

	sw(f->a, 0, 0, 0, BLOCK, 1002);
	sw(f->a, 0, 1, 0, BLOCK, 1003);
	block_owned(f->a, 1 * MS, 1, 1003, 0, COND, FUTEX_WAIT_BITSET_PRIVATE, 0);
	wake_run(f->a, 11 * MS, 1003, 1, 1002, 0);
	block_owned(f->a, 12 * MS, 0, 1002, 0, COND + 64, FUTEX_WAIT_BITSET_PRIVATE, 0);
	wake_run(f->a, 12 * MS + 100000, 1002, 0, 1003, 0);
	sw_full(f->a, 20 * MS, 0, 1002, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	sw_full(f->a, 20 * MS, 1, 1003, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	finish(f);

	assert_edge(f->w, 1003, 1002, 0, COND, 10 * MS, 1);
	assert_edge(f->w, 1002, 1003, 0, COND + 64, 100000, 1);
	waitfor__knots(f->w, &n);
	assert_int_equal(n, 0);
}

/* Edges come out heaviest first, and nothing is reported before finish */
static void test_sorted_and_empty(void **state)
{
	struct fixture *f = *state;
	const struct waitfor_edge *e;
	unsigned int n, i;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1002);
	block_owned(f->a, 1 * MS, 1, 1002, 0, COND, FUTEX_WAIT_BITSET_PRIVATE, 0);
	wake_run(f->a, 3 * MS, 1002, 1, 1001, 0);
	sw_full(f->a, 4 * MS, 1, 1002, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	wake_run(f->a, 9 * MS, 1002, 1, 42, WEFT_WAKE_IRQ);
	assert_null(waitfor__edges(f->w, &n));
	assert_int_equal(n, 0);
	sw(f->a, 10 * MS, 0, 1001, BLOCK, 0);
	finish(f);
	e = waitfor__edges(f->w, &n);
	assert_int_equal(n, 2);
	for (i = 1; i < n; i++)
		assert_true(e[i - 1].wait_ns >= e[i].wait_ns);
	assert_int_equal(e[0].wait_ns, 5 * MS);
	assert_int_equal(e[0].pseudo, WAITFOR_TIMER);
	waitfor__knots(f->w, &n);
	assert_int_equal(n, 0);
}

/* A damaged record can name tid 0, which the tid index must not take for
 * its empty slot (the fuzzer found it: UBSan, a node looked up in a table
 * not yet made) */
static void test_tid_zero(void **state)
{
	struct waitfor *w = waitfor__new(NULL, NULL);
	struct weft_slice s = { .tid = 0,
				.pid = 0,
				.state = WEFT_SLICE_BLOCKED,
				.start_ns = 1 * MS,
				.end_ns = 3 * MS,
				.syscall_nr = -1,
				.waker_tid = 1001,
				.waker_pid = 1000 };
	const struct waitfor_edge *e;
	unsigned int n;

	(void)state;
	assert_non_null(w);
	waitfor__slice(w, &s);
	s.start_ns = 4 * MS;
	s.end_ns = 5 * MS;
	waitfor__slice(w, &s);
	assert_int_equal(waitfor__finish(w), 0);
	e = waitfor__edges(w, &n);
	assert_true(n >= 1);
	assert_int_equal(e[0].waiter_tid, 0);
	waitfor__free(w);
}

#define MUTEX2 0x3000ULL

static void assert_end_cycle(const struct waitfor *w, __u32 a, __u32 b, const char *lock_a,
			     const char *lock_b)
{
	const struct waitfor_end_cycle *c;
	unsigned int n;

	c = waitfor__end_cycles(w, &n);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].nr_threads, 2);
	/* in the cycle's order, from either thread */
	if (c[0].threads[0].tid != a) {
		__u32 t = a;
		const char *l = lock_a;

		a = b;
		b = t;
		lock_a = lock_b;
		lock_b = l;
	}
	assert_int_equal(c[0].threads[0].tid, a);
	assert_int_equal(c[0].threads[1].tid, b);
	assert_string_equal(c[0].locks[0], lock_a);
	assert_string_equal(c[0].locks[1], lock_b);
}

/* AB/BA seen happening: A (1002) blocks at 1 on MUTEX held by B (1003), B
 * at 2 on MUTEX2 held by A; C (1004) runs on to 10, the end. Both are
 * blocked at the end, each on the other's lock: the recording ended in a
 * deadlock. */
static void test_deadlock_at_end(void **state)
{
	struct fixture *f = *state;

	sw(f->a, 0, 0, 0, BLOCK, 1002);
	sw(f->a, 0, 1, 0, BLOCK, 1003);
	block_owned(f->a, 1 * MS, 0, 1002, 1004, MUTEX, FUTEX_WAIT_PRIVATE, 1003);
	block_owned(f->a, 2 * MS, 1, 1003, 0, MUTEX2, FUTEX_WAIT_PRIVATE, 1002);
	sw_full(f->a, 10 * MS, 0, 1004, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	finish(f);
	assert_edge(f->w, 1002, 1003, 0, MUTEX, 9 * MS, 1);
	assert_end_cycle(f->w, 1002, 1003, "0x1000", "0x3000");
}

/* The same waits, but C wakes B at 6, so at the end only A is blocked: no
 * deadlock at the end. */
static void test_no_deadlock_at_end_when_one_woke(void **state)
{
	struct fixture *f = *state;
	unsigned int n;

	sw(f->a, 0, 0, 0, BLOCK, 1002);
	sw(f->a, 0, 1, 0, BLOCK, 1003);
	block_owned(f->a, 1 * MS, 0, 1002, 1004, MUTEX, FUTEX_WAIT_PRIVATE, 1003);
	block_owned(f->a, 2 * MS, 1, 1003, 0, MUTEX2, FUTEX_WAIT_PRIVATE, 1002);
	wake_run(f->a, 6 * MS, 1003, 1, 1004, 0);
	sw_full(f->a, 10 * MS, 0, 1004, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	finish(f);
	assert_null(waitfor__end_cycles(f->w, &n));
	assert_int_equal(n, 0);
}

/* weft record -p of a process already deadlocked: the task-state records
 * at attach carry each wait (WEFT_STATE_WAIT), and each names the other as
 * the owner, the first before the other's record came. */
static void attach_wait(struct weft_analysis *a, __u32 tid, __u64 uaddr, __u32 owner)
{
	struct weft_ev_task_state e = {
		.hdr = { .ts_ns = 0,
			 .type = WEFT_EV_TASK_STATE,
			 .flags = WEFT_STATE_ATTACH | WEFT_STATE_WAIT },
	};

	e.tid = tid;
	e.tgid = tg(tid);
	e.state = WEFT_TASK_BLOCKED;
	e.syscall_nr = NR_FUTEX;
	e.sys_arg0 = uaddr;
	e.sys_arg1 = FUTEX_WAIT_PRIVATE;
	e.owner_tid = owner;
	e.user_stack_id = e.kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	snprintf(e.comm, sizeof(e.comm), "t%u", tid);
	feed(a, &e);
}

static void test_deadlock_already_at_attach(void **state)
{
	struct fixture *f = *state;
	const struct weft_metrics *m;

	attach_wait(f->a, 1002, MUTEX, 1003);
	attach_wait(f->a, 1003, MUTEX2, 1002);
	sw(f->a, 0, 0, 0, BLOCK, 1004);
	sw_full(f->a, 10 * MS, 0, 1004, BLOCK, 0, NR_NANOSLEEP, 0, 0);
	m = weft_analysis__finish(f->a);
	assert_non_null(m);
	assert_int_equal(waitfor__finish(f->w), 0);
	/* lock waits of 10 ms each, with their owners, not "other" */
	assert_int_equal(m->nr_locks, 2);
	assert_edge(f->w, 1002, 1003, 0, MUTEX, 10 * MS, 1);
	assert_edge(f->w, 1003, 1002, 0, MUTEX2, 10 * MS, 1);
	assert_end_cycle(f->w, 1002, 1003, "0x1000", "0x3000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tid_zero),
		cmocka_unit_test_setup_teardown(test_wait_split_between_holders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_not_live_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_releaser_stands_in_for_condvar, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_knot_of_two, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pseudo_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weak_cycle_is_no_knot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sorted_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadlock_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_deadlock_at_end_when_one_woke, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deadlock_already_at_attach, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
