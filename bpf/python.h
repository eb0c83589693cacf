/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CPython frames: what the BPF reader (python.bpf.h) and the recorder
 * (userspace/python_loader.c) share.
 *
 * The recorder finds a CPython interpreter in a traced process's maps
 * (libpython3.X.so or a static python3.X executable), its version and the
 * address of _PyRuntime, and gives the process a weft_py_proc: where
 * _PyRuntime is and the offsets of the fields the reader follows, made from
 * CPython's own headers (3.8-3.12) or read from _PyRuntime.debug_offsets
 * (3.13). Where a user stack is taken, the reader finds the thread's own
 * PyThreadState (the one whose native_thread_id is the thread's id; before
 * 3.11, whose thread_id is its pthread_self(), the task's fs base) and
 * walks its frame chain (_PyInterpreterFrame since 3.11, PyFrameObject
 * before).
 *
 * The Python frames go into the same user-stack entry as the native ones,
 * after them: WEFT_PY_MARKER, then one word per Python frame, leaf first,
 * then WEFT_PY_CUT when the chain went on past WEFT_PY_MAX_FRAMES. So one
 * stack id covers both, and records do not change. A frame's word:
 *   bits 0-17   the instruction offset in code units (lasti), at most
 *               WEFT_PY_LASTI_MAX
 *   bits 18-62  the code object's id: a hash of its weft_py_code_key
 *   bit 63      the frame is the first one its C-level
 *               _PyEval_EvalFrameDefault call ran (an entry frame): the
 *               next word belongs to the next eval frame out
 * Each code object seen is copied once into the pycode map, keyed by
 * (tgid, address, first line, name pointer): a code object freed and
 * another made at its address is not misnamed, and names outlive the
 * process.
 *
 * Only types and constants live here: no vmlinux.h, no libc.
 */
#ifndef __WEFT_PYTHON_H
#define __WEFT_PYTHON_H

#include "unwind.h"

/* After the native frames of a user stack: the Python frames follow.
 * Never a user address, like WEFT_STACK_CUT_SHORT. */
#define WEFT_PY_MARKER 0xffffffffffffff01ULL
/* After the last Python frame kept: the chain went on */
#define WEFT_PY_CUT 0xffffffffffffff02ULL
#define WEFT_PY_MAX_FRAMES 32

#define WEFT_PY_ENTRY (1ULL << 63)
#define WEFT_PY_LASTI_BITS 18
#define WEFT_PY_LASTI_MAX ((1ULL << WEFT_PY_LASTI_BITS) - 1)
#define WEFT_PY_ID_MASK ((1ULL << 45) - 1)
#define WEFT_PY_WORD(id, lasti, entry)                                                           \
	(((entry) ? WEFT_PY_ENTRY : 0) | ((__u64)((id)&WEFT_PY_ID_MASK) << WEFT_PY_LASTI_BITS) | \
	 ((__u64)(lasti)&WEFT_PY_LASTI_MAX))
#define WEFT_PY_WORD_ID(w) (((w) >> WEFT_PY_LASTI_BITS) & WEFT_PY_ID_MASK)
#define WEFT_PY_WORD_LASTI(w) ((w)&WEFT_PY_LASTI_MAX)

/* How an entry frame is told: 3.11 has a flag byte (is_entry), 3.12 and
 * later push a frame owned by the C stack (owner == 3) before the first
 * frame an eval call runs */
enum weft_py_entry_kind {
	WEFT_PY_ENTRY_FLAG = 1,
	WEFT_PY_ENTRY_CSTACK_OWNER = 2,
	/* before 3.11, every Python call has an eval call of its own */
	WEFT_PY_ENTRY_EVERY = 3,
};

/* How a thread finds its PyThreadState in the interpreter's list */
enum weft_py_thread_match {
	/* native_thread_id (3.11+): the kernel's thread id */
	WEFT_PY_MATCH_TID = 0,
	/* thread_id (before 3.11): glibc's pthread_self(), which is the
	 * thread's fs base */
	WEFT_PY_MATCH_FSBASE = 1,
};

/* What the frame's instruction field holds */
enum weft_py_lasti_kind {
	WEFT_PY_LASTI_PTR = 0, /* a pointer into co_code_adaptive (3.11+) */
	WEFT_PY_LASTI_BYTES = 1, /* int f_lasti, a byte offset (3.8, 3.9) */
	WEFT_PY_LASTI_UNITS = 2, /* int f_lasti, in code units (3.10) */
};

/* Offsets in bytes of the fields the reader follows */
struct weft_py_offsets {
	__u32 runtime_interp_head; /* _PyRuntimeState.interpreters.head */
	__u32 interp_threads_head; /* PyInterpreterState.threads.head */
	__u32 tstate_next;
	/* native_thread_id, or thread_id (thread_match says which) */
	__u32 tstate_native_thread_id;
	/* 3.11, 3.12: tstate->cframe->current_frame (cframe_current_frame
	 * is then set); 3.13: tstate->current_frame, before 3.11
	 * tstate->frame (cframe_current_frame is WEFT_PY_NONE) */
	__u32 tstate_frame;
	__u32 cframe_current_frame;
	__u32 frame_previous;
	__u32 frame_code; /* f_code, f_executable (3.13) */
	__u32 frame_instr; /* prev_instr; instr_ptr (3.13); f_lasti before 3.11 */
	__u32 frame_entry; /* is_entry (3.11) or owner (3.12+), one byte */
	__u32 entry_kind; /* enum weft_py_entry_kind */
	__u32 code_qualname; /* co_name before 3.11 */
	__u32 code_filename;
	__u32 code_firstlineno;
	__u32 code_linetable; /* co_lnotab in 3.8 and 3.9 */
	__u32 code_adaptive; /* co_code_adaptive: the instructions */
	__u32 unicode_state;
	__u32 unicode_ascii_size; /* sizeof(PyASCIIObject): ASCII data follows */
	__u32 bytes_size; /* ob_size */
	__u32 bytes_sval;
	__u32 object_type; /* ob_type */
	__u32 thread_match; /* enum weft_py_thread_match */
	__u32 lasti_kind; /* enum weft_py_lasti_kind */
	__u32 reserved;
};

#define WEFT_PY_NONE 0xffffffffU

/* The value of the per-process map (key: tgid) */
struct weft_py_proc {
	__u64 runtime; /* the address of _PyRuntime */
	__u32 version; /* 0x030b for 3.11 */
	__u32 reserved;
	struct weft_py_offsets off;
	/* the address of PyCode_Type: a frame whose code is not a code
	 * object (3.13's shim frames run no code) is left out; 0: not known,
	 * every frame is kept */
	__u64 code_type;
};

struct weft_py_code_key {
	__u32 tgid;
	__s32 firstlineno;
	__u64 code; /* the code object's address */
	__u64 name; /* its co_qualname's address */
};

#define WEFT_PY_NAME_LEN 96
#define WEFT_PY_FILE_LEN 160
#define WEFT_PY_LINETABLE_LEN 1024

struct weft_py_code {
	__u64 id; /* what frames' words carry */
	__u32 version;
	__u32 linetable_len; /* bytes kept of co_linetable */
	__u32 linetable_full; /* its whole length */
	__s32 firstlineno;
	char qualname[WEFT_PY_NAME_LEN]; /* "" when it was not ASCII */
	char filename[WEFT_PY_FILE_LEN];
	__u8 linetable[WEFT_PY_LINETABLE_LEN];
};

/* FNV-1a over the key's fields: the code id both sides compute */
static inline __u64 weft_py_code_id(const struct weft_py_code_key *k)
{
	__u64 h = WEFT_FNV_BASIS;

	h = (h ^ k->tgid) * WEFT_FNV_PRIME;
	h = (h ^ (__u32)k->firstlineno) * WEFT_FNV_PRIME;
	h = (h ^ k->code) * WEFT_FNV_PRIME;
	h = (h ^ k->name) * WEFT_FNV_PRIME;
	h = (h ^ (h >> 29)) & WEFT_PY_ID_MASK;
	return h ? h : 1;
}

#endif /* __WEFT_PYTHON_H */
