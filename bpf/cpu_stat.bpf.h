/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Per-CPU usage: how long each CPU ran the traced tree, other tasks or
 * nothing, summed at every switch, and the steal the hypervisor took.
 * Included by weft.bpf.c only (one BPF object). */
#ifndef __WEFT_CPU_STAT_BPF_H
#define __WEFT_CPU_STAT_BPF_H

enum cpu_kind {
	KIND_UNKNOWN = 0,
	KIND_IDLE = WEFT_CPU_KIND_IDLE,
	KIND_TRACED = WEFT_CPU_KIND_TRACED,
	KIND_OTHER = WEFT_CPU_KIND_OTHER,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_cpu_stat);
} cpu_stats SEC(".maps");

static __always_inline struct weft_cpu_stat *this_cpu_stat(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_stats, &zero);
}

/* The steal the scheduler took out of this CPU's task clock so far
 * (PARAVIRT_TIME_ACCOUNTING), updated with the run-queue clock at every
 * switch; 0 where the kernel has no such figure. The run queue is reached
 * through a task on this CPU: the per-CPU runqueues symbol is not in
 * kallsyms without KALLSYMS_ALL, so programs cannot name it. */
static __always_inline __u64 cpu_steal_so_far(struct task_struct *on_this_cpu)
{
	struct cfs_rq *cfs;
	struct rq *rq;

	if (!bpf_core_field_exists(struct rq, prev_steal_time_rq) ||
	    !bpf_core_field_exists(struct cfs_rq, rq))
		return 0;
	cfs = on_this_cpu->se.cfs_rq;
	if (!cfs)
		return 0;
	rq = cfs->rq;
	return rq ? rq->prev_steal_time_rq : 0;
}

/* The steal between this CPU's first and latest switch of the traced
 * tree: the figure only grows, so the sum of its steps is the difference,
 * and switches of other tasks need not read it. */
static __always_inline void note_cpu_steal(struct weft_cpu_stat *cs, struct task_struct *next)
{
	__u64 steal = cpu_steal_so_far(next);

	if (cs->steal_seen && steal > cs->steal_seen)
		cs->steal_ns += steal - cs->steal_seen;
	cs->steal_seen = steal;
}

static __always_inline void account_cpu_time(struct weft_cpu_stat *cs, __u64 now,
					     struct task_struct *next, bool next_traced)
{
	__u64 delta;

	if (!cs)
		return;
	if (cs->last_ts_ns) {
		delta = now - cs->last_ts_ns;
		if (cs->last_kind == KIND_IDLE)
			cs->idle_ns += delta;
		else if (cs->last_kind == KIND_TRACED)
			cs->traced_ns += delta;
		else if (cs->last_kind == KIND_OTHER)
			cs->other_ns += delta;
	}
	cs->last_ts_ns = now;
	cs->last_next_tid = next->pid;
	if (next->pid == 0)
		cs->last_kind = KIND_IDLE;
	else
		cs->last_kind = next_traced ? KIND_TRACED : KIND_OTHER;
}

#endif
