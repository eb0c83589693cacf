# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A small test runner for the integration tests (Python's standard library
only): each test gets a fresh temporary folder, a failed check names what it
compared, and the last line is 'integration NAME: N passed, N failed, N
skipped' for CI to read."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback


# a folded stack line: a root without spaces, frames (which may have
# spaces: "main (app.py:40)"), one space, the count
FOLDED_LINE = re.compile(r"^[^ ;]+(;[^;]+)* [0-9]+$")


def taken_by_others(rep):
    """The most of one CPU that other programs (or the host) took during a
    recording, as a share of its wall time: from the per-CPU figures of
    `weft report --cpus` and steal."""
    return max(c["other"] for c in rep["cpus"]) + rep["steal_s"] / rep["wall_s"]


def free_cores_or_skip(rep, what):
    """What follows needs the cores to itself: when other programs took
    20% or more of one during the recording, skip it, saying so, rather
    than pass without checking."""
    taken = taken_by_others(rep)
    if taken >= 0.2:
        raise Skip(f"{what} not checked: other programs took {100 * taken:.0f}% of a core")


class CheckFailed(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def close_to(value, expected, rel, what):
    """value within rel (a fraction) of expected"""
    if expected == 0:
        check(abs(value) < 1e-9, f"{what}: {value} vs 0")
        return
    err = abs(value - expected) / abs(expected)
    check(err <= rel, f"{what}: {value:.6g} vs {expected:.6g} ({100 * err:.2f}% > {100 * rel:.2f}%)")


class Harness:
    def __init__(self):
        self.build = os.path.abspath(os.environ.get("WEFT_BUILD", "build"))
        self.weft = os.path.join(self.build, "weft")
        self.tests = []
        self.name = os.path.splitext(os.path.basename(sys.argv[0]))[0]

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self, cmd, timeout=120, **kw):
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)

    def record(self, tmp, name, cmd, *opts, expect_rc=0):
        """weft record of cmd into tmp/name.data with opts; the path and
        weft's run (its stderr has the recorder's summary)"""
        out = os.path.join(tmp, name + ".data")
        r = self.run([self.weft, "record", "-o", out, *opts, "--", *cmd])
        check(r.returncode == expect_rc, f"weft record exited {r.returncode}: {r.stderr.strip()}")
        return out, r

    def report_json(self, path, *opts):
        """weft report --format json of path, with opts, parsed"""
        r = self.run([self.weft, "report", path, "--format", "json", *opts])
        check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def flame(self, path, *opts):
        """weft flame's folded lines as (frames root first, count), each
        line checked against the folded format"""
        r = self.run([self.weft, "flame", path, *opts])
        check(r.returncode == 0, f"weft flame failed: {r.stderr.strip()}")
        rows = []
        for line in r.stdout.splitlines():
            check(FOLDED_LINE.match(line), f"not a folded line: {line!r}")
            stack, count = line.rsplit(" ", 1)
            rows.append((stack.split(";"), int(count)))
        return rows

    def why_skip_all(self):
        """Only what the kernel or the user truly cannot do skips."""
        if os.geteuid() != 0:
            return "not root: the integration tests load BPF programs (run make test as root)"
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            return "this kernel has no BTF (/sys/kernel/btf/vmlinux)"
        return None

    def main(self):
        only = sys.argv[1:]
        why = self.why_skip_all()
        passed = failed = skipped = 0
        for fn in self.tests:
            if only and fn.__name__ not in only:
                continue
            if why:
                skipped += 1
                continue
            start = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="weft-it-") as tmp:
                try:
                    fn(tmp)
                    passed += 1
                    status = "ok"
                except Skip as e:
                    skipped += 1
                    status = f"skipped: {e}"
                except CheckFailed as e:
                    failed += 1
                    status = f"FAILED: {e}"
                except Exception:
                    failed += 1
                    status = "FAILED:\n" + traceback.format_exc()
            print(f"  {fn.__name__:<45} {time.monotonic() - start:5.1f}s  {status}", flush=True)
        if why:
            print(f"skipped: {why}")
        print(f"integration {self.name}: {passed} passed, {failed} failed, {skipped} skipped")
        return 1 if failed else 0
