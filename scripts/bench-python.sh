#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What Python frames cost (make bench runs it after its own tables):
#   bench: pythreads CONDITION ratio=R wall_s=W runs=N
#     a fixed amount of CPU work in 4 Python threads (Debian's python3,
#     tests/helpers/pyframes_prog.py threads_work) untraced, under weft
#     record (default: Python frames on) and weft record --python=off;
#     ratio = the median wall against the untraced median
#   bench: python stack ns_per_call sample auto=A off=O (+D ns) switch auto=A off=O (+D ns)
#     the kernel's run-time statistics of the sample and switch programs
#     (WEFT_BPF_STATS=1) with every blocking switch taking stacks
#     (--stack-every=1) and samples at 999 Hz: a sample program call takes
#     one user and one kernel stack, so its difference is a stack's Python
#     frames
#   bench: python load record_s auto=A off=O
#     weft record of /bin/true, which is mostly loading the programs: the
#     Python reader's verification time is the difference
# Runs are interleaved (each condition once per round), figures are medians.
#
# usage: scripts/bench-python.sh [--smoke] [--repeat N] BUILD_DIR
set -uo pipefail

# shellcheck source=scripts/bench-args.sh
source "$(dirname "$0")/bench-args.sh"
weft=$build/weft
timed=$build/bench/timed
prog=$here/tests/helpers/pyframes_prog.py
python=/usr/bin/python3
if [[ ! -x $python ]]; then
	echo "bench: python: skipped: $python is not installed"
	exit 0
fi
for f in "$weft" "$timed"; do
	if [[ ! -x $f ]]; then
		echo "bench: $f not found: build it with make bench" >&2
		exit 1
	fi
done
if [[ $(id -u) -ne 0 ]]; then
	echo "bench: python: skipped: not root (weft record loads BPF programs)"
	exit 0
fi
((smoke)) && repeat=1
calls=400
((smoke)) && calls=20

tmp=$(mktemp -d /tmp/weft-bench-py.XXXXXX) || exit 1
chmod 1777 "$tmp"
trap 'rm -rf "$tmp"' EXIT
runs=$tmp/runs
: >"$runs"
failed=0

for ((r = 1; r <= repeat; r++)); do
	for c in untraced default python-off; do
		case $c in
		untraced) tracer=() ;;
		default) tracer=("$weft" record -o "$tmp/rec.data" --) ;;
		python-off) tracer=("$weft" record --python=off -o "$tmp/rec.data" --) ;;
		esac
		rm -f "$tmp/inner" "$tmp/rec.data" "$tmp/rec.data.old"
		if ! "${tracer[@]}" "$timed" -o "$tmp/inner" -- "$python" "$prog" threads_work "$calls" \
			>/dev/null 2>"$tmp/err" || [[ ! -s $tmp/inner ]]; then
			echo "bench: pythreads $c failed" >&2
			tail -n 5 "$tmp/err" >&2
			failed=1
			continue
		fi
		read -r wall _ <"$tmp/inner"
		echo "wall $c $wall" >>"$runs"
	done
	for p in auto off; do
		out=$(WEFT_BPF_STATS=1 "$weft" record --python=$p --stack-every=1 -F 999 \
			-o "$tmp/rec.data" -- "$python" "$prog" threads_work "$calls" 2>&1 >/dev/null)
		s=$(sed -n 's/^weft: sample program: [0-9]* calls, \([0-9.]*\) ns per call.*/\1/p' <<<"$out")
		w=$(sed -n 's/^weft: switch program: [0-9]* calls, \([0-9.]*\) ns per call.*/\1/p' <<<"$out")
		if [[ -z $s || -z $w ]]; then
			echo "bench: no program statistics (python=$p): $out" >&2
			failed=1
			continue
		fi
		echo "stack $p $s $w" >>"$runs"
		start=$(date +%s.%N)
		"$weft" record --python=$p -o "$tmp/true.data" -- /bin/true 2>/dev/null
		end=$(date +%s.%N)
		echo "load $p $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')" >>"$runs"
	done
done
rm -f "$tmp/rec.data"* "$tmp/true.data"*

python3 - "$runs" <<'PY' || failed=1
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
med = lambda xs: statistics.median(xs) if xs else float("nan")
walls = {c: [float(r[2]) for r in rows if r[0] == "wall" and r[1] == c]
         for c in ("untraced", "default", "python-off")}
base = med(walls["untraced"])
for c, ws in walls.items():
    print(f"bench: pythreads {c} ratio={med(ws) / base:.3f} wall_s={med(ws):.3f} runs={len(ws)}")
st = {p: ([float(r[2]) for r in rows if r[0] == "stack" and r[1] == p],
          [float(r[3]) for r in rows if r[0] == "stack" and r[1] == p]) for p in ("auto", "off")}
sa, so = med(st["auto"][0]), med(st["off"][0])
wa, wo = med(st["auto"][1]), med(st["off"][1])
print(f"bench: python stack ns_per_call sample auto={sa:.0f} off={so:.0f} ({sa - so:+.0f} ns) "
      f"switch auto={wa:.0f} off={wo:.0f} ({wa - wo:+.0f} ns)")
ld = {p: med([float(r[2]) for r in rows if r[0] == "load" and r[1] == p]) for p in ("auto", "off")}
print(f"bench: python load record_s auto={ld['auto']:.3f} off={ld['off']:.3f} "
      f"({ld['auto'] - ld['off']:+.3f} s)")
PY
exit $failed
