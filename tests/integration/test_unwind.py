#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of unwinding through Debian's glibc, which has no frame
pointers: the waits of tests/helpers/libc_waits (built with frame pointers)
all block inside libc, and their stacks must name the program's function
that waited and go on to the thread's start."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402

h = Harness()
WEFT = h.weft
WAITS = os.path.join(h.build, "tests", "helpers", "libc_waits")
THREAD_START = ("start_thread", "clone3")


def record(tmp, name, args, *opts):
    out = os.path.join(tmp, name + ".data")
    r = h.run([WEFT, "record", "-o", out, *opts, "--", WAITS, *args])
    check(r.returncode == 0, f"weft record exited {r.returncode}: {r.stderr.strip()}")
    m = re.search(r"(\d+) stack failures", r.stderr)
    check(m and m.group(1) == "0", f"stack failures: {r.stderr.strip()}")
    return out


def flame(path, kind, by="thread"):
    return h.flame(path, "--type", kind, "--by", by)


def user_frames(stack):
    """root first, without the root (comm-tid) and the kernel's frames"""
    return [f for f in stack[1:] if not f.endswith("_[k]")]


def share(rows, pred):
    total = sum(c for _, c in rows)
    return (sum(c for s, c in rows if pred(s)) / total if total else 0.0), total


def cut_short(rows):
    return share(rows, lambda s: "[unknown]" in user_frames(s))[0]


def expect_named(label, rows, pred, min_total_us, what):
    """At least 90% of the rows' time (at least min_total_us of it) in
    stacks pred accepts; prints the share and how much was cut short."""
    named, total = share(rows, pred)
    print(f"  {label}: {100 * named:.1f}% of {total} us named, "
          f"{100 * cut_short(rows):.1f}% cut short")
    check(total > min_total_us, f"only {total} us of {label}")
    check(named >= 0.9, f"{what} in {100 * named:.1f}%")


def names_caller_from_start(stack, caller, callee, start):
    """caller calls (through libc) callee, and the stack goes on from
    caller back to one of start"""
    user = user_frames(stack)
    if caller not in user or callee not in user:
        return False
    at = user.index(caller)
    return user.index(callee) > at and any(f in start for f in user[:at])


@h.test
def mutex_waits_name_their_caller(tmp):
    # 3 threads on one mutex for 0.6 s wait for it about 0.5 s on a quiet
    # machine; other programs on the cores keep them from contending, so
    # the floor only asks for enough waits to take a share of
    path = record(tmp, "mutex", ["mutex", "3", "0.6"])
    expect_named("lock wait", flame(path, "lock"), lambda s: names_caller_from_start(
        s, "lock_and_count", "pthread_mutex_lock", THREAD_START), 30000,
        "lock_and_count <- start_thread")


@h.test
def frame_pointers_alone_lose_the_caller(tmp):
    # the same program walked by frame pointers only: the check above is
    # one that fails without the unwind tables
    path = record(tmp, "mutex-fp", ["mutex", "3", "0.3"], "--unwind=fp")
    rows = flame(path, "lock")
    named, total = share(rows, lambda s: names_caller_from_start(
        s, "lock_and_count", "pthread_mutex_lock", THREAD_START))
    check(total > 0, "no lock waits")
    check(named < 0.5, f"frame pointers alone named the caller in {100 * named:.1f}%")


@h.test
def condition_wait_names_its_caller(tmp):
    path = record(tmp, "cond", ["cond", "60"])
    rows = flame(path, "offcpu")
    # every block of the waiting thread (not the main one, the lowest tid),
    # so that a wait whose unwinding stopped inside libc counts as a miss
    tids = {int(s[0].rsplit("-", 1)[1]) for s, _ in rows}
    waiter = [(s, c) for s, c in rows if int(s[0].rsplit("-", 1)[1]) != min(tids)]

    def waited_in_libc(s):
        libc = next((f for f in s if "pthread_cond_wait" in f or f == "pthread_mutex_lock"), None)
        return libc and names_caller_from_start(s, "wait_for_signal", libc, THREAD_START)
    expect_named("cond wait", waiter, waited_in_libc, 250000, "wait_for_signal <- start_thread")


@h.test
def sleep_names_its_caller_down_to_main(tmp):
    path = record(tmp, "sleep", ["sleep", "20", "10"])
    expect_named("sleep", flame(path, "offcpu"), lambda s: names_caller_from_start(
        s, "nap", "clock_nanosleep", ("main",)) and names_caller_from_start(
        s, "main", "nap", ("__libc_start_call_main",)), 150000,
        "__libc_start_call_main -> main -> nap")


if __name__ == "__main__":
    sys.exit(h.main())
