/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A log-linear histogram of unsigned 64-bit values (durations in ns), in
 * the manner of HdrHistogram: values below 64 have a bucket each, and every
 * power of two above is cut into 32 equal buckets. A bucket is at most
 * 1/32 of its lower bound wide and a percentile is reported as the middle
 * of its bucket, so percentiles are within 1/64 (1.6%) of the exact value,
 * whatever the number of values added: the memory is fixed at
 * weft_hist__size() bytes.
 *
 * Count, sum, min and max are kept exactly.
 *
 * Lifecycle: weft_hist__new() returns a zeroed histogram (NULL and errno
 * on failure); weft_hist__free() accepts NULL. No function allocates after
 * weft_hist__new(), so weft_hist__add() can sit in a hot path.
 */
#ifndef __WEFT_HISTOGRAM_H
#define __WEFT_HISTOGRAM_H

#include <stddef.h>
#include <linux/types.h>

#define WEFT_HIST_SUB_BITS 5
/* The highest value (2^64 - 1) has shift 58: (58 << 5) + 63 is the last bucket. */
#define WEFT_HIST_BUCKETS ((64 - WEFT_HIST_SUB_BITS - 1) * (1U << WEFT_HIST_SUB_BITS) + 64)

struct weft_hist;

struct weft_hist *weft_hist__new(void);
void weft_hist__free(struct weft_hist *h);
void weft_hist__reset(struct weft_hist *h);

void weft_hist__add(struct weft_hist *h, __u64 value);
/* Adds every value of src to dst. */
void weft_hist__merge(struct weft_hist *dst, const struct weft_hist *src);

__u64 weft_hist__count(const struct weft_hist *h);
__u64 weft_hist__sum(const struct weft_hist *h);
/* 0 when empty */
__u64 weft_hist__min(const struct weft_hist *h);
__u64 weft_hist__max(const struct weft_hist *h);
/* The value at rank ceil(pct / 100 * count) (nearest rank, as a sorted
 * array would give it), within the bucket's error, clamped to [min, max].
 * pct 0 gives min, 100 gives max; 0 when empty. */
__u64 weft_hist__percentile(const struct weft_hist *h, double pct);

/* Bytes one histogram takes, independent of how many values it holds. */
size_t weft_hist__size(void);

/* Bucket arithmetic, exposed for tests and for writers that draw the
 * distribution: the bucket of a value and the values [lo, hi] it covers. */
unsigned int weft_hist__bucket(__u64 value);
void weft_hist__bucket_range(unsigned int bucket, __u64 *lo, __u64 *hi);

#endif /* __WEFT_HISTOGRAM_H */
