#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs every tests/integration/test_*.py against the build folder given.
set -u
export WEFT_BUILD=$(cd "${1:-build}" && pwd)
# tracefs is only needed by classic tracepoints; mount it if it is missing.
if [[ $(id -u) -eq 0 && ! -d /sys/kernel/tracing/events ]]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=()
for t in tests/integration/test_*.py; do
	echo "== $t"
	log="$logs/$(basename "$t").log"
	/usr/bin/python3 "$t" 2>&1 | tee "$log"
	[[ ${PIPESTATUS[0]} -eq 0 ]] || failed+=("$t")
done
[[ ${#failed[@]} -eq 0 ]] && exit 0
# Whoever reads only the end of a long log (CI keeps the tail) still sees
# which checks failed and why.
echo "== integration failures"
for t in "${failed[@]}"; do
	echo "-- $t"
	log="$logs/$(basename "$t").log"
	if grep -q FAILED "$log"; then
		awk '/FAILED/ { show = 1 } /^  [a-z_0-9]+ +[0-9.]+s  ok$/ { show = 0 } show' \
			"$log" | head -40
	else
		tail -n 15 "$log"
	fi
done
exit 1
