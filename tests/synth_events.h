/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Synthetic event sequences for the tests of modules fed beside the
 * analysis (flame, the stack summary): events are kept as a test builds
 * them, in any order, and synth_sort() puts them in time order, as the
 * reader hands them out. Include after cmocka.h; each test file that
 * includes it gets its own copy. */
#ifndef __WEFT_TESTS_SYNTH_EVENTS_H
#define __WEFT_TESTS_SYNTH_EVENTS_H

#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "events.h"

/* a test file may use only some of them */
#define SYNTH_FN static __attribute__((unused))

#define SYNTH_MAX_EVENTS 256

union synth_event {
	struct weft_event_header hdr;
	struct weft_ev_switch sw;
	struct weft_ev_wakeup wk;
	struct weft_ev_sample sa;
	struct weft_ev_task_state st;
	struct weft_ev_klock kl;
	struct weft_ev_rename rn;
};

struct synth_events {
	union synth_event evs[SYNTH_MAX_EVENTS];
	size_t n;
	__u64 samples; /* sample records added */
};

SYNTH_FN void synth_add(struct synth_events *s, const void *ev)
{
	assert_true(s->n < SYNTH_MAX_EVENTS);
	memcpy(&s->evs[s->n++], ev, weft_event_size(((const struct weft_event_header *)ev)->type));
}

/* Time order, events of one instant in the order they were added (as the
 * reader gives a stream's records): an insertion sort, stable where
 * qsort() is not, for at most SYNTH_MAX_EVENTS events */
SYNTH_FN void synth_sort(struct synth_events *s)
{
	union synth_event ev;
	size_t i, j;

	for (i = 1; i < s->n; i++) {
		ev = s->evs[i];
		for (j = i; j > 0 && s->evs[j - 1].hdr.ts_ns > ev.hdr.ts_ns; j--)
			s->evs[j] = s->evs[j - 1];
		s->evs[j] = ev;
	}
}

/* A thread running on cpu when the recording starts (as attaching with -p
 * finds it), named comm */
SYNTH_FN void synth_task_state(struct synth_events *s, __u64 ts, __u32 tid, __u32 tgid,
			       unsigned int cpu, const char *comm)
{
	struct weft_ev_task_state e = { .hdr = { .ts_ns = ts,
						 .type = WEFT_EV_TASK_STATE,
						 .cpu = cpu,
						 .flags = WEFT_STATE_ATTACH } };

	e.tid = tid;
	e.tgid = tgid;
	e.ppid = 1;
	e.state = WEFT_TASK_RUNNING;
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	synth_add(s, &e);
}

SYNTH_FN void synth_sample(struct synth_events *s, __u64 ts, __u32 tid, __u32 tgid,
			   unsigned int cpu, int user_id, int kernel_id)
{
	struct weft_ev_sample e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_SAMPLE, .cpu = cpu } };

	e.tid = tid;
	e.tgid = tgid;
	e.user_stack_id = user_id;
	e.kernel_stack_id = kernel_id;
	synth_add(s, &e);
	s->samples++;
}

/* tid blocks (sleeps) on cpu, which goes idle; its switch took these
 * stacks */
SYNTH_FN void synth_block(struct synth_events *s, __u64 ts, __u32 tid, __u32 tgid, unsigned int cpu,
			  int user_id, int kernel_id)
{
	struct weft_ev_switch e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_SWITCH, .cpu = cpu } };

	e.hdr.flags = WEFT_SWITCH_PREV_TRACED;
	e.prev_tid = tid;
	e.prev_tgid = tgid;
	e.prev_state = 1;
	e.syscall_nr = -1;
	e.user_stack_id = user_id;
	e.kernel_stack_id = kernel_id;
	synth_add(s, &e);
}

#define SYNTH_NR_FUTEX 202
#define SYNTH_FUTEX_WAIT_PRIVATE 128 /* a mutex's wait */
#define SYNTH_FUTEX_WAIT_BITSET_PRIVATE 0x89 /* a condition variable's */

/* tid blocks on cpu, which goes idle, in a futex wait with op on uaddr;
 * its switch took these stacks */
SYNTH_FN void synth_block_futex(struct synth_events *s, __u64 ts, __u32 tid, __u32 tgid,
				unsigned int cpu, int user_id, int kernel_id, __u64 uaddr, __u64 op)
{
	struct weft_ev_switch e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_SWITCH, .cpu = cpu } };

	e.hdr.flags = WEFT_SWITCH_PREV_TRACED | WEFT_SWITCH_BLOCKING;
	e.prev_tid = tid;
	e.prev_tgid = tgid;
	e.prev_state = 1;
	e.syscall_nr = SYNTH_NR_FUTEX;
	e.sys_arg0 = uaddr;
	e.sys_arg1 = op;
	e.user_stack_id = user_id;
	e.kernel_stack_id = kernel_id;
	synth_add(s, &e);
}

/* tid spins on a kernel lock from start to ts, never sleeping: a wait
 * without a blocked interval, so without a switch's stacks */
SYNTH_FN void synth_klock_spin(struct synth_events *s, __u64 start, __u64 ts, __u32 tid, __u32 tgid,
			       unsigned int cpu, __u64 lock_addr)
{
	struct weft_ev_klock e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_KLOCK, .cpu = cpu } };

	e.tid = tid;
	e.tgid = tgid;
	e.lock_addr = lock_addr;
	e.start_ns = start;
	e.kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	synth_add(s, &e);
}

/* tid renames itself (prctl PR_SET_NAME) */
SYNTH_FN void synth_rename(struct synth_events *s, __u64 ts, __u32 tid, __u32 tgid,
			   unsigned int cpu, const char *comm)
{
	struct weft_ev_rename e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_RENAME, .cpu = cpu } };

	e.tid = tid;
	e.tgid = tgid;
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	synth_add(s, &e);
}

/* waker (a thread of tgid, at these stacks) wakes tid at ts, which runs
 * on cpu 1 us later: its blocked interval ends at ts */
SYNTH_FN void synth_wake_run(struct synth_events *s, __u64 ts, __u32 tid, __u32 tgid,
			     unsigned int cpu, __u32 waker, int waker_user_id, int waker_kernel_id)
{
	struct weft_ev_wakeup w = { .hdr = { .ts_ns = ts, .type = WEFT_EV_WAKEUP, .cpu = cpu } };
	struct weft_ev_switch sw = {
		.hdr = { .ts_ns = ts + 1000, .type = WEFT_EV_SWITCH, .cpu = cpu }
	};

	w.waking_ts_ns = ts - 1000;
	w.tid = tid;
	w.tgid = tgid;
	w.waker_tid = waker;
	w.waker_tgid = tgid;
	w.target_cpu = cpu;
	w.waker_user_stack_id = waker_user_id;
	w.waker_kernel_stack_id = waker_kernel_id;
	synth_add(s, &w);
	sw.hdr.flags = WEFT_SWITCH_NEXT_TRACED;
	sw.next_tid = tid;
	sw.next_tgid = tgid;
	sw.user_stack_id = sw.kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	synth_add(s, &sw);
}

#endif /* __WEFT_TESTS_SYNTH_EVENTS_H */
