/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A flame graph drawn by weft itself: one self-contained SVG (no external
 * file, no network) with a small inline script. Each frame is a <g> with a
 * <title> ("name (8.99 s, P%)" or "name (COUNT samples, P%)"), a <rect> whose width is its count
 * times the graph's scale, and a label. Hovering shows the frame in the
 * details line; a click zooms on the frame (its children fill the width),
 * "Reset zoom" undoes it; "Search" highlights the frames matching a regular
 * expression and shows their share.
 *
 * Frames narrower than 0.1 pixel are not drawn (their time stays in their
 * parent's width), as flamegraph.pl does.
 */
#ifndef __WEFT_FLAME_SVG_H
#define __WEFT_FLAME_SVG_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define FLAME_SVG_WIDTH 1200
#define FLAME_SVG_MIN_WIDTH 0.1

/* Colours by what the graph measures, so that a glance tells them apart:
 * on-CPU warm (flamegraph.pl's hot), off-CPU blue (its --colors io), lock
 * waits red; kernel frames ("_[k]") a shade of their own in each. */
enum flame_svg_palette {
	FLAME_SVG_HOT,
	FLAME_SVG_IO,
	FLAME_SVG_LOCK,
};

struct flame_svg_opts {
	const char *title; /* "Off-CPU time" */
	const char *unit; /* "samples", or "us": shown as a duration (8.99 s) */
	enum flame_svg_palette palette;
	bool diff; /* set by flame_svg__write_diff() */
};

/* stacks[i] is one folded stack ("a;b;c"), values[i] its count; the
 * order does not matter. 0, -ENOMEM, or -EIO on a write error. */
int flame_svg__write(FILE *out, const char *const *stacks, const __u64 *values, size_t n,
		     const struct flame_svg_opts *opts);

/* A differential flame graph of two profiles of the same stacks (as
 * flamegraph.pl draws difffolded.pl's "stack A B" lines): widths are the
 * second profile's counts (values_b), colours the change of each frame
 * from values_a: red grew, blue shrank, white the same, deeper the larger
 * the change against the largest one; titles read "name (A -> B, +P%)".
 * A stack only in the first profile has no width (the folded diff lists
 * it). Returns as flame_svg__write(). */
int flame_svg__write_diff(FILE *out, const char *const *stacks, const __u64 *values_a,
			  const __u64 *values_b, size_t n, const struct flame_svg_opts *opts);

#endif /* __WEFT_FLAME_SVG_H */
