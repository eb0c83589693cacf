// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Levels over time in bounded bins whose integrals are exact (downsample.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "downsample.h"

struct downsample {
	__u64 base_ns, bin_ns, end_ns;
	unsigned int max_bins, used;
	double **ch; /* ch[c][i], max_bins each */
	unsigned int nch, cap;
	double clipped;
};

struct downsample *downsample__new(__u64 base_ns, __u64 bin_ns, unsigned int max_bins)
{
	struct downsample *ds;

	if (!bin_ns || max_bins < 2 || max_bins % 2) {
		errno = EINVAL;
		return NULL;
	}
	ds = calloc(1, sizeof(*ds));
	if (!ds)
		return NULL;
	ds->base_ns = base_ns;
	ds->end_ns = base_ns;
	ds->bin_ns = bin_ns;
	ds->max_bins = max_bins;
	return ds;
}

void downsample__free(struct downsample *ds)
{
	unsigned int c;

	if (!ds)
		return;
	for (c = 0; c < ds->nch; c++)
		free(ds->ch[c]);
	free(ds->ch);
	free(ds);
}

int downsample__channel(struct downsample *ds)
{
	double **grown;

	if (ds->nch == ds->cap) {
		unsigned int cap = ds->cap ? ds->cap * 2 : 8;

		grown = realloc(ds->ch, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		ds->ch = grown;
		ds->cap = cap;
	}
	ds->ch[ds->nch] = calloc(ds->max_bins, sizeof(double));
	if (!ds->ch[ds->nch])
		return -ENOMEM;
	return ds->nch++;
}

unsigned int downsample__channels(const struct downsample *ds)
{
	return ds->nch;
}

/* Halves the resolution: bin i becomes bins 2i and 2i+1 summed, in every
 * channel, so every integral stays what it was. */
static void merge_pairs(struct downsample *ds)
{
	unsigned int c, i, half = ds->max_bins / 2;

	for (c = 0; c < ds->nch; c++) {
		double *v = ds->ch[c];

		for (i = 0; i < half; i++)
			v[i] = v[2 * i] + v[2 * i + 1];
		memset(v + half, 0, half * sizeof(*v));
	}
	ds->bin_ns *= 2;
	ds->used = (ds->used + 1) / 2;
}

int downsample__add(struct downsample *ds, unsigned int ch, __u64 start_ns, __u64 end_ns,
		    double level)
{
	__u64 first, last, i, b0, b1;
	double *v;

	if (ch >= ds->nch)
		return -EINVAL;
	if (end_ns <= start_ns)
		return 0;
	if (start_ns < ds->base_ns) {
		__u64 cut = (end_ns < ds->base_ns ? end_ns : ds->base_ns) - start_ns;

		ds->clipped += level * (double)cut;
		if (end_ns <= ds->base_ns)
			return 0;
		start_ns = ds->base_ns;
	}
	/* the bins must reach end_ns - 1 */
	while ((end_ns - 1 - ds->base_ns) / ds->bin_ns >= ds->max_bins)
		merge_pairs(ds);
	if (end_ns > ds->end_ns)
		ds->end_ns = end_ns;
	v = ds->ch[ch];
	first = (start_ns - ds->base_ns) / ds->bin_ns;
	last = (end_ns - 1 - ds->base_ns) / ds->bin_ns;
	for (i = first; i <= last; i++) {
		b0 = ds->base_ns + i * ds->bin_ns;
		b1 = b0 + ds->bin_ns;
		v[i] += level *
			(double)((end_ns < b1 ? end_ns : b1) - (start_ns > b0 ? start_ns : b0));
	}
	if (last + 1 > ds->used)
		ds->used = last + 1;
	return 0;
}

__u64 downsample__base(const struct downsample *ds)
{
	return ds->base_ns;
}

__u64 downsample__bin_ns(const struct downsample *ds)
{
	return ds->bin_ns;
}

unsigned int downsample__bins(const struct downsample *ds)
{
	return ds->used;
}

__u64 downsample__end(const struct downsample *ds)
{
	return ds->end_ns;
}

double downsample__bin(const struct downsample *ds, unsigned int ch, unsigned int i)
{
	if (ch >= ds->nch || i >= ds->used)
		return 0;
	return ds->ch[ch][i];
}

double downsample__total(const struct downsample *ds, unsigned int ch)
{
	double sum = 0;
	unsigned int i;

	if (ch >= ds->nch)
		return 0;
	for (i = 0; i < ds->used; i++)
		sum += ds->ch[ch][i];
	return sum;
}

double downsample__clipped(const struct downsample *ds)
{
	return ds->clipped;
}

/* Spreads each bin's integral over the columns it overlaps, as if the
 * level were even inside the bin: what a bin holds lands in the window
 * in proportion to the part of the bin inside it. */
int downsample__resample(const struct downsample *ds, unsigned int ch, double *out, unsigned int n,
			 __u64 from_ns, __u64 to_ns)
{
	double col_ns, b0, b1, lo, hi, x;
	unsigned int i, k, k0, k1;

	if (ch >= ds->nch || !n || to_ns <= from_ns)
		return -EINVAL;
	memset(out, 0, n * sizeof(*out));
	col_ns = (double)(to_ns - from_ns) / n;
	for (i = 0; i < ds->used; i++) {
		double v = ds->ch[ch][i], density;

		if (v == 0)
			continue;
		/* window-relative ns, as doubles: fine to far below a column */
		b0 = (double)(ds->base_ns + (__u64)i * ds->bin_ns) - (double)from_ns;
		b1 = b0 + (double)ds->bin_ns;
		lo = b0 > 0 ? b0 : 0;
		hi = b1 < (double)(to_ns - from_ns) ? b1 : (double)(to_ns - from_ns);
		if (hi <= lo)
			continue;
		density = v / (double)ds->bin_ns;
		k0 = (unsigned int)(lo / col_ns);
		k1 = (unsigned int)(hi / col_ns);
		if (k1 >= n)
			k1 = n - 1;
		for (k = k0; k <= k1; k++) {
			double c0 = k * col_ns, c1 = c0 + col_ns;

			x = (hi < c1 ? hi : c1) - (lo > c0 ? lo : c0);
			if (x > 0)
				out[k] += density * x;
		}
	}
	for (k = 0; k < n; k++)
		out[k] /= col_ns;
	return 0;
}

double downsample__round(double v)
{
	double scale = 1;
	int d;

	for (d = 0; d < DOWNSAMPLE_DECIMALS; d++)
		scale *= 10;
	return round(v * scale) / scale;
}
