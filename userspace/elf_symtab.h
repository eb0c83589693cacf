/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The symbols and load segments of one ELF file, read once with libelf and
 * kept in sorted arrays so that a lookup is a binary search. Internal to the
 * symbolizer (symbols.c); the rest of weft uses symbols.h.
 *
 * Function symbols (STT_FUNC, STT_GNU_IFUNC) and data symbols (STT_OBJECT,
 * STT_COMMON) are kept apart: a code address never resolves to a variable
 * and a lock address never to a function. STT_TLS symbols are left out:
 * their value is an offset in each thread's TLS block, not an address in
 * the file's mapping.
 *
 * Where several symbols share an address, one name is kept: STB_GLOBAL
 * before STB_WEAK before STB_LOCAL, then the shortest, then the first in
 * strcmp() order, so the same file always gives the same name. Version
 * suffixes ("memcpy@@GLIBC_2.14") are cut off. A symbol of size 0 ends
 * where the next one starts (and never past its load segment).
 *
 * Lifecycle: elf_symtab__open() reads everything it needs and closes what
 * it opened; the result holds no file descriptor and no libelf handle.
 * Names returned by elf_symtab__find() live until elf_symtab__free().
 */
#ifndef __WEFT_ELF_SYMTAB_H
#define __WEFT_ELF_SYMTAB_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>

/* A PT_LOAD program header: file bytes [offset, offset + filesz) appear at
 * [vaddr, vaddr + filesz) before relocation, the rest up to memsz is
 * zero-filled (.bss). */
struct elf_segment {
	unsigned long long offset;
	unsigned long long vaddr;
	unsigned long long filesz;
	unsigned long long memsz;
	unsigned int flags; /* PF_R, PF_W, PF_X */
};

#define ELF_BUILD_ID_MAX 64

struct elf_symtab;

/* Reads the ELF file open on fd (the caller keeps and closes fd). path is
 * where the file was found (as in /proc/PID/maps): its folder is where a
 * .gnu_debuglink file is looked for. When the file has no .symtab, its
 * separate debug file is looked for under debug_root (NULL: none) by
 * build-id (DEBUG_ROOT/.build-id/ab/cdef....debug), then by .gnu_debuglink
 * (DIR/NAME, DIR/.debug/NAME, DEBUG_ROOT/DIR/NAME; its CRC, or its build-id
 * when both files have one, must match). .dynsym is always read too.
 * NULL and errno on failure (EINVAL: not an ELF file). */
struct elf_symtab *elf_symtab__open(int fd, const char *path, const char *debug_root);

/* The same for an ELF image in memory (the vDSO); the image is copied. */
struct elf_symtab *elf_symtab__from_memory(const void *image, size_t size);

void elf_symtab__free(struct elf_symtab *s);

const struct elf_segment *elf_symtab__segments(const struct elf_symtab *s, size_t *cnt);

/* The PT_LOAD segments of an open ELF file, for readers that need no
 * symbols (the unwind tables): *segs is malloc'd, the caller frees it.
 * 0 or -ENOMEM; a file without program headers gives none. */
int elf_segments__read(Elf *elf, struct elf_segment **segs, size_t *n);
/* The segment a mapping at file offset pgoff maps: the one whose file
 * pages hold the mapping's first byte; where two share a page (old
 * linkers put code and data in one), the one whose executable flag
 * matches exec, then the later. NULL when none. */
const struct elf_segment *elf_segments__for_mapping(const struct elf_segment *segs, size_t n,
						    unsigned long long pgoff, bool exec);

/* Finds the symbol whose [start, end) holds vaddr (a link-time address,
 * before load bias) among functions or, if data, among data symbols.
 * Returns its name and sets *start, or NULL when no symbol holds it. */
const char *elf_symtab__find(const struct elf_symtab *s, unsigned long long vaddr, bool data,
			     unsigned long long *start);

#endif /* __WEFT_ELF_SYMTAB_H */
