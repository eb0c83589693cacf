// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The markdown report, for an issue or a pull request: the summary as a
 * two-column table with the verdict last, the parallelism histogram as a
 * table, the locks with their top stacks, and the thread, process and CPU
 * tables on request. Cells are
 * escaped, so a thread named "a|b" cannot break a table. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "critical.h"
#include "output.h"
#include "stack_summary.h"
#include "waitfor.h"

/* CommonMark lets a backslash escape any ASCII punctuation; these are the
 * ones that could start markup or end a cell. */
static void md_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c == 0x7f)
			fputc('?', out);
		else if (strchr("\\`*_[]<>|~", c))
			fprintf(out, "\\%c", c);
		else
			fputc(c, out);
	}
}

static void row(FILE *out, const char *name, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fputs("| ", out);
	md_text(out, name);
	fputs(" | ", out);
	md_text(out, text);
	fputs(" |\n", out);
}

static void summary(FILE *out, const struct weft_metrics *m, const struct output_opts *o,
		    const char *cmd)
{
	const struct weft_accounting *a = &m->accounting;
	char d1[32], d2[32], d3[32], d4[32];
	double cpu_time = m->ncpu * m->wall_s;

	fprintf(out, "| metric | value |\n| --- | --- |\n");
	row(out, "command", "%s", cmd);
	row(out, "wall", "%s (%s)", output_fmt_duration(d1, sizeof(d1), m->wall_s),
	    m->attach_mode ? "attached: recording start to stop" :
			     "first to last event of the tree");
	row(out, "on-CPU", "%s in %u thread%s, %u process%s",
	    output_fmt_duration(d1, sizeof(d1), m->on_cpu_s), m->nr_threads,
	    m->nr_threads == 1 ? "" : "s", m->nr_processes, m->nr_processes == 1 ? "" : "es");
	row(out, "parallelism", "%.2f avg, %u max, of %u usable cores", m->parallelism.avg,
	    m->parallelism.max, m->usable_cpus);
	row(out, "concurrency", "%.2f avg, %u max", m->concurrency.avg, m->concurrency.max);
	row(out, "run-queue delay", "%llu waits, %s total; p50 %s, p99 %s, max %s",
	    (unsigned long long)m->runqueue_delay.count,
	    output_fmt_duration(d1, sizeof(d1), m->runqueue_delay.total_s),
	    output_fmt_duration(d2, sizeof(d2), m->runqueue_delay.p50_us / 1e6),
	    output_fmt_duration(d3, sizeof(d3), m->runqueue_delay.p99_us / 1e6),
	    output_fmt_duration(d4, sizeof(d4), m->runqueue_delay.max_us / 1e6));
	row(out, "run-queue delay, behind", "the tree %s (%.1f%%), others %s (%.1f%%)",
	    output_fmt_duration(d1, sizeof(d1), m->runqueue_delay.by_tree_s),
	    100 * output_share(m->runqueue_delay.by_tree_s, m->runqueue_delay.total_s),
	    output_fmt_duration(d2, sizeof(d2), m->runqueue_delay.by_others_s),
	    100 * output_share(m->runqueue_delay.by_others_s, m->runqueue_delay.total_s));
	row(out, "wakeup latency", "%llu wakeups, p50 %s, p99 %s, max %s",
	    (unsigned long long)m->wakeup_latency.count,
	    output_fmt_duration(d1, sizeof(d1), m->wakeup_latency.p50_us / 1e6),
	    output_fmt_duration(d2, sizeof(d2), m->wakeup_latency.p99_us / 1e6),
	    output_fmt_duration(d3, sizeof(d3), m->wakeup_latency.max_us / 1e6));
	row(out, "interleaving", "%s (%.1f%% of wall), %llu handoffs, slice p50 %s",
	    output_fmt_duration(d1, sizeof(d1), m->interleaving.interleaved_s),
	    100 * m->interleaving.interleaved_share, (unsigned long long)m->interleaving.handoffs,
	    output_fmt_duration(d2, sizeof(d2), m->interleaving.slice_p50_us / 1e6));
	row(out, "switches", "%llu voluntary, %llu involuntary; %llu migrations",
	    (unsigned long long)m->switches.voluntary, (unsigned long long)m->switches.involuntary,
	    (unsigned long long)m->migrations);
	row(out, "blocked", "%.1f%% of thread time", 100 * m->blocked_share);
	if (m->rusage.valid)
		row(out, "rusage", "user %s, sys %s, max RSS %ld kB",
		    output_fmt_duration(d1, sizeof(d1), m->rusage.user_s),
		    output_fmt_duration(d2, sizeof(d2), m->rusage.sys_s), m->rusage.maxrss_kb);
	if (m->has_cpu_totals)
		row(out, "steal", "%s (%.1f%% of the CPUs' time)",
		    output_fmt_duration(d1, sizeof(d1), m->steal_s),
		    100 * output_share(m->steal_s, cpu_time));
	if (o && o->stacks) {
		char line[512];

		row(out, "stacks", "%s",
		    output_stacks_line(line, sizeof(line), stack_summary__capture(o->stacks)));
	}
	if (!a->threads_checked)
		row(out, "accounting", "no thread with the kernel's figures to compare");
	else
		row(out, "accounting",
		    "on-CPU within %.1f%% of the kernel's, run-queue within %.1f%% (%u threads)%s",
		    100 * a->on_cpu_err, 100 * a->runqueue_err, a->threads_checked,
		    a->on_cpu_warning || a->runqueue_warning || a->threads_warned ?
			    "; WARNING: past the tolerance" :
			    "");
	row(out, "verdict", "%s", m->verdict);
}

static void histogram(FILE *out, const struct weft_metrics *m)
{
	unsigned int r;

	fprintf(out, "\n### Parallelism\n\n| R | share of wall |\n| ---: | ---: |\n");
	for (r = 0; r < m->parallelism.histogram_len; r++)
		fprintf(out, "| %u | %.1f%% |\n", r, 100 * m->parallelism.histogram[r]);
}

static void lock_name(FILE *out, const struct weft_lock_metrics *l)
{
	if (l->name[0])
		md_text(out, l->name);
	else
		fprintf(out, "0x%llx", (unsigned long long)l->addr);
}

/* Each shown lock's top holders: who held it while others waited */
static void lock_holders(FILE *out, const struct weft_metrics *m, const struct waitfor *waits)
{
	struct waitfor_holder h[OUTPUT_HOLDERS_SHOWN];
	unsigned int i, k, n,
		shown = m->nr_locks < OUTPUT_LOCKS_SHOWN ? m->nr_locks : OUTPUT_LOCKS_SHOWN;
	char d1[32];
	bool header = false;

	for (i = 0; waits && i < shown; i++) {
		const struct weft_lock_metrics *l = &m->locks[i];

		n = waitfor__lock_holders(waits, l->pid, l->addr, h, OUTPUT_HOLDERS_SHOWN);
		for (k = 0; k < n; k++) {
			if (!header) {
				fprintf(out, "\n### Lock holders\n\nWho held each lock while "
					     "others waited for it.\n\n| lock | holder | tid | "
					     "others waited |\n| --- | --- | ---: | ---: |\n");
				header = true;
			}
			fputs("| ", out);
			lock_name(out, l);
			fputs(" | ", out);
			md_text(out, h[k].comm);
			fprintf(out, " | %u | %s |\n", h[k].tid,
				output_fmt_duration(d1, sizeof(d1), h[k].wait_ns / 1e9));
		}
	}
}

/* The locks table, then each lock's top user stacks (shares of its wait)
 * when the recording has stacks */
static void locks(FILE *out, const struct weft_metrics *m, const struct stack_summary *s)
{
	char d1[32], d2[32], stack[1024];
	unsigned int i, k,
		shown = m->nr_locks < OUTPUT_LOCKS_SHOWN ? m->nr_locks : OUTPUT_LOCKS_SHOWN;

	if (!m->nr_locks)
		return;
	fprintf(out,
		"\n### Locks\n\nBy total wait; %u in all.\n\n| lock | kind | waits | total | max "
		"| threads | handoffs |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
		m->nr_locks);
	for (i = 0; i < shown; i++) {
		const struct weft_lock_metrics *l = &m->locks[i];

		fputs("| ", out);
		lock_name(out, l);
		fputs(" | ", out);
		md_text(out, l->kind);
		fprintf(out, " | %llu | %s | %s | %u | %llu |\n", (unsigned long long)l->waits,
			output_fmt_duration(d1, sizeof(d1), l->total_s),
			output_fmt_duration(d2, sizeof(d2), l->max_s), l->threads,
			(unsigned long long)l->handoffs);
	}
	if (!s || !stack_summary__has_locks(s))
		return;
	fprintf(out, "\n### Top lock stacks\n\n| lock | share | waited | user stack, leaf first "
		     "|\n| --- | ---: | ---: | --- |\n");
	for (i = 0; i < shown; i++) {
		const struct weft_lock_metrics *l = &m->locks[i];
		const struct stack_lock *sl = stack_summary__lock(s, i);

		for (k = 0; sl && k < sl->nr_stacks; k++) {
			const struct stack_waiter *w = &sl->stacks[k];
			double p = l->total_s > 0 ? 100 * w->ns / 1e9 / l->total_s : 0;

			fputs("| ", out);
			lock_name(out, l);
			if (p > 0 && p < 0.5)
				fputs(" | \\<1% | ", out);
			else
				fprintf(out, " | %.0f%% | ", p);
			fprintf(out, "%s | ", output_fmt_duration(d1, sizeof(d1), w->ns / 1e9));
			md_text(out, stack_waiter__short(w, stack, sizeof(stack)));
			fputs(" |\n", out);
		}
	}
}

static void threads(FILE *out, const struct weft_metrics *m)
{
	unsigned int i;

	fprintf(out,
		"\n### Threads\n\n| tid | pid | comm | on-CPU (s) | run queue (s) | blocked (s) "
		"| voluntary | involuntary |\n"
		"| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (i = 0; i < m->nr_threads; i++) {
		const struct weft_thread_metrics *t = &m->threads[i];

		fprintf(out, "| %u | %u | ", t->tid, t->pid);
		md_text(out, t->comm);
		fprintf(out, " | %.3f | %.3f | %.3f | %llu | %llu |\n", t->on_cpu_s, t->runqueue_s,
			t->blocked_s, (unsigned long long)t->voluntary,
			(unsigned long long)t->involuntary);
	}
	fprintf(out, "\n### Processes\n\n| pid | ppid | comm | threads | on-CPU (s) |\n"
		     "| ---: | ---: | --- | ---: | ---: |\n");
	for (i = 0; i < m->nr_processes; i++) {
		const struct weft_process_metrics *p = &m->processes[i];

		fprintf(out, "| %u | %u | ", p->pid, p->ppid);
		md_text(out, p->comm);
		fprintf(out, " | %u | %.3f |\n", p->threads, p->on_cpu_s);
	}
}

/* Two tables, every process's rows together, in the processes table's
 * order */
static void stacks(FILE *out, const struct weft_metrics *m, const struct stack_summary *s)
{
	char d1[32], stack[1024];
	unsigned int i, k;

	if (!s || !stack_summary__has_processes(s))
		return;
	fprintf(out, "\n### Top on-CPU functions\n\n| pid | comm | function | self | total | "
		     "samples |\n| ---: | --- | --- | ---: | ---: | ---: |\n");
	for (i = 0; i < m->nr_processes; i++) {
		const struct weft_process_metrics *pm = &m->processes[i];
		const struct stack_process *p = stack_summary__process(s, pm->pid);

		for (k = 0; p && k < p->nr_functions; k++) {
			fprintf(out, "| %u | ", pm->pid);
			md_text(out, pm->comm);
			fputs(" | ", out);
			md_text(out, p->functions[k].name);
			fprintf(out, " | %.1f%% | %.1f%% | %llu |\n",
				100 * output_share(p->functions[k].self_samples, p->samples),
				100 * output_share(p->functions[k].total_samples, p->samples),
				(unsigned long long)p->functions[k].self_samples);
		}
	}
	fprintf(out, "\n### Top off-CPU stacks\n\n| pid | comm | share | blocked | stack, leaf "
		     "first |\n| ---: | --- | ---: | ---: | --- |\n");
	for (i = 0; i < m->nr_processes; i++) {
		const struct weft_process_metrics *pm = &m->processes[i];
		const struct stack_process *p = stack_summary__process(s, pm->pid);

		for (k = 0; p && k < p->nr_blocked; k++) {
			fprintf(out, "| %u | ", pm->pid);
			md_text(out, pm->comm);
			fprintf(out, " | %.1f%% | %s | ",
				100 * output_share(p->blocked[k].us, p->blocked_us),
				output_fmt_duration(d1, sizeof(d1), p->blocked[k].us / 1e6));
			md_text(out, stack_blocked__short(&p->blocked[k], stack, sizeof(stack)));
			fputs(" |\n", out);
		}
	}
}

static void cpus(FILE *out, const struct weft_metrics *m)
{
	unsigned int i;

	fprintf(out,
		"\n### CPUs\n\n| cpu | traced | other | idle | threads | handoffs | migrations in "
		"| migrations out |\n"
		"| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (i = 0; i < m->ncpu; i++) {
		const struct weft_cpu_metrics *c = &m->cpus[i];

		fprintf(out, "| %u | %.1f%% | ", c->cpu, 100 * c->traced);
		if (c->has_totals)
			fprintf(out, "%.1f%% | %.1f%% | ", 100 * c->other, 100 * c->idle);
		else
			fprintf(out, "? | ? | ");
		fprintf(out, "%u | %llu | %llu | %llu |\n", c->threads,
			(unsigned long long)c->handoffs, (unsigned long long)c->migrations_in,
			(unsigned long long)c->migrations_out);
	}
}

/* The critical path (weft report --critical): its threads, and the locks
 * it ran inside with their what-if bounds */
static void critical_path(FILE *out, const struct critical *c)
{
	const struct critical_thread *t = critical__by_thread(c, &(unsigned int){ 0 });
	const struct critical_state_ns *st = critical__by_state(c);
	const struct critical_lock *l;
	__u64 path = critical__path_ns(c);
	unsigned int n, i;
	char d[32], b[32];

	critical__by_thread(c, &n);
	fprintf(out, "\n### Critical path\n\n");
	fprintf(out, "%s, running %.0f%%, queued %.0f%%, waiting %.0f%%.\n\n",
		output_fmt_duration(d, sizeof(d), path / 1e9),
		100 * output_share(st->running, path),
		100 * output_share(st->runnable_tree + st->runnable_others, path),
		100 * output_share(st->sleep + st->io + st->lock + st->wait + st->other, path));
	fprintf(out, "| thread | tid | on path | share |\n| --- | ---: | ---: | ---: |\n");
	for (i = 0; i < n && i < OUTPUT_LOCKS_SHOWN; i++) {
		fprintf(out, "| ");
		md_text(out, t[i].comm);
		fprintf(out, " | %u | %s | %.1f%% |\n", t[i].tid,
			output_fmt_duration(d, sizeof(d), t[i].ns / 1e9), 100 * t[i].share);
	}
	l = critical__by_lock(c, &n);
	if (!n)
		return;
	fprintf(out, "\n| lock | inside, on path | what-if bound |\n| --- | ---: | ---: |\n");
	for (i = 0; i < n && i < OUTPUT_LOCKS_SHOWN; i++) {
		fprintf(out, "| ");
		md_text(out, l[i].name);
		fprintf(out, " | %s | %s |\n", output_fmt_duration(d, sizeof(d), l[i].ns / 1e9),
			output_fmt_duration(b, sizeof(b), l[i].bound_ns / 1e9));
	}
	fprintf(out, "\nWhat-if bound: the path's time in waits on the lock, the most the wall "
		     "could gain if it were never contended (an upper bound).\n");
}

int output_markdown(FILE *out, const struct weft_metrics *m, const struct output_opts *o)
{
	char *cmd = output_command_line(m);

	if (!cmd)
		return -ENOMEM;
	fprintf(out, "## weft report\n\n");
	if (m->lost_events)
		fprintf(out, "> **Warning:** %llu events lost; figures are incomplete.\n\n",
			(unsigned long long)m->lost_events);
	if (m->truncated)
		fprintf(out, "> **Warning:** recording truncated; figures cover only what it "
			     "holds.\n\n");
	if (m->unread_records || m->unread_sections) {
		char line[160];

		fprintf(out, "> **Warning:** %s.\n\n", output_unread_line(line, sizeof(line), m));
	}
	summary(out, m, o, cmd);
	free(cmd);
	histogram(out, m);
	locks(out, m, o ? o->stacks : NULL);
	lock_holders(out, m, o ? o->waits : NULL);
	if (o && o->critical)
		critical_path(out, o->critical);
	if (o && o->threads) {
		threads(out, m);
		stacks(out, m, o->stacks);
	}
	if (o && o->cpus)
		cpus(out, m);
	return ferror(out) ? -EIO : 0;
}
