/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The report writers: one struct weft_metrics to text (for a terminal, in
 * 80 columns), JSON (DESIGN.md's stable keys) or markdown (tables for an
 * issue or a pull request). They only format: every figure comes from the
 * metrics, computed once by the analysis, and from the stack summary.
 *
 * Each returns 0 or a negative errno (-EIO when the stream failed); the
 * stream is not closed.
 */
#ifndef __WEFT_OUTPUT_H
#define __WEFT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis.h"

struct stack_capture;
struct stack_summary;
struct waitfor;
struct critical;

struct output_opts {
	bool threads; /* per-thread and per-process tables */
	bool cpus; /* per-CPU table */
	/* How stacks were taken, and with threads, each process's top
	 * functions and off-CPU stacks; NULL: the report says nothing of
	 * stacks (JSON: null) */
	const struct stack_summary *stacks;
	/* The wait-for graph (waitfor.h), finished, or NULL: the locks get
	 * their top holders, JSON its wait_for and knots */
	const struct waitfor *waits;
	bool wait_edges; /* text: the top wait-for edges and the knots */
	/* The critical path (critical.h), finished, or NULL: JSON's
	 * critical_path, text's and markdown's summary of it */
	const struct critical *critical;
};

/* Wait-for edges the text report lists (JSON lists them all) */
#define OUTPUT_EDGES_SHOWN 15
/* Holders each lock lists (text, markdown and JSON) */
#define OUTPUT_HOLDERS_SHOWN 3

/* The text report's width: the summary wraps to it. */
#define OUTPUT_TEXT_COLUMNS 80
/* Locks the text and markdown reports list (JSON lists them all) */
#define OUTPUT_LOCKS_SHOWN 5

/* part of whole, 0 when whole is */
static inline double output_share(double part, double whole)
{
	return whole > 0 ? part / whole : 0;
}

int output_text(FILE *out, const struct weft_metrics *m, const struct output_opts *o);
/* Always lists cpus, processes and threads, whatever o says: a JSON
 * consumer gets every stable key. Each process's stacks are there when the
 * summary computed them, else null. */
int output_json(FILE *out, const struct weft_metrics *m, const struct output_opts *o);
int output_markdown(FILE *out, const struct weft_metrics *m, const struct output_opts *o);

/* Shared by the writers (output_common.c). */

/* A duration in the unit that reads best: "2.013 s", "1.20 ms", "12.0 us",
 * "850 ns". Returns buf. */
char *output_fmt_duration(char *buf, size_t size, double s);
/* The command as a shell would take it back (arguments quoted where
 * needed), with control characters shown as '?'. malloc'd; NULL and errno
 * on failure. */
char *output_command_line(const struct weft_metrics *m);
/* src with control characters as '?', for a terminal or a table cell. */
void output_sanitize(char *dst, size_t size, const char *src);
/* How the stacks were taken, in one sentence ("user stacks by unwind
 * tables, ..., 3 of 120 user stacks cut short (2.1% of off-CPU time)").
 * Returns buf. */
char *output_stacks_line(char *buf, size_t size, const struct stack_capture *c);
/* What a newer weft's recording held that this weft could not read
 * ("12 records and 1 section of kinds this weft does not know were left
 * out (recorded by a newer weft); figures may be incomplete"). Returns
 * buf. */
char *output_unread_line(char *buf, size_t size, const struct weft_metrics *m);

/* -o FILE of the commands that read recordings: written as
 * FILE.tmp.XXXXXX, with the mode a new file gets, and renamed over FILE
 * only once whole, so that a failed or interrupted run leaves FILE as it
 * was and no half file. */
struct output_file {
	FILE *f;
	char *tmp;
	const char *path;
};
/* o->f, or NULL after one line on stderr; path "-" is standard output, and
 * a path that is not a regular file (a device, a FIFO) is written in place */
FILE *output_file__open(struct output_file *o, const char *path);
/* What the messages call it: its path, or "standard output" */
const char *output_file__name(const struct output_file *o);
/* ok: flushed, closed and renamed into place (0, or -errno after one line
 * on stderr); else closed and removed. Safe on one never opened. */
int output_file__close(struct output_file *o, bool ok);

#endif /* __WEFT_OUTPUT_H */
