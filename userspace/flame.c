// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "events.h"
#include "flame.h"
#include "grow.h"
#include "keytab.h"
#include "stack_attrib.h"
#include "stacks.h"
#include "strtab.h"

#define LINE_MAX_LEN (64 * 1024)

/* What a line is made of, as numbers: two records with the same key are
 * the same line. All fields are 32 or 64 bits wide and the key is zeroed
 * before it is filled, so its bytes compare and hash as a whole. */
struct line_key {
	__u64 addr; /* lock type: the wait's address */
	__u32 pid; /* lock type: the waiting process (a lock is per process) */
	__u32 has_root, root_name, root_num;
	__u32 taken, unsampled, tgid;
	__s32 user, kernel;
	/* wakeup type: enum attrib_waker, the waker's stacks and root */
	__u32 waker, wtgid;
	__s32 wuser, wkernel;
	__u32 has_wroot, wroot_name, wroot_num;
};

struct key_line {
	struct line_key key;
	__u64 value;
	__u32 pid; /* of the last record it counted */
};

/* A line once it has its text */
struct line {
	char *stack;
	__u64 value;
	__u32 pid;
	__u64 addr;
	__u32 *ids; /* frames, root first */
	unsigned int nids;
};

struct flame {
	struct flame_opts opts;
	struct stack_attrib *attrib;
	struct strtab *names;
	struct keytab klines; /* struct key_line by their keys */
	struct line *lines; /* after finish, sorted by stack */
	size_t nlines;
	struct flame_lock_line *lock_lines;
	size_t nr_lock_lines;
	struct line *lock_texts; /* the lock lines' own text and frames */
	size_t nlock_texts;
	__u32 unknown_id, unsampled_id, sep_id, irq_id;
	bool finished, failed;
	__u64 total;
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

/* The root's name and number: the thread's name and tid, or the
 * process's (named by its main thread) and pid */
static void set_root(const struct flame *f, const struct attrib_thread *t, __u32 *has, __u32 *name,
		     __u32 *num)
{
	switch (f->opts.by) {
	case FLAME_BY_NONE:
		return;
	case FLAME_BY_THREAD:
		*name = t->comm;
		*num = t->tid;
		break;
	case FLAME_BY_PID:
		*name = t->leader_comm ? t->leader_comm : t->comm;
		*num = t->pid;
		break;
	case FLAME_BY_PROCESS:
		*name = t->leader_comm ? t->leader_comm : t->comm;
		break;
	}
	*has = 1;
}

static void flame_add(void *ctx, const struct attributed_stack *as)
{
	struct flame *f = ctx;
	struct line_key key;
	struct key_line *l;
	bool added;

	if ((as->kind == STACK_KIND_ONCPU) != (f->opts.type == FLAME_ONCPU) || f->finished)
		return;
	/* the lock type's waits are on an address (the locks table's, known
	 * at finish) */
	if (f->opts.type == FLAME_LOCK && !as->addr)
		return;
	memset(&key, 0, sizeof(key));
	if (f->opts.type == FLAME_LOCK) {
		key.addr = as->addr;
		key.pid = as->thread.pid;
	}
	set_root(f, &as->thread, &key.has_root, &key.root_name, &key.root_num);
	key.taken = as->stacks.taken;
	key.unsampled = as->unsampled;
	if (as->stacks.taken) {
		key.tgid = as->stacks.tgid;
		key.user = as->stacks.user;
		key.kernel = f->opts.user_only ? WEFT_STACK_NOT_TAKEN : as->stacks.kernel;
	}
	if (f->opts.type == FLAME_WAKEUP) {
		key.waker = as->waker;
		if (as->waker == ATTRIB_WAKER_TASK) {
			key.wtgid = as->waker_stacks.tgid;
			key.wuser = as->waker_stacks.user;
			key.wkernel = f->opts.user_only ? WEFT_STACK_NOT_TAKEN :
							  as->waker_stacks.kernel;
			if (as->waker_thread.tid)
				set_root(f, &as->waker_thread, &key.has_wroot, &key.wroot_name,
					 &key.wroot_num);
		}
	}
	l = keytab__get(&f->klines, &key, &added);
	if (!l) {
		f->failed = true;
		return;
	}
	l->value += as->weight;
	l->pid = as->thread.pid;
}

struct flame *flame__new(const struct flame_opts *opts, struct stack_attrib *a)
{
	struct flame *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return NULL;
	f->opts = *opts;
	f->attrib = a;
	keytab__init(&f->klines, sizeof(struct line_key), sizeof(struct key_line));
	f->names = stack_attrib__names(a);
	f->unknown_id = stack_attrib__intern(a, STACK_UNKNOWN_FRAME, NULL);
	f->unsampled_id = stack_attrib__intern(a, "[unsampled wait]", NULL);
	f->sep_id = stack_attrib__intern(a, "--", NULL);
	f->irq_id = stack_attrib__intern(a, "[interrupt]", NULL);
	err = !f->unknown_id || !f->unsampled_id || !f->sep_id || !f->irq_id ?
		      -ENOMEM :
		      stack_attrib__subscribe(a, flame_add, f);
	if (err) {
		free(f);
		errno = -err;
		return NULL;
	}
	return f;
}

static void lines_free(struct line *lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(lines[i].stack);
		free(lines[i].ids);
	}
	free(lines);
}

void flame__free(struct flame *f)
{
	if (!f)
		return;
	keytab__release(&f->klines);
	lines_free(f->lines, f->nlines);
	lines_free(f->lock_texts, f->nlock_texts);
	free(f->lock_lines);
	free(f);
}

/* --- a line's frames and text --- */

struct ids_buf {
	__u32 *ids;
	unsigned int n;
	size_t cap;
	bool failed;
};

static void put_id(struct ids_buf *b, __u32 id)
{
	if (grow_array((void **)&b->ids, &b->cap, b->n + 1, sizeof(*b->ids))) {
		b->failed = true;
		return;
	}
	b->ids[b->n++] = id;
}

static void put_root(struct flame *f, struct ids_buf *b, __u32 name, __u32 num)
{
	const char *comm = name ? strtab__str(f->names, name) : STACK_UNKNOWN_FRAME;
	char text[64];

	if (f->opts.by == FLAME_BY_PROCESS)
		snprintf(text, sizeof(text), "%s", comm);
	else
		snprintf(text, sizeof(text), "%s-%u", comm, num);
	put_id(b, stack_attrib__intern_root(f->attrib, text));
}

static bool has_frames(const struct stack_table *t, bool user, __u32 tgid, __s32 id)
{
	const struct weft_stack *st = t ? stack_table__get(t, user, tgid, id) : NULL;

	return st && st->nframes;
}

/* A thread's stack: user frames then kernel frames, root first; or the
 * reverse, leaf first (a waker's, after the "--"). */
static void put_stacks(struct flame *f, struct ids_buf *b, __u32 tgid, __s32 user, __s32 kernel,
		       bool root_first)
{
	const struct stack_table *t = stack_attrib__stacks(f->attrib);
	const __u32 *u = NULL, *k = NULL;
	unsigned int nu = 0, nk = 0, i;

	if (!has_frames(t, true, tgid, user) && !has_frames(t, false, 0, kernel)) {
		put_id(b, f->unknown_id);
		return;
	}
	if (stack_attrib__frames(f->attrib, true, tgid, user, &u, &nu) ||
	    stack_attrib__frames(f->attrib, false, 0, kernel, &k, &nk))
		b->failed = true;
	if (root_first) {
		for (i = nu; i-- > 0;)
			put_id(b, u[i]);
		for (i = nk; i-- > 0;)
			put_id(b, k[i]);
	} else {
		for (i = 0; i < nk; i++)
			put_id(b, k[i]);
		for (i = 0; i < nu; i++)
			put_id(b, u[i]);
	}
}

static void key_frames(struct flame *f, const struct line_key *k, struct ids_buf *b)
{
	if (k->has_root)
		put_root(f, b, k->root_name, k->root_num);
	if (k->taken)
		put_stacks(f, b, k->tgid, k->user, k->kernel, true);
	else
		put_id(b, k->unsampled ? f->unsampled_id : f->unknown_id);
	if (f->opts.type != FLAME_WAKEUP)
		return;
	put_id(b, f->sep_id);
	if (k->waker == ATTRIB_WAKER_NONE)
		put_id(b, f->unknown_id);
	else if (k->waker == ATTRIB_WAKER_IRQ)
		put_id(b, f->irq_id);
	else
		put_stacks(f, b, k->wtgid, k->wuser, k->wkernel, false);
	if (k->has_wroot)
		put_root(f, b, k->wroot_name, k->wroot_num);
}

/* The frames joined by ';'; a frame that would take the line past
 * LINE_MAX_LEN is left out */
static char *join_frames(const struct strtab *names, const __u32 *ids, unsigned int n)
{
	size_t len = 0, flen;
	unsigned int i;
	char *p;

	for (i = 0; i < n; i++) {
		flen = strtab__len(names, ids[i]);
		if (len + flen + 2 < LINE_MAX_LEN)
			len += flen + 1;
	}
	p = malloc(len + 1);
	if (!p)
		return NULL;
	len = 0;
	for (i = 0; i < n; i++) {
		flen = strtab__len(names, ids[i]);
		if (len + flen + 2 >= LINE_MAX_LEN)
			continue;
		if (len)
			p[len++] = ';';
		memcpy(p + len, strtab__str(names, ids[i]), flen);
		len += flen;
	}
	p[len] = '\0';
	return p;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->stack, ((const struct line *)b)->stack);
}

/* By wait, then text: the lock type's lines of one wait, to merge */
static int cmp_wait_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->stack, y->stack);
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

/* Lines whose text is the same (sorted so they are next to each other)
 * become one, the first, with the values added; the others are freed.
 * same() says which are the same. Returns the new count. */
static size_t merge_same(struct line *lines, size_t n, int (*same)(const void *, const void *))
{
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		if (out && !same(&lines[out - 1], &lines[i])) {
			lines[out - 1].value += lines[i].value;
			lines[out - 1].pid = lines[i].pid;
			free(lines[i].stack);
			free(lines[i].ids);
			continue;
		}
		lines[out++] = lines[i];
	}
	return out;
}

/* Every counted key as a line with its frames and text */
static int make_lines(struct flame *f, struct line **out)
{
	struct line *lines = calloc(f->klines.n ? f->klines.n : 1, sizeof(*lines));
	size_t i;

	*out = lines;
	if (!lines)
		return -ENOMEM;
	for (i = 0; i < f->klines.n; i++) {
		const struct key_line *kl = keytab__at(&f->klines, i);
		struct ids_buf b = {};

		key_frames(f, &kl->key, &b);
		lines[i] = (struct line){ .value = kl->value,
					  .pid = kl->pid,
					  .addr = kl->key.addr,
					  .ids = b.ids,
					  .nids = b.n };
		if (b.failed)
			return -ENOMEM;
		lines[i].stack = join_frames(f->names, b.ids, b.n);
		if (!lines[i].stack)
			return -ENOMEM;
	}
	return 0;
}

/* The lock type: each wait address's lines that are locks of the
 * analysis' table, kept as the lock's own lines (lock_texts) and copied
 * into the graph's (lines). Returns the count of lines. */
static int keep_locks(struct flame *f, struct line *lines, size_t n, const struct weft_metrics *m,
		      size_t *kept)
{
	size_t i, k = 0;

	qsort(lines, n, sizeof(*lines), cmp_wait_line);
	n = merge_same(lines, n, cmp_wait_line);
	f->lock_lines = calloc(n ? n : 1, sizeof(*f->lock_lines));
	f->lock_texts = lines;
	f->nlock_texts = n;
	f->lines = calloc(n ? n : 1, sizeof(*f->lines));
	if (!f->lock_lines || !f->lines)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct line *l = &lines[i];
		const struct weft_lock_metrics *lm = weft_metrics__lock_of(m, l->pid, l->addr);
		char name[96];
		long id;

		if (!l->value || !lm)
			continue;
		weft_lock_metrics__label(lm, name, sizeof(name));
		id = strtab__intern(f->names, name, strlen(name));
		if (id < 0)
			return -ENOMEM;
		f->lock_lines[f->nr_lock_lines++] = (struct flame_lock_line){
			.pid = l->pid,
			.addr = l->addr,
			.stack = l->stack,
			.ns = l->value,
			.ids = l->ids,
			.nids = l->nids,
			.lock_name = strtab__str(f->names, (__u32)id),
		};
		f->lines[k] = *l;
		f->lines[k].stack = strdup(l->stack);
		f->lines[k].ids = NULL;
		if (!f->lines[k].stack)
			return -ENOMEM;
		if (l->nids) {
			f->lines[k].ids = malloc(l->nids * sizeof(*l->ids));
			if (!f->lines[k].ids) {
				free(f->lines[k].stack);
				return -ENOMEM;
			}
			memcpy(f->lines[k].ids, l->ids, l->nids * sizeof(*l->ids));
		}
		k++;
	}
	if (f->nr_lock_lines)
		qsort(f->lock_lines, f->nr_lock_lines, sizeof(*f->lock_lines), cmp_lock_line);
	*kept = k;
	return 0;
}

int flame__finish(struct flame *f, const struct weft_metrics *m)
{
	struct line *lines = NULL;
	size_t n, i, out = 0;
	int err;

	if (f->finished)
		return 0;
	/* carries still held at the end come to the lines first */
	err = stack_attrib__finish(f->attrib);
	f->finished = true;
	if (err || f->failed)
		return -ENOMEM;
	n = f->klines.n;
	err = make_lines(f, &lines);
	if (err) {
		lines_free(lines, n);
		return err;
	}
	keytab__release(&f->klines);
	if (f->opts.type == FLAME_LOCK) {
		err = keep_locks(f, lines, n, m, &n);
		if (err)
			return err;
		lines = f->lines;
	}
	f->lines = lines;
	if (n)
		qsort(lines, n, sizeof(*lines), cmp_line);
	n = merge_same(lines, n, cmp_line);
	/* time is kept in ns and given in us; lines under half a microsecond
	 * go */
	for (i = 0; i < n; i++) {
		struct line *l = &lines[i];
		__u64 v = f->opts.type == FLAME_ONCPU ? l->value : (l->value + 500) / 1000;

		if (!v) {
			free(l->stack);
			free(l->ids);
			continue;
		}
		l->value = v;
		lines[out++] = *l;
		f->total += v;
	}
	f->nlines = out;
	return 0;
}

size_t flame__count(const struct flame *f)
{
	return f->finished ? f->nlines : 0;
}

const char *flame__stack(const struct flame *f, size_t i)
{
	return f->lines[i].stack;
}

__u64 flame__value(const struct flame *f, size_t i)
{
	return f->lines[i].value;
}

__u32 flame__pid(const struct flame *f, size_t i)
{
	return f->lines[i].pid;
}

__u64 flame__total(const struct flame *f)
{
	return f->total;
}

void flame__frames(const struct flame *f, size_t i, const __u32 **ids, unsigned int *n)
{
	*ids = f->lines[i].ids;
	*n = f->lines[i].nids;
}

const struct strtab *flame__names(const struct flame *f)
{
	return f->names;
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
		fprintf(out, "%s %llu\n", f->lines[i].stack, (unsigned long long)f->lines[i].value);
	return ferror(out) ? -EIO : 0;
}

int flame__lines(const struct flame *f, struct flame_lines *l)
{
	size_t n = flame__count(f), i;
	char *c;

	memset(l, 0, sizeof(*l));
	l->cap = n > flame__lock_count(f) ? n : flame__lock_count(f);
	l->stacks = calloc(l->cap ? l->cap : 1, sizeof(*l->stacks));
	l->values = calloc(l->cap ? l->cap : 1, sizeof(*l->values));
	l->texts = calloc(l->cap ? l->cap : 1, sizeof(*l->texts));
	if (!l->stacks || !l->values || !l->texts)
		return -ENOMEM;
	if (f->opts.type != FLAME_LOCK) {
		for (i = 0; i < n; i++) {
			l->stacks[i] = flame__stack(f, i);
			l->values[i] = flame__value(f, i);
		}
		l->n = n;
		return 0;
	}
	for (i = 0; i < flame__lock_count(f); i++) {
		const struct flame_lock_line *k = flame__lock_line(f, i);
		__u64 us = (k->ns + 500) / 1000;

		if (!us)
			continue;
		if (asprintf(&l->texts[l->n], "%s;%s", k->lock_name, k->stack) < 0) {
			l->texts[l->n] = NULL;
			return -ENOMEM;
		}
		/* the lock's name is one frame */
		for (c = l->texts[l->n]; c < l->texts[l->n] + strlen(k->lock_name); c++)
			if (*c == ';')
				*c = '_';
		l->stacks[l->n] = l->texts[l->n];
		l->values[l->n++] = us;
	}
	return 0;
}

int flame_lines__add(struct flame_lines *l, const char *stack, __u64 us)
{
	size_t cs = l->cap, cv = l->cap, ct = l->cap;
	char *text;

	/* l->cap moves only once all three have room */
	if (grow_array((void **)&l->stacks, &cs, l->n + 1, sizeof(*l->stacks)) ||
	    grow_array((void **)&l->values, &cv, l->n + 1, sizeof(*l->values)) ||
	    grow_array((void **)&l->texts, &ct, l->n + 1, sizeof(*l->texts)))
		return -ENOMEM;
	if (ct > l->cap) {
		memset(l->texts + l->cap, 0, (ct - l->cap) * sizeof(*l->texts));
		l->cap = ct;
	}
	text = strdup(stack);
	if (!text)
		return -ENOMEM;
	l->texts[l->n] = text;
	l->stacks[l->n] = text;
	l->values[l->n++] = us;
	return 0;
}

void flame_lines__release(struct flame_lines *l)
{
	size_t i;

	for (i = 0; l->texts && i < l->cap; i++)
		free(l->texts[i]);
	free(l->texts);
	free(l->stacks);
	free(l->values);
	memset(l, 0, sizeof(*l));
}
