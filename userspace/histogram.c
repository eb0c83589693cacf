// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

struct weft_hist {
	__u64 count;
	__u64 sum;
	__u64 min;
	__u64 max;
	__u64 buckets[WEFT_HIST_BUCKETS];
};

struct weft_hist *weft_hist__new(void)
{
	struct weft_hist *h = calloc(1, sizeof(*h));

	if (!h)
		errno = ENOMEM;
	return h;
}

void weft_hist__free(struct weft_hist *h)
{
	free(h);
}

void weft_hist__reset(struct weft_hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* Values below 64 index themselves. Above, the top six bits of the value
 * (the leading one and five more) pick one of 32 buckets within the power
 * of two, and the power picks the group: the index grows with the value,
 * with no gap where the two schemes meet (v = 64 is index 64). */
unsigned int weft_hist__bucket(__u64 value)
{
	unsigned int shift;

	if (value < 64)
		return value;
	shift = 63 - __builtin_clzll(value) - WEFT_HIST_SUB_BITS;
	return (shift << WEFT_HIST_SUB_BITS) + (unsigned int)(value >> shift);
}

void weft_hist__bucket_range(unsigned int bucket, __u64 *lo, __u64 *hi)
{
	unsigned int shift;
	__u64 top;

	if (bucket < 64) {
		*lo = *hi = bucket;
		return;
	}
	shift = (bucket >> WEFT_HIST_SUB_BITS) - 1;
	top = bucket - ((__u64)shift << WEFT_HIST_SUB_BITS);
	*lo = top << shift;
	*hi = *lo + ((1ULL << shift) - 1);
}

void weft_hist__add(struct weft_hist *h, __u64 value)
{
	if (!h->count || value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
	h->count++;
	h->sum += value;
	h->buckets[weft_hist__bucket(value)]++;
}

void weft_hist__merge(struct weft_hist *dst, const struct weft_hist *src)
{
	unsigned int i;

	if (!src->count)
		return;
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (i = 0; i < WEFT_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

__u64 weft_hist__count(const struct weft_hist *h)
{
	return h->count;
}

__u64 weft_hist__sum(const struct weft_hist *h)
{
	return h->sum;
}

__u64 weft_hist__min(const struct weft_hist *h)
{
	return h->min;
}

__u64 weft_hist__max(const struct weft_hist *h)
{
	return h->max;
}

__u64 weft_hist__percentile(const struct weft_hist *h, double pct)
{
	__u64 rank, seen = 0, lo, hi, mid;
	unsigned int i;

	if (!h->count)
		return 0;
	if (!(pct > 0))
		return h->min;
	if (pct >= 100)
		return h->max;
	rank = (__u64)ceil(pct / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < WEFT_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	if (i == WEFT_HIST_BUCKETS)
		return h->max;
	weft_hist__bucket_range(i, &lo, &hi);
	mid = lo + (hi - lo) / 2;
	if (mid < h->min)
		mid = h->min;
	if (mid > h->max)
		mid = h->max;
	return mid;
}

size_t weft_hist__size(void)
{
	return sizeof(struct weft_hist);
}
