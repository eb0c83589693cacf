/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Python frames in user stacks, without a kernel or a process: CPython's
 * line tables, the spelling of a Python frame, and the merge of the
 * Python frames a stack entry carries (bpf/python.h) into its native
 * frames.
 *
 * The merge: a user stack entry holds its native frames, leaf first, then
 * WEFT_PY_MARKER and the Python frames, leaf first, each word marked when
 * it was the first frame its C-level _PyEval_EvalFrameDefault call ran
 * (an entry frame). Since 3.11 one eval call runs every Python call made
 * from Python code, so the Python frames fall into groups, each ending at
 * an entry frame, one group per _PyEval_EvalFrameDefault native frame, in
 * the same order. Each such native frame is replaced by its group; the
 * `-X perf` trampoline frames ("py::...") go when Python frames were read;
 * groups left over (the native walk stopped short of their eval frames)
 * go at the root end. WEFT_PY_CUT (the chain went on past the bound)
 * becomes PYFRAMES_CUT_NAME where the chain was cut.
 */
#ifndef __WEFT_PYFRAMES_H
#define __WEFT_PYFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PYFRAMES_EVAL_NAME "_PyEval_EvalFrameDefault"
#define PYFRAMES_CUT_NAME "[more Python frames]"

/* The source line of the instruction at lasti (in code units of 2 bytes)
 * of a code object of CPython `version` (0x030b for 3.11) whose first
 * line is firstlineno and whose line table (co_linetable, 3.10 and
 * later; co_lnotab, 3.8 and 3.9) is lt[0..len). -1 when the table has no
 * line for it (or does not reach it), or the version's format is not
 * known. */
int pyframes__line_at(unsigned int version, const __u8 *lt, size_t len, int firstlineno,
		      unsigned int lasti);

/* "qualname (file.py:LINE)": file is the base name of filename; a line
 * below 1 is left out ("qualname (file.py)"). Returns the length, as
 * snprintf does. */
int pyframes__text(char *buf, size_t size, const char *qualname, const char *filename, int line);

/* Whether a frame's name is a Python frame's, "qualname (file.py:LINE)" */
bool pyframes__is_python(const char *frame);
/* A Python frame's function, its name without the line:
 * "qualname (file.py)"; returns buf */
char *pyframes__function(const char *frame, char *buf, size_t size);

/* One frame of a stack entry, as the stack table holds it */
struct pyframes_in {
	__u64 addr; /* the native address, or a marker or Python word */
	const char *name;
};

/* Whether the entry carries Python frames */
bool pyframes__has_python(const struct pyframes_in *in, unsigned int n);

/* Merges a stack entry of n frames into out (room for n names: the merge
 * never adds frames); the number of names. Entries without Python frames
 * come out as they are. */
unsigned int pyframes__merge(const struct pyframes_in *in, unsigned int n, const char **out);

#endif /* __WEFT_PYFRAMES_H */
