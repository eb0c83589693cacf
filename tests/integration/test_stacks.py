#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of stacks: weft record with stacks on, then weft flame
and weft report --threads.
The traced helpers are built with frame pointers and have functions of
known names (busy's spin_until, stacker's sleep_here and child_spin)."""
import json
import os
import re
import struct
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402
from recfile import Recording, decode_chunk, record_type  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")
MANY = os.path.join(h.build, "bench", "many")
EV_SWITCH, EV_WAKEUP = 1, 2
SWITCH_PREV_TRACED, SWITCH_PREEMPT, SWITCH_WOULD_SKIP = 0x2, 0x1, 0x80
WAKE_WOULD_SKIP = 0x10
STACK_SKIPPED = -0x10000
STACK_GAP_NS = 1000000


def record(tmp, name, cmd, *opts):
    out = os.path.join(tmp, name + ".data")
    r = h.run([WEFT, "record", "-o", out, *opts, "--", *cmd])
    check(r.returncode == 0, f"weft record exited {r.returncode}: {r.stderr.strip()}")
    m = re.search(r"(\d+) stack failures", r.stderr)
    check(m is not None, f"no stack failures in the summary: {r.stderr.strip()}")
    return out, int(m.group(1))


def flame(path, *opts):
    return h.flame(path, *opts)


@h.test
def oncpu_names_the_busy_function(tmp):
    path, failures = record(tmp, "busy", [f"{HELPERS}/busy", "-t", "2", "-s", "1"])
    check(failures == 0, f"{failures} stack failures")
    rows = flame(path, "--type", "oncpu")
    total = sum(c for _, c in rows)
    busy = sum(c for s, c in rows if "spin_until" in s)
    # one sample per 1/sample_hz of CPU the threads got (the kernel's
    # count, rusage): a loaded machine gives them less, and fewer samples
    rep = h.report_json(path)
    cpu_s = rep["rusage"]["user_s"] + rep["rusage"]["sys_s"]
    want = 0.7 * cpu_s * rep["stacks"]["sample_hz"]
    check(cpu_s > 0.1 and total >= want,
          f"only {total} samples for {cpu_s:.2f} s of CPU (want {want:.0f})")
    check(busy >= 0.8 * total, f"spin_until in {busy} of {total} samples")
    check(all(s[0] == "busy" for s, _ in rows if "spin_until" in s), "root frame is the comm")


@h.test
def offcpu_ends_in_the_kernel_sleep_path(tmp):
    path, failures = record(tmp, "sleep", [f"{HELPERS}/stacker", "sleep", "20", "10"])
    check(failures == 0, f"{failures} stack failures")
    rows = flame(path, "--type", "offcpu")
    total = sum(c for _, c in rows)
    sleeping = [(s, c) for s, c in rows if "sleep_here" in s]
    asleep = sum(c for _, c in sleeping)
    check(total > 150000, f"only {total} us off-CPU")
    check(asleep >= 0.9 * total, f"sleep_here in {asleep} of {total} us")
    for s, _ in sleeping:
        leaf = s[s.index("sleep_here") + 1:]
        check(leaf and all(f.endswith("_[k]") for f in leaf if f != "clock_nanosleep"),
              f"not kernel frames after sleep_here: {s}")
        check(any("nanosleep" in f for f in leaf), f"no nanosleep in {s}")
        check(s[-1].endswith("_[k]") and "schedule" in s[-1], f"leaf not in schedule: {s}")


@h.test
def short_forked_children_resolve(tmp):
    path, failures = record(tmp, "fork", [f"{HELPERS}/stacker", "forkexec", "20", "3"],
                            "-F", "1000")
    check(failures == 0, f"{failures} stack failures")
    rows = flame(path, "--type", "oncpu", "--by", "pid")
    pids = sorted({int(s[0].rsplit("-", 1)[1]) for s, _ in rows})
    check(len(pids) >= 10, f"samples of only {len(pids)} processes")
    root = pids[0]
    children = [p for p in pids if p != root]
    # each child spends about 1 ms in exec and the dynamic loader, whose
    # frames are not its own: ask that its own function shows in each
    named = {int(s[0].rsplit("-", 1)[1]) for s, _ in rows if "child_spin" in s}
    check(len(named & set(children)) >= 0.8 * len(children),
          f"child_spin named in {len(named)} of {len(children)} children")
    libc = sum(c for s, c in rows if "child_spin" in s and "__libc_start_call_main" in s)
    spin = sum(c for s, c in rows if "child_spin" in s)
    check(libc >= 0.8 * spin, f"libc frames named in {libc} of {spin} child_spin samples")


EXEC_WAKE_BURST = 32
EXEC_WAKES_PER_S = 50


@h.test
def exec_wakeups_bounded_per_second(tmp):
    """Each exec used to wake the recorder, which then read the new
    process's maps while its loader ran: 8% of a fork-heavy program's
    wall time. The wakeups now have a budget: a burst, then a rate."""
    n = 300
    out = os.path.join(tmp, "execs.data")
    r = h.run([WEFT, "record", "-v", "-o", out, "--",
               f"{HELPERS}/stacker", "forkexec", str(n), "0"])
    check(r.returncode == 0, f"weft record exited {r.returncode}: {r.stderr.strip()}")
    m = re.search(r"execs woke the recorder (\d+) times \((\d+) messages\)", r.stderr)
    check(m, f"no exec wakeups line in weft record -v's output: {r.stderr[-300:]}")
    wakes, messages = int(m.group(1)), int(m.group(2))
    secs = float(re.search(r"recorded \d+ events .* in ([0-9.]+) s", r.stderr).group(1))
    # the last few may still wait in the socket when the recording ends
    check(messages >= 0.9 * n, f"{messages} exec messages for {n} execs")
    bound = EXEC_WAKE_BURST + EXEC_WAKES_PER_S * secs + 2
    check(wakes <= bound, f"{wakes} wakeups in {secs:.2f} s, over the budget of {bound:.0f}")
    rows = flame(out, "--type", "oncpu", "--by", "pid")
    check(len({s[0] for s, _ in rows}) > 1, "no samples of the children")


@h.test
def wakeup_and_svg(tmp):
    path, failures = record(tmp, "pp", [f"{HELPERS}/pingpong", "-n", "2000", "-c", "0"])
    check(failures == 0, f"{failures} stack failures")
    rows = flame(path, "--type", "wakeup", "--by", "thread")
    check(rows, "no wakeup stacks")
    check(all("--" in s for s, _ in rows), "a wakeup stack without its -- frame")
    svg = os.path.join(tmp, "pp.svg")
    r = h.run([WEFT, "flame", path, "--type", "offcpu", "--svg", svg])
    check(r.returncode == 0, f"weft flame --svg failed: {r.stderr.strip()}")
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    frames = root.findall(f".//{ns}g")
    check(len(frames) > 3, f"only {len(frames)} frames drawn")
    titles = [t.text or "" for t in root.iter(f"{ns}title")]
    check(any("player" in t for t in titles), "the SVG names no frame of pingpong's player()")



@h.test
def sampling_does_not_bias_attribution(tmp):
    """From one recording (--stack-audit takes every stack and marks those
    the default sampling would skip): each top off-CPU stack's time as the
    default attributes it is within 5% of its time with every stack. A
    producer waits mostly for room (pthread_cond_wait), now and then for
    the queue's mutex: carried by thread, not by kind of wait, the cond
    waits' time went to the mutex stack (429 ms where it had 4.5)."""
    path, failures = record(tmp, "pc", [f"{HELPERS}/prodcons", "1.5"], "--stack-audit")
    check(failures == 0, f"{failures} stack failures")
    every = flame(path, "--type", "offcpu", "--by", "thread")
    sampled = flame(path, "--type", "offcpu", "--by", "thread", "--as-sampled")
    total = sum(c for _, c in every)
    check(sum(c for _, c in sampled) - total <= len(every) + len(sampled),
          "the default gives out all the blocked time, and no more")
    check(sampled != every, "no stack was marked as one the default skips")
    unsampled = sum(c for s, c in sampled if s[-1] == "[unsampled wait]")
    got = {";".join(s): c for s, c in sampled}
    top = [(s, c) for s, c in every if c >= 0.05 * total]
    check(len(top) >= 2, f"too few top stacks: {top}")
    for stack, us in top:
        have = got.get(";".join(stack), 0)
        check(abs(have - us) <= 0.05 * us,
              f"{stack[0]} ...{';'.join(stack[-12:-9])}: {have} us sampled, {us} with every stack")
    print(f"  {len(top)} top stacks within 5%, {unsampled} us of {total} unsampled")


@h.test
def lock_svg_is_rooted_at_the_lock(tmp):
    """Each lock is one tower in the lock graph, under its name, as wide as
    the locks table's wait for it; the folded lines keep their process
    root (flamegraph.pl users merge them as before)"""
    path, _ = record(tmp, "mutex", [f"{HELPERS}/mutex", "3", "0.4"])
    rep = json.loads(h.run([WEFT, "report", path, "--format", "json"]).stdout)
    lock = next((l for l in rep["locks"] if l["name"] == "shared_lock"), None)
    check(lock is not None, f"no shared_lock in the locks table: {rep['locks']}")
    svg = os.path.join(tmp, "lock.svg")
    r = h.run([WEFT, "flame", path, "--type", "lock", "--svg", svg])
    check(r.returncode == 0, f"weft flame --svg failed: {r.stderr.strip()}")
    ns = "{http://www.w3.org/2000/svg}"
    titles = [t.text or "" for t in ET.parse(svg).getroot().iter(f"{ns}title")]
    tower = [t for t in titles if t.startswith("shared_lock (")]
    check(len(tower) == 1, f"one frame named shared_lock, got {tower}")
    m = re.match(r"shared_lock \(([0-9.]+) (ms|s|us)", tower[0])
    scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6}[m.group(2)]
    got = float(m.group(1)) * scale
    check(abs(got - lock["total_s"]) <= 0.01 * lock["total_s"] + 1e-5,
          f"the tower holds {got:.6f} s, the locks table {lock['total_s']:.6f} s")
    rows = flame(path, "--type", "lock")
    check(rows and all(not s[0].startswith("shared_lock") for s, _ in rows),
          "the folded lines keep their process root")


@h.test
def svg_in_a_browser(tmp):
    """The off-CPU SVG in headless Chromium: no console warning, blue frames
    (flamegraph.pl's io palette: r = g < b), hover text with units at the
    top, where it stays in view; the screenshot is left in
    $WEFT_SCREENSHOTS when that is set."""
    import browser
    import re
    import shutil
    path, _ = record(tmp, "pp", [f"{HELPERS}/pingpong", "-n", "2000", "-c", "0"])
    svg = os.path.join(tmp, "pp.svg")
    r = h.run([WEFT, "flame", path, "--type", "offcpu", "--svg", svg])
    check(r.returncode == 0, f"weft flame --svg failed: {r.stderr.strip()}")
    fills = re.findall(r'<title>([^<]*)</title><rect [^>]*fill="rgb\((\d+),(\d+),(\d+)\)"',
                       open(svg).read())
    user = [f for f in fills if not f[0].split(" (")[0].endswith("_[k]")]
    check(user and all(int(r) == int(g) < int(b) for _, r, g, b in user),
          f"off-CPU frames not blue: {user[:3]}")
    chromium, _ = browser.browser_or_skip(h.build)
    view = browser.Page(chromium, width=1300, height=700)
    try:
        view.open(f"file://{svg}", "document.readyState == 'complete'")
        details = view.evaluate(
            "var f=document.getElementsByClassName('f'),g=f[f.length-1];"
            "g.onmouseover.call(g);var d=document.getElementById('details');"
            "d.textContent+'|'+d.getBoundingClientRect().top")
        png = os.path.join(tmp, "flame.png")
        view.screenshot(png)
        if os.environ.get("WEFT_SCREENSHOTS"):
            shutil.copy(png, os.environ["WEFT_SCREENSHOTS"])
    finally:
        view.close()
    text, top = details.rsplit("|", 1)
    check(re.search(r"\((\d+ us|[0-9.]+ ms|[0-9.]+ s), [0-9.]+%\)$", text),
          f"hover text without a unit: {text!r}")
    check(float(top) < 60, f"the details line is {top} px down, out of view")
    check(not view.warnings(), f"the browser warned: {view.warnings()[:3]}")


def report(path, *opts):
    r = h.run([WEFT, "report", path, "--threads", *opts])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    return r.stdout


def json_process(path, comm):
    procs = [p for p in json.loads(report(path, "--format", "json"))["processes"]
             if p["comm"] == comm]
    check(len(procs) == 1, f"{len(procs)} processes named {comm}")
    return procs[0]


def flame_total(path, kind, pid):
    return sum(c for s, c in flame(path, "--type", kind, "--by", "pid")
               if s[0].endswith(f"-{pid}"))


@h.test
def report_names_the_top_functions_and_stacks(tmp):
    path, _ = record(tmp, "busy", [f"{HELPERS}/busy", "-t", "2", "-s", "1"])
    text = report(path)
    check(re.search(r"^stacks: +user stacks by ", text, re.M), f"no stacks line:\n{text}")
    m = re.search(r"^busy \(pid \d+\): \d+ samples.*\n.*ON-CPU FUNCTION\n +([0-9.]+)% .* (\S+)\n",
                  text, re.M)
    check(m and m.group(2) == "spin_until" and float(m.group(1)) >= 80,
          f"spin_until not the top on-CPU function:\n{text}")
    p = json_process(path, "busy")
    top = p["top_oncpu_functions"][0]
    check(top["name"] == "spin_until" and top["share"] >= 0.8, f"top function {top}")
    # the report and the flame graph count the same samples
    check(p["samples"] == flame_total(path, "oncpu", p["pid"]),
          f"{p['samples']} samples, the flame graph has another count")

    path, _ = record(tmp, "sleep", [f"{HELPERS}/stacker", "sleep", "20", "10"])
    p = json_process(path, "stacker")
    check(p["offcpu_us"] == flame_total(path, "offcpu", p["pid"]),
          f"{p['offcpu_us']} us off-CPU, the flame graph has another total")
    top = p["top_offcpu_stacks"][0]
    frames = top["frames"]
    check(top["share"] >= 0.5, f"the top off-CPU stack has {top['share']:.0%} of the time")
    check("sleep_here" in frames, f"sleep_here not in the top off-CPU stack: {frames}")
    leaf = frames[:frames.index("sleep_here")]
    check(any("nanosleep" in f for f in leaf) and all(f.endswith("_[k]") for f in leaf),
          f"the top off-CPU stack does not end in the kernel's sleep: {frames}")
    text = report(path)
    check(re.search(r"OFF-CPU STACK.*\n.*do_nanosleep_\[k\] <- .*sleep_here", text),
          f"no sleep stack in the text report:\n{text}")


@h.test
def no_stacks_takes_none(tmp):
    path, failures = record(tmp, "none", [f"{HELPERS}/busy", "-t", "1", "-s", "0.3"],
                            "--no-stacks")
    check(failures == 0, f"{failures} stack failures")
    check(flame(path, "--type", "oncpu") == [], "on-CPU samples with --no-stacks")
    rows = flame(path, "--type", "offcpu")
    # busy blocks at least in joining its thread: that time is there, stackless
    check(rows, "no off-CPU time at all")
    check(all(s[1:] == ["[unknown]"] for s, _ in rows), "off-CPU stacks with --no-stacks")
    check(re.search(r"^stacks: +none in the recording$", report(path), re.M),
          "no 'none in the recording' line")
    p = json_process(path, "busy")
    check(p["top_oncpu_functions"] is None and p["top_offcpu_stacks"] is None,
          f"stacks of a --no-stacks recording: {p}")


def blocking_switches(path):
    """(ts, cpu, flags, prev_tid, user_stack_id) of each switch where a
    traced thread blocked, and the flags of each wakeup, from the file"""
    blocks, wakes = [], []
    for sec in Recording.read(path).event_chunks():
        _, recs = decode_chunk(sec[3])
        ts = 0
        for _, zz, body in recs:
            ts += (zz >> 1) ^ -(zz & 1)
            t = record_type(body)
            if t == EV_WAKEUP:
                wakes.append(struct.unpack_from("<I", body, 4)[0])
            if t != EV_SWITCH:
                continue
            cpu, flags, prev_tid = struct.unpack_from("<HII", body, 2)
            prev_state = struct.unpack_from("<I", body, 24)[0]
            ustack = struct.unpack_from("<i", body, 48)[0]
            if (flags & SWITCH_PREV_TRACED and not flags & SWITCH_PREEMPT and prev_state
                    and not prev_state & 0x80):
                blocks.append((ts, cpu, flags, prev_tid, ustack))
    return blocks, wakes


def record_timed(tmp, name, cmd, *opts):
    t0 = time.monotonic()
    path, _ = record(tmp, name, cmd, *opts)
    return path, time.monotonic() - t0


@h.test
def stack_rate_bounds_stacks_per_cpu(tmp):
    # 64 threads each block less than once a millisecond: each per-thread
    # rule would take every stack; the per-CPU budget takes at most its rate
    rate = 200
    path, wall = record_timed(tmp, "rate", [MANY, "-t", "64", "-n", "300"],
                              f"--stack-rate={rate}")
    blocks, _ = blocking_switches(path)
    taken = [b for b in blocks if b[4] != STACK_SKIPPED]
    ncpu = os.cpu_count()
    bound = rate * ncpu * wall + 32 * ncpu
    check(len(blocks) > 3 * bound, f"only {len(blocks)} blocking switches: the ring is too short")
    check(len(taken) <= bound, f"{len(taken)} stacks in {wall:.2f} s over {ncpu} CPUs at "
          f"--stack-rate={rate}")
    check(len(taken) >= 20, f"only {len(taken)} stacks taken")
    check(not any(b[2] & SWITCH_WOULD_SKIP for b in blocks), "WOULD_SKIP without --stack-audit")


@h.test
def stack_audit_takes_every_stack_and_marks_the_skipped(tmp):
    every, rate = 16, 200
    path, wall = record_timed(tmp, "audit", [MANY, "-t", "64", "-n", "300"], "--stack-audit",
                              f"--stack-rate={rate}")
    blocks, wakes = blocking_switches(path)
    check(blocks, "no blocking switches")
    check(all(b[4] != STACK_SKIPPED for b in blocks), "a stack skipped under --stack-audit")
    kept = [b for b in blocks if not b[2] & SWITCH_WOULD_SKIP]
    ncpu = os.cpu_count()
    check(len(kept) <= rate * ncpu * wall + 32 * ncpu,
          f"{len(kept)} of {len(blocks)} switches unmarked in {wall:.2f} s: the budget's rule "
          "is not what marks them")
    check(len(kept) >= 20, f"only {len(kept)} unmarked")
    check(any(f & WAKE_WOULD_SKIP for f in wakes), "no wakeup marked WOULD_SKIP")
    # the per-thread rule: within a gap of its last unmarked switch, a
    # thread's next unmarked one comes after at least every - 1 marked ones
    last = {}
    for ts, _, flags, tid, _ in sorted(blocks):
        if flags & SWITCH_WOULD_SKIP:
            if tid in last:
                last[tid][1] += 1
            continue
        if tid in last and ts - last[tid][0] < STACK_GAP_NS:
            check(last[tid][1] >= every - 1,
                  f"thread {tid}: unmarked after {last[tid][1]} marked within the gap")
        last[tid] = [ts, 0]
    meta = b"".join(sec[3] for sec in Recording.read(path).sections if b"stack_audit" in sec[3])
    check(meta, "no stack_audit in the recording's metadata")

if __name__ == "__main__":
    sys.exit(h.main())
