/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A recording's stacks as one pprof profile (profile.proto of
 * github.com/google/pprof), for go tool pprof, Pyroscope, Parca and
 * speedscope. Made from attributed stacks (stack_attrib.h), as the folded
 * writer is, so every sample type's total is that of weft flame's type:
 *
 *   samples/count     on-CPU samples           (flame --type oncpu)
 *   cpu/nanoseconds   the samples times their period
 *   off_cpu/nanoseconds  blocked time          (flame --type offcpu)
 *   lock/nanoseconds  waits on the analysis' locks (flame --type lock)
 *   runqueue/nanoseconds  only when some attributed interval was a run
 *                     queue wait (the analysis gives stacks to blocked
 *                     intervals only, so usually it is left out)
 *
 * Times stay in nanoseconds, not rounded: weft flame rounds each line to
 * microseconds, so the totals agree within 0.5 us per folded line.
 *
 * A sample is one thread's records with the same stacks (and, off the CPU,
 * the same reason and address): labels pid, tid (numbers), comm, and off
 * the CPU reason (waits.h's names) and lock (the locks table's name, or
 * its kind and address). Locations are leaf first: kernel frames (their
 * "_[k]" taken off, mapping 2, "[kernel.kallsyms]"), then user frames,
 * then the root frame --by asks for (as weft flame's). Every location has
 * one line of one function; interpreter frames ("name (file.py:LINE)")
 * give the function its file and the line its number. Both mappings say
 * has_functions, so pprof does not symbolize again.
 *
 * Lifecycle: pprof__new() subscribes to a stack_attrib (which must outlive
 * it); the events go through the stack_attrib; pprof__finish() with the
 * analysis' metrics (it finishes the stack_attrib); then pprof__encode()
 * and pprof__write_gzip(). Memory grows with distinct (thread, stack)
 * pairs, not with events.
 */
#ifndef __WEFT_PPROF_H
#define __WEFT_PPROF_H

#include <stdio.h>
#include <linux/types.h>

#include "flame.h"

struct pb_buf;
struct stack_attrib;
struct weft_metrics;

enum pprof_type {
	PPROF_SAMPLES,
	PPROF_CPU,
	PPROF_OFFCPU,
	PPROF_LOCK,
	PPROF_RUNQUEUE,
	PPROF_NR_TYPES,
};

struct pprof_opts {
	enum flame_by by;
	unsigned int sample_hz; /* of the on-CPU samples; 0: weft record's default, 99 */
	/* The recording took no stacks (--no-stacks): the profile is empty,
	 * where weft flame gives the blocked time to one "[unknown]" frame
	 * per process; a profile of nothing but unknown frames would only
	 * mislead */
	bool no_stacks;
};

struct pprof_meta {
	const char *main_file; /* mapping 1's file name: the command */
	const char *const *comments; /* NULL-terminated, may be NULL */
	__s64 time_nanos, duration_nanos;
};

struct pprof;

/* NULL and errno on failure (ENOSPC: a has no room for one more consumer) */
struct pprof *pprof__new(const struct pprof_opts *opts, struct stack_attrib *a);
void pprof__free(struct pprof *p);
/* Makes the samples (m for the locks table); 0 or -ENOMEM */
int pprof__finish(struct pprof *p, const struct weft_metrics *m);

/* After finish: the sum of each type's values, and whether a type is in
 * the profile (runqueue only where it has stacks) */
__u64 pprof__total(const struct pprof *p, enum pprof_type t);
bool pprof__has_type(const struct pprof *p, enum pprof_type t);
size_t pprof__samples(const struct pprof *p);

/* The Profile message, not compressed, into out; 0 or -ENOMEM */
int pprof__encode(struct pprof *p, const struct pprof_meta *meta, struct pb_buf *out);
/* data gzipped (as pprof reads it) to out; 0, -ENOMEM or -EIO */
int pprof__write_gzip(const void *data, size_t len, FILE *out);

#endif /* __WEFT_PPROF_H */
