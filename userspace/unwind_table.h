/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Unwind tables: the .eh_frame CFI of one x86-64 ELF object compiled into
 * the rows of bpf/unwind.h, and the reference unwinder that the BPF
 * programs mirror step for step.
 *
 * Compiling. Each FDE's CFA instructions run (its CIE's initial
 * instructions first), and a row is emitted wherever the rule changes;
 * consecutive rows with the same rule are merged, so rows are strictly
 * sorted by pc. Where an FDE ends and the next does not start, a
 * WEFT_CFA_GAP row starts the gap; the last FDE is always followed by
 * one, so a pc past every function finds no rule (the BPF walk takes a
 * frame-pointer step there: code without CFI, as V8's builtins). Overlapping FDEs: they
 * are taken in order of start address (of equal starts, the first in the
 * section), and an FDE that starts before the end of the one kept before
 * it is dropped whole. FDEs of length zero are ignored.
 *
 * The rule of a row, from the DWARF rules at that pc:
 *  - return address column (the CIE's, normally 16) undefined:
 *    WEFT_CFA_END (offsets 0); saved at CFA-8: go on; any other rule:
 *    WEFT_CFA_UNKNOWN (offsets 0).
 *  - CFA = rsp (reg 7) + N: WEFT_CFA_RSP; rbp (reg 6) + N: WEFT_CFA_RBP;
 *    N must fit in __s16. The PLT expression (DW_OP_breg7 N; DW_OP_breg16
 *    0; DW_OP_lit15; DW_OP_and; DW_OP_litK; DW_OP_ge; DW_OP_lit3;
 *    DW_OP_shl; DW_OP_plus): WEFT_CFA_PLT, cfa_offset N, rbp_offset8 K,
 *    and only while rbp keeps its value (PLT code never saves it). Any
 *    other register or expression: WEFT_CFA_UNKNOWN.
 *  - rbp unchanged (no rule, DW_CFA_same_value): WEFT_RBP_SAME; saved at
 *    CFA+N with N a nonzero multiple of 8 and N/8 in [-127, 127]: N/8;
 *    anything else (another register, an expression, val_*, undefined):
 *    WEFT_RBP_UNKNOWN.
 *
 * Pointer encodings: absptr, (u|s)leb128, (u|s)data2/4/8; pcrel is
 * relative to the encoded field, textrel to .text and datarel to .got (as
 * the LSB says; no x86-64 toolchain emits either); indirect only for the
 * personality routine, which is skipped. CIE versions 1, 3 and 4;
 * augmentations z, R, P, L, S (unknown letters after z are skipped with
 * the augmentation data); 32- and 64-bit entry lengths. Every read is
 * bounds-checked: malformed CFI fails with -EINVAL, without a message.
 *
 * Lifecycle: a table owns its rows; unwind_table__release() frees them
 * and leaves an empty table. A failed compile leaves *out empty.
 */
#ifndef __WEFT_UNWIND_TABLE_H
#define __WEFT_UNWIND_TABLE_H

#include <libelf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "unwind.h"

struct unwind_table {
	struct weft_unwind_row *rows; /* strictly sorted by pc, malloc'd; NULL when empty */
	size_t count;
};

/* An .eh_frame section as loaded: its bytes and the addresses its
 * pointer encodings are relative to. */
struct eh_frame_section {
	const void *data;
	size_t size;
	__u64 vaddr; /* of data[0], the base of pcrel pointers */
	__u64 text_vaddr; /* .text: the base of textrel pointers */
	__u64 got_vaddr; /* .got: the base of datarel pointers */
};

/* Compiles the .eh_frame of an x86-64 ELF object. 0; -ENOENT: no
 * .eh_frame (or one without bytes, as in a debug file); -EINVAL:
 * malformed CFI, or not a 64-bit x86-64 object; -E2BIG: an FDE reaching
 * past 0xffffffff (rows hold 32-bit addresses, and its end needs a row);
 * -ENOMEM. A section holding no FDE gives an empty table and 0. */
int unwind_table__from_elf(Elf *elf, struct unwind_table *out);

/* The same for the file at path, opened with libelf and closed again;
 * -errno when it cannot be opened, -EINVAL when it is not ELF. */
int unwind_table__from_file(const char *path, struct unwind_table *out);

/* The same for a raw section (tests feed it hand-made and damaged CFI). */
int unwind_table__from_eh_frame(const struct eh_frame_section *sec, struct unwind_table *out);

/* Frees the rows; t is left empty. NULL is fine. */
void unwind_table__release(struct unwind_table *t);

/* The row covering object address pc: the last row with row.pc <= pc,
 * or NULL when pc is before the first row (or n is 0). */
const struct weft_unwind_row *unwind_table__find(const struct weft_unwind_row *rows, size_t n,
						 __u64 pc);

/* A frame: where it executes, its stack pointer, and its rbp (for a
 * caller: the value rbp will have again once control returns to it). */
struct unwind_regs {
	__u64 pc, sp, bp;
};

/* Reads 8 bytes of the stack at addr: 0, or -EFAULT. */
typedef int (*unwind_read_fn)(void *ctx, __u64 addr, __u64 *val);

/* One step from the frame in *r to its caller, with the rows of the
 * object that contains r->pc, loaded at bias (object address = process
 * address - bias). The exact rules, which the BPF programs follow:
 *  1. lookup = r->pc - bias, minus 1 unless leaf (a return address
 *     points after its call, maybe into the next function; leaf: r->pc
 *     is where the thread is, frame 0). -ENOENT when r->pc < bias (or
 *     r->pc == bias and not leaf), lookup > 0xffffffff, or lookup is
 *     before the first row.
 *  2. The row of lookup (unwind_table__find). WEFT_CFA_END: return 0, the
 *     stack ends here whole. WEFT_CFA_UNKNOWN: -ENOENT. WEFT_CFA_GAP (and
 *     a lookup before the first row): -ENOENT here; the BPF walk takes a
 *     frame-pointer step instead, as it does for a pc in no mapping.
 *  3. cfa = r->sp + cfa_offset (RSP), r->bp + cfa_offset (RBP), or for
 *     PLT r->sp + cfa_offset + (((r->pc & 15) >= rbp_offset8) ? 8 : 0),
 *     with the frame's own pc, not the lookup (PLT entries are 16-byte
 *     aligned in the file and in memory).
 *  4. ra = the 8 bytes at cfa - 8. The caller's bp: r->bp for
 *     WEFT_RBP_SAME (and for PLT rows), the 8 bytes at cfa + 8 *
 *     rbp_offset8 for an offset, 0 for WEFT_RBP_UNKNOWN (so a caller that
 *     needs rbp fails to read rather than use a wrong value).
 *  5. Either read failing: -EFAULT, *r unchanged. Else *r = { ra, cfa,
 *     caller's bp } and return 1.
 * All arithmetic wraps at 64 bits. */
int unwind__step(const struct weft_unwind_row *rows, size_t n, __u64 bias, struct unwind_regs *r,
		 bool leaf, unwind_read_fn read, void *ctx);

#endif /* __WEFT_UNWIND_TABLE_H */
