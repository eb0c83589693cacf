#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of weft timeline: real recordings of a 2-thread busy
program and of pingpong turned into Chrome trace-event JSON, each held to
the format's rules (check_trace) and to the report of the same recording:
one track per thread with its name, and the running time of each thread
equal to its on-CPU time in `weft report --format json --threads`."""
import glob
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check, close_to  # noqa: E402
import browser  # noqa: E402

h = Harness()
BUILD = h.build
WEFT = h.weft
HELPERS = os.path.join(BUILD, "tests", "helpers")
CPUS_PID = 0x7FFFFFFF
TREE_PID = 0x7FFFFFFE
STATES = ("running", "runnable", "blocked", "new", "unknown")


def record(tmp, name, cmd):
    return h.record(tmp, name, cmd)[0]


def report_json(path):
    return h.report_json(path, "--threads")


def timeline(path, out, *opts, user=False):
    cmd = [WEFT, "timeline", path, "-o", out, *opts]
    if user:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    r = h.run(cmd)
    check(r.returncode == 0, f"weft timeline {' '.join(opts)} failed: {r.stderr.strip()}")
    with open(out) as f:
        return json.load(f)


def check_trace(doc):
    """The trace-event format's rules; returns per-thread state times (us),
    thread names, process names and the number of flows."""
    check(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list),
          "a {traceEvents: [...]} object")
    tracks, last_ts, counters = {}, {}, {}
    flows_s, flows_f = {}, {}
    thread_names, process_names, used_pids = {}, {}, set()
    for ev in doc["traceEvents"]:
        ph = ev.get("ph")
        if ph == "M":
            if ev["name"] == "thread_name":
                key = (ev["pid"], ev["tid"])
                check(key not in thread_names, f"thread {key} named twice")
                thread_names[key] = ev["args"]["name"]
            elif ev["name"] == "process_name":
                process_names[ev["pid"]] = ev["args"]["name"]
            continue
        for k in ("ts", "pid"):
            check(k in ev, f"{ph} event without {k}: {ev}")
        check(isinstance(ev["ts"], (int, float)) and ev["ts"] >= 0, f"ts of {ev}")
        check(isinstance(ev["pid"], int), f"pid of {ev}")
        used_pids.add(ev["pid"])
        if ph == "X":
            for k in ("dur", "tid", "name"):
                check(k in ev, f"X event without {k}: {ev}")
            check(isinstance(ev["tid"], int) and ev["dur"] >= 0, f"X event {ev}")
            key = (ev["pid"], ev["tid"])
            # microseconds, in order on each track, never overlapping:
            # ts + dur added in IEEE doubles, as every viewer does
            check(ev["ts"] >= last_ts.get(key, 0), f"track {key} goes back at {ev} "
                  f"(the last slice ended at {last_ts.get(key, 0)!r})")
            last_ts[key] = ev["ts"] + ev["dur"]
            t = tracks.setdefault(key, dict.fromkeys(STATES, 0.0))
            if ev["pid"] == CPUS_PID:
                continue
            if ev["name"] == "mixed":
                for s in STATES:
                    t[s] += ev["args"].get(s + "_us", 0)
            else:
                check(ev["name"] in STATES, f"thread slice named {ev['name']}")
                t[ev["name"]] += ev["dur"]
        elif ph == "C":
            check(ev["ts"] >= counters.get(ev["name"], 0), f"counter goes back at {ev}")
            counters[ev["name"]] = ev["ts"]
        elif ph in ("s", "f"):
            check("id" in ev and "tid" in ev, f"flow event {ev}")
            tracks.setdefault((ev["pid"], ev["tid"]), dict.fromkeys(STATES, 0.0))
            side = flows_s if ph == "s" else flows_f
            check(ev["id"] not in side, f"flow id {ev['id']} twice")
            side[ev["id"]] = ev
            if ph == "f":
                check(ev.get("bp") == "e", f"flow finish binds to its slice: {ev}")
        else:
            check(False, f"unknown ph {ph}")
    check(flows_s.keys() == flows_f.keys(), "every flow start has its finish and back")
    for i, s in flows_s.items():
        check(flows_f[i]["ts"] >= s["ts"], f"flow {i} ends before it starts")
    for key in tracks:
        check(key in thread_names, f"thread {key} has no name")
    for pid in used_pids:
        check(pid in process_names, f"process {pid} has no name")
    return tracks, thread_names, process_names, len(flows_s)


def check_against_report(doc, rep):
    tracks, tnames, pnames, _ = check_trace(doc)
    threads = {(t["pid"], t["tid"]): t for t in rep["threads"]}
    mine = {k: v for k, v in tracks.items() if k[0] not in (CPUS_PID, TREE_PID)}
    check(set(mine) == set(threads),
          f"one track per thread: {sorted(mine)} vs {sorted(threads)}")
    for key, t in threads.items():
        check(tnames[key] == t["comm"], f"name of {key}: {tnames[key]!r} vs {t['comm']!r}")
        run_s = mine[key]["running"] / 1e6
        if t["on_cpu_s"] > 0.01:
            close_to(run_s, t["on_cpu_s"], 0.001, f"running time of {key}")
        else:
            check(abs(run_s - t["on_cpu_s"]) < 1e-5, f"running of {key}: {run_s} vs {t['on_cpu_s']}")
    for p in rep["processes"]:
        check(pnames[p["pid"]] == p["comm"], f"process {p['pid']} named {pnames[p['pid']]!r}")
    check(pnames.get(CPUS_PID) == "CPUs", "the CPUs pseudo-process")
    cpu_tracks = [k for k in tracks if k[0] == CPUS_PID]
    check(cpu_tracks, "CPU tracks")
    for k in cpu_tracks:
        check(tnames[k] == f"CPU {k[1] - 1}", f"CPU track name {tnames[k]}")
    return tracks


@h.test
def busy_two_threads(tmp):
    os.chmod(tmp, 0o777)
    path = record(tmp, "busy", [f"{HELPERS}/busy", "-t", "2", "-s", "1"])
    os.chmod(path, 0o644)
    rep = report_json(path)
    # as an ordinary user, from the recording alone
    out = os.path.join(tmp, "busy.json")
    doc = timeline(path, out, "--min-us", "0", user=True)
    check_against_report(doc, rep)
    check(len(rep["threads"]) == 3, f"busy -t 2: main and two workers, {len(rep['threads'])}")
    # each spins for 1 s: on a CPU, or waiting for one on a busy machine
    workers = [t for t in rep["threads"] if t["on_cpu_s"] + t["runqueue_s"] > 0.9]
    check(len(workers) == 2, "two busy workers")
    # the default merges short slices but keeps the totals
    doc = timeline(path, os.path.join(tmp, "busy-default.json"))
    check_against_report(doc, rep)
    check(not glob.glob(os.path.join(tmp, "*.tmp.*")), "no temporary file left")


@h.test
def pingpong_threads_and_flows(tmp):
    path = record(tmp, "pp", [f"{HELPERS}/pingpong", "-n", "20000", "-c", "0"])
    rep = report_json(path)
    doc = timeline(path, os.path.join(tmp, "pp.json"), "--min-us", "0")
    check_against_report(doc, rep)
    _, _, _, flows = check_trace(doc)
    # every handoff is a wakeup by the other thread: an arrow each (the
    # recording lost none)
    check(rep["lost_events"] == 0, f"{rep['lost_events']} events lost")
    check(flows >= 20000, f"wakeup arrows: {flows}")
    small = timeline(path, os.path.join(tmp, "pp-default.json"))
    check_against_report(small, rep)
    # the default merges the microsecond handoffs into mixed slices
    def slices(d, name=None):
        return sum(1 for e in d["traceEvents"] if e["ph"] == "X" and name in (None, e["name"]))
    check(slices(small, "mixed") > 0, "the default merged nothing")
    check(slices(small) * 3 < slices(doc), f"the default merges: {slices(small)} slices "
          f"against {slices(doc)}")
    # a window: everything inside it
    win = timeline(path, os.path.join(tmp, "pp-win.json"), "--from", "0.01", "--to", "0.02",
                   "--min-us", "0")
    check_trace(win)
    check(slices(win) > 0, "nothing in the window")
    for ev in win["traceEvents"]:
        if ev["ph"] == "X":
            check(1e4 - 1e-3 <= ev["ts"] and ev["ts"] + ev["dur"] <= 2e4 + 1e-3,
                  f"slice outside the window: {ev}")


def overlaps(doc):
    """slices whose ts + dur, added in IEEE doubles, passes the next
    slice's ts on the same track"""
    last, bad = {}, []
    for ev in doc["traceEvents"]:
        if ev["ph"] != "X":
            continue
        key = (ev["pid"], ev["tid"])
        if key in last and ev["ts"] < last[key][0] + last[key][1]:
            bad.append((last[key], ev["ts"]))
        last[key] = (ev["ts"], ev["dur"])
    return bad


@h.test
def speedscope_opens_the_trace_without_warnings(tmp):
    """speedscope nests a slice whose ts + dur passes the next one's ts
    (2545.501 + 16.835 = 2562.3360000000002 > 2562.336) and warns for each:
    its own bundled page, in headless Chromium, must load the trace quietly.
    The screenshot is left in $WEFT_SCREENSHOTS when that is set."""
    path = record(tmp, "pp", [f"{HELPERS}/pingpong", "-n", "20000", "-c", "0"])
    full = timeline(path, os.path.join(tmp, "full.json"), "--min-us", "0")
    bad = overlaps(full)
    check(not bad, f"{len(bad)} slices overlap the next in doubles, first {bad[:3]}")
    chromium, page = browser.browser_or_skip(BUILD)
    www = browser.speedscope_folder(page, tmp)
    # a window of about 2,000 slices, wherever a busy machine let pingpong
    # get that far (the trace's ts are microseconds from the recording's
    # start, as --from and --to count)
    ts = sorted(e["ts"] for e in full["traceEvents"] if e["ph"] == "X")
    check(len(ts) > 6000, f"only {len(ts)} slices in the whole trace")
    lo, hi = ts[len(ts) // 2 - 1000] / 1e6, ts[len(ts) // 2 + 1000] / 1e6
    doc = timeline(path, os.path.join(www, "pp.json"), "--min-us", "0", "--from", f"{lo:.6f}",
                   "--to", f"{hi:.6f}")
    slices = sum(1 for e in doc["traceEvents"] if e["ph"] == "X")
    check(slices > 1000, f"only {slices} slices in the window")
    srv = browser.Server(www)
    view = browser.Page(chromium)
    try:
        view.open(f"{srv.url}/index.html#profileURL={srv.url}/pp.json",
                  'document.title == "pp.json - speedscope"')
        png = os.path.join(tmp, "speedscope.png")
        view.screenshot(png)
        if os.environ.get("WEFT_SCREENSHOTS"):
            shutil.copy(png, os.environ["WEFT_SCREENSHOTS"])
        said = view.warnings()
        imported = [t for _, t in view.console if "Importing as Trace Event Format" in t]
    finally:
        view.close()
        srv.close()
    check(imported, f"speedscope did not import it as a trace: {view.console[:5]}")
    check(not said, f"speedscope warned {len(said)} times on {slices} slices, first {said[:3]}")


@h.test
def errors_leave_no_file(tmp):
    path = record(tmp, "t", ["true"])
    out = os.path.join(tmp, "out.json")
    cases = [
        ([path], "missing -o"),
        ([path, "-o", out, "--min-us", "abc"], "bad --min-us"),
        ([path, "-o", out, "--from", "-1"], "bad --from"),
        ([path, "-o", out, "--from", "2", "--to", "1"], "--from after --to"),
        ([path, "-o", out, "--by", "process"], "bad --by"),
        ([os.path.join(tmp, "missing.data"), "-o", out], "unreadable file"),
        ([path, "-o", os.path.join(tmp, "no", "such", "dir.json")], "unwritable output"),
    ]
    for args, what in cases:
        r = h.run([WEFT, "timeline", *args])
        check(r.returncode != 0, f"{what}: exit 0")
        lines = r.stderr.strip().splitlines()
        check(len(lines) == 1, f"{what}: one line on stderr, got {r.stderr!r}")
    check(not os.path.exists(out), "no output file after errors")
    check(not glob.glob(os.path.join(tmp, "*.tmp.*")), "no temporary file left")


@h.test
def dash_is_standard_output(tmp):
    """-o - writes to standard output, as weft pprof's does (it made a
    file named '-'), and a full standard output is one line and exit 1."""
    path = record(tmp, "t", ["true"])
    r = subprocess.run([WEFT, "timeline", path, "-o", "-"], cwd=tmp, capture_output=True,
                       text=True)
    check(r.returncode == 0, f"weft timeline -o - failed: {r.stderr.strip()}")
    check_trace(json.loads(r.stdout))
    check(not os.path.exists(os.path.join(tmp, "-")), "a file named '-'")
    with open("/dev/full", "w") as full:
        r = subprocess.run([WEFT, "timeline", path, "-o", "-"], cwd=tmp, stdout=full,
                           stderr=subprocess.PIPE, text=True)
    check(r.returncode != 0, "exit 0 on a full standard output")
    check(len(r.stderr.strip().splitlines()) == 1, f"one line on stderr: {r.stderr!r}")


if __name__ == "__main__":
    sys.exit(h.main())
