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
#include "recording_meta.h"
#include "stack_summary.h"
#include "stack_attrib.h"
#include "stacks.h"
#include "strtab.h"
#include "u64set.h"

struct proc {
	struct stack_process out;
	const char **frames[STACK_SUMMARY_TOP]; /* out.blocked[k].frames */
};

struct lock_slot {
	struct stack_lock out;
};

/* The names the stack_attrib interns live as long as the summary: the
 * tables point into them. */
struct stack_summary {
	struct stack_summary_opts opts;
	struct stack_capture capture;
	char *user_unwind;
	struct stack_attrib *attrib;
	struct flame *oncpu, *offcpu, *lock;
	struct lock_slot *locks; /* in the order of the metrics' locks */
	unsigned int nr_locks;
	struct proc *procs;
	size_t nprocs, cap_procs;
	struct u64_set proc_index;
	bool finished;
};

static void read_capture(struct stack_summary *s, const struct stack_table *stacks,
			 const struct weft_kv *meta)
{
	struct stack_capture *c = &s->capture;
	const char *failures = weft_kv__get(meta, META_STACK_FAILURES);
	size_t i, n = stacks ? stack_table__count(stacks) : 0;

	c->sample_hz = (unsigned int)weft_kv__get_ull(meta, META_SAMPLE_HZ);
	c->stack_entries = (unsigned int)weft_kv__get_ull(meta, META_STACK_ENTRIES);
	c->stack_every = (unsigned int)weft_kv__get_ull(meta, META_STACK_EVERY);
	c->stack_rate = (unsigned int)weft_kv__get_ull(meta, META_STACK_RATE);
	c->stack_audit = weft_kv__get_ull(meta, META_STACK_AUDIT) != 0;
	c->user_unwind = s->user_unwind;
	c->has_failures = failures != NULL;
	c->failures = weft_kv__get_ull(meta, META_STACK_FAILURES);
	/* the recorder writes these keys only when it took stacks */
	c->recorded = failures || c->sample_hz || c->stack_entries || n;
	for (i = 0; i < n; i++) {
		const struct weft_stack *st = stack_table__at(stacks, i);

		if (!st->user || !st->nframes)
			continue;
		c->user_stacks++;
		c->user_stacks_cut_short += st->frames[st->nframes - 1].addr ==
					    WEFT_STACK_CUT_SHORT;
	}
}

/* The capture figures: off-CPU time given to a stack, and to one the
 * unwinder could not finish */
static void count_capture(void *ctx, const struct attributed_stack *as)
{
	struct stack_summary *s = ctx;

	if (as->kind != STACK_KIND_OFFCPU)
		return;
	s->capture.blocked_ns += as->weight;
	if (as->stacks.taken &&
	    stack_attrib__cut_short(s->attrib, as->stacks.tgid, as->stacks.user))
		s->capture.cut_short_ns += as->weight;
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
	if (unwind) {
		s->user_unwind = strdup(unwind);
		if (!s->user_unwind)
			goto err_out;
	}
	read_capture(s, stacks, meta);
	if (!s->capture.recorded) {
		s->opts.per_process = s->opts.locks = false;
		return s;
	}
	s->attrib = stack_attrib__new(stacks);
	if (!s->attrib || stack_attrib__subscribe(s->attrib, count_capture, s))
		goto err_out;
	if (s->opts.per_process) {
		s->oncpu = flame__new(
			&(struct flame_opts){ .type = FLAME_ONCPU, .by = FLAME_BY_PID }, s->attrib);
		s->offcpu =
			flame__new(&(struct flame_opts){ .type = FLAME_OFFCPU, .by = FLAME_BY_PID },
				   s->attrib);
		if (!s->oncpu || !s->offcpu)
			goto err_out;
	}
	if (s->opts.locks) {
		s->lock = flame__new(&(struct flame_opts){ .type = FLAME_LOCK,
							   .by = FLAME_BY_NONE,
							   .user_only = true },
				     s->attrib);
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
		for (j = 0; j < STACK_SUMMARY_TOP; j++)
			free(s->procs[i].frames[j]);
	free(s->procs);
	for (i = 0; i < s->nr_locks; i++)
		for (j = 0; j < STACK_SUMMARY_LOCK_TOP; j++)
			free((void *)s->locks[i].out.stacks[j].frames);
	free(s->locks);
	u64_set__release(&s->proc_index);
	flame__free(s->oncpu);
	flame__free(s->offcpu);
	flame__free(s->lock);
	stack_attrib__free(s->attrib);
	free(s->user_unwind);
	free(s);
}

int stack_summary__feed(void *ctx, const struct weft_event_header *ev)
{
	struct stack_summary *s = ctx;

	return s->attrib ? stack_attrib__feed(s->attrib, ev) : 0;
}

void stack_summary__slice(void *ctx, const struct weft_slice *slice)
{
	struct stack_summary *s = ctx;

	if (!s->capture.recorded || slice->state != WEFT_SLICE_BLOCKED)
		return;
	s->capture.has_blocked = true;
	stack_attrib__slice(s->attrib, slice);
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

/* A function seen in one process's samples, by its name's id */
struct fn_count {
	__u32 id;
	__u64 self, total;
	size_t stamp; /* the last line that counted it in total */
};

/* Ties go to the name that sorts first, so reports do not change from
 * run to run of the same recording. */
static bool fn_before(const struct strtab *names, const struct fn_count *a,
		      const struct fn_count *b)
{
	if (a->self != b->self)
		return a->self > b->self;
	return strcmp(strtab__str(names, a->id), strtab__str(names, b->id)) < 0;
}

/* One process's lines of the on-CPU graph: its samples, and its top
 * functions by self samples. */
static int sum_functions(struct proc *p, const struct flame *f, const struct line_ref *refs,
			 size_t n)
{
	const struct strtab *names = flame__names(f);
	const struct fn_count *top[STACK_SUMMARY_TOP];
	struct fn_count *counts = NULL, *e;
	struct u64_set index = {};
	unsigned int ntop = 0, k, nids, j;
	size_t i, ncounts = 0, cap = 0;
	const __u32 *ids;
	int err = 0;

	for (i = 0; i < n; i++) {
		__u64 samples = flame__value(f, refs[i].line);

		p->out.samples += samples;
		flame__frames(f, refs[i].line, &ids, &nids);
		e = NULL;
		/* the root frame, the process, is not a function */
		for (j = 1; j < nids; j++) {
			bool added;
			__u32 *slot = u64_set__slot(&index, 1ULL << 63 | ids[j], &added);

			if (!slot) {
				err = -ENOMEM;
				goto cleanup;
			}
			if (added) {
				if (ncounts == cap) {
					size_t c = cap ? cap * 2 : 256;
					struct fn_count *grown =
						realloc(counts, c * sizeof(*grown));

					if (!grown) {
						err = -ENOMEM;
						goto cleanup;
					}
					counts = grown;
					cap = c;
				}
				counts[ncounts] =
					(struct fn_count){ .id = ids[j], .stamp = (size_t)-1 };
				*slot = ncounts++;
			}
			e = &counts[*slot];
			/* a recursive function counts once per sample */
			if (e->stamp != i) {
				e->total += samples;
				e->stamp = i;
			}
		}
		if (e)
			e->self += samples;
	}
	for (i = 0; i < ncounts; i++) {
		e = &counts[i];
		if (!e->self)
			continue;
		for (k = ntop; k > 0 && fn_before(names, e, top[k - 1]); k--)
			if (k < STACK_SUMMARY_TOP)
				top[k] = top[k - 1];
		if (k < STACK_SUMMARY_TOP) {
			top[k] = e;
			if (ntop < STACK_SUMMARY_TOP)
				ntop++;
		}
	}
	for (k = 0; k < ntop; k++) {
		p->out.functions[k].name = strtab__str(names, top[k]->id);
		p->out.functions[k].self_samples = top[k]->self;
		p->out.functions[k].total_samples = top[k]->total;
		p->out.nr_functions = k + 1;
	}
cleanup:
	u64_set__release(&index);
	free(counts);
	return err;
}

/* Frames as ids, root first, as names leaf first (the summary's order);
 * NULL when out of memory */
static const char **leaf_first(const struct strtab *names, const __u32 *ids, unsigned int n)
{
	const char **frames = calloc(n ? n : 1, sizeof(*frames));
	unsigned int i;

	for (i = 0; frames && i < n; i++)
		frames[i] = strtab__str(names, ids[n - 1 - i]);
	return frames;
}

/* One process's lines of the off-CPU graph: its blocked time, and its top
 * stacks by time (ties to the line that sorts first). */
static int sum_blocked(struct proc *p, const struct flame *f, const struct line_ref *refs, size_t n)
{
	size_t top[STACK_SUMMARY_TOP];
	unsigned int ntop = 0, k, nids;
	const __u32 *ids;
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
		flame__frames(f, top[k], &ids, &nids);
		/* the root frame, the process, is left out */
		p->frames[k] = leaf_first(flame__names(f), ids + 1, nids - 1);
		if (!p->frames[k])
			return -ENOMEM;
		p->out.blocked[k].frames = p->frames[k];
		p->out.blocked[k].nframes = nids - 1;
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
			w->frames = leaf_first(flame__names(s->lock), l->ids, l->nids);
			if (!w->frames)
				return -ENOMEM;
			w->nframes = l->nids;
			w->ns = l->ns;
			slot->out.nr_stacks = k + 1;
		}
	}
	return 0;
}

int stack_summary__finish(struct stack_summary *s, const struct weft_metrics *m)
{
	int err = 0;

	if (s->finished)
		return 0;
	s->finished = true;
	/* what a thread blocked after its last sampled stack goes to it */
	if (s->attrib)
		err = stack_attrib__finish(s->attrib);
	if (!err && s->opts.per_process) {
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
	return err;
}

struct stack_attrib *stack_summary__attrib(struct stack_summary *s)
{
	return s->attrib;
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
