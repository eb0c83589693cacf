// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "flame_svg.h"
#include "json.h"
#include "recording_meta.h"
#include "stack_attrib.h"
#include "strtab.h"
#include "waits.h"

/* Walls further apart than this are runs of different lengths */
#define WALL_TOLERANCE 0.01
/* The rule's share of A and multiple of the count noise */
#define CHANGE_SHARE 0.05
#define CHANGE_SIGMAS 3.0
/* Frames of an unnamed lock's top stack that name it, leaf side */
#define LOCK_KEY_FRAMES 3

static const char *const metric_names[DIFF_NR_METRICS] = {
	[DIFF_WALL] = "wall_s",
	[DIFF_PARALLELISM] = "parallelism",
	[DIFF_CONCURRENCY] = "concurrency",
	[DIFF_ON_CPU] = "on_cpu_s",
	[DIFF_SAMPLES] = "on_cpu_samples",
	[DIFF_INTERLEAVED] = "interleaved_s",
	[DIFF_SERIALIZED] = "serialized_s",
	[DIFF_RUNQUEUE] = "runqueue_delay_s",
	[DIFF_OFF_CPU + WEFT_WAIT_LOCK] = "off_cpu.lock_s",
	[DIFF_OFF_CPU + WEFT_WAIT_WAIT] = "off_cpu.wait_s",
	[DIFF_OFF_CPU + WEFT_WAIT_IO] = "off_cpu.io_s",
	[DIFF_OFF_CPU + WEFT_WAIT_SLEEP] = "off_cpu.sleep_s",
	[DIFF_OFF_CPU + WEFT_WAIT_FAULT] = "off_cpu.fault_s",
	[DIFF_OFF_CPU + WEFT_WAIT_RUNQUEUE] = "off_cpu.runqueue_s",
	[DIFF_OFF_CPU + WEFT_WAIT_OTHER] = "off_cpu.other_s",
};

struct run {
	char *path;
	int side;
	struct diff_value metrics[DIFF_NR_METRICS];
	struct diff_lock_in *locks;
	unsigned int nr_locks;
	char **stacks;
	__u64 *values;
	size_t nstacks;
};

struct diff {
	enum flame_type type;
	struct run *runs;
	size_t nruns;
	unsigned int side_runs[2];
	bool per_wall, finished;
	struct diff_row metrics[DIFF_NR_METRICS];
	struct diff_row *locks;
	size_t nlocks;
	char **lock_names;
	struct diff_row reasons[WEFT_OFF_CPU_REASONS];
	bool hidden[DIFF_NR_METRICS]; /* rows not told as metrics of their own */
	size_t changes;
};

bool diff_changed(const struct diff_stat *a, const struct diff_stat *b)
{
	double delta = fabs(b->mean - a->mean);
	double n = a->count > b->count ? a->count : b->count;
	double events = a->count + b->count;
	double per_event = events > 0 ? (fabs(a->mean) + fabs(b->mean)) / events : 0;
	double noise = CHANGE_SHARE * fabs(a->mean);
	double counted = CHANGE_SIGMAS * sqrt(n) * per_event;

	if (counted > noise)
		noise = counted;
	/* several runs a side: their own spread says what noise is */
	if (a->runs > 1 && a->max - a->min > noise)
		noise = a->max - a->min;
	if (b->runs > 1 && b->max - b->min > noise)
		noise = b->max - b->min;
	return delta > noise;
}

struct diff *diff__new(enum flame_type type)
{
	struct diff *d = calloc(1, sizeof(*d));

	if (d)
		d->type = type;
	return d;
}

static void run_release(struct run *r)
{
	size_t i;

	free(r->path);
	free(r->locks);
	for (i = 0; i < r->nstacks; i++)
		free(r->stacks[i]);
	free(r->stacks);
	free(r->values);
}

void diff__free(struct diff *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nruns; i++)
		run_release(&d->runs[i]);
	free(d->runs);
	for (i = 0; i < d->nlocks; i++)
		free(d->lock_names[i]);
	free(d->lock_names);
	free(d->locks);
	free(d);
}

int diff__add(struct diff *d, int side, const struct diff_run *in)
{
	struct run *grown, *r;
	size_t i;

	if (side < 0 || side > 1 || d->finished)
		return -EINVAL;
	grown = realloc(d->runs, (d->nruns + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	d->runs = grown;
	r = &d->runs[d->nruns];
	memset(r, 0, sizeof(*r));
	r->side = side;
	memcpy(r->metrics, in->metrics, sizeof(r->metrics));
	r->path = strdup(in->path ? in->path : "");
	r->locks = calloc(in->nr_locks ? in->nr_locks : 1, sizeof(*r->locks));
	r->stacks = calloc(in->nstacks ? in->nstacks : 1, sizeof(*r->stacks));
	r->values = calloc(in->nstacks ? in->nstacks : 1, sizeof(*r->values));
	d->nruns++;
	if (!r->path || !r->locks || !r->stacks || !r->values)
		return -ENOMEM;
	if (in->nr_locks)
		memcpy(r->locks, in->locks, in->nr_locks * sizeof(*r->locks));
	r->nr_locks = in->nr_locks;
	for (i = 0; i < in->nstacks; i++) {
		r->stacks[i] = strdup(in->stacks[i]);
		if (!r->stacks[i])
			return -ENOMEM;
		r->values[i] = in->values[i];
		r->nstacks++;
	}
	d->side_runs[side]++;
	return 0;
}

static bool normalized(unsigned int metric)
{
	return metric != DIFF_WALL && metric != DIFF_PARALLELISM && metric != DIFF_CONCURRENCY;
}

/* A run's figure as the diff compares it */
static double run_value(const struct diff *d, const struct run *r, double v, bool norm)
{
	double wall = r->metrics[DIFF_WALL].v;

	return d->per_wall && norm && wall > 0 ? v / wall : v;
}

static void stat_add(struct diff_stat *s, double v, double count)
{
	if (!s->runs || v < s->min)
		s->min = v;
	if (!s->runs || v > s->max)
		s->max = v;
	s->mean += v;
	s->count += count;
	s->runs++;
}

static void stat_end(struct diff_stat *s)
{
	if (s->runs) {
		s->mean /= s->runs;
		s->count /= s->runs;
	}
}

static void row_set(struct diff *d, struct diff_row *row, const char *name, struct diff_stat *st)
{
	stat_end(&st[0]);
	stat_end(&st[1]);
	row->name = name;
	row->a = st[0].mean;
	row->b = st[1].mean;
	row->delta = row->b - row->a;
	row->changed = diff_changed(&st[0], &st[1]);
	if (row->changed)
		d->changes++;
}

static int cmp_change(const void *x, const void *y)
{
	const struct diff_row *a = x, *b = y;
	double da = fabs(a->delta), db = fabs(b->delta);

	if (da != db)
		return da > db ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int lock_index(struct diff *d, const char *name)
{
	size_t i;
	char **names;

	for (i = 0; i < d->nlocks; i++)
		if (!strcmp(d->lock_names[i], name))
			return (int)i;
	names = realloc(d->lock_names, (d->nlocks + 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	d->lock_names = names;
	names[d->nlocks] = strdup(name);
	if (!names[d->nlocks])
		return -ENOMEM;
	return (int)d->nlocks++;
}

static int finish_locks(struct diff *d)
{
	struct diff_stat *st;
	size_t i, r;
	unsigned int k;
	int at;

	for (r = 0; r < d->nruns; r++)
		for (k = 0; k < d->runs[r].nr_locks; k++)
			if (lock_index(d, d->runs[r].locks[k].name) < 0)
				return -ENOMEM;
	d->locks = calloc(d->nlocks ? d->nlocks : 1, sizeof(*d->locks));
	st = calloc(2 * (d->nlocks ? d->nlocks : 1), sizeof(*st));
	if (!d->locks || !st) {
		free(st);
		return -ENOMEM;
	}
	for (r = 0; r < d->nruns; r++) {
		const struct run *run = &d->runs[r];
		double *v = calloc(d->nlocks ? d->nlocks : 1, sizeof(*v));
		double *n = calloc(d->nlocks ? d->nlocks : 1, sizeof(*n));

		if (!v || !n) {
			free(v);
			free(n);
			free(st);
			return -ENOMEM;
		}
		/* a run with two locks of one name (two processes' heap locks
		 * of the same code) adds them */
		for (k = 0; k < run->nr_locks; k++) {
			at = lock_index(d, run->locks[k].name);
			v[at] += run->locks[k].total_s;
			n[at] += (double)run->locks[k].waits;
		}
		for (i = 0; i < d->nlocks; i++)
			stat_add(&st[2 * i + run->side], run_value(d, run, v[i], true), n[i]);
		free(v);
		free(n);
	}
	for (i = 0; i < d->nlocks; i++)
		row_set(d, &d->locks[i], d->lock_names[i], &st[2 * i]);
	free(st);
	if (d->nlocks)
		qsort(d->locks, d->nlocks, sizeof(*d->locks), cmp_change);
	return 0;
}

int diff__finish(struct diff *d)
{
	double wmin = 0, wmax = 0, w;
	struct diff_stat st[2];
	unsigned int m;
	size_t r;

	if (d->finished)
		return 0;
	if (!d->side_runs[0] || !d->side_runs[1])
		return -EINVAL;
	d->finished = true;
	for (r = 0; r < d->nruns; r++) {
		w = d->runs[r].metrics[DIFF_WALL].v;
		if (!r || w < wmin)
			wmin = w;
		if (!r || w > wmax)
			wmax = w;
	}
	d->per_wall = wmax > wmin * (1 + WALL_TOLERANCE);
	for (m = 0; m < DIFF_NR_METRICS; m++) {
		memset(st, 0, sizeof(st));
		for (r = 0; r < d->nruns; r++) {
			const struct run *run = &d->runs[r];

			stat_add(&st[run->side],
				 run_value(d, run, run->metrics[m].v, normalized(m)),
				 run->metrics[m].count);
		}
		row_set(d, &d->metrics[m], metric_names[m], st);
	}
	/* wall is the runs' length, not a figure of them to judge; the run
	 * queue as an off-CPU reason is the run-queue delay again (listed
	 * with the reasons, counted once) */
	if (d->metrics[DIFF_WALL].changed)
		d->changes--;
	m = DIFF_OFF_CPU + WEFT_WAIT_RUNQUEUE;
	if (d->metrics[m].changed)
		d->changes--;
	d->hidden[m] = true;
	d->metrics[DIFF_WALL].changed = false;
	for (m = 0; m < WEFT_OFF_CPU_REASONS; m++) {
		d->reasons[m] = d->metrics[DIFF_OFF_CPU + m];
		d->reasons[m].name = weft_wait_reason__name(m);
	}
	qsort(d->reasons, WEFT_OFF_CPU_REASONS, sizeof(*d->reasons), cmp_change);
	/* a reason's change is counted once, as a metric */
	return finish_locks(d);
}

size_t diff__metrics(const struct diff *d, const struct diff_row **rows)
{
	*rows = d->metrics;
	return d->finished ? DIFF_NR_METRICS : 0;
}

size_t diff__locks(const struct diff *d, const struct diff_row **rows)
{
	*rows = d->locks;
	return d->finished ? d->nlocks : 0;
}

size_t diff__reasons(const struct diff *d, const struct diff_row **rows)
{
	*rows = d->reasons;
	return d->finished ? WEFT_OFF_CPU_REASONS : 0;
}

bool diff__per_wall(const struct diff *d)
{
	return d->per_wall;
}

size_t diff__changes(const struct diff *d)
{
	return d->changes;
}

/* --- writers --- */

static void side_paths(const struct diff *d, int side, char *buf, size_t size)
{
	size_t r, len = 0;

	buf[0] = '\0';
	for (r = 0; r < d->nruns && len + 1 < size; r++)
		if (d->runs[r].side == side)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
						d->runs[r].path);
}

static void fmt_value(char *buf, size_t size, const char *name, double v, bool per_wall)
{
	size_t len = strlen(name);

	if (len > 2 && !strcmp(name + len - 2, "_s") && v != 0 && fabs(v) < 0.001)
		snprintf(buf, size, per_wall ? "%.3g s/s" : "%.3g s", v); /* 14 us, not 0.0000 */
	else if (len > 2 && !strcmp(name + len - 2, "_s"))
		snprintf(buf, size, per_wall ? "%.4f s/s" : "%.4f s", v);
	else if (!strcmp(name, "on_cpu_samples"))
		snprintf(buf, size, per_wall ? "%.1f /s" : "%.0f", v);
	else
		snprintf(buf, size, "%.3f", v);
}

static void fmt_change(char *buf, size_t size, const struct diff_row *r)
{
	if (r->delta == 0)
		snprintf(buf, size, "0");
	else if (r->a != 0)
		snprintf(buf, size, "%+.4g (%+.1f%%)", r->delta, 100 * r->delta / fabs(r->a));
	else
		snprintf(buf, size, "%+.4g (new)", r->delta);
}

static void put_rows(FILE *out, const struct diff_row *rows, size_t n, const bool *hidden,
		     const char *unit_name, bool per_wall, bool md, bool skip_zero)
{
	char a[48], b[48], c[64];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct diff_row *r = &rows[i];
		bool wall = !strcmp(r->name, "wall_s");

		if ((skip_zero && r->a == 0 && r->b == 0) || (hidden && hidden[i]))
			continue;
		fmt_value(a, sizeof(a), unit_name ? unit_name : r->name, r->a, per_wall && !wall);
		fmt_value(b, sizeof(b), unit_name ? unit_name : r->name, r->b, per_wall && !wall);
		fmt_change(c, sizeof(c), r);
		if (md)
			fprintf(out, "| %s | %s | %s | %s%s |\n", r->name, a, b, c,
				r->changed ? " **changed**" : "");
		else
			fprintf(out, "  %-28s %16s %16s  %s%s\n", r->name, a, b, c,
				r->changed ? "  *" : "");
	}
}

int diff__write_text(const struct diff *d, FILE *out, bool markdown)
{
	const char *head = markdown ? "| %s | A | B | change |\n| --- | ---: | ---: | --- |\n" :
				      "  %-28s %16s %16s  change\n";
	const char *rule = d->side_runs[0] > 1 || d->side_runs[1] > 1 ?
				   "beyond max(5%, 3 sqrt(count)) and the spread within each side" :
				   "beyond max(5%, 3 sqrt(count))";
	char pa[1024], pb[1024];

	side_paths(d, 0, pa, sizeof(pa));
	side_paths(d, 1, pb, sizeof(pb));
	fprintf(out, "%sweft diff: A = %s, B = %s\n", markdown ? "## " : "", pa, pb);
	if (markdown)
		fputs("\n", out);
	if (d->per_wall)
		fprintf(out,
			"%sthe runs differ in length: times and counts are per second of wall\n",
			markdown ? "- " : "");
	fprintf(out, "%s%zu change%s %s%s\n", markdown ? "- " : "", d->changes,
		d->changes == 1 ? "" : "s", rule, markdown ? "" : " (marked *)");
	fputs("\n", out);
	if (markdown)
		fprintf(out, head, "metric");
	else
		fprintf(out, "metrics\n");
	if (!markdown)
		fprintf(out, head, "", "A", "B");
	put_rows(out, d->metrics, DIFF_NR_METRICS, d->hidden, NULL, d->per_wall, markdown, false);
	fputs("\n", out);
	if (markdown)
		fprintf(out, head, "lock (by change in wait)");
	else
		fprintf(out, "locks, by change in wait time\n");
	if (!d->nlocks && !markdown)
		fprintf(out, "  (none on either side)\n");
	put_rows(out, d->locks, d->nlocks, NULL, "wait_s", d->per_wall, markdown, false);
	fputs("\n", out);
	if (markdown)
		fprintf(out, head, "off-CPU reason (by change in wait)");
	else
		fprintf(out, "off-CPU reasons, by change in wait time\n");
	put_rows(out, d->reasons, WEFT_OFF_CPU_REASONS, NULL, "wait_s", d->per_wall, markdown,
		 true);
	if (!d->changes)
		fprintf(out, "\nno change beyond noise\n");
	return ferror(out) ? -EIO : 0;
}

static void json_rows(struct json_writer *w, const char *key, const struct diff_row *rows, size_t n,
		      const bool *hidden, bool seconds)
{
	size_t i;

	json_writer__key(w, key);
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		if (hidden && hidden[i])
			continue;
		json_writer__object_begin(w);
		json_writer__key(w, "name");
		json_writer__string(w, rows[i].name);
		json_writer__key(w, seconds ? "a_s" : "a");
		json_writer__double(w, rows[i].a);
		json_writer__key(w, seconds ? "b_s" : "b");
		json_writer__double(w, rows[i].b);
		json_writer__key(w, seconds ? "delta_s" : "delta");
		json_writer__double(w, rows[i].delta);
		json_writer__key(w, "changed");
		json_writer__bool(w, rows[i].changed);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
}

static void json_side(const struct diff *d, struct json_writer *w, int side)
{
	size_t r;

	json_writer__array_begin(w);
	for (r = 0; r < d->nruns; r++)
		if (d->runs[r].side == side)
			json_writer__string(w, d->runs[r].path);
	json_writer__array_end(w);
}

static void json_changes(const struct diff *d, struct json_writer *w)
{
	size_t i;

	json_writer__key(w, "changes");
	json_writer__array_begin(w);
	for (i = 0; i < DIFF_NR_METRICS; i++)
		if (d->metrics[i].changed && !d->hidden[i])
			json_writer__string(w, d->metrics[i].name);
	for (i = 0; i < d->nlocks; i++)
		if (d->locks[i].changed) {
			char name[256];

			snprintf(name, sizeof(name), "lock %s", d->locks[i].name);
			json_writer__string(w, name);
		}
	json_writer__array_end(w);
}

int diff__write_json(const struct diff *d, FILE *out)
{
	struct json_writer *w = json_writer__new(out, JSON_WRITER_PRETTY);
	int err;

	if (!w)
		return -ENOMEM;
	json_writer__object_begin(w);
	json_writer__key(w, "version");
	json_writer__string(w, WEFT_VERSION);
	json_writer__key(w, "a");
	json_side(d, w, 0);
	json_writer__key(w, "b");
	json_side(d, w, 1);
	json_writer__key(w, "per_wall_s");
	json_writer__bool(w, d->per_wall);
	json_rows(w, "metrics", d->metrics, DIFF_NR_METRICS, d->hidden, false);
	json_rows(w, "locks", d->locks, d->nlocks, NULL, true);
	json_rows(w, "reasons", d->reasons, WEFT_OFF_CPU_REASONS, NULL, true);
	json_changes(d, w);
	json_writer__object_end(w);
	err = json_writer__finish(w);
	json_writer__free(w);
	return err;
}

struct entry {
	const char *stack;
	int side;
	__u64 value;
};

static int cmp_entry(const void *x, const void *y)
{
	return strcmp(((const struct entry *)x)->stack, ((const struct entry *)y)->stack);
}

/* The union of both sides' stacks, sorted: stacks[i] with its counts, each
 * side's the mean over its runs (rounded) */
static int merged(const struct diff *d, const char ***stacks, __u64 **va, __u64 **vb, size_t *n)
{
	size_t total = 0, r, i, k = 0, out = 0;
	struct entry *e;
	__u64 sum[2];

	for (r = 0; r < d->nruns; r++)
		total += d->runs[r].nstacks;
	e = calloc(total ? total : 1, sizeof(*e));
	*stacks = calloc(total ? total : 1, sizeof(**stacks));
	*va = calloc(total ? total : 1, sizeof(**va));
	*vb = calloc(total ? total : 1, sizeof(**vb));
	if (!e || !*stacks || !*va || !*vb) {
		free(e);
		return -ENOMEM;
	}
	for (r = 0; r < d->nruns; r++)
		for (i = 0; i < d->runs[r].nstacks; i++)
			e[k++] = (struct entry){ d->runs[r].stacks[i], d->runs[r].side,
						 d->runs[r].values[i] };
	if (total)
		qsort(e, total, sizeof(*e), cmp_entry);
	for (i = 0; i < total;) {
		size_t j = i;

		sum[0] = sum[1] = 0;
		for (; j < total && !strcmp(e[j].stack, e[i].stack); j++)
			sum[e[j].side] += e[j].value;
		(*stacks)[out] = e[i].stack;
		(*va)[out] = (sum[0] + d->side_runs[0] / 2) / d->side_runs[0];
		(*vb)[out] = (sum[1] + d->side_runs[1] / 2) / d->side_runs[1];
		out++;
		i = j;
	}
	free(e);
	*n = out;
	return 0;
}

int diff__write_folded(const struct diff *d, FILE *out)
{
	const char **stacks = NULL;
	__u64 *va = NULL, *vb = NULL;
	size_t n = 0, i;
	int err = merged(d, &stacks, &va, &vb, &n);

	for (i = 0; !err && i < n; i++)
		if (va[i] || vb[i])
			fprintf(out, "%s %llu %llu\n", stacks[i], (unsigned long long)va[i],
				(unsigned long long)vb[i]);
	free(stacks);
	free(va);
	free(vb);
	if (!err && ferror(out))
		err = -EIO;
	return err;
}

int diff__write_svg(const struct diff *d, FILE *out)
{
	static const char *const types[] = { "on-CPU samples", "off-CPU time",
					     "off-CPU time with wakers", "lock waits" };
	const char **stacks = NULL;
	__u64 *va = NULL, *vb = NULL;
	char title[160];
	struct flame_svg_opts o = { .title = title, .unit = flame_type__unit(d->type) };
	size_t n = 0;
	int err = merged(d, &stacks, &va, &vb, &n);

	snprintf(title, sizeof(title), "Differential %s: widths B, red grew from A, blue shrank",
		 types[d->type]);
	if (!err)
		err = flame_svg__write_diff(out, stacks, va, vb, n, &o);
	free(stacks);
	free(va);
	free(vb);
	return err;
}

/* --- a run from a recording's pass --- */

void diff_counts__add(void *ctx, const struct attributed_stack *as)
{
	struct diff_counts *c = ctx;

	if (as->kind == STACK_KIND_ONCPU)
		c->samples += as->weight;
	else if (!as->unsampled && as->reason >= 0 && as->reason < WEFT_OFF_CPU_REASONS)
		c->intervals[as->reason]++;
}

/* An unnamed lock's name: its kind and the leafmost user functions of its
 * top waiting stack (the addresses of heap locks change from run to run,
 * the code that takes them does not) */
static void lock_key(const struct weft_lock_metrics *lm, const struct flame *locks, char *buf,
		     size_t size)
{
	const struct strtab *names = locks ? flame__names(locks) : NULL;
	const char *kind = lm->kind ? lm->kind : "lock";
	size_t i, len;
	unsigned int k, from, taken = 0;

	if (lm->name[0]) {
		snprintf(buf, size, "%s", lm->name);
		return;
	}
	len = (size_t)snprintf(buf, size, "%s in ", kind);
	for (i = 0; locks && i < flame__lock_count(locks); i++) {
		const struct flame_lock_line *l = flame__lock_line(locks, i);

		if (l->pid != lm->pid || l->addr != lm->addr)
			continue;
		/* the first of the lock's lines is its longest */
		from = l->nids > LOCK_KEY_FRAMES ? l->nids - LOCK_KEY_FRAMES : 0;
		for (k = from; k < l->nids && len + 1 < size; k++) {
			const char *f = strtab__str(names, l->ids[k]);

			len += (size_t)snprintf(buf + len, size - len, "%s%s", taken++ ? ";" : "",
						f);
		}
		break;
	}
	if (!taken)
		snprintf(buf + len, size - len, "[unknown]");
}

int diff_run__fill(struct diff_run *r, const struct weft_metrics *m, const struct diff_counts *c,
		   const struct flame *typed, const struct flame *locks)
{
	const char **stacks;
	__u64 *values;
	size_t n = typed ? flame__count(typed) : 0, i;
	unsigned int k;

	memset(r->metrics, 0, sizeof(r->metrics));
	r->metrics[DIFF_WALL] = (struct diff_value){ m->wall_s, 0 };
	r->metrics[DIFF_PARALLELISM] =
		(struct diff_value){ m->parallelism.avg, (double)m->interleaving.slices };
	r->metrics[DIFF_CONCURRENCY] =
		(struct diff_value){ m->concurrency.avg, (double)m->interleaving.slices };
	r->metrics[DIFF_ON_CPU] =
		(struct diff_value){ m->on_cpu_s, (double)m->interleaving.slices };
	r->metrics[DIFF_SAMPLES] = (struct diff_value){ (double)c->samples, (double)c->samples };
	r->metrics[DIFF_INTERLEAVED] = (struct diff_value){ m->interleaving.interleaved_s,
							    (double)m->runqueue_delay.count };
	r->metrics[DIFF_SERIALIZED] = (struct diff_value){ m->serialized_s, 0 };
	r->metrics[DIFF_RUNQUEUE] =
		(struct diff_value){ m->runqueue_delay.total_s, (double)m->runqueue_delay.count };
	for (k = 0; k < WEFT_OFF_CPU_REASONS; k++)
		r->metrics[DIFF_OFF_CPU + k] = (struct diff_value){
			m->off_cpu_s[k], k == WEFT_WAIT_RUNQUEUE ? (double)m->runqueue_delay.count :
								   (double)c->intervals[k]
		};
	for (k = 0; k < m->nr_locks; k++)
		if (m->locks[k].turn_taking ||
		    !strcmp(m->locks[k].kind ? m->locks[k].kind : "", "mutex"))
			r->metrics[DIFF_SERIALIZED].count += (double)m->locks[k].waits;
	r->locks = calloc(m->nr_locks ? m->nr_locks : 1, sizeof(*r->locks));
	stacks = calloc(n ? n : 1, sizeof(*stacks));
	values = calloc(n ? n : 1, sizeof(*values));
	r->stacks = stacks;
	r->values = values;
	if (!r->locks || !stacks || !values)
		return -ENOMEM;
	for (k = 0; k < m->nr_locks; k++) {
		lock_key(&m->locks[k], locks, r->locks[k].name, sizeof(r->locks[k].name));
		r->locks[k].total_s = m->locks[k].total_s;
		r->locks[k].waits = m->locks[k].waits;
	}
	r->nr_locks = m->nr_locks;
	for (i = 0; i < n; i++) {
		stacks[i] = flame__stack(typed, i);
		values[i] = flame__value(typed, i);
	}
	r->nstacks = n;
	return 0;
}

void diff_run__release(struct diff_run *r)
{
	free(r->locks);
	free((void *)r->stacks);
	free((void *)r->values);
	r->locks = NULL;
	r->stacks = NULL;
	r->values = NULL;
}
