#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of weft critical, the critical path through wakeups, on
programs whose path is known (tests/helpers/critpath.c, prodcons.c): which
thread carries it, that a sleep inside a lock is on it inside that lock, and
that the segments tile the span. Shares of the path, not timings: on a
machine shared with other programs, time queued behind them lands on the
path of the thread that queued, which is still the thread the checks name."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import FOLDED_LINE, Harness, Skip, check  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")
CRITPATH = os.path.join(HELPERS, "critpath")


def critical(path, *opts):
    r = h.run([WEFT, "critical", path, "--format", "json", *opts])
    check(r.returncode == 0, f"weft critical failed: {r.stderr.strip()}")
    return json.loads(r.stdout)


def check_tiles(cp):
    """Every list of shares sums to the path, and the path spans the wall"""
    path = cp["path_s"]
    check(path > 0, f"path_s {path}")
    # rounding: 1e-6 s per entry
    for key in ("by_thread", "by_function"):
        total = sum(e["s"] for e in cp[key])
        check(abs(total - path) <= 1e-6 * (len(cp[key]) + 1),
              f"{key} sums to {total:.6f} s, the path is {path:.6f} s")
    total = sum(cp["by_state"].values())
    check(abs(total - path) <= 1e-5, f"by_state sums to {total:.6f} s, the path is {path:.6f} s")
    check(path <= cp["wall_s"] + 1e-6, f"path {path} longer than the wall {cp['wall_s']}")
    for key in ("by_thread", "by_lock", "by_function"):
        s = [e["s"] for e in cp[key]]
        check(s == sorted(s, reverse=True), f"{key} not sorted by s: {s}")


def share_of(cp, comm):
    return sum(t["share"] for t in cp["by_thread"] if t["comm"] == comm)


@h.test
def pipeline_heavy_stage_carries_the_path(tmp):
    """Three threads joined by pipes, the middle one doing 500 us an item
    and the others 20 us: the heavy stage carries most of the path; the
    light stages, which ran ahead or waited for it, carry little (the
    reader's 8 ms of work can reach the path when other programs keep it
    queued while the heavy stage waits for its first items: 14% once, on
    a machine where they held 75% of the cores)"""
    path, _ = h.record(tmp, "pipeline", [CRITPATH, "pipeline", "400"])
    cp = critical(path)
    check_tiles(cp)
    top = cp["by_thread"][0]
    check(top["comm"] == "stage-heavy" and top["share"] >= 0.6,
          f"the path's top thread: {top}")
    for light in ("stage-read", "stage-write"):
        check(share_of(cp, light) <= 0.25, f"{light} has {share_of(cp, light):.2f} of the path")
    # the heavy stage's function is on the path, by its samples
    names = [f["name"] for f in cp["by_function"]]
    check(any(n in ("heavy_work", "spin_us") or n.startswith("[vdso]") or "clock_gettime" in n
              for n in names), f"no function of the heavy stage on the path: {names[:8]}")


@h.test
def forkjoin_long_worker_on_the_path(tmp):
    """A fork-join with a long worker (300 ms of work) and a short one
    (100 ms): main's join ends when the long one does, so the path is the
    long worker's; the short one is not on it"""
    path, _ = h.record(tmp, "forkjoin", [CRITPATH, "forkjoin", "100"])
    cp = critical(path)
    check_tiles(cp)
    check(share_of(cp, "fj-long") >= 0.8, f"fj-long has {share_of(cp, 'fj-long'):.2f}: "
          f"{cp['by_thread']}")
    check(share_of(cp, "fj-short") <= 0.02, f"fj-short has {share_of(cp, 'fj-short'):.3f}")
    # the long worker's own CPU time is on the path (the kernel's figure
    # of it, through weft report, is the oracle)
    rep = h.report_json(path)
    long_cpu = sum(t["on_cpu_s"] for t in rep["threads"] if t["comm"] == "fj-long")
    check(cp["by_state"]["running_s"] >= 0.9 * long_cpu,
          f"running on the path {cp['by_state']['running_s']:.3f} s, fj-long ran {long_cpu:.3f} s")


@h.test
def holder_sleeping_in_lock_is_on_the_path(tmp):
    """A mutex holder sleeps 200 ms in the lock while another thread waits
    for it: the sleep is on the path, inside that lock, and the lock's
    what-if bound covers the wait; the folded path has the sleeping
    stack"""
    path, _ = h.record(tmp, "holder", [CRITPATH, "holder", "200"])
    cp = critical(path)
    check_tiles(cp)
    check(cp["by_state"]["sleep_s"] >= 0.19, f"sleep on the path: {cp['by_state']}")
    check(share_of(cp, "holder") > share_of(cp, "waiter"), f"{cp['by_thread']}")
    locks = {lock["name"]: lock for lock in cp["by_lock"]}
    check("the_lock" in locks, f"the_lock not in by_lock: {list(locks)}")
    lock = locks["the_lock"]
    check(lock["s"] >= 0.18, f"the path inside the_lock: {lock}")
    check(lock["whatif_bound_s"] >= 0.18 and lock["whatif_bound_s"] <= cp["path_s"],
          f"the_lock's what-if bound: {lock}")
    check(cp["by_lock"][0]["name"] == "the_lock", f"top lock {cp['by_lock'][0]}")

    # the markdown report names the lock beside its bound
    r = h.run([WEFT, "report", path, "--critical", "--format", "markdown"])
    check(r.returncode == 0, f"markdown failed: {r.stderr.strip()}")
    md = r.stdout[r.stdout.find("### Critical path"):]
    check(md and re.search(r"^\| the\\_lock \| [0-9.]+ ms \| [0-9.]+ ms \|$", md, re.M),
          f"markdown's critical path: {md[:600]!r}")

    r = h.run([WEFT, "critical", path, "--format", "folded"])
    check(r.returncode == 0, f"folded failed: {r.stderr.strip()}")
    total = 0
    slept = 0
    for line in r.stdout.splitlines():
        check(FOLDED_LINE.match(line), f"not a folded line: {line!r}")
        stack, us = line.rsplit(" ", 1)
        total += int(us)
        frames = stack.split(";")
        if frames[-1] == "[sleep]" and "sleep_in_lock" in frames:
            check(frames[0].startswith("holder-"), f"root {frames[0]}")
            slept += int(us)
    check(slept >= 190000, f"{slept} us of sleep_in_lock's sleep in the folded path")
    lines = len(r.stdout.splitlines())
    check(abs(total - cp["path_s"] * 1e6) <= lines + 1,
          f"folded sums to {total} us, the path is {cp['path_s'] * 1e6:.0f} us")


@h.test
def slow_consumer_is_the_bottleneck(tmp):
    """A producer with a slow consumer: the consumer carries the path, and
    weft report --critical's verdict names it (DESIGN: rule 5), unless
    other programs held the cores (rule 3 comes first)"""
    path, _ = h.record(tmp, "pc", [os.path.join(HELPERS, "prodcons"), "1"])
    rep = h.report_json(path, "--critical")
    cp = rep.get("critical_path")
    check(isinstance(cp, dict), "weft report --critical has no critical_path")
    check_tiles(cp)
    top = cp["by_thread"][0]
    check(top["comm"] == "consumer" and top["share"] >= 0.6, f"the path's top thread: {top}")
    check("critical_path" not in h.report_json(path), "critical_path in a report without --critical")
    # weft critical's own verdict is the report's
    check(critical(path)["verdict"] == rep["verdict"], "weft critical and report disagree")
    if rep["verdict_kind"] == "limited_by_others":
        raise Skip(f"verdict not checked: {rep['verdict']}")
    want = rf"^bottleneck: consumer \(tid {top['tid']}\) on \d+% of the critical path$"
    check(re.match(want, rep["verdict"]), f"verdict {rep['verdict']!r}")


# 4 processes creating and removing files in one directory: they wait on
# its inode's lock in the kernel, which no symbol names
DIR_LOCK = r"""
import os, sys, time, multiprocessing as mp
def work(k):
    end = time.time() + 0.6
    i = 0
    while time.time() < end:
        p = os.path.join(sys.argv[1], "%d-%d" % (k, i % 50))
        os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
        os.unlink(p)
        i += 1
ps = [mp.Process(target=work, args=(k,)) for k in range(4)]
[p.start() for p in ps]
[p.join() for p in ps]
"""


@h.test
def kernel_locks_named_as_the_report_names_them(tmp):
    """a contended kernel lock on the path is "kernel at 0xffff...", as the
    verdict, the flame graphs and pprof name a lock without a symbol, in
    weft critical's JSON and text and in weft report --critical; never a
    bare address"""
    work = os.path.join(tmp, "dir")
    os.mkdir(work)
    path = h.record(tmp, "dirlock", ["/usr/bin/python3", "-c", DIR_LOCK, work])[0]
    rep = h.report_json(path, "--critical")
    kernel = {(lk["pid"], lk["addr"]) for lk in rep["locks"] if lk["kind"] == "kernel"}
    on_path = [lk for lk in rep["critical_path"]["by_lock"] if (lk["pid"], lk["addr"]) in kernel]
    if not on_path:
        raise Skip(f"no kernel lock on the path ({len(kernel)} contended in the recording)")
    for lk in on_path:
        check(lk["name"] == f"kernel at {lk['addr']}", f"a kernel lock named {lk['name']!r}")
    cp = critical(path)
    check(cp["by_lock"] == rep["critical_path"]["by_lock"],
          "weft critical's by_lock differs from weft report --critical's")
    bare = [lk["name"] for lk in cp["by_lock"] if re.fullmatch(r"0x[0-9a-f]+", lk["name"])]
    check(not bare, f"locks named by a bare address: {bare[:3]}")
    r = h.run([WEFT, "critical", path, "--by", "lock"])
    check(r.returncode == 0, f"weft critical --by lock failed: {r.stderr.strip()}")
    check(f"kernel at {on_path[0]['addr']}" in r.stdout,
          f"the text does not name the kernel lock: {r.stdout[-400:]}")


@h.test
def bad_input_is_one_line(tmp):
    """A missing file, an unknown --by and folded by lock: one line on
    stderr and the documented exit status"""
    r = h.run([WEFT, "critical", os.path.join(tmp, "none.data")])
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
          f"missing file: {r.returncode} {r.stderr!r}")
    for opts in (["--by", "nope"], ["--format", "folded", "--by", "lock"], ["--format", "x"]):
        r = h.run([WEFT, "critical", os.path.join(tmp, "none.data"), *opts])
        check(r.returncode == 2, f"{opts}: exit {r.returncode}")
        check(len([ln for ln in r.stderr.splitlines() if ln.startswith("weft")]) == 1,
              f"{opts}: {r.stderr!r}")
    bad = os.path.join(tmp, "bad.data")
    with open(bad, "wb") as f:
        f.write(b"not a recording at all" * 10)
    r = h.run([WEFT, "critical", bad])
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
          f"not a recording: {r.returncode} {r.stderr!r}")


if __name__ == "__main__":
    sys.exit(h.main())
