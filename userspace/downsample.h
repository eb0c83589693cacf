/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Levels over time (R(t), Q(t), a thread's time in each state, a CPU's
 * traced share) kept in a bounded number of equal time bins, whatever the
 * length of the recording, so that a page draws a 10-million-event
 * recording from a few thousand numbers.
 *
 * Each channel is a step function of time given as intervals, each with a
 * level (a running slice adds level 1 from its start to its end). A bin
 * holds the integral of its channel over the bin (level times ns), so
 * nothing is lost by binning: the sum of a channel's bins is the sum of
 * level * length of what was added inside [base, ...). When an interval
 * ends past the last bin, the bins are merged two by two (the bin width
 * doubles) until it fits: the integrals stay exact, only the resolution
 * halves. Intervals before base are cut at base (and counted).
 *
 * downsample__resample() gives the average level over n equal columns of
 * a time window, each column the integral of the bins it covers
 * (proportionally, for a bin it cuts) over its width: the drawn area is
 * the integral, to the rounding of the levels (DOWNSAMPLE_DECIMALS).
 *
 * Lifecycle: downsample__new(); downsample__channel() for each row (any
 * time: a channel added late is zero before); downsample__add() in any
 * order; read the bins or resample; downsample__free() accepts NULL.
 * Memory: channels * max_bins doubles.
 */
#ifndef __WEFT_DOWNSAMPLE_H
#define __WEFT_DOWNSAMPLE_H

#include <stddef.h>
#include <linux/types.h>

/* Levels are written with this many decimals (the page's charts): a
 * column's rounding costs at most 0.5e-3 of a thread over its width. */
#define DOWNSAMPLE_DECIMALS 3

struct downsample;

/* Bins start at base_ns, bin_ns wide (at least 1), at most max_bins (at
 * least 2, even). NULL and errno on failure (EINVAL, ENOMEM). */
struct downsample *downsample__new(__u64 base_ns, __u64 bin_ns, unsigned int max_bins);
void downsample__free(struct downsample *ds);

/* A new channel, all zero: its index (from 0), or -ENOMEM */
int downsample__channel(struct downsample *ds);
unsigned int downsample__channels(const struct downsample *ds);

/* Adds level over [start_ns, end_ns) to channel ch. 0; -EINVAL for a
 * channel that does not exist; an empty or reversed interval adds
 * nothing. */
int downsample__add(struct downsample *ds, unsigned int ch, __u64 start_ns, __u64 end_ns,
		    double level);

__u64 downsample__base(const struct downsample *ds);
__u64 downsample__bin_ns(const struct downsample *ds);
/* Bins up to the last one anything was added to */
unsigned int downsample__bins(const struct downsample *ds);
/* End of the latest interval added (base when none) */
__u64 downsample__end(const struct downsample *ds);
/* The integral (level * ns) of channel ch in bin i; 0 past the bins */
double downsample__bin(const struct downsample *ds, unsigned int ch, unsigned int i);
/* The integral of channel ch over all bins */
double downsample__total(const struct downsample *ds, unsigned int ch);
/* Level * ns that was cut off because it lay before base */
double downsample__clipped(const struct downsample *ds);

/* The average level of channel ch in each of n equal columns of
 * [from_ns, to_ns), into out[0 .. n-1]. The integral of the columns
 * (out[i] * (to_ns - from_ns) / n) is the channel's integral over the
 * window. 0, or -EINVAL (no such channel, n 0, an empty window). */
int downsample__resample(const struct downsample *ds, unsigned int ch, double *out, unsigned int n,
			 __u64 from_ns, __u64 to_ns);

/* v rounded to DOWNSAMPLE_DECIMALS, as the page writes it */
double downsample__round(double v);

#endif /* __WEFT_DOWNSAMPLE_H */
