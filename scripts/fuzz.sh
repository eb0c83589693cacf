#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make fuzz: runs build/fuzz/fuzz_read for SECONDS over a corpus seeded from
# real recordings: as root, weft records a few of the test helpers (threads,
# forks, pipes, locks with every --locks kind, stacks) into
# build/fuzz/recordings once, and tests/fuzz_seed.c turns each into a seed.
# Without root the corpus starts from what an earlier run left, or empty.
# A crash, leak or sanitizer report fails with libFuzzer's reproducer path.
#   scripts/fuzz.sh [BUILD] [SECONDS]
set -eu
build=$(cd "${1:-build}" && pwd)
seconds=${2:-60}
dir=$build/fuzz
weft=$build/weft
helpers=$build/tests/helpers
mkdir -p "$dir/recordings" "$dir/corpus" "$dir/artifacts"

record() {
	local name=$1
	shift
	[[ -s $dir/recordings/$name.data ]] && return 0
	"$weft" record -o "$dir/recordings/$name.data" "$@" >/dev/null 2>&1 ||
		echo "fuzz: could not record $name (seeds without it)"
	rm -f "$dir/recordings/$name.data.old"
}

if [[ $(id -u) -eq 0 && -r /sys/kernel/btf/vmlinux ]]; then
	record pingpong -- "$helpers/pingpong" -n 2000 -c 0
	record busy-fork -- "$helpers/busy" -t 2 -s 0.2 -f
	record mutex --locks=futex,kernel,pthread -- "$helpers/mutex" 3 0.2
	record pipeline -- sh -c "$helpers/pipeio 0.2 | cat >/dev/null"
	record nostacks --no-stacks -- "$helpers/pingpong" -n 1000 -c 0
	record forkexec --unwind=fp -F 999 -- "$helpers/stacker" forkexec 3 20
	record sleeps -- "$helpers/stacker" sleep 5 10
fi
for f in "$dir"/recordings/*.data; do
	[[ -e $f ]] || continue
	seed=$dir/corpus/seed-$(basename "$f" .data)
	[[ -s $seed ]] || "$dir/fuzz_seed" -b 32768 "$f" "$seed"
done
echo "fuzz: $(ls "$dir/corpus" | wc -l) inputs in the corpus, running $seconds s"
# -close_fd_mask=2: the commands' one-line refusals stay out of the log,
# libFuzzer's own report keeps a copy of stderr
exec "$dir/fuzz_read" "$dir/corpus" -max_total_time="$seconds" -max_len=131072 -timeout=20 \
	-rss_limit_mb=2048 -close_fd_mask=3 -artifact_prefix="$dir/artifacts/" -print_final_stats=1
