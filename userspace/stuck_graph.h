/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The deadlocks of a snapshot's wait-for graph (weft stuck; DESIGN:
 * "a cycle in the wait-for graph of threads that are all blocked").
 *
 * Each node is a thread: running (not blocked), blocked on something only
 * an outsider or a timer can end (open: a condition variable, a sleep, a
 * socket, a lock whose owner could not be read), or blocked until one of
 * its wakers acts (a mutex's owner, a joined thread, the threads of the
 * processes that hold a pipe's other end). A thread may wake if it runs,
 * is open, or one of its wakers may (a waker that is not a node counts as
 * one that may: nothing is known of it). The threads that never may are
 * stuck; a deadlock is a cycle among stuck threads, and the stuck threads
 * in no cycle wait behind one. Pure: no I/O, for unit tests.
 *
 * Lifecycle: stuck_graph__find() fills a struct stuck_result the caller
 * frees with stuck_result__free() (NULL is fine).
 */
#ifndef __WEFT_STUCK_GRAPH_H
#define __WEFT_STUCK_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct stuck_node {
	pid_t tid;
	bool blocked;
	const pid_t *wakers; /* OR: any one of them can end the wait */
	int nwakers;
};

struct stuck_cycle {
	size_t *nodes; /* indices into the nodes; each waits for the next, the last for the first */
	size_t n;
};

struct stuck_result {
	bool *stuck; /* per node */
	struct stuck_cycle *cycles;
	size_t ncycles;
};

/* 0, or -ENOMEM. The cycles are found in node order, each once (one cycle
 * per strongly connected part of the stuck threads), shortest path from its
 * first node back to itself. */
int stuck_graph__find(const struct stuck_node *nodes, size_t n, struct stuck_result *out);
void stuck_result__free(struct stuck_result *r);

#endif /* __WEFT_STUCK_GRAPH_H */
