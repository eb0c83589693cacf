// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* procfs.c on a fixture folder laid out as /proc (a comm with spaces and
 * parentheses, a stat cut short, steal per CPU, a zombie and a process
 * whose leader left before its threads) and on this process's own /proc,
 * against what the kernel says in the same files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "procfs.h"

static char root[] = "/tmp/weft-test-procfs.XXXXXX";

static void put_file(const char *rel, const char *text)
{
	char path[512], dir[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = strchr(dir + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A process 40 of three threads; thread 42's comm is "a (b) c" and its
 * stat ends before the processor field on 43 */
static int setup(void **state)
{
	static const char *const tail =
		" 0 0 0 0 0 0 0 0 0 0 0 20 0 3 0 100 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0\n";
	char stat[512];

	(void)state;
	if (!mkdtemp(root))
		return -1;
	put_file("40/stat", "40 (main) S 1 40\n");
	put_file("40/task/40/schedstat", "5000 600 7\n");
	put_file("40/task/40/status",
		 "Name:\tmain\nVmHWM:\t  2048 kB\nvoluntary_ctxt_switches:\t3\n"
		 "nonvoluntary_ctxt_switches:\t4\n");
	snprintf(stat, sizeof(stat), "40 (main) R 1 40 40%s", tail);
	put_file("40/task/40/stat", stat);
	put_file("40/task/42/schedstat", "123456789 987654 321\n");
	put_file("40/task/42/status",
		 "Name:\ta (b) c\nVmHWM:\t 123456 kB\nvoluntary_ctxt_switches:\t11\n"
		 "nonvoluntary_ctxt_switches:\t22\n");
	snprintf(stat, sizeof(stat), "42 (a (b) c) D 39 40 40%s", tail);
	put_file("40/task/42/stat", stat);
	put_file("40/task/43/schedstat", "1 2 3\n");
	put_file("40/task/43/status", "Name:\tshort\n");
	put_file("40/task/43/stat", "43 (short) S 1 40 40 0\n");
	/* a leader gone before its other threads: the process lives; 300
	 * is a zombie (exited, not reaped), 400 dead */
	put_file("200/stat", "200 (lead) Z 1 200 200\n");
	put_file("200/task/200/stat", "200 (lead) Z 1 200 200\n");
	put_file("200/task/200/schedstat", "1 2 3\n");
	put_file("200/task/200/status", "Name:\tlead\n");
	put_file("200/task/201/stat", "201 (worker) S 1 200 200\n");
	put_file("200/task/201/schedstat", "1 2 3\n");
	put_file("200/task/201/status", "Name:\tworker\n");
	put_file("300/stat", "300 (zombie) Z 1 300 300\n");
	put_file("300/task/300/stat", "300 (zombie) Z 1 300 300\n");
	put_file("400/stat", "400 (dead) X 1 400 400\n");
	put_file("400/task/400/stat", "400 (dead) X 1 400 400\n");
	put_file("stat", "cpu  10 0 10 100 0 0 0 9 0 0\n"
			 "cpu0 5 0 5 50 0 0 0 3 0 0\n"
			 "cpu1 5 0 5 50 0 0 0 6 0 0\n"
			 "intr 12345\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_thread_from_fixture(void **state)
{
	struct proc_thread_stat st;

	(void)state;
	assert_int_equal(procfs_read_thread(root, 40, 42, &st), 0);
	assert_int_equal(st.sum_exec_ns, 123456789);
	assert_int_equal(st.run_delay_ns, 987654);
	assert_int_equal(st.pcount, 321);
	assert_int_equal(st.nvcsw, 11);
	assert_int_equal(st.nivcsw, 22);
	assert_int_equal(st.maxrss_kb, 123456);
	/* the comm between the first '(' and the last ')' */
	assert_string_equal(st.comm, "a (b) c");
	assert_int_equal(st.state, 'D');
	assert_int_equal(st.ppid, 39);
	assert_int_equal(st.processor, 1);
	/* a stat cut before the processor: not known */
	assert_int_equal(procfs_read_thread(root, 40, 43, &st), 0);
	assert_int_equal(st.processor, -1);
	assert_int_equal(st.nvcsw, 0);
	/* a thread that is gone */
	assert_int_equal(procfs_read_thread(root, 40, 44, &st), -ENOENT);
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

static void test_threads_and_pids(void **state)
{
	pid_t tids[8];

	(void)state;
	assert_int_equal(procfs_list_threads(root, 40, tids, 8), 3);
	qsort(tids, 3, sizeof(tids[0]), cmp_pid);
	assert_int_equal(tids[0], 40);
	assert_int_equal(tids[2], 43);
	/* the count, past what fits */
	assert_int_equal(procfs_list_threads(root, 40, tids, 1), 3);
	assert_int_equal(procfs_list_threads(root, 41, tids, 8), -ENOENT);
	assert_true(procfs_pid_exists(root, 40));
	assert_false(procfs_pid_exists(root, 41));
}

static void test_steal(void **state)
{
	long hz = sysconf(_SC_CLK_TCK);
	__u64 steal[4] = { 0 };

	(void)state;
	/* cpuN lines only, in ticks made ns; the total line is not a CPU */
	assert_int_equal(procfs_read_steal(root, steal, 4), 2);
	assert_int_equal(steal[0], 3 * (1000000000ULL / hz));
	assert_int_equal(steal[1], 6 * (1000000000ULL / hz));
	/* a CPU past max is left out */
	assert_int_equal(procfs_read_steal(root, steal, 1), 1);
}

/* A zombie and a dead process still have /proc entries: only alive
 * tells them apart, so that weft record -p does not wait on one */
static void test_alive(void **state)
{
	(void)state;
	assert_true(procfs_pid_alive(root, 40));
	assert_true(procfs_pid_alive(root, 200));
	assert_false(procfs_pid_alive(root, 300));
	assert_false(procfs_pid_alive(root, 400));
	assert_false(procfs_pid_alive(root, 500));
	assert_true(procfs_pid_exists(root, 300));
}

/* This thread in the real /proc: its comm, its state running, and its CPU
 * time growing as it spins */
static void test_own_thread(void **state)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct proc_thread_stat a, b;
	volatile unsigned long spin = 0;

	(void)state;
	assert_int_equal(procfs_read_thread("/proc", getpid(), tid, &a), 0);
	while (spin < 20000000)
		spin++;
	assert_int_equal(procfs_read_thread("/proc", getpid(), tid, &b), 0);
	assert_string_equal(b.comm, "test_procfs");
	assert_int_equal(b.state, 'R');
	assert_int_equal(b.ppid, getppid());
	assert_true(b.sum_exec_ns > a.sum_exec_ns);
	assert_true(b.processor >= 0);
	assert_true(b.maxrss_kb > 0);
	assert_true(procfs_pid_exists("/proc", getpid()));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_from_fixture),
		cmocka_unit_test(test_threads_and_pids),
		cmocka_unit_test(test_steal),
		cmocka_unit_test(test_alive),
		cmocka_unit_test(test_own_thread),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
