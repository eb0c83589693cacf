/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recorder's side of Python frames (bpf/python.h): finds a CPython in
 * each traced process's maps, tells the BPF reader where its _PyRuntime is
 * and the offsets of its version, and at the end names the Python frames
 * of every user stack from the code objects the reader copied.
 *
 * Lifecycle: python_loader__new() once the BPF object is loaded;
 * python_loader__update() after each fresh maps snapshot of a process
 * (a process is looked at again only when the file it runs changed: an
 * exec); python_loader__name() once, after the stack table is symbolized;
 * python_loader__free(). A version weft does not know is said once on
 * stderr, and that process's stacks stay native. Not thread-safe.
 */
#ifndef __WEFT_PYTHON_LOADER_H
#define __WEFT_PYTHON_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "python.h"

struct proc_maps;
struct stack_table;
struct python_loader;

/* META key: the CPython versions found, "3.11,3.12" */
#define META_PYTHON "python"

/* procs_fd, code_fd: the py_procs and pycode maps */
struct python_loader *python_loader__new(int procs_fd, int code_fd);
void python_loader__free(struct python_loader *pl);

/* Looks for a CPython in tgid's maps; 0, or a negative errno of the map
 * update (a process without CPython is 0) */
int python_loader__update(struct python_loader *pl, pid_t tgid, const struct proc_maps *m);

/* Names the Python frames of every user stack in t (after
 * stack_table__symbolize()): "qualname (file.py:LINE)". 0 or -ENOMEM. */
int python_loader__name(struct python_loader *pl, struct stack_table *t);

/* "GIL (CPython 3.11)" when addr lies in tgid's interpreter's GIL, else
 * NULL */
const char *python_loader__lock_name(const struct python_loader *pl, __u32 tgid, __u64 addr);

/* The versions found, comma-separated ("" when none); owned by pl */
const char *python_loader__versions(struct python_loader *pl);

/* The offsets of a CPython version from its headers (3.11, 3.12, 3.13);
 * false for a version not in the table */
bool python_offsets__of(unsigned int version, struct weft_py_offsets *off);

#endif /* __WEFT_PYTHON_LOADER_H */
