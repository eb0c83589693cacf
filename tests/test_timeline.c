// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft timeline on synthetic event streams. Every trace written is read
 * back by the strict JSON reader (json_check.h) and held to the
 * trace-event format's rules by check_trace(): complete events have ts,
 * dur, pid and tid; every flow start has one finish with its id; every
 * process and thread has a name; timestamps do not go back on a track.
 * Then the figures: each thread's slices tile its life, its running time
 * is the analysis's on-CPU time, merging keeps every total.
 * Conventions as in test_analysis.c: tids from 1000 up are traced, their
 * process is the tid rounded down to ten; 0 is idle. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

#include "analysis.h"
#include "events.h"
#include "json_check.h"
#include "timeline.h"

#define EVENT_TARGET struct timeline
#include "event_builders.h"

#define US 1000ULL
#define MS 1000000ULL
#define NR_FUTEX 202
#define FUTEX_WAIT_PRIVATE 128

static void feed(struct timeline *tl, const void *ev)
{
	assert_int_equal(timeline__feed(tl, ev), 0);
}

/* ---- reading a trace back ---- */

#define MAX_TRACKS 32
#define MAX_FLOWS 4096
#define NSTATES 5

static const char *const states[NSTATES] = { "running", "runnable", "blocked", "new", "unknown" };
static const char *const cpu_kinds[3] = { "traced", "other", "idle" };

struct track {
	__u32 pid, tid;
	bool named;
	char name[64];
	__u64 first_ns, end_ns;
	bool tiled; /* each slice began where the one before ended */
	unsigned int nx, mixed;
	__u64 ns[NSTATES]; /* thread tracks: per state */
	__u64 cpu_ns[3]; /* CPU tracks: traced, other, idle */
	__u64 named_ns; /* CPU tracks: in slices named after a thread */
};

struct flow {
	unsigned long long id;
	__u32 pid, tid;
	__u64 ts;
	int seen; /* 1 start, 2 finish, 3 both */
	__u32 f_pid, f_tid;
	__u64 f_ts;
};

struct trace {
	struct jv *doc;
	struct track tracks[MAX_TRACKS];
	unsigned int ntracks;
	struct flow flows[MAX_FLOWS];
	unsigned int nflows;
	__u32 pids[MAX_TRACKS];
	unsigned int npids;
	__u32 named_pids[MAX_TRACKS];
	char pid_names[MAX_TRACKS][64];
	unsigned int nnamed_pids;
	/* counters: integral of each series (value x ns), last ts */
	double r_int, q_int;
	__u64 c_last_ns;
	double c_r, c_q;
	unsigned int ncounters;
	size_t events;
};

static __u64 to_ns(double us)
{
	return (__u64)llround(us * 1000.0);
}

static const struct jv *need_num(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	if (!v || v->t != J_NUM || v->num < 0)
		fail_msg("event without a non-negative number \"%s\"", key);
	return v;
}

static __u32 need_id(const struct jv *o, const char *key)
{
	const struct jv *v = need_num(o, key);

	if (!v->integer)
		fail_msg("\"%s\" is not an integer", key);
	return (__u32)v->num;
}

static const char *need_str(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	if (!v || v->t != J_STR)
		fail_msg("event without a string \"%s\"", key);
	return v->s;
}

static double arg_num(const struct jv *ev, const char *key)
{
	const struct jv *args = jget(ev, "args"), *v = jget(args, key);

	if (!v)
		return 0;
	assert_int_equal(v->t, J_NUM);
	return v->num;
}

static struct track *track_of(struct trace *t, __u32 pid, __u32 tid)
{
	unsigned int i;

	for (i = 0; i < t->ntracks; i++)
		if (t->tracks[i].pid == pid && t->tracks[i].tid == tid)
			return &t->tracks[i];
	assert_true(t->ntracks < MAX_TRACKS);
	t->tracks[t->ntracks] = (struct track){ .pid = pid, .tid = tid, .tiled = true };
	return &t->tracks[t->ntracks++];
}

static void note_pid(struct trace *t, __u32 pid)
{
	unsigned int i;

	for (i = 0; i < t->npids; i++)
		if (t->pids[i] == pid)
			return;
	assert_true(t->npids < MAX_TRACKS);
	t->pids[t->npids++] = pid;
}

static struct flow *flow_of(struct trace *t, unsigned long long id)
{
	unsigned int i;

	for (i = 0; i < t->nflows; i++)
		if (t->flows[i].id == id)
			return &t->flows[i];
	assert_true(t->nflows < MAX_FLOWS);
	t->flows[t->nflows] = (struct flow){ .id = id };
	return &t->flows[t->nflows++];
}

static void check_x(struct trace *t, const struct jv *ev)
{
	const char *name = need_str(ev, "name");
	__u32 pid = need_id(ev, "pid"), tid = need_id(ev, "tid");
	__u64 ts = to_ns(need_num(ev, "ts")->num), dur = to_ns(need_num(ev, "dur")->num);
	struct track *tr = track_of(t, pid, tid);
	int i;

	note_pid(t, pid);
	if (tr->nx) {
		/* in order on its track, and never overlapping */
		if (ts < tr->end_ns)
			fail_msg("track %u/%u: slice at %llu ns before the end of the last (%llu)",
				 pid, tid, (unsigned long long)ts, (unsigned long long)tr->end_ns);
		if (ts != tr->end_ns)
			tr->tiled = false;
	} else {
		tr->first_ns = ts;
	}
	tr->end_ns = ts + dur;
	tr->nx++;
	if (pid == TIMELINE_CPUS_PID) {
		if (!strcmp(name, "mixed")) {
			tr->mixed++;
			for (i = 0; i < 3; i++) {
				char key[32];

				snprintf(key, sizeof(key), "%s_us", cpu_kinds[i]);
				tr->cpu_ns[i] += to_ns(arg_num(ev, key));
			}
		} else if (!strcmp(name, "idle")) {
			tr->cpu_ns[2] += dur;
		} else if (!strcmp(name, "other")) {
			tr->cpu_ns[1] += dur;
		} else {
			tr->cpu_ns[0] += dur;
			tr->named_ns += dur;
		}
		return;
	}
	if (!strcmp(name, "mixed")) {
		__u64 sum = 0;

		tr->mixed++;
		for (i = 0; i < NSTATES; i++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_us", states[i]);
			tr->ns[i] += to_ns(arg_num(ev, key));
			sum += to_ns(arg_num(ev, key));
		}
		/* a mixed slice's parts fill it (to rounding of each part) */
		assert_true(sum + NSTATES >= dur && sum <= dur + NSTATES);
		return;
	}
	for (i = 0; i < NSTATES; i++)
		if (!strcmp(name, states[i]))
			break;
	if (i == NSTATES)
		fail_msg("thread slice named \"%s\"", name);
	tr->ns[i] += dur;
}

static void check_c(struct trace *t, const struct jv *ev)
{
	__u32 pid = need_id(ev, "pid");
	__u64 ts = to_ns(need_num(ev, "ts")->num);

	assert_string_equal(need_str(ev, "name"), "threads");
	assert_int_equal(pid, TIMELINE_TREE_PID);
	note_pid(t, pid);
	if (t->ncounters) {
		if (ts < t->c_last_ns)
			fail_msg("counter goes back from %llu to %llu ns",
				 (unsigned long long)t->c_last_ns, (unsigned long long)ts);
		t->r_int += t->c_r * (ts - t->c_last_ns);
		t->q_int += t->c_q * (ts - t->c_last_ns);
	}
	t->c_last_ns = ts;
	t->c_r = arg_num(ev, "running");
	t->c_q = arg_num(ev, "runnable");
	t->ncounters++;
}

static void check_flow(struct trace *t, const struct jv *ev, bool start)
{
	struct flow *fl = flow_of(t, (unsigned long long)need_num(ev, "id")->num);
	__u32 pid = need_id(ev, "pid"), tid = need_id(ev, "tid");
	__u64 ts = to_ns(need_num(ev, "ts")->num);

	assert_string_equal(need_str(ev, "cat"), "wakeup");
	track_of(t, pid, tid);
	note_pid(t, pid);
	if (start) {
		assert_false(fl->seen & 1);
		fl->seen |= 1;
		fl->pid = pid;
		fl->tid = tid;
		fl->ts = ts;
	} else {
		assert_false(fl->seen & 2);
		assert_string_equal(need_str(ev, "bp"), "e");
		fl->seen |= 2;
		fl->f_pid = pid;
		fl->f_tid = tid;
		fl->f_ts = ts;
	}
}

static void check_m(struct trace *t, const struct jv *ev)
{
	const char *what = need_str(ev, "name");
	const struct jv *args = jget(ev, "args");
	__u32 pid = need_id(ev, "pid");

	assert_non_null(args);
	if (!strcmp(what, "process_name")) {
		assert_true(t->nnamed_pids < MAX_TRACKS);
		snprintf(t->pid_names[t->nnamed_pids], 64, "%s", need_str(args, "name"));
		t->named_pids[t->nnamed_pids++] = pid;
	} else if (!strcmp(what, "thread_name")) {
		struct track *tr = track_of(t, pid, need_id(ev, "tid"));

		assert_false(tr->named);
		tr->named = true;
		snprintf(tr->name, sizeof(tr->name), "%s", need_str(args, "name"));
	} else if (strcmp(what, "process_sort_index") && strcmp(what, "thread_sort_index")) {
		fail_msg("metadata event \"%s\"", what);
	}
}

/* The whole text as a trace: parses, and follows the format's rules. */
static void check_trace(struct trace *t, const char *text, size_t len)
{
	const struct jv *events;
	unsigned int i, j;

	memset(t, 0, sizeof(*t));
	t->doc = json_parse(text, len);
	if (!t->doc)
		fail_msg("the timeline is not JSON");
	assert_int_equal(t->doc->t, J_OBJ);
	events = jget(t->doc, "traceEvents");
	assert_non_null(events);
	assert_int_equal(events->t, J_ARR);
	t->events = events->n;
	for (i = 0; i < events->n; i++) {
		const struct jv *ev = events->items[i];
		const char *ph;

		assert_int_equal(ev->t, J_OBJ);
		ph = need_str(ev, "ph");
		if (!strcmp(ph, "X"))
			check_x(t, ev);
		else if (!strcmp(ph, "C"))
			check_c(t, ev);
		else if (!strcmp(ph, "s"))
			check_flow(t, ev, true);
		else if (!strcmp(ph, "f"))
			check_flow(t, ev, false);
		else if (!strcmp(ph, "M"))
			check_m(t, ev);
		else
			fail_msg("event with ph \"%s\"", ph);
	}
	for (i = 0; i < t->nflows; i++) {
		if (t->flows[i].seen != 3)
			fail_msg("flow %llu has only its %s", t->flows[i].id,
				 t->flows[i].seen == 1 ? "start" : "finish");
		assert_true(t->flows[i].f_ts >= t->flows[i].ts);
	}
	for (i = 0; i < t->ntracks; i++)
		if (!t->tracks[i].named)
			fail_msg("thread %u/%u has no name", t->tracks[i].pid, t->tracks[i].tid);
	for (i = 0; i < t->npids; i++) {
		for (j = 0; j < t->nnamed_pids; j++)
			if (t->named_pids[j] == t->pids[i])
				break;
		if (j == t->nnamed_pids)
			fail_msg("process %u has no name", t->pids[i]);
	}
}

static const struct track *find_track(const struct trace *t, __u32 pid, __u32 tid)
{
	unsigned int i;

	for (i = 0; i < t->ntracks; i++)
		if (t->tracks[i].pid == pid && t->tracks[i].tid == tid)
			return &t->tracks[i];
	fail_msg("no track %u/%u", pid, tid);
	return NULL;
}

static const char *pid_name(const struct trace *t, __u32 pid)
{
	unsigned int i;

	for (i = 0; i < t->nnamed_pids; i++)
		if (t->named_pids[i] == pid)
			return t->pid_names[i];
	return NULL;
}

/* The first such event at or after after_ns */
static const struct jv *find_event(const struct trace *t, const char *ph, const char *name,
				   __u32 tid, __u64 after_ns)
{
	const struct jv *events = jget(t->doc, "traceEvents");
	size_t i;

	for (i = 0; i < events->n; i++) {
		const struct jv *ev = events->items[i], *vt = jget(ev, "tid");

		if (!strcmp(jget(ev, "ph")->s, ph) && !strcmp(jget(ev, "name")->s, name) && vt &&
		    (__u32)vt->num == tid && to_ns(jget(ev, "ts")->num) >= after_ns)
			return ev;
	}
	return NULL;
}

/* ---- running scenarios ---- */

struct run {
	struct timeline *tl;
	const struct weft_metrics *m;
	char *text;
	size_t len;
	struct trace t;
};

static struct run runs[3];

static int teardown(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		timeline__free(runs[i].tl);
		free(runs[i].text);
		jv_free(runs[i].t.doc);
		memset(&runs[i], 0, sizeof(runs[i]));
	}
	return 0;
}

typedef void (*scenario_fn)(struct timeline *tl);

static struct run *run_scenario(unsigned int slot, scenario_fn fn, unsigned int ncpu,
				const struct timeline_opts *o)
{
	struct analysis_opts ao = { .ncpu = ncpu, .usable_cpus = ncpu };
	static const char *const cmd[] = { "./prog" };
	struct run *r = &runs[slot];
	FILE *f = open_memstream(&r->text, &r->len);

	assert_non_null(f);
	ao.command = cmd;
	ao.command_len = 1;
	r->tl = timeline__new(f, o, &ao);
	assert_non_null(r->tl);
	fn(r->tl);
	assert_int_equal(timeline__finish(r->tl), 0);
	assert_int_equal(fclose(f), 0);
	r->m = timeline__metrics(r->tl);
	assert_non_null(r->m);
	check_trace(&r->t, r->text, r->len);
	return r;
}

static const struct weft_thread_metrics *thread_of(const struct weft_metrics *m, __u32 tid)
{
	unsigned int i;

	for (i = 0; i < m->nr_threads; i++)
		if (m->threads[i].tid == tid)
			return &m->threads[i];
	fail_msg("thread %u not in the metrics", tid);
	return NULL;
}

static __u64 s_to_ns(double s)
{
	return (__u64)llround(s * 1e9);
}

/* Each thread's slices tile its life and its running time is the
 * analysis's on-CPU time; the counters' integrals are the tree's on-CPU
 * and queued time. */
static void check_threads(const struct run *r)
{
	const struct weft_metrics *m = r->m;
	double on_cpu = 0, queued = 0;
	unsigned int i;
	int s;

	for (i = 0; i < r->t.ntracks; i++) {
		const struct track *tr = &r->t.tracks[i];
		const struct weft_thread_metrics *th;
		__u64 sum = 0;

		if (tr->pid == TIMELINE_CPUS_PID || !tr->nx)
			continue;
		for (s = 0; s < NSTATES; s++)
			sum += tr->ns[s];
		on_cpu += tr->ns[0];
		queued += tr->ns[1];
		assert_true(tr->tiled);
		/* each part rounds to the ns once at most */
		assert_true(sum + tr->mixed * NSTATES >= tr->end_ns - tr->first_ns &&
			    sum <= tr->end_ns - tr->first_ns + tr->mixed * NSTATES);
		th = thread_of(m, tr->tid);
		if (llabs((long long)tr->ns[0] - (long long)s_to_ns(th->on_cpu_s)) >
		    (long long)tr->mixed)
			fail_msg("thread %u: running %llu ns, on-CPU %llu ns", tr->tid,
				 (unsigned long long)tr->ns[0],
				 (unsigned long long)s_to_ns(th->on_cpu_s));
		assert_true(llabs((long long)tr->ns[1] - (long long)s_to_ns(th->runqueue_s)) <=
			    (long long)tr->mixed);
		assert_true(llabs((long long)tr->ns[2] - (long long)s_to_ns(th->blocked_s)) <=
			    (long long)tr->mixed);
	}
	/* and no thread of the analysis is missing its track */
	for (i = 0; i < m->nr_threads; i++)
		if (m->threads[i].on_cpu_s + m->threads[i].runqueue_s + m->threads[i].blocked_s >
			    0 &&
		    !find_track(&r->t, m->threads[i].pid, m->threads[i].tid))
			fail_msg("thread %u has no track", m->threads[i].tid);
	if (fabs(r->t.r_int - on_cpu) > 1e-3 * on_cpu + 1)
		fail_msg("integral of R %.0f ns, running slices %.0f ns", r->t.r_int, on_cpu);
	if (fabs(r->t.q_int - queued) > 1e-3 * queued + 1)
		fail_msg("integral of Q %.0f ns, runnable slices %.0f ns", r->t.q_int, queued);
	assert_true(fabs(on_cpu - m->on_cpu_s * 1e9) < 1 + r->t.ntracks * 5);
}

/* main (1000) starts worker (1001) on CPU 1 and waits on a mutex that the
 * worker releases at 5 ms (sched_waking at 4.9 ms); the worker is
 * renamed, preempted by task 50 from 3 to 4 ms, and exits at 6 ms; main
 * sleeps from 7 ms until a timer interrupt at 8 ms, and exits at 9 ms. */
static void two_threads(struct timeline *tl)
{
	fork_ev(tl, 0, 1, 1000, false, "main");
	wake_from(tl, 100 * US, 1000, 0, 0, 0, WEFT_WAKE_NEW);
	sw(tl, 200 * US, 0, 0, BLOCK, 1000);
	fork_ev(tl, 1 * MS, 1000, 1001, true, "main");
	wake_from(tl, 1100 * US, 1001, 1, 0, 0, WEFT_WAKE_NEW);
	sw(tl, 1200 * US, 1, 0, BLOCK, 1001);
	rename_ev(tl, 1500 * US, 1001, "worker");
	sw_full(tl, 2 * MS, 0, 1000, BLOCK, 0, NR_FUTEX, 0x5000, FUTEX_WAIT_PRIVATE);
	sw(tl, 3 * MS, 1, 1001, PREEMPT, 50);
	sw(tl, 4 * MS, 1, 50, PREEMPT, 1001);
	wake_from(tl, 5 * MS, 1000, 0, 1001, 4900 * US, 0);
	sw(tl, 5200 * US, 0, 0, BLOCK, 1000);
	exit_ev(tl, 6 * MS, 1001, 0, 0);
	sw(tl, 6 * MS, 1, 1001, DIE, 0);
	sw(tl, 7 * MS, 0, 1000, BLOCK, 0);
	wake_from(tl, 8 * MS, 1000, 0, 77, 8 * MS, WEFT_WAKE_IRQ);
	sw(tl, 8100 * US, 0, 0, BLOCK, 1000);
	exit_ev(tl, 9 * MS, 1000, 0, 0);
	sw(tl, 9 * MS, 0, 1000, DIE, 0);
}

static void test_two_threads(void **state)
{
	struct timeline_opts o = { .threads = true, .cpus = true };
	const struct track *main_t, *worker, *cpu0, *cpu1;
	const struct jv *blocked, *args;
	const struct flow *fl;
	struct run *r;

	(void)state;
	r = run_scenario(0, two_threads, 2, &o);
	check_threads(r);
	main_t = find_track(&r->t, 1000, 1000);
	worker = find_track(&r->t, 1000, 1001);
	/* names: the latest (the rename), the process under its own */
	assert_string_equal(main_t->name, "main");
	assert_string_equal(worker->name, "worker");
	assert_string_equal(pid_name(&r->t, 1000), "main");
	assert_string_equal(pid_name(&r->t, TIMELINE_CPUS_PID), "CPUs");
	/* timestamps from the first event: main is new from 0 */
	assert_int_equal(main_t->first_ns, 0);
	assert_int_equal(main_t->end_ns, 9 * MS);
	assert_int_equal(main_t->ns[0], 1800 * US + 1800 * US + 900 * US);
	assert_int_equal(main_t->ns[2], 3 * MS + 1 * MS);
	assert_int_equal(worker->ns[0], 1800 * US + 2 * MS);
	assert_int_equal(worker->ns[1], 1 * MS + 100 * US);
	/* the mutex wait, with its reason, system call, address and waker */
	blocked = find_event(&r->t, "X", "blocked", 1000, 0);
	assert_non_null(blocked);
	args = jget(blocked, "args");
	assert_string_equal(jget(args, "reason")->s, "lock");
	assert_string_equal(jget(args, "syscall")->s, "futex");
	assert_string_equal(jget(args, "addr")->s, "0x5000");
	assert_int_equal(jget(args, "waker_tid")->num, 1001);
	/* one arrow: from the worker at sched_waking to main's next run */
	assert_int_equal(r->t.nflows, 1);
	fl = &r->t.flows[0];
	assert_int_equal(fl->tid, 1001);
	assert_int_equal(fl->ts, 4900 * US);
	assert_int_equal(fl->f_tid, 1000);
	assert_true(fl->f_ts >= 5200 * US && fl->f_ts < 7 * MS);
	assert_int_equal(timeline__stats(r->tl)->flows, 1);
	/* the preemption: runnable behind another task, not the tree */
	args = jget(find_event(&r->t, "X", "runnable", 1001, 2 * MS), "args");
	assert_int_equal(to_ns(jget(args, "behind_others_us")->num), 1 * MS);
	/* CPU tracks: who ran, other tasks, idle */
	cpu0 = find_track(&r->t, TIMELINE_CPUS_PID, 1);
	cpu1 = find_track(&r->t, TIMELINE_CPUS_PID, 2);
	assert_string_equal(cpu0->name, "CPU 0");
	assert_string_equal(cpu1->name, "CPU 1");
	assert_int_equal(cpu0->cpu_ns[0], main_t->ns[0]);
	assert_int_equal(cpu1->cpu_ns[0], worker->ns[0]);
	assert_int_equal(cpu1->cpu_ns[1], 1 * MS);
	assert_int_equal(cpu0->cpu_ns[2], 3200 * US + 1100 * US);
	assert_non_null(find_event(&r->t, "X", "worker 1001", 2, 0));
	assert_non_null(find_event(&r->t, "X", "other", 2, 0));
}

/* Two threads hand a token on one CPU every 2 us, 600 times, then one
 * sleeps 1 ms: far more slices than a viewer wants. */
static void pingpong(struct timeline *tl)
{
	__u32 a = 1000, b = 1001, tmp;
	__u64 t = 10 * US;
	int i;

	fork_ev(tl, 0, 1, 1000, false, "pp");
	wake_from(tl, 1 * US, 1000, 0, 0, 0, WEFT_WAKE_NEW);
	sw(tl, 2 * US, 0, 0, BLOCK, 1000);
	fork_ev(tl, 3 * US, 1000, 1001, true, "pp");
	sw_full(tl, 5 * US, 0, 1000, BLOCK, 0, NR_FUTEX, 0x100, FUTEX_WAIT_PRIVATE);
	wake_from(tl, 6 * US, 1001, 0, 0, 0, WEFT_WAKE_NEW);
	sw(tl, 7 * US, 0, 0, BLOCK, 1001);
	a = 1001;
	b = 1000;
	for (i = 0; i < 600; i++) {
		/* a wakes b, runs 1 us more, blocks; b runs */
		wake_from(tl, t, b, 0, a, t - 200, 0);
		sw_full(tl, t + 1 * US, 0, a, BLOCK, b, NR_FUTEX, 0x100, FUTEX_WAIT_PRIVATE);
		if (i % 100 == 99)
			sw(tl, t + 1500, 0, b, PREEMPT, 40 + i % 3);
		if (i % 100 == 99)
			sw(tl, t + 1800, 0, 40 + i % 3, PREEMPT, b);
		t += 2 * US;
		tmp = a;
		a = b;
		b = tmp;
	}
	sw(tl, t, 0, a, BLOCK, 0);
	wake_from(tl, t + 1 * MS, a, 0, 0, 0, 0);
	sw(tl, t + 1 * MS + 500, 0, 0, BLOCK, a);
	exit_ev(tl, t + 2 * MS, a, 0, 0);
	sw(tl, t + 2 * MS, 0, a, DIE, 0);
	wake_from(tl, t + 2 * MS, b, 0, a, t + 2 * MS, 0);
	sw(tl, t + 2 * MS + 100, 0, 0, BLOCK, b);
	exit_ev(tl, t + 3 * MS, b, 0, 0);
	sw(tl, t + 3 * MS, 0, b, DIE, 0);
}

static void test_merge_keeps_totals(void **state)
{
	struct timeline_opts all = { .threads = true, .cpus = true };
	struct timeline_opts merged = { .min_ns = 50 * US, .threads = true, .cpus = true };
	const struct track *x, *y;
	struct run *r0, *r1;
	unsigned int i;
	int s;

	(void)state;
	r0 = run_scenario(0, pingpong, 1, &all);
	r1 = run_scenario(1, pingpong, 1, &merged);
	check_threads(r0);
	check_threads(r1);
	assert_int_equal(timeline__stats(r0->tl)->mixed, 0);
	assert_true(timeline__stats(r1->tl)->mixed > 0);
	/* every wakeup is an arrow; merged, only those that end long waits */
	assert_true(r0->t.nflows >= 600);
	/* the only long wait with a waker: b's last, 2 ms, woken by a's exit
	 * (a's 1 ms wait before it has no waker) */
	assert_int_equal(r1->t.nflows, 1);
	assert_true(r1->t.events * 10 < r0->t.events);
	for (i = 0; i < r0->t.ntracks; i++) {
		x = &r0->t.tracks[i];
		y = find_track(&r1->t, x->pid, x->tid);
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->first_ns, y->first_ns);
		assert_int_equal(x->end_ns, y->end_ns);
		/* totals kept: each mixed part rounds to the ns at most once */
		for (s = 0; s < NSTATES; s++)
			assert_true(llabs((long long)x->ns[s] - (long long)y->ns[s]) <=
				    (long long)y->mixed);
		for (s = 0; s < 3; s++)
			assert_true(llabs((long long)x->cpu_ns[s] - (long long)y->cpu_ns[s]) <=
				    (long long)y->mixed);
		if (x->pid != TIMELINE_CPUS_PID)
			continue;
		assert_true(x->cpu_ns[1] > 0);
		assert_true(x->cpu_ns[2] > 0);
	}
	/* the counters keep their integrals */
	assert_true(fabs(r0->t.r_int - r1->t.r_int) <= 1e-3 * r0->t.r_int);
	assert_true(fabs(r0->t.q_int - r1->t.q_int) <= 1e-3 * r0->t.q_int);
	assert_true(r1->t.ncounters * 10 < r0->t.ncounters);
}

/* --from 2.5 ms --to 5.5 ms of two_threads: everything inside the window,
 * slices cut at its edges. */
static void test_window(void **state)
{
	struct timeline_opts o = {
		.from_ns = 2500 * US, .to_ns = 5500 * US, .threads = true, .cpus = true
	};
	const struct track *main_t, *worker;
	struct run *r;
	unsigned int i;

	(void)state;
	r = run_scenario(0, two_threads, 2, &o);
	for (i = 0; i < r->t.ntracks; i++) {
		if (!r->t.tracks[i].nx)
			continue;
		assert_true(r->t.tracks[i].first_ns >= 2500 * US);
		assert_true(r->t.tracks[i].end_ns <= 5500 * US);
	}
	main_t = find_track(&r->t, 1000, 1000);
	worker = find_track(&r->t, 1000, 1001);
	assert_true(main_t->tiled && worker->tiled);
	assert_int_equal(main_t->first_ns, 2500 * US);
	assert_int_equal(main_t->end_ns, 5500 * US);
	assert_int_equal(main_t->ns[0], 300 * US);
	assert_int_equal(main_t->ns[2], 2500 * US);
	assert_int_equal(worker->ns[0], 500 * US + 1500 * US);
	assert_int_equal(worker->ns[1], 1 * MS);
	assert_int_equal(r->t.nflows, 1);
	/* past the window, the rest of the recording is not needed */
	assert_true(timeline__past_end(r->tl));
}

/* --by: only the tracks asked for; names still complete */
static void test_by(void **state)
{
	struct timeline_opts threads = { .threads = true };
	struct timeline_opts cpus = { .cpus = true };
	struct run *r;
	unsigned int i;

	(void)state;
	r = run_scenario(0, two_threads, 2, &threads);
	assert_non_null(find_track(&r->t, 1000, 1000));
	for (i = 0; i < r->t.ntracks; i++)
		assert_true(r->t.tracks[i].pid != TIMELINE_CPUS_PID);
	assert_int_equal(r->t.nflows, 1);
	r = run_scenario(1, two_threads, 2, &cpus);
	assert_int_equal(r->t.ntracks, 2); /* one per CPU */
	for (i = 0; i < r->t.ntracks; i++)
		assert_int_equal(r->t.tracks[i].pid, TIMELINE_CPUS_PID);
	assert_int_equal(r->t.nflows, 0);
	assert_true(r->t.ncounters > 0);
}

static void nothing(struct timeline *tl)
{
	(void)tl;
}

/* An empty recording is still a valid trace; a stream that fails is an
 * error, not a half file passed off as whole. */
static void test_empty_and_write_error(void **state)
{
	struct timeline_opts o = { .threads = true, .cpus = true };
	struct analysis_opts ao = { .ncpu = 1 };
	struct timeline *tl;
	struct run *r;
	FILE *f;
	int i, err = 0;

	(void)state;
	r = run_scenario(0, nothing, 1, &o);
	assert_int_equal(r->t.events, 0);
	f = fopen("/dev/full", "w");
	if (!f) {
		print_message("skipped: no /dev/full to write to\n");
		skip();
	}
	setvbuf(f, NULL, _IOFBF, 256);
	tl = timeline__new(f, &o, &ao);
	assert_non_null(tl);
	for (i = 0; i < 200 && !err; i++) {
		struct weft_ev_switch e = {
			.hdr = { .ts_ns = i * US,
				 .type = WEFT_EV_SWITCH,
				 .cpu = 0,
				 .flags = WEFT_SWITCH_NEXT_TRACED },
			.next_tid = 1000 + i % 2,
			.next_tgid = 1000,
		};

		if (i) {
			e.prev_tid = 1000 + (i + 1) % 2;
			e.prev_tgid = 1000;
			e.hdr.flags |= WEFT_SWITCH_PREV_TRACED | WEFT_SWITCH_PREEMPT;
		}
		err = timeline__feed(tl, &e.hdr);
	}
	if (!err)
		err = timeline__finish(tl);
	assert_int_equal(err, -EIO);
	timeline__free(tl);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_two_threads, teardown),
		cmocka_unit_test_teardown(test_merge_keeps_totals, teardown),
		cmocka_unit_test_teardown(test_window, teardown),
		cmocka_unit_test_teardown(test_by, teardown),
		cmocka_unit_test_teardown(test_empty_and_write_error, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
