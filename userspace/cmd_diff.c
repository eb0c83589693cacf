// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft diff: options and wiring only. Each recording is read once: the
 * analysis' metrics, its stacks attributed (stack_attrib.h) into a flame
 * of the type asked for and one of its lock waits (which names the locks
 * that have no symbol), and the counts the change rule needs. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "diff.h"
#include "flame.h"
#include "log.h"
#include "recording.h"
#include "stack_attrib.h"
#include "stacks.h"

#define MAX_RUNS 16

enum diff_format {
	DIFF_TEXT,
	DIFF_JSON,
	DIFF_MARKDOWN,
	DIFF_FOLDED,
	DIFF_SVG,
};

struct diff_cli {
	const char *sides[2];
	enum diff_format format;
	enum flame_type type;
};

enum {
	OPT_FORMAT = 0x100,
	OPT_TYPE,
};

static const char diff_doc[] =
	"Two recordings side by side: their metrics with the change, locks and off-CPU reasons "
	"ranked by the change in wait time, or their stacks as a differential flame graph. "
	"Several runs a side: A1,A2 B1,B2."
	"\v"
	"A change is marked (*) beyond max(5%, 3 sqrt(count)) of the events behind the figure, "
	"or, with several recordings a side, beyond the spread within each side. Where the runs "
	"differ in length, times and counts are per second of wall. Locks are matched by name; "
	"an unnamed heap lock by its kind and the functions of its top waiting stack. --format "
	"folded writes 'stack COUNT_A COUNT_B' lines as difffolded.pl does (flamegraph.pl draws "
	"them); svg is weft's own: widths B, red grew, blue shrank.\n"
	"\n"
	"Examples:\n"
	"  weft diff before.data after.data\n"
	"  weft diff a1.data,a2.data b1.data,b2.data        # several runs a side\n"
	"  weft diff a.data b.data --format folded --type offcpu > diff.folded\n"
	"  weft diff a.data b.data --format svg --type lock > diff.svg";

static const char diff_args_doc[] = "A B";

static const struct argp_option diff_options[] = {
	{ "format", OPT_FORMAT, "FMT", 0, "text (default), json, markdown, folded or svg", 0 },
	{ "type", OPT_TYPE, "TYPE", 0,
	  "Stacks for folded and svg: oncpu (default), offcpu, lock or wakeup", 0 },
	{},
};

static error_t diff_parse_arg(int key, char *arg, struct argp_state *state)
{
	static const char *const formats[] = { "text", "json", "markdown", "folded", "svg" };
	struct diff_cli *o = state->input;
	unsigned int i;

	switch (key) {
	case OPT_FORMAT:
		for (i = 0; i < 5 && strcmp(arg, formats[i]); i++)
			;
		if (i == 5)
			argp_failure(state, 2, 0,
				     "unknown --format '%s' (text, json, markdown, folded or svg)",
				     arg);
		o->format = i;
		break;
	case OPT_TYPE:
		cmd_arg_flame_type(state, arg, &o->type);
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num >= 2)
			argp_failure(state, 2, 0,
				     "two sides only (A B; several runs a side: A1,A2)");
		o->sides[state->arg_num] = arg;
		break;
	case ARGP_KEY_END:
		if (state->arg_num < 2)
			argp_failure(state, 2, 0,
				     "two recordings (or lists of them) to compare: A B");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* One recording's pass, added to the diff as side's run. 0, or -1 with
 * one line in err. */
static int add_recording(struct diff *d, int side, const char *path, enum flame_type type,
			 char *err, size_t errlen)
{
	struct flame_opts typed_opts = { .type = type, .by = FLAME_BY_PROCESS };
	struct flame_opts lock_opts = { .type = FLAME_LOCK,
					.by = FLAME_BY_NONE,
					.user_only = true };
	struct recording *rec = recording_open(path, NULL, err, errlen);
	struct flame *typed = NULL, *locks = NULL;
	struct diff_counts counts = {};
	struct stack_table *stacks = NULL;
	struct stack_attrib *a = NULL;
	struct diff_run run = { .path = path };
	struct recording_tap tap;
	const struct weft_metrics *m;
	int ret = -1;

	if (!rec)
		return -1;
	stacks = stack_table__new();
	if (stacks)
		recording_read_stacks(rec, stacks);
	a = stacks ? stack_attrib__new(stacks) : NULL;
	typed = a ? flame__new(&typed_opts, a) : NULL;
	locks = typed ? flame__new(&lock_opts, a) : NULL;
	if (!locks || stack_attrib__subscribe(a, diff_counts__add, &counts))
		goto nomem;
	tap = (struct recording_tap){ stack_attrib__feed, stack_attrib__slice, a };
	if (recording_run(rec, &tap, err, errlen) < 0)
		goto cleanup;
	m = recording_metrics(rec);
	if (flame__finish(typed, m) || flame__finish(locks, m) ||
	    diff_run__fill(&run, m, &counts, typed, locks) || diff__add(d, side, &run))
		goto nomem;
	ret = 0;
	goto cleanup;
nomem:
	snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
cleanup:
	diff_run__release(&run);
	flame__free(typed);
	flame__free(locks);
	stack_attrib__free(a);
	stack_table__free(stacks);
	recording_free(rec);
	return ret;
}

static int add_side(struct diff *d, int side, const char *list, enum flame_type type)
{
	char *copy = strdup(list), *save = NULL, *path;
	char err[512];
	int n = 0, ret = 0;

	if (!copy) {
		elog("%s", strerror(ENOMEM));
		return -1;
	}
	for (path = strtok_r(copy, ",", &save); path && !ret; path = strtok_r(NULL, ",", &save)) {
		if (++n > MAX_RUNS) {
			elog("at most %d recordings a side", MAX_RUNS);
			ret = -1;
		} else if (add_recording(d, side, path, type, err, sizeof(err))) {
			elog("%s", err);
			ret = -1;
		}
	}
	if (!n && !ret) {
		elog("no recording in '%s'", list);
		ret = -1;
	}
	free(copy);
	return ret;
}

int cmd_diff(int argc, char **argv)
{
	struct argp argp = { .options = diff_options,
			     .parser = diff_parse_arg,
			     .args_doc = diff_args_doc,
			     .doc = diff_doc };
	struct diff_cli o = { .format = DIFF_TEXT, .type = FLAME_ONCPU };
	struct diff *d;
	int err = 0, ret = 1;

	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return 2;
	d = diff__new(o.type);
	if (!d) {
		elog("%s", strerror(ENOMEM));
		return 1;
	}
	if (add_side(d, 0, o.sides[0], o.type) || add_side(d, 1, o.sides[1], o.type))
		goto cleanup;
	err = diff__finish(d);
	if (!err) {
		switch (o.format) {
		case DIFF_TEXT:
		case DIFF_MARKDOWN:
			err = diff__write_text(d, stdout, o.format == DIFF_MARKDOWN);
			break;
		case DIFF_JSON:
			err = diff__write_json(d, stdout);
			break;
		case DIFF_FOLDED:
			err = diff__write_folded(d, stdout);
			break;
		case DIFF_SVG:
			err = diff__write_svg(d, stdout);
			break;
		}
	}
	if (!err && fflush(stdout))
		err = -EIO;
	if (err) {
		elog("Failed to write the diff: %s", strerror(-err));
		goto cleanup;
	}
	ret = 0;
cleanup:
	diff__free(d);
	return ret;
}
