// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSON report: DESIGN.md's stable keys, times in seconds, shares as
 * fractions, ids as integers. Keys are only ever added; a figure this
 * stage does not compute (serialized time, off-CPU reasons, locks) is left
 * out rather than written as a zero that would read as measured. */
#include <errno.h>
#include <string.h>

#include "critical.h"
#include "json.h"
#include "output.h"
#include "stack_summary.h"
#include "waitfor.h"
#include "waits.h"

static void key_us(struct json_writer *w, const char *key, double us)
{
	json_writer__fixed_field(w, key, us, JSON_US_DECIMALS);
}

static void write_cpus(struct json_writer *w, const struct weft_metrics *m)
{
	unsigned int i;

	json_writer__key(w, "cpus");
	json_writer__array_begin(w);
	for (i = 0; i < m->ncpu; i++) {
		const struct weft_cpu_metrics *c = &m->cpus[i];

		json_writer__object_begin(w);
		json_writer__uint_field(w, "cpu", c->cpu);
		json_writer__share_field(w, "traced", c->traced);
		/* without the recorder's totals only the traced share is known */
		json_writer__key(w, "other");
		if (c->has_totals)
			json_writer__fixed(w, c->other, JSON_SHARE_DECIMALS);
		else
			json_writer__null(w);
		json_writer__key(w, "idle");
		if (c->has_totals)
			json_writer__fixed(w, c->idle, JSON_SHARE_DECIMALS);
		else
			json_writer__null(w);
		json_writer__uint_field(w, "threads", c->threads);
		json_writer__uint_field(w, "handoffs", c->handoffs);
		json_writer__uint_field(w, "migrations_in", c->migrations_in);
		json_writer__uint_field(w, "migrations_out", c->migrations_out);
		json_writer__seconds_field(w, "on_cpu_s", c->on_cpu_s);
		json_writer__seconds_field(w, "steal_s", c->steal_s);
		json_writer__uint_field(w, "lost_events", c->lost_events);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
}

/* off_cpu {lock_s, wait_s, io_s, sleep_s, fault_s, runqueue_s, other_s} */
static void write_off_cpu(struct json_writer *w, const double *off_cpu_s)
{
	char key[32];
	unsigned int r;

	json_writer__key(w, "off_cpu");
	json_writer__object_begin(w);
	for (r = 0; r < WEFT_OFF_CPU_REASONS; r++) {
		snprintf(key, sizeof(key), "%s_s", weft_wait_reason__name(r));
		json_writer__seconds_field(w, key, off_cpu_s[r]);
	}
	json_writer__object_end(w);
}

/* top_stacks [{frames (user frames, leaf first), us, share (of the
 * lock's total wait)}]: null when the recording has no stacks, [] when
 * the lock's waits took none */
static void write_lock_stacks(struct json_writer *w, const struct weft_lock_metrics *l,
			      const struct stack_lock *sl)
{
	unsigned int i, k;

	json_writer__key(w, "top_stacks");
	if (!sl) {
		json_writer__null(w);
		return;
	}
	json_writer__array_begin(w);
	for (i = 0; i < sl->nr_stacks; i++) {
		const struct stack_waiter *s = &sl->stacks[i];

		json_writer__object_begin(w);
		json_writer__key(w, "frames");
		json_writer__array_begin_flat(w);
		for (k = 0; k < s->nframes; k++)
			json_writer__string(w, s->frames[k]);
		json_writer__array_end(w);
		key_us(w, "us", s->ns / 1e3);
		json_writer__share_field(w, "share", l->total_s > 0 ? s->ns / 1e9 / l->total_s : 0);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
}

/* holders [{tid, comm, wait_s}]: the lock's top holders by the time
 * others waited while they held it (waitfor.h); null without the graph */
static void write_lock_holders(struct json_writer *w, const struct weft_lock_metrics *l,
			       const struct waitfor *waits)
{
	struct waitfor_holder h[OUTPUT_HOLDERS_SHOWN];
	unsigned int i, n;

	json_writer__key(w, "holders");
	if (!waits) {
		json_writer__null(w);
		return;
	}
	n = waitfor__lock_holders(waits, l->pid, l->addr, h, OUTPUT_HOLDERS_SHOWN);
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		json_writer__object_begin(w);
		json_writer__uint_field(w, "tid", h[i].tid);
		json_writer__string_field(w, "comm", h[i].comm);
		json_writer__seconds_field(w, "wait_s", h[i].wait_ns / 1e9);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
}

/* wait_for [{waiter_tid, waiter_comm, holder_tid, holder_comm, lock,
 * wait_s, waits}] by wait_s (DESIGN: Causality): a pseudo-node's
 * holder_tid is null and holder_comm its name; lock is null for a wait on
 * no address. knots [{threads [{tid, comm}], lock, wait_s, share}]. */
static void write_wait_for(struct json_writer *w, const struct waitfor *waits)
{
	const struct waitfor_edge *e;
	const struct waitfor_knot *k;
	unsigned int i, j, n;

	json_writer__key(w, "wait_for");
	e = waitfor__edges(waits, &n);
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		json_writer__object_begin(w);
		json_writer__uint_field(w, "waiter_tid", e[i].waiter_tid);
		json_writer__string_field(w, "waiter_comm", e[i].waiter_comm);
		json_writer__key(w, "holder_tid");
		if (e[i].holder_tid)
			json_writer__uint(w, e[i].holder_tid);
		else
			json_writer__null(w);
		json_writer__string_field(w, "holder_comm", e[i].holder_comm);
		json_writer__uint_field(w, "pid", e[i].pid);
		json_writer__key(w, "lock");
		if (e[i].has_lock)
			json_writer__string(w, e[i].lock);
		else
			json_writer__null(w);
		json_writer__seconds_field(w, "wait_s", e[i].wait_ns / 1e9);
		json_writer__uint_field(w, "waits", e[i].waits);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);

	json_writer__key(w, "knots");
	k = waitfor__knots(waits, &n);
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		json_writer__object_begin(w);
		json_writer__key(w, "threads");
		json_writer__array_begin(w);
		for (j = 0; j < k[i].nr_threads; j++) {
			json_writer__object_begin(w);
			json_writer__uint_field(w, "tid", k[i].threads[j].tid);
			json_writer__string_field(w, "comm", k[i].threads[j].comm);
			json_writer__object_end(w);
		}
		json_writer__array_end(w);
		json_writer__key(w, "lock");
		if (k[i].lock[0])
			json_writer__string(w, k[i].lock);
		else
			json_writer__null(w);
		json_writer__seconds_field(w, "wait_s", k[i].wait_ns / 1e9);
		json_writer__share_field(w, "share", k[i].share);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	json_writer__uint_field(w, "owned_waits", waitfor__owned_waits(waits));

	/* deadlocks_at_end [{threads [{tid, comm}], locks [names]}]: the
	 * cycles of lock waits the recording ended in, as weft stuck says */
	json_writer__key(w, "deadlocks_at_end");
	{
		const struct waitfor_end_cycle *c = waitfor__end_cycles(waits, &n);

		json_writer__array_begin(w);
		for (i = 0; i < n; i++) {
			json_writer__object_begin(w);
			json_writer__key(w, "threads");
			json_writer__array_begin(w);
			for (j = 0; j < c[i].nr_threads; j++) {
				json_writer__object_begin(w);
				json_writer__uint_field(w, "tid", c[i].threads[j].tid);
				json_writer__string_field(w, "comm", c[i].threads[j].comm);
				json_writer__object_end(w);
			}
			json_writer__array_end(w);
			json_writer__key(w, "locks");
			json_writer__array_begin(w);
			for (j = 0; j < c[i].nr_threads; j++)
				json_writer__string(w, c[i].locks[j]);
			json_writer__array_end(w);
			json_writer__object_end(w);
		}
		json_writer__array_end(w);
	}
}

static void write_locks(struct json_writer *w, const struct weft_metrics *m,
			const struct stack_summary *s, const struct waitfor *waits)
{
	bool stacks = s && stack_summary__has_locks(s);
	unsigned int i;
	char addr[32];

	json_writer__key(w, "locks");
	json_writer__array_begin(w);
	for (i = 0; i < m->nr_locks; i++) {
		const struct weft_lock_metrics *l = &m->locks[i];

		json_writer__object_begin(w);
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)l->addr);
		json_writer__string_field(w, "addr", addr);
		json_writer__string_field(w, "name", l->name);
		json_writer__string_field(w, "kind", l->kind);
		json_writer__uint_field(w, "pid", l->pid);
		json_writer__uint_field(w, "waits", l->waits);
		json_writer__seconds_field(w, "total_s", l->total_s);
		json_writer__seconds_field(w, "max_s", l->max_s);
		json_writer__uint_field(w, "threads", l->threads);
		json_writer__uint_field(w, "handoffs", l->handoffs);
		json_writer__bool_field(w, "turn_taking", l->turn_taking);
		json_writer__seconds_field(w, "serialized_s", l->serialized_s);
		write_lock_stacks(w, l, stacks ? stack_summary__lock(s, i) : NULL);
		write_lock_holders(w, l, waits);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
}

/* A setting the recording does not state is null: 0 would read as set */
static void key_setting(struct json_writer *w, const char *key, bool known, unsigned long long v)
{
	json_writer__key(w, key);
	if (known)
		json_writer__uint(w, v);
	else
		json_writer__null(w);
}

/* stacks {recorded, user_unwind, stack_every, sample_hz, stack_entries,
 * failures, user_stacks, user_stacks_cut_short, cut_short_offcpu_share} */
static void write_stacks(struct json_writer *w, const struct stack_summary *s)
{
	const struct stack_capture *c = stack_summary__capture(s);

	json_writer__key(w, "stacks");
	json_writer__object_begin(w);
	json_writer__bool_field(w, "recorded", c->recorded);
	json_writer__key(w, "user_unwind");
	if (c->user_unwind)
		json_writer__string(w, c->user_unwind);
	else
		json_writer__null(w);
	key_setting(w, "stack_every", c->stack_every, c->stack_every);
	key_setting(w, "stack_rate", c->stack_every, c->stack_rate);
	json_writer__bool_field(w, "stack_audit", c->stack_audit);
	key_setting(w, "sample_hz", c->sample_hz, c->sample_hz);
	key_setting(w, "stack_entries", c->stack_entries, c->stack_entries);
	key_setting(w, "failures", c->has_failures, c->failures);
	key_setting(w, "user_stacks", c->recorded, c->user_stacks);
	key_setting(w, "user_stacks_cut_short", c->recorded, c->user_stacks_cut_short);
	json_writer__key(w, "cut_short_offcpu_share");
	if (c->recorded && c->has_blocked && c->blocked_ns)
		json_writer__fixed(w, (double)c->cut_short_ns / c->blocked_ns, JSON_SHARE_DECIMALS);
	else
		json_writer__null(w);
	json_writer__object_end(w);
}

/* samples, offcpu_us (the process's total in the off-CPU flame graph),
 * top_oncpu_functions [{name, samples, share, total_samples,
 * total_share}], top_offcpu_stacks [{frames (leaf first), us, share}]:
 * all null when the recording has no stacks. */
static void write_process_stacks(struct json_writer *w, const struct stack_summary *s, __u32 pid)
{
	static const struct stack_process none;
	const struct stack_process *p = NULL;
	unsigned int i, k;

	if (s && stack_summary__has_processes(s)) {
		p = stack_summary__process(s, pid);
		if (!p)
			p = &none;
	}
	key_setting(w, "samples", p, p ? p->samples : 0);
	key_setting(w, "offcpu_us", p, p ? p->blocked_us : 0);
	json_writer__key(w, "top_oncpu_functions");
	if (!p) {
		json_writer__null(w);
	} else {
		json_writer__array_begin(w);
		for (i = 0; i < p->nr_functions; i++) {
			const struct stack_function *f = &p->functions[i];

			json_writer__object_begin(w);
			json_writer__string_field(w, "name", f->name);
			json_writer__uint_field(w, "samples", f->self_samples);
			json_writer__share_field(w, "share",
						 output_share(f->self_samples, p->samples));
			json_writer__uint_field(w, "total_samples", f->total_samples);
			json_writer__share_field(w, "total_share",
						 output_share(f->total_samples, p->samples));
			json_writer__object_end(w);
		}
		json_writer__array_end(w);
	}
	json_writer__key(w, "top_offcpu_stacks");
	if (!p) {
		json_writer__null(w);
		return;
	}
	json_writer__array_begin(w);
	for (i = 0; i < p->nr_blocked; i++) {
		const struct stack_blocked *b = &p->blocked[i];

		json_writer__object_begin(w);
		json_writer__key(w, "frames");
		json_writer__array_begin_flat(w);
		for (k = 0; k < b->nframes; k++)
			json_writer__string(w, b->frames[k]);
		json_writer__array_end(w);
		json_writer__uint_field(w, "us", b->us);
		json_writer__share_field(w, "share", output_share(b->us, p->blocked_us));
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
}

static void write_processes(struct json_writer *w, const struct weft_metrics *m,
			    const struct stack_summary *s)
{
	unsigned int i;

	json_writer__key(w, "processes");
	json_writer__array_begin(w);
	for (i = 0; i < m->nr_processes; i++) {
		const struct weft_process_metrics *p = &m->processes[i];

		json_writer__object_begin(w);
		json_writer__uint_field(w, "pid", p->pid);
		json_writer__string_field(w, "comm", p->comm);
		json_writer__uint_field(w, "threads", p->threads);
		json_writer__seconds_field(w, "on_cpu_s", p->on_cpu_s);
		json_writer__uint_field(w, "ppid", p->ppid);
		json_writer__uint_field(w, "maxrss_kb", p->maxrss_kb);
		write_off_cpu(w, p->off_cpu_s);
		write_process_stacks(w, s, p->pid);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
}

/* A thread's top Python functions (stack_summary.h), or nothing */
static void write_thread_python(struct json_writer *w, const struct stack_summary *s, __u32 tid)
{
	const struct stack_thread_python *tp = s ? stack_summary__thread_python(s, tid) : NULL;
	unsigned int k;

	if (!tp)
		return;
	json_writer__key(w, "python");
	json_writer__object_begin(w);
	json_writer__key(w, "oncpu");
	json_writer__array_begin(w);
	for (k = 0; k < tp->nr_oncpu; k++) {
		json_writer__object_begin(w);
		json_writer__string_field(w, "function", tp->oncpu[k].name);
		json_writer__uint_field(w, "samples", tp->oncpu[k].samples);
		json_writer__fixed_field(w, "share", (double)tp->oncpu[k].samples / tp->samples, 4);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	json_writer__key(w, "blocked");
	json_writer__array_begin(w);
	for (k = 0; k < tp->nr_blocked; k++) {
		json_writer__object_begin(w);
		json_writer__string_field(w, "function", tp->blocked[k].name);
		json_writer__seconds_field(w, "blocked_s", tp->blocked[k].ns / 1e9);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	json_writer__object_end(w);
}

static void write_threads(struct json_writer *w, const struct weft_metrics *m,
			  const struct stack_summary *s)
{
	unsigned int i;

	json_writer__key(w, "threads");
	json_writer__array_begin(w);
	for (i = 0; i < m->nr_threads; i++) {
		const struct weft_thread_metrics *t = &m->threads[i];

		json_writer__object_begin(w);
		json_writer__uint_field(w, "tid", t->tid);
		json_writer__uint_field(w, "pid", t->pid);
		json_writer__string_field(w, "comm", t->comm);
		json_writer__seconds_field(w, "on_cpu_s", t->on_cpu_s);
		json_writer__seconds_field(w, "runqueue_s", t->runqueue_s);
		json_writer__seconds_field(w, "blocked_s", t->blocked_s);
		json_writer__uint_field(w, "voluntary", t->voluntary);
		json_writer__uint_field(w, "involuntary", t->involuntary);
		json_writer__bool_field(w, "exited", t->exited);
		write_thread_python(w, s, t->tid);
		write_off_cpu(w, t->off_cpu_s);
		if (t->checked) {
			json_writer__key(w, "accounting");
			json_writer__object_begin(w);
			json_writer__seconds_field(w, "on_cpu_s", t->acct_on_cpu_s);
			json_writer__seconds_field(w, "kernel_on_cpu_s", t->kernel_on_cpu_s);
			json_writer__seconds_field(w, "runqueue_s", t->acct_runqueue_s);
			json_writer__seconds_field(w, "kernel_runqueue_s", t->kernel_runqueue_s);
			json_writer__bool_field(w, "warning", t->acct_warning);
			json_writer__object_end(w);
		}
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
}

static void write_accounting(struct json_writer *w, const struct weft_metrics *m)
{
	const struct weft_accounting *a = &m->accounting;

	json_writer__key(w, "accounting");
	json_writer__object_begin(w);
	/* an error relative to a kernel figure of zero is no number */
	json_writer__key(w, "on_cpu_err");
	if (a->threads_checked && a->on_cpu_err_valid)
		json_writer__fixed(w, a->on_cpu_err, JSON_SHARE_DECIMALS);
	else
		json_writer__null(w);
	json_writer__key(w, "runqueue_err");
	if (a->threads_checked && a->runqueue_err_valid)
		json_writer__fixed(w, a->runqueue_err, JSON_SHARE_DECIMALS);
	else
		json_writer__null(w);
	json_writer__uint_field(w, "threads_checked", a->threads_checked);
	json_writer__share_field(w, "tolerance", a->tolerance);
	json_writer__seconds_field(w, "on_cpu_s", a->on_cpu_s);
	json_writer__seconds_field(w, "kernel_on_cpu_s", a->kernel_on_cpu_s);
	json_writer__seconds_field(w, "runqueue_s", a->runqueue_s);
	json_writer__seconds_field(w, "kernel_runqueue_s", a->kernel_runqueue_s);
	json_writer__seconds_field(w, "kernel_clock_skip_s", a->kernel_clock_skip_s);
	json_writer__bool_field(w, "on_cpu_warning", a->on_cpu_warning);
	json_writer__bool_field(w, "runqueue_warning", a->runqueue_warning);
	json_writer__uint_field(w, "threads_warned", a->threads_warned);
	json_writer__object_end(w);
}

int output_json(FILE *out, const struct weft_metrics *m, const struct output_opts *o)
{
	struct json_writer *w = json_writer__new(out, JSON_WRITER_PRETTY);
	unsigned int i;
	int err;

	if (!w)
		return -ENOMEM;
	json_writer__object_begin(w);
	json_writer__string_field(w, "version", m->version);
	json_writer__key(w, "command");
	json_writer__array_begin_flat(w);
	for (i = 0; i < m->command_len; i++)
		json_writer__string(w, m->command[i]);
	json_writer__array_end(w);
	json_writer__uint_field(w, "ncpu", m->ncpu);
	json_writer__seconds_field(w, "wall_s", m->wall_s);
	json_writer__uint_field(w, "lost_events", m->lost_events);
	json_writer__bool_field(w, "truncated", m->truncated);
	json_writer__uint_field(w, "unread_records", m->unread_records);
	json_writer__uint_field(w, "unread_sections", m->unread_sections);
	json_writer__bool_field(w, "attach", m->attach_mode);
	json_writer__seconds_field(w, "on_cpu_s", m->on_cpu_s);

	json_writer__key(w, "parallelism");
	json_writer__object_begin(w);
	json_writer__share_field(w, "avg", m->parallelism.avg);
	json_writer__uint_field(w, "max", m->parallelism.max);
	json_writer__key(w, "histogram");
	json_writer__array_begin_flat(w);
	for (i = 0; i < m->parallelism.histogram_len; i++)
		json_writer__fixed(w, m->parallelism.histogram[i], JSON_SHARE_DECIMALS);
	json_writer__array_end(w);
	json_writer__object_end(w);

	json_writer__key(w, "concurrency");
	json_writer__object_begin(w);
	json_writer__share_field(w, "avg", m->concurrency.avg);
	json_writer__uint_field(w, "max", m->concurrency.max);
	json_writer__object_end(w);

	json_writer__key(w, "interleaving");
	json_writer__object_begin(w);
	json_writer__seconds_field(w, "interleaved_s", m->interleaving.interleaved_s);
	json_writer__share_field(w, "interleaved_share", m->interleaving.interleaved_share);
	json_writer__uint_field(w, "handoffs", m->interleaving.handoffs);
	json_writer__uint_field(w, "slices", m->interleaving.slices);
	key_us(w, "slice_p50_us", m->interleaving.slice_p50_us);
	json_writer__object_end(w);
	json_writer__share_field(w, "interleaved_share", m->interleaving.interleaved_share);
	json_writer__seconds_field(w, "serialized_s", m->serialized_s);
	json_writer__share_field(w, "serialized_share", m->serialized_share);
	write_off_cpu(w, m->off_cpu_s);
	write_locks(w, m, o ? o->stacks : NULL, o ? o->waits : NULL);

	json_writer__key(w, "runqueue_delay");
	json_writer__object_begin(w);
	json_writer__uint_field(w, "count", m->runqueue_delay.count);
	json_writer__seconds_field(w, "total_s", m->runqueue_delay.total_s);
	key_us(w, "p50_us", m->runqueue_delay.p50_us);
	key_us(w, "p99_us", m->runqueue_delay.p99_us);
	key_us(w, "max_us", m->runqueue_delay.max_us);
	json_writer__seconds_field(w, "by_tree_s", m->runqueue_delay.by_tree_s);
	json_writer__seconds_field(w, "by_others_s", m->runqueue_delay.by_others_s);
	json_writer__object_end(w);

	json_writer__key(w, "wakeup_latency");
	json_writer__object_begin(w);
	json_writer__uint_field(w, "count", m->wakeup_latency.count);
	json_writer__seconds_field(w, "total_s", m->wakeup_latency.total_s);
	key_us(w, "p50_us", m->wakeup_latency.p50_us);
	key_us(w, "p99_us", m->wakeup_latency.p99_us);
	key_us(w, "max_us", m->wakeup_latency.max_us);
	json_writer__object_end(w);
	json_writer__uint_field(w, "wakeups", m->wakeups);

	json_writer__uint_field(w, "usable_cpus", m->usable_cpus);
	json_writer__seconds_field(w, "steal_s", m->steal_s);
	write_accounting(w, m);
	if (o && o->stacks) {
		write_stacks(w, o->stacks);
	} else {
		json_writer__key(w, "stacks");
		json_writer__null(w);
	}

	json_writer__key(w, "switches");
	json_writer__object_begin(w);
	json_writer__uint_field(w, "voluntary", m->switches.voluntary);
	json_writer__uint_field(w, "involuntary", m->switches.involuntary);
	json_writer__object_end(w);
	json_writer__uint_field(w, "migrations", m->migrations);
	json_writer__seconds_field(w, "thread_time_s", m->thread_time_s);
	json_writer__share_field(w, "blocked_share", m->blocked_share);

	if (o && o->waits)
		write_wait_for(w, o->waits);
	if (o && o->critical) {
		json_writer__key(w, "critical_path");
		critical__write_json(o->critical, w, NULL, NULL);
	}

	write_cpus(w, m);
	write_processes(w, m, o ? o->stacks : NULL);
	write_threads(w, m, o ? o->stacks : NULL);

	json_writer__key(w, "rusage");
	if (m->rusage.valid) {
		json_writer__object_begin(w);
		json_writer__seconds_field(w, "user_s", m->rusage.user_s);
		json_writer__seconds_field(w, "sys_s", m->rusage.sys_s);
		json_writer__key(w, "maxrss_kb");
		json_writer__int(w, m->rusage.maxrss_kb);
		json_writer__object_end(w);
	} else {
		/* attach mode: the targets are not weft's children */
		json_writer__null(w);
	}
	json_writer__string_field(w, "verdict", m->verdict);
	json_writer__string_field(w, "verdict_kind", weft_verdict_kind__name(m->verdict_kind));
	json_writer__object_end(w);
	err = json_writer__finish(w);
	json_writer__free(w);
	return err;
}
