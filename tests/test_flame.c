// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Folded stacks from synthetic events through the analysis: every line is
 * "frames COUNT" with no space in the frames, on-CPU counts add up to the
 * samples, off-CPU counts to the analysis' blocked time; and the SVG is
 * well-formed with widths proportional to the counts. */
#include <errno.h>
#include <math.h>
#include <regex.h>
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
#include "flame.h"
#include "flame_svg.h"
#include "stack_attrib.h"
#include "stacks.h"
#include "event_builders.h"

#define MS 1000000ULL
#define PID 100
#define T2 101

/* user stacks of PID (leaf first) and kernel stacks */
static const char stacks_text[] = "s\tu\t100\t1\t3\n"
				  "f\t401010\twork\n"
				  "f\t401100\tmain\n"
				  "f\t401200\t__libc_start_call_main\n"
				  "s\tu\t100\t2\t3\n"
				  "f\t401310\twait here\n" /* a space: made '_' */
				  "f\t401400\tthread;fn\n" /* a ';': made '_' */
				  "f\t401500\tstart_thread\n"
				  "s\tk\t0\t3\t3\n"
				  "f\tffffffff81000000\tbpf_prog_1234_handle_switch\n"
				  "f\tffffffff81000100\tschedule\n"
				  "f\tffffffff81000200\tdo_futex\n"
				  "s\tk\t0\t4\t1\n"
				  "f\tffffffff81000300\tfutex_wake\n";

struct fixture {
	struct synth_events ev;
	struct stack_table *stacks;
	struct stack_attrib *attrib;
	struct flame *flame;
	struct weft_analysis *a;
	const struct weft_metrics *m;
};

static void feed_all(struct fixture *fx)
{
	size_t i;

	synth_sort(&fx->ev);
	for (i = 0; i < fx->ev.n; i++) {
		assert_int_equal(stack_attrib__feed(fx->attrib, &fx->ev.evs[i].hdr), 0);
		assert_int_equal(weft_analysis__feed(fx->a, &fx->ev.evs[i].hdr), 0);
	}
}

/* A fixture's stack table, flame and analysis (observing slices for the
 * flame), with the two threads of "my app" known from the start */
static void fixture_start(struct fixture *fx, unsigned int ncpu, const struct flame_opts *fo)
{
	struct analysis_opts o = {
		.ncpu = ncpu, .usable_cpus = ncpu, .start_ns = 0, .end_ns = 100 * MS
	};

	memset(fx, 0, sizeof(*fx));
	fx->stacks = stack_table__new();
	assert_non_null(fx->stacks);
	assert_int_equal(stack_table__decode(fx->stacks, stacks_text, sizeof(stacks_text) - 1), 0);
	fx->attrib = stack_attrib__new(fx->stacks);
	assert_non_null(fx->attrib);
	fx->flame = flame__new(fo, fx->attrib);
	fx->a = weft_analysis__new(&o);
	assert_non_null(fx->flame);
	assert_non_null(fx->a);
	weft_analysis__set_slice_observer(fx->a, stack_attrib__slice, fx->attrib);
	synth_task_state(&fx->ev, 0, PID, PID, 0, "my app");
	synth_task_state(&fx->ev, 0, T2, PID, 1, "worker");
}

/* Feeds the events and closes the analysis and the flame */
static void fixture_finish(struct fixture *fx)
{
	feed_all(fx);
	fx->m = weft_analysis__finish(fx->a);
	assert_non_null(fx->m);
	assert_int_equal(flame__finish(fx->flame, fx->m), 0);
}

/* Two threads of "my app": the main thread computes in work() (sampled),
 * the second blocks three times in wait_here() and is woken by the main
 * thread. */
static void run(struct fixture *fx, enum flame_type type, enum flame_by by)
{
	struct flame_opts fo = { .type = type, .by = by };
	__u64 t;
	int i;

	fixture_start(fx, 2, &fo);
	for (t = MS; t < 90 * MS; t += 10 * MS / 3)
		synth_sample(&fx->ev, t, PID, PID, 0, 1, -EFAULT);
	synth_sample(&fx->ev, 95 * MS, PID, PID, 0, -EFAULT, -EFAULT); /* nothing taken */
	for (i = 0; i < 3; i++) {
		t = (10 + 30 * i) * MS;
		synth_sample(&fx->ev, t - MS, T2, PID, 1, 2, -EFAULT);
		synth_block(&fx->ev, t, T2, PID, 1, 2, 3);
		synth_wake_run(&fx->ev, t + (7 + i) * MS + 333333, T2, PID, 1, PID, 1, 4);
	}
	fixture_finish(fx);
}

static void done(struct fixture *fx)
{
	flame__free(fx->flame);
	stack_attrib__free(fx->attrib);
	weft_analysis__free(fx->a);
	stack_table__free(fx->stacks);
}

/* Every line is "frames COUNT": frames without spaces, one space, digits;
 * returns the sum of the counts. */
static __u64 check_lines(const struct flame *f)
{
	regex_t re;
	__u64 sum = 0;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, i, n = 0;
	FILE *out = open_memstream(&text, &len);

	assert_int_equal(regcomp(&re, "^[^ ]+ [0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
	assert_non_null(out);
	assert_int_equal(flame__write_folded(f, out), 0);
	fclose(out);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(regexec(&re, line, 0, NULL, 0), 0);
		sum += strtoull(strrchr(line, ' ') + 1, NULL, 10);
		n++;
	}
	assert_int_equal(n, flame__count(f));
	for (i = 0; i < flame__count(f); i++) {
		assert_null(strchr(flame__stack(f, i), ' '));
		assert_true(flame__value(f, i) > 0);
		/* weft's own program frames are gone */
		assert_null(strstr(flame__stack(f, i), "bpf_prog_"));
	}
	assert_true(sum == flame__total(f));
	regfree(&re);
	free(text);
	return sum;
}

static __u64 value_of(const struct flame *f, const char *stack)
{
	size_t i;

	for (i = 0; i < flame__count(f); i++)
		if (!strcmp(flame__stack(f, i), stack))
			return flame__value(f, i);
	return 0;
}

static void test_oncpu(void **state)
{
	struct fixture fx;

	(void)state;
	run(&fx, FLAME_ONCPU, FLAME_BY_PROCESS);
	assert_true(check_lines(fx.flame) == fx.ev.samples);
	assert_int_equal(value_of(fx.flame, "my_app;__libc_start_call_main;main;work"), 27);
	/* the second thread's samples are under its process's name */
	assert_int_equal(value_of(fx.flame, "my_app;start_thread;thread_fn;wait_here"), 3);
	assert_int_equal(value_of(fx.flame, "my_app;[unknown]"), 1);
	done(&fx);

	run(&fx, FLAME_ONCPU, FLAME_BY_THREAD);
	assert_true(check_lines(fx.flame) == fx.ev.samples);
	assert_int_equal(value_of(fx.flame, "worker-101;start_thread;thread_fn;wait_here"), 3);
	done(&fx);

	run(&fx, FLAME_ONCPU, FLAME_BY_NONE);
	assert_int_equal(value_of(fx.flame, "start_thread;thread_fn;wait_here"), 3);
	done(&fx);
}

static void test_offcpu_adds_up_to_blocked_time(void **state)
{
	struct fixture fx;
	double us;

	(void)state;
	run(&fx, FLAME_OFFCPU, FLAME_BY_PID);
	us = fx.m->blocked_s * 1e6;
	assert_true(us > 20000);
	assert_true(fabs(check_lines(fx.flame) - us) <= 0.01 * us);
	assert_int_equal(flame__count(fx.flame), 1);
	assert_string_equal(
		flame__stack(fx.flame, 0),
		"my_app-100;start_thread;thread_fn;wait_here;do_futex_[k];schedule_[k]");
	done(&fx);
}

static void test_wakeup(void **state)
{
	struct fixture fx;

	(void)state;
	run(&fx, FLAME_WAKEUP, FLAME_BY_THREAD);
	assert_true(fabs(check_lines(fx.flame) - fx.m->blocked_s * 1e6) <=
		    0.01 * fx.m->blocked_s * 1e6);
	assert_int_equal(flame__count(fx.flame), 1);
	/* the waker's stack leaf first after "--", then the waker */
	assert_string_equal(flame__stack(fx.flame, 0),
			    "worker-101;start_thread;thread_fn;wait_here;do_futex_[k];schedule_[k];"
			    "--;futex_wake_[k];work;main;__libc_start_call_main;my_app-100");
	done(&fx);
}

static void test_lock_needs_a_lock(void **state)
{
	struct fixture fx;

	(void)state;
	/* the waits here are on no address: no lock, no line */
	run(&fx, FLAME_LOCK, FLAME_BY_PROCESS);
	assert_int_equal(flame__count(fx.flame), 0);
	done(&fx);
}

/* Lock waits, each lock's lines. On a mutex at LOCK, the worker waits
 * from wait_here() 10-14 (kernel stack 3), 20-25 (kernel stack 4), then
 * renames itself and waits 30-36 (kernel stack 3); the main thread waits
 * 40-42 from work(). Process OTHER waits 50-53 on the same address, its
 * own mutex, without a stack. The worker's condition variable wait 60-70
 * is no lock. */
#define OTHER 200
#define LOCK 0x601000ULL

static void run_locks(struct fixture *fx, enum flame_by by, bool user_only)
{
	struct flame_opts fo = { .type = FLAME_LOCK, .by = by, .user_only = user_only };

	fixture_start(fx, 3, &fo);
	synth_task_state(&fx->ev, 0, OTHER, OTHER, 2, "other");
	synth_block_futex(&fx->ev, 10 * MS, T2, PID, 1, 2, 3, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx->ev, 14 * MS, T2, PID, 1, PID, 1, 4);
	synth_block_futex(&fx->ev, 20 * MS, T2, PID, 1, 2, 4, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx->ev, 25 * MS, T2, PID, 1, PID, 1, 4);
	synth_rename(&fx->ev, 27 * MS, T2, PID, 1, "worker2");
	synth_block_futex(&fx->ev, 30 * MS, T2, PID, 1, 2, 3, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx->ev, 36 * MS, T2, PID, 1, PID, 1, 4);
	synth_block_futex(&fx->ev, 40 * MS, PID, PID, 0, 1, 3, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx->ev, 42 * MS, PID, PID, 0, T2, 2, 4);
	synth_block_futex(&fx->ev, 50 * MS, OTHER, OTHER, 2, WEFT_STACK_NOT_TAKEN,
			  WEFT_STACK_NOT_TAKEN, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx->ev, 53 * MS, OTHER, OTHER, 2, OTHER, -EFAULT, -EFAULT);
	synth_block_futex(&fx->ev, 60 * MS, T2, PID, 1, 2, 3, LOCK + 0x1000,
			  SYNTH_FUTEX_WAIT_BITSET_PRIVATE);
	synth_wake_run(&fx->ev, 70 * MS, T2, PID, 1, PID, 1, 4);
	fixture_finish(fx);
}

static void check_lock_line(const struct flame *f, size_t i, __u32 pid, const char *stack, __u64 ns)
{
	const struct flame_lock_line *l;

	assert_true(i < flame__lock_count(f));
	l = flame__lock_line(f, i);
	assert_int_equal(l->pid, pid);
	assert_int_equal(l->addr, LOCK);
	assert_string_equal(l->stack, stack);
	assert_int_equal(l->ns, ns);
}

/* --stack-every, lock type: a skipped wait's time goes to the thread's
 * next sampled stack at the same address, or, when none comes, to an
 * "[unsampled wait]" frame, never to a wait on another lock. The worker waits on LOCK 10-14
 * (sampled), 20-25 and 50-54 (skipped), and on LOCK2 30-33 (skipped) and
 * 40-42 (sampled, another stack). */
#define LOCK2 (LOCK + 0x2000)

static void test_lock_carry_stays_with_its_address(void **state)
{
	struct flame_opts fo = { .type = FLAME_LOCK, .by = FLAME_BY_THREAD, .user_only = true };
	const int skip = WEFT_STACK_SKIPPED;
	struct fixture fx;

	(void)state;
	fixture_start(&fx, 2, &fo);
	synth_block_futex(&fx.ev, 10 * MS, T2, PID, 1, 2, 3, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 14 * MS, T2, PID, 1, PID, 1, 4);
	synth_block_futex(&fx.ev, 20 * MS, T2, PID, 1, skip, skip, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 25 * MS, T2, PID, 1, PID, 1, 4);
	synth_block_futex(&fx.ev, 30 * MS, T2, PID, 1, skip, skip, LOCK2, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 33 * MS, T2, PID, 1, PID, 1, 4);
	synth_block_futex(&fx.ev, 40 * MS, T2, PID, 1, 1, 3, LOCK2, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 42 * MS, T2, PID, 1, PID, 1, 4);
	synth_block_futex(&fx.ev, 50 * MS, T2, PID, 1, skip, skip, LOCK, SYNTH_FUTEX_WAIT_PRIVATE);
	synth_wake_run(&fx.ev, 54 * MS, T2, PID, 1, PID, 1, 4);
	fixture_finish(&fx);
	assert_int_equal(value_of(fx.flame, "worker-101;start_thread;thread_fn;wait_here"),
			 4 * 1000);
	assert_int_equal(value_of(fx.flame, "worker-101;__libc_start_call_main;main;work"),
			 (3 + 2) * 1000);
	/* the skipped waits on LOCK: no sampled stack on LOCK came after
	 * them */
	assert_int_equal(value_of(fx.flame, "worker-101;[unsampled_wait]"), (5 + 4) * 1000);
	assert_int_equal(check_lines(fx.flame), 18000);
	done(&fx);
}

static void test_lock_lines(void **state)
{
	struct fixture fx;

	(void)state;
	run_locks(&fx, FLAME_BY_THREAD, true);
	/* the analysis' table: a mutex per process, the condition variable
	 * no lock */
	assert_int_equal(fx.m->nr_locks, 2);
	/* by process, then time: the kernel paths make no difference, the
	 * new name does */
	assert_int_equal(flame__lock_count(fx.flame), 4);
	check_lock_line(fx.flame, 0, PID, "worker-101;start_thread;thread_fn;wait_here", 9 * MS);
	check_lock_line(fx.flame, 1, PID, "worker2-101;start_thread;thread_fn;wait_here", 6 * MS);
	check_lock_line(fx.flame, 2, PID, "my_app-100;__libc_start_call_main;main;work", 2 * MS);
	check_lock_line(fx.flame, 3, OTHER, "other-200;[unknown]", 3 * MS);
	/* the graph: the same lines, merged across locks, in us */
	assert_int_equal(check_lines(fx.flame), 20000);
	assert_int_equal(flame__count(fx.flame), 4);
	assert_int_equal(value_of(fx.flame, "worker-101;start_thread;thread_fn;wait_here"), 9000);
	assert_int_equal(value_of(fx.flame, "other-200;[unknown]"), 3000);
	done(&fx);

	/* with kernel frames, waits through two kernel paths are two lines */
	run_locks(&fx, FLAME_BY_NONE, false);
	assert_int_equal(flame__lock_count(fx.flame), 4);
	check_lock_line(fx.flame, 0, PID,
			"start_thread;thread_fn;wait_here;do_futex_[k];schedule_[k]", 10 * MS);
	check_lock_line(fx.flame, 1, PID, "start_thread;thread_fn;wait_here;futex_wake_[k]",
			5 * MS);
	check_lock_line(fx.flame, 2, PID,
			"__libc_start_call_main;main;work;do_futex_[k];schedule_[k]", 2 * MS);
	check_lock_line(fx.flame, 3, OTHER, "[unknown]", 3 * MS);
	done(&fx);

	/* other types have none */
	run(&fx, FLAME_OFFCPU, FLAME_BY_PID);
	assert_int_equal(flame__lock_count(fx.flame), 0);
	done(&fx);
}

/* --- SVG --- */

/* A crude XML check: tags balance (CDATA, comments, <?...?> and
 * self-closing tags aside), attributes are quoted. */
static void check_xml(const char *s)
{
	const char *stack[64];
	size_t lens[64], depth = 0, n;
	const char *p = s, *end;

	assert_int_equal(strncmp(s, "<?xml", 5), 0);
	while ((p = strchr(p, '<'))) {
		if (!strncmp(p, "<![CDATA[", 9)) {
			p = strstr(p, "]]>");
			assert_non_null(p);
			continue;
		}
		end = strchr(p, '>');
		assert_non_null(end);
		if (p[1] == '?' || p[1] == '!' || end[-1] == '/') {
			p = end;
			continue;
		}
		if (p[1] == '/') {
			assert_true(depth > 0);
			depth--;
			assert_int_equal(strncmp(p + 2, stack[depth], lens[depth]), 0);
		} else {
			n = strcspn(p + 1, " >");
			assert_true(depth < 64);
			stack[depth] = p + 1;
			lens[depth++] = n;
		}
		p = end;
	}
	assert_int_equal(depth, 0);
}

static void test_svg(void **state)
{
	static const char *const stacks[] = { "a;b;c", "a;b;d", "a;e", "f" };
	static const __u64 values[] = { 300, 100, 500, 100 };
	/* all, a, b, c, d, e, f */
	static const char *const names[] = { "all", "a", "b", "c", "d", "e", "f" };
	static const __u64 totals[] = { 1000, 900, 400, 300, 100, 500, 100 };
	struct flame_svg_opts o = { .title = "Test <&>", .unit = "us" };
	char *text = NULL, *p, title[64];
	size_t len = 0, rects = 0, i;
	double scale = 0, x, w;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	assert_int_equal(flame_svg__write(out, stacks, values, 4, &o), 0);
	fclose(out);
	check_xml(text);
	assert_non_null(strstr(text, "Test &lt;&amp;&gt;"));
	/* every frame: <title>NAME (DURATION, ...)</title><rect x=.. width=..>,
	 * microseconds read as a duration with its unit */
	assert_non_null(strstr(text, "<title>all (1.00 ms, 100.00%)</title>"));
	assert_non_null(strstr(text, "<title>e (500 us, 50.00%)</title>"));
	for (p = text; (p = strstr(p, "<rect x=\"")); p++) {
		if (sscanf(p, "<rect x=\"%lf\" y=\"%*f\" width=\"%lf\"", &x, &w) != 2)
			continue;
		if (w == FLAME_SVG_WIDTH) /* the background */
			continue;
		rects++;
		for (i = 0; i < 7; i++) {
			if (totals[i] >= 1000)
				snprintf(title, sizeof(title), "<title>%s (%.2f ms", names[i],
					 totals[i] / 1e3);
			else
				snprintf(title, sizeof(title), "<title>%s (%llu us", names[i],
					 (unsigned long long)totals[i]);
			if (strstr(p - 200 > text ? p - 200 : text, title) &&
			    strstr(p - 200 > text ? p - 200 : text, title) < p)
				break;
		}
		assert_true(i < 7);
		if (!scale)
			scale = w / totals[i];
		assert_true(fabs(w - scale * totals[i]) < 0.001 * w + 0.0002);
	}
	assert_int_equal(rects, 7);
	assert_true(fabs(scale * 1000 - (FLAME_SVG_WIDTH - 20)) < 0.01);
	free(text);
}

/* The fill of the frame titled name */
static void fill_of(const char *svg, const char *name, unsigned int rgb[3])
{
	char title[64];
	const char *p;

	snprintf(title, sizeof(title), "<title>%s (", name);
	p = strstr(svg, title);
	assert_non_null(p);
	p = strstr(p, "fill=\"rgb(");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "fill=\"rgb(%u,%u,%u)", &rgb[0], &rgb[1], &rgb[2]), 3);
}

/* Off-CPU graphs blue (flamegraph.pl's io: r = g < b), lock graphs red,
 * on-CPU warm; kernel frames a shade of their own in each. */
static void test_svg_palettes(void **state)
{
	static const char *const stacks[] = { "prog;main;read", "prog;main;schedule_[k]" };
	static const __u64 values[] = { 300, 100 };
	static const enum flame_svg_palette palettes[] = { FLAME_SVG_HOT, FLAME_SVG_IO,
							   FLAME_SVG_LOCK };
	unsigned int user[3], kernel[3], i;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct flame_svg_opts o = { .title = "t", .unit = "us", .palette = palettes[i] };

		out = open_memstream(&text, &len);
		assert_non_null(out);
		assert_int_equal(flame_svg__write(out, stacks, values, 2, &o), 0);
		fclose(out);
		fill_of(text, "read", user);
		fill_of(text, "schedule_[k]", kernel);
		switch (palettes[i]) {
		case FLAME_SVG_HOT:
			assert_true(user[0] > user[2] + 100);
			break;
		case FLAME_SVG_IO:
			assert_true(user[0] == user[1] && user[2] > user[0] + 40);
			/* teal: green well above red */
			assert_true(kernel[1] > kernel[0] + 80 && kernel[2] > kernel[0] + 80);
			break;
		case FLAME_SVG_LOCK:
			assert_true(user[0] >= 200 && user[0] > user[1] + 90 &&
				    user[0] > user[2] + 90);
			assert_true(kernel[2] > kernel[1] + 40);
			break;
		}
		assert_false(user[0] == kernel[0] && user[1] == kernel[1] && user[2] == kernel[2]);
		free(text);
		text = NULL;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oncpu),
		cmocka_unit_test(test_offcpu_adds_up_to_blocked_time),
		cmocka_unit_test(test_wakeup),
		cmocka_unit_test(test_lock_needs_a_lock),
		cmocka_unit_test(test_lock_lines),
		cmocka_unit_test(test_lock_carry_stays_with_its_address),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_svg_palettes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
