// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "compare.h"
#include "json.h"
#include "kv.h"

#define NOTE_MODEL "model"
#define NOTE_TASK "task"
#define NOTE_ELAPSED "elapsed_s"
#define NOTE_CHECKSUM "checksum"
#define NOTE_WORKERS "workers"

void compare_row_from_metrics(struct compare_row *row, const struct weft_metrics *m,
			      const struct weft_kv *notes, const char *fallback_name)
{
	const char *model = notes ? weft_kv__get(notes, NOTE_MODEL) : NULL;
	const char *task = notes ? weft_kv__get(notes, NOTE_TASK) : NULL;
	const char *elapsed = notes ? weft_kv__get(notes, NOTE_ELAPSED) : NULL;
	const char *checksum = notes ? weft_kv__get(notes, NOTE_CHECKSUM) : NULL;
	const char *workers = notes ? weft_kv__get(notes, NOTE_WORKERS) : NULL;
	unsigned int i;

	memset(row, 0, sizeof(*row));
	snprintf(row->model, sizeof(row->model), "%s", model ? model : fallback_name);
	snprintf(row->task, sizeof(row->task), "%s", model && task ? task : "");
	snprintf(row->checksum, sizeof(row->checksum), "%s", checksum ? checksum : "");
	row->workers = workers ? strtoul(workers, NULL, 10) : 0;
	row->elapsed_s = elapsed ? strtod(elapsed, NULL) : -1;
	row->wall_s = m->wall_s;
	row->speedup = -1;
	row->on_cpu_s = m->on_cpu_s;
	row->parallelism_avg = m->parallelism.avg;
	row->parallelism_max = m->parallelism.max;
	row->concurrency_avg = m->concurrency.avg;
	row->interleaved_share = m->interleaving.interleaved_share;
	row->serialized_share = m->wall_s > 0 ? m->serialized_s / m->wall_s : -1;
	row->top_wait[0] = '\0';
	row->threads = m->nr_threads;
	row->processes = m->nr_processes;
	for (i = 0; i < m->nr_processes; i++)
		row->maxrss_kb += m->processes[i].maxrss_kb;
	if (!row->maxrss_kb && m->rusage.valid)
		row->maxrss_kb = m->rusage.maxrss_kb;
	row->switches_per_s =
		m->wall_s > 0 ? (m->switches.voluntary + m->switches.involuntary) / m->wall_s : 0;
	row->checksum_ok = -1;
	snprintf(row->verdict, sizeof(row->verdict), "%s", m->verdict);
	weft_metrics__top_wait(m, row->top_wait, sizeof(row->top_wait), &row->top_wait_share);
	row->lock_waits = weft_metrics__lock_waits(m);
	row->handoffs_per_s = m->nr_locks && m->wall_s > 0 ? m->locks[0].handoffs / m->wall_s : 0;
	row->others_share = weft_metrics__others_share(m);
	row->runs = 1;
	for (i = 0; i < COMPARE_FIGURES; i++)
		row->lo[i] = row->hi[i] = compare_row__figure(row, i);
}

double compare_row__figure(const struct compare_row *row, enum compare_figure fig)
{
	switch (fig) {
	case FIG_WALL:
		return row->wall_s;
	case FIG_ELAPSED:
		return row->elapsed_s;
	case FIG_ON_CPU:
		return row->on_cpu_s;
	case FIG_PARALLELISM:
		return row->parallelism_avg;
	case FIG_PARALLELISM_MAX:
		return row->parallelism_max;
	case FIG_CONCURRENCY:
		return row->concurrency_avg;
	case FIG_INTERLEAVED:
		return row->interleaved_share;
	case FIG_SERIALIZED:
		return row->serialized_share;
	case FIG_TOP_WAIT_SHARE:
		return row->top_wait_share;
	case FIG_THREADS:
		return row->threads;
	case FIG_PROCESSES:
		return row->processes;
	case FIG_MAXRSS:
		return (double)row->maxrss_kb;
	case FIG_SWITCHES:
		return row->switches_per_s;
	case FIG_LOCK_WAITS:
		return (double)row->lock_waits;
	case FIG_HANDOFFS:
		return row->handoffs_per_s;
	case COMPARE_FIGURES:
		break;
	}
	return 0;
}

void compare_row_median(struct compare_row *out, const struct compare_row *rows, int n)
{
	int order[n], i, j, tmp, f;
	double v;

	/* the runs by wall (insertion sort: n is at most a few dozen) */
	for (i = 0; i < n; i++) {
		order[i] = i;
		for (j = i; j > 0 && rows[order[j]].wall_s < rows[order[j - 1]].wall_s; j--) {
			tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	}
	/* One run's figures, not a median per column: the verdict is that
	 * run's, and a verdict quoting parallelism 0.77 beside a table that
	 * says 0.80 (the median of another run) reads as a mistake. */
	*out = rows[order[(n - 1) / 2]];
	out->runs = n;
	for (f = 0; f < COMPARE_FIGURES; f++) {
		out->lo[f] = out->hi[f] = compare_row__figure(&rows[0], f);
		for (i = 1; i < n; i++) {
			v = compare_row__figure(&rows[i], f);
			out->lo[f] = fmin(out->lo[f], v);
			out->hi[f] = fmax(out->hi[f], v);
		}
	}
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].checksum, rows[0].checksum))
			out->checksum[0] = '\0';
		out->others_share = fmax(out->others_share, rows[i].others_share);
	}
}

bool compare_rows_one_task(const struct compare_row *rows, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!rows[i].task[0] || strcmp(rows[i].task, rows[0].task))
			return false;
	return n > 0;
}

void compare_rows_finish(struct compare_row *rows, int n, bool one_task)
{
	const struct compare_row *ref = &rows[0];
	unsigned int extra_workers;
	int i;

	for (i = 0; one_task && i < n; i++) {
		if (!strcmp(rows[i].model, "sync")) {
			ref = &rows[i];
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (rows[i].checksum[0] && ref->checksum[0])
			rows[i].checksum_ok = !strcmp(rows[i].checksum, ref->checksum);
		/* Walls of different programs say nothing of each other. */
		if (!one_task) {
			rows[i].speedup = -1;
			rows[i].has_rss_per_worker = false;
			continue;
		}
		rows[i].speedup = rows[i].wall_s > 0 ? ref->wall_s / rows[i].wall_s : 0;
		/* Against sync: the memory a worker adds over doing the work
		 * in one thread; otherwise the row's own share per worker. */
		extra_workers = rows[i].workers ? rows[i].workers : 1;
		rows[i].has_rss_per_worker = true;
		if (&rows[i] == ref || strcmp(ref->model, "sync"))
			rows[i].rss_per_worker_kb = rows[i].maxrss_kb / extra_workers;
		else if (rows[i].maxrss_kb > ref->maxrss_kb)
			rows[i].rss_per_worker_kb =
				(rows[i].maxrss_kb - ref->maxrss_kb) / extra_workers;
		else
			rows[i].rss_per_worker_kb = 0;
	}
}

/* The columns every format shows, in order. */
enum column_kind {
	COL_STRING,
	COL_SECONDS,
	COL_RATIO,
	COL_SHARE,
	COL_COUNT,
	COL_KB,
	COL_RATE,
	COL_SPEEDUP,
	COL_RSS_WORKER,
	COL_TOP_WAIT,
	COL_CHECK,
};

struct column {
	const char *header;
	const char *csv;
	enum column_kind kind;
	int fig; /* enum compare_figure, or -1: no range */
};

static const struct column columns[] = {
	{ "model", "model", COL_STRING, -1 },
	{ "wall s", "wall_s", COL_SECONDS, FIG_WALL },
	{ "own s", "elapsed_s", COL_SECONDS, FIG_ELAPSED },
	{ "speedup", "speedup", COL_SPEEDUP, -1 },
	{ "on-CPU s", "on_cpu_s", COL_SECONDS, FIG_ON_CPU },
	{ "parallel", "parallelism_avg", COL_RATIO, FIG_PARALLELISM },
	{ "par max", "parallelism_max", COL_COUNT, FIG_PARALLELISM_MAX },
	{ "concurrent", "concurrency_avg", COL_RATIO, FIG_CONCURRENCY },
	{ "interleaved", "interleaved_share", COL_SHARE, FIG_INTERLEAVED },
	{ "serialized", "serialized_share", COL_SHARE, FIG_SERIALIZED },
	{ "top wait", "top_wait", COL_TOP_WAIT, FIG_TOP_WAIT_SHARE },
	{ "threads", "threads", COL_COUNT, FIG_THREADS },
	{ "processes", "processes", COL_COUNT, FIG_PROCESSES },
	{ "peak RSS", "maxrss_kb", COL_KB, FIG_MAXRSS },
	{ "RSS/worker", "rss_per_worker_kb", COL_RSS_WORKER, -1 },
	{ "switches/s", "switches_per_s", COL_RATE, FIG_SWITCHES },
	{ "lock waits", "lock_waits", COL_COUNT, FIG_LOCK_WAITS },
	{ "handoffs/s", "handoffs_per_s", COL_RATE, FIG_HANDOFFS },
	{ "checksum", "checksum_ok", COL_CHECK, -1 },
};
#define NR_COLUMNS (sizeof(columns) / sizeof(columns[0]))

#define CELL_LEN (COMPARE_NAME_LEN + 16)

/* What a cell shows when there is nothing to show. */
#define NONE "-"

static void format_kb(char *buf, size_t size, double kb)
{
	if (kb >= 10 * 1024 * 1024)
		snprintf(buf, size, "%.1f GB", kb / 1048576.0);
	else if (kb >= 10 * 1024)
		snprintf(buf, size, "%.1f MB", kb / 1024.0);
	else
		snprintf(buf, size, "%.0f kB", kb);
}

/* A number as people read it; csv (plain) wants bare numbers, and ""
 * where a person reads NONE. */
static void format_value(char *buf, size_t size, enum column_kind kind, double d, bool plain)
{
	switch (kind) {
	case COL_SECONDS:
		if (d < 0)
			snprintf(buf, size, plain ? "" : NONE);
		else
			snprintf(buf, size, "%.3f", d);
		break;
	case COL_RATIO:
		snprintf(buf, size, "%.2f", d);
		break;
	case COL_SPEEDUP:
		if (d < 0)
			snprintf(buf, size, plain ? "" : NONE);
		else
			snprintf(buf, size, plain ? "%.4f" : "%.2f", d);
		break;
	case COL_SHARE:
	case COL_TOP_WAIT:
		if (d < 0)
			snprintf(buf, size, plain ? "" : NONE);
		else
			snprintf(buf, size, plain ? "%.4f" : "%.0f%%", plain ? d : 100 * d);
		break;
	case COL_COUNT:
		snprintf(buf, size, "%.0f", d);
		break;
	case COL_KB:
	case COL_RSS_WORKER:
		if (d < 0)
			snprintf(buf, size, plain ? "" : NONE);
		else if (plain)
			snprintf(buf, size, "%.0f", d);
		else
			format_kb(buf, size, d);
		break;
	case COL_RATE:
		snprintf(buf, size, "%.0f", d);
		break;
	case COL_STRING:
	case COL_CHECK:
		buf[0] = '\0';
		break;
	}
}

/* The share under which a top wait reads "0%": shown as nothing rather
 * than "runqueue 0%", which reads as a finding. */
#define TOP_WAIT_MIN_SHARE 0.005

static void format_cell(char *buf, size_t size, const struct column *c,
			const struct compare_row *row, bool plain)
{
	switch (c->kind) {
	case COL_STRING:
		snprintf(buf, size, "%s", row->model);
		break;
	case COL_SPEEDUP:
		format_value(buf, size, c->kind, row->speedup, plain);
		break;
	case COL_RSS_WORKER:
		format_value(buf, size, c->kind,
			     row->has_rss_per_worker ? (double)row->rss_per_worker_kb : -1, plain);
		break;
	case COL_TOP_WAIT:
		if (plain)
			snprintf(buf, size, "%s", row->top_wait);
		else if (!row->top_wait[0] || row->top_wait_share < TOP_WAIT_MIN_SHARE)
			snprintf(buf, size, NONE);
		else
			snprintf(buf, size, "%s %.0f%%", row->top_wait, 100 * row->top_wait_share);
		break;
	case COL_CHECK:
		snprintf(buf, size, "%s",
			 row->checksum_ok < 0 ? (plain ? "" : NONE) :
			 row->checksum_ok     ? (plain ? "true" : "ok") :
						(plain ? "false" : "MISMATCH"));
		break;
	default:
		format_value(buf, size, c->kind, compare_row__figure(row, c->fig), plain);
		break;
	}
}

unsigned int compare_columns(void)
{
	return NR_COLUMNS;
}

const char *compare_column_header(unsigned int c)
{
	return c < NR_COLUMNS ? columns[c].header : "";
}

void compare_cell(char *buf, size_t size, unsigned int c, const struct compare_row *row,
		  double *sort)
{
	char plain[CELL_LEN], *end;

	buf[0] = '\0';
	*sort = NAN;
	if (c >= NR_COLUMNS)
		return;
	format_cell(buf, size, &columns[c], row, false);
	if (columns[c].kind == COL_STRING || columns[c].kind == COL_TOP_WAIT ||
	    columns[c].kind == COL_CHECK)
		return;
	format_cell(plain, sizeof(plain), &columns[c], row, true);
	if (plain[0]) {
		double v = strtod(plain, &end);

		if (!*end)
			*sort = v;
	}
}

/* "lo-hi" over the runs behind the row; "" for a column without a range
 * or a row of one run. */
static void format_range(char *buf, size_t size, const struct column *c,
			 const struct compare_row *row)
{
	char lo[32], hi[32];

	buf[0] = '\0';
	if (c->fig < 0 || row->runs < 2)
		return;
	format_value(lo, sizeof(lo), c->kind, row->lo[c->fig], false);
	format_value(hi, sizeof(hi), c->kind, row->hi[c->fig], false);
	/* nothing where every run agrees, so the spread stands out */
	if (strcmp(lo, hi))
		snprintf(buf, size, "%s-%s", lo, hi);
}

static unsigned int most_runs(const struct compare_row *rows, int n)
{
	unsigned int runs = 1;
	int i;

	for (i = 0; i < n; i++)
		if (rows[i].runs > runs)
			runs = rows[i].runs;
	return runs;
}

static void print_legend(FILE *out, const struct compare_row *rows, int n, bool markdown)
{
	bool one_task = compare_rows_one_task(rows, n), has_sync = false;
	unsigned int runs = most_runs(rows, n);
	int i, fastest = 0;

	for (i = 0; i < n; i++)
		has_sync |= !strcmp(rows[i].model, "sync");
	for (i = 1; i < n; i++)
		if (rows[i].wall_s < rows[fastest].wall_s)
			fastest = i;
	fprintf(out,
		"\nparallel: threads of the program running at once, on average (par max: the most "
		"held\nfor at least 1 ms). interleaved: share of the time a thread waited in a run "
		"queue\nbehind another thread of the same program. serialized: share of the time "
		"one thread\nran (or was ready to) while others waited for a lock they pass between "
		"them.\npeak RSS: each process's peak resident memory, added up (processes alive "
		"together\nboth count). handoffs/s: how often the most waited-for lock changed "
		"hands.\n");
	if (!one_task)
		fprintf(out, "speedup, RSS/worker: only between models of one task.\n");
	else if (has_sync)
		fprintf(out, "speedup: sync's wall over the row's; RSS/worker: what a worker adds "
			     "over sync's.\n");
	else
		fprintf(out, "speedup: the first row's wall over the row's; RSS/worker: the row's "
			     "peak RSS per worker.\n");
	if (runs > 1)
		fprintf(out,
			"Each model's figures and verdict are its median run's (by wall) of %u;\n"
			"%s their range (min-max) over the runs where they differ.\n",
			runs, markdown ? "in brackets," : "on the line below,");
	if (markdown)
		fprintf(out, "\n");
	fprintf(out, "fastest: %s (%.3f s wall)", rows[fastest].model, rows[fastest].wall_s);
	for (i = 0; i < n; i++)
		if (i != fastest && rows[i].wall_s <= rows[fastest].wall_s * 1.05)
			fprintf(out, ", %s within 5%% (%.3f s)", rows[i].model, rows[i].wall_s);
	fprintf(out, "\n");
}

static int print_text(FILE *out, const char *task, const struct compare_row *rows, int n, int width)
{
	bool ranges = most_runs(rows, n) > 1;
	char cell[CELL_LEN];
	int w[NR_COLUMNS], total = 0, label = 0, colw = 0, i;
	size_t c;

	if (task)
		fprintf(out, "weft compare: task %s\n\n", task);
	for (c = 0; c < NR_COLUMNS; c++) {
		w[c] = strlen(columns[c].header);
		for (i = 0; i < n; i++) {
			format_cell(cell, sizeof(cell), &columns[c], &rows[i], false);
			if ((int)strlen(cell) > w[c])
				w[c] = strlen(cell);
			format_range(cell, sizeof(cell), &columns[c], &rows[i]);
			if ((int)strlen(cell) > w[c])
				w[c] = strlen(cell);
		}
		total += w[c] + 2;
		if ((int)strlen(columns[c].header) > label)
			label = strlen(columns[c].header);
		if (w[c] > colw)
			colw = w[c];
	}
	if (total <= width) {
		for (c = 0; c < NR_COLUMNS; c++)
			fprintf(out, "%*s  ", c ? w[c] : -w[c], columns[c].header);
		fprintf(out, "\n");
		for (i = 0; i < n; i++) {
			for (c = 0; c < NR_COLUMNS; c++) {
				format_cell(cell, sizeof(cell), &columns[c], &rows[i], false);
				fprintf(out, "%*s  ", c ? w[c] : -w[c], cell);
			}
			fprintf(out, "\n");
			for (c = 0; ranges && c < NR_COLUMNS; c++) {
				format_range(cell, sizeof(cell), &columns[c], &rows[i]);
				fprintf(out, "%*s  ", c ? w[c] : -w[c], cell);
			}
			if (ranges)
				fprintf(out, "\n");
		}
	} else {
		/* Too wide for the terminal: models become the columns, and a
		 * figure's range the line below it. */
		colw = 0;
		for (c = 0; c < NR_COLUMNS; c++)
			for (i = 0; i < n; i++) {
				format_cell(cell, sizeof(cell), &columns[c], &rows[i], false);
				if ((int)strlen(cell) > colw)
					colw = strlen(cell);
				format_range(cell, sizeof(cell), &columns[c], &rows[i]);
				if ((int)strlen(cell) > colw)
					colw = strlen(cell);
			}
		for (c = 0; c < NR_COLUMNS; c++) {
			fprintf(out, "%-*s", label, c ? columns[c].header : "");
			for (i = 0; i < n; i++) {
				format_cell(cell, sizeof(cell), &columns[c], &rows[i], false);
				fprintf(out, "  %*s", colw, cell);
			}
			fprintf(out, "\n");
			if (!ranges || columns[c].fig < 0)
				continue;
			fprintf(out, "%-*s", label, "");
			for (i = 0; i < n; i++) {
				format_range(cell, sizeof(cell), &columns[c], &rows[i]);
				fprintf(out, "  %*s", colw, cell);
			}
			fprintf(out, "\n");
		}
	}
	fprintf(out, "\nverdicts:\n");
	for (i = 0; i < n; i++)
		fprintf(out, "  %-10s %s\n", rows[i].model, rows[i].verdict);
	print_legend(out, rows, n, false);
	return 0;
}

static int print_markdown(FILE *out, const char *task, const struct compare_row *rows, int n)
{
	char cell[CELL_LEN], range[CELL_LEN];
	size_t c;
	int i;

	if (task)
		fprintf(out, "**weft compare: task %s**\n\n", task);
	for (c = 0; c < NR_COLUMNS; c++)
		fprintf(out, "| %s ", columns[c].header);
	fprintf(out, "| verdict |\n");
	for (c = 0; c <= NR_COLUMNS; c++)
		fprintf(out, "|%s", c ? "---:" : "---");
	fprintf(out, "|\n");
	for (i = 0; i < n; i++) {
		for (c = 0; c < NR_COLUMNS; c++) {
			format_cell(cell, sizeof(cell), &columns[c], &rows[i], false);
			format_range(range, sizeof(range), &columns[c], &rows[i]);
			if (range[0])
				fprintf(out, "| %s [%s] ", cell, range);
			else
				fprintf(out, "| %s ", cell);
		}
		fprintf(out, "| %s |\n", rows[i].verdict);
	}
	print_legend(out, rows, n, true);
	return 0;
}

static void print_csv_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static int print_csv(FILE *out, const struct compare_row *rows, int n)
{
	char cell[CELL_LEN];
	size_t c;
	int i;

	for (c = 0; c < NR_COLUMNS; c++)
		fprintf(out, "%s,", columns[c].csv);
	fprintf(out, "top_wait_share,checksum,verdict\n");
	for (i = 0; i < n; i++) {
		for (c = 0; c < NR_COLUMNS; c++) {
			format_cell(cell, sizeof(cell), &columns[c], &rows[i], true);
			if (columns[c].kind == COL_STRING)
				print_csv_string(out, cell);
			else
				fputs(cell, out);
			fputc(',', out);
		}
		if (rows[i].top_wait[0])
			fprintf(out, "%.4f", rows[i].top_wait_share);
		fputc(',', out);
		print_csv_string(out, rows[i].checksum);
		fputc(',', out);
		print_csv_string(out, rows[i].verdict);
		fputc('\n', out);
	}
	return 0;
}

/* One JSON line: each row's figures as the table shows them, unknown ones
 * null (never a made-up 0), and each figure's [min, max] over the runs
 * keyed as the csv columns. */
static int print_json(FILE *out, const char *task, const struct compare_row *rows, int n)
{
	struct json_writer *w = json_writer__new(out, 0);
	const struct compare_row *r;
	size_t c;
	int i, err;

	if (!w)
		return -errno;
	json_writer__object_begin(w);
	if (task)
		json_writer__string_field(w, "task", task);
	else
		json_writer__null_field(w, "task");
	json_writer__key(w, "rows");
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		r = &rows[i];
		json_writer__object_begin(w);
		json_writer__string_field(w, "model", r->model);
		json_writer__seconds_field(w, "wall_s", r->wall_s);
		json_writer__maybe_field(w, "elapsed_s", r->elapsed_s, JSON_S_DECIMALS,
					 r->elapsed_s >= 0);
		json_writer__maybe_field(w, "speedup", r->speedup, JSON_SHARE_DECIMALS,
					 r->speedup >= 0);
		json_writer__seconds_field(w, "on_cpu_s", r->on_cpu_s);
		json_writer__key(w, "parallelism");
		json_writer__object_begin(w);
		json_writer__share_field(w, "avg", r->parallelism_avg);
		json_writer__uint_field(w, "max", r->parallelism_max);
		json_writer__object_end(w);
		json_writer__key(w, "concurrency");
		json_writer__object_begin(w);
		json_writer__share_field(w, "avg", r->concurrency_avg);
		json_writer__object_end(w);
		json_writer__share_field(w, "interleaved_share", r->interleaved_share);
		json_writer__maybe_field(w, "serialized_share", r->serialized_share,
					 JSON_SHARE_DECIMALS, r->serialized_share >= 0);
		if (r->top_wait[0]) {
			json_writer__key(w, "top_wait");
			json_writer__object_begin(w);
			json_writer__string_field(w, "reason", r->top_wait);
			json_writer__share_field(w, "share", r->top_wait_share);
			json_writer__object_end(w);
		} else {
			json_writer__null_field(w, "top_wait");
		}
		json_writer__uint_field(w, "threads", r->threads);
		json_writer__uint_field(w, "processes", r->processes);
		json_writer__uint_field(w, "maxrss_kb", r->maxrss_kb);
		json_writer__maybe_field(w, "rss_per_worker_kb", (double)r->rss_per_worker_kb, 0,
					 r->has_rss_per_worker);
		json_writer__fixed_field(w, "switches_per_s", r->switches_per_s, 1);
		json_writer__uint_field(w, "lock_waits", r->lock_waits);
		json_writer__fixed_field(w, "lock_handoffs_per_s", r->handoffs_per_s, 1);
		if (r->checksum_ok < 0)
			json_writer__null_field(w, "checksum_ok");
		else
			json_writer__bool_field(w, "checksum_ok", r->checksum_ok);
		json_writer__string_field(w, "checksum", r->checksum);
		json_writer__string_field(w, "verdict", r->verdict);
		json_writer__share_field(w, "others_share", r->others_share);
		json_writer__uint_field(w, "runs", r->runs);
		json_writer__key(w, "spread");
		json_writer__object_begin(w);
		for (c = 0; c < NR_COLUMNS; c++) {
			int fig = columns[c].fig;

			if (fig < 0)
				continue;
			json_writer__key(w, columns[c].csv);
			json_writer__array_begin_flat(w);
			if (r->lo[fig] >= 0)
				json_writer__double(w, r->lo[fig]);
			else
				json_writer__null(w);
			if (r->hi[fig] >= 0)
				json_writer__double(w, r->hi[fig]);
			else
				json_writer__null(w);
			json_writer__array_end(w);
		}
		json_writer__object_end(w);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	json_writer__object_end(w);
	err = json_writer__finish(w);
	json_writer__free(w);
	return err;
}

int compare_print(FILE *out, enum compare_format format, const char *task,
		  const struct compare_row *rows, int n, int width)
{
	switch (format) {
	case COMPARE_MARKDOWN:
		print_markdown(out, task, rows, n);
		break;
	case COMPARE_JSON:
		print_json(out, task, rows, n);
		break;
	case COMPARE_CSV:
		print_csv(out, rows, n);
		break;
	default:
		print_text(out, task, rows, n, width);
		break;
	}
	return ferror(out) ? -EIO : 0;
}
