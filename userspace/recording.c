// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "analysis.h"
#include "event_reader.h"
#include "events.h"
#include "file.h"
#include "kv.h"
#include "lock_names.h"
#include "log.h"
#include "output.h"
#include "recording.h"
#include "recording_meta.h"
#include "stacks.h"

struct recording {
	struct weft_file *file;
	struct weft_analysis *analysis;
	const struct weft_metrics *metrics;
	char **command;
	struct lock_names *lock_names;
	struct analysis_opts opts;
};

static const char *lock_name(void *ctx, __u32 pid, __u64 addr)
{
	return lock_names__get(ctx, pid, addr);
}

static int read_lock_names(const void *payload, size_t len, void *ctx)
{
	/* a damaged names section costs names, not the report */
	lock_names__decode(ctx, payload, len);
	return 0;
}

static double meta_double(const struct weft_kv *meta, const char *key)
{
	const char *v = weft_kv__get(meta, key);

	return v ? strtod(v, NULL) : 0;
}

static int fill_opts(struct recording *rec, struct analysis_opts *o)
{
	const struct weft_kv *meta = weft_file__meta(rec->file);
	const char *mode = weft_kv__get(meta, META_MODE);
	unsigned int argc = weft_kv__get_ull(meta, META_ARGC), i;
	char key[32];

	memset(o, 0, sizeof(*o));
	o->ncpu = weft_kv__get_ull(meta, META_NCPU);
	o->usable_cpus = weft_kv__get_ull(meta, META_USABLE_CPUS);
	if (!o->ncpu)
		return -EINVAL;
	if (!o->usable_cpus)
		o->usable_cpus = o->ncpu;
	o->start_ns = weft_kv__get_ull(meta, META_START_NS);
	o->end_ns = weft_kv__get_ull(meta, META_END_NS);
	o->attach_mode = mode && !strcmp(mode, "attach");
	o->truncated = weft_file__truncated(rec->file);
	if (argc > 4096)
		argc = 4096;
	rec->command = calloc(argc + 1, sizeof(*rec->command));
	if (!rec->command)
		return -ENOMEM;
	for (i = 0; i < argc; i++) {
		snprintf(key, sizeof(key), META_ARGV_FMT, i);
		rec->command[i] = (char *)weft_kv__get(meta, key);
		if (!rec->command[i])
			rec->command[i] = "";
	}
	if (!argc && weft_kv__get(meta, META_PIDS)) {
		rec->command[0] = (char *)weft_kv__get(meta, META_PIDS);
		argc = 1;
	}
	o->command = (const char *const *)rec->command;
	o->command_len = argc;
	o->has_rusage = weft_kv__get(meta, META_RUSAGE_USER) != NULL;
	o->rusage_user_s = meta_double(meta, META_RUSAGE_USER);
	o->rusage_sys_s = meta_double(meta, META_RUSAGE_SYS);
	o->maxrss_kb = (long)weft_kv__get_ull(meta, META_RUSAGE_MAXRSS);
	rec->lock_names = lock_names__new();
	if (!rec->lock_names)
		return -ENOMEM;
	weft_file__for_each_section(rec->file, WEFT_SEC_SYMBOLS, read_lock_names, rec->lock_names);
	o->lock_name = lock_name;
	o->lock_name_ctx = rec->lock_names;
	return 0;
}

static int feed_events(struct recording *rec, const struct recording_tap *tap, const char *path,
		       char *err, size_t errlen)
{
	struct weft_event_reader *reader = weft_event_reader__new(rec->file);
	const struct weft_event_header *ev;
	int ret;

	if (!reader) {
		snprintf(err, errlen, "%s: cannot read events: %s", path, strerror(errno));
		return -errno;
	}
	while ((ret = weft_event_reader__next(reader, &ev)) > 0) {
		ret = tap && tap->feed ? tap->feed(tap->ctx, ev) : 0;
		if (!ret)
			ret = weft_analysis__feed(rec->analysis, ev);
		if (ret < 0) {
			snprintf(err, errlen, "%s: analysis failed: %s", path, strerror(-ret));
			break;
		}
	}
	if (ret < 0 && !err[0])
		snprintf(err, errlen, "%s: %s", path, weft_event_reader__error(reader));
	/* nothing left out goes unsaid */
	weft_analysis__note_unread(rec->analysis, weft_event_reader__skipped(reader),
				   weft_file__unknown_sections(rec->file));
	weft_event_reader__free(reader);
	return ret;
}

struct recording *recording_open(const char *path, const struct analysis_opts **opts, char *err,
				 size_t errlen)
{
	struct recording *rec = calloc(1, sizeof(*rec));

	err[0] = '\0';
	if (!rec) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rec->file = weft_file__open(path, err, errlen);
	if (!rec->file)
		goto fail;
	if (fill_opts(rec, &rec->opts)) {
		snprintf(err, errlen, "%s: the recording's metadata is missing or damaged", path);
		goto fail;
	}
	if (rec->opts.truncated)
		wlog("%s is truncated (the recorder was stopped or the disk was full): "
		     "figures cover what it holds",
		     path);
	if (opts)
		*opts = &rec->opts;
	return rec;
fail:
	recording_free(rec);
	return NULL;
}

int recording_run(struct recording *rec, const struct recording_tap *tap, char *err, size_t errlen)
{
	const char *path = weft_file__path(rec->file);
	int ret;

	err[0] = '\0';
	if (rec->analysis) {
		snprintf(err, errlen, "%s: analysed already", path);
		return -EINVAL;
	}
	rec->analysis = weft_analysis__new(&rec->opts);
	if (!rec->analysis) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (tap && tap->slice)
		weft_analysis__set_slice_observer(rec->analysis, tap->slice, tap->ctx);
	ret = feed_events(rec, tap, path, err, errlen);
	if (ret < 0)
		return ret;
	rec->metrics = weft_analysis__finish(rec->analysis);
	if (!rec->metrics) {
		ret = errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "%s: analysis failed", path);
		return ret;
	}
	if (rec->metrics->unread_records || rec->metrics->unread_sections) {
		char line[160];

		wlog("%s: %s", path, output_unread_line(line, sizeof(line), rec->metrics));
	}
	return 0;
}

static int read_stacks(const void *payload, size_t len, void *ctx)
{
	stack_table__decode(ctx, payload, len);
	return 0;
}

void recording_read_stacks(struct recording *rec, struct stack_table *t)
{
	weft_file__for_each_section(rec->file, WEFT_SEC_STACKS, read_stacks, t);
}

struct recording *recording_analyze(const char *path, char *err, size_t errlen)
{
	const struct analysis_opts *opts;
	struct recording *rec = recording_open(path, &opts, err, errlen);

	if (rec && recording_run(rec, NULL, err, errlen) < 0) {
		recording_free(rec);
		return NULL;
	}
	return rec;
}

int recording_set_path(struct recording *rec, const struct weft_path_summary *p)
{
	return rec->analysis ? weft_analysis__set_path(rec->analysis, p) : -EINVAL;
}

const struct weft_metrics *recording_metrics(const struct recording *rec)
{
	return rec->metrics;
}

struct weft_file *recording_file(const struct recording *rec)
{
	return rec->file;
}

void recording_free(struct recording *rec)
{
	if (!rec)
		return;
	weft_analysis__free(rec->analysis);
	weft_file__free(rec->file);
	lock_names__free(rec->lock_names);
	free(rec->command);
	free(rec);
}
