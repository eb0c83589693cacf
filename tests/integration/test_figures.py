#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Figures of weft report a user reads first, against an oracle measured
in the same test: max RSS against /usr/bin/time's, the verdict against
what the machine did (busy loops of other programs beside the traced one)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, Skip, check  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")


def record(tmp, name, cmd):
    return h.record(tmp, name, cmd)[0]


def report_json(path):
    return h.report_json(path, "--cpus")


def time_maxrss_kb(cmd):
    """/usr/bin/time's %M: wait4's ru_maxrss of a child forked by a small
    program, so the peak before exec is time's own, not weft's"""
    if not os.access("/usr/bin/time", os.X_OK):
        raise Skip("/usr/bin/time is not installed (Debian package time)")
    r = h.run(["/usr/bin/time", "-f", "%M", *cmd])
    check(r.returncode == 0, f"/usr/bin/time failed: {r.stderr.strip()}")
    return int(r.stderr.strip().splitlines()[-1])


@h.test
def max_rss_is_the_programs_own(tmp):
    alloc = ["/usr/bin/python3", "-c", "b = bytearray(48 << 20); b[::4096] = b'x' * len(b[::4096])"]
    for name, cmd in (("true", ["/bin/true"]), ("alloc", alloc)):
        want = time_maxrss_kb(cmd)
        got = report_json(record(tmp, name, cmd))["rusage"]["maxrss_kb"]
        # the same program twice: page-cache and allocator noise, not MBs
        check(abs(got - want) <= max(1024, 0.15 * want),
              f"{name}: weft's max RSS {got} kB, /usr/bin/time's {want} kB")


@h.test
def verdict_blames_other_programs(tmp):
    """A 2-thread busy program beside one busy loop per core, none of them
    traced: the program gets about one core of two. Its verdict names the
    other programs and their share, not 'single-threaded'."""
    ncores = os.cpu_count()
    loops = [subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"])
             for _ in range(ncores)]
    try:
        time.sleep(0.2)
        path = record(tmp, "beside", [f"{HELPERS}/busy", "-t", "2", "-s", "2"])
    finally:
        for p in loops:
            p.kill()
            p.wait()
    rep = report_json(path)
    verdict = rep["verdict"]
    others = sum(c["other"] for c in rep["cpus"]) / len(rep["cpus"])
    check(verdict.startswith("limited by other programs: "), f"verdict {verdict!r}")
    check(rep["verdict_kind"] == "limited_by_others", rep["verdict_kind"])
    # the figures in the line are the report's own
    check(f"parallelism {rep['parallelism']['avg']:.2f}" in verdict, verdict)
    held = int(verdict.rsplit("they held ", 1)[1].split("%")[0])
    check(abs(held - 100 * others) <= 5, f"held {held}% vs the CPUs' other share {others:.2f}")
    # the oracle: the loops took about half of every core the program ran on
    check(others >= 0.3, f"other programs held only {others:.2f} of the cores")


if __name__ == "__main__":
    sys.exit(h.main())
