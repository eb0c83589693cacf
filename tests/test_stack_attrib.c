// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The attributed-stack pipeline on synthetic events: which stack each
 * sample and each blocked interval is given, the time of intervals that
 * took no stack carried to the next of their kind that did, the time no
 * sampled stack took, and frames as ids. */
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
#include "stack_attrib.h"
#include "stacks.h"
#include "strtab.h"
#include "event_builders.h"
#include "waits.h"

#define MS 1000000ULL
#define PID 100
#define T2 101
#define LOCK 0x601000ULL
#define LOCK2 0x603000ULL
#define SKIP WEFT_STACK_SKIPPED
#define MAX_RECORDS 64

/* user stacks 1 and 2 of PID (leaf first), kernel stacks 3 and 4 */
static const char stacks_text[] = "s\tu\t100\t1\t3\n"
				  "f\t401010\twork\n"
				  "f\t401100\tmain\n"
				  "f\t401200\t__libc_start_call_main\n"
				  "s\tu\t100\t2\t3\n"
				  "f\t401310\twait here\n"
				  "f\t401400\tthread_fn\n"
				  "f\t401500\tstart_thread\n"
				  "s\tk\t0\t3\t3\n"
				  "f\tffffffff81000000\tbpf_prog_1234_handle_switch\n"
				  "f\tffffffff81000100\tschedule\n"
				  "f\tffffffff81000200\tdo_futex\n"
				  "s\tk\t0\t4\t1\n"
				  "f\tffffffff81000300\twork\n";

struct fixture {
	struct synth_events ev;
	struct stack_table *stacks;
	struct stack_attrib *attrib;
	struct weft_analysis *a;
	struct attributed_stack recs[MAX_RECORDS];
	size_t n;
};

static void collect(void *ctx, const struct attributed_stack *as)
{
	struct fixture *fx = ctx;

	assert_true(fx->n < MAX_RECORDS);
	fx->recs[fx->n++] = *as;
}

static struct fixture *start(void)
{
	struct analysis_opts o = { .ncpu = 2, .usable_cpus = 2, .end_ns = 100 * MS };
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->stacks = stack_table__new();
	assert_int_equal(stack_table__decode(fx->stacks, stacks_text, sizeof(stacks_text) - 1), 0);
	fx->attrib = stack_attrib__new(fx->stacks);
	assert_non_null(fx->attrib);
	assert_int_equal(stack_attrib__subscribe(fx->attrib, collect, fx), 0);
	fx->a = weft_analysis__new(&o);
	assert_non_null(fx->a);
	weft_analysis__set_slice_observer(fx->a, stack_attrib__slice, fx->attrib);
	synth_task_state(&fx->ev, 0, PID, PID, 0, "my app");
	synth_task_state(&fx->ev, 0, T2, PID, 1, "worker");
	return fx;
}

static void finish(struct fixture *fx)
{
	size_t i;

	synth_sort(&fx->ev);
	for (i = 0; i < fx->ev.n; i++) {
		assert_int_equal(stack_attrib__feed(fx->attrib, &fx->ev.evs[i].hdr), 0);
		assert_int_equal(weft_analysis__feed(fx->a, &fx->ev.evs[i].hdr), 0);
	}
	assert_non_null(weft_analysis__finish(fx->a));
	assert_int_equal(stack_attrib__finish(fx->attrib), 0);
	assert_false(stack_attrib__failed(fx->attrib));
}

static void done(struct fixture *fx)
{
	weft_analysis__free(fx->a);
	stack_attrib__free(fx->attrib);
	stack_table__free(fx->stacks);
	free(fx);
}

/* The worker blocks (on addr, with user stack user_id) from ms to ms + len,
 * woken by the main thread */
static void block(struct fixture *fx, __u64 ms, __u64 len, int user_id, __u64 addr)
{
	synth_block_futex(&fx->ev, ms * MS, T2, PID, 1, user_id, user_id == SKIP ? SKIP : 3, addr,
			  SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx->ev, (ms + len) * MS, T2, PID, 1, PID, 1, 4);
}

static __u64 offcpu_total(const struct fixture *fx)
{
	__u64 sum = 0;
	size_t i;

	for (i = 0; i < fx->n; i++)
		if (fx->recs[i].kind == STACK_KIND_OFFCPU)
			sum += fx->recs[i].weight;
	return sum;
}

/* A sample is its thread's stacks, weight 1, with the names the thread
 * and its process had when it was taken */
static void test_sample(void **state)
{
	struct fixture *fx = start();
	const struct strtab *names = stack_attrib__names(fx->attrib);
	const struct attributed_stack *r;

	(void)state;
	synth_sample(&fx->ev, 5 * MS, T2, PID, 1, 1, 4);
	synth_rename(&fx->ev, 6 * MS, T2, PID, 1, "renamed");
	synth_sample(&fx->ev, 7 * MS, T2, PID, 1, 1, -EFAULT);
	finish(fx);
	assert_int_equal(fx->n, 2);
	r = &fx->recs[0];
	assert_int_equal(r->kind, STACK_KIND_ONCPU);
	assert_int_equal(r->weight, 1);
	assert_int_equal(r->thread.tid, T2);
	assert_int_equal(r->thread.pid, PID);
	assert_string_equal(strtab__str(names, r->thread.comm), "worker");
	assert_string_equal(strtab__str(names, r->thread.leader_comm), "my app");
	assert_true(r->stacks.taken);
	assert_int_equal(r->stacks.user, 1);
	assert_int_equal(r->stacks.kernel, 4);
	assert_string_equal(strtab__str(names, fx->recs[1].thread.comm), "renamed");
	assert_int_equal(fx->recs[1].stacks.kernel, -EFAULT);
	done(fx);
}

/* --stack-every: a skipped wait's time goes to the thread's next sampled
 * wait of the same kind (system call and address), not to whatever it
 * waits on next. Waits: LOCK 10-14 (stack 2), LOCK 20-25 (skipped),
 * LOCK2 30-33 (skipped), LOCK2 40-42 (stack 1), LOCK 50-52 (stack 2);
 * a sleep (no address) 60-61 (skipped) and 70-72 (stack 1). */
static void test_carried_by_kind_of_wait(void **state)
{
	struct fixture *fx = start();

	(void)state;
	block(fx, 10, 4, 2, LOCK);
	block(fx, 20, 5, SKIP, LOCK);
	block(fx, 30, 3, SKIP, LOCK2);
	block(fx, 40, 2, 1, LOCK2);
	block(fx, 50, 2, 2, LOCK);
	synth_block(&fx->ev, 60 * MS, T2, PID, 1, SKIP, SKIP);
	synth_wake_run(&fx->ev, 61 * MS, T2, PID, 1, PID, 1, 4);
	synth_block(&fx->ev, 70 * MS, T2, PID, 1, 1, 3);
	synth_wake_run(&fx->ev, 72 * MS, T2, PID, 1, PID, 1, 4);
	finish(fx);
	assert_int_equal(fx->n, 4);
	assert_int_equal(fx->recs[0].kind, STACK_KIND_OFFCPU);
	assert_int_equal(fx->recs[0].stacks.user, 2);
	assert_int_equal(fx->recs[0].weight, 4 * MS);
	assert_int_equal(fx->recs[0].carried_ns, 0);
	assert_int_equal(fx->recs[0].addr, LOCK);
	assert_int_equal(fx->recs[1].addr, LOCK2);
	assert_int_equal(fx->recs[1].stacks.user, 1);
	assert_int_equal(fx->recs[1].weight, (2 + 3) * MS);
	assert_int_equal(fx->recs[1].carried_ns, 3 * MS);
	assert_int_equal(fx->recs[1].start_ns, 40 * MS);
	assert_int_equal(fx->recs[1].end_ns, 42 * MS);
	assert_int_equal(fx->recs[2].addr, LOCK);
	assert_int_equal(fx->recs[2].weight, (2 + 5) * MS);
	assert_int_equal(fx->recs[2].carried_ns, 5 * MS);
	assert_int_equal(fx->recs[3].addr, 0);
	assert_int_equal(fx->recs[3].weight, (2 + 1) * MS);
	assert_false(fx->recs[3].unsampled);
	assert_int_equal(offcpu_total(fx), 19 * MS);
	done(fx);
}

/* Time no later sampled stack of its kind took, at the end, is a record
 * of its own with no stacks, marked unsampled: the worker's last two
 * waits on LOCK (after its sampled one) and all of the main thread's
 * waits (none sampled). Nothing is lost, and none of it goes to a stack
 * it was not seen in. */
static void test_time_no_sampled_stack_took(void **state)
{
	struct fixture *fx = start();
	const struct attributed_stack *w = NULL, *m = NULL;
	size_t i;

	(void)state;
	block(fx, 10, 4, 2, LOCK);
	block(fx, 20, 6, SKIP, LOCK);
	block(fx, 30, 1, SKIP, LOCK);
	synth_block_futex(&fx->ev, 50 * MS, PID, PID, 0, SKIP, SKIP, LOCK2,
			  SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx->ev, 55 * MS, PID, PID, 0, T2, 1, 4);
	finish(fx);
	assert_int_equal(fx->n, 3);
	assert_false(fx->recs[0].unsampled);
	for (i = 1; i < fx->n; i++) {
		assert_true(fx->recs[i].unsampled);
		assert_false(fx->recs[i].stacks.taken);
		if (fx->recs[i].thread.tid == T2)
			w = &fx->recs[i];
		else
			m = &fx->recs[i];
	}
	assert_non_null(w);
	assert_non_null(m);
	assert_int_equal(w->weight, 7 * MS);
	assert_int_equal(w->carried_ns, 7 * MS);
	assert_int_equal(w->addr, LOCK);
	assert_int_equal(w->reason, WEFT_WAIT_LOCK);
	assert_int_equal(m->thread.tid, PID);
	assert_int_equal(m->weight, 5 * MS);
	assert_int_equal(m->addr, LOCK2);
	assert_int_equal(offcpu_total(fx), 16 * MS);
	done(fx);
}

/* Who ended a block: a task (with its stacks and name), an interrupt, or
 * nobody seen; a block with no switch seen has no stacks */
static void test_wakers(void **state)
{
	struct fixture *fx = start();
	const struct strtab *names = stack_attrib__names(fx->attrib);
	struct weft_ev_wakeup w = { .hdr = { .ts_ns = 25 * MS, .type = WEFT_EV_WAKEUP, .cpu = 1 } };

	(void)state;
	block(fx, 10, 4, 2, LOCK);
	synth_block(&fx->ev, 20 * MS, T2, PID, 1, 2, 3);
	w.hdr.flags = WEFT_WAKE_IRQ;
	w.waking_ts_ns = 25 * MS - 1000;
	w.tid = T2;
	w.tgid = PID;
	w.target_cpu = 1;
	synth_add(&fx->ev, &w);
	finish(fx);
	assert_int_equal(fx->n, 2);
	assert_int_equal(fx->recs[0].waker, ATTRIB_WAKER_TASK);
	assert_int_equal(fx->recs[0].waker_thread.tid, PID);
	assert_string_equal(strtab__str(names, fx->recs[0].waker_thread.comm), "my app");
	assert_int_equal(fx->recs[0].waker_stacks.user, 1);
	assert_int_equal(fx->recs[0].waker_stacks.kernel, 4);
	assert_int_equal(fx->recs[1].waker, ATTRIB_WAKER_IRQ);
	assert_int_equal(fx->recs[0].reason, WEFT_WAIT_LOCK);
	assert_int_equal(fx->recs[0].syscall_nr, SYNTH_NR_FUTEX);
	done(fx);
}

/* Frames are ids of the folded spelling: weft's own tracing frame left
 * out of the kernel stack, "_[k]" after kernel names, spaces made '_',
 * and one id for one text, whichever stack it is in */
static void test_frames_as_ids(void **state)
{
	struct fixture *fx = start();
	const struct strtab *names = stack_attrib__names(fx->attrib);
	const __u32 *u, *k, *k4;
	unsigned int nu, nk, nk4;

	(void)state;
	finish(fx);
	assert_int_equal(stack_attrib__frames(fx->attrib, true, PID, 2, &u, &nu), 0);
	assert_int_equal(nu, 3);
	assert_string_equal(strtab__str(names, u[0]), "wait_here");
	assert_string_equal(strtab__str(names, u[2]), "start_thread");
	assert_int_equal(stack_attrib__frames(fx->attrib, false, 0, 3, &k, &nk), 0);
	assert_int_equal(nk, 2);
	assert_string_equal(strtab__str(names, k[0]), "schedule_[k]");
	assert_string_equal(strtab__str(names, k[1]), "do_futex_[k]");
	/* user work and kernel work are two frames */
	assert_int_equal(stack_attrib__frames(fx->attrib, false, 0, 4, &k4, &nk4), 0);
	assert_int_equal(stack_attrib__frames(fx->attrib, true, PID, 1, &u, &nu), 0);
	assert_int_not_equal(k4[0], u[0]);
	assert_int_equal(u[0], stack_attrib__intern(fx->attrib, "work", NULL));
	/* the same call gives the same array */
	assert_int_equal(stack_attrib__frames(fx->attrib, false, 0, 3, &u, &nu), 0);
	assert_ptr_equal(u, k);
	/* a stack the table does not hold has no frames */
	assert_int_equal(stack_attrib__frames(fx->attrib, true, PID, 99, &u, &nu), 0);
	assert_int_equal(nu, 0);
	done(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_carried_by_kind_of_wait),
		cmocka_unit_test(test_time_no_sampled_stack_took),
		cmocka_unit_test(test_wakers),
		cmocka_unit_test(test_frames_as_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
