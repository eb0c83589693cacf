/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One pass over a recording's events, in time order, to the figures every
 * report prints (DESIGN.md, "Metrics"). No I/O, no kernel: tests feed it
 * synthetic events.
 *
 * Lifecycle: weft_analysis__new() copies what it needs of the options
 * (the command strings too); weft_analysis__feed() takes each event once,
 * ts_ns non-decreasing (a record older than the last one is taken at the
 * last one's time); weft_analysis__finish() closes the open intervals and
 * computes the metrics, which belong to the analysis and live until
 * weft_analysis__free(). After finish, feed returns -EINVAL and finish
 * returns the same metrics again.
 *
 * Memory grows with the number of threads, processes and CPUs seen, never
 * with the number of events.
 */
#ifndef __WEFT_ANALYSIS_H
#define __WEFT_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "events.h"
#include "waits.h"

struct analysis_opts {
	unsigned int ncpu; /* CPUs of the machine (possible CPUs; cpu numbers < ncpu) */
	unsigned int usable_cpus; /* cores the tree may use (affinity/cpuset at start); 0: ncpu */
	__u64 start_ns, end_ns; /* recording start/stop (CLOCK_MONOTONIC) */
	/* -p: wall is end - start and the figures cover that window; else
	 * wall runs from the first to the last kernel event of the tree */
	bool attach_mode;
	bool truncated; /* the file was cut short; reported */
	const char *const *command; /* argv, for the report header */
	unsigned int command_len;
	double rusage_user_s, rusage_sys_s;
	long maxrss_kb;
	bool has_rusage;
	/* Names of the addresses threads waited on ("gil+0x50"), from the
	 * recording's symbols; NULL or a NULL result leaves them unnamed. */
	const char *(*lock_name)(void *ctx, __u32 pid, __u64 addr);
	void *lock_name_ctx;
};

/* One interval of one thread in one state, told to an observer as it
 * closes (the timeline draws them). Intervals of a thread tile its
 * lifetime in the trace, in time order per thread. */
enum weft_slice_state {
	WEFT_SLICE_RUNNING,
	WEFT_SLICE_RUNNABLE,
	WEFT_SLICE_BLOCKED,
	WEFT_SLICE_NEW, /* forked, not yet enqueued */
	WEFT_SLICE_UNKNOWN, /* after lost or missing records */
};

struct weft_slice {
	__u32 tid, pid;
	const char *comm; /* the thread's name now; valid during the call */
	enum weft_slice_state state;
	__u64 start_ns, end_ns;
	__u32 cpu; /* RUNNING: where; RUNNABLE: the queue it left; else -1 */
	__u64 tree_ns; /* RUNNABLE: the part of the wait the tree held that CPU */
	/* BLOCKED: why (enum weft_wait_reason), in which system call (-1
	 * none), on which address (0 none), and the traced thread whose
	 * wakeup ended it (0 none; waker_irq when an interrupt did) */
	int reason;
	int syscall_nr;
	__u64 addr;
	__u32 waker_tid, waker_pid;
	bool waker_irq;
	/* BLOCKED on a lock whose owner the recorder read (a PI futex word,
	 * glibc's __owner): that thread, accepted only if it was a live
	 * thread of this one's process when it blocked; else 0 */
	__u32 owner_tid;
};

typedef void (*weft_slice_fn)(void *ctx, const struct weft_slice *slice);

enum weft_verdict_kind {
	WEFT_VERDICT_NO_DATA, /* nothing of the tree was seen */
	WEFT_VERDICT_SERIALIZED, /* by a lock: comes with the lock analysis */
	WEFT_VERDICT_LIMITED_BY_OTHERS, /* other programs held the cores it wanted */
	WEFT_VERDICT_OVERSUBSCRIBED,
	WEFT_VERDICT_BOTTLENECK, /* one thread carries most of the critical path */
	WEFT_VERDICT_MOSTLY_WAITING,
	WEFT_VERDICT_PARALLEL,
	WEFT_VERDICT_SINGLE_THREADED,
};

#define WEFT_VERDICT_LEN 256
#define WEFT_GIL_WAITERS 2

/* Shares are fractions 0..1, times seconds, unless the name says _us. */
struct weft_cpu_metrics {
	unsigned int cpu;
	/* From the recorder's per-CPU totals, as shares of that CPU's measured
	 * time; without them (has_totals false) traced is weft's own on-CPU
	 * time of the CPU over wall, and other and idle are unknown. */
	bool has_totals;
	double traced, other, idle;
	double on_cpu_s; /* weft's own: traced threads running there */
	double steal_s;
	__u64 lost_events;
	unsigned int threads; /* distinct traced threads that ran there */
	__u64 handoffs; /* switches from a traced thread straight to another */
	__u64 migrations_in, migrations_out;
};

/* Off-CPU time by reason, seconds, indexed by enum weft_wait_reason:
 * lock, wait, io, sleep, fault, runqueue, other. */
#define WEFT_OFF_CPU_REASONS WEFT_WAIT_NR

struct weft_process_metrics {
	double off_cpu_s[WEFT_OFF_CPU_REASONS];
	__u32 pid;
	__u32 ppid; /* 0 when unknown */
	char comm[WEFT_COMM_LEN + 1]; /* the leader thread's latest name */
	unsigned int threads; /* every thread seen, however short-lived */
	double on_cpu_s;
	__u64 maxrss_kb; /* peak RSS from exit or end records; 0 when none */
};

struct weft_thread_metrics {
	__u32 tid;
	__u32 pid;
	char comm[WEFT_COMM_LEN + 1]; /* latest name: exec and renames change it */
	double on_cpu_s, runqueue_s, blocked_s;
	double off_cpu_s[WEFT_OFF_CPU_REASONS];
	__u64 voluntary, involuntary;
	bool exited; /* its exit was seen */
	/* The accounting check of this thread: weft's figures and the kernel's
	 * over the same interval (from its fork or the recorder's snapshot to
	 * its exit or the end). */
	bool checked;
	bool acct_warning; /* past the tolerance; see struct weft_accounting */
	double acct_on_cpu_s, kernel_on_cpu_s;
	double acct_runqueue_s, kernel_runqueue_s;
};

/* An address threads waited on: a futex used as a mutex, a kernel lock,
 * or any turn-taking address (a GIL's condition variable). */
struct weft_lock_metrics {
	__u32 pid;
	__u64 addr;
	char name[64]; /* "gil+0x50"; "" when it did not resolve */
	const char *kind; /* "mutex", "futex-wait", "kernel" */
	bool turn_taking;
	__u64 waits;
	double total_s, max_s;
	unsigned int threads; /* distinct waiters */
	__u64 handoffs; /* waits ended by another traced thread */
	double serialized_s; /* serialized time with waiters here */
};

/* How every output names a lock: its name, or with none (a kernel lock,
 * an address no symbol covers) its kind and address, "kernel at
 * 0xffff88815a6a19b8". Returns buf. */
const char *weft_lock_metrics__label(const struct weft_lock_metrics *l, char *buf, size_t size);

struct weft_delay_metrics {
	__u64 count;
	double total_s;
	double p50_us, p99_us, max_us;
};

/* weft's figures against the kernel's (se.sum_exec_runtime,
 * sched_info.run_delay) for every thread whose start and end figures the
 * recording holds. err = |sum(weft) - sum(kernel)| / sum(kernel); valid
 * false when the kernel's sum is 0 and weft's is not. */
struct weft_accounting {
	unsigned int threads_checked;
	bool on_cpu_err_valid, runqueue_err_valid;
	double on_cpu_err, runqueue_err;
	double on_cpu_s, kernel_on_cpu_s; /* the sums compared */
	double runqueue_s, kernel_runqueue_s;
	/* wake-to-run time the kernel counts as run time, not run-queue wait
	 * (its clock is not updated in between; analysis.c says more): the
	 * errors are judged after moving this much from weft's run-queue
	 * figure to its on-CPU one */
	double kernel_clock_skip_s;
	/* 5% plus the steal share of the CPUs' time, which the kernel leaves
	 * out of sum_exec_runtime under PARAVIRT_TIME_ACCOUNTING */
	double tolerance;
	bool on_cpu_warning, runqueue_warning; /* the totals past tolerance */
	unsigned int threads_warned; /* threads with acct_warning */
};

/* What the verdict reads of the critical path (critical.h), when it was
 * computed (weft critical, weft report --critical): the thread that
 * carries most of it */
struct weft_path_summary {
	bool valid;
	__u32 tid, pid;
	char comm[WEFT_COMM_LEN + 1];
	double share; /* of path_s */
	double path_s;
	/* the path's share running or queued for a CPU (not waiting for a
	 * timer, I/O, a lock or anything else) */
	double busy_share;
};

struct weft_metrics {
	const char *version;
	const char *const *command;
	unsigned int command_len;
	unsigned int ncpu; /* CPUs described in cpus[] and the histogram */
	unsigned int usable_cpus;
	bool attach_mode;
	bool truncated;
	__u64 lost_events;
	/* What this weft could not read of a newer weft's recording: records
	 * of types it does not know, sections likewise */
	__u64 unread_records;
	unsigned int unread_sections;
	double wall_s;
	/* where wall begins and ends (CLOCK_MONOTONIC ns): the tree's first
	 * and last events, or the recording's start and stop with -p; for
	 * charts over time */
	__u64 wall_start_ns, wall_end_ns;
	double on_cpu_s;

	struct {
		double avg;
		unsigned int max; /* largest R held for at least 1 ms in total */
		/* share of wall at R = 0 .. ncpu: histogram_len = ncpu + 1 */
		double *histogram;
		unsigned int histogram_len;
	} parallelism;
	struct {
		double avg; /* integral of (R + Q) over wall */
		unsigned int max; /* largest R + Q held for at least 1 ms in total */
	} concurrency;
	struct {
		double interleaved_s; /* a traced thread queued behind another */
		double interleaved_share; /* of wall */
		__u64 handoffs;
		__u64 slices; /* running intervals of traced threads */
		double slice_p50_us;
	} interleaving;
	double serialized_s;
	double serialized_share; /* of wall */

	/* Off-CPU time of the tree by reason (shares: of thread_time_s) */
	double off_cpu_s[WEFT_OFF_CPU_REASONS];
	/* the system call that took most of each reason's time, or NULL */
	const char *off_cpu_syscall[WEFT_OFF_CPU_REASONS];
	struct weft_lock_metrics *locks; /* by total wait, longest first */
	unsigned int nr_locks;

	/* Waits that ended in the trace are counted and give the percentiles;
	 * waits still open at the end add to total_s (and its split) only. */
	struct {
		__u64 count;
		double total_s;
		double p50_us, p99_us, max_us;
		double by_tree_s, by_others_s; /* sum to total_s */
	} runqueue_delay;
	/* enqueue - waking, for wakeups that had a waking (not a new
	 * thread's first enqueue) and changed the thread's state */
	struct weft_delay_metrics wakeup_latency;
	__u64 wakeups; /* wakeup records of traced threads */
	__u64 wakeups_ignored; /* of a thread already runnable or running */

	bool has_cpu_totals;
	double steal_s;
	struct weft_accounting accounting;
	struct {
		__u64 voluntary, involuntary;
	} switches;
	__u64 migrations;

	/* Thread time: the summed lifetime of the traced threads, split into
	 * running, queued and blocked; blocked_share = blocked / thread time. */
	double thread_time_s;
	double blocked_s;
	double blocked_share;
	double idle_share; /* share of wall with no traced thread running */

	struct weft_cpu_metrics *cpus; /* ncpu entries, by cpu number */
	struct weft_process_metrics *processes; /* in order of appearance */
	unsigned int nr_processes;
	struct weft_thread_metrics *threads; /* in order of appearance */
	unsigned int nr_threads;

	struct {
		bool valid;
		double user_s, sys_s;
		long maxrss_kb;
	} rusage;

	/* valid only after weft_analysis__set_path() */
	struct weft_path_summary critical;

	/* The Python functions that waited most for the lock a serialized
	 * verdict names, when it is a CPython GIL (the report's lock stacks
	 * give them: weft_metrics__verdict_waiters()); the verdict names them */
	struct {
		char name[96];
		double share;
	} gil_waiters[WEFT_GIL_WAITERS];
	unsigned int nr_gil_waiters;

	enum weft_verdict_kind verdict_kind;
	char verdict[WEFT_VERDICT_LEN];
};

/* The entry of m's locks table for a wait of pid on addr (a process's
 * futex, or a kernel lock, whose entry has no pid), or NULL: how the flame
 * graphs and pprof name a wait's lock */
const struct weft_lock_metrics *weft_metrics__lock_of(const struct weft_metrics *m, __u32 pid,
						      __u64 addr);

struct weft_analysis;

struct weft_analysis *weft_analysis__new(const struct analysis_opts *opts);
/* 0, or -ENOMEM, or -EINVAL after finish. Records of unknown types are
 * skipped (counted), so that newer recordings still report. */
int weft_analysis__feed(struct weft_analysis *a, const struct weft_event_header *ev);
/* NULL and errno on failure */
const struct weft_metrics *weft_analysis__finish(struct weft_analysis *a);
void weft_analysis__free(struct weft_analysis *a);

/* Records skipped because their type was unknown, and events that
 * contradicted the state weft had built (a sign of lost events). */
__u64 weft_analysis__skipped(const struct weft_analysis *a);
/* Before finish: what the reader could not read (records of types this
 * weft does not know, sections likewise), for the metrics to say */
void weft_analysis__note_unread(struct weft_analysis *a, __u64 records, unsigned int sections);
__u64 weft_analysis__inconsistent(const struct weft_analysis *a);

/* After finish: the critical path's summary, for the metrics to hold and
 * the verdict to weigh (its rule 5); the verdict is chosen again. 0, or
 * -EINVAL before finish. */
int weft_analysis__set_path(struct weft_analysis *a, const struct weft_path_summary *p);

/* The verdict rules (verdict.c, next to their thresholds) applied to m:
 * writes the line into buf and returns its kind. finish() calls it; tests
 * call it on metrics they fill by hand. */
enum weft_verdict_kind weft_metrics__verdict(const struct weft_metrics *m, char *buf, size_t size);

/* The lock a serialized verdict names (its index in m->locks), or -1 */
int weft_metrics__verdict_lock(const struct weft_metrics *m);
/* Keeps, for a verdict serialized by a CPython GIL, the Python functions
 * that waited most for it (names and shares of the lock's wait, most
 * first; the report's lock stacks give them), and writes the verdict
 * again, which names them; any other verdict stays */
void weft_metrics__verdict_waiters(struct weft_metrics *m, const char *const *names,
				   const double *shares, unsigned int n);

/* The share of the cores' time that programs outside the tree held
 * (the CPUs' "other" share, and the host's steal of the tree's own time),
 * over the usable CPUs; 0 without per-CPU totals. */
double weft_metrics__others_share(const struct weft_metrics *m);

/* The off-CPU reason with the most time (blocked reasons and the run
 * queue), its name in reason (an off_cpu key without _s) and its share of
 * the thread time; "" when there was no off-CPU time. */
void weft_metrics__top_wait(const struct weft_metrics *m, char *reason, size_t size, double *share);
/* Waits on the addresses of the locks table. */
__u64 weft_metrics__lock_waits(const struct weft_metrics *m);

/* Tells fn every closed interval of every thread (before finish returns
 * for the last ones). */
void weft_analysis__set_slice_observer(struct weft_analysis *a, weft_slice_fn fn, void *ctx);
/* R and Q after the last event fed (or after finish): the traced threads
 * running and runnable at that instant. The timeline reads them after each
 * event for its counters. */
void weft_analysis__counts(const struct weft_analysis *a, unsigned int *running,
			   unsigned int *queued);
const char *weft_verdict_kind__name(enum weft_verdict_kind kind);

#endif /* __WEFT_ANALYSIS_H */
