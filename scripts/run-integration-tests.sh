#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs every tests/integration/test_*.py against the build folder given.
set -u
export WEFT_BUILD=$(cd "${1:-build}" && pwd)
# tracefs is only needed by classic tracepoints; mount it if it is missing.
if [[ $(id -u) -eq 0 && ! -d /sys/kernel/tracing/events ]]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
failed=0
for t in tests/integration/test_*.py; do
	echo "== $t"
	/usr/bin/python3 "$t" || failed=$((failed + 1))
done
[[ $failed -eq 0 ]]
