#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make demo: the same task in six concurrency models, recorded and compared
# on this machine's own cores, first CPU-bound, then waiting on timers. The
# recordings are kept in BUILD/demo, and the demo ends with what to run on
# them next.
set -euo pipefail
build=${1:-build}
if [[ $(id -u) -ne 0 ]]; then
	echo "weft: make demo records with eBPF: run it as root (sudo make demo)" >&2
	exit 1
fi
demo=$build/demo
# Only this demo's recordings: a kept folder from an earlier run would mix
# in models or repeats it no longer has.
rm -rf "$demo/cpu" "$demo/io"
mkdir -p "$demo"
# weft record gives a recording to the user behind sudo; so does this.
if [[ -n ${SUDO_UID:-} && -n ${SUDO_GID:-} ]]; then
	chown "$SUDO_UID:$SUDO_GID" "$demo"
fi

echo "== the cpu task: one sum split into units, in every model"
"$build/weft" compare --task cpu --keep "$demo/cpu"
echo
echo "== the io task: units that wait for a simulated 60 ms request"
"$build/weft" compare --task io --keep "$demo/io"
# The same, to look at: one page per comparison and one for the gil model
# (self-contained HTML: open them from disk, attach them to a bug)
echo
echo "== the pages: $demo/cpu.html, $demo/io.html, $demo/gil.html"
"$build/weft" compare "$demo"/cpu/*.data --format html -o "$demo/cpu.html"
"$build/weft" compare "$demo"/io/*.data --format html -o "$demo/io.html"
"$build/weft" report "$demo/cpu/gil-1.data" --format html -o "$demo/gil.html"
for page in cpu io gil; do
	printf '  %-9s %6d kB\n' "$page.html" $(($(stat -c %s "$demo/$page.html") / 1024))
done
if [[ -n ${SUDO_UID:-} && -n ${SUDO_GID:-} ]]; then
	chown -R "$SUDO_UID:$SUDO_GID" "$demo"
fi

n=$(find "$demo" -name '*.data' | wc -l)
cat <<NEXT

== what to try next
The $n recordings are in $demo/cpu and $demo/io (MODEL-1.data).
These commands need no root:

  $build/weft report $demo/cpu/gil-1.data --threads
      the gil model: its lock, who waited for it, and where
  $build/weft flame $demo/cpu/gil-1.data --type offcpu --svg gil-offcpu.svg
      where its threads blocked: open gil-offcpu.svg in a browser
  $build/weft critical $demo/io/pool-1.data
      what decided the pool's wall time: which worker, waiting for what
  $build/weft timeline $demo/io/eventloop-1.data -o eventloop.json
      the event loop over time: open eventloop.json in ui.perfetto.dev
  $build/weft compare $demo/cpu/*.data --format markdown
      the cpu table again, from the recordings
  $demo/cpu.html, io.html and gil.html
      the comparisons and the gil model as pages: open them in a browser

Your own program: sudo $build/weft record -- ./my-program, then weft report.
The manuals: man -l $build/man/weft.1 (man weft after sudo make install).
NEXT
