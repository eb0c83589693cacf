#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs every cmocka test binary in a folder; fails if any fails.
set -u
dir=$1
failed=0
ran=0
for t in "$dir"/test_*; do
	[[ -x "$t" && ! "$t" == *.d ]] || continue
	ran=$((ran + 1))
	if ! "$t"; then
		echo "FAILED: $t" >&2
		failed=$((failed + 1))
	fi
done
echo "unit test binaries: $ran run, $failed failed ($dir)"
[[ $ran -gt 0 && $failed -eq 0 ]]
