// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft record: options and wiring only; the work is in record.c. */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "cmd.h"
#include "kv.h"
#include "log.h"
#include "record.h"
#include "unwind.h"

enum {
	OPT_DURATION = 0x100,
	OPT_RING_KB,
	OPT_META,
	OPT_LOCKS,
	OPT_NO_STACKS,
	OPT_STACK_ENTRIES,
	OPT_STACK_EVERY,
	OPT_STACK_RATE,
	OPT_STACK_AUDIT,
	OPT_UNWIND,
	OPT_PYTHON,
	OPT_UNWIND_ROWS,
};

static const char record_doc[] =
	"Record the scheduling of a command and every process it starts, or of running "
	"processes."
	"\v"
	"Under sudo, the command runs as the invoking user and the recording belongs to them.\n"
	"\n"
	"Examples:\n"
	"  sudo weft record -- ./server --threads 8           # a command, its children\n"
	"  sudo weft record -p 1234 --duration 5              # a process, for 5 s\n"
	"  sudo weft record -o o2.data --meta cc=O2 -- make   # a note in o2.data";

static const char record_args_doc[] = "-- CMD [ARG...]\n-p PID[,PID...]";

static const struct argp_option record_options[] = {
	{ NULL, 0, NULL, 0, "Output:", 1 },
	{ "output", 'o', "FILE", 0,
	  "Write the recording to FILE (default weft.data; an existing "
	  "one becomes FILE.old)",
	  1 },
	{ "meta", OPT_META, "KEY=VALUE", 0, "Store a note in the recording (repeatable)", 1 },
	{ NULL, 0, NULL, 0, "What to trace:", 2 },
	{ "pid", 'p', "PID[,PID...]", 0, "Attach to running processes instead of starting one", 2 },
	{ "duration", OPT_DURATION, "S", 0, "Stop after S seconds (a started command gets SIGTERM)",
	  2 },
	{ "user", 'u', "USER", 0, "Run the command as USER (default: the user behind sudo)", 2 },
	{ NULL, 0, NULL, 0, "Tuning:", 3 },
	{ "locks", OPT_LOCKS, "LIST", 0,
	  "What to read about waits: futex (the blocking system call), kernel (contended kernel "
	  "locks), pthread (uprobes on libc's pthread_mutex_lock: costs every lock call), or "
	  "none; default futex,kernel",
	  2 },
	{ "freq", 'F', "HZ", 0,
	  "Sample on-CPU stacks HZ times a second on every CPU (default " STR(
		  RECORD_DEFAULT_SAMPLE_HZ) ")",
	  2 },
	{ "no-stacks", OPT_NO_STACKS, NULL, 0,
	  "Take no stacks at all: no on-CPU samples, no off-CPU or waker stacks", 2 },
	{ "stack-entries", OPT_STACK_ENTRIES, "N", 0,
	  "Distinct stacks of each kind, user and kernel, weft keeps (default " STR(
		  RECORD_DEFAULT_STACK_ENTRIES) "); captures past it are "
						"counted as stack failures",
	  3 },
	{ "unwind", OPT_UNWIND, "tables|fp", 0,
	  "Walk user stacks with unwind tables compiled from each object's CFI, so that code "
	  "without frame pointers (glibc) keeps its callers (default), or by frame pointers only",
	  3 },
	{ "python", OPT_PYTHON, "auto|off", 0,
	  "Python frames in user stacks, in place of the interpreter's eval frames, for processes "
	  "that map a CPython weft knows (auto, the default), or none (off)",
	  3 },
	{ "unwind-rows", OPT_UNWIND_ROWS, "N", 0,
	  "Rows the kernel's unwind tables hold, 8 bytes each (default " STR(
		  RECORD_DEFAULT_UNWIND_ROWS) "; glibc and its "
					      "loader take about 40000)",
	  3 },
	{ "stack-every", OPT_STACK_EVERY, "N", 0,
	  "Take off-CPU and waker stacks at one blocking switch in N per thread, and at any "
	  "that comes 1 ms or more after the thread's last sampled one; each sampled stack "
	  "carries the blocked time of the switches skipped before it (default " STR(
		  RECORD_DEFAULT_STACK_EVERY) "; 1: all)",
	  3 },
	{ "stack-rate", OPT_STACK_RATE, "N", 0,
	  "And at most N of them a second on each CPU, the rest carried like the skipped ones, "
	  "so that the price of stacks is bounded per second (default " STR(
		  RECORD_DEFAULT_STACK_RATE) "; 0: no limit, "
					     "which --stack-every 1 also means unless this is given)",
	  3 },
	/* for the attribution test: every stack, the ones the sampling would
	 * skip marked */
	{ "stack-audit", OPT_STACK_AUDIT, NULL, OPTION_HIDDEN, NULL, 3 },
	{ "ring-kb", OPT_RING_KB, "N", 0,
	  "Ring buffer size per CPU in KiB (default " STR(RECORD_DEFAULT_RING_KB) ")", 3 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages", 3 },
	{},
};

static int parse_pids(const char *arg, struct record_opts *o)
{
	const char *p = arg;
	char *end;
	long pid;

	while (*p) {
		errno = 0;
		pid = strtol(p, &end, 10);
		if (errno || end == p || pid <= 0 || pid > 0x3fffffff || (*end && *end != ','))
			return -EINVAL;
		if (o->npids == RECORD_MAX_PIDS)
			return -E2BIG;
		o->pids[o->npids++] = (pid_t)pid;
		p = *end ? end + 1 : end;
	}
	return o->npids ? 0 : -EINVAL;
}

static int parse_locks(const char *arg, struct record_opts *o)
{
	char *list = strdup(arg), *tok, *save = NULL;
	int err = 0, ntok = 0;

	if (!list)
		return -ENOMEM;
	o->lock_futex = o->lock_kernel = o->lock_pthread = false;
	for (tok = strtok_r(list, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		ntok++;
		if (!strcmp(tok, "futex"))
			o->lock_futex = true;
		else if (!strcmp(tok, "kernel"))
			o->lock_kernel = true;
		else if (!strcmp(tok, "pthread"))
			o->lock_pthread = true;
		else if (strcmp(tok, "none"))
			err = -EINVAL;
	}
	free(list);
	/* "--locks=" or "--locks=," says nothing: an error, not "none" */
	return err ? err : ntok ? 0 : -EINVAL;
}

/* A whole number in [min, max], or exit 2 with one line naming the option */
static unsigned int parse_count(struct argp_state *state, const char *option, const char *arg,
				long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < min || n > max)
		argp_failure(state, 2, 0, "invalid %s: %s (%ld to %ld)", option, arg, min, max);
	return (unsigned int)n;
}

static error_t record_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct record_opts *o = state->input;
	const char *eq;
	char *name;
	double d;

	switch (key) {
	case 'o':
		o->output = arg;
		break;
	case 'p':
		if (parse_pids(arg, o))
			argp_failure(state, 2, 0, "invalid PID list: %s", arg);
		break;
	case 'u':
		o->user = arg;
		break;
	case 'v':
		weft_verbose = true;
		break;
	case OPT_DURATION:
		if (!cmd_parse_number(arg, &d) || !(d > 0) || d > 1e7)
			argp_failure(state, 2, 0, "invalid duration: %s (seconds, > 0)", arg);
		o->duration_s = d;
		break;
	case OPT_RING_KB:
		o->ring_kb = parse_count(state, "--ring-kb", arg, 4, 1024 * 1024);
		break;
	case 'F':
		o->sample_hz = parse_count(state, "-F", arg, 1, 10000);
		break;
	case OPT_NO_STACKS:
		o->stacks = false;
		break;
	case OPT_STACK_ENTRIES:
		o->stack_entries = parse_count(state, "--stack-entries", arg, 1, 1 << 24);
		break;
	case OPT_STACK_EVERY:
		o->stack_every = parse_count(state, "--stack-every", arg, 1, 1 << 20);
		break;
	case OPT_STACK_RATE:
		o->stack_rate = parse_count(state, "--stack-rate", arg, 0, 1000000);
		o->stack_rate_set = true;
		break;
	case OPT_STACK_AUDIT:
		o->stack_audit = true;
		break;
	case OPT_UNWIND_ROWS:
		o->unwind_rows =
			parse_count(state, "--unwind-rows", arg, 1024, WEFT_UNWIND_MAX_ROWS);
		break;
	case OPT_PYTHON:
		if (!strcmp(arg, "auto"))
			o->python = true;
		else if (!strcmp(arg, "off"))
			o->python = false;
		else
			argp_failure(state, 2, 0, "invalid --python: %s (auto or off)", arg);
		break;
	case OPT_UNWIND:
		if (!strcmp(arg, "tables"))
			o->unwind_tables = true;
		else if (!strcmp(arg, "fp"))
			o->unwind_tables = false;
		else
			argp_failure(state, 2, 0, "invalid --unwind: %s (tables or fp)", arg);
		break;
	case OPT_LOCKS:
		if (parse_locks(arg, o))
			argp_failure(state, 2, 0,
				     "invalid --locks: %s (futex, kernel, pthread or none)", arg);
		break;
	case OPT_META:
		eq = strchr(arg, '=');
		if (!eq || eq == arg)
			argp_failure(state, 2, 0, "invalid --meta: %s (KEY=VALUE)", arg);
		name = strndup(arg, eq - arg);
		if (!name || weft_kv__set(o->meta, name, eq + 1))
			argp_failure(state, 1, ENOMEM, "--meta");
		free(name);
		break;
	case ARGP_KEY_ARG:
		/* The command and all its arguments, options included. */
		o->argv = &state->argv[state->next - 1];
		o->argc = state->argc - (state->next - 1);
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (!o->argv && !o->npids)
			argp_failure(state, 2, 0,
				     "no command to record: give -- CMD [ARG...] or -p PID");
		if (o->argv && o->npids)
			argp_failure(state, 2, 0, "give either a command or -p PID, not both");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct argp argp = { .options = record_options,
			     .parser = record_parse_arg,
			     .args_doc = record_args_doc,
			     .doc = record_doc,
			     .help_filter = cmd_help_exit_record };
	struct record_opts opts = {
		.ring_kb = RECORD_DEFAULT_RING_KB,
		.lock_futex = true,
		.lock_kernel = true,
		.stacks = true,
		.sample_hz = RECORD_DEFAULT_SAMPLE_HZ,
		.stack_entries = RECORD_DEFAULT_STACK_ENTRIES,
		.unwind_tables = true,
		.python = true,
		.unwind_rows = RECORD_DEFAULT_UNWIND_ROWS,
		.stack_every = RECORD_DEFAULT_STACK_EVERY,
		.stack_rate = RECORD_DEFAULT_STACK_RATE,
	};
	int status;

	opts.meta = weft_kv__new();
	if (!opts.meta) {
		elog("out of memory");
		return 1;
	}
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, &opts)) {
		weft_kv__free(opts.meta);
		return 2;
	}
	if (opts.stack_every == 1 && !opts.stack_rate_set)
		opts.stack_rate = 0;
	opts.progress = isatty(STDERR_FILENO);
	status = record_run(&opts);
	weft_kv__free(opts.meta);
	return status;
}
