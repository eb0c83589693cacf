/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recorder's state, shared by its files: record.c (attach, drain,
 * stop) and record_write.c (what it writes beside the drained records).
 * Not for other modules. */
#ifndef __WEFT_RECORD_INT_H
#define __WEFT_RECORD_INT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <linux/types.h>

#include "events.h"
#include "file.h"
#include "launch.h"
#include "record.h"

#define MAX_THREADS_PER_PROC 65536

struct ring_ctx {
	struct recorder *rec;
	unsigned int cpu;
};

/* A process of the traced tree, as seen in the records the recorder
 * drains: the list of processes whose threads are read from /proc at the
 * end, and the file's task table. */
struct proc_entry {
	__u32 tgid;
	__u32 ppid;
	bool exited;
	/* Reads of its maps still due: new or exec'd processes are read at
	 * once and on the next drains too, because the dynamic loader may
	 * still be mapping libraries at the first (a busy machine, or an
	 * exec chain like a pyenv shim: env, bash, then python) */
	unsigned int maps_reads_due;
	__u64 maps_not_before; /* the next due read (maps_reread_ns) */
	/* a read found it reaped or a zombie: no later read can succeed, so
	 * none is made until a fork or exec record names it again */
	bool maps_gone;
	bool pthread_probed; /* --locks=pthread: its libc is probed */
	bool task_dirty; /* new or changed since the task table was last written */
	char comm[WEFT_COMM_LEN];
};

struct recorder {
	const struct record_opts *opts;
	struct weft_bpf *skel;
	int ncpu;
	int *ring_fds;
	struct ring_ctx *ring_ctxs;
	struct ring_buffer *rb;
	struct weft_writer *writer;
	int fd;
	char path[PATH_MAX];
	struct run_as ra;
	struct held_child child;
	bool child_running;
	pid_t root_pid;
	int exit_status;
	/* --duration or a SIGTERM to weft ended the command: weft exits 0,
	 * not with the status the signal gave it */
	struct rusage child_rusage;
	bool have_rusage;
	struct proc_entry *procs;
	size_t nprocs, procs_cap;
	struct weft_cpu_stat *stats_start;
	/* the programs' per-CPU figures as last read (ticks, lost, totals) */
	struct weft_cpu_stat *stats_now;
	__u64 *steal_start;
	__u64 start_ns, end_ns;
	struct maps_book *maps;
	__u64 maps_read_ns;
	unsigned long long maps_reads, maps_failed; /* for -v */
	struct lock_names *lock_names;
	struct bpf_link **pthread_links;
	size_t nr_pthread_links, cap_pthread_links;
	int write_err;
	bool recording;
	/* what stopped the command early: SIGINT, SIGTERM, SIGALRM for
	 * --duration; 0 when it ended by itself */
	int stopped_by;
	struct stack_table *stacks; /* the stack ids the records name */
	struct syms_cache *syms;
	struct stack_sampler *sampler;
	struct exec_watch *exec_watch;
	struct unwind_loader *unwind;
	struct snapshot *attach_waits; /* -p: the waits already begun (attach_waits.h) */
	struct python_loader *python; /* NULL: no Python frames */
	struct perf_map_book *jit; /* perf maps: JIT code's names (with stacks) */
};

struct proc_entry *proc_find(struct recorder *r, __u32 tgid);
struct proc_entry *proc_add(struct recorder *r, __u32 tgid, __u32 ppid, const char *comm);
/* A record the recorder made itself, into the file among the drained */
int add_own_event(struct recorder *r, const void *rec, size_t size);
bool unwinding(const struct recorder *r);
unsigned long ring_bytes_for(unsigned int ring_kb);

int read_cpu_stats(struct recorder *r, struct weft_cpu_stat *out);
__u64 lost_so_far(struct recorder *r);
/* One CPU's WEFT_EV_CPU_TOTALS or _TICK record: stats_now since
 * stats_start */
void fill_cpu_totals(const struct recorder *r, struct weft_ev_cpu_totals *ev, __u16 type, __u64 ts,
		     int cpu);
struct proc_thread_stat;
void fill_state_event(struct weft_ev_task_state *ev, __u64 ts, pid_t tgid, pid_t tid,
		      const struct proc_thread_stat *st, __u32 state);
int snapshot_process(struct recorder *r, pid_t tgid, __u64 ts);
void account_live_threads(struct recorder *r, __u64 ts);
void write_cpu_totals(struct recorder *r, __u64 ts);
/* The per-CPU totals so far (record_ticks.c), every CPU_TICK_PERIOD_NS */
#define CPU_TICK_PERIOD_NS 100000000ULL
void write_cpu_ticks(struct recorder *r, __u64 now);
void write_start_meta(struct recorder *r, int usable);
void write_end_meta(struct recorder *r, __u64 lost, __u64 targets_full);
void write_stacks(struct recorder *r, __u64 failures, struct syms_cache *syms);
void write_task_table(struct recorder *r);
void flush_recording(struct recorder *r);

#endif
