// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The critical path fed by the analysis' slices of synthetic events, each
 * path worked out segment by segment in the comments. Conventions as in
 * test_waitfor.c: tids from 1000 up are traced, their process is the tid
 * rounded down to ten; smaller tids are other tasks; times in ms. After
 * every case the path is checked to tile [first event, end] to the
 * nanosecond, and the shares to sum to it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

#include "analysis.h"
#include "critical.h"
#include "events.h"
#include "stack_attrib.h"
#include "waitfor.h"

#define EVENT_TARGET struct weft_analysis
#include "event_builders.h"

#define MS 1000000ULL

#define NR_PREAD64 17
#define NR_FUTEX 202
#define NR_NANOSLEEP 230
#define FUTEX_WAIT_PRIVATE 128 /* a mutex's wait */
#define FUTEX_WAIT_BITSET_PRIVATE 0x89 /* a condition variable's */

#define MUTEX 0x1000ULL
#define COND 0x2000ULL

struct fixture {
	struct weft_analysis *a;
	struct stack_attrib *attrib;
	struct waitfor *w;
	struct critical *c;
	const struct weft_metrics *m;
};

/* the event builders feed the analysis; the critical sees forks and the
 * attrib samples first, as a recording_tap's feed */
static struct fixture *current;

static void feed(struct weft_analysis *a, const void *ev)
{
	assert_int_equal(stack_attrib__feed(current->attrib, ev), 0);
	assert_int_equal(critical__feed(current->c, ev), 0);
	assert_int_equal(weft_analysis__feed(a, ev), 0);
}

static void slice(void *ctx, const struct weft_slice *s)
{
	struct fixture *f = ctx;

	stack_attrib__slice(f->attrib, s);
	waitfor__slice(f->w, s);
	critical__slice(f->c, s);
}

static int setup(void **state)
{
	struct analysis_opts o = { .ncpu = 2, .usable_cpus = 2 };
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->a = weft_analysis__new(&o);
	f->attrib = stack_attrib__new(NULL);
	f->w = waitfor__new(NULL, NULL);
	assert_non_null(f->a);
	assert_non_null(f->attrib);
	assert_non_null(f->w);
	f->c = critical__new(f->attrib);
	assert_non_null(f->c);
	waitfor__set_hold_observer(f->w, critical__hold, f->c);
	weft_analysis__set_slice_observer(f->a, slice, f);
	current = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	weft_analysis__free(f->a);
	critical__free(f->c);
	waitfor__free(f->w);
	stack_attrib__free(f->attrib);
	free(f);
	return 0;
}

/* The invariants of every path: segments in time order, each starting
 * where the last ended, from the first event to the end; the states, the
 * threads and the functions each sum to path_ns */
static void check_tiling(const struct critical *c)
{
	struct critical_segment p;
	const struct critical_state_ns *st;
	const struct critical_thread *t;
	const struct critical_function *fn;
	unsigned int n, i;
	__u64 sum = 0, at = critical__first_ns(c);

	n = critical__nr_segments(c);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		critical__segment(c, i, &p);
		assert_int_equal(p.start_ns, at);
		assert_true(p.end_ns > p.start_ns);
		sum += p.end_ns - p.start_ns;
		at = p.end_ns;
	}
	assert_int_equal(sum, critical__path_ns(c));
	assert_int_equal(at - critical__first_ns(c), critical__path_ns(c));
	st = critical__by_state(c);
	assert_int_equal(st->running + st->runnable_tree + st->runnable_others + st->sleep +
				 st->io + st->lock + st->wait + st->other,
			 critical__path_ns(c));
	t = critical__by_thread(c, &n);
	for (i = 0, sum = 0; i < n; i++)
		sum += t[i].ns;
	assert_int_equal(sum, critical__path_ns(c));
	fn = critical__by_function(c, &n);
	for (i = 0, sum = 0; i < n; i++)
		sum += fn[i].ns;
	assert_int_equal(sum, critical__path_ns(c));
}

static void finish(struct fixture *f)
{
	f->m = weft_analysis__finish(f->a);
	assert_non_null(f->m);
	assert_int_equal(stack_attrib__finish(f->attrib), 0);
	assert_int_equal(waitfor__finish(f->w), 0);
	assert_int_equal(critical__finish(f->c, f->m), 0);
	check_tiling(f->c);
}

static void assert_seg(const struct critical *c, unsigned int i, __u32 tid, enum critical_state st,
		       __u64 from, __u64 to)
{
	struct critical_segment p;
	unsigned int n = critical__nr_segments(c);

	if (i >= n)
		fail_msg("segment %u of %u", i, n);
	critical__segment(c, i, &p);
	if (p.tid != tid || p.state != st || p.start_ns != from || p.end_ns != to)
		fail_msg("segment %u: tid %u state %u [%llu, %llu], wanted tid %u state %u "
			 "[%llu, %llu]",
			 i, p.tid, p.state, (unsigned long long)p.start_ns,
			 (unsigned long long)p.end_ns, tid, st, (unsigned long long)from,
			 (unsigned long long)to);
}

static __u64 thread_ns(const struct critical *c, __u32 tid)
{
	const struct critical_thread *t;
	unsigned int n, i;

	t = critical__by_thread(c, &n);
	for (i = 0; i < n; i++)
		if (t[i].tid == tid)
			return t[i].ns;
	return 0;
}

/* A blocked thread's wait: a futex wait on addr with op, or a system call */
static void block(struct weft_analysis *a, __u64 ts, unsigned int cpu, __u32 prev, __u32 next,
		  int nr, __u64 addr, __u64 op)
{
	sw_full(a, ts, cpu, prev, BLOCK, next, nr, addr, op);
}

/* A chain of three: C (1003) wakes A (1001, the root's main thread), B
 * (1002) woke C before.
 *   0  A runs on cpu 0, C on cpu 1; B is woken onto cpu 1 (queued behind C)
 *   1  C waits on COND; B runs on cpu 1
 *   2  A waits on COND
 *  10  B wakes C onto cpu 0; 12 B waits on COND
 *  20  C wakes A onto cpu 1; 21 C waits
 *  30  A ends: the path's end
 * Back from A at 30: A ran [20, 30]; it was woken by C at 20: C ran
 * [10, 20]; C was woken by B at 10: B ran [1, 10]; B queued [0, 1]
 * behind C. A's wait [2, 20] and C's [1, 10] are not on the path. */
static void test_chain_of_three(void **state)
{
	struct fixture *f = *state;
	const struct critical_cause *q;
	struct critical_segment seg;
	unsigned int n;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1003);
	wake_from(f->a, 0, 1002, 1, 0, 0, 0);
	block(f->a, 1 * MS, 1, 1003, 1002, NR_FUTEX, COND, FUTEX_WAIT_BITSET_PRIVATE);
	block(f->a, 2 * MS, 0, 1001, 0, NR_FUTEX, COND, FUTEX_WAIT_BITSET_PRIVATE);
	wake_from(f->a, 10 * MS, 1003, 0, 1002, 10 * MS, 0);
	sw(f->a, 10 * MS, 0, 0, BLOCK, 1003);
	block(f->a, 12 * MS, 1, 1002, 0, NR_FUTEX, COND, FUTEX_WAIT_BITSET_PRIVATE);
	wake_from(f->a, 20 * MS, 1001, 1, 1003, 20 * MS, 0);
	sw(f->a, 20 * MS, 1, 0, BLOCK, 1001);
	block(f->a, 21 * MS, 0, 1003, 0, NR_FUTEX, COND, FUTEX_WAIT_BITSET_PRIVATE);
	sw(f->a, 30 * MS, 1, 1001, DIE, 0);
	finish(f);

	assert_int_equal(critical__path_ns(f->c), 30 * MS);
	assert_int_equal(critical__end_tid(f->c), 1001);
	assert_seg(f->c, 0, 1002, CRIT_QUEUED, 0, 1 * MS);
	assert_seg(f->c, 1, 1002, CRIT_RUNNING, 1 * MS, 10 * MS);
	assert_seg(f->c, 2, 1003, CRIT_RUNNING, 10 * MS, 20 * MS);
	assert_seg(f->c, 3, 1001, CRIT_RUNNING, 20 * MS, 30 * MS);
	assert_int_equal(critical__nr_segments(f->c), 4);
	/* B's queue: behind C, a thread of the tree, on cpu 1 */
	critical__segment(f->c, 0, &seg);
	assert_int_equal(seg.cause_tid, 1003);
	assert_int_equal(critical__by_state(f->c)->runnable_tree, 1 * MS);
	assert_int_equal(critical__by_state(f->c)->running, 29 * MS);
	q = critical__queued_behind(f->c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(q[0].tid, 1003);
	assert_int_equal(q[0].ns, 1 * MS);
	assert_int_equal(thread_ns(f->c, 1001), 10 * MS);
	assert_int_equal(thread_ns(f->c, 1002), 10 * MS);
	assert_int_equal(thread_ns(f->c, 1003), 10 * MS);
}

/* A timer ends a sleep: A (1001) runs [0, 5], sleeps [5, 25] and a timer
 * interrupt wakes it (no thread of the tree did), runs [25, 30]. B (1002)
 * runs on cpu 1 until 28 and is not on the path. The sleep is: A's
 * running 10 ms, sleep 20 ms. */
static void test_timer_wake(void **state)
{
	struct fixture *f = *state;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1002);
	block(f->a, 5 * MS, 0, 1001, 0, NR_NANOSLEEP, 0, 0);
	wake_from(f->a, 25 * MS, 1001, 0, 0, 25 * MS, WEFT_WAKE_IRQ);
	sw(f->a, 25 * MS, 0, 0, BLOCK, 1001);
	sw(f->a, 28 * MS, 1, 1002, DIE, 0);
	sw(f->a, 30 * MS, 0, 1001, DIE, 0);
	finish(f);

	assert_int_equal(critical__path_ns(f->c), 30 * MS);
	assert_seg(f->c, 0, 1001, CRIT_RUNNING, 0, 5 * MS);
	assert_seg(f->c, 1, 1001, CRIT_BLOCKED, 5 * MS, 25 * MS);
	assert_seg(f->c, 2, 1001, CRIT_RUNNING, 25 * MS, 30 * MS);
	assert_int_equal(critical__by_state(f->c)->sleep, 20 * MS);
	assert_int_equal(thread_ns(f->c, 1002), 0);
	assert_int_equal(thread_ns(f->c, 1001), 30 * MS);
}

/* A wake from outside the tree: A (1001) reads (pread64) [5, 25] and task
 * 50, not traced (a kworker), wakes it; the read stays on the path as io,
 * though B (1002) ran meanwhile. */
static void test_wake_from_outside(void **state)
{
	struct fixture *f = *state;
	struct critical_segment seg;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1002);
	block(f->a, 5 * MS, 0, 1001, 0, NR_PREAD64, 3, 0);
	wake_from(f->a, 25 * MS, 1001, 0, 50, 25 * MS, 0);
	sw(f->a, 25 * MS, 0, 0, BLOCK, 1001);
	sw(f->a, 28 * MS, 1, 1002, DIE, 0);
	sw(f->a, 30 * MS, 0, 1001, DIE, 0);
	finish(f);

	assert_seg(f->c, 1, 1001, CRIT_BLOCKED, 5 * MS, 25 * MS);
	critical__segment(f->c, 1, &seg);
	assert_int_equal(seg.reason, WEFT_WAIT_IO);
	assert_int_equal(critical__by_state(f->c)->io, 20 * MS);
	assert_int_equal(thread_ns(f->c, 1002), 0);
}

/* Queued behind the tree: A (1001) is preempted at 10 on cpu 0 by B
 * (1002), which runs [10, 15] and blocks; A runs again [15, 20]. cpu 1
 * runs other tasks. The path: A ran [0, 10], queued [10, 15] behind B
 * (all of it behind the tree), ran [15, 20]. */
static void test_queued_behind_tree(void **state)
{
	struct fixture *f = *state;
	const struct critical_cause *q;
	unsigned int n;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	wake_from(f->a, 9 * MS, 1002, 0, 0, 9 * MS, 0);
	sw(f->a, 10 * MS, 0, 1001, PREEMPT, 1002);
	block(f->a, 15 * MS, 0, 1002, 1001, NR_NANOSLEEP, 0, 0);
	sw(f->a, 20 * MS, 0, 1001, DIE, 0);
	finish(f);

	assert_seg(f->c, 0, 1001, CRIT_RUNNING, 0, 10 * MS);
	assert_seg(f->c, 1, 1001, CRIT_QUEUED, 10 * MS, 15 * MS);
	assert_seg(f->c, 2, 1001, CRIT_RUNNING, 15 * MS, 20 * MS);
	assert_int_equal(critical__by_state(f->c)->runnable_tree, 5 * MS);
	assert_int_equal(critical__by_state(f->c)->runnable_others, 0);
	q = critical__queued_behind(f->c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(q[0].tid, 1002);
	/* A's thread carries the whole path: B only held its CPU */
	assert_int_equal(thread_ns(f->c, 1001), 20 * MS);
}

/* A mutex holder that sleeps inside the lock: H (1002) runs on cpu 1 and
 * holds MUTEX; W (1001, the root) blocks on it at 2 reading owner H; H
 * sleeps [5, 15] (a timer ends it) still holding it, runs [15, 20] and
 * wakes W at 20 (unlock); W runs [20, 25] and ends.
 * Back from W at 25: W ran [20, 25]; woken by H at 20: H ran [15, 20],
 * slept [5, 15] (timer: on the path, sleep), ran [0, 5]. The path inside
 * the lock others waited for: H's [2, 20] = 18 ms; what-if bound: W's wait
 * [2, 20] on it = 18 ms. */
static void test_holder_sleeps_in_lock(void **state)
{
	struct fixture *f = *state;
	const struct critical_lock *l;
	unsigned int n;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1002);
	sw_full(f->a, 2 * MS, 0, 1001, BLOCK, 0, NR_FUTEX, MUTEX, FUTEX_WAIT_PRIVATE);
	block(f->a, 5 * MS, 1, 1002, 0, NR_NANOSLEEP, 0, 0);
	wake_from(f->a, 15 * MS, 1002, 1, 0, 15 * MS, WEFT_WAKE_IRQ);
	sw(f->a, 15 * MS, 1, 0, BLOCK, 1002);
	wake_from(f->a, 20 * MS, 1001, 0, 1002, 20 * MS, 0);
	sw(f->a, 20 * MS, 0, 0, BLOCK, 1001);
	sw(f->a, 22 * MS, 1, 1002, DIE, 0);
	sw(f->a, 25 * MS, 0, 1001, DIE, 0);
	finish(f);

	assert_seg(f->c, 0, 1002, CRIT_RUNNING, 0, 5 * MS);
	assert_seg(f->c, 1, 1002, CRIT_BLOCKED, 5 * MS, 15 * MS);
	assert_seg(f->c, 2, 1002, CRIT_RUNNING, 15 * MS, 20 * MS);
	assert_seg(f->c, 3, 1001, CRIT_RUNNING, 20 * MS, 25 * MS);
	assert_int_equal(critical__by_state(f->c)->sleep, 10 * MS);
	l = critical__by_lock(f->c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].addr, MUTEX);
	assert_int_equal(l[0].ns, 18 * MS);
	assert_int_equal(l[0].bound_ns, 18 * MS);
	/* no symbol named it: its kind and address, as the report's outputs say */
	assert_string_equal(l[0].name, "mutex at 0x1000");
	/* the holder carries the path */
	assert_int_equal(thread_ns(f->c, 1002), 20 * MS);
}

/* Odd times and a fork: the parent P (1001) runs [0, 3.000001], forks
 * T (1002) at 1.5 ms + 7 ns, which runs on cpu 1 [1.500007, 9.123457]
 * and wakes P (joined) at its end; P runs to 10.000003. Back from P:
 * P ran [9.123457, 10.000003]; woken by T: T ran from its first run;
 * before T's first segment: its creator P, whose running holds the
 * fork. Segments tile to the nanosecond. */
static void test_fork_and_exact_tiling(void **state)
{
	struct fixture *f = *state;
	__u64 t_fork = 1500007, t_block = 3000001, t_end = 9123457, t_stop = 10000003;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	fork_ev(f->a, t_fork, 1001, 1002, true, "T");
	wake_from(f->a, t_fork, 1002, 1, 1001, t_fork, WEFT_WAKE_NEW);
	sw(f->a, t_fork, 1, 0, BLOCK, 1002);
	block(f->a, t_block, 0, 1001, 0, NR_FUTEX, COND, FUTEX_WAIT_BITSET_PRIVATE);
	wake_from(f->a, t_end, 1001, 0, 1002, t_end, 0);
	sw(f->a, t_end, 0, 0, BLOCK, 1001);
	sw(f->a, t_end, 1, 1002, DIE, 0);
	sw(f->a, t_stop, 0, 1001, DIE, 0);
	finish(f);

	assert_int_equal(critical__path_ns(f->c), t_stop);
	assert_int_equal(thread_ns(f->c, 1002), t_end - t_fork);
	assert_int_equal(thread_ns(f->c, 1001), t_fork + (t_stop - t_end));
	assert_int_equal(critical__by_state(f->c)->running, t_stop);
}

/* The summary the verdict reads: the top thread and how busy the path
 * was. The timer case: A carries the path, 10 of its 30 ms running. */
static void test_summary(void **state)
{
	struct fixture *f = *state;
	struct weft_path_summary sum;

	test_timer_wake(state);
	critical__summary(f->c, &sum);
	assert_true(sum.valid);
	assert_int_equal(sum.tid, 1001);
	assert_true(sum.share == 1.0);
	assert_true(sum.busy_share > 0.333 && sum.busy_share < 0.334);
	assert_true(sum.path_s > 0.0299 && sum.path_s < 0.0301);
}

/* The waker no longer ran at the wake: B (1002) runs on cpu 1 [0, 10],
 * its sched_waking of A (1001) at 9.9, and blocks at 10; A's enqueue comes
 * at 12 (the IPI's delay on a VM). Back from A at 20: A ran [12, 20]; its
 * wait [10, 12] is on the path, back to B's last running instant; then B
 * ran [0, 10]. A's earlier wait [2, 10] is not. */
static void test_waker_gone_at_wake(void **state)
{
	struct fixture *f = *state;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1002);
	block(f->a, 2 * MS, 0, 1001, 0, NR_FUTEX, COND, FUTEX_WAIT_BITSET_PRIVATE);
	block(f->a, 10 * MS, 1, 1002, 0, NR_NANOSLEEP, 0, 0);
	wake_from(f->a, 12 * MS, 1001, 0, 1002, 9900000, 0);
	sw(f->a, 12 * MS, 0, 0, BLOCK, 1001);
	sw(f->a, 20 * MS, 0, 1001, DIE, 0);
	finish(f);

	assert_int_equal(critical__end_tid(f->c), 1001);
	assert_seg(f->c, 0, 1002, CRIT_RUNNING, 0, 10 * MS);
	assert_seg(f->c, 1, 1001, CRIT_BLOCKED, 10 * MS, 12 * MS);
	assert_seg(f->c, 2, 1001, CRIT_RUNNING, 12 * MS, 20 * MS);
	assert_int_equal(critical__nr_segments(f->c), 3);
	assert_int_equal(critical__by_state(f->c)->wait, 2 * MS);
}

/* Every output names a lock alike: the name, else kind and address (a
 * kernel lock has no symbol: critical's by_lock said a bare 0xffff...) */
static void test_lock_label(void **state)
{
	struct weft_lock_metrics l = { .pid = 7, .addr = 0xffff88815a6a19b8ULL, .kind = "kernel" };
	char buf[64];

	(void)state;
	assert_string_equal(weft_lock_metrics__label(&l, buf, sizeof(buf)),
			    "kernel at 0xffff88815a6a19b8");
	l.kind = NULL;
	assert_string_equal(weft_lock_metrics__label(&l, buf, sizeof(buf)),
			    "lock at 0xffff88815a6a19b8");
	snprintf(l.name, sizeof(l.name), "gil+0x50");
	assert_string_equal(weft_lock_metrics__label(&l, buf, sizeof(buf)), "gil+0x50");
}

/* A long history, kept encoded (critical.c: chunks of 32 slices, varint
 * deltas): A (1001) alone runs and waits ROUNDS times, each wait on a
 * different address (up and down: negative deltas) woken by an interrupt,
 * so every slice is on the path. Waits last 1 to 7 ms, one 5 s (a delta
 * past 32 bits); every piece is checked against what was fed. */
#define ROUNDS 100
static __u64 round_addr(unsigned int k)
{
	return k % 3 ? 0x7fff00001000ULL - k * 64ULL : 0x1000ULL + k * 8ULL;
}

static __u64 round_wait(unsigned int k)
{
	return k == 50 ? 5000 * MS : (k % 7 + 1) * MS;
}

static void test_long_history(void **state)
{
	struct fixture *f = *state;
	struct critical_segment seg;
	__u64 t = 0, waits = 0;
	unsigned int k;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	for (k = 0; k < ROUNDS; k++) {
		__u64 run = (k % 4 + 1) * MS + k;

		block(f->a, t + run, 0, 1001, 0, NR_FUTEX, round_addr(k),
		      FUTEX_WAIT_BITSET_PRIVATE);
		wake_from(f->a, t + run + round_wait(k), 1001, 0, 0, t + run + round_wait(k),
			  WEFT_WAKE_IRQ);
		sw(f->a, t + run + round_wait(k), 0, 0, BLOCK, 1001);
		t += run + round_wait(k);
		waits += round_wait(k);
	}
	sw(f->a, t + 3 * MS, 0, 1001, DIE, 0);
	finish(f);

	assert_int_equal(critical__nr_segments(f->c), 2 * ROUNDS + 1);
	for (k = 0, t = 0; k < ROUNDS; k++) {
		__u64 run = (k % 4 + 1) * MS + k;

		assert_seg(f->c, 2 * k, 1001, CRIT_RUNNING, t, t + run);
		assert_seg(f->c, 2 * k + 1, 1001, CRIT_BLOCKED, t + run, t + run + round_wait(k));
		critical__segment(f->c, 2 * k + 1, &seg);
		assert_int_equal(seg.addr, round_addr(k));
		assert_int_equal(seg.reason, WEFT_WAIT_WAIT);
		assert_int_equal(seg.slice_start_ns, t + run);
		t += run + round_wait(k);
	}
	assert_seg(f->c, 2 * ROUNDS, 1001, CRIT_RUNNING, t, t + 3 * MS);
	assert_int_equal(critical__by_state(f->c)->wait, waits);
}

/* Ping-pong over a long history: A (1001, cpu 0) and B (1002, cpu 1) hand
 * a token ROUNDS times. Round k at a = 8k ms: A runs [a, a + 5], wakes B
 * at a + 4 and waits on COND at a + 5; B runs [a + 4, a + 9], wakes A at
 * a + 8 and waits at a + 9 (B ran [0, 1] first). Back from A's end at 8 ROUNDS + 4: every
 * wake is a jump to the waker, so the path alternates A [a, a + 4], B
 * [a + 4, a + 8] across many chunks of both threads. */
static void test_pingpong_history(void **state)
{
	struct fixture *f = *state;
	unsigned int k;
	__u64 a;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1002);
	block(f->a, 1 * MS, 1, 1002, 0, NR_FUTEX, COND + 64, FUTEX_WAIT_BITSET_PRIVATE);
	for (k = 0; k < ROUNDS; k++) {
		a = 8 * k * MS;
		wake_from(f->a, a + 4 * MS, 1002, 1, 1001, a + 4 * MS, 0);
		sw(f->a, a + 4 * MS, 1, 0, BLOCK, 1002);
		block(f->a, a + 5 * MS, 0, 1001, 0, NR_FUTEX, COND, FUTEX_WAIT_BITSET_PRIVATE);
		wake_from(f->a, a + 8 * MS, 1001, 0, 1002, a + 8 * MS, 0);
		sw(f->a, a + 8 * MS, 0, 0, BLOCK, 1001);
		block(f->a, a + 9 * MS, 1, 1002, 0, NR_FUTEX, COND + 64, FUTEX_WAIT_BITSET_PRIVATE);
	}
	a = 8 * ROUNDS * MS;
	sw(f->a, a + 4 * MS, 0, 1001, DIE, 0);
	finish(f);

	assert_int_equal(critical__end_tid(f->c), 1001);
	assert_int_equal(critical__nr_segments(f->c), 2 * ROUNDS + 1);
	for (k = 0; k < ROUNDS; k++) {
		a = 8 * k * MS;
		assert_seg(f->c, 2 * k, 1001, CRIT_RUNNING, a, a + 4 * MS);
		assert_seg(f->c, 2 * k + 1, 1002, CRIT_RUNNING, a + 4 * MS, a + 8 * MS);
	}
	assert_seg(f->c, 2 * ROUNDS, 1001, CRIT_RUNNING, a + 8 * MS, a + 12 * MS);
	assert_int_equal(thread_ns(f->c, 1001), (4 * ROUNDS + 4) * MS);
	assert_int_equal(thread_ns(f->c, 1002), 4 * ROUNDS * MS);
}

/* The waker gone at the wake, over a long history: as ping-pong, but B
 * (1002) sleeps at a + 7 and its wake of A, at a + 8, was sent at a + 6.9
 * (as in test_waker_gone_at_wake). B's first slices (ran [0, 0.5], slept
 * to 0.7, queued to 0.8, ran to 1, waited on COND) put its running
 * slices at odd places, so that some end a chunk of 32. Back from A at
 * each a + 8: A's wait [a + 7, a + 8] is on the path, then B's last
 * running instant (a + 7, where a chunk may end) and its run [a + 4,
 * a + 7], then A's run [a, a + 4]. */
static void test_waker_gone_history(void **state)
{
	struct fixture *f = *state;
	unsigned int k;
	__u64 a;

	sw(f->a, 0, 0, 0, BLOCK, 1001);
	sw(f->a, 0, 1, 0, BLOCK, 1002);
	block(f->a, MS / 2, 1, 1002, 0, NR_NANOSLEEP, 0, 0);
	wake_from(f->a, 7 * MS / 10, 1002, 1, 0, 7 * MS / 10, WEFT_WAKE_IRQ);
	sw(f->a, 8 * MS / 10, 1, 0, BLOCK, 1002);
	block(f->a, 1 * MS, 1, 1002, 0, NR_FUTEX, COND + 64, FUTEX_WAIT_BITSET_PRIVATE);
	for (k = 0; k < ROUNDS; k++) {
		a = 8 * k * MS;
		wake_from(f->a, a + 4 * MS, 1002, 1, 1001, a + 4 * MS, 0);
		sw(f->a, a + 4 * MS, 1, 0, BLOCK, 1002);
		block(f->a, a + 5 * MS, 0, 1001, 0, NR_FUTEX, COND, FUTEX_WAIT_BITSET_PRIVATE);
		block(f->a, a + 7 * MS, 1, 1002, 0, NR_NANOSLEEP, 0, 0);
		wake_from(f->a, a + 8 * MS, 1001, 0, 1002, a + 7 * MS - MS / 10, 0);
		sw(f->a, a + 8 * MS, 0, 0, BLOCK, 1001);
	}
	a = 8 * ROUNDS * MS;
	sw(f->a, a + 4 * MS, 0, 1001, DIE, 0);
	finish(f);

	assert_int_equal(critical__end_tid(f->c), 1001);
	assert_int_equal(critical__nr_segments(f->c), 3 * ROUNDS + 1);
	for (k = 0; k < ROUNDS; k++) {
		a = 8 * k * MS;
		assert_seg(f->c, 3 * k, 1001, CRIT_RUNNING, a, a + 4 * MS);
		assert_seg(f->c, 3 * k + 1, 1002, CRIT_RUNNING, a + 4 * MS, a + 7 * MS);
		assert_seg(f->c, 3 * k + 2, 1001, CRIT_BLOCKED, a + 7 * MS, a + 8 * MS);
	}
	assert_seg(f->c, 3 * ROUNDS, 1001, CRIT_RUNNING, a + 8 * MS, a + 12 * MS);
	assert_int_equal(critical__by_state(f->c)->wait, ROUNDS * MS);
}

/* Rule 5 of the verdict: a producer with a slow consumer */
static void test_verdict_bottleneck(void **state)
{
	struct weft_thread_metrics th[2] = {
		{ .tid = 4711, .pid = 4710, .on_cpu_s = 0.95 },
		{ .tid = 4712, .pid = 4710, .on_cpu_s = 0.05 },
	};
	struct weft_cpu_metrics cpus[2] = { { .cpu = 0 }, { .cpu = 1 } };
	struct weft_metrics m = {
		.ncpu = 2,
		.usable_cpus = 2,
		.wall_s = 1.0,
		.on_cpu_s = 1.0,
		.threads = th,
		.nr_threads = 2,
		.cpus = cpus,
	};
	char buf[WEFT_VERDICT_LEN];

	(void)state;
	m.parallelism.avg = 1.0;
	m.thread_time_s = 2.0;
	m.critical = (struct weft_path_summary){ .valid = true,
						 .tid = 4711,
						 .pid = 4710,
						 .comm = "consumer",
						 .share = 0.92,
						 .path_s = 1,
						 .busy_share = 0.5 };
	assert_int_equal(weft_metrics__verdict(&m, buf, sizeof(buf)), WEFT_VERDICT_BOTTLENECK);
	assert_string_equal(buf, "bottleneck: consumer (tid 4711) on 92% of the critical path");
	assert_string_equal(weft_verdict_kind__name(WEFT_VERDICT_BOTTLENECK), "bottleneck");
	/* just short of the share */
	m.critical.share = 0.59;
	assert_int_not_equal(weft_metrics__verdict(&m, buf, sizeof(buf)), WEFT_VERDICT_BOTTLENECK);
	m.critical.share = 0.92;
	/* a path of waits (just short of half busy): not a slow thread */
	m.critical.busy_share = 0.49;
	assert_int_not_equal(weft_metrics__verdict(&m, buf, sizeof(buf)), WEFT_VERDICT_BOTTLENECK);
	m.critical.busy_share = 0.5;
	/* parallel: the cores were busy */
	m.parallelism.avg = 1.2;
	assert_int_equal(weft_metrics__verdict(&m, buf, sizeof(buf)), WEFT_VERDICT_PARALLEL);
	m.parallelism.avg = 1.0;
	/* nobody else ran: single-threaded, not a bottleneck */
	th[1].on_cpu_s = 0.009;
	assert_int_equal(weft_metrics__verdict(&m, buf, sizeof(buf)), WEFT_VERDICT_SINGLE_THREADED);
	th[1].on_cpu_s = 0.05;
	/* no path computed: as before */
	m.critical.valid = false;
	assert_int_equal(weft_metrics__verdict(&m, buf, sizeof(buf)), WEFT_VERDICT_SINGLE_THREADED);
}

/* Nothing seen: -ENODATA, not a crash */
static void test_empty(void **state)
{
	struct fixture *f = *state;

	f->m = weft_analysis__finish(f->a);
	assert_non_null(f->m);
	assert_int_equal(critical__finish(f->c, f->m), -ENODATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_of_three, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_wake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wake_from_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queued_behind_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holder_sleeps_in_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_and_exact_tiling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waker_gone_at_wake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pingpong_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waker_gone_history, setup, teardown),
		cmocka_unit_test(test_verdict_bottleneck),
		cmocka_unit_test(test_lock_label),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
