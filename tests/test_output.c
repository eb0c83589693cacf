// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The report writers. JSON is read back by a small strict parser (RFC
 * 8259: no trailing commas, no NaN, no raw control characters, valid
 * UTF-8; json_check.h), so the test needs nothing but libc; the text report
 * must fit 80 columns and warn first; markdown tables must keep their
 * columns whatever a thread is called. */
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
#include "json.h"
#include "output.h"
#include "json_check.h"

#define EVENT_TARGET struct weft_analysis
#include "event_builders.h"

static void need_int(const struct jv *obj, const char *key)
{
	const struct jv *v = jneed(obj, key, J_NUM);

	if (!v->integer || v->num < 0)
		fail_msg("key \"%s\" is not a non-negative integer", key);
}

static void need_share(const struct jv *obj, const char *key)
{
	const struct jv *v = jneed(obj, key, J_NUM);

	if (v->num < 0 || v->num > 1)
		fail_msg("key \"%s\" = %g is not a share", key, v->num);
}

/* ---- building reports ---- */

#define US 1000ULL
#define MS 1000000ULL

static char *text_buf;
static size_t text_len;

static FILE *mem_open(void)
{
	FILE *f;

	free(text_buf);
	text_buf = NULL;
	f = open_memstream(&text_buf, &text_len);
	assert_non_null(f);
	return f;
}

static void mem_close(FILE *f)
{
	assert_int_equal(fclose(f), 0);
}

static void feed(struct weft_analysis *a, const void *ev)
{
	assert_int_equal(weft_analysis__feed(a, ev), 0);
}

/* A name with everything a writer must escape: a quote, a backslash, a
 * pipe, a control character and a byte that is not UTF-8. */
#define NASTY_COMM "w|k\"r\\\x01\xff*_<b>"

static const char *const long_command[] = {
	"/usr/local/bin/weft-work",
	"--task",
	"cpu",
	"--mode",
	"threads",
	"--workers",
	"4",
	"--label",
	"it's a long label with spaces that goes on and on past eighty columns for sure",
	"--units",
	"1000",
};

/* Four threads of one process on two CPUs, preempting each other for
 * 50 ms, with forks, a rename, CPU totals with a few lost records, the
 * kernel's accounting and rusage: a report with every part filled. */
static struct weft_analysis *typical(unsigned int ncpu, bool lost, bool truncated)
{
	struct analysis_opts o = { .ncpu = ncpu, .usable_cpus = 2 };
	struct weft_ev_fork f = { .hdr = { .type = WEFT_EV_FORK } };
	struct weft_ev_rename r = { .hdr = { .ts_ns = 1 * MS, .type = WEFT_EV_RENAME } };
	struct weft_ev_exit x = { .hdr = { .type = WEFT_EV_EXIT } };
	struct weft_ev_task_state st = { .hdr = { .type = WEFT_EV_TASK_STATE } };
	/* the kernel's figures of 1001..1003, a little off weft's */
	static const __u64 exec_us[] = { 29010, 28000, 24990 },
			   delay_us[] = { 25000, 26050, 29000 };
	struct weft_ev_cpu_totals c = { .hdr = { .ts_ns = 60 * MS, .type = WEFT_EV_CPU_TOTALS } };
	struct weft_analysis *a;
	__u32 run[2] = { 1000, 1001 }, wait[2] = { 1002, 1003 }, tmp;
	unsigned int i, k;

	o.command = long_command;
	o.command_len = sizeof(long_command) / sizeof(long_command[0]);
	o.truncated = truncated;
	o.has_rusage = true;
	o.rusage_user_s = 0.099;
	o.rusage_sys_s = 0.001;
	o.maxrss_kb = 3456;
	a = weft_analysis__new(&o);
	assert_non_null(a);
	/* the root, as the recorder holds it before exec */
	st.tid = st.tgid = 1000;
	st.state = WEFT_TASK_BLOCKED;
	st.sum_exec_ns = 2 * MS;
	strcpy(st.comm, "weft-work");
	assert_int_equal(weft_analysis__feed(a, &st.hdr), 0);
	for (i = 1; i < 4; i++) {
		f.hdr.ts_ns = 0;
		f.hdr.flags = WEFT_FORK_THREAD;
		f.parent_tid = f.parent_tgid = f.child_tgid = 1000;
		f.child_tid = 1000 + i;
		strcpy(f.comm, "weft-work");
		assert_int_equal(weft_analysis__feed(a, &f.hdr), 0);
	}
	r.tid = 1003;
	r.tgid = 1000;
	memcpy(r.comm, NASTY_COMM, sizeof(NASTY_COMM));
	assert_int_equal(weft_analysis__feed(a, &r.hdr), 0);
	for (k = 0; k < 2; k++) {
		wake_from(a, 1 * MS, run[k], k, 0, 1 * MS - 3 * US, 0);
		wake_from(a, 1 * MS, wait[k], k, 0, 1 * MS - 3 * US, 0);
		sw(a, 1 * MS, k, 0, BLOCK, run[k]);
	}
	for (i = 1; i <= 10; i++)
		for (k = 0; k < 2; k++) {
			sw(a, (1 + 5 * i) * MS + k * US, k, run[k], PREEMPT, wait[k]);
			tmp = run[k];
			run[k] = wait[k];
			wait[k] = tmp;
		}
	for (k = 0; k < 2; k++) {
		sw(a, 52 * MS, k, run[k], BLOCK, wait[k]);
		sw(a, 55 * MS, k, wait[k], BLOCK, 0);
	}
	for (i = 1; i < 4; i++) {
		x.hdr.ts_ns = 56 * MS;
		x.tid = 1000 + i;
		x.tgid = 1000;
		x.sum_exec_ns = exec_us[i - 1] * US;
		x.run_delay_ns = delay_us[i - 1] * US;
		assert_int_equal(weft_analysis__feed(a, &x.hdr), 0);
	}
	for (k = 0; k < ncpu; k++) {
		c.hdr.cpu = k;
		c.idle_ns = 10 * MS;
		c.traced_ns = k < 2 ? 54 * MS : 0;
		c.other_ns = 1 * MS;
		c.steal_ns = 100 * US;
		c.lost = lost && k == 1 ? 1234 : 0;
		assert_int_equal(weft_analysis__feed(a, &c.hdr), 0);
	}
	return a;
}

static int setup(void **state)
{
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	weft_analysis__free(*state);
	free(text_buf);
	text_buf = NULL;
	return 0;
}

/* ---- the JSON writer ---- */

static struct jv *write_and_parse(void (*fn)(struct json_writer *), int want_err)
{
	FILE *f = mem_open();
	struct json_writer *w = json_writer__new(f, JSON_WRITER_PRETTY);

	assert_non_null(w);
	fn(w);
	assert_int_equal(json_writer__finish(w), want_err);
	json_writer__free(w);
	mem_close(f);
	return want_err ? NULL : json_parse(text_buf, text_len);
}

static void write_values(struct json_writer *w)
{
	json_writer__object_begin(w);
	json_writer__key(w, "s");
	json_writer__string(w, "a\"b\\c\n\t\x01\x7f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	json_writer__key(w, "bad");
	json_writer__string(w, "\xff\xc3(\xed\xa0\x80\xc0\xaf");
	json_writer__key(w, "fixed");
	json_writer__array_begin_flat(w);
	json_writer__fixed(w, 2.5, 9);
	json_writer__fixed(w, 2.0, 9);
	json_writer__fixed(w, -1e-12, 9);
	json_writer__fixed(w, 0.1234567891, 6);
	json_writer__fixed(w, NAN, 3);
	json_writer__fixed(w, -INFINITY, 3);
	json_writer__double(w, 1e300);
	json_writer__double(w, NAN);
	json_writer__fixed(w, 1e300, 9);
	json_writer__array_end(w);
	json_writer__key(w, "ints");
	json_writer__array_begin(w);
	json_writer__uint(w, UINT64_MAX);
	json_writer__int(w, INT64_MIN);
	json_writer__bool(w, true);
	json_writer__null(w);
	json_writer__array_begin(w);
	json_writer__array_end(w);
	json_writer__object_begin(w);
	json_writer__object_end(w);
	json_writer__array_begin_flat(w);
	json_writer__object_begin(w);
	json_writer__key(w, "in");
	json_writer__string(w, "flat");
	json_writer__key(w, "x");
	json_writer__int(w, 1);
	json_writer__object_end(w);
	json_writer__array_end(w);
	json_writer__array_end(w);
	json_writer__object_end(w);
}

static void test_json_writer_values(void **state)
{
	struct jv *v = write_and_parse(write_values, 0);
	const struct jv *fx, *ints;

	(void)state;
	assert_non_null(v);
	assert_string_equal(jneed(v, "s", J_STR)->s,
			    "a\"b\\c\n\t\x01\x7f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* each byte of an ill-formed sequence is one U+FFFD */
	assert_string_equal(jneed(v, "bad", J_STR)->s,
			    "\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd\xef\xbf\xbd");
	fx = jneed(v, "fixed", J_ARR);
	assert_int_equal(fx->n, 9);
	assert_true(fx->items[0]->num == 2.5 && !fx->items[0]->integer);
	assert_true(fx->items[1]->num == 2 && fx->items[1]->integer);
	assert_true(fx->items[2]->num == 0 && fx->items[2]->integer);
	assert_true(fx->items[3]->num == 0.123457);
	assert_int_equal(fx->items[4]->t, J_NULL);
	assert_int_equal(fx->items[5]->t, J_NULL);
	assert_true(fx->items[6]->num == 1e300);
	assert_int_equal(fx->items[7]->t, J_NULL);
	assert_true(fx->items[8]->num == 1e300);
	ints = jneed(v, "ints", J_ARR);
	assert_int_equal(ints->n, 7);
	assert_true(ints->items[0]->num == 18446744073709551615.0);
	assert_int_equal(ints->items[2]->t, J_BOOL);
	assert_int_equal(ints->items[3]->t, J_NULL);
	assert_int_equal(ints->items[4]->t, J_ARR);
	assert_int_equal(ints->items[5]->t, J_OBJ);
	assert_string_equal(jneed(ints->items[6]->items[0], "in", J_STR)->s, "flat");
	jv_free(v);
	/* the exact text: escapes and the flat array on one line */
	assert_non_null(strstr(text_buf, "\"a\\\"b\\\\c\\n\\t\\u0001\x7f/"));
	assert_non_null(strstr(text_buf, "[2.5, 2, 0, 0.123457, null, null, 1e+300, null, "));
	assert_non_null(strstr(text_buf, "[{\"in\": \"flat\", \"x\": 1}]"));
}

static void misuse_value_without_key(struct json_writer *w)
{
	json_writer__object_begin(w);
	json_writer__int(w, 1);
	json_writer__object_end(w);
}

static void misuse_key_in_array(struct json_writer *w)
{
	json_writer__array_begin(w);
	json_writer__key(w, "k");
	json_writer__array_end(w);
}

static void misuse_unbalanced(struct json_writer *w)
{
	json_writer__object_begin(w);
	json_writer__array_end(w);
}

static void misuse_unclosed(struct json_writer *w)
{
	json_writer__array_begin(w);
}

static void misuse_two_values(struct json_writer *w)
{
	json_writer__int(w, 1);
	json_writer__int(w, 2);
}

static void misuse_dangling_key(struct json_writer *w)
{
	json_writer__object_begin(w);
	json_writer__key(w, "k");
	json_writer__object_end(w);
}

static void misuse_too_deep(struct json_writer *w)
{
	int i;

	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		json_writer__array_begin(w);
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		json_writer__array_end(w);
}

static void nothing(struct json_writer *w)
{
	(void)w;
}

static void test_json_writer_misuse(void **state)
{
	(void)state;
	write_and_parse(misuse_value_without_key, -EINVAL);
	write_and_parse(misuse_key_in_array, -EINVAL);
	write_and_parse(misuse_unbalanced, -EINVAL);
	write_and_parse(misuse_unclosed, -EINVAL);
	write_and_parse(misuse_two_values, -EINVAL);
	write_and_parse(misuse_dangling_key, -EINVAL);
	write_and_parse(misuse_too_deep, -EINVAL);
	write_and_parse(nothing, -EINVAL);
}

/* The checker itself must refuse what is not JSON. */
static void test_json_checker_rejects(void **state)
{
	const char *bad[] = { "",	    "{",	   "[1,]",
			      "{\"a\":1,}", "NaN",	   "[Infinity]",
			      "01",	    "1.",	   "-",
			      "\"\x01\"",   "\"\\x\"",	   "\"\xff\"",
			      "{\"a\" 1}",  "[1] [2]",	   "{\"a\":1,\"a\":2}",
			      "tru",	    "\"\\ud800\"", "[.5]" };
	const char *good[] = {
		"0", "-0.5e-3", "[]", "{}", "\"\\ud83d\\ude00\"", " [1, {\"a\": null}] "
	};
	unsigned int i;
	struct jv *v;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = json_parse(bad[i], strlen(bad[i]));
		if (v)
			fail_msg("accepted %s", bad[i]);
	}
	/* a NUL between tokens is no whitespace */
	assert_null(json_parse("[1,\0 2]", 7));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = json_parse(good[i], strlen(good[i]));
		if (!v)
			fail_msg("rejected %s", good[i]);
		jv_free(v);
	}
}

/* ---- the reports ---- */

static const char *const top_keys[] = {
	"version",	     "command",	       "ncpu",		 "wall_s",	"lost_events",
	"truncated",	     "on_cpu_s",       "parallelism",	 "concurrency", "interleaving",
	"interleaved_share", "runqueue_delay", "wakeup_latency", "usable_cpus", "steal_s",
	"accounting",	     "switches",       "migrations",	 "cpus",	"processes",
	"threads",	     "rusage",	       "verdict",
};

static const char *const off_cpu_keys[] = {
	"lock_s", "wait_s", "io_s", "sleep_s", "fault_s", "runqueue_s", "other_s",
};

static void check_report_json(const struct jv *v, const struct weft_metrics *m)
{
	const struct jv *o, *arr;
	unsigned int i;

	assert_int_equal(v->t, J_OBJ);
	for (i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
		if (!jget(v, top_keys[i]))
			fail_msg("stable key \"%s\" missing", top_keys[i]);
	jneed(v, "serialized_s", J_NUM);
	o = jneed(v, "off_cpu", J_OBJ);
	for (i = 0; i < sizeof(off_cpu_keys) / sizeof(off_cpu_keys[0]); i++)
		jneed(o, off_cpu_keys[i], J_NUM);
	jneed(v, "locks", J_ARR);

	jneed(v, "version", J_STR);
	arr = jneed(v, "command", J_ARR);
	assert_int_equal(arr->n, m->command_len);
	for (i = 0; i < arr->n; i++) {
		assert_int_equal(arr->items[i]->t, J_STR);
		assert_string_equal(arr->items[i]->s, m->command[i]);
	}
	need_int(v, "ncpu");
	jneed(v, "wall_s", J_NUM);
	need_int(v, "lost_events");
	assert_true(jneed(v, "lost_events", J_NUM)->num == m->lost_events);
	assert_true(jneed(v, "truncated", J_BOOL)->b == m->truncated);
	jneed(v, "on_cpu_s", J_NUM);

	o = jneed(v, "parallelism", J_OBJ);
	jneed(o, "avg", J_NUM);
	need_int(o, "max");
	arr = jneed(o, "histogram", J_ARR);
	assert_int_equal(arr->n, m->ncpu + 1);
	for (i = 0; i < arr->n; i++) {
		assert_int_equal(arr->items[i]->t, J_NUM);
		assert_true(arr->items[i]->num >= 0 && arr->items[i]->num <= 1);
	}
	jneed(jneed(v, "concurrency", J_OBJ), "avg", J_NUM);
	o = jneed(v, "interleaving", J_OBJ);
	jneed(o, "interleaved_s", J_NUM);
	need_int(o, "handoffs");
	jneed(o, "slice_p50_us", J_NUM);
	need_share(v, "interleaved_share");
	o = jneed(v, "runqueue_delay", J_OBJ);
	need_int(o, "count");
	jneed(o, "total_s", J_NUM);
	jneed(o, "p50_us", J_NUM);
	jneed(o, "p99_us", J_NUM);
	jneed(o, "max_us", J_NUM);
	jneed(o, "by_tree_s", J_NUM);
	jneed(o, "by_others_s", J_NUM);
	assert_true(fabs(jget(o, "by_tree_s")->num + jget(o, "by_others_s")->num -
			 jget(o, "total_s")->num) < 2e-9);
	o = jneed(v, "wakeup_latency", J_OBJ);
	need_int(o, "count");
	jneed(o, "total_s", J_NUM);
	jneed(o, "p50_us", J_NUM);
	jneed(o, "p99_us", J_NUM);
	need_int(v, "usable_cpus");
	jneed(v, "steal_s", J_NUM);
	o = jneed(v, "accounting", J_OBJ);
	assert_non_null(jget(o, "on_cpu_err"));
	assert_non_null(jget(o, "runqueue_err"));
	need_int(o, "threads_checked");
	o = jneed(v, "switches", J_OBJ);
	need_int(o, "voluntary");
	need_int(o, "involuntary");
	need_int(v, "migrations");

	arr = jneed(v, "cpus", J_ARR);
	assert_int_equal(arr->n, m->ncpu);
	for (i = 0; i < arr->n; i++) {
		o = arr->items[i];
		need_int(o, "cpu");
		need_share(o, "traced");
		assert_non_null(jget(o, "other"));
		assert_non_null(jget(o, "idle"));
		need_int(o, "threads");
		need_int(o, "handoffs");
		need_int(o, "migrations_in");
		need_int(o, "migrations_out");
	}
	arr = jneed(v, "processes", J_ARR);
	assert_int_equal(arr->n, m->nr_processes);
	for (i = 0; i < arr->n; i++) {
		o = arr->items[i];
		need_int(o, "pid");
		jneed(o, "comm", J_STR);
		need_int(o, "threads");
		jneed(o, "on_cpu_s", J_NUM);
	}
	arr = jneed(v, "threads", J_ARR);
	assert_int_equal(arr->n, m->nr_threads);
	for (i = 0; i < arr->n; i++) {
		o = arr->items[i];
		need_int(o, "tid");
		need_int(o, "pid");
		jneed(o, "comm", J_STR);
		jneed(o, "on_cpu_s", J_NUM);
		jneed(o, "runqueue_s", J_NUM);
		jneed(o, "blocked_s", J_NUM);
		need_int(o, "voluntary");
		need_int(o, "involuntary");
		assert_true(jget(o, "tid")->num == m->threads[i].tid);
	}
	assert_string_equal(jneed(v, "verdict", J_STR)->s, m->verdict);
}

static void test_json_report(void **state)
{
	struct weft_analysis *a = *state = typical(4, true, true);
	const struct weft_metrics *m = weft_analysis__finish(a);
	struct output_opts o = { 0 };
	const struct jv *t;
	struct jv *v;
	FILE *f;

	assert_non_null(m);
	f = mem_open();
	assert_int_equal(output_json(f, m, &o), 0);
	mem_close(f);
	v = json_parse(text_buf, text_len);
	if (!v)
		fail_msg("not JSON:\n%s", text_buf);
	check_report_json(v, m);
	jneed(v, "rusage", J_OBJ);
	assert_true(jneed(jneed(v, "rusage", J_OBJ), "maxrss_kb", J_NUM)->num == 3456);
	assert_true(jneed(v, "lost_events", J_NUM)->num == 1234);
	/* the renamed thread: its name back, the stray byte replaced */
	t = jneed(v, "threads", J_ARR)->items[3];
	assert_true(jneed(t, "tid", J_NUM)->num == 1003);
	assert_string_equal(jneed(jneed(v, "processes", J_ARR)->items[0], "comm", J_STR)->s,
			    "weft-work");
	assert_string_equal(jneed(t, "comm", J_STR)->s, "w|k\"r\\\x01\xef\xbf\xbd*_<b>");
	assert_true(jneed(jneed(v, "accounting", J_OBJ), "threads_checked", J_NUM)->num == 3);
	need_share(jneed(v, "accounting", J_OBJ), "on_cpu_err");
	jv_free(v);
}

/* Nothing recorded: every division by a zero wall must still give JSON
 * numbers, and the errors of an empty accounting are null. */
static void test_json_empty(void **state)
{
	struct analysis_opts opts = { .ncpu = 2 };
	struct output_opts o = { 0 };
	const struct weft_metrics *m;
	struct weft_analysis *a;
	struct jv *v;
	FILE *f;

	a = *state = weft_analysis__new(&opts);
	assert_non_null(a);
	m = weft_analysis__finish(a);
	assert_non_null(m);
	f = mem_open();
	assert_int_equal(output_json(f, m, &o), 0);
	mem_close(f);
	v = json_parse(text_buf, text_len);
	assert_non_null(v);
	check_report_json(v, m);
	assert_int_equal(jneed(jneed(v, "accounting", J_OBJ), "on_cpu_err", J_NULL)->t, J_NULL);
	assert_int_equal(jneed(v, "rusage", J_NULL)->t, J_NULL);
	assert_int_equal(jneed(v, "command", J_ARR)->n, 0);
	assert_string_equal(jneed(v, "verdict_kind", J_STR)->s, "no_data");
	jv_free(v);

	/* and the other writers survive it too */
	f = mem_open();
	assert_int_equal(output_text(f, m, &(struct output_opts){ .threads = true, .cpus = true }),
			 0);
	assert_int_equal(
		output_markdown(f, m, &(struct output_opts){ .threads = true, .cpus = true }), 0);
	mem_close(f);
	assert_null(strstr(text_buf, "nan"));
	assert_null(strstr(text_buf, "inf"));
}

static void check_columns(const char *text, size_t width)
{
	const char *line = text, *nl;
	unsigned int n = 0;

	for (; *line; line = nl + 1, n++) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		if ((size_t)(nl - line) > width)
			fail_msg("line %u is %zu columns:\n%.*s", n + 1, (size_t)(nl - line),
				 (int)(nl - line), line);
	}
}

static void test_text_report(void **state)
{
	struct weft_analysis *a = *state = typical(4, true, true);
	const struct weft_metrics *m = weft_analysis__finish(a);
	struct output_opts o = { .threads = true, .cpus = true };
	const char *verdict;
	FILE *f;

	assert_non_null(m);
	f = mem_open();
	assert_int_equal(output_text(f, m, &o), 0);
	mem_close(f);
	check_columns(text_buf, OUTPUT_TEXT_COLUMNS);
	assert_true(!strncmp(text_buf, "WARNING: 1234 events lost; figures are incomplete\n",
			     strlen("WARNING: 1234 events lost; figures are incomplete\n")));
	assert_non_null(strstr(text_buf, "\nWARNING: recording truncated"));
	/* the long argument is quoted and wrapped, not cut */
	assert_non_null(strstr(text_buf, "'it'\\''s a long label"));
	assert_non_null(strstr(text_buf, "\nparallelism:     "));
	assert_non_null(strstr(text_buf, "|########"));
	assert_non_null(strstr(text_buf, "\naccounting:      on-CPU within"));
	assert_non_null(strstr(text_buf, "\nrun-queue delay: "));
	assert_non_null(strstr(text_buf, "\ninterleaving:    "));
	assert_non_null(strstr(text_buf, "\nthreads (4)"));
	assert_non_null(strstr(text_buf, "\ncpus "));
	/* the control character is shown as '?' */
	assert_non_null(strstr(text_buf, "w|k\"r\\?"));
	/* wrapped after its first clause */
	verdict = strstr(text_buf, "\nverdict:         oversubscribed: 4 runnable threads on 2 "
				   "cores,\n                 interleaved 96% of the time\n");
	assert_non_null(verdict);
	/* the verdict ends the summary: the tables follow it */
	assert_true(verdict < strstr(text_buf, "\nthreads ("));
	assert_true(m->verdict_kind == WEFT_VERDICT_OVERSUBSCRIBED);
}

static void test_text_report_plain(void **state)
{
	struct weft_analysis *a = *state = typical(2, false, false);
	const struct weft_metrics *m = weft_analysis__finish(a);
	struct output_opts o = { 0 };
	FILE *f;

	assert_non_null(m);
	f = mem_open();
	assert_int_equal(output_text(f, m, &o), 0);
	mem_close(f);
	check_columns(text_buf, OUTPUT_TEXT_COLUMNS);
	assert_true(!strncmp(text_buf, "command:", 8));
	assert_null(strstr(text_buf, "WARNING"));
	assert_null(strstr(text_buf, "\nthreads ("));
	assert_null(strstr(text_buf, "\ncpus "));
}

/* On 64 CPUs the histogram stops after the last R used. */
static void test_text_report_many_cpus(void **state)
{
	struct weft_analysis *a = *state = typical(64, false, false);
	const struct weft_metrics *m = weft_analysis__finish(a);
	struct output_opts o = { .cpus = true };
	FILE *f;

	assert_non_null(m);
	f = mem_open();
	assert_int_equal(output_text(f, m, &o), 0);
	mem_close(f);
	check_columns(text_buf, OUTPUT_TEXT_COLUMNS);
	assert_non_null(strstr(text_buf, "R = 3..64: none\n"));
	assert_non_null(strstr(text_buf, "\n  63 "));
}

/* Unescaped pipes in a table row: the cell borders. */
static unsigned int cells(const char *line, size_t len)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (line[i] == '\\') {
			i++;
			continue;
		}
		n += line[i] == '|';
	}
	return n;
}

static void test_markdown_report(void **state)
{
	struct weft_analysis *a = *state = typical(4, true, false);
	const struct weft_metrics *m = weft_analysis__finish(a);
	struct output_opts o = { .threads = true, .cpus = true };
	const char *line, *nl;
	unsigned int header = 0, rows = 0;
	FILE *f;

	assert_non_null(m);
	f = mem_open();
	assert_int_equal(output_markdown(f, m, &o), 0);
	mem_close(f);
	assert_non_null(strstr(text_buf, "> **Warning:** 1234 events lost"));
	assert_non_null(strstr(text_buf, "### Threads"));
	assert_non_null(strstr(text_buf, "### CPUs"));
	assert_non_null(strstr(text_buf, "w\\|k\"r\\\\?"));
	/* every row of a table has as many cells as its header */
	for (line = text_buf; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		if (*line != '|') {
			header = 0;
			continue;
		}
		if (!header) {
			header = cells(line, nl - line);
			continue;
		}
		assert_int_equal(cells(line, nl - line), header);
		rows++;
	}
	assert_true(rows > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json_writer_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_writer_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_checker_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_report_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_report_many_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markdown_report, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
