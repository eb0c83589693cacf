// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor under weft's cost, for make bench: programs on the three
 * tracepoints weft's switch path uses (sched_switch, sched_waking,
 * sched_wakeup) that do nothing (write_records false) or write one 32-byte
 * record each into one ring buffer, without a wakeup, and nothing else: no
 * filtering, no state. What weft costs above this is its own work. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile bool write_records = true;
__u64 lost = 0;

struct floor_record {
	__u64 ts_ns;
	__u32 kind;
	__u32 cpu;
	__u32 pid;
	__u32 other;
	__u64 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} records SEC(".maps");

static __always_inline void put(__u32 kind, __u32 pid, __u32 other)
{
	struct floor_record *r;

	if (!write_records)
		return;
	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->kind = kind;
	r->cpu = bpf_get_smp_processor_id();
	r->pid = pid;
	r->other = other;
	r->reserved = 0;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	put(1, prev->pid, next->pid);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(floor_waking, struct task_struct *p)
{
	put(2, p->pid, 0);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(floor_wakeup, struct task_struct *p)
{
	put(3, p->pid, 0);
	return 0;
}
