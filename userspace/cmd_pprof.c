// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft pprof: options and wiring only. Needs no root: the stacks and their
 * symbols are in the recording. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "file.h"
#include "kv.h"
#include "log.h"
#include "output.h"
#include "pb.h"
#include "pprof.h"
#include "recording.h"
#include "recording_meta.h"
#include "stack_attrib.h"
#include "stacks.h"

struct pprof_cli {
	const char *path;
	const char *out;
	struct pprof_opts p;
};

enum {
	OPT_BY = 0x100,
};

static const char pprof_doc[] =
	"Write a recording's stacks as one gzipped pprof profile (profile.proto), for go tool "
	"pprof, Pyroscope, Parca or speedscope. FILE defaults to weft.data."
	"\v"
	"Sample types: samples/count and cpu/nanoseconds (on-CPU samples, the default), "
	"off_cpu/nanoseconds, lock/nanoseconds (waits on the locks of weft report), and "
	"runqueue/nanoseconds where stacks exist for it; their totals are weft flame's for "
	"each type. Labels: pid, tid, comm, reason, lock.\n"
	"\n"
	"Examples:\n"
	"  weft pprof -o weft.pb.gz                        # weft.data's stacks\n"
	"  weft pprof run.data -o run.pb.gz --by thread    # rooted at each thread\n"
	"\n"
	"Then, with Go's reader:\n"
	"  go tool pprof -top weft.pb.gz                        # on-CPU\n"
	"  go tool pprof -sample_index=off_cpu -top weft.pb.gz  # where threads blocked\n"
	"  go tool pprof -sample_index=lock -tags weft.pb.gz    # lock waits by label";

static const char pprof_args_doc[] = "[FILE]";

static const struct argp_option pprof_options[] = {
	{ "output", 'o', "OUT", 0, "Write the profile to OUT (default weft.pb.gz; - for stdout)",
	  0 },
	{ "by", OPT_BY, "BY", 0,
	  "Root frame: process (default: the name), pid, thread or none (labels say pid and tid "
	  "anyway)",
	  0 },
	{},
};

static error_t pprof_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct pprof_cli *o = state->input;

	switch (key) {
	case 'o':
		o->out = arg;
		break;
	case OPT_BY:
		cmd_arg_flame_by(state, arg, &o->p.by);
		break;
	case ARGP_KEY_ARG:
		cmd_arg_recording(state, &o->path, arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The recording's start as nanoseconds since the epoch (it keeps seconds) */
static __s64 start_epoch_ns(const struct weft_kv *meta)
{
	const char *when = weft_kv__get(meta, META_START_REALTIME);
	struct tm tm = {};
	char *end;

	if (!when)
		return 0;
	end = strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return 0;
	return (__s64)timegm(&tm) * 1000000000LL;
}

static int write_profile(struct pprof *p, const struct weft_metrics *m, const struct weft_kv *meta,
			 const char *out_path)
{
	char command[1024] = "", comment_cmd[1100], comment_ver[128];
	const char *comments[] = { comment_cmd, comment_ver, NULL };
	struct pprof_meta pm = { .comments = comments };
	const char *rec_version = weft_kv__get(meta, META_VERSION);
	struct output_file ofile;
	struct pb_buf msg = {};
	size_t len = 0;
	unsigned int i;
	FILE *out;
	int err;

	for (i = 0; i < m->command_len && len + 2 < sizeof(command); i++)
		len += (size_t)snprintf(command + len, sizeof(command) - len, "%s%s", i ? " " : "",
					m->command[i]);
	snprintf(comment_cmd, sizeof(comment_cmd), "command: %s", command);
	snprintf(comment_ver, sizeof(comment_ver), "weft %s (recorded by weft %s)", WEFT_VERSION,
		 rec_version ? rec_version : "?");
	pm.main_file = m->command_len ? m->command[0] : "weft";
	pm.time_nanos = start_epoch_ns(meta);
	pm.duration_nanos = (__s64)(m->wall_s * 1e9 + 0.5);
	err = pprof__encode(p, &pm, &msg);
	if (err) {
		elog("Failed to encode the profile: %s", strerror(-err));
		goto cleanup;
	}
	/* written beside and renamed into place: a failed write leaves no
	 * profile that reads as whole */
	out = output_file__open(&ofile, out_path);
	if (!out) {
		err = -EIO;
		goto cleanup;
	}
	err = pprof__write_gzip(msg.p, msg.len, out);
	if (err) {
		elog("Failed to write %s: %s", output_file__name(&ofile), strerror(-err));
		output_file__close(&ofile, false);
	} else {
		err = output_file__close(&ofile, true);
	}
cleanup:
	pb__free(&msg);
	return err;
}

int cmd_pprof(int argc, char **argv)
{
	struct argp argp = { .options = pprof_options,
			     .parser = pprof_parse_arg,
			     .args_doc = pprof_args_doc,
			     .doc = pprof_doc };
	struct pprof_cli o = { .out = "weft.pb.gz", .p = { .by = FLAME_BY_PROCESS } };
	struct stack_table *stacks = NULL;
	struct stack_attrib *a = NULL;
	struct recording *rec = NULL;
	const struct weft_kv *meta;
	struct recording_tap tap;
	struct pprof *p = NULL;
	char err[512];
	int ret = 1;

	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return 2;
	if (!o.path)
		o.path = "weft.data";
	rec = recording_open(o.path, NULL, err, sizeof(err));
	if (!rec) {
		elog("%s", err);
		return 1;
	}
	meta = weft_file__meta(recording_file(rec));
	o.p.sample_hz = (unsigned int)weft_kv__get_ull(meta, META_SAMPLE_HZ);
	/* weft record writes the stack settings only when it takes stacks */
	o.p.no_stacks = !weft_kv__get(meta, META_STACK_ENTRIES);
	stacks = stack_table__new();
	if (stacks)
		recording_read_stacks(rec, stacks);
	a = stacks ? stack_attrib__new(stacks) : NULL;
	p = a ? pprof__new(&o.p, a) : NULL;
	if (!p) {
		elog("%s: %s", o.path, strerror(ENOMEM));
		goto cleanup;
	}
	tap = (struct recording_tap){ stack_attrib__feed, stack_attrib__slice, a };
	if (recording_run(rec, &tap, err, sizeof(err)) < 0) {
		elog("%s", err);
		goto cleanup;
	}
	if (pprof__finish(p, recording_metrics(rec))) {
		elog("%s: %s", o.path, strerror(ENOMEM));
		goto cleanup;
	}
	if (!pprof__samples(p))
		wlog("%s has no stacks (recorded with --no-stacks, or nothing happened): the "
		     "profile is empty",
		     o.path);
	if (write_profile(p, recording_metrics(rec), meta, o.out))
		goto cleanup;
	ret = 0;
cleanup:
	pprof__free(p);
	stack_attrib__free(a);
	stack_table__free(stacks);
	recording_free(rec);
	return ret;
}
