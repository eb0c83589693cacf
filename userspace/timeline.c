// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft timeline's writer: the analysis's slices, the switch records and the
 * analysis's R and Q turned into Chrome trace events as they go by (see
 * timeline.h for the layout). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "events.h"
#include "json.h"
#include "recording_meta.h"
#include "timeline.h"
#include "u64set.h"
#include "waits.h"

#define NO_CPU 0xffffffffU
#define NR_STATES (WEFT_SLICE_UNKNOWN + 1)

static const char *const state_names[NR_STATES] = {
	[WEFT_SLICE_RUNNING] = "running", [WEFT_SLICE_RUNNABLE] = "runnable",
	[WEFT_SLICE_BLOCKED] = "blocked", [WEFT_SLICE_NEW] = "new",
	[WEFT_SLICE_UNKNOWN] = "unknown",
};

/* What a CPU ran between two switch records */
enum cpu_kind {
	CPU_TRACED,
	CPU_OTHER,
	CPU_IDLE,
	CPU_KINDS,
};

/* Pieces of one track, each shorter than min_ns, waiting to be written as
 * one "mixed" slice: contiguous, so end - start is the sum of ns[]. */
struct run {
	__u64 start, end;
	__u64 ns[NR_STATES];
	unsigned int n;
};

struct tl_thread {
	__u32 tid;
	char comm[WEFT_COMM_LEN];
	struct run run;
	struct weft_slice first; /* the run's piece when it has only one */
	/* A wakeup ended its last wait: the arrow is drawn when it next runs,
	 * so that its end lands on that running slice. */
	bool flow;
	__u64 flow_ts;
	__u32 waker_tid, waker_pid;
};

struct cpu_piece {
	enum cpu_kind kind;
	__u32 tid, pid;
	char name[WEFT_COMM_LEN + 16];
};

struct tl_cpu {
	bool seen;
	bool traced;
	__u32 tid, pid; /* on the CPU since `since`, as the last switch said */
	__u64 since;
	struct run run;
	struct cpu_piece first;
};

/* R and Q as steps; short steps are averaged over their run so that the
 * integrals of R and Q (the on-CPU and queued time) stay right. */
struct tl_counter {
	bool started;
	unsigned int r, q;
	__u64 since;
	__u64 start, end, r_ns, q_ns;
	unsigned int n, first_r, first_q;
	bool written;
	double last_r, last_q;
};

struct timeline {
	FILE *out;
	struct json_writer *w;
	struct timeline_opts o;
	struct weft_analysis *a;
	const struct weft_metrics *m;
	const struct analysis_opts *aopts; /* the recording's: command, lock names, bounds */

	bool window; /* the analysis's window: attach mode with both bounds */
	bool based;
	__u64 base; /* ts 0 of the file: the recording's first event */
	__u64 win_from, win_to; /* absolute, once based */
	__u64 last_ns; /* the latest kernel event */
	__u64 span_ns; /* after finish: from base to where the last slices end */
	__u64 slice_end_max;
	bool past_end;
	bool finished;
	const struct weft_event_header *cur; /* the event being fed */

	struct tl_thread *threads;
	size_t nr_threads, cap_threads;
	struct u64_set tids; /* tid -> index in threads */
	struct u64_set pairs; /* (pid << 32 | tid) of the events written */
	struct tl_cpu *cpus;
	unsigned int ncpu;
	struct tl_counter counter;
	__u64 next_flow_id;

	struct timeline_stats stats;
	int err;
};

static bool is_recorder_record(unsigned int type)
{
	return type == WEFT_EV_TASK_STATE || type == WEFT_EV_TASK_ACCT ||
	       type == WEFT_EV_CPU_TOTALS || type == WEFT_EV_CPU_TICK;
}

/* ---- writing ---- */

/* Times are written in units of 1/1024 us, exactly (at most 10 decimals):
 * such numbers add exactly in IEEE doubles, so a viewer's ts + dur of one
 * slice equals the next slice's ts and never passes it. From 3 decimals,
 * 2545.501 + 16.835 = 2562.3360000000002 > 2562.336: speedscope took that
 * for nesting, drew a staircase and logged a warning per slice. */
static __u64 quanta(__u64 ns)
{
	return (ns * 1024 + 500) / 1000;
}

static void put_quanta(struct timeline *tl, __u64 q)
{
	json_writer__fixed_1024(tl->w, q);
}

static void put_us(struct timeline *tl, __u64 ns)
{
	put_quanta(tl, quanta(ns));
}

static void key_us(struct timeline *tl, const char *key, __u64 ns)
{
	json_writer__key(tl->w, key);
	put_us(tl, ns);
}

static __u64 rel(const struct timeline *tl, __u64 ns);

/* A slice's dur as the difference of its rounded ends, so that ts + dur
 * lands exactly on the rounded end (the next slice's ts). */
static void key_dur(struct timeline *tl, __u64 start, __u64 end)
{
	json_writer__key(tl->w, "dur");
	put_quanta(tl, quanta(rel(tl, end)) - quanta(rel(tl, start)));
}

static __u64 rel(const struct timeline *tl, __u64 ns)
{
	return ns > tl->base ? ns - tl->base : 0;
}

/* Every event starts the same way; tid < 0 leaves it out (counters). A
 * newline before each event (the writer puts the comma after it) keeps
 * one event a line for grep and head, and is still JSON whitespace. */
static void ev_begin(struct timeline *tl, const char *ph, const char *name, __u32 pid,
		     long long tid, __u64 ts)
{
	fputc('\n', tl->out);
	json_writer__object_begin(tl->w);
	json_writer__string_field(tl->w, "ph", ph);
	if (name)
		json_writer__string_field(tl->w, "name", name);
	json_writer__uint_field(tl->w, "pid", pid);
	if (tid >= 0)
		json_writer__uint_field(tl->w, "tid", tid);
	key_us(tl, "ts", rel(tl, ts));
	tl->stats.events++;
}

static void note_pair(struct timeline *tl, __u32 pid, __u32 tid)
{
	bool added;

	if (!u64_set__slot(&tl->pairs, (__u64)pid << 32 | tid, &added))
		tl->err = -ENOMEM;
}

/* The part of [*start, *end) inside the window; false when none is. */
static bool clip(const struct timeline *tl, __u64 *start, __u64 *end)
{
	if (*start < tl->win_from)
		*start = tl->win_from;
	if (*end > tl->win_to)
		*end = tl->win_to;
	return *end > *start;
}

static bool in_window(const struct timeline *tl, __u64 t)
{
	return t >= tl->win_from && t <= tl->win_to;
}

/* ---- thread tracks ---- */

static struct tl_thread *thread_get(struct timeline *tl, __u32 tid)
{
	struct tl_thread *th;
	bool added;
	__u32 *slot = u64_set__slot(&tl->tids, (__u64)tid + 1, &added);

	if (!slot)
		return NULL;
	if (!added)
		return &tl->threads[*slot];
	if (tl->nr_threads == tl->cap_threads) {
		size_t cap = tl->cap_threads ? tl->cap_threads * 2 : 64;
		struct tl_thread *t = realloc(tl->threads, cap * sizeof(*t));

		if (!t)
			return NULL;
		tl->threads = t;
		tl->cap_threads = cap;
	}
	*slot = tl->nr_threads;
	th = &tl->threads[tl->nr_threads++];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	return th;
}

static const struct tl_thread *thread_find(const struct timeline *tl, __u32 tid)
{
	__u32 i;

	return u64_set__get(&tl->tids, (__u64)tid + 1, &i) ? &tl->threads[i] : NULL;
}

static void blocked_args(struct timeline *tl, const struct weft_slice *s)
{
	const char *sys = s->syscall_nr >= 0 ? weft_syscall_name(s->syscall_nr) : NULL;
	char addr[32];

	if (s->reason >= 0 && s->reason < WEFT_WAIT_NR)
		json_writer__string_field(tl->w, "reason", weft_wait_reason__name(s->reason));
	if (sys)
		json_writer__string_field(tl->w, "syscall", sys);
	else if (s->syscall_nr >= 0)
		json_writer__uint_field(tl->w, "syscall_nr", s->syscall_nr);
	if (s->addr) {
		const char *name =
			tl->aopts->lock_name ?
				tl->aopts->lock_name(tl->aopts->lock_name_ctx, s->pid, s->addr) :
				NULL;

		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)s->addr);
		json_writer__string_field(tl->w, "addr", addr);
		if (name)
			json_writer__string_field(tl->w, "lock", name);
	}
	if (s->waker_irq) {
		json_writer__string_field(tl->w, "waker", "interrupt");
	} else if (s->waker_tid) {
		json_writer__uint_field(tl->w, "waker_tid", s->waker_tid);
		json_writer__uint_field(tl->w, "waker_pid", s->waker_pid);
	}
}

/* One slice of a thread as the analysis gave it, cut to [start, end). */
static void emit_thread_slice(struct timeline *tl, const struct weft_slice *s, __u64 start,
			      __u64 end)
{
	struct json_writer *w = tl->w;
	__u64 dur = end - start, orig = s->end_ns - s->start_ns, tree;

	ev_begin(tl, "X", state_names[s->state], s->pid, s->tid, start);
	key_dur(tl, start, end);
	switch (s->state) {
	case WEFT_SLICE_RUNNING:
		json_writer__key(w, "args");
		json_writer__object_begin(w);
		json_writer__uint_field(tl->w, "cpu", s->cpu);
		json_writer__object_end(w);
		break;
	case WEFT_SLICE_RUNNABLE:
		/* a cut slice keeps the split's proportions */
		tree = s->tree_ns;
		if (dur < orig)
			tree = (__u64)((double)tree * dur / orig);
		if (tree > dur)
			tree = dur;
		json_writer__key(w, "args");
		json_writer__object_begin(w);
		if (s->cpu != NO_CPU)
			json_writer__uint_field(tl->w, "cpu", s->cpu);
		key_us(tl, "behind_tree_us", tree);
		key_us(tl, "behind_others_us", dur - tree);
		json_writer__object_end(w);
		break;
	case WEFT_SLICE_BLOCKED:
		json_writer__key(w, "args");
		json_writer__object_begin(w);
		blocked_args(tl, s);
		json_writer__object_end(w);
		break;
	default:
		break;
	}
	json_writer__object_end(w);
	note_pair(tl, s->pid, s->tid);
}

static void flush_thread(struct timeline *tl, struct tl_thread *th)
{
	struct run *r = &th->run;
	int i;

	if (!r->n)
		return;
	if (r->n == 1) {
		emit_thread_slice(tl, &th->first, r->start, r->end);
	} else {
		ev_begin(tl, "X", "mixed", th->first.pid, th->tid, r->start);
		key_dur(tl, r->start, r->end);
		json_writer__key(tl->w, "args");
		json_writer__object_begin(tl->w);
		for (i = 0; i < NR_STATES; i++) {
			char key[32];

			/* states it did not visit are left out: the file is
			 * mostly these slices when it is long */
			if (!r->ns[i])
				continue;
			snprintf(key, sizeof(key), "%s_us", state_names[i]);
			key_us(tl, key, r->ns[i]);
		}
		json_writer__uint_field(tl->w, "slices", r->n);
		json_writer__object_end(tl->w);
		json_writer__object_end(tl->w);
		note_pair(tl, th->first.pid, th->tid);
		tl->stats.mixed++;
		tl->stats.merged += r->n;
	}
	memset(r, 0, sizeof(*r));
}

/* A slice written as it is when it is long enough (or nothing merges);
 * else added to the thread's run, which is written once it spans min_ns. */
static void thread_piece(struct timeline *tl, struct tl_thread *th, const struct weft_slice *s)
{
	__u64 start = s->start_ns, end = s->end_ns, min = tl->o.min_ns;
	struct run *r = &th->run;

	if (!clip(tl, &start, &end))
		return;
	if (r->n && (end - start >= min || start != r->end || s->pid != th->first.pid))
		flush_thread(tl, th);
	if (end - start >= min) {
		emit_thread_slice(tl, s, start, end);
		return;
	}
	if (!r->n) {
		r->start = start;
		th->first = *s;
		th->first.comm = NULL; /* valid during the call only */
	}
	r->end = end;
	r->ns[s->state] += end - start;
	r->n++;
	if (r->end - r->start >= min)
		flush_thread(tl, th);
}

/* The arrow starts where the waker woke the thread: sched_waking's time,
 * in the waker's context, when the wakeup record being fed is the one that
 * ended this wait; else the end of the wait (the enqueue). */
static void note_wake(struct timeline *tl, struct tl_thread *th, const struct weft_slice *s)
{
	const struct weft_ev_wakeup *wk;
	__u64 ts = s->end_ns;

	if (!s->waker_tid || s->waker_irq)
		return;
	if (tl->o.min_ns && s->end_ns - s->start_ns < tl->o.min_ns)
		return;
	if (tl->cur && tl->cur->type == WEFT_EV_WAKEUP) {
		wk = (const struct weft_ev_wakeup *)tl->cur;
		if (wk->tid == s->tid && wk->waking_ts_ns >= s->start_ns &&
		    wk->waking_ts_ns <= s->end_ns)
			ts = wk->waking_ts_ns;
	}
	th->flow = true;
	th->flow_ts = ts;
	th->waker_tid = s->waker_tid;
	th->waker_pid = s->waker_pid;
}

/* The finish lands 1 ns into the running slice, not on its first
 * instant, where the runnable slice before it also ends: viewers bind it
 * to the slice that encloses it. */
static void draw_flow(struct timeline *tl, struct tl_thread *th, const struct weft_slice *s)
{
	__u64 f_ts = s->start_ns + (s->end_ns - s->start_ns > 1 ? 1 : 0), id;

	th->flow = false;
	if (!in_window(tl, th->flow_ts) || !in_window(tl, f_ts))
		return;
	id = ++tl->next_flow_id;
	ev_begin(tl, "s", "wakeup", th->waker_pid, th->waker_tid, th->flow_ts);
	json_writer__string_field(tl->w, "cat", "wakeup");
	json_writer__uint_field(tl->w, "id", id);
	json_writer__object_end(tl->w);
	ev_begin(tl, "f", "wakeup", s->pid, s->tid, f_ts);
	json_writer__string_field(tl->w, "cat", "wakeup");
	json_writer__uint_field(tl->w, "id", id);
	json_writer__string_field(tl->w, "bp", "e");
	json_writer__object_end(tl->w);
	note_pair(tl, th->waker_pid, th->waker_tid);
	note_pair(tl, s->pid, s->tid);
	tl->stats.flows++;
}

static void on_slice(void *ctx, const struct weft_slice *s)
{
	struct timeline *tl = ctx;
	struct tl_thread *th = thread_get(tl, s->tid);

	if (!th) {
		tl->err = -ENOMEM;
		return;
	}
	/* names change rarely and slices come by the million: a compare of
	 * fixed size is two loads, strncpy a call per slice (3% of a 10M-event
	 * timeline); the analysis' names are NUL-padded */
	if (s->comm && memcmp(th->comm, s->comm, sizeof(th->comm) - 1))
		strncpy(th->comm, s->comm, sizeof(th->comm) - 1);
	if (s->end_ns > tl->slice_end_max)
		tl->slice_end_max = s->end_ns;
	tl->stats.slices++;
	if (!tl->o.threads || s->state >= NR_STATES)
		return;
	if (s->state == WEFT_SLICE_RUNNING && th->flow)
		draw_flow(tl, th, s);
	else if (s->state != WEFT_SLICE_RUNNABLE)
		th->flow = false;
	if (s->state == WEFT_SLICE_BLOCKED)
		note_wake(tl, th, s);
	thread_piece(tl, th, s);
}

/* ---- CPU tracks ---- */

static void emit_cpu_piece(struct timeline *tl, unsigned int c, const struct cpu_piece *p,
			   __u64 start, __u64 end)
{
	ev_begin(tl, "X", p->name, TIMELINE_CPUS_PID, c + 1, start);
	key_dur(tl, start, end);
	if (p->kind != CPU_IDLE && p->tid) {
		json_writer__key(tl->w, "args");
		json_writer__object_begin(tl->w);
		json_writer__uint_field(tl->w, "tid", p->tid);
		json_writer__uint_field(tl->w, "pid", p->pid);
		json_writer__object_end(tl->w);
	}
	json_writer__object_end(tl->w);
}

static void flush_cpu(struct timeline *tl, unsigned int c)
{
	struct tl_cpu *cpu = &tl->cpus[c];
	struct run *r = &cpu->run;

	if (!r->n)
		return;
	if (r->n == 1) {
		emit_cpu_piece(tl, c, &cpu->first, r->start, r->end);
	} else {
		ev_begin(tl, "X", "mixed", TIMELINE_CPUS_PID, c + 1, r->start);
		key_dur(tl, r->start, r->end);
		json_writer__key(tl->w, "args");
		json_writer__object_begin(tl->w);
		if (r->ns[CPU_TRACED])
			key_us(tl, "traced_us", r->ns[CPU_TRACED]);
		if (r->ns[CPU_OTHER])
			key_us(tl, "other_us", r->ns[CPU_OTHER]);
		if (r->ns[CPU_IDLE])
			key_us(tl, "idle_us", r->ns[CPU_IDLE]);
		json_writer__uint_field(tl->w, "slices", r->n);
		json_writer__object_end(tl->w);
		json_writer__object_end(tl->w);
		tl->stats.mixed++;
		tl->stats.merged += r->n;
	}
	memset(r, 0, sizeof(*r));
}

/* "comm tid" into name (WEFT_COMM_LEN + 16 bytes), as snprintf's "%s %u"
 * would: a piece is named at every switch, and snprintf was a tenth of a
 * timeline's time */
static void name_tid(char *name, const char *comm, __u32 tid)
{
	size_t n = strnlen(comm, WEFT_COMM_LEN - 1);
	char digits[12], *d = digits + sizeof(digits);

	memcpy(name, comm, n);
	name[n++] = ' ';
	do {
		*--d = '0' + tid % 10;
		tid /= 10;
	} while (tid);
	memcpy(name + n, d, digits + sizeof(digits) - d);
	name[n + (digits + sizeof(digits) - d)] = '\0';
}

/* What ran on CPU c over [start, end), ended by a switch whose prev was
 * end_tid. Switches between two untraced tasks are not recorded, so an
 * untraced stretch is idle only when it began and ended with the idle
 * task; otherwise it is "other" (other tasks, perhaps idle between). */
static void cpu_piece(struct timeline *tl, unsigned int c, __u64 start, __u64 end, __u32 end_tid)
{
	struct tl_cpu *cpu = &tl->cpus[c];
	struct run *r = &cpu->run;
	struct cpu_piece p = { .tid = cpu->tid, .pid = cpu->pid };
	__u64 min = tl->o.min_ns;

	if (!clip(tl, &start, &end))
		return;
	if (cpu->traced) {
		const struct tl_thread *th = thread_find(tl, cpu->tid);

		p.kind = CPU_TRACED;
		name_tid(p.name, th && th->comm[0] ? th->comm : "tid", cpu->tid);
	} else if (!cpu->tid && !end_tid) {
		p.kind = CPU_IDLE;
		strcpy(p.name, "idle");
	} else {
		p.kind = CPU_OTHER;
		strcpy(p.name, "other");
	}
	tl->stats.cpu_slices++;
	if (r->n && (end - start >= min || start != r->end))
		flush_cpu(tl, c);
	if (end - start >= min) {
		emit_cpu_piece(tl, c, &p, start, end);
		return;
	}
	if (!r->n) {
		r->start = start;
		cpu->first = p;
	}
	r->end = end;
	r->ns[p.kind] += end - start;
	r->n++;
	if (r->end - r->start >= min)
		flush_cpu(tl, c);
}

static void on_switch(struct timeline *tl, const struct weft_ev_switch *e, __u64 t)
{
	unsigned int c = e->hdr.cpu;
	struct tl_cpu *cpu;

	if (c >= tl->ncpu)
		return;
	cpu = &tl->cpus[c];
	if (cpu->seen && t < cpu->since)
		t = cpu->since;
	if (cpu->seen)
		cpu_piece(tl, c, cpu->since, t, e->prev_tid);
	cpu->seen = true;
	cpu->tid = e->next_tid;
	cpu->pid = e->next_tgid;
	cpu->traced = e->hdr.flags & WEFT_SWITCH_NEXT_TRACED;
	cpu->since = t;
}

/* ---- counters ---- */

static void emit_counter(struct timeline *tl, __u64 ts, double r, double q)
{
	struct tl_counter *c = &tl->counter;

	if (c->written && r == c->last_r && q == c->last_q)
		return;
	c->written = true;
	c->last_r = r;
	c->last_q = q;
	ev_begin(tl, "C", "threads", TIMELINE_TREE_PID, -1, ts);
	json_writer__key(tl->w, "args");
	json_writer__object_begin(tl->w);
	json_writer__key(tl->w, "running");
	json_writer__fixed(tl->w, r, 3);
	json_writer__key(tl->w, "runnable");
	json_writer__fixed(tl->w, q, 3);
	json_writer__object_end(tl->w);
	json_writer__object_end(tl->w);
}

static void flush_counter(struct timeline *tl)
{
	struct tl_counter *c = &tl->counter;
	double span = c->end - c->start;

	if (!c->n)
		return;
	if (c->n == 1)
		emit_counter(tl, c->start, c->first_r, c->first_q);
	else
		emit_counter(tl, c->start, c->r_ns / span, c->q_ns / span);
	c->n = 0;
	c->r_ns = c->q_ns = 0;
}

static void counter_piece(struct timeline *tl, __u64 start, __u64 end, unsigned int r,
			  unsigned int q)
{
	struct tl_counter *c = &tl->counter;
	__u64 min = tl->o.min_ns;

	if (!clip(tl, &start, &end))
		return;
	if (c->n && (end - start >= min || start != c->end))
		flush_counter(tl);
	if (end - start >= min) {
		emit_counter(tl, start, r, q);
		return;
	}
	if (!c->n) {
		c->start = start;
		c->first_r = r;
		c->first_q = q;
	}
	c->end = end;
	c->r_ns += (__u64)r * (end - start);
	c->q_ns += (__u64)q * (end - start);
	c->n++;
	if (c->end - c->start >= min)
		flush_counter(tl);
}

static void counter_update(struct timeline *tl, __u64 t)
{
	struct tl_counter *c = &tl->counter;
	unsigned int r, q;

	weft_analysis__counts(tl->a, &r, &q);
	if (!c->started) {
		c->started = true;
		c->r = r;
		c->q = q;
		c->since = t;
		return;
	}
	if (r == c->r && q == c->q)
		return;
	if (t > c->since) {
		counter_piece(tl, c->since, t, c->r, c->q);
		c->since = t;
	}
	c->r = r;
	c->q = q;
}

/* ---- the file ---- */

struct timeline *timeline__new(FILE *out, const struct timeline_opts *o,
			       const struct analysis_opts *aopts)
{
	struct timeline *tl = calloc(1, sizeof(*tl));
	int err = -ENOMEM;

	if (!tl)
		return NULL;
	tl->out = out;
	tl->o = *o;
	tl->aopts = aopts;
	tl->window = aopts->attach_mode && aopts->end_ns > aopts->start_ns;
	tl->ncpu = aopts->ncpu ? aopts->ncpu : 1;
	tl->cpus = calloc(tl->ncpu, sizeof(*tl->cpus));
	tl->w = json_writer__new(out, 0);
	tl->a = weft_analysis__new(aopts);
	if (!tl->cpus || !tl->w || !tl->a) {
		err = -errno;
		goto err_out;
	}
	weft_analysis__set_slice_observer(tl->a, on_slice, tl);
	json_writer__object_begin(tl->w);
	json_writer__key(tl->w, "traceEvents");
	json_writer__array_begin(tl->w);
	return tl;
err_out:
	timeline__free(tl);
	errno = err ? -err : ENOMEM;
	return NULL;
}

void timeline__free(struct timeline *tl)
{
	if (!tl)
		return;
	weft_analysis__free(tl->a);
	json_writer__free(tl->w);
	u64_set__release(&tl->tids);
	u64_set__release(&tl->pairs);
	free(tl->threads);
	free(tl->cpus);
	free(tl);
}

static void set_base(struct timeline *tl, __u64 first_ns)
{
	tl->based = true;
	tl->base = tl->window ? tl->aopts->start_ns : first_ns;
	tl->win_from = tl->base + tl->o.from_ns;
	tl->win_to = tl->o.to_ns ? tl->base + tl->o.to_ns : UINT64_MAX;
	if (tl->window && tl->win_to > tl->aopts->end_ns)
		tl->win_to = tl->aopts->end_ns;
	tl->last_ns = tl->base;
}

int timeline__feed(struct timeline *tl, const struct weft_event_header *ev)
{
	__u64 t;
	int err;

	if (tl->err)
		return tl->err;
	if (tl->finished)
		return -EINVAL;
	if (!tl->based)
		set_base(tl, ev->ts_ns);
	tl->cur = ev;
	err = weft_analysis__feed(tl->a, ev);
	tl->cur = NULL;
	if (err)
		return err;
	if (tl->err)
		return tl->err;
	if (!is_recorder_record(ev->type) && ev->ts_ns > tl->last_ns)
		tl->last_ns = ev->ts_ns;
	t = tl->last_ns;
	if (tl->window && t > tl->aopts->end_ns)
		t = tl->aopts->end_ns;
	if (tl->o.cpus && ev->type == WEFT_EV_SWITCH)
		on_switch(tl, (const struct weft_ev_switch *)ev, t);
	counter_update(tl, t);
	if (t > tl->win_to)
		tl->past_end = true;
	/* unlocked: glibc locks the stream once a second thread has run */
	if (json_writer__error(tl->w) || ferror_unlocked(tl->out))
		tl->err = -EIO;
	return tl->err;
}

bool timeline__past_end(const struct timeline *tl)
{
	return tl->past_end;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void emit_meta(struct timeline *tl, const char *what, __u32 pid, long long tid,
		      const char *key, const char *name, long long sort)
{
	fputc('\n', tl->out);
	json_writer__object_begin(tl->w);
	json_writer__string_field(tl->w, "ph", "M");
	json_writer__string_field(tl->w, "name", what);
	json_writer__uint_field(tl->w, "pid", pid);
	if (tid >= 0)
		json_writer__uint_field(tl->w, "tid", tid);
	json_writer__uint_field(tl->w, "ts", 0);
	json_writer__key(tl->w, "args");
	json_writer__object_begin(tl->w);
	json_writer__key(tl->w, key);
	if (name)
		json_writer__string(tl->w, name);
	else
		json_writer__int(tl->w, sort);
	json_writer__object_end(tl->w);
	json_writer__object_end(tl->w);
	tl->stats.events++;
}

/* Names from the finished analysis (the latest: exec and renames change
 * them), for every process and thread an event was written for. */
static int write_names(struct timeline *tl)
{
	const struct weft_metrics *m = tl->m;
	struct u64_set by_tid = {}, by_pid = {};
	__u64 *keys = NULL;
	size_t n = 0, i;
	__u32 *slot, last_pid = 0;
	bool added, any_cpu = false;
	char name[64];
	int err = -ENOMEM;

	for (i = 0; i < m->nr_threads; i++) {
		if (!(slot = u64_set__slot(&by_tid, (__u64)m->threads[i].tid + 1, &added)))
			goto cleanup;
		*slot = i;
	}
	for (i = 0; i < m->nr_processes; i++) {
		if (!(slot = u64_set__slot(&by_pid, (__u64)m->processes[i].pid + 1, &added)))
			goto cleanup;
		*slot = i;
	}
	keys = malloc((tl->pairs.used + 1) * sizeof(*keys));
	if (!keys)
		goto cleanup;
	for (i = 0; tl->pairs.keys && i <= tl->pairs.mask; i++)
		if (tl->pairs.keys[i])
			keys[n++] = tl->pairs.keys[i];
	qsort(keys, n, sizeof(*keys), cmp_u64);
	for (i = 0; i < n; i++) {
		__u32 pid = keys[i] >> 32, tid = (__u32)keys[i];
		const struct tl_thread *th = thread_find(tl, tid);
		const char *tname = th && th->comm[0] ? th->comm : NULL, *pname = NULL;
		__u32 at;

		if (u64_set__get(&by_tid, (__u64)tid + 1, &at) && m->threads[at].comm[0])
			tname = m->threads[at].comm;
		if (i == 0 || pid != last_pid) {
			if (u64_set__get(&by_pid, (__u64)pid + 1, &at) && m->processes[at].comm[0])
				pname = m->processes[at].comm;
			if (!pname) {
				const struct tl_thread *leader = thread_find(tl, pid);

				pname = leader && leader->comm[0] ? leader->comm : tname;
			}
			if (!pname) {
				snprintf(name, sizeof(name), "pid %u", pid);
				pname = name;
			}
			emit_meta(tl, "process_name", pid, -1, "name", pname, 0);
			last_pid = pid;
		}
		if (!tname) {
			snprintf(name, sizeof(name), "tid %u", tid);
			tname = name;
		}
		emit_meta(tl, "thread_name", pid, tid, "name", tname, 0);
	}
	for (i = 0; i < tl->ncpu; i++) {
		if (!tl->cpus[i].seen)
			continue;
		if (!any_cpu) {
			emit_meta(tl, "process_name", TIMELINE_CPUS_PID, -1, "name", "CPUs", 0);
			/* before the processes, as in a system trace */
			emit_meta(tl, "process_sort_index", TIMELINE_CPUS_PID, -1, "sort_index",
				  NULL, -2);
			any_cpu = true;
		}
		snprintf(name, sizeof(name), "CPU %zu", i);
		emit_meta(tl, "thread_name", TIMELINE_CPUS_PID, i + 1, "name", name, 0);
		emit_meta(tl, "thread_sort_index", TIMELINE_CPUS_PID, i + 1, "sort_index", NULL, i);
	}
	if (tl->counter.written) {
		emit_meta(tl, "process_name", TIMELINE_TREE_PID, -1, "name", "traced tree", 0);
		emit_meta(tl, "process_sort_index", TIMELINE_TREE_PID, -1, "sort_index", NULL, -1);
	}
	err = 0;
cleanup:
	u64_set__release(&by_tid);
	u64_set__release(&by_pid);
	free(keys);
	return err;
}

static void write_other_data(struct timeline *tl)
{
	struct json_writer *w = tl->w;
	const struct weft_metrics *m = tl->m;
	unsigned int i;

	json_writer__key(w, "displayTimeUnit");
	json_writer__string(w, "ms");
	json_writer__key(w, "otherData");
	json_writer__object_begin(w);
	json_writer__string_field(tl->w, "tool", "weft " WEFT_VERSION);
	json_writer__key(w, "command");
	json_writer__array_begin_flat(w);
	for (i = 0; i < tl->aopts->command_len; i++)
		json_writer__string(w, tl->aopts->command[i] ? tl->aopts->command[i] : "");
	json_writer__array_end(w);
	json_writer__key(w, "min_us");
	json_writer__fixed(w, tl->o.min_ns / 1000.0, 3);
	json_writer__key(w, "from_s");
	json_writer__fixed(w, tl->o.from_ns / 1e9, 9);
	if (tl->o.to_ns) {
		json_writer__key(w, "to_s");
		json_writer__fixed(w, tl->o.to_ns / 1e9, 9);
	}
	json_writer__uint_field(tl->w, "base_ns", tl->base);
	json_writer__key(w, "truncated");
	json_writer__bool(w, tl->aopts->truncated);
	json_writer__uint_field(tl->w, "lost_events", m->lost_events);
	json_writer__uint_field(tl->w, "slices", tl->stats.slices);
	json_writer__uint_field(tl->w, "cpu_slices", tl->stats.cpu_slices);
	json_writer__uint_field(tl->w, "mixed", tl->stats.mixed);
	json_writer__uint_field(tl->w, "flows", tl->stats.flows);
	json_writer__object_end(w);
}

int timeline__finish(struct timeline *tl)
{
	struct tl_counter *c = &tl->counter;
	unsigned int i, r, q;
	__u64 end;
	size_t k;
	int err;

	if (tl->finished)
		return tl->err;
	tl->finished = true;
	if (tl->err)
		return tl->err;
	tl->m = weft_analysis__finish(tl->a);
	if (!tl->m)
		return tl->err = -errno;
	if (tl->err)
		return tl->err;
	/* where the analysis closed the last intervals */
	end = tl->window ? tl->aopts->end_ns : tl->last_ns;
	if (!tl->window && tl->slice_end_max > end)
		end = tl->slice_end_max;
	tl->span_ns = end > tl->base ? end - tl->base : 0;
	for (i = 0; tl->o.cpus && i < tl->ncpu; i++) {
		if (tl->cpus[i].seen && end > tl->cpus[i].since)
			cpu_piece(tl, i, tl->cpus[i].since, end, tl->cpus[i].tid);
		flush_cpu(tl, i);
	}
	for (k = 0; k < tl->nr_threads; k++)
		flush_thread(tl, &tl->threads[k]);
	if (c->started) {
		if (end > c->since)
			counter_piece(tl, c->since, end, c->r, c->q);
		flush_counter(tl);
		weft_analysis__counts(tl->a, &r, &q);
		if (end > tl->win_to)
			end = tl->win_to;
		if (in_window(tl, end))
			emit_counter(tl, end, r, q);
	}
	if (tl->err)
		return tl->err;
	err = write_names(tl);
	if (err)
		return tl->err = err;
	fputc('\n', tl->out);
	json_writer__array_end(tl->w);
	write_other_data(tl);
	json_writer__object_end(tl->w);
	err = json_writer__finish(tl->w);
	if (!err && ferror(tl->out))
		err = -EIO;
	return tl->err = err;
}

const struct weft_metrics *timeline__metrics(const struct timeline *tl)
{
	return tl->m;
}

__u64 timeline__span_ns(const struct timeline *tl)
{
	return tl->span_ns;
}

const struct timeline_stats *timeline__stats(const struct timeline *tl)
{
	return &tl->stats;
}
