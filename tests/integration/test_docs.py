#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What a user reads besides reports: every relative link in the README and
docs/ resolves inside the repository, every --help has one Usage line and
fits 80 columns, and the bash and zsh completions offer every option each
--help lists, with the values the binary accepts. None of it needs root."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Harness, check  # noqa: E402

h = Harness()
# Nothing here loads BPF: run as any user, on any kernel.
h.why_skip_all = lambda: None
WEFT = h.weft
WORK = os.path.join(h.build, "weft-work")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASH_COMPLETION = os.path.join(REPO, "scripts", "completion", "weft.bash")
ZSH_COMPLETION_DIR = os.path.join(REPO, "scripts", "completion")

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files(root):
    files = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    for d, _, names in os.walk(docs):
        files += [os.path.join(d, n) for n in sorted(names) if n.endswith(".md")]
    return files


def prose(text):
    """The text without fenced code blocks and inline code, where a
    bracket is not a link"""
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading):
    """GitHub's anchor for a heading"""
    heading = re.sub(r"`", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def anchors(path):
    with open(path) as f:
        text = re.sub(r"^(```|~~~).*?^\1", "", f.read(), flags=re.M | re.S)
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M)}


def broken_links(root):
    """Every relative link in README.md and docs/ that does not resolve to
    a file (and heading) inside ROOT, as 'file: target (why)'"""
    bad = []
    root = os.path.realpath(root)
    for md in markdown_files(root):
        with open(md) as f:
            text = prose(f.read())
        targets = LINK.findall(text) + REF_LINK.findall(text)
        for target in targets:
            if SCHEME.match(target) or target.startswith("//"):
                continue
            where = os.path.relpath(md, root)
            path, _, anchor = target.partition("#")
            dest = os.path.realpath(os.path.join(os.path.dirname(md), path)) if path else md
            if os.path.commonpath([root, dest]) != root:
                bad.append(f"{where}: {target} (outside the tree)")
            elif not os.path.exists(dest):
                bad.append(f"{where}: {target} (no such file)")
            elif anchor and (not dest.endswith(".md") or anchor not in anchors(dest)):
                bad.append(f"{where}: {target} (no heading #{anchor})")
    return bad


@h.test
def links_stay_inside_the_repository(tmp):
    bad = broken_links(REPO)
    check(not bad, "broken links:\n  " + "\n  ".join(bad))
    # the check itself finds each kind of broken link
    os.makedirs(os.path.join(tmp, "docs"))
    with open(os.path.join(tmp, "README.md"), "w") as f:
        f.write("[a](docs/a.md) [b](../shared/DESIGN.md) [c](docs/none.md)\n"
                "[d](docs/a.md#metrics) [e](docs/a.md#nowhere) [f](https://x.org/y)\n"
                "`[g](../code/is/not/a/link)`\n")
    with open(os.path.join(tmp, "docs", "a.md"), "w") as f:
        f.write("# Metrics\n[back](../README.md) [top](#metrics)\n")
    bad = broken_links(tmp)
    check(len(bad) == 3 and all(" (" in b for b in bad) and
          any("../shared/DESIGN.md (outside" in b for b in bad) and
          any("docs/none.md (no such file" in b for b in bad) and
          any("#nowhere (no heading" in b for b in bad), f"link check found {bad}")


@h.test
def metrics_doc_names_every_verdict_kind(tmp):
    """docs/metrics.md lists the verdict_kind words the code returns"""
    with open(os.path.join(REPO, "userspace", "verdict.c")) as f:
        code = f.read()
    m = re.search(r"^const char \*weft_verdict_kind__name\(.*?^}", code, re.M | re.S)
    check(m, "weft_verdict_kind__name() not found in verdict.c")
    kinds = set(re.findall(r'return "([a-z_]+)";', m.group(0))) - {"unknown"}
    with open(os.path.join(REPO, "docs", "metrics.md")) as f:
        row = [line for line in f if line.startswith("| `verdict_kind` |")]
    check(len(row) == 1, "metrics.md has no verdict_kind row")
    documented = set(re.findall(r"`([a-z_]+)`", row[0])) - {"verdict_kind"}
    check(kinds == documented, f"verdict kinds: code {sorted(kinds)}, docs {sorted(documented)}")


@h.test
def architecture_map_names_every_source_file(tmp):
    """docs/architecture.md, the module map for newcomers, names every
    source file of bpf/, userspace/ and workloads/: a file added without a
    line there fails here"""
    with open(os.path.join(REPO, "docs", "architecture.md")) as f:
        text = f.read()
    missing = []
    for folder in ("bpf", "userspace", "workloads"):
        for name in sorted(os.listdir(os.path.join(REPO, folder))):
            if not name.endswith((".c", ".h")):
                continue
            stem = name[:-2]
            # a module's header goes with its .c
            if name.endswith(".h") and os.path.exists(os.path.join(REPO, folder, stem + ".c")):
                name = stem + ".c"
            if f"`{name}`" not in text:
                missing.append(f"{folder}/{name}")
    check(not missing, f"docs/architecture.md does not name {sorted(set(missing))}")


def help_text(*cmd, **env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("ARGP_HELP_FMT", "COLUMNS")}
    env.update(env_extra)
    r = h.run([*cmd, "--help"], env=env)
    check(r.returncode == 0, f"{' '.join(cmd)} --help failed: {r.stderr.strip()}")
    return r.stdout


def commands():
    """The command names under 'Commands:' in weft --help"""
    lines = help_text(WEFT).splitlines()
    check("Commands:" in lines, "weft --help has no Commands: list")
    start = lines.index("Commands:") + 1
    names = []
    for line in lines[start:]:
        if not line.strip():
            break
        names.append(line.split()[0])
    check(len(names) >= 5, f"commands: {names}")
    return names


@h.test
def help_has_one_usage_line_and_fits_80_columns(tmp):
    texts = {"weft": help_text(WEFT), "weft-work": help_text(WORK)}
    for c in commands():
        texts[f"weft {c}"] = help_text(WEFT, c)
    for name, text in texts.items():
        lines = text.splitlines()
        usage = [line for line in lines if re.match(r"^usage:", line, re.I)]
        check(len(usage) == 1 and usage[0].startswith(f"Usage: {name} "),
              f"{name} --help: usage lines {usage}")
        long_lines = [line for line in lines if len(line) > 79]
        check(not long_lines, f"{name} --help: lines over 79 columns: {long_lines}")
        check("Examples:" in lines, f"{name} --help has no Examples:")
        examples = lines[lines.index("Examples:") + 1:]
        examples = examples[:examples.index("")] if "" in examples else examples
        check(examples, f"{name} --help: no examples")
        for line in examples:
            # a wrapped comment would start a line of its own
            check(re.match(r"^  (sudo )?weft[ -]", line), f"{name} --help: {line!r}")
            check("#" not in line or re.search(r"\S {2,}# \S", line),
                  f"{name} --help: comment not set apart: {line!r}")


def long_options(cmd):
    """(option, argument or None, description) of each long option in the
    default --help of weft CMD"""
    out = []
    text = help_text(WEFT, cmd, ARGP_HELP_FMT="rmargin=1000")
    for line in text.splitlines():
        m = re.match(r"^ +(?:-\S, )?(--[a-z][a-z0-9-]*)(?:=(\S+))? +(.*)$", line)
        if m:
            out.append(m.groups())
    check(len(out) >= 4, f"weft {cmd}: options {out}")
    return out


def bash_complete(*words):
    """COMPREPLY of the bash completion for the words (the last is the one
    being completed), with build/ on PATH"""
    script = ('source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _weft; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, PATH=f"{h.build}:/usr/bin:/bin")
    r = h.run(["bash", "-c", script, BASH_COMPLETION, *words], env=env)
    check(r.returncode == 0, f"bash completion of {words}: {r.stderr.strip()}")
    return [w for w in r.stdout.splitlines() if w]


def zsh_specs(cmd):
    """The _arguments specs _weft builds for weft CMD, with zsh's
    completion functions replaced by ones that print what they get"""
    script = f"""
_arguments() {{ print -rl -- "$@" }}
_call_program() {{ shift; eval "$@" }}
fpath=({ZSH_COMPLETION_DIR} $fpath)
autoload -Uz _weft
words=(weft {cmd} ''); CURRENT=3
_weft
"""
    env = dict(os.environ, PATH=f"{h.build}:/usr/bin:/bin")
    r = h.run(["zsh", "-f", "-c", script], env=env)
    check(r.returncode == 0, f"zsh completion of weft {cmd}: {r.stderr.strip()}")
    return r.stdout.splitlines()


def accepts(cmd, opt, value):
    """Whether weft CMD takes VALUE for OPT: argp stops at the first bad
    argument, so a good value lets it reach the unknown option after it.
    Nothing runs either way."""
    r = h.run([WEFT, cmd, opt, value, "--no-such-option"])
    check(r.returncode != 0, f"weft {cmd} {opt} {value} --no-such-option exited 0")
    return "no-such-option" in r.stderr


def zsh_values(spec):
    """The words a zsh value action offers: '(a b)' or '_sequence compadd - a b'"""
    action = spec.rsplit(":", 1)[1]
    m = re.match(r"^\((.*)\)$", action) or re.match(r"^_sequence compadd - (.*)$", action)
    return set(m.group(1).split()) if m else set()


@h.test
def completion_offers_every_option_and_value(tmp):
    check(bash_complete("weft", "fl") == ["flame"], f"weft fl: {bash_complete('weft', 'fl')}")
    check(set(commands()) <= set(bash_complete("weft", "")), "bash: not every command")
    for cmd in commands():
        offered = set(bash_complete("weft", cmd, "--"))
        specs = zsh_specs(cmd)
        for opt, arg, desc in long_options(cmd):
            check(opt in offered, f"bash does not complete weft {cmd} {opt}")
            spec = [s for s in specs if re.match(r"^(\([^)]*\))?" + re.escape(opt) + r"[=\[]", s)]
            check(len(spec) == 1, f"zsh: weft {cmd} {opt}: specs {spec}")
            if not arg:
                continue
            # an option that takes any word (a file, a user) has no
            # list, nor do process ids (completed from ps)
            if opt == "--pid" or accepts(cmd, opt, "zz-not-a-value"):
                continue
            # the values are the words of its description (and argument
            # name) the binary accepts: "text (default), json or markdown"
            words = set(re.findall(r"[a-z][a-z0-9]*", f"{arg} {desc}"))
            valid = {w for w in words if accepts(cmd, opt, w)}
            bash_values = set(bash_complete("weft", cmd, opt, ""))
            check(bash_values == valid,
                  f"bash completes weft {cmd} {opt} with {sorted(bash_values)}, "
                  f"the binary takes {sorted(valid)}")
            check(zsh_values(spec[0]) == valid,
                  f"zsh completes weft {cmd} {opt} with {sorted(zsh_values(spec[0]))}, "
                  f"the binary takes {sorted(valid)}")
    check(bash_complete("weft", "flame", "--type", "") == ["oncpu", "offcpu", "wakeup", "lock"],
          "weft flame --type")
    # --opt=VALUE, which bash splits at '='
    check(bash_complete("weft", "flame", "--by", "=", "th") == ["thread"], "weft flame --by=th")
    # a comma-separated list completes its last item
    check(set(bash_complete("weft", "compare", "--modes", "sync,g")) == {"sync,gil"},
          "weft compare --modes sync,g")
    # the positional argument: recordings and folders, not other files
    for name in ("a.data", "b.data", "notes.txt"):
        open(os.path.join(tmp, name), "w").close()
    os.mkdir(os.path.join(tmp, "runs"))
    got = set(bash_complete("weft", "report", os.path.join(tmp, "")))
    check(got == {os.path.join(tmp, n) for n in ("a.data", "b.data", "runs")},
          f"weft report {tmp}/: {sorted(got)}")
    # after --, weft record completes the command to run
    check("sleep" in bash_complete("weft", "record", "-o", "x.data", "--", "slee"),
          "weft record -- slee")


if __name__ == "__main__":
    sys.exit(h.main())
