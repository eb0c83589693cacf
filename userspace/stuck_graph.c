// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The deadlocks of a wait-for graph: see stuck_graph.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stuck_graph.h"

/* The node of tid, or n when tid is no node. Linear: a snapshot has
 * hundreds of threads, and each is looked up once per waker per pass. */
static size_t node_of(const struct stuck_node *nodes, size_t n, pid_t tid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (nodes[i].tid == tid)
			return i;
	return n;
}

/* The waker indices of every node, resolved once (n for an outsider) */
static size_t **resolve_wakers(const struct stuck_node *nodes, size_t n)
{
	size_t **w = calloc(n ? n : 1, sizeof(*w));
	size_t i;
	int k;

	if (!w)
		return NULL;
	for (i = 0; i < n; i++) {
		w[i] = calloc(nodes[i].nwakers ? nodes[i].nwakers : 1, sizeof(size_t));
		if (!w[i])
			goto fail;
		for (k = 0; k < nodes[i].nwakers; k++)
			w[i][k] = node_of(nodes, n, nodes[i].wakers[k]);
	}
	return w;
fail:
	while (i--)
		free(w[i]);
	free(w);
	return NULL;
}

/* Tarjan's strongly connected parts, over the stuck nodes and their edges to
 * stuck nodes; comp[i] is the part's number (or -1 for nodes not stuck). */
struct tarjan {
	const struct stuck_node *nodes;
	size_t **w;
	const bool *stuck;
	size_t n;
	long *index, *low, next_index;
	long *comp, ncomp;
	size_t *stack, sp;
	bool *on_stack;
};

static void strongconnect(struct tarjan *t, size_t v)
{
	int k;

	t->index[v] = t->low[v] = t->next_index++;
	t->stack[t->sp++] = v;
	t->on_stack[v] = true;
	for (k = 0; k < t->nodes[v].nwakers; k++) {
		size_t u = t->w[v][k];

		if (u >= t->n || !t->stuck[u])
			continue;
		if (t->index[u] < 0) {
			strongconnect(t, u);
			if (t->low[u] < t->low[v])
				t->low[v] = t->low[u];
		} else if (t->on_stack[u] && t->index[u] < t->low[v]) {
			t->low[v] = t->index[u];
		}
	}
	if (t->low[v] == t->index[v]) {
		size_t u;

		do {
			u = t->stack[--t->sp];
			t->on_stack[u] = false;
			t->comp[u] = t->ncomp;
		} while (u != v);
		t->ncomp++;
	}
}

/* The shortest cycle through first inside its part, by a breadth-first
 * search along wait edges */
static int cycle_through(const struct stuck_node *nodes, size_t **w, size_t n, const long *comp,
			 size_t first, struct stuck_cycle *c)
{
	size_t *queue = malloc(n * sizeof(size_t)), *prev = malloc(n * sizeof(size_t));
	size_t head = 0, tail = 0, i, end = n, len;
	int err = -ENOMEM, k;

	if (!queue || !prev)
		goto out;
	for (i = 0; i < n; i++)
		prev[i] = n;
	queue[tail++] = first;
	while (head < tail && end == n) {
		size_t v = queue[head++];

		for (k = 0; k < nodes[v].nwakers; k++) {
			size_t u = w[v][k];

			if (u >= n || comp[u] != comp[first])
				continue;
			if (u == first) {
				end = v;
				break;
			}
			if (prev[u] == n) {
				prev[u] = v;
				queue[tail++] = u;
			}
		}
	}
	err = 0;
	if (end == n)
		goto out; /* a part of one node without a self-loop */
	for (len = 1, i = end; i != first; i = prev[i])
		len++;
	c->nodes = malloc(len * sizeof(size_t));
	if (!c->nodes) {
		err = -ENOMEM;
		goto out;
	}
	c->n = len;
	for (i = end; len; i = prev[i])
		c->nodes[--len] = i;
out:
	free(queue);
	free(prev);
	return err;
}

int stuck_graph__find(const struct stuck_node *nodes, size_t n, struct stuck_result *out)
{
	struct tarjan t = { .nodes = nodes, .n = n };
	bool *may = NULL, *part_done = NULL, changed = true;
	size_t **w = NULL, i;
	int err = -ENOMEM, k;

	memset(out, 0, sizeof(*out));
	w = resolve_wakers(nodes, n);
	may = calloc(n + 1, sizeof(bool));
	out->stuck = calloc(n + 1, sizeof(bool));
	t.index = malloc((n + 1) * sizeof(long));
	t.low = malloc((n + 1) * sizeof(long));
	t.comp = malloc((n + 1) * sizeof(long));
	t.stack = malloc((n + 1) * sizeof(size_t));
	t.on_stack = calloc(n + 1, sizeof(bool));
	part_done = calloc(n + 1, sizeof(bool));
	if (!w || !may || !out->stuck || !t.index || !t.low || !t.comp || !t.stack || !t.on_stack ||
	    !part_done)
		goto out;
	/* who may wake: a least fixed point, one pass per link of the longest
	 * chain of waits */
	for (i = 0; i < n; i++)
		may[i] = !nodes[i].blocked ||
			 !nodes[i].nwakers; /* not blocked, or open to anyone */
	while (changed) {
		changed = false;
		for (i = 0; i < n; i++) {
			if (may[i])
				continue;
			for (k = 0; k < nodes[i].nwakers; k++)
				if (w[i][k] >= n || may[w[i][k]]) {
					may[i] = changed = true;
					break;
				}
		}
	}
	for (i = 0; i < n; i++) {
		out->stuck[i] = !may[i];
		t.index[i] = -1;
		t.comp[i] = -1;
	}
	t.w = w;
	t.stuck = out->stuck;
	for (i = 0; i < n; i++)
		if (out->stuck[i] && t.index[i] < 0)
			strongconnect(&t, i);
	for (i = 0; i < n; i++) {
		struct stuck_cycle c = {}, *grown;

		if (!out->stuck[i] || part_done[t.comp[i]])
			continue;
		err = cycle_through(nodes, w, n, t.comp, i, &c);
		if (err)
			goto out;
		if (!c.n)
			continue;
		part_done[t.comp[i]] = true;
		grown = realloc(out->cycles, (out->ncycles + 1) * sizeof(*grown));
		if (!grown) {
			free(c.nodes);
			err = -ENOMEM;
			goto out;
		}
		out->cycles = grown;
		out->cycles[out->ncycles++] = c;
	}
	err = 0;
out:
	if (w)
		for (i = 0; i < n; i++)
			free(w[i]);
	free(w);
	free(may);
	free(t.index);
	free(t.low);
	free(t.comp);
	free(t.stack);
	free(t.on_stack);
	free(part_done);
	if (err)
		stuck_result__free(out);
	return err;
}

void stuck_result__free(struct stuck_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->ncycles; i++)
		free(r->cycles[i].nodes);
	free(r->cycles);
	free(r->stuck);
	memset(r, 0, sizeof(*r));
}
