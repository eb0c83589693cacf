// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The accounting check: weft's per-thread on-CPU and run-queue time
 * against the kernel's own over the same interval, and how far apart they
 * may be before a report warns. */
#include <math.h>
#include <stdbool.h>

#include "accounting.h"
#include "analysis.h"

/* The accounting check: weft's figures may differ from the kernel's by
 * this share (plus the steal share) before the report warns. */
#define ACCT_TOLERANCE 0.05
/* Per thread, only threads that ran at least this long are judged, */
#define ACCT_MIN_THREAD_ON_CPU_NS 10000000ULL
/* and differences below this are not, nor below ACCT_SWITCH_SLACK_NS per
 * context switch: tracepoint and scheduler clocks disagree by a fraction
 * of a microsecond per switch. */
#define ACCT_MIN_DIFF_NS 1000000ULL
#define ACCT_SWITCH_SLACK_NS 150ULL

static inline double ns_to_s(__u64 ns)
{
	return ns / 1e9;
}

/* The kernel does not update its run-queue clock between a wakeup that
 * preempts the CPU's current task (the idle task, most often) and the
 * switch that follows: wakeup_preempt() calls rq_clock_skip_update()
 * (kernel/sched/core.c). So the wake-to-run time that weft counts as
 * run-queue wait, the kernel counts as run time: about 1.5 us per wakeup
 * on this VM, 8% of the run time of a thread that a lock wakes 30,000
 * times a second. Only that direction is forgiven, and only as much as
 * both figures show. */
static __u64 kernel_clock_skip(__u64 weft_on, __u64 kern_on, __u64 weft_rq, __u64 kern_rq)
{
	if (kern_on <= weft_on || weft_rq <= kern_rq)
		return 0;
	return kern_on - weft_on < weft_rq - kern_rq ? kern_on - weft_on : weft_rq - kern_rq;
}

static double acct_min_diff(__u64 switches)
{
	double per_switch = (double)switches * ACCT_SWITCH_SLACK_NS;

	return per_switch > ACCT_MIN_DIFF_NS ? per_switch : ACCT_MIN_DIFF_NS;
}

/* A difference d from the kernel's figure k worth a warning */
static bool acct_off(double d, double k, double min_diff, double tolerance)
{
	return d >= min_diff && d > tolerance * k;
}

void accounting__check(const struct acct_thread *t, size_t n, __u64 switches_all,
		       struct weft_metrics *m)
{
	struct weft_accounting *acc = &m->accounting;
	__u64 w_on = 0, k_on = 0, w_rq = 0, k_rq = 0, skipped = 0;
	double cpu_time = m->ncpu * m->wall_s, d_on, d_rq, min_diff;
	size_t i;

	acc->tolerance = ACCT_TOLERANCE + (cpu_time > 0 ? m->steal_s / cpu_time : 0);
	for (i = 0; i < n; i++) {
		struct weft_thread_metrics *tm = &m->threads[i];
		__u64 wo = t[i].weft_on_ns, ko = t[i].kern_on_ns, wr = t[i].weft_rq_ns,
		      kr = t[i].kern_rq_ns, skip, switches = t[i].switches;

		if (!t[i].known)
			continue;
		skip = kernel_clock_skip(wo, ko, wr, kr);
		tm->checked = true;
		tm->acct_on_cpu_s = ns_to_s(wo);
		tm->kernel_on_cpu_s = ns_to_s(ko);
		tm->acct_runqueue_s = ns_to_s(wr);
		tm->kernel_runqueue_s = ns_to_s(kr);
		d_on = fabs((double)(wo + skip) - (double)ko);
		d_rq = fabs((double)(wr - skip) - (double)kr);
		if ((wo >= ACCT_MIN_THREAD_ON_CPU_NS || ko >= ACCT_MIN_THREAD_ON_CPU_NS) &&
		    (acct_off(d_on, ko, acct_min_diff(switches), acc->tolerance) ||
		     acct_off(d_rq, kr, acct_min_diff(switches), acc->tolerance))) {
			tm->acct_warning = true;
			acc->threads_warned++;
		}
		acc->threads_checked++;
		w_on += wo;
		k_on += ko;
		w_rq += wr;
		k_rq += kr;
		skipped += skip;
	}
	acc->on_cpu_s = ns_to_s(w_on);
	acc->kernel_on_cpu_s = ns_to_s(k_on);
	acc->runqueue_s = ns_to_s(w_rq);
	acc->kernel_runqueue_s = ns_to_s(k_rq);
	d_on = fabs((double)(w_on + skipped) - (double)k_on);
	d_rq = fabs((double)(w_rq - skipped) - (double)k_rq);
	acc->kernel_clock_skip_s = ns_to_s(skipped);
	acc->on_cpu_err_valid = k_on || !w_on;
	acc->on_cpu_err = k_on ? d_on / k_on : 0;
	acc->runqueue_err_valid = k_rq || !w_rq;
	acc->runqueue_err = k_rq ? d_rq / k_rq : 0;
	min_diff = acct_min_diff(switches_all);
	acc->on_cpu_warning = acct_off(d_on, k_on, min_diff, acc->tolerance);
	acc->runqueue_warning = acct_off(d_rq, k_rq, min_diff, acc->tolerance);
}
