// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft critical: options and wiring only (the walk is critical.c). */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cmd.h"
#include "critical.h"
#include "json.h"
#include "log.h"
#include "recording.h"
#include "stack_attrib.h"
#include "stacks.h"
#include "waitfor.h"

enum critical_format {
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_FOLDED,
};

static const char *const format_names[] = { "text", "json", "folded", NULL };
/* in the order of enum critical_by */
static const char *const by_names[] = { "thread", "function", "lock", NULL };

struct critical_cmd_opts {
	const char *path;
	enum critical_format format;
	enum critical_by by;
};

enum {
	OPT_FORMAT = 0x100,
	OPT_BY,
};

static const char critical_doc[] =
	"The critical path through wakeups: the chain of work and waits that decided the wall "
	"time, walked back from the end of the root process (with -p, of the thread that ended "
	"last). A running or queued thread's segment is on the path; a blocked one woken by a "
	"thread of the tree hands the path to its waker; one woken by a timer, an interrupt or "
	"a task outside the tree stays on the path as its wait (sleep, io, lock, wait). Prints "
	"each thread's, state's, lock's and function's share of the path, and for each lock a "
	"what-if bound: the most the wall could gain if it were never contended. FILE defaults "
	"to weft.data. Memory grows with the recording's events (the path needs its whole "
	"history)."
	"\v"
	"Examples:\n"
	"  weft critical                          # which thread carried the path\n"
	"  weft critical --by lock                # in contended locks; what-if bounds\n"
	"  weft critical --format folded | flamegraph.pl > path.svg";

static const char critical_args_doc[] = "[FILE]";

static const struct argp_option critical_options[] = {
	{ "format", OPT_FORMAT, "FMT", 0,
	  "text (default), json (every table) or folded (the path as a flame graph, in "
	  "microseconds)",
	  0 },
	{ "by", OPT_BY, "WHAT", 0,
	  "thread (default), function or lock: the table text prints; folded takes thread "
	  "(roots comm-tid) or function (roots comm)",
	  0 },
	{},
};

static error_t critical_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct critical_cmd_opts *o = state->input;

	switch (key) {
	case OPT_FORMAT:
		o->format = cmd_arg_choice(state, "--format", arg, format_names);
		break;
	case OPT_BY:
		o->by = cmd_arg_choice(state, "--by", arg, by_names);
		break;
	case ARGP_KEY_ARG:
		cmd_arg_recording(state, &o->path, arg);
		break;
	case ARGP_KEY_END:
		if (o->format == FORMAT_FOLDED && o->by == CRITICAL_BY_LOCK)
			argp_failure(state, 2, 0,
				     "--format folded takes --by thread or function, not lock");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct critical_tap {
	struct stack_attrib *attrib;
	struct waitfor *waits;
	struct critical *crit;
};

static int critical_feed(void *ctx, const struct weft_event_header *ev)
{
	struct critical_tap *t = ctx;
	int err = stack_attrib__feed(t->attrib, ev);

	return err ? err : critical__feed(t->crit, ev);
}

static void critical_slice(void *ctx, const struct weft_slice *slice)
{
	struct critical_tap *t = ctx;

	stack_attrib__slice(t->attrib, slice);
	waitfor__slice(t->waits, slice);
	critical__slice(t->crit, slice);
}

int cmd_critical(int argc, char **argv)
{
	struct argp argp = { .options = critical_options,
			     .parser = critical_parse_arg,
			     .args_doc = critical_args_doc,
			     .doc = critical_doc,
			     .help_filter = cmd_help_exit_reader };
	struct critical_cmd_opts opts = { .path = NULL };
	const struct analysis_opts *aopts;
	struct stack_table *table = NULL;
	struct stack_attrib *attrib = NULL;
	struct weft_path_summary sum;
	const struct weft_metrics *m;
	struct recording *rec = NULL;
	struct critical *crit = NULL;
	struct waitfor *waits = NULL;
	struct json_writer *w = NULL;
	struct critical_tap both;
	struct recording_tap tap;
	char err[512];
	int status = 1, werr;

	if (argp_parse(&argp, argc, argv, 0, NULL, &opts))
		return 2;
	if (!opts.path)
		opts.path = "weft.data";
	rec = recording_open(opts.path, &aopts, err, sizeof(err));
	if (!rec) {
		elog("%s", err);
		return 1;
	}
	table = stack_table__new();
	if (table)
		recording_read_stacks(rec, table);
	attrib = table ? stack_attrib__new(table) : NULL;
	waits = attrib ? waitfor__new(aopts->lock_name, aopts->lock_name_ctx) : NULL;
	crit = waits ? critical__new(attrib) : NULL;
	if (!crit) {
		elog("%s: %s", opts.path, strerror(errno));
		goto cleanup;
	}
	waitfor__set_hold_observer(waits, critical__hold, crit);
	both = (struct critical_tap){ attrib, waits, crit };
	tap = (struct recording_tap){ critical_feed, critical_slice, &both };
	if (recording_run(rec, &tap, err, sizeof(err)) < 0) {
		elog("%s", err);
		goto cleanup;
	}
	m = recording_metrics(rec);
	werr = stack_attrib__finish(attrib);
	if (!werr)
		werr = waitfor__finish(waits);
	if (werr) {
		elog("%s: %s", opts.path, strerror(-werr));
		goto cleanup;
	}
	werr = critical__finish(crit, m);
	if (werr == -ENODATA) {
		elog("%s: no thread of the traced tree was seen: there is no path to walk",
		     opts.path);
		goto cleanup;
	}
	if (werr) {
		elog("%s: critical path: %s", opts.path, strerror(-werr));
		goto cleanup;
	}
	critical__summary(crit, &sum);
	recording_set_path(rec, &sum);
	switch (opts.format) {
	case FORMAT_JSON:
		w = json_writer__new(stdout, JSON_WRITER_PRETTY);
		if (!w) {
			werr = -errno;
			break;
		}
		critical__write_json(crit, w, m->verdict, weft_verdict_kind__name(m->verdict_kind));
		werr = json_writer__finish(w);
		break;
	case FORMAT_FOLDED:
		werr = critical__write_folded(crit, stdout, opts.by);
		break;
	default:
		werr = critical__write_text(crit, stdout, opts.by, m->verdict);
		break;
	}
	if (werr || fflush(stdout)) {
		elog("Failed to write the critical path: %s", strerror(werr ? -werr : errno));
		goto cleanup;
	}
	status = 0;
cleanup:
	json_writer__free(w);
	critical__free(crit);
	waitfor__free(waits);
	stack_attrib__free(attrib);
	stack_table__free(table);
	recording_free(rec);
	return status;
}
