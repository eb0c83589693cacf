/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Unwind tables: what the BPF programs need to walk a user stack through
 * code built without frame pointers (Debian's glibc and dynamic loader).
 *
 * The recorder compiles the .eh_frame CFI of each object the traced
 * processes map into rows (userspace/unwind_table.c), appends them to one
 * big array map shared by every process, and gives each process a sorted
 * list of its executable mappings, each pointing at its object's rows. The
 * programs then step frame by frame: find the mapping of pc, binary-search
 * its rows, compute the CFA, read the return address at CFA - 8 and the
 * caller's rbp where the row says it was saved. A mapping without rows,
 * a pc in no mapping (JIT code) or in a gap of its object's rows takes a
 * frame-pointer step instead, so programs built with frame pointers need
 * no table at all.
 *
 * x86-64 only: the return address is always at CFA - 8; the only other
 * register an unwinder must restore to keep going is rbp.
 *
 * Only types and constants live here: no vmlinux.h, no libc.
 */
#ifndef __WEFT_UNWIND_H
#define __WEFT_UNWIND_H

/* How a row finds the CFA (the caller's rsp just before the call) */
enum weft_cfa_type {
	/* No rule: a gap between functions, or CFI this format cannot
	 * express (a CFA in another register, a DWARF expression other than
	 * the PLT's). The stack is cut short here. */
	WEFT_CFA_UNKNOWN = 0,
	WEFT_CFA_RSP = 1, /* CFA = rsp + cfa_offset */
	WEFT_CFA_RBP = 2, /* CFA = rbp + cfa_offset */
	/* The PLT's expression: CFA = rsp + cfa_offset, plus 8 when
	 * (pc & 15) >= rbp_offset8 (the entry has pushed its index) */
	WEFT_CFA_PLT = 3,
	/* The return address is undefined: the outermost frame (_start,
	 * clone3, start_thread's caller). The stack ends here, whole. */
	WEFT_CFA_END = 4,
	/* No FDE covers the pc: code without CFI in an object that has
	 * some (V8's embedded builtins in node, hand-written assembly). The
	 * walk takes a frame-pointer step, as for a pc in no mapping. */
	WEFT_CFA_GAP = 5,
};

/* rbp_offset8 values other than an offset */
#define WEFT_RBP_SAME 0 /* rbp still holds the caller's value */
#define WEFT_RBP_UNKNOWN (-128) /* rbp cannot be restored (a rule this format lacks) */

/* One row: the rule from pc until the next row's pc. pc is the object's
 * own virtual address (as its symbols give it), so one table serves every
 * process that maps the object, wherever it was loaded. */
struct weft_unwind_row {
	__u32 pc;
	__s16 cfa_offset;
	__u8 cfa_type; /* enum weft_cfa_type */
	/* The caller's rbp is saved at CFA + 8 * rbp_offset8, or
	 * WEFT_RBP_SAME / WEFT_RBP_UNKNOWN. For WEFT_CFA_PLT: the threshold. */
	__s8 rbp_offset8;
};

/* Executable mappings per process kept for unwinding, sorted by start. A
 * process mapping more objects than this unwinds the rest by frame
 * pointers. */
#define WEFT_UNWIND_MAX_MAPPINGS 96
/* Rows the programs' binary search reaches (the rows map's largest size) */
#define WEFT_UNWIND_MAX_ROWS (1U << 23)
/* Frames per unwound user stack (the value size of the ustacks map) */
#define WEFT_UNWIND_MAX_FRAMES 64

/* Stacks are kept by content: FNV-1a over their frames, their id in the
 * map derived from it (below 2^31: ids are >= 0, errors negative), and one
 * re-probe at id + WEFT_STACK_REPROBE when another stack has that id. The
 * BPF programs and the recorder (a stack it takes itself) must agree. The
 * same hash keys CPython's code objects. */
#define WEFT_FNV_BASIS 0xcbf29ce484222325ULL
#define WEFT_FNV_PRIME 0x100000001b3ULL
#define WEFT_STACK_ID(hash) ((__u32)((hash) ^ ((hash) >> 32)) & 0x7fffffff)
#define WEFT_STACK_REPROBE 0x9e3779b9

struct weft_unwind_mapping {
	__u64 start; /* [start, end) in the process */
	__u64 end;
	/* object address = process address - bias */
	__u64 bias;
	__u32 row_begin; /* the object's rows in the rows map; */
	__u32 row_count; /* 0: no table, step by frame pointer */
};

/* The value of the per-process map (key: tgid) */
struct weft_unwind_proc {
	__u32 count;
	__u32 reserved;
	struct weft_unwind_mapping maps[WEFT_UNWIND_MAX_MAPPINGS];
};

/* Objects by file, for the first frames of a process the recorder has not
 * given a mapping list yet (the first milliseconds after exec): the
 * programs find the mapping of pc with bpf_find_vma(), once per stack,
 * and its object here. dev is the kernel's encoding, major << 20 | minor. */
struct weft_unwind_object_key {
	__u32 dev;
	__u32 reserved;
	__u64 ino;
};

struct weft_unwind_object {
	__u32 row_begin;
	__u32 row_count;
	/* p_vaddr - p_offset of the executable load segment: the object
	 * address of file offset o there is o + this */
	__s64 vaddr_minus_offset;
};

#endif /* __WEFT_UNWIND_H */
