#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of the HTML pages (weft report --format html, weft
compare --format html), opened in Debian's headless Chromium with the
network off (scripts/deps.sh browser installs it; the tests that need it
skip with one line when it cannot be installed): no script error on the
console; the DOM holds the JSON report's figures with the JSON's rounding;
the R(t) drawn has the area of the on-CPU time (0.5%); a screenshot is not
blank; nothing outside the file is fetched; names from the recording are
escaped; a recording of an older weft (no per-CPU totals over time) says
the strip is unavailable; a page of a 1M-event recording is at most 3 MB;
the dark scheme is dark, and a printed page shows every flame graph;
with --critical, the critical path's tab and summary hold weft critical's
folded lines and the JSON's critical_path figures.
$WEFT_SCREENSHOTS, when set, is a folder that keeps the screenshots."""
import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check, close_to  # noqa: E402
import browser  # noqa: E402
import recfile  # noqa: E402

h = Harness()
BUILD = h.build
WEFT = h.weft
HELPERS = os.path.join(BUILD, "tests", "helpers")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEFT_EV_CPU_TICK = 14
# a comm that would be markup if it were not escaped (15 bytes at most)
NASTY = "<b>&'\"x"


def page_of(path, out, *opts):
    r = h.run([WEFT, "report", path, "--format", "html", "-o", out, *opts], timeout=300)
    check(r.returncode == 0, f"weft report --format html failed: {r.stderr.strip()}")
    check(os.path.getsize(out) > 1000, "an empty page")
    return out


def json_at(doc, key):
    """doc's value at key: dotted members, a number indexing a list
    (critical_path.by_thread.0.s)"""
    for part in key.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


# What the page's script can see: every figure with its JSON key, the
# links and sources, the R(t) path, the flame frames' state, the strip
DOM_FACTS = r"""(function(){
var figs=[].map.call(document.querySelectorAll('[data-key]'),function(e){
  return [e.getAttribute('data-key'),e.getAttribute('data-value'),e.textContent];});
var refs=[].map.call(document.querySelectorAll('[src],[href]'),function(e){
  return (e.getAttribute('src')||'')+' '+(e.getAttribute('href')||'');});
var frames=[].map.call(document.querySelectorAll('iframe'),function(f){
  var d=f.contentDocument; if(!d) return null;
  var g=d.querySelectorAll('g.f');
  var inner=[].map.call(d.querySelectorAll('[src],[href]'),function(e){return e.outerHTML;});
  var top=[].map.call(d.querySelectorAll('g.f[data-d="0"],g.f[data-d="1"]'),function(e){
    return [e.getAttribute('data-d'),e.getAttribute('data-n'),parseFloat(e.getAttribute('data-w'))];});
  return {frames:g.length,ready:g.length?typeof g[0].onclick==='function':false,
          refs:inner,init:typeof f.contentWindow.init,panel:f.parentNode.id,top:top};});
var r=document.querySelector('path[data-series="R"]');
var tabs=[].map.call(document.querySelectorAll('[role=tab]'),function(t){return t.id;});
return JSON.stringify({figs:figs,refs:refs,frames:frames,tabs:tabs,
  r:r?{d:r.getAttribute('d'),col:r.getAttribute('data-col-ns')}:null,
  strip:document.querySelectorAll('rect.c-traced').length,
  unavailable:!!document.getElementById('strip-unavailable'),
  bold:document.querySelectorAll('main b, header b').length,
  text:document.body.innerText});})()"""


def area_of_r(r):
    """the area under the drawn R(t) step path, in seconds: its levels
    (V) times the column width"""
    levels = [float(v) for v in re.findall(r"V([0-9.]+)H", r["d"])]
    return sum(levels) * float(r["col"]) / 1e9


def open_page(chromium, path, tmp, name):
    """the page loaded with the network off: its facts, what it asked
    for, what it said, and its screenshot's path"""
    view = browser.Page(chromium, width=1200, height=900)
    try:
        view.watch_requests()
        start = time.monotonic()
        view.open("file://" + path, "document.readyState === 'complete'")
        load_s = time.monotonic() - start
        facts = json.loads(view.evaluate(DOM_FACTS))
        png = os.path.join(tmp, name + ".png")
        view.screenshot(png)
        if os.environ.get("WEFT_SCREENSHOTS"):
            shutil.copy(png, os.environ["WEFT_SCREENSHOTS"])
        said = view.warnings()
        asked = [u for u in view.requests if u != "file://" + path]
        # the tables sort: the threads by on-CPU time, descending after two clicks
        sorted_ok = view.evaluate(r"""(function(){
          var t=document.getElementById('threads-table'); if(!t) return null;
          var i=[].findIndex.call(t.tHead.rows[0].cells,function(c){
            return c.textContent.indexOf('on-CPU')===0;});
          var b=t.tHead.rows[0].cells[i].querySelector('button'); b.click(); b.click();
          var v=[].map.call(t.tBodies[0].rows,function(r){
            return parseFloat(r.cells[i].getAttribute('data-v'));});
          for(var k=1;k<v.length;k++) if(v[k]>v[k-1]) return false;
          return t.tHead.rows[0].cells[i].getAttribute('aria-sort')==='descending';})()""")
        # the tabs switch: the second panel shows, the first hides
        tabs_ok = view.evaluate(r"""(function(){
          var tabs=document.querySelectorAll('[role=tab]'); if(tabs.length<2) return null;
          tabs[1].click();
          var p0=document.getElementById(tabs[0].getAttribute('aria-controls'));
          var p1=document.getElementById(tabs[1].getAttribute('aria-controls'));
          return p0.hidden && !p1.hidden && tabs[1].getAttribute('aria-selected')==='true';})()""")
        # dark scheme: a dark background and light text
        view.call("Emulation.setEmulatedMedia", session=True,
                  features=[{"name": "prefers-color-scheme", "value": "dark"}])
        dark = view.evaluate("[getComputedStyle(document.body).backgroundColor,"
                             "getComputedStyle(document.body).color]")
        # printed: every flame panel shows, the navigation does not
        view.call("Emulation.setEmulatedMedia", session=True, media="print")
        printed = view.evaluate(r"""[[].every.call(document.querySelectorAll('[role=tabpanel]'),
          function(p){return getComputedStyle(p).display!=='none';}),
          getComputedStyle(document.querySelector('nav')).display]""")
    finally:
        view.close()
    check(dark == ["rgb(21, 23, 27)", "rgb(230, 232, 235)"], f"dark scheme: {dark}")
    check(printed == [True, "none"], f"print: panels shown, nav {printed}")
    return facts, asked, said, png, load_s, sorted_ok, tabs_ok


def check_page(facts, asked, said, png, rep):
    check(not said, f"the page said {said[:3]}")
    check(not asked, f"the page asked for {asked[:3]}")
    bad = [r for r in facts["refs"] if not r.strip().startswith("#")]
    check(not bad, f"links or sources out of the file: {bad[:3]}")
    for fr in facts["frames"]:
        check(fr is not None, "a flame frame has no document")
        check(not fr["refs"], f"a flame frame links out: {fr['refs'][:2]}")
    ink = browser.ink_share(png)
    check(ink > 0.02, f"the screenshot is blank ({100 * ink:.2f}% of it drawn)")
    # every figure with a JSON key holds the JSON's value
    keys = set()
    for key, value, shown in facts["figs"]:
        keys.add(key)
        want = json_at(rep, key)
        if key == "verdict":
            check(shown == want, f"verdict {shown!r} vs {want!r}")
            continue
        check(float(value) == float(want), f"{key}: page {value} vs JSON {want}")
    for key in ("wall_s", "on_cpu_s", "parallelism.avg", "concurrency.avg", "serialized_s",
                "interleaved_share", "runqueue_delay.by_tree_s", "runqueue_delay.by_others_s",
                "blocked_share", "verdict"):
        check(key in keys, f"the summary has no {key}")
    shown = {k: s for k, _, s in facts["figs"]}
    check(shown["parallelism.avg"] == f"{rep['parallelism']['avg']:.2f}",
          f"parallelism shown {shown['parallelism.avg']} vs {rep['parallelism']['avg']}")
    check(facts["r"], "no R(t) path")
    close_to(area_of_r(facts["r"]), rep["on_cpu_s"], 0.005, "area under R(t) drawn vs on_cpu_s")


def recording_with_locks(tmp):
    """4 threads on one mutex (with stacks), run as a binary named NASTY so
    that its comm and command line carry markup"""
    odd = os.path.join(tmp, NASTY)
    shutil.copy(os.path.join(HELPERS, "mutex"), odd)
    return h.record(tmp, "mutex", [odd, "4", "0.4"])[0]


@h.test
def report_page_in_chromium(tmp):
    """the report page of a recording with locks and stacks: no script
    error, nothing fetched, the JSON's figures in the DOM, R(t)'s area,
    flame graphs live in their frames, sorting and tabs work, the strip
    drawn from the per-CPU totals every 100 ms, names escaped"""
    path = recording_with_locks(tmp)
    rep = h.report_json(path)
    out = page_of(path, os.path.join(tmp, "report.html"))
    raw = open(out, encoding="utf-8").read()
    check("<b>&" not in raw, "the comm went into the page unescaped")
    check("&lt;b&gt;&amp;&#39;&quot;x" in raw, "the comm is not in the page, escaped")
    chromium = browser.chromium_or_skip()
    facts, asked, said, png, _, sorted_ok, tabs_ok = open_page(chromium, out, tmp, "report")
    check_page(facts, asked, said, png, rep)
    check(facts["bold"] == 0, "a <b> element came from the recording")
    check(NASTY in facts["text"], "the comm does not read as it is")
    check(len(facts["frames"]) == 3, f"{len(facts['frames'])} flame frames, not 3")
    check(facts["frames"][0]["frames"] > 3, "the on-CPU flame graph has no frames")
    check(all(f["init"] == "function" for f in facts["frames"]), "a flame script did not load")
    check(facts["frames"][0]["ready"], "the on-CPU flame graph's script did not start")
    check(facts["strip"] > 0, "no per-CPU strip")
    check(not facts["unavailable"], "the strip says it is unavailable")
    check(sorted_ok, "sorting the threads by on-CPU time failed")
    check(tabs_ok, "the flame tabs do not switch")
    # the locks table holds the report's locks (the nav names "Locks" on
    # every page, so the word alone says nothing)
    check(rep["locks"], "the recording has no locks")
    top = rep["locks"][0]["name"]
    check(top and top in facts["text"], f"the top lock {top!r} is not on the page")


def folded_roots(path):
    """weft critical --format folded's microseconds by root (the thread)"""
    r = h.run([WEFT, "critical", path, "--format", "folded"])
    check(r.returncode == 0, f"weft critical failed: {r.stderr.strip()}")
    roots = {}
    for line in r.stdout.splitlines():
        stack, us = line.rsplit(" ", 1)
        root = stack.split(";")[0]
        roots[root] = roots.get(root, 0) + int(us)
    check(roots, "weft critical --format folded wrote nothing")
    return roots


@h.test
def critical_path_on_the_page(tmp):
    """weft report --critical --format html: a Critical path tab drawn
    from weft critical --format folded's lines (each thread's width its
    share of them), and the path's summary (by state, by thread, locks
    with their what-if bounds) with the JSON critical_path's figures;
    without --critical the page says how to add it and has no such tab"""
    path = recording_with_locks(tmp)
    rep = h.report_json(path, "--critical")
    crit = rep["critical_path"]
    check(crit["by_lock"], "4 threads on one mutex: no lock on the critical path")
    out = page_of(path, os.path.join(tmp, "critical.html"), "--critical")
    plain = open(page_of(path, os.path.join(tmp, "plain.html")), encoding="utf-8").read()
    check('id="critical-absent"' in plain, "without --critical the page does not say so")
    check('id="tab-critical"' not in plain, "a critical path tab without --critical")
    chromium = browser.chromium_or_skip()
    facts, asked, said, png, _, _, _ = open_page(chromium, out, tmp, "critical")
    # every figure the page shows equals the JSON's (critical_path.* too)
    check_page(facts, asked, said, png, rep)
    keys = {k for k, _, _ in facts["figs"]}
    for key in ("critical_path.path_s", "critical_path.wall_s", "critical_path.end_tid",
                "critical_path.by_state.running_s", "critical_path.by_state.runnable_tree_s",
                "critical_path.by_state.lock_s", "critical_path.by_thread.0.s",
                "critical_path.by_thread.0.share", "critical_path.by_lock.0.s",
                "critical_path.by_lock.0.share", "critical_path.by_lock.0.whatif_bound_s"):
        check(key in keys, f"the page has no {key}")
    nthreads = sum(k.startswith("critical_path.by_thread.") and k.endswith(".s") for k in keys)
    check(nthreads == min(10, len(crit["by_thread"])),
          f"{nthreads} threads of the path shown, JSON has {len(crit['by_thread'])}")
    check(crit["by_lock"][0]["name"] in facts["text"], "the top lock's name is not shown")
    check(facts["tabs"] == ["tab-oncpu", "tab-offcpu", "tab-lock", "tab-critical"],
          f"tabs {facts['tabs']}")
    frame = [f for f in facts["frames"] if f and f["panel"] == "panel-critical"]
    check(len(frame) == 1 and frame[0]["ready"], "no live critical path flame graph")
    top = frame[0]["top"]
    whole = [w for d, _, w in top if d == "0"]
    check(len(whole) == 1, f"the critical flame has {len(whole)} roots")
    roots = folded_roots(path)
    total = sum(roots.values())
    drawn = {n: w / whole[0] for d, n, w in top if d == "1"}
    check(max(roots, key=roots.get) in drawn, "the path's biggest thread is not drawn")
    for name, share in drawn.items():
        check(name in roots, f"{name!r} drawn but not in weft critical --format folded")
        check(abs(share - roots[name] / total) < 1e-3,
              f"{name}: {share:.4f} of the graph vs {roots[name] / total:.4f} of the lines")
    # the folded lines add up to the path (each line rounded to 1 us)
    close_to(total / 1e6, crit["path_s"], 0.001, "the critical flame's total vs path_s")


def check_ticks(path):
    """each CPU's ticks (totals so far) cover the time between them: the
    traced, other and idle time added from one to the next is the time
    between them (the stretch since the CPU's last switch is counted), to
    within 1 ms in nine of ten"""
    import struct
    ticks = {}
    for sec in recfile.Recording.read(path).event_chunks():
        _, recs = recfile.decode_chunk(sec[3])
        ts = 0  # each chunk's first time is against 0
        for r in recs:
            ts += (r[1] >> 1) ^ -(r[1] & 1)
            if recfile.record_type(r[2]) == WEFT_EV_CPU_TICK:
                # after ts_ns: type, cpu, flags; then idle, traced, other
                _, cpu, _, idle, traced, other = struct.unpack_from("<HHIQQQ", r[2], 0)
                ticks.setdefault(cpu, []).append((ts, idle + traced + other))
    good = total = 0
    for cpu, seq in ticks.items():
        for (t0, s0), (t1, s1) in zip(seq, seq[1:]):
            total += 1
            good += abs((s1 - s0) - (t1 - t0)) <= 1e6
    check(total >= 2, f"only {total} intervals between ticks")
    check(good >= 0.9 * total, f"{total - good} of {total} intervals between ticks do not add "
          "up to the time between them")


@h.test
def older_recording_strip_unavailable(tmp):
    """without WEFT_EV_CPU_TICK records (a recording by a weft before them)
    the page says the strip is unavailable and still loads cleanly; the
    format-1.0 recording of tests/data likewise"""
    path = h.record(tmp, "busy", [os.path.join(HELPERS, "busy"), "-t", "2", "-s", "0.3"])[0]
    rec = recfile.Recording.read(path)
    dropped = 0
    for sec in rec.event_chunks():
        stream, recs = recfile.decode_chunk(sec[3])
        keep = [r for r in recs if recfile.record_type(r[2]) != WEFT_EV_CPU_TICK]
        dropped += len(recs) - len(keep)
        # a dropped record's time delta goes to the next one
        if len(keep) != len(recs):
            fixed, carry = [], 0
            for r in recs:
                ts = (r[1] >> 1) ^ -(r[1] & 1)
                if recfile.record_type(r[2]) == WEFT_EV_CPU_TICK:
                    carry += ts
                    continue
                ts += carry
                carry = 0
                fixed.append((r[0], (ts << 1) ^ (ts >> 63), r[2]))
            sec[3] = recfile.encode_chunk(stream, fixed)
    check(dropped >= 2, f"the recording had {dropped} per-CPU ticks")
    check_ticks(path)
    old = os.path.join(tmp, "old.data")
    rec.write(old)
    chromium = browser.chromium_or_skip()
    for name, data in (("old", old), ("format-1.0",
                       os.path.join(REPO, "tests", "data", "format-1.0-python-gil.data"))):
        rep = h.report_json(data)
        out = page_of(data, os.path.join(tmp, name + ".html"))
        facts, asked, said, png, _, _, _ = open_page(chromium, out, tmp, name)
        check_page(facts, asked, said, png, rep)
        check(facts["unavailable"], f"{name}: the page does not say the strip is unavailable")
        check(facts["strip"] == 0, f"{name}: a strip drawn from nothing")
    # and the new recording draws it
    out = page_of(path, os.path.join(tmp, "new.html"))
    check('id="strip-unavailable"' not in open(out).read(), "the new recording has no strip")


@h.test
def page_of_1m_events(tmp):
    """a page made from a recording of about a million events is at most
    3 MB and loads cleanly; its size and load time are printed"""
    path, r = h.record(tmp, "pp", [os.path.join(HELPERS, "pingpong"), "-n", "340000", "-c", "0"])
    got = int(re.search(r"recorded ([0-9]+) events", r.stderr).group(1))
    check(got >= 900000, f"only {got} events recorded")
    start = time.monotonic()
    out = page_of(path, os.path.join(tmp, "pp.html"))
    write_s = time.monotonic() - start
    size = os.path.getsize(out)
    rep = h.report_json(path)
    chromium = browser.chromium_or_skip()
    facts, asked, said, png, load_s, _, _ = open_page(chromium, out, tmp, "pp")
    check_page(facts, asked, said, png, rep)
    print(f"    {got} events: page {size / 1e6:.2f} MB, written in {write_s:.2f} s, "
          f"loaded in {load_s:.2f} s")
    check(size <= 3e6, f"the page is {size / 1e6:.2f} MB")


@h.test
def compare_page_in_chromium(tmp):
    """weft compare of three recordings as a page: a row and an R(t) chart
    per model on one time scale, the bars, the verdicts, no script error,
    nothing fetched"""
    work = os.path.join(BUILD, "weft-work")
    files = []
    for mode in ("sync", "threads", "procs"):
        files.append(h.record(tmp, mode, [work, "--task", "cpu", "--mode", mode, "--workers",
                                          "2", "--units", "8", "--size", "2000000"])[0])
    out = os.path.join(tmp, "compare.html")
    r = h.run([WEFT, "compare", *files, "--format", "html", "-o", out])
    check(r.returncode == 0, f"weft compare --format html failed: {r.stderr.strip()}")
    chromium = browser.chromium_or_skip()
    view = browser.Page(chromium, width=1200, height=900)
    try:
        view.watch_requests()
        view.open("file://" + out, "document.readyState === 'complete'")
        facts = json.loads(view.evaluate(r"""JSON.stringify({
          rows:document.querySelectorAll('#models-table tbody tr').length,
          charts:document.querySelectorAll('#rt path[data-series="R"]').length,
          widths:[].map.call(document.querySelectorAll('#rt svg.chart'),function(s){
            return s.viewBox.baseVal.width;}),
          bars:document.querySelectorAll('figure.bars').length,
          verdicts:document.querySelectorAll('#verdicts dd').length,
          refs:[].map.call(document.querySelectorAll('[src],[href]'),function(e){
            return (e.getAttribute('src')||'')+' '+(e.getAttribute('href')||'');})})"""))
        png = os.path.join(tmp, "compare.png")
        view.screenshot(png)
        if os.environ.get("WEFT_SCREENSHOTS"):
            shutil.copy(png, os.environ["WEFT_SCREENSHOTS"])
        said = view.warnings()
        asked = [u for u in view.requests if u != "file://" + out]
    finally:
        view.close()
    check(not said, f"the page said {said[:3]}")
    check(not asked, f"the page asked for {asked[:3]}")
    check(all(x.strip().startswith("#") for x in facts["refs"]), "links out of the file")
    check(facts["rows"] == 3 and facts["charts"] == 3 and facts["verdicts"] == 3,
          f"rows, charts, verdicts: {facts}")
    check(facts["bars"] == 5, f"{facts['bars']} bar charts, not 5")
    # one time scale: each chart's plot (its width past the 68-pixel axis,
    # output_html_compare) is to the widest as its run's wall is to the
    # longest, to a column or two of rounding
    walls = [h.report_json(f)["wall_s"] for f in files]
    plots = [w - 68 for w in facts["widths"]]
    for plot, wall in zip(plots, walls):
        check(abs(plot / max(plots) - wall / max(walls)) < 0.02,
              f"chart widths {facts['widths']} do not follow the walls {walls}")
    check(browser.ink_share(png) > 0.02, "the screenshot is blank")


@h.test
def bad_input_one_line(tmp):
    """a bad format, an unwritable -o, a missing or a broken recording:
    one line on stderr, non-zero, no file left"""
    path = h.record(tmp, "t", ["true"])[0]
    broken = os.path.join(tmp, "broken.data")
    with open(broken, "wb") as f:
        f.write(b"not a recording at all")
    out = os.path.join(tmp, "out.html")
    cases = [
        ([WEFT, "report", path, "--format", "htm"], "bad format"),
        ([WEFT, "report", path, "--format", "html", "-o", os.path.join(tmp, "no", "x.html")],
         "unwritable -o"),
        ([WEFT, "report", os.path.join(tmp, "missing.data"), "--format", "html", "-o", out],
         "missing recording"),
        ([WEFT, "report", broken, "--format", "html", "-o", out], "not a recording"),
        ([WEFT, "compare", path, "--format", "htm"], "compare: bad format"),
        ([WEFT, "compare", path, "--format", "html"], "compare html without -o"),
    ]
    for args, what in cases:
        r = h.run(args)
        check(r.returncode != 0, f"{what}: exit 0")
        lines = r.stderr.strip().splitlines()
        check(len(lines) == 1, f"{what}: one line on stderr, got {r.stderr!r}")
    left = [f for f in os.listdir(tmp) if f.startswith("out.html")]
    check(not left, f"files left: {left}")


if __name__ == "__main__":
    sys.exit(h.main())
