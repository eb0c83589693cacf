#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The time of weft stuck on a process of 200 threads blocked on a condition
# variable (tests/helpers/deadlock many 200), run by make bench (and alone:
# scripts/bench-stuck.sh BUILD_DIR [ROUNDS]). Prints one line:
#   bench: stuck threads=T wall_ms=W snapshot_ms=S runs=R
# wall_ms is weft stuck's whole run (loading the iterator, reading /proc,
# the stacks, naming them, the report); snapshot_ms the snapshot alone as
# weft stuck measures it. Medians of R runs.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [ROUNDS]}
rounds=${2:-5}
weft=$build/weft
helper=$build/tests/helpers/deadlock
for f in "$weft" "$helper"; do
	if [[ ! -x $f ]]; then
		echo "bench-stuck: $f not found: build it with make" >&2
		exit 1
	fi
done
if ((EUID != 0)); then
	echo "bench-stuck: skipped: not root (weft stuck needs root)"
	exit 0
fi

out=$(mktemp -d /tmp/weft-bench-stuck.XXXXXX)
coproc hung { exec "$helper" many 200; }
trap 'kill -9 $hung_PID 2>/dev/null; wait $hung_PID 2>/dev/null || true; rm -rf "$out"' EXIT
read -r ready <&"${hung[0]}"
[[ $ready == ready ]] || { echo "bench-stuck: the helper said '$ready'" >&2; exit 1; }
# every thread in its futex wait
for _ in $(seq 100); do
	n=$(grep -l '^202 ' /proc/"$hung_PID"/task/*/syscall 2>/dev/null | wc -l)
	((n >= 201)) && break
	sleep 0.05
done
for ((r = 1; r <= rounds; r++)); do
	s=$(date +%s.%N)
	"$weft" stuck -p "$hung_PID" --format json >"$out/$r.json" || true
	e=$(date +%s.%N)
	echo "$s $e" >"$out/$r.time"
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
walls, snaps, threads = [], [], 0
for r in range(1, n + 1):
    s, e = map(float, open(f"{d}/{r}.time").read().split())
    rep = json.load(open(f"{d}/{r}.json"))
    walls.append(1e3 * (e - s))
    snaps.append(1e3 * rep["snapshot_s"])
    threads = len(rep["threads"])
print(f"bench: stuck threads={threads} wall_ms={statistics.median(walls):.1f} "
      f"snapshot_ms={statistics.median(snaps):.1f} runs={n}")
PY
