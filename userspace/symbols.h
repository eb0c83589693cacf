/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The symbolizer: turns user addresses (through a snapshot of the
 * process's /proc/PID/maps and the ELF files it names) and kernel addresses
 * (through /proc/kallsyms) into {function, module, offset}. It runs at the
 * end of a recording, on the machine that ran the program; the results go
 * into the recording, so reports never need the machine again.
 *
 * Objects and lifecycle:
 * - struct syms_cache holds every ELF file it has read, keyed by the
 *   (device, inode, path) of the maps line that named it, so the libc of a
 *   hundred processes is read once. A file that could not be read is
 *   remembered too (as "no symbols"). Not thread-safe: use one cache per
 *   thread, or a lock around it.
 * - struct proc_maps is one parsed snapshot of /proc/PID/maps. A process
 *   that execs gets a new snapshot; use the one taken while the address
 *   was live. A snapshot may be freed before or after the cache.
 * - struct kallsyms is one parsed /proc/kallsyms.
 * - Strings in a struct sym_result are owned by the cache (or the
 *   kallsyms) that filled it and stay valid until syms_cache__free() (or
 *   kallsyms__free()); they never point into a struct proc_maps.
 *
 * Errors: functions returning int return 0 or a negative errno; an
 * address that does not resolve is not an error (found is false).
 * Constructors return NULL and set errno. Every *__free() accepts NULL.
 */
#ifndef __WEFT_SYMBOLS_H
#define __WEFT_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sym_result {
	/* The symbol's name, or NULL when not found. */
	const char *name;
	/* The mapped file's path (without " (deleted)"), "[kernel]" or
	 * "[MODNAME]" for kernel addresses, "[vdso]", or when the address is in
	 * no file: "[heap]", "[stack]", "[anon]" (any other anonymous or
	 * special mapping) or "[unknown]" (in no mapping at all). Never NULL
	 * after a successful call. */
	const char *module;
	/* found: addr - symbol start. Not found in a file: the offset in the
	 * file (print "module+0xoffset"). Not found elsewhere: addr - start
	 * of the mapping, or addr itself for "[unknown]". */
	unsigned long long offset;
	bool found;
};

struct syms_cache_opts {
	/* Root of separate debug files: ROOT/.build-id/ab/cdef....debug and
	 * ROOT/DIR/NAME for a .gnu_debuglink. NULL: "/usr/lib/debug". "":
	 * none (a .gnu_debuglink is still looked for next to the file). */
	const char *debug_root;
};

struct syms_cache *syms_cache__new(void);
/* opts may be NULL (the defaults). */
struct syms_cache *syms_cache__new_opts(const struct syms_cache_opts *opts);
void syms_cache__free(struct syms_cache *c);

/* Parses the text of /proc/PID/maps as read (len bytes, need not be
 * NUL-terminated). Empty text is a valid snapshot with no mapping (a
 * zombie's). Any malformed line: NULL and errno EINVAL. */
struct proc_maps *proc_maps__parse(const char *maps_text, size_t len);
/* Reads and parses /proc/PID/maps now, and remembers pid as with
 * proc_maps__set_pid(). */
struct proc_maps *proc_maps__read(pid_t pid);
/* Lets lookups read files through /proc/PID/map_files/START-END (the very
 * file mapped, even deleted or replaced; needs CAP_SYS_ADMIN) and
 * /proc/PID/root/PATH (another mount namespace) while the process is
 * alive. A file found so must still match the snapshot's device and inode,
 * so a recycled pid or an exec since the snapshot does no harm. 0: none. */
void proc_maps__set_pid(struct proc_maps *m, pid_t pid);
size_t proc_maps__count(const struct proc_maps *m);
void proc_maps__free(struct proc_maps *m);

/* One line of a snapshot; path points into the snapshot. */
struct proc_mapping {
	unsigned long long start, end, pgoff, ino;
	unsigned int major, minor;
	bool exec;
	bool file; /* backed by a file named by path (not [heap], [vdso], ...) */
	const char *path;
};
/* The i-th mapping, in address order; false past the last. */
bool proc_maps__get(const struct proc_maps *m, size_t i, struct proc_mapping *out);
/* Opens the file of the i-th mapping for reading, checked to be the very
 * file mapped (same device and inode; see proc_maps__set_pid()): an fd,
 * or -1 when the file is gone or replaced. */
int proc_maps__open(const struct proc_maps *m, size_t i);

/* Resolves addr, an address in the process whose snapshot is m.
 *
 * data false: a code address, looked up among function symbols. The
 * caller passes the address to name: for a return address taken from a
 * stack (every frame but the leaf), pass addr - 1 so that a call that is
 * the last instruction of a function is not named after the next one.
 *
 * data true: a data address (a lock), looked up among STT_OBJECT symbols
 * with their sizes, including .bss that lies in the anonymous mapping
 * right after the file's last mapping: "gil" at offset 0x28.
 *
 * The file is read through the path in the snapshot (or /proc/PID/...,
 * see proc_maps__set_pid()); a file that is gone, replaced (same device,
 * other inode), unreadable or no ELF gives found false with the module
 * and file offset. Symbols come from .symtab, else from the separate debug
 * file (build-id, then .gnu_debuglink), and .dynsym.
 * Returns 0, or -EINVAL for a NULL argument, -ENOMEM. */
int syms_cache__resolve_user(struct syms_cache *c, const struct proc_maps *m,
			     unsigned long long addr, bool data, struct sym_result *out);

/* Parses a kallsyms file (normally "/proc/kallsyms"). Text and data
 * symbols are kept; absolute and undefined ones are not. When every
 * address reads 0 (kptr_restrict, not root): NULL and errno EPERM. A file
 * with no symbol line: NULL and errno EINVAL. */
struct kallsyms *kallsyms__load(const char *path);
/* Finds the nearest symbol at or below addr (kallsyms has no sizes).
 * module is "[kernel]" or "[MODNAME]" as in the file. Below the first
 * symbol: found false, module "[kernel]", offset = addr. Returns 0 or
 * -EINVAL. */
int kallsyms__resolve(const struct kallsyms *k, unsigned long long addr, struct sym_result *out);
/* Number of distinct symbol addresses kept. */
size_t kallsyms__count(const struct kallsyms *k);
void kallsyms__free(struct kallsyms *k);

#endif /* __WEFT_SYMBOLS_H */
