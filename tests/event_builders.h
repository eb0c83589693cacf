/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Event records for the tests that feed a consumer one record at a time
 * (the analysis, the timeline). Conventions: tids from 1000 up are traced,
 * their process is the tid rounded down to ten; smaller tids are other
 * tasks, 0 is idle. Before including, the test defines EVENT_TARGET, the
 * type it feeds, and a function feed(EVENT_TARGET *, const void *ev) that
 * fails the test when the consumer does. Each test file that includes it
 * gets its own copy; tests that build event arrays instead use
 * synth_events.h. */
#ifndef __WEFT_TESTS_EVENT_BUILDERS_H
#define __WEFT_TESTS_EVENT_BUILDERS_H

#include <stdbool.h>
#include <string.h>
#include <linux/types.h>

#include "events.h"

#ifndef EVENT_TARGET
#error "define EVENT_TARGET and feed() before including event_builders.h"
#endif

/* a test file may use only some of them */
#define BUILDER_FN static __attribute__((unused))

enum prev_how {
	BLOCK, /* sleeps: voluntary */
	PREEMPT, /* preempted: involuntary, stays queued */
	YIELD, /* state 0 without the preempt flag: involuntary too */
	DIE, /* TASK_DEAD */
};

static void feed(EVENT_TARGET *t, const void *ev);

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

#endif /* __WEFT_TESTS_EVENT_BUILDERS_H */
