// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "demangle.h"
#include "events.h"
#include "log.h"
#include "python.h"
#include "stacks.h"
#include "symbols.h"
#include "u64set.h"

#define NAME_MAX_LEN 512

struct stack_table {
	struct weft_stack *stacks;
	size_t n, cap;
	struct u64_set index; /* key_of() -> index in stacks */
	struct u64_set execed; /* tgids that exec'd */
	stack_jit_fn jit_name;
	void *jit_ctx;
};

/* Unique and never 0: bit 63 set, bit 62 user, tgid, id. */
static __u64 key_of(bool user, __u32 tgid, __s32 id)
{
	return 1ULL << 63 | (__u64)user << 62 | (__u64)(tgid & 0x3fffffff) << 32 | (__u32)id;
}

struct stack_table *stack_table__new(void)
{
	return calloc(1, sizeof(struct stack_table));
}

static void frames_free(struct weft_stack *s)
{
	unsigned int i;

	for (i = 0; i < s->nframes; i++)
		free((char *)s->frames[i].name);
	free(s->frames);
	s->frames = NULL;
	s->nframes = 0;
}

void stack_table__free(struct stack_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		frames_free(&t->stacks[i]);
	free(t->stacks);
	u64_set__release(&t->index);
	u64_set__release(&t->execed);
	free(t);
}

static struct weft_stack *find(const struct stack_table *t, bool user, __u32 tgid, __s32 id)
{
	__u32 i;

	/* the key is the stack's whole identity */
	return u64_set__get(&t->index, key_of(user, tgid, id), &i) ? &t->stacks[i] : NULL;
}

static struct weft_stack *add(struct stack_table *t, bool user, __u32 tgid, __s32 id)
{
	struct weft_stack *grown, *st;
	bool added;
	__u32 *slot;

	if (!user)
		tgid = 0;
	st = find(t, user, tgid, id);
	if (st)
		return st;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;

		grown = realloc(t->stacks, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		t->stacks = grown;
		t->cap = cap;
	}
	slot = u64_set__slot(&t->index, key_of(user, tgid, id), &added);
	if (!slot)
		return NULL;
	*slot = t->n;
	st = &t->stacks[t->n++];
	memset(st, 0, sizeof(*st));
	st->user = user;
	st->tgid = tgid;
	st->id = id;
	return st;
}

int stack_table__note(struct stack_table *t, bool user, __u32 tgid, __s32 id)
{
	if (id < 0)
		return 0;
	return add(t, user, tgid, id) ? 0 : -ENOMEM;
}

void stack_table__note_event(struct stack_table *t, const struct weft_event_header *h)
{
	const struct weft_ev_switch *sw;
	const struct weft_ev_wakeup *wk;
	const struct weft_ev_sample *sa;
	const struct weft_ev_klock *kl;

	switch (h->type) {
	case WEFT_EV_SWITCH:
		sw = (const void *)h;
		stack_table__note(t, true, sw->prev_tgid, sw->user_stack_id);
		stack_table__note(t, false, 0, sw->kernel_stack_id);
		break;
	case WEFT_EV_WAKEUP:
		wk = (const void *)h;
		stack_table__note(t, true, wk->waker_tgid, wk->waker_user_stack_id);
		stack_table__note(t, false, 0, wk->waker_kernel_stack_id);
		break;
	case WEFT_EV_SAMPLE:
		sa = (const void *)h;
		stack_table__note(t, true, sa->tgid, sa->user_stack_id);
		stack_table__note(t, false, 0, sa->kernel_stack_id);
		break;
	case WEFT_EV_KLOCK:
		kl = (const void *)h;
		stack_table__note(t, false, 0, kl->kernel_stack_id);
		break;
	case WEFT_EV_EXEC:
		u64_set__slot(&t->execed, 1ULL << 63 | ((const struct weft_ev_exec *)h)->tgid,
			      &(bool){ false });
		break;
	}
}

bool stack_table__execed(const struct stack_table *t, __u32 tgid)
{
	return u64_set__has(&t->execed, 1ULL << 63 | tgid);
}

int stack_table__set(struct stack_table *t, bool user, __u32 tgid, __s32 id, const __u64 *addrs,
		     unsigned int n)
{
	struct weft_stack *st = add(t, user, tgid, id);
	unsigned int i;

	if (!st)
		return -ENOMEM;
	frames_free(st);
	if (!n)
		return 0;
	st->frames = calloc(n, sizeof(*st->frames));
	if (!st->frames)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		st->frames[i].addr = addrs[i];
	st->nframes = n;
	return 0;
}

int stack_table__read_map(struct stack_table *t, int map_fd, unsigned int max_depth,
			  unsigned int which)
{
	__u64 *ips = calloc(max_depth, sizeof(*ips));
	int missing = 0, err = 0;
	unsigned int n;
	size_t i;

	if (!ips)
		return -ENOMEM;
	for (i = 0; i < t->n && !err; i++) {
		struct weft_stack *st = &t->stacks[i];
		__u32 id = st->id;

		if (!(which & (st->user ? STACKS_USER : STACKS_KERNEL)))
			continue;
		memset(ips, 0, max_depth * sizeof(*ips));
		if (bpf_map_lookup_elem(map_fd, &id, ips)) {
			missing++;
			continue;
		}
		/* the kernel zero-fills the frames past the stack's depth */
		for (n = 0; n < max_depth && ips[n]; n++)
			;
		/* stack_table__set() on st itself: no reallocation of t->stacks */
		err = stack_table__set(t, st->user, st->tgid, st->id, ips, n);
	}
	free(ips);
	return err ? err : missing;
}

static char *sanitize(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = '_';
	return s;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

static char *frame_name(const struct sym_result *res)
{
	char buf[NAME_MAX_LEN];

	if (res->found && res->name)
		snprintf(buf, sizeof(buf), "%s", res->name);
	else if (!res->module || !strcmp(res->module, "[unknown]"))
		snprintf(buf, sizeof(buf), STACK_UNKNOWN_FRAME);
	else
		snprintf(buf, sizeof(buf), "%s+0x%llx", base_name(res->module), res->offset);
	return sanitize(strdup(buf));
}

void stack_table__set_jit_names(struct stack_table *t, stack_jit_fn jit_name, void *ctx)
{
	t->jit_name = jit_name;
	t->jit_ctx = ctx;
}

/* A frame's name from the process's perf map, demangled as ELF names are
 * (a C++ JIT may write mangled names); NULL when the map does not hold
 * addr, or out of memory (*err then) */
static char *jit_name(const struct stack_table *t, __u32 tgid, __u64 addr, int *err)
{
	char buf[NAME_MAX_LEN], *demangled;
	const char *name;

	if (!t->jit_name || !t->jit_name(t->jit_ctx, tgid, addr, &name))
		return NULL;
	demangled = demangle(name);
	snprintf(buf, sizeof(buf), "%s", demangled ? demangled : name);
	free(demangled);
	demangled = strdup(buf);
	if (!demangled)
		*err = -ENOMEM;
	return demangled ? sanitize(demangled) : NULL;
}

int stack_table__symbolize(struct stack_table *t, stack_maps_fn maps_of, void *maps_ctx,
			   struct syms_cache *syms, const struct kallsyms *ks)
{
	struct sym_result res;
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct weft_stack *st = &t->stacks[i];
		const struct proc_maps *m = st->user && maps_of ? maps_of(maps_ctx, st->tgid) :
								  NULL;
		unsigned int f;
		bool py = false;

		for (f = 0; f < st->nframes; f++) {
			/* a return address points past the call, maybe into
			 * the next function: name the call itself */
			__u64 addr = st->frames[f].addr - (f ? 1 : 0);
			int err = -1;

			memset(&res, 0, sizeof(res));
			/* Python frames (python.h) are named by the Python
			 * loader; "[python]" until then */
			py = py || (st->user && st->frames[f].addr == WEFT_PY_MARKER);
			if (py) {
				free((char *)st->frames[f].name);
				st->frames[f].name = strdup("[python]");
				if (!st->frames[f].name)
					return -ENOMEM;
				continue;
			}
			if (st->frames[f].addr == WEFT_STACK_CUT_SHORT)
				err = -1; /* the unwinder's "[unknown]" */
			else if (st->user && m && syms)
				err = syms_cache__resolve_user(syms, m, addr, false, &res);
			else if (!st->user && ks)
				err = kallsyms__resolve(ks, addr, &res);
			if (err == -ENOMEM)
				return err;
			if (err)
				memset(&res, 0, sizeof(res));
			/* a kernel address below the first symbol is no symbol */
			free((char *)st->frames[f].name);
			st->frames[f].name = NULL;
			err = 0;
			/* code no ELF file names: JIT code, which its runtime
			 * names in the perf map */
			if (st->user && !res.found && st->frames[f].addr != WEFT_STACK_CUT_SHORT)
				st->frames[f].name = jit_name(t, st->tgid, addr, &err);
			if (err)
				return err;
			if (!st->frames[f].name)
				st->frames[f].name = frame_name(&res);
			if (!st->frames[f].name)
				return -ENOMEM;
		}
	}
	return 0;
}

int stack_table__encode(const struct stack_table *t, char **buf, size_t *len)
{
	size_t cap = 4096, off = 0, i, need;
	char *text = malloc(cap), *grown;
	unsigned int f;

	if (!text)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		const struct weft_stack *st = &t->stacks[i];

		if (!st->nframes)
			continue;
		need = 64;
		for (f = 0; f < st->nframes; f++)
			need += 24 +
				strlen(st->frames[f].name ? st->frames[f].name :
							    STACK_UNKNOWN_FRAME) +
				4;
		if (off + need >= cap) {
			while (off + need >= cap)
				cap *= 2;
			grown = realloc(text, cap);
			if (!grown) {
				free(text);
				return -ENOMEM;
			}
			text = grown;
		}
		off += snprintf(text + off, cap - off, "s\t%c\t%u\t%d\t%u\n", st->user ? 'u' : 'k',
				st->tgid, st->id, st->nframes);
		for (f = 0; f < st->nframes; f++)
			off += snprintf(text + off, cap - off, "f\t%llx\t%s\n",
					(unsigned long long)st->frames[f].addr,
					st->frames[f].name ? st->frames[f].name :
							     STACK_UNKNOWN_FRAME);
	}
	*buf = text;
	*len = off;
	return 0;
}

/* One line of p (up to end) into line, NUL-terminated; the next line's
 * start, or NULL when there is no whole line. */
static const char *next_line(const char *p, const char *end, char *line, size_t size)
{
	const char *nl = memchr(p, '\n', end - p);
	size_t n;

	if (!nl)
		return NULL;
	n = nl - p;
	if (n >= size)
		n = size - 1;
	memcpy(line, p, n);
	line[n] = '\0';
	return nl + 1;
}

int stack_table__decode(struct stack_table *t, const void *buf, size_t len)
{
	const char *p = buf, *end = p + len;
	char line[NAME_MAX_LEN + 64], kind;
	unsigned int tgid, nframes, f;
	struct weft_stack *st;
	int id, pos;

	while (p < end) {
		p = next_line(p, end, line, sizeof(line));
		if (!p)
			return -EINVAL;
		if (line[0] != 's')
			continue; /* a line kind this weft does not know */
		if (sscanf(line, "s\t%c\t%u\t%d\t%u", &kind, &tgid, &id, &nframes) != 4 ||
		    (kind != 'u' && kind != 'k') || id < 0 || nframes > 4096)
			return -EINVAL;
		st = add(t, kind == 'u', tgid, id);
		if (!st)
			return -ENOMEM;
		frames_free(st);
		st->frames = calloc(nframes ? nframes : 1, sizeof(*st->frames));
		if (!st->frames)
			return -ENOMEM;
		for (f = 0; f < nframes; f++) {
			unsigned long long addr;

			p = p ? next_line(p, end, line, sizeof(line)) : NULL;
			if (!p || sscanf(line, "f\t%llx\t%n", &addr, &pos) != 1 || !pos)
				return -EINVAL;
			st->frames[f].addr = addr;
			st->frames[f].name = strdup(line + pos);
			st->nframes = f + 1;
			if (!st->frames[f].name)
				return -ENOMEM;
		}
	}
	return 0;
}

const struct weft_stack *stack_table__get(const struct stack_table *t, bool user, __u32 tgid,
					  __s32 id)
{
	if (id < 0)
		return NULL;
	return find(t, user, user ? tgid : 0, id);
}

size_t stack_table__count(const struct stack_table *t)
{
	return t->n;
}

const struct weft_stack *stack_table__at(const struct stack_table *t, size_t i)
{
	return i < t->n ? &t->stacks[i] : NULL;
}

size_t stack_table__index_of(const struct stack_table *t, const struct weft_stack *st)
{
	return (size_t)(st - t->stacks);
}

int stack_table__rename(struct stack_table *t, size_t i, unsigned int f, const char *name)
{
	char *copy;

	if (i >= t->n || f >= t->stacks[i].nframes)
		return -EINVAL;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	free((char *)t->stacks[i].frames[f].name);
	t->stacks[i].frames[f].name = copy;
	return 0;
}

bool weft_stack__cut_short(const struct weft_stack *st)
{
	unsigned int n = 0;

	/* the native frames end at the Python frames' marker */
	while (n < st->nframes && !(st->user && st->frames[n].addr == WEFT_PY_MARKER))
		n++;
	return n && st->frames[n - 1].addr == WEFT_STACK_CUT_SHORT;
}
