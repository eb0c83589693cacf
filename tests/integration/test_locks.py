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
from harness import Harness, check, free_cores_or_skip  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")
WORK = os.path.join(h.build, "weft-work")


def report(tmp, name, cmd):
    out = os.path.join(tmp, name + ".data")
    r = h.run([WEFT, "record", "-o", out, "--", *cmd])
    check(r.returncode == 0, f"weft record failed: {r.stderr.strip()}")
    r = h.run([WEFT, "report", out, "--format", "json", "--threads", "--cpus"])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    return json.loads(r.stdout)


def check_top_stacks(lock, caller):
    """The lock's top user stacks: one names the function that took it, and
    together they are at most the lock's wait."""
    tops = lock.get("top_stacks")
    check(isinstance(tops, list) and tops, f"top_stacks of {lock['name']}: {tops!r}")
    check(len(tops) <= 3, f"{len(tops)} top stacks")
    check(any(caller in s["frames"] for s in tops),
          f"no top stack of {lock['name']} names {caller}(): {[s['frames'] for s in tops]}")
    for s in tops:
        check(s["frames"] and not any(f.endswith("_[k]") for f in s["frames"]),
              f"not user frames only: {s['frames']}")
        check(s["us"] > 0 and 0 < s["share"] <= 1, f"stack {s}")
    us = [s["us"] for s in tops]
    check(us == sorted(us, reverse=True), f"not by time: {us}")
    # rounding: shares to 1e-6, times to 1e-3 us and 1e-9 s
    share = sum(s["share"] for s in tops)
    check(share <= 1 + 3e-6, f"shares sum to {share}")
    check(sum(us) <= lock["total_s"] * 1e6 + 0.01,
          f"stacks {sum(us)} us, more than the lock's {lock['total_s'] * 1e6} us")


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
    # contender() calls pthread_mutex_lock itself
    check_top_stacks(top, "contender")


@h.test
def lock_names_the_stacks_that_wait_for_it(tmp):
    out = os.path.join(tmp, "libc_waits.data")
    r = h.run([WEFT, "record", "-o", out, "--", f"{HELPERS}/libc_waits", "mutex", "3", "0.6"])
    check(r.returncode == 0, f"weft record failed: {r.stderr.strip()}")
    r = h.run([WEFT, "report", out, "--format", "json"])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    locks = [lock for lock in json.loads(r.stdout)["locks"] if lock["name"] == "shared_lock"]
    check(len(locks) == 1, f"shared_lock entries: {locks}")
    check_top_stacks(locks[0], "lock_and_count")
    # the text report: under the lock's row, from where the program took it
    r = h.run([WEFT, "report", out])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    lines = r.stdout.splitlines()
    row = next((i for i, line in enumerate(lines) if line.startswith("shared_lock ")), None)
    check(row is not None, f"no shared_lock row:\n{r.stdout}")
    check(row + 1 < len(lines) and "% " in lines[row + 1]
          and lines[row + 1].split("  ")[-1].startswith("lock_and_count <- contender"),
          f"under the row: {lines[row + 1:row + 4]}")

    # without stacks, unknown: null
    out = os.path.join(tmp, "nostacks.data")
    r = h.run([WEFT, "record", "--no-stacks", "-o", out, "--",
               f"{HELPERS}/libc_waits", "mutex", "3", "0.2"])
    check(r.returncode == 0, f"weft record failed: {r.stderr.strip()}")
    r = h.run([WEFT, "report", out, "--format", "json"])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    locks = json.loads(r.stdout)["locks"]
    check(locks and all(lock["top_stacks"] is None for lock in locks),
          f"top_stacks without stacks: {[lock['top_stacks'] for lock in locks]}")


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
    check(share > 0, "nothing serialized")
    # with the other core taken by another program, a released waiter
    # queues behind the holder, which takes the lock back: interleaving
    free_cores_or_skip(rep, "the serialized share and verdict")
    check(share >= 0.5, f"serialized share {share:.2f}")
    check(rep["verdict"].startswith("serialized by one lock (gil"), f"verdict {rep['verdict']!r}")


@h.test
def python_threads_are_serialized_by_the_gil(tmp):
    # the interpreter running these tests: Debian's python3, CPython's GIL
    python = sys.executable
    script = os.path.join(tmp, "spin.py")
    # under sudo the command runs as the invoking user: let it read the script
    os.chmod(tmp, 0o755)
    with open(script, "w") as f:
        f.write("import threading\n"
                "def spin(n):\n"
                "    x = 0\n"
                "    for i in range(n):\n"
                "        x += i\n"
                "ts = [threading.Thread(target=spin, args=(4_000_000,)) for _ in range(2)]\n"
                "[t.start() for t in ts]\n"
                "[t.join() for t in ts]\n")
    os.chmod(script, 0o644)
    rep = report(tmp, "py", [os.path.realpath(python), script])
    check(rep["parallelism"]["avg"] <= 1.15, f"parallelism {rep['parallelism']['avg']}")
    # other programs holding the cores come first in the verdict's rules
    free_cores_or_skip(rep, "the verdict")
    # the lock named as CPython's GIL, and the Python function that waited
    # most for it (sys.version_info: the interpreter running this test)
    gil = "GIL (CPython %d.%d)" % sys.version_info[:2]
    check(rep["verdict"].startswith(f"serialized by one lock ({gil})"),
          f"verdict {rep['verdict']!r}")
    check("waiting most in spin (spin.py)" in rep["verdict"], f"verdict {rep['verdict']!r}")
    # with the critical path, which writes the verdict again
    crit = h.report_json(os.path.join(tmp, "py.data"), "--critical")
    check(crit["verdict"] == rep["verdict"], f"--critical verdict {crit['verdict']!r}")


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
