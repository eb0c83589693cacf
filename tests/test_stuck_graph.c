// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The deadlocks of weft stuck's wait-for graph (stuck_graph.c), and what
 * a blocked thread's registers say it waits on (snapshot.c), on graphs and
 * registers made by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "snapshot.h"
#include "stuck_graph.h"

struct graph {
	struct stuck_node nodes[8];
	pid_t wakers[8][4];
	size_t n;
	struct stuck_result res;
};

/* A blocked thread tid waiting for the threads in ws (0-terminated);
 * open: no waker known */
static void node(struct graph *g, pid_t tid, bool blocked, const pid_t *ws)
{
	struct stuck_node *n = &g->nodes[g->n];
	int k = 0;

	n->tid = tid;
	n->blocked = blocked;
	while (ws && ws[k]) {
		g->wakers[g->n][k] = ws[k];
		k++;
	}
	n->wakers = g->wakers[g->n];
	n->nwakers = k;
	g->n++;
}

static int teardown(void **state)
{
	struct graph *g = *state;

	stuck_result__free(&g->res);
	free(g);
	return 0;
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct graph));
	return *state ? 0 : -1;
}

/* Every cycle's nodes are stuck and each waits for the next */
static void check_cycles(const struct graph *g)
{
	size_t c, k;
	int w;

	for (c = 0; c < g->res.ncycles; c++) {
		const struct stuck_cycle *cy = &g->res.cycles[c];

		assert_true(cy->n >= 1);
		for (k = 0; k < cy->n; k++) {
			const struct stuck_node *a = &g->nodes[cy->nodes[k]];
			pid_t next = g->nodes[cy->nodes[(k + 1) % cy->n]].tid;
			bool found = false;

			assert_true(g->res.stuck[cy->nodes[k]]);
			for (w = 0; w < a->nwakers; w++)
				found |= a->wakers[w] == next;
			assert_true(found);
		}
	}
}

static void test_abba_with_a_joiner(void **state)
{
	struct graph *g = *state;

	node(g, 10, true, (pid_t[]){ 11, 0 }); /* main joins payer */
	node(g, 11, true, (pid_t[]){ 12, 0 }); /* payer waits for auditor's lock */
	node(g, 12, true, (pid_t[]){ 11, 0 }); /* and auditor for payer's */
	assert_int_equal(stuck_graph__find(g->nodes, g->n, &g->res), 0);
	assert_int_equal(g->res.ncycles, 1);
	assert_int_equal(g->res.cycles[0].n, 2);
	/* main is stuck behind it, but no part of it */
	assert_true(g->res.stuck[0]);
	assert_true(g->res.cycles[0].nodes[0] != 0 && g->res.cycles[0].nodes[1] != 0);
	check_cycles(g);
}

static void test_three_cycle(void **state)
{
	struct graph *g = *state;

	node(g, 1, true, (pid_t[]){ 2, 0 });
	node(g, 2, true, (pid_t[]){ 3, 0 });
	node(g, 3, true, (pid_t[]){ 1, 0 });
	assert_int_equal(stuck_graph__find(g->nodes, g->n, &g->res), 0);
	assert_int_equal(g->res.ncycles, 1);
	assert_int_equal(g->res.cycles[0].n, 3);
	check_cycles(g);
}

/* A holder asleep (open) frees its waiter; a running thread frees who waits
 * for it; a thread outside the snapshot may act */
static void test_open_and_running_free(void **state)
{
	struct graph *g = *state;

	node(g, 1, true, NULL); /* asleep, holding the lock */
	node(g, 2, true, (pid_t[]){ 1, 0 });
	node(g, 3, false, NULL); /* running */
	node(g, 4, true, (pid_t[]){ 3, 0 });
	node(g, 5, true, (pid_t[]){ 99, 0 }); /* a peer not looked at */
	assert_int_equal(stuck_graph__find(g->nodes, g->n, &g->res), 0);
	assert_int_equal(g->res.ncycles, 0);
	for (size_t i = 0; i < g->n; i++)
		assert_false(g->res.stuck[i]);
}

/* A pipe wait may be ended by any thread of the process at the other end:
 * one of them running is enough to leave it out of a cycle */
static void test_or_waits(void **state)
{
	struct graph *g = *state;

	node(g, 1, true, (pid_t[]){ 2, 3, 0 }); /* reads a pipe process B writes */
	node(g, 2, true, (pid_t[]){ 1, 0 }); /* B's first thread reads A's pipe */
	node(g, 3, false, NULL); /* B's second thread runs */
	assert_int_equal(stuck_graph__find(g->nodes, g->n, &g->res), 0);
	assert_int_equal(g->res.ncycles, 0);
	/* once it blocks too, waiting for A, it is a deadlock */
	g->nodes[2].blocked = true;
	g->wakers[2][0] = 1;
	g->nodes[2].nwakers = 1;
	stuck_result__free(&g->res);
	assert_int_equal(stuck_graph__find(g->nodes, g->n, &g->res), 0);
	assert_int_equal(g->res.ncycles, 1);
	check_cycles(g);
}

/* A mutex taken twice by its own holder: a cycle of one */
static void test_self_deadlock(void **state)
{
	struct graph *g = *state;

	node(g, 7, true, (pid_t[]){ 7, 0 });
	assert_int_equal(stuck_graph__find(g->nodes, g->n, &g->res), 0);
	assert_int_equal(g->res.ncycles, 1);
	assert_int_equal(g->res.cycles[0].n, 1);
}

/* Two separate deadlocks are two cycles */
static void test_two_deadlocks(void **state)
{
	struct graph *g = *state;

	node(g, 1, true, (pid_t[]){ 2, 0 });
	node(g, 2, true, (pid_t[]){ 1, 0 });
	node(g, 3, true, (pid_t[]){ 4, 0 });
	node(g, 4, true, (pid_t[]){ 3, 0 });
	assert_int_equal(stuck_graph__find(g->nodes, g->n, &g->res), 0);
	assert_int_equal(g->res.ncycles, 2);
	check_cycles(g);
}

static void test_wait_from_syscall(void **state)
{
	__u64 mutex[6] = { 0x1000, 0x80 /* FUTEX_WAIT|PRIVATE */, 2 };
	__u64 cond[6] = { 0x2000, 0x189 /* WAIT_BITSET|PRIVATE|CLOCK_REALTIME */, 0 };
	__u64 pi[6] = { 0x3000, 0x86 /* LOCK_PI|PRIVATE */ };
	__u64 fd[6] = { 5 };
	struct snap_wait w;

	(void)state;
	snap_wait_from_syscall(SYS_futex, mutex, 'S', &w);
	assert_int_equal(w.kind, SNAP_WAIT_LOCK);
	assert_int_equal(w.addr, 0x1000);
	/* FUTEX_WAIT on another value is no glibc mutex */
	mutex[2] = 1;
	snap_wait_from_syscall(SYS_futex, mutex, 'S', &w);
	assert_int_equal(w.kind, SNAP_WAIT_COND);
	snap_wait_from_syscall(SYS_futex, cond, 'S', &w);
	assert_int_equal(w.kind, SNAP_WAIT_COND);
	snap_wait_from_syscall(SYS_futex, pi, 'S', &w);
	assert_int_equal(w.kind, SNAP_WAIT_LOCK);
	snap_wait_from_syscall(SYS_read, fd, 'S', &w);
	assert_int_equal(w.kind, SNAP_WAIT_IO);
	assert_int_equal(w.fd, 5);
	snap_wait_from_syscall(SYS_wait4, fd, 'S', &w);
	assert_int_equal(w.kind, SNAP_WAIT_CHILD);
	snap_wait_from_syscall(SYS_clock_nanosleep, fd, 'S', &w);
	assert_int_equal(w.kind, SNAP_WAIT_SLEEP);
	snap_wait_from_syscall(SYS_epoll_wait, fd, 'S', &w);
	assert_int_equal(w.kind, SNAP_WAIT_POLL);
	/* running: no wait, whatever the registers held */
	snap_wait_from_syscall(SYS_futex, pi, 'R', &w);
	assert_int_equal(w.kind, SNAP_WAIT_NONE);
	/* an unknown system call in D is I/O */
	snap_wait_from_syscall(9999, fd, 'D', &w);
	assert_int_equal(w.kind, SNAP_WAIT_IO);
	assert_string_equal(snap_wait_kind__name(SNAP_WAIT_JOIN), "join");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_abba_with_a_joiner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_and_running_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_or_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_deadlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_deadlocks, setup, teardown),
		cmocka_unit_test(test_wait_from_syscall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
