#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of who waited for whom: lock owners read at the switch,
releasers standing in where no owner can be read, the wait-for graph and
its knots (DESIGN.md, "Causality"), on real programs traced with the real
BPF programs."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")
SOURCES = os.path.join(os.path.dirname(__file__), "..", "helpers")
WORK = os.path.join(h.build, "weft-work")
PSEUDO = {"timer", "io", "child", "cpu-tree", "cpu-others", "unknown"}


def record(tmp, name, cmd, env=None):
    out = os.path.join(tmp, name + ".data")
    r = h.run([WEFT, "record", "-o", out, "--", *cmd], env=env)
    check(r.returncode == 0, f"weft record failed: {r.stderr.strip()}")
    r = h.run([WEFT, "report", out, "--format", "json"])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    return out, json.loads(r.stdout)


def check_graph_shape(rep):
    """DESIGN's keys, sorted by wait_s; pseudo-nodes have a null holder_tid
    and their name; edges between threads name threads of the tree."""
    edges = rep.get("wait_for")
    check(isinstance(edges, list) and edges, f"wait_for: {edges!r}")
    waits = [e["wait_s"] for e in edges]
    check(waits == sorted(waits, reverse=True), "wait_for not sorted by wait_s")
    tids = {t["tid"]: t["comm"] for t in rep["threads"]}
    for e in edges:
        for k in ("waiter_tid", "waiter_comm", "holder_tid", "holder_comm", "lock", "wait_s",
                  "waits"):
            check(k in e, f"edge without {k}: {e}")
        check(e["waiter_tid"] in tids, f"waiter not a thread of the tree: {e}")
        check(e["wait_s"] > 0 and e["waits"] >= 1, f"empty edge {e}")
        if e["holder_tid"] is None:
            check(e["holder_comm"] in PSEUDO, f"pseudo-node {e['holder_comm']!r}")
        else:
            check(e["holder_tid"] in tids, f"holder not a thread of the tree: {e}")
            check(e["holder_comm"] == tids[e["holder_tid"]], f"holder named {e}")
            check(e["holder_tid"] != e["waiter_tid"], f"a thread waits on itself: {e}")
    # a thread cannot wait for others for longer than it lived
    for tid in tids:
        t = next(t for t in rep["threads"] if t["tid"] == tid)
        out = sum(e["wait_s"] for e in edges if e["waiter_tid"] == tid)
        check(out <= t["runqueue_s"] + t["blocked_s"] + 1e-6,
              f"thread {tid}: edges {out} s, off-CPU only {t['runqueue_s'] + t['blocked_s']} s")


def owned_lock_edges(rep, comm):
    return [e for e in rep["wait_for"]
            if e["waiter_comm"] == comm and e["lock"] == "owned_lock"]


def check_holder_asleep(rep, rounds, what):
    """Each waiter's wait on owned_lock is mostly while "holder" held it, and
    the owners read at the switch were accepted."""
    check_graph_shape(rep)
    lock = next((l for l in rep["locks"] if l["name"] == "owned_lock"), None)
    check(lock is not None, f"{what}: owned_lock not in the locks table")
    holder = next(t for t in rep["threads"] if t["comm"] == "holder")
    for n in (1, 2, 3):
        edges = owned_lock_edges(rep, f"waiter{n}")
        total = sum(e["wait_s"] for e in edges)
        on_holder = sum(e["wait_s"] for e in edges if e["holder_comm"] == "holder")
        check(total > 0, f"{what}: waiter{n} has no edge through owned_lock")
        check(all(e["holder_tid"] == holder["tid"] for e in edges
                  if e["holder_comm"] == "holder"), f"{what}: holder's tid")
        check(on_holder >= 0.8 * total,
              f"{what}: waiter{n} waited {on_holder:.3f} s of {total:.3f} s on the holder")
    # the oracle: the holder slept 20 ms a round with the lock held, and
    # each waiter can wait for it at most that long (plus its wakeups)
    for n in (1, 2, 3):
        on_holder = sum(e["wait_s"] for e in owned_lock_edges(rep, f"waiter{n}")
                        if e["holder_comm"] == "holder")
        check(on_holder <= lock["max_s"] * rounds + 0.05,
              f"{what}: waiter{n} waited {on_holder:.3f} s for the holder, more than "
              f"{rounds} rounds of at most {lock['max_s']:.4f} s")
    tops = lock.get("holders")
    check(tops and tops[0]["comm"] == "holder" and tops[0]["tid"] == holder["tid"],
          f"{what}: owned_lock's top holder {tops!r}")
    check(rep["owned_waits"] >= 0.9 * lock["waits"],
          f"{what}: owners accepted for {rep['owned_waits']} of {lock['waits']} waits")


@h.test
def holder_asleep_with_a_mutex_is_waited_for(tmp):
    rounds = 20
    path, rep = record(tmp, "owners", [f"{HELPERS}/owners", str(rounds)])
    check_holder_asleep(rep, rounds, "mutex")
    # the text view names the same edge
    r = h.run([WEFT, "report", path, "--waits"])
    check(r.returncode == 0, f"weft report --waits failed: {r.stderr.strip()}")
    check("wait-for graph" in r.stdout, "no wait-for graph in the text report")
    rows = [line for line in r.stdout.splitlines()
            if line.startswith("waiter") and " holder-" in line and "owned_lock" in line]
    check(len(rows) == 3, f"text edges waiterN -> holder: {rows}")
    check("held by: holder-" in r.stdout, "the locks table names no holder")


@h.test
def owner_read_is_what_names_the_holder(tmp):
    """Without the owner read (WEFT_OWNERS=0) no owner is accepted: the
    graph then rests on releasers alone."""
    env = dict(os.environ, WEFT_OWNERS="0")
    _, rep = record(tmp, "owners", [f"{HELPERS}/owners", "5"], env=env)
    check(rep["owned_waits"] == 0, f"{rep['owned_waits']} owners without the read")


@h.test
def pi_mutex_owner_from_the_futex_word(tmp):
    rounds = 20
    _, rep = record(tmp, "owners-pi", [f"{HELPERS}/owners", "--pi", str(rounds)])
    check_holder_asleep(rep, rounds, "PI mutex")


def thread_edges(rep, tids, lock_pred):
    return [e for e in rep["wait_for"]
            if e["holder_tid"] in tids and e["waiter_tid"] in tids and e["lock"]
            and lock_pred(e["lock"])]


@h.test
def weft_work_gil_edges_between_its_threads(tmp):
    _, rep = record(tmp, "gil", [WORK, "--task", "cpu", "--mode", "gil", "--size",
                                 "100000000"])
    check_graph_shape(rep)
    workers = {t["tid"] for t in rep["threads"] if t["comm"].startswith("gil-w")}
    check(len(workers) >= 2, f"gil workers: {workers}")
    edges = thread_edges(rep, workers, lambda name: name.split("+")[0] == "gil")
    pairs = {(e["waiter_tid"], e["holder_tid"]) for e in edges}
    check(len(pairs) >= 2, f"edges between gil workers through gil: {pairs}")
    gil_wait = sum(l["total_s"] for l in rep["locks"] if l["name"].startswith("gil"))
    on_workers = sum(e["wait_s"] for e in edges)
    check(on_workers >= 0.5 * gil_wait,
          f"{on_workers:.3f} s of {gil_wait:.3f} s waited on gil is on worker edges")
    knots = rep["knots"]
    check(knots and workers <= {t["tid"] for t in knots[0]["threads"]},
          f"the workers are not in the heaviest knot: {knots[:1]}")
    check(knots[0]["lock"].startswith("gil"), f"knot through {knots[0]['lock']}")


@h.test
def cpython_threads_wait_on_each_other_through_the_gil(tmp):
    _, rep = record(tmp, "py", ["/usr/bin/python3", os.path.join(SOURCES, "gil4.py"), "1"])
    check_graph_shape(rep)
    pid = rep["processes"][0]["pid"]
    spinners = {t["tid"] for t in rep["threads"] if t["pid"] == pid and t["tid"] != pid}
    check(len(spinners) == 4, f"python threads: {spinners}")
    # the GIL's address: the turn-taking lock with the most wait
    gil = next((l for l in rep["locks"] if l["turn_taking"]), None)
    check(gil is not None, "no turn-taking address in the locks table")
    gil_name = gil["name"] or gil["addr"]
    edges = thread_edges(rep, spinners, lambda name: name == gil_name)
    waiters = {e["waiter_tid"] for e in edges}
    holders = {e["holder_tid"] for e in edges}
    check(len(waiters) == 4 and len(holders) == 4,
          f"through {gil_name}: waiters {waiters}, holders {holders}")
    on_threads = sum(e["wait_s"] for e in edges)
    check(on_threads >= 0.5 * gil["total_s"],
          f"{on_threads:.3f} s of the GIL's {gil['total_s']:.3f} s on edges between threads")
    check(rep["knots"] and spinners <= {t["tid"] for t in rep["knots"][0]["threads"]},
          f"the four threads are not in one knot: {rep['knots'][:1]}")


if __name__ == "__main__":
    sys.exit(h.main())
