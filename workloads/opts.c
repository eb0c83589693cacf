// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "work.h"

enum {
	OPT_SWITCH_INTERVAL = 256,
	OPT_CHECK,
	OPT_DIE_AT_UNIT,
};

static const struct option long_options[] = {
	{ "task", required_argument, NULL, 't' },
	{ "mode", required_argument, NULL, 'm' },
	{ "workers", required_argument, NULL, 'w' },
	{ "units", required_argument, NULL, 'u' },
	{ "size", required_argument, NULL, 's' },
	{ "latency", required_argument, NULL, 'l' },
	{ "switch-interval", required_argument, NULL, OPT_SWITCH_INTERVAL },
	{ "json", no_argument, NULL, 'j' },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "die-at-unit", required_argument, NULL, OPT_DIE_AT_UNIT },
	{ "help", no_argument, NULL, 'h' },
	{},
};

void work_usage(FILE *f)
{
	fprintf(f,
		"Usage: weft-work --task TASK --mode MODE [OPTION...]\n"
		"\n"
		"Does one task, split into independent units, in one concurrency model, and\n"
		"prints \"model task units workers elapsed_s checksum\". The checksum depends only\n"
		"on the task, units and size: it is the same in every model.\n"
		"\n"
		"Tasks (one unit):\n"
		"  cpu    sum SIZE consecutive integers (count += i, which the compiler cannot\n"
		"         fold)\n"
		"  io     wait LATENCY ms for a simulated request, then checksum a %d-byte\n"
		"         reply\n"
		"  mixed  the io wait, then the cpu sum\n"
		"\n"
		"Models:\n"
		"  sync       one thread, one unit after another\n"
		"  threads    WORKERS threads taking units from a mutex/condvar queue\n"
		"  gil        WORKERS threads that compute only while holding one global lock,\n"
		"             as CPython's GIL: a waiter asks the holder to drop it after one\n"
		"             switch interval; io waits release it\n"
		"  eventloop  one thread, epoll over one timerfd per outstanding unit; cpu work\n"
		"             runs inline and holds the loop\n"
		"  procs      WORKERS forked processes, units split statically, results over\n"
		"             pipes\n"
		"  pool       a parent handing units one at a time over pipes to WORKERS\n"
		"             processes\n"
		"\n"
		"Options:\n"
		"  -t, --task TASK            cpu, io or mixed (required)\n"
		"  -m, --mode MODE            the model (required)\n"
		"  -w, --workers N            threads or processes, 1..%d (default: online\n"
		"                             CPUs, %ld here; sync and eventloop use one\n"
		"                             thread)\n"
		"  -u, --units N              units of work, 0..%ld (default: %d for cpu,\n"
		"                             %d for io and mixed)\n"
		"  -s, --size N               additions per cpu unit, 1..%lld (default:\n"
		"                             %lld, about 24 ms on a current core); io\n"
		"                             ignores it\n"
		"  -l, --latency MS           wait per io unit in ms, 0..%d, decimals allowed\n"
		"                             (default: %d); cpu ignores it\n"
		"      --switch-interval MS   gil switch interval in ms, decimals allowed\n"
		"                             (default: %d)\n"
		"  -j, --json                 print one JSON object; its checksum is a string\n"
		"                             \"0x...\"\n"
		"      --check                gil: count threads holding the lock at once\n"
		"                             (must be 1) and lock handovers; reported on\n"
		"                             stderr, and in the JSON as gil_max_concurrent\n"
		"                             and gil_handovers\n"
		"  -h, --help                 this text\n"
		"\n"
		"Defaults take about 1.5 s with --task cpu --mode sync, 1 s with --task io.\n"
		"\n"
		"Examples:\n"
		"  weft-work --task cpu --mode sync                          # about 1.5 s\n"
		"  weft-work --task cpu --mode gil --workers 4 --check       # count holders\n"
		"  weft-work --task io --mode eventloop --units 1000         # 1000 waits\n"
		"  weft-work --task mixed --mode pool --json                 # one JSON object\n"
		"  sudo weft record -- weft-work --task cpu --mode threads   # under weft\n",
		IO_REPLY_BYTES, WORK_MAX_WORKERS, sysconf(_SC_NPROCESSORS_ONLN), WORK_MAX_UNITS,
		WORK_DEFAULT_UNITS_CPU, WORK_DEFAULT_UNITS_IO, WORK_MAX_SIZE, WORK_DEFAULT_SIZE,
		WORK_MAX_LATENCY_MS, WORK_DEFAULT_LATENCY_MS, WORK_DEFAULT_SWITCH_INTERVAL_MS);
}

static int parse_error(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int parse_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Decimal digits only: strtoll alone would take leading spaces, a sign and
 * trailing junk after an explicit end check is forgotten. */
static int parse_integer(const char *s, long long min, long long max, long long *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '-')
		p++;
	if (!*p)
		return -EINVAL;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Milliseconds as digits with at most one decimal point: no sign, exponent,
 * hex float, inf or nan. */
static int parse_ms(const char *s, double min, double max, uint64_t *ns)
{
	int digits = 0, dots = 0;
	char *end;
	double v;

	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.')
			dots++;
		else
			return -EINVAL;
	}
	if (!digits || dots > 1)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return -ERANGE;
	*ns = (uint64_t)llround(v * 1e6);
	return 0;
}

void work_opts__defaults(struct work_opts *opts, enum work_task task, enum work_mode mode)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(opts, 0, sizeof(*opts));
	opts->task = task;
	opts->mode = mode;
	opts->workers = ncpu < 1 ? 1 : ncpu > WORK_MAX_WORKERS ? WORK_MAX_WORKERS : (int)ncpu;
	opts->units = task == WORK_TASK_CPU ? WORK_DEFAULT_UNITS_CPU : WORK_DEFAULT_UNITS_IO;
	opts->size = WORK_DEFAULT_SIZE;
	opts->latency_ns = WORK_DEFAULT_LATENCY_MS * 1000000ULL;
	opts->switch_interval_ns = WORK_DEFAULT_SWITCH_INTERVAL_MS * 1000000ULL;
	opts->die_at_unit = -1;
}

int work_opts__parse(struct work_opts *opts, int argc, char **argv, char *errbuf, size_t errlen)
{
	int task = -1, mode = -1, workers = 0, opt, err;
	long long units = -1, size = 0, die_at_unit = -1, v;
	uint64_t latency_ns = UINT64_MAX, interval_ns = 0;
	bool json = false, check = false;

	/* optind 0 makes glibc start afresh; '+' stops at the first operand
	 * instead of permuting argv; ':' reports a missing argument as ':'. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:t:m:w:u:s:l:jh", long_options, NULL)) != -1) {
		switch (opt) {
		case 't':
			task = work_task_from_name(optarg);
			if (task < 0)
				return parse_error(errbuf, errlen,
						   "unknown task '%s' (expected cpu, io or mixed)",
						   optarg);
			break;
		case 'm':
			mode = work_mode_from_name(optarg);
			if (mode < 0)
				return parse_error(
					errbuf, errlen,
					"unknown mode '%s' (expected sync, threads, gil, eventloop, procs or pool)",
					optarg);
			break;
		case 'w':
			if (parse_integer(optarg, 1, WORK_MAX_WORKERS, &v))
				return parse_error(
					errbuf, errlen,
					"--workers must be an integer from 1 to %d, not '%s'",
					WORK_MAX_WORKERS, optarg);
			workers = (int)v;
			break;
		case 'u':
			if (parse_integer(optarg, 0, WORK_MAX_UNITS, &units))
				return parse_error(
					errbuf, errlen,
					"--units must be an integer from 0 to %ld, not '%s'",
					WORK_MAX_UNITS, optarg);
			break;
		case 's':
			if (parse_integer(optarg, 1, WORK_MAX_SIZE, &size))
				return parse_error(
					errbuf, errlen,
					"--size must be an integer from 1 to %lld, not '%s'",
					WORK_MAX_SIZE, optarg);
			break;
		case 'l':
			if (parse_ms(optarg, 0, WORK_MAX_LATENCY_MS, &latency_ns))
				return parse_error(
					errbuf, errlen,
					"--latency must be milliseconds from 0 to %d, not '%s'",
					WORK_MAX_LATENCY_MS, optarg);
			break;
		case OPT_SWITCH_INTERVAL:
			err = parse_ms(optarg, 0, WORK_MAX_SWITCH_INTERVAL_MS, &interval_ns);
			if (err || interval_ns < 1000)
				return parse_error(
					errbuf, errlen,
					"--switch-interval must be milliseconds from 0.001 to %d, not '%s'",
					WORK_MAX_SWITCH_INTERVAL_MS, optarg);
			break;
		case 'j':
			json = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_DIE_AT_UNIT:
			if (parse_integer(optarg, -1, WORK_MAX_UNITS, &die_at_unit))
				return parse_error(errbuf, errlen, "bad --die-at-unit '%s'",
						   optarg);
			break;
		case 'h':
			return WORK_OPTS_HELP;
		case ':':
			return parse_error(errbuf, errlen, "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			/* A bad long option, or a value given to --json, is
			 * best shown as written; optopt names a bad short one. */
			if (optind > 0 && !strncmp(argv[optind - 1], "--", 2))
				return parse_error(errbuf, errlen, "unrecognized option '%s'",
						   argv[optind - 1]);
			return parse_error(errbuf, errlen, "unrecognized option '-%c'", optopt);
		}
	}
	if (optind < argc)
		return parse_error(errbuf, errlen, "unexpected argument '%s'", argv[optind]);
	if (task < 0)
		return parse_error(errbuf, errlen, "missing --task (cpu, io or mixed)");
	if (mode < 0)
		return parse_error(errbuf, errlen,
				   "missing --mode (sync, threads, gil, eventloop, procs or pool)");

	work_opts__defaults(opts, task, mode);
	if (workers)
		opts->workers = workers;
	if (units >= 0)
		opts->units = units;
	if (size)
		opts->size = size;
	if (latency_ns != UINT64_MAX)
		opts->latency_ns = latency_ns;
	if (interval_ns)
		opts->switch_interval_ns = interval_ns;
	opts->json = json;
	opts->check = check;
	opts->die_at_unit = die_at_unit;
	return 0;
}
