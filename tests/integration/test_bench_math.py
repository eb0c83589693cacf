#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The arithmetic of make bench (scripts/bench_math.py) on fixed inputs:
medians, ratios, time per event, the fixed-time workload's scaling, and the
bench: lines made from a runs file. Traces nothing."""
import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "scripts"))
from harness import Harness, check, close_to  # noqa: E402
import bench_math as bm  # noqa: E402

h = Harness()


@h.test
def test_median(tmp):
    check(bm.median([3]) == 3, "one value")
    check(bm.median([5, 1, 3]) == 3, "odd count, unsorted")
    check(bm.median([4, 1, 3, 2]) == 2.5, "even count: mean of the middle two")
    check(bm.median([2.0, 2.0, 9.0]) == 2.0, "an outlier does not move it")
    try:
        bm.median([])
        check(False, "median of nothing must raise")
    except ValueError:
        pass


@h.test
def test_ratio_and_ns_per_event(tmp):
    close_to(bm.ratio(1.5, 1.0), 1.5, 1e-12, "ratio")
    check(bm.ratio(1.0, 0) is None, "ratio to 0 is None")
    close_to(bm.ns_per_event(1.3, 1.0, 600000), 500.0, 1e-9, "0.3 s over 600,000 events")
    close_to(bm.ns_per_event(0.9, 1.0, 1000), -1e5, 1e-9, "negative within noise")
    check(bm.ns_per_event(1.0, 1.0, 0) is None, "no events")


@h.test
def test_normalize(tmp):
    w, e = bm.normalize(1.0, 1000, 50, 100)
    close_to(w, 2.0, 1e-12, "half the work in the same time: twice the time per work")
    close_to(e, 2000, 1e-12, "events scale with the work")
    check(bm.normalize(1.0, 10, 0, 100) == (1.0, 10), "no work count: unchanged")


@h.test
def test_summary_lines(tmp):
    path = os.path.join(tmp, "runs")
    with open(path, "w") as f:
        # WORKLOAD CONDITION wall_s switches work events lost bytes recorder_cpu_s
        for wall in (1.0, 1.2, 0.9):
            f.write(f"pingpong untraced {wall} 600000 1 0 0 0 0\n")
        for wall, lost in ((1.3, 0), (1.5, 2), (1.4, 0)):
            f.write(f"pingpong default {wall} 600000 1 900000 {lost} 2700000 0.45\n")
        f.write("pingpong floor-empty 1.1 600000 1 0 0 0 0\n")
        f.write("pingpong floor-records 1.2 600000 1 1200000 0 0 0\n")
        f.write("mutex untraced 1.0 1000 100 0 0 0 0\n")
        f.write("mutex default 1.0 1000 50 500 0 5000 0.1\n")
        f.write("garbage line\n")
    s = {(x["workload"], x["condition"]): x for x in bm.summarize(bm.read_runs(path))}
    d = s[("pingpong", "default")]
    close_to(d["ratio"], 1.4, 1e-9, "median 1.4 over median 1.0")
    close_to(d["ratio_max"], 1.5, 1e-9, "slowest run over median untraced")
    close_to(d["ns_per_event"], 0.4e9 / 900000, 1e-9, "ns per event")
    close_to(d["cpu_ns_per_event"], 500.0, 1e-9, "0.45 s of recorder CPU over 900,000 events")
    check(d["lost"] == 2, f"lost is the worst run's: {d['lost']}")
    close_to(d["bytes_per_event"], 3.0, 1e-9, "bytes per event")
    close_to(d["bytes_per_switch"], 4.5, 1e-9, "bytes per switch")
    line = bm.bench_line(d)
    check(line.startswith("bench: pingpong default ratio=1.400 ns_per_event=444 events=900000 "
                          "switches=600000 lost=2 bytes_per_event=3.00 bytes_per_switch=4.50"),
          line)
    u = bm.bench_line(s[("pingpong", "untraced")])
    check("ratio=1.000 ns_per_event=na events=na" in u, u)
    m = s[("mutex", "default")]
    close_to(m["ratio"], 2.0, 1e-9, "half the critical sections in the same time")
    check("ratio_max=2.000" in bm.bench_line(m), "mutex lines carry ratio_max")
    t = "\n".join(bm.targets(list(s.values()), [["fork", 2002, 2002, 2002, 2002, 0]]))
    check("target: mutex default ratio 2.000 <= 1.03: NOT met" in t, t)
    check("target: 0 lost at default: NOT met (pingpong 2)" in t, t)
    check(re.search(r"^target: fork every process and thread accounted for.*\): met$", t, re.M), t)
    fl = s[("pingpong", "floor-records")]
    check(fl["bytes_per_switch"] is None and fl["cpu_ns_per_event"] is None,
          "the floor writes no file and is no recorder: no bytes, no recorder CPU")
    close_to(fl["ratio"], 1.2, 1e-9, "floor ratio")
    check("floor: pingpong under empty programs on weft's three tracepoints 1.100, under "
          "programs writing one record each 1.200" in t, t)


@h.test
def test_paired_ratio(tmp):
    """With rounds, a ratio is the median of each round's traced over
    untraced: a machine that runs the second round twice as fast does not
    read as a tracer that costs nothing or doubles the time."""
    path = os.path.join(tmp, "runs")
    with open(path, "w") as f:
        # the machine runs rounds 2 and 3 twice as fast; the tracer costs
        # 1.1, 1.3 and 1.2 of the round's untraced time
        for rnd, speed, cost in ((1, 1.0, 1.1), (2, 0.5, 1.3), (3, 0.5, 1.2)):
            f.write(f"pingpong untraced {2.0 * speed} 600000 1 0 0 0 0 {rnd}\n")
            f.write(f"pingpong default {2.0 * speed * cost} 600000 1 900000 0 2700000 0.45 "
                    f"{rnd}\n")
            # the round's untraced run went missing: this run has no pair
            f.write(f"mutex default {1.0 * speed} 1000 100 500 0 5000 0.1 {rnd}\n")
        f.write("mutex untraced 1.0 1000 100 0 0 0 0 1\n")
    s = {(x["workload"], x["condition"]): x for x in bm.summarize(bm.read_runs(path))}
    # the medians of all rounds would say 1.3 over 1.0, and 0.5 for mutex
    close_to(s[("pingpong", "default")]["ratio"], 1.2, 1e-9, "the median round's cost")
    close_to(s[("mutex", "default")]["ratio"], 1.0, 1e-9, "only round 1 is paired")


@h.test
def test_report_lines(tmp):
    path = os.path.join(tmp, "reports")
    with open(path, "w") as f:
        # EVENTS report_wall_s inflate_wall_s report_peak_rss_kb
        f.write("1000000 0.10 0.05 3072\n1000000 0.12 0.04 3072\n1000000 0.08 0.06 3072\n")
        f.write("10000000 1.0 0.25 4096\n")
    lines = bm.report_lines(path)
    check(lines[0] == "bench: report 1000000 events_per_s=10000000 vs_inflate=2.00 "
          "peak_rss_mb=3.0", lines[0])
    check(lines[1] == "bench: report 10000000 events_per_s=10000000 vs_inflate=4.00 "
          "peak_rss_mb=4.0", lines[1])
    check("target: report of 10000000 events 4.00x inflate <= 2.5: NOT met" in lines, lines)
    check("target: report of 1000000 events 2.00x inflate <= 2.5: met" in lines, lines)
    check(lines[-1].endswith("1.33x that for 1000000 <= 1.2: NOT met"), lines[-1])


@h.test
def test_linear_against_inflate(tmp):
    path = os.path.join(tmp, "reports")
    # the host 1.5x slower while 30M was read: its inflate took as much longer
    with open(path, "w") as f:
        f.write("1000000 0.10 0.04 4096 0.5\n10000000 1.0 0.4 4096 5.0\n")
        f.write("30000000 4.5 1.8 4096 22.5\n")
    t = "\n".join(bm.report_lines(path))
    check(re.search(r"scale: report .* per event at 30000000 1.00x that at 10000000 against "
                    r"inflate \(1.50x in seconds\) <= 1.2: met", t), t)
    # weft alone slower per event at 30M: the inflate beside it says so
    with open(path, "w") as f:
        f.write("1000000 0.10 0.04 4096 0.5\n10000000 1.0 0.4 4096 5.0\n")
        f.write("30000000 4.5 1.2 4096 15.0\n")
    t = "\n".join(bm.report_lines(path))
    check(re.search(r"scale: report .* per event at 30000000 1.50x .*: NOT met", t), t)
    check(re.search(r"scale: timeline .* per event at 30000000 1.00x .*: met", t), t)


@h.test
def test_scale_and_targets_line(tmp):
    reports, scale, runs, tree = (os.path.join(tmp, n) for n in ("reports", "scale", "runs",
                                                                  "tree"))
    with open(reports, "w") as f:
        # EVENTS report_wall_s inflate_wall_s report_peak_rss_kb timeline_wall_s
        f.write("1000000 0.10 0.05 4096 0.7\n10000000 0.9 0.4 4096 7.0\n")
        f.write("30000000 3.0 1.2 4200 30.0\n")
    with open(scale, "w") as f:
        f.write("1000000 20000 0\n10000000 21000 0\n30000000 30000 3\n")
    lines = bm.report_lines(reports, scale)
    check("bench: report 30000000 events_per_s=10000000 vs_inflate=2.50 peak_rss_mb=4.1 "
          "report_s=3.000 timeline_s=30.000 recorder_rss_mb=29.3 lost=3" in lines, lines)
    t = "\n".join(lines)
    check("target: scale: 0 lost recording 30000000 events (3): NOT met" in t, t)
    check("recorder peak RSS for 30000000 events 1.50x that for 1000000 <= 1.2: NOT met" in t, t)
    check(re.search(r"scale: report 0.10 s at 1000000, 0.90 s at 10000000, 3.00 s at 30000000: "
                    r"per event at 30000000 1.11x .*: met", t), t)
    check(re.search(r"scale: timeline .* per event at 30000000 1.43x .*: NOT met", t), t)
    with open(runs, "w") as f:
        for w, base, d, ps, pr in (("many", 1.0, 1.30, 1.7, 1.6), ("fork", 1.0, 1.15, 1.08, 1.2)):
            for x in (base, base * 1.02, base * 0.98):
                f.write(f"{w} untraced {x} 1000 1 0 0 0 0\n")
            for c, v in (("default", d), ("perf-sched", ps), ("perf-record", pr)):
                f.write(f"{w} {c} {v} 1000 1 100 0 1000 0.01\n")
    open(tree, "w").close()
    line = bm.main(["x", "targets", runs, tree, reports, scale])
    check(line == 0, "targets mode failed")
    checks = bm.target_checks(bm.summarize(bm.read_runs(runs)), [])
    checks += bm.report_checks(reports, scale)[1]
    out = bm.targets_line(checks)
    check(out.startswith("bench: targets "), out)
    for want in ("fork-default<=1.05=NOT-met", "many-default<=1.35=met", "many-below-perf=met",
                 "fork-below-perf=NOT-met", "report<=2.5x-inflate@1M=met",
                 "report<=2.5x-inflate@10M=met", "scale-0-lost=NOT-met",
                 "scale-recorder-rss-flat=NOT-met", "0-lost=met"):
        check(want in out.split(), f"{want} not in {out}")
    # fork default 1.15 against the lower perf 1.08 and an untraced spread of 0.04
    check("fork default 1.150 <= the lower perf 1.080 + the untraced spread 0.040: NOT met"
          in "\n".join(line for _, _, line in checks), checks)


# Pure arithmetic: it runs without root, unlike the tests that trace.
h.why_skip_all = lambda: None

if __name__ == "__main__":
    sys.exit(h.main())
