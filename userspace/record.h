/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recorder: starts the command (or attaches to running processes),
 * loads and attaches the BPF programs, drains the per-CPU ring buffers into
 * the recording file until the command exits, a signal or --duration
 * stops it, and closes the file with the run's metadata. */
#ifndef __WEFT_RECORD_H
#define __WEFT_RECORD_H

#include <stdbool.h>
#include <sys/types.h>

struct weft_kv;

#define RECORD_MAX_PIDS 64

struct record_opts {
	const char *output; /* weft.data when NULL */
	double duration_s; /* 0: until the command exits or a signal */
	unsigned int ring_kb; /* per CPU */
	const char *user; /* -u */
	struct weft_kv *meta; /* --meta KEY=VALUE notes; borrowed */
	char **argv; /* command, NULL-terminated; NULL with pids */
	int argc;
	pid_t pids[RECORD_MAX_PIDS];
	int npids;
	bool progress; /* a status line on stderr while recording */
	/* --locks: what is read about waits (futex: the blocking system call
	 * at the switch; kernel: the contention tracepoints) */
	bool lock_futex, lock_kernel, lock_pthread;
	/* Stacks: off-CPU stacks at each switch, wakers' stacks and on-CPU
	 * samples at sample_hz on every CPU; the kernel's stack map holds
	 * stack_entries distinct stacks. false: no stack at all (--no-stacks). */
	bool stacks;
	unsigned int sample_hz;
	unsigned int stack_entries;
	/* User stacks walked with unwind tables compiled from each object's
	 * CFI (true), or by frame pointers only (--unwind=fp); unwind_rows is
	 * the size of the kernel's table of rows. */
	bool unwind_tables;
	unsigned int unwind_rows;
	/* Python frames for processes that map a known CPython (--python) */
	bool python;
	/* One blocking switch in stack_every per thread takes stacks (and
	 * any 1 ms or more after the thread's last one that did) */
	unsigned int stack_every;
	/* At most stack_rate blocking switches a second per CPU take them
	 * (0: no limit; --stack-every 1 alone means no limit) */
	unsigned int stack_rate;
	bool stack_rate_set;
	/* --stack-audit (hidden): stacks at every blocking switch, those the
	 * rules above would skip marked WEFT_SWITCH_WOULD_SKIP */
	bool stack_audit;
};

#define RECORD_DEFAULT_RING_KB 4096
#define RECORD_DEFAULT_SAMPLE_HZ 99
#define RECORD_DEFAULT_STACK_ENTRIES 16384
#define RECORD_DEFAULT_UNWIND_ROWS 1048576 /* a decimal: --help prints it */
#define RECORD_DEFAULT_STACK_EVERY 16
#define RECORD_DEFAULT_STACK_RATE 1000

/* Returns the exit status weft should exit with: the command's own status
 * when it ran to the end, or 1 (with one line on stderr) when recording
 * failed. */
int record_run(const struct record_opts *opts);

#endif /* __WEFT_RECORD_H */
