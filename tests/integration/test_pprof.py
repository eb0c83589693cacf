#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""weft pprof read by Go's own reader (go tool pprof): the file parses, each
sample type adds up to weft flame's total of that type, the labels are
there, and the busy function of a program comes first."""
import os
import re
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, Skip, check  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_go = []


def go():
    """The go command, installed by scripts/deps.sh when missing; the test
    skips with one line when it cannot be"""
    if not _go:
        r = subprocess.run([os.path.join(ROOT, "scripts", "deps.sh"), "go"],
                           capture_output=True, text=True, timeout=600)
        _go.append(r.returncode == 0 and subprocess.run(
            ["sh", "-c", "command -v go"], capture_output=True).returncode == 0)
        if not _go[0]:
            _go.append(r.stderr.strip().splitlines()[-1:] or ["go is missing"])
    if not _go[0]:
        raise Skip(f"go tool pprof cannot be installed: {_go[1][0]}")
    return "go"


def record(tmp, name, cmd, *opts):
    out = os.path.join(tmp, name + ".data")
    r = h.run([WEFT, "record", "-o", out, *opts, "--", *cmd])
    check(r.returncode == 0, f"weft record failed: {r.stderr.strip()}")
    return out


def pprof(tmp, data, *opts):
    out = data + ".pb.gz"
    r = h.run([WEFT, "pprof", data, "-o", out, *opts])
    check(r.returncode == 0, f"weft pprof failed: {r.stderr.strip()}")
    return out


def go_pprof(*args):
    r = h.run([go(), "tool", "pprof", *args], timeout=300)
    check(r.returncode == 0, f"go tool pprof {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def raw_totals(profile):
    """go tool pprof -raw: the sample types and the sum of each one's
    values over the samples it lists"""
    out = go_pprof("-raw", profile)
    lines = out.splitlines()
    check("Samples:" in lines, f"no Samples: section in -raw output:\n{out[:500]}")
    i = lines.index("Samples:")
    types = [t.replace("[dflt]", "") for t in lines[i + 1].split()]
    totals = dict.fromkeys(types, 0)
    nsamples = 0
    for line in lines[i + 2:]:
        if not line.startswith(" ") or not line.strip():
            break
        m = re.match(r"^\s+(-?\d+(?:\s+-?\d+)*):", line)
        if not m:
            continue  # a label line
        vals = [int(v) for v in m.group(1).split()]
        check(len(vals) == len(types), f"{len(vals)} values for {len(types)} types: {line}")
        for t, v in zip(types, vals):
            totals[t] += v
        nsamples += 1
    return types, totals, nsamples


def flame_total(data, typ):
    rows = h.flame(data, "--type", typ)
    return sum(c for _, c in rows), len(rows)


def check_totals(data, profile):
    types, totals, _ = raw_totals(profile)
    for t in ("samples/count", "cpu/nanoseconds", "off_cpu/nanoseconds", "lock/nanoseconds"):
        check(t in types, f"sample type {t} missing: {types}")
    samples, _ = flame_total(data, "oncpu")
    check(totals["samples/count"] == samples,
          f"samples: pprof {totals['samples/count']}, weft flame {samples}")
    period = int(re.search(r"Period: (\d+)", go_pprof("-raw", profile)).group(1))
    check(totals["cpu/nanoseconds"] == samples * period,
          f"cpu: {totals['cpu/nanoseconds']} ns for {samples} samples of {period} ns")
    for t, typ in (("off_cpu/nanoseconds", "offcpu"), ("lock/nanoseconds", "lock")):
        us, lines = flame_total(data, typ)
        # weft flame rounds each line to a microsecond
        check(abs(totals[t] / 1000 - us) <= max(lines, 1),
              f"{t}: pprof {totals[t] / 1000:.3f} us, weft flame {us} us over {lines} lines")
    return totals


@h.test
def busy_function_first_and_totals_match(tmp):
    data = record(tmp, "busy", [f"{HELPERS}/busy", "-t", "2", "-s", "1"])
    profile = pprof(tmp, data)
    totals = check_totals(data, profile)
    # a loaded machine gives the spinning threads less than their 2 s of CPU:
    # enough samples to rank, not a figure to check
    check(totals["samples/count"] >= 10, f"only {totals['samples/count']} samples")
    top = go_pprof("-top", profile)
    rows = [l.split() for l in top.splitlines() if re.match(r"^\s+\d", l)]
    check(rows, f"no rows in -top:\n{top}")
    check(rows[0][-1] == "spin_until", f"-top's first function is {rows[0][-1]}, not spin_until")
    # the root frame is the process (--by process), at the bottom of every stack
    peek = go_pprof("-traces", profile)
    check("busy" in peek, "the process root frame is missing")


@h.test
def lock_waits_and_labels(tmp):
    data = record(tmp, "mutex", [f"{HELPERS}/mutex", "3", "0.5"])
    profile = pprof(tmp, data, "--by", "thread")
    totals = check_totals(data, profile)
    check(totals["lock/nanoseconds"] > 0, "no lock waits in the profile of a contended mutex")
    tags = go_pprof("-tags", "-sample_index=off_cpu", profile)
    for label in ("pid:", "tid:", "comm:", "reason:", "lock:"):
        check(label in tags, f"label {label} missing from -tags:\n{tags[:800]}")
    check("shared_lock" in tags, f"the lock label does not name shared_lock:\n{tags[:800]}")
    check(re.search(r"\block\b", tags), "no off-CPU reason 'lock'")
    top = go_pprof("-top", "-sample_index=lock", profile)
    check("Type: lock" in top, f"-sample_index=lock not understood:\n{top[:400]}")


@h.test
def no_stacks_profile_is_valid_and_empty(tmp):
    data = record(tmp, "nostacks", [f"{HELPERS}/busy", "-s", "0.3"], "--no-stacks")
    profile = pprof(tmp, data)
    types, totals, n = raw_totals(profile)
    on, _ = flame_total(data, "oncpu")
    # weft flame gives the blocked time to an [unknown] frame; pprof keeps none
    check(on == 0, f"weft flame has {on} samples without stacks")
    check(n == 0 and not any(totals.values()), f"{n} samples, totals {totals}")


@h.test
def bad_input_one_line(tmp):
    bad = os.path.join(tmp, "bad.data")
    with open(bad, "w") as f:
        f.write("not a recording\n")
    r = h.run([WEFT, "pprof", bad, "-o", os.path.join(tmp, "x.pb.gz")])
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
          f"exit {r.returncode}, stderr {r.stderr!r}")
    r = h.run([WEFT, "pprof", "--by", "nope"])
    check(r.returncode == 2, f"bad --by: exit {r.returncode}")


@h.test
def outputs_to_stdout_and_devices(tmp):
    """pprof and the SVG flame graph go through the one output file of the
    other commands: "-" is standard output, a regular file appears whole or
    not at all, and a device is written in place (a file renamed over
    /dev/full once replaced it)."""
    data = record(tmp, "out", [os.path.join(HELPERS, "pingpong"), "-n", "200", "-x"])
    r = subprocess.run([WEFT, "pprof", data, "-o", "-"], capture_output=True)
    check(r.returncode == 0 and r.stdout[:2] == b"\x1f\x8b", f"pprof -o -: exit {r.returncode}")
    r = subprocess.run([WEFT, "flame", "--type", "offcpu", "--svg", "-", data],
                       capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.lstrip().startswith("<?xml"), "flame --svg -")
    for args in (["pprof", data, "-o", "/dev/full"],
                 ["flame", "--type", "offcpu", "--svg", "/dev/full", data],
                 ["report", data, "-o", "/dev/full"],
                 ["timeline", data, "-o", "/dev/full"]):
        r = subprocess.run([WEFT, *args], cwd=tmp, capture_output=True, text=True)
        check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
              f"weft {args[0]} to /dev/full: exit {r.returncode}, stderr {r.stderr!r}")
        st = os.stat("/dev/full")
        check(stat.S_ISCHR(st.st_mode), f"weft {args[0]} replaced /dev/full with a file")
    check(not [n for n in os.listdir("/dev") if ".tmp." in n], "a temporary file left in /dev")


sys.exit(h.main())
