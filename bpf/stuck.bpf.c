// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft stuck: the saved user registers of every thread of one process,
 * read by a task iterator, so that nothing is stopped. In an iterator
 * `current` is weft itself, so the stack is not read here: userspace
 * reads it with process_vm_readv and unwinds it with the same tables
 * (userspace/snapshot.c). The registers matter because /proc/PID/task/
 * TID/syscall gives only sp and pc, and the first frame built with frame
 * pointers above glibc needs rbp. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "stuck.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("iter/task")
int stuck_regs(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct weft_stuck_regs r = {};
	struct pt_regs *regs;

	if (!task)
		return 0;
	r.tid = task->pid;
	r.tgid = task->tgid;
	r.state = task->__state;
	if (!task->mm || (task->flags & 0x00200000 /* PF_KTHREAD */)) {
		r.flags |= WEFT_STUCK_KTHREAD;
	} else {
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		if (regs) {
			r.ip = BPF_CORE_READ(regs, ip);
			r.sp = BPF_CORE_READ(regs, sp);
			r.bp = BPF_CORE_READ(regs, bp);
			r.orig_ax = BPF_CORE_READ(regs, orig_ax);
			r.di = BPF_CORE_READ(regs, di);
			r.si = BPF_CORE_READ(regs, si);
			r.dx = BPF_CORE_READ(regs, dx);
			r.r10 = BPF_CORE_READ(regs, r10);
			r.r8 = BPF_CORE_READ(regs, r8);
			r.r9 = BPF_CORE_READ(regs, r9);
		}
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
