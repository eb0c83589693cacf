/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The record of weft stuck's task iterator (bpf/stuck.bpf.c): one per
 * thread of the process it was attached to, written to the iterator's
 * seq_file. Shared by the program and userspace/snapshot.c. */
#ifndef __WEFT_STUCK_H
#define __WEFT_STUCK_H

/* __u32 and friends come from vmlinux.h in BPF, linux/types.h in userspace:
 * include one of them first, as events.h asks */

#define WEFT_STUCK_KTHREAD 0x1 /* no user memory: a kernel thread */

struct weft_stuck_regs {
	__u32 tid;
	__u32 tgid;
	__u32 state; /* task->__state */
	__u32 flags; /* WEFT_STUCK_* */
	/* the saved user registers (pt_regs): at a system call, its number
	 * in orig_ax and its arguments in di, si, dx, r10, r8, r9 */
	__u64 ip, sp, bp;
	__s64 orig_ax;
	__u64 di, si, dx, r10, r8, r9;
};

#endif /* __WEFT_STUCK_H */
