// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The wait-for graph, its knots and the locks' holders (waitfor.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "u64set.h"
#include "waitfor.h"
#include "waits.h"

#define NR_WAIT4 61
#define NR_WAITID 247

#define NODE_RECENT 4
#define NODE_CACHE 64

struct node {
	__u32 tid, pid;
	__u32 recent[NODE_RECENT]; /* its last edges (index + 1; 0 none) */
	__u32 next_recent;
	__u64 life_ns; /* its thread time in the trace */
	char comm[WEFT_COMM_LEN + 1];
	/* its latest slice: blocked on a lock held by last_owner (0: not, or
	 * no owner read) until last_end_ns */
	__u64 last_end_ns, last_addr;
	__u32 last_owner;
};

/* A handoff: at t, taker was woken from a wait here by giver */
struct handoff {
	__u64 t;
	__u32 taker, giver;
};

struct holder_acc {
	__u32 tid;
	__u64 ns;
};

struct lock {
	__u32 pid;
	__u64 addr;
	struct handoff hist[WAITFOR_HISTORY]; /* a ring, oldest at head */
	__u32 head, nr;
	struct holder_acc *holders;
	__u32 nr_holders, cap_holders;
};

/* Open addressing over indices (+1; 0 is empty) of an array the caller
 * owns; the caller hashes and compares. */
struct idx_table {
	__u32 *slots;
	size_t mask, used;
};

struct waitfor {
	const char *(*lock_name)(void *ctx, __u32 pid, __u64 addr);
	void *lock_name_ctx;
	waitfor_hold_fn hold_fn;
	void *hold_ctx;
	int err;
	bool finished;

	struct node *nodes;
	__u32 nr_nodes, cap_nodes;
	struct u64_set node_of; /* NODE_KEY(tid) -> index */
	__u32 last_node; /* the node of the last slice */
	/* nodes by tid % NODE_CACHE (index + 1; 0 none), checked against the
	 * node's tid: slices alternate between threads (a ping-pong's two),
	 * and a hash insert per slice was a quarter of waitfor's time */
	__u32 node_cache[NODE_CACHE];

	struct lock *locks;
	__u32 nr_locks, cap_locks;
	struct idx_table lock_of;

	struct waitfor_edge *edges;
	__u32 nr_edges, cap_edges;
	struct idx_table edge_of;

	struct waitfor_knot *knots;
	__u32 nr_knots;
	struct waitfor_end_cycle *end_cycles;
	__u32 nr_end_cycles;
	__u64 end_ns; /* the latest end of any slice: the recording's */
	__u64 owned;
	__u64 slices; /* seen: a wait split in parts counts once per edge */
};

static const char *const pseudo_names[WAITFOR_PSEUDO_NR] = {
	[WAITFOR_TIMER] = "timer",	     [WAITFOR_IO] = "io",
	[WAITFOR_CHILD] = "child",	     [WAITFOR_CPU_TREE] = "cpu-tree",
	[WAITFOR_CPU_OTHERS] = "cpu-others", [WAITFOR_UNKNOWN] = "unknown",
};

const char *waitfor_pseudo__name(enum waitfor_pseudo p)
{
	return p > WAITFOR_THREAD && p < WAITFOR_PSEUDO_NR ? pseudo_names[p] : NULL;
}

static __u64 mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static int idx_grow(struct idx_table *t, __u64 (*hash)(const struct waitfor *, __u32),
		    const struct waitfor *w)
{
	size_t cap = t->slots ? (t->mask + 1) * 2 : 256, i, j;
	__u32 *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; t->slots && i <= t->mask; i++) {
		if (!t->slots[i])
			continue;
		for (j = hash(w, t->slots[i] - 1) & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->mask = cap - 1;
	return 0;
}

static __u64 lock_hash_of(__u32 pid, __u64 addr)
{
	return mix(addr ^ ((__u64)pid << 48) ^ pid);
}

static __u64 lock_hash(const struct waitfor *w, __u32 i)
{
	return lock_hash_of(w->locks[i].pid, w->locks[i].addr);
}

static __u64 edge_hash_of(__u32 waiter, __u32 holder, enum waitfor_pseudo p, __u32 pid,
			  bool has_lock, __u64 addr)
{
	return mix(((__u64)waiter << 32 | holder) ^ mix(addr + has_lock) ^ ((__u64)p << 56) ^
		   ((__u64)pid << 20));
}

static __u64 edge_hash(const struct waitfor *w, __u32 i)
{
	const struct waitfor_edge *e = &w->edges[i];

	return edge_hash_of(e->waiter_tid, e->holder_tid, e->pseudo, e->pid, e->has_lock, e->addr);
}

struct waitfor *waitfor__new(const char *(*lock_name)(void *ctx, __u32 pid, __u64 addr),
			     void *lock_name_ctx)
{
	struct waitfor *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->lock_name = lock_name;
	w->lock_name_ctx = lock_name_ctx;
	return w;
}

void waitfor__set_hold_observer(struct waitfor *w, waitfor_hold_fn fn, void *ctx)
{
	w->hold_fn = fn;
	w->hold_ctx = ctx;
}

void waitfor__free(struct waitfor *w)
{
	__u32 i;

	if (!w)
		return;
	for (i = 0; i < w->nr_locks; i++)
		free(w->locks[i].holders);
	for (i = 0; i < w->nr_knots; i++)
		free(w->knots[i].threads);
	free(w->knots);
	for (i = 0; i < w->nr_end_cycles; i++) {
		free(w->end_cycles[i].threads);
		free(w->end_cycles[i].locks);
	}
	free(w->end_cycles);
	free(w->locks);
	free(w->lock_of.slots);
	free(w->edges);
	free(w->edge_of.slots);
	free(w->nodes);
	u64_set__release(&w->node_of);
	free(w);
}

static int grow(void **arr, __u32 *cap, size_t elem)
{
	__u32 n = *cap ? *cap * 2 : 64;
	void *p = realloc(*arr, (size_t)n * elem);

	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* u64_set takes 0 for an empty slot: a tid 0 (a damaged record) must not
 * read as one */
#define NODE_KEY(tid) (1ULL << 63 | (tid))

static struct node *node_get(struct waitfor *w, __u32 tid, __u32 pid)
{
	bool added = false;
	__u32 *slot = u64_set__slot(&w->node_of, NODE_KEY(tid), &added);
	struct node *n;

	if (!slot)
		return NULL;
	if (!added)
		return &w->nodes[*slot];
	if (w->nr_nodes == w->cap_nodes &&
	    grow((void **)&w->nodes, &w->cap_nodes, sizeof(*w->nodes))) {
		/* leave no slot pointing past the array */
		*slot = 0;
		return NULL;
	}
	*slot = w->nr_nodes;
	n = &w->nodes[w->nr_nodes++];
	memset(n, 0, sizeof(*n));
	n->tid = tid;
	n->pid = pid;
	return n;
}

static const struct node *node_find(const struct waitfor *w, __u32 tid)
{
	__u32 i;

	return u64_set__get(&w->node_of, NODE_KEY(tid), &i) && i < w->nr_nodes ? &w->nodes[i] :
										 NULL;
}

static struct lock *lock_get(struct waitfor *w, __u32 pid, __u64 addr)
{
	__u64 h = lock_hash_of(pid, addr);
	struct lock *l;
	size_t i;

	if (w->lock_of.slots)
		for (i = h & w->lock_of.mask; w->lock_of.slots[i]; i = (i + 1) & w->lock_of.mask) {
			l = &w->locks[w->lock_of.slots[i] - 1];
			if (l->pid == pid && l->addr == addr)
				return l;
		}
	if ((!w->lock_of.slots || (w->lock_of.used + 1) * 2 > w->lock_of.mask + 1) &&
	    idx_grow(&w->lock_of, lock_hash, w))
		return NULL;
	if (w->nr_locks == w->cap_locks &&
	    grow((void **)&w->locks, &w->cap_locks, sizeof(*w->locks)))
		return NULL;
	l = &w->locks[w->nr_locks++];
	memset(l, 0, sizeof(*l));
	l->pid = pid;
	l->addr = addr;
	for (i = h & w->lock_of.mask; w->lock_of.slots[i]; i = (i + 1) & w->lock_of.mask)
		;
	w->lock_of.slots[i] = w->nr_locks;
	w->lock_of.used++;
	return l;
}

static const struct lock *lock_find(const struct waitfor *w, __u32 pid, __u64 addr)
{
	size_t i;

	if (!w->lock_of.slots)
		return NULL;
	for (i = lock_hash_of(pid, addr) & w->lock_of.mask; w->lock_of.slots[i];
	     i = (i + 1) & w->lock_of.mask) {
		const struct lock *l = &w->locks[w->lock_of.slots[i] - 1];

		if (l->pid == pid && l->addr == addr)
			return l;
	}
	return NULL;
}

static void lock_add_holder(struct waitfor *w, struct lock *l, __u32 tid, __u64 ns)
{
	__u32 i;

	for (i = 0; i < l->nr_holders; i++)
		if (l->holders[i].tid == tid) {
			l->holders[i].ns += ns;
			return;
		}
	if (l->nr_holders == l->cap_holders &&
	    grow((void **)&l->holders, &l->cap_holders, sizeof(*l->holders))) {
		w->err = -ENOMEM;
		return;
	}
	l->holders[l->nr_holders++] = (struct holder_acc){ tid, ns };
}

static void edge_add(struct waitfor *w, const struct weft_slice *s, __u32 holder,
		     enum waitfor_pseudo p, struct lock *l, __u64 ns)
{
	bool has_lock = l != NULL;
	__u64 addr = l ? l->addr : 0, h;
	struct node *n = &w->nodes[w->last_node]; /* the slice's thread */
	struct waitfor_edge *e;
	unsigned int k;
	size_t i;

	if (!ns)
		return;
	if (l && holder)
		lock_add_holder(w, l, holder, ns);
	/* a thread waits on few edges: its last ones spare the hash */
	for (k = 0; k < NODE_RECENT; k++) {
		if (!n->recent[k])
			continue;
		e = &w->edges[n->recent[k] - 1];
		if (e->holder_tid == holder && e->pseudo == p && e->has_lock == has_lock &&
		    e->addr == addr && e->pid == s->pid && e->waiter_tid == s->tid)
			goto found;
	}
	h = edge_hash_of(s->tid, holder, p, s->pid, has_lock, addr);
	if (w->edge_of.slots)
		for (i = h & w->edge_of.mask; w->edge_of.slots[i]; i = (i + 1) & w->edge_of.mask) {
			e = &w->edges[w->edge_of.slots[i] - 1];
			if (e->waiter_tid == s->tid && e->holder_tid == holder && e->pseudo == p &&
			    e->pid == s->pid && e->has_lock == has_lock && e->addr == addr) {
				n->recent[n->next_recent++ % NODE_RECENT] = w->edge_of.slots[i];
				goto found;
			}
		}
	if ((!w->edge_of.slots || (w->edge_of.used + 1) * 2 > w->edge_of.mask + 1) &&
	    idx_grow(&w->edge_of, edge_hash, w)) {
		w->err = -ENOMEM;
		return;
	}
	if (w->nr_edges == w->cap_edges &&
	    grow((void **)&w->edges, &w->cap_edges, sizeof(*w->edges))) {
		w->err = -ENOMEM;
		return;
	}
	e = &w->edges[w->nr_edges++];
	memset(e, 0, sizeof(*e));
	e->waiter_tid = s->tid;
	e->pid = s->pid;
	e->holder_tid = holder;
	e->pseudo = p;
	e->has_lock = has_lock;
	e->addr = addr;
	e->wait_ns = ns;
	e->waits = 1;
	e->last_slice = w->slices;
	for (i = h & w->edge_of.mask; w->edge_of.slots[i]; i = (i + 1) & w->edge_of.mask)
		;
	w->edge_of.slots[i] = w->nr_edges;
	w->edge_of.used++;
	n->recent[n->next_recent++ % NODE_RECENT] = w->nr_edges;
	return;
found:
	e->wait_ns += ns;
	if (e->last_slice != w->slices)
		e->waits++;
	e->last_slice = w->slices;
}

/* Where a wait no traced thread ended goes */
static enum waitfor_pseudo pseudo_of(const struct weft_slice *s)
{
	if (s->syscall_nr == NR_WAIT4 || s->syscall_nr == NR_WAITID)
		return WAITFOR_CHILD;
	/* a sleep ends at its timer, whatever context the wakeup ran in
	 * (an idle CPU's timer often runs where no interrupt is seen) */
	if (s->reason == WEFT_WAIT_SLEEP)
		return WAITFOR_TIMER;
	if (s->waker_irq)
		return s->reason == WEFT_WAIT_IO || s->reason == WEFT_WAIT_FAULT ? WAITFOR_IO :
										   WAITFOR_TIMER;
	return WAITFOR_UNKNOWN;
}

static __u32 releaser_of(const struct weft_slice *s)
{
	return s->waker_tid && s->waker_tid != s->tid && !s->waker_irq ? s->waker_tid : 0;
}

/* A segment [from, to] of a wait on l held by holder (0: nobody known) */
static void segment(struct waitfor *w, const struct weft_slice *s, struct lock *l, __u32 holder,
		    __u64 from, __u64 to)
{
	if (to <= from)
		return;
	if (l && holder && holder != s->tid && w->hold_fn)
		w->hold_fn(w->hold_ctx, s->pid, l->addr, holder, from, to);
	if (holder && holder != s->tid)
		edge_add(w, s, holder, WAITFOR_THREAD, l, to - from);
	else
		edge_add(w, s, 0, pseudo_of(s), l, to - from);
}

/* A wait on an address: split at the handoffs there while it waited.
 * Before the first: the owner read, else the one who handed over then;
 * between two: the one who took it at the earlier; after the last: the
 * releaser, who handed it to this waiter, else the last taker. Without
 * handoffs: the owner, else the releaser, else (a wait that timed out)
 * the last thread that took it. */
static void lock_wait(struct waitfor *w, const struct weft_slice *s, struct lock *l)
{
	__u32 releaser = releaser_of(s), holder = s->owner_tid, k;
	__u64 from = s->start_ns;
	bool split = false;

	/* handoffs are in time order: only those after the wait began */
	for (k = l->nr; k > 0 && l->hist[(l->head + k - 1) % WAITFOR_HISTORY].t > s->start_ns; k--)
		;
	for (; k < l->nr; k++) {
		const struct handoff *h = &l->hist[(l->head + k) % WAITFOR_HISTORY];

		if (h->t >= s->end_ns)
			break;
		if (h->taker == s->tid)
			continue;
		if (!split && !holder)
			holder = h->giver;
		split = true;
		segment(w, s, l, holder, from, h->t);
		from = h->t;
		holder = h->taker;
	}
	if (releaser && (split || !holder))
		holder = releaser;
	/* Timed out (a GIL's 5 ms wait) with nobody handing over meanwhile:
	 * it waited for whoever took the address last */
	if (!holder && l->nr) {
		const struct handoff *h = &l->hist[(l->head + l->nr - 1) % WAITFOR_HISTORY];

		if (h->t <= s->start_ns && h->taker != s->tid)
			holder = h->taker;
	}
	segment(w, s, l, holder, from, s->end_ns);

	if (releaser) {
		struct handoff *h;

		if (l->nr < WAITFOR_HISTORY) {
			h = &l->hist[(l->head + l->nr) % WAITFOR_HISTORY];
			l->nr++;
		} else {
			h = &l->hist[l->head];
			l->head = (l->head + 1) % WAITFOR_HISTORY;
		}
		*h = (struct handoff){ s->end_ns, s->tid, releaser };
	}
}

void waitfor__slice(void *ctx, const struct weft_slice *s)
{
	struct waitfor *w = ctx;
	__u64 d = s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
	struct node *n;
	struct lock *l;
	__u32 k;

	if (w->err || w->finished)
		return;
	w->slices++;
	/* a thread's slices come in runs: its running one, then why it
	 * stopped */
	k = w->node_cache[s->tid % NODE_CACHE];
	if (k && w->nodes[k - 1].tid == s->tid) {
		n = &w->nodes[k - 1];
	} else {
		n = node_get(w, s->tid, s->pid);
		if (!n) {
			w->err = -ENOMEM;
			return;
		}
		w->node_cache[s->tid % NODE_CACHE] = n - w->nodes + 1;
	}
	w->last_node = n - w->nodes;
	/* its thread time, as the analysis counts it: running, queued,
	 * blocked (not a thread's time before its first enqueue or after
	 * lost records) */
	if (s->state == WEFT_SLICE_RUNNING || s->state == WEFT_SLICE_RUNNABLE ||
	    s->state == WEFT_SLICE_BLOCKED)
		n->life_ns += d;
	n->pid = s->pid;
	if (s->end_ns >= n->last_end_ns) {
		n->last_end_ns = s->end_ns;
		n->last_owner = s->state == WEFT_SLICE_BLOCKED ? s->owner_tid : 0;
		n->last_addr = s->addr;
	}
	if (s->end_ns > w->end_ns)
		w->end_ns = s->end_ns;
	/* the analysis' names are WEFT_COMM_LEN bytes, NUL-padded: a compare
	 * of fixed size costs two loads, strncmp a call per slice */
	if (s->comm && memcmp(n->comm, s->comm, WEFT_COMM_LEN)) {
		strncpy(n->comm, s->comm, WEFT_COMM_LEN);
		n->comm[WEFT_COMM_LEN] = '\0';
	}
	if (s->state == WEFT_SLICE_RUNNABLE) {
		__u64 tree = s->tree_ns < d ? s->tree_ns : d;

		edge_add(w, s, 0, WAITFOR_CPU_TREE, NULL, tree);
		edge_add(w, s, 0, WAITFOR_CPU_OTHERS, NULL, d - tree);
		return;
	}
	if (s->state != WEFT_SLICE_BLOCKED || !d)
		return;
	if (s->owner_tid)
		w->owned++;
	if (s->syscall_nr == NR_WAIT4 || s->syscall_nr == NR_WAITID) {
		edge_add(w, s, 0, WAITFOR_CHILD, NULL, d);
		return;
	}
	if (!s->addr) {
		segment(w, s, NULL, s->owner_tid ? s->owner_tid : releaser_of(s), s->start_ns,
			s->end_ns);
		return;
	}
	l = lock_get(w, s->pid, s->addr);
	if (!l) {
		w->err = -ENOMEM;
		return;
	}
	lock_wait(w, s, l);
}

static int edge_cmp(const void *pa, const void *pb)
{
	const struct waitfor_edge *a = pa, *b = pb;

	if (a->wait_ns != b->wait_ns)
		return a->wait_ns > b->wait_ns ? -1 : 1;
	if (a->waiter_tid != b->waiter_tid)
		return a->waiter_tid < b->waiter_tid ? -1 : 1;
	if (a->holder_tid != b->holder_tid)
		return a->holder_tid < b->holder_tid ? -1 : 1;
	if (a->pseudo != b->pseudo)
		return a->pseudo < b->pseudo ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static void name_lock(const struct waitfor *w, char *buf, size_t size, __u32 pid, __u64 addr)
{
	const char *name = w->lock_name ? w->lock_name(w->lock_name_ctx, pid, addr) : NULL;

	if (name && *name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "0x%llx", (unsigned long long)addr);
}

static void comm_of(const struct waitfor *w, __u32 tid, char *out)
{
	const struct node *n = node_find(w, tid);

	snprintf(out, WEFT_COMM_LEN + 1, "%s", n && n->comm[0] ? n->comm : "?");
}

/* Tarjan's strongly connected components over the threads, on the
 * thread-to-thread edges (pseudo-nodes have no way out: never in a knot).
 * Iterative, so that thousands of threads do not deepen the C stack. */
struct scc {
	__u32 *first, *next_out, *dst; /* adjacency: edges by waiter node */
	__u32 *index, *low, *stack, *comp, *call, *it;
	bool *on_stack;
	__u32 counter, sp, nr_comps;
};

#define UNSEEN 0xffffffffu

static void scc_run(struct scc *g, __u32 nr_nodes)
{
	__u32 v, depth;

	for (v = 0; v < nr_nodes; v++) {
		if (g->index[v] != UNSEEN)
			continue;
		depth = 0;
		g->call[depth] = v;
		g->it[v] = g->first[v];
		g->index[v] = g->low[v] = g->counter++;
		g->stack[g->sp++] = v;
		g->on_stack[v] = true;
		while (true) {
			__u32 u = g->call[depth], e = g->it[u];

			if (e != UNSEEN) {
				__u32 x = g->dst[e];

				g->it[u] = g->next_out[e];
				if (g->index[x] == UNSEEN) {
					g->index[x] = g->low[x] = g->counter++;
					g->stack[g->sp++] = x;
					g->on_stack[x] = true;
					g->it[x] = g->first[x];
					g->call[++depth] = x;
				} else if (g->on_stack[x] && g->index[x] < g->low[u]) {
					g->low[u] = g->index[x];
				}
				continue;
			}
			if (g->low[u] == g->index[u]) {
				__u32 x;

				do {
					x = g->stack[--g->sp];
					g->on_stack[x] = false;
					g->comp[x] = g->nr_comps;
				} while (x != u);
				g->nr_comps++;
			}
			if (!depth)
				break;
			depth--;
			if (g->low[u] < g->low[g->call[depth]])
				g->low[g->call[depth]] = g->low[u];
		}
	}
}

static int knot_cmp(const void *pa, const void *pb)
{
	const struct waitfor_knot *a = pa, *b = pb;

	if (a->wait_ns != b->wait_ns)
		return a->wait_ns > b->wait_ns ? -1 : 1;
	return a->threads[0].tid < b->threads[0].tid ? -1 : 1;
}

static int thread_cmp(const void *pa, const void *pb)
{
	const struct waitfor_thread *a = pa, *b = pb;

	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

struct knot_lock {
	__u32 pid;
	__u64 addr;
	__u64 ns;
};

static int knot_lock_cmp(const void *pa, const void *pb)
{
	const struct knot_lock *a = pa, *b = pb;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* An edge counts for knots when it joins two threads and holds at least
 * KNOT_EDGE_MIN_SHARE of its waiter's thread time: a main thread joining
 * a worker that once waited 0.4 ms for it to queue work is no knot, two
 * threads passing a GIL back and forth are. */
#define KNOT_EDGE_MIN_SHARE 0.01

static bool knot_edge(const struct waitfor *w, const struct waitfor_edge *x, __u32 *from, __u32 *to)
{
	if (!x->holder_tid || !u64_set__get(&w->node_of, NODE_KEY(x->waiter_tid), from) ||
	    !u64_set__get(&w->node_of, NODE_KEY(x->holder_tid), to))
		return false;
	return x->wait_ns >= KNOT_EDGE_MIN_SHARE * w->nodes[*from].life_ns;
}

static int find_knots(struct waitfor *w)
{
	__u32 n = w->nr_nodes, i, e, nr_adj = 0, c, nr_kl;
	struct knot_lock *kl = NULL;
	struct scc g = {};
	__u32 *size = NULL;
	__u64 *weight = NULL;
	int err = -ENOMEM;

	if (!n)
		return 0;
	g.first = malloc(n * sizeof(__u32));
	g.next_out = malloc((w->nr_edges + 1) * sizeof(__u32));
	g.dst = malloc((w->nr_edges + 1) * sizeof(__u32));
	g.index = malloc(n * sizeof(__u32));
	g.low = malloc(n * sizeof(__u32));
	g.stack = malloc(n * sizeof(__u32));
	g.comp = malloc(n * sizeof(__u32));
	g.call = malloc(n * sizeof(__u32));
	g.it = malloc(n * sizeof(__u32));
	g.on_stack = calloc(n, sizeof(bool));
	size = calloc(n, sizeof(*size));
	weight = calloc(n, sizeof(*weight));
	kl = malloc((w->nr_edges + 1) * sizeof(*kl));
	if (!g.first || !g.next_out || !g.dst || !g.index || !g.low || !g.stack || !g.comp ||
	    !g.call || !g.it || !g.on_stack || !size || !weight || !kl)
		goto cleanup;
	for (i = 0; i < n; i++)
		g.first[i] = g.index[i] = UNSEEN;
	for (e = 0; e < w->nr_edges; e++) {
		const struct waitfor_edge *x = &w->edges[e];
		__u32 from, to;

		if (!knot_edge(w, x, &from, &to))
			continue;
		g.dst[nr_adj] = to;
		g.next_out[nr_adj] = g.first[from];
		g.first[from] = nr_adj++;
	}
	scc_run(&g, n);
	for (i = 0; i < n; i++)
		size[g.comp[i]]++;
	/* weight of each component: edges inside it */
	for (e = 0; e < w->nr_edges; e++) {
		const struct waitfor_edge *x = &w->edges[e];
		__u32 from, to;

		if (!knot_edge(w, x, &from, &to) || g.comp[from] != g.comp[to])
			continue;
		weight[g.comp[from]] += x->wait_ns;
	}
	for (c = 0; c < g.nr_comps; c++) {
		struct waitfor_knot *k, *grown;
		struct knot_lock best = {}, cur;
		bool any = false;
		__u32 j;

		if (size[c] < 2 || !weight[c])
			continue;
		grown = realloc(w->knots, (w->nr_knots + 1) * sizeof(*grown));
		if (!grown)
			goto cleanup;
		w->knots = grown;
		k = &w->knots[w->nr_knots];
		memset(k, 0, sizeof(*k));
		k->threads = calloc(size[c], sizeof(*k->threads));
		if (!k->threads)
			goto cleanup;
		w->nr_knots++;
		k->wait_ns = weight[c];
		for (i = 0; i < n; i++) {
			if (g.comp[i] != c)
				continue;
			k->threads[k->nr_threads].tid = w->nodes[i].tid;
			comm_of(w, w->nodes[i].tid, k->threads[k->nr_threads].comm);
			k->nr_threads++;
			k->lifetime_ns += w->nodes[i].life_ns;
		}
		qsort(k->threads, k->nr_threads, sizeof(*k->threads), thread_cmp);
		k->share = k->lifetime_ns ? (double)k->wait_ns / k->lifetime_ns : 0;
		/* the lock that carried most of it: its edges by address,
		 * summed over runs of one address */
		nr_kl = 0;
		for (e = 0; e < w->nr_edges; e++) {
			const struct waitfor_edge *x = &w->edges[e];
			__u32 from, to;

			if (x->has_lock && knot_edge(w, x, &from, &to) && g.comp[from] == c &&
			    g.comp[to] == c)
				kl[nr_kl++] = (struct knot_lock){ x->pid, x->addr, x->wait_ns };
		}
		qsort(kl, nr_kl, sizeof(*kl), knot_lock_cmp);
		for (j = 0; j < nr_kl; j = e) {
			cur = kl[j];
			for (e = j + 1; e < nr_kl && kl[e].pid == cur.pid && kl[e].addr == cur.addr;
			     e++)
				cur.ns += kl[e].ns;
			if (!any || cur.ns > best.ns) {
				best = cur;
				any = true;
			}
		}
		if (any)
			name_lock(w, k->lock, sizeof(k->lock), best.pid, best.addr);
	}
	if (w->nr_knots)
		qsort(w->knots, w->nr_knots, sizeof(*w->knots), knot_cmp);
	err = 0;
cleanup:
	free(g.first);
	free(g.next_out);
	free(g.dst);
	free(g.index);
	free(g.low);
	free(g.stack);
	free(g.comp);
	free(g.call);
	free(g.it);
	free(g.on_stack);
	free(size);
	free(weight);
	free(kl);
	return err;
}

/* A node blocked at the end on a lock whose owner it read: that owner's
 * node, or NULL */
static const struct node *end_owner(const struct waitfor *w, const struct node *n)
{
	if (!n->last_owner || n->last_end_ns != w->end_ns)
		return NULL;
	return node_find(w, n->last_owner);
}

/* The cycles of "blocked at the end, on a lock held by": each node has at
 * most one such owner, so walking from every node finds each cycle once
 * (the walk's own nodes are marked with its start, a cycle is where it
 * meets itself). */
static int find_end_cycles(struct waitfor *w)
{
	__u32 *mark = calloc(w->nr_nodes + 1, sizeof(*mark)), i, k;
	int err = 0;

	if (!mark)
		return -ENOMEM;
	for (i = 0; i < w->nr_nodes && !err; i++) {
		const struct node *n = &w->nodes[i], *first;
		struct waitfor_end_cycle *c, *grown;
		__u32 len = 0;

		while (n && !mark[n - w->nodes]) {
			mark[n - w->nodes] = i + 1;
			n = end_owner(w, n);
		}
		if (!n || mark[n - w->nodes] != i + 1)
			continue; /* ends, or meets an earlier walk */
		first = n;
		do {
			len++;
			n = end_owner(w, n);
		} while (n != first);
		grown = realloc(w->end_cycles, (w->nr_end_cycles + 1) * sizeof(*grown));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		w->end_cycles = grown;
		c = &w->end_cycles[w->nr_end_cycles];
		c->threads = calloc(len, sizeof(*c->threads));
		c->locks = calloc(len, sizeof(*c->locks));
		if (!c->threads || !c->locks) {
			free(c->threads);
			free(c->locks);
			err = -ENOMEM;
			break;
		}
		c->nr_threads = len;
		w->nr_end_cycles++;
		for (k = 0, n = first; k < len; k++, n = end_owner(w, n)) {
			c->threads[k].tid = n->tid;
			comm_of(w, n->tid, c->threads[k].comm);
			name_lock(w, c->locks[k], sizeof(c->locks[k]), n->pid, n->last_addr);
		}
	}
	free(mark);
	return err;
}

int waitfor__finish(struct waitfor *w)
{
	__u32 i;

	if (w->finished)
		return w->err;
	w->finished = true;
	if (w->err)
		return w->err;
	for (i = 0; i < w->nr_edges; i++) {
		struct waitfor_edge *e = &w->edges[i];

		comm_of(w, e->waiter_tid, e->waiter_comm);
		if (e->holder_tid)
			comm_of(w, e->holder_tid, e->holder_comm);
		else
			snprintf(e->holder_comm, sizeof(e->holder_comm), "%s",
				 waitfor_pseudo__name(e->pseudo));
		if (e->has_lock)
			name_lock(w, e->lock, sizeof(e->lock), e->pid, e->addr);
	}
	/* the edge table's indices die with the sort */
	free(w->edge_of.slots);
	w->edge_of = (struct idx_table){};
	w->err = find_knots(w);
	if (!w->err)
		w->err = find_end_cycles(w);
	if (w->nr_edges)
		qsort(w->edges, w->nr_edges, sizeof(*w->edges), edge_cmp);
	return w->err;
}

const struct waitfor_edge *waitfor__edges(const struct waitfor *w, unsigned int *nr)
{
	*nr = w && w->finished && !w->err ? w->nr_edges : 0;
	return *nr ? w->edges : NULL;
}

const struct waitfor_end_cycle *waitfor__end_cycles(const struct waitfor *w, unsigned int *nr)
{
	*nr = w && w->finished && !w->err ? w->nr_end_cycles : 0;
	return *nr ? w->end_cycles : NULL;
}

const struct waitfor_knot *waitfor__knots(const struct waitfor *w, unsigned int *nr)
{
	*nr = w && w->finished && !w->err ? w->nr_knots : 0;
	return *nr ? w->knots : NULL;
}

unsigned int waitfor__lock_holders(const struct waitfor *w, __u32 pid, __u64 addr,
				   struct waitfor_holder *out, unsigned int max)
{
	const struct lock *l = w ? lock_find(w, pid, addr) : NULL;
	unsigned int n = 0, i, j;

	if (!l)
		return 0;
	/* insertion into the top max, heaviest first */
	for (i = 0; i < l->nr_holders && max; i++) {
		const struct holder_acc *h = &l->holders[i];
		unsigned int last;

		for (j = n; j > 0 && out[j - 1].wait_ns < h->ns; j--)
			;
		if (j >= max)
			continue;
		last = n < max ? n : max - 1;
		memmove(&out[j + 1], &out[j], (last - j) * sizeof(*out));
		out[j].tid = h->tid;
		out[j].wait_ns = h->ns;
		comm_of(w, h->tid, out[j].comm);
		if (n < max)
			n++;
	}
	return n;
}

__u64 waitfor__owned_waits(const struct waitfor *w)
{
	return w ? w->owned : 0;
}
