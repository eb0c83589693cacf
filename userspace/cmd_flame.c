// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft flame: options and wiring only. Needs no root: the stacks and their
 * symbols are in the recording. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "flame.h"
#include "flame_svg.h"
#include "log.h"
#include "output.h"
#include "recording.h"
#include "stack_attrib.h"
#include "stacks.h"

struct flame_cli {
	const char *path;
	const char *svg;
	struct flame_opts f;
	bool as_sampled;
};

enum {
	OPT_TYPE = 0x100,
	OPT_BY,
	OPT_SVG,
	OPT_AS_SAMPLED,
};

static const char flame_doc[] =
	"Write a recording's stacks in the folded format of flame graphs (flamegraph.pl, "
	"speedscope, inferno), or as a flame graph of weft's own. FILE defaults to weft.data."
	"\v"
	"Counts are samples (oncpu) or microseconds (offcpu, wakeup, lock). Each line is "
	"root;...;leaf COUNT, rooted at the process name (or comm-pid, comm-tid); kernel frames "
	"end in _[k].\n"
	"\n"
	"Examples:\n"
	"  weft flame --type oncpu > oncpu.folded          # on-CPU samples\n"
	"  weft flame --type offcpu --svg offcpu.svg       # blocked time, in us\n"
	"  weft flame run.data --type wakeup --by thread   # who woke them";

static const char flame_args_doc[] = "[FILE]";

static const struct argp_option flame_options[] = {
	{ "type", OPT_TYPE, "TYPE", 0,
	  "oncpu (samples, default), offcpu (blocked time by the stack that blocked), wakeup "
	  "(blocked stack, --, the waker's stack), lock (waits on locks)",
	  0 },
	{ "by", OPT_BY, "BY", 0,
	  "Root frame: process (default: the name, same names merge), pid, thread or none", 0 },
	{ "svg", OPT_SVG, "OUT", 0,
	  "Write an interactive SVG flame graph to OUT (- for stdout) instead", 0 },
	/* for the attribution test, on a recording made with --stack-audit:
	 * the stacks the default sampling would have skipped count as skipped */
	{ "as-sampled", OPT_AS_SAMPLED, NULL, OPTION_HIDDEN, NULL, 0 },
	{},
};

static error_t flame_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct flame_cli *o = state->input;

	switch (key) {
	case OPT_TYPE:
		cmd_arg_flame_type(state, arg, &o->f.type);
		break;
	case OPT_BY:
		cmd_arg_flame_by(state, arg, &o->f.by);
		break;
	case OPT_SVG:
		o->svg = arg;
		break;
	case OPT_AS_SAMPLED:
		o->as_sampled = true;
		break;
	case ARGP_KEY_ARG:
		cmd_arg_recording(state, &o->path, arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char *const titles[] = {
	[FLAME_ONCPU] = "On-CPU samples",
	[FLAME_OFFCPU] = "Off-CPU time",
	[FLAME_WAKEUP] = "Off-CPU time with wakers",
	[FLAME_LOCK] = "Lock waits",
};

static int write_svg(const struct flame *f, const struct flame_cli *o)
{
	struct flame_lines l;
	struct flame_svg_opts so = { .title = titles[o->f.type],
				     .unit = flame_type__unit(o->f.type),
				     .palette = o->f.type == FLAME_ONCPU ? FLAME_SVG_HOT :
						o->f.type == FLAME_LOCK	 ? FLAME_SVG_LOCK :
									   FLAME_SVG_IO };
	struct output_file ofile;
	FILE *out = NULL;
	int err;

	/* the lock type rooted at the lock, so that each lock is one tower */
	err = flame__lines(f, &l);
	if (err)
		goto cleanup;
	out = output_file__open(&ofile, o->svg);
	if (!out) {
		err = -EIO;
		goto cleanup;
	}
	err = flame_svg__write(out, l.stacks, l.values, l.n, &so);
	if (err) {
		elog("Failed to write %s: %s", output_file__name(&ofile), strerror(-err));
		output_file__close(&ofile, false);
	} else {
		err = output_file__close(&ofile, true);
	}
cleanup:
	flame_lines__release(&l);
	return err;
}

/* The whole pass over a recording: its stacks attributed, the flame fed
 * with them, the analysis' locks table for the lock type. NULL with one
 * line in err (naming the file) on failure. */
static struct flame *flame_of_recording(const char *path, const struct flame_opts *opts,
					bool as_sampled, struct stack_attrib **attrib, char *err,
					size_t errlen)
{
	struct recording *rec = recording_open(path, NULL, err, errlen);
	struct stack_table *stacks = NULL;
	struct stack_attrib *a = NULL;
	struct recording_tap tap;
	struct flame *f = NULL;

	if (!rec)
		return NULL;
	stacks = stack_table__new();
	if (stacks)
		recording_read_stacks(rec, stacks);
	a = stacks ? stack_attrib__new(stacks) : NULL;
	if (a && as_sampled)
		stack_attrib__as_sampled(a);
	f = a ? flame__new(opts, a) : NULL;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	tap = (struct recording_tap){ stack_attrib__feed, stack_attrib__slice, a };
	if (recording_run(rec, &tap, err, errlen) < 0)
		goto fail;
	if (flame__finish(f, recording_metrics(rec))) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	/* the lines have their text: the stack table can go, the names stay */
	stack_table__free(stacks);
	recording_free(rec);
	*attrib = a;
	return f;
fail:
	flame__free(f);
	stack_attrib__free(a);
	stack_table__free(stacks);
	recording_free(rec);
	return NULL;
}

int cmd_flame(int argc, char **argv)
{
	struct argp argp = { .options = flame_options,
			     .parser = flame_parse_arg,
			     .args_doc = flame_args_doc,
			     .doc = flame_doc,
			     .help_filter = cmd_help_exit_reader };
	struct flame_cli o = { .f = { .type = FLAME_ONCPU, .by = FLAME_BY_PROCESS } };
	struct stack_attrib *attrib = NULL;
	char err[512];
	struct flame *f;
	int ret = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return 2;
	if (!o.path)
		o.path = "weft.data";
	f = flame_of_recording(o.path, &o.f, o.as_sampled, &attrib, err, sizeof(err));
	if (!f) {
		elog("%s", err);
		return 1;
	}
	if (!flame__count(f))
		wlog("%s has no %s stacks (recorded with --no-stacks, or nothing of that kind "
		     "happened)",
		     o.path, o.f.type == FLAME_ONCPU ? "on-CPU" : "off-CPU");
	if (o.svg)
		ret = write_svg(f, &o) ? 1 : 0;
	else if (flame__write_folded(f, stdout) || fflush(stdout))
		ret = 1;
	flame__free(f);
	stack_attrib__free(attrib);
	return ret;
}
