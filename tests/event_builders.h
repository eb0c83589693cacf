/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Synthetic event records for the unit tests, whose figures can be
 * computed by hand. Conventions of the sw()/wake() family: tids from 1000
 * up are traced, their process is the tid rounded down to ten; smaller
 * tids are other tasks, 0 is idle. The synth_*() family names tid and
 * tgid itself and takes stack ids.
 *
 * Every builder hands its record to feed(EVENT_TARGET *, const void *ev).
 * A test that feeds a consumer one record at a time (the analysis, the
 * timeline) defines EVENT_TARGET and feed() before including this file;
 * without them the target is a struct synth_events, which keeps records
 * as they are built, in any order, for synth_sort() to put in time order
 * as the reader hands them out. Include after cmocka.h; each test file
 * gets its own copy. */
#ifndef __WEFT_TESTS_EVENT_BUILDERS_H
#define __WEFT_TESTS_EVENT_BUILDERS_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "events.h"

/* a test file may use only some of them */
#define BUILDER_FN static __attribute__((unused))

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

BUILDER_FN void synth_add(struct synth_events *s, const void *ev)
{
	const struct weft_event_header *hdr = ev;

	assert_true(s->n < SYNTH_MAX_EVENTS);
	memcpy(&s->evs[s->n++], ev, weft_event_size(hdr->type));
	if (hdr->type == WEFT_EV_SAMPLE)
		s->samples++;
}

/* Time order, events of one instant in the order they were added (as the
 * reader gives a stream's records): an insertion sort, stable where
 * qsort() is not, for at most SYNTH_MAX_EVENTS events */
BUILDER_FN void synth_sort(struct synth_events *s)
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

#ifndef EVENT_TARGET
#define EVENT_TARGET struct synth_events

static void feed(struct synth_events *s, const void *ev)
{
	synth_add(s, ev);
}
#else
static void feed(EVENT_TARGET *t, const void *ev);
#endif

/* a test file may use only some of them */
#define BUILDER_FN static __attribute__((unused))

enum prev_how {
	BLOCK, /* sleeps: voluntary */
	PREEMPT, /* preempted: involuntary, stays queued */
	YIELD, /* state 0 without the preempt flag: involuntary too */
	DIE, /* TASK_DEAD */
};

BUILDER_FN bool traced(__u32 tid)
{
	return tid >= 1000;
}

BUILDER_FN __u32 tg(__u32 tid)
{
	return traced(tid) ? tid - tid % 10 : tid;
}

/* A switch on cpu from prev to next; a blocking one (nr not 0) carries
 * the system call prev blocks in and its first two arguments. */
BUILDER_FN void sw_full(EVENT_TARGET *t, __u64 ts, unsigned int cpu, __u32 prev, enum prev_how how,
			__u32 next, int nr, __u64 arg0, __u64 arg1)
{
	struct weft_ev_switch e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_SWITCH, .cpu = cpu } };

	e.prev_tid = prev;
	e.prev_tgid = tg(prev);
	e.next_tid = next;
	e.next_tgid = tg(next);
	if (traced(prev))
		e.hdr.flags |= WEFT_SWITCH_PREV_TRACED;
	if (traced(next))
		e.hdr.flags |= WEFT_SWITCH_NEXT_TRACED;
	switch (how) {
	case BLOCK:
		e.prev_state = 1;
		break;
	case PREEMPT:
		e.prev_state = 1; /* the preempt flag wins over a sleeping state */
		e.hdr.flags |= WEFT_SWITCH_PREEMPT;
		break;
	case YIELD:
		e.prev_state = 0;
		break;
	case DIE:
		e.prev_state = 0x80;
		break;
	}
	if (nr) {
		e.hdr.flags |= WEFT_SWITCH_BLOCKING;
		e.syscall_nr = nr;
		e.sys_arg0 = arg0;
		e.sys_arg1 = arg1;
	}
	feed(t, &e);
}

BUILDER_FN void sw(EVENT_TARGET *t, __u64 ts, unsigned int cpu, __u32 prev, enum prev_how how,
		   __u32 next)
{
	sw_full(t, ts, cpu, prev, how, next, 0, 0, 0);
}

/* tid enqueued on cpu at ts by waker (0: unknown), whose sched_waking ran
 * at waking_ts */
BUILDER_FN void wake_from(EVENT_TARGET *t, __u64 ts, __u32 tid, unsigned int cpu, __u32 waker,
			  __u64 waking_ts, __u32 flags)
{
	struct weft_ev_wakeup e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_WAKEUP, .cpu = cpu } };

	e.hdr.flags = flags;
	e.waking_ts_ns = waking_ts;
	e.tid = tid;
	e.tgid = tg(tid);
	e.waker_tid = waker;
	e.waker_tgid = tg(waker);
	e.target_cpu = cpu;
	feed(t, &e);
}

BUILDER_FN void wake(EVENT_TARGET *t, __u64 ts, __u32 tid, unsigned int cpu)
{
	wake_from(t, ts, tid, cpu, 0, ts, 0);
}

BUILDER_FN void fork_ev(EVENT_TARGET *t, __u64 ts, __u32 parent, __u32 child, bool thread,
			const char *comm)
{
	struct weft_ev_fork e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_FORK } };

	e.hdr.flags = thread ? WEFT_FORK_THREAD : 0;
	e.parent_tid = parent;
	e.parent_tgid = tg(parent);
	e.child_tid = child;
	e.child_tgid = thread ? tg(parent) : child;
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	feed(t, &e);
}

BUILDER_FN void rename_ev(EVENT_TARGET *t, __u64 ts, __u32 tid, const char *comm)
{
	struct weft_ev_rename e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_RENAME } };

	e.tid = tid;
	e.tgid = tg(tid);
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	feed(t, &e);
}

/* tid exits; the kernel's accounting of it as the record carries it, and
 * its process's peak RSS, 1000 + tid kB */
BUILDER_FN void exit_ev(EVENT_TARGET *t, __u64 ts, __u32 tid, __u64 exec_ns, __u64 delay_ns)
{
	struct weft_ev_exit e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_EXIT } };

	e.tid = tid;
	e.tgid = tg(tid);
	e.sum_exec_ns = exec_ns;
	e.run_delay_ns = delay_ns;
	e.maxrss_kb = 1000 + tid;
	feed(t, &e);
}

/* A thread running on cpu when the recording starts (as attaching with -p
 * finds it), named comm */
BUILDER_FN void synth_task_state(EVENT_TARGET *s, __u64 ts, __u32 tid, __u32 tgid, unsigned int cpu,
				 const char *comm)
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
	feed(s, &e);
}

BUILDER_FN void synth_sample(EVENT_TARGET *s, __u64 ts, __u32 tid, __u32 tgid, unsigned int cpu,
			     int user_id, int kernel_id)
{
	struct weft_ev_sample e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_SAMPLE, .cpu = cpu } };

	e.tid = tid;
	e.tgid = tgid;
	e.user_stack_id = user_id;
	e.kernel_stack_id = kernel_id;
	feed(s, &e);
}

/* tid blocks (sleeps) on cpu, which goes idle; its switch took these
 * stacks */
BUILDER_FN void synth_block(EVENT_TARGET *s, __u64 ts, __u32 tid, __u32 tgid, unsigned int cpu,
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
	feed(s, &e);
}

#define SYNTH_NR_FUTEX 202
#define SYNTH_FUTEX_WAIT_PRIVATE 128 /* a mutex's wait */
#define SYNTH_FUTEX_WAIT_BITSET_PRIVATE 0x89 /* a condition variable's */

/* tid blocks on cpu, which goes idle, in a futex wait with op on uaddr;
 * its switch took these stacks */
BUILDER_FN void synth_block_futex(EVENT_TARGET *s, __u64 ts, __u32 tid, __u32 tgid,
				  unsigned int cpu, int user_id, int kernel_id, __u64 uaddr,
				  __u64 op)
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
	feed(s, &e);
}

/* tid spins on a kernel lock from start to ts, never sleeping: a wait
 * without a blocked interval, so without a switch's stacks */
BUILDER_FN void synth_klock_spin(EVENT_TARGET *s, __u64 start, __u64 ts, __u32 tid, __u32 tgid,
				 unsigned int cpu, __u64 lock_addr)
{
	struct weft_ev_klock e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_KLOCK, .cpu = cpu } };

	e.tid = tid;
	e.tgid = tgid;
	e.lock_addr = lock_addr;
	e.start_ns = start;
	e.kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	feed(s, &e);
}

/* tid renames itself (prctl PR_SET_NAME) */
BUILDER_FN void synth_rename(EVENT_TARGET *s, __u64 ts, __u32 tid, __u32 tgid, unsigned int cpu,
			     const char *comm)
{
	struct weft_ev_rename e = { .hdr = { .ts_ns = ts, .type = WEFT_EV_RENAME, .cpu = cpu } };

	e.tid = tid;
	e.tgid = tgid;
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	feed(s, &e);
}

/* waker (a thread of tgid, at these stacks) wakes tid at ts, which runs
 * on cpu 1 us later: its blocked interval ends at ts */
BUILDER_FN void synth_wake_run(EVENT_TARGET *s, __u64 ts, __u32 tid, __u32 tgid, unsigned int cpu,
			       __u32 waker, int waker_user_id, int waker_kernel_id)
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
	feed(s, &w);
	sw.hdr.flags = WEFT_SWITCH_NEXT_TRACED;
	sw.next_tid = tid;
	sw.next_tgid = tgid;
	sw.user_stack_id = sw.kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	feed(s, &sw);
}

#endif /* __WEFT_TESTS_EVENT_BUILDERS_H */
