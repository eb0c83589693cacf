// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft: dispatch to a subcommand, as bpftool does. */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "recording_meta.h"

const char *argp_program_version = "weft " WEFT_VERSION;
const char *argp_program_bug_address = NULL;

struct subcommand {
	const char *name;
	int (*func)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "record", cmd_record, "trace a command or running processes into weft.data (root)" },
	{ "report", cmd_report, "parallelism, interleaving and run-queue figures of a recording" },
	{ "compare", cmd_compare,
	  "one task in every concurrency model, or recordings, side by side" },
	{ "flame", cmd_flame, "a recording's stacks, folded for flame graphs, or as an SVG" },
	{ "pprof", cmd_pprof, "a recording's stacks as a gzipped pprof profile (go tool pprof)" },
	{ "diff", cmd_diff, "two recordings (or sets of them) side by side: what changed" },
	{ "timeline", cmd_timeline, "a recording as a trace to open in Perfetto's UI" },
	{ "critical", cmd_critical,
	  "the critical path through wakeups: what decided the wall time" },
	{ "stuck", cmd_stuck, "why running processes are hung: waits, owners, deadlocks (root)" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: weft COMMAND [OPTION...]\n\n"
		     "weft shows how parallel a program really was, where its threads only took\n"
		     "turns, and what held them back.\n\nCommands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-10s%s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(out, "\n'weft COMMAND --help' describes each one.\n\n"
		     "Examples:\n"
		     "  sudo weft record -- ./my-program   # writes weft.data, owned by you\n"
		     "  weft report                        # needs no root\n");
}

int main(int argc, char **argv)
{
	char name[64];
	size_t i;

	/* argp exits 64 (EX_USAGE) on a bad option by default: weft's usage
	 * errors exit 2, in every subcommand (DESIGN.md "Commands"). */
	argp_err_exit_status = WEFT_EXIT_USAGE;
	if (argc < 2) {
		usage(stderr);
		return WEFT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s\n", argp_program_version);
		return 0;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name))
			continue;
		snprintf(name, sizeof(name), "weft %s", subcommands[i].name);
		argv[1] = name;
		return subcommands[i].func(argc - 1, argv + 1);
	}
	elog("unknown command '%s'; see 'weft --help'", argv[1]);
	return WEFT_EXIT_USAGE;
}
