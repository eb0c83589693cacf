#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The arithmetic of scripts/bench.sh: medians, ratios, cost per event, and
the table and `bench:` lines made from the runs it recorded.

usage: bench_math.py runs RUNS_FILE [TREE_FILE]   # overhead table, bench: lines, targets
       bench_math.py report REPORT_FILE           # analysis speed and memory lines

RUNS_FILE, one line per run:
  WORKLOAD CONDITION wall_s switches work events lost bytes recorder_cpu_s
wall_s and switches are the workload's own (measured inside the tracer),
work the units of work the run did (1 for fixed-size workloads; the mutex
workload runs for a fixed time and counts its critical sections), events,
lost and bytes what the tracer wrote, recorder_cpu_s the tracer's own user +
sys time. Fields that do not apply are 0.

TREE_FILE, one line per traced fork/many run:
  WORKLOAD processes threads expected_processes expected_threads lost

REPORT_FILE, one line per timing:
  EVENTS report_wall_s inflate_wall_s report_peak_rss_kb
"""
import sys

CONDITIONS = ["untraced", "default", "no-stacks", "fp-stacks", "all-stacks", "floor-empty",
              "floor-records", "pthread-locks", "perf-sched", "perf-record"]
WORKLOADS = ["pingpong", "pingpong-x", "mutex", "cpu", "fork", "many"]


def median(values):
    """The median of a non-empty list of numbers (the mean of the middle two
    for an even count)."""
    v = sorted(values)
    if not v:
        raise ValueError("median of no values")
    n = len(v)
    if n % 2:
        return v[n // 2]
    return (v[n // 2 - 1] + v[n // 2]) / 2


def ratio(traced, untraced):
    """traced / untraced, or None when untraced is 0."""
    if untraced == 0:
        return None
    return traced / untraced


def ns_per_event(traced_s, untraced_s, events):
    """The time the tracer added per event recorded, in ns (may be negative
    when the difference is within the noise), or None for no events."""
    if events <= 0:
        return None
    return (traced_s - untraced_s) * 1e9 / events


def normalize(wall_s, events, work, work_ref):
    """A fixed-time workload (mutex) does less work when traced: scale its
    wall time and events to the reference amount of work (the untraced
    median), so that every ratio compares the time of the same work."""
    if work <= 0 or work_ref <= 0:
        return wall_s, events
    scale = work_ref / work
    return wall_s * scale, events * scale


def fmt(value, spec):
    return "na" if value is None else format(value, spec)


def read_runs(path):
    runs = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 9:
                continue
            w, c = p[0], p[1]
            wall, switches, work, events, lost, nbytes, rcpu = map(float, p[2:])
            runs.setdefault((w, c), []).append(
                dict(wall=wall, switches=switches, work=work, events=events, lost=lost,
                     bytes=nbytes, rcpu=rcpu))
    return runs


def summarize(runs):
    """One dict per (workload, condition) measured, in table order."""
    out = []
    for w in WORKLOADS:
        base = runs.get((w, "untraced"))
        if not base:
            continue
        work_ref = median([r["work"] for r in base])
        base_wall = median([normalize(r["wall"], 0, r["work"], work_ref)[0] for r in base])
        for c in CONDITIONS:
            rs = runs.get((w, c))
            if not rs:
                continue
            norm = [normalize(r["wall"], r["events"], r["work"], work_ref) for r in rs]
            wall = median([n[0] for n in norm])
            events = median([n[1] for n in norm])
            nbytes = median([r["bytes"] for r in rs])
            switches = median([r["switches"] for r in rs])
            traced = c != "untraced"
            # the floor programs write no file and are no recorder
            writes = traced and not c.startswith("floor-")
            out.append(dict(
                workload=w, condition=c, runs=len(rs), wall=wall,
                ratio=ratio(wall, base_wall),
                ratio_max=ratio(max(n[0] for n in norm), base_wall),
                ns_per_event=ns_per_event(wall, base_wall, events) if traced else None,
                cpu_ns_per_event=(median([r["rcpu"] for r in rs]) * 1e9 / events
                                  if writes and events > 0 else None),
                events=int(median([r["events"] for r in rs])) if traced else None,
                switches=int(switches),
                lost=int(max(r["lost"] for r in rs)) if traced else None,
                bytes_per_event=nbytes / median([r["events"] for r in rs])
                if writes and median([r["events"] for r in rs]) > 0 else None,
                bytes_per_switch=nbytes / switches if writes and switches > 0 else None))
    return out


def bench_line(s):
    line = (f"bench: {s['workload']} {s['condition']} ratio={fmt(s['ratio'], '.3f')} "
            f"ns_per_event={fmt(s['ns_per_event'], '.0f')} events={fmt(s['events'], 'd')} "
            f"switches={s['switches']} lost={fmt(s['lost'], 'd')} "
            f"bytes_per_event={fmt(s['bytes_per_event'], '.2f')} "
            f"bytes_per_switch={fmt(s['bytes_per_switch'], '.2f')} "
            f"cpu_ns_per_event={fmt(s['cpu_ns_per_event'], '.0f')}")
    if s["workload"] == "mutex":
        line += f" ratio_max={fmt(s['ratio_max'], '.3f')}"
    return line


def table(summary):
    lines = [f"{'workload':<11} {'condition':<13} {'runs':>4} {'wall_s':>8} {'ratio':>7} "
             f"{'ns/ev':>7} {'cpu ns/ev':>9} {'events':>10} {'switches':>9} {'lost':>6} "
             f"{'B/event':>8} {'B/switch':>9}"]
    for s in summary:
        lines.append(
            f"{s['workload']:<11} {s['condition']:<13} {s['runs']:>4} {s['wall']:>8.3f} "
            f"{fmt(s['ratio'], '.3f'):>7} {fmt(s['ns_per_event'], '.0f'):>7} "
            f"{fmt(s['cpu_ns_per_event'], '.0f'):>9} {fmt(s['events'], 'd'):>10} "
            f"{s['switches']:>9} {fmt(s['lost'], 'd'):>6} "
            f"{fmt(s['bytes_per_event'], '.2f'):>8} {fmt(s['bytes_per_switch'], '.2f'):>9}")
    return lines


def verdict(ok):
    return "met" if ok else "NOT met"


def targets(summary, tree_rows):
    """The issue's targets, met or not (reported, never asserted)."""
    by = {(s["workload"], s["condition"]): s for s in summary}
    lines = []

    def get(w, c, key):
        s = by.get((w, c))
        return None if s is None else s[key]

    def ratio_target(w, c, limit):
        r = get(w, c, "ratio")
        if r is not None:
            lines.append(f"target: {w} {c} ratio {r:.3f} <= {limit}: {verdict(r <= limit)}")

    ratio_target("cpu", "default", 1.01)
    ratio_target("mutex", "default", 1.03)
    ratio_target("pingpong", "no-stacks", 1.15)
    fe, fr = get("pingpong", "floor-empty", "ratio"), get("pingpong", "floor-records", "ratio")
    if fe is not None and fr is not None:
        lines.append(f"floor: pingpong under empty programs on weft's three tracepoints {fe:.3f}, "
                     f"under programs writing one record each {fr:.3f}")
    d, p = get("pingpong", "default", "ratio"), get("pingpong", "perf-sched", "ratio")
    if d is not None and p is not None:
        lines.append(f"target: pingpong default overhead {d - 1:.3f} <= half of perf sched's "
                     f"{p - 1:.3f}: {verdict(d - 1 <= (p - 1) / 2)}")
    lost = {s["workload"]: s["lost"] for s in summary if s["condition"] == "default"}
    if lost:
        bad = [w for w, n in lost.items() if n]
        lines.append("target: 0 lost at default: " +
                     (verdict(True) if not bad else "NOT met (" + ", ".join(
                         f"{w} {lost[w]}" for w in bad) + ")"))
    for c in ("default", "no-stacks"):
        b, p = get("pingpong", c, "bytes_per_switch"), get("pingpong", "perf-sched",
                                                           "bytes_per_switch")
        if b is not None and p is not None:
            lines.append(f"target: pingpong {c} bytes per switch {b:.2f} <= 1/8 of perf sched's "
                         f"{p:.2f} ({p / 8:.2f}): {verdict(b <= p / 8)}")
    for w in ("fork", "many"):
        rows = [r for r in tree_rows if r[0] == w]
        if not rows:
            continue
        ok = all(r[1] == r[3] and r[2] == r[4] and r[5] == 0 for r in rows)
        r = rows[-1]
        lines.append(f"target: {w} every process and thread accounted for, 0 lost "
                     f"({r[1]}/{r[3]} processes, {r[2]}/{r[4]} threads, {r[5]} lost, "
                     f"{len(rows)} runs): {verdict(ok)}")
    return lines


def read_tree(path):
    rows = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 6:
                rows.append([p[0]] + [int(x) for x in p[1:]])
    return rows


def report_lines(path):
    """bench: report lines and their targets from REPORT_FILE."""
    rows = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                rows.setdefault(int(p[0]), []).append([float(x) for x in p[1:]])
    out, rss = [], {}
    for events in sorted(rows):
        rs = rows[events]
        rep = median([r[0] for r in rs])
        inf = median([r[1] for r in rs])
        rss[events] = max(r[2] for r in rs) / 1024
        vs = ratio(rep, inf)
        out.append(f"bench: report {events} events_per_s={events / rep:.0f} "
                   f"vs_inflate={fmt(vs, '.2f')} peak_rss_mb={rss[events]:.1f}")
    for events in sorted(rows):
        rs = rows[events]
        vs = ratio(median([r[0] for r in rs]), median([r[1] for r in rs]))
        if vs is not None:
            out.append(f"target: report of {events} events {vs:.2f}x inflate <= 3: "
                       f"{verdict(vs <= 3)}")
    if len(rss) >= 2:
        lo, hi = min(rss), max(rss)
        r = rss[hi] / rss[lo]
        out.append(f"target: peak RSS for {hi} events {r:.2f}x that for {lo} <= 1.2: "
                   f"{verdict(r <= 1.2)}")
    return out


def main(argv):
    if len(argv) >= 3 and argv[1] == "runs":
        summary = summarize(read_runs(argv[2]))
        tree_rows = read_tree(argv[3]) if len(argv) > 3 else []
        print("\n".join(table(summary)))
        print()
        print("\n".join(bench_line(s) for s in summary))
        print()
        print("\n".join(targets(summary, tree_rows)))
        return 0
    if len(argv) == 3 and argv[1] == "report":
        print("\n".join(report_lines(argv[2])))
        return 0
    print("usage: bench_math.py runs RUNS_FILE [TREE_FILE] | report REPORT_FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
