// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft timeline: options and wiring only. Needs no root: everything comes
 * from the recording. The trace goes to a temporary file beside OUT that
 * is renamed at the end, so a failed or interrupted run leaves no half
 * file behind. */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "cmd.h"
#include "event_reader.h"
#include "log.h"
#include "output.h"
#include "recording.h"
#include "timeline.h"

#define STR_(x) #x
#define STR(x) STR_(x)

struct timeline_cli {
	const char *path;
	const char *out;
	struct timeline_opts t;
};

enum {
	OPT_MIN_US = 0x100,
	OPT_FROM,
	OPT_TO,
	OPT_BY,
};

static const char timeline_doc[] =
	"Write a recording as a Chrome trace-event JSON file, to open in Perfetto's UI "
	"(ui.perfetto.dev, \"Open trace file\"), chrome://tracing or speedscope: a track per "
	"thread (running, runnable, blocked and why), a track per CPU, wakeup arrows and the "
	"running and runnable counts of the traced tree. FILE defaults to weft.data."
	"\v"
	"Examples:\n"
	"  weft timeline -o trace.json                          # weft.data, whole\n"
	"  weft timeline run.data -o t.json --from 2 --to 2.5   # half a second\n"
	"  weft timeline -o cpus.json --by cpu                  # CPU tracks only";

static const char timeline_args_doc[] = "[FILE] -o OUT.json";

static const struct argp_option timeline_options[] = {
	{ "output", 'o', "OUT.json", 0, "Where to write the trace (required; - for stdout)", 0 },
	{ "min-us", OPT_MIN_US, "N", 0,
	  "Merge slices shorter than N microseconds into 'mixed' slices that keep each state's "
	  "time (default " STR(TIMELINE_MIN_US_DEFAULT) "; 0 merges nothing)",
	  0 },
	{ "from", OPT_FROM, "S", 0, "Start the window S seconds after the recording's first event",
	  0 },
	{ "to", OPT_TO, "S", 0, "End the window S seconds after the recording's first event", 0 },
	{ "by", OPT_BY, "WHAT", 0, "thread, cpu or both (default): which tracks to write", 0 },
	{},
};

static error_t timeline_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct timeline_cli *o = state->input;
	double v;

	switch (key) {
	case 'o':
		o->out = arg;
		break;
	case OPT_MIN_US:
		if (!cmd_parse_number(arg, &v))
			argp_failure(state, 2, 0, "--min-us wants microseconds >= 0, not '%s'",
				     arg);
		o->t.min_ns = (__u64)llround(v * 1e3);
		break;
	case OPT_FROM:
	case OPT_TO:
		if (!cmd_parse_number(arg, &v))
			argp_failure(state, 2, 0, "--%s wants seconds >= 0, not '%s'",
				     key == OPT_FROM ? "from" : "to", arg);
		if (key == OPT_FROM)
			o->t.from_ns = (__u64)llround(v * 1e9);
		else if (!(o->t.to_ns = (__u64)llround(v * 1e9)))
			argp_failure(state, 2, 0, "--to 0 leaves nothing to show");
		break;
	case OPT_BY:
		if (!strcmp(arg, "thread")) {
			o->t.threads = true;
			o->t.cpus = false;
		} else if (!strcmp(arg, "cpu")) {
			o->t.threads = false;
			o->t.cpus = true;
		} else if (!strcmp(arg, "both")) {
			o->t.threads = o->t.cpus = true;
		} else {
			argp_failure(state, 2, 0, "--by wants thread, cpu or both, not '%s'", arg);
		}
		break;
	case ARGP_KEY_ARG:
		cmd_arg_recording(state, &o->path, arg);
		break;
	case ARGP_KEY_END:
		if (!o->out)
			argp_failure(state, 2, 0, "missing -o OUT.json: where to write the trace");
		if (o->t.to_ns && o->t.from_ns >= o->t.to_ns)
			argp_failure(state, 2, 0, "--from must come before --to");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Every event of the recording into the timeline, up to the window's end. */
static int feed_all(struct recording *rec, struct timeline *tl, const char *path)
{
	struct weft_event_reader *reader = weft_event_reader__new(recording_file(rec));
	const struct weft_event_header *ev;
	int ret;

	if (!reader) {
		ret = -errno;
		elog("Failed to read the events of %s: %s", path, strerror(-ret));
		return ret;
	}
	while (!stop && (ret = weft_event_reader__next(reader, &ev)) > 0) {
		ret = timeline__feed(tl, ev);
		if (ret < 0) {
			elog("Failed to write the timeline: %s", strerror(-ret));
			break;
		}
		if (timeline__past_end(tl))
			break;
	}
	if (stop) {
		elog("interrupted: no timeline written");
		ret = -EINTR;
	} else if (ret < 0 && weft_event_reader__error(reader)[0]) {
		elog("%s: %s", path, weft_event_reader__error(reader));
	}
	weft_event_reader__free(reader);
	return ret < 0 ? ret : 0;
}

int cmd_timeline(int argc, char **argv)
{
	struct argp argp = { .options = timeline_options,
			     .parser = timeline_parse_arg,
			     .args_doc = timeline_args_doc,
			     .doc = timeline_doc,
			     .help_filter = cmd_help_exit_reader };
	struct timeline_cli opts = {
		.t = { .min_ns = TIMELINE_MIN_US_DEFAULT * 1000ULL, .threads = true, .cpus = true }
	};
	const struct analysis_opts *aopts;
	const struct timeline_stats *st;
	struct recording *rec = NULL;
	struct timeline *tl = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec t0, t1;
	struct output_file ofile = { .f = NULL };
	char err[512];
	FILE *f = NULL;
	int status = 1, ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &opts))
		return 2;
	if (!opts.path)
		opts.path = "weft.data";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rec = recording_open(opts.path, &aopts, err, sizeof(err));
	if (!rec) {
		elog("%s", err);
		return 1;
	}
	f = output_file__open(&ofile, opts.out);
	if (!f)
		goto cleanup;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	tl = timeline__new(f, &opts.t, aopts);
	if (!tl) {
		elog("Failed to start the timeline: %s", strerror(errno));
		goto cleanup;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (feed_all(rec, tl, opts.path) < 0)
		goto cleanup;
	ret = timeline__finish(tl);
	if (ret < 0) {
		elog("Failed to write %s: %s", opts.out, strerror(-ret));
		goto cleanup;
	}
	if (opts.t.from_ns && opts.t.from_ns >= timeline__span_ns(tl)) {
		elog("--from %.3f is past the end of %s (%.3f s): nothing to show, no timeline "
		     "written",
		     opts.t.from_ns / 1e9, opts.path, timeline__span_ns(tl) / 1e9);
		goto cleanup;
	}
	if (timeline__metrics(tl)->lost_events)
		wlog("%s lost %llu events: the timeline has gaps (unknown slices)", opts.path,
		     (unsigned long long)timeline__metrics(tl)->lost_events);
	if (output_file__close(&ofile, true))
		goto cleanup;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st = timeline__stats(tl);
	fprintf(stderr,
		"weft: wrote %s: %llu trace events (%llu slices, %llu merged into %llu mixed, "
		"%llu wakeup arrows) in %.2f s\n",
		opts.out, (unsigned long long)st->events,
		(unsigned long long)(st->slices + st->cpu_slices), (unsigned long long)st->merged,
		(unsigned long long)st->mixed, (unsigned long long)st->flows,
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	status = 0;
cleanup:
	output_file__close(&ofile, false);
	timeline__free(tl);
	recording_free(rec);
	return status;
}
