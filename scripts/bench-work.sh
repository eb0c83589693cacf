#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Times weft-work's cpu and io tasks in every model on this machine and
# prints the median elapsed time of each with its ratio to sync, then cpu
# sync at --size S and 2S (the loop keeps its work: time about doubles).
# Runs are interleaved (every model once per round) so that a slow spell
# of the machine spreads over all models instead of one.
#
# usage: scripts/bench-work.sh BUILD_DIR     (REPEAT=N for N rounds, default 3)
# About 40 s on 2 cores with the default sizes.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
work="$1/weft-work"
if [[ ! -x "$work" ]]; then
	echo "bench-work: $work not found: build it with make" >&2
	exit 1
fi

repeat=${REPEAT:-3}
models=(sync threads gil eventloop procs pool)
tasks=(cpu io)
# Half the default cpu size, so that S and 2S together cost one default run.
size_s=50000000
size_2s=$((2 * size_s))

results=$(mktemp)
trap 'rm -f "$results"' EXIT

# One line per run: "task model elapsed_s checksum".
run() {
	local label=$1
	shift
	local out
	if ! out=$("$work" "$@"); then
		echo "bench-work: weft-work $* failed" >&2
		exit 1
	fi
	read -r _ _ _ workers elapsed checksum <<<"$out"
	echo "$label $elapsed $checksum $workers" >>"$results"
}

for ((r = 1; r <= repeat; r++)); do
	echo "bench-work: round $r of $repeat" >&2
	for task in "${tasks[@]}"; do
		for model in "${models[@]}"; do
			run "$task $model" --task "$task" --mode "$model"
		done
	done
	run "size S" --task cpu --mode sync --size "$size_s"
	run "size 2S" --task cpu --mode sync --size "$size_2s"
done

median() {
	# stdin: numbers, one a line
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

median_of() {
	awk -v a="$1" -v b="$2" '$1 == a && $2 == b { print $3 }' "$results" | median
}

# Every model must compute the same thing.
for task in "${tasks[@]}"; do
	n=$(awk -v t="$task" '$1 == t { print $4 }' "$results" | sort -u | wc -l)
	if [[ $n -ne 1 ]]; then
		echo "bench-work: checksums of the $task task differ between models" >&2
		exit 1
	fi
done

workers=$(awk '$2 == "threads" { print $5; exit }' "$results")
echo "weft-work bench: $(nproc) online CPUs, $workers workers, median of $repeat runs"
printf '%-5s %-10s %10s %14s %9s\n' task model elapsed_s ratio_to_sync speedup
for task in "${tasks[@]}"; do
	sync_s=$(median_of "$task" sync)
	for model in "${models[@]}"; do
		m=$(median_of "$task" "$model")
		awk -v t="$task" -v mo="$model" -v m="$m" -v s="$sync_s" \
			'BEGIN { printf "%-5s %-10s %10.3f %14.2f %8.2fx\n", t, mo, m, m / s, s / m }'
	done
done
s1=$(median_of size S)
s2=$(median_of size 2S)
awk -v a="$s1" -v b="$s2" -v sa="$size_s" -v sb="$size_2s" \
	'BEGIN { printf "cpu sync --size %d: %.3f s, --size %d: %.3f s (x%.2f)\n", sa, a, sb, b, b / a }'
