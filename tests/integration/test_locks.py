#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of what held threads back: the blocking system call read
at the switch turned into off-CPU reasons, the locks table named from data
symbols, and serialized time, on real programs traced with the real BPF
programs."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")
WORK = os.path.join(h.build, "weft-work")


def report(tmp, name, cmd):
    out = os.path.join(tmp, name + ".data")
    r = h.run([WEFT, "record", "-o", out, "--", *cmd])
    check(r.returncode == 0, f"weft record failed: {r.stderr.strip()}")
    r = h.run([WEFT, "report", out, "--format", "json", "--threads"])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    return json.loads(r.stdout)


def top_reason(rep):
    off = rep["off_cpu"]
    return max(off, key=off.get)[: -len("_s")]


@h.test
def contended_mutex_is_the_top_lock(tmp):
    rep = report(tmp, "mutex", [f"{HELPERS}/mutex", "4", "0.5"])
    check(rep["locks"], "the locks table is empty")
    top = rep["locks"][0]
    check(top["name"] == "shared_lock", f"top lock named {top['name']!r}")
    check(top["kind"] == "mutex" and top["waits"] > 0, f"top lock {top}")
    check(top["threads"] >= 2, f"waiting threads: {top['threads']}")
    check(rep["off_cpu"]["lock_s"] > 0, "lock time in off_cpu")


@h.test
def pthread_probes_find_the_same_mutex(tmp):
    out = os.path.join(tmp, "pthread.data")
    r = h.run([WEFT, "record", "--locks=futex,pthread", "-o", out, "--",
               f"{HELPERS}/mutex", "4", "0.3"])
    check(r.returncode == 0, f"weft record failed: {r.stderr.strip()}")
    r = h.run([WEFT, "report", out, "--format", "json"])
    check(r.returncode == 0, r.stderr)
    locks = json.loads(r.stdout)["locks"]
    by_kind = {lock["kind"]: lock for lock in locks if lock["name"] == "shared_lock"}
    check("pthread" in by_kind and "mutex" in by_kind, f"locks: {locks}")
    check(by_kind["pthread"]["addr"] == by_kind["mutex"]["addr"], "same address both ways")
    check(by_kind["pthread"]["waits"] > 0, "pthread waits counted")


@h.test
def gil_like_program_is_serialized(tmp):
    rep = report(tmp, "gil", [WORK, "--task", "cpu", "--mode", "gil", "--units", "16"])
    check(rep["parallelism"]["avg"] <= 1.15, f"parallelism {rep['parallelism']['avg']}")
    share = rep["serialized_s"] / rep["wall_s"]
    check(share >= 0.5, f"serialized share {share:.2f}")
    check(rep["verdict"].startswith("serialized by one lock (gil"), f"verdict {rep['verdict']!r}")


@h.test
def python_threads_are_serialized_by_the_gil(tmp):
    # the interpreter running these tests: Debian's python3, CPython's GIL
    python = sys.executable
    script = os.path.join(tmp, "spin.py")
    with open(script, "w") as f:
        f.write("import threading\n"
                "def spin(n):\n"
                "    x = 0\n"
                "    for i in range(n):\n"
                "        x += i\n"
                "ts = [threading.Thread(target=spin, args=(4_000_000,)) for _ in range(2)]\n"
                "[t.start() for t in ts]\n"
                "[t.join() for t in ts]\n")
    rep = report(tmp, "py", [os.path.realpath(python), script])
    check(rep["verdict"].startswith("serialized by one lock (_PyRuntime+"),
          f"verdict {rep['verdict']!r}")
    check(rep["parallelism"]["avg"] <= 1.15, f"parallelism {rep['parallelism']['avg']}")


@h.test
def event_loop_waits_for_events(tmp):
    rep = report(tmp, "ev", [WORK, "--task", "io", "--mode", "eventloop", "--units", "8"])
    check(top_reason(rep) == "wait", f"top reason {top_reason(rep)}: {rep['off_cpu']}")


@h.test
def sleeping_program_sleeps(tmp):
    rep = report(tmp, "sleep", ["sleep", "0.3"])
    check(top_reason(rep) == "sleep", f"top reason {top_reason(rep)}: {rep['off_cpu']}")
    check("sleeping (clock_nanosleep)" in rep["verdict"], f"verdict {rep['verdict']!r}")


@h.test
def pipe_reader_waits_on_io(tmp):
    rep = report(tmp, "pipe", [f"{HELPERS}/pipeio", "0.3"])
    check(top_reason(rep) == "io", f"top reason {top_reason(rep)}: {rep['off_cpu']}")


@h.test
def oversubscribed_threads_wait_in_the_run_queue(tmp):
    n = 2 * os.cpu_count()
    rep = report(tmp, "busy", [f"{HELPERS}/busy", "-t", str(n), "-s", "0.5"])
    busy = [t for t in rep["threads"] if t["on_cpu_s"] > 0.05]
    for t in busy:
        off = t["off_cpu"]
        check(max(off, key=off.get) == "runqueue_s", f"thread {t['tid']}: {off}")


if __name__ == "__main__":
    sys.exit(h.main())
