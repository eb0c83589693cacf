// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The stack summary from synthetic events and a synthetic stack table:
 * top on-CPU functions, top off-CPU stacks and their shares, the carried
 * time of skipped switches, cut-short stacks, each lock's top user
 * stacks, and the report writers' lines. Every figure is worked out by hand in the comments; times in ms.
 */
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
#include "kv.h"
#include "output.h"
#include "recording_meta.h"
#include "stack_summary.h"
#include "stacks.h"
#include "json_check.h"
#include "event_builders.h"

#define MS 1000000ULL
#define APP 100 /* main thread 100, worker 101 */
#define WORKER 101
#define HELPER 200

/* User stacks of APP (ids 1-7) and HELPER (id 1: the same id, another
 * process, other functions), kernel stacks 10-12; leaf first. Stack 2
 * has compute twice (recursion); stack 4 was cut short by the unwinder. */
static const char stacks_text[] = "s\tu\t100\t1\t3\n"
				  "f\t401010\tcompute\n"
				  "f\t401100\tmain\n"
				  "f\t401200\t__libc_start_call_main\n"
				  "s\tu\t100\t2\t5\n"
				  "f\t401310\thash_block\n"
				  "f\t401020\tcompute\n"
				  "f\t401030\tcompute\n"
				  "f\t401100\tmain\n"
				  "f\t401200\t__libc_start_call_main\n"
				  "s\tu\t100\t3\t3\n"
				  "f\t401410\twait_for_work\n"
				  "f\t401500\tworker_loop\n"
				  "f\t401600\tstart_thread\n"
				  "s\tu\t100\t4\t2\n"
				  "f\t401710\tread_input\n"
				  "f\tffffffffffffff00\t[unknown]\n"
				  "s\tu\t100\t5\t3\n"
				  "f\t401810\tparse\n"
				  "f\t401100\tmain\n"
				  "f\t401200\t__libc_start_call_main\n"
				  "s\tu\t100\t6\t2\n"
				  "f\t401910\tlog_line\n"
				  "f\t401100\tmain\n"
				  "s\tu\t100\t7\t2\n"
				  "f\t401a10\trecv_msg\n"
				  "f\t401500\tworker_loop\n"
				  "s\tu\t200\t1\t2\n"
				  "f\t501010\tspin\n"
				  "f\t501100\tmain\n"
				  "s\tk\t0\t10\t2\n"
				  "f\tffffffff81000000\tclear_page_erms\n"
				  "f\tffffffff81000100\tasm_exc_page_fault\n"
				  "s\tk\t0\t11\t4\n"
				  "f\tffffffff81000200\t__schedule\n"
				  "f\tffffffff81000300\tschedule\n"
				  "f\tffffffff81000400\tfutex_wait_queue\n"
				  "f\tffffffff81000500\tdo_futex\n"
				  "s\tk\t0\t12\t4\n"
				  "f\tffffffff81000200\t__schedule\n"
				  "f\tffffffff81000300\tschedule\n"
				  "f\tffffffff81000600\tpipe_read\n"
				  "f\tffffffff81000700\tvfs_read\n";

struct fixture {
	struct synth_events ev;
	struct stack_table *stacks;
	struct weft_kv *meta;
	struct stack_summary *s;
	struct weft_analysis *a;
	const struct weft_metrics *m;
};

static struct fixture fx;

static void feed_all(void)
{
	size_t i;

	synth_sort(&fx.ev);
	for (i = 0; i < fx.ev.n; i++) {
		assert_int_equal(stack_summary__feed(fx.s, &fx.ev.evs[i].hdr), 0);
		assert_int_equal(weft_analysis__feed(fx.a, &fx.ev.evs[i].hdr), 0);
	}
	fx.m = weft_analysis__finish(fx.a);
	assert_non_null(fx.m);
	assert_int_equal(stack_summary__finish(fx.s, fx.m), 0);
}

static void start_with(const char *text, size_t len, bool with_stacks,
		       const struct stack_summary_opts *so)
{
	struct analysis_opts o = { .ncpu = 3, .usable_cpus = 3, .end_ns = 100 * MS };

	memset(&fx, 0, sizeof(fx));
	fx.meta = weft_kv__new();
	assert_non_null(fx.meta);
	if (with_stacks) {
		fx.stacks = stack_table__new();
		assert_non_null(fx.stacks);
		assert_int_equal(stack_table__decode(fx.stacks, text, len), 0);
		assert_int_equal(weft_kv__set(fx.meta, META_STACK_FAILURES, "0"), 0);
		assert_int_equal(weft_kv__set(fx.meta, META_STACK_ENTRIES, "16384"), 0);
		assert_int_equal(weft_kv__set(fx.meta, META_SAMPLE_HZ, "99"), 0);
		assert_int_equal(weft_kv__set(fx.meta, META_USER_UNWIND, "tables"), 0);
		assert_int_equal(weft_kv__set(fx.meta, META_STACK_EVERY, "8"), 0);
	}
	fx.s = stack_summary__new(fx.stacks, fx.meta, so);
	fx.a = weft_analysis__new(&o);
	assert_non_null(fx.s);
	assert_non_null(fx.a);
	weft_analysis__set_slice_observer(fx.a, stack_summary__slice, fx.s);
}

static void start(bool with_stacks, bool per_process)
{
	struct stack_summary_opts so = { .per_process = per_process };

	start_with(stacks_text, sizeof(stacks_text) - 1, with_stacks, &so);
}

/* APP's main thread samples (18, at 1..52 ms, while it runs):
 *   stack 1 x 8             leaf compute
 *   stack 2 x 4             leaf hash_block (compute twice: once in total)
 *   stack 1 + kernel 10 x 2 leaf clear_page_erms_[k]
 *   stack 5 x 2             leaf parse
 *   stack 6 x 1             leaf log_line
 *   no stack x 1            leaf [unknown]
 * so the top five by self: compute 8, hash_block 4, clear_page_erms_[k] 2
 * and parse 2 (a tie, by name), [unknown] 1 before log_line 1 (by name);
 * compute's total is 8 + 4 + 2 = 14.
 * HELPER: stack 1 x 3, all spin.
 *
 * Blocked (stack_every 8: skipped switches carry their time):
 *   worker  10-40  stack 3 + kernel 11          30 -> S1
 *   worker  50-56  skipped                       6 -> carried
 *   worker  60-62  stack 7 + kernel 12   2 + 6 = 8 -> S2
 *   main    70-74  skipped                       4 -> carried
 *   main    80-85  stack 4 (cut short) + 12  5 + 4 = 9 -> S3
 * APP blocked 47: S1 30/47, S3 9/47, S2 8/47; cut short 9 of 47. */
static void run(bool with_stacks, bool per_process)
{
	static const struct {
		int user, kernel, n;
	} samples[] = { { 1, -EFAULT, 8 }, { 2, -EFAULT, 4 }, { 1, 10, 2 },
			{ 5, -EFAULT, 2 }, { 6, -EFAULT, 1 }, { -EFAULT, -EFAULT, 1 } };
	__u64 t = MS;
	unsigned int i;
	int k;

	start(with_stacks, per_process);
	synth_task_state(&fx.ev, 0, APP, APP, 0, "app");
	synth_task_state(&fx.ev, 0, WORKER, APP, 1, "app-worker");
	synth_task_state(&fx.ev, 0, HELPER, HELPER, 2, "helper");
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		for (k = 0; k < samples[i].n; k++, t += 3 * MS)
			synth_sample(&fx.ev, t, APP, APP, 0, samples[i].user, samples[i].kernel);
	for (k = 1; k <= 3; k++)
		synth_sample(&fx.ev, k * 10 * MS, HELPER, HELPER, 2, 1, -EFAULT);

	synth_block(&fx.ev, 10 * MS, WORKER, APP, 1, 3, 11);
	synth_wake_run(&fx.ev, 40 * MS, WORKER, APP, 1, APP, 1, -EFAULT);
	synth_block(&fx.ev, 50 * MS, WORKER, APP, 1, WEFT_STACK_SKIPPED, WEFT_STACK_SKIPPED);
	synth_wake_run(&fx.ev, 56 * MS, WORKER, APP, 1, APP, 1, -EFAULT);
	synth_block(&fx.ev, 60 * MS, WORKER, APP, 1, 7, 12);
	synth_wake_run(&fx.ev, 62 * MS, WORKER, APP, 1, APP, 1, -EFAULT);
	synth_block(&fx.ev, 70 * MS, APP, APP, 0, WEFT_STACK_SKIPPED, WEFT_STACK_SKIPPED);
	synth_wake_run(&fx.ev, 74 * MS, APP, APP, 0, WORKER, 7, -EFAULT);
	synth_block(&fx.ev, 80 * MS, APP, APP, 0, 4, 12);
	synth_wake_run(&fx.ev, 85 * MS, APP, APP, 0, WORKER, 7, -EFAULT);
	feed_all();
}

static int teardown(void **state)
{
	(void)state;
	stack_summary__free(fx.s);
	weft_analysis__free(fx.a);
	stack_table__free(fx.stacks);
	weft_kv__free(fx.meta);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static void check_function(const struct stack_process *p, unsigned int i, const char *name,
			   __u64 self, __u64 total)
{
	assert_true(i < p->nr_functions);
	assert_string_equal(p->functions[i].name, name);
	assert_int_equal(p->functions[i].self_samples, self);
	assert_int_equal(p->functions[i].total_samples, total);
}

static void test_top_functions(void **state)
{
	const struct stack_process *p;

	(void)state;
	run(true, true);
	assert_true(stack_summary__has_processes(fx.s));
	p = stack_summary__process(fx.s, APP);
	assert_non_null(p);
	assert_int_equal(p->samples, 18);
	assert_int_equal(p->nr_functions, STACK_SUMMARY_TOP);
	check_function(p, 0, "compute", 8, 14);
	check_function(p, 1, "hash_block", 4, 4);
	check_function(p, 2, "clear_page_erms_[k]", 2, 2);
	check_function(p, 3, "parse", 2, 2);
	check_function(p, 4, "[unknown]", 1, 1);

	/* the same stack id in another process is another function */
	p = stack_summary__process(fx.s, HELPER);
	assert_non_null(p);
	assert_int_equal(p->samples, 3);
	assert_int_equal(p->nr_functions, 1);
	check_function(p, 0, "spin", 3, 3);
	assert_int_equal(p->blocked_us, 0);
	assert_int_equal(p->nr_blocked, 0);

	assert_null(stack_summary__process(fx.s, 999));
}

static void check_frames(const struct stack_blocked *b, const char *const *want, unsigned int n)
{
	unsigned int i;

	assert_int_equal(b->nframes, n);
	for (i = 0; i < n; i++)
		assert_string_equal(b->frames[i], want[i]);
}

static void test_top_offcpu_stacks(void **state)
{
	static const char *const s1[] = { "__schedule_[k]", "schedule_[k]",  "futex_wait_queue_[k]",
					  "do_futex_[k]",   "wait_for_work", "worker_loop",
					  "start_thread" };
	static const char *const s3[] = { "__schedule_[k]", "schedule_[k]", "pipe_read_[k]",
					  "vfs_read_[k]",   "read_input",   "[unknown]" };
	static const char *const s2[] = { "__schedule_[k]", "schedule_[k]", "pipe_read_[k]",
					  "vfs_read_[k]",   "recv_msg",	    "worker_loop" };
	const struct stack_process *p;

	(void)state;
	run(true, true);
	p = stack_summary__process(fx.s, APP);
	assert_non_null(p);
	assert_int_equal(p->blocked_us, 47000);
	/* the same blocked time as the analysis' */
	assert_true(fabs(fx.m->blocked_s * 1e6 - p->blocked_us) < 1);
	assert_int_equal(p->nr_blocked, 3);
	assert_int_equal(p->blocked[0].us, 30000);
	check_frames(&p->blocked[0], s1, 7);
	assert_int_equal(p->blocked[1].us, 9000);
	check_frames(&p->blocked[1], s3, 6);
	assert_int_equal(p->blocked[2].us, 8000);
	check_frames(&p->blocked[2], s2, 6);
}

static void test_capture(void **state)
{
	const struct stack_capture *c;

	(void)state;
	/* the capture figures need no per-process tables */
	run(true, false);
	assert_false(stack_summary__has_processes(fx.s));
	assert_null(stack_summary__process(fx.s, APP));
	c = stack_summary__capture(fx.s);
	assert_true(c->recorded);
	assert_string_equal(c->user_unwind, "tables");
	assert_int_equal(c->stack_every, 8);
	assert_int_equal(c->sample_hz, 99);
	assert_int_equal(c->stack_entries, 16384);
	assert_true(c->has_failures);
	assert_int_equal(c->failures, 0);
	/* 7 user stacks of APP, 1 of HELPER; stack 4 cut short */
	assert_int_equal(c->user_stacks, 8);
	assert_int_equal(c->user_stacks_cut_short, 1);
	assert_true(c->has_blocked);
	assert_int_equal(c->blocked_ns, 47 * MS);
	assert_int_equal(c->cut_short_ns, 9 * MS);
}

static void test_without_stacks(void **state)
{
	const struct stack_capture *c;
	char line[512];

	(void)state;
	/* --no-stacks: no stack keys, no table, switches without stacks */
	run(false, true);
	c = stack_summary__capture(fx.s);
	assert_false(c->recorded);
	assert_null(c->user_unwind);
	assert_false(c->has_blocked);
	assert_false(stack_summary__has_processes(fx.s));
	assert_null(stack_summary__process(fx.s, APP));
	teardown(NULL);

	/* a recording from before the unwinder: the settings it does not
	 * state stay unknown, and the line leaves them out */
	start(true, false);
	stack_summary__free(fx.s);
	weft_kv__free(fx.meta);
	fx.meta = weft_kv__new();
	assert_non_null(fx.meta);
	assert_int_equal(weft_kv__set(fx.meta, META_STACK_FAILURES, "2"), 0);
	assert_int_equal(weft_kv__set(fx.meta, META_SAMPLE_HZ, "99"), 0);
	fx.s = stack_summary__new(fx.stacks, fx.meta, &(struct stack_summary_opts){});
	assert_non_null(fx.s);
	c = stack_summary__capture(fx.s);
	assert_true(c->recorded);
	assert_null(c->user_unwind);
	assert_int_equal(c->stack_every, 0);
	assert_int_equal(c->stack_entries, 0);
	assert_int_equal(c->failures, 2);
	assert_string_equal(output_stacks_line(line, sizeof(line), c),
			    "99 Hz samples, 2 failures, 1 of 8 user stacks cut short");
}

static void test_short_stack(void **state)
{
	static const char *const sleep[] = { "__schedule_[k]",
					     "schedule_[k]",
					     "do_nanosleep_[k]",
					     "hrtimer_nanosleep_[k]",
					     "clock_nanosleep",
					     "sleep_here",
					     "main",
					     "__libc_start_call_main",
					     "__libc_start_main",
					     "_start" };
	static const char *const kernel_only[] = { "__schedule_[k]", "schedule_[k]",
						   "worker_thread_[k]", "kthread_[k]" };
	static const char *const scheduler_only[] = { "schedule_[k]", "poll_loop" };
	static const char *const user_only[] = { "a", "b" };
	static const char *const unknown[] = { "[unknown]" };
	struct stack_blocked b;
	char buf[256], tiny[8];

	(void)state;
	b = (struct stack_blocked){ sleep, 10, 1 };
	assert_string_equal(stack_blocked__short(&b, buf, sizeof(buf)),
			    "do_nanosleep_[k] <- ... <- clock_nanosleep <- sleep_here <- main <- "
			    "__libc_start_call_main <- ...");
	b = (struct stack_blocked){ kernel_only, 4, 1 };
	assert_string_equal(stack_blocked__short(&b, buf, sizeof(buf)),
			    "worker_thread_[k] <- kthread_[k]");
	b = (struct stack_blocked){ scheduler_only, 2, 1 };
	assert_string_equal(stack_blocked__short(&b, buf, sizeof(buf)),
			    "schedule_[k] <- poll_loop");
	b = (struct stack_blocked){ user_only, 2, 1 };
	assert_string_equal(stack_blocked__short(&b, buf, sizeof(buf)), "a <- b");
	b = (struct stack_blocked){ unknown, 1, 1 };
	assert_string_equal(stack_blocked__short(&b, buf, sizeof(buf)), "[unknown]");
	b = (struct stack_blocked){ sleep, 10, 1 };
	assert_int_equal(strlen(stack_blocked__short(&b, tiny, sizeof(tiny))), sizeof(tiny) - 1);
}

/* ---- the report writers ---- */

static char *text;
static size_t text_len;

static const char *
report(int (*writer)(FILE *, const struct weft_metrics *, const struct output_opts *), bool threads)
{
	struct output_opts o = { .threads = threads, .stacks = fx.s };
	FILE *f;

	free(text);
	text = NULL;
	f = open_memstream(&text, &text_len);
	assert_non_null(f);
	assert_int_equal(writer(f, fx.m, &o), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void check_columns(const char *s)
{
	const char *nl;

	for (; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		assert_non_null(nl);
		if (nl - s > OUTPUT_TEXT_COLUMNS)
			fail_msg("%d columns:\n%.*s", (int)(nl - s), (int)(nl - s), s);
	}
}

static void test_stacks_line(void **state)
{
	char line[512];

	(void)state;
	run(true, false);
	/* 9 of 47 ms is 19.1% */
	assert_string_equal(
		output_stacks_line(line, sizeof(line), stack_summary__capture(fx.s)),
		"user stacks by unwind tables, off-CPU stacks at 1 blocking switch in 8 "
		"per thread (each with the blocked time of the skipped ones of its kind), 99 Hz "
		"samples, 0 failures, 1 of 8 user stacks cut short (19.1% of off-CPU "
		"time)");
	teardown(NULL);

	/* the per-CPU budget, and an audit that took every stack */
	run(true, false);
	weft_kv__set(fx.meta, META_STACK_RATE, "1000");
	stack_summary__free(fx.s);
	fx.s = stack_summary__new(fx.stacks, fx.meta, &(struct stack_summary_opts){});
	assert_non_null(
		strstr(output_stacks_line(line, sizeof(line), stack_summary__capture(fx.s)),
		       "off-CPU stacks at 1 blocking switch in 8 per thread, at most 1000 a "
		       "second per CPU (each"));
	weft_kv__set(fx.meta, META_STACK_AUDIT, "1");
	stack_summary__free(fx.s);
	fx.s = stack_summary__new(fx.stacks, fx.meta, &(struct stack_summary_opts){});
	assert_non_null(strstr(output_stacks_line(line, sizeof(line), stack_summary__capture(fx.s)),
			       "off-CPU stacks at every blocking switch (an audit: those the "
			       "sampling would skip are marked)"));
	assert_string_equal(output_stacks_line(line, sizeof(line), NULL), "none in the recording");
	teardown(NULL);

	run(false, false);
	assert_string_equal(output_stacks_line(line, sizeof(line), stack_summary__capture(fx.s)),
			    "none in the recording");
}

static void test_text_report(void **state)
{
	const char *r;

	(void)state;
	run(true, true);
	r = report(output_text, true);
	check_columns(r);
	assert_non_null(strstr(r, "\nstacks:          user stacks by unwind tables,"));
	assert_non_null(strstr(r, "\napp (pid 100): 18 samples, 47.00 ms blocked\n"));
	assert_non_null(strstr(r, "\n   44.4%  77.8%   compute\n"));
	assert_non_null(strstr(r,
			       "\n   63.8%  30.00 ms  futex_wait_queue_[k] <- ... <- wait_for_work"
			       " <- worker_loop\n"));
	assert_non_null(strstr(r, "\nhelper (pid 200): 3 samples, 0 s blocked\n"
				  "    SELF  TOTAL   ON-CPU FUNCTION\n"
				  "  100.0% 100.0%   spin\n"));
	/* without --threads, the line but no tables */
	r = report(output_text, false);
	assert_non_null(strstr(r, "\nstacks:  "));
	assert_null(strstr(r, "ON-CPU FUNCTION"));
}

static void test_markdown_report(void **state)
{
	const char *r;

	(void)state;
	run(true, true);
	r = report(output_markdown, true);
	assert_non_null(strstr(r, "| stacks | user stacks by unwind tables,"));
	assert_non_null(strstr(r, "\n| 100 | app | compute | 44.4% | 77.8% | 8 |\n"));
	assert_non_null(strstr(r,
			       "\n| 100 | app | 19.1% | 9.00 ms | pipe\\_read\\_\\[k\\] \\<- ... "
			       "\\<- read\\_input \\<- \\[unknown\\] |\n"));
}

static const struct jv *process_of(const struct jv *report, __u32 pid)
{
	const struct jv *procs = jneed(report, "processes", J_ARR);
	size_t i;

	for (i = 0; i < procs->n; i++)
		if (jneed(procs->items[i], "pid", J_NUM)->num == pid)
			return procs->items[i];
	fail_msg("no process %u", pid);
	return NULL;
}

static void test_json_report(void **state)
{
	const struct jv *st, *p, *f, *frames;
	struct jv *v;

	(void)state;
	run(true, true);
	report(output_json, false);
	v = json_parse(text, text_len);
	assert_non_null(v);
	st = jneed(v, "stacks", J_OBJ);
	assert_true(jneed(st, "recorded", J_BOOL)->b);
	assert_string_equal(jneed(st, "user_unwind", J_STR)->s, "tables");
	assert_true(jneed(st, "stack_every", J_NUM)->num == 8);
	assert_true(jneed(st, "user_stacks_cut_short", J_NUM)->num == 1);
	assert_true(fabs(jneed(st, "cut_short_offcpu_share", J_NUM)->num - 9.0 / 47) < 1e-6);

	p = process_of(v, APP);
	assert_true(jneed(p, "samples", J_NUM)->num == 18);
	f = jneed(p, "top_oncpu_functions", J_ARR)->items[0];
	assert_string_equal(jneed(f, "name", J_STR)->s, "compute");
	assert_true(jneed(f, "samples", J_NUM)->num == 8);
	assert_true(fabs(jneed(f, "share", J_NUM)->num - 8.0 / 18) < 1e-6);
	assert_true(jneed(f, "total_samples", J_NUM)->num == 14);
	assert_int_equal(jneed(p, "top_offcpu_stacks", J_ARR)->n, 3);
	f = jneed(p, "top_offcpu_stacks", J_ARR)->items[0];
	assert_true(jneed(f, "us", J_NUM)->num == 30000);
	assert_true(fabs(jneed(f, "share", J_NUM)->num - 30.0 / 47) < 1e-6);
	frames = jneed(f, "frames", J_ARR);
	assert_int_equal(frames->n, 7);
	assert_string_equal(frames->items[0]->s, "__schedule_[k]");
	assert_string_equal(frames->items[6]->s, "start_thread");
	/* a process without blocked time has an empty list, not null */
	assert_int_equal(jneed(process_of(v, HELPER), "top_offcpu_stacks", J_ARR)->n, 0);
	jv_free(v);
	teardown(NULL);

	/* no stacks: unknown, so null, never 0 */
	run(false, true);
	report(output_json, false);
	v = json_parse(text, text_len);
	assert_non_null(v);
	st = jneed(v, "stacks", J_OBJ);
	assert_false(jneed(st, "recorded", J_BOOL)->b);
	jneed(st, "user_stacks", J_NULL);
	jneed(st, "cut_short_offcpu_share", J_NULL);
	p = process_of(v, APP);
	jneed(p, "samples", J_NULL);
	jneed(p, "top_oncpu_functions", J_NULL);
	jneed(p, "top_offcpu_stacks", J_NULL);
	jv_free(v);
}

/* ---- the locks' top user stacks ---- */

#define PRODUCER 101
#define CONSUMER 102
#define LOCK 0x601000ULL
#define COND 0x602000ULL
#define KLOCK 0xffff888100001000ULL

/* APP's user stacks 1 and 2: two call sites of one mutex, through glibc;
 * kernel stacks 11 and 12: two futex paths (a wait's kernel frames are
 * left out, so they make no difference) */
static const char lock_stacks_text[] = "s\tu\t100\t1\t6\n"
				       "f\t7f0010\t__lll_lock_wait\n"
				       "f\t7f0020\t___pthread_mutex_lock\n"
				       "f\t401010\tpush_job\n"
				       "f\t401100\tproducer\n"
				       "f\t7f0100\tstart_thread\n"
				       "f\t7f0200\tclone3\n"
				       "s\tu\t100\t2\t6\n"
				       "f\t7f0010\t__lll_lock_wait\n"
				       "f\t7f0020\t___pthread_mutex_lock\n"
				       "f\t401210\tpop_job\n"
				       "f\t401300\tconsumer\n"
				       "f\t7f0100\tstart_thread\n"
				       "f\t7f0200\tclone3\n"
				       "s\tk\t0\t11\t4\n"
				       "f\tffffffff81000200\t__schedule\n"
				       "f\tffffffff81000300\tschedule\n"
				       "f\tffffffff81000400\tfutex_wait_queue\n"
				       "f\tffffffff81000500\tdo_futex\n"
				       "s\tk\t0\t12\t3\n"
				       "f\tffffffff81000200\t__schedule\n"
				       "f\tffffffff81000300\tschedule\n"
				       "f\tffffffff81000600\tfutex_wait\n";

/* APP's main thread runs throughout on CPU 0 and wakes the others.
 * Waits on the mutex LOCK (stack_every 8: skipped switches carry):
 *   producer 10-25  stack 1, kernel 11                 15
 *   consumer 12-18  skipped: to its next on LOCK        6
 *   consumer 20-24  stack 2                 4 + 6 =    10
 *   producer 30-35  skipped: to its next on LOCK        5
 *   producer 40-50  stack 1, kernel 12     10 + 5 =    15
 * so push_job 30 of 40 (75%), pop_job 10 (25%). The producer's condition
 * variable wait (70-80) is no lock: nobody else waits there. The
 * consumer's spin on a kernel lock (85-85.5) is a lock without a blocked
 * interval, so without stacks. */
static void run_locks(bool with_stacks, bool locks)
{
	struct stack_summary_opts so = { .per_process = true, .locks = locks };

	start_with(lock_stacks_text, sizeof(lock_stacks_text) - 1, with_stacks, &so);
	synth_task_state(&fx.ev, 0, APP, APP, 0, "app");
	synth_task_state(&fx.ev, 0, PRODUCER, APP, 1, "producer");
	synth_task_state(&fx.ev, 0, CONSUMER, APP, 2, "consumer");
	synth_block_futex(&fx.ev, 10 * MS, PRODUCER, APP, 1, 1, 11, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 25 * MS, PRODUCER, APP, 1, APP, -EFAULT, -EFAULT);
	synth_block_futex(&fx.ev, 12 * MS, CONSUMER, APP, 2, WEFT_STACK_SKIPPED, WEFT_STACK_SKIPPED,
			  LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 18 * MS, CONSUMER, APP, 2, APP, -EFAULT, -EFAULT);
	synth_block_futex(&fx.ev, 20 * MS, CONSUMER, APP, 2, 2, 11, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 24 * MS, CONSUMER, APP, 2, APP, -EFAULT, -EFAULT);
	synth_block_futex(&fx.ev, 30 * MS, PRODUCER, APP, 1, WEFT_STACK_SKIPPED, WEFT_STACK_SKIPPED,
			  LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 35 * MS, PRODUCER, APP, 1, APP, -EFAULT, -EFAULT);
	synth_block_futex(&fx.ev, 40 * MS, PRODUCER, APP, 1, 1, 12, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 50 * MS, PRODUCER, APP, 1, APP, -EFAULT, -EFAULT);
	synth_block_futex(&fx.ev, 70 * MS, PRODUCER, APP, 1, 1, 11, COND,
			  SYNTH_FUTEX_WAIT_BITSET_PRIVATE);
	synth_wake_run(&fx.ev, 80 * MS, PRODUCER, APP, 1, APP, -EFAULT, -EFAULT);
	synth_klock_spin(&fx.ev, 85 * MS, 85 * MS + 500000, CONSUMER, APP, 2, KLOCK);
	feed_all();
}

static const char *const push_frames[] = { "__lll_lock_wait", "___pthread_mutex_lock", "push_job",
					   "producer",	      "start_thread",	       "clone3" };
static const char *const pop_frames[] = { "__lll_lock_wait", "___pthread_mutex_lock", "pop_job",
					  "consumer",	     "start_thread",	      "clone3" };

static void check_waiter(const struct stack_waiter *w, const char *const *want, unsigned int n,
			 __u64 ns)
{
	unsigned int i;

	assert_int_equal(w->ns, ns);
	assert_int_equal(w->nframes, n);
	for (i = 0; i < n; i++)
		assert_string_equal(w->frames[i], want[i]);
}

static void test_lock_stacks(void **state)
{
	const struct weft_lock_metrics *l;
	const struct stack_lock *sl;

	(void)state;
	run_locks(true, true);
	/* the analysis' table: the mutex, then the kernel lock; the condition
	 * variable is no lock */
	assert_int_equal(fx.m->nr_locks, 2);
	l = &fx.m->locks[0];
	assert_int_equal(l->addr, LOCK);
	assert_int_equal(l->waits, 5);
	assert_true(fabs(l->total_s - 0.040) < 1e-9);
	assert_int_equal(fx.m->locks[1].addr, KLOCK);

	assert_true(stack_summary__has_locks(fx.s));
	sl = stack_summary__lock(fx.s, 0);
	assert_non_null(sl);
	/* kernel frames left out: stack 1 through two kernel paths is one,
	 * with the skipped waits' time */
	assert_int_equal(sl->nr_stacks, 2);
	check_waiter(&sl->stacks[0], push_frames, 6, 30 * MS);
	check_waiter(&sl->stacks[1], pop_frames, 6, 10 * MS);
	/* a lock whose waits took no stack has none */
	sl = stack_summary__lock(fx.s, 1);
	assert_non_null(sl);
	assert_int_equal(sl->nr_stacks, 0);
	assert_null(stack_summary__lock(fx.s, 2));
}

static void test_lock_stacks_not_computed(void **state)
{
	(void)state;
	/* not asked for */
	run_locks(true, false);
	assert_int_equal(fx.m->nr_locks, 2);
	assert_false(stack_summary__has_locks(fx.s));
	assert_null(stack_summary__lock(fx.s, 0));
	teardown(NULL);

	/* no stacks in the recording */
	run_locks(false, true);
	assert_int_equal(fx.m->nr_locks, 2);
	assert_false(stack_summary__has_locks(fx.s));
	assert_null(stack_summary__lock(fx.s, 0));
}

static void test_short_lock_stack(void **state)
{
	static const char *const cond[] = { "__futex_abstimed_wait_common",
					    "__GI___lll_lock_wait",
					    "__pthread_cond_wait_common",
					    "pthread_cond_timedwait",
					    "take_gil",
					    "eval" };
	static const char *const unresolved[] = {
		"[unknown]", "libc.so.6+0x8f3a2", "lock_it", "a", "b", "c", "d"
	};
	static const char *const only_lock[] = { "__lll_lock_wait", "pthread_mutex_lock" };
	static const char *const sem[] = { "syscall", "do_futex_wait", "__new_sem_wait_slow64",
					   "sem_wait", "next_job" };
	struct stack_waiter w;
	char buf[256], tiny[8];

	(void)state;
	w = (struct stack_waiter){ push_frames, 6, 1 };
	assert_string_equal(stack_waiter__short(&w, buf, sizeof(buf)),
			    "push_job <- producer <- start_thread <- clone3");
	/* a condition variable's wait is the program's call */
	w = (struct stack_waiter){ cond, 6, 1 };
	assert_string_equal(stack_waiter__short(&w, buf, sizeof(buf)),
			    "pthread_cond_timedwait <- take_gil <- eval");
	w = (struct stack_waiter){ unresolved, 7, 1 };
	assert_string_equal(stack_waiter__short(&w, buf, sizeof(buf)),
			    "lock_it <- a <- b <- c <- ...");
	w = (struct stack_waiter){ only_lock, 2, 1 };
	assert_string_equal(stack_waiter__short(&w, buf, sizeof(buf)),
			    "__lll_lock_wait <- pthread_mutex_lock");
	w = (struct stack_waiter){ sem, 5, 1 };
	assert_string_equal(stack_waiter__short(&w, buf, sizeof(buf)), "next_job");
	w = (struct stack_waiter){ unresolved, 7, 1 };
	assert_int_equal(strlen(stack_waiter__short(&w, tiny, sizeof(tiny))), sizeof(tiny) - 1);
}

/* A Python program's stacks (python.h): user stack 1 waits for the GIL
 * in cpu_bound_task called by worker, stack 2 is a sample there */
static const char py_stacks_text[] = "s\tu\t100\t1\t8\n"
				     "f\t7f0010\t__futex_abstimed_wait_common\n"
				     "f\t7f0030\tpthread_cond_timedwait\n"
				     "f\t5000\ttake_gil\n"
				     "f\t6000\t_PyEval_EvalFrameDefault\n"
				     "f\t7000\tthread_run\n"
				     "f\tffffffffffffff01\t[python]\n"
				     "f\t40006\tcpu_bound_task (app.py:6)\n"
				     "f\t8000000000080000\tworker (app.py:11)\n"
				     "s\tu\t100\t2\t6\n"
				     "f\t4000\tPyObject_Free\n"
				     "f\t6000\t_PyEval_EvalFrameDefault\n"
				     "f\t7000\tthread_run\n"
				     "f\tffffffffffffff01\t[python]\n"
				     "f\t40005\tcpu_bound_task (app.py:5)\n"
				     "f\t8000000000080000\tworker (app.py:11)\n";

/* Two workers take turns on LOCK, blocking in stack 1 (10 ms each, 4
 * times), sampled in stack 2 (3 samples each) */
static void run_python(void)
{
	struct stack_summary_opts so = { .per_process = true, .locks = true };
	unsigned int i;

	start_with(py_stacks_text, sizeof(py_stacks_text) - 1, true, &so);
	synth_task_state(&fx.ev, 0, APP, APP, 0, "python3");
	synth_task_state(&fx.ev, 0, PRODUCER, APP, 1, "python3");
	synth_task_state(&fx.ev, 0, CONSUMER, APP, 2, "python3");
	for (i = 0; i < 4; i++) {
		__u32 t = i % 2 ? CONSUMER : PRODUCER;

		synth_block_futex(&fx.ev, (10 + 20 * i) * MS, t, APP, 1 + i % 2, 1, 11, LOCK,
				  SYNTH_FUTEX_WAIT_PRIVATE);
		synth_wake_run(&fx.ev, (20 + 20 * i) * MS, t, APP, 1 + i % 2, APP, -EFAULT,
			       -EFAULT);
		synth_sample(&fx.ev, (21 + 20 * i) * MS, t, APP, 1 + i % 2, 2, -EFAULT);
	}
	synth_sample(&fx.ev, 95 * MS, PRODUCER, APP, 1, 2, -EFAULT);
	synth_sample(&fx.ev, 96 * MS, CONSUMER, APP, 2, 2, -EFAULT);
	feed_all();
}

static void test_python_functions(void **state)
{
	const struct stack_thread_python *tp;
	const struct stack_lock *sl;
	char buf[256];

	(void)state;
	run_python();
	assert_true(fx.m->nr_locks >= 1);
	sl = stack_summary__lock(fx.s, 0);
	assert_non_null(sl);
	/* the lock's waits by their innermost Python function, without the
	 * line */
	assert_int_equal(sl->nr_python, 1);
	assert_string_equal(sl->python[0].name, "cpu_bound_task (app.py)");
	assert_int_equal(sl->python[0].ns, 40 * MS);
	assert_int_equal(sl->python_of_ns, 40 * MS);
	/* the stack from its innermost Python frame: the eval frame became
	 * the Python frames it ran */
	assert_int_equal(sl->nr_stacks, 1);
	assert_string_equal(stack_waiter__short(&sl->stacks[0], buf, sizeof(buf)),
			    "cpu_bound_task (app.py:6) <- worker (app.py:11) <- thread_run");
	tp = stack_summary__thread_python(fx.s, PRODUCER);
	assert_non_null(tp);
	assert_int_equal(tp->samples, 3);
	assert_int_equal(tp->nr_oncpu, 1);
	assert_string_equal(tp->oncpu[0].name, "cpu_bound_task (app.py)");
	assert_int_equal(tp->oncpu[0].samples, 3);
	assert_int_equal(tp->nr_blocked, 1);
	assert_int_equal(tp->blocked[0].ns, 20 * MS);
	/* no Python frame in the main thread's (no) stacks */
	assert_null(stack_summary__thread_python(fx.s, APP));
}

/* A verdict serialized by a GIL names the Python functions that waited
 * most for it; any other lock's verdict stays */
static void test_python_verdict(void **state)
{
	const char *names[] = { "cpu_bound_task (app.py)", "main (app.py)", "log (app.py)" };
	const double shares[] = { 0.90, 0.07, 0.03 };
	struct weft_lock_metrics lock = { .serialized_s = 1, .total_s = 1.5, .threads = 3 };
	struct weft_metrics m = { .nr_threads = 3,
				  .wall_s = 2,
				  .thread_time_s = 6,
				  .serialized_s = 1.5,
				  .serialized_share = 0.75 };
	char again[WEFT_VERDICT_LEN];

	(void)state;
	m.parallelism.avg = 1;
	m.locks = &lock;
	m.nr_locks = 1;
	snprintf(lock.name, sizeof(lock.name), "GIL (CPython 3.11)");
	m.verdict_kind = weft_metrics__verdict(&m, m.verdict, sizeof(m.verdict));
	assert_int_equal(weft_metrics__verdict_lock(&m), 0);
	weft_metrics__verdict_waiters(&m, names, shares, 3);
	assert_string_equal(m.verdict,
			    "serialized by one lock (GIL (CPython 3.11)): 3 threads, parallelism "
			    "1.00, 25% of thread time waiting for it; waiting most in "
			    "cpu_bound_task (app.py) 90%, main (app.py) 7%");
	/* the verdict written again (weft report --critical writes it once
	 * more with the path) still names them */
	weft_metrics__verdict(&m, again, sizeof(again));
	assert_string_equal(again, m.verdict);
	snprintf(lock.name, sizeof(lock.name), "gil+0x28");
	weft_metrics__verdict_waiters(&m, names, shares, 3);
	assert_string_equal(m.verdict, "serialized by one lock (gil+0x28): 3 threads, "
				       "parallelism 1.00, 25% of thread time waiting for it");
	m.verdict_kind = WEFT_VERDICT_PARALLEL;
	assert_int_equal(weft_metrics__verdict_lock(&m), -1);
}

static void test_lock_stacks_in_reports(void **state)
{
	const struct jv *locks, *top, *st, *frames;
	const char *r;
	struct jv *v;

	(void)state;
	run_locks(true, true);
	r = report(output_text, false);
	check_columns(r);
	assert_non_null(strstr(r, "\nlocks (by total wait; 2 in all; each with its top user "
				  "stacks, leaf first):\n"));
	assert_non_null(
		strstr(r, "\n0x601000                 mutex            5  40.00 ms  "
			  "15.00 ms    2        5\n"
			  "     75%  30.00 ms  push_job <- producer <- start_thread <- clone3\n"
			  "     25%  10.00 ms  pop_job <- consumer <- start_thread <- clone3\n"
			  "0xffff888100001000       kernel"));

	r = report(output_markdown, false);
	assert_non_null(strstr(r, "\n| 0x601000 | mutex | 5 | 40.00 ms | 15.00 ms | 2 | 5 |\n"));
	assert_non_null(strstr(r, "\n| 0x601000 | 75% | 30.00 ms | push\\_job \\<- producer "
				  "\\<- start\\_thread \\<- clone3 |\n"));

	report(output_json, false);
	v = json_parse(text, text_len);
	assert_non_null(v);
	locks = jneed(v, "locks", J_ARR);
	assert_int_equal(locks->n, 2);
	top = jneed(locks->items[0], "top_stacks", J_ARR);
	assert_int_equal(top->n, 2);
	st = top->items[0];
	assert_true(fabs(jneed(st, "us", J_NUM)->num - 30000) < 1e-6);
	assert_true(fabs(jneed(st, "share", J_NUM)->num - 0.75) < 1e-6);
	frames = jneed(st, "frames", J_ARR);
	assert_int_equal(frames->n, 6);
	assert_string_equal(frames->items[0]->s, "__lll_lock_wait");
	assert_string_equal(frames->items[2]->s, "push_job");
	st = top->items[1];
	assert_true(fabs(jneed(st, "us", J_NUM)->num - 10000) < 1e-6);
	assert_true(fabs(jneed(st, "share", J_NUM)->num - 0.25) < 1e-6);
	assert_string_equal(jneed(st, "frames", J_ARR)->items[2]->s, "pop_job");
	/* stacks in the recording, none for this lock: [] */
	assert_int_equal(jneed(locks->items[1], "top_stacks", J_ARR)->n, 0);
	jv_free(v);
	teardown(NULL);

	/* no stacks: unknown, null */
	run_locks(false, true);
	report(output_json, false);
	v = json_parse(text, text_len);
	assert_non_null(v);
	locks = jneed(v, "locks", J_ARR);
	assert_int_equal(locks->n, 2);
	jneed(locks->items[0], "top_stacks", J_NULL);
	jneed(locks->items[1], "top_stacks", J_NULL);
	jv_free(v);
	r = report(output_text, false);
	assert_non_null(strstr(r, "\nlocks (by total wait; 2 in all):\n"));
	assert_null(strstr(r, "push_job"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_top_functions, teardown),
		cmocka_unit_test_teardown(test_top_offcpu_stacks, teardown),
		cmocka_unit_test_teardown(test_capture, teardown),
		cmocka_unit_test_teardown(test_without_stacks, teardown),
		cmocka_unit_test(test_short_stack),
		cmocka_unit_test_teardown(test_stacks_line, teardown),
		cmocka_unit_test_teardown(test_text_report, teardown),
		cmocka_unit_test_teardown(test_markdown_report, teardown),
		cmocka_unit_test_teardown(test_json_report, teardown),
		cmocka_unit_test_teardown(test_lock_stacks, teardown),
		cmocka_unit_test_teardown(test_lock_stacks_not_computed, teardown),
		cmocka_unit_test(test_short_lock_stack),
		cmocka_unit_test_teardown(test_lock_stacks_in_reports, teardown),
		cmocka_unit_test_teardown(test_python_functions, teardown),
		cmocka_unit_test(test_python_verdict),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	free(text);
	return failed;
}
