// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The critical path through wakeups and its shares (critical.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "critical.h"
#include "events.h"
#include "grow.h"
#include "stack_attrib.h"
#include "strtab.h"
#include "u64set.h"
#include "waits.h"

/* A thread's slice as the walk reads it. It ends where the next one
 * starts (the analysis' slices tile a thread's life; a gap between two is
 * kept as an UNKNOWN slice of its own), the last at last_end. */
struct cseg {
	__u64 start_ns;
	__u64 aux; /* BLOCKED: the address; RUNNABLE: tree_ns; else 0 */
	__u32 other; /* BLOCKED: the tree's waker; RUNNABLE: the tree thread on that CPU */
	__u8 state; /* enum weft_slice_state */
	__u8 reason;
};

/* A thread's slices are kept encoded, because the history is most of the
 * memory (17M slices at 10M events): in chunks of CHUNK slices, each
 * slice a byte of state and reason, its start as a zigzag varint delta
 * from the previous start, and only for RUNNABLE its tree_ns and holder,
 * for BLOCKED its address and waker as zigzag deltas from the previous
 * BLOCKED slice of the chunk (the same futex and waker repeat): 3 to 8
 * bytes a slice instead of 24. A chunk starts afresh (delta from its
 * start_ns, no previous address), so that any slice is at most CHUNK - 1
 * decodes away; the walk reads them through a small cache of decoded
 * chunks. */
#define CHUNK 32
struct cchunk {
	__u64 start_ns; /* its first slice's */
	size_t off; /* in the thread's bytes */
};
#define ESCAPE 0xff /* state or reason >= 15: both follow in bytes */

struct cthread {
	__u32 tid, pid;
	__u32 parent; /* who forked it, 0 unknown */
	char comm[WEFT_COMM_LEN + 1];
	__u8 *bytes; /* the encoded slices */
	size_t len, cap_bytes;
	struct cchunk *chunks;
	size_t nr_chunks, cap_chunks;
	size_t nr; /* slices */
	__u64 enc_start, enc_addr; /* the previous slice's, in the chunk */
	__u32 enc_other;
	__u8 last_state; /* the last slice's */
	__u64 last_end;
	__u64 run_ns; /* its running time on the path */
	__u64 path_ns;
	__u32 first_sample, nr_samples; /* its samples in path segments (pick[]) */
	__u32 fill; /* while picking */
};

/* A piece of the path, the rest read from the slice it was cut from
 * (critical__segment expands it). The pieces tile the path, so a piece
 * ends where the next one starts, the last at path_end. They are kept
 * encoded as the walk makes them, backwards, in chunks of PCHUNK: its
 * start as a varint back from the previous piece's start (a chunk's first
 * in the chunk), its thread and its slice + 1 (0 none) as varints: 5 to 8
 * bytes instead of 16. */
struct cpath {
	__u64 start_ns;
	__u32 thread; /* index in threads */
	__u32 seg; /* index in its slices; NO_SEG: a gap, or before its first */
};
#define NO_SEG ((__u32)-1)
#define PCHUNK 64

/* A lock wait's part with a known holder: 24 bytes */
struct chold {
	__u64 from, to;
	__u32 holder;
	/* the address's number (lock_ids); after finish, its index in
	 * c->locks + 1, 0 when it is not a lock of the table */
	__u32 lock;
};

struct clock_id {
	__u64 addr;
	__u32 pid;
};

/* A sample, or a blocked interval with its stacks */
struct cstack {
	__u64 ts; /* the sample's time; the interval's start */
	__u32 tid, tgid;
	__s32 user, kernel;
};

/* The last running segments of the tree on a CPU: who held it while a
 * thread queued there */
#define CPU_RECENT 8
struct crun {
	__u64 start, end;
	__u32 tid;
};
struct ccpu {
	struct crun recent[CPU_RECENT];
	__u32 next;
};
#define MAX_CPUS 4096

/* Decoded chunks, the last few the walk or a getter touched: the walk
 * goes back and forth between a wakee and its waker */
#define NR_CACHED 4
struct ccached {
	size_t thread, chunk; /* thread: index + 1, 0 unused */
	unsigned int n;
	struct cseg g[CHUNK];
	__u64 end[CHUNK];
};
struct pcached {
	size_t chunk; /* index + 1, 0 unused */
	unsigned int n;
	struct cpath p[PCHUNK]; /* in walk order */
};
struct ccache {
	struct ccached e[NR_CACHED];
	unsigned int next;
	struct pcached pe[2]; /* a piece and the next one */
	unsigned int pnext;
};

struct critical {
	struct stack_attrib *attrib;
	struct ccache *cache; /* written by const getters too: it is a pointer */
	int err;
	bool finished;

	struct cthread *threads;
	size_t nr_threads, cap_threads;
	struct u64_set thread_of; /* 1 << 63 | tid -> index */
	__u32 last; /* the thread of the last slice */
	__u32 first_pid; /* the first slice's process: the root without metrics */

	struct ccpu *cpus;
	size_t nr_cpus;

	struct chold *holds;
	size_t nr_holds, cap_holds;
	struct clock_id *lock_ids; /* the addresses holds were seen on */
	size_t nr_lock_ids, cap_lock_ids;
	struct u64_set lock_id_of; /* lock_key(pid, addr) -> number */

	struct cstack *samples;
	size_t nr_samples, cap_samples;
	struct cstack *blocks;
	size_t nr_blocks, cap_blocks;
	__u32 *pick; /* samples in path segments, grouped by thread */
	size_t nr_pick, cap_pick;

	/* results */
	double wall_s;
	__u64 first_ns, path_ns;
	__u32 end_tid;
	__u64 path_end;
	__u8 *pbytes; /* the pieces of the path, encoded in walk order */
	size_t plen, cap_pbytes;
	struct cchunk *pchunks;
	size_t nr_pchunks, cap_pchunks;
	__u64 penc_start; /* the previous piece's start */
	size_t nr_path;
	struct critical_state_ns by_state;
	struct critical_thread *by_thread;
	unsigned int nr_by_thread;
	struct critical_lock *locks;
	unsigned int nr_locks;
	__u64 *lock_cursor; /* the bound's walk: counted down to here */
	struct critical_function *functions;
	unsigned int nr_functions;
	struct critical_cause *causes;
	unsigned int nr_causes;
	struct strtab *names; /* function names when there is no attrib */
};

#define TKEY(tid) (1ULL << 63 | (tid))

static void stack_sink(void *ctx, const struct attributed_stack *as);

struct critical *critical__new(struct stack_attrib *attrib)
{
	struct critical *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->attrib = attrib;
	c->last = (__u32)-1;
	c->cache = calloc(1, sizeof(*c->cache));
	if (!c->cache) {
		free(c);
		return NULL;
	}
	if (attrib && stack_attrib__subscribe(attrib, stack_sink, c)) {
		free(c->cache);
		free(c);
		errno = ENOSPC;
		return NULL;
	}
	return c;
}

void critical__free(struct critical *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nr_threads; i++) {
		free(c->threads[i].bytes);
		free(c->threads[i].chunks);
	}
	free(c->threads);
	free(c->cache);
	u64_set__release(&c->thread_of);
	free(c->cpus);
	free(c->holds);
	free(c->lock_ids);
	u64_set__release(&c->lock_id_of);
	free(c->samples);
	free(c->blocks);
	free(c->pick);
	free(c->pbytes);
	free(c->pchunks);
	free(c->by_thread);
	free(c->locks);
	free(c->lock_cursor);
	free(c->functions);
	free(c->causes);
	strtab__free(c->names);
	free(c);
}

static struct cthread *thread_get(struct critical *c, __u32 tid)
{
	bool added = false;
	__u32 *slot = u64_set__slot(&c->thread_of, TKEY(tid), &added);
	struct cthread *t;

	if (!slot)
		return NULL;
	if (!added)
		return &c->threads[*slot];
	if (grow_array((void **)&c->threads, &c->cap_threads, c->nr_threads + 1,
		       sizeof(*c->threads))) {
		/* no slot may point past the array */
		*slot = (__u32)-1;
		return NULL;
	}
	*slot = c->nr_threads;
	t = &c->threads[c->nr_threads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

static struct cthread *thread_find(const struct critical *c, __u32 tid)
{
	__u32 i;

	return u64_set__get(&c->thread_of, TKEY(tid), &i) && i < c->nr_threads ? &c->threads[i] :
										 NULL;
}

int critical__feed(void *ctx, const struct weft_event_header *ev)
{
	struct critical *c = ctx;
	const struct weft_ev_fork *f;
	struct cthread *t;

	if (ev->type != WEFT_EV_FORK || c->err)
		return 0;
	f = (const void *)ev;
	if (f->parent_tid == f->child_tid)
		return 0;
	t = thread_get(c, f->child_tid);
	if (!t) {
		c->err = -ENOMEM;
		return 0;
	}
	t->parent = f->parent_tid;
	return 0;
}

/* The tree's thread that held cpu longest over [from, to], 0 none */
static __u32 cpu_holder(const struct critical *c, __u32 cpu, __u32 self, __u64 from, __u64 to)
{
	const struct ccpu *p;
	__u64 best = 0, lo, hi;
	__u32 tid = 0, k;

	if (cpu >= c->nr_cpus)
		return 0;
	p = &c->cpus[cpu];
	for (k = 0; k < CPU_RECENT; k++) {
		const struct crun *r = &p->recent[k];

		if (!r->tid || r->tid == self)
			continue;
		lo = r->start > from ? r->start : from;
		hi = r->end < to ? r->end : to;
		if (hi > lo && hi - lo > best) {
			best = hi - lo;
			tid = r->tid;
		}
	}
	return tid;
}

static void note_running(struct critical *c, const struct weft_slice *s)
{
	struct ccpu *p;

	if (s->cpu >= MAX_CPUS)
		return;
	if (s->cpu >= c->nr_cpus) {
		size_t n = s->cpu + 1;
		struct ccpu *q = realloc(c->cpus, n * sizeof(*q));

		if (!q) {
			c->err = -ENOMEM;
			return;
		}
		memset(q + c->nr_cpus, 0, (n - c->nr_cpus) * sizeof(*q));
		c->cpus = q;
		c->nr_cpus = n;
	}
	p = &c->cpus[s->cpu];
	p->recent[p->next++ % CPU_RECENT] = (struct crun){ s->start_ns, s->end_ns, s->tid };
}

/* ---- the encoded history ---- */

static __u8 *put_varint(__u8 *b, __u64 v)
{
	while (v >= 0x80) {
		*b++ = (__u8)(v | 0x80);
		v >>= 7;
	}
	*b++ = (__u8)v;
	return b;
}

static const __u8 *get_varint(const __u8 *b, __u64 *v)
{
	__u64 x = 0;
	unsigned int shift = 0;

	while (*b & 0x80) {
		x |= (__u64)(*b++ & 0x7f) << shift;
		shift += 7;
	}
	*v = x | (__u64)*b++ << shift;
	return b;
}

static __u64 zigzag(__u64 now, __u64 prev)
{
	__s64 d = (__s64)(now - prev);

	return ((__u64)d << 1) ^ (__u64)(d >> 63);
}

static __u64 unzigzag(__u64 z, __u64 prev)
{
	return prev + ((z >> 1) ^ (0 - (z & 1)));
}

/* The most bytes a slice takes: three bytes of state, and four varints */
#define MAX_ENCODED (3 + 4 * 10)

/* Appends g to t's slices; -ENOMEM */
static int seg_append(struct cthread *t, const struct cseg *g)
{
	__u8 *b;

	if (grow_array((void **)&t->bytes, &t->cap_bytes, t->len + MAX_ENCODED, 1))
		return -ENOMEM;
	if (t->nr % CHUNK == 0) {
		if (grow_array((void **)&t->chunks, &t->cap_chunks, t->nr_chunks + 1,
			       sizeof(*t->chunks)))
			return -ENOMEM;
		t->chunks[t->nr_chunks++] = (struct cchunk){ g->start_ns, t->len };
		t->enc_start = g->start_ns;
		t->enc_addr = 0;
		t->enc_other = 0;
	}
	b = t->bytes + t->len;
	if (g->state < 15 && g->reason < 15) {
		*b++ = g->state | g->reason << 4;
	} else {
		*b++ = ESCAPE;
		*b++ = g->state;
		*b++ = g->reason;
	}
	b = put_varint(b, zigzag(g->start_ns, t->enc_start));
	t->enc_start = g->start_ns;
	if (g->state == WEFT_SLICE_RUNNABLE) {
		b = put_varint(b, g->aux);
		b = put_varint(b, g->other);
	} else if (g->state == WEFT_SLICE_BLOCKED) {
		b = put_varint(b, zigzag(g->aux, t->enc_addr));
		b = put_varint(b, zigzag(g->other, t->enc_other));
		t->enc_addr = g->aux;
		t->enc_other = g->other;
	}
	t->len = b - t->bytes;
	t->nr++;
	t->last_state = g->state;
	return 0;
}

/* Decodes chunk k of t into e */
static void chunk_decode(const struct cthread *t, size_t k, struct ccached *e)
{
	const __u8 *b = t->bytes + t->chunks[k].off;
	__u64 start = t->chunks[k].start_ns, addr = 0, other = 0, v;
	size_t base = k * CHUNK;
	unsigned int j;

	e->n = t->nr - base < CHUNK ? (unsigned int)(t->nr - base) : CHUNK;
	for (j = 0; j < e->n; j++) {
		struct cseg *g = &e->g[j];

		memset(g, 0, sizeof(*g));
		if (*b == ESCAPE) {
			g->state = b[1];
			g->reason = b[2];
			b += 3;
		} else {
			g->state = *b & 0x0f;
			g->reason = *b >> 4;
			b++;
		}
		b = get_varint(b, &v);
		start = unzigzag(v, start);
		g->start_ns = start;
		if (g->state == WEFT_SLICE_RUNNABLE) {
			b = get_varint(b, &g->aux);
			b = get_varint(b, &v);
			g->other = (__u32)v;
		} else if (g->state == WEFT_SLICE_BLOCKED) {
			b = get_varint(b, &v);
			addr = unzigzag(v, addr);
			g->aux = addr;
			b = get_varint(b, &v);
			other = (__u32)unzigzag(v, other);
			g->other = (__u32)other;
		}
		if (j)
			e->end[j - 1] = start;
	}
	if (e->n)
		e->end[e->n - 1] = k + 1 < t->nr_chunks ? t->chunks[k + 1].start_ns : t->last_end;
}

/* Chunk k of t, decoded (from the cache when it is there) */
static const struct ccached *chunk_get(const struct critical *c, const struct cthread *t, size_t k)
{
	struct ccache *cc = c->cache;
	size_t ti = (size_t)(t - c->threads) + 1;
	struct ccached *e;
	unsigned int i;

	for (i = 0; i < NR_CACHED; i++)
		if (cc->e[i].thread == ti && cc->e[i].chunk == k)
			return &cc->e[i];
	e = &cc->e[cc->next++ % NR_CACHED];
	chunk_decode(t, k, e);
	e->thread = ti;
	e->chunk = k;
	return e;
}

/* Slice i of t (i < t->nr), and where it ends */
static void seg_get(const struct critical *c, const struct cthread *t, size_t i, struct cseg *g,
		    __u64 *end)
{
	const struct ccached *e = chunk_get(c, t, i / CHUNK);

	*g = e->g[i % CHUNK];
	if (end)
		*end = e->end[i % CHUNK];
}

void critical__slice(void *ctx, const struct weft_slice *s)
{
	struct critical *c = ctx;
	struct cthread *t;
	struct cseg g;

	if (c->err || c->finished || s->end_ns <= s->start_ns)
		return;
	if (c->last < c->nr_threads && c->threads[c->last].tid == s->tid) {
		t = &c->threads[c->last];
	} else {
		t = thread_get(c, s->tid);
		if (!t) {
			c->err = -ENOMEM;
			return;
		}
		c->last = t - c->threads;
	}
	if (!c->first_pid)
		c->first_pid = s->pid;
	t->pid = s->pid;
	if (s->comm && memcmp(t->comm, s->comm, WEFT_COMM_LEN)) {
		strncpy(t->comm, s->comm, WEFT_COMM_LEN);
		t->comm[WEFT_COMM_LEN] = '\0';
	}
	if (t->nr && s->start_ns < t->last_end) {
		/* never seen: the slices of a thread come in time order */
		if (s->end_ns <= t->last_end)
			return;
	}
	if (t->nr && s->start_ns > t->last_end) {
		/* a gap: unknown */
		memset(&g, 0, sizeof(g));
		g.start_ns = t->last_end;
		g.state = WEFT_SLICE_UNKNOWN;
		if (seg_append(t, &g)) {
			c->err = -ENOMEM;
			return;
		}
	}
	memset(&g, 0, sizeof(g));
	g.start_ns = t->nr && s->start_ns < t->last_end ? t->last_end : s->start_ns;
	g.state = s->state;
	switch (s->state) {
	case WEFT_SLICE_RUNNING:
		note_running(c, s);
		break;
	case WEFT_SLICE_RUNNABLE:
		g.aux = s->tree_ns;
		/* the slice closes when the thread runs again: the tree's
		 * threads that held its CPU meanwhile have closed theirs */
		if (s->tree_ns)
			g.other = cpu_holder(c, s->cpu, s->tid, s->start_ns, s->end_ns);
		break;
	case WEFT_SLICE_BLOCKED:
		g.aux = s->addr;
		g.reason = s->reason;
		g.other = s->waker_irq ? 0 : s->waker_tid;
		break;
	default:
		break;
	}
	if (seg_append(t, &g)) {
		c->err = -ENOMEM;
		return;
	}
	t->last_end = s->end_ns;
}

static __u64 lock_key(__u32 pid, __u64 addr)
{
	return 1ULL << 63 | ((addr * 0x9e3779b97f4a7c15ULL) ^ pid);
}

/* The number of (pid, addr), given out when new; -ENOMEM. Two addresses
 * whose keys meet (never seen) fall back to a scan. */
static long lock_id(struct critical *c, __u32 pid, __u64 addr)
{
	bool added = false;
	__u32 *slot = u64_set__slot(&c->lock_id_of, lock_key(pid, addr), &added);
	size_t i;

	if (!slot)
		return -ENOMEM;
	if (!added) {
		if (c->lock_ids[*slot].pid == pid && c->lock_ids[*slot].addr == addr)
			return *slot;
		for (i = 0; i < c->nr_lock_ids; i++)
			if (c->lock_ids[i].pid == pid && c->lock_ids[i].addr == addr)
				return i;
	}
	if (grow_array((void **)&c->lock_ids, &c->cap_lock_ids, c->nr_lock_ids + 1,
		       sizeof(*c->lock_ids)))
		return -ENOMEM;
	if (added)
		*slot = c->nr_lock_ids;
	c->lock_ids[c->nr_lock_ids] = (struct clock_id){ addr, pid };
	return c->nr_lock_ids++;
}

void critical__hold(void *ctx, __u32 pid, __u64 addr, __u32 holder, __u64 from, __u64 to)
{
	struct critical *c = ctx;
	struct chold *h;
	long id;

	if (c->err || to <= from)
		return;
	if (grow_array((void **)&c->holds, &c->cap_holds, c->nr_holds + 1, sizeof(*c->holds))) {
		c->err = -ENOMEM;
		return;
	}
	id = lock_id(c, pid, addr);
	if (id < 0) {
		c->err = -ENOMEM;
		return;
	}
	h = &c->holds[c->nr_holds++];
	*h = (struct chold){ .from = from, .to = to, .holder = holder, .lock = (__u32)id };
}

static int add_stack(struct cstack **arr, size_t *nr, size_t *cap,
		     const struct attributed_stack *as)
{
	if (grow_array((void **)arr, cap, *nr + 1, sizeof(**arr)))
		return -ENOMEM;
	(*arr)[(*nr)++] = (struct cstack){ as->start_ns, as->thread.tid, as->stacks.tgid,
					   as->stacks.user, as->stacks.kernel };
	return 0;
}

static void stack_sink(void *ctx, const struct attributed_stack *as)
{
	struct critical *c = ctx;

	if (c->err || c->finished || !as->stacks.taken)
		return;
	if (as->kind == STACK_KIND_ONCPU) {
		if (add_stack(&c->samples, &c->nr_samples, &c->cap_samples, as))
			c->err = -ENOMEM;
	} else if (!as->unsampled && as->start_ns &&
		   (as->stacks.user >= 0 || as->stacks.kernel >= 0)) {
		/* a blocked interval without a frame (--no-stacks) names
		 * nothing: its piece goes by its state, as with none */
		if (add_stack(&c->blocks, &c->nr_blocks, &c->cap_blocks, as))
			c->err = -ENOMEM;
	}
}

/* ---- the walk ---- */

/* The segment of t holding instant x (start < x <= end), or the last one
 * starting before x (which then ended before it); -1 when none starts
 * before x */
static long seg_at(const struct critical *c, const struct cthread *t, __u64 x)
{
	size_t lo = 0, hi = t->nr_chunks;
	const struct ccached *e;
	unsigned int j;

	/* the first chunk starting at or after x: the segment is in the
	 * chunk before it */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->chunks[mid].start_ns < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	e = chunk_get(c, t, lo - 1);
	/* the first segment there starting at or after x */
	for (j = 0; j < e->n && e->g[j].start_ns < x; j++)
		;
	return (long)((lo - 1) * CHUNK + j) - 1;
}

/* The i-th piece of the path in time order (i < nr_path) */
static void piece_get(const struct critical *c, size_t i, struct cpath *out)
{
	struct ccache *cc = c->cache;
	size_t w = c->nr_path - 1 - i, k = w / PCHUNK;
	struct pcached *e = NULL;
	unsigned int j;

	for (j = 0; j < 2; j++)
		if (cc->pe[j].chunk == k + 1)
			e = &cc->pe[j];
	if (!e) {
		const __u8 *b = c->pbytes + c->pchunks[k].off;
		__u64 start = c->pchunks[k].start_ns, v;

		e = &cc->pe[cc->pnext++ % 2];
		e->chunk = k + 1;
		e->n = c->nr_path - k * PCHUNK < PCHUNK ? (unsigned int)(c->nr_path - k * PCHUNK) :
							  PCHUNK;
		for (j = 0; j < e->n; j++) {
			if (j) {
				b = get_varint(b, &v);
				start -= v;
			}
			e->p[j].start_ns = start;
			b = get_varint(b, &v);
			e->p[j].thread = (__u32)v;
			b = get_varint(b, &v);
			e->p[j].seg = (__u32)v - 1; /* 0: NO_SEG */
		}
	}
	*out = e->p[w % PCHUNK];
}

/* The end of the i-th piece of the path (in time order) */
static __u64 piece_end(const struct critical *c, size_t i)
{
	struct cpath q;

	if (i + 1 >= c->nr_path)
		return c->path_end;
	piece_get(c, i + 1, &q);
	return q.start_ns;
}

/* Appends [from, to] of t's slice seg (-1 none) to the path, in walk
 * (backward) order */
static int path_add(struct critical *c, const struct cthread *t, __u64 from, __u64 to, long seg)
{
	__u8 *b;

	if (to <= from)
		return 0;
	if (grow_array((void **)&c->pbytes, &c->cap_pbytes, c->plen + 30, 1))
		return -ENOMEM;
	b = c->pbytes + c->plen;
	if (c->nr_path % PCHUNK == 0) {
		if (grow_array((void **)&c->pchunks, &c->cap_pchunks, c->nr_pchunks + 1,
			       sizeof(*c->pchunks)))
			return -ENOMEM;
		c->pchunks[c->nr_pchunks++] = (struct cchunk){ from, c->plen };
	} else {
		/* backwards: each piece ends where the next one starts */
		b = put_varint(b, c->penc_start - from);
	}
	c->penc_start = from;
	b = put_varint(b, (__u64)(t - c->threads));
	b = put_varint(b, seg >= 0 ? (__u64)seg + 1 : 0);
	c->plen = b - c->pbytes;
	c->nr_path++;
	return 0;
}

/* The i-th piece of the path as the getters give it */
static void expand(const struct critical *c, size_t i, struct critical_segment *p)
{
	struct cpath piece, *q = &piece;
	const struct cthread *t;
	struct cseg g;
	__u64 end;

	piece_get(c, i, q);
	t = &c->threads[q->thread];
	memset(p, 0, sizeof(*p));
	p->start_ns = q->start_ns;
	p->end_ns = piece_end(c, i);
	p->tid = t->tid;
	p->pid = t->pid;
	p->state = CRIT_OTHER;
	if (q->seg == NO_SEG)
		return;
	seg_get(c, t, q->seg, &g, &end);
	p->slice_start_ns = g.start_ns;
	switch (g.state) {
	case WEFT_SLICE_RUNNING:
		p->state = CRIT_RUNNING;
		break;
	case WEFT_SLICE_RUNNABLE: {
		__u64 d = end - g.start_ns, tree = g.aux < d ? g.aux : d;

		p->state = CRIT_QUEUED;
		/* the part of the clipped piece behind the tree, in
		 * proportion */
		p->tree_ns = d ? (__u64)((double)tree * (p->end_ns - p->start_ns) / d + 0.5) : 0;
		if (p->tree_ns > p->end_ns - p->start_ns)
			p->tree_ns = p->end_ns - p->start_ns;
		p->cause_tid = g.other;
		break;
	}
	case WEFT_SLICE_BLOCKED:
		p->state = CRIT_BLOCKED;
		p->addr = g.aux;
		p->reason = g.reason;
		break;
	default:
		break;
	}
}

/* The last instant at or before x when thread w was running: the end of
 * its running segment holding x, or of its last one before; 0 none */
static __u64 last_running(const struct critical *c, const struct cthread *w, __u64 x)
{
	long i = seg_at(c, w, x);
	struct cseg g;
	__u64 end;

	for (; i >= 0; i--) {
		seg_get(c, w, i, &g, &end);
		if (g.state == WEFT_SLICE_RUNNING)
			return end < x ? end : x;
	}
	return 0;
}

static struct critical_lock *lock_of(struct critical *c, __u32 pid, __u64 addr);

/* The what-if bound, as the walk goes through a wait on addr over [from,
 * to]: the path's time in waits on each lock, in backward order, each
 * instant once (lock_cursor: counted down to there) */
static void bound_add(struct critical *c, __u32 pid, __u64 addr, __u64 from, __u64 to)
{
	struct critical_lock *l = lock_of(c, pid, addr);
	__u64 *cur;

	if (!l)
		return;
	cur = &c->lock_cursor[l - c->locks];
	if (*cur < to)
		to = *cur;
	if (to > from)
		l->bound_ns += to - from;
	if (from < *cur)
		*cur = from;
}

static int walk(struct critical *c, struct cthread *t, __u64 x)
{
	__u64 first = c->first_ns, guard = 0, limit = 4 * (__u64)c->nr_path + 16;
	size_t k;
	int err = 0;

	for (k = 0; k < c->nr_threads; k++)
		limit += c->threads[k].nr * 2;
	while (x > first && !err) {
		long i = seg_at(c, t, x);
		struct cseg seg, *g = &seg;
		struct cthread *w;
		__u64 from, wake, end;

		if (++guard > limit)
			return -ELOOP; /* cannot happen: each step moves x or takes time */
		if (i < 0) {
			/* before the thread's first segment: its creator */
			w = t->parent ? thread_find(c, t->parent) : NULL;
			if (w && w != t && w->nr && w->chunks[0].start_ns < x) {
				t = w;
				continue;
			}
			err = path_add(c, t, first, x, -1);
			break;
		}
		seg_get(c, t, i, g, &end);
		if (end < x) {
			/* after its last slice */
			err = path_add(c, t, end, x, -1);
			x = end;
			continue;
		}
		from = g->start_ns > first ? g->start_ns : first;
		switch (g->state) {
		case WEFT_SLICE_RUNNING:
			err = path_add(c, t, from, x, i);
			x = from;
			break;
		case WEFT_SLICE_RUNNABLE:
			err = path_add(c, t, from, x, i);
			x = from;
			break;
		case WEFT_SLICE_BLOCKED:
			w = g->other && g->other != t->tid ? thread_find(c, g->other) : NULL;
			wake = w ? last_running(c, w, x) : 0;
			if (!w || wake <= g->start_ns) {
				/* a timer, an interrupt, a task outside the
				 * tree: the wait itself is on the path */
				err = path_add(c, t, from, x, i);
				if (!err && g->aux)
					bound_add(c, t->pid, g->aux, from, x);
				x = from;
				break;
			}
			/* the waker no longer ran at the wake: the wait is on
			 * the path back to its last running instant */
			err = path_add(c, t, wake, x, i);
			if (!err && g->aux)
				bound_add(c, t->pid, g->aux, from, x);
			x = wake;
			t = w;
			break;
		case WEFT_SLICE_NEW:
			w = t->parent ? thread_find(c, t->parent) : NULL;
			wake = w && w != t ? last_running(c, w, x) : 0;
			if (wake > g->start_ns) {
				err = path_add(c, t, wake, x, i);
				x = wake;
				t = w;
				break;
			}
			err = path_add(c, t, from, x, i);
			x = from;
			break;
		default:
			err = path_add(c, t, from, x, i);
			x = from;
			break;
		}
	}
	return err;
}

/* ---- shares ---- */

/* qsort, which must not be given NULL, even for nothing */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int cmp_thread(const void *pa, const void *pb)
{
	const struct critical_thread *a = pa, *b = pb;

	if (a->ns != b->ns)
		return a->ns > b->ns ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static int cmp_lock(const void *pa, const void *pb)
{
	const struct critical_lock *a = pa, *b = pb;

	if (a->ns != b->ns)
		return a->ns > b->ns ? -1 : 1;
	if (a->bound_ns != b->bound_ns)
		return a->bound_ns > b->bound_ns ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static int cmp_function(const void *pa, const void *pb)
{
	const struct critical_function *a = pa, *b = pb;

	if (a->ns != b->ns)
		return a->ns > b->ns ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int cmp_cause(const void *pa, const void *pb)
{
	const struct critical_cause *a = pa, *b = pb;

	if (a->ns != b->ns)
		return a->ns > b->ns ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static int cmp_hold(const void *pa, const void *pb)
{
	const struct chold *a = pa, *b = pb;

	if (a->holder != b->holder)
		return a->holder < b->holder ? -1 : 1;
	if (a->lock != b->lock)
		return a->lock < b->lock ? -1 : 1;
	return a->from < b->from ? -1 : a->from > b->from;
}

static int cmp_hold_time(const void *pa, const void *pb)
{
	const struct chold *a = pa, *b = pb;

	if (a->holder != b->holder)
		return a->holder < b->holder ? -1 : 1;
	return a->from < b->from ? -1 : a->from > b->from;
}

/* The holds sorted in place: qsort's merge sort would take a copy of
 * them (24 bytes each, 3.8M at 10M events of ping-pong), the peak of the
 * whole run. A quicksort (median of three, Hoare's partition, the smaller
 * side first, insertion below 16); no order among equal keys is needed:
 * index_holds merges them, add_holds sums. */
static void sort_holds(struct chold *a, size_t n, int (*cmp)(const void *, const void *))
{
	struct chold pivot, tmp;
	size_t mid, left;
	long i, j;

	while (n > 16) {
		mid = (n - 1) / 2;
		if (cmp(&a[mid], &a[0]) < 0) {
			tmp = a[mid], a[mid] = a[0], a[0] = tmp;
		}
		if (cmp(&a[n - 1], &a[0]) < 0) {
			tmp = a[n - 1], a[n - 1] = a[0], a[0] = tmp;
		}
		if (cmp(&a[n - 1], &a[mid]) < 0) {
			tmp = a[n - 1], a[n - 1] = a[mid], a[mid] = tmp;
		}
		pivot = a[mid];
		i = -1;
		j = (long)n;
		for (;;) {
			do
				i++;
			while (cmp(&a[i], &pivot) < 0);
			do
				j--;
			while (cmp(&pivot, &a[j]) < 0);
			if (i >= j)
				break;
			tmp = a[i], a[i] = a[j], a[j] = tmp;
		}
		/* [0, j] <= pivot <= [j + 1, n), both sides non-empty */
		left = (size_t)j + 1;
		if (left < n - left) {
			sort_holds(a, left, cmp);
			a += left;
			n -= left;
		} else {
			sort_holds(a + left, n - left, cmp);
			n = left;
		}
	}
	for (i = 1; i < (long)n; i++) {
		tmp = a[i];
		for (j = i; j > 0 && cmp(&a[j - 1], &tmp) > 0; j--)
			a[j] = a[j - 1];
		a[j] = tmp;
	}
}

static int cmp_cstack(const void *pa, const void *pb)
{
	const struct cstack *a = pa, *b = pb;

	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	return a->ts < b->ts ? -1 : a->ts > b->ts;
}

static void state_add(struct critical_state_ns *s, const struct critical_segment *p)
{
	__u64 d = p->end_ns - p->start_ns;

	switch (p->state) {
	case CRIT_RUNNING:
		s->running += d;
		break;
	case CRIT_QUEUED:
		s->runnable_tree += p->tree_ns;
		s->runnable_others += d - p->tree_ns;
		break;
	case CRIT_BLOCKED:
		switch (p->reason) {
		case WEFT_WAIT_SLEEP:
			s->sleep += d;
			break;
		case WEFT_WAIT_IO:
			s->io += d;
			break;
		case WEFT_WAIT_LOCK:
			s->lock += d;
			break;
		case WEFT_WAIT_WAIT:
			s->wait += d;
			break;
		default:
			s->other += d;
			break;
		}
		break;
	default:
		s->other += d;
		break;
	}
}

/* The locks: the report's table (m), or every address held in tests */
static int make_locks(struct critical *c, const struct weft_metrics *m)
{
	size_t i, j;

	if (m) {
		c->locks = calloc(m->nr_locks ? m->nr_locks : 1, sizeof(*c->locks));
		if (!c->locks)
			return -ENOMEM;
		for (i = 0; i < m->nr_locks; i++) {
			struct critical_lock *l = &c->locks[c->nr_locks++];

			l->pid = m->locks[i].pid;
			l->addr = m->locks[i].addr;
			/* as the report's other outputs name it: a kernel lock
			 * is "kernel at 0xffff...", not a bare address */
			weft_lock_metrics__label(&m->locks[i], l->name, sizeof(l->name));
		}
	} else {
		c->locks = calloc(c->nr_lock_ids ? c->nr_lock_ids : 1, sizeof(*c->locks));
		if (!c->locks)
			return -ENOMEM;
		for (j = 0; j < c->nr_lock_ids; j++) {
			c->locks[j].pid = c->lock_ids[j].pid;
			c->locks[j].addr = c->lock_ids[j].addr;
			snprintf(c->locks[j].name, sizeof(c->locks[j].name), "0x%llx",
				 (unsigned long long)c->lock_ids[j].addr);
		}
		c->nr_locks = c->nr_lock_ids;
	}
	c->lock_cursor = calloc(c->nr_locks ? c->nr_locks : 1, sizeof(*c->lock_cursor));
	return c->lock_cursor ? 0 : -ENOMEM;
}

/* Each hold's lock (index + 1, 0: not a lock of the table); holds then
 * merged per holder and lock, so that two waiters at once count the
 * holder's time once */
static int index_holds(struct critical *c)
{
	__u32 *map = calloc(c->nr_lock_ids ? c->nr_lock_ids : 1, sizeof(*map));
	size_t i, n = 0;
	__u32 v;
	long id;

	if (!map)
		return -ENOMEM;
	/* each address's place in the table, once */
	for (v = 0; v < c->nr_locks; v++) {
		__u32 k;

		if (u64_set__get(&c->lock_id_of, lock_key(c->locks[v].pid, c->locks[v].addr), &k) &&
		    c->lock_ids[k].pid == c->locks[v].pid &&
		    c->lock_ids[k].addr == c->locks[v].addr)
			map[k] = v + 1;
		else
			for (id = 0; id < (long)c->nr_lock_ids; id++)
				if (c->lock_ids[id].pid == c->locks[v].pid &&
				    c->lock_ids[id].addr == c->locks[v].addr)
					map[id] = v + 1;
	}
	for (i = 0; i < c->nr_holds; i++)
		c->holds[i].lock = c->holds[i].lock < c->nr_lock_ids ? map[c->holds[i].lock] : 0;
	free(map);
	sort_holds(c->holds, c->nr_holds, cmp_hold);
	for (i = 0; i < c->nr_holds; i++) {
		struct chold *h = &c->holds[i];

		if (!h->lock)
			continue;
		if (n && c->holds[n - 1].holder == h->holder && c->holds[n - 1].lock == h->lock &&
		    h->from <= c->holds[n - 1].to) {
			if (h->to > c->holds[n - 1].to)
				c->holds[n - 1].to = h->to;
			continue;
		}
		c->holds[n++] = *h;
	}
	c->nr_holds = n;
	/* by holder, then start, for the sweep */
	sort_holds(c->holds, c->nr_holds, cmp_hold_time);
	return 0;
}

/* The path's pieces in order of thread, each thread's in time order (a
 * counting sort of the path, which is in time order): 4 bytes a piece */
static __u32 *by_thread_order(const struct critical *c)
{
	__u32 *order = malloc((c->nr_path ? c->nr_path : 1) * sizeof(*order));
	size_t *at = calloc(c->nr_threads + 1, sizeof(*at)), i;

	if (!order || !at) {
		free(order);
		free(at);
		return NULL;
	}
	struct cpath q;

	for (i = 0; i < c->nr_path; i++) {
		piece_get(c, i, &q);
		at[q.thread + 1]++;
	}
	for (i = 1; i <= c->nr_threads; i++)
		at[i] += at[i - 1];
	for (i = 0; i < c->nr_path; i++) {
		piece_get(c, i, &q);
		order[at[q.thread]++] = i;
	}
	free(at);
	return order;
}

/* The path inside the critical sections its threads held: for each
 * thread, its pieces and its holds (merged per lock, by start) swept
 * together in time; the holds open at a piece are few (the locks a thread
 * holds at once) */
static int add_holds(struct critical *c)
{
	__u32 *order = by_thread_order(c), *active = NULL;
	size_t i = 0, h = 0, nr_active = 0, cap_active = 0, k;

	if (!order)
		return -ENOMEM;
	struct cpath piece, *p = &piece;

	while (i < c->nr_path) {
		__u32 tid;

		piece_get(c, order[i], p);
		tid = c->threads[p->thread].tid;

		/* the holds of this thread */
		while (h < c->nr_holds && c->holds[h].holder < tid)
			h++;
		nr_active = 0;
		for (; i < c->nr_path; i++) {
			__u64 p_end;

			piece_get(c, order[i], p);
			if (c->threads[p->thread].tid != tid)
				break;
			p_end = piece_end(c, order[i]);

			for (; h < c->nr_holds && c->holds[h].holder == tid &&
			       c->holds[h].from < p_end;
			     h++) {
				if (grow_array((void **)&active, &cap_active, nr_active + 1,
					       sizeof(*active))) {
					free(order);
					free(active);
					return -ENOMEM;
				}
				active[nr_active++] = h;
			}
			for (k = 0; k < nr_active;) {
				const struct chold *o = &c->holds[active[k]];
				__u64 a = o->from > p->start_ns ? o->from : p->start_ns;
				__u64 b = o->to < p_end ? o->to : p_end;

				if (b > a)
					c->locks[o->lock - 1].ns += b - a;
				/* ended: no later piece of this thread meets it */
				if (o->to <= p_end)
					active[k] = active[--nr_active];
				else
					k++;
			}
		}
	}
	free(order);
	free(active);
	return 0;
}

static struct critical_lock *lock_of(struct critical *c, __u32 pid, __u64 addr)
{
	unsigned int i;

	for (i = 0; i < c->nr_locks; i++)
		if (c->locks[i].addr == addr && c->locks[i].pid == pid)
			return &c->locks[i];
	return NULL;
}

static int by_thread(struct critical *c)
{
	size_t i;
	unsigned int n = 0;

	for (i = 0; i < c->nr_path; i++) {
		struct cthread *t;
		struct cpath q;

		piece_get(c, i, &q);
		t = &c->threads[q.thread];
		if (!t->path_ns)
			n++;
		t->path_ns += piece_end(c, i) - q.start_ns;
	}
	c->by_thread = calloc(n ? n : 1, sizeof(*c->by_thread));
	if (!c->by_thread)
		return -ENOMEM;
	for (i = 0; i < c->nr_threads; i++) {
		const struct cthread *t = &c->threads[i];
		struct critical_thread *o;

		if (!t->path_ns)
			continue;
		o = &c->by_thread[c->nr_by_thread++];
		o->tid = t->tid;
		o->pid = t->pid;
		memcpy(o->comm, t->comm, sizeof(o->comm));
		o->ns = t->path_ns;
		o->share = c->path_ns ? (double)t->path_ns / c->path_ns : 0;
	}
	sort(c->by_thread, c->nr_by_thread, sizeof(*c->by_thread), cmp_thread);
	return 0;
}

/* The shares by state, and what queued pieces waited behind: one pass */
static int by_cause(struct critical *c)
{
	size_t i;
	unsigned int k;

	for (i = 0; i < c->nr_path; i++) {
		struct critical_segment seg, *p = &seg;
		__u64 parts[2];
		__u32 tids[2];
		int j;

		expand(c, i, p);
		state_add(&c->by_state, p);
		if (p->state != CRIT_QUEUED)
			continue;
		parts[0] = p->tree_ns;
		parts[1] = p->end_ns - p->start_ns - p->tree_ns;
		tids[0] = p->cause_tid;
		tids[1] = 0;
		for (j = 0; j < 2; j++) {
			if (!parts[j])
				continue;
			for (k = 0; k < c->nr_causes && c->causes[k].tid != tids[j]; k++)
				;
			if (k == c->nr_causes) {
				struct critical_cause *q =
					realloc(c->causes, (k + 1) * sizeof(*c->causes));
				const struct cthread *t = tids[j] ? thread_find(c, tids[j]) : NULL;

				if (!q)
					return -ENOMEM;
				c->causes = q;
				memset(&q[k], 0, sizeof(q[k]));
				q[k].tid = tids[j];
				snprintf(q[k].comm, sizeof(q[k].comm), "%s",
					 t	 ? t->comm :
					 tids[j] ? "?" :
						   "other tasks");
				c->nr_causes++;
			}
			c->causes[k].ns += parts[j];
		}
	}
	sort(c->causes, c->nr_causes, sizeof(*c->causes), cmp_cause);
	return 0;
}

/* ---- functions ---- */

static const char *state_frame(const struct critical_segment *p, bool tree)
{
	static const char *const blocked[WEFT_WAIT_NR] = {
		[WEFT_WAIT_LOCK] = "[lock]",	 [WEFT_WAIT_WAIT] = "[wait]",
		[WEFT_WAIT_IO] = "[io]",	 [WEFT_WAIT_SLEEP] = "[sleep]",
		[WEFT_WAIT_FAULT] = "[fault]",	 [WEFT_WAIT_RUNQUEUE] = "[runqueue]",
		[WEFT_WAIT_OTHER] = "[blocked]",
	};

	switch (p->state) {
	case CRIT_RUNNING:
		return "[no_sample]";
	case CRIT_QUEUED:
		return tree ? "[queued_behind_tree]" : "[queued_behind_others]";
	case CRIT_BLOCKED:
		return p->reason < WEFT_WAIT_NR && blocked[p->reason] ? blocked[p->reason] :
									"[blocked]";
	default:
		return "[other]";
	}
}

/* The samples of tid in [from, to]: [*lo, *hi) of samples */
static void samples_in(const struct critical *c, __u32 tid, __u64 from, __u64 to, size_t *lo_out,
		       size_t *hi_out)
{
	size_t lo = 0, hi = c->nr_samples, i;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct cstack *s = &c->samples[mid];

		if (s->tid < tid || (s->tid == tid && s->ts <= from))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < c->nr_samples && c->samples[i].tid == tid && c->samples[i].ts <= to; i++)
		;
	*lo_out = lo;
	*hi_out = i;
}

/* Each thread's running time on the path, and its samples that fall in
 * its running pieces (pick[], grouped by thread), in two passes: count,
 * then fill */
static int pick_samples(struct critical *c)
{
	size_t i, lo, hi, total = 0;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->nr_path; i++) {
			struct cpath piece, *q = &piece;
			struct cthread *t;
			__u64 q_end = piece_end(c, i);
			struct cseg g;

			piece_get(c, i, q);
			t = &c->threads[q->thread];
			if (q->seg == NO_SEG)
				continue;
			seg_get(c, t, q->seg, &g, NULL);
			if (g.state != WEFT_SLICE_RUNNING)
				continue;
			if (!pass)
				t->run_ns += q_end - q->start_ns;
			if (!c->nr_samples)
				continue;
			samples_in(c, t->tid, q->start_ns, q_end, &lo, &hi);
			if (!pass) {
				t->nr_samples += hi - lo;
				continue;
			}
			for (; lo < hi; lo++)
				c->pick[t->first_sample + t->fill++] = lo;
		}
		if (pass)
			break;
		for (i = 0; i < c->nr_threads; i++) {
			c->threads[i].first_sample = total;
			c->threads[i].fill = 0;
			total += c->threads[i].nr_samples;
		}
		c->pick = malloc((total ? total : 1) * sizeof(*c->pick));
		if (!c->pick)
			return -ENOMEM;
		c->nr_pick = c->cap_pick = total;
	}
	return 0;
}

static const struct cstack *block_stack(const struct critical *c, const struct critical_segment *p)
{
	size_t lo = 0, hi = c->nr_blocks;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct cstack *s = &c->blocks[mid];

		if (s->tid < p->tid || (s->tid == p->tid && s->ts < p->slice_start_ns))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nr_blocks && c->blocks[lo].tid == p->tid &&
	    c->blocks[lo].ts == p->slice_start_ns)
		return &c->blocks[lo];
	return NULL;
}

/* The name a function share goes to: a sample's leaf (kernel first: it
 * was running there), a blocked stack's leaf user frame (the kernel's is
 * always the scheduler) */
static __u32 leaf_name(struct critical *c, const struct cstack *s, bool kernel_first)
{
	const __u32 *ids;
	unsigned int n;

	if (kernel_first && s->kernel >= 0 &&
	    !stack_attrib__frames(c->attrib, false, s->tgid, s->kernel, &ids, &n) && n)
		return ids[0];
	if (s->user >= 0 && !stack_attrib__frames(c->attrib, true, s->tgid, s->user, &ids, &n) && n)
		return ids[0];
	if (!kernel_first && s->kernel >= 0 &&
	    !stack_attrib__frames(c->attrib, false, s->tgid, s->kernel, &ids, &n) && n)
		return ids[0];
	return 0;
}

/* Calls fn for every piece of the path with its stack (s may be NULL)
 * and its weight in ns: running time spread over the thread's picked
 * samples, the rest by segment */
typedef int (*piece_fn)(struct critical *c, void *ctx, const struct critical_segment *p,
			const struct cstack *s, const char *state, __u64 ns);

static int for_each_piece(struct critical *c, piece_fn fn, void *ctx)
{
	size_t i;
	__u32 k;
	int err = 0;

	for (i = 0; i < c->nr_path && !err; i++) {
		struct critical_segment seg, *p = &seg;
		__u64 d;

		expand(c, i, p);
		d = p->end_ns - p->start_ns;

		switch (p->state) {
		case CRIT_RUNNING:
			break; /* below, per thread */
		case CRIT_QUEUED:
			if (p->tree_ns)
				err = fn(c, ctx, p, NULL, state_frame(p, true), p->tree_ns);
			if (!err && d > p->tree_ns)
				err = fn(c, ctx, p, NULL, state_frame(p, false), d - p->tree_ns);
			break;
		case CRIT_BLOCKED:
			err = fn(c, ctx, p, block_stack(c, p), state_frame(p, false), d);
			break;
		default:
			err = fn(c, ctx, p, NULL, state_frame(p, false), d);
			break;
		}
	}
	/* running: each thread's time on the path over its samples there;
	 * the last sample takes the rounding, so that the sum is exact */
	for (i = 0; i < c->nr_threads && !err; i++) {
		const struct cthread *t = &c->threads[i];
		struct critical_segment p = { .tid = t->tid, .pid = t->pid, .state = CRIT_RUNNING };
		__u64 each, given = 0;

		if (!t->run_ns)
			continue;
		if (!t->nr_samples) {
			err = fn(c, ctx, &p, NULL, state_frame(&p, false), t->run_ns);
			continue;
		}
		each = t->run_ns / t->nr_samples;
		for (k = 0; k < t->nr_samples && !err; k++) {
			__u64 w = k + 1 == t->nr_samples ? t->run_ns - given : each;

			given += w;
			err = fn(c, ctx, &p, &c->samples[c->pick[t->first_sample + k]], NULL, w);
		}
	}
	return err;
}

static __u32 intern(struct critical *c, const char *name)
{
	long id;

	if (c->attrib)
		return stack_attrib__intern(c->attrib, name, NULL);
	if (!c->names)
		c->names = strtab__new();
	if (!c->names)
		return 0;
	id = strtab__intern(c->names, name, strlen(name));
	return id > 0 ? (__u32)id : 0;
}

static const char *name_str(const struct critical *c, __u32 id)
{
	if (c->attrib)
		return strtab__str(stack_attrib__names(c->attrib), id);
	return c->names ? strtab__str(c->names, id) : "";
}

struct fn_acc {
	struct u64_set idx; /* name id -> index in functions */
	int err;
};

static int function_piece(struct critical *c, void *ctx, const struct critical_segment *p,
			  const struct cstack *s, const char *state, __u64 ns)
{
	struct fn_acc *acc = ctx;
	__u32 id = 0, *slot;
	bool added;

	(void)p;
	if (s && c->attrib)
		id = leaf_name(c, s, !state);
	if (!id)
		id = intern(c, state ? state : "[unknown]");
	if (!id)
		return -ENOMEM;
	slot = u64_set__slot(&acc->idx, id, &added);
	if (!slot)
		return -ENOMEM;
	if (added) {
		struct critical_function *q =
			realloc(c->functions, (c->nr_functions + 1) * sizeof(*q));

		if (!q)
			return -ENOMEM;
		c->functions = q;
		*slot = c->nr_functions;
		q[c->nr_functions++] = (struct critical_function){ .ns = 0 };
		q[*slot].name = (const char *)(unsigned long)id; /* named below */
	}
	c->functions[*slot].ns += ns;
	return 0;
}

static int by_function(struct critical *c)
{
	struct fn_acc acc = { .err = 0 };
	unsigned int i;
	int err = for_each_piece(c, function_piece, &acc);

	u64_set__release(&acc.idx);
	if (err)
		return err;
	for (i = 0; i < c->nr_functions; i++) {
		c->functions[i].name = name_str(c, (__u32)(unsigned long)c->functions[i].name);
		c->functions[i].share = c->path_ns ? (double)c->functions[i].ns / c->path_ns : 0;
	}
	sort(c->functions, c->nr_functions, sizeof(*c->functions), cmp_function);
	return 0;
}

/* ---- finish ---- */

/* Among threads whose history ends at the same instant (the analysis
 * closes every open one at the end of the trace), the one that was doing
 * something: running or queued to the end, then the process's main
 * thread, whose exit ends the process */
static int end_rank(const struct cthread *t)
{
	__u8 st = t->last_state;

	return 2 * (st == WEFT_SLICE_RUNNING || st == WEFT_SLICE_RUNNABLE) + (t->tid == t->pid);
}

int critical__finish(struct critical *c, const struct weft_metrics *m)
{
	size_t i;
	struct cthread *end = NULL;
	__u32 root = 0;
	int err;

	if (c->finished)
		return c->err;
	c->finished = true;
	if (c->err)
		return c->err;
	/* the first event: a thread's state before it is not known (an
	 * UNKNOWN slice may start at 0, before anything was seen) */
	c->first_ns = (__u64)-1;
	for (i = 0; i < c->nr_threads; i++) {
		const struct cthread *t = &c->threads[i];
		struct cseg g;
		size_t k;

		for (k = 0; k < t->nr; k++) {
			seg_get(c, t, k, &g, NULL);
			if (g.state != WEFT_SLICE_UNKNOWN)
				break;
		}
		if (k < t->nr && g.start_ns < c->first_ns)
			c->first_ns = g.start_ns;
	}
	for (i = 0; i < c->nr_threads && c->first_ns == (__u64)-1; i++)
		if (c->threads[i].nr)
			c->first_ns = c->threads[i].last_end;
	if (c->first_ns == (__u64)-1) {
		c->first_ns = 0;
		return c->err = -ENODATA;
	}
	/* the root process: the first the analysis saw */
	root = m && m->nr_processes ? m->processes[0].pid : c->first_pid;
	for (i = 0; i < c->nr_threads; i++) {
		struct cthread *t = &c->threads[i];

		if (!t->nr || (!(m && m->attach_mode) && t->pid != root))
			continue;
		if (!end || t->last_end > end->last_end ||
		    (t->last_end == end->last_end && end_rank(t) > end_rank(end)))
			end = t;
	}
	if (!end)
		return c->err = -ENODATA;
	c->end_tid = end->tid;
	c->path_ns = end->last_end - c->first_ns;
	c->path_end = end->last_end;
	c->wall_s = m ? m->wall_s : c->path_ns / 1e9;

	/* the locks first: the walk counts the bound as it goes */
	err = make_locks(c, m);
	if (err)
		return c->err = err;
	for (i = 0; i < c->nr_locks; i++)
		c->lock_cursor[i] = (__u64)-1;
	err = walk(c, end, end->last_end);
	if (err)
		return c->err = err;
	err = by_thread(c);
	if (!err)
		err = by_cause(c);
	if (!err)
		err = index_holds(c);
	if (!err)
		err = add_holds(c);
	if (err)
		return c->err = err;
	for (i = 0; i < c->nr_locks; i++)
		c->locks[i].share = c->path_ns ? (double)c->locks[i].ns / c->path_ns : 0;
	sort(c->locks, c->nr_locks, sizeof(*c->locks), cmp_lock);
	/* locks the path never met are left out */
	while (c->nr_locks && !c->locks[c->nr_locks - 1].ns && !c->locks[c->nr_locks - 1].bound_ns)
		c->nr_locks--;

	/* functions: samples picked per thread, in path order */
	sort(c->samples, c->nr_samples, sizeof(*c->samples), cmp_cstack);
	sort(c->blocks, c->nr_blocks, sizeof(*c->blocks), cmp_cstack);
	err = pick_samples(c);
	if (!err)
		err = by_function(c);
	return c->err = err;
}

/* ---- getters ---- */

double critical__wall_s(const struct critical *c)
{
	return c->wall_s;
}

__u64 critical__path_ns(const struct critical *c)
{
	return c->path_ns;
}

__u64 critical__first_ns(const struct critical *c)
{
	return c->first_ns;
}

__u32 critical__end_tid(const struct critical *c)
{
	return c->end_tid;
}

unsigned int critical__nr_segments(const struct critical *c)
{
	return c->nr_path;
}

void critical__segment(const struct critical *c, unsigned int i, struct critical_segment *out)
{
	if (i < c->nr_path)
		expand(c, i, out);
	else
		memset(out, 0, sizeof(*out));
}

const struct critical_state_ns *critical__by_state(const struct critical *c)
{
	return &c->by_state;
}

const struct critical_thread *critical__by_thread(const struct critical *c, unsigned int *nr)
{
	*nr = c->nr_by_thread;
	return c->by_thread;
}

const struct critical_lock *critical__by_lock(const struct critical *c, unsigned int *nr)
{
	*nr = c->nr_locks;
	return c->locks;
}

const struct critical_function *critical__by_function(const struct critical *c, unsigned int *nr)
{
	*nr = c->nr_functions;
	return c->functions;
}

const struct critical_cause *critical__queued_behind(const struct critical *c, unsigned int *nr)
{
	*nr = c->nr_causes;
	return c->causes;
}

void critical__summary(const struct critical *c, struct weft_path_summary *out)
{
	memset(out, 0, sizeof(*out));
	if (c->err || !c->finished || !c->nr_by_thread)
		return;
	out->valid = true;
	out->tid = c->by_thread[0].tid;
	out->pid = c->by_thread[0].pid;
	memcpy(out->comm, c->by_thread[0].comm, sizeof(out->comm));
	out->share = c->by_thread[0].share;
	out->path_s = c->path_ns / 1e9;
	out->busy_share = c->path_ns ? (double)(c->by_state.running + c->by_state.runnable_tree +
						c->by_state.runnable_others) /
					       c->path_ns :
				       0;
}

/* ---- folded ---- */

struct folded_acc {
	enum critical_by by;
	struct strtab *lines;
	__u64 *ns; /* by line id */
	size_t cap;
	char *buf;
	size_t len, size;
};

static int buf_add(struct folded_acc *f, const char *s, bool sep)
{
	size_t n = strlen(s);

	if (f->len + n + 2 > f->size) {
		size_t size = (f->len + n + 2) * 2;
		char *b = realloc(f->buf, size);

		if (!b)
			return -ENOMEM;
		f->buf = b;
		f->size = size;
	}
	if (sep && f->len)
		f->buf[f->len++] = ';';
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
	return 0;
}

/* Folded spelling of a root: ';' and spaces made '_' (DESIGN: folded) */
static void root_name(char *out, size_t size, const char *comm, __u32 tid, bool with_tid)
{
	char *p;

	if (with_tid)
		snprintf(out, size, "%s-%u", comm[0] ? comm : "?", tid);
	else
		snprintf(out, size, "%s", comm[0] ? comm : "?");
	for (p = out; *p; p++)
		if (*p == ';' || *p == ' ' || (unsigned char)*p < 0x20)
			*p = '_';
}

static int folded_piece(struct critical *c, void *ctx, const struct critical_segment *p,
			const struct cstack *s, const char *state, __u64 ns)
{
	struct folded_acc *f = ctx;
	const struct cthread *t = thread_find(c, p->tid);
	char root[WEFT_COMM_LEN + 16];
	const __u32 *ids;
	unsigned int n, k;
	long id;
	int err;

	f->len = 0;
	root_name(root, sizeof(root), t ? t->comm : "", p->tid, f->by == CRITICAL_BY_THREAD);
	err = buf_add(f, root, false);
	if (!err && s && c->attrib && s->user >= 0 &&
	    !stack_attrib__frames(c->attrib, true, s->tgid, s->user, &ids, &n))
		for (k = n; k-- > 0 && !err;)
			err = buf_add(f, name_str(c, ids[k]), true);
	if (!err && s && c->attrib && s->kernel >= 0 &&
	    !stack_attrib__frames(c->attrib, false, s->tgid, s->kernel, &ids, &n))
		for (k = n; k-- > 0 && !err;)
			err = buf_add(f, name_str(c, ids[k]), true);
	if (!err && state)
		err = buf_add(f, state, true);
	if (err)
		return err;
	id = strtab__intern(f->lines, f->buf, f->len);
	if (id <= 0)
		return -ENOMEM;
	/* f->ns has a slot for every line there can be (write_folded) */
	if ((size_t)id >= f->cap)
		return -ENOSPC;
	f->ns[id] += ns;
	return 0;
}

int critical__for_each_folded(struct critical *c, enum critical_by by, critical_folded_fn fn,
			      void *ctx)
{
	struct folded_acc f = { .by = by };
	size_t i, n;
	int err = 0;

	if (by == CRITICAL_BY_LOCK)
		return -EINVAL;
	f.lines = strtab__new();
	/* one slot per possible line: at most one per piece, plus the empty id */
	n = c->nr_path * 2 + c->nr_pick + c->nr_threads + 2;
	f.ns = calloc(n, sizeof(*f.ns));
	f.cap = n;
	if (!f.lines || !f.ns) {
		err = -ENOMEM;
		goto out;
	}
	err = for_each_piece(c, folded_piece, &f);
	if (err)
		goto out;
	for (i = 1; i < f.cap && i < strtab__count(f.lines); i++) {
		__u64 us = (f.ns[i] + 500) / 1000;

		if (us) {
			err = fn(ctx, strtab__str(f.lines, i), us);
			if (err)
				break;
		}
	}
out:
	strtab__free(f.lines);
	free(f.ns);
	free(f.buf);
	return err;
}

static int folded_line_print(void *ctx, const char *stack, __u64 us)
{
	return fprintf(ctx, "%s %llu\n", stack, (unsigned long long)us) < 0 ? -EIO : 0;
}

int critical__write_folded(struct critical *c, FILE *out, enum critical_by by)
{
	return critical__for_each_folded(c, by, folded_line_print, out);
}
