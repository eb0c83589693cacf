// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "gil.h"
#include "work.h"

/* A model that hangs must fail the suite, not stall it. */
#define TEST_ALARM_S 20

static struct work_opts small_opts(enum work_task task, enum work_mode mode, int workers)
{
	struct work_opts o;

	work_opts__defaults(&o, task, mode);
	o.workers = workers;
	switch (task) {
	case WORK_TASK_CPU:
		o.units = 13;
		o.size = 3 * CPU_SLICE + 12345;
		break;
	case WORK_TASK_IO:
		o.units = 9;
		o.latency_ns = 2000000;
		break;
	default:
		o.units = 7;
		o.size = 50000;
		o.latency_ns = 1000000;
		break;
	}
	return o;
}

/* The sum of [from, to) mod 2^64, by the closed form the cpu loop must not
 * be compiled into. */
static uint64_t range_sum(uint64_t from, uint64_t to)
{
	unsigned __int128 n = to - from, s = (unsigned __int128)from + to - 1;

	return (uint64_t)(n * s / 2);
}

/* The checksum computed without any model, from the unit functions. */
static uint64_t expected_checksum(const struct work_opts *o)
{
	uint64_t sum = 0, cpu, io;

	for (long u = 0; u < o->units; u++) {
		cpu = range_sum((uint64_t)u * o->size, (uint64_t)(u + 1) * o->size);
		io = io_reply_checksum(u);
		if (o->task == WORK_TASK_CPU)
			sum += unit_hash(u, cpu);
		else if (o->task == WORK_TASK_IO)
			sum += unit_hash(u, io);
		else
			sum += unit_hash(u, mixed_combine(io, cpu));
	}
	return sum;
}

static void run_ok(const struct work_opts *o, struct work_result *res)
{
	int err = work_run(o, res);

	if (err)
		print_error("%s %s: %s\n", work_mode_name(o->mode), work_task_name(o->task),
			    res->errmsg);
	assert_int_equal(err, 0);
}

static void test_checksum_same_in_every_model(void **state)
{
	static const int workers[] = { 1, 2, 3, 20 };
	struct work_result res;
	struct work_opts o;
	uint64_t want;

	(void)state;
	for (int task = 0; task < WORK_TASK_COUNT; task++) {
		o = small_opts(task, WORK_MODE_SYNC, 1);
		want = expected_checksum(&o);
		for (int mode = 0; mode < WORK_MODE_COUNT; mode++) {
			for (size_t i = 0; i < sizeof(workers) / sizeof(workers[0]); i++) {
				o = small_opts(task, mode, workers[i]);
				run_ok(&o, &res);
				assert_true(res.checksum == want);
				assert_int_equal(res.workers, (mode == WORK_MODE_SYNC ||
							       mode == WORK_MODE_EVENTLOOP) ?
								      1 :
								      workers[i]);
			}
		}
	}
}

/* No units, or fewer units than workers: every model still agrees. */
static void test_checksum_few_units(void **state)
{
	struct work_result res;
	struct work_opts o;

	(void)state;
	for (long units = 0; units <= 2; units++) {
		for (int mode = 0; mode < WORK_MODE_COUNT; mode++) {
			o = small_opts(WORK_TASK_MIXED, mode, 4);
			o.units = units;
			run_ok(&o, &res);
			assert_true(res.checksum == expected_checksum(&o));
			if (!units)
				assert_true(res.checksum == 0);
		}
	}
}

/* The checksum depends on the size, so a model cannot skip work. */
static void test_checksum_depends_on_size(void **state)
{
	struct work_result a, b;
	struct work_opts o = small_opts(WORK_TASK_CPU, WORK_MODE_SYNC, 1);

	(void)state;
	run_ok(&o, &a);
	o.size++;
	run_ok(&o, &b);
	assert_true(a.checksum != b.checksum);
}

static int slices_seen;

static void count_slice(void *ctx)
{
	(void)ctx;
	slices_seen++;
}

static void test_cpu_unit_sums_in_slices(void **state)
{
	static const long long sizes[] = {
		1, 2, CPU_SLICE - 1, CPU_SLICE, CPU_SLICE + 1, 5 * CPU_SLICE + 7
	};
	struct work_hooks hooks = { .between_slices = count_slice };
	struct work_opts o = small_opts(WORK_TASK_CPU, WORK_MODE_SYNC, 1);

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		o.size = sizes[i];
		for (long unit = 0; unit < 3; unit++) {
			slices_seen = 0;
			assert_true(cpu_unit(&o, unit, &hooks) ==
				    range_sum(unit * o.size, (unit + 1) * o.size));
			assert_int_equal(slices_seen, (o.size + CPU_SLICE - 1) / CPU_SLICE - 1);
		}
	}
	assert_true(cpu_sum_range(10, 10) == 0);
	assert_true(cpu_sum_range(1, 101) == 5050);
}

static void check_split(long units, int workers)
{
	char *seen = calloc(units ? units : 1, 1);
	long first, count, next = 0, min = units, max = 0;

	assert_non_null(seen);
	for (int w = 0; w < workers; w++) {
		work_split(units, workers, w, &first, &count);
		assert_true(count >= 0);
		/* Contiguous blocks in worker order. */
		assert_true(first == next);
		next = first + count;
		for (long u = first; u < first + count; u++) {
			assert_true(u >= 0 && u < units);
			assert_int_equal(seen[u], 0);
			seen[u] = 1;
		}
		min = count < min ? count : min;
		max = count > max ? count : max;
	}
	assert_true(next == units);
	for (long u = 0; u < units; u++)
		assert_int_equal(seen[u], 1);
	assert_true(max - min <= 1);
	free(seen);
}

static void test_split_covers_every_unit_once(void **state)
{
	(void)state;
	for (long units = 0; units <= 70; units++)
		for (int workers = 1; workers <= 80; workers++)
			check_split(units, workers);
	check_split(WORK_MAX_UNITS, WORK_MAX_WORKERS);
	check_split(WORK_MAX_UNITS - 1, 7);
	check_split(1, WORK_MAX_WORKERS);
}

#define MAX_ARGS 32

/* Parses a NULL-terminated list of arguments after the program name. */
static int parse(struct work_opts *o, char *errbuf, ...)
{
	char *argv[MAX_ARGS] = { "weft-work" };
	int argc = 1;
	va_list ap;

	va_start(ap, errbuf);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	errbuf[0] = '\0';
	return work_opts__parse(o, argc, argv, errbuf, 256);
}

#define assert_rejected(...)                                                    \
	do {                                                                    \
		struct work_opts o_;                                            \
		char err_[256];                                                 \
		assert_int_equal(parse(&o_, err_, __VA_ARGS__, NULL), -EINVAL); \
		assert_true(err_[0] != '\0' && !strchr(err_, '\n'));            \
	} while (0)

static void test_parse_rejects_bad_options(void **state)
{
	(void)state;
	assert_rejected("--mode", "sync");
	assert_rejected("--task", "cpu");
	assert_rejected("--task", "gpu", "--mode", "sync");
	assert_rejected("--task", "cpu", "--mode", "fibers");
	assert_rejected("--task", "cpu", "--mode", "");
	assert_rejected("--task", "cpu", "--mode", "sync", "--workers", "-1");
	assert_rejected("--task", "cpu", "--mode", "sync", "--workers", "0");
	assert_rejected("--task", "cpu", "--mode", "sync", "--workers", "2x");
	assert_rejected("--task", "cpu", "--mode", "sync", "--workers", " 2");
	assert_rejected("--task", "cpu", "--mode", "sync", "--workers", "+2");
	assert_rejected("--task", "cpu", "--mode", "sync", "--workers", "");
	assert_rejected("--task", "cpu", "--mode", "sync", "--workers", "100000");
	assert_rejected("--task", "cpu", "--mode", "sync", "--workers", "99999999999999999999");
	assert_rejected("--task", "cpu", "--mode", "sync", "--units", "-5");
	assert_rejected("--task", "cpu", "--mode", "sync", "--units", "ten");
	assert_rejected("--task", "cpu", "--mode", "sync", "--units", "1e3");
	assert_rejected("--task", "cpu", "--mode", "sync", "--size", "0");
	assert_rejected("--task", "cpu", "--mode", "sync", "--size", "-1");
	assert_rejected("--task", "cpu", "--mode", "sync", "--size", "0x10");
	assert_rejected("--task", "io", "--mode", "sync", "--latency", "-1");
	assert_rejected("--task", "io", "--mode", "sync", "--latency", "nan");
	assert_rejected("--task", "io", "--mode", "sync", "--latency", "inf");
	assert_rejected("--task", "io", "--mode", "sync", "--latency", "1e2");
	assert_rejected("--task", "io", "--mode", "sync", "--latency", "1.2.3");
	assert_rejected("--task", "io", "--mode", "sync", "--latency", ".");
	assert_rejected("--task", "io", "--mode", "sync", "--latency", "100000");
	assert_rejected("--task", "cpu", "--mode", "gil", "--switch-interval", "0");
	assert_rejected("--task", "cpu", "--mode", "gil", "--switch-interval", "-5");
	assert_rejected("--task", "cpu", "--mode", "gil", "--switch-interval", "5ms");
	assert_rejected("--task", "cpu", "--mode", "sync", "--bogus");
	assert_rejected("--task", "cpu", "--mode", "sync", "-x");
	assert_rejected("--task", "cpu", "--mode", "sync", "--json=yes");
	assert_rejected("--task", "cpu", "--mode", "sync", "extra");
	assert_rejected("--task", "cpu", "--mode");
	assert_rejected("--task", "cpu", "--mode", "sync", "--units");
}

static void test_parse_accepts_good_options(void **state)
{
	struct work_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, "--task", "cpu", "--mode", "sync", NULL), 0);
	assert_int_equal(o.task, WORK_TASK_CPU);
	assert_int_equal(o.mode, WORK_MODE_SYNC);
	assert_int_equal(o.units, WORK_DEFAULT_UNITS_CPU);
	assert_true(o.size == WORK_DEFAULT_SIZE);
	assert_true(o.switch_interval_ns == WORK_DEFAULT_SWITCH_INTERVAL_MS * 1000000ULL);
	assert_int_equal(o.workers, sysconf(_SC_NPROCESSORS_ONLN));
	assert_false(o.json);
	assert_false(o.check);
	assert_int_equal(o.die_at_unit, -1);

	assert_int_equal(parse(&o, err, "--task", "io", "--mode", "eventloop", NULL), 0);
	assert_int_equal(o.units, WORK_DEFAULT_UNITS_IO);
	assert_true(o.latency_ns == WORK_DEFAULT_LATENCY_MS * 1000000ULL);

	assert_int_equal(parse(&o, err, "--task=mixed", "--mode=pool", "--workers", "7",
			       "--units=0", "--size", "123", "--latency", "2.5",
			       "--switch-interval", "0.5", "--json", "--check", NULL),
			 0);
	assert_int_equal(o.task, WORK_TASK_MIXED);
	assert_int_equal(o.mode, WORK_MODE_POOL);
	assert_int_equal(o.workers, 7);
	assert_int_equal(o.units, 0);
	assert_true(o.size == 123);
	assert_true(o.latency_ns == 2500000);
	assert_true(o.switch_interval_ns == 500000);
	assert_true(o.json && o.check);

	assert_int_equal(parse(&o, err, "-t", "io", "-m", "gil", "-w", "3", "-l", "0", "-j", NULL),
			 0);
	assert_int_equal(o.mode, WORK_MODE_GIL);
	assert_int_equal(o.workers, 3);
	assert_true(o.latency_ns == 0 && o.json);

	/* Parsing again starts afresh. */
	assert_int_equal(parse(&o, err, "--task", "cpu", "--mode", "procs", NULL), 0);
	assert_false(o.json);

	assert_int_equal(parse(&o, err, "--help", NULL), WORK_OPTS_HELP);
	assert_int_equal(parse(&o, err, "--task", "cpu", "-h", NULL), WORK_OPTS_HELP);
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* With two threads computing, the gil lets one hold it at a time, and a
 * waiter gets it after about one switch interval: handovers ≈ elapsed /
 * interval on cores of its own. On a busy machine the holder is often
 * preempted, and a request set after one interval of the waiter's waits
 * for it to run again: at least one handover per two intervals of the
 * CPU time the threads got, whatever other programs take. About 0.3 s of
 * work on a current core. */
static void test_gil_serializes_and_switches_per_interval(void **state)
{
	struct work_opts o = small_opts(WORK_TASK_CPU, WORK_MODE_GIL, 2);
	double most, least, cpu = cpu_s();
	struct work_result res;

	(void)state;
	o.units = 8;
	o.size = 160000000;
	o.check = true;
	run_ok(&o, &res);
	cpu = cpu_s() - cpu;
	assert_true(res.checksum == expected_checksum(&o));
	most = res.elapsed_s / (o.switch_interval_ns / 1e9);
	least = cpu / (o.switch_interval_ns / 1e9);
	print_message("gil: %.3f s (%.3f s on CPU), %" PRIu64 " handovers, %.1f to %.1f expected\n",
		      res.elapsed_s, cpu, res.gil_handovers, least, most);
	assert_int_equal(res.gil_max_concurrent, 1);
	assert_true(res.gil_handovers >= least / 2);
	assert_true(res.gil_handovers <= most * 2);
}

/* The time units waits take one after another: no run that waits for
 * each in turn can be shorter, since a sleep never ends early. Tests of
 * overlap compare with it rather than with a fixed time, so that a
 * loaded machine does not fail them. */
static double serial_wait_s(const struct work_opts *o)
{
	return o->units * (o->latency_ns / 1e9);
}

/* Every io wait releases the gil: waits overlap although compute cannot. */
static void test_gil_releases_for_io(void **state)
{
	struct work_opts o = small_opts(WORK_TASK_IO, WORK_MODE_GIL, 4);
	struct work_result res;

	(void)state;
	o.units = 16;
	o.latency_ns = 20000000;
	o.check = true;
	run_ok(&o, &res);
	assert_int_equal(res.gil_max_concurrent, 1);
	/* 16 waits of 20 ms over 4 threads: 4 rounds (80 ms) where waiting
	 * under the lock would take 16 (320 ms) */
	assert_true(res.elapsed_s < serial_wait_s(&o) / 2);
}

static void test_eventloop_overlaps_waits(void **state)
{
	struct work_opts o = small_opts(WORK_TASK_IO, WORK_MODE_EVENTLOOP, 1);
	struct work_result res;

	(void)state;
	o.units = 200;
	o.latency_ns = 20000000;
	run_ok(&o, &res);
	/* 200 waits of 20 ms in one thread: about one latency, not 4 s. */
	assert_true(res.elapsed_s >= o.latency_ns / 1e9);
	assert_true(res.elapsed_s < serial_wait_s(&o) / 10);
	assert_true(res.checksum == expected_checksum(&o));
}

/* A worker that dies fails the run with a reason; nothing hangs. */
static void test_worker_failure_fails_the_run(void **state)
{
	struct work_result res;
	struct work_opts o;

	(void)state;
	for (int task = 0; task < WORK_TASK_COUNT; task++) {
		for (int mode = 0; mode < WORK_MODE_COUNT; mode++) {
			o = small_opts(task, mode, 3);
			o.die_at_unit = 4;
			assert_true(work_run(&o, &res) < 0);
			assert_true(res.errmsg[0] != '\0');
			assert_null(strchr(res.errmsg, '\n'));
			if (mode == WORK_MODE_PROCS || mode == WORK_MODE_POOL)
				assert_non_null(strstr(res.errmsg, "signal 9"));
		}
	}
	/* The library is usable again after a failure. */
	o = small_opts(WORK_TASK_IO, WORK_MODE_POOL, 3);
	run_ok(&o, &res);
}

static char *print_result(const struct work_opts *o, const struct work_result *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(work_result__print(f, o, res), 0);
	fclose(f);
	return buf;
}

static void test_result_formats(void **state)
{
	struct work_opts o = small_opts(WORK_TASK_CPU, WORK_MODE_GIL, 2);
	struct work_result res = {
		.checksum = 0x1234abcdULL,
		.elapsed_s = 1.2345674,
		.workers = 2,
		.gil_max_concurrent = 1,
		.gil_handovers = 42,
	};
	char *out;

	(void)state;
	o.units = 64;
	out = print_result(&o, &res);
	assert_string_equal(out, "gil cpu 64 2 1.234567 0x000000001234abcd\n");
	free(out);

	o.json = true;
	out = print_result(&o, &res);
	assert_string_equal(out, "{\"model\":\"gil\",\"task\":\"cpu\",\"units\":64,\"workers\":2,"
				 "\"elapsed_s\":1.234567,\"checksum\":\"0x000000001234abcd\"}\n");
	free(out);

	o.check = true;
	out = print_result(&o, &res);
	assert_string_equal(out, "{\"model\":\"gil\",\"task\":\"cpu\",\"units\":64,\"workers\":2,"
				 "\"elapsed_s\":1.234567,\"checksum\":\"0x000000001234abcd\","
				 "\"gil_max_concurrent\":1,\"gil_handovers\":42}\n");
	free(out);
}

static int arm_alarm(void **state)
{
	(void)state;
	alarm(TEST_ALARM_S);
	return 0;
}

static int disarm_alarm(void **state)
{
	(void)state;
	alarm(0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_same_in_every_model),
		cmocka_unit_test(test_checksum_few_units),
		cmocka_unit_test(test_checksum_depends_on_size),
		cmocka_unit_test(test_cpu_unit_sums_in_slices),
		cmocka_unit_test(test_split_covers_every_unit_once),
		cmocka_unit_test(test_parse_rejects_bad_options),
		cmocka_unit_test(test_parse_accepts_good_options),
		cmocka_unit_test(test_gil_serializes_and_switches_per_interval),
		cmocka_unit_test(test_gil_releases_for_io),
		cmocka_unit_test(test_eventloop_overlaps_waits),
		cmocka_unit_test(test_worker_failure_fails_the_run),
		cmocka_unit_test(test_result_formats),
	};

	return cmocka_run_group_tests(tests, arm_alarm, disarm_alarm);
}
