// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft report: options and wiring only. Needs no root: everything comes
 * from the recording. */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "analysis.h"
#include "cmd.h"
#include "critical.h"
#include "events.h"
#include "file.h"
#include "log.h"
#include "output.h"
#include "recording.h"
#include "stack_summary.h"
#include "stacks.h"
#include "waitfor.h"

enum report_format {
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_MARKDOWN,
};

struct report_opts {
	const char *path;
	enum report_format format;
	bool critical;
	struct output_opts out;
};

enum {
	OPT_FORMAT = 0x100,
	OPT_THREADS,
	OPT_CPUS,
	OPT_WAITS,
	OPT_CRITICAL,
};

static const char report_doc[] =
	"Report how parallel a recorded program was, where its threads took turns, and how long "
	"they waited for a CPU. FILE defaults to weft.data."
	"\v"
	"Examples:\n"
	"  weft report                                   # weft.data, as text\n"
	"  weft report run.data --threads                # per thread and process too\n"
	"  weft report --format json | jq .parallelism   # one figure";

static const char report_args_doc[] = "[FILE]";

static const struct argp_option report_options[] = {
	{ "format", OPT_FORMAT, "FMT", 0, "text (default), json or markdown", 0 },
	{ "threads", OPT_THREADS, NULL, 0,
	  "Add per-thread and per-process tables, and each process's top on-CPU functions and "
	  "off-CPU stacks",
	  0 },
	{ "cpus", OPT_CPUS, NULL, 0, "Add the per-CPU table", 0 },
	{ "waits", OPT_WAITS, NULL, 0,
	  "Add the top edges of the wait-for graph (who waited for whom, through which lock) and "
	  "its knots",
	  0 },
	{ "critical", OPT_CRITICAL, NULL, 0,
	  "Add the critical path (JSON: critical_path; see weft critical), and let the verdict "
	  "weigh it; its memory grows with the recording's events",
	  0 },
	{},
};

static error_t report_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct report_opts *o = state->input;

	switch (key) {
	case OPT_FORMAT:
		if (!strcmp(arg, "text"))
			o->format = FORMAT_TEXT;
		else if (!strcmp(arg, "json"))
			o->format = FORMAT_JSON;
		else if (!strcmp(arg, "markdown") || !strcmp(arg, "md"))
			o->format = FORMAT_MARKDOWN;
		else
			argp_failure(state, 2, 0, "unknown format '%s' (text, json or markdown)",
				     arg);
		break;
	case OPT_THREADS:
		o->out.threads = true;
		break;
	case OPT_CPUS:
		o->out.cpus = true;
		break;
	case OPT_WAITS:
		o->out.wait_edges = true;
		break;
	case OPT_CRITICAL:
		o->critical = true;
		break;
	case ARGP_KEY_ARG:
		cmd_arg_recording(state, &o->path, arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The pass feeds the stack summary and the wait-for graph at once */
struct report_tap {
	struct stack_summary *stacks;
	struct waitfor *waits;
	struct critical *crit; /* NULL without --critical */
};

static int report_feed(void *ctx, const struct weft_event_header *ev)
{
	struct report_tap *t = ctx;
	int err = stack_summary__feed(t->stacks, ev);

	return err || !t->crit ? err : critical__feed(t->crit, ev);
}

static void report_slice(void *ctx, const struct weft_slice *slice)
{
	struct report_tap *t = ctx;

	stack_summary__slice(t->stacks, slice);
	waitfor__slice(t->waits, slice);
	if (t->crit)
		critical__slice(t->crit, slice);
}

int cmd_report(int argc, char **argv)
{
	struct argp argp = { .options = report_options,
			     .parser = report_parse_arg,
			     .args_doc = report_args_doc,
			     .doc = report_doc,
			     .help_filter = cmd_help_exit_reader };
	struct report_opts opts = { .path = NULL };
	struct stack_summary_opts sopts = { .per_process = false, .locks = false };
	const struct analysis_opts *aopts;
	struct stack_summary *stacks = NULL;
	struct stack_table *table = NULL;
	const struct weft_metrics *m;
	struct recording *rec = NULL;
	struct recording_tap tap;
	struct report_tap both;
	struct waitfor *waits = NULL;
	struct critical *crit = NULL;
	struct weft_path_summary sum;
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
	/* JSON lists every process's stacks, as it lists every thread */
	sopts.per_process = opts.out.threads || opts.format == FORMAT_JSON;
	/* every format prints the locks table */
	sopts.locks = true;
	table = stack_table__new();
	if (table)
		recording_read_stacks(rec, table);
	stacks = table ? stack_summary__new(table, weft_file__meta(recording_file(rec)), &sopts) :
			 NULL;
	waits = stacks ? waitfor__new(aopts->lock_name, aopts->lock_name_ctx) : NULL;
	if (waits && opts.critical) {
		crit = critical__new(stack_summary__attrib(stacks));
		if (crit)
			waitfor__set_hold_observer(waits, critical__hold, crit);
	}
	if (!stacks || !waits || (opts.critical && !crit)) {
		elog("%s: %s", opts.path, strerror(errno));
		goto cleanup;
	}
	/* one pass over the file: the summary sees each event, then the
	 * analysis, whose slices both see */
	both = (struct report_tap){ stacks, waits, crit };
	tap = (struct recording_tap){ report_feed, report_slice, &both };
	if (recording_run(rec, &tap, err, sizeof(err)) < 0) {
		elog("%s", err);
		goto cleanup;
	}
	m = recording_metrics(rec);
	werr = stack_summary__finish(stacks, m);
	if (werr) {
		elog("%s: stacks: %s", opts.path, strerror(-werr));
		goto cleanup;
	}
	werr = waitfor__finish(waits);
	if (werr) {
		elog("%s: wait-for graph: %s", opts.path, strerror(-werr));
		goto cleanup;
	}
	opts.out.waits = waits;
	/* before the stack table goes: the path names its functions */
	if (crit) {
		werr = critical__finish(crit, m);
		if (werr && werr != -ENODATA) {
			elog("%s: critical path: %s", opts.path, strerror(-werr));
			goto cleanup;
		}
		if (!werr) {
			critical__summary(crit, &sum);
			recording_set_path(rec, &sum);
			opts.out.critical = crit;
		}
	}
	/* the summary copied what it reports */
	stack_table__free(table);
	table = NULL;
	opts.out.stacks = stacks;
	switch (opts.format) {
	case FORMAT_JSON:
		werr = output_json(stdout, m, &opts.out);
		break;
	case FORMAT_MARKDOWN:
		werr = output_markdown(stdout, m, &opts.out);
		break;
	default:
		werr = output_text(stdout, m, &opts.out);
		break;
	}
	if (werr || fflush(stdout)) {
		elog("Failed to write the report: %s", strerror(werr ? -werr : errno));
		goto cleanup;
	}
	status = 0;
cleanup:
	critical__free(crit);
	stack_summary__free(stacks);
	waitfor__free(waits);
	stack_table__free(table);
	recording_free(rec);
	return status;
}
