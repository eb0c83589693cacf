#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make demo: record the bundled workload in two concurrency models and
# report each, so the difference between parallel threads and threads
# under a global lock shows on this machine's own cores.
set -euo pipefail
build=${1:-build}
tmp=$(mktemp -d /tmp/weft-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [[ $(id -u) -ne 0 ]]; then
	echo "weft: make demo records with eBPF: run it as root (sudo make demo)" >&2
	exit 1
fi
for mode in threads gil; do
	echo
	echo "### weft-work --task cpu --mode $mode"
	"$build/weft" record -o "$tmp/$mode.data" -- "$build/weft-work" --task cpu --mode "$mode"
	"$build/weft" report "$tmp/$mode.data"
done
