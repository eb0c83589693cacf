#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of Python frames: tests/helpers/pyframes_prog.py run by
each CPython present (Debian's static /usr/bin/python3.11, the pyenv builds
of 3.8-3.13 with a shared libpython), recorded, and its stacks must name
the Python functions that computed, waited for the GIL, slept, read,
waited in an event loop, ran in a pool's worker; a deep recursion is cut
at the bound and marked. An interpreter that is not installed skips with
one line."""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, Skip, check  # noqa: E402

h = Harness()
PROG = os.path.join(os.path.dirname(__file__), "..", "helpers", "pyframes_prog.py")
CUT = "[more Python frames]"
MAX_FRAMES = 32


def pyenv_root():
    try:
        r = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return os.path.expanduser("~/.pyenv")


def interpreter(minor, debian=False):
    """The path of CPython 3.minor (Debian's or pyenv's), or Skip"""
    if debian:
        path = f"/usr/bin/python3.{minor}"
        if not os.access(path, os.X_OK):
            raise Skip(f"{path} is not installed")
        return path
    found = sorted(glob.glob(os.path.join(pyenv_root(), "versions", f"3.{minor}.*", "bin",
                                          f"python3.{minor}")))
    if not found:
        raise Skip(f"no pyenv CPython 3.{minor} under {pyenv_root()}/versions")
    return found[-1]


def record(tmp, name, python, mode, *opts, seconds=1.5):
    out, r = h.record(tmp, name, [python, PROG, mode, str(seconds)], *opts)
    m = re.search(r"(\d+) stack failures", r.stderr)
    check(m and m.group(1) == "0", f"stack failures: {r.stderr.strip()}")
    return out, r


def is_python(frame):
    return bool(re.match(r"^.+ \([^ ()]+\.py(:\d+)?\)$", frame))


def share(rows, pred):
    total = sum(c for _, c in rows)
    return (sum(c for s, c in rows if pred(s)) / total if total else 0.0), total


def worker_rows(rows, pid):
    """rows by thread (roots comm-tid), the main thread's left out"""
    return [(s, c) for s, c in rows if int(s[0].rsplit("-", 1)[1]) != pid]


def main_pid(path):
    rep = h.report_json(path, "--threads")
    return rep["processes"][0]["pid"], rep


def has(stack, name):
    """a Python frame of name: its qualname (3.11+) or name (before 3.11),
    or a qualname ending in it"""
    return any(f.startswith(name + " (") or f"." + name + " (" in f for f in stack)


def check_threads(tmp, python, minor):
    """CPU work in 4 Python threads names cpu_bound_task in >= 90% of the
    workers' on-CPU samples and of their GIL-wait time; the GIL is named"""
    path, _ = record(tmp, "threads", python, "threads")
    pid, rep = main_pid(path)
    oncpu = worker_rows(h.flame(path, "--type", "oncpu", "--by", "thread"), pid)
    named, total = share(oncpu, lambda s: has(s, "cpu_bound_task") and has(s, "cpu_worker"))
    print(f"    3.{minor}: {100 * named:.1f}% of {total} worker samples name cpu_bound_task")
    check(total >= 20, f"only {total} on-CPU samples of the workers")
    check(named >= 0.9, f"cpu_bound_task in {100 * named:.1f}% of the workers' samples")
    # the eval frames were replaced, not left beside their Python frames,
    # also in a sample that lands in a call being entered, whose eval
    # frame has no Python frame yet (test_pyframes covers that case)
    left, _ = share(oncpu, lambda s: has(s, "cpu_worker") and "_PyEval_EvalFrameDefault" in s)
    check(left == 0, f"an eval frame is left in {100 * left:.1f}% of the stacks with "
          "Python frames")
    gil = f"GIL (CPython 3.{minor})"
    names = [lk["name"] for lk in rep["locks"]]
    check(names and names[0] == gil, f"the top lock is {names[:1]}, not {gil}")
    # report --threads: each worker's top Python function
    for t in rep["threads"]:
        if t["tid"] == pid:
            continue
        py = t.get("python") or {}
        top = (py.get("oncpu") or [{}])[0].get("function", "")
        check(top == "cpu_bound_task (pyframes_prog.py)",
              f"thread {t['tid']}'s top Python function is {top!r}")
    # the verdict, when the GIL serialized the program (a loaded machine
    # may make it "limited by other programs"), names who waited
    if rep["verdict_kind"] == "serialized":
        check("waiting most in cpu_bound_task (pyframes_prog.py)" in rep["verdict"],
              f"verdict: {rep['verdict']}")
    print(f"    3.{minor}: verdict: {rep['verdict']}")
    lock = worker_rows(h.flame(path, "--type", "lock", "--by", "thread"), pid)
    named, total = share(lock, lambda s: has(s, "cpu_bound_task"))
    print(f"    3.{minor}: {100 * named:.1f}% of {total / 1e3:.0f} ms of GIL waits "
          "name cpu_bound_task")
    check(total > 100e3, f"only {total} us of lock waits")
    check(named >= 0.9, f"cpu_bound_task in {100 * named:.1f}% of the workers' GIL waits")
    return path


def check_sleep_read(tmp, python, minor):
    """time.sleep and a blocking os.read name their Python caller"""
    # a stack at every blocking switch: one long sleep is one switch, which
    # stack sampling (1 in 16) may leave out
    path, _ = record(tmp, "sleep_read", python, "sleep_read", "--stack-every", "1")
    rows = h.flame(path, "--type", "offcpu")
    # time.sleep is clock_nanosleep since 3.11, select before
    sleeps = [(s, c) for s, c in rows
              if any("clock_nanosleep" in f or "do_select" in f for f in s)]
    reads = [(s, c) for s, c in rows if any(f.startswith("ksys_read") for f in s)]
    for what, sel, fn in (("sleep", sleeps, "napper"), ("read", reads, "reader")):
        named, total = share(sel, lambda s: has(s, fn))
        print(f"    3.{minor}: {what}: {100 * named:.1f}% of {total / 1e3:.0f} ms name {fn}")
        check(total > 1.0e6, f"only {total} us blocked in {what}")
        # the main thread sleeps as long, outside napper: half at least
        check(named >= (0.45 if what == "sleep" else 0.9),
              f"{fn} in {100 * named:.1f}% of the {what} time")


def check_event_loop(tmp, python, minor):
    """an asyncio loop's epoll_wait names the loop's frames"""
    path, _ = record(tmp, "event_loop", python, "event_loop", "--stack-every", "1")
    rows = h.flame(path, "--type", "offcpu")
    polls = [(s, c) for s, c in rows if any("epoll_wait" in f for f in s)]
    named, total = share(polls, lambda s: has(s, "_run_once") and has(s, "event_loop"))
    print(f"    3.{minor}: {100 * named:.1f}% of {total / 1e3:.0f} ms in epoll_wait "
          "name the loop's _run_once")
    check(total > 0.5e6, f"only {total} us in epoll_wait")
    check(named >= 0.9, f"the loop's frames in {100 * named:.1f}% of epoll_wait")


def check_pool(tmp, python, minor):
    """a multiprocessing.Pool worker names the mapped function"""
    # 3 s of work: a worker's own start (about 0.1 s, in the pool's code)
    # stays a small part of its samples
    path, _ = record(tmp, "pool", python, "pool", seconds=3.0)
    pid, _ = main_pid(path)
    rows = h.flame(path, "--type", "oncpu", "--by", "pid")
    workers = [(s, c) for s, c in rows if int(s[0].rsplit("-", 1)[1]) != pid]
    named, total = share(workers, lambda s: has(s, "square_sum"))
    print(f"    3.{minor}: {100 * named:.1f}% of {total} pool worker samples name square_sum")
    check(total >= 20, f"only {total} samples in the pool's workers")
    # a worker's own start runs the pool's code (0.1 to 0.3 s of its 3 s on
    # a loaded machine)
    check(named >= 0.85, f"square_sum in {100 * named:.1f}% of the workers' samples")


def check_deep(tmp, python, minor):
    """a recursion 100 deep is cut at the bound, and marked so"""
    path, _ = record(tmp, "deep", python, "deep")
    rows = h.flame(path, "--type", "oncpu")
    deep = [(s, c) for s, c in rows if has(s, "cpu_bound_task") and has(s, "recurse")]
    check(sum(c for _, c in deep) >= 20, "too few samples in the recursion")
    for s, _ in deep:
        py = [f for f in s if is_python(f)]
        check(CUT in s, f"a deep stack without {CUT}: {';'.join(s[-6:])}")
        check(len(py) == MAX_FRAMES, f"{len(py)} Python frames kept, not {MAX_FRAMES}")
        # the cut is at the root end of the Python frames
        check(s.index(CUT) < s.index(py[0]), "the mark is not where the frames were cut")


CHECKS = (check_threads, check_sleep_read, check_event_loop, check_pool, check_deep)


def run_all(tmp, minor, debian=False):
    python = interpreter(minor, debian)
    print(f"    {python}")
    for fn in CHECKS:
        sub = os.path.join(tmp, fn.__name__)
        os.mkdir(sub)
        fn(sub, python, minor)


@h.test
def debian_python_3_11(tmp):
    run_all(tmp, 11, debian=True)


@h.test
def pyenv_python_3_8(tmp):
    run_all(tmp, 8)


@h.test
def pyenv_python_3_9(tmp):
    run_all(tmp, 9)


@h.test
def pyenv_python_3_10(tmp):
    run_all(tmp, 10)


@h.test
def pyenv_python_3_11(tmp):
    run_all(tmp, 11)


@h.test
def pyenv_python_3_12(tmp):
    run_all(tmp, 12)


@h.test
def pyenv_python_3_13(tmp):
    run_all(tmp, 13)


@h.test
def python_off_keeps_native_stacks(tmp):
    """--python=off: the interpreter's own frames, no Python ones"""
    python = interpreter(11, debian=True)
    path, _ = record(tmp, "off", python, "threads", "--python=off", seconds=1.0)
    rows = h.flame(path, "--type", "oncpu")
    check(not any(is_python(f) for s, _ in rows for f in s), "a Python frame with --python=off")
    check(any("_PyEval_EvalFrameDefault" in s for s, _ in rows), "no eval frame left")


@h.test
def unknown_versions_said_once(tmp):
    """CPython 3.7 (and 3.6): one line, native stacks"""
    for minor in (6, 7):
        try:
            python = interpreter(minor)
        except Skip as e:
            print(f"    {e}")
            continue
        path, r = record(tmp, f"old{minor}", python, "threads", seconds=1.0)
        line = f"CPython 3.{minor}: no Python frames (supported: 3.8-3.13)"
        check(r.stderr.count(line) == 1, f"not said once: {line!r} in {r.stderr.strip()!r}")
        rows = h.flame(path, "--type", "oncpu")
        check(not any(is_python(f) for s, _ in rows for f in s), f"Python frames on 3.{minor}")


@h.test
def bad_python_option_is_refused(tmp):
    r = h.run([h.weft, "record", "--python=maybe", "--", "true"])
    check(r.returncode == 2, f"exit {r.returncode}")
    check(len(r.stderr.strip().splitlines()) >= 1 and "--python" in r.stderr, r.stderr)


if __name__ == "__main__":
    sys.exit(h.main())
