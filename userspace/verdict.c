// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The verdict: the rules that turn a report's metrics into one line a
 * person can act on, next to their thresholds (declared in analysis.h;
 * they read only struct weft_metrics, so tests fill one by hand). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"

static inline double share(double part, double whole)
{
	return whole > 0 ? part / whole : 0;
}

/* The verdict. Rules are tried in this order and the first that applies
 * wins; each threshold sits beside the rule that uses it, and the tests
 * try every one at and just short of its threshold. The line starts with
 * the rule's keyword.
 *
 * 1. no data: no traced thread was seen, or the wall is zero.
 * 2. serialized by a lock: for at least SERIALIZED_MIN_SHARE of the wall
 *    time one thread of the tree ran (or was runnable and waited for a
 *    CPU) while others waited on a turn-taking address, and one address
 *    carries at least SERIALIZED_MIN_TOP of that time. Under a GIL nearly
 *    all the time is so; a mutex with short critical sections among busy
 *    threads leaves most of it parallel.
 * 3. limited by other programs: programs outside the tree held at least
 *    OTHERS_MIN_HELD of the cores, and the tree's threads waited in run
 *    queues for at least OTHERS_MIN_QUEUED of the wall time (summed over
 *    threads: a tenth of a thread on average), behind them or behind each
 *    other on the cores left (the scheduler calls two busy threads on one
 *    core beside two loops on the other balanced). Both, so that a busy
 *    machine alone does not blame it (a program that never wanted the
 *    cores they held), nor does the passing queueing of wakeups on an
 *    idle machine. Before oversubscribed, whose interleaving the other
 *    programs cause when they take the rest of the cores.
 * 4. oversubscribed: for at least OVERSUB_MIN_INTERLEAVED of the wall time
 *    a thread of the tree waited in the run queue of a CPU that was
 *    running another of its threads. A quarter is far more than the
 *    passing overlap of a wakeup (a token handed between two threads
 *    interleaves well under 1%) and far less than the near 100% of more
 *    busy threads than cores.
 * 5. bottleneck: the critical path was computed (weft critical, weft
 *    report --critical), one thread carries at least BOTTLENECK_MIN_SHARE
 *    of it, at least one other thread of the tree ran for
 *    BOTTLENECK_MIN_OTHER_RAN of the wall (there was someone to wait for
 *    it: a producer with a slow consumer, not one thread alone), the path
 *    was running or queued for a CPU for at least BOTTLENECK_MIN_BUSY of
 *    its length (a path of timer and I/O waits is mostly waiting, not a
 *    slow thread: weft-work's io task in threads is 96% sleep), and the
 *    tree used fewer than PARALLEL_MIN_AVG cores on average (a fork-join
 *    whose equal workers keep every core busy also ends on one worker's
 *    path, but is parallel). Before mostly waiting: a pipeline whose
 *    other stages wait most of their lifetime for the slow one is
 *    waiting on it, and the rule names it.
 * 6. mostly waiting: at least WAITING_MIN_BLOCKED of the threads' summed
 *    lifetime blocked, and no thread of the tree on a CPU for at least
 *    WAITING_MIN_IDLE of the wall time. The second condition keeps a main
 *    thread blocked in pthread_join beside one busy worker (half of the
 *    thread time blocked, but a core busy all along) out of this rule.
 * 7. parallel: the average number of threads running is at least
 *    PARALLEL_MIN_AVG: clearly more than one core, beyond what the
 *    overlap of a main thread and a worker at their hand-over gives.
 * 8. single-threaded: everything else; at most about one core busy.
 */
#define SERIALIZED_MIN_SHARE 0.40
#define SERIALIZED_MIN_TOP 0.50
#define OTHERS_MIN_HELD 0.25
#define OTHERS_MIN_QUEUED 0.10
#define OVERSUB_MIN_INTERLEAVED 0.25
#define WAITING_MIN_BLOCKED 0.50
#define WAITING_MIN_IDLE 0.50
#define PARALLEL_MIN_AVG 1.20
#define BOTTLENECK_MIN_SHARE 0.60
#define BOTTLENECK_MIN_OTHER_RAN 0.01
#define BOTTLENECK_MIN_BUSY 0.50

/* A waiter on a turn-taking address carrying at least this share of the
 * reason's time names the wait: a GIL's condition variable is a lock to
 * its threads, whatever futex call glibc makes on it. */
#define WAITING_LOCK_MIN_SHARE 0.50

double weft_metrics__others_share(const struct weft_metrics *m)
{
	const struct weft_cpu_metrics *c;
	double held = 0, seen;
	unsigned int i, n = 0;
	/* Which cores the tree could use is not kept when that is fewer than
	 * all: then the ones it ran on stand for them. */
	bool only_ran = m->usable_cpus && m->usable_cpus < m->ncpu;

	for (i = 0; m->cpus && i < m->ncpu; i++) {
		c = &m->cpus[i];
		if (!c->has_totals || (only_ran && !c->threads))
			continue;
		/* The host's steal lands on whatever the CPU ran: in other's
		 * share when they ran, in the tree's when it did. Only the
		 * part that fell on the tree's time is added, in proportion. */
		seen = c->traced + c->other;
		held += c->other;
		if (seen > 0 && m->wall_s > 0)
			held += fmin(1, c->steal_s / m->wall_s) * c->traced / seen;
		n++;
	}
	return n ? fmin(1, held / n) : 0;
}

static unsigned int cores_used(const struct weft_metrics *m)
{
	unsigned int i, n = 0;

	for (i = 0; m->cpus && i < m->ncpu; i++)
		n += m->cpus[i].threads > 0;
	if (m->usable_cpus && (!n || m->usable_cpus < n))
		n = m->usable_cpus;
	return n ? n : 1;
}

static const struct weft_lock_metrics *top_serializing_lock(const struct weft_metrics *m)
{
	const struct weft_lock_metrics *best = NULL;
	unsigned int i;

	for (i = 0; i < m->nr_locks; i++)
		if (!best || m->locks[i].serialized_s > best->serialized_s)
			best = &m->locks[i];
	return best;
}

const char *weft_lock_metrics__label(const struct weft_lock_metrics *l, char *buf, size_t size)
{
	if (l->name[0])
		snprintf(buf, size, "%s", l->name);
	else
		snprintf(buf, size, "%s at 0x%llx", l->kind ? l->kind : "lock",
			 (unsigned long long)l->addr);
	return buf;
}

const struct weft_lock_metrics *weft_metrics__lock_of(const struct weft_metrics *m, __u32 pid,
						      __u64 addr)
{
	unsigned int i;

	for (i = 0; m && addr && i < m->nr_locks; i++)
		if (m->locks[i].addr == addr && (m->locks[i].pid == pid || !m->locks[i].pid))
			return &m->locks[i];
	return NULL;
}

/* ", mostly in epoll_wait (events)": the blocked reason with the most
 * time, with the call or lock behind it. */
static const char *waiting_on(const struct weft_metrics *m, char *buf, size_t size)
{
	static const char *const what[WEFT_OFF_CPU_REASONS] = {
		[WEFT_WAIT_LOCK] = "for a lock",
		[WEFT_WAIT_WAIT] = "for events",
		[WEFT_WAIT_IO] = "on I/O",
		[WEFT_WAIT_SLEEP] = "sleeping",
		[WEFT_WAIT_FAULT] = "on page faults",
	};
	unsigned int r, best = WEFT_WAIT_OTHER;
	char lock[96];

	for (r = 0; r < WEFT_OFF_CPU_REASONS; r++)
		if (r != WEFT_WAIT_RUNQUEUE && m->off_cpu_s[r] > m->off_cpu_s[best])
			best = r;
	if (best == WEFT_WAIT_OTHER || !(m->off_cpu_s[best] > 0)) {
		buf[0] = '\0';
		return buf;
	}
	if (best == WEFT_WAIT_LOCK && m->nr_locks)
		snprintf(buf, size, ", mostly %s (%s)", what[best],
			 weft_lock_metrics__label(&m->locks[0], lock, sizeof(lock)));
	else if (best == WEFT_WAIT_WAIT && m->nr_locks && m->locks[0].turn_taking &&
		 m->locks[0].total_s >= WAITING_LOCK_MIN_SHARE * m->off_cpu_s[best])
		snprintf(buf, size, ", mostly %s (%s)", what[WEFT_WAIT_LOCK],
			 weft_lock_metrics__label(&m->locks[0], lock, sizeof(lock)));
	else if (m->off_cpu_syscall[best])
		snprintf(buf, size, ", mostly %s (%s)", what[best], m->off_cpu_syscall[best]);
	else
		snprintf(buf, size, ", mostly %s", what[best]);
	return buf;
}

/* "; waiting most in f (a.py) 84%, g (b.py) 9%" after a serialized
 * verdict, where there is room */
static void name_waiters(const struct weft_metrics *m, char *buf, size_t size)
{
	size_t len = strlen(buf);
	unsigned int i;
	int w;

	for (i = 0; i < m->nr_gil_waiters; i++) {
		w = snprintf(buf + len, size - len, "%s%s %.0f%%", i ? ", " : "; waiting most in ",
			     m->gil_waiters[i].name, 100 * m->gil_waiters[i].share);
		if (w < 0 || (size_t)w >= size - len) {
			buf[len] = '\0'; /* no room: left as it was */
			return;
		}
		len += (size_t)w;
	}
}

/* Rule 5's conditions: another thread than the path's own ran */
static bool bottleneck(const struct weft_metrics *m)
{
	const struct weft_path_summary *p = &m->critical;
	unsigned int i;

	if (!p->valid || p->share < BOTTLENECK_MIN_SHARE || p->busy_share < BOTTLENECK_MIN_BUSY ||
	    m->parallelism.avg >= PARALLEL_MIN_AVG)
		return false;
	for (i = 0; i < m->nr_threads; i++)
		if (m->threads[i].tid != p->tid &&
		    m->threads[i].on_cpu_s >= BOTTLENECK_MIN_OTHER_RAN * m->wall_s)
			return true;
	return false;
}

enum weft_verdict_kind weft_metrics__verdict(const struct weft_metrics *m, char *buf, size_t size)
{
	const struct weft_lock_metrics *lock;
	char label[128];
	unsigned int cores;
	double others;

	if (!m->nr_threads || !(m->wall_s > 0)) {
		snprintf(buf, size, "no data: no thread of the traced tree was seen");
		return WEFT_VERDICT_NO_DATA;
	}
	lock = top_serializing_lock(m);
	if (m->serialized_share >= SERIALIZED_MIN_SHARE && lock &&
	    lock->serialized_s >= SERIALIZED_MIN_TOP * m->serialized_s) {
		snprintf(buf, size,
			 "serialized by one lock (%s): %u threads, parallelism %.2f, %.0f%% of "
			 "thread time waiting for it",
			 weft_lock_metrics__label(lock, label, sizeof(label)), lock->threads,
			 m->parallelism.avg, 100 * share(lock->total_s, m->thread_time_s));
		name_waiters(m, buf, size);
		return WEFT_VERDICT_SERIALIZED;
	}
	others = weft_metrics__others_share(m);
	if (others >= OTHERS_MIN_HELD &&
	    m->runqueue_delay.total_s >= OTHERS_MIN_QUEUED * m->wall_s) {
		snprintf(buf, size,
			 "limited by other programs: parallelism %.2f, they held %.0f%% of the "
			 "cores",
			 m->parallelism.avg, 100 * others);
		return WEFT_VERDICT_LIMITED_BY_OTHERS;
	}
	if (m->interleaving.interleaved_share >= OVERSUB_MIN_INTERLEAVED) {
		/* on the cores it queued on, when affinity kept it to fewer
		 * than it was allowed */
		cores = cores_used(m);
		snprintf(buf, size,
			 "oversubscribed: %u runnable threads on %u core%s, interleaved %.0f%% of "
			 "the time",
			 m->concurrency.max, cores, cores == 1 ? "" : "s",
			 100 * m->interleaving.interleaved_share);
		return WEFT_VERDICT_OVERSUBSCRIBED;
	}
	if (bottleneck(m)) {
		snprintf(buf, size, "bottleneck: %s (tid %u) on %.0f%% of the critical path",
			 m->critical.comm[0] ? m->critical.comm : "?", m->critical.tid,
			 100 * m->critical.share);
		return WEFT_VERDICT_BOTTLENECK;
	}
	if (m->blocked_share >= WAITING_MIN_BLOCKED && m->idle_share >= WAITING_MIN_IDLE) {
		snprintf(buf, size, "mostly waiting: %.0f%% of thread time blocked%s",
			 100 * m->blocked_share, waiting_on(m, label, sizeof(label)));
		return WEFT_VERDICT_MOSTLY_WAITING;
	}
	if (m->parallelism.avg >= PARALLEL_MIN_AVG) {
		snprintf(buf, size, "parallel: %.2f of %u usable core%s busy", m->parallelism.avg,
			 m->usable_cpus, m->usable_cpus == 1 ? "" : "s");
		return WEFT_VERDICT_PARALLEL;
	}
	snprintf(buf, size, "single-threaded: parallelism %.2f", m->parallelism.avg);
	return WEFT_VERDICT_SINGLE_THREADED;
}

int weft_metrics__verdict_lock(const struct weft_metrics *m)
{
	const struct weft_lock_metrics *lock = top_serializing_lock(m);

	return m->verdict_kind == WEFT_VERDICT_SERIALIZED && lock ? (int)(lock - m->locks) : -1;
}

/* A serialized verdict whose lock is a CPython GIL names the Python
 * functions whose waits for it were longest: at most WEFT_GIL_WAITERS,
 * each with at least WAITERS_MIN_SHARE of the lock's wait, so that a
 * Python user reads which code took turns */
#define WAITERS_MIN_SHARE 0.05

void weft_metrics__verdict_waiters(struct weft_metrics *m, const char *const *names,
				   const double *shares, unsigned int n)
{
	int at = weft_metrics__verdict_lock(m);
	unsigned int i;

	m->nr_gil_waiters = 0;
	for (i = 0; at >= 0 && !strncmp(m->locks[at].name, "GIL (", 5) && i < n &&
		    m->nr_gil_waiters < WEFT_GIL_WAITERS;
	     i++) {
		if (shares[i] < WAITERS_MIN_SHARE)
			continue;
		snprintf(m->gil_waiters[m->nr_gil_waiters].name, sizeof(m->gil_waiters[0].name),
			 "%s", names[i]);
		m->gil_waiters[m->nr_gil_waiters++].share = shares[i];
	}
	m->verdict_kind = weft_metrics__verdict(m, m->verdict, sizeof(m->verdict));
}

const char *weft_verdict_kind__name(enum weft_verdict_kind kind)
{
	switch (kind) {
	case WEFT_VERDICT_NO_DATA:
		return "no_data";
	case WEFT_VERDICT_SERIALIZED:
		return "serialized";
	case WEFT_VERDICT_LIMITED_BY_OTHERS:
		return "limited_by_others";
	case WEFT_VERDICT_OVERSUBSCRIBED:
		return "oversubscribed";
	case WEFT_VERDICT_BOTTLENECK:
		return "bottleneck";
	case WEFT_VERDICT_MOSTLY_WAITING:
		return "mostly_waiting";
	case WEFT_VERDICT_PARALLEL:
		return "parallel";
	case WEFT_VERDICT_SINGLE_THREADED:
		return "single_threaded";
	}
	return "unknown";
}
