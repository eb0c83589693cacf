// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft report: options and wiring only. Needs no root: everything comes
 * from the recording. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>

#include "analysis.h"
#include "cmd.h"
#include "critical.h"
#include "events.h"
#include "file.h"
#include "log.h"
#include "output.h"
#include "output_html.h"
#include "recording.h"
#include "stack_summary.h"
#include "stacks.h"
#include "flame.h"
#include "flame_svg.h"
#include "stack_attrib.h"
#include "waitfor.h"

enum report_format {
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_MARKDOWN,
	FORMAT_HTML,
};

static const char *const format_names[] = { "text", "json", "markdown|md", "html", NULL };

struct report_opts {
	const char *path;
	const char *output; /* -o: the file to write (html); stdout when NULL */
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
	"  weft report --format json | jq .parallelism   # one figure\n"
	"  weft report --format html -o run.html         # one page: charts, flames";

static const char report_args_doc[] = "[FILE]";

static const struct argp_option report_options[] = {
	{ "format", OPT_FORMAT, "FMT", 0,
	  "text (default), json, markdown or html (one self-contained page: charts, flame "
	  "graphs, tables)",
	  0 },
	{ "output", 'o', "FILE", 0, "Write the report to FILE instead of stdout", 0 },
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
		o->format = cmd_arg_choice(state, "--format", arg, format_names);
		break;
	case 'o':
		o->output = arg;
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

/* The pass feeds the stack summary (and through its attribution the
 * critical path's and the HTML page's flame graphs) and the wait-for graph
 * at once, and for the HTML page its series */
struct report_tap {
	struct stack_summary *stacks;
	struct waitfor *waits;
	struct critical *crit; /* NULL without --critical */
	struct html_series *series; /* NULL but for html */
};

static int report_feed(void *ctx, const struct weft_event_header *ev)
{
	struct report_tap *t = ctx;
	int err = stack_summary__feed(t->stacks, ev);

	if (!err && t->crit)
		err = critical__feed(t->crit, ev);
	if (!err && t->series)
		err = html_series__feed(t->series, ev);
	return err;
}

static void report_slice(void *ctx, const struct weft_slice *slice)
{
	struct report_tap *t = ctx;

	stack_summary__slice(t->stacks, slice);
	waitfor__slice(t->waits, slice);
	if (t->crit)
		critical__slice(t->crit, slice);
	if (t->series)
		html_series__slice(t->series, slice);
}

/* The page's flame graphs, as weft flame --svg draws them */
static const struct {
	const char *id, *title;
	enum flame_type type;
	enum flame_svg_palette palette;
} page_flames[] = {
	{ "oncpu", "On-CPU", FLAME_ONCPU, FLAME_SVG_HOT },
	{ "offcpu", "Off-CPU", FLAME_OFFCPU, FLAME_SVG_IO },
	{ "lock", "Lock waits", FLAME_LOCK, FLAME_SVG_LOCK },
};
#define PAGE_FLAMES (sizeof(page_flames) / sizeof(page_flames[0]))

/* A critical_folded_fn: one line of the critical path's flame appended */
static int push_critical_line(void *ctx, const char *stack, __u64 us)
{
	return flame_lines__add(ctx, stack, us);
}

/* A verdict serialized by a CPython GIL names the Python functions that
 * waited most for it (the lock's stacks) */
static void name_gil_waiters(struct recording *rec, const struct stack_summary *stacks)
{
	struct weft_metrics *m = recording_metrics_edit(rec);
	int at = weft_metrics__verdict_lock(m);
	const struct stack_lock *sl = at >= 0 ? stack_summary__lock(stacks, at) : NULL;
	const char *names[STACK_SUMMARY_LOCK_TOP];
	double shares[STACK_SUMMARY_LOCK_TOP];
	unsigned int i;

	if (!sl || !sl->nr_python || !sl->python_of_ns)
		return;
	for (i = 0; i < sl->nr_python; i++) {
		names[i] = sl->python[i].name;
		shares[i] = (double)sl->python[i].ns / sl->python_of_ns;
	}
	weft_metrics__verdict_waiters(m, names, shares, sl->nr_python);
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
	struct html_series *series = NULL;
	struct flame *flames[PAGE_FLAMES] = { NULL };
	/* and the critical path's, last: only with --critical */
	struct flame_lines pf[PAGE_FLAMES + 1];
	struct html_opts hopts = { .out = NULL };
	FILE *out = stdout;
	struct output_file ofile = { .f = NULL };
	char err[512];
	int status = 1, werr;
	size_t i;

	if (argp_parse(&argp, argc, argv, 0, NULL, &opts))
		return 2;
	if (!opts.path)
		opts.path = "weft.data";
	memset(pf, 0, sizeof(pf));
	/* an unwritable -o fails at once, not after the pass */
	if (opts.output && !(out = output_file__open(&ofile, opts.output))) {
		out = stdout;
		goto cleanup;
	}

	rec = recording_open(opts.path, &aopts, err, sizeof(err));
	if (!rec) {
		elog("%s", err);
		goto cleanup;
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
	if (opts.format == FORMAT_HTML) {
		/* one attribution per report: the page's flames take the
		 * summary's records (none when the recording has no stacks:
		 * then the page has no graph to show) */
		struct stack_attrib *attrib = stack_summary__attrib(stacks);

		series = html_series__new(aopts->start_ns, true);
		for (i = 0; series && attrib && i < PAGE_FLAMES; i++) {
			struct flame_opts fo = { .type = page_flames[i].type,
						 .by = FLAME_BY_PROCESS };

			flames[i] = flame__new(&fo, attrib);
			if (!flames[i])
				break;
		}
		if (!series || (attrib && i < PAGE_FLAMES)) {
			elog("%s: %s", opts.path, strerror(errno ? errno : ENOMEM));
			goto cleanup;
		}
	}
	/* one pass over the file: the summary sees each event, then the
	 * analysis, whose slices both see */
	both = (struct report_tap){ stacks, waits, crit, series };
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
	name_gil_waiters(rec, stacks);
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
	if (series)
		html_series__window(series, m);
	for (i = 0; flames[0] && i < PAGE_FLAMES; i++) {
		werr = flame__finish(flames[i], m);
		if (!werr)
			werr = flame__lines(flames[i], &pf[i]);
		if (werr) {
			elog("%s: flame graphs: %s", opts.path, strerror(-werr));
			goto cleanup;
		}
		/* a recording without stacks has no graph to show */
		if (!table || !stack_summary__capture(stacks)->recorded)
			continue;
		hopts.flames[hopts.nr_flames++] = (struct html_flame){
			.id = page_flames[i].id,
			.title = page_flames[i].title,
			.unit = flame_type__unit(page_flames[i].type),
			.palette = page_flames[i].palette,
			.stacks = pf[i].stacks,
			.values = pf[i].values,
			.n = pf[i].n,
		};
	}
	/* the critical path's tab: the lines weft critical --format folded
	 * writes (by thread), with or without stacks */
	if (series && opts.out.critical) {
		struct flame_lines *p = &pf[PAGE_FLAMES];

		werr = critical__for_each_folded(crit, CRITICAL_BY_THREAD, push_critical_line, p);
		if (werr) {
			elog("%s: critical path flame graph: %s", opts.path, strerror(-werr));
			goto cleanup;
		}
		hopts.flames[hopts.nr_flames++] = (struct html_flame){
			.id = "critical",
			.title = "Critical path",
			.unit = "us",
			.palette = FLAME_SVG_HOT,
			.stacks = p->stacks,
			.values = p->values,
			.n = p->n,
		};
	}
	/* the summary and the flames copied what they report */
	stack_table__free(table);
	table = NULL;
	opts.out.stacks = stacks;
	switch (opts.format) {
	case FORMAT_JSON:
		werr = output_json(out, m, &opts.out);
		break;
	case FORMAT_MARKDOWN:
		werr = output_markdown(out, m, &opts.out);
		break;
	case FORMAT_HTML:
		hopts.out = &opts.out;
		hopts.series = series;
		hopts.source = opts.path;
		werr = output_html(out, m, &hopts);
		break;
	default:
		werr = output_text(out, m, &opts.out);
		break;
	}
	if (opts.output) {
		out = stdout;
		if (output_file__close(&ofile, !werr) && !werr)
			goto cleanup; /* said */
	} else if (!werr && fflush(out)) {
		werr = -errno;
	}
	if (werr) {
		elog("Failed to write %s: %s",
		     opts.output ? output_file__name(&ofile) : "the report", strerror(-werr));
		goto cleanup;
	}
	status = 0;
cleanup:
	critical__free(crit);
	output_file__close(&ofile, false);
	for (i = 0; i < PAGE_FLAMES; i++)
		flame__free(flames[i]);
	for (i = 0; i < PAGE_FLAMES + 1; i++)
		flame_lines__release(&pf[i]);
	html_series__free(series);
	stack_summary__free(stacks);
	waitfor__free(waits);
	stack_table__free(table);
	recording_free(rec);
	return status;
}
