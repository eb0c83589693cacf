// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include <linux/types.h>

#include "events.h"
#include "python.h"
#include "pyframes.h"

/* 3.8 and 3.9's co_lnotab: (byte delta, signed line delta) pairs; as
 * CPython's PyCode_Addr2Line() */
static int lnotab_line(const __u8 *lt, size_t len, int firstlineno, unsigned int offset)
{
	unsigned int addr = 0;
	int line = firstlineno;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		addr += lt[i];
		if (addr > offset)
			break;
		line += (signed char)lt[i + 1];
	}
	return line;
}

/* 3.10's co_linetable: (byte delta, signed line delta) pairs, each a
 * range of its own; a line delta of -128 is a range without a line */
static int linetable310_line(const __u8 *lt, size_t len, int firstlineno, unsigned int offset)
{
	unsigned int start, end = 0;
	int line = firstlineno, at;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		start = end;
		end += lt[i];
		if ((signed char)lt[i + 1] == -128) {
			at = -1;
		} else {
			line += (signed char)lt[i + 1];
			at = line;
		}
		if (offset >= start && offset < end)
			return at;
	}
	return -1;
}

static unsigned int varint(const __u8 *p, const __u8 *end, size_t *used)
{
	unsigned int v, shift = 0;
	const __u8 *q = p;

	if (q >= end) {
		*used = 0;
		return 0;
	}
	v = *q & 63;
	while ((*q & 64) && q + 1 < end && shift < 24) {
		q++;
		shift += 6;
		v |= (unsigned int)(*q & 63) << shift;
	}
	*used = (size_t)(q - p) + 1;
	return v;
}

/* 3.11 and later's location table: entries of a first byte (bit 7 set,
 * a 4-bit code, the length in code units less 1) and varints; as
 * CPython's _PyCode_CheckLineNumber() */
static int linetable311_line(const __u8 *lt, size_t len, int firstlineno, unsigned int offset)
{
	const __u8 *p = lt, *end = lt + len;
	unsigned int start, stop = 0, code, u;
	int line = firstlineno, delta;
	size_t used;

	while (p < end) {
		code = (*p >> 3) & 15;
		switch (code) {
		case 13: /* no columns */
		case 14: /* long form */
			u = varint(p + 1, end, &used);
			delta = u & 1 ? -(int)(u >> 1) : (int)(u >> 1);
			break;
		case 11:
			delta = 1;
			break;
		case 12:
			delta = 2;
			break;
		default: /* 15: no location; 10 and the short forms: same line */
			delta = 0;
		}
		line += delta;
		start = stop;
		stop += ((*p & 7) + 1) * 2;
		if (offset >= start && offset < stop)
			return code == 15 ? -1 : line;
		do
			p++;
		while (p < end && !(*p & 128));
	}
	return -1;
}

int pyframes__line_at(unsigned int version, const __u8 *lt, size_t len, int firstlineno,
		      unsigned int offset)
{
	if (!lt)
		return -1;
	if (version >= 0x030b && version <= 0x030d)
		return linetable311_line(lt, len, firstlineno, offset);
	if (version == 0x030a)
		return linetable310_line(lt, len, firstlineno, offset);
	if (version == 0x0308 || version == 0x0309)
		return lnotab_line(lt, len, firstlineno, offset);
	return -1;
}

int pyframes__text(char *buf, size_t size, const char *qualname, const char *filename, int line)
{
	const char *base = filename ? strrchr(filename, '/') : NULL;

	base = base ? base + 1 : filename;
	if (!qualname || !*qualname)
		qualname = "[unknown]";
	if (!base || !*base)
		base = "[unknown]";
	if (line > 0)
		return snprintf(buf, size, "%s (%s:%d)", qualname, base, line);
	return snprintf(buf, size, "%s (%s)", qualname, base);
}

bool pyframes__is_python(const char *frame)
{
	const char *open = frame ? strrchr(frame, '(') : NULL;
	size_t len = frame ? strlen(frame) : 0;

	return open && open > frame + 1 && open[-1] == ' ' && frame[len - 1] == ')' &&
	       strstr(open, ".py") && !strchr(open, ';');
}

char *pyframes__function(const char *frame, char *buf, size_t size)
{
	const char *colon = strrchr(frame, ':'), *open = strrchr(frame, '(');
	int n;

	if (!size)
		return buf;
	if (!colon || !open || colon < open)
		n = snprintf(buf, size, "%s", frame);
	else
		n = snprintf(buf, size, "%.*s)", (int)(colon - frame), frame);
	(void)n;
	return buf;
}

static int marker_at(const struct pyframes_in *in, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (in[i].addr == WEFT_PY_MARKER)
			return (int)i;
	return -1;
}

bool pyframes__has_python(const struct pyframes_in *in, unsigned int n)
{
	int m = marker_at(in, n);

	return m >= 0 && (unsigned int)m + 1 < n;
}

static bool is_eval(const char *name)
{
	return name && !strcmp(name, PYFRAMES_EVAL_NAME);
}

/* 3.12's -X perf trampolines: named from /tmp/perf-PID.map ("py::"), or
 * code in an anonymous mapping right above (the caller of) an eval frame */
static bool is_trampoline(const char *name, bool after_eval)
{
	return name && (!strncmp(name, "py::", 4) || (after_eval && !strncmp(name, "[anon]", 6)));
}

/* Copies the next group of Python frames (up to and with the next entry
 * frame, or to the end) from in[*py] into out[*o] */
static void take_group(const struct pyframes_in *in, unsigned int n, unsigned int *py,
		       const char **out, unsigned int *o)
{
	while (*py < n) {
		const struct pyframes_in *f = &in[(*py)++];

		if (f->addr == WEFT_PY_CUT) {
			out[(*o)++] = PYFRAMES_CUT_NAME;
			return;
		}
		out[(*o)++] = f->name;
		if (f->addr & WEFT_PY_ENTRY)
			return;
	}
}

/* How many eval frames at the leaf end have no Python frames of their
 * own: a sample between a call entering _PyEval_EvalFrameDefault and
 * linking its frame into the thread state (or between unlinking it and
 * returning) has one eval frame more than groups. Given its caller's group
 * it would move every group one frame in, and leave the outermost eval
 * frame unnamed. A chain cut at the bound lacks groups at the root end
 * instead, where the leftovers stay. */
static unsigned int evals_without_group(const struct pyframes_in *in, unsigned int n,
					unsigned int m)
{
	unsigned int i, evals = 0, groups = 0;
	bool open = false;

	for (i = 0; i < m; i++)
		evals += is_eval(in[i].name);
	for (i = m + 1; i < n; i++) {
		if (in[i].addr == WEFT_PY_CUT)
			return 0;
		open = !(in[i].addr & WEFT_PY_ENTRY);
		groups += !open;
	}
	groups += open;
	return evals > groups ? evals - groups : 0;
}

unsigned int pyframes__merge(const struct pyframes_in *in, unsigned int n, const char **out)
{
	int m = marker_at(in, n);
	unsigned int i, o = 0, py, entering;

	if (m < 0 || (unsigned int)m + 1 >= n) {
		/* no Python frames: the native ones (without a lone marker) */
		for (i = 0; i < n; i++)
			if (in[i].addr != WEFT_PY_MARKER)
				out[o++] = in[i].name;
		return o;
	}
	py = (unsigned int)m + 1;
	entering = evals_without_group(in, n, (unsigned int)m);
	for (i = 0; i < (unsigned int)m; i++) {
		/* the call being entered is its caller's line's doing */
		if (is_eval(in[i].name) && entering)
			entering--;
		else if (is_eval(in[i].name) && py < n)
			take_group(in, n, &py, out, &o);
		else if (!is_trampoline(in[i].name, i && is_eval(in[i - 1].name)))
			out[o++] = in[i].name;
	}
	/* eval frames the native walk did not reach: their groups at the
	 * root end */
	while (py < n)
		take_group(in, n, &py, out, &o);
	return o;
}
