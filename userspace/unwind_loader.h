/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Feeds the BPF unwinder (bpf/unwind.h): compiles the unwind table of each
 * object the traced processes map, once per file, appends its rows to the
 * rows map through a shared memory mapping, and gives each process the
 * list of its executable mappings with their load biases.
 *
 * Lifecycle: unwind_loader__new() once the BPF object is loaded;
 * unwind_loader__update() after each fresh maps snapshot of a process
 * (at exec, then periodically); unwind_loader__free() at the end. An
 * object whose table cannot be compiled, or no longer fits, is given no
 * rows: the programs step through it by frame pointers. Not thread-safe.
 */
#ifndef __WEFT_UNWIND_LOADER_H
#define __WEFT_UNWIND_LOADER_H

#include <stddef.h>
#include <sys/types.h>

struct proc_maps;
struct unwind_loader;

struct unwind_loader_stats {
	size_t objects; /* distinct executable files seen */
	size_t objects_with_rows;
	size_t rows; /* rows in use */
	size_t rows_max;
	size_t objects_too_big; /* tables the rows map had no room for */
	size_t mappings_dropped; /* past WEFT_UNWIND_MAX_MAPPINGS in a process */
	double compile_s; /* time spent compiling tables */
};

/* rows_fd: the BPF_F_MMAPABLE rows array of max_rows entries; procs_fd:
 * the per-process hash; objects_fd: the hash of objects by file. NULL and
 * errno on failure. */
struct unwind_loader *unwind_loader__new(int rows_fd, size_t max_rows, int procs_fd,
					 int objects_fd);
void unwind_loader__free(struct unwind_loader *l);

/* Compiles the tables of the executable files mapped in m, without
 * giving any process a mapping list (tables the processes are about to
 * need). */
void unwind_loader__prepare(struct unwind_loader *l, const struct proc_maps *m);
/* Compiles the tables of the executable file mappings in m (the process
 * tgid's maps, read now) that are new, and writes the process's mapping
 * list. 0 or a negative errno (the map update's). */
int unwind_loader__update(struct unwind_loader *l, pid_t tgid, const struct proc_maps *m);

void unwind_loader__stats(const struct unwind_loader *l, struct unwind_loader_stats *out);

#endif /* __WEFT_UNWIND_LOADER_H */
