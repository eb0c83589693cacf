// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "events.h"
#include "grow.h"
#include "stack_attrib.h"
#include "stacks.h"
#include "strtab.h"
#include "u64set.h"

/* Blocked time of a thread's intervals of one kind (system call and
 * address) that took no stack, waiting for its next sampled one; what the
 * record at the end says of them if none comes */
struct carry {
	__u64 ns;
	__u32 tid, pid;
	int reason, syscall_nr;
	__u64 addr;
};

/* What is known of a thread: its name, the stacks of its last switch out
 * (where its current block started) and the wakeup that ended it */
struct thread_state {
	__u32 tid;
	__u32 comm;
	bool has_switch;
	__u32 sw_tgid;
	__s32 sw_user, sw_kernel;
	bool has_wake, wake_irq;
	__u32 waker_tid, waker_tgid;
	__s32 wk_user, wk_kernel;
	/* carries of this thread holding time: with none, a sampled block
	 * looks none up (most threads, with every stack taken) */
	unsigned int carrying;
};

/* A stack's frames as name ids, made the first time it is asked for */
struct frames {
	bool made;
	unsigned int n;
	__u32 *ids;
};

struct sink {
	stack_attrib_fn fn;
	void *ctx;
};

struct stack_attrib {
	const struct stack_table *stacks;
	struct strtab *names;
	struct sink sinks[STACK_ATTRIB_SINKS];
	unsigned int nsinks;
	struct thread_state *threads;
	size_t nthreads, cap_threads;
	struct u64_set thread_index;
	/* Carries: wait addresses numbered in addr_index, kinds of wait
	 * (address number << 16 | system call) in kind_index, carries found
	 * by thread index + 1 << 32 | kind number in carry_index */
	struct u64_set addr_index, kind_index, carry_index;
	__u32 naddrs, nkinds;
	struct carry *carries;
	size_t ncarries, cap_carries;
	struct frames *frames; /* by stack table index */
	size_t nframes;
	bool as_sampled; /* marked stacks of --stack-audit count as skipped */
	bool finished, failed;
};

struct stack_attrib *stack_attrib__new(const struct stack_table *stacks)
{
	struct stack_attrib *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->stacks = stacks;
	a->names = strtab__new();
	if (stacks)
		a->nframes = stack_table__count(stacks);
	a->frames = calloc(a->nframes ? a->nframes : 1, sizeof(*a->frames));
	if (!a->names || !a->frames) {
		stack_attrib__free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

void stack_attrib__free(struct stack_attrib *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nframes; i++)
		free(a->frames[i].ids);
	free(a->frames);
	free(a->carries);
	u64_set__release(&a->addr_index);
	u64_set__release(&a->kind_index);
	u64_set__release(&a->carry_index);
	free(a->threads);
	u64_set__release(&a->thread_index);
	strtab__free(a->names);
	free(a);
}

void stack_attrib__as_sampled(struct stack_attrib *a)
{
	a->as_sampled = true;
}

int stack_attrib__subscribe(struct stack_attrib *a, stack_attrib_fn fn, void *ctx)
{
	if (a->nsinks == STACK_ATTRIB_SINKS)
		return -ENOSPC;
	a->sinks[a->nsinks++] = (struct sink){ fn, ctx };
	return 0;
}

struct strtab *stack_attrib__names(const struct stack_attrib *a)
{
	return a->names;
}

const struct stack_table *stack_attrib__stacks(const struct stack_attrib *a)
{
	return a->stacks;
}

bool stack_attrib__failed(const struct stack_attrib *a)
{
	return a->failed;
}

/* --- names --- */

/* The folded format's spelling of a frame: ';' separates frames and the
 * last space the count, so neither may stay in a name */
__u32 stack_attrib__intern(struct stack_attrib *a, const char *name, const char *suffix)
{
	size_t len = strlen(name), slen = suffix ? strlen(suffix) : 0, i;
	char stackbuf[512], *buf = stackbuf;
	long id;

	if (!len) {
		name = STACK_UNKNOWN_FRAME;
		len = strlen(name);
	}
	if (len + slen + 1 > sizeof(stackbuf)) {
		buf = malloc(len + slen + 1);
		if (!buf) {
			a->failed = true;
			return 0;
		}
	}
	for (i = 0; i < len; i++)
		buf[i] = (name[i] == ' ' || name[i] == ';' || name[i] == '\t' || name[i] == '\n') ?
				 '_' :
				 name[i];
	if (slen)
		memcpy(buf + len, suffix, slen);
	id = strtab__intern(a->names, buf, len + slen);
	if (buf != stackbuf)
		free(buf);
	if (id < 0) {
		a->failed = true;
		return 0;
	}
	return (__u32)id;
}

static __u32 intern_comm(struct stack_attrib *a, const char *comm)
{
	long id = strtab__intern(a->names, comm, strnlen(comm, WEFT_COMM_LEN));

	if (id < 0) {
		a->failed = true;
		return 0;
	}
	return (__u32)id;
}

/* The kernel frames of weft's own programs, at the leaf end of every
 * stack they take: what ran is what called them. */
static bool is_tracing_frame(const char *name)
{
	return name && (!strncmp(name, "bpf_prog_", 9) || !strncmp(name, "bpf_trace_run", 13) ||
			!strncmp(name, "__bpf_trace_", 12) || !strncmp(name, "__traceiter_", 12) ||
			!strncmp(name, "bpf_get_stack", 13) || !strncmp(name, "perf_trace_", 11));
}

static int make_frames(struct stack_attrib *a, const struct weft_stack *st, struct frames *fr)
{
	unsigned int skip = 0, i;

	while (!st->user && skip < st->nframes && is_tracing_frame(st->frames[skip].name))
		skip++;
	fr->made = true;
	fr->n = st->nframes - skip;
	if (!fr->n)
		return 0;
	fr->ids = calloc(fr->n, sizeof(*fr->ids));
	if (!fr->ids) {
		fr->n = 0;
		return -ENOMEM;
	}
	for (i = 0; i < fr->n; i++) {
		const char *name = st->frames[skip + i].name;

		fr->ids[i] = stack_attrib__intern(a, name ? name : STACK_UNKNOWN_FRAME,
						  st->user ? NULL : "_[k]");
		if (!fr->ids[i])
			return -ENOMEM;
	}
	return 0;
}

int stack_attrib__frames(struct stack_attrib *a, bool user, __u32 tgid, __s32 id, const __u32 **ids,
			 unsigned int *n)
{
	const struct weft_stack *st = a->stacks ? stack_table__get(a->stacks, user, tgid, id) :
						  NULL;
	struct frames *fr;
	int err = 0;

	*ids = NULL;
	*n = 0;
	if (!st)
		return 0;
	fr = &a->frames[stack_table__index_of(a->stacks, st)];
	if (!fr->made)
		err = make_frames(a, st, fr);
	*ids = fr->ids;
	*n = fr->n;
	return err;
}

bool stack_attrib__cut_short(const struct stack_attrib *a, __u32 tgid, __s32 user_id)
{
	const struct weft_stack *st = a->stacks ? stack_table__get(a->stacks, true, tgid, user_id) :
						  NULL;

	return st && st->nframes && st->frames[st->nframes - 1].addr == WEFT_STACK_CUT_SHORT;
}

/* --- threads --- */

static struct thread_state *thread_get(struct stack_attrib *a, __u32 tid)
{
	struct thread_state *t;
	bool added;
	__u32 *slot = u64_set__slot(&a->thread_index, 1ULL << 63 | tid, &added);

	if (!slot)
		return NULL;
	if (!added)
		return &a->threads[*slot];
	if (grow_array((void **)&a->threads, &a->cap_threads, a->nthreads + 1, sizeof(*a->threads)))
		return NULL;
	*slot = a->nthreads;
	t = &a->threads[a->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

static const struct thread_state *thread_find(const struct stack_attrib *a, __u32 tid)
{
	__u32 i;

	return u64_set__get(&a->thread_index, 1ULL << 63 | tid, &i) ? &a->threads[i] : NULL;
}

static int set_comm(struct stack_attrib *a, __u32 tid, const char *comm)
{
	struct thread_state *t = thread_get(a, tid);

	if (!t)
		return -ENOMEM;
	t->comm = intern_comm(a, comm);
	return 0;
}

/* A thread as records name it: its name and its process's main thread's,
 * as they are now */
static struct attrib_thread thread_ref(const struct stack_attrib *a, __u32 tid, __u32 pid)
{
	const struct thread_state *t = thread_find(a, tid), *leader = thread_find(a, pid);

	return (struct attrib_thread){ .tid = tid,
				       .pid = pid,
				       .comm = t ? t->comm : 0,
				       .leader_comm = leader ? leader->comm : 0 };
}

static void emit(struct stack_attrib *a, const struct attributed_stack *as)
{
	unsigned int i;

	for (i = 0; i < a->nsinks; i++)
		a->sinks[i].fn(a->sinks[i].ctx, as);
}

int stack_attrib__feed(void *ctx, const struct weft_event_header *ev)
{
	struct stack_attrib *a = ctx;
	const struct weft_ev_switch *sw;
	const struct weft_ev_wakeup *wk;
	const struct weft_ev_sample *sa;
	struct attributed_stack as;
	struct thread_state *t;

	switch (ev->type) {
	case WEFT_EV_FORK:
		return set_comm(a, ((const struct weft_ev_fork *)ev)->child_tid,
				((const struct weft_ev_fork *)ev)->comm);
	case WEFT_EV_EXEC:
		return set_comm(a, ((const struct weft_ev_exec *)ev)->tid,
				((const struct weft_ev_exec *)ev)->comm);
	case WEFT_EV_RENAME:
		return set_comm(a, ((const struct weft_ev_rename *)ev)->tid,
				((const struct weft_ev_rename *)ev)->comm);
	case WEFT_EV_TASK_STATE: {
		const struct weft_ev_task_state *ts = (const void *)ev;
		int err = set_comm(a, ts->tid, ts->comm);

		/* a wait that began before weft attached: its stack was read
		 * at attach (weft record -p), as a blocking switch's */
		if (err || !(ev->flags & WEFT_STATE_WAIT))
			return err;
		t = thread_get(a, ts->tid);
		if (!t)
			return -ENOMEM;
		t->has_switch = true;
		t->sw_tgid = ts->tgid;
		t->sw_user = ts->user_stack_id;
		t->sw_kernel = ts->kernel_stack_id;
		t->has_wake = false;
		return 0;
	}
	case WEFT_EV_SWITCH:
		/* what a block starts: an inferred switch-out is weft's, with
		 * no stacks */
		sw = (const void *)ev;
		if (!(ev->flags & WEFT_SWITCH_PREV_TRACED) || (ev->flags & WEFT_SWITCH_INFERRED))
			return 0;
		t = thread_get(a, sw->prev_tid);
		if (!t)
			return -ENOMEM;
		t->has_switch = true;
		t->sw_tgid = sw->prev_tgid;
		t->sw_user = sw->user_stack_id;
		t->sw_kernel = sw->kernel_stack_id;
		if (a->as_sampled && (ev->flags & WEFT_SWITCH_WOULD_SKIP))
			t->sw_user = t->sw_kernel = WEFT_STACK_SKIPPED;
		t->has_wake = false;
		return 0;
	case WEFT_EV_WAKEUP:
		/* who ended a block */
		wk = (const void *)ev;
		t = thread_get(a, wk->tid);
		if (!t)
			return -ENOMEM;
		t->has_wake = true;
		t->wake_irq = ev->flags & WEFT_WAKE_IRQ;
		t->waker_tid = ev->flags & WEFT_WAKE_NO_WAKING ? 0 : wk->waker_tid;
		t->waker_tgid = wk->waker_tgid;
		t->wk_user = wk->waker_user_stack_id;
		t->wk_kernel = wk->waker_kernel_stack_id;
		if (a->as_sampled && (ev->flags & WEFT_WAKE_WOULD_SKIP))
			t->wk_user = t->wk_kernel = WEFT_STACK_NOT_TAKEN;
		return 0;
	case WEFT_EV_SAMPLE:
		sa = (const void *)ev;
		memset(&as, 0, sizeof(as));
		as.kind = STACK_KIND_ONCPU;
		as.thread = thread_ref(a, sa->tid, sa->tgid);
		as.stacks = (struct attrib_stacks){ true, sa->tgid, sa->user_stack_id,
						    sa->kernel_stack_id };
		as.weight = 1;
		as.start_ns = as.end_ns = ev->ts_ns;
		emit(a, &as);
		return 0;
	}
	return 0;
}

/* The number of a value in index, given out in turn from *next; or -1
 * when out of memory */
static long number_of(struct u64_set *index, __u64 value, __u32 *next)
{
	bool added;
	__u32 *no = u64_set__slot(index, value, &added);

	if (!no)
		return -1;
	if (added)
		*no = (*next)++;
	return *no;
}

/* The carry of thread t for waits of the kind of slice s (its system
 * call and address); NULL when out of memory */
static struct carry *carry_of(struct stack_attrib *a, const struct thread_state *t,
			      const struct weft_slice *s)
{
	long addr_no = number_of(&a->addr_index, s->addr ^ (1ULL << 63), &a->naddrs), kind_no;
	struct carry *c;
	bool added;
	__u32 *slot;

	if (addr_no < 0)
		return NULL;
	kind_no = number_of(&a->kind_index,
			    1ULL << 63 | (__u64)addr_no << 16 | (__u16)s->syscall_nr, &a->nkinds);
	if (kind_no < 0)
		return NULL;
	slot = u64_set__slot(&a->carry_index, (__u64)(t - a->threads + 1) << 32 | (__u64)kind_no,
			     &added);
	if (!slot)
		return NULL;
	if (!added)
		return &a->carries[*slot];
	if (grow_array((void **)&a->carries, &a->cap_carries, a->ncarries + 1, sizeof(*a->carries)))
		return NULL;
	*slot = a->ncarries;
	c = &a->carries[a->ncarries++];
	*c = (struct carry){ .tid = s->tid,
			     .pid = s->pid,
			     .reason = s->reason,
			     .syscall_nr = s->syscall_nr,
			     .addr = s->addr };
	return c;
}

void stack_attrib__slice(void *ctx, const struct weft_slice *s)
{
	struct stack_attrib *a = ctx;
	__u64 ns = s->end_ns - s->start_ns;
	struct attributed_stack as;
	struct carry *carry = NULL;
	struct thread_state *t;

	if (s->state != WEFT_SLICE_BLOCKED || a->finished)
		return;
	t = thread_get(a, s->tid);
	if (!t) {
		a->failed = true;
		return;
	}
	/* --stack-every: a block that took no stack adds its time to the
	 * thread's next one of its kind that did */
	if (t->has_switch && t->sw_user == WEFT_STACK_SKIPPED) {
		carry = carry_of(a, t, s);
		if (carry) {
			t->carrying += !carry->ns && ns;
			carry->ns += ns;
		} else {
			a->failed = true;
		}
		t->has_switch = false;
		t->has_wake = false;
		return;
	}
	memset(&as, 0, sizeof(as));
	as.kind = STACK_KIND_OFFCPU;
	as.thread = thread_ref(a, s->tid, s->pid);
	if (t->has_switch)
		as.stacks = (struct attrib_stacks){ true, t->sw_tgid, t->sw_user, t->sw_kernel };
	else
		as.stacks = (struct attrib_stacks){ false, s->pid, WEFT_STACK_NOT_TAKEN,
						    WEFT_STACK_NOT_TAKEN };
	as.start_ns = s->start_ns;
	as.end_ns = s->end_ns;
	as.reason = s->reason;
	as.syscall_nr = s->syscall_nr;
	as.addr = s->addr;
	if (!t->has_wake) {
		as.waker = ATTRIB_WAKER_NONE;
	} else if (t->wake_irq) {
		as.waker = ATTRIB_WAKER_IRQ;
	} else {
		as.waker = ATTRIB_WAKER_TASK;
		as.waker_thread = t->waker_tid ? thread_ref(a, t->waker_tid, t->waker_tgid) :
						 (struct attrib_thread){ .pid = t->waker_tgid };
		as.waker_stacks =
			(struct attrib_stacks){ true, t->waker_tgid, t->wk_user, t->wk_kernel };
	}
	t->has_switch = false;
	t->has_wake = false;
	/* only a sampled stack takes carried time: a block with no switch
	 * seen is not one */
	if (as.stacks.taken && t->carrying) {
		carry = carry_of(a, t, s);
		if (!carry)
			a->failed = true;
	}
	as.carried_ns = carry ? carry->ns : 0;
	as.weight = ns + as.carried_ns;
	if (carry && carry->ns) {
		carry->ns = 0;
		t->carrying--;
	}
	emit(a, &as);
}

/* Time no later sampled stack of its kind took: a record of its own,
 * with the thread's names as they are at the end */
static void hand_out(struct stack_attrib *a, struct carry *c)
{
	struct attributed_stack as;

	if (!c->ns)
		return;
	memset(&as, 0, sizeof(as));
	as.kind = STACK_KIND_OFFCPU;
	as.thread = thread_ref(a, c->tid, c->pid);
	as.stacks =
		(struct attrib_stacks){ false, c->pid, WEFT_STACK_NOT_TAKEN, WEFT_STACK_NOT_TAKEN };
	as.reason = c->reason;
	as.syscall_nr = c->syscall_nr;
	as.addr = c->addr;
	as.weight = c->ns;
	as.carried_ns = c->ns;
	as.unsampled = true;
	c->ns = 0;
	emit(a, &as);
}

int stack_attrib__finish(struct stack_attrib *a)
{
	size_t i;

	if (a->finished)
		return 0;
	a->finished = true;
	for (i = 0; i < a->ncarries; i++)
		hand_out(a, &a->carries[i]);
	return a->failed ? -ENOMEM : 0;
}
