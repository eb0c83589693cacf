// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the recorder may do as root, and what it keeps once attached. */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/types.h>

#include "privileges.h"

bool privileges__effective(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	return !syscall(SYS_capget, &hdr, data) &&
	       (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap));
}

bool privileges__can_trace(void)
{
	return geteuid() == 0 ||
	       (privileges__effective(CAP_PERFMON) && privileges__effective(CAP_BPF));
}

/* Once the programs are attached and the command runs, the recorder keeps
 * only what the rest of the run needs, in its effective and permitted
 * sets (and none inheritable or ambient): it goes on to parse ELF symbols
 * and CFI from files that users control. capset() changes the calling
 * thread only: the recorder has no other thread (libbpf starts none; the
 * event reader's prefetch thread is for reports); one started later
 * inherits these sets. */
int privileges__drop(bool uprobes)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	static const int keep[] = {
		/* map lookups and updates (targets, cpu_stats, the stack and
		 * unwind maps) and the uprobe links of --locks=pthread for
		 * processes that appear during the run */
		CAP_BPF,
		/* perf_event_open of those uprobes */
		CAP_PERFMON,
		/* /proc/PID/maps and /proc/PID/root of processes that run as
		 * the invoking user, for their maps and their files */
		CAP_SYS_PTRACE,
		/* /proc/PID/map_files/: the very file mapped, even when it was
		 * replaced or deleted since */
		CAP_CHECKPOINT_RESTORE,
		/* binaries and libraries the user may run but not read
		 * (mode 0711), for symbols and unwind tables */
		CAP_DAC_READ_SEARCH,
		/* the stop: SIGTERM, then SIGKILL, to every process of the
		 * tree, which runs as the invoking user */
		CAP_KILL,
		/* /proc/kallsyms' addresses under kernel.kptr_restrict=1 */
		CAP_SYSLOG,
		/* the background writer's way back from SCHED_IDLE when its
		 * backlog grows (weft_writer__background): no thread may leave
		 * it without this or an RLIMIT_NICE of 20, which needs
		 * CAP_SYS_RESOURCE to raise (not every root has it) */
		CAP_SYS_NICE,
	};
	__u32 want[_LINUX_CAPABILITY_U32S_3] = {};
	size_t i;

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		want[CAP_TO_INDEX(keep[i])] |= CAP_TO_MASK(keep[i]);
	/* --locks=pthread only: the kernel (6.18) refuses a uprobe perf
	 * event on another process with EACCES unless the caller has
	 * CAP_SYS_ADMIN, CAP_PERFMON and CAP_SYS_PTRACE notwithstanding
	 * (measured), and processes that appear later get their probes
	 * during the run */
	if (uprobes)
		want[CAP_TO_INDEX(CAP_SYS_ADMIN)] |= CAP_TO_MASK(CAP_SYS_ADMIN);
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].permitted &= want[i];
		data[i].effective &= data[i].permitted;
		data[i].inheritable = 0;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	/* The bounding set too, and no privilege from an exec, should the
	 * recorder ever run one: what is dropped cannot come back. This
	 * needs CAP_SETPCAP, which a recorder given only CAP_BPF and
	 * CAP_PERFMON lacks: it has nothing more to lose there. */
	for (i = 0; i <= CAP_LAST_CAP; i++)
		if (!(want[CAP_TO_INDEX(i)] & CAP_TO_MASK(i)) &&
		    prctl(PR_CAPBSET_DROP, i, 0, 0, 0) && errno != EINVAL && errno != EPERM)
			return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}
