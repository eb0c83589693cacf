// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel side of weft record: scheduler events of the traced tree.
 *
 * Every program first asks whether the task is traced (its task storage,
 * then its process in `targets`) and returns at once for tasks outside
 * the tree; the switch program only adds the time since the last switch
 * to its CPU's idle/traced/other totals before doing so. Records go to the
 * ring buffer of the CPU that writes them, without a wakeup per record.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"
#include "cpu_stat.bpf.h"
#include "stacks.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* x86_64 without KASAN; an interrupt's frame is never within it. */
#define TASK_STACK_SIZE (16 * 1024)
#define PAGE_BYTES 4096

/* Set by the recorder before load. */
const volatile __u64 wakeup_watermark = 256 * 1024;
const volatile bool targ_stacks = false;
const volatile bool targ_futex_reasons = true;
const volatile bool targ_kernel_locks = true;
const volatile bool targ_pthread_locks = false;
/* Read a blocked futex lock's owner (read_lock_owner); off only to
 * measure what the read costs (scripts/bench.sh) */
const volatile bool targ_owners = true;
/* User stacks walked with the unwind tables (unwind.h) rather than by the
 * kernel's frame-pointer walk */
const volatile bool targ_unwind_tables = false;
/* One blocking switch in stack_every per thread takes stacks, and any
 * that comes STACK_GAP_NS or more after the thread's last one that did */
const volatile __u32 stack_every = 1;
#define STACK_GAP_NS 1000000ULL
/* And at most one in stack_interval_ns per CPU (0: no limit), so that the
 * price of stacks is bounded per second, not per switch: 64 threads that
 * each block less than once a gap would otherwise all take them. */
const volatile __u64 stack_interval_ns = 0;
/* --stack-audit: every blocking switch takes stacks, and those the rules
 * above would have skipped carry WEFT_SWITCH_WOULD_SKIP */
const volatile bool targ_stack_audit = false;

struct plock_call {
	__u64 mutex;
	__u64 start_ns;
	__u32 blocked;
	__u32 reserved;
};

/* pthread_mutex_lock calls in progress, by tid: only those during which
 * the thread blocked become records. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct plock_call);
} plock_calls SEC(".maps");

enum target_flags {
	TARGET_TRACED = 1,
	/* The group's last thread has exited: forget the tgid at its final
	 * switch, so a recycled pid is not traced by mistake. */
	TARGET_EXITING = 2,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tgid */
	__type(value, __u32); /* enum target_flags */
} targets SEC(".maps");

#define KLOCK_DEPTH 4

struct klock_wait {
	__u64 lock;
	__u64 start_ns;
	__u32 flags;
	__s32 kernel_stack_id;
};

/* The contended kernel locks a traced thread waits for right now, nested
 * (an rwsem's wait, then the spin inside it). */
struct klock_stack {
	__u32 depth;
	__u32 reserved;
	struct klock_wait waits[KLOCK_DEPTH];
};

/* What sched_waking (on the waker's CPU) leaves for sched_wakeup (where
 * the wakee is enqueued, often another CPU). Only the waking writes it:
 * with the wakeup clearing a flag in it and the switches writing beside
 * it, its line crossed between the CPUs several times a handoff (pingpong
 * on two CPUs: switch 310-405 ns, wakeup 464-496; on a line of its own,
 * 260-278 and 430-469). The carry itself still costs a waking about 200
 * ns there, the price of passing it through memory. */
struct wake_carry {
	__u64 ts_ns;
	__u32 waker_tid;
	__u32 waker_tgid;
	__u32 flags;
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	__u32 seq; /* one more at each waking */
};

/* The task storage's value is 8-byte aligned at an offset weft does not
 * know: the carry is kept 128 bytes clear of the rest, so that no line
 * holds both. */
#define CARRY_SPAN 128

struct thread_state {
	struct wake_carry carry;
	__u8 carry_pad[CARRY_SPAN - sizeof(struct wake_carry)];
	__u32 carry_taken; /* the carry's seq the last wakeup took */
	/* stack sampling (stack_every): blocking switches to skip before the
	 * next one takes stacks, and whether the last one did (its waker's
	 * stacks are taken only then, for the wakeup flame graph) */
	__u32 stack_countdown;
	__u32 block_sampled;
	__u64 last_stack_ns;
	/* its sum_exec_runtime at its last traced switch-out: what it ran
	 * since then, the kernel counted while the switches went untraced */
	__u64 exec_at_switch_out;
	/* when its current run began (0 while it is off a CPU) and its
	 * sum_exec_runtime then, which the switch had just brought up to
	 * date: what handle_exit() needs to bring the figure up to date */
	__u64 running_since_ns;
	__u64 exec_at_switch_in;
	struct klock_stack klocks;
};

/* Per-thread state, kept in task storage because it is read on hot paths;
 * only traced threads get it. sched_waking runs in the waker's context, sched_wakeup where the wakee
 * is enqueued (often another CPU's idle loop): the waker is carried from
 * one to the other in the wakee's task storage, which costs a fraction of
 * a hash map's update and delete on every wakeup. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} thread_states SEC(".maps");

/* The per-CPU stack budget, a generic cell rate algorithm: tat_ns is
 * when the budget would be whole again. A walk is allowed while tat_ns is
 * less than a burst of intervals ahead of now, and pushes it one interval
 * on. A thread after a quiet gap may go deeper into the budget, so a
 * thread that blocks rarely keeps its stacks beside one that blocks all
 * the time; both bursts still bound the rate at one per interval. */
#define STACK_BURST 4
#define STACK_BURST_QUIET 32

struct stack_budget {
	__u64 tat_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_budget);
} stack_budgets SEC(".maps");

/* One ring buffer per CPU, so CPUs never contend on a reservation lock.
 * The recorder sizes the inner maps and fills the array before attach. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(
		values, struct {
			__uint(type, BPF_MAP_TYPE_RINGBUF);
			__uint(max_entries, 4096 * 64);
		});
} rings SEC(".maps");

/* Interrupts run on their own per-CPU stacks, so a frame outside the
 * current task's stack is an interrupt's. The preempt count would say so
 * directly, but it is a per-CPU variable, whose address the kernel exports
 * only with CONFIG_KALLSYMS_ALL. */
static __always_inline bool in_interrupt_context(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	volatile __u64 marker = 0;
	__u64 here = (__u64)(void *)&marker;
	__u64 base = (__u64)task->stack;

	return here - base >= TASK_STACK_SIZE;
}

static __always_inline __s32 take_user_stack(void *ctx)
{
	return targ_unwind_tables ? take_user_stack_unwound() : take_user_stack_fp(ctx);
}

static __always_inline bool is_traced(__u32 tgid)
{
	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

static __always_inline void *ring_reserve(__u32 size, void **ring)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct weft_cpu_stat *cs;
	void *rec = NULL;

	*ring = bpf_map_lookup_elem(&rings, &cpu);
	if (*ring)
		rec = bpf_ringbuf_reserve(*ring, size, 0);
	if (!rec) {
		cs = this_cpu_stat();
		if (cs)
			cs->lost++;
	}
	return rec;
}

/* Wake the reader only when this record takes the unread data across the
 * watermark: a wakeup per record would add a context switch of the
 * recorder to every context switch of the program it watches. */
static __always_inline void ring_submit(void *ring, void *rec, __u32 size)
{
	__u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (avail >= wakeup_watermark && avail - size - 8 < wakeup_watermark)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, flags);
}

static __always_inline void fill_header(struct weft_event_header *hdr, __u64 ts, __u16 type,
					__u32 flags)
{
	hdr->ts_ns = ts;
	hdr->type = type;
	hdr->cpu = bpf_get_smp_processor_id();
	hdr->flags = flags;
}

#define SYS_FUTEX_WAITV 449
#define SYS_FUTEX 202
#define FUTEX_CMD_MASK 0x7f
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_LOCK_PI2 13
#define FUTEX_TID_MASK 0x3fffffff

/* glibc's pthread_mutex_t on x86-64: the futex word is at offset 0, so a
 * mutex wait's uaddr is the mutex */
struct glibc_mutex_head {
	__s32 lock;
	__u32 count;
	__s32 owner;
};

/* Who holds the lock prev blocks on, where the memory says it: a PI
 * futex word holds the owner's tid; glibc's mutexes wait with
 * futex(uaddr, FUTEX_WAIT, 2) (lll_lock_wait's "locked, with waiters")
 * and keep the owner in __owner. A condition variable or a semaphore
 * waits with WAIT_BITSET or another value, and is left alone: reading
 * past its word would give a number that only looks like a tid. One
 * user read of 12 bytes per lock wait; the analysis checks the tid. */
static __always_inline void read_lock_owner(struct pt_regs *regs, struct weft_ev_switch *ev)
{
	__u32 cmd = regs->si & FUTEX_CMD_MASK;
	struct glibc_mutex_head m;

	if (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2) {
		if (bpf_probe_read_user(&m.lock, sizeof(m.lock), (void *)regs->di) == 0)
			ev->owner_tid = (__u32)m.lock & FUTEX_TID_MASK;
	} else if (cmd == FUTEX_WAIT && (__u32)regs->dx == 2) {
		if (bpf_probe_read_user(&m, sizeof(m), (void *)regs->di) == 0 && m.lock &&
		    m.owner > 0)
			ev->owner_tid = (__u32)m.owner;
	}
}

struct futex_waiter {
	__u64 val;
	__u64 uaddr;
	__u32 flags;
	__u32 reserved;
};

/* Why a thread blocks is in its saved user registers: the system call
 * number and arguments, read only for the switches that block, so weft
 * pays nothing for the futex calls that return at once (DESIGN: What is
 * traced). */
static __always_inline void read_blocking_syscall(struct task_struct *prev,
						  struct weft_ev_switch *ev)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	struct futex_waiter first;

	if (!regs)
		return;
	ev->hdr.flags |= WEFT_SWITCH_BLOCKING;
	ev->syscall_nr = (__s32)regs->orig_ax;
	ev->sys_arg0 = regs->di;
	ev->sys_arg1 = regs->si;
	if (targ_owners && ev->syscall_nr == SYS_FUTEX)
		read_lock_owner(regs, ev);
	if (ev->syscall_nr == SYS_FUTEX_WAITV) {
		ev->hdr.flags |= WEFT_SWITCH_MULTI_WAIT;
		if (bpf_probe_read_user(&first, sizeof(first), (void *)ev->sys_arg0) == 0)
			ev->sys_arg0 = first.uaddr;
		else
			ev->sys_arg0 = 0;
	}
}

/* The kernel sometimes runs a task without tracing the switch to it (seen
 * on 6.18 after short runs of other tasks; perf's sched_switch shows the
 * same hole). Left alone, the thread would look queued the whole time it
 * ran. What it ran since its last traced switch-out says when it started. */
static __always_inline void emit_inferred_switch_in(struct weft_cpu_stat *cs,
						    struct task_struct *task,
						    struct thread_state *state, __u32 last_next,
						    __u64 last_ts, __u64 now)
{
	__u64 exec = task->se.sum_exec_runtime;
	/* What it ran since its last traced switch-out. The current slice
	 * alone (sum_exec_runtime - prev_sum_exec_runtime) is reset by picks
	 * the tracepoint does not see either, and once read 19 us of a 145 ms
	 * run. */
	__u64 ran = state && state->exec_at_switch_out && exec > state->exec_at_switch_out ?
			    exec - state->exec_at_switch_out :
			    exec - task->se.prev_sum_exec_runtime;
	__u64 start = ran < now - last_ts ? now - ran : last_ts;
	struct weft_ev_switch *ev;
	void *ring;

	cs->inferred_switches++;
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return;
	fill_header(&ev->hdr, start, WEFT_EV_SWITCH,
		    WEFT_SWITCH_NEXT_TRACED | WEFT_SWITCH_INFERRED);
	ev->prev_tid = last_next;
	ev->prev_tgid = 0;
	ev->next_tid = task->pid;
	ev->next_tgid = task->tgid;
	ev->prev_state = 0;
	ev->syscall_nr = 0;
	ev->sys_arg0 = 0;
	ev->sys_arg1 = 0;
	ev->user_stack_id = WEFT_STACK_NOT_TAKEN;
	ev->kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	ev->owner_tid = 0;
	ev->owner_reserved = 0;
	ring_submit(ring, ev, sizeof(*ev));
}

/* A thread that blocks inside a lock wait is off the CPU for that lock. */
static __always_inline void note_kernel_lock_wait(struct thread_state *ts,
						  struct weft_ev_switch *ev)
{
	struct klock_stack *st = ts ? &ts->klocks : NULL;
	__u32 top;

	if (!st || !st->depth)
		return;
	top = st->depth - 1;
	if (top >= KLOCK_DEPTH)
		return;
	ev->hdr.flags |= WEFT_SWITCH_KERNEL_LOCK;
	ev->sys_arg1 = st->waits[top & (KLOCK_DEPTH - 1)].lock;
	st->waits[top & (KLOCK_DEPTH - 1)].flags |= WEFT_KLOCK_SLEPT;
}

static __always_inline void note_pthread_lock_wait(struct task_struct *prev)
{
	__u32 tid = prev->pid;
	struct plock_call *call = bpf_map_lookup_elem(&plock_calls, &tid);

	if (call)
		call->blocked = 1;
}

/* Traced threads carry task storage, made on their first switch or
 * wakeup: finding it answers "traced?" for less than the targets lookup
 * on the hottest paths. Only traced threads ever get it. */
static __always_inline bool thread_traced(struct task_struct *t, struct thread_state **state)
{
	__u32 tgid = t->tgid;

	*state = NULL;
	if (!t->pid)
		return false;
	*state = bpf_task_storage_get(&thread_states, t, 0, 0);
	if (*state)
		return true;
	if (!bpf_map_lookup_elem(&targets, &tgid))
		return false;
	*state = bpf_task_storage_get(&thread_states, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	return true;
}

/* Whether this CPU's stack budget allows one more walk now (and takes it) */
static __always_inline bool stack_budget_take(__u64 now, bool quiet)
{
	__u64 burst_ns = stack_interval_ns * (quiet ? STACK_BURST_QUIET : STACK_BURST);
	struct stack_budget *b;
	__u32 zero = 0;
	__u64 tat;

	if (!stack_interval_ns)
		return true;
	b = bpf_map_lookup_elem(&stack_budgets, &zero);
	if (!b)
		return true;
	tat = b->tat_ns > now ? b->tat_ns : now;
	if (tat - now > burst_ns)
		return false;
	b->tat_ns = tat + stack_interval_ns;
	return true;
}

/* Stack sampling: whole stacks at every blocking switch cost more than
 * the rest of the switch program together on a program that switches
 * 100,000s of times a second, so one blocking switch in stack_every per
 * thread takes them, and any that comes after a quiet gap: only threads
 * that block more than about 1000 times a second are sampled. Of those,
 * the CPU's budget (stack_interval_ns) lets through one an interval; a
 * thread refused keeps its turn for its next block. The skipped ones are
 * marked, and the reports give their blocked time to a later sampled
 * stack. --stack-audit runs the same rules on the same state, and only
 * marks what they decide. */
static __always_inline bool block_takes_stacks(struct thread_state *info, __u64 now)
{
	bool quiet;

	if (!info)
		return true;
	if (stack_every <= 1 && !stack_interval_ns) {
		info->block_sampled = 1;
		return true;
	}
	quiet = now - info->last_stack_ns >= STACK_GAP_NS;
	/* a thread that blocks less than once a gap keeps every stack */
	if (stack_every > 1 && info->stack_countdown && !quiet) {
		info->stack_countdown--;
		info->block_sampled = 0;
		return false;
	}
	if (!stack_budget_take(now, quiet)) {
		info->stack_countdown = 0;
		info->block_sampled = 0;
		return false;
	}
	info->stack_countdown = stack_every > 1 ? stack_every - 1 : 0;
	info->block_sampled = 1;
	info->last_stack_ns = now;
	return true;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 prev_tgid = prev->tgid, next_tgid = next->tgid;
	struct thread_state *prev_state_bpf, *next_state_bpf;
	bool prev_traced = thread_traced(prev, &prev_state_bpf);
	bool next_traced = thread_traced(next, &next_state_bpf);
	__u32 *prev_target;
	struct weft_ev_switch *ev;
	__u32 flags = 0;
	bool blocks;
	void *ring;

	struct weft_cpu_stat *cs = this_cpu_stat();
	__u64 last_ts = cs ? cs->last_ts_ns : 0;
	__u32 last_next = cs ? cs->last_next_tid : 0;

	account_cpu_time(cs, now, next, next_traced);
	if (!prev_traced && !next_traced)
		return 0;
	if (cs)
		note_cpu_steal(cs, next);
	if (prev_traced && last_ts && last_next != prev->pid)
		emit_inferred_switch_in(cs, prev, prev_state_bpf, last_next, last_ts, now);
	if (prev_state_bpf) {
		prev_state_bpf->exec_at_switch_out = prev->se.sum_exec_runtime;
		prev_state_bpf->running_since_ns = 0;
	}
	if (next_state_bpf) {
		next_state_bpf->running_since_ns = now;
		next_state_bpf->exec_at_switch_in = next->se.sum_exec_runtime;
	}

	if (preempt)
		flags |= WEFT_SWITCH_PREEMPT;
	if (prev_traced)
		flags |= WEFT_SWITCH_PREV_TRACED;
	if (next_traced)
		flags |= WEFT_SWITCH_NEXT_TRACED;

	ev = ring_reserve(sizeof(*ev), &ring);
	if (ev) {
		fill_header(&ev->hdr, now, WEFT_EV_SWITCH, flags);
		ev->prev_tid = prev->pid;
		ev->prev_tgid = prev_tgid;
		ev->next_tid = next->pid;
		ev->next_tgid = next_tgid;
		/* The FREEZABLE bit (0x2000) rides on blocking states. */
		ev->prev_state = prev_state & 0xff;
		ev->syscall_nr = 0;
		ev->sys_arg0 = 0;
		ev->sys_arg1 = 0;
		ev->owner_tid = 0;
		ev->owner_reserved = 0;
		blocks = prev_traced && !preempt && ev->prev_state &&
			 !(ev->prev_state & WEFT_TASK_DEAD);
		if (targ_futex_reasons && blocks) {
			read_blocking_syscall(prev, ev);
			if (targ_kernel_locks)
				note_kernel_lock_wait(prev_state_bpf, ev);
			if (targ_pthread_locks)
				note_pthread_lock_wait(prev);
		}
		/* sched_switch runs in prev's context: its stacks are
		 * the current ones. Only a block starts an off-CPU
		 * interval that a stack explains. */
		if (targ_stacks && blocks) {
			if (block_takes_stacks(prev_state_bpf, now) || targ_stack_audit) {
				if (prev_state_bpf && !prev_state_bpf->block_sampled)
					ev->hdr.flags |= WEFT_SWITCH_WOULD_SKIP;
				ev->user_stack_id = take_user_stack(ctx);
				ev->kernel_stack_id = take_kernel_stack(ctx);
			} else {
				ev->user_stack_id = WEFT_STACK_SKIPPED;
				ev->kernel_stack_id = WEFT_STACK_SKIPPED;
			}
		} else {
			ev->user_stack_id = WEFT_STACK_NOT_TAKEN;
			ev->kernel_stack_id = WEFT_STACK_NOT_TAKEN;
		}
		ring_submit(ring, ev, sizeof(*ev));
	}

	if (prev_traced && (prev_state & WEFT_TASK_DEAD) && prev->pid == prev_tgid) {
		prev_target = bpf_map_lookup_elem(&targets, &prev_tgid);
		if (prev_target && (*prev_target & TARGET_EXITING))
			bpf_map_delete_elem(&targets, &prev_tgid);
	}
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(handle_waking, struct task_struct *p)
{
	struct task_struct *waker = bpf_get_current_task_btf();
	struct thread_state *info;
	struct wake_carry *carry;
	bool sampled;

	if (!thread_traced(p, &info) || !info)
		return 0;
	carry = &info->carry;
	carry->ts_ns = bpf_ktime_get_ns();
	carry->waker_tid = waker->pid;
	carry->waker_tgid = waker->tgid;
	carry->flags = 0;
	/* A timer or device interrupt wakes from whatever task it landed
	 * on: that task is not the waker. */
	if (in_interrupt_context())
		carry->flags |= WEFT_WAKE_IRQ;
	/* block_sampled is the switches' line: read it only for stacks */
	sampled = targ_stacks && ((stack_every <= 1 && !stack_interval_ns) || info->block_sampled);
	if (targ_stacks && !(carry->flags & WEFT_WAKE_IRQ) && (sampled || targ_stack_audit)) {
		if (!sampled)
			carry->flags |= WEFT_WAKE_WOULD_SKIP;
		carry->user_stack_id = take_user_stack(ctx);
		carry->kernel_stack_id = take_kernel_stack(ctx);
	} else {
		carry->user_stack_id = WEFT_STACK_NOT_TAKEN;
		carry->kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	}
	carry->seq++;
	return 0;
}

static __always_inline int emit_wakeup(struct task_struct *p, bool new_task)
{
	__u64 now = bpf_ktime_get_ns();
	struct task_struct *current;
	struct thread_state *info;
	struct wake_carry *carry;
	struct weft_ev_wakeup *ev;
	bool pending;
	__u32 tid = p->pid;
	__u32 flags = 0;
	void *ring;

	if (!thread_traced(p, &info))
		return 0;
	carry = info ? &info->carry : NULL;
	pending = carry && carry->seq != info->carry_taken;
	if (pending)
		info->carry_taken = carry->seq;
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return 0;
	if (pending) {
		ev->waking_ts_ns = carry->ts_ns;
		ev->waker_tid = carry->waker_tid;
		ev->waker_tgid = carry->waker_tgid;
		flags = carry->flags;
		ev->waker_user_stack_id = carry->user_stack_id;
		ev->waker_kernel_stack_id = carry->kernel_stack_id;
	} else if (new_task) {
		/* wake_up_new_task has no sched_waking: the forking task
		 * enqueues its child itself. */
		current = bpf_get_current_task_btf();
		ev->waking_ts_ns = now;
		ev->waker_tid = current->pid;
		ev->waker_tgid = current->tgid;
		ev->waker_user_stack_id = WEFT_STACK_NOT_TAKEN;
		ev->waker_kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	} else {
		ev->waking_ts_ns = now;
		ev->waker_tid = 0;
		ev->waker_tgid = 0;
		ev->waker_user_stack_id = WEFT_STACK_NOT_TAKEN;
		ev->waker_kernel_stack_id = WEFT_STACK_NOT_TAKEN;
		flags |= WEFT_WAKE_NO_WAKING;
	}
	if (new_task)
		flags |= WEFT_WAKE_NEW;
	fill_header(&ev->hdr, now, WEFT_EV_WAKEUP, flags);
	ev->tid = tid;
	ev->tgid = p->tgid;
	ev->target_cpu = p->thread_info.cpu;
	ev->reserved = 0;
	ring_submit(ring, ev, sizeof(*ev));
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(handle_wakeup, struct task_struct *p)
{
	return emit_wakeup(p, false);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(handle_wakeup_new, struct task_struct *p)
{
	return emit_wakeup(p, true);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = parent->tgid, child_tgid = child->tgid;
	__u32 traced = TARGET_TRACED;
	struct weft_unwind_proc *parent_maps;
	struct found_cache *parent_found;
	struct weft_py_proc *parent_py;
	struct weft_ev_fork *ev;
	struct weft_cpu_stat *cs;
	__u32 flags = 0;
	void *ring;

	if (!is_traced(parent_tgid))
		return 0;
	if (child_tgid != parent_tgid) {
		if (bpf_map_update_elem(&targets, &child_tgid, &traced, BPF_NOEXIST) ==
		    -7 /* E2BIG */) {
			cs = this_cpu_stat();
			if (cs)
				cs->targets_full++;
		}
		/* a fork has its parent's mappings until it execs, long
		 * before the recorder reads its own */
		if (targ_unwind_tables) {
			parent_maps = bpf_map_lookup_elem(&unwind_procs, &parent_tgid);
			if (parent_maps)
				bpf_map_update_elem(&unwind_procs, &child_tgid, parent_maps,
						    BPF_ANY);
			parent_found = bpf_map_lookup_elem(&unwind_found, &parent_tgid);
			if (parent_found)
				bpf_map_update_elem(&unwind_found, &child_tgid, parent_found,
						    BPF_ANY);
		}
		/* and its parent's interpreter: a multiprocessing worker's
		 * first stacks have their Python frames */
		if (targ_python) {
			parent_py = bpf_map_lookup_elem(&py_procs, &parent_tgid);
			if (parent_py)
				bpf_map_update_elem(&py_procs, &child_tgid, parent_py, BPF_ANY);
		}
	} else {
		flags |= WEFT_FORK_THREAD;
	}
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return 0;
	fill_header(&ev->hdr, bpf_ktime_get_ns(), WEFT_EV_FORK, flags);
	ev->parent_tid = parent->pid;
	ev->parent_tgid = parent_tgid;
	ev->child_tid = child->pid;
	ev->child_tgid = child_tgid;
	bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), child->comm);
	ring_submit(ring, ev, sizeof(*ev));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct weft_ev_exec *ev;
	void *ring;

	if (!is_traced(tgid))
		return 0;
	/* the old image's mappings are gone; the recorder reads the new */
	if (targ_unwind_tables) {
		bpf_map_delete_elem(&unwind_procs, &tgid);
		bpf_map_delete_elem(&unwind_found, &tgid);
	}
	if (targ_python)
		bpf_map_delete_elem(&py_procs, &tgid);
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return 0;
	fill_header(&ev->hdr, bpf_ktime_get_ns(), WEFT_EV_EXEC, 0);
	ev->tid = p->pid;
	ev->tgid = p->tgid;
	ev->old_tid = old_pid;
	ev->reserved = 0;
	bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), p->comm);
	ring_submit(ring, ev, sizeof(*ev));
	return 0;
}

/* The peak resident set of the program the process runs now: its mm's
 * high-water mark (or its current size, when that is larger: the mark is
 * updated lazily). signal->maxrss would do once the mm is gone, but it
 * also holds the peak of the image before exec, which under weft is a
 * copy of the recorder. */
static __always_inline __u64 peak_rss_pages(struct task_struct *p)
{
	struct mm_struct *mm = p->mm;
	__u64 hiwater, rss;

	if (!mm)
		return BPF_CORE_READ(p, signal, maxrss);
	hiwater = BPF_CORE_READ(mm, hiwater_rss);
	rss = BPF_CORE_READ(mm, rss_stat[0].count) + BPF_CORE_READ(mm, rss_stat[1].count) +
	      BPF_CORE_READ(mm, rss_stat[3].count);
	return rss > hiwater && (__s64)rss > 0 ? rss : hiwater;
}

/* se.sum_exec_runtime moves only when the scheduler updates the running
 * task (a tick, a switch): at the exit it lags by what the thread ran since
 * then, up to a tick (4 ms at HZ=250), or all of a short process that
 * never met one. Summed over 2,000 short processes that put the check 78%
 * off (weft 5.77 s, the exit readings 3.30 s, rusage 6.45 s). The figure
 * is brought up to date as task_sched_runtime() does for /proc, from the
 * start of the current run, when the switch to it was traced: the kernel
 * had just updated it then. */
static __always_inline __u64 exit_sum_exec(struct task_struct *p)
{
	struct thread_state *state = bpf_task_storage_get(&thread_states, p, 0, 0);
	__u64 exec = p->se.sum_exec_runtime, now = bpf_ktime_get_ns(), up;

	if (!state || !state->running_since_ns || now <= state->running_since_ns ||
	    p != bpf_get_current_task_btf())
		return exec;
	up = state->exec_at_switch_in + (now - state->running_since_ns);
	return up > exec ? up : exec;
}

/* The kernel's own accounting of the thread, read as it exits, is what the
 * report checks weft's figures against. The group's end is read from
 * signal->live rather than the tracepoint's group_dead argument, which
 * older kernels do not pass. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	__u32 *target = bpf_map_lookup_elem(&targets, &tgid);
	bool group_dead = BPF_CORE_READ(p, signal, live.counter) == 0;
	struct weft_ev_exit *ev;
	void *ring;

	if (!target)
		return 0;
	if (group_dead) {
		*target |= TARGET_EXITING;
		/* room for the processes still to come */
		if (targ_unwind_tables) {
			bpf_map_delete_elem(&unwind_procs, &tgid);
			bpf_map_delete_elem(&unwind_found, &tgid);
		}
		if (targ_python)
			bpf_map_delete_elem(&py_procs, &tgid);
	}
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return 0;
	fill_header(&ev->hdr, bpf_ktime_get_ns(), WEFT_EV_EXIT,
		    group_dead ? WEFT_EXIT_GROUP_DEAD : 0);
	ev->tid = p->pid;
	ev->tgid = tgid;
	ev->sum_exec_ns = exit_sum_exec(p);
	ev->run_delay_ns = p->sched_info.run_delay;
	ev->pcount = p->sched_info.pcount;
	ev->nvcsw = p->nvcsw;
	ev->nivcsw = p->nivcsw;
	ev->maxrss_kb = peak_rss_pages(p) * (PAGE_BYTES / 1024);
	bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), p->comm);
	ring_submit(ring, ev, sizeof(*ev));
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(handle_migrate, struct task_struct *p, int dest_cpu)
{
	struct weft_ev_migrate *ev;
	void *ring;

	if (!is_traced(p->tgid))
		return 0;
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return 0;
	fill_header(&ev->hdr, bpf_ktime_get_ns(), WEFT_EV_MIGRATE, 0);
	ev->tid = p->pid;
	ev->tgid = p->tgid;
	ev->orig_cpu = p->thread_info.cpu;
	ev->dest_cpu = dest_cpu;
	ring_submit(ring, ev, sizeof(*ev));
	return 0;
}

/* pthread_setname_np and prctl(PR_SET_NAME) pass through here: reports
 * name threads by what the program called them last. */
SEC("tp_btf/task_rename")
int BPF_PROG(handle_rename, struct task_struct *task, const char *comm)
{
	struct weft_ev_rename *ev;
	void *ring;

	if (!is_traced(task->tgid))
		return 0;
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return 0;
	fill_header(&ev->hdr, bpf_ktime_get_ns(), WEFT_EV_RENAME, 0);
	ev->tid = task->pid;
	ev->tgid = task->tgid;
	bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), comm);
	ring_submit(ring, ev, sizeof(*ev));
	return 0;
}

/* On-CPU samples: the cpu-clock timer of each CPU at -F HZ finds whoever
 * runs; only the traced tree's threads are kept. */
SEC("perf_event")
int handle_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct weft_ev_sample *ev;
	void *ring;

	if (!task->pid || !is_traced(task->tgid))
		return 0;
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return 0;
	fill_header(&ev->hdr, bpf_ktime_get_ns(), WEFT_EV_SAMPLE, 0);
	ev->tid = task->pid;
	ev->tgid = task->tgid;
	ev->user_stack_id = targ_stacks ? take_user_stack(ctx) : WEFT_STACK_NOT_TAKEN;
	ev->kernel_stack_id = targ_stacks ? take_kernel_stack(ctx) : WEFT_STACK_NOT_TAKEN;
	ring_submit(ring, ev, sizeof(*ev));
	return 0;
}

SEC("tp_btf/contention_begin")
int BPF_PROG(handle_contention_begin, void *lock, unsigned int flags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct thread_state *ts;
	struct klock_stack *st;
	__u32 depth;

	if (!thread_traced(task, &ts) || !ts)
		return 0;
	st = &ts->klocks;
	depth = st->depth;
	if (depth >= KLOCK_DEPTH) {
		/* deeper than we keep: counted, so the end pops evenly */
		st->depth++;
		return 0;
	}
	st->waits[depth & (KLOCK_DEPTH - 1)].lock = (__u64)lock;
	st->waits[depth & (KLOCK_DEPTH - 1)].start_ns = bpf_ktime_get_ns();
	st->waits[depth & (KLOCK_DEPTH - 1)].flags = flags;
	st->waits[depth & (KLOCK_DEPTH - 1)].kernel_stack_id =
		targ_stacks ? take_kernel_stack(ctx) : WEFT_STACK_NOT_TAKEN;
	st->depth = depth + 1;
	return 0;
}

SEC("tp_btf/contention_end")
int BPF_PROG(handle_contention_end, void *lock, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tid = task->pid, top;
	struct thread_state *ts;
	struct klock_wait wait;
	struct weft_ev_klock *ev;
	struct klock_stack *st;
	void *ring;

	/* a wait that began untraced has nothing here */
	ts = task->pid ? bpf_task_storage_get(&thread_states, task, 0, 0) : NULL;
	if (!ts)
		return 0;
	st = &ts->klocks;
	if (!st->depth)
		return 0;
	top = --st->depth;
	if (top >= KLOCK_DEPTH)
		return 0;
	/* masked, so the verifier sees the bound (KLOCK_DEPTH is 2^n) */
	wait = st->waits[top & (KLOCK_DEPTH - 1)];
	ev = ring_reserve(sizeof(*ev), &ring);
	if (!ev)
		return 0;
	fill_header(&ev->hdr, bpf_ktime_get_ns(), WEFT_EV_KLOCK, wait.flags);
	ev->tid = tid;
	ev->tgid = task->tgid;
	ev->lock_addr = wait.lock;
	ev->start_ns = wait.start_ns;
	ev->kernel_stack_id = wait.kernel_stack_id;
	ev->ret = ret;
	ring_submit(ring, ev, sizeof(*ev));
	return 0;
}

/* --locks=pthread: attached by the recorder to each traced process's libc,
 * never system-wide. Every call pays a uprobe; only calls that blocked
 * write a record. */
SEC("uprobe")
int BPF_KPROBE(handle_pthread_lock, void *mutex)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct plock_call call = {};
	__u32 tid = (__u32)id;

	if (!is_traced(id >> 32))
		return 0;
	call.mutex = (__u64)mutex;
	call.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&plock_calls, &tid, &call, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(handle_pthread_lock_return, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct weft_ev_plock *ev;
	struct plock_call *call;
	void *ring;

	call = bpf_map_lookup_elem(&plock_calls, &tid);
	if (!call)
		return 0;
	if (call->blocked) {
		ev = ring_reserve(sizeof(*ev), &ring);
		if (ev) {
			fill_header(&ev->hdr, bpf_ktime_get_ns(), WEFT_EV_PLOCK, 0);
			ev->tid = tid;
			ev->tgid = id >> 32;
			ev->mutex_addr = call->mutex;
			ev->start_ns = call->start_ns;
			ring_submit(ring, ev, sizeof(*ev));
		}
	}
	bpf_map_delete_elem(&plock_calls, &tid);
	return 0;
}
