// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/types.h>

#include "unwind.h"
#include "symbols.h"
#include "unwind_loader.h"
#include "elf_symtab.h"
#include "unwind_table.h"

/* One executable file, compiled once: where its rows went and how file
 * offsets map to its addresses */
struct object {
	unsigned long long ino;
	unsigned int major, minor;
	__u32 row_begin, row_count;
	struct elf_segment *segs; /* its load segments, malloc'd */
	size_t nsegs;
};

struct unwind_loader {
	int procs_fd, objects_fd;
	struct weft_unwind_row *rows; /* the rows map, mapped */
	size_t rows_len; /* bytes mapped */
	size_t max_rows, used_rows;
	struct object *objects;
	size_t nobjects, cap;
	struct unwind_loader_stats stats;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct unwind_loader *unwind_loader__new(int rows_fd, size_t max_rows, int procs_fd, int objects_fd)
{
	struct unwind_loader *l = calloc(1, sizeof(*l));
	long page = sysconf(_SC_PAGESIZE);

	if (!l)
		return NULL;
	elf_version(EV_CURRENT);
	l->procs_fd = procs_fd;
	l->objects_fd = objects_fd;
	l->max_rows = max_rows;
	l->rows_len = (max_rows * sizeof(struct weft_unwind_row) + page - 1) / page * page;
	l->rows = mmap(NULL, l->rows_len, PROT_READ | PROT_WRITE, MAP_SHARED, rows_fd, 0);
	if (l->rows == MAP_FAILED) {
		free(l);
		return NULL;
	}
	l->stats.rows_max = max_rows;
	return l;
}

void unwind_loader__free(struct unwind_loader *l)
{
	size_t i;

	if (!l)
		return;
	munmap(l->rows, l->rows_len);
	for (i = 0; i < l->nobjects; i++)
		free(l->objects[i].segs);
	free(l->objects);
	free(l);
}

static struct object *find_object(struct unwind_loader *l, const struct proc_mapping *pm)
{
	size_t i;

	for (i = 0; i < l->nobjects; i++)
		if (l->objects[i].ino == pm->ino && l->objects[i].major == pm->major &&
		    l->objects[i].minor == pm->minor)
			return &l->objects[i];
	return NULL;
}

/* For the programs' own lookup of a mapping, before the process has a
 * list (unwind.h): the object by file, and where its code is. */
static void publish_object(struct unwind_loader *l, const struct object *o)
{
	struct weft_unwind_object_key key = {
		.dev = o->major << 20 | o->minor,
		.ino = o->ino,
	};
	struct weft_unwind_object value = {
		.row_begin = o->row_begin,
		.row_count = o->row_count,
	};
	size_t i;

	for (i = 0; i < o->nsegs; i++)
		if (o->segs[i].flags & PF_X) {
			value.vaddr_minus_offset = (__s64)(o->segs[i].vaddr - o->segs[i].offset);
			bpf_map_update_elem(l->objects_fd, &key, &value, BPF_ANY);
			return;
		}
}

/* The rows go in only whole: a table cut to fit would send frames past
 * its end to the wrong rules. */
static void compile_object(struct unwind_loader *l, const struct proc_maps *m, size_t i,
			   struct object *o)
{
	struct unwind_table table = {};
	double start = now_s();
	int fd = proc_maps__open(m, i);
	Elf *elf;

	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && !elf_segments__read(elf, &o->segs, &o->nsegs)) {
		if (!unwind_table__from_elf(elf, &table) && table.count) {
			if (table.count <= l->max_rows - l->used_rows) {
				memcpy(l->rows + l->used_rows, table.rows,
				       table.count * sizeof(*table.rows));
				o->row_begin = (__u32)l->used_rows;
				o->row_count = (__u32)table.count;
				l->used_rows += table.count;
				l->stats.objects_with_rows++;
				publish_object(l, o);
			} else {
				l->stats.objects_too_big++;
			}
		}
		unwind_table__release(&table);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	l->stats.compile_s += now_s() - start;
}

static struct object *object_of(struct unwind_loader *l, const struct proc_maps *m, size_t i,
				const struct proc_mapping *pm)
{
	struct object *o = find_object(l, pm), *grown;

	if (o)
		return o;
	if (l->nobjects == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 32;
		grown = realloc(l->objects, l->cap * sizeof(*grown));
		if (!grown)
			return NULL;
		l->objects = grown;
	}
	o = &l->objects[l->nobjects++];
	memset(o, 0, sizeof(*o));
	o->ino = pm->ino;
	o->major = pm->major;
	o->minor = pm->minor;
	l->stats.objects++;
	compile_object(l, m, i, o);
	return o;
}

/* Process address = object address + bias, from the load segment the
 * mapping maps (chosen as the symbolizer chooses it) */
static bool mapping_bias(const struct object *o, const struct proc_mapping *pm, __u64 *bias)
{
	const struct elf_segment *s = elf_segments__for_mapping(o->segs, o->nsegs, pm->pgoff, true);

	if (!s)
		return false;
	*bias = pm->start - (s->vaddr - (s->offset - pm->pgoff));
	return true;
}

static bool unwindable(const struct proc_mapping *pm)
{
	return pm->exec && pm->file && pm->ino;
}

void unwind_loader__prepare(struct unwind_loader *l, const struct proc_maps *m)
{
	struct proc_mapping pm;
	size_t i;

	for (i = 0; proc_maps__get(m, i, &pm); i++)
		if (unwindable(&pm))
			object_of(l, m, i, &pm);
}

int unwind_loader__update(struct unwind_loader *l, pid_t tgid, const struct proc_maps *m)
{
	struct weft_unwind_proc *proc = calloc(1, sizeof(*proc));
	struct proc_mapping pm;
	__u32 key = (__u32)tgid;
	struct object *o;
	size_t i;
	int err;

	if (!proc)
		return -ENOMEM;
	for (i = 0; proc_maps__get(m, i, &pm); i++) {
		struct weft_unwind_mapping *out;

		if (!unwindable(&pm))
			continue;
		if (proc->count == WEFT_UNWIND_MAX_MAPPINGS) {
			l->stats.mappings_dropped++;
			continue;
		}
		o = object_of(l, m, i, &pm);
		out = &proc->maps[proc->count];
		out->start = pm.start;
		out->end = pm.end;
		if (o && o->row_count && mapping_bias(o, &pm, &out->bias)) {
			out->row_begin = o->row_begin;
			out->row_count = o->row_count;
		}
		proc->count++;
	}
	/* Always written: the programs drop a process's list at its exec
	 * and exit, so a copy of what was last given could go stale. The
	 * snapshot is in address order already, as the search needs. */
	err = bpf_map_update_elem(l->procs_fd, &key, proc, BPF_ANY) ? -errno : 0;
	free(proc);
	return err;
}

void unwind_loader__stats(const struct unwind_loader *l, struct unwind_loader_stats *out)
{
	*out = l->stats;
	out->rows = l->used_rows;
}
