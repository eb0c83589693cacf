// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "compare.h"
#include "kv.h"

#define NOTE_MODEL "model"
#define NOTE_ELAPSED "elapsed_s"
#define NOTE_CHECKSUM "checksum"
#define NOTE_WORKERS "workers"

void compare_row_from_metrics(struct compare_row *row, const struct weft_metrics *m,
			      const struct weft_kv *notes, const char *fallback_name)
{
	const char *model = notes ? weft_kv__get(notes, NOTE_MODEL) : NULL;
	const char *elapsed = notes ? weft_kv__get(notes, NOTE_ELAPSED) : NULL;
	const char *checksum = notes ? weft_kv__get(notes, NOTE_CHECKSUM) : NULL;
	const char *workers = notes ? weft_kv__get(notes, NOTE_WORKERS) : NULL;
	unsigned int i;

	memset(row, 0, sizeof(*row));
	snprintf(row->model, sizeof(row->model), "%s", model ? model : fallback_name);
	snprintf(row->checksum, sizeof(row->checksum), "%s", checksum ? checksum : "");
	row->workers = workers ? strtoul(workers, NULL, 10) : 0;
	row->elapsed_s = elapsed ? strtod(elapsed, NULL) : -1;
	row->wall_s = m->wall_s;
	row->speedup = 1;
	row->on_cpu_s = m->on_cpu_s;
	row->parallelism_avg = m->parallelism.avg;
	row->parallelism_max = m->parallelism.max;
	row->concurrency_avg = m->concurrency.avg;
	row->interleaved_share = m->interleaving.interleaved_share;
	row->serialized_share = m->has_serialized && m->wall_s > 0 ? m->serialized_s / m->wall_s :
								     -1;
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
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(const struct compare_row *rows, int n, size_t offset)
{
	double v[n];
	int i;

	for (i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&rows[i] + offset);
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double median_of_u64(const struct compare_row *rows, int n, size_t offset)
{
	double v[n];
	int i;

	for (i = 0; i < n; i++)
		v[i] = (double)*(const __u64 *)((const char *)&rows[i] + offset);
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void compare_row_median(struct compare_row *out, const struct compare_row *rows, int n)
{
	double wall = median_of(rows, n, offsetof(struct compare_row, wall_s)), best = INFINITY;
	int i, at = 0;

	/* The run whose wall is the median gives the columns that are not
	 * numbers (verdict, top wait, counts); every figure is a median. */
	for (i = 0; i < n; i++) {
		if (fabs(rows[i].wall_s - wall) < best) {
			best = fabs(rows[i].wall_s - wall);
			at = i;
		}
	}
	*out = rows[at];
	out->wall_s = wall;
#define MEDIAN(field) out->field = median_of(rows, n, offsetof(struct compare_row, field))
#define MEDIAN_U64(field) out->field = median_of_u64(rows, n, offsetof(struct compare_row, field))
	MEDIAN(elapsed_s);
	MEDIAN(on_cpu_s);
	MEDIAN(parallelism_avg);
	MEDIAN(concurrency_avg);
	MEDIAN(interleaved_share);
	MEDIAN(serialized_share);
	MEDIAN(top_wait_share);
	MEDIAN(switches_per_s);
	MEDIAN(handoffs_per_s);
	MEDIAN_U64(maxrss_kb);
	MEDIAN_U64(lock_waits);
#undef MEDIAN
#undef MEDIAN_U64
	for (i = 0; i < n; i++)
		if (strcmp(rows[i].checksum, rows[0].checksum))
			out->checksum[0] = '\0';
}

void compare_rows_finish(struct compare_row *rows, int n, bool prefer_sync)
{
	const struct compare_row *ref = &rows[0];
	unsigned int extra_workers;
	int i;

	for (i = 0; prefer_sync && i < n; i++) {
		if (!strcmp(rows[i].model, "sync"))
			ref = &rows[i];
	}
	for (i = 0; i < n; i++) {
		rows[i].speedup = rows[i].wall_s > 0 ? ref->wall_s / rows[i].wall_s : 0;
		if (rows[i].checksum[0] && ref->checksum[0])
			rows[i].checksum_ok = !strcmp(rows[i].checksum, ref->checksum);
		/* Against sync: the memory a worker adds over doing the work
		 * in one thread; otherwise the row's own share per worker. */
		extra_workers = rows[i].workers ? rows[i].workers : 1;
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
	COL_COUNT_U64,
	COL_KB,
	COL_RATE,
	COL_TOP_WAIT,
	COL_CHECK,
};

struct column {
	const char *header;
	const char *csv;
	enum column_kind kind;
	size_t offset;
};

#define COL(h, c, k, f)                                  \
	{                                                \
		h, c, k, offsetof(struct compare_row, f) \
	}
static const struct column columns[] = {
	COL("model", "model", COL_STRING, model),
	COL("wall s", "wall_s", COL_SECONDS, wall_s),
	COL("own s", "elapsed_s", COL_SECONDS, elapsed_s),
	COL("speedup", "speedup", COL_RATIO, speedup),
	COL("on-CPU s", "on_cpu_s", COL_SECONDS, on_cpu_s),
	COL("parallel", "parallelism_avg", COL_RATIO, parallelism_avg),
	COL("par max", "parallelism_max", COL_COUNT, parallelism_max),
	COL("concurrent", "concurrency_avg", COL_RATIO, concurrency_avg),
	COL("interleaved", "interleaved_share", COL_SHARE, interleaved_share),
	COL("serialized", "serialized_share", COL_SHARE, serialized_share),
	COL("top wait", "top_wait", COL_TOP_WAIT, top_wait),
	COL("threads", "threads", COL_COUNT, threads),
	COL("processes", "processes", COL_COUNT, processes),
	COL("peak RSS", "maxrss_kb", COL_KB, maxrss_kb),
	COL("RSS/worker", "rss_per_worker_kb", COL_KB, rss_per_worker_kb),
	COL("switches/s", "switches_per_s", COL_RATE, switches_per_s),
	COL("lock waits", "lock_waits", COL_COUNT_U64, lock_waits),
	COL("handoffs/s", "handoffs_per_s", COL_RATE, handoffs_per_s),
	COL("checksum", "checksum_ok", COL_CHECK, checksum_ok),
};
#define NR_COLUMNS (sizeof(columns) / sizeof(columns[0]))

static void format_kb(char *buf, size_t size, __u64 kb)
{
	if (kb >= 10 * 1024 * 1024)
		snprintf(buf, size, "%.1f GB", kb / 1048576.0);
	else if (kb >= 10 * 1024)
		snprintf(buf, size, "%.1f MB", kb / 1024.0);
	else
		snprintf(buf, size, "%llu kB", (unsigned long long)kb);
}

/* A cell as people read it; csv wants plain numbers. */
static void format_cell(char *buf, size_t size, const struct column *c,
			const struct compare_row *row, bool plain)
{
	const void *p = (const char *)row + c->offset;
	double d = *(const double *)p;

	switch (c->kind) {
	case COL_STRING:
		snprintf(buf, size, "%s", (const char *)p);
		break;
	case COL_SECONDS:
		if (d < 0)
			snprintf(buf, size, plain ? "" : "-");
		else
			snprintf(buf, size, "%.3f", d);
		break;
	case COL_RATIO:
		snprintf(buf, size, "%.2f", d);
		break;
	case COL_SHARE:
		if (d < 0)
			snprintf(buf, size, plain ? "" : "-");
		else
			snprintf(buf, size, plain ? "%.4f" : "%.0f%%", plain ? d : 100 * d);
		break;
	case COL_COUNT:
		snprintf(buf, size, "%u", *(const unsigned int *)p);
		break;
	case COL_COUNT_U64:
		snprintf(buf, size, "%llu", *(const unsigned long long *)p);
		break;
	case COL_KB:
		if (plain)
			snprintf(buf, size, "%llu", *(const unsigned long long *)p);
		else
			format_kb(buf, size, *(const __u64 *)p);
		break;
	case COL_RATE:
		snprintf(buf, size, "%.0f", d);
		break;
	case COL_TOP_WAIT:
		if (!row->top_wait[0])
			snprintf(buf, size, plain ? "" : "-");
		else if (plain)
			snprintf(buf, size, "%s", row->top_wait);
		else
			snprintf(buf, size, "%s %.0f%%", row->top_wait, 100 * row->top_wait_share);
		break;
	case COL_CHECK:
		snprintf(buf, size, "%s",
			 row->checksum_ok < 0 ? (plain ? "" : "-") :
			 row->checksum_ok     ? (plain ? "true" : "ok") :
						(plain ? "false" : "MISMATCH"));
		break;
	}
}

#define CELL_LEN 48

static void print_legend(FILE *out, const struct compare_row *rows, int n)
{
	int i, fastest = 0;

	for (i = 1; i < n; i++)
		if (rows[i].wall_s < rows[fastest].wall_s)
			fastest = i;
	fprintf(out,
		"\nparallel: threads of the program running at once, on average (par max: the most "
		"held\nfor at least 1 ms). interleaved: share of the time a thread waited in a run "
		"queue\nbehind another thread of the same program. serialized: share of the time "
		"one thread\nran (or was ready to) while others waited for a lock they pass between "
		"them.\npeak RSS: each process's peak resident memory, added up (processes alive "
		"together\nboth count); RSS/worker: what a worker adds over sync's. handoffs/s: how "
		"often the\nmost waited-for lock changed hands. speedup: sync's wall over the "
		"row's.\n");
	fprintf(out, "fastest: %s (%.3f s wall)", rows[fastest].model, rows[fastest].wall_s);
	for (i = 0; i < n; i++)
		if (i != fastest && rows[i].wall_s <= rows[fastest].wall_s * 1.05)
			fprintf(out, ", %s within 5%% (%.3f s)", rows[i].model, rows[i].wall_s);
	fprintf(out, "\n");
}

static int print_text(FILE *out, const char *task, const struct compare_row *rows, int n, int width)
{
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
		}
	} else {
		/* Too wide for the terminal: models become the columns. */
		colw = 0;
		for (c = 1; c < NR_COLUMNS; c++)
			for (i = 0; i < n; i++) {
				format_cell(cell, sizeof(cell), &columns[c], &rows[i], false);
				if ((int)strlen(cell) > colw)
					colw = strlen(cell);
			}
		for (i = 0; i < n; i++)
			if ((int)strlen(rows[i].model) > colw)
				colw = strlen(rows[i].model);
		for (c = 0; c < NR_COLUMNS; c++) {
			fprintf(out, "%-*s", label, c ? columns[c].header : "");
			for (i = 0; i < n; i++) {
				format_cell(cell, sizeof(cell), &columns[c], &rows[i], false);
				fprintf(out, "  %*s", colw, cell);
			}
			fprintf(out, "\n");
		}
	}
	fprintf(out, "\nverdicts:\n");
	for (i = 0; i < n; i++)
		fprintf(out, "  %-10s %s\n", rows[i].model, rows[i].verdict);
	print_legend(out, rows, n);
	return 0;
}

static int print_markdown(FILE *out, const char *task, const struct compare_row *rows, int n)
{
	char cell[CELL_LEN];
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
			fprintf(out, "| %s ", cell);
		}
		fprintf(out, "| %s |\n", rows[i].verdict);
	}
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

static void print_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/* Unknown figures are null, never a made-up 0. */
static void print_json_number(FILE *out, double v, bool known)
{
	if (known && isfinite(v))
		fprintf(out, "%.6g", v);
	else
		fputs("null", out);
}

static int print_json(FILE *out, const char *task, const struct compare_row *rows, int n)
{
	const struct compare_row *r;
	int i;

	fputs("{\"task\":", out);
	if (task)
		print_json_string(out, task);
	else
		fputs("null", out);
	fputs(",\"rows\":[", out);
	for (i = 0; i < n; i++) {
		r = &rows[i];
		fputs(i ? ",{\"model\":" : "{\"model\":", out);
		print_json_string(out, r->model);
		fprintf(out, ",\"wall_s\":%.6f,\"elapsed_s\":", r->wall_s);
		print_json_number(out, r->elapsed_s, r->elapsed_s >= 0);
		fprintf(out, ",\"speedup\":%.4f,\"on_cpu_s\":%.6f", r->speedup, r->on_cpu_s);
		fprintf(out, ",\"parallelism\":{\"avg\":%.4f,\"max\":%u}", r->parallelism_avg,
			r->parallelism_max);
		fprintf(out, ",\"concurrency\":{\"avg\":%.4f}", r->concurrency_avg);
		fprintf(out,
			",\"interleaved_share\":%.4f,\"serialized_share\":", r->interleaved_share);
		print_json_number(out, r->serialized_share, r->serialized_share >= 0);
		fputs(",\"top_wait\":", out);
		if (r->top_wait[0]) {
			fputs("{\"reason\":", out);
			print_json_string(out, r->top_wait);
			fprintf(out, ",\"share\":%.4f}", r->top_wait_share);
		} else {
			fputs("null", out);
		}
		fprintf(out, ",\"threads\":%u,\"processes\":%u,\"maxrss_kb\":%llu", r->threads,
			r->processes, (unsigned long long)r->maxrss_kb);
		fprintf(out, ",\"rss_per_worker_kb\":%llu,\"switches_per_s\":%.1f",
			(unsigned long long)r->rss_per_worker_kb, r->switches_per_s);
		fprintf(out, ",\"lock_waits\":%llu,\"lock_handoffs_per_s\":%.1f,\"checksum_ok\":",
			(unsigned long long)r->lock_waits, r->handoffs_per_s);
		fputs(r->checksum_ok < 0 ? "null" : r->checksum_ok ? "true" : "false", out);
		fputs(",\"checksum\":", out);
		print_json_string(out, r->checksum);
		fputs(",\"verdict\":", out);
		print_json_string(out, r->verdict);
		fputs("}", out);
	}
	fputs("]}\n", out);
	return 0;
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
