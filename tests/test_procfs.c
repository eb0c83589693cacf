// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* procfs.c against a fixture /proc: threads in every state, and the
 * zombie that weft record -p must not wait on forever. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "procfs.h"

struct fixture {
	char root[64];
};

static void put(const char *root, int tgid, int tid, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", root, tgid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/task", root, tgid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/task/%d", root, tgid, tid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/task/%d/%s", root, tgid, tid, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A thread as /proc shows it, in state st, its comm with a space and a
 * parenthesis as comms may have */
static void thread(const char *root, int tgid, int tid, char st)
{
	char stat[512];

	snprintf(stat, sizeof(stat),
		 "%d (a (b) c) %c 1 %d %d 0 -1 4194560 0 0 0 0 5 6 0 0 20 0 1 0 100 0 0 "
		 "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		 tid, st, tgid, tgid);
	put(root, tgid, tid, "stat", stat);
	if (tid == tgid) {
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%d/stat", root, tgid);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(stat, f);
		fclose(f);
	}
	put(root, tgid, tid, "schedstat", "123 45 6\n");
	put(root, tgid, tid, "status",
	    "Name:\ta\nState:\tS\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t8\n");
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->root, sizeof(fx->root), "/tmp/weft-procfs.XXXXXX");
	if (!mkdtemp(fx->root))
		return -1;
	thread(fx->root, 100, 100, 'S');
	thread(fx->root, 100, 101, 'R');
	/* a leader gone before its other threads: the process lives */
	thread(fx->root, 200, 200, 'Z');
	thread(fx->root, 200, 201, 'S');
	/* a zombie: exited, its parent has not reaped it */
	thread(fx->root, 300, 300, 'Z');
	thread(fx->root, 400, 400, 'X');
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->root);
	if (system(cmd))
		return -1;
	free(fx);
	return 0;
}

static void test_read_thread(void **state)
{
	struct fixture *fx = *state;
	struct proc_thread_stat st;

	assert_int_equal(procfs_read_thread(fx->root, 100, 101, &st), 0);
	assert_int_equal(st.state, 'R');
	assert_string_equal(st.comm, "a (b) c");
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.processor, 1);
	assert_int_equal(st.sum_exec_ns, 123);
	assert_int_equal(st.run_delay_ns, 45);
	assert_int_equal(st.pcount, 6);
	assert_int_equal(st.nvcsw, 7);
	assert_int_equal(st.nivcsw, 8);
	assert_int_equal(procfs_read_thread(fx->root, 100, 999, &st), -ENOENT);
}

static void test_alive(void **state)
{
	struct fixture *fx = *state;

	assert_true(procfs_pid_alive(fx->root, 100));
	assert_true(procfs_pid_alive(fx->root, 200));
	assert_false(procfs_pid_alive(fx->root, 300));
	assert_false(procfs_pid_alive(fx->root, 400));
	assert_false(procfs_pid_alive(fx->root, 500));
	/* a zombie still exists: only alive tells them apart */
	assert_true(procfs_pid_exists(fx->root, 300));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alive, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
