/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A snapshot of the threads of running processes that stops nothing
 * (weft stuck, and weft record -p at attach): for each thread its state,
 * the system call it blocks in and its arguments, what it waits on (a lock
 * and the owner read from the lock word, a pipe and the processes that hold
 * its other end, a child, a thread it joins), its user stack unwound with
 * the recorder's unwind tables and its kernel stack.
 *
 * How, and why so: a task iterator (bpf/stuck.bpf.c) gives each thread's
 * saved user registers, pt_regs, without stopping it (in an iterator
 * `current` is weft, so the stack cannot be read there); the stack memory is
 * read with process_vm_readv and unwound with unwind__step(), the reference
 * the BPF unwinder follows; the kernel stack is /proc/PID/task/TID/stack.
 * Without the iterator (no BTF, an old kernel), /proc/PID/task/TID/syscall
 * gives the system call, sp and pc but not rbp, so frames above glibc that
 * need rbp are lost. Nothing is ptrace-attached: the target's threads make
 * no context switch because of it.
 *
 * Peers: processes that hold the other end of a pipe a thread waits on
 * (matched by the pipe's inode in /proc/PID/fd), the peer of a unix socket
 * (its inode from sock_diag, then /proc/PID/fd), and children a thread
 * waits for, are added to the snapshot (at most
 * SNAPSHOT_MAX_PROCS processes in all), so that a wait between two
 * processes is a wait between threads.
 *
 * Lifecycle: snapshot__take() fills a struct snapshot the caller owns;
 * snapshot__free() frees what it holds (NULL is fine). Errors: 0 or a
 * negative errno; what went wrong for a PID is in err_msg (one line).
 */
#ifndef __WEFT_SNAPSHOT_H
#define __WEFT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#define SNAPSHOT_MAX_PROCS 64
#define SNAPSHOT_MAX_FRAMES 128
#define SNAPSHOT_MAX_PEERS 8

enum snap_wait_kind {
	SNAP_WAIT_NONE, /* running or runnable */
	SNAP_WAIT_LOCK, /* a mutex: FUTEX_WAIT on a locked glibc mutex, FUTEX_LOCK_PI */
	SNAP_WAIT_COND, /* a futex wait for an event: a condition variable, a semaphore */
	SNAP_WAIT_JOIN, /* pthread_join: the futex word holds the joined thread's tid */
	SNAP_WAIT_PIPE, /* read or write on a pipe */
	SNAP_WAIT_SOCKET,
	SNAP_WAIT_CHILD, /* wait4, waitid */
	SNAP_WAIT_SLEEP, /* nanosleep, clock_nanosleep, pause */
	SNAP_WAIT_POLL, /* epoll_wait, poll, select */
	SNAP_WAIT_IO, /* another file, or an uninterruptible sleep */
	SNAP_WAIT_OTHER, /* blocked in another system call, or in none */
};

/* "running", "lock", "cond", "join", "pipe", "socket", "child", "sleep",
 * "poll", "io", "other": the JSON waits_on.kind */
const char *snap_wait_kind__name(enum snap_wait_kind k);

struct snap_wait {
	enum snap_wait_kind kind;
	__u64 addr; /* the futex word (lock, cond, join) */
	__u64 ino; /* the pipe's or socket's inode */
	int fd;
	char name[96]; /* the lock's data symbol, "pipe:[1234]", ... ("" when none) */
	pid_t owner_tid; /* lock: read from the mutex; join: the joined thread; 0: none */
	/* pipe, unix socket: the processes that hold the other end; child: the
	 * children */
	pid_t peers[SNAPSHOT_MAX_PEERS];
	int npeers;
};

struct snap_thread {
	pid_t tid, pid;
	char comm[16];
	char state; /* /proc stat: R, S, D, T, Z, ... */
	bool regs_known; /* from the iterator (or /proc syscall when false) */
	long syscall; /* -1: not in a system call */
	__u64 args[6];
	__u64 ip, sp, bp;
	struct snap_wait wait;
	__u64 nvcsw; /* voluntary_ctxt_switches when taken */
	/* the user stack, leaf first: addresses, and names ("func",
	 * "module+0xoff") */
	__u64 ustack[SNAPSHOT_MAX_FRAMES];
	char **ustack_names;
	int nustack;
	bool ustack_whole; /* reached the stack's end by its rules */
	char **kstack; /* kernel functions, leaf first */
	int nkstack;
};

struct snap_proc {
	pid_t pid;
	char comm[16];
	bool peer; /* added for a pipe or child wait, not asked for */
};

struct snapshot {
	struct snap_thread *threads;
	size_t nthreads;
	struct snap_proc procs[SNAPSHOT_MAX_PROCS];
	size_t nprocs;
	bool bpf_regs; /* the task iterator gave the registers */
	double took_s; /* the whole snapshot, wall time */
};

struct snapshot_opts {
	bool no_bpf; /* /proc only (tests of the fallback) */
	bool no_stacks; /* skip user and kernel stacks (the recorder's own) */
	bool no_peers; /* do not follow pipes and children to other processes */
};

/* Takes the snapshot of pids (npids of them). -ESRCH: a PID is not a live
 * process; -EINVAL: a kernel thread; -EPERM: not allowed; err_msg says
 * which. opts may be NULL. */
int snapshot__take(const pid_t *pids, int npids, const struct snapshot_opts *opts,
		   struct snapshot *out, char *err_msg, size_t err_len);
void snapshot__free(struct snapshot *s);

/* The thread of tid, or NULL */
const struct snap_thread *snapshot__thread(const struct snapshot *s, pid_t tid);

/* What a thread blocked in syscall nr with these arguments waits on, as far
 * as the registers tell (kind, addr, fd); pure, for tests. */
void snap_wait_from_syscall(long nr, const __u64 *args, char state, struct snap_wait *w);

#endif /* __WEFT_SNAPSHOT_H */
