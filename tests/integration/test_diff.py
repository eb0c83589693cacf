#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""weft diff on real recordings: a lock-free run against a contended one
ranks that lock first, a recording against itself changes nothing, the
folded diff is difffolded.pl's three columns and adds up to weft flame's
totals of each side, the SVG is well-formed."""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")
# difffolded.pl's output: the stack (frames joined by ';', none empty),
# then the count of the first profile and of the second
DIFF_FOLDED_LINE = re.compile(r"^([^;\s][^;]*(?:;[^;]+)*) ([0-9]+) ([0-9]+)$")


def record(tmp, name, cmd):
    out = os.path.join(tmp, name + ".data")
    r = h.run([WEFT, "record", "-o", out, "--", *cmd])
    check(r.returncode == 0, f"weft record failed: {r.stderr.strip()}")
    return out


def diff(*args):
    r = h.run([WEFT, "diff", *args])
    check(r.returncode == 0, f"weft diff {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def check_three_columns(text):
    """Every line is 'stack A B'; returns the two columns' sums"""
    sums = [0, 0]
    lines = text.splitlines()
    check(lines, "the folded diff is empty")
    seen = set()
    for line in lines:
        m = DIFF_FOLDED_LINE.match(line)
        check(m, f"not a three-column folded line: {line!r}")
        check(m.group(1) not in seen, f"stack listed twice: {m.group(1)}")
        seen.add(m.group(1))
        check(int(m.group(2)) + int(m.group(3)) > 0, f"a line of zeros: {line!r}")
        sums[0] += int(m.group(2))
        sums[1] += int(m.group(3))
    return sums


@h.test
def contended_lock_ranks_first(tmp):
    one = record(tmp, "one", [f"{HELPERS}/mutex", "1", "0.5"])
    three = record(tmp, "three", [f"{HELPERS}/mutex", "3", "0.5"])
    out = json.loads(diff(one, three, "--format", "json"))
    for key in ("metrics", "locks", "reasons"):
        check(isinstance(out.get(key), list), f"no {key} list: {out.keys()}")
    for m in out["metrics"]:
        check(set(m) >= {"name", "a", "b", "delta"}, f"metric row {m}")
    check(out["locks"], "no locks in the diff of a contended run")
    top = out["locks"][0]
    check(top["name"] == "shared_lock", f"first lock is {top['name']!r}, not shared_lock")
    check(top["a_s"] == 0 and top["b_s"] > 0 and top["delta_s"] == top["b_s"],
          f"shared_lock row {top}")
    check(top["changed"], f"shared_lock's change not marked: {top}")
    deltas = [abs(l["delta_s"]) for l in out["locks"]]
    check(deltas == sorted(deltas, reverse=True), f"locks not by change: {deltas}")
    deltas = [abs(r["delta_s"]) for r in out["reasons"]]
    check(deltas == sorted(deltas, reverse=True), f"reasons not by change: {deltas}")
    lock = next(r for r in out["reasons"] if r["name"] == "lock")
    check(lock["delta_s"] > 0 and lock["changed"], f"off-CPU lock time did not grow: {lock}")
    check("lock shared_lock" in out["changes"], f"changes: {out['changes']}")
    text = diff(one, three)
    check(re.search(r"^  shared_lock .*\*$", text, re.M), f"text has no marked shared_lock:\n{text}")
    # the folded diff adds up to each side's weft flame, exactly
    for typ in ("oncpu", "offcpu", "lock"):
        sums = check_three_columns(diff(one, three, "--format", "folded", "--type", typ))
        for side, path in enumerate((one, three)):
            total = sum(c for _, c in h.flame(path, "--type", typ))
            check(sums[side] == total, f"{typ} column {side + 1}: {sums[side]} vs flame {total}")
    svg = diff(one, three, "--format", "svg", "--type", "lock")
    root = ET.fromstring(svg)
    check(root.tag.endswith("svg"), "not an SVG")
    check("rgb(255," in svg, "no red (grown) frame in the lock diff")
    # several runs a side
    out = json.loads(diff(f"{one},{one}", three, "--format", "json"))
    check(out["a"] == [one, one] and out["locks"][0]["name"] == "shared_lock",
          f"two runs a side: {out['a']}, {out['locks'][:1]}")


@h.test
def self_diff_is_empty(tmp):
    data = record(tmp, "self", [f"{HELPERS}/mutex", "3", "0.3"])
    out = json.loads(diff(data, data, "--format", "json"))
    check(out["changes"] == [], f"changes against itself: {out['changes']}")
    for key in ("metrics", "locks", "reasons"):
        for row in out[key]:
            delta = row.get("delta", row.get("delta_s"))
            check(delta == 0 and not row["changed"], f"{key} row changed: {row}")
    text = diff(data, data)
    check("no change beyond noise" in text and not re.search(r"\*$", text, re.M),
          f"text marks a change:\n{text}")
    folded = diff(data, data, "--format", "folded", "--type", "offcpu")
    for line in folded.splitlines():
        m = DIFF_FOLDED_LINE.match(line)
        check(m and m.group(2) == m.group(3), f"unequal counts against itself: {line!r}")


@h.test
def bad_input_exits(tmp):
    r = h.run([WEFT, "diff", "only-one.data"])
    check(r.returncode == 2 and len(r.stderr.strip().splitlines()) >= 1, f"one side: {r}")
    bad = os.path.join(tmp, "bad.data")
    with open(bad, "w") as f:
        f.write("no")
    r = h.run([WEFT, "diff", bad, bad])
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
          f"bad file: exit {r.returncode}, {r.stderr!r}")
    r = h.run([WEFT, "diff", bad, bad, "--format", "pdf"])
    check(r.returncode == 2, f"bad --format: exit {r.returncode}")


sys.exit(h.main())
