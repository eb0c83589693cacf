/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A recording read and analysed: the file's metadata turned into the
 * analysis options, every event fed in time order, the metrics kept. Every
 * subcommand that reports from a file (report, compare, ...) starts here. */
#ifndef __WEFT_RECORDING_H
#define __WEFT_RECORDING_H

#include <stddef.h>

struct analysis_opts;
struct recording;
struct weft_file;
struct weft_metrics;

/* NULL with one line in err (which names the file) when the file cannot be
 * read or is corrupt. A truncated file is analysed up to its last whole
 * section, and a warning naming it goes to stderr. */
struct recording *recording_analyze(const char *path, char *err, size_t errlen);
/* The file opened and its metadata turned into analysis options, for a
 * caller that feeds the events itself (weft timeline reads them through
 * recording_file()); nothing is analysed. *opts (the command and the lock
 * names too) belongs to rec and lives until recording_free(). Errors and
 * the truncation warning as recording_analyze(). */
struct recording *recording_open(const char *path, const struct analysis_opts **opts, char *err,
				 size_t errlen);
/* NULL after recording_open() */
const struct weft_metrics *recording_metrics(const struct recording *rec);
struct weft_file *recording_file(const struct recording *rec);
void recording_free(struct recording *rec);

#endif /* __WEFT_RECORDING_H */
