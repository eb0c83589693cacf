#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""make install into a scratch DESTDIR, the installed tree copied elsewhere
and run from there (weft compare finds its weft-work), every man page
rendered, the installed bash completion used, the docs' JSON keys and
compare rows checked against a real run, make uninstall leaving what was
there before; and make demo's closing suggestions run as printed."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402
from test_docs import broken_links  # noqa: E402

h = Harness()
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PREFIX = "/usr/local"
PAGES = ["weft", "weft-record", "weft-report", "weft-compare", "weft-flame", "weft-timeline",
         "weft-pprof", "weft-diff", "weft-critical", "weft-stuck", "weft-work"]
# Folders any system has under its prefix: install may add to them and
# uninstall must leave them as they were.
SHARED_DIRS = ["bin", "libexec", "share/man/man1", "share/doc",
               "share/bash-completion/completions", "share/zsh/site-functions"]


def make(*args):
    r = h.run(["make", "--no-print-directory", "-C", REPO, f"OUTPUT={h.build}", *args],
              timeout=600)
    check(r.returncode == 0, f"make {' '.join(args)} failed: {r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r


def tree(root):
    """every path under ROOT, folders with a trailing /"""
    out = set()
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        out |= {os.path.normpath(os.path.join(rel, n)) + "/" for n in dirs}
        out |= {os.path.normpath(os.path.join(rel, n)) for n in files}
    return out


def bash_complete(completion, path_dirs, *words):
    script = ('source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _weft; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, PATH=":".join(path_dirs + ["/usr/bin", "/bin"]))
    r = h.run(["bash", "-c", script, completion, *words], env=env)
    check(r.returncode == 0, f"bash completion of {words}: {r.stderr.strip()}")
    return [w for w in r.stdout.splitlines() if w]


def json_keys(obj, prefix=""):
    """dotted keys of a report, list items as NAME[]; keys of lists of
    objects only when the list has one"""
    keys = set()
    for k, v in obj.items():
        keys.add(prefix + k)
        if isinstance(v, dict):
            keys |= json_keys(v, prefix + k + ".")
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                keys |= json_keys(item, prefix + k + "[].")
    return keys


def documented_keys():
    """the keys in the first column of docs/metrics.md's JSON table"""
    with open(os.path.join(REPO, "docs", "metrics.md")) as f:
        text = f.read()
    section = text[text.index("## The JSON report"):]
    return re.findall(r"^\| `([a-z_][a-z0-9_.\[\]]*)` \|", section, re.M)


def claims_rows():
    """the compare row names docs/claims.md names in its third column"""
    with open(os.path.join(REPO, "docs", "claims.md")) as f:
        rows = [line.split("|") for line in f if re.match(r"^\| [0-9]+ \|", line)]
    check(len(rows) == 12, f"claims.md: {len(rows)} claims")
    return {name for r in rows for name in re.findall(r"`([^`]+)`", r[3])}


@h.test
def install_copy_run_and_uninstall(tmp):
    dest = os.path.join(tmp, "dest")
    root = dest + PREFIX
    for d in SHARED_DIRS:
        os.makedirs(os.path.join(root, d))
    before = tree(dest)

    make("install", f"DESTDIR={dest}", f"PREFIX={PREFIX}")
    installed = tree(dest) - before
    expected = {"bin/weft", "libexec/weft/", "libexec/weft/weft-work",
                "share/bash-completion/completions/weft", "share/zsh/site-functions/_weft",
                "share/doc/weft/", "share/doc/weft/README.md", "share/doc/weft/docs/"}
    expected |= {f"share/man/man1/{p}.1" for p in PAGES}
    expected |= {f"share/doc/weft/docs/{n}" for n in os.listdir(os.path.join(REPO, "docs"))
                 if n.endswith(".md")}
    # the README's pictures of the HTML pages
    expected |= {"share/doc/weft/docs/img/"}
    expected |= {f"share/doc/weft/docs/img/{n}"
                 for n in os.listdir(os.path.join(REPO, "docs", "img")) if n.endswith(".png")}
    expected = {os.path.normpath(os.path.join(os.path.relpath(root, dest), p)) +
                ("/" if p.endswith("/") else "") for p in expected}
    check(installed == expected, f"installed {sorted(installed - expected)} beyond, "
          f"{sorted(expected - installed)} missing")
    for exe in ("bin/weft", "libexec/weft/weft-work"):
        mode = os.stat(os.path.join(root, exe)).st_mode
        check(mode & stat.S_IXOTH and not mode & stat.S_IWOTH, f"{exe}: mode {oct(mode)}")

    # The docs installed keep their links.
    bad = broken_links(os.path.join(root, "share/doc/weft"))
    check(not bad, f"installed docs: {bad}")

    # Every page renders without a warning, names the installed paths,
    # and lists every option of its command's --help.
    for page in PAGES:
        path = os.path.join(root, "share/man/man1", f"{page}.1")
        with open(path) as f:
            source = f.read()
        check("@PREFIX@" not in source, f"{page}.1 still says @PREFIX@")
        r = h.run(["man", "--warnings", "-l", path],
                  env=dict(os.environ, MANPAGER="cat", MANWIDTH="80", LC_ALL="C.UTF-8"))
        check(r.returncode == 0 and not r.stderr.strip(),
              f"man -l {page}.1: rc {r.returncode}: {r.stderr.strip()}")
        text = r.stdout
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "PRIVILEGES", "FILES",
                        "EXAMPLES", "SEE ALSO"):
            check(re.search(rf"^{section}$", text, re.M), f"{page}(1) has no {section}")
        status = text[text.index("\nEXIT STATUS"):text.index("\nPRIVILEGES")]
        for code in ("0", "1", "2"):
            check(re.search(rf"^ +{code} +\S", status, re.M), f"{page}(1): no exit status {code}")
        cmd = [os.path.join(h.build, "weft-work")] if page == "weft-work" else \
            [h.weft] + ([page[5:]] if page != "weft" else [])
        help_text = h.run([*cmd, "--help"]).stdout
        for opt in set(re.findall(r"^ +(?:-\S, )?(--[a-z][a-z0-9-]*)", help_text, re.M)):
            check(opt in text, f"{page}(1) does not describe {opt}")
        # nothing of the machine that built it
        check(not re.search(r"CPUs, [0-9]+ here", text), f"{page}(1) counts the build's CPUs")
    check(PREFIX + "/libexec/weft/weft-work" in
          h.run(["man", "-l", os.path.join(root, "share/man/man1/weft-compare.1")],
                env=dict(os.environ, MANPAGER="cat", MANWIDTH="200")).stdout,
          "weft-compare(1) does not say where weft-work is")

    # The installed tree, copied elsewhere, runs its own weft-work: none is
    # on PATH.
    elsewhere = os.path.join(tmp, "elsewhere")
    shutil.copytree(root, elsewhere, symlinks=True)
    path = "/usr/bin:/bin"
    check(shutil.which("weft-work", path=path) is None, "a weft-work is on PATH")
    weft = os.path.join(elsewhere, "bin", "weft")
    keep = os.path.join(tmp, "keep")
    args = [weft, "compare", "--task", "io", "--units", "4", "--latency", "5",
            "--modes", "sync,threads", "--keep", keep]
    r = h.run(args, env=dict(os.environ, PATH=path), timeout=300)
    check(r.returncode == 0, f"installed weft compare failed: {r.stderr.strip()}")
    check(re.search(r"^checksum +ok +ok$", r.stdout, re.M), f"compare output:\n{r.stdout}")
    check(sorted(os.listdir(keep)) == ["sync-1.data", "threads-1.data"], os.listdir(keep))

    # What docs/claims.md calls the rows of weft compare are its rows.
    labels = {re.split(r"\s{2,}", line.strip())[0] for line in r.stdout.splitlines()
              if re.match(r"^\S.*\s{2,}\S", line)}
    missing = claims_rows() - labels
    check(not missing, f"claims.md names rows weft compare does not print: {sorted(missing)}")

    # What docs/metrics.md documents is in a real report, and every key of
    # the report's top level is documented (--critical adds critical_path).
    r = h.run([weft, "report", os.path.join(keep, "threads-1.data"), "--format", "json",
               "--critical"])
    check(r.returncode == 0, r.stderr)
    report = json.loads(r.stdout)
    have = json_keys(report)
    # a Python program's threads add their Python functions
    py = os.path.join(tmp, "py.data")
    r = h.run([weft, "record", "-o", py, "--", "/usr/bin/python3", "-c",
               "import threading,time\n"
               "def spin():\n"
               "    end = time.time() + 1.2\n"
               "    while time.time() < end: pass\n"
               "ts = [threading.Thread(target=spin) for _ in range(2)]\n"
               "[t.start() for t in ts]; [t.join() for t in ts]"], timeout=120)
    check(r.returncode == 0, f"installed weft record of python3 failed: {r.stderr.strip()}")
    r = h.run([weft, "report", py, "--format", "json"])
    check(r.returncode == 0, r.stderr)
    have |= json_keys(json.loads(r.stdout))
    documented = documented_keys()
    check(len(documented) > 50, f"metrics.md: {len(documented)} keys")
    # list items are checked where the run had some
    absent = [k for k in documented
              if k not in have and not (k.split("[]")[0] in report and
                                        not report[k.split("[]")[0]])]
    check(not absent, f"metrics.md documents keys the report lacks: {absent}")
    undocumented = [k for k in report
                    if not any(d == k or d.startswith((k + ".", k + "[]")) for d in documented)]
    check(not undocumented, f"report keys metrics.md leaves out: {undocumented}")

    # Without its weft-work, the copy says so in one line.
    os.unlink(os.path.join(elsewhere, "libexec", "weft", "weft-work"))
    r = h.run(args, env=dict(os.environ, PATH=path))
    check(r.returncode == 1 and "weft-work not found" in r.stderr and
          len(r.stderr.strip().splitlines()) == 1, f"rc {r.returncode}: {r.stderr.strip()}")

    # The installed bash completion completes commands and values.
    completion = os.path.join(root, "share/bash-completion/completions/weft")
    bindir = [os.path.join(root, "bin")]
    got = bash_complete(completion, bindir, "weft", "fl")
    check(got == ["flame"], f"weft fl<TAB>: {got}")
    got = bash_complete(completion, bindir, "weft", "flame", "--type", "")
    check(got == ["oncpu", "offcpu", "wakeup", "lock"], f"weft flame --type <TAB>: {got}")

    make("uninstall", f"DESTDIR={dest}", f"PREFIX={PREFIX}")
    after = tree(dest)
    check(after == before, f"uninstall left {sorted(after - before)}, "
          f"removed {sorted(before - after)}")


@h.test
def demo_ends_with_commands_that_work(tmp):
    r = h.run([os.path.join(REPO, "scripts", "demo.sh"), h.build], cwd=tmp, timeout=600)
    check(r.returncode == 0, f"make demo failed: {r.stderr[-2000:]}")
    out = r.stdout
    check("== what to try next" in out, f"demo output ends:\n{out[-1500:]}")
    tail = out[out.index("== what to try next"):]
    demo = os.path.join(h.build, "demo")
    kept = sorted(os.path.relpath(os.path.join(d, n), demo)
                  for d, _, names in os.walk(demo) for n in names)
    data = [k for k in kept if k.endswith(".data")]
    pages = [k for k in kept if not k.endswith(".data")]
    check(len(data) == 12 and all(d.endswith("-1.data") for d in data), f"demo kept {kept}")
    # the HTML pages it says it wrote
    check(pages == ["cpu.html", "gil.html", "io.html"], f"demo kept {kept}")
    for page in pages:
        with open(os.path.join(demo, page)) as f:
            check(f.read(15) == "<!DOCTYPE html>", f"{page} is not a page")
        check(f"{page}" in out, f"the demo does not say where {page} is")
    check(f"The 12 recordings are in {demo}/cpu and {demo}/io" in tail, tail)
    check(f"man -l {h.build}/man/weft.1" in tail, tail)
    suggested = [line.strip() for line in tail.splitlines()
                 if line.startswith(f"  {h.build}/weft ")]
    kinds = {s.split()[1] for s in suggested}
    check({"report", "flame", "timeline"} <= kinds, f"suggested: {suggested}")
    for s in suggested:
        # as a user would paste it, from where the demo ran
        r = subprocess.run(s, shell=True, cwd=tmp, capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"{s}: {r.stderr.strip()}")
    for made in ("gil-offcpu.svg", "eventloop.json"):
        path = os.path.join(tmp, made)
        check(os.path.exists(path) and os.path.getsize(path) > 1000, f"{s} made no {made}")


if __name__ == "__main__":
    sys.exit(h.main())
