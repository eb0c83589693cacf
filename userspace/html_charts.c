// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The page's SVG charts (html_charts.h). Sizes are CSS pixels in a
 * viewBox, so a chart shrinks with a narrow window and prints whole. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "downsample.h"
#include "html_charts.h"

#define LEFT 56 /* room for the y labels and lane names */
#define LANE_LEFT 170
#define RIGHT 12
#define AXIS_H 22
#define HOVER_MARKS 60 /* invisible marks with titles over a curve */

static const char *const lane_names[LANE_STATES] = { "running", "runnable", "lock", "wait",
						     "io",	"sleep",    "other" };
static const char *const lane_classes[LANE_STATES] = { "s-run", "s-queue", "s-lock", "s-wait",
						       "s-io",	"s-sleep", "s-other" };

const char *lane_state__name(enum lane_state s)
{
	return s < LANE_STATES ? lane_names[s] : "?";
}

const char *lane_state__class(enum lane_state s)
{
	return s < LANE_STATES ? lane_classes[s] : "s-other";
}

void html_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
		}
	}
}

void html_num(FILE *out, double v, int decimals)
{
	char buf[64], *dot, *p;

	if (!isfinite(v))
		v = 0;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	dot = strchr(buf, '.');
	if (dot) {
		for (p = dot + strlen(dot) - 1; p > dot && *p == '0'; p--)
			*p = '\0';
		if (p == dot)
			*p = '\0';
	}
	fputs(strcmp(buf, "-0") ? buf : "0", out);
}

/* A step of 1, 2 or 5 times a power of ten giving about want ticks */
static double nice_step(double span, int want)
{
	double raw = span / want, p, f;

	if (!(raw > 0))
		return 1;
	p = pow(10, floor(log10(raw)));
	f = raw / p;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* Seconds as a tick reads them: "0", "0.5", "12" */
static void put_seconds(FILE *out, double s, double step)
{
	int d = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	html_num(out, s, d > 6 ? 6 : d);
}

/* The time axis under a plot at x0..x0+w, y: ticks in seconds from t0_s */
static void time_axis(FILE *out, double x0, double w, double y, double t0_s, double span_s)
{
	/* a tick every 90 px or so: a narrow small multiple gets few */
	double step = nice_step(span_s, w > 180 ? (int)(w / 90) : 2), t;

	fprintf(out, "<g class=\"axis\" aria-hidden=\"true\">");
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, y, x0 + w, y);
	for (t = ceil(t0_s / step) * step; span_s > 0 && t <= t0_s + span_s + 1e-9; t += step) {
		double x = x0 + (t - t0_s) / span_s * w;

		/* the unit's place at the end */
		if (x > x0 + w - 26)
			break;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, y, x,
			y + 4);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y + 15);
		put_seconds(out, t, step);
		fputs("</text>", out);
	}
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">s</text></g>\n", x0 + w,
		y + 15);
}

void chart_histogram(FILE *out, const double *share, unsigned int n)
{
	unsigned int w = CHART_WIDTH, h = 190, plot_h = h - AXIS_H - 26, r;
	double bw = n ? (double)(w - LEFT - RIGHT) / n : 0, top = 0;

	for (r = 0; r < n; r++)
		if (share[r] > top)
			top = share[r];
	top = top > 0 ? top : 1;
	fprintf(out,
		"<svg class=\"chart\" viewBox=\"0 0 %u %u\" role=\"img\" "
		"aria-label=\"Share of wall time with R threads running\">"
		"<title>Parallelism histogram: share of wall time with R threads running</title>\n",
		w, h);
	for (r = 0; r < n; r++) {
		double bh = share[r] / top * plot_h, x = LEFT + r * bw;

		fprintf(out, "<g><title>R = %u: ", r);
		html_num(out, 100 * share[r], 1);
		fprintf(out,
			"%% of wall</title><rect class=\"s-run\" x=\"%.1f\" y=\"%.1f\" "
			"width=\"%.1f\" height=\"%.1f\"/>",
			x + bw * 0.1, 18 + plot_h - bh, bw * 0.8, bh > 0 ? bh : 0);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x + bw / 2,
			18 + plot_h - bh - 4);
		html_num(out, 100 * share[r], 1);
		fprintf(out,
			"%%</text><text class=\"axis\" x=\"%.1f\" y=\"%u\" "
			"text-anchor=\"middle\">R=%u</text></g>\n",
			x + bw / 2, h - 6, r);
	}
	fputs("</svg>\n", out);
}

/* A filled step curve in data units: columns 0..n on x, level on y (up) */
static void step_path(FILE *out, const char *cls, const char *series, const double *a,
		      const double *b, unsigned int n, double col_ns)
{
	unsigned int i;

	fprintf(out, "<path class=\"%s\" data-series=\"%s\" data-col-ns=\"", cls, series);
	html_num(out, col_ns, 3);
	fprintf(out, "\" data-cols=\"%u\" d=\"M0 0", n);
	for (i = 0; i < n; i++) {
		fputs("V", out);
		html_num(out, downsample__round(a[i] + (b ? b[i] : 0)), DOWNSAMPLE_DECIMALS);
		fprintf(out, "H%u", i + 1);
	}
	fputs("V0Z\"/>\n", out);
}

void chart_levels(FILE *out, const char *label, const double *r, const double *q, unsigned int n,
		  double col_ns, double t0_s, double ymax, unsigned int width, int compact)
{
	unsigned int h = compact ? 110 : 220, plot_h = h - AXIS_H - 10, i, k, marks;
	double plot_w = width - LEFT - RIGHT, span_s = n * col_ns / 1e9, top = 0, y, step;
	double sum_r = 0, sum_q = 0;

	for (i = 0; i < n; i++) {
		if (r[i] + (q ? q[i] : 0) > top)
			top = r[i] + (q ? q[i] : 0);
		sum_r += r[i];
		sum_q += q ? q[i] : 0;
	}
	if (ymax <= 0)
		ymax = top > 0 ? ceil(top - 1e-3) : 1;
	/* as wide on the page as its viewBox against a full chart's, so that
	 * small multiples keep one time scale */
	fprintf(out,
		"<svg class=\"chart\" style=\"width:%.2f%%\" viewBox=\"0 0 %u %u\" role=\"img\" "
		"aria-label=\"",
		100.0 * width / CHART_WIDTH, width, h);
	html_text(out, label);
	fputs("\"><title>", out);
	html_text(out, label);
	fputs(": R(t), threads running, averages ", out);
	html_num(out, n ? sum_r / n : 0, 2);
	fputs("; Q(t), runnable and waiting for a CPU, stacked on it, averages ", out);
	html_num(out, n ? sum_q / n : 0, 2);
	fputs("</title>\n", out);
	/* grid lines at whole threads, labelled */
	step = nice_step(ymax, compact ? 2 : 4);
	if (step < 1)
		step = 1;
	fputs("<g class=\"axis\" aria-hidden=\"true\">", out);
	for (y = 0; y <= ymax + 1e-9; y += step) {
		double py = 6 + plot_h - y / ymax * plot_h;

		fprintf(out,
			"<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			LEFT, py, LEFT + plot_w, py, LEFT - 4, py + 4);
		html_num(out, y, 0);
		fputs("</text>", out);
	}
	fputs("</g>\n", out);
	fprintf(out, "<svg x=\"%d\" y=\"6\" width=\"%.1f\" height=\"%u\" viewBox=\"0 0 %u ", LEFT,
		plot_w, plot_h, n ? n : 1);
	html_num(out, ymax, 3);
	fputs("\" preserveAspectRatio=\"none\"><g transform=\"matrix(1 0 0 -1 0 ", out);
	html_num(out, ymax, 3);
	fputs(")\">\n", out);
	if (q)
		step_path(out, "s-queue", "RQ", r, q, n, col_ns);
	step_path(out, "s-run", "R", r, NULL, n, col_ns);
	fputs("</g>\n", out);
	/* marks with titles: the averages over stretches of the curve */
	marks = n < HOVER_MARKS ? n : HOVER_MARKS;
	for (k = 0; k < marks; k++) {
		unsigned int c0 = k * n / marks, c1 = (k + 1) * n / marks;
		double ar = 0, aq = 0;

		for (i = c0; i < c1; i++) {
			ar += r[i];
			aq += q ? q[i] : 0;
		}
		fprintf(out, "<rect class=\"hover\" x=\"%u\" y=\"0\" width=\"%u\" height=\"", c0,
			c1 - c0);
		html_num(out, ymax, 3);
		fputs("\"><title>", out);
		put_seconds(out, t0_s + c0 * col_ns / 1e9, span_s / 100);
		fputs("-", out);
		put_seconds(out, t0_s + c1 * col_ns / 1e9, span_s / 100);
		fputs(" s: R ", out);
		html_num(out, c1 > c0 ? ar / (c1 - c0) : 0, 2);
		if (q) {
			fputs(", Q ", out);
			html_num(out, c1 > c0 ? aq / (c1 - c0) : 0, 2);
		}
		fputs("</title></rect>", out);
	}
	fputs("</svg>\n", out);
	time_axis(out, LEFT, plot_w, 6 + plot_h, t0_s, span_s);
	fputs("</svg>\n", out);
}

void chart_cpu_strip(FILE *out, const double *traced, const double *other, const double *idle,
		     unsigned int ncpu, unsigned int n, double span_s)
{
	unsigned int row_h = ncpu > 32 ? 8 : 18, gap = 3, h, c, i;
	double plot_w = CHART_WIDTH - LEFT - RIGHT, cw = n ? plot_w / n : 0;

	h = ncpu * (row_h + gap) + AXIS_H + 4;
	fprintf(out,
		"<svg class=\"chart\" viewBox=\"0 0 %u %u\" role=\"img\" "
		"aria-label=\"Per-CPU time over the run\" shape-rendering=\"crispEdges\">"
		"<title>Each CPU over the run: traced (bottom), other programs, idle (top), per "
		"column</title>\n",
		CHART_WIDTH, h);
	for (c = 0; c < ncpu; c++) {
		double y0 = 2 + c * (row_h + gap);

		fprintf(out,
			"<g><text class=\"axis\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">CPU %u"
			"</text>\n",
			LEFT - 4, y0 + row_h - 4, c);
		for (i = 0; i < n; i++) {
			double t = traced[c * n + i], o = other[c * n + i], d = idle[c * n + i];
			double sum = t + o + d, x = LEFT + i * cw;

			if (sum <= 0)
				continue;
			t /= sum;
			o /= sum;
			d /= sum;
			fprintf(out, "<g><title>CPU %u, ", c);
			put_seconds(out, i * span_s / n, span_s / n);
			fputs("-", out);
			put_seconds(out, (i + 1) * span_s / n, span_s / n);
			fputs(" s: traced ", out);
			html_num(out, 100 * t, 0);
			fputs("%, other ", out);
			html_num(out, 100 * o, 0);
			fputs("%, idle ", out);
			html_num(out, 100 * d, 0);
			fputs("%</title>", out);
			fprintf(out,
				"<rect class=\"c-traced\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
				"height=\"%.2f\"/>",
				x, y0 + row_h * (1 - t), cw + 0.05, row_h * t);
			if (o > 0.005)
				fprintf(out,
					"<rect class=\"c-other\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
					"height=\"%.2f\"/>",
					x, y0 + row_h * (1 - t - o), cw + 0.05, row_h * o);
			if (d > 0.005)
				fprintf(out,
					"<rect class=\"c-idle\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
					"height=\"%.2f\"/>",
					x, y0, cw + 0.05, row_h * d);
			fputs("</g>", out);
		}
		fputs("</g>\n", out);
	}
	time_axis(out, LEFT, plot_w, ncpu * (row_h + gap) + 2, 0, span_s);
	fputs("</svg>\n", out);
}

/* The state that held most of column i of a lane, or -1: the thread did
 * not exist then (or under 5% of it) */
static int lane_top(const struct chart_lane *l, unsigned int i)
{
	double best = 0.05;
	int s, top = -1;

	for (s = 0; s < LANE_STATES; s++)
		if (l->state[s] && l->state[s][i] > best) {
			best = l->state[s][i];
			top = s;
		}
	return top;
}

void chart_lanes(FILE *out, const struct chart_lane *lanes, unsigned int nlanes, unsigned int n,
		 double span_s)
{
	unsigned int row_h = 14, gap = 3, h = nlanes * (row_h + gap) + AXIS_H + 4, k, i, j;
	double plot_w = CHART_WIDTH - LANE_LEFT - RIGHT, cw = n ? plot_w / n : 0;

	fprintf(out,
		"<svg class=\"chart\" viewBox=\"0 0 %u %u\" role=\"img\" "
		"aria-label=\"Threads' states over the run\">"
		"<title>Each thread over the run, coloured by the state that held most of each "
		"column</title>\n",
		CHART_WIDTH, h);
	for (k = 0; k < nlanes; k++) {
		const struct chart_lane *l = &lanes[k];
		double y = 2 + k * (row_h + gap);

		fprintf(out,
			"<g><text class=\"axis lane\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			LANE_LEFT - 6, y + row_h - 3);
		html_text(out, l->name);
		fputs("</text>", out);
		for (i = 0; i < n; i = j) {
			int s = lane_top(l, i);

			for (j = i + 1; j < n && lane_top(l, j) == s; j++)
				;
			if (s < 0)
				continue;
			fprintf(out,
				"<rect class=\"%s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
				"height=\"%u\"><title>",
				lane_classes[s], LANE_LEFT + i * cw, y, (j - i) * cw + 0.05, row_h);
			html_text(out, l->name);
			fprintf(out, ": %s, ", lane_names[s]);
			put_seconds(out, i * span_s / n, span_s / n);
			fputs("-", out);
			put_seconds(out, j * span_s / n, span_s / n);
			fputs(" s</title></rect>", out);
		}
		fputs("</g>\n", out);
	}
	time_axis(out, LANE_LEFT, plot_w, nlanes * (row_h + gap) + 2, 0, span_s);
	fputs("</svg>\n", out);
}

void chart_hbars(FILE *out, const char *title, const struct chart_bar *bars, unsigned int n)
{
	unsigned int row_h = 20, gap = 6, h = n * (row_h + gap) + 28, i;
	double top = 0, plot_w = CHART_WIDTH / 2 - 110 - 80;

	for (i = 0; i < n; i++)
		if (bars[i].value > top)
			top = bars[i].value;
	fprintf(out, "<figure class=\"bars\"><figcaption>");
	html_text(out, title);
	fprintf(out,
		"</figcaption><svg class=\"chart\" viewBox=\"0 0 %u %u\" role=\"img\" "
		"aria-label=\"",
		CHART_WIDTH / 2, h);
	html_text(out, title);
	fputs("\"><title>", out);
	html_text(out, title);
	fputs("</title>\n", out);
	for (i = 0; i < n; i++) {
		double y = 4 + i * (row_h + gap);
		double w = top > 0 && bars[i].value > 0 ? bars[i].value / top * plot_w : 0;

		fputs("<g><title>", out);
		html_text(out, bars[i].label);
		fputs(": ", out);
		html_text(out, bars[i].text);
		fprintf(out,
			"</title><text class=\"axis\" x=\"104\" y=\"%.1f\" text-anchor=\"end\">",
			y + row_h - 6);
		html_text(out, bars[i].label);
		fprintf(out,
			"</text><rect class=\"%s\" x=\"110\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%u\"/><text x=\"%.1f\" y=\"%.1f\">",
			bars[i].cls ? bars[i].cls : "s-run", y, w, row_h, 114 + w, y + row_h - 6);
		html_text(out, bars[i].text);
		fputs("</text></g>\n", out);
	}
	fputs("</svg></figure>\n", out);
}

void chart_stacked(FILE *out, const char *title, const struct chart_bar *parts, unsigned int n)
{
	double plot_w = CHART_WIDTH - 2 * RIGHT, x = RIGHT, lx = RIGHT;
	unsigned int i;

	fprintf(out, "<svg class=\"chart\" viewBox=\"0 0 %u 62\" role=\"img\" aria-label=\"",
		CHART_WIDTH);
	html_text(out, title);
	fputs("\"><title>", out);
	html_text(out, title);
	fputs("</title>\n", out);
	for (i = 0; i < n; i++) {
		double w = parts[i].value > 0 ? parts[i].value * plot_w : 0;

		fputs("<g><title>", out);
		html_text(out, parts[i].label);
		fputs(": ", out);
		html_text(out, parts[i].text);
		fprintf(out,
			"</title><rect class=\"%s\" x=\"%.2f\" y=\"4\" width=\"%.2f\" height=\"24\"/>"
			"</g>",
			parts[i].cls ? parts[i].cls : "s-other", x, w);
		x += w;
	}
	fputs("\n<g class=\"legend\">", out);
	for (i = 0; i < n; i++) {
		fprintf(out,
			"<rect class=\"%s\" x=\"%.1f\" y=\"40\" width=\"12\" height=\"12\"/>"
			"<text x=\"%.1f\" y=\"51\">",
			parts[i].cls ? parts[i].cls : "s-other", lx, lx + 16);
		html_text(out, parts[i].label);
		fputs(" ", out);
		html_text(out, parts[i].text);
		fputs("</text>", out);
		lx += 16 + 7.0 * (strlen(parts[i].label) + strlen(parts[i].text) + 1) + 14;
	}
	fputs("</g></svg>\n", out);
}
