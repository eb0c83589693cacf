/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The CPython reader: where a user stack is taken, the Python frames the
 * thread is running go after its native frames in the same entry (see
 * python.h for the layout). Included by stacks.bpf.h only. */
#ifndef __WEFT_PYTHON_BPF_H
#define __WEFT_PYTHON_BPF_H

#include "python.h"

/* The processes that run a CPython weft knows, written by the recorder
 * (userspace/python_loader.c) once it has read their maps */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tgid */
	__type(value, struct weft_py_proc);
} py_procs SEC(".maps");

/* Every code object a stack named, copied once; drained by the recorder
 * at the end. Resized by it (--stack-entries). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct weft_py_code_key);
	__type(value, struct weft_py_code);
} pycode SEC(".maps");

/* A thread's own PyThreadState, found once by walking the interpreter's
 * thread list. A thread without one yet (a thread before its bootstrap
 * bound it, a fork's child before CPython gave its thread state the
 * child's id) looks again at each of its next PY_RETRY_EVERY stacks, then
 * at one in PY_RETRY (a thread that runs no Python: a few threads'
 * walk each time would be wasted) */
#define PY_RETRY_EVERY 32
#define PY_RETRY 16
struct py_thread {
	__u64 tstate;
	__u64 runtime; /* the interpreter it was found in (an exec changes it) */
	__u32 misses;
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct py_thread);
} py_threads SEC(".maps");

/* The walk's state in a map value, as the native walk keeps its own:
 * the verifier checks each callback once */
struct py_walk {
	__u64 frame; /* the next _PyInterpreterFrame to read */
	__u64 tstate; /* the thread search's next PyThreadState */
	__u64 hash; /* the stack's, with the words added so far */
	__u64 fsbase; /* the thread's pthread_self() */
	__u32 tid, tgid;
	__u32 slot; /* the next slot of the user stack */
	__u32 kept; /* Python frames kept */
	__u32 done;
	__u32 cut;
	/* a walk is under way on this CPU: a sample's program that
	 * interrupts another program's walk (a wakeup's, a lock wait's)
	 * takes no Python frames rather than write over its scratch */
	__u32 busy;
};

struct py_scratch {
	struct py_walk w;
	struct weft_py_code code;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_scratch);
} py_scratch SEC(".maps");

/* Threads the search looks at, and frames the walk reads (3.12 and later
 * spend one on each C-stack entry frame) */
#define PY_THREAD_STEPS 64
#define PY_FRAME_STEPS (2 * WEFT_PY_MAX_FRAMES + 2)
#define PY_SLOTS WEFT_UNWIND_MAX_FRAMES
#define PY_OWNED_BY_CSTACK 3

struct py_walk_ctx {
	struct py_scratch *ps;
	struct weft_py_proc *proc;
	__u64 *ips; /* the user stack's slots */
};

static __always_inline __u64 py_read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/* Whether tstate is the thread's own */
static __always_inline bool py_is_own(struct weft_py_proc *proc, struct py_walk *w, __u64 tstate)
{
	__u64 id = 0;

	if (proc->off.thread_match == WEFT_PY_MATCH_FSBASE) {
		bpf_probe_read_user(&id, sizeof(id),
				    (void *)(tstate + proc->off.tstate_native_thread_id));
		return id && id == w->fsbase;
	}
	bpf_probe_read_user(&id, sizeof(__u32),
			    (void *)(tstate + proc->off.tstate_native_thread_id));
	return id == w->tid;
}

static int py_thread_step(__u32 i, struct py_walk_ctx *c)
{
	struct py_walk *w = &c->ps->w;

	if (!w->tstate || !c->proc)
		return 1;
	if (py_is_own(c->proc, w, w->tstate)) {
		w->done = 1;
		return 1;
	}
	w->tstate = py_read_ptr(w->tstate + c->proc->off.tstate_next);
	return 0;
}

/* An ASCII str's text (compact and ASCII: the text follows the object);
 * "" for any other */
static __always_inline void py_read_str(struct weft_py_offsets *off, __u64 obj, char *out,
					__u32 size)
{
	__u32 state = 0;

	out[0] = 0;
	if (!obj || bpf_probe_read_user(&state, sizeof(state), (void *)(obj + off->unicode_state)))
		return;
	if ((state & (3 << 5)) != (3 << 5)) /* compact, ascii */
		return;
	bpf_probe_read_user_str(out, size, (void *)(obj + off->unicode_ascii_size));
}

/* Copies a code object into pycode, once */
static __always_inline void py_keep_code(struct py_walk_ctx *c, struct weft_py_code_key *key,
					 __u64 id)
{
	struct weft_py_offsets *off = &c->proc->off;
	struct weft_py_code *code = &c->ps->code;
	__u64 lt, len = 0;
	__u32 n;

	if (bpf_map_lookup_elem(&pycode, key))
		return;
	code->id = id;
	code->version = c->proc->version;
	code->firstlineno = key->firstlineno;
	py_read_str(off, key->name, code->qualname, sizeof(code->qualname));
	py_read_str(off, py_read_ptr(key->code + off->code_filename), code->filename,
		    sizeof(code->filename));
	lt = py_read_ptr(key->code + off->code_linetable);
	if (lt)
		bpf_probe_read_user(&len, sizeof(len), (void *)(lt + off->bytes_size));
	code->linetable_full = len > 0xffffffffULL ? 0xffffffffU : (__u32)len;
	n = len > WEFT_PY_LINETABLE_LEN ? WEFT_PY_LINETABLE_LEN : (__u32)len;
	code->linetable_len = 0;
	if (n && n <= WEFT_PY_LINETABLE_LEN &&
	    !bpf_probe_read_user(code->linetable, n, (void *)(lt + off->bytes_sval)))
		code->linetable_len = n;
	bpf_map_update_elem(&pycode, key, code, BPF_NOEXIST);
}

static int py_frame_step(__u32 i, struct py_walk_ctx *c)
{
	struct weft_py_code_key key = {};
	struct weft_py_offsets *off;
	struct py_walk *w;
	__u64 frame, instr, lasti, id;
	__s32 lasti32;
	__u32 slot;
	__u8 entry = 0;

	if (!c->proc || !c->ips)
		return 1;
	w = &c->ps->w;
	off = &c->proc->off;
	frame = w->frame;
	if (!frame)
		return 1;
	if (w->kept >= WEFT_PY_MAX_FRAMES || w->slot >= PY_SLOTS - 1) {
		w->cut = 1;
		return 1;
	}
	/* before 3.11 every Python call has its own eval frame: no byte
	 * to read */
	if (off->entry_kind == WEFT_PY_ENTRY_EVERY)
		entry = 1;
	else
		bpf_probe_read_user(&entry, 1, (void *)(frame + off->frame_entry));
	w->frame = py_read_ptr(frame + off->frame_previous);
	slot = w->slot;
	asm volatile("" : "+r"(slot));
	if (off->entry_kind == WEFT_PY_ENTRY_CSTACK_OWNER && entry == PY_OWNED_BY_CSTACK) {
		/* the C stack's own frame: the frame before it (inner) was
		 * the first its eval call ran */
		if (w->kept) {
			c->ips[(slot - 1) & (PY_SLOTS - 1)] |= WEFT_PY_ENTRY;
			w->hash = (w->hash ^ WEFT_PY_ENTRY) * WEFT_FNV_PRIME;
		}
		return 0;
	}
	key.code = py_read_ptr(frame + off->frame_code);
	if (!key.code)
		return 0;
	if (c->proc->code_type && py_read_ptr(key.code + off->object_type) != c->proc->code_type)
		return 0;
	if (off->lasti_kind == WEFT_PY_LASTI_PTR) {
		instr = py_read_ptr(frame + off->frame_instr);
	} else {
		lasti32 = 0;
		bpf_probe_read_user(&lasti32, sizeof(lasti32), (void *)(frame + off->frame_instr));
		instr = lasti32 < 0 ? 0 : lasti32;
	}
	bpf_probe_read_user(&key.firstlineno, sizeof(key.firstlineno),
			    (void *)(key.code + off->code_firstlineno));
	key.name = py_read_ptr(key.code + off->code_qualname);
	key.tgid = w->tgid;
	id = weft_py_code_id(&key);
	py_keep_code(c, &key, id);
	if (off->lasti_kind == WEFT_PY_LASTI_BYTES)
		lasti = instr / 2;
	else if (off->lasti_kind == WEFT_PY_LASTI_UNITS)
		lasti = instr;
	else
		lasti = instr > key.code + off->code_adaptive ?
				(instr - (key.code + off->code_adaptive)) / 2 :
				0;
	if (lasti > WEFT_PY_LASTI_MAX)
		lasti = WEFT_PY_LASTI_MAX;
	id = WEFT_PY_WORD(id, lasti, off->entry_kind != WEFT_PY_ENTRY_CSTACK_OWNER && entry);
	c->ips[slot & (PY_SLOTS - 1)] = id;
	w->hash = (w->hash ^ id) * WEFT_FNV_PRIME;
	w->slot = slot + 1;
	w->kept++;
	return 0;
}

/* The current thread's PyThreadState in proc's interpreter, or 0 */
static __always_inline __u64 py_tstate(struct py_walk_ctx *c, struct task_struct *task)
{
	struct py_walk *w = &c->ps->w;
	struct weft_py_offsets *off = &c->proc->off;
	struct py_thread *pt;

	pt = bpf_task_storage_get(&py_threads, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pt)
		return 0;
	if (pt->tstate && pt->runtime == c->proc->runtime) {
		/* still this thread's: a freed PyThreadState may be reused */
		if (py_is_own(c->proc, w, pt->tstate))
			return pt->tstate;
		pt->tstate = 0;
	}
	if (pt->runtime != c->proc->runtime) {
		pt->runtime = c->proc->runtime;
		pt->misses = 0;
	}
	if (pt->misses++ >= PY_RETRY_EVERY && pt->misses % PY_RETRY)
		return 0;
	w->done = 0;
	w->tstate = py_read_ptr(py_read_ptr(c->proc->runtime + off->runtime_interp_head) +
				off->interp_threads_head);
	bpf_loop(PY_THREAD_STEPS, py_thread_step, c, 0);
	if (!w->done)
		return 0;
	pt->tstate = w->tstate;
	pt->misses = 0;
	return pt->tstate;
}

/* Native frames a user stack keeps before its Python frames. Before 3.11
 * each Python call has C frames of its own (the eval frame and two or
 * three around it), so a deep Python stack would fill every slot with
 * native frames and keep no Python one: there the native walk stops at
 * PY_NATIVE_MAX (and is marked cut short), leaving room for the marker,
 * WEFT_PY_MAX_FRAMES Python frames and their cut mark. */
#define PY_NATIVE_MAX (PY_SLOTS - WEFT_PY_MAX_FRAMES - 3)

static __always_inline __u32 py_native_max(__u32 tgid)
{
	struct weft_py_proc *proc = bpf_map_lookup_elem(&py_procs, &tgid);

	return proc && proc->off.entry_kind == WEFT_PY_ENTRY_EVERY ? PY_NATIVE_MAX : PY_SLOTS;
}

/* Appends the current thread's Python frames to the user stack in ips,
 * whose first n slots hold its native frames; the new count of frames.
 * *hash covers what was added. */
static __always_inline __u32 py_append(__u64 *ips, __u32 n, __u64 *hash)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct py_walk_ctx c = {};
	struct py_walk *w;
	__u32 tgid = task->tgid, zero = 0, end, i;
	__u64 tstate, h;

	if (!ips || n >= PY_SLOTS - 3)
		return n;
	c.proc = bpf_map_lookup_elem(&py_procs, &tgid);
	if (!c.proc)
		return n;
	c.ps = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!c.ps)
		return n;
	c.ips = ips;
	w = &c.ps->w;
	w->tid = task->pid;
	w->tgid = tgid;
	w->fsbase = task->thread.fsbase;
	tstate = py_tstate(&c, task);
	if (!tstate)
		return n;
	if (c.proc->off.cframe_current_frame != WEFT_PY_NONE)
		w->frame = py_read_ptr(py_read_ptr(tstate + c.proc->off.tstate_frame) +
				       c.proc->off.cframe_current_frame);
	else
		w->frame = py_read_ptr(tstate + c.proc->off.tstate_frame);
	if (!w->frame)
		return n;
	end = n;
	/* clang drops a mask it can prove needless, and the verifier cannot
	 * see that: keep it out of clang's sight */
	asm volatile("" : "+r"(end));
	ips[end & (PY_SLOTS - 1)] = WEFT_PY_MARKER;
	w->slot = n + 1;
	w->kept = 0;
	w->cut = 0;
	w->hash = (*hash ^ WEFT_PY_MARKER) * WEFT_FNV_PRIME;
	bpf_loop(PY_FRAME_STEPS, py_frame_step, &c, 0);
	end = w->slot;
	h = w->hash;
	if (w->frame && end < PY_SLOTS) {
		/* the chain goes on past what was kept */
		i = end;
		asm volatile("" : "+r"(i));
		ips[i & (PY_SLOTS - 1)] = WEFT_PY_CUT;
		end++;
		h = (h ^ WEFT_PY_CUT) * WEFT_FNV_PRIME;
	}
	if (end <= n + 1)
		return n; /* no frame kept: the marker goes */
	*hash = h;
	return end;
}

/* py_append() on the per-CPU user stack being taken (ustack_scratch: its
 * first n slots, its hash in w.hash): the new count of frames. Global, so
 * that the verifier checks it once, not once for each program that takes
 * stacks (that was half a second of loading). */
__noinline int weft_py_append(__u32 n)
{
	struct ustack_scratch *scr;
	struct py_scratch *ps;
	__u32 zero = 0;
	int end;

	scr = bpf_map_lookup_elem(&ustack_scratch, &zero);
	ps = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!scr || !ps || ps->w.busy)
		return n;
	ps->w.busy = 1;
	end = py_append(scr->out.ips, n, &scr->w.hash);
	ps->w.busy = 0;
	return end;
}

#endif /* __WEFT_PYTHON_BPF_H */
