/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Readers of the kernel's own per-thread and per-CPU figures in /proc: the
 * baseline and the oracle of the accounting check, the state of threads
 * found at attach, and steal time. Paths are built from a root folder
 * ("/proc" in use, a fixture folder in tests). */
#ifndef __WEFT_PROCFS_H
#define __WEFT_PROCFS_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>

struct proc_thread_stat {
	__u64 sum_exec_ns; /* schedstat field 1: on-CPU */
	__u64 run_delay_ns; /* schedstat field 2: waiting in a run queue */
	__u64 pcount; /* schedstat field 3: times run */
	__u64 nvcsw; /* status: voluntary_ctxt_switches */
	__u64 nivcsw; /* status: nonvoluntary_ctxt_switches */
	__u64 maxrss_kb; /* status: VmHWM, the process's peak resident set */
	__u32 ppid;
	char state; /* stat field 3: R, S, D, ... */
	int processor; /* stat field 39: the CPU it last ran on */
	char comm[16];
};

/* 0, or a negative errno (-ENOENT when the thread is gone). */
int procfs_read_thread(const char *proc_root, pid_t tgid, pid_t tid, struct proc_thread_stat *st);

/* Fills tids (up to max) with the threads of a process; returns how many
 * there are (may exceed max), or a negative errno. */
int procfs_list_threads(const char *proc_root, pid_t tgid, pid_t *tids, int max);

/* Steal time per CPU in nanoseconds, from the cpuN lines of stat; returns
 * the number of CPUs filled, or a negative errno. */
int procfs_read_steal(const char *proc_root, __u64 *steal_ns, int max_cpus);

bool procfs_pid_exists(const char *proc_root, pid_t pid);

/* True when a thread of the process still runs: false for a zombie (its
 * /proc entry stays until its parent reaps it) and for a process gone.
 * A leader that exited while other threads run is a zombie thread of a
 * live process. */
bool procfs_pid_alive(const char *proc_root, pid_t pid);

#endif /* __WEFT_PROCFS_H */
