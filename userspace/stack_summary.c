// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "events.h"
#include "flame.h"
#include "kv.h"
#include "stack_summary.h"
#include "stacks.h"
#include "u64set.h"

/* Per thread, what decides which stack a blocked interval's time goes
 * to, by flame's rule: the stack of the switch that blocked it, or, for a
 * switch stack sampling skipped, the thread's next sampled one (its last,
 * at the end). */
struct thread_state {
	__u32 tgid;
	__s32 user_id; /* of its last switch out */
	bool has_switch;
	bool sampled; /* some blocked interval of it went to a stack */
	bool last_cut; /* that stack was cut short */
	__u64 carry_ns; /* skipped blocks' time not yet given to a stack */
};

struct proc {
	struct stack_process out;
	char *names[STACK_SUMMARY_TOP];
	char *frames_text[STACK_SUMMARY_TOP]; /* the frames' strings */
};

/* A lock's stacks, and the strings their frames point into */
struct lock_slot {
	struct stack_lock out;
	char *frames_text[STACK_SUMMARY_LOCK_TOP];
};

struct stack_summary {
	struct stack_summary_opts opts;
	const struct stack_table *stacks;
	struct stack_capture capture;
	char *user_unwind;
	struct flame *oncpu, *offcpu, *lock;
	struct lock_slot *locks; /* in the order of the metrics' locks */
	unsigned int nr_locks;
	struct thread_state *threads;
	size_t nthreads, cap_threads;
	struct u64_set thread_index;
	struct proc *procs;
	size_t nprocs, cap_procs;
	struct u64_set proc_index;
	bool finished;
};

static bool is_cut_short(const struct weft_stack *st)
{
	return st && st->nframes && st->frames[st->nframes - 1].addr == WEFT_STACK_CUT_SHORT;
}

static void read_capture(struct stack_summary *s, const struct weft_kv *meta)
{
	struct stack_capture *c = &s->capture;
	const char *failures = weft_kv__get(meta, META_STACK_FAILURES);
	size_t i, n = s->stacks ? stack_table__count(s->stacks) : 0;

	c->sample_hz = (unsigned int)weft_kv__get_ull(meta, META_SAMPLE_HZ);
	c->stack_entries = (unsigned int)weft_kv__get_ull(meta, META_STACK_ENTRIES);
	c->stack_every = (unsigned int)weft_kv__get_ull(meta, META_STACK_EVERY);
	c->user_unwind = s->user_unwind;
	c->has_failures = failures != NULL;
	c->failures = weft_kv__get_ull(meta, META_STACK_FAILURES);
	/* the recorder writes these keys only when it took stacks */
	c->recorded = failures || c->sample_hz || c->stack_entries || n;
	for (i = 0; i < n; i++) {
		const struct weft_stack *st = stack_table__at(s->stacks, i);

		if (!st->user || !st->nframes)
			continue;
		c->user_stacks++;
		c->user_stacks_cut_short += is_cut_short(st);
	}
}

struct stack_summary *stack_summary__new(const struct stack_table *stacks,
					 const struct weft_kv *meta,
					 const struct stack_summary_opts *opts)
{
	struct stack_summary *s = calloc(1, sizeof(*s));
	const char *unwind = weft_kv__get(meta, META_USER_UNWIND);

	if (!s)
		return NULL;
	s->opts = *opts;
	s->stacks = stacks;
	if (unwind) {
		s->user_unwind = strdup(unwind);
		if (!s->user_unwind)
			goto err_out;
	}
	read_capture(s, meta);
	s->opts.per_process = opts->per_process && s->capture.recorded;
	if (s->opts.per_process) {
		s->oncpu = flame__new(
			&(struct flame_opts){ .type = FLAME_ONCPU, .by = FLAME_BY_PID }, stacks);
		s->offcpu = flame__new(
			&(struct flame_opts){ .type = FLAME_OFFCPU, .by = FLAME_BY_PID }, stacks);
		if (!s->oncpu || !s->offcpu)
			goto err_out;
	}
	s->opts.locks = opts->locks && s->capture.recorded;
	if (s->opts.locks) {
		s->lock = flame__new(&(struct flame_opts){ .type = FLAME_LOCK,
							   .by = FLAME_BY_NONE,
							   .user_only = true },
				     stacks);
		if (!s->lock)
			goto err_out;
	}
	return s;
err_out:
	stack_summary__free(s);
	errno = ENOMEM;
	return NULL;
}

void stack_summary__free(struct stack_summary *s)
{
	size_t i;
	unsigned int j;

	if (!s)
		return;
	for (i = 0; i < s->nprocs; i++)
		for (j = 0; j < STACK_SUMMARY_TOP; j++) {
			free(s->procs[i].names[j]);
			free(s->procs[i].frames_text[j]);
			free((void *)s->procs[i].out.blocked[j].frames);
		}
	free(s->procs);
	for (i = 0; i < s->nr_locks; i++)
		for (j = 0; j < STACK_SUMMARY_LOCK_TOP; j++) {
			free(s->locks[i].frames_text[j]);
			free((void *)s->locks[i].out.stacks[j].frames);
		}
	free(s->locks);
	u64_set__release(&s->proc_index);
	free(s->threads);
	u64_set__release(&s->thread_index);
	flame__free(s->oncpu);
	flame__free(s->offcpu);
	flame__free(s->lock);
	free(s->user_unwind);
	free(s);
}

static struct thread_state *thread_get(struct stack_summary *s, __u32 tid)
{
	bool added;
	__u32 *slot = u64_set__slot(&s->thread_index, 1ULL << 63 | tid, &added);

	if (!slot)
		return NULL;
	if (!added)
		return &s->threads[*slot];
	if (s->nthreads == s->cap_threads) {
		size_t cap = s->cap_threads ? s->cap_threads * 2 : 64;
		struct thread_state *grown = realloc(s->threads, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		s->threads = grown;
		s->cap_threads = cap;
	}
	*slot = s->nthreads;
	memset(&s->threads[s->nthreads], 0, sizeof(s->threads[0]));
	return &s->threads[s->nthreads++];
}

int stack_summary__feed(void *ctx, const struct weft_event_header *ev)
{
	struct stack_summary *s = ctx;
	const struct weft_ev_switch *sw = (const void *)ev;
	struct thread_state *t;
	int err;

	if (s->opts.per_process) {
		err = flame__feed(s->oncpu, ev);
		if (!err)
			err = flame__feed(s->offcpu, ev);
		if (err)
			return err;
	}
	if (s->opts.locks) {
		err = flame__feed(s->lock, ev);
		if (err)
			return err;
	}
	if (!s->capture.recorded || ev->type != WEFT_EV_SWITCH ||
	    !(ev->flags & WEFT_SWITCH_PREV_TRACED) || (ev->flags & WEFT_SWITCH_INFERRED))
		return 0;
	t = thread_get(s, sw->prev_tid);
	if (!t)
		return -ENOMEM;
	t->tgid = sw->prev_tgid;
	t->user_id = sw->user_stack_id;
	t->has_switch = true;
	return 0;
}

void stack_summary__slice(void *ctx, const struct weft_slice *slice)
{
	struct stack_summary *s = ctx;
	__u64 ns = slice->end_ns - slice->start_ns;
	struct thread_state *t;
	bool cut;

	if (s->opts.per_process)
		flame__slice(s->offcpu, slice);
	if (s->opts.locks)
		flame__slice(s->lock, slice);
	if (!s->capture.recorded || slice->state != WEFT_SLICE_BLOCKED)
		return;
	t = thread_get(s, slice->tid);
	if (!t)
		return;
	s->capture.has_blocked = true;
	if (t->has_switch && t->user_id == WEFT_STACK_SKIPPED) {
		t->carry_ns += ns;
		t->has_switch = false;
		return;
	}
	ns += t->carry_ns;
	t->carry_ns = 0;
	cut = t->has_switch && s->stacks &&
	      is_cut_short(stack_table__get(s->stacks, true, t->tgid, t->user_id));
	t->sampled = true;
	t->last_cut = cut;
	t->has_switch = false;
	s->capture.blocked_ns += ns;
	if (cut)
		s->capture.cut_short_ns += ns;
}

/* --- the per-process tables, from the flame lines --- */

static struct proc *proc_get(struct stack_summary *s, __u32 pid)
{
	bool added;
	__u32 *slot = u64_set__slot(&s->proc_index, 1ULL << 63 | pid, &added);

	if (!slot)
		return NULL;
	if (!added)
		return &s->procs[*slot];
	if (s->nprocs == s->cap_procs) {
		size_t cap = s->cap_procs ? s->cap_procs * 2 : 16;
		struct proc *grown = realloc(s->procs, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		s->procs = grown;
		s->cap_procs = cap;
	}
	*slot = s->nprocs;
	memset(&s->procs[s->nprocs], 0, sizeof(s->procs[0]));
	s->procs[s->nprocs].out.pid = pid;
	return &s->procs[s->nprocs++];
}

/* A line's place: its process (flame__pid()) */
struct line_ref {
	__u32 pid;
	size_t line;
};

static int cmp_line_ref(const void *a, const void *b)
{
	const struct line_ref *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The lines of f grouped by process, in line order within each; *n set.
 * Lines of one pid need not be next to each other: its root frame,
 * "comm-pid", changes name at an exec. NULL with *n 0 when there are no
 * lines; NULL and errno on failure. */
static struct line_ref *lines_by_pid(const struct flame *f, size_t *n)
{
	size_t count = flame__count(f), i;
	struct line_ref *refs;

	*n = 0;
	if (!count)
		return NULL;
	refs = calloc(count, sizeof(*refs));
	if (!refs)
		return NULL;
	for (i = 0; i < count; i++) {
		refs[i].pid = flame__pid(f, i);
		refs[i].line = i;
	}
	qsort(refs, count, sizeof(*refs), cmp_line_ref);
	*n = count;
	return refs;
}

/* A function seen in one process's samples: its name is a frame of a
 * flame line (not NUL-terminated), which lives as long as the flame. */
struct fn_count {
	const char *name;
	size_t len;
	__u64 self, total;
	size_t stamp; /* the last line that counted it in total */
};

struct fn_map {
	struct fn_count *slots; /* name NULL: empty */
	size_t mask, used;
};

static size_t name_hash(const char *s, size_t len)
{
	size_t h = 1469598103934665603ULL, i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static struct fn_count *fn_get(struct fn_map *m, const char *name, size_t len)
{
	size_t i;

	if (!m->slots || (m->used + 1) * 2 > m->mask + 1) {
		size_t cap = m->slots ? (m->mask + 1) * 2 : 256, j;
		struct fn_count *slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return NULL;
		for (j = 0; m->slots && j <= m->mask; j++) {
			struct fn_count *e = &m->slots[j];

			if (!e->name)
				continue;
			for (i = name_hash(e->name, e->len) & (cap - 1); slots[i].name;
			     i = (i + 1) & (cap - 1))
				;
			slots[i] = *e;
		}
		free(m->slots);
		m->slots = slots;
		m->mask = cap - 1;
	}
	for (i = name_hash(name, len) & m->mask; m->slots[i].name; i = (i + 1) & m->mask)
		if (m->slots[i].len == len && !memcmp(m->slots[i].name, name, len))
			return &m->slots[i];
	m->slots[i].name = name;
	m->slots[i].len = len;
	m->slots[i].stamp = (size_t)-1;
	m->used++;
	return &m->slots[i];
}

/* Ties go to the name that sorts first, so reports do not change from
 * run to run of the same recording. */
static bool fn_before(const struct fn_count *a, const struct fn_count *b)
{
	int c;

	if (a->self != b->self)
		return a->self > b->self;
	c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
	return c ? c < 0 : a->len < b->len;
}

/* One process's lines of the on-CPU graph: its samples, and its top
 * functions by self samples. */
static int sum_functions(struct proc *p, const struct flame *f, const struct line_ref *refs,
			 size_t n)
{
	const struct fn_count *top[STACK_SUMMARY_TOP];
	struct fn_map map = {};
	unsigned int ntop = 0, k;
	size_t i;
	int err = 0;

	for (i = 0; i < n; i++) {
		const char *line = flame__stack(f, refs[i].line), *frame = strchr(line, ';');
		__u64 samples = flame__value(f, refs[i].line);
		struct fn_count *e = NULL;

		p->out.samples += samples;
		while (frame) {
			const char *name = frame + 1;

			frame = strchr(name, ';');
			e = fn_get(&map, name, frame ? (size_t)(frame - name) : strlen(name));
			if (!e) {
				err = -ENOMEM;
				goto cleanup;
			}
			/* a recursive function counts once per sample */
			if (e->stamp != i) {
				e->total += samples;
				e->stamp = i;
			}
		}
		if (e)
			e->self += samples;
	}
	for (i = 0; map.slots && i <= map.mask; i++) {
		const struct fn_count *e = &map.slots[i];

		if (!e->name || !e->self)
			continue;
		for (k = ntop; k > 0 && fn_before(e, top[k - 1]); k--)
			if (k < STACK_SUMMARY_TOP)
				top[k] = top[k - 1];
		if (k < STACK_SUMMARY_TOP) {
			top[k] = e;
			if (ntop < STACK_SUMMARY_TOP)
				ntop++;
		}
	}
	for (k = 0; k < ntop; k++) {
		p->names[k] = strndup(top[k]->name, top[k]->len);
		if (!p->names[k]) {
			err = -ENOMEM;
			goto cleanup;
		}
		p->out.functions[k].name = p->names[k];
		p->out.functions[k].self_samples = top[k]->self;
		p->out.functions[k].total_samples = top[k]->total;
		p->out.nr_functions = k + 1;
	}
cleanup:
	free(map.slots);
	return err;
}

/* A flame line's frames (root first, joined by ';') as an array, leaf
 * first, pointing into *text, a copy; 0 or -ENOMEM */
static int split_frames(const char *stack, char **text, const char *const **out,
			unsigned int *nframes)
{
	unsigned int n = 1, i;
	const char **frames;
	char *c;

	*text = strdup(stack);
	if (!*text)
		return -ENOMEM;
	for (c = *text; *c; c++)
		n += *c == ';';
	frames = calloc(n, sizeof(*frames));
	if (!frames) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	for (i = 0, c = *text; i < n; i++) {
		frames[n - 1 - i] = c;
		c = strchr(c, ';');
		if (c)
			*c++ = '\0';
	}
	*out = frames;
	*nframes = n;
	return 0;
}

/* One process's lines of the off-CPU graph: its blocked time, and its top
 * stacks by time (ties to the line that sorts first). */
static int sum_blocked(struct proc *p, const struct flame *f, const struct line_ref *refs, size_t n)
{
	size_t top[STACK_SUMMARY_TOP];
	unsigned int ntop = 0, k;
	size_t i;

	for (i = 0; i < n; i++) {
		__u64 us = flame__value(f, refs[i].line);

		p->out.blocked_us += us;
		for (k = ntop; k > 0 && us > flame__value(f, top[k - 1]); k--)
			if (k < STACK_SUMMARY_TOP)
				top[k] = top[k - 1];
		if (k < STACK_SUMMARY_TOP) {
			top[k] = refs[i].line;
			if (ntop < STACK_SUMMARY_TOP)
				ntop++;
		}
	}
	for (k = 0; k < ntop; k++) {
		const char *line = flame__stack(f, top[k]), *rest = strchr(line, ';');

		/* the root frame, the process, is left out */
		if (split_frames(rest ? rest + 1 : "[unknown]", &p->frames_text[k],
				 &p->out.blocked[k].frames, &p->out.blocked[k].nframes))
			return -ENOMEM;
		p->out.blocked[k].us = flame__value(f, top[k]);
		p->out.nr_blocked = k + 1;
	}
	return 0;
}

static int per_process(struct stack_summary *s, const struct flame *f,
		       int (*sum)(struct proc *, const struct flame *, const struct line_ref *,
				  size_t))
{
	struct line_ref *refs;
	size_t n, i, j;
	int err = 0;

	refs = lines_by_pid(f, &n);
	if (!refs && flame__count(f))
		return -ENOMEM;
	for (i = 0; i < n && !err; i = j) {
		struct proc *p = proc_get(s, refs[i].pid);

		for (j = i; j < n && refs[j].pid == refs[i].pid; j++)
			;
		err = p ? sum(p, f, refs + i, j - i) : -ENOMEM;
	}
	free(refs);
	return err;
}

/* Each lock's top lines of the lock graph: they are sorted by lock, then
 * by time, so a lock's top ones are the first of its run. */
static int sum_locks(struct stack_summary *s, const struct weft_metrics *m)
{
	size_t n = flame__lock_count(s->lock), lo, hi, mid;
	const struct flame_lock_line *l;
	unsigned int i, k;

	s->locks = calloc(m->nr_locks ? m->nr_locks : 1, sizeof(*s->locks));
	if (!s->locks)
		return -ENOMEM;
	s->nr_locks = m->nr_locks;
	for (i = 0; i < m->nr_locks; i++) {
		const struct weft_lock_metrics *lm = &m->locks[i];
		struct lock_slot *slot = &s->locks[i];

		for (lo = 0, hi = n; lo < hi;) {
			mid = lo + (hi - lo) / 2;
			l = flame__lock_line(s->lock, mid);
			if (l->pid < lm->pid || (l->pid == lm->pid && l->addr < lm->addr))
				lo = mid + 1;
			else
				hi = mid;
		}
		for (k = 0; k < STACK_SUMMARY_LOCK_TOP && lo + k < n; k++) {
			struct stack_waiter *w = &slot->out.stacks[k];

			l = flame__lock_line(s->lock, lo + k);
			if (l->pid != lm->pid || l->addr != lm->addr)
				break;
			if (split_frames(l->stack, &slot->frames_text[k], &w->frames, &w->nframes))
				return -ENOMEM;
			w->ns = l->ns;
			slot->out.nr_stacks = k + 1;
		}
	}
	return 0;
}

int stack_summary__finish(struct stack_summary *s, const struct weft_metrics *m)
{
	size_t i;
	int err = 0;

	if (s->finished)
		return 0;
	s->finished = true;
	/* what a thread blocked after its last sampled stack goes to it */
	for (i = 0; i < s->nthreads; i++) {
		const struct thread_state *t = &s->threads[i];

		if (!t->carry_ns || !t->sampled)
			continue;
		s->capture.blocked_ns += t->carry_ns;
		if (t->last_cut)
			s->capture.cut_short_ns += t->carry_ns;
	}
	if (s->opts.per_process) {
		err = flame__finish(s->oncpu, m);
		if (!err)
			err = flame__finish(s->offcpu, m);
		if (!err)
			err = per_process(s, s->oncpu, sum_functions);
		if (!err)
			err = per_process(s, s->offcpu, sum_blocked);
	}
	if (!err && s->opts.locks) {
		err = flame__finish(s->lock, m);
		if (!err)
			err = sum_locks(s, m);
	}
	/* the lines were copied: the graphs and the stack table can go */
	flame__free(s->oncpu);
	flame__free(s->offcpu);
	flame__free(s->lock);
	s->oncpu = s->offcpu = s->lock = NULL;
	s->stacks = NULL;
	return err;
}

const struct stack_capture *stack_summary__capture(const struct stack_summary *s)
{
	return &s->capture;
}

bool stack_summary__has_processes(const struct stack_summary *s)
{
	return s->opts.per_process;
}

bool stack_summary__has_locks(const struct stack_summary *s)
{
	return s->opts.locks;
}

const struct stack_lock *stack_summary__lock(const struct stack_summary *s, unsigned int i)
{
	return s->opts.locks && i < s->nr_locks ? &s->locks[i].out : NULL;
}

const struct stack_process *stack_summary__process(const struct stack_summary *s, __u32 pid)
{
	__u32 i;

	return u64_set__get(&s->proc_index, 1ULL << 63 | pid, &i) ? &s->procs[i].out : NULL;
}

/* --- a blocked stack in a few frames --- */

#define SHORT_USER_FRAMES 4
#define SHORT_KERNEL_FRAMES 5

static bool is_kernel_frame(const char *name)
{
	size_t len = strlen(name);

	return len >= 4 && !strcmp(name + len - 4, "_[k]");
}

/* The scheduler's own frames, at the leaf end of every off-CPU stack: they
 * say that the thread switched out, not what it waited for. */
static bool is_scheduler_frame(const char *name)
{
	return !strncmp(name, "__schedule", 10) || !strncmp(name, "schedule", 8) ||
	       !strncmp(name, "io_schedule", 11) || !strncmp(name, "preempt_schedule", 16);
}

struct joined {
	char *buf;
	size_t size, len;
};

static void join(struct joined *j, const char *s)
{
	int n;

	if (j->len >= j->size)
		return;
	n = snprintf(j->buf + j->len, j->size - j->len, "%s%s", j->len ? " <- " : "", s);
	j->len = n < 0 ? j->size : j->len + (size_t)n;
}

char *stack_blocked__short(const struct stack_blocked *b, char *buf, size_t size)
{
	struct joined j = { .buf = buf, .size = size };
	unsigned int nk = 0, wait, i, end;

	if (!size)
		return buf;
	buf[0] = '\0';
	while (nk < b->nframes && is_kernel_frame(b->frames[nk]))
		nk++;
	for (wait = 0; wait < nk && is_scheduler_frame(b->frames[wait]); wait++)
		;
	if (wait == nk && nk)
		wait = nk - 1; /* nothing but the scheduler: show its last frame */
	if (nk && nk == b->nframes) {
		end = wait + SHORT_KERNEL_FRAMES < nk ? wait + SHORT_KERNEL_FRAMES : nk;
		for (i = wait; i < end; i++)
			join(&j, b->frames[i]);
		if (end < nk)
			join(&j, "...");
		return buf;
	}
	if (nk) {
		join(&j, b->frames[wait]);
		if (wait + 1 < nk)
			join(&j, "...");
	}
	end = nk + SHORT_USER_FRAMES < b->nframes ? nk + SHORT_USER_FRAMES : b->nframes;
	for (i = nk; i < end; i++)
		join(&j, b->frames[i]);
	if (end < b->nframes)
		join(&j, "...");
	return buf;
}

/* --- a lock's waiting stack in a few frames --- */

#define SHORT_LOCK_FRAMES 4

/* The lock implementation's frames, at the leaf end of a lock wait's user
 * stack: glibc's (__lll_lock_wait, ___pthread_mutex_lock,
 * __futex_abstimed_wait_common64, __pthread_cond_wait_common,
 * __new_sem_wait_slow64, syscall) and their __GI_ aliases; a frame that
 * did not resolve, or a libc frame with no symbol (libc without its debug
 * file). A condition variable's wait (pthread_cond_wait, _timedwait, ...)
 * is not one: it is the call the program made, and says why a thread
 * takes the mutex again inside it. */
static bool is_lock_frame(const char *name)
{
	static const char *const prefixes[] = {
		"lll_", "futex",    "pthread_mutex_", "pthread_rwlock_",  "pthread_spin_",
		"sem_", "new_sem_", "do_futex_wait",  "pthread_barrier_", "pthread_cond_wait_common"
	};
	unsigned int i;

	if (!strcmp(name, STACK_UNKNOWN_FRAME) ||
	    (!strncmp(name, "libc.so", 7) && strstr(name, "+0x")))
		return true;
	while (*name == '_')
		name++;
	if (!strncmp(name, "GI_", 3))
		for (name += 3; *name == '_'; name++)
			;
	if (!strcmp(name, "syscall"))
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

char *stack_waiter__short(const struct stack_waiter *w, char *buf, size_t size)
{
	struct joined j = { .buf = buf, .size = size };
	unsigned int first = 0, i, end;

	if (!size)
		return buf;
	buf[0] = '\0';
	while (first < w->nframes && is_lock_frame(w->frames[first]))
		first++;
	if (first == w->nframes)
		first = 0; /* nothing but the lock: show it */
	end = first + SHORT_LOCK_FRAMES < w->nframes ? first + SHORT_LOCK_FRAMES : w->nframes;
	for (i = first; i < end; i++)
		join(&j, w->frames[i]);
	if (end < w->nframes)
		join(&j, "...");
	return buf;
}
