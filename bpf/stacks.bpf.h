/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Taking stacks: kernel stacks by the kernel's walk, user stacks by frame
 * pointers or with the unwind tables (unwind.h), both kept by content in
 * hash maps so that a record carries only an id. Included by weft.bpf.c
 * only (one BPF object). */
#ifndef __WEFT_STACKS_BPF_H
#define __WEFT_STACKS_BPF_H

#include "unwind.h"
#include "cpu_stat.bpf.h"

#define MAX_STACK_DEPTH 127
#define EFAULT_ERR 14
#define EEXIST_ERR 17

/* Python frames after the native ones (--python=auto) */
const volatile bool targ_python = false;

/* Unwind tables (unwind.h): rows of every object, appended by the
 * recorder through a memory mapping; resized by it (--unwind-rows). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_unwind_row);
} unwind_rows SEC(".maps");

/* Each traced process's executable mappings, written by the recorder from
 * /proc/PID/maps; a forked child starts with a copy of its parent's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tgid */
	__type(value, struct weft_unwind_proc);
} unwind_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct weft_unwind_object_key);
	__type(value, struct weft_unwind_object);
} unwind_objects SEC(".maps");

/* Mappings bpf_find_vma() found for a process, one per stack at most: a
 * process's first stacks, before the recorder has read its maps, get one
 * more mapping each. Kept until its exec or exit; the recorder's list,
 * once there, is searched first. */
#define FOUND_CACHE 8

struct found_cache {
	__u32 next;
	__u32 reserved;
	struct weft_unwind_mapping maps[FOUND_CACHE];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tgid */
	__type(value, struct found_cache);
} unwind_found SEC(".maps");

/* Never written: the zeroes a new found_cache starts from */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct found_cache);
} found_cache_zero SEC(".maps");

struct user_stack {
	__u64 ips[WEFT_UNWIND_MAX_FRAMES]; /* leaf first, 0 after the last */
};

/* User stacks (walked with the tables, or by frame pointers with
 * --unwind=fp), kept by content: the record keeps the id. Resized by the
 * recorder (--stack-entries). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct user_stack);
} ustacks SEC(".maps");

#define KSTACK_SLOTS 128 /* MAX_STACK_DEPTH frames and the 0 after them */

struct kernel_stack {
	__u64 ips[KSTACK_SLOTS]; /* leaf first, 0 after the last */
};

/* Kernel stacks, kept by content like the user stacks. A
 * STACK_TRACE map keys a stack by its hash's bucket alone and refuses a
 * second stack that lands there (-EEXIST): with a few hundred distinct
 * kernel stacks (on-CPU samples land anywhere) that failed in about one
 * recording in 20 of a 3-thread mutex benchmark. Resized by the recorder
 * (--stack-entries). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct kernel_stack);
} kstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kernel_stack);
} kstack_scratch SEC(".maps");

/* What a walk changes frame by frame, kept in a map value: the verifier
 * does not follow what maps hold, so the frame callback converges at
 * once. On the stack, every value it could tell apart was a state of its
 * own, seconds of loading. */
struct walk_state {
	__u64 pc, sp, bp;
	__u64 hash;
	/* the mapping bpf_find_vma() found, for pcs outside proc's list */
	struct weft_unwind_mapping found;
	__u32 tgid;
	__u32 find_tried;
	__u32 n;
	__u32 whole; /* reached the outermost frame */
};

struct ustack_scratch {
	struct user_stack out;
	struct walk_state w;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ustack_scratch);
} ustack_scratch SEC(".maps");

#define MAPPING_SEARCH_STEPS 7 /* 2^7 >= WEFT_UNWIND_MAX_MAPPINGS */
#define ROW_SEARCH_STEPS 23 /* 2^23 = WEFT_UNWIND_MAX_ROWS */

/* rbp could not be restored (a row without a rule for it, or a saved
 * value below its frame): no frame-pointer step may follow it, and unlike
 * 0 it does not end the stack as whole. Never a frame's address. */
#define BP_LOST 1ULL

/* The walk's context on the stack: the maps it reads */
struct ustack_walk {
	struct ustack_scratch *scr;
	struct weft_unwind_proc *proc;
	struct found_cache *cache;
};

/* The searches run as bpf_loop() callbacks: the verifier checks a
 * callback's body once, where it would walk every iteration of a bounded
 * loop, branch by branch (seconds of loading). */
struct mapping_search {
	struct weft_unwind_proc *proc;
	__u64 pc;
	__u32 lo, hi;
	__s32 found;
};

static int mapping_search_step(__u32 i, struct mapping_search *ms)
{
	struct weft_unwind_mapping *m;
	__u32 mid;

	if (ms->lo >= ms->hi || !ms->proc)
		return 1;
	mid = (ms->lo + ms->hi) / 2;
	if (mid >= WEFT_UNWIND_MAX_MAPPINGS)
		return 1;
	m = &ms->proc->maps[mid];
	if (ms->pc < m->start) {
		ms->hi = mid;
	} else if (ms->pc >= m->end) {
		ms->lo = mid + 1;
	} else {
		ms->found = mid;
		return 1;
	}
	return 0;
}

static __always_inline struct weft_unwind_mapping *find_mapping(struct weft_unwind_proc *proc,
								__u64 pc)
{
	struct mapping_search ms = { .proc = proc, .pc = pc, .hi = proc->count, .found = -1 };
	__u32 at;

	bpf_loop(MAPPING_SEARCH_STEPS, mapping_search_step, &ms, 0);
	at = ms.found;
	if (ms.found < 0 || at >= WEFT_UNWIND_MAX_MAPPINGS)
		return NULL;
	return &proc->maps[at];
}

struct row_search {
	__u64 addr;
	__u32 lo, hi;
};

static int row_search_step(__u32 i, struct row_search *rs)
{
	struct weft_unwind_row *row;
	__u32 mid;

	if (rs->hi - rs->lo <= 1)
		return 1;
	mid = rs->lo + (rs->hi - rs->lo) / 2;
	row = bpf_map_lookup_elem(&unwind_rows, &mid);
	if (!row)
		return 1;
	if (row->pc <= rs->addr)
		rs->lo = mid;
	else
		rs->hi = mid;
	return 0;
}

/* The last row at or below addr among the mapping's rows */
static __always_inline struct weft_unwind_row *find_row(struct weft_unwind_mapping *m, __u64 addr)
{
	struct row_search rs = { .addr = addr,
				 .lo = m->row_begin,
				 .hi = m->row_begin + m->row_count };
	struct weft_unwind_row *row;

	bpf_loop(ROW_SEARCH_STEPS, row_search_step, &rs, 0);
	row = bpf_map_lookup_elem(&unwind_rows, &rs.lo);
	return row && row->pc <= addr ? row : NULL;
}

static __always_inline __u64 read_user_word(__u64 addr, bool *ok)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		*ok = false;
	return v;
}

static long found_vma(struct task_struct *task, struct vm_area_struct *vma, struct ustack_walk *st)
{
	struct walk_state *w = &st->scr->w;
	struct weft_unwind_object_key key = {};
	struct weft_unwind_object *obj;
	struct file *file = vma->vm_file;

	if (!file)
		return 0;
	key.dev = file->f_inode->i_sb->s_dev;
	key.ino = file->f_inode->i_ino;
	obj = bpf_map_lookup_elem(&unwind_objects, &key);
	if (!obj)
		return 0;
	w->found.start = vma->vm_start;
	w->found.end = vma->vm_end;
	w->found.bias = vma->vm_start - ((vma->vm_pgoff << 12) + obj->vaddr_minus_offset);
	w->found.row_begin = obj->row_begin;
	w->found.row_count = obj->row_count;
	return 0;
}

/* The mapping of pc: from the recorder's list, else from the kernel's own
 * (bpf_find_vma() once per stack: in the switch program, with interrupts
 * off, a second call would find its unlock still queued and fail). */
static __always_inline struct weft_unwind_mapping *mapping_of(struct ustack_walk *st,
							      struct walk_state *w)
{
	struct weft_unwind_mapping *m = st->proc ? find_mapping(st->proc, w->pc) : NULL;
	struct found_cache *cache = st->cache, *zeroes;
	__u32 i, zero = 0;

	if (m)
		return m;
	for (i = 0; cache && i < FOUND_CACHE; i++)
		if (w->pc >= cache->maps[i].start && w->pc < cache->maps[i].end)
			return &cache->maps[i];
	if (!w->find_tried) {
		w->find_tried = true;
		bpf_find_vma(bpf_get_current_task_btf(), w->pc, found_vma, st, 0);
		if (w->pc >= w->found.start && w->pc < w->found.end) {
			if (!cache) {
				zeroes = bpf_map_lookup_elem(&found_cache_zero, &zero);
				if (zeroes)
					bpf_map_update_elem(&unwind_found, &w->tgid, zeroes,
							    BPF_NOEXIST);
				cache = st->cache = bpf_map_lookup_elem(&unwind_found, &w->tgid);
			}
			if (cache) {
				cache->maps[cache->next & (FOUND_CACHE - 1)] = w->found;
				cache->next++;
			}
		}
	}
	if (w->pc >= w->found.start && w->pc < w->found.end)
		return &w->found;
	return NULL;
}

/* Whether the return address pc is followed by `add $8,%rsp; ret`, which
 * ends CPython's perf trampoline (`sub $8,%rsp; call *%rcx`, then these) */
static __always_inline bool after_py_trampoline_call(__u64 pc)
{
	__u64 code = 0;

	if (bpf_probe_read_user(&code, 5, (void *)pc))
		return false;
	return code == 0xc308c48348ULL; /* 48 83 c4 08 c3, little-endian */
}

/* One frame: the rules are unwind_table.h's unwind__step(), which the unit
 * tests exercise; keep the two the same. Returns 1 to stop. */
static int unwind_frame(__u32 i, struct ustack_walk *st)
{
	struct weft_unwind_mapping *m;
	struct weft_unwind_row *row;
	__u64 cfa, ra, addr, next_bp;
	struct walk_state *w;
	__u32 slot = i;
	bool ok = true;

	if (i >= WEFT_UNWIND_MAX_FRAMES || !st->scr)
		return 1;
	w = &st->scr->w;
	/* clang drops the mask after the check, and writes with an
	 * unchecked copy of i: keep the mask in a register it cannot see
	 * through */
	asm volatile("" : "+r"(slot));
	st->scr->out.ips[slot & (WEFT_UNWIND_MAX_FRAMES - 1)] = w->pc;
	w->n = i + 1;
	w->hash = (w->hash ^ w->pc) * WEFT_FNV_PRIME;

	m = mapping_of(st, w);
	row = NULL;
	if (m && m->row_count) {
		/* a return address may be just past its function's end */
		addr = w->pc - m->bias - (i ? 1 : 0);
		row = find_row(m, addr);
		/* Code no FDE covers (before the first row, or a gap: V8's
		 * embedded builtins, which node's JIT code calls and is
		 * called by) keeps frame pointers or nothing: stopping there
		 * cut every node stack right under its root. */
		if (row && row->cfa_type == WEFT_CFA_GAP)
			row = NULL;
	}
	if (row) {
		switch (row->cfa_type) {
		case WEFT_CFA_RSP:
			cfa = w->sp + row->cfa_offset;
			break;
		case WEFT_CFA_RBP:
			cfa = w->bp + row->cfa_offset;
			break;
		case WEFT_CFA_PLT:
			cfa = w->sp + row->cfa_offset +
			      ((w->pc & 15) >= (__u64)row->rbp_offset8 ? 8 : 0);
			break;
		case WEFT_CFA_END:
			w->whole = true;
			return 1;
		default:
			return 1;
		}
		ra = read_user_word(cfa - 8, &ok);
		if (row->cfa_type != WEFT_CFA_PLT && row->rbp_offset8 == WEFT_RBP_UNKNOWN)
			w->bp = BP_LOST;
		else if (row->cfa_type != WEFT_CFA_PLT && row->rbp_offset8 != WEFT_RBP_SAME)
			w->bp = read_user_word(cfa + (__s64)row->rbp_offset8 * 8, &ok);
	} else if (i && !m && after_py_trampoline_call(w->pc)) {
		/* only in anonymous memory (m covers file-backed code alone),
		 * so that code without tables in a file (node's builtins) does
		 * not pay the read at every frame */
		/* CPython 3.12's perf trampoline (-X perf), copied into
		 * anonymous memory, has no CFI and no frame pointer: its frame
		 * is the 8 bytes it took and its return address; rbp is the
		 * caller's. Without this rule a Python stack ends at its
		 * innermost function. */
		cfa = w->sp + 16;
		ra = read_user_word(cfa - 8, &ok);
	} else {
		/* code with frame pointers (or none we know, JIT code): follow
		 * rbp */
		if (w->bp == BP_LOST)
			return 1;
		if (!w->bp) {
			w->whole = true;
			return 1;
		}
		cfa = w->bp + 16;
		ra = read_user_word(w->bp + 8, &ok);
		next_bp = read_user_word(w->bp, &ok);
		/* A caller's frame lies above its callee's. Anything else is
		 * a caller that does not keep rbp (its table, if it has one,
		 * does not need it) or garbage: no later step may follow it. */
		w->bp = next_bp && next_bp <= w->bp ? BP_LOST : next_bp;
	}
	/* callers' frames lie above: anything else is a loop or garbage */
	if (!ok || cfa <= w->sp)
		return 1;
	if (!ra) {
		w->whole = true;
		return 1;
	}
	w->sp = cfa;
	w->pc = ra;
	return 0;
}

/* A stack (leaf first, 0 after the last frame unless it fills every slot)
 * kept in MAP by content: its id is its hash, re-probed once when another
 * stack has that hash; the id, or -EEXIST counted as a failure. One body
 * for the user and the kernel stack maps, whose values differ in size. */
#define DEFINE_KEEP_STACK(name, map, type, slots)                                         \
	static __always_inline __s32 name(type *out, __u64 hash)                          \
	{                                                                                 \
		__u32 id = WEFT_STACK_ID(hash), probe, j;                                 \
		struct weft_cpu_stat *cs;                                                 \
		long err = -EEXIST_ERR;                                                   \
		type *known;                                                              \
                                                                                          \
		for (probe = 0; probe < 2; probe++) {                                     \
			known = bpf_map_lookup_elem(&map, &id);                           \
			if (!known) {                                                     \
				err = bpf_map_update_elem(&map, &id, out, BPF_NOEXIST);   \
				if (!err)                                                 \
					return id;                                        \
				known = bpf_map_lookup_elem(&map, &id); /* lost a race */ \
				if (!known)                                               \
					break;                                            \
			}                                                                 \
			for (j = 0; j < (slots); j++)                                     \
				if (known->ips[j] != out->ips[j] || !known->ips[j])       \
					break;                                            \
			if (j == (slots) ||                                               \
			    known->ips[j & ((slots)-1)] == out->ips[j & ((slots)-1)])     \
				return id;                                                \
			err = -EEXIST_ERR; /* another stack has this hash */              \
			id = (id + WEFT_STACK_REPROBE) & 0x7fffffff;                      \
		}                                                                         \
		cs = this_cpu_stat();                                                     \
		if (cs)                                                                   \
			cs->stack_failures++;                                             \
		return (__s32)err;                                                        \
	}

#include "python.bpf.h"

DEFINE_KEEP_STACK(keep_user_stack, ustacks, struct user_stack, WEFT_UNWIND_MAX_FRAMES)

/* The current task's user stack, walked with the unwind tables from its
 * saved user registers, stored in ustacks: its id, or -errno as
 * take_stack() gives. */
static __noinline __s32 take_user_stack_unwound(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct ustack_walk st = {};
	struct ustack_scratch *scr;
	struct user_stack *out;
	__u32 zero = 0, tgid = task->tgid, j, n;
	__u64 hash;

	scr = bpf_map_lookup_elem(&ustack_scratch, &zero);
	if (!scr || !regs)
		return -EFAULT_ERR;
	out = &scr->out;
	scr->w.pc = regs->ip;
	scr->w.sp = regs->sp;
	scr->w.bp = regs->bp;
	if (!scr->w.pc || scr->w.pc >= 0x800000000000ULL)
		return -EFAULT_ERR; /* no user context */
	scr->w.tgid = tgid;
	scr->w.hash = WEFT_FNV_BASIS;
	scr->w.n = 0;
	scr->w.whole = 0;
	scr->w.find_tried = 0;
	scr->w.found.start = scr->w.found.end = 0;
	st.scr = scr;
	st.proc = bpf_map_lookup_elem(&unwind_procs, &tgid);
	st.cache = bpf_map_lookup_elem(&unwind_found, &tgid);
	bpf_loop(targ_python ? py_native_max(tgid) : WEFT_UNWIND_MAX_FRAMES, unwind_frame, &st, 0);
	n = scr->w.n;
	hash = scr->w.hash;
	if (!scr->w.whole && n) {
		j = n < WEFT_UNWIND_MAX_FRAMES ? n : WEFT_UNWIND_MAX_FRAMES - 1;
		out->ips[j & (WEFT_UNWIND_MAX_FRAMES - 1)] = WEFT_STACK_CUT_SHORT;
		n = j + 1;
		hash = (hash ^ WEFT_STACK_CUT_SHORT) * WEFT_FNV_PRIME;
	}
	if (targ_python) {
		scr->w.hash = hash;
		n = weft_py_append(n);
		hash = scr->w.hash;
	}
	/* what follows the terminator is stale and never read */
	if (n < WEFT_UNWIND_MAX_FRAMES)
		out->ips[n & (WEFT_UNWIND_MAX_FRAMES - 1)] = 0;

	return keep_user_stack(out, hash);
}

DEFINE_KEEP_STACK(keep_kernel_stack, kstacks, struct kernel_stack, KSTACK_SLOTS)

/* FNV-1a over the first n of a stack's frames */
#define HASH_FRAMES(ips, n, max)                                              \
	({                                                                    \
		__u64 _hash = WEFT_FNV_BASIS;                                 \
		__u32 _i;                                                     \
		/* a plain loop: a bpf_loop() callback per frame cost 2 us */ \
		for (_i = 0; _i < (max) && _i < (n); _i++)                    \
			_hash = (_hash ^ (ips)[_i]) * WEFT_FNV_PRIME;         \
		_hash;                                                        \
	})

/* A stack the kernel walks (bpf_get_stack with flags: 0 for the kernel's,
 * BPF_F_USER_STACK for a frame-pointer user walk) copied into out, which
 * has slots frames; the number of frames, 0 after it unless full, or a
 * negative errno (-EFAULT: none of that kind, not counted) */
#define COPY_STACK(ctx, out, slots, flags)                                                      \
	({                                                                                      \
		long _len = bpf_get_stack(ctx, (out)->ips, ((slots)-1) * sizeof(__u64), flags); \
		__u32 _n = _len > 0 ? (__u32)_len / sizeof(__u64) : 0;                          \
		if (_n > (slots)-1)                                                             \
			_n = (slots)-1;                                                         \
		(out)->ips[_n & ((slots)-1)] = 0;                                               \
		_len > 0 ? (long)_n : _len == 0 ? -EFAULT_ERR : _len;                           \
	})

/* A capture that failed for another reason than having no frames of
 * its kind is counted; the record keeps the -errno either way. */
static __always_inline __s32 stack_copy_failed(long err)
{
	struct weft_cpu_stat *cs;

	if (err != -EFAULT_ERR && (cs = this_cpu_stat()))
		cs->stack_failures++;
	return (__s32)err;
}

/* The kernel stack of the current task, by id in kstacks; a negative
 * errno as COPY_STACK gives. */
static __noinline __s32 take_kernel_stack(void *ctx)
{
	struct kernel_stack *out;
	__u32 zero = 0;
	long n;

	out = bpf_map_lookup_elem(&kstack_scratch, &zero);
	if (!out)
		return -EFAULT_ERR;
	n = COPY_STACK(ctx, out, KSTACK_SLOTS, 0);
	if (n < 0)
		return stack_copy_failed(n);
	return keep_kernel_stack(out, HASH_FRAMES(out->ips, n, KSTACK_SLOTS));
}

/* The current task's user stack walked by frame pointers (--unwind=fp),
 * by id in ustacks like the table walks */
static __noinline __s32 take_user_stack_fp(void *ctx)
{
	struct ustack_scratch *scr;
	__u32 zero = 0, end;
	__u64 hash;
	long n;

	scr = bpf_map_lookup_elem(&ustack_scratch, &zero);
	if (!scr)
		return -EFAULT_ERR;

	n = COPY_STACK(ctx, &scr->out, WEFT_UNWIND_MAX_FRAMES, BPF_F_USER_STACK);
	if (n < 0)
		return stack_copy_failed(n);
	hash = HASH_FRAMES(scr->out.ips, n, WEFT_UNWIND_MAX_FRAMES);
	if (targ_python) {
		scr->w.hash = hash;
		end = weft_py_append((__u32)n);
		hash = scr->w.hash;
		if (end < WEFT_UNWIND_MAX_FRAMES)
			scr->out.ips[end & (WEFT_UNWIND_MAX_FRAMES - 1)] = 0;
	}
	return keep_user_stack(&scr->out, hash);
}
#endif
