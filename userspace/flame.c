// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "events.h"
#include "flame.h"
#include "recording.h"
#include "stacks.h"
#include "u64set.h"

#define LINE_MAX_LEN (64 * 1024)

/* A line a thread's lock wait went to, by what the line is made of, so
 * that a wait like one before it builds no line: most threads wait on a
 * few addresses from a few stacks, over and over. */
#define LOCK_HITS 4

struct lock_hit {
	__u64 addr;
	__u32 pid, tgid;
	__s32 user, kernel; /* kernel 0 with user_only */
	bool has_switch;
	unsigned int comm_gen; /* flame.comm_gen when the line was built */
	size_t line; /* index + 1 in flame.pending; 0: empty */
};

/* What flame needs to know of each thread: its name, the stacks of its
 * last switch out (the start of its current block) and of the wakeup that
 * ended it. */
/* Blocked time of skipped switches (--stack-every) not yet given to a
 * sampled stack, and the line (index + 1) of the last sampled one, which
 * gets it at the end */
struct carry {
	__u64 ns;
	size_t last;
};

struct thread_info {
	__u32 tid;
	char comm[WEFT_COMM_LEN + 1];
	bool has_switch;
	__u32 sw_tgid;
	__s32 sw_user, sw_kernel;
	bool has_wake;
	bool wake_irq;
	__u32 waker_tid, waker_tgid;
	__s32 wk_user, wk_kernel;
	/* --stack-every, except for the lock type (whose carry is per
	 * address, in flame.carries): blocked time not yet given to a sampled
	 * stack */
	struct carry carry;
	/* lock type: the lines of its last waits, replaced in turn */
	struct lock_hit hits[LOCK_HITS];
	unsigned int next_hit;
};

struct line {
	char *stack;
	__u64 value;
	__u32 pid; /* the process whose samples or blocked time it is */
	__u64 addr; /* lock type, before finish: the wait's address */
};

struct line_map {
	struct line *lines;
	size_t n, cap;
	size_t *slots; /* index + 1; 0 is empty */
	size_t mask;
};

struct flame {
	struct flame_opts opts;
	const struct stack_table *stacks;
	struct thread_info *threads;
	size_t nthreads, cap_threads;
	struct u64_set thread_index;
	struct line_map pending; /* lock waits keyed by "pid addr stack" */
	/* the lock type's carries, per thread and address: wait addresses
	 * numbered in addr_index, carries found by thread index + 1 << 32 |
	 * address number in carry_index */
	struct u64_set addr_index, carry_index;
	__u32 naddrs;
	struct carry *carries;
	size_t ncarries, cap_carries;
	struct line_map map;
	/* lock type, after finish: pending's lines that are locks */
	struct flame_lock_line *lock_lines;
	size_t nr_lock_lines;
	/* changes with any thread's name, which the roots are made of */
	unsigned int comm_gen;
	bool finished;
	__u64 total;
	char *buf; /* LINE_MAX_LEN */
};

/* The index of name among names, or -EINVAL */
static int name_index(const char *const *names, unsigned int n, const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -EINVAL;
}

int flame_type__parse(const char *name, enum flame_type *out)
{
	static const char *const names[] = { "oncpu", "offcpu", "wakeup", "lock" };
	int i = name_index(names, 4, name);

	if (i < 0)
		return i;
	*out = i;
	return 0;
}

int flame_by__parse(const char *name, enum flame_by *out)
{
	static const char *const names[] = { "process", "pid", "thread", "none" };
	int i = name_index(names, 4, name);

	if (i < 0)
		return i;
	*out = i;
	return 0;
}

const char *flame_type__unit(enum flame_type type)
{
	return type == FLAME_ONCPU ? "samples" : "us";
}

/* --- a map of strings to counts --- */

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int map_grow(struct line_map *m)
{
	size_t cap = m->slots ? (m->mask + 1) * 2 : 1024, i, j;
	size_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < m->n; i++) {
		for (j = str_hash(m->lines[i].stack) & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			;
		slots[j] = i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->mask = cap - 1;
	return 0;
}

static struct line *map_get(struct line_map *m, const char *stack)
{
	struct line *grown, *l;
	size_t i;

	if ((!m->slots || (m->n + 1) * 2 > m->mask + 1) && map_grow(m))
		return NULL;
	for (i = str_hash(stack) & m->mask; m->slots[i]; i = (i + 1) & m->mask)
		if (!strcmp(m->lines[m->slots[i] - 1].stack, stack))
			return &m->lines[m->slots[i] - 1];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;

		grown = realloc(m->lines, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		m->lines = grown;
		m->cap = cap;
	}
	l = &m->lines[m->n];
	memset(l, 0, sizeof(*l));
	l->stack = strdup(stack);
	if (!l->stack)
		return NULL;
	m->slots[i] = ++m->n;
	return l;
}

static void map_release(struct line_map *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->lines[i].stack);
	free(m->lines);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* --- threads --- */

static struct thread_info *thread_get(struct flame *f, __u32 tid)
{
	struct thread_info *grown, *t;
	bool added;
	__u32 *slot = u64_set__slot(&f->thread_index, 1ULL << 63 | tid, &added);

	if (!slot)
		return NULL;
	if (!added)
		return &f->threads[*slot];
	if (f->nthreads == f->cap_threads) {
		size_t cap = f->cap_threads ? f->cap_threads * 2 : 64;

		grown = realloc(f->threads, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		f->threads = grown;
		f->cap_threads = cap;
	}
	*slot = f->nthreads;
	t = &f->threads[f->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

static const struct thread_info *thread_find(const struct flame *f, __u32 tid)
{
	__u32 i;

	return u64_set__get(&f->thread_index, 1ULL << 63 | tid, &i) ? &f->threads[i] : NULL;
}

static void set_comm(struct flame *f, __u32 tid, const char *comm)
{
	struct thread_info *t = thread_get(f, tid);

	if (t)
		snprintf(t->comm, sizeof(t->comm), "%.*s", WEFT_COMM_LEN, comm);
	f->comm_gen++;
}

struct flame *flame__new(const struct flame_opts *opts, const struct stack_table *stacks)
{
	struct flame *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->opts = *opts;
	f->stacks = stacks;
	f->buf = malloc(LINE_MAX_LEN);
	if (!f->buf) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

void flame__free(struct flame *f)
{
	if (!f)
		return;
	map_release(&f->map);
	map_release(&f->pending);
	u64_set__release(&f->addr_index);
	u64_set__release(&f->carry_index);
	free(f->carries);
	free(f->lock_lines);
	u64_set__release(&f->thread_index);
	free(f->threads);
	free(f->buf);
	free(f);
}

/* --- building a line --- */

struct line_buf {
	char *p;
	size_t len, cap;
	bool full;
};

/* One frame, with spaces and ';' made '_' so that the line stays
 * "frames COUNT" with ';' between frames. */
static void put_frame(struct line_buf *b, const char *name, const char *suffix)
{
	size_t need = strlen(name) + (suffix ? strlen(suffix) : 0) + 2;
	const char *s;

	if (b->len + need >= b->cap) {
		b->full = true;
		return;
	}
	if (b->len)
		b->p[b->len++] = ';';
	if (!*name)
		name = "[unknown]";
	for (s = name; *s; s++)
		b->p[b->len++] = (*s == ' ' || *s == ';' || *s == '\t' || *s == '\n') ? '_' : *s;
	for (s = suffix; s && *s; s++)
		b->p[b->len++] = *s;
	b->p[b->len] = '\0';
}

static void put_root(struct flame *f, struct line_buf *b, __u32 tid, __u32 tgid)
{
	const struct thread_info *t = thread_find(f, tid), *leader = thread_find(f, tgid);
	const char *comm = "[unknown]";
	char name[64];

	if (f->opts.by == FLAME_BY_NONE)
		return;
	if (f->opts.by == FLAME_BY_THREAD) {
		if (t && t->comm[0])
			comm = t->comm;
		snprintf(name, sizeof(name), "%s-%u", comm, tid);
	} else {
		/* a process is named by its main thread */
		if (leader && leader->comm[0])
			comm = leader->comm;
		else if (t && t->comm[0])
			comm = t->comm;
		if (f->opts.by == FLAME_BY_PID)
			snprintf(name, sizeof(name), "%s-%u", comm, tgid);
		else
			snprintf(name, sizeof(name), "%s", comm);
	}
	put_frame(b, name, NULL);
}

/* The kernel frames of weft's own programs, at the leaf end of every
 * stack they take: what ran is what called them. */
static bool is_tracing_frame(const char *name)
{
	return name && (!strncmp(name, "bpf_prog_", 9) || !strncmp(name, "bpf_trace_run", 13) ||
			!strncmp(name, "__bpf_trace_", 12) || !strncmp(name, "__traceiter_", 12) ||
			!strncmp(name, "bpf_get_stack", 13) || !strncmp(name, "perf_trace_", 11));
}

/* The frames of one stack, root first (reverse) or leaf first. */
static void put_stack(struct line_buf *b, const struct weft_stack *st, bool root_first)
{
	const char *suffix = st->user ? NULL : "_[k]";
	unsigned int i, skip = 0, n;

	while (!st->user && skip < st->nframes && is_tracing_frame(st->frames[skip].name))
		skip++;
	n = st->nframes - skip;
	for (i = 0; i < n; i++) {
		const struct stack_frame *fr =
			&st->frames[root_first ? st->nframes - 1 - i : skip + i];

		put_frame(b, fr->name ? fr->name : "[unknown]", suffix);
	}
}

/* A thread's stack: user frames then kernel frames, root first; or the
 * reverse, leaf first (a waker's, after the "--"). */
static void put_stacks(struct flame *f, struct line_buf *b, __u32 tgid, __s32 user_id,
		       __s32 kernel_id, bool root_first)
{
	const struct weft_stack *u = f->stacks ? stack_table__get(f->stacks, true, tgid, user_id) :
						 NULL;
	const struct weft_stack *k = f->stacks && !f->opts.user_only ?
					     stack_table__get(f->stacks, false, 0, kernel_id) :
					     NULL;

	if ((!u || !u->nframes) && (!k || !k->nframes)) {
		put_frame(b, "[unknown]", NULL);
		return;
	}
	if (root_first) {
		if (u)
			put_stack(b, u, true);
		if (k)
			put_stack(b, k, true);
	} else {
		if (k)
			put_stack(b, k, false);
		if (u)
			put_stack(b, u, false);
	}
}

static int add_value(struct flame *f, struct line_buf *b, __u32 pid, __u64 value)
{
	struct line *l;

	if (b->full)
		b->p[b->cap - 1] = '\0';
	l = map_get(&f->map, b->p);
	if (!l)
		return -ENOMEM;
	l->pid = pid;
	l->value += value;
	return 0;
}

int flame__feed(void *ctx, const struct weft_event_header *ev)
{
	struct flame *f = ctx;
	const struct weft_ev_switch *sw;
	const struct weft_ev_wakeup *wk;
	const struct weft_ev_sample *sa;
	struct line_buf b = { .p = f->buf, .cap = LINE_MAX_LEN };
	struct thread_info *t;

	f->buf[0] = '\0';
	switch (ev->type) {
	case WEFT_EV_FORK:
		set_comm(f, ((const struct weft_ev_fork *)ev)->child_tid,
			 ((const struct weft_ev_fork *)ev)->comm);
		break;
	case WEFT_EV_EXEC:
		set_comm(f, ((const struct weft_ev_exec *)ev)->tid,
			 ((const struct weft_ev_exec *)ev)->comm);
		break;
	case WEFT_EV_RENAME:
		set_comm(f, ((const struct weft_ev_rename *)ev)->tid,
			 ((const struct weft_ev_rename *)ev)->comm);
		break;
	case WEFT_EV_TASK_STATE:
		set_comm(f, ((const struct weft_ev_task_state *)ev)->tid,
			 ((const struct weft_ev_task_state *)ev)->comm);
		break;
	case WEFT_EV_SWITCH:
		/* what a block starts, for the graphs of blocked time */
		if (f->opts.type == FLAME_ONCPU)
			break;
		sw = (const void *)ev;
		if (!(ev->flags & WEFT_SWITCH_PREV_TRACED) || (ev->flags & WEFT_SWITCH_INFERRED))
			break;
		t = thread_get(f, sw->prev_tid);
		if (!t)
			return -ENOMEM;
		t->has_switch = true;
		t->sw_tgid = sw->prev_tgid;
		t->sw_user = sw->user_stack_id;
		t->sw_kernel = sw->kernel_stack_id;
		t->has_wake = false;
		break;
	case WEFT_EV_WAKEUP:
		/* who ended a block: only the wakeup graph shows it */
		if (f->opts.type != FLAME_WAKEUP)
			break;
		wk = (const void *)ev;
		t = thread_get(f, wk->tid);
		if (!t)
			return -ENOMEM;
		t->has_wake = true;
		t->wake_irq = ev->flags & WEFT_WAKE_IRQ;
		t->waker_tid = ev->flags & WEFT_WAKE_NO_WAKING ? 0 : wk->waker_tid;
		t->waker_tgid = wk->waker_tgid;
		t->wk_user = wk->waker_user_stack_id;
		t->wk_kernel = wk->waker_kernel_stack_id;
		break;
	case WEFT_EV_SAMPLE:
		if (f->opts.type != FLAME_ONCPU)
			break;
		sa = (const void *)ev;
		put_root(f, &b, sa->tid, sa->tgid);
		put_stacks(f, &b, sa->tgid, sa->user_stack_id, sa->kernel_stack_id, true);
		return add_value(f, &b, sa->tgid, 1);
	}
	return 0;
}

/* "ID ADDR" as "%u %llx" writes it (a lock wait's keys), without
 * printf's cost on every wait: at most 28 bytes with the NUL; returns the
 * length */
static int put_ids(char *p, __u32 id, __u64 addr)
{
	char digits[20];
	int n = 0, len = 0;

	do
		digits[n++] = '0' + id % 10;
	while (id /= 10);
	while (n)
		p[len++] = digits[--n];
	p[len++] = ' ';
	do
		digits[n++] = "0123456789abcdef"[addr & 15];
	while (addr >>= 4);
	while (n)
		p[len++] = digits[--n];
	p[len] = '\0';
	return len;
}

/* The thread's line for this lock wait, or the entry to keep it in once
 * built (line 0) */
static struct lock_hit *lock_hit(struct flame *f, struct thread_info *t, const struct weft_slice *s)
{
	struct lock_hit want = { .addr = s->addr,
				 .pid = s->pid,
				 .has_switch = t->has_switch,
				 /* names are in the root only when it is there */
				 .comm_gen = f->opts.by == FLAME_BY_NONE ? 0 : f->comm_gen },
			*h;
	unsigned int i;

	if (t->has_switch) {
		want.tgid = t->sw_tgid;
		want.user = t->sw_user;
		want.kernel = f->opts.user_only ? 0 : t->sw_kernel;
	}
	for (i = 0; i < LOCK_HITS; i++) {
		h = &t->hits[i];
		if (h->line && h->addr == want.addr && h->pid == want.pid && h->tgid == want.tgid &&
		    h->user == want.user && h->kernel == want.kernel &&
		    h->has_switch == want.has_switch && h->comm_gen == want.comm_gen)
			return h;
	}
	h = &t->hits[t->next_hit++ % LOCK_HITS];
	*h = want;
	return h;
}

/* The lock type's carry of thread t at addr (never 0), or NULL when out
 * of memory */
static struct carry *lock_carry(struct flame *f, const struct thread_info *t, __u64 addr)
{
	__u32 *addr_no, *slot;
	struct carry *grown;
	bool added;

	addr_no = u64_set__slot(&f->addr_index, addr, &added);
	if (!addr_no)
		return NULL;
	if (added)
		*addr_no = f->naddrs++;
	slot = u64_set__slot(&f->carry_index, (__u64)(t - f->threads + 1) << 32 | *addr_no, &added);
	if (!slot)
		return NULL;
	if (!added)
		return &f->carries[*slot];
	if (f->ncarries == f->cap_carries) {
		size_t cap = f->cap_carries ? f->cap_carries * 2 : 64;

		grown = realloc(f->carries, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		f->carries = grown;
		f->cap_carries = cap;
	}
	*slot = f->ncarries;
	memset(&f->carries[f->ncarries], 0, sizeof(*f->carries));
	return &f->carries[f->ncarries++];
}

void flame__slice(void *ctx, const struct weft_slice *s)
{
	struct flame *f = ctx;
	struct line_buf b = { .p = f->buf, .cap = LINE_MAX_LEN };
	__u64 value = s->end_ns - s->start_ns;
	struct lock_hit *hit = NULL;
	struct carry *carry;
	struct line_map *target;
	struct thread_info *t;
	struct line *l;
	int plen = 0;

	if (s->state != WEFT_SLICE_BLOCKED || f->opts.type == FLAME_ONCPU)
		return;
	if (f->opts.type == FLAME_LOCK && !s->addr)
		return;
	t = thread_get(f, s->tid);
	if (!t)
		return;
	/* --stack-every: a block that took no stack adds its time to the
	 * thread's next one that did */
	carry = f->opts.type == FLAME_LOCK ? lock_carry(f, t, s->addr) : &t->carry;
	if (t->has_switch && t->sw_user == WEFT_STACK_SKIPPED) {
		if (carry)
			carry->ns += value;
		t->has_switch = false;
		t->has_wake = false;
		return;
	}
	if (carry) {
		value += carry->ns;
		carry->ns = 0;
	}
	target = f->opts.type == FLAME_LOCK ? &f->pending : &f->map;
	if (f->opts.type == FLAME_LOCK) {
		hit = lock_hit(f, t, s);
		if (hit->line) {
			l = &target->lines[hit->line - 1];
			t->has_switch = false;
			goto add;
		}
	}
	/* which addresses are locks is known at the end: a lock wait's line
	 * starts with its address until then */
	if (f->opts.type == FLAME_LOCK) {
		plen = put_ids(f->buf, s->pid, s->addr);
		f->buf[plen++] = ' ';
	}
	b.p = f->buf + plen;
	b.cap = LINE_MAX_LEN - plen;
	b.p[0] = '\0';
	put_root(f, &b, s->tid, s->pid);
	if (t->has_switch)
		put_stacks(f, &b, t->sw_tgid, t->sw_user, t->sw_kernel, true);
	else
		put_frame(&b, "[unknown]", NULL);
	if (f->opts.type == FLAME_WAKEUP) {
		put_frame(&b, "--", NULL);
		if (!t->has_wake)
			put_frame(&b, "[unknown]", NULL);
		else if (t->wake_irq)
			put_frame(&b, "[interrupt]", NULL);
		else
			put_stacks(f, &b, t->waker_tgid, t->wk_user, t->wk_kernel, false);
		if (t->has_wake && !t->wake_irq && t->waker_tid)
			put_root(f, &b, t->waker_tid, t->waker_tgid);
	}
	t->has_switch = false;
	t->has_wake = false;
	if (b.full)
		b.p[b.cap - 1] = '\0';
	l = map_get(target, f->buf);
	if (!l)
		return;
	if (hit)
		hit->line = (size_t)(l - target->lines) + 1;
add:
	l->pid = s->pid;
	l->addr = s->addr;
	l->value += value;
	if (carry)
		carry->last = (size_t)(l - target->lines) + 1;
}

static bool is_lock(const struct weft_metrics *m, __u32 pid, __u64 addr)
{
	unsigned int i;

	for (i = 0; m && i < m->nr_locks; i++)
		if (m->locks[i].addr == addr && (m->locks[i].pid == pid || !m->locks[i].pid))
			return true;
	return false;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->stack, ((const struct line *)b)->stack);
}

static int cmp_lock_line(const void *a, const void *b)
{
	const struct flame_lock_line *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return strcmp(x->stack, y->stack);
}

int flame__finish(struct flame *f, const struct weft_metrics *m)
{
	struct line_map out = {};
	size_t i;

	if (f->finished)
		return 0;
	f->finished = true;
	/* what a thread blocked after its last sampled stack goes to it */
	for (i = 0; i < f->ncarries; i++) {
		struct carry *c = &f->carries[i];

		if (c->ns && c->last)
			f->pending.lines[c->last - 1].value += c->ns;
	}
	for (i = 0; i < f->nthreads; i++) {
		struct carry *c = &f->threads[i].carry;

		if (c->ns && c->last)
			f->map.lines[c->last - 1].value += c->ns;
	}
	if (f->pending.n) {
		f->lock_lines = calloc(f->pending.n, sizeof(*f->lock_lines));
		if (!f->lock_lines)
			return -ENOMEM;
	}
	for (i = 0; i < f->pending.n; i++) {
		struct line *p = &f->pending.lines[i], *l;
		const char *stack = strchr(strchr(p->stack, ' ') + 1, ' ') + 1;

		if (!p->value || !is_lock(m, p->pid, p->addr))
			continue;
		l = map_get(&f->map, stack);
		if (!l)
			return -ENOMEM;
		l->pid = p->pid;
		l->value += p->value;
		f->lock_lines[f->nr_lock_lines++] =
			(struct flame_lock_line){ p->pid, p->addr, stack, p->value };
	}
	if (f->nr_lock_lines)
		qsort(f->lock_lines, f->nr_lock_lines, sizeof(*f->lock_lines), cmp_lock_line);
	/* time is kept in ns and given in us; lines under half a microsecond
	 * go */
	for (i = 0; i < f->map.n; i++) {
		struct line *l = &f->map.lines[i];
		__u64 v = f->opts.type == FLAME_ONCPU ? l->value : (l->value + 500) / 1000;

		if (!v)
			continue;
		if (out.n == out.cap) {
			size_t cap = out.cap ? out.cap * 2 : 256;
			struct line *grown = realloc(out.lines, cap * sizeof(*grown));

			if (!grown) {
				map_release(&out);
				return -ENOMEM;
			}
			out.lines = grown;
			out.cap = cap;
		}
		out.lines[out.n] = *l;
		out.lines[out.n++].value = v;
		l->stack = NULL;
		f->total += v;
	}
	map_release(&f->map);
	if (out.n)
		qsort(out.lines, out.n, sizeof(*out.lines), cmp_line);
	f->map = out;
	return 0;
}

size_t flame__count(const struct flame *f)
{
	return f->finished ? f->map.n : 0;
}

const char *flame__stack(const struct flame *f, size_t i)
{
	return f->map.lines[i].stack;
}

__u64 flame__value(const struct flame *f, size_t i)
{
	return f->map.lines[i].value;
}

__u32 flame__pid(const struct flame *f, size_t i)
{
	return f->map.lines[i].pid;
}

__u64 flame__total(const struct flame *f)
{
	return f->total;
}

size_t flame__lock_count(const struct flame *f)
{
	return f->finished ? f->nr_lock_lines : 0;
}

const struct flame_lock_line *flame__lock_line(const struct flame *f, size_t i)
{
	return &f->lock_lines[i];
}

int flame__write_folded(const struct flame *f, FILE *out)
{
	size_t i;

	for (i = 0; i < flame__count(f); i++)
		fprintf(out, "%s %llu\n", f->map.lines[i].stack,
			(unsigned long long)f->map.lines[i].value);
	return ferror(out) ? -EIO : 0;
}

struct flame *flame__from_recording(const char *path, const struct flame_opts *opts, char *err,
				    size_t errlen)
{
	struct recording *rec = recording_open(path, NULL, err, errlen);
	struct stack_table *stacks = NULL;
	struct recording_tap tap;
	struct flame *f = NULL;

	if (!rec)
		return NULL;
	stacks = stack_table__new();
	f = stacks ? flame__new(opts, stacks) : NULL;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	recording_read_stacks(rec, stacks);
	tap = (struct recording_tap){ flame__feed, flame__slice, f };
	if (recording_run(rec, &tap, err, errlen) < 0)
		goto fail;
	if (flame__finish(f, recording_metrics(rec))) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	/* the lines own their strings: the stack table can go */
	f->stacks = NULL;
	stack_table__free(stacks);
	recording_free(rec);
	return f;
fail:
	flame__free(f);
	stack_table__free(stacks);
	recording_free(rec);
	return NULL;
}
