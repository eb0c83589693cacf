#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The recording format's versions: a recording made by weft 0.1 (format
1.0, kept in tests/data with what that weft reported of it) reads to the
same figures and stacks; one whose records are not today's size is refused
with one line; format 2.0 records may be shorter (an older weft's: missing
fields read as 0) or longer (a newer weft's: cut), and what a reader
cannot read at all (a newer weft's record types and sections) is counted
and said, never dropped in silence."""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402
from recfile import Recording, decode_chunk, encode_chunk, record_type  # noqa: E402

h = Harness()
WEFT = h.weft
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
OLD = os.path.join(DATA, "format-1.0-python-gil")
EV_SWITCH, EV_WAKEUP = 1, 2


def report_json(path):
    return h.report_json(path, "--threads")


# What weft has since changed on purpose, each for a reason, and so is
# not held to weft 0.1's figures: the stacks skipped time is carried to
# (now by system call and address, with an "[unsampled wait]" frame, where
# 0.1 gave it to the thread's next sampled stack, whatever it waited on),
# and the maximum RSS (now the tree's own peak, where 0.1 took the
# recorder's from before the exec).
CHANGED = {
    ("locks", "top_stacks"), ("processes", "offcpu_us"), ("processes", "top_offcpu_stacks"),
    ("stacks", "cut_short_offcpu_share"), ("rusage", "maxrss_kb"), ("processes", "maxrss_kb"),
}


def same_figures(got, want, what, path=()):
    """Every figure weft 0.1 reported has the same value now, but for the
    version (the reporting weft's own) and what CHANGED lists"""
    if isinstance(want, dict):
        check(isinstance(got, dict), f"{what}: {'.'.join(path)} is {got!r}")
        for key, value in want.items():
            if (not path and key == "version") or (path[:1] + (key,)) in CHANGED:
                continue
            same_figures(got.get(key), value, what, path + (key,))
    elif isinstance(want, list) and want and isinstance(want[0], dict):
        check(isinstance(got, list) and len(got) == len(want),
              f"{what}: {'.'.join(path)} has {len(got or [])} entries, weft 0.1 {len(want)}")
        for g, w in zip(got, want):
            same_figures(g, w, what, path)
    else:
        check(got == want, f"{what}: {'.'.join(path)} is {got!r}, weft 0.1 said {want!r}")


def folded_totals(text):
    """A folded output's total per root frame, and its line count"""
    totals, lines = {}, 0
    for line in text.splitlines():
        stack, count = line.rsplit(" ", 1)
        root = stack.split(";", 1)[0]
        totals[root] = totals.get(root, 0) + int(count)
        lines += 1
    return totals, lines


def same_stacks(got, want, kind, what):
    """On-CPU lines as weft 0.1 wrote them; blocked time's lines may have
    moved between a thread's stacks (CHANGED), but each process keeps its
    total, to the rounding of a line (1 us each)"""
    if kind == "oncpu":
        check(got == want, f"{what}: flame {kind} differs from weft 0.1's")
        return
    g, gl = folded_totals(got)
    w, wl = folded_totals(want)
    check(g.keys() == w.keys(), f"{what}: flame {kind} roots {sorted(g)} vs {sorted(w)}")
    for root in w:
        check(abs(g[root] - w[root]) <= gl + wl,
              f"{what}: flame {kind} {root}: {g[root]} us, weft 0.1 {w[root]} us")


def rewrite(path, out, major, change):
    """The recording at path with change(type, body) applied to every
    record (it returns the new body, or a list of bodies), in format
    major, written to out"""
    rec = Recording.read(path)
    rec.set_format(major)
    for sec in rec.event_chunks():
        stream, recs = decode_chunk(sec[3])
        new = []
        for length, zz, body in recs:
            bodies = change(record_type(body), body)
            if not isinstance(bodies, list):
                bodies = [bodies]
            for i, b in enumerate(bodies):
                new.append((len(b) + 8, zz if i == 0 else 0, b))
        sec[3] = encode_chunk(stream, new)
    rec.write(out)
    return rec


@h.test
def recording_from_weft_0_1_reads_as_it_did(tmp):
    with open(OLD + ".report.json") as f:
        want = json.load(f)
    same_figures(report_json(OLD + ".data"), want, "report")
    for kind in ("oncpu", "offcpu", "lock"):
        r = h.run([WEFT, "flame", "--type", kind, "--by", "pid", OLD + ".data"])
        check(r.returncode == 0, f"flame {kind}: {r.stderr.strip()}")
        with open(f"{OLD}.{kind}.folded") as f:
            same_stacks(r.stdout, f.read(), kind, "weft 0.1's recording")
    check(want["locks"] and want["threads"], "the kept recording has locks and threads to compare")


@h.test
def format_1_0_with_other_record_sizes_is_refused(tmp):
    out = os.path.join(tmp, "longer.data")
    rewrite(OLD + ".data", out, 1, lambda t, b: b + bytes(8) if t == EV_SWITCH else b)
    for cmd in (["report"], ["flame", "--type", "offcpu"], ["timeline", "-o", os.path.join(tmp, "t.json")]):
        r = h.run([WEFT, *cmd, out])
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 1, f"{cmd[0]}: exit {r.returncode}")
        check(len(lines) == 1, f"{cmd[0]}: one line on stderr, got {r.stderr!r}")
        check("recording format 1.0 (weft 0.1.0), this weft reads 2.x: record again" in lines[0],
              f"{cmd[0]}: {lines[0]!r}")
        check(not r.stdout, f"{cmd[0]}: nothing on stdout, got {r.stdout[:200]!r}")


@h.test
def format_2_records_may_grow_and_shrink(tmp):
    """A newer weft's switches (8 bytes more) are cut; an older weft's
    wakeups (without their last, reserved field) read it as 0: the same
    figures and stacks as the recording they came from"""
    out = os.path.join(tmp, "sizes.data")

    def change(t, b):
        if t == EV_SWITCH:
            return b + struct.pack("<Q", 0xFFFFFFFFFFFFFFFF)
        if t == EV_WAKEUP:
            return b[:-4]
        return b

    rewrite(OLD + ".data", out, 2, change)
    with open(OLD + ".report.json") as f:
        want = json.load(f)
    got = report_json(out)
    same_figures(got, want, "report")
    check(got["unread_records"] == 0, f"unread_records {got['unread_records']}")
    for kind in ("oncpu", "offcpu", "lock"):
        r = h.run([WEFT, "flame", "--type", kind, "--by", "pid", out])
        want = h.run([WEFT, "flame", "--type", kind, "--by", "pid", OLD + ".data"])
        check(r.stdout == want.stdout, f"flame {kind} differs from the recording's")


@h.test
def what_a_newer_weft_added_is_counted_and_said(tmp):
    out = os.path.join(tmp, "newer.data")
    future = struct.pack("<HHI", 200, 0, 0) + bytes(16)

    def change(t, b):
        return [b, future] if t == EV_SWITCH else b

    rec = rewrite(OLD + ".data", out, 2, change)
    switches = sum(1 for s in rec.event_chunks() for r in decode_chunk(s[3])[1]
                   if record_type(r[2]) == 200)
    rec.sections.append([77, 1, 0, b"a section of a later minor"])
    rec.write(out)
    with open(OLD + ".report.json") as f:
        want = json.load(f)
    got = report_json(out)
    same_figures(got, want, "report")
    check(got["unread_records"] == switches and switches > 100,
          f"unread_records {got['unread_records']}, {switches} written")
    check(got["unread_sections"] == 1, f"unread_sections {got['unread_sections']}")
    r = h.run([WEFT, "report", out])
    check(r.returncode == 0, f"report: {r.stderr.strip()}")
    line = f"WARNING: {switches} records and 1 section of kinds this weft does not know were left out"
    check(line in r.stdout, f"the text report says what it left out: {r.stdout[:400]!r}")
    r = h.run([WEFT, "flame", "--type", "offcpu", out])
    check(r.returncode == 0 and "left out" in r.stderr, f"flame warns on stderr: {r.stderr!r}")


if __name__ == "__main__":
    sys.exit(h.main())
