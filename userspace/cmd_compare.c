// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft compare: record weft-work in each concurrency model (or take
 * existing recordings) and print one table. Options and wiring; the table
 * is compare.c's. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include "analysis.h"
#include "cmd.h"
#include "compare.h"
#include "file.h"
#include "helper_path.h"
#include "kv.h"
#include "json.h"
#include "launch.h"
#include "log.h"
#include "output.h"
#include "output_html.h"
#include "recording.h"

#define MAX_MODES 6
#define MAX_FILES 64
#define MAX_REPEAT 99

static const char *const all_modes[MAX_MODES] = { "sync",      "threads", "gil",
						  "eventloop", "procs",	  "pool" };

struct compare_opts {
	const char *task;
	const char *modes[MAX_MODES];
	int nmodes;
	const char *workers, *units, *size, *latency;
	int repeat;
	const char *keep;
	enum compare_format format;
	const char *output; /* -o */
	const char *files[MAX_FILES];
	int nfiles;
};

enum {
	OPT_FORMAT = 0x100,
	OPT_TASK,
	OPT_MODES,
	OPT_WORKERS,
	OPT_UNITS,
	OPT_SIZE,
	OPT_LATENCY,
	OPT_REPEAT,
	OPT_KEEP,
};

static const char compare_doc[] =
	"Run the same task in every concurrency model under weft and compare them, or compare "
	"existing recordings."
	"\v"
	"Examples:\n"
	"  sudo weft compare --task cpu                         # all six models\n"
	"  sudo weft compare --task io --modes sync,eventloop   # two models\n"
	"  weft compare a.data b.data --format markdown         # two recordings\n"
	"  weft compare a.data b.data --format html -o ab.html  # as one page";

static const char compare_args_doc[] = "--task cpu|io|mixed\nFILE...";

static const struct argp_option compare_options[] = {
	{ "task", OPT_TASK, "TASK", 0, "cpu, io or mixed: record weft-work in each model", 0 },
	{ "modes", OPT_MODES, "LIST", 0,
	  "Models to run, comma-separated (default sync,threads,gil,eventloop,procs,pool)", 0 },
	{ "workers", OPT_WORKERS, "N", 0, "Workers (threads or processes); default: online CPUs",
	  0 },
	{ "units", OPT_UNITS, "N", 0, "Units of work (default: weft-work's)", 0 },
	{ "size", OPT_SIZE, "N", 0, "Size of a cpu unit (weft-work's default)", 0 },
	{ "latency", OPT_LATENCY, "MS", 0, "Latency of an io unit (weft-work's default)", 0 },
	{ "repeat", OPT_REPEAT, "N", 0, "Run each model N times, interleaved; report medians", 0 },
	{ "keep", OPT_KEEP, "DIR", 0, "Keep the recordings in DIR", 0 },
	{ "format", OPT_FORMAT, "FMT", 0,
	  "text (default), markdown, json, csv, or html (a self-contained page; needs -o)", 0 },
	{ "output", 'o', "FILE", 0, "Write the comparison to FILE instead of stdout", 0 },
	{},
};

static bool is_number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return !errno && end != s && !*end && v > 0;
}

static int parse_modes(char *list, struct compare_opts *o, struct argp_state *state)
{
	char *tok, *save = NULL;
	int i;

	o->nmodes = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < MAX_MODES; i++)
			if (!strcmp(tok, all_modes[i]))
				break;
		if (i == MAX_MODES)
			argp_failure(
				state, 2, 0,
				"unknown model '%s' (sync, threads, gil, eventloop, procs, pool)",
				tok);
		if (o->nmodes < MAX_MODES)
			o->modes[o->nmodes++] = all_modes[i];
	}
	return o->nmodes ? 0 : -EINVAL;
}

static error_t compare_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct compare_opts *o = state->input;

	switch (key) {
	case OPT_TASK:
		if (strcmp(arg, "cpu") && strcmp(arg, "io") && strcmp(arg, "mixed"))
			argp_failure(state, 2, 0, "unknown task '%s' (cpu, io or mixed)", arg);
		o->task = arg;
		break;
	case OPT_MODES:
		if (parse_modes(arg, o, state))
			argp_failure(state, 2, 0, "no models in --modes");
		break;
	case OPT_WORKERS:
	case OPT_UNITS:
	case OPT_SIZE:
	case OPT_LATENCY:
		if (!is_number(arg))
			argp_failure(state, 2, 0, "invalid number: %s", arg);
		*(key == OPT_WORKERS ? &o->workers :
		  key == OPT_UNITS   ? &o->units :
		  key == OPT_SIZE    ? &o->size :
				       &o->latency) = arg;
		break;
	case OPT_REPEAT:
		if (!is_number(arg) || atoi(arg) > MAX_REPEAT)
			argp_failure(state, 2, 0, "invalid --repeat: %s (1 to %d)", arg,
				     MAX_REPEAT);
		o->repeat = atoi(arg);
		break;
	case OPT_KEEP:
		o->keep = arg;
		break;
	case OPT_FORMAT: {
		/* in the order of enum compare_format */
		static const char *const names[] = { "text", "markdown|md", "json",
						     "csv",  "html",	    NULL };

		o->format = cmd_arg_choice(state, "--format", arg, names);
		break;
	}
	case 'o':
		o->output = arg;
		break;
	case ARGP_KEY_ARG:
		if (o->nfiles == MAX_FILES)
			argp_failure(state, 2, 0, "at most %d recordings", MAX_FILES);
		o->files[o->nfiles++] = arg;
		break;
	case ARGP_KEY_END:
		if (!o->task && !o->nfiles)
			argp_failure(state, 2, 0,
				     "nothing to compare: give --task TASK or FILE...");
		if (o->task && o->nfiles)
			argp_failure(state, 2, 0, "give either --task or recordings, not both");
		if (o->format == COMPARE_HTML && !o->output)
			argp_failure(state, 2, 0, "--format html writes a page: give -o FILE.html");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct run_result {
	char elapsed[32];
	char checksum[COMPARE_NAME_LEN];
	char workers[16];
};

/* A member of weft-work's --json result that compare keeps */
static int take_result(void *ctx, const char *key, enum json_type type, const char *value,
		       size_t len)
{
	struct run_result *res = ctx;
	char *out = NULL;
	size_t size = 0;

	if (!strcmp(key, "elapsed_s") && type == JSON_NUMBER) {
		out = res->elapsed;
		size = sizeof(res->elapsed);
	} else if (!strcmp(key, "checksum") && (type == JSON_STRING || type == JSON_NUMBER)) {
		out = res->checksum;
		size = sizeof(res->checksum);
	} else if (!strcmp(key, "workers") && type == JSON_NUMBER) {
		out = res->workers;
		size = sizeof(res->workers);
	}
	if (out)
		snprintf(out, size, "%.*s", (int)len, value);
	return 0;
}

static int read_all(int fd, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;

	while (off + 1 < size && (n = read(fd, buf + off, size - off - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += n;
	}
	buf[off] = '\0';
	return 0;
}

/* One model under `weft record`, run as a separate process so that its
 * signal handling and exit are its own. */
static int record_model(const struct compare_opts *o, const char *work, const char *mode,
			const char *data, struct run_result *res)
{
	char self[PATH_MAX], out[4096], errbuf[4096];
	const char *argv[40];
	int pipefd[2], status, argc = 0, log_fd, err = 0;
	pid_t pid;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -errno;
	self[n] = '\0';
	argv[argc++] = "weft";
	argv[argc++] = "record";
	argv[argc++] = "-o";
	argv[argc++] = data;
	argv[argc++] = "--";
	argv[argc++] = work;
	argv[argc++] = "--task";
	argv[argc++] = o->task;
	argv[argc++] = "--mode";
	argv[argc++] = mode;
	argv[argc++] = "--json";
#define PASS(opt, val)              \
	if (val) {                  \
		argv[argc++] = opt; \
		argv[argc++] = val; \
	}
	PASS("--workers", o->workers);
	PASS("--units", o->units);
	PASS("--size", o->size);
	PASS("--latency", o->latency);
#undef PASS
	argv[argc] = NULL;

	/* weft record's messages, read back if it fails: a file without a
	 * name, since the folder belongs to the user behind sudo, who could
	 * plant a link where root would open one */
	log_fd = memfd_create("weft-compare-log", MFD_CLOEXEC);
	if (log_fd < 0)
		return -errno;
	if (pipe2(pipefd, O_CLOEXEC)) {
		err = -errno;
		close(log_fd);
		return err;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
		execv(self, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	err = read_all(pipefd[0], out, sizeof(out));
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		lseek(log_fd, 0, SEEK_SET);
		read_all(log_fd, errbuf, sizeof(errbuf));
		elog("weft-work --mode %s failed: %s", mode,
		     errbuf[0] ? strtok(errbuf, "\n") : "no message");
		err = -ECHILD;
	}
	close(log_fd);
	if (err)
		return err;
	memset(res, 0, sizeof(*res));
	if (json_scan_object(out, strlen(out), take_result, res) || !res->elapsed[0] ||
	    !res->checksum[0]) {
		elog("weft-work --mode %s printed no result", mode);
		return -EINVAL;
	}
	return 0;
}

static int note_result(const char *data, const char *task, const char *mode,
		       const struct run_result *res)
{
	struct weft_kv *notes = weft_kv__new();
	char err[256];
	int ret;

	if (!notes)
		return -ENOMEM;
	weft_kv__set(notes, "model", mode);
	weft_kv__set(notes, "task", task);
	weft_kv__set(notes, "elapsed_s", res->elapsed);
	weft_kv__set(notes, "checksum", res->checksum);
	if (res->workers[0])
		weft_kv__set(notes, "workers", res->workers);
	ret = weft_file__append_notes(data, notes, err, sizeof(err));
	if (ret)
		elog("%s", err);
	weft_kv__free(notes);
	return ret;
}

/* A row from a recording; with series (the HTML page), its R(t) and Q(t)
 * too, from the same pass */
static int row_from_file(const char *path, struct compare_row *row, struct html_series **series)
{
	const struct analysis_opts *aopts;
	struct recording_tap tap;
	struct recording *rec;
	const char *base = strrchr(path, '/');
	char err[512];

	if (!series) {
		rec = recording_analyze(path, err, sizeof(err));
		if (!rec) {
			elog("%s", err);
			return -EINVAL;
		}
	} else {
		rec = recording_open(path, &aopts, err, sizeof(err));
		if (!rec) {
			elog("%s", err);
			return -EINVAL;
		}
		*series = html_series__new(aopts->start_ns, false);
		if (!*series) {
			elog("%s: %s", path, strerror(ENOMEM));
			recording_free(rec);
			return -ENOMEM;
		}
		tap = (struct recording_tap){ html_series__feed, html_series__slice, *series };
		if (recording_run(rec, &tap, err, sizeof(err)) < 0) {
			elog("%s", err);
			recording_free(rec);
			return -EINVAL;
		}
		html_series__window(*series, recording_metrics(rec));
	}
	compare_row_from_metrics(row, recording_metrics(rec), weft_file__notes(recording_file(rec)),
				 base ? base + 1 : path);
	recording_free(rec);
	return 0;
}

/* The figures of runs on a machine busy with other programs are theirs as
 * much as the models': one warning on stderr for all such runs, naming the
 * worst. */
struct others_warning {
	int runs, busy;
	double worst;
	char worst_run[96];
};

static void note_others(struct others_warning *w, const struct compare_row *row, const char *name,
			int run, int runs)
{
	w->runs++;
	if (row->others_share <= COMPARE_OTHERS_WARN)
		return;
	w->busy++;
	if (row->others_share > w->worst) {
		w->worst = row->others_share;
		if (runs > 1)
			snprintf(w->worst_run, sizeof(w->worst_run), "%s run %d", name, run);
		else
			snprintf(w->worst_run, sizeof(w->worst_run), "%s", name);
	}
}

static void warn_others(const struct others_warning *w)
{
	if (!w->busy)
		return;
	elog("warning: other programs held more than %.0f%% of the cores in %d of %d runs (%.0f%% "
	     "in %s): the figures are theirs as much as the models'",
	     100 * COMPARE_OTHERS_WARN, w->busy, w->runs, 100 * w->worst, w->worst_run);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* DIR/MODEL-RUN.data: the recordings --keep leaves */
static int recording_path(char *buf, size_t size, const char *dir, const char *mode, int run)
{
	return snprintf(buf, size, "%s/%s-%d.data", dir, mode, run + 1) < (int)size ? 0 :
										      -ENAMETOOLONG;
}

static int remove_tree(const char *dir, const struct compare_opts *o)
{
	char path[PATH_MAX];
	int m, r;

	for (r = 0; r < o->repeat; r++)
		for (m = 0; m < o->nmodes; m++)
			if (!recording_path(path, sizeof(path), dir, o->modes[m], r))
				unlink(path);
	return rmdir(dir);
}

static int run_models(const struct compare_opts *o, struct compare_row *rows,
		      struct html_series **series, struct others_warning *warning)
{
	struct compare_row runs[MAX_MODES][MAX_REPEAT];
	struct html_series *run_series[MAX_MODES][MAX_REPEAT] = { { NULL } };
	char work[PATH_MAX], dir[PATH_MAX], data[PATH_MAX + 64];
	bool tty = isatty(STDERR_FILENO);
	struct run_result res;
	struct run_as ra;
	char errbuf[256];
	bool made;
	double start = now_s();
	int m, r, err = 0, done = 0;

	if (helper_path__find_own("weft-work", work, sizeof(work))) {
		elog("weft-work not found beside weft, in " HELPER_LIBEXEC_DIR
		     " from it, or on PATH: build it with make, or install both with make install");
		return -ENOENT;
	}
	if (o->keep) {
		made = !mkdir(o->keep, 0755);
		if (!made && errno != EEXIST) {
			elog("Failed to create %s: %s", o->keep, strerror(errno));
			return -errno;
		}
		snprintf(dir, sizeof(dir), "%s", o->keep);
	} else {
		snprintf(dir, sizeof(dir), "/tmp/weft-compare.XXXXXX");
		made = mkdtemp(dir) != NULL;
		if (!made) {
			elog("Failed to create a temporary folder: %s", strerror(errno));
			return -errno;
		}
	}
	/* weft record creates each recording as the user behind sudo: the
	 * folder weft made is theirs */
	if (made && !run_as_resolve(NULL, &ra, errbuf, sizeof(errbuf)) && ra.drop &&
	    chown(dir, ra.uid, ra.gid)) {
		elog("Failed to give %s to %s: %s", dir, ra.user, strerror(errno));
		return -errno;
	}
	/* Interleaved (A B C A B C ...), so that a slow phase of the machine
	 * is spread over every model rather than landing on one. Progress
	 * goes to stderr either way: a line per run when it is not a
	 * terminal, so a log shows where the minutes went. */
	for (r = 0; r < o->repeat && !err; r++) {
		for (m = 0; m < o->nmodes && !err; m++) {
			fprintf(stderr, "%sweft compare: %s %s (%d of %d), %.1f s%s",
				tty ? "\r" : "", o->task, o->modes[m], ++done,
				o->repeat * o->nmodes, now_s() - start, tty ? "  " : "\n");
			err = recording_path(data, sizeof(data), dir, o->modes[m], r);
			if (!err)
				err = record_model(o, work, o->modes[m], data, &res);
			if (!err)
				err = note_result(data, o->task, o->modes[m], &res);
			if (!err)
				err = row_from_file(data, &runs[m][r],
						    series ? &run_series[m][r] : NULL);
			if (!err && tty)
				fprintf(stderr, "\r\033[K");
			if (!err)
				note_others(warning, &runs[m][r], o->modes[m], r + 1, o->repeat);
		}
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (!o->keep)
		remove_tree(dir, o);
	for (m = 0; m < o->nmodes && !err; m++) {
		compare_row_median(&rows[m], runs[m], o->repeat);
		/* the page draws the median run, the one whose figures the row has */
		for (r = 0; series && r < o->repeat; r++)
			if (!series[m] && runs[m][r].wall_s == rows[m].wall_s) {
				series[m] = run_series[m][r];
				run_series[m][r] = NULL;
			}
	}
	for (m = 0; m < o->nmodes; m++)
		for (r = 0; r < o->repeat; r++)
			html_series__free(run_series[m][r]);
	return err;
}

static int terminal_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return cols && atoi(cols) > 0 ? atoi(cols) : 100;
}

int cmd_compare(int argc, char **argv)
{
	struct argp argp = { .options = compare_options,
			     .parser = compare_parse_arg,
			     .args_doc = compare_args_doc,
			     .doc = compare_doc,
			     .help_filter = cmd_help_exit_reader };
	struct compare_opts opts = { .repeat = 1 };
	struct others_warning warning = { 0 };
	struct compare_row rows[MAX_FILES];
	struct html_series *series[MAX_FILES] = { NULL };
	struct output_file ofile = { .f = NULL };
	FILE *out = stdout;
	int i, n, err = 0, status = 1;

	if (argp_parse(&argp, argc, argv, 0, NULL, &opts))
		return 2;
	/* an unwritable -o fails before minutes of recording; a file
	 * already there stays as it was until the new one is whole */
	if (opts.output && !(out = output_file__open(&ofile, opts.output)))
		return 1;
	if (opts.task) {
		if (!opts.nmodes) {
			for (i = 0; i < MAX_MODES; i++)
				opts.modes[i] = all_modes[i];
			opts.nmodes = MAX_MODES;
		}
		if (geteuid() != 0) {
			elog("weft compare --task records with eBPF: run it with sudo (comparing "
			     "recordings needs no root: weft compare FILE...)");
			goto cleanup;
		}
		err = run_models(&opts, rows, opts.format == COMPARE_HTML ? series : NULL,
				 &warning);
		n = opts.nmodes;
	} else {
		for (i = 0; i < opts.nfiles && !err; i++) {
			err = row_from_file(opts.files[i], &rows[i],
					    opts.format == COMPARE_HTML ? &series[i] : NULL);
			if (!err)
				note_others(&warning, &rows[i], opts.files[i], 1, 1);
		}
		n = opts.nfiles;
	}
	if (err)
		goto cleanup;
	warn_others(&warning);
	compare_rows_finish(rows, n, opts.task != NULL || compare_rows_one_task(rows, n));
	if (opts.format == COMPARE_HTML)
		err = output_html_compare(out, opts.task, rows,
					  (const struct html_series *const *)series, n);
	else
		err = compare_print(out, opts.format, opts.task, rows, n, terminal_width());
	if (opts.output) {
		if (output_file__close(&ofile, !err) && !err)
			goto cleanup; /* said */
	} else if (!err && fflush(out)) {
		err = -errno;
	}
	if (err) {
		elog("Failed to write %s: %s",
		     opts.output ? output_file__name(&ofile) : "the table", strerror(-err));
		goto cleanup;
	}
	status = 0;
cleanup:
	/* no half-written file after a failure, and FILE as it was */
	output_file__close(&ofile, false);
	for (i = 0; i < MAX_FILES; i++)
		html_series__free(series[i]);
	return status;
}
