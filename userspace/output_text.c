// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The text report, for a terminal: a summary of labelled lines wrapped to
 * 80 columns, the parallelism histogram drawn as bars in the manner of
 * bcc's print_log2_hist(), the verdict last; tables per thread, process
 * and CPU on request. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "critical.h"
#include "stack_summary.h"
#include "waitfor.h"
#include "waits.h"

#define LABEL_WIDTH 17
#define BAR_WIDTH 40
/* Threads named in the accounting warning before "and N more" */
#define ACCT_WARN_THREADS 3

/* Where to end a line of at most width characters of p: after a clause
 * (", " or "; ") when one ends past the first third, so that a figure
 * stays with its unit; else at a space; else in the middle of a word. */
static int wrap_point(const char *p, int width)
{
	int i, space = 0;

	for (i = width; i > width / 3; i--)
		if ((p[i - 1] == ',' || p[i - 1] == ';') && p[i] == ' ')
			return i;
	for (i = width; i > 0; i--)
		if (p[i] == ' ') {
			space = i;
			break;
		}
	return space ? space : width;
}

/* Writes "label:" padded to LABEL_WIDTH, then the text wrapped at word
 * boundaries to OUTPUT_TEXT_COLUMNS, continuation lines indented to the
 * text; a word longer than a line is cut. An empty label continues the
 * previous field. */
static void field(FILE *out, const char *label, const char *fmt, ...)
{
	const int width = OUTPUT_TEXT_COLUMNS - LABEL_WIDTH;
	char text[1024], head[LABEL_WIDTH + 2];
	const char *p;
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(text, sizeof(text), fmt, ap) >= (int)sizeof(text))
		memcpy(text + sizeof(text) - 4, "...", 4);
	va_end(ap);
	snprintf(head, sizeof(head), "%s%s", label, *label ? ":" : "");
	fprintf(out, "%-*s", LABEL_WIDTH, head);
	p = text;
	while (*p == ' ')
		p++;
	while (*p) {
		int len = strlen(p), cut = len;

		if (len > width) {
			cut = wrap_point(p, width);
		}
		fprintf(out, "%.*s\n", cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(out, "%*s", LABEL_WIDTH, "");
	}
	if (!*text)
		fputc('\n', out);
}

static const char *pct(char *buf, size_t size, double share)
{
	snprintf(buf, size, "%.1f%%", 100 * share);
	return buf;
}

/* Every R from 0 to ncpu, as a CPU-utilization histogram has it; on a
 * machine with many CPUs, the empty rows past the last used R are told in
 * one line. */
#define HIST_ALL_ROWS 16

static void print_histogram(FILE *out, const struct weft_metrics *m)
{
	unsigned int r, last = m->parallelism.max, len = m->parallelism.histogram_len;

	for (r = 0; r < len; r++)
		if (m->parallelism.histogram[r] > 0 && r > last)
			last = r;
	if (len <= HIST_ALL_ROWS + 1 || last >= len)
		last = len - 1;
	fprintf(out, "%*s%4s %7s  %s\n", LABEL_WIDTH, "", "R", "share", "of wall");
	for (r = 0; r <= last; r++) {
		double s = m->parallelism.histogram[r];
		int n = (int)lround(s * BAR_WIDTH);

		if (n > BAR_WIDTH)
			n = BAR_WIDTH;
		if (n < 0)
			n = 0;
		fprintf(out, "%*s%4u %6.1f%% |%.*s%*s|\n", LABEL_WIDTH, "", r, 100 * s, n,
			"########################################", BAR_WIDTH - n, "");
	}
	if (last + 1 < len)
		fprintf(out, "%*s%4s R = %u..%u: none\n", LABEL_WIDTH, "", "", last + 1, len - 1);
}

static void print_accounting(FILE *out, const struct weft_metrics *m)
{
	const struct weft_accounting *a = &m->accounting;
	char on[32], rq[32], d1[32], d2[32];
	unsigned int i, named = 0;

	if (!a->threads_checked) {
		field(out, "accounting", "no thread with the kernel's figures to compare");
		return;
	}
	if (a->on_cpu_err_valid)
		snprintf(on, sizeof(on), "within %.1f%%", 100 * a->on_cpu_err);
	else
		snprintf(on, sizeof(on), "not comparable");
	if (a->runqueue_err_valid)
		snprintf(rq, sizeof(rq), "within %.1f%%", 100 * a->runqueue_err);
	else
		snprintf(rq, sizeof(rq), "not comparable");
	field(out, "accounting", "on-CPU %s of the kernel's, run-queue %s (%u thread%s)", on, rq,
	      a->threads_checked, a->threads_checked == 1 ? "" : "s");
	if (a->kernel_clock_skip_s >= 0.0005)
		field(out, "",
		      "after %s of wake-to-run time the kernel counts as run time (its clock "
		      "skips that update)",
		      output_fmt_duration(d1, sizeof(d1), a->kernel_clock_skip_s));
	if (a->on_cpu_warning)
		field(out, "", "WARNING: on-CPU past the %.1f%% tolerance: weft %s, the kernel %s",
		      100 * a->tolerance, output_fmt_duration(d1, sizeof(d1), a->on_cpu_s),
		      output_fmt_duration(d2, sizeof(d2), a->kernel_on_cpu_s));
	if (a->runqueue_warning)
		field(out, "",
		      "WARNING: run-queue past the %.1f%% tolerance: weft %s, the kernel %s",
		      100 * a->tolerance, output_fmt_duration(d1, sizeof(d1), a->runqueue_s),
		      output_fmt_duration(d2, sizeof(d2), a->kernel_runqueue_s));
	if (!a->threads_warned)
		return;
	field(out, "", "WARNING: %u thread%s past the %.1f%% tolerance:", a->threads_warned,
	      a->threads_warned == 1 ? "" : "s", 100 * a->tolerance);
	for (i = 0; i < m->nr_threads && named < ACCT_WARN_THREADS; i++) {
		const struct weft_thread_metrics *t = &m->threads[i];
		char comm[WEFT_COMM_LEN + 1], d3[32], d4[32];

		if (!t->acct_warning)
			continue;
		output_sanitize(comm, sizeof(comm), t->comm);
		field(out, "", "  %u (%s): on-CPU %s vs %s, run-queue %s vs %s", t->tid, comm,
		      output_fmt_duration(d1, sizeof(d1), t->acct_on_cpu_s),
		      output_fmt_duration(d2, sizeof(d2), t->kernel_on_cpu_s),
		      output_fmt_duration(d3, sizeof(d3), t->acct_runqueue_s),
		      output_fmt_duration(d4, sizeof(d4), t->kernel_runqueue_s));
		named++;
	}
	if (a->threads_warned > named)
		field(out, "", "  and %u more (--format json has them all)",
		      a->threads_warned - named);
}

/* "wait 62%, runqueue 3%, ...": reasons with any time, largest first */
static void print_off_cpu(FILE *out, const char *label, const double *off_cpu_s, double whole_s)
{
	char line[256], p[16];
	unsigned int r, k, order[WEFT_OFF_CPU_REASONS];
	size_t off = 0;

	for (r = 0; r < WEFT_OFF_CPU_REASONS; r++)
		order[r] = r;
	for (r = 0; r < WEFT_OFF_CPU_REASONS; r++)
		for (k = r + 1; k < WEFT_OFF_CPU_REASONS; k++)
			if (off_cpu_s[order[k]] > off_cpu_s[order[r]]) {
				unsigned int t = order[r];

				order[r] = order[k];
				order[k] = t;
			}
	line[0] = '\0';
	for (r = 0; r < WEFT_OFF_CPU_REASONS && off < sizeof(line); r++) {
		if (!(off_cpu_s[order[r]] > 0))
			break;
		off += snprintf(line + off, sizeof(line) - off, "%s%s %s", r ? ", " : "",
				weft_wait_reason__name(order[r]),
				pct(p, sizeof(p), whole_s > 0 ? off_cpu_s[order[r]] / whole_s : 0));
	}
	field(out, label, "%s", line[0] ? line : "none");
}

/* Where the function and stack columns start */
#define FUNCTION_COLUMN 18
#define STACK_COLUMN 20

/* text from STACK_COLUMN on, broken before a " <- " to fit the columns,
 * continuation lines indented to the column */
static void print_stack_wrapped(FILE *out, const char *text)
{
	const int room = OUTPUT_TEXT_COLUMNS - STACK_COLUMN;
	const char *p = text;

	while ((int)strlen(p) > room) {
		const char *cut = NULL, *q;

		for (q = strstr(p, " <- "); q && q - p <= room; q = strstr(q + 1, " <- "))
			cut = q;
		if (!cut || cut == p)
			cut = p + room; /* one frame longer than a line */
		fprintf(out, "%.*s\n%*s", (int)(cut - p), p, STACK_COLUMN, "");
		p = *cut == ' ' ? cut + 1 : cut;
	}
	fprintf(out, "%s\n", p);
}

/* Under a lock's row, its top user stacks: share of the lock's wait, time,
 * the stack from where the program took the lock (stack_waiter__short),
 * one line each: frames that do not fit become "..." */
static void print_lock_stacks(FILE *out, const struct weft_lock_metrics *l,
			      const struct stack_lock *sl)
{
	const int room = OUTPUT_TEXT_COLUMNS - STACK_COLUMN;
	char d1[32], share[16], stack[1024];
	unsigned int k;

	for (k = 0; k < sl->nr_stacks; k++) {
		const struct stack_waiter *w = &sl->stacks[k];
		double p = l->total_s > 0 ? 100 * w->ns / 1e9 / l->total_s : 0;
		char *cut = NULL, *q;

		output_sanitize(stack, sizeof(stack), stack_waiter__short(w, stack, sizeof(stack)));
		if ((int)strlen(stack) > room) {
			for (q = strstr(stack, " <- "); q && q - stack + 7 <= room;
			     q = strstr(q + 1, " <- "))
				cut = q;
			if (cut)
				memcpy(cut, " <- ...", 8);
		}
		if (p > 0 && p < 0.5)
			snprintf(share, sizeof(share), "<1%%");
		else
			snprintf(share, sizeof(share), "%.0f%%", p);
		fprintf(out, "    %4s %9s  ", share,
			output_fmt_duration(d1, sizeof(d1), w->ns / 1e9));
		print_stack_wrapped(out, stack);
	}
}

/* Under a lock's row and stacks, who held it while others waited, and how
 * long */
static void print_lock_holders(FILE *out, const struct weft_lock_metrics *l,
			       const struct waitfor *waits)
{
	struct waitfor_holder h[OUTPUT_HOLDERS_SHOWN];
	unsigned int i, n = waitfor__lock_holders(waits, l->pid, l->addr, h, OUTPUT_HOLDERS_SHOWN);
	char d1[32], comm[WEFT_COMM_LEN + 1];

	if (!n)
		return;
	fprintf(out, "    held by:");
	for (i = 0; i < n; i++) {
		output_sanitize(comm, sizeof(comm), h[i].comm);
		fprintf(out, "%s %s-%u %s", i ? "," : "", comm, h[i].tid,
			output_fmt_duration(d1, sizeof(d1), h[i].wait_ns / 1e9));
	}
	fprintf(out, "\n");
}

/* Threads the recording ended with in a cycle of lock waits, each on a
 * lock the next holds: said whether or not --waits was asked for */
static void print_end_cycles(FILE *out, const struct waitfor *waits)
{
	const struct waitfor_end_cycle *c = NULL;
	char comm[WEFT_COMM_LEN + 1], next[WEFT_COMM_LEN + 1], lock[64];
	unsigned int i, j, n;

	c = waitfor__end_cycles(waits, &n);
	for (i = 0; i < n; i++) {
		fprintf(out, "\nthe recording ended in a deadlock: ");
		for (j = 0; j < c[i].nr_threads; j++) {
			const struct waitfor_thread *t = &c[i].threads[j];
			const struct waitfor_thread *h = &c[i].threads[(j + 1) % c[i].nr_threads];

			output_sanitize(comm, sizeof(comm), t->comm);
			output_sanitize(next, sizeof(next), h->comm);
			output_sanitize(lock, sizeof(lock), c[i].locks[j]);
			fprintf(out, "%s%s-%u waits for %s held by %s-%u", j ? "; " : "", comm,
				t->tid, lock, next, h->tid);
		}
		fprintf(out, "\n");
	}
}

/* weft report --waits: the heaviest edges of the wait-for graph, then its
 * knots, one line each */
static void print_waits(FILE *out, const struct waitfor *waits)
{
	const struct waitfor_edge *e;
	const struct waitfor_knot *k;
	unsigned int i, j, n, nk;
	char d1[32], who[48], holder[48], comm[WEFT_COMM_LEN + 1], lock[64];

	e = waitfor__edges(waits, &n);
	fprintf(out,
		"\nwait-for graph (waiter -> holder, by time waited while it held; "
		"%u edge%s):\n",
		n, n == 1 ? "" : "s");
	if (!n) {
		fprintf(out, "  no thread of the tree waited\n");
		return;
	}
	fprintf(out, "%-20s %-20s %-20s %9s %6s\n", "WAITER", "HOLDER", "LOCK", "WAITED", "WAITS");
	for (i = 0; i < n && i < OUTPUT_EDGES_SHOWN; i++) {
		output_sanitize(comm, sizeof(comm), e[i].waiter_comm);
		snprintf(who, sizeof(who), "%s-%u", comm, e[i].waiter_tid);
		output_sanitize(comm, sizeof(comm), e[i].holder_comm);
		if (e[i].holder_tid)
			snprintf(holder, sizeof(holder), "%s-%u", comm, e[i].holder_tid);
		else
			snprintf(holder, sizeof(holder), "[%s]", comm);
		output_sanitize(lock, sizeof(lock), e[i].has_lock ? e[i].lock : "-");
		fprintf(out, "%-20.20s %-20.20s %-20.20s %9s %6llu\n", who, holder, lock,
			output_fmt_duration(d1, sizeof(d1), e[i].wait_ns / 1e9),
			(unsigned long long)e[i].waits);
	}
	if (n > OUTPUT_EDGES_SHOWN)
		fprintf(out, "  ... %u more (weft report --format json lists them all)\n",
			n - OUTPUT_EDGES_SHOWN);
	k = waitfor__knots(waits, &nk);
	if (!nk) {
		fprintf(out, "knots: none (no threads waited on each other in a cycle)\n");
		return;
	}
	fprintf(out, "knots (threads that wait on each other, heaviest first):\n");
	for (i = 0; i < nk && i < OUTPUT_LOCKS_SHOWN; i++) {
		fprintf(out, "  threads ");
		for (j = 0; j < k[i].nr_threads; j++) {
			if (j == 6) {
				fprintf(out, ", ... (%u in all)", k[i].nr_threads);
				break;
			}
			output_sanitize(comm, sizeof(comm), k[i].threads[j].comm);
			fprintf(out, "%s%s-%u", j ? ", " : "", comm, k[i].threads[j].tid);
		}
		output_sanitize(lock, sizeof(lock), k[i].lock);
		fprintf(out, " wait on each other%s%s: %.0f%% of their time (%s)\n",
			lock[0] ? " through lock " : "", lock, 100 * k[i].share,
			output_fmt_duration(d1, sizeof(d1), k[i].wait_ns / 1e9));
	}
}

static void print_locks(FILE *out, const struct weft_metrics *m, const struct stack_summary *s,
			const struct waitfor *waits)
{
	char name[64], d1[32], d2[32];
	bool stacks = s && stack_summary__has_locks(s);
	unsigned int i;

	if (!m->nr_locks)
		return;
	fprintf(out, "\nlocks (by total wait; %u in all%s):\n", m->nr_locks,
		stacks ? "; each with its top user stacks, leaf first" : "");
	fprintf(out, "%-24s %-10s %7s %9s %9s %4s %8s\n", "NAME", "KIND", "WAITS", "TOTAL", "MAX",
		"THR", "HANDOFFS");
	for (i = 0; i < m->nr_locks && i < OUTPUT_LOCKS_SHOWN; i++) {
		const struct weft_lock_metrics *l = &m->locks[i];
		const struct stack_lock *sl = stacks ? stack_summary__lock(s, i) : NULL;

		if (l->name[0])
			output_sanitize(name, sizeof(name), l->name);
		else
			snprintf(name, sizeof(name), "0x%llx", (unsigned long long)l->addr);
		fprintf(out, "%-24.24s %-10s %7llu %9s %9s %4u %8llu\n", name, l->kind,
			(unsigned long long)l->waits,
			output_fmt_duration(d1, sizeof(d1), l->total_s),
			output_fmt_duration(d2, sizeof(d2), l->max_s), l->threads,
			(unsigned long long)l->handoffs);
		if (sl)
			print_lock_stacks(out, l, sl);
		if (waits)
			print_lock_holders(out, l, waits);
	}
}

static void print_summary(FILE *out, const struct weft_metrics *m, const struct output_opts *o,
			  const char *cmd)
{
	char d1[32], d2[32], d3[32], d4[32], p1[16], p2[16];
	double cpu_time = m->ncpu * m->wall_s;

	if (m->lost_events)
		fprintf(out, "WARNING: %llu events lost; figures are incomplete\n",
			(unsigned long long)m->lost_events);
	if (m->truncated)
		fprintf(out, "WARNING: recording truncated; figures cover only what it holds\n");
	if (m->unread_records || m->unread_sections) {
		char line[160];

		fprintf(out, "WARNING: %s\n", output_unread_line(line, sizeof(line), m));
	}
	field(out, "command", "%s", cmd);
	field(out, "wall", "%s (%s)", output_fmt_duration(d1, sizeof(d1), m->wall_s),
	      m->attach_mode ? "attached: recording start to stop" :
			       "first to last event of the tree");
	field(out, "on-CPU", "%s in %u thread%s, %u process%s",
	      output_fmt_duration(d1, sizeof(d1), m->on_cpu_s), m->nr_threads,
	      m->nr_threads == 1 ? "" : "s", m->nr_processes, m->nr_processes == 1 ? "" : "es");
	/* steal beside it: the host may have taken part of those cores */
	if (m->has_cpu_totals)
		field(out, "parallelism", "%.2f avg, %u max, of %u usable core%s (steal %s)",
		      m->parallelism.avg, m->parallelism.max, m->usable_cpus,
		      m->usable_cpus == 1 ? "" : "s",
		      pct(p1, sizeof(p1), cpu_time > 0 ? m->steal_s / cpu_time : 0));
	else
		field(out, "parallelism", "%.2f avg, %u max, of %u usable core%s",
		      m->parallelism.avg, m->parallelism.max, m->usable_cpus,
		      m->usable_cpus == 1 ? "" : "s");
	print_histogram(out, m);
	field(out, "concurrency", "%.2f avg, %u max (running + runnable)", m->concurrency.avg,
	      m->concurrency.max);
	field(out, "run-queue delay", "%llu waits, %s total; p50 %s, p99 %s, max %s",
	      (unsigned long long)m->runqueue_delay.count,
	      output_fmt_duration(d1, sizeof(d1), m->runqueue_delay.total_s),
	      output_fmt_duration(d2, sizeof(d2), m->runqueue_delay.p50_us / 1e6),
	      output_fmt_duration(d3, sizeof(d3), m->runqueue_delay.p99_us / 1e6),
	      output_fmt_duration(d4, sizeof(d4), m->runqueue_delay.max_us / 1e6));
	field(out, "", "behind the tree %s (%s), behind others %s (%s)",
	      output_fmt_duration(d1, sizeof(d1), m->runqueue_delay.by_tree_s),
	      pct(p1, sizeof(p1),
		  m->runqueue_delay.total_s > 0 ?
			  m->runqueue_delay.by_tree_s / m->runqueue_delay.total_s :
			  0),
	      output_fmt_duration(d2, sizeof(d2), m->runqueue_delay.by_others_s),
	      pct(p2, sizeof(p2),
		  m->runqueue_delay.total_s > 0 ?
			  m->runqueue_delay.by_others_s / m->runqueue_delay.total_s :
			  0));
	field(out, "wakeup latency", "%llu wakeups, p50 %s, p99 %s, max %s",
	      (unsigned long long)m->wakeup_latency.count,
	      output_fmt_duration(d1, sizeof(d1), m->wakeup_latency.p50_us / 1e6),
	      output_fmt_duration(d2, sizeof(d2), m->wakeup_latency.p99_us / 1e6),
	      output_fmt_duration(d3, sizeof(d3), m->wakeup_latency.max_us / 1e6));
	field(out, "interleaving", "%s interleaved (%s of wall), %llu handoffs, slice p50 %s",
	      output_fmt_duration(d1, sizeof(d1), m->interleaving.interleaved_s),
	      pct(p1, sizeof(p1), m->interleaving.interleaved_share),
	      (unsigned long long)m->interleaving.handoffs,
	      output_fmt_duration(d2, sizeof(d2), m->interleaving.slice_p50_us / 1e6));
	field(out, "switches", "%llu voluntary, %llu involuntary; %llu migrations",
	      (unsigned long long)m->switches.voluntary,
	      (unsigned long long)m->switches.involuntary, (unsigned long long)m->migrations);
	field(out, "blocked", "%s of thread time (%s of %s)", pct(p1, sizeof(p1), m->blocked_share),
	      output_fmt_duration(d1, sizeof(d1), m->blocked_s),
	      output_fmt_duration(d2, sizeof(d2), m->thread_time_s));
	print_off_cpu(out, "off-CPU", m->off_cpu_s, m->thread_time_s);
	field(out, "serialized",
	      "%s (%s of wall): one thread ran or was ready to, others waited on a lock",
	      output_fmt_duration(d1, sizeof(d1), m->serialized_s),
	      pct(p1, sizeof(p1), m->serialized_share));
	if (m->rusage.valid)
		field(out, "rusage", "user %s, sys %s, max RSS %ld kB",
		      output_fmt_duration(d1, sizeof(d1), m->rusage.user_s),
		      output_fmt_duration(d2, sizeof(d2), m->rusage.sys_s), m->rusage.maxrss_kb);
	if (m->has_cpu_totals)
		field(out, "steal", "%s (%s of the CPUs' time)",
		      output_fmt_duration(d1, sizeof(d1), m->steal_s),
		      pct(p1, sizeof(p1), cpu_time > 0 ? m->steal_s / cpu_time : 0));
	if (o->stacks) {
		char line[512];

		field(out, "stacks", "%s",
		      output_stacks_line(line, sizeof(line), stack_summary__capture(o->stacks)));
	}
	print_accounting(out, m);
	field(out, "verdict", "%s", m->verdict);
}

static int cmp_on_cpu_desc(const void *x, const void *y)
{
	const struct weft_thread_metrics *a = *(const struct weft_thread_metrics *const *)x;
	const struct weft_thread_metrics *b = *(const struct weft_thread_metrics *const *)y;

	if (a->on_cpu_s != b->on_cpu_s)
		return a->on_cpu_s < b->on_cpu_s ? 1 : -1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

/* "sleep 97%": the thread's off-CPU reason with the most time, as a
 * share of its off-CPU time */
static const char *top_reason(char *buf, size_t size, const double *off_cpu_s)
{
	unsigned int r, best = 0;
	double total = 0;

	for (r = 0; r < WEFT_OFF_CPU_REASONS; r++) {
		total += off_cpu_s[r];
		if (off_cpu_s[r] > off_cpu_s[best])
			best = r;
	}
	if (!(total > 0))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%s %.0f%%", weft_wait_reason__name(best),
			 100 * off_cpu_s[best] / total);
	return buf;
}

static int print_threads(FILE *out, const struct weft_metrics *m)
{
	const struct weft_thread_metrics **order;
	char comm[WEFT_COMM_LEN + 1], wait[32];
	unsigned int i;

	order = calloc(m->nr_threads ? m->nr_threads : 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (i = 0; i < m->nr_threads; i++)
		order[i] = &m->threads[i];
	qsort(order, m->nr_threads, sizeof(*order), cmp_on_cpu_desc);
	fprintf(out, "\nthreads (%u), by on-CPU time:\n", m->nr_threads);
	fprintf(out, "%7s %7s %-16s %9s %9s %10s %7s %7s\n", "TID", "PID", "COMM", "ON-CPU(s)",
		"RUNQ(s)", "BLOCKED(s)", "VOL", "INVOL");
	for (i = 0; i < m->nr_threads; i++) {
		const struct weft_thread_metrics *t = order[i];

		output_sanitize(comm, sizeof(comm), t->comm);
		fprintf(out, "%7u %7u %-16s %9.3f %9.3f %10.3f %7llu %7llu\n", t->tid, t->pid, comm,
			t->on_cpu_s, t->runqueue_s, t->blocked_s, (unsigned long long)t->voluntary,
			(unsigned long long)t->involuntary);
	}
	free(order);

	fprintf(out, "\nprocesses (%u):\n", m->nr_processes);
	fprintf(out, "%7s %7s %-16s %7s %10s  %s\n", "PID", "PPID", "COMM", "THREADS", "ON-CPU(s)",
		"TOP OFF-CPU REASON");
	for (i = 0; i < m->nr_processes; i++) {
		const struct weft_process_metrics *p = &m->processes[i];

		output_sanitize(comm, sizeof(comm), p->comm);
		fprintf(out, "%7u %7u %-16s %7u %10.3f  %s\n", p->pid, p->ppid, comm, p->threads,
			p->on_cpu_s, top_reason(wait, sizeof(wait), p->off_cpu_s));
	}
	return 0;
}

static void print_process_stacks(FILE *out, const struct weft_process_metrics *pm,
				 const struct stack_process *p)
{
	char comm[WEFT_COMM_LEN + 1], d1[32], stack[1024];
	char name[OUTPUT_TEXT_COLUMNS - FUNCTION_COLUMN + 1];
	unsigned int i;

	output_sanitize(comm, sizeof(comm), pm->comm);
	fprintf(out, "\n%s (pid %u): %llu sample%s, %s blocked\n", comm, pm->pid,
		(unsigned long long)p->samples, p->samples == 1 ? "" : "s",
		output_fmt_duration(d1, sizeof(d1), p->blocked_us / 1e6));
	if (p->nr_functions)
		fprintf(out, "  %6s %6s   %s\n", "SELF", "TOTAL", "ON-CPU FUNCTION");
	for (i = 0; i < p->nr_functions; i++) {
		const struct stack_function *f = &p->functions[i];

		output_sanitize(name, sizeof(name), f->name);
		fprintf(out, "  %5.1f%% %5.1f%%   %s\n", 100.0 * f->self_samples / p->samples,
			100.0 * f->total_samples / p->samples, name);
	}
	if (p->nr_blocked)
		fprintf(out, "  %6s %9s  %s\n", "SHARE", "TIME", "OFF-CPU STACK, LEAF FIRST");
	for (i = 0; i < p->nr_blocked; i++) {
		const struct stack_blocked *b = &p->blocked[i];

		output_sanitize(stack, sizeof(stack),
				stack_blocked__short(b, stack, sizeof(stack)));
		fprintf(out, "  %5.1f%% %9s  ", 100.0 * b->us / p->blocked_us,
			output_fmt_duration(d1, sizeof(d1), b->us / 1e6));
		print_stack_wrapped(out, stack);
	}
}

/* Per process, in the processes table's order; processes with neither
 * samples nor blocked time are left out. */
static void print_stacks(FILE *out, const struct weft_metrics *m, const struct stack_summary *s)
{
	unsigned int i;

	if (!s || !stack_summary__has_processes(s))
		return;
	fprintf(out, "\ntop on-CPU functions (shares of the process's samples) and off-CPU "
		     "stacks\n(shares of its blocked time), per process:\n");
	for (i = 0; i < m->nr_processes; i++) {
		const struct stack_process *p = stack_summary__process(s, m->processes[i].pid);

		if (p && (p->samples || p->blocked_us))
			print_process_stacks(out, &m->processes[i], p);
	}
}

static void print_cpus(FILE *out, const struct weft_metrics *m)
{
	unsigned int i;

	fprintf(out, "\ncpus (shares of each CPU's time):\n");
	fprintf(out, "%4s %7s %7s %7s %7s %9s %8s %8s %10s\n", "CPU", "TRACED", "OTHER", "IDLE",
		"THREADS", "HANDOFFS", "MIG-IN", "MIG-OUT", "ON-CPU(s)");
	for (i = 0; i < m->ncpu; i++) {
		const struct weft_cpu_metrics *c = &m->cpus[i];
		char other[16], idle[16];

		if (c->has_totals) {
			snprintf(other, sizeof(other), "%.1f%%", 100 * c->other);
			snprintf(idle, sizeof(idle), "%.1f%%", 100 * c->idle);
		} else {
			snprintf(other, sizeof(other), "-");
			snprintf(idle, sizeof(idle), "-");
		}
		fprintf(out, "%4u %6.1f%% %7s %7s %7u %9llu %8llu %8llu %10.3f\n", c->cpu,
			100 * c->traced, other, idle, c->threads, (unsigned long long)c->handoffs,
			(unsigned long long)c->migrations_in, (unsigned long long)c->migrations_out,
			c->on_cpu_s);
	}
}

int output_text(FILE *out, const struct weft_metrics *m, const struct output_opts *o)
{
	char *cmd = output_command_line(m);
	int err = 0;

	if (!cmd)
		return -ENOMEM;
	print_summary(out, m, o ? o : &(struct output_opts){}, cmd);
	free(cmd);
	print_locks(out, m, o ? o->stacks : NULL, o ? o->waits : NULL);
	if (o && o->waits)
		print_end_cycles(out, o->waits);
	if (o && o->wait_edges && o->waits)
		print_waits(out, o->waits);
	if (o && o->critical) {
		fputc('\n', out);
		err = critical__write_text(o->critical, out, CRITICAL_BY_THREAD, NULL);
	}
	if (o && o->threads)
		err = print_threads(out, m);
	if (!err && o && o->threads)
		print_stacks(out, m, o->stacks);
	if (!err && o && o->cpus)
		print_cpus(out, m);
	if (!err && ferror(out))
		err = -EIO;
	return err;
}
