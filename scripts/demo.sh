#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make demo: the same task in six concurrency models, recorded and compared
# on this machine's own cores, first CPU-bound, then waiting on timers.
set -euo pipefail
build=${1:-build}
if [[ $(id -u) -ne 0 ]]; then
	echo "weft: make demo records with eBPF: run it as root (sudo make demo)" >&2
	exit 1
fi
echo "== the cpu task: one sum split into units, in every model"
"$build/weft" compare --task cpu
echo
echo "== the io task: units that wait for a simulated 60 ms request"
"$build/weft" compare --task io
