/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Event records shared by the BPF programs and userspace.
 *
 * Every record starts with struct weft_event_header and has a fixed size
 * per type (weft_event_size()); layouts only grow at the end (see
 * WEFT_FIELD_AT below). The kernel writes them into one ring
 * buffer per CPU; the recorder appends records of its own (thread states
 * at attach, kernel accounting of threads alive at the end, per-CPU
 * totals) to a separate stream. All timestamps are CLOCK_MONOTONIC
 * nanoseconds (bpf_ktime_get_ns()), one clock for every CPU.
 *
 * Only types and constants live here: no vmlinux.h, no libc.
 */
#ifndef __WEFT_EVENTS_H
#define __WEFT_EVENTS_H

#define WEFT_COMM_LEN 16

/* Stack ids index the recording's stack table (ids of the kernel's
 * stack-trace map). Negative: no stack. WEFT_STACK_NOT_TAKEN when stacks
 * are off or the record has none to take; otherwise -errno of the failed
 * capture (-EFAULT: no frames of that kind, e.g. a user-mode sample has no
 * kernel stack; -EEXIST: hash collision; -ENOMEM: the map is full). */
#define WEFT_STACK_NOT_TAKEN (-1)
/* A blocking switch left out by stack sampling (--stack-every N): the
 * thread's next sampled switch carries its blocked time. No errno. */
#define WEFT_STACK_SKIPPED (-0x10000)
/* The last frame of a user stack the unwinder could not finish (no rule
 * for a frame, an unreadable stack, too deep): shown as "[unknown]" and
 * counted as cut short. Never a user address. */
#define WEFT_STACK_CUT_SHORT 0xffffffffffffff00ULL

enum weft_event_type {
	WEFT_EV_SWITCH = 1,
	WEFT_EV_WAKEUP = 2,
	WEFT_EV_FORK = 3,
	WEFT_EV_EXEC = 4,
	WEFT_EV_EXIT = 5,
	WEFT_EV_MIGRATE = 6,
	WEFT_EV_RENAME = 7,
	/* written by the recorder, not by BPF */
	WEFT_EV_TASK_STATE = 8,
	WEFT_EV_TASK_ACCT = 9,
	WEFT_EV_CPU_TOTALS = 10,
	WEFT_EV_SAMPLE = 11, /* on-CPU sample (perf_event cpu-clock) */
	WEFT_EV_KLOCK = 12, /* a contended kernel lock (contention tracepoints) */
	WEFT_EV_PLOCK = 13, /* a pthread_mutex_lock that waited (--locks=pthread) */
	WEFT_EV_TYPE_MAX,
};

struct weft_event_header {
	__u64 ts_ns;
	__u16 type;
	__u16 cpu; /* the CPU the record was written on */
	__u32 flags; /* per type: WEFT_SWITCH_*, WEFT_WAKE_*, ... */
};

/* prev_state of a thread that exits (the kernel's TASK_DEAD) */
#define WEFT_TASK_DEAD 0x80

/* Switch flags */
#define WEFT_SWITCH_PREEMPT 0x1 /* prev was preempted (tracepoint's preempt arg) */
#define WEFT_SWITCH_PREV_TRACED 0x2
#define WEFT_SWITCH_NEXT_TRACED 0x4
#define WEFT_SWITCH_BLOCKING 0x8 /* syscall_nr and sys_arg* are filled */
#define WEFT_SWITCH_MULTI_WAIT 0x10 /* futex_waitv: sys_arg0 is its first waiter */
/* Written by weft, not by the tracepoint: on this CPU a traced thread
 * switched out although the last switch seen there put another task on it
 * (the kernel ran it without tracing the switch; perf sees the same gap).
 * ts_ns is when it started running, from its slice's runtime
 * (sum_exec_runtime - prev_sum_exec_runtime), and prev_tid is the task the
 * last seen switch put on the CPU. */
#define WEFT_SWITCH_INFERRED 0x20
/* prev blocks while waiting for a contended kernel lock (between the
 * contention_begin and contention_end tracepoints): sys_arg1 is then the
 * lock's address instead of the system call's second argument. */
#define WEFT_SWITCH_KERNEL_LOCK 0x40
/* Only with --stack-audit, which takes stacks at every blocking switch:
 * the default sampling (stack_every per thread, the per-CPU stack budget)
 * would have taken no stack at this one (WEFT_STACK_SKIPPED). Comparing
 * the attribution with and without the marked stacks measures the
 * sampling's bias from one recording. */
#define WEFT_SWITCH_WOULD_SKIP 0x80

/* Emitted when prev or next is in the traced tree. next_tid 0 is idle. */
struct weft_ev_switch {
	struct weft_event_header hdr;
	__u32 prev_tid;
	__u32 prev_tgid;
	__u32 next_tid;
	__u32 next_tgid;
	/* prev's state as the tracepoint gives it, masked with 0xff: 0 is
	 * runnable, 1 interruptible, 2 uninterruptible, WEFT_TASK_DEAD. */
	__u32 prev_state;
	/* When a traced prev blocks (not preempted, state not runnable): the
	 * system call it blocks in, read from its saved user registers, and
	 * its first two arguments (futex: uaddr, op; futex_waitv: the first
	 * waiter's uaddr, and flags WEFT_SWITCH_MULTI_WAIT). -1 outside a
	 * system call (a page fault); 0 when nothing was read. */
	__s32 syscall_nr;
	__u64 sys_arg0;
	__u64 sys_arg1;
	/* Where prev was when it switched out (off-CPU stacks) */
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	/* When prev blocks in a futex lock wait, the thread that held the
	 * lock as the memory said at the switch: the tid in the futex word
	 * for FUTEX_LOCK_PI/LOCK_PI2, glibc's pthread_mutex_t.__owner for a
	 * FUTEX_WAIT on a locked mutex word. 0 when not known. Not checked
	 * in the kernel: the analysis takes it only if it is a live thread
	 * of prev's process. */
	__u32 owner_tid;
	__u32 owner_reserved; /* 0 */
};

/* Wakeup flags */
#define WEFT_WAKE_NEW 0x1 /* sched_wakeup_new: first enqueue of a new task */
/* sched_waking ran in interrupt context (a timer, a device, a softirq
 * run on the interrupt stack): the waker fields name the interrupted task */
#define WEFT_WAKE_IRQ 0x2
#define WEFT_WAKE_NO_WAKING 0x8 /* no sched_waking seen: waker fields unknown */
/* Only with --stack-audit: the default would have taken no waker stacks
 * here (the wakee's last block took none), WEFT_STACK_NOT_TAKEN */
#define WEFT_WAKE_WOULD_SKIP 0x10

/* One record per wakeup of a traced thread, written at the enqueue
 * (sched_wakeup / sched_wakeup_new): hdr.ts_ns is the enqueue, where the
 * kernel's run_delay starts; waking_ts_ns is when sched_waking ran in the
 * waker's context. For interrupt wakeups the waker fields name whatever
 * task the interrupt landed on: use the flags, not the tid. */
struct weft_ev_wakeup {
	struct weft_event_header hdr;
	__u64 waking_ts_ns;
	__u32 tid;
	__u32 tgid;
	__u32 waker_tid;
	__u32 waker_tgid;
	__u32 target_cpu;
	/* The waker's stacks when the waker is a task (not an interrupt):
	 * who woke the thread, and from where */
	__s32 waker_user_stack_id;
	__s32 waker_kernel_stack_id;
	__u32 reserved;
};

#define WEFT_FORK_THREAD 0x1 /* a new thread of the same process */

struct weft_ev_fork {
	struct weft_event_header hdr;
	__u32 parent_tid;
	__u32 parent_tgid;
	__u32 child_tid;
	__u32 child_tgid;
	char comm[WEFT_COMM_LEN];
};

struct weft_ev_exec {
	struct weft_event_header hdr;
	__u32 tid;
	__u32 tgid;
	__u32 old_tid; /* a non-leader thread that execs takes the leader's tid */
	__u32 reserved;
	char comm[WEFT_COMM_LEN];
};

#define WEFT_EXIT_GROUP_DEAD 0x1 /* the last thread of its process */

/* The kernel's own accounting of the thread as it exits, for the
 * accounting check. Also written by the recorder (as WEFT_EV_TASK_ACCT)
 * for threads still alive at the end, from /proc. */
struct weft_ev_exit {
	struct weft_event_header hdr;
	__u32 tid;
	__u32 tgid;
	__u64 sum_exec_ns; /* se.sum_exec_runtime */
	__u64 run_delay_ns; /* sched_info.run_delay */
	__u64 pcount; /* sched_info.pcount: times run on a CPU */
	__u64 nvcsw;
	__u64 nivcsw;
	/* The process's peak resident set (signal->maxrss), the same for
	 * every thread of it; VmHWM for the recorder's TASK_ACCT. */
	__u64 maxrss_kb;
	char comm[WEFT_COMM_LEN];
};

struct weft_ev_migrate {
	struct weft_event_header hdr;
	__u32 tid;
	__u32 tgid;
	__u32 orig_cpu;
	__u32 dest_cpu;
};

struct weft_ev_rename {
	struct weft_event_header hdr;
	__u32 tid;
	__u32 tgid;
	char comm[WEFT_COMM_LEN];
};

enum weft_task_state {
	WEFT_TASK_RUNNING = 0, /* on a CPU: hdr.cpu says which */
	WEFT_TASK_RUNNABLE = 1, /* waiting in a run queue */
	WEFT_TASK_BLOCKED = 2,
};

#define WEFT_STATE_ATTACH 0x1 /* taken when attaching with -p */
#define WEFT_STATE_WAIT 0x2 /* the wait fields were read (a blocked thread at attach) */

/* Written by the recorder for each thread already alive when tracing
 * starts (-p), so a thread that never switches still counts. Carries the
 * kernel's accounting at that instant: the baseline of the check. */
struct weft_ev_task_state {
	struct weft_event_header hdr;
	__u32 tid;
	__u32 tgid;
	__u32 ppid;
	__u32 state; /* enum weft_task_state */
	__u64 sum_exec_ns;
	__u64 run_delay_ns;
	__u64 nvcsw;
	__u64 nivcsw;
	char comm[WEFT_COMM_LEN];
	/* Appended (issue 21): what a thread blocked at attach waits on, from
	 * a snapshot that stops nothing (userspace/attach_waits.c), with the
	 * meaning of the switch record's fields of the same names; only with
	 * WEFT_STATE_WAIT in hdr.flags. Stack ids name the recording's stack
	 * table; 0 with the flag clear. */
	__s32 syscall_nr;
	__u32 owner_tid;
	__u64 sys_arg0;
	__u64 sys_arg1;
	__s32 user_stack_id;
	__s32 kernel_stack_id;
};

/* WEFT_EV_TASK_ACCT uses struct weft_ev_exit: threads alive at the end. */

/* Flags of the contention tracepoints (not in vmlinux.h) */
#define WEFT_LCB_F_SPIN 0x1
#define WEFT_LCB_F_READ 0x2
#define WEFT_LCB_F_WRITE 0x4
#define WEFT_LCB_F_RT 0x8
#define WEFT_LCB_F_PERCPU 0x10
#define WEFT_LCB_F_MUTEX 0x20
/* weft's own flag on a klock record: the thread slept during this wait, so
 * its blocked interval (a switch with WEFT_SWITCH_KERNEL_LOCK) has it */
#define WEFT_KLOCK_SLEPT 0x10000

/* One wait for a contended kernel lock, written when it ends (hdr.ts_ns);
 * waits nest (an rwsem's wait, then its inner spin), each its own record. */
struct weft_ev_klock {
	struct weft_event_header hdr; /* hdr.flags: WEFT_LCB_F_* */
	__u32 tid;
	__u32 tgid;
	__u64 lock_addr;
	__u64 start_ns;
	__s32 kernel_stack_id;
	__s32 ret; /* contention_end's: 0, or -errno of a wait given up */
};

/* A pthread_mutex_lock call during which the thread blocked, from the
 * uprobe at its entry to the uretprobe at its return (hdr.ts_ns). */
struct weft_ev_plock {
	struct weft_event_header hdr;
	__u32 tid;
	__u32 tgid;
	__u64 mutex_addr;
	__u64 start_ns;
};

/* A traced thread found on a CPU by the sampling timer (-F HZ). */
struct weft_ev_sample {
	struct weft_event_header hdr;
	__u32 tid;
	__u32 tgid;
	__s32 user_stack_id;
	__s32 kernel_stack_id;
};

/* Per-CPU time over the recording, measured in the switch program. */
struct weft_ev_cpu_totals {
	struct weft_event_header hdr; /* hdr.cpu: the CPU these are for */
	__u64 idle_ns;
	__u64 traced_ns;
	__u64 other_ns;
	__u64 steal_ns; /* from /proc/stat over the same interval */
	__u64 lost; /* records whose reservation failed on this CPU */
};

/* The value of the per-CPU cpu_stats map: what the switch program adds up
 * on every switch, tree or not, and what the ring buffers could not take.
 * The recorder reads it at the start and the end and writes the difference
 * as WEFT_EV_CPU_TOTALS. */
struct weft_cpu_stat {
	__u64 last_ts_ns;
	__u64 last_kind;
	__u64 idle_ns;
	__u64 traced_ns;
	__u64 other_ns;
	__u64 lost; /* ring-buffer reservations that failed */
	__u64 targets_full; /* forked processes the targets map had no room for */
	__u64 stack_failures; /* captures that failed (map full, collision, fault) */
	__u64 last_next_tid; /* what the last switch put on this CPU */
	__u64 inferred_switches; /* switch-ins the kernel did not trace */
	/* The host's steal on this CPU, in ns, from the run queue's own figure
	 * (what the kernel leaves out of its tasks' run time) read at the
	 * traced tree's switches: /proc/stat counts it in 10 ms ticks, late.
	 * steal_seen is the figure at the last of them. */
	__u64 steal_ns;
	__u64 steal_seen;
};

/* Record layouts are append-only, so that a reader of any later weft reads
 * every earlier recording: a field never moves, changes type or goes away
 * (one no longer written stays as reserved), and new fields go at the end
 * of their record, where a reader that finds the record shorter takes them
 * as 0. So 0 must mean "not known" in every field added from now on.
 * These checks hold the layouts of recording format 2.0 in place; a new
 * field adds its own line. */
#define WEFT_FIELD_AT(type, field, offset)                                 \
	_Static_assert(__builtin_offsetof(struct type, field) == (offset), \
		       #type "." #field " moved: records are append-only")
#define WEFT_SIZE_AT_LEAST(type, size) \
	_Static_assert(sizeof(struct type) >= (size), #type " shrank: records are append-only")
#define WEFT_SIZE_IS(type, size) \
	_Static_assert(sizeof(struct type) == (size), #type " changed size")

WEFT_FIELD_AT(weft_event_header, ts_ns, 0);
WEFT_FIELD_AT(weft_event_header, type, 8);
WEFT_FIELD_AT(weft_event_header, cpu, 10);
WEFT_FIELD_AT(weft_event_header, flags, 12);
WEFT_SIZE_IS(weft_event_header, 16);

WEFT_FIELD_AT(weft_ev_switch, prev_tid, 16);
WEFT_FIELD_AT(weft_ev_switch, prev_tgid, 20);
WEFT_FIELD_AT(weft_ev_switch, next_tid, 24);
WEFT_FIELD_AT(weft_ev_switch, next_tgid, 28);
WEFT_FIELD_AT(weft_ev_switch, prev_state, 32);
WEFT_FIELD_AT(weft_ev_switch, syscall_nr, 36);
WEFT_FIELD_AT(weft_ev_switch, sys_arg0, 40);
WEFT_FIELD_AT(weft_ev_switch, sys_arg1, 48);
WEFT_FIELD_AT(weft_ev_switch, user_stack_id, 56);
WEFT_FIELD_AT(weft_ev_switch, kernel_stack_id, 60);
WEFT_FIELD_AT(weft_ev_switch, owner_tid, 64);
WEFT_FIELD_AT(weft_ev_switch, owner_reserved, 68);
WEFT_SIZE_AT_LEAST(weft_ev_switch, 72);

WEFT_FIELD_AT(weft_ev_wakeup, waking_ts_ns, 16);
WEFT_FIELD_AT(weft_ev_wakeup, tid, 24);
WEFT_FIELD_AT(weft_ev_wakeup, tgid, 28);
WEFT_FIELD_AT(weft_ev_wakeup, waker_tid, 32);
WEFT_FIELD_AT(weft_ev_wakeup, waker_tgid, 36);
WEFT_FIELD_AT(weft_ev_wakeup, target_cpu, 40);
WEFT_FIELD_AT(weft_ev_wakeup, waker_user_stack_id, 44);
WEFT_FIELD_AT(weft_ev_wakeup, waker_kernel_stack_id, 48);
WEFT_FIELD_AT(weft_ev_wakeup, reserved, 52);
WEFT_SIZE_AT_LEAST(weft_ev_wakeup, 56);

WEFT_FIELD_AT(weft_ev_fork, parent_tid, 16);
WEFT_FIELD_AT(weft_ev_fork, parent_tgid, 20);
WEFT_FIELD_AT(weft_ev_fork, child_tid, 24);
WEFT_FIELD_AT(weft_ev_fork, child_tgid, 28);
WEFT_FIELD_AT(weft_ev_fork, comm, 32);
WEFT_SIZE_AT_LEAST(weft_ev_fork, 48);

WEFT_FIELD_AT(weft_ev_exec, tid, 16);
WEFT_FIELD_AT(weft_ev_exec, tgid, 20);
WEFT_FIELD_AT(weft_ev_exec, old_tid, 24);
WEFT_FIELD_AT(weft_ev_exec, reserved, 28);
WEFT_FIELD_AT(weft_ev_exec, comm, 32);
WEFT_SIZE_AT_LEAST(weft_ev_exec, 48);

WEFT_FIELD_AT(weft_ev_exit, tid, 16);
WEFT_FIELD_AT(weft_ev_exit, tgid, 20);
WEFT_FIELD_AT(weft_ev_exit, sum_exec_ns, 24);
WEFT_FIELD_AT(weft_ev_exit, run_delay_ns, 32);
WEFT_FIELD_AT(weft_ev_exit, pcount, 40);
WEFT_FIELD_AT(weft_ev_exit, nvcsw, 48);
WEFT_FIELD_AT(weft_ev_exit, nivcsw, 56);
WEFT_FIELD_AT(weft_ev_exit, maxrss_kb, 64);
WEFT_FIELD_AT(weft_ev_exit, comm, 72);
WEFT_SIZE_AT_LEAST(weft_ev_exit, 88);

WEFT_FIELD_AT(weft_ev_migrate, tid, 16);
WEFT_FIELD_AT(weft_ev_migrate, tgid, 20);
WEFT_FIELD_AT(weft_ev_migrate, orig_cpu, 24);
WEFT_FIELD_AT(weft_ev_migrate, dest_cpu, 28);
WEFT_SIZE_AT_LEAST(weft_ev_migrate, 32);

WEFT_FIELD_AT(weft_ev_rename, tid, 16);
WEFT_FIELD_AT(weft_ev_rename, tgid, 20);
WEFT_FIELD_AT(weft_ev_rename, comm, 24);
WEFT_SIZE_AT_LEAST(weft_ev_rename, 40);

WEFT_FIELD_AT(weft_ev_task_state, tid, 16);
WEFT_FIELD_AT(weft_ev_task_state, tgid, 20);
WEFT_FIELD_AT(weft_ev_task_state, ppid, 24);
WEFT_FIELD_AT(weft_ev_task_state, state, 28);
WEFT_FIELD_AT(weft_ev_task_state, sum_exec_ns, 32);
WEFT_FIELD_AT(weft_ev_task_state, run_delay_ns, 40);
WEFT_FIELD_AT(weft_ev_task_state, nvcsw, 48);
WEFT_FIELD_AT(weft_ev_task_state, nivcsw, 56);
WEFT_FIELD_AT(weft_ev_task_state, comm, 64);
WEFT_FIELD_AT(weft_ev_task_state, syscall_nr, 80);
WEFT_FIELD_AT(weft_ev_task_state, owner_tid, 84);
WEFT_FIELD_AT(weft_ev_task_state, sys_arg0, 88);
WEFT_FIELD_AT(weft_ev_task_state, sys_arg1, 96);
WEFT_FIELD_AT(weft_ev_task_state, user_stack_id, 104);
WEFT_FIELD_AT(weft_ev_task_state, kernel_stack_id, 108);
WEFT_SIZE_AT_LEAST(weft_ev_task_state, 80);

WEFT_FIELD_AT(weft_ev_klock, tid, 16);
WEFT_FIELD_AT(weft_ev_klock, tgid, 20);
WEFT_FIELD_AT(weft_ev_klock, lock_addr, 24);
WEFT_FIELD_AT(weft_ev_klock, start_ns, 32);
WEFT_FIELD_AT(weft_ev_klock, kernel_stack_id, 40);
WEFT_FIELD_AT(weft_ev_klock, ret, 44);
WEFT_SIZE_AT_LEAST(weft_ev_klock, 48);

WEFT_FIELD_AT(weft_ev_plock, tid, 16);
WEFT_FIELD_AT(weft_ev_plock, tgid, 20);
WEFT_FIELD_AT(weft_ev_plock, mutex_addr, 24);
WEFT_FIELD_AT(weft_ev_plock, start_ns, 32);
WEFT_SIZE_AT_LEAST(weft_ev_plock, 40);

WEFT_FIELD_AT(weft_ev_sample, tid, 16);
WEFT_FIELD_AT(weft_ev_sample, tgid, 20);
WEFT_FIELD_AT(weft_ev_sample, user_stack_id, 24);
WEFT_FIELD_AT(weft_ev_sample, kernel_stack_id, 28);
WEFT_SIZE_AT_LEAST(weft_ev_sample, 32);

WEFT_FIELD_AT(weft_ev_cpu_totals, idle_ns, 16);
WEFT_FIELD_AT(weft_ev_cpu_totals, traced_ns, 24);
WEFT_FIELD_AT(weft_ev_cpu_totals, other_ns, 32);
WEFT_FIELD_AT(weft_ev_cpu_totals, steal_ns, 40);
WEFT_FIELD_AT(weft_ev_cpu_totals, lost, 48);
WEFT_SIZE_AT_LEAST(weft_ev_cpu_totals, 56);

static inline unsigned int weft_event_size(unsigned int type)
{
	switch (type) {
	case WEFT_EV_SWITCH:
		return sizeof(struct weft_ev_switch);
	case WEFT_EV_WAKEUP:
		return sizeof(struct weft_ev_wakeup);
	case WEFT_EV_FORK:
		return sizeof(struct weft_ev_fork);
	case WEFT_EV_EXEC:
		return sizeof(struct weft_ev_exec);
	case WEFT_EV_EXIT:
	case WEFT_EV_TASK_ACCT:
		return sizeof(struct weft_ev_exit);
	case WEFT_EV_MIGRATE:
		return sizeof(struct weft_ev_migrate);
	case WEFT_EV_RENAME:
		return sizeof(struct weft_ev_rename);
	case WEFT_EV_TASK_STATE:
		return sizeof(struct weft_ev_task_state);
	case WEFT_EV_CPU_TOTALS:
		return sizeof(struct weft_ev_cpu_totals);
	case WEFT_EV_SAMPLE:
		return sizeof(struct weft_ev_sample);
	case WEFT_EV_KLOCK:
		return sizeof(struct weft_ev_klock);
	case WEFT_EV_PLOCK:
		return sizeof(struct weft_ev_plock);
	default:
		return 0;
	}
}

/* A record's size in format 1.0 recordings, which is format 2.0's first:
 * up to the first field appended since. A 1.0 file whose record has any
 * other size cannot be read (its layout was not yet append-only). A field
 * appended to a record that has none yet adds that record here. */
static inline unsigned int weft_event_size_at_2_0(unsigned int type)
{
	switch (type) {
	case WEFT_EV_SWITCH:
		return __builtin_offsetof(struct weft_ev_switch, owner_tid);
	case WEFT_EV_TASK_STATE:
		return __builtin_offsetof(struct weft_ev_task_state, syscall_nr);
	default:
		return weft_event_size(type);
	}
}

#endif /* __WEFT_EVENTS_H */
