#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration tests of JIT frames and C++ names: node --perf-basic-prof
and CPython 3.12 -X perf write /tmp/perf-PID.map, which weft reads to name
their JIT code; unwind tables hand over to frame pointers (node's builtins)
and step through CPython's perf trampoline, so those stacks are whole; a
map that is a symlink, another user's, or older than its process is not
used; C++ frames are demangled in every output."""
import glob
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, Skip, check  # noqa: E402

h = Harness()
WEFT = h.weft
HELPERS = os.path.join(h.build, "tests", "helpers")
# the caller of main: node's main tail-calls node::Start, so no main frame
OUTERMOST = "__libc_start_call_main"

NODE_SCRIPT = """
function computeHash(n) {
  let h = 0;
  for (let i = 0; i < n; i++) { h = (h * 31 + i) | 0; h ^= h >>> 7; }
  return h;
}
// 1.5 s of CPU (node's start takes a fixed share, whatever the load), at
// most 20 s of wall
const end = Date.now() + 20000;
let acc = 0;
while (process.cpuUsage().user < 1500000 && Date.now() < end) acc ^= computeHash(100000);
console.log(acc);
"""

# what both scripts run: a function that calls nothing new once warm
INNER_SPIN = """
def inner_spin(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
"""

# mode none: the map as Python wrote it; the others spoil it once the
# functions ran (and wrote their lines), then spin on without calling
# anything new (which would write the map again), and leave without
# Python's finalization
PY_SCRIPT = """
import os, sys, time
""" + INNER_SPIN + """
def outer_work(seconds):
    # CPU seconds, whatever the load
    deadline = time.process_time() + seconds
    t = 0
    while time.process_time() < deadline:
        t += inner_spin(20000)
    return t

mode = sys.argv[1]
print(os.getpid(), flush=True)
outer_work(0.3)
path = "/tmp/perf-%d.map" % os.getpid()
if mode == "symlink":
    os.rename(path, path + ".real")
    os.symlink(path + ".real", path)
elif mode == "owner":
    try:
        os.chown(path, 65534, 65534)
    except PermissionError:
        print("cannot chown", flush=True)
elif mode == "old":
    t = time.time() - 3600
    os.utime(path, (t, t))
outer_work(20 if mode == "long" else 1.5)
sys.stdout.flush()
os._exit(0)
"""


# a parent makes its functions' trampolines, then forks: the child's
# frames above the fork are in the parent's map, those below in its own
FORK_SCRIPT = """
import os, time
""" + INNER_SPIN + """
def child_loop(seconds):
    deadline = time.process_time() + seconds
    while time.process_time() < deadline:
        inner_spin(20000)

def outer_work():
    inner_spin(1000)
    pid = os.fork()
    if pid == 0:
        child_loop(1.5)
        os._exit(0)
    os.waitpid(pid, 0)

outer_work()
"""


def remove_maps(path):
    """the perf maps the recorded processes left in /tmp"""
    for p in h.report_json(path)["processes"]:
        if os.path.exists(f"/tmp/perf-{p['pid']}.map"):
            os.unlink(f"/tmp/perf-{p['pid']}.map")


def record(tmp, name, cmd, *opts):
    out = os.path.join(tmp, name + ".data")
    # in tmp: node with --perf-basic-prof leaves isolate-*-v8.log files
    r = h.run([WEFT, "record", "-o", out, *opts, "--", *cmd], cwd=tmp)
    check(r.returncode == 0, f"weft record exited {r.returncode}: {r.stderr.strip()}")
    return out, r


def python312():
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("pyenv") else os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root or "", "versions", "3.12*", "bin", "python3.12")))
    if not found:
        raise Skip("no CPython 3.12 under pyenv (its -X perf writes the perf map)")
    return found[-1]


def python_opts():
    """--python=off where weft has it: the map, not the frame reader,
    must name the functions"""
    r = h.run([WEFT, "record", "--help"])
    return ["--python=off"] if "--python" in r.stdout else []


def is_js(frame, name):
    return frame.startswith("JS:") and name in frame


def node_samples(path):
    rows = h.flame(path, "--type", "oncpu")
    total = sum(c for s, c in rows if s[0] == "node")
    js = [(s, c) for s, c in rows if s[0] == "node" and any(is_js(f, "computeHash") for f in s)]
    return total, js


def share_reaching(rows, frame):
    n = sum(c for _, c in rows)
    return sum(c for s, c in rows if frame in s) / n if n else 0.0


@h.test
def node_js_function_named_and_whole(tmp):
    node = shutil.which("node")
    if not node:
        raise Skip("node is not installed")
    script = os.path.join(tmp, "busy.js")
    with open(script, "w") as f:
        f.write(NODE_SCRIPT)
    path, r = record(tmp, "node", [node, "--perf-basic-prof", script])
    remove_maps(path)
    fp_path, _ = record(tmp, "node-fp", [node, "--perf-basic-prof", script], "--unwind=fp")
    remove_maps(fp_path)
    total, js = node_samples(path)
    named = sum(c for _, c in js)
    check(total >= 20, f"only {total} samples of node")
    # most samples: the loop runs computeHash nearly all the time
    check(named >= 0.6 * total, f"computeHash (a JS: frame) in {named} of {total} samples")
    whole = share_reaching(js, OUTERMOST)
    fp_total, fp_js = node_samples(fp_path)
    fp_whole = share_reaching(fp_js, OUTERMOST)
    print(f"    node: computeHash in {named}/{total} samples; reaching {OUTERMOST}: "
          f"{100 * whole:.0f}% with tables, {100 * fp_whole:.0f}% with --unwind=fp")
    check(whole >= 0.9, f"only {100 * whole:.0f}% of computeHash's stacks reach {OUTERMOST}")
    check(whole >= fp_whole - 0.05,
          f"tables {100 * whole:.0f}% whole against {100 * fp_whole:.0f}% with --unwind=fp")
    # under the JS frame: V8's builtins, then node's C++ entry, demangled
    s = max(js, key=lambda sc: sc[1])[0]
    check(any(f.startswith("Builtins_") for f in s), f"no V8 builtin in {';'.join(s)}")
    check(any(f.startswith("v8::internal::Execution::Call(") for f in s),
          f"no v8::internal::Execution::Call in {';'.join(s)}")


def python_rows(tmp, name, mode):
    py = python312()
    script = os.path.join(tmp, "work.py")
    with open(script, "w") as f:
        f.write(PY_SCRIPT)
    path, r = record(tmp, name, [py, "-X", "perf", script, mode], *python_opts())
    lines = r.stdout.split()
    pid = lines[0] if lines else ""
    try:
        if mode == "old":
            st = os.stat(f"/tmp/perf-{pid}.map")
            check(st.st_mtime < time.time() - 1800,
                  "python wrote its map after the test aged it: the check proves nothing")
    finally:
        for p in (f"/tmp/perf-{pid}.map", f"/tmp/perf-{pid}.map.real"):
            if pid.isdigit() and os.path.lexists(p):
                os.unlink(p)
    if "cannot chown" in r.stdout:
        raise Skip("the traced python runs as a user that cannot chown its map")
    rows = [(s, c) for s, c in h.flame(path, "--type", "oncpu") if s[0].startswith("python")]
    return rows, r


@h.test
def python_functions_named_through_the_map(tmp):
    rows, _ = python_rows(tmp, "py", "none")
    total = sum(c for _, c in rows)
    inner = [(s, c) for s, c in rows if any(f.startswith("py::inner_spin:") for f in s)]
    named = sum(c for _, c in inner)
    check(total >= 20, f"only {total} samples of python")
    check(named >= 0.6 * total, f"py::inner_spin in {named} of {total} samples")
    # through CPython's trampoline: the caller's Python frame and main
    outer = sum(c for s, c in inner if any(f.startswith("py::outer_work:") for f in s))
    whole = share_reaching(inner, OUTERMOST)
    print(f"    python: inner_spin in {named}/{total} samples, {outer} under outer_work, "
          f"{100 * whole:.0f}% reaching {OUTERMOST}")
    check(outer >= 0.8 * named, f"py::outer_work above inner_spin in {outer} of {named}")
    check(whole >= 0.8, f"{100 * whole:.0f}% of inner_spin's stacks reach {OUTERMOST}")


@h.test
def python_forked_child_names_its_parents_frames(tmp):
    py = python312()
    script = os.path.join(tmp, "fork.py")
    with open(script, "w") as f:
        f.write(FORK_SCRIPT)
    path, _ = record(tmp, "fork", [py, "-X", "perf", script], *python_opts())
    remove_maps(path)
    root = min(p["pid"] for p in h.report_json(path)["processes"])
    rows = [(s, c) for s, c in h.flame(path, "--type", "oncpu", "--by", "pid")
            if s[0].startswith("python") and int(s[0].rsplit("-", 1)[1]) != root]
    total = sum(c for _, c in rows)
    inner = [(s, c) for s, c in rows if any(f.startswith("py::inner_spin:") for f in s)]
    named = sum(c for _, c in inner)
    outer = sum(c for s, c in inner if any(f.startswith("py::outer_work:") for f in s))
    print(f"    forked child: inner_spin in {named}/{total} samples, {outer} under outer_work")
    check(total >= 20, f"only {total} samples of the child")
    check(named >= 0.6 * total, f"py::inner_spin in {named} of {total} samples of the child")
    check(outer >= 0.8 * named, f"the parent's py::outer_work above inner_spin in {outer} of {named}")


@h.test
def python_attached_map_read_at_the_end(tmp):
    """weft record -p: the process outlives the recording, so its map is
    read at the end, not at its exit"""
    py = python312()
    script = os.path.join(tmp, "work.py")
    with open(script, "w") as f:
        f.write(PY_SCRIPT)
    proc = subprocess.Popen([py, "-X", "perf", script, "long"], stdout=subprocess.PIPE,
                            text=True, cwd=tmp)
    try:
        pid = proc.stdout.readline().strip()
        out = os.path.join(tmp, "attach.data")
        r = h.run([WEFT, "record", "-o", out, "--duration", "1", *python_opts(), "-p", pid])
        check(r.returncode == 0, f"weft record exited {r.returncode}: {r.stderr.strip()}")
        check(proc.poll() is None, "python ended before the recording did")
    finally:
        proc.kill()
        proc.wait()
        if os.path.exists(f"/tmp/perf-{proc.pid}.map"):
            os.unlink(f"/tmp/perf-{proc.pid}.map")
    rows = [(s, c) for s, c in h.flame(out, "--type", "oncpu") if s[0].startswith("python")]
    total = sum(c for _, c in rows)
    named = sum(c for s, c in rows if any(f.startswith("py::inner_spin:") for f in s))
    check(total >= 10, f"only {total} samples of python")
    check(named >= 0.6 * total, f"py::inner_spin in {named} of {total} samples")


def check_refused(tmp, mode):
    rows, r = python_rows(tmp, mode, mode)
    total = sum(c for _, c in rows)
    check(total >= 20, f"only {total} samples of python")
    named = sum(c for s, c in rows if any(f.startswith("py::") for f in s))
    check(named == 0, f"a {mode} map was used: py:: frames in {named} of {total} samples")
    check("perf maps" in r.stderr and "left unread" in r.stderr,
          f"no warning about the refused map: {r.stderr.strip()}")


@h.test
def perf_map_symlink_ignored(tmp):
    check_refused(tmp, "symlink")


@h.test
def perf_map_of_another_user_ignored(tmp):
    check_refused(tmp, "owner")


@h.test
def perf_map_older_than_process_ignored(tmp):
    check_refused(tmp, "old")


@h.test
def cxx_frames_demangled(tmp):
    path, _ = record(tmp, "cxx", [f"{HELPERS}/cxxspin", "2"])
    rows = h.flame(path, "--type", "oncpu")
    total = sum(c for s, c in rows if s[0] == "cxxspin")
    spin = sum(c for s, c in rows if s[0] == "cxxspin" and
               "weftdemo::Spinner<long>::spin(long)" in s and "weftdemo::run_for(double)" in s)
    # 2 s at 99 Hz, whatever share of a CPU other programs left it
    check(total >= 20, f"only {total} samples")
    check(spin >= 0.8 * total, f"demangled spin under run_for in {spin} of {total} samples")
    mangled = {f for s, _ in rows for f in s if re.match(r"_Z[A-Z0-9]", f)}
    check(not mangled, f"mangled frames left: {sorted(mangled)[:5]}")
    # the report's tables too
    r = h.run([WEFT, "report", path, "--threads"])
    check(r.returncode == 0, f"weft report failed: {r.stderr.strip()}")
    check("weftdemo::Spinner<long>::spin(long)" in r.stdout,
          "the report's top functions do not name weftdemo::Spinner<long>::spin(long)")
    check("_ZN8weftdemo" not in r.stdout, "the report shows a mangled name")



@h.test
def cxx_lock_name_demangled(tmp):
    """lock names come from data symbols: demangled too"""
    path, _ = record(tmp, "cxxlock", [f"{HELPERS}/cxxspin", "1", "lock"])
    rep = h.report_json(path)
    names = [lk["name"] for lk in rep["locks"]]
    check(names and names[0] == "weftdemo::table_lock",
          f"the most waited lock is not weftdemo::table_lock: {names[:3]}")


if __name__ == "__main__":
    sys.exit(h.main())
