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
    r = h.run([WEFT, "report", path, "--format", "json", "--threads"])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    return json.loads(r.stdout)


def same_value(got, want):
    """want's value in got, where objects may have gained keys since (DESIGN:
    keys may be added), at any depth (a lock's holders)"""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and same_value(got[k], v)
                                             for k, v in want.items())
    if isinstance(want, list):
        return (isinstance(got, list) and len(got) == len(want)
                and all(same_value(g, w) for g, w in zip(got, want)))
    return got == want


def same_figures(got, want, what):
    """Every key weft 0.1 reported has the same value now (the version is
    the reporting weft's own)"""
    for key, value in want.items():
        if key == "version":
            continue
        check(same_value(got.get(key), value),
              f"{what}: {key} is {got.get(key)!r}, weft 0.1 said {value!r}")


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
            check(r.stdout == f.read(), f"flame {kind} differs from weft 0.1's")
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
    """A newer weft's switches (16 bytes more than 1.0's: owner_tid and its
    reserved word, 0, then 8 bytes this weft does not know) are cut; an
    older weft's wakeups (without their last, reserved field) read it as 0:
    the same figures and stacks as the recording they came from"""
    out = os.path.join(tmp, "sizes.data")

    def change(t, b):
        if t == EV_SWITCH:
            return b + bytes(8) + struct.pack("<Q", 0xFFFFFFFFFFFFFFFF)
        if t == EV_WAKEUP:
            return b[:-4]
        return b

    rewrite(OLD + ".data", out, 2, change)
    with open(OLD + ".report.json") as f:
        want = json.load(f)
    got = report_json(out)
    same_figures(got, want, "report")
    check(got["unread_records"] == 0, f"unread_records {got['unread_records']}")
    for kind in ("offcpu", "lock"):
        r = h.run([WEFT, "flame", "--type", kind, "--by", "pid", out])
        with open(f"{OLD}.{kind}.folded") as f:
            check(r.stdout == f.read(), f"flame {kind} differs from the recording's")


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
