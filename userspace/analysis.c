// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The analysis keeps, for every traced thread, the state the scheduler
 * events leave it in (running on a CPU, queued on a CPU's run queue,
 * blocked) and, for every CPU, which traced thread runs there and how many
 * wait. Between two events these counts are constant, so each event first
 * adds (its time - the previous event's time) to the integrals of the
 * counts, then changes the state: one pass, a few additions per event.
 *
 * Run-queue delays are split by what ran on the CPU meanwhile without
 * looking back: each CPU keeps the running total of the time it ran traced
 * threads, and a queued thread remembers that total when it joins a queue;
 * the difference when it leaves (switch-in or migration) is the part of
 * its wait that the tree itself took.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "accounting.h"
#include "analysis.h"
#include "histogram.h"
#include "u64set.h"
#include "waits.h"
#include "recording_meta.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "0.0.0"
#endif

#define NONE UINT32_MAX
/* CONFIG_NR_CPUS goes up to 8192: a CPU number past it is a damaged record */
#define MAX_CPUS 8192
/* System calls are counted per number below this (x86-64 has about 460) */
#define SYSCALL_NR_MAX 512
/* A "max" of R or R + Q must hold this long in total to count, so that a
 * burst of a few microseconds does not make the headline. */
#define MAX_HELD_NS 1000000ULL

enum thread_state {
	TS_UNKNOWN, /* seen, state not known (or no longer: lost events) */
	TS_NEW, /* forked, not yet enqueued */
	TS_RUNNING,
	TS_RUNNABLE,
	TS_BLOCKED,
	TS_DEAD, /* its final switch is done: a new thread may take the tid */
};

#define TID_CACHE 64

struct thread {
	__u32 tid;
	__u32 tgid;
	__u32 ppid;
	__u32 proc; /* index in procs */
	__u32 cpu; /* the CPU it runs on or waits on, or NONE */
	__u8 state;
	bool exited;
	bool has_base; /* forked in the trace, or the recorder's snapshot */
	bool has_end; /* exit record, or the recorder's reading at the end */
	__u64 since; /* start of the current state */
	/* the CPU's traced time when the current wait joined that CPU's
	 * queue, and the tree's share of the wait on earlier CPUs */
	__u64 q_mark;
	__u64 q_tree_ns;
	__u64 on_cpu_ns, runqueue_ns, blocked_ns;
	__u64 voluntary, involuntary;
	__u64 base_on_ns, base_rq_ns, base_kern_exec_ns, base_kern_delay_ns;
	__u64 end_on_ns, end_rq_ns, end_kern_exec_ns, end_kern_delay_ns;
	__u64 *cpus_seen; /* bitmap, a->cpu_words words */
	/* why it blocked, read at the switch that blocked it, and the
	 * address it waits on (an index in the wait table) */
	struct wait_class block;
	__u32 block_addr;
	__u32 block_owner; /* the lock's owner, checked (owner_of) */
	/* the turn-taking address whose wait a timeout ended, while the
	 * thread queues to look at it again */
	__u32 retry_addr;
	__u64 off_ns[WEFT_WAIT_NR];
	char comm[WEFT_COMM_LEN];
};

struct proc {
	__u32 pid;
	__u32 ppid;
	__u64 maxrss_kb;
	char comm[WEFT_COMM_LEN];
};

struct cpu {
	__u32 running; /* index of the traced thread on it, or NONE */
	__u32 nqueued; /* traced threads waiting in its run queue */
	bool interleaved; /* running a traced thread while others wait */
	bool has_totals;
	__u64 run_since;
	__u64 on_cpu_ns; /* traced time, up to run_since when running */
	__u64 handoffs, migrations_in, migrations_out;
	__u32 threads;
	__u64 idle_ns, traced_ns, other_ns, steal_ns, lost;
};

struct weft_analysis {
	struct analysis_opts opts;
	char **command;
	/* attach mode with both bounds: the figures cover [start, end] */
	bool window;
	/* the time integrals have an origin: the window's start, or the
	 * first kernel event */
	bool started;
	bool finished;
	__u64 origin;
	__u64 now;

	struct thread *threads;
	__u32 nr_threads, cap_threads;
	struct proc *procs;
	__u32 nr_procs, cap_procs;
	/* thread and process index by tid and pid (1 << 63 | id); NONE: a
	 * thread whose tid went to another at an exec */
	struct u64_set tids, pids;
	/* the last lookups of tids, by tid % TID_CACHE: most events name one
	 * of a few threads, and the hash lookup was 5% of a report's time.
	 * Every change of tids goes through tid_put, which updates it. */
	__u32 tid_cache_key[TID_CACHE], tid_cache_val[TID_CACHE];
	bool tid_cache_used[TID_CACHE];

	struct cpu *cpus;
	__u32 nr_cpus;
	__u32 cpu_words;

	__u32 running; /* R */
	__u32 queued; /* Q */
	__u32 queued_retrying; /* of Q, threads with a retry_addr */
	__u32 interleaved_cpus;
	__u64 *time_at_r; /* nr_cpus + 1 */
	__u64 *time_at_rq; /* cap_threads + 1: R + Q never exceeds the threads */
	__u64 interleaved_ns;

	struct weft_hist *rq_hist, *wake_hist, *slice_hist;

	/* Waits on addresses; the turn-taking ones with threads blocked on
	 * them right now, for the serialized time. */
	struct wait_table *waits;
	__u32 *tt_active;
	__u32 nr_tt_active, cap_tt_active;
	__u64 serialized_ns;
	/* the wakeup being applied, so the wait it ends knows its waker */
	const struct weft_ev_wakeup *waking;
	__u64 syscall_ns[WEFT_WAIT_NR][SYSCALL_NR_MAX];

	weft_slice_fn slice_fn;
	void *slice_ctx;
	__u64 rq_total_ns, rq_tree_ns;
	__u64 handoffs, migrations, wakeups, wakeups_ignored;
	__u64 voluntary, involuntary;
	__u64 skipped, inconsistent;
	__u64 unread_records; /* the reader's */
	unsigned int unread_sections;

	struct weft_metrics m;
};

static inline __u64 span(__u64 from, __u64 to)
{
	return to > from ? to - from : 0;
}

static __u32 map_get(const struct u64_set *m, __u32 key)
{
	__u32 v;

	return u64_set__get(m, 1ULL << 63 | key, &v) ? v : NONE;
}

static int map_put(struct u64_set *m, __u32 key, __u32 val)
{
	bool added;
	__u32 *slot = u64_set__slot(m, 1ULL << 63 | key, &added);

	if (!slot)
		return -ENOMEM;
	*slot = val;
	return 0;
}

static int tid_put(struct weft_analysis *a, __u32 tid, __u32 val)
{
	unsigned int k = tid % TID_CACHE;
	int err = map_put(&a->tids, tid, val);

	if (!err) {
		a->tid_cache_key[k] = tid;
		a->tid_cache_val[k] = val;
		a->tid_cache_used[k] = true;
	} else if (a->tid_cache_key[k] == tid) {
		a->tid_cache_used[k] = false;
	}
	return err;
}

static inline __u64 cpu_traced_ns(const struct cpu *c, __u64 t)
{
	return c->on_cpu_ns + (c->running != NONE ? span(c->run_since, t) : 0);
}

/* Grows the CPU tables when a record names a CPU past the ones announced:
 * the recorder promises it never does, but a report must not crash on a
 * damaged file. -ERANGE for a number no CPU can have. */
static int ensure_cpu(struct weft_analysis *a, __u32 c)
{
	__u32 n = c + 1, words = (n + 63) / 64, i;
	struct cpu *cpus;
	__u64 *hist;

	if (c < a->nr_cpus)
		return 0;
	if (c >= MAX_CPUS)
		return -ERANGE;
	cpus = realloc(a->cpus, n * sizeof(*cpus));
	if (!cpus)
		return -ENOMEM;
	a->cpus = cpus;
	hist = realloc(a->time_at_r, (n + 1) * sizeof(*hist));
	if (!hist)
		return -ENOMEM;
	a->time_at_r = hist;
	for (i = a->nr_cpus; i < n; i++) {
		memset(&cpus[i], 0, sizeof(cpus[i]));
		cpus[i].running = NONE;
		hist[i + 1] = 0;
	}
	if (words > a->cpu_words) {
		for (i = 0; i < a->nr_threads; i++) {
			__u64 *seen = realloc(a->threads[i].cpus_seen, words * sizeof(*seen));

			if (!seen)
				return -ENOMEM;
			memset(seen + a->cpu_words, 0, (words - a->cpu_words) * sizeof(*seen));
			a->threads[i].cpus_seen = seen;
		}
		a->cpu_words = words;
	}
	a->nr_cpus = n;
	return 0;
}

static __u32 proc_new(struct weft_analysis *a, __u32 pid, const char *comm)
{
	struct proc *p;

	if (a->nr_procs == a->cap_procs) {
		__u32 cap = a->cap_procs ? a->cap_procs * 2 : 64;

		p = realloc(a->procs, cap * sizeof(*p));
		if (!p)
			return NONE;
		a->procs = p;
		a->cap_procs = cap;
	}
	if (map_put(&a->pids, pid, a->nr_procs))
		return NONE;
	p = &a->procs[a->nr_procs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	if (comm)
		memcpy(p->comm, comm, WEFT_COMM_LEN);
	return a->nr_procs++;
}

static __u32 proc_get(struct weft_analysis *a, __u32 pid)
{
	__u32 i = map_get(&a->pids, pid);

	return i != NONE ? i : proc_new(a, pid, NULL);
}

static __u32 thread_new(struct weft_analysis *a, __u32 tid, __u32 tgid, __u32 proc)
{
	struct thread *th;

	if (proc == NONE)
		return NONE;
	if (a->nr_threads == a->cap_threads) {
		__u32 cap = a->cap_threads ? a->cap_threads * 2 : 256;
		__u64 *rq;

		th = realloc(a->threads, cap * sizeof(*th));
		if (!th)
			return NONE;
		a->threads = th;
		rq = realloc(a->time_at_rq, (cap + 1) * sizeof(*rq));
		if (!rq)
			return NONE;
		memset(rq + a->cap_threads + 1, 0, (cap - a->cap_threads) * sizeof(*rq));
		a->time_at_rq = rq;
		a->cap_threads = cap;
	}
	th = &a->threads[a->nr_threads];
	memset(th, 0, sizeof(*th));
	th->cpus_seen = calloc(a->cpu_words, sizeof(*th->cpus_seen));
	if (!th->cpus_seen || tid_put(a, tid, a->nr_threads)) {
		free(th->cpus_seen);
		return NONE;
	}
	th->tid = tid;
	th->tgid = tgid;
	th->proc = proc;
	th->cpu = NONE;
	th->state = TS_UNKNOWN;
	th->since = a->now;
	th->block.reason = WEFT_WAIT_OTHER;
	th->block.syscall_nr = -1;
	th->block_addr = WAIT_NONE;
	th->retry_addr = WAIT_NONE;
	return a->nr_threads++;
}

static inline __u32 thread_find(struct weft_analysis *a, __u32 tid)
{
	unsigned int k = tid % TID_CACHE;
	__u32 i;

	if (a->tid_cache_used[k] && a->tid_cache_key[k] == tid)
		return a->tid_cache_val[k];
	i = map_get(&a->tids, tid);
	a->tid_cache_key[k] = tid;
	a->tid_cache_val[k] = i;
	a->tid_cache_used[k] = true;
	return i;
}

/* The live thread with this tid, created if the tid is new or its last
 * owner is dead (tids are reused). NONE only when out of memory. */
static __u32 thread_get(struct weft_analysis *a, __u32 tid, __u32 tgid)
{
	__u32 i = thread_find(a, tid);

	if (i != NONE && a->threads[i].state != TS_DEAD)
		return i;
	return thread_new(a, tid, tgid, proc_get(a, tgid ? tgid : tid));
}

/* Threads an event refers to after their end (their exit record, a late
 * rename) belong to the last owner of the tid, dead or not. */
static __u32 thread_find_any(struct weft_analysis *a, __u32 tid, __u32 tgid)
{
	__u32 i = thread_find(a, tid);

	return i != NONE ? i : thread_get(a, tid, tgid);
}

static void advance(struct weft_analysis *a, __u64 t)
{
	__u64 dt;

	if (t <= a->now)
		return;
	dt = t - a->now;
	a->time_at_r[a->running] += dt;
	a->time_at_rq[a->running + a->queued] += dt;
	if (a->interleaved_cpus)
		a->interleaved_ns += dt;
	/* serialized: one thread of the tree runs, or waits for a CPU, while
	 * others wait on an address they pass between them. Counting only
	 * R = 1 would drop the time the holder spends preempted by other
	 * programs, and a GIL on a busy machine would read as single-threaded
	 * (R = 0 for a third of the time with one competitor per core). A
	 * waiter that a timeout woke to look again (CPython's 5 ms timed
	 * waits) still waits for the holder while it queues: on a busy
	 * machine it can queue for milliseconds. */
	if (a->running + a->queued - a->queued_retrying == 1 && a->nr_tt_active) {
		__u32 k;

		a->serialized_ns += dt;
		for (k = 0; k < a->nr_tt_active; k++)
			wait_table__at(a->waits, a->tt_active[k])->serialized_ns += dt;
	}
	a->now = t;
}

/* An address is in the active list while it is turn-taking and someone
 * waits there: the list stays as short as the locks in contention. */
static int update_tt_active(struct weft_analysis *a, __u32 idx)
{
	struct wait_addr *w = wait_table__at(a->waits, idx), *last;
	bool want = wait_addr__turn_taking(w) && (w->blocked_now || w->retrying_now);
	__u32 *grown;

	if (want == (w->active_pos != WAIT_NONE))
		return 0;
	if (want) {
		if (a->nr_tt_active == a->cap_tt_active) {
			__u32 cap = a->cap_tt_active ? a->cap_tt_active * 2 : 16;

			grown = realloc(a->tt_active, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			a->tt_active = grown;
			a->cap_tt_active = cap;
		}
		w->active_pos = a->nr_tt_active;
		a->tt_active[a->nr_tt_active++] = idx;
	} else {
		last = wait_table__at(a->waits, a->tt_active[--a->nr_tt_active]);
		a->tt_active[w->active_pos] = a->tt_active[a->nr_tt_active];
		last->active_pos = w->active_pos;
		w->active_pos = WAIT_NONE;
	}
	return 0;
}

static void block_start(struct weft_analysis *a, struct thread *th)
{
	struct wait_addr *w;

	th->block_addr = WAIT_NONE;
	if (th->block.kind == WEFT_LOCK_NONE)
		return;
	th->block_addr = wait_table__get(a->waits, th->tgid, th->block.addr, th->block.kind);
	if (th->block_addr == WAIT_NONE)
		return;
	wait_table__note_waiter(a->waits, th->block_addr, th->tid);
	w = wait_table__at(a->waits, th->block_addr);
	w->blocked_now++;
	update_tt_active(a, th->block_addr);
}

/* The end of a blocked interval: its time goes to its reason, and to the
 * address it waited on with the waker that ended it. */
static void block_end(struct weft_analysis *a, struct thread *th, __u64 t, struct weft_slice *slice)
{
	const struct weft_ev_wakeup *wk = a->waking;
	__u64 d = span(th->since, t);
	bool by_tree = wk && !(wk->hdr.flags & (WEFT_WAKE_IRQ | WEFT_WAKE_NO_WAKING)) &&
		       wk->waker_tid && wk->waker_tid != th->tid &&
		       thread_find(a, wk->waker_tid) != NONE;
	struct wait_addr *w;

	th->blocked_ns += d;
	th->off_ns[th->block.reason] += d;
	if (th->block.syscall_nr >= 0 && th->block.syscall_nr < SYSCALL_NR_MAX)
		a->syscall_ns[th->block.reason][th->block.syscall_nr] += d;
	slice->reason = th->block.reason;
	slice->syscall_nr = th->block.syscall_nr;
	slice->addr = th->block.addr;
	if (by_tree) {
		slice->waker_tid = wk->waker_tid;
		slice->waker_pid = wk->waker_tgid;
	}
	slice->waker_irq = wk && (wk->hdr.flags & WEFT_WAKE_IRQ);
	slice->owner_tid = th->block_owner;
	if (th->block_addr == WAIT_NONE)
		return;
	w = wait_table__at(a->waits, th->block_addr);
	w->waits++;
	w->total_ns += d;
	if (d > w->max_ns)
		w->max_ns = d;
	if (w->blocked_now)
		w->blocked_now--;
	if (by_tree) {
		w->handoffs++;
		wait_table__note_waker(a->waits, th->block_addr, wk->waker_tid);
	}
	/* A timer, not a thread, ended the wait: nobody handed it over. It
	 * counts as retrying from the queue it now joins (set_state). */
	if (wk && (wk->hdr.flags & WEFT_WAKE_IRQ) && wait_addr__turn_taking(w))
		th->retry_addr = th->block_addr;
	update_tt_active(a, th->block_addr);
	th->block_addr = WAIT_NONE;
}

/* A thread that timed out of a wait leaves the queue: it runs and looks
 * again, or its state became unknown. */
static void retry_end(struct weft_analysis *a, struct thread *th)
{
	struct wait_addr *w;

	if (th->retry_addr == WAIT_NONE)
		return;
	w = wait_table__at(a->waits, th->retry_addr);
	w->retrying_now--;
	a->queued_retrying--;
	update_tt_active(a, th->retry_addr);
	th->retry_addr = WAIT_NONE;
}

/* It joins a queue after a timed-out wait: retrying until it leaves. */
static void retry_start(struct weft_analysis *a, struct thread *th)
{
	if (th->retry_addr == WAIT_NONE)
		return;
	wait_table__at(a->waits, th->retry_addr)->retrying_now++;
	a->queued_retrying++;
	update_tt_active(a, th->retry_addr);
}

/* What blocked it is known only from the switch that blocked it: a block
 * seen another way (a snapshot at attach) has no reason but other. */
static void block_forget(struct thread *th)
{
	memset(&th->block, 0, sizeof(th->block));
	th->block_owner = 0;
	th->block.reason = WEFT_WAIT_OTHER;
	th->block.syscall_nr = -1;
}

static void update_interleaved(struct weft_analysis *a, struct cpu *cpu)
{
	bool v = cpu->running != NONE && cpu->nqueued;

	if (v == cpu->interleaved)
		return;
	cpu->interleaved = v;
	if (v)
		a->interleaved_cpus++;
	else
		a->interleaved_cpus--;
}

static void run_start(struct weft_analysis *a, __u32 i, __u32 c, __u64 t)
{
	struct thread *th = &a->threads[i];
	struct cpu *cpu = &a->cpus[c];
	__u64 bit = 1ULL << (c % 64);

	cpu->running = i;
	cpu->run_since = t;
	th->cpu = c;
	a->running++;
	if (!(th->cpus_seen[c / 64] & bit)) {
		th->cpus_seen[c / 64] |= bit;
		cpu->threads++;
	}
	update_interleaved(a, cpu);
}

static void run_stop(struct weft_analysis *a, struct thread *th, __u64 t)
{
	struct cpu *cpu = &a->cpus[th->cpu];
	__u64 slice = span(cpu->run_since, t);

	th->on_cpu_ns += slice;
	cpu->on_cpu_ns += slice;
	weft_hist__add(a->slice_hist, slice);
	cpu->running = NONE;
	a->running--;
	update_interleaved(a, cpu);
}

static void queue_add(struct weft_analysis *a, struct thread *th, __u32 c, __u64 t)
{
	th->cpu = c;
	th->q_tree_ns = 0;
	a->queued++;
	if (c == NONE)
		return;
	a->cpus[c].nqueued++;
	th->q_mark = cpu_traced_ns(&a->cpus[c], t);
	update_interleaved(a, &a->cpus[c]);
}

/* The end of a wait: complete when the thread runs, not when the trace
 * ends with the thread still queued (its wait counts in the totals, not in
 * the percentiles, and the kernel has not accounted it yet). */
static __u64 queue_del(struct weft_analysis *a, struct thread *th, __u64 t, bool complete)
{
	__u64 wait = span(th->since, t), tree = th->q_tree_ns;

	if (th->cpu != NONE) {
		struct cpu *cpu = &a->cpus[th->cpu];

		tree += span(th->q_mark, cpu_traced_ns(cpu, t));
		cpu->nqueued--;
		update_interleaved(a, cpu);
	}
	if (tree > wait)
		tree = wait;
	a->queued--;
	th->runqueue_ns += wait;
	a->rq_total_ns += wait;
	a->rq_tree_ns += tree;
	if (complete)
		weft_hist__add(a->rq_hist, wait);
	return tree;
}

/* Every state change goes through here, so that the counts R and Q and the
 * per-CPU queues always agree with the threads' states. A thread is set
 * running only on a CPU that runs no traced thread (callers evict first). */
static void leave_state(struct weft_analysis *a, struct thread *th, __u64 t, bool complete)
{
	struct weft_slice slice = {
		.tid = th->tid,
		.pid = th->tgid,
		.comm = th->comm,
		.state = WEFT_SLICE_UNKNOWN,
		.start_ns = th->since,
		.end_ns = t,
		.cpu = th->cpu,
		.syscall_nr = -1,
	};

	switch (th->state) {
	case TS_RUNNING:
		slice.state = WEFT_SLICE_RUNNING;
		run_stop(a, th, t);
		break;
	case TS_RUNNABLE:
		slice.state = WEFT_SLICE_RUNNABLE;
		slice.tree_ns = queue_del(a, th, t, complete);
		retry_end(a, th);
		break;
	case TS_BLOCKED:
		slice.state = WEFT_SLICE_BLOCKED;
		block_end(a, th, t, &slice);
		block_forget(th);
		break;
	case TS_NEW:
		slice.state = WEFT_SLICE_NEW;
		break;
	default:
		break;
	}
	if (a->slice_fn && (th->state != TS_DEAD) && t > slice.start_ns)
		a->slice_fn(a->slice_ctx, &slice);
}

static void set_state(struct weft_analysis *a, __u32 i, enum thread_state st, __u32 c, __u64 t)
{
	struct thread *th = &a->threads[i];

	leave_state(a, th, t, true);
	th->state = st;
	th->since = t;
	th->cpu = NONE;
	if (st != TS_RUNNABLE)
		th->retry_addr = WAIT_NONE; /* only a queued thread retries */
	if (st == TS_RUNNING) {
		run_start(a, i, c, t);
	} else if (st == TS_RUNNABLE) {
		queue_add(a, th, c, t);
		retry_start(a, th);
	} else if (st == TS_BLOCKED) {
		block_start(a, th);
	}
}

/* A CPU that runs a traced thread other than the one an event says:
 * records were lost; the thread's state is no longer known. */
static void evict(struct weft_analysis *a, __u32 c, __u64 t)
{
	if (a->cpus[c].running == NONE)
		return;
	a->inconsistent++;
	set_state(a, a->cpus[c].running, TS_UNKNOWN, NONE, t);
}

/* weft's on-CPU figure of a thread at time t (possibly past the last
 * event: the thread keeps its last known state), for the accounting. */
static __u64 on_cpu_at(const struct weft_analysis *a, const struct thread *th, __u64 t)
{
	if (th->state == TS_RUNNING)
		return th->on_cpu_ns + span(a->cpus[th->cpu].run_since, t);
	return th->on_cpu_ns;
}

static void start_clock(struct weft_analysis *a, __u64 t)
{
	__u32 i;

	a->started = true;
	a->origin = a->now = t;
	/* Records the recorder wrote before the first kernel event (the held
	 * root's state) must not add time before the origin. */
	for (i = 0; i < a->nr_cpus; i++)
		if (a->cpus[i].running != NONE && a->cpus[i].run_since < t)
			a->cpus[i].run_since = t;
	for (i = 0; i < a->nr_threads; i++) {
		struct thread *th = &a->threads[i];

		if (th->since < t)
			th->since = t;
		if (th->state == TS_RUNNABLE && th->cpu != NONE)
			th->q_mark = cpu_traced_ns(&a->cpus[th->cpu], t);
	}
}

static bool is_recorder_record(unsigned int type)
{
	return type == WEFT_EV_TASK_STATE || type == WEFT_EV_TASK_ACCT ||
	       type == WEFT_EV_CPU_TOTALS || type == WEFT_EV_CPU_TICK;
}

/* The time an event takes effect, after the integrals are brought up to it. */
static __u64 event_time(struct weft_analysis *a, const struct weft_event_header *ev)
{
	__u64 t = ev->ts_ns;

	if (a->window) {
		if (t < a->opts.start_ns)
			t = a->opts.start_ns;
		if (t > a->opts.end_ns)
			t = a->opts.end_ns;
	} else if (is_recorder_record(ev->type)) {
		/* Written at the recording's start and stop, outside the wall of
		 * first to last kernel event: they take the current time and
		 * move no clock. */
		return a->started ? a->now : t;
	} else if (!a->started) {
		start_clock(a, t);
	}
	if (t < a->now)
		t = a->now;
	advance(a, t);
	return t;
}

static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, WEFT_COMM_LEN);
	dst[WEFT_COMM_LEN - 1] = '\0';
}

/* The owner the recorder read is memory of the program, not a fact: a
 * mutex's __owner is stale or garbage when the word was not a mutex, and
 * a tid may be of a thread that has exited. Taken only if it names a live
 * thread of the waiter's process, other than the waiter. */
static __u32 owner_of(struct weft_analysis *a, const struct thread *waiter, __u32 owner)
{
	__u32 i;

	if (!owner || owner == waiter->tid)
		return 0;
	i = thread_find(a, owner);
	if (i == NONE)
		return 0;
	if (a->threads[i].tgid != waiter->tgid || a->threads[i].exited ||
	    a->threads[i].state == TS_DEAD)
		return 0;
	return owner;
}

static int on_switch(struct weft_analysis *a, const struct weft_ev_switch *e, __u64 t)
{
	__u32 c = e->hdr.cpu, pi = NONE, ni = NONE;
	bool prev_traced = (e->hdr.flags & WEFT_SWITCH_PREV_TRACED) && e->prev_tid;
	bool next_traced = (e->hdr.flags & WEFT_SWITCH_NEXT_TRACED) && e->next_tid;
	int err = ensure_cpu(a, c);

	if (err == -ERANGE) {
		a->inconsistent++;
		return 0;
	}
	if (err)
		return err;
	if (prev_traced && (pi = thread_get(a, e->prev_tid, e->prev_tgid)) == NONE)
		return -ENOMEM;
	if (next_traced && (ni = thread_get(a, e->next_tid, e->next_tgid)) == NONE)
		return -ENOMEM;
	if (a->cpus[c].running != pi)
		evict(a, c, t);
	if (pi != NONE) {
		struct thread *p = &a->threads[pi];

		if (p->state == TS_RUNNING && p->cpu != c)
			a->inconsistent++;
		/* The kernel's own rule for nvcsw/nivcsw: preempted or still
		 * TASK_RUNNING is involuntary. The final switch of a dead thread
		 * counts nowhere: its exit record already holds the kernel's
		 * counts. */
		if ((e->hdr.flags & WEFT_SWITCH_PREEMPT) || !e->prev_state) {
			p->involuntary++;
			a->involuntary++;
			set_state(a, pi, TS_RUNNABLE, c, t);
		} else if (e->prev_state & WEFT_TASK_DEAD) {
			set_state(a, pi, TS_DEAD, NONE, t);
		} else {
			p->voluntary++;
			a->voluntary++;
			wait_classify(e->syscall_nr, e->sys_arg0, e->sys_arg1, e->prev_state,
				      e->hdr.flags, &p->block);
			p->block_owner = p->block.reason == WEFT_WAIT_LOCK ?
						 owner_of(a, p, e->owner_tid) :
						 0;
			set_state(a, pi, TS_BLOCKED, NONE, t);
		}
	}
	if (ni != NONE) {
		if (a->threads[ni].state == TS_RUNNING) {
			a->inconsistent++;
			set_state(a, ni, TS_UNKNOWN, NONE, t);
		}
		set_state(a, ni, TS_RUNNING, c, t);
		if (pi != NONE) {
			a->cpus[c].handoffs++;
			a->handoffs++;
		}
	}
	return 0;
}

static int on_wakeup(struct weft_analysis *a, const struct weft_ev_wakeup *e, __u64 t)
{
	__u32 i = thread_get(a, e->tid, e->tgid), c = e->target_cpu;
	struct thread *th;
	int err;

	if (i == NONE)
		return -ENOMEM;
	a->wakeups++;
	th = &a->threads[i];
	if (th->state == TS_RUNNING || th->state == TS_RUNNABLE) {
		a->wakeups_ignored++;
		return 0;
	}
	/* A new thread has no waking step: its parent enqueues it. */
	if (!(e->hdr.flags & (WEFT_WAKE_NO_WAKING | WEFT_WAKE_NEW)) &&
	    e->waking_ts_ns <= e->hdr.ts_ns)
		weft_hist__add(a->wake_hist, e->hdr.ts_ns - e->waking_ts_ns);
	err = ensure_cpu(a, c);
	if (err == -ENOMEM)
		return err;
	if (err)
		c = NONE;
	a->waking = e;
	set_state(a, i, TS_RUNNABLE, c, t);
	a->waking = NULL;
	return 0;
}

static int on_migrate(struct weft_analysis *a, const struct weft_ev_migrate *e, __u64 t)
{
	__u32 i = thread_find_any(a, e->tid, e->tgid), from = e->orig_cpu, to = e->dest_cpu;
	struct thread *th;
	int err;

	if (i == NONE)
		return -ENOMEM;
	a->migrations++;
	err = ensure_cpu(a, from);
	if (err == -ENOMEM)
		return err;
	if (err)
		from = NONE;
	else
		a->cpus[from].migrations_out++;
	err = ensure_cpu(a, to);
	if (err == -ENOMEM)
		return err;
	if (err)
		to = NONE;
	else
		a->cpus[to].migrations_in++;

	th = &a->threads[i];
	if (th->state != TS_RUNNABLE)
		return 0;
	/* The wait goes on in the destination's queue: bank the tree's share
	 * of it on the CPU it leaves. */
	if (th->cpu != NONE) {
		struct cpu *cpu = &a->cpus[th->cpu];

		th->q_tree_ns += span(th->q_mark, cpu_traced_ns(cpu, t));
		cpu->nqueued--;
		update_interleaved(a, cpu);
	}
	th->cpu = to;
	if (to != NONE) {
		a->cpus[to].nqueued++;
		th->q_mark = cpu_traced_ns(&a->cpus[to], t);
		update_interleaved(a, &a->cpus[to]);
	}
	return 0;
}

static int on_fork(struct weft_analysis *a, const struct weft_ev_fork *e, __u64 t)
{
	bool thread = e->hdr.flags & WEFT_FORK_THREAD;
	__u32 i = thread_find(a, e->child_tid), p;
	struct thread *th;

	/* An entry made by an earlier record of the child (out of order across
	 * CPUs) is this child; anything that already lived is a reused tid. */
	if (i != NONE && (a->threads[i].state == TS_UNKNOWN || a->threads[i].state == TS_NEW) &&
	    !a->threads[i].exited && !a->threads[i].on_cpu_ns) {
		p = a->threads[i].proc;
		if (!thread && a->procs[p].pid != e->child_tgid)
			p = proc_new(a, e->child_tgid, e->comm);
	} else {
		if (thread)
			p = proc_get(a, e->child_tgid);
		else
			p = proc_new(a, e->child_tgid, e->comm);
		i = thread_new(a, e->child_tid, e->child_tgid, p);
	}
	if (i == NONE || p == NONE)
		return -ENOMEM;
	if (!thread) {
		copy_comm(a->procs[p].comm, e->comm);
		a->procs[p].ppid = e->parent_tgid;
	}
	th = &a->threads[i];
	th->proc = p;
	th->tgid = e->child_tgid;
	th->ppid = e->parent_tgid;
	copy_comm(th->comm, e->comm);
	/* Born in the trace: the kernel's figures start at zero, ours now. */
	th->has_base = true;
	th->base_on_ns = th->on_cpu_ns;
	th->base_rq_ns = th->runqueue_ns;
	th->base_kern_exec_ns = th->base_kern_delay_ns = 0;
	if (th->state == TS_UNKNOWN)
		set_state(a, i, TS_NEW, NONE, t);
	return 0;
}

static int on_exec(struct weft_analysis *a, const struct weft_ev_exec *e, __u64 t)
{
	__u32 i;

	/* A non-leader thread that execs takes the leader's tid: the old
	 * leader is gone and the exec'ing thread, with its state and its
	 * kernel accounting, goes on under the leader's tid. */
	if (e->old_tid && e->old_tid != e->tid) {
		__u32 oi = thread_find(a, e->old_tid), li = thread_find(a, e->tid);

		if (oi != NONE && a->threads[oi].state == TS_DEAD)
			oi = NONE;
		if (li != NONE && li != oi && a->threads[li].state != TS_DEAD)
			set_state(a, li, TS_DEAD, NONE, t);
		if (oi != NONE) {
			if (tid_put(a, e->tid, oi) || tid_put(a, e->old_tid, NONE))
				return -ENOMEM;
			a->threads[oi].tid = e->tid;
		}
	}
	i = thread_get(a, e->tid, e->tgid);
	if (i == NONE)
		return -ENOMEM;
	copy_comm(a->threads[i].comm, e->comm);
	copy_comm(a->procs[a->threads[i].proc].comm, e->comm);
	return 0;
}

static int on_rename(struct weft_analysis *a, const struct weft_ev_rename *e)
{
	__u32 i = thread_find_any(a, e->tid, e->tgid);

	if (i == NONE)
		return -ENOMEM;
	copy_comm(a->threads[i].comm, e->comm);
	return 0;
}

/* EXIT (at the exit, in BPF) and TASK_ACCT (from /proc at the end) carry
 * the kernel's figures that close the thread's accounting check. */
static int on_exit_acct(struct weft_analysis *a, const struct weft_ev_exit *e, __u64 t)
{
	bool exit = e->hdr.type == WEFT_EV_EXIT;
	__u32 i = thread_find_any(a, e->tid, e->tgid);
	struct thread *th;

	if (i == NONE)
		return -ENOMEM;
	th = &a->threads[i];
	/* a thread that exited while the recorder read /proc: the exit
	 * record is the kernel's own reading */
	if (!exit && th->exited)
		return 0;
	if (exit)
		th->exited = true;
	else
		t = e->hdr.ts_ns > t ? e->hdr.ts_ns : t;
	if (e->comm[0])
		copy_comm(th->comm, e->comm);
	if (e->maxrss_kb > a->procs[th->proc].maxrss_kb)
		a->procs[th->proc].maxrss_kb = e->maxrss_kb;
	th->has_end = true;
	th->end_on_ns = on_cpu_at(a, th, t);
	th->end_rq_ns = th->runqueue_ns;
	th->end_kern_exec_ns = e->sum_exec_ns;
	th->end_kern_delay_ns = e->run_delay_ns;
	return 0;
}

static int on_task_state(struct weft_analysis *a, const struct weft_ev_task_state *e, __u64 t)
{
	__u32 i = thread_find(a, e->tid), c = e->hdr.cpu;
	struct thread *th;
	struct proc *p;

	if (i == NONE || a->threads[i].state == TS_DEAD)
		i = thread_new(a, e->tid, e->tgid, proc_get(a, e->tgid));
	if (i == NONE)
		return -ENOMEM;
	th = &a->threads[i];
	th->ppid = e->ppid;
	copy_comm(th->comm, e->comm);
	p = &a->procs[th->proc];
	if (e->tid == e->tgid) {
		copy_comm(p->comm, e->comm);
		p->ppid = e->ppid;
	}
	th->has_base = true;
	th->base_on_ns = on_cpu_at(a, th, t);
	th->base_rq_ns = th->runqueue_ns;
	th->base_kern_exec_ns = e->sum_exec_ns;
	th->base_kern_delay_ns = e->run_delay_ns;
	/* A kernel event already told more than this snapshot does. */
	if (th->state != TS_UNKNOWN)
		return 0;
	switch (e->state) {
	case WEFT_TASK_RUNNING:
	case WEFT_TASK_RUNNABLE: {
		int err = ensure_cpu(a, c);

		if (err == -ENOMEM)
			return err;
		if (err)
			c = NONE;
		/* /proc does not tell running from queued: two threads taken
		 * as running on one CPU means one of them waits there. */
		if (e->state == WEFT_TASK_RUNNING && c != NONE && a->cpus[c].running == NONE)
			set_state(a, i, TS_RUNNING, c, t);
		else
			set_state(a, i, TS_RUNNABLE, c, t);
		break;
	}
	default:
		/* A wait that began before the recording, read at attach
		 * (weft record -p): classified, named and given its owner as a
		 * blocking switch's. */
		if (e->hdr.flags & WEFT_STATE_WAIT) {
			/* The owner may be a thread whose own record comes
			 * later in the same snapshot (two threads in a
			 * deadlock name each other): the snapshot found it a
			 * live thread of this process, so it is one now. */
			if (e->owner_tid && e->owner_tid != e->tid &&
			    thread_find(a, e->owner_tid) == NONE &&
			    thread_get(a, e->owner_tid, e->tgid) == NONE)
				return -ENOMEM;
			th = &a->threads[i];
			wait_classify(e->syscall_nr, e->sys_arg0, e->sys_arg1, 1,
				      WEFT_SWITCH_BLOCKING, &th->block);
			th->block_owner = th->block.reason == WEFT_WAIT_LOCK ?
						  owner_of(a, th, e->owner_tid) :
						  0;
		}
		set_state(a, i, TS_BLOCKED, NONE, t);
		break;
	}
	return 0;
}

/* A wait known from its start and end only (the lock tracepoints and
 * uprobes), not from a blocked interval: it joins its address's figures. */
static int count_wait(struct weft_analysis *a, __u32 tgid, __u32 tid, __u64 addr,
		      enum weft_lock_kind kind, __u64 start_ns, __u64 end_ns)
{
	__u32 idx = wait_table__get(a->waits, tgid, addr, kind);
	struct wait_addr *w;
	__u64 d = span(start_ns, end_ns);

	if (idx == WAIT_NONE || wait_table__note_waiter(a->waits, idx, tid))
		return -ENOMEM;
	w = wait_table__at(a->waits, idx);
	w->waits++;
	w->total_ns += d;
	if (d > w->max_ns)
		w->max_ns = d;
	return 0;
}

/* A contended kernel lock: the waits it slept in came with their switch
 * (WEFT_KLOCK_SLEPT) and were counted as blocked intervals; the spins are
 * counted here. */
static int on_klock(struct weft_analysis *a, const struct weft_ev_klock *e)
{
	if (e->hdr.flags & WEFT_KLOCK_SLEPT)
		return 0;
	return count_wait(a, e->tgid, e->tid, e->lock_addr, WEFT_LOCK_KERNEL, e->start_ns,
			  e->hdr.ts_ns);
}

/* A pthread_mutex_lock call that blocked, from the uprobes. */
static int on_plock(struct weft_analysis *a, const struct weft_ev_plock *e)
{
	return count_wait(a, e->tgid, e->tid, e->mutex_addr, WEFT_LOCK_PTHREAD, e->start_ns,
			  e->hdr.ts_ns);
}

static void on_cpu_totals(struct weft_analysis *a, const struct weft_ev_cpu_totals *e)
{
	struct cpu *cpu;

	if (ensure_cpu(a, e->hdr.cpu))
		return;
	cpu = &a->cpus[e->hdr.cpu];
	cpu->has_totals = true;
	cpu->idle_ns = e->idle_ns;
	cpu->traced_ns = e->traced_ns;
	cpu->other_ns = e->other_ns;
	cpu->steal_ns = e->steal_ns;
	cpu->lost = e->lost;
}

int weft_analysis__feed(struct weft_analysis *a, const struct weft_event_header *ev)
{
	__u64 t;

	if (a->finished)
		return -EINVAL;
	if (ev->type >= WEFT_EV_TYPE_MAX || !weft_event_size(ev->type)) {
		a->skipped++;
		return 0;
	}
	t = event_time(a, ev);
	switch (ev->type) {
	case WEFT_EV_SWITCH:
		return on_switch(a, (const struct weft_ev_switch *)ev, t);
	case WEFT_EV_WAKEUP:
		return on_wakeup(a, (const struct weft_ev_wakeup *)ev, t);
	case WEFT_EV_MIGRATE:
		return on_migrate(a, (const struct weft_ev_migrate *)ev, t);
	case WEFT_EV_FORK:
		return on_fork(a, (const struct weft_ev_fork *)ev, t);
	case WEFT_EV_EXEC:
		return on_exec(a, (const struct weft_ev_exec *)ev, t);
	case WEFT_EV_RENAME:
		return on_rename(a, (const struct weft_ev_rename *)ev);
	case WEFT_EV_EXIT:
	case WEFT_EV_TASK_ACCT:
		return on_exit_acct(a, (const struct weft_ev_exit *)ev, t);
	case WEFT_EV_TASK_STATE:
		return on_task_state(a, (const struct weft_ev_task_state *)ev, t);
	case WEFT_EV_CPU_TOTALS:
		on_cpu_totals(a, (const struct weft_ev_cpu_totals *)ev);
		return 0;
	case WEFT_EV_CPU_TICK:
		/* the totals so far, for the HTML page's strip */
		return 0;
	case WEFT_EV_KLOCK:
		return on_klock(a, (const struct weft_ev_klock *)ev);
	case WEFT_EV_PLOCK:
		return on_plock(a, (const struct weft_ev_plock *)ev);
	case WEFT_EV_SAMPLE:
		/* stacks are for the flame graphs; the sample's time still
		 * counts as an event of the tree */
		return 0;
	default:
		a->skipped++;
		return 0;
	}
}

struct weft_analysis *weft_analysis__new(const struct analysis_opts *opts)
{
	struct weft_analysis *a = calloc(1, sizeof(*a));
	unsigned int i;

	if (!a)
		goto err_out;
	a->opts = *opts;
	a->opts.command = NULL;
	a->opts.command_len = 0;
	if (opts->command_len) {
		a->command = calloc(opts->command_len, sizeof(*a->command));
		if (!a->command)
			goto err_out;
		a->opts.command_len = opts->command_len;
		for (i = 0; i < opts->command_len; i++) {
			a->command[i] = strdup(opts->command[i] ? opts->command[i] : "");
			if (!a->command[i])
				goto err_out;
		}
		a->opts.command = (const char *const *)a->command;
	}
	a->rq_hist = weft_hist__new();
	a->wake_hist = weft_hist__new();
	a->slice_hist = weft_hist__new();
	a->waits = wait_table__new();
	a->time_at_r = calloc(1, sizeof(*a->time_at_r));
	a->time_at_rq = calloc(1, sizeof(*a->time_at_rq));
	if (!a->rq_hist || !a->wake_hist || !a->slice_hist || !a->time_at_r || !a->time_at_rq ||
	    !a->waits)
		goto err_out;
	if (ensure_cpu(a, (opts->ncpu ? opts->ncpu : 1) - 1))
		goto err_out;
	a->window = opts->attach_mode && opts->end_ns > opts->start_ns;
	if (a->window) {
		a->started = true;
		a->origin = a->now = opts->start_ns;
	}
	return a;
err_out:
	weft_analysis__free(a);
	errno = ENOMEM;
	return NULL;
}

void weft_analysis__free(struct weft_analysis *a)
{
	unsigned int i;

	if (!a)
		return;
	for (i = 0; a->command && i < a->opts.command_len; i++)
		free(a->command[i]);
	free(a->command);
	for (i = 0; i < a->nr_threads; i++)
		free(a->threads[i].cpus_seen);
	free(a->threads);
	free(a->procs);
	u64_set__release(&a->tids);
	u64_set__release(&a->pids);
	free(a->cpus);
	free(a->time_at_r);
	free(a->time_at_rq);
	weft_hist__free(a->rq_hist);
	weft_hist__free(a->wake_hist);
	weft_hist__free(a->slice_hist);
	wait_table__free(a->waits);
	free(a->tt_active);
	free(a->m.locks);
	free(a->m.parallelism.histogram);
	free(a->m.cpus);
	free(a->m.processes);
	free(a->m.threads);
	free(a);
}

void weft_analysis__note_unread(struct weft_analysis *a, __u64 records, unsigned int sections)
{
	a->unread_records += records;
	a->unread_sections += sections;
}

__u64 weft_analysis__skipped(const struct weft_analysis *a)
{
	return a->skipped;
}

__u64 weft_analysis__inconsistent(const struct weft_analysis *a)
{
	return a->inconsistent;
}

static inline double ns_to_s(__u64 ns)
{
	return ns / 1e9;
}

static inline double ns_to_us(__u64 ns)
{
	return ns / 1e3;
}

static inline double share(double part, double whole)
{
	return whole > 0 ? part / whole : 0;
}

/* The largest n whose time reaches MAX_HELD_NS; when none does (a trace
 * shorter than that), the largest n seen at all. */
static unsigned int held_max(const __u64 *time_at, unsigned int len)
{
	unsigned int n, any = 0;

	for (n = len; n-- > 0;) {
		if (time_at[n] >= MAX_HELD_NS)
			return n;
		if (time_at[n] && !any)
			any = n;
	}
	return any;
}

/* Closes what is still open at the end of the trace. */
static void close_all(struct weft_analysis *a, __u64 end)
{
	__u32 i;

	for (i = 0; i < a->nr_threads; i++) {
		struct thread *th = &a->threads[i];

		leave_state(a, th, end, false);
		th->state = TS_UNKNOWN;
		th->since = end;
		th->cpu = NONE;
	}
}

/* The accounting check (accounting.c) on each thread's figures from its
 * baseline to its end: weft's and the kernel's */
static int check_accounting(struct weft_analysis *a, struct weft_metrics *m)
{
	struct acct_thread *t = calloc(a->nr_threads ? a->nr_threads : 1, sizeof(*t));
	__u32 i;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < a->nr_threads; i++) {
		const struct thread *th = &a->threads[i];

		if (!th->has_base || !th->has_end || th->end_kern_exec_ns < th->base_kern_exec_ns ||
		    th->end_kern_delay_ns < th->base_kern_delay_ns)
			continue;
		t[i] = (struct acct_thread){
			.known = true,
			.weft_on_ns = span(th->base_on_ns, th->end_on_ns),
			.kern_on_ns = th->end_kern_exec_ns - th->base_kern_exec_ns,
			.weft_rq_ns = span(th->base_rq_ns, th->end_rq_ns),
			.kern_rq_ns = th->end_kern_delay_ns - th->base_kern_delay_ns,
			.switches = th->voluntary + th->involuntary,
		};
	}
	accounting__check(t, a->nr_threads, a->voluntary + a->involuntary, m);
	free(t);
	return 0;
}

static int cmp_lock_total(const void *x, const void *y)
{
	const struct weft_lock_metrics *a = x, *b = y;

	if (a->total_s != b->total_s)
		return a->total_s < b->total_s ? 1 : -1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* Off-CPU reasons per thread, process and tree; the locks table; the
 * serialized time. Joins and waits on a producer are waits, not locks:
 * an address waited on with FUTEX_WAIT_BITSET enters the table only when
 * it is turn-taking. */
static int build_waits(struct weft_analysis *a, struct weft_metrics *m, __u64 life_ns)
{
	size_t n = wait_table__count(a->waits), k;
	__u32 i, r, nr, best;

	for (i = 0; i < a->nr_threads; i++) {
		const struct thread *th = &a->threads[i];
		struct weft_thread_metrics *tm = &m->threads[i];
		struct weft_process_metrics *pm = &m->processes[th->proc];

		for (r = 0; r < WEFT_OFF_CPU_REASONS; r++) {
			tm->off_cpu_s[r] =
				ns_to_s(r == WEFT_WAIT_RUNQUEUE ? th->runqueue_ns : th->off_ns[r]);
			pm->off_cpu_s[r] += tm->off_cpu_s[r];
			m->off_cpu_s[r] += tm->off_cpu_s[r];
		}
	}
	for (r = 0; r < WEFT_OFF_CPU_REASONS && r < WEFT_WAIT_NR; r++) {
		for (nr = 0, best = 0; nr < SYSCALL_NR_MAX; nr++)
			if (a->syscall_ns[r][nr] > a->syscall_ns[r][best])
				best = nr;
		m->off_cpu_syscall[r] = a->syscall_ns[r][best] ? weft_syscall_name(best) : NULL;
	}
	m->serialized_s = ns_to_s(a->serialized_ns);
	m->serialized_share = share(m->serialized_s, m->wall_s);
	(void)life_ns;

	m->locks = calloc(n ? n : 1, sizeof(*m->locks));
	if (!m->locks)
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		const struct wait_addr *w = wait_table__at(a->waits, k);
		struct weft_lock_metrics *lm;
		const char *name = NULL;

		if (w->kind == WEFT_LOCK_FUTEX_WAIT && !wait_addr__turn_taking(w))
			continue;
		if (!w->waits)
			continue;
		lm = &m->locks[m->nr_locks++];
		lm->pid = w->tgid;
		lm->addr = w->addr;
		lm->kind = weft_lock_kind__name(w->kind);
		lm->turn_taking = wait_addr__turn_taking(w);
		lm->waits = w->waits;
		lm->total_s = ns_to_s(w->total_ns);
		lm->max_s = ns_to_s(w->max_ns);
		lm->threads = w->threads;
		lm->handoffs = w->handoffs;
		lm->serialized_s = ns_to_s(w->serialized_ns);
		if (a->opts.lock_name)
			name = a->opts.lock_name(a->opts.lock_name_ctx, w->tgid, w->addr);
		snprintf(lm->name, sizeof(lm->name), "%s", name ? name : "");
	}
	qsort(m->locks, m->nr_locks, sizeof(*m->locks), cmp_lock_total);
	return 0;
}

void weft_metrics__top_wait(const struct weft_metrics *m, char *reason, size_t size,
			    double *top_share)
{
	unsigned int r, best = 0;

	for (r = 1; r < WEFT_OFF_CPU_REASONS; r++)
		if (m->off_cpu_s[r] > m->off_cpu_s[best])
			best = r;
	if (!(m->off_cpu_s[best] > 0)) {
		if (size)
			reason[0] = '\0';
		*top_share = 0;
		return;
	}
	snprintf(reason, size, "%s", weft_wait_reason__name(best));
	*top_share = share(m->off_cpu_s[best], m->thread_time_s);
}

__u64 weft_metrics__lock_waits(const struct weft_metrics *m)
{
	__u64 waits = 0;
	unsigned int i;

	for (i = 0; i < m->nr_locks; i++)
		waits += m->locks[i].waits;
	return waits;
}

void weft_analysis__set_slice_observer(struct weft_analysis *a, weft_slice_fn fn, void *ctx)
{
	a->slice_fn = fn;
	a->slice_ctx = ctx;
}

static int build_metrics(struct weft_analysis *a, __u64 wall_ns)
{
	struct weft_metrics *m = &a->m;
	double wall = (double)wall_ns;
	__u64 on_cpu_ns = 0, rq_sum = 0, life_ns = 0, blocked_ns = 0, rss_kb;
	__u32 i, r;

	m->version = WEFT_VERSION;
	m->command = a->opts.command;
	m->command_len = a->opts.command_len;
	m->ncpu = a->nr_cpus;
	m->usable_cpus = a->opts.usable_cpus ? a->opts.usable_cpus : a->nr_cpus;
	m->attach_mode = a->opts.attach_mode;
	m->truncated = a->opts.truncated;
	m->unread_records = a->skipped + a->unread_records;
	m->unread_sections = a->unread_sections;
	m->wall_s = ns_to_s(wall_ns);

	m->parallelism.histogram_len = a->nr_cpus + 1;
	m->parallelism.histogram = calloc(a->nr_cpus + 1, sizeof(double));
	m->cpus = calloc(a->nr_cpus, sizeof(*m->cpus));
	m->threads = calloc(a->nr_threads ? a->nr_threads : 1, sizeof(*m->threads));
	m->processes = calloc(a->nr_procs ? a->nr_procs : 1, sizeof(*m->processes));
	if (!m->parallelism.histogram || !m->cpus || !m->threads || !m->processes)
		return -ENOMEM;

	for (r = 0; r <= a->nr_cpus; r++) {
		on_cpu_ns += (__u64)r * a->time_at_r[r];
		m->parallelism.histogram[r] = share(a->time_at_r[r], wall);
	}
	for (r = 0; r <= a->cap_threads; r++)
		rq_sum += (__u64)r * a->time_at_rq[r];
	m->on_cpu_s = ns_to_s(on_cpu_ns);
	m->parallelism.avg = share(on_cpu_ns, wall);
	m->parallelism.max = held_max(a->time_at_r, a->nr_cpus + 1);
	m->concurrency.avg = share(rq_sum, wall);
	m->concurrency.max = held_max(a->time_at_rq, a->cap_threads + 1);
	m->idle_share = share(a->time_at_r[0], wall);

	m->interleaving.interleaved_s = ns_to_s(a->interleaved_ns);
	m->interleaving.interleaved_share = share(a->interleaved_ns, wall);
	m->interleaving.handoffs = a->handoffs;
	m->interleaving.slices = weft_hist__count(a->slice_hist);
	m->interleaving.slice_p50_us = ns_to_us(weft_hist__percentile(a->slice_hist, 50));

	m->runqueue_delay.count = weft_hist__count(a->rq_hist);
	m->runqueue_delay.total_s = ns_to_s(a->rq_total_ns);
	m->runqueue_delay.p50_us = ns_to_us(weft_hist__percentile(a->rq_hist, 50));
	m->runqueue_delay.p99_us = ns_to_us(weft_hist__percentile(a->rq_hist, 99));
	m->runqueue_delay.max_us = ns_to_us(weft_hist__max(a->rq_hist));
	m->runqueue_delay.by_tree_s = ns_to_s(a->rq_tree_ns);
	/* from the integer difference, so the two parts sum to the total */
	m->runqueue_delay.by_others_s = ns_to_s(a->rq_total_ns - a->rq_tree_ns);

	m->wakeup_latency.count = weft_hist__count(a->wake_hist);
	m->wakeup_latency.total_s = ns_to_s(weft_hist__sum(a->wake_hist));
	m->wakeup_latency.p50_us = ns_to_us(weft_hist__percentile(a->wake_hist, 50));
	m->wakeup_latency.p99_us = ns_to_us(weft_hist__percentile(a->wake_hist, 99));
	m->wakeup_latency.max_us = ns_to_us(weft_hist__max(a->wake_hist));
	m->wakeups = a->wakeups;
	m->wakeups_ignored = a->wakeups_ignored;

	m->switches.voluntary = a->voluntary;
	m->switches.involuntary = a->involuntary;
	m->migrations = a->migrations;

	for (i = 0; i < a->nr_cpus; i++) {
		const struct cpu *c = &a->cpus[i];
		struct weft_cpu_metrics *cm = &m->cpus[i];
		double total = (double)c->idle_ns + c->traced_ns + c->other_ns;

		cm->cpu = i;
		cm->on_cpu_s = ns_to_s(c->on_cpu_ns);
		cm->threads = c->threads;
		cm->handoffs = c->handoffs;
		cm->migrations_in = c->migrations_in;
		cm->migrations_out = c->migrations_out;
		if (c->has_totals) {
			/* of the CPU's own measured time: the recording's span,
			 * which in command mode is a little longer than wall */
			cm->has_totals = true;
			cm->traced = share(c->traced_ns, total);
			cm->other = share(c->other_ns, total);
			cm->idle = share(c->idle_ns, total);
			cm->steal_s = ns_to_s(c->steal_ns);
			cm->lost_events = c->lost;
			m->has_cpu_totals = true;
			m->steal_s += cm->steal_s;
			m->lost_events += c->lost;
		} else {
			cm->traced = share(c->on_cpu_ns, wall);
		}
	}

	for (i = 0; i < a->nr_threads; i++) {
		const struct thread *th = &a->threads[i];
		struct weft_thread_metrics *tm = &m->threads[i];

		tm->tid = th->tid;
		tm->pid = th->tgid;
		memcpy(tm->comm, th->comm, WEFT_COMM_LEN);
		tm->on_cpu_s = ns_to_s(th->on_cpu_ns);
		tm->runqueue_s = ns_to_s(th->runqueue_ns);
		tm->blocked_s = ns_to_s(th->blocked_ns);
		tm->voluntary = th->voluntary;
		tm->involuntary = th->involuntary;
		tm->exited = th->exited;
		life_ns += th->on_cpu_ns + th->runqueue_ns + th->blocked_ns;
		blocked_ns += th->blocked_ns;
	}
	m->nr_threads = a->nr_threads;
	m->thread_time_s = ns_to_s(life_ns);
	m->blocked_s = ns_to_s(blocked_ns);
	m->blocked_share = share(blocked_ns, life_ns);

	for (i = 0; i < a->nr_procs; i++) {
		m->processes[i].pid = a->procs[i].pid;
		m->processes[i].ppid = a->procs[i].ppid;
		m->processes[i].maxrss_kb = a->procs[i].maxrss_kb;
		memcpy(m->processes[i].comm, a->procs[i].comm, WEFT_COMM_LEN);
	}
	for (i = 0; i < a->nr_threads; i++) {
		const struct thread *th = &a->threads[i];
		struct weft_process_metrics *pm = &m->processes[th->proc];

		pm->threads++;
		pm->on_cpu_s += m->threads[i].on_cpu_s;
		/* ps shows a process by its leader's name, renames included */
		if (th->tid == pm->pid && th->comm[0])
			memcpy(pm->comm, th->comm, WEFT_COMM_LEN);
	}
	m->nr_processes = a->nr_procs;

	if (build_waits(a, m, life_ns))
		return -ENOMEM;

	m->rusage.valid = a->opts.has_rusage;
	m->rusage.user_s = a->opts.rusage_user_s;
	m->rusage.sys_s = a->opts.rusage_sys_s;
	m->rusage.maxrss_kb = a->opts.maxrss_kb;
	/* wait4's ru_maxrss keeps the peak of the image before exec, which
	 * under weft is a copy of the recorder (17 MB for /bin/true): the
	 * largest peak of the tree's own programs, from their exit records,
	 * is what ru_maxrss means (the child's or a waited descendant's). */
	for (i = 0, rss_kb = 0; i < m->nr_processes; i++)
		if (m->processes[i].maxrss_kb > rss_kb)
			rss_kb = m->processes[i].maxrss_kb;
	if (rss_kb)
		m->rusage.maxrss_kb = rss_kb;

	if (check_accounting(a, m))
		return -ENOMEM;
	m->verdict_kind = weft_metrics__verdict(m, m->verdict, sizeof(m->verdict));
	return 0;
}

const struct weft_metrics *weft_analysis__finish(struct weft_analysis *a)
{
	__u64 end, wall_ns = 0;
	int err;

	if (a->finished)
		return &a->m;
	if (a->window) {
		end = a->opts.end_ns;
		advance(a, end);
		wall_ns = end - a->opts.start_ns;
	} else {
		end = a->now;
		if (a->started)
			wall_ns = a->now - a->origin;
	}
	close_all(a, end);
	a->finished = true;
	err = build_metrics(a, wall_ns);
	a->m.wall_end_ns = end;
	a->m.wall_start_ns = end - wall_ns;
	if (err) {
		errno = -err;
		return NULL;
	}
	return &a->m;
}

int weft_analysis__set_path(struct weft_analysis *a, const struct weft_path_summary *p)
{
	struct weft_metrics *m = &a->m;

	if (!a->finished)
		return -EINVAL;
	m->critical = *p;
	m->verdict_kind = weft_metrics__verdict(m, m->verdict, sizeof(m->verdict));
	return 0;
}

void weft_analysis__counts(const struct weft_analysis *a, unsigned int *running,
			   unsigned int *queued)
{
	*running = a->running;
	*queued = a->queued;
}
