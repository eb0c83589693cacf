// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Python frames without a kernel: the merge of Python frames into native
 * stacks on hand-made stack entries, and CPython's line tables decoded as
 * each interpreter installed here decodes them (co_lines(), or
 * dis.findlinestarts() before 3.10), for every instruction of a few
 * hundred code objects compiled by that interpreter at test time. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <cmocka.h>

#include "events.h"
#include "python.h"
#include "pyframes.h"
#include "python_loader.h"

#define MAX_IN 64

/* A Python frame's word: code id, lasti, entry */
#define PY(id, entry) WEFT_PY_WORD(id, 3, entry)

struct entry {
	struct pyframes_in in[MAX_IN];
	unsigned int n;
};

static void add(struct entry *e, __u64 addr, const char *name)
{
	assert_true(e->n < MAX_IN);
	e->in[e->n].addr = addr;
	e->in[e->n].name = name;
	e->n++;
}

/* The merged frames joined by ';', leaf first */
static char *merged(const struct entry *e)
{
	const char *out[MAX_IN];
	static char buf[2048];
	unsigned int n, i;
	size_t off = 0;

	n = pyframes__merge(e->in, e->n, out);
	assert_true(n <= e->n);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? ";" : "",
				out[i] ? out[i] : "(null)");
	return buf;
}

/* One eval frame running several Python calls (3.11+ runs
 * Python-to-Python calls in one C frame) */
static void test_several_frames_per_eval(void **state)
{
	struct entry e = {};

	(void)state;
	add(&e, 0x1000, "take_gil");
	add(&e, 0x2000, PYFRAMES_EVAL_NAME);
	add(&e, 0x3000, "thread_run");
	add(&e, 0x4000, "start_thread");
	add(&e, WEFT_PY_MARKER, "[python]");
	add(&e, PY(1, false), "cpu_bound_task (app.py:5)");
	add(&e, PY(2, false), "worker (app.py:11)");
	add(&e, PY(3, true), "main (app.py:40)");
	assert_true(pyframes__has_python(e.in, e.n));
	assert_string_equal(merged(&e), "take_gil;cpu_bound_task (app.py:5);worker (app.py:11);"
					"main (app.py:40);thread_run;start_thread");
}

/* Nested eval frames: each takes the group up to its entry frame, in
 * order; a C extension calling back into Python keeps its own frames
 * between the groups */
static void test_nested_evals_and_c_extension(void **state)
{
	struct entry e = {};

	(void)state;
	add(&e, 0x1000, "clock_nanosleep");
	add(&e, 0x1100, "time_sleep");
	add(&e, 0x2000, PYFRAMES_EVAL_NAME); /* runs callback, inner */
	add(&e, 0x2100, "_PyFunction_Vectorcall");
	add(&e, 0x2200, "ext_for_each"); /* the C extension */
	add(&e, 0x2300, "cfunction_call");
	add(&e, 0x2400, PYFRAMES_EVAL_NAME); /* runs outer, main */
	add(&e, 0x2500, "Py_RunMain");
	add(&e, WEFT_PY_MARKER, "[python]");
	add(&e, PY(10, false), "napper (cb.py:3)");
	add(&e, PY(11, true), "callback (cb.py:7)");
	add(&e, PY(12, false), "outer (cb.py:12)");
	add(&e, PY(13, true), "<module> (cb.py:20)");
	assert_string_equal(merged(&e),
			    "clock_nanosleep;time_sleep;napper (cb.py:3);callback (cb.py:7);"
			    "_PyFunction_Vectorcall;ext_for_each;cfunction_call;outer (cb.py:12);"
			    "<module> (cb.py:20);Py_RunMain");
}

/* The chain cut at the bound: the mark where it was cut; -X perf's
 * trampolines go; groups whose eval frame the native walk did not reach
 * go at the root end */
static void test_cut_trampolines_and_leftovers(void **state)
{
	struct entry e = {}, f = {};

	(void)state;
	add(&e, 0x1000, "work");
	add(&e, 0x1100, "py::recurse:/app.py");
	add(&e, 0x2000, PYFRAMES_EVAL_NAME);
	add(&e, 0x2100, "py::main:/app.py");
	add(&e, 0x2200, PYFRAMES_EVAL_NAME);
	add(&e, 0x7f0000c2e, "[anon]+0xc2e"); /* a trampoline without its perf map */
	add(&e, 0x3000, "thread_run");
	add(&e, WEFT_PY_MARKER, "[python]");
	add(&e, PY(1, false), "recurse (app.py:2)");
	add(&e, PY(1, false), "recurse (app.py:2)");
	add(&e, WEFT_PY_CUT, "[python]");
	assert_string_equal(merged(&e),
			    "work;recurse (app.py:2);recurse (app.py:2);" PYFRAMES_CUT_NAME
			    ";" PYFRAMES_EVAL_NAME ";thread_run");

	add(&f, 0x1000, "read");
	add(&f, 0x2000, PYFRAMES_EVAL_NAME);
	add(&f, WEFT_STACK_CUT_SHORT, "[unknown]");
	add(&f, WEFT_PY_MARKER, "[python]");
	add(&f, PY(1, true), "reader (io.py:9)");
	add(&f, PY(2, false), "Thread.run (threading.py:975)");
	add(&f, PY(3, true), "Thread._bootstrap (threading.py:995)");
	assert_string_equal(merged(&f),
			    "read;reader (io.py:9);[unknown];Thread.run (threading.py:975);"
			    "Thread._bootstrap (threading.py:995)");
}

/* A sample inside a call being entered: the new eval frame is on the
 * native stack, its Python frame not yet linked. The Python frames stay
 * with the eval frames that run them, the caller's line takes the call,
 * and no eval frame is left unnamed. */
static void test_eval_frame_being_entered(void **state)
{
	struct entry e = {}, older = {};

	(void)state;
	add(&e, 0x1000, PYFRAMES_EVAL_NAME); /* entered, no frame yet */
	add(&e, 0x1100, "_PyEval_Vector");
	add(&e, 0x1200, "ext_for_each");
	add(&e, 0x2000, PYFRAMES_EVAL_NAME); /* runs outer, main */
	add(&e, 0x2100, "Py_RunMain");
	add(&e, WEFT_PY_MARKER, "[python]");
	add(&e, PY(12, false), "outer (cb.py:12)");
	add(&e, PY(13, true), "<module> (cb.py:20)");
	assert_string_equal(merged(&e), "_PyEval_Vector;ext_for_each;outer (cb.py:12);"
					"<module> (cb.py:20);Py_RunMain");

	/* 3.10 and before: an eval frame per Python frame, each an entry */
	add(&older, 0x1000, PYFRAMES_EVAL_NAME);
	add(&older, 0x1100, "_PyFunction_Vectorcall");
	add(&older, 0x2000, PYFRAMES_EVAL_NAME);
	add(&older, 0x2100, "_PyFunction_Vectorcall");
	add(&older, 0x2200, PYFRAMES_EVAL_NAME);
	add(&older, WEFT_PY_MARKER, "[python]");
	add(&older, PY(1, true), "spin (s.py:3)");
	add(&older, PY(2, true), "<module> (s.py:9)");
	assert_string_equal(merged(&older), "_PyFunction_Vectorcall;spin (s.py:3);"
					    "_PyFunction_Vectorcall;<module> (s.py:9)");
}

/* No Python frames: the stack as it was (a trampoline is only dropped
 * for Python frames, and a lone marker goes) */
static void test_no_python_frames(void **state)
{
	struct entry e = {};

	(void)state;
	add(&e, 0x1000, "work");
	add(&e, 0x1100, "py::f:/x.py");
	add(&e, 0x2000, PYFRAMES_EVAL_NAME);
	assert_false(pyframes__has_python(e.in, e.n));
	assert_string_equal(merged(&e), "work;py::f:/x.py;" PYFRAMES_EVAL_NAME);
	add(&e, WEFT_PY_MARKER, "[python]");
	assert_false(pyframes__has_python(e.in, e.n));
	assert_string_equal(merged(&e), "work;py::f:/x.py;" PYFRAMES_EVAL_NAME);
}

static void test_frame_text(void **state)
{
	char buf[128];

	(void)state;
	pyframes__text(buf, sizeof(buf), "Pool._handle_workers", "/usr/lib/python3.11/pool.py",
		       522);
	assert_string_equal(buf, "Pool._handle_workers (pool.py:522)");
	pyframes__text(buf, sizeof(buf), "", "app.py", 0);
	assert_string_equal(buf, "[unknown] (app.py)");
}

/* 3.13's offsets from _PyRuntime.debug_offsets must agree with the
 * table made from its headers where both say */
static void test_words(void **state)
{
	struct weft_py_code_key k = {
		.tgid = 7, .firstlineno = 3, .code = 0x7f0012345678ULL, .name = 0x7f0012345000ULL
	};
	__u64 id = weft_py_code_id(&k), w = WEFT_PY_WORD(id, 77, true);
	struct weft_py_offsets off;

	(void)state;
	assert_true(id && id <= WEFT_PY_ID_MASK);
	assert_int_equal(WEFT_PY_WORD_ID(w), id);
	assert_int_equal(WEFT_PY_WORD_LASTI(w), 77);
	assert_true(w & WEFT_PY_ENTRY);
	assert_true(w != WEFT_PY_MARKER && w != WEFT_PY_CUT && w != WEFT_STACK_CUT_SHORT);
	k.firstlineno = 4; /* another code object at that address */
	assert_true(weft_py_code_id(&k) != id);
	assert_true(python_offsets__of(0x030b, &off));
	assert_true(python_offsets__of(0x030d, &off));
	assert_true(python_offsets__of(0x0308, &off));
	assert_int_equal(off.entry_kind, WEFT_PY_ENTRY_EVERY);
	assert_false(python_offsets__of(0x0307, &off));
}

/* --- line tables against the interpreters --- */

/* Compiles code with short and long line steps (a gap of 300 lines),
 * lines going back, loops, comprehensions, lambdas, try blocks; prints per
 * code object "code VERSION FIRSTLINE HEX" then "at OFFSET LINE" per
 * instruction (LINE -1: none), from co_lines() or dis.findlinestarts() */
static const char dumper[] = "import dis, sys\n"
			     "src = '''\n"
			     "import os\n"
			     "def f(a, b):\n"
			     "    x = [i * i for i in range(a)\n"
			     "         if i % 3]\n"
			     "    try:\n"
			     "        y = {k: (lambda q: q + 1)(k) for k in x}\n"
			     "    except KeyError as e:\n"
			     "        raise ValueError(\n"
			     "            'no')\n"
			     "    finally:\n"
			     "        b += 1\n"
			     "    while b < 10:\n"
			     "        b += (a +\n"
			     "              2)\n"
			     "    return b\n"
			     "''' + '\\n' * 300 + '''\n"
			     "class C:\n"
			     "    def m(self, z):\n"
			     "        for i in range(z):\n"
			     "            if i > 3:\n"
			     "                break\n"
			     "        else:\n"
			     "            return f(\n"
			     "                z,\n"
			     "                1)\n"
			     "        return [x for x in (1, 2)]\n"
			     "'''\n"
			     "def walk(co):\n"
			     "    yield co\n"
			     "    for c in co.co_consts:\n"
			     "        if hasattr(c, 'co_code'):\n"
			     "            yield from walk(c)\n"
			     "v = sys.version_info\n"
			     "hexv = v[0] << 8 | v[1]\n"
			     "for co in walk(compile(src, 'x.py', 'exec')):\n"
			     "    if v >= (3, 10):\n"
			     "        table = co.co_linetable\n"
			     "    else:\n"
			     "        table = co.co_lnotab\n"
			     "    print('code', hexv, co.co_firstlineno, table.hex() or '-')\n"
			     "    n = len(co.co_code)\n"
			     "    lines = {}\n"
			     "    if v >= (3, 10):\n"
			     "        for s, e, l in co.co_lines():\n"
			     "            for o in range(s, e, 2):\n"
			     "                lines[o] = -1 if l is None else l\n"
			     "    else:\n"
			     "        starts = list(dis.findlinestarts(co))\n"
			     "        for o in range(0, n, 2):\n"
			     "            ls = [l for s, l in starts if s <= o]\n"
			     "            if ls:\n"
			     "                lines[o] = ls[-1]\n"
			     "    for o in sorted(lines):\n"
			     "        print('at', o, lines[o])\n";

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Runs python on the dumper; the instructions checked, or -1 when it
 * could not run */
static long check_interpreter(const char *python, unsigned int *codes)
{
	char script[] = "/tmp/weft-pyframes-XXXXXX", cmd[512], line[16384];
	__u8 table[8192];
	size_t tlen = 0, i;
	unsigned int version = 0;
	long checked = 0;
	int first = 0, fd, got, off, want;
	FILE *out;

	fd = mkstemp(script);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, dumper, sizeof(dumper) - 1), (ssize_t)(sizeof(dumper) - 1));
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s %s", python, script);
	out = popen(cmd, "r");
	assert_non_null(out);
	*codes = 0;
	while (fgets(line, sizeof(line), out)) {
		char hex[sizeof(line)];

		if (sscanf(line, "code %u %d %16383s", &version, &first, hex) == 3) {
			tlen = 0;
			for (i = 0; hex[0] != '-' && hex[i] && hex[i + 1] && tlen < sizeof(table);
			     i += 2)
				table[tlen++] = (__u8)(hexval(hex[i]) << 4 | hexval(hex[i + 1]));
			(*codes)++;
		} else if (sscanf(line, "at %d %d", &off, &want) == 2) {
			got = pyframes__line_at(version, table, tlen, first, (unsigned int)off);
			if (got != want)
				fail_msg("3.%u: offset %d of a code object at line %d: %d, not %d",
					 version & 0xff, off, first, got, want);
			checked++;
		}
	}
	if (pclose(out))
		checked = -1;
	unlink(script);
	return checked;
}

static void test_line_tables(void **state)
{
	const char *patterns[] = { "/usr/bin/python3.11",
				   "/root/.pyenv/versions/3.*/bin/python3.*[0-9]" };
	unsigned int p, codes, versions = 0;
	glob_t g;
	size_t i;

	(void)state;
	for (p = 0; p < 2; p++) {
		if (glob(patterns[p], 0, NULL, &g))
			continue;
		for (i = 0; i < g.gl_pathc; i++) {
			const char *py = g.gl_pathv[i], *v = strstr(py, "python3.");
			long minor = v ? strtol(v + 8, NULL, 10) : 0, n;

			if (minor < 8 || minor > 13 || strchr(v + 8, '-'))
				continue;
			n = check_interpreter(py, &codes);
			print_message("  %s: %ld instructions of %u code objects\n", py, n, codes);
			assert_true(n > 100 && codes >= 5);
			versions++;
		}
		globfree(&g);
	}
	if (!versions) {
		print_message("skipped: no CPython 3.8-3.13 installed\n");
		skip();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_several_frames_per_eval),
		cmocka_unit_test(test_nested_evals_and_c_extension),
		cmocka_unit_test(test_cut_trampolines_and_leftovers),
		cmocka_unit_test(test_eval_frame_being_entered),
		cmocka_unit_test(test_no_python_frames),
		cmocka_unit_test(test_frame_text),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_line_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
