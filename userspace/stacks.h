/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recording's stack table: every stack the records name, as a list of
 * addresses (leaf first) and, once symbolized, a name per frame.
 *
 * How a stack was obtained does not matter here: the recorder fills the
 * table from the kernel's stack-trace map (stack_table__read_map()), but
 * any list of addresses can be added (stack_table__set()), so a later
 * unwinder without frame pointers feeds the same table, symbolizer and
 * section.
 *
 * Keys: kernel stacks by their id; user stacks by (tgid, id), because one
 * id names one list of addresses, and the same addresses mean different
 * functions in two processes.
 *
 * Recorder lifecycle: stack_table__note_event() for every record drained
 * (a cheap set insert per stack id), then at the end read_map(),
 * symbolize() and encode() into the STACKS section. Reader lifecycle:
 * decode() each STACKS section, then get(). Frame names belong to the
 * table and live until stack_table__free(). Not thread-safe.
 *
 * The STACKS section is text, one stack per "s" line followed by its
 * frames, leaf first:
 *   s<TAB>u|k<TAB>TGID<TAB>ID<TAB>NFRAMES
 *   f<TAB>HEXADDR<TAB>NAME
 * NAME is the function ("do_work"), "module+0xOFFSET" when the address is
 * in a file without a symbol for it, or "[unknown]"; tabs and newlines in
 * names become '_'. Kernel stacks carry TGID 0.
 */
#ifndef __WEFT_STACKS_H
#define __WEFT_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct weft_event_header;
struct proc_maps;
struct syms_cache;
struct kallsyms;

#define STACK_UNKNOWN_FRAME "[unknown]"
/* META key: stack captures that failed in the kernel (map full, hash
 * collision, a fault other than "no frames of that kind") */
#define META_STACK_FAILURES "stack_failures"
#define META_STACK_ENTRIES "stack_entries"
#define META_SAMPLE_HZ "sample_hz"
#define META_USER_UNWIND "user_unwind" /* "tables" or "fp" */
#define META_STACK_EVERY "stack_every"

struct stack_frame {
	__u64 addr;
	const char *name; /* NULL until symbolized or decoded */
};

struct weft_stack {
	bool user;
	__u32 tgid; /* 0 for kernel stacks */
	__s32 id;
	unsigned int nframes;
	struct stack_frame *frames; /* leaf first */
};

struct stack_table;

struct stack_table *stack_table__new(void);
void stack_table__free(struct stack_table *t);

/* Notes that a record names this stack (id < 0, no stack, is ignored).
 * 0 or -ENOMEM. */
int stack_table__note(struct stack_table *t, bool user, __u32 tgid, __s32 id);
/* Notes the stack ids of one event record (switch, wakeup, sample, kernel
 * lock); records of other types are ignored. */
void stack_table__note_event(struct stack_table *t, const struct weft_event_header *h);
/* Sets the addresses of a stack (noting it if needed); replaces earlier
 * ones. 0 or -ENOMEM. */
int stack_table__set(struct stack_table *t, bool user, __u32 tgid, __s32 id, const __u64 *addrs,
		     unsigned int n);
#define STACKS_USER 0x1
#define STACKS_KERNEL 0x2
/* Reads the addresses of every noted stack of the kinds in `which` from a
 * BPF map of stacks of max_depth frames, zero-terminated when shorter (the
 * kernel's stack-trace map, or the unwinder's). Returns the number of
 * noted stacks the map did not hold (>= 0), or a negative errno. */
int stack_table__read_map(struct stack_table *t, int map_fd, unsigned int max_depth,
			  unsigned int which);

/* The maps snapshot to resolve a process's user addresses with (NULL:
 * none; its frames become "[unknown]"). */
typedef const struct proc_maps *(*stack_maps_fn)(void *ctx, __u32 tgid);

/* The name of JIT code at addr in process tgid, as its runtime wrote it
 * for perf (perf_map.h): true and *name (valid while the table is being
 * symbolized), or false. */
typedef bool (*stack_jit_fn)(void *ctx, __u32 tgid, __u64 addr, const char **name);
/* User frames the ELF symbols leave unnamed (JIT code in anonymous
 * memory, or in a mapping newer than the maps snapshot) are named by
 * jit_name at the next stack_table__symbolize(). NULL: none. */
void stack_table__set_jit_names(struct stack_table *t, stack_jit_fn jit_name, void *ctx);

/* Names every frame of every stack: user frames through maps_of and syms,
 * kernel frames through ks (either may be NULL: those frames are then
 * "[unknown]"). Return addresses (all frames but the leaf) are looked up
 * at addr - 1. 0 or -ENOMEM. */
int stack_table__symbolize(struct stack_table *t, stack_maps_fn maps_of, void *maps_ctx,
			   struct syms_cache *syms, const struct kallsyms *ks);

/* The section text (malloc'd, in *buf; the caller frees it); stacks with
 * no frames are left out. 0 or -ENOMEM. */
int stack_table__encode(const struct stack_table *t, char **buf, size_t *len);
/* Adds the stacks of one STACKS section; 0, -EINVAL on a malformed
 * section (the stacks before the fault are kept), -ENOMEM. */
int stack_table__decode(struct stack_table *t, const void *buf, size_t len);

/* The stack, or NULL when the table does not hold it. */
const struct weft_stack *stack_table__get(const struct stack_table *t, bool user, __u32 tgid,
					  __s32 id);
size_t stack_table__count(const struct stack_table *t);
const struct weft_stack *stack_table__at(const struct stack_table *t, size_t i);
/* The place of a stack the table holds (what stack_table__at() takes):
 * dense from 0, so consumers keep per-stack data in an array. */
size_t stack_table__index_of(const struct stack_table *t, const struct weft_stack *st);

/* Names frame f of the i-th stack (a copy of name); the Python loader
 * names Python frames so. 0, -EINVAL past the table, -ENOMEM. */
int stack_table__rename(struct stack_table *t, size_t i, unsigned int f, const char *name);

/* Whether the unwinder could not finish the stack's native frames (its
 * last native frame is WEFT_STACK_CUT_SHORT) */
bool weft_stack__cut_short(const struct weft_stack *st);

/* Whether the records showed tgid exec: its user frames must not be
 * resolved with a snapshot taken before (its parent's, say). */
bool stack_table__execed(const struct stack_table *t, __u32 tgid);

#endif /* __WEFT_STACKS_H */
