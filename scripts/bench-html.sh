#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The HTML page of a recording of about 1M events (pingpong, with stacks):
# its size, the time weft report --format html takes to write it, and the
# time headless Chromium takes to load it from disk with the network off
# (the navigation's loadEventEnd, which waits for the flame graphs'
# frames), medians of REPEAT loads. The issue's bound: at most 3 MB.
#
# usage: scripts/bench-html.sh [--smoke] BUILD_DIR   (REPEAT=N loads, default 5)
# Needs root (weft record); chromium is installed by scripts/deps.sh
# chromium when missing. About 30 s on 2 cores.
set -euo pipefail

smoke=0
if [[ ${1:-} == --smoke ]]; then
	smoke=1
	shift
fi
if [[ $# -ne 1 ]]; then
	echo "usage: $0 [--smoke] BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
repeat=${REPEAT:-5}
# pingpong writes about 3.1 records per iteration
iters=$((smoke ? 3000 : 330000))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$here/scripts/deps.sh" chromium || {
	echo "bench-html: chromium could not be installed" >&2
	exit 1
}
"$build/weft" record -o "$tmp/pp.data" -- "$build/tests/helpers/pingpong" -n "$iters" -c 0 \
	>/dev/null 2>"$tmp/err" || {
	tail -n 3 "$tmp/err" >&2
	exit 1
}
events=$(sed -n 's/^weft: recorded \([0-9]*\) events.*/\1/p' "$tmp/err")
start=$(date +%s.%N)
"$build/weft" report "$tmp/pp.data" --format html -o "$tmp/pp.html"
end=$(date +%s.%N)
bytes=$(stat -c %s "$tmp/pp.html")

HERE=$here python3 - "$tmp/pp.html" "$repeat" "$events" "$bytes" "$start" "$end" <<'PY'
import os, statistics, sys
sys.path.insert(0, os.path.join(os.environ.get("HERE", "."), "tests", "integration"))
import browser

page, repeat, events, size, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
loads = []
for _ in range(repeat):
    view = browser.Page(browser.chromium_or_skip(), width=1200, height=900)
    try:
        view.watch_requests()
        view.open("file://" + page, "document.readyState === 'complete'")
        ms = view.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        said, asked = view.warnings(), [u for u in view.requests if u != "file://" + page]
    finally:
        view.close()
    if said or asked:
        sys.exit(f"bench-html: the page said {said[:2]} and asked for {asked[:2]}")
    loads.append(ms / 1000)
print(f"bench: html events={events} bytes={size} mb={size / 1e6:.2f} write_s={t1 - t0:.2f} "
      f"load_s={statistics.median(loads):.2f} loads={len(loads)} "
      f"bound={'met' if size <= 3e6 else 'NOT met'} (3 MB)")
PY
