#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of `weft stuck -p PID`: hung programs (tests/helpers/
deadlock.c) looked at while they hang. Deadlocks are named with their
threads and locks and exit 3; waits that no thread of the snapshot can end
are named without a deadlock claimed (exit 0); errors are one line and a
non-zero exit. The target is never stopped: its threads'
voluntary_ctxt_switches do not change across the call."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402

h = Harness()
WEFT = h.weft
DEADLOCK = os.path.join(h.build, "tests", "helpers", "deadlock")
FUTEX, READ = 202, 0


def tids_of(pid):
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def syscall_of(pid, tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/syscall") as f:
            first = f.read().split()
    except OSError:
        return None
    return int(first[0]) if first and first[0] != "running" else None


def nvcsw(pid):
    """voluntary_ctxt_switches of each thread of pid"""
    out = {}
    for tid in tids_of(pid):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    out[tid] = int(line.split()[1])
    return out


class Hung:
    """A helper started in a mode, waited for until `nblocked` of its
    threads block in the system call `nr`; killed at the end with its
    children."""

    def __init__(self, mode, nthreads, nr=FUTEX, *args):
        self.p = subprocess.Popen([DEADLOCK, mode, *args], stdout=subprocess.PIPE, text=True,
                                  start_new_session=True)
        line = self.p.stdout.readline().split()
        check(line and line[0] == "ready", f"{mode}: the helper said {line!r}")
        self.child = int(line[1]) if len(line) > 1 else None
        self.pid = self.p.pid
        deadline = time.time() + 10
        while time.time() < deadline:
            tids = tids_of(self.pid)
            if len(tids) == nthreads and \
                    all(syscall_of(self.pid, t) in (FUTEX, READ, 230) for t in tids):
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"{mode}: the threads did not block in 10 s")
        # a thread's last switches before it sleeps for good
        time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.killpg(self.pid, signal.SIGKILL)
        self.p.wait()


def stuck(pids, *opts):
    return h.run([WEFT, "stuck", "-p", ",".join(str(p) for p in pids), *opts])


def stuck_json(pids, expect_rc):
    r = stuck(pids, "--format", "json")
    check(r.returncode == expect_rc,
          f"weft stuck exited {r.returncode}, not {expect_rc}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def not_stopped(target, before):
    after = nvcsw(target)
    check(after == before, f"the target's threads switched during weft stuck: "
          f"{before} -> {after}")


def thread(rep, comm):
    t = next((t for t in rep["threads"] if t["comm"] == comm), None)
    check(t is not None, f"no thread {comm} in {[t['comm'] for t in rep['threads']]}")
    return t


def check_lock_cycle(rep, comms, locks):
    check(len(rep["deadlocks"]) == 1, f"deadlocks: {rep['deadlocks']}")
    d = rep["deadlocks"][0]
    check({t["comm"] for t in d["threads"]} == set(comms), f"deadlock threads {d['threads']}")
    check(set(d["locks"]) == set(locks), f"deadlock locks {d['locks']}")
    tid = {c: thread(rep, c)["tid"] for c in comms}
    for t in d["threads"]:
        w = thread(rep, t["comm"])["waits_on"]
        check(w["kind"] == "lock" and w["owner_tid"] in tid.values() and w["owner_tid"] != t["tid"],
              f"{t['comm']} waits on {w}")
        # the whole stack, through glibc to the function that took the lock
        stack = thread(rep, t["comm"])["stack"]
        check("pthread_mutex_lock" in stack and "take_in_order" in stack,
              f"{t['comm']}'s stack {stack}")
        check(thread(rep, t["comm"])["syscall"] == "futex", f"syscall of {t['comm']}")
    # main waits behind the cycle: stuck, but no part of it
    main = next(t for t in rep["threads"] if t["tid"] == t["pid"])
    check(main["waits_on"]["kind"] == "join" and main["stuck"], f"main thread: {main}")


@h.test
def abba_deadlock_named_with_both_stacks(tmp):
    with Hung("abba", 3) as hung:
        before = nvcsw(hung.pid)
        rep = stuck_json([hung.pid], 3)
        not_stopped(hung.pid, before)
        check_lock_cycle(rep, ["payer", "auditor"], ["ledger_lock", "audit_lock"])
        payer, auditor = thread(rep, "payer"), thread(rep, "auditor")
        check(payer["waits_on"]["name"] == "audit_lock" and
              payer["waits_on"]["owner_tid"] == auditor["tid"], f"payer {payer['waits_on']}")
        r = stuck([hung.pid])
        check(r.returncode == 3, f"text: exit {r.returncode}")
        line = next((l for l in r.stdout.splitlines() if l.startswith("deadlock:")), "")
        want = (f"deadlock: payer (tid {payer['tid']}) waits for audit_lock held by auditor "
                f"(tid {auditor['tid']}); auditor waits for ledger_lock held by payer")
        want2 = (f"deadlock: auditor (tid {auditor['tid']}) waits for ledger_lock held by payer "
                 f"(tid {payer['tid']}); payer waits for audit_lock held by auditor")
        check(line in (want, want2), f"text line {line!r}")
        check(r.stdout.count("take_in_order") >= 2, "both stacks in the text")


@h.test
def three_thread_cycle(tmp):
    with Hung("cycle3", 4) as hung:
        before = nvcsw(hung.pid)
        rep = stuck_json([hung.pid], 3)
        not_stopped(hung.pid, before)
        check_lock_cycle(rep, ["alpha", "beta", "gamma"], ["lock_a", "lock_b", "lock_c"])


def two_processes_reading_each_other(mode, kind, prefix):
    with Hung(mode, 1, READ) as hung:
        deadline = time.time() + 5
        while syscall_of(hung.child, hung.child) != READ and time.time() < deadline:
            time.sleep(0.02)
        before = {**nvcsw(hung.pid), **nvcsw(hung.child)}
        # only the parent is named: the child is found at the pipe's other end
        rep = stuck_json([hung.pid], 3)
        after = {**nvcsw(hung.pid), **nvcsw(hung.child)}
        check(after == before, f"switches during weft stuck: {before} -> {after}")
        check(len(rep["deadlocks"]) == 1, f"deadlocks {rep['deadlocks']}")
        d = rep["deadlocks"][0]
        check({t["pid"] for t in d["threads"]} == {hung.pid, hung.child}, f"deadlock {d}")
        check(all(n.startswith(prefix) for n in d["locks"]), f"waits {d['locks']}")
        peers = {p["pid"]: p["peer"] for p in rep["processes"]}
        check(peers == {hung.pid: False, hung.child: True}, f"processes {rep['processes']}")
        for t in rep["threads"]:
            other = hung.child if t["pid"] == hung.pid else hung.pid
            check(t["waits_on"]["kind"] == kind and t["waits_on"]["peer_pids"] == [other],
                  f"{t['tid']} waits on {t['waits_on']}")
            check("read_then_write" in t["stack"], f"stack {t['stack']}")


@h.test
def two_processes_reading_each_others_pipe(tmp):
    two_processes_reading_each_other("pipes", "pipe", "pipe:[")


@h.test
def two_processes_reading_a_unix_socket_pair(tmp):
    """the peer of a unix socket comes from sock_diag, its holder from
    /proc/PID/fd"""
    two_processes_reading_each_other("sockets", "socket", "socket:[")


@h.test
def condvar_without_waker_is_no_deadlock(tmp):
    with Hung("cond", 2) as hung:
        before = nvcsw(hung.pid)
        rep = stuck_json([hung.pid], 0)
        not_stopped(hung.pid, before)
        check(rep["deadlocks"] == [], f"deadlocks {rep['deadlocks']}")
        w = thread(rep, "waiter")["waits_on"]
        check(w["kind"] == "cond" and w["name"].startswith("never_signalled"), f"waiter {w}")
        check(not thread(rep, "waiter")["stuck"], "a condvar wait can be ended by anyone")
        r = stuck([hung.pid])
        check(r.returncode == 0, f"text: exit {r.returncode}")
        check("no deadlock: all 2 threads are blocked" in r.stdout, r.stdout[:300])
        check(any("waiter" in l and "never_signalled" in l for l in r.stdout.splitlines()),
              "the wait is not named in the text")


@h.test
def idle_threads_are_said_once(tmp):
    """20 workers idle on one condition variable: no deadlock, each thread
    in the JSON, one line for them all in the text"""
    with Hung("many", 21, FUTEX, "20") as hung:
        rep = stuck_json([hung.pid], 0)
        sleepers = [t for t in rep["threads"] if t["comm"] == "sleeper"]
        check(len(sleepers) == 20 and all(t["waits_on"]["kind"] == "cond" for t in sleepers),
              f"sleepers {[(t['tid'], t['waits_on']) for t in sleepers]}")
        r = stuck([hung.pid])
        lines = [l for l in r.stdout.splitlines() if l.startswith("  sleeper")]
        check(len(lines) == 2 and lines[0].startswith("  sleeper, 20 threads (tids ") and
              "each waits on never_signalled" in lines[0], f"text {lines}")
        check("(and 19 more threads of that name, wait and stack)" in r.stdout, "stacks")


@h.test
def mutex_held_by_a_sleeping_thread(tmp):
    with Hung("held", 3, FUTEX, "600") as hung:
        before = nvcsw(hung.pid)
        rep = stuck_json([hung.pid], 0)
        not_stopped(hung.pid, before)
        holder, waiter = thread(rep, "holder"), thread(rep, "waiter")
        w = waiter["waits_on"]
        check(w["kind"] == "lock" and w["name"] == "held_lock" and
              w["owner_tid"] == holder["tid"], f"waiter {w}")
        check(holder["syscall"] == "clock_nanosleep" and "sleep_holding" in holder["stack"],
              f"holder {holder['syscall']} {holder['stack']}")
        r = stuck([hung.pid])
        check(f"waiter (tid {waiter['tid']}) waits for held_lock held by holder "
              f"(tid {holder['tid']}) (asleep)" in r.stdout, r.stdout[:500])


@h.test
def record_p_of_a_process_already_blocked(tmp):
    """weft record -p of a thread that blocked on a mutex before the
    recording: its wait is a lock wait on held_lock, held by "holder", with
    its whole stack, as if it had been seen to block (without the snapshot
    at attach it was `other`, [unknown], no lock)."""
    with Hung("held", 3, FUTEX, "600") as hung:
        before = nvcsw(hung.pid)
        out = os.path.join(tmp, "held.data")
        r = h.run([WEFT, "record", "-o", out, "-p", str(hung.pid), "--duration", "1"])
        check(r.returncode == 0, f"weft record: {r.stderr.strip()}")
        not_stopped(hung.pid, before)
        rep = h.report_json(out, "--waits")
        lock = next((l for l in rep["locks"] if l["name"] == "held_lock"), None)
        check(lock is not None, f"held_lock not in the locks table: {rep['locks']}")
        holder = next(t for t in rep["threads"] if t["comm"] == "holder")
        waiter = next(t for t in rep["threads"] if t["comm"] == "waiter")
        check(lock["kind"] == "mutex" and lock["threads"] == 1, f"lock {lock}")
        # the wait lasted the whole recording: the oracle is the wall time
        check(lock["total_s"] >= 0.9 * rep["wall_s"], f"lock wait {lock['total_s']} s of "
              f"{rep['wall_s']} s")
        check(lock["holders"] and lock["holders"][0]["tid"] == holder["tid"],
              f"holders {lock.get('holders')}")
        frames = lock["top_stacks"][0]["frames"]
        check("wait_for_holder" in frames and "pthread_mutex_lock" in frames, f"stack {frames}")
        edge = [e for e in rep["wait_for"] if e["waiter_tid"] == waiter["tid"]]
        check(edge and edge[0]["holder_tid"] == holder["tid"] and edge[0]["lock"] == "held_lock",
              f"waiter's edges {edge}")
        check(rep["off_cpu"]["lock_s"] >= 0.9 * rep["wall_s"], f"off_cpu {rep['off_cpu']}")
        # the holder's sleep, read at attach too
        check(rep["off_cpu"]["sleep_s"] >= 0.9 * rep["wall_s"], f"off_cpu {rep['off_cpu']}")


def check_ended_in_deadlock(out, rep, r_text):
    """the report names the cycle the recording ended in, in JSON and text"""
    payer = next(t for t in rep["threads"] if t["comm"] == "payer")
    auditor = next(t for t in rep["threads"] if t["comm"] == "auditor")
    ends = rep.get("deadlocks_at_end")
    check(ends and len(ends) == 1, f"deadlocks_at_end {ends}")
    check({t["tid"] for t in ends[0]["threads"]} == {payer["tid"], auditor["tid"]},
          f"deadlock threads {ends[0]['threads']}")
    check(set(ends[0]["locks"]) == {"ledger_lock", "audit_lock"}, f"locks {ends[0]['locks']}")
    want = (f"payer-{payer['tid']} waits for audit_lock held by auditor-{auditor['tid']}")
    line = next((l for l in r_text.splitlines()
                 if l.startswith("the recording ended in a deadlock: ")), "")
    check(want in line and f"auditor-{auditor['tid']} waits for ledger_lock held by "
          f"payer-{payer['tid']}" in line, f"text: {line!r}")


@h.test
def report_says_the_recording_ended_in_a_deadlock(tmp):
    """weft record -p of threads already deadlocked (their waits read at
    attach): the report says the recording ended with payer and auditor in
    a cycle (a deadlock seen as it happens is test_waitfor's
    test_deadlock_at_end: weft record -- CMD --duration kills the command,
    so its threads do not end the recording blocked)"""
    with Hung("abba", 3) as hung:
        out = os.path.join(tmp, "abba-p.data")
        r = h.run([WEFT, "record", "-o", out, "-p", str(hung.pid), "--duration", "0.5"])
        check(r.returncode == 0, f"weft record -p: {r.stderr.strip()}")
        rep = h.report_json(out)
        text = h.run([WEFT, "report", out]).stdout
        check_ended_in_deadlock(out, rep, text)
    # a recording that ends with no cycle says nothing of the kind
    with Hung("held", 3, FUTEX, "600") as hung:
        out = os.path.join(tmp, "held.data")
        r = h.run([WEFT, "record", "-o", out, "-p", str(hung.pid), "--duration", "0.5"])
        check(r.returncode == 0, f"weft record -p: {r.stderr.strip()}")
        check(h.report_json(out)["deadlocks_at_end"] == [], "held: a deadlock claimed")
        check("ended in a deadlock" not in h.run([WEFT, "report", out]).stdout, "held: text")


def one_line_error(r, rc, words):
    lines = r.stderr.strip().splitlines()
    check(r.returncode == rc, f"exit {r.returncode}, not {rc}: {r.stderr.strip()}")
    check(len(lines) == 1 and all(w in lines[0] for w in words), f"stderr {lines}")
    check(r.stdout == "", f"stdout {r.stdout[:200]!r}")


@h.test
def errors_are_one_line(tmp):
    # a PID that does not exist: the largest one the kernel hands out
    with open("/proc/sys/kernel/pid_max") as f:
        missing = int(f.read()) - 1
    check(not os.path.exists(f"/proc/{missing}"), "pid_max - 1 exists")
    one_line_error(stuck([missing]), 1, ["no process", str(missing)])
    one_line_error(stuck([2]), 1, ["kernel thread"])  # kthreadd
    one_line_error(h.run([WEFT, "stuck"]), 2, ["-p"])
    one_line_error(h.run([WEFT, "stuck", "-p", "12x"]), 2, ["12x"])
    one_line_error(h.run([WEFT, "stuck", "-p", "1", "--format", "xml"]), 2, ["xml"])
    r = h.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", WEFT, "stuck",
               "-p", str(os.getpid())])
    one_line_error(r, 1, ["root"])


if __name__ == "__main__":
    sys.exit(h.main())
