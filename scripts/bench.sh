#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What weft costs the program it records, beside perf, and how fast its
# report reads a recording. Prints a table, then one line per measurement:
#   bench: WORKLOAD CONDITION ratio=R ns_per_event=N events=E switches=S lost=L
#          bytes_per_event=B bytes_per_switch=W cpu_ns_per_event=C [ratio_max=M]
#   bench: report EVENTS events_per_s=X vs_inflate=Y peak_rss_mb=M report_s=R
#          timeline_s=T recorder_rss_mb=Q lost=L
# then whether each target of the benchmark is met (target: lines, and one
# bench: targets line naming them all), then the switch program's ns per
# call with and without the lock owner read:
#   bench: switch owners=read|off ns_per_call=N calls=C runs=R
#   bench: owner read costs +N ns per switch call (+P%)
# then what Python frames cost (scripts/bench-python.sh),
# then the time of weft stuck on 200 blocked threads (scripts/bench-stuck.sh):
#   bench: stuck threads=T wall_ms=W snapshot_ms=S runs=R
# then the HTML page of a 1M-event recording (scripts/bench-html.sh: its size,
# write and load times):
#   bench: html events=N bytes=B mb=M write_s=W load_s=L loads=R bound=met|NOT met
# then the weft-work model table (scripts/bench-work.sh).
#
# Workloads: pingpong (two threads handing a futex token, both on CPU 0),
# pingpong-x (one on CPU 0, one on CPU 1), mutex (4 threads, one contended
# pthread mutex), cpu (weft-work --task cpu --mode threads), fork (2,000
# fork + exec of /bin/true), many (64 threads passing 4 tokens in a ring).
# Conditions: untraced, weft record (default), weft record --no-stacks,
# weft record --locks=pthread (mutex only), on pingpong the stack settings
# the default is chosen from: --unwind=fp (frame-pointer user stacks) and
# --stack-every=1 (whole stacks at every blocking switch), and the floor
# under any tracer of weft's design: tests/bench/floor.c's programs on the
# same three tracepoints, empty (floor-empty) or writing one record each
# (floor-records); perf sched record, perf record -e sched:sched_switch -e
# sched:sched_wakeup. Runs are interleaved (every
# workload and condition once per round) and figures are medians.
#
# How things are measured:
# - wall: the workload's own, by build/bench/timed run inside the tracer,
#   so the tracer's start (loading BPF, perf's setup) and its end (writing
#   symbols) are not counted. The mutex workload runs for a fixed time and
#   counts its critical sections: its wall and events are scaled to the
#   untraced run's amount of work.
# - switches: the kernel's count (ru_nvcsw + ru_nivcsw of every waited-for
#   process of the workload, its threads included), from the same run.
# - events, lost: weft's summary line ("recorded N events (L lost, ...");
#   perf's "(N samples)" line, and the LOST counts of perf report --stats.
# - recorder CPU: user + sys of everything under a second timed around the
#   tracer, minus the workload's own.
# - report: weft report --format json and weft timeline timed beside
#   tests/bench/inflate_only (inflates every EVENTS chunk and does nothing
#   else) on recordings of about 1M, 10M and 30M events (pingpong,
#   --no-stacks; the last is about a minute of it); peak RSS is the report's
#   ru_maxrss, the recorder's is that of the weft record that wrote each.
# - critical: weft critical --format json on the 10M-event recording (every
#   size with --smoke), its time and peak RSS against weft report's medians
#   on the same file (its memory grows with events: the path needs them):
#   bench: critical EVENTS critical_s=X peak_rss_mb=M vs_report_s=Y
#          vs_report_rss=Z
#
# usage: scripts/bench.sh [--smoke] [--repeat N] BUILD_DIR
#   --smoke     every workload and condition once at a tiny size; checks that
#               everything runs (exit status non-zero if anything failed)
#   --repeat N  rounds (default 5)
# Needs root (weft record and perf sched record). About 10 minutes on 2 cores.
set -uo pipefail

# shellcheck source=scripts/bench-args.sh
source "$(dirname "$0")/bench-args.sh"
weft=$build/weft
timed=$build/bench/timed
helpers=$build/tests/helpers
for f in "$weft" "$timed" "$build/bench/fork" "$build/bench/many" "$helpers/pingpong" \
	"$helpers/mutex" "$helpers/owners" "$build/weft-work" "$build/libweft.a"; do
	if [[ ! -e $f ]]; then
		echo "bench: $f not found: build it with make" >&2
		exit 1
	fi
done
if [[ $(id -u) -ne 0 ]]; then
	# make test runs the smoke run; like the integration tests, it skips
	# what only root can do, saying so
	if ((smoke)); then
		echo "bench: skipped: not root (weft record loads BPF programs; run make test with sudo)"
		exit 0
	fi
	echo "bench: weft record needs root or CAP_BPF+CAP_PERFMON: run make bench with sudo" >&2
	exit 1
fi
((smoke)) && repeat=1

# perf comes from linux-perf on Debian; without it the perf conditions are
# reported as unsupported.
if ! command -v perf >/dev/null && command -v apt-get >/dev/null; then
	echo "bench: installing linux-perf" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-perf >/dev/null 2>&1 ||
		(apt-get update -q >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-perf >/dev/null 2>&1)
fi
have_perf=0
command -v perf >/dev/null && perf --version >/dev/null 2>&1 && have_perf=1

# Built by make bench (Makefile BENCH_TOOLS)
inflate=$build/bench/inflate_only
floor=$build/bench/floor
for tool in "$inflate" "$floor"; do
	if [[ ! -x $tool ]]; then
		echo "bench: $tool is missing: run make bench, which builds it" >&2
		exit 1
	fi
done

# Recordings go to /tmp (one filesystem for every tracer). The folder is
# world-writable because weft runs the command as the user behind sudo, and
# the timed inside it writes there.
tmp=$(mktemp -d /tmp/weft-bench.XXXXXX) || exit 1
chmod 1777 "$tmp"
trap 'rm -rf "$tmp"' EXIT
runs=$tmp/runs
tree=$tmp/tree
reports=$tmp/reports
: >"$runs"
: >"$tree"
: >"$reports"
failed=0

if ((smoke)); then
	n_pingpong=2000 n_cross=300 mutex_s=0.05 cpu_size=2000000 n_fork=20 n_many=20
	n_handoff=2000
else
	n_pingpong=300000 n_cross=30000 mutex_s=1.0 cpu_size=200000000 n_fork=2000 n_many=2000
	n_handoff=100000
fi
many_threads=64

workloads=(pingpong pingpong-x mutex cpu fork many)
command_of() {
	case $1 in
	pingpong) echo "$helpers/pingpong -n $n_pingpong -c 0" ;;
	pingpong-x) echo "$helpers/pingpong -n $n_cross -x" ;;
	mutex) echo "$helpers/mutex 4 $mutex_s" ;;
	cpu) echo "$build/weft-work --task cpu --mode threads --size $cpu_size" ;;
	fork) echo "$build/bench/fork -n $n_fork" ;;
	many) echo "$build/bench/many -t $many_threads -n $n_many" ;;
	esac
}

# Conditions a weft without an option cannot run are reported once and
# skipped: try each on /bin/true first.
unsupported=()
supports() {
	"$weft" record -o "$tmp/probe.data" "$@" -- /bin/true >"$tmp/probe.out" 2>&1
}
if ! supports; then
	echo "bench: weft record does not run:" >&2
	cat "$tmp/probe.out" >&2
	exit 1
fi
supports --no-stacks || unsupported+=(no-stacks)
supports --locks=pthread || unsupported+=(pthread-locks)
supports --unwind=fp || unsupported+=(fp-stacks)
supports --stack-every=1 || unsupported+=(all-stacks)
((have_perf)) || unsupported+=(perf-sched perf-record)
rm -f "$tmp/probe.data"*

conditions_of() {
	local c list=(untraced default no-stacks)
	[[ $1 == mutex ]] && list+=(pthread-locks)
	[[ $1 == pingpong ]] && list+=(fp-stacks all-stacks floor-empty floor-records)
	list+=(perf-sched perf-record)
	for c in "${list[@]}"; do
		[[ " ${unsupported[*]} " == *" $c "* ]] || echo "$c"
	done
}

# Runs WORKLOAD under CONDITION once and appends a line to $runs (and to
# $tree for traced fork and many runs). 0, or 1 with what went wrong on
# stderr.
run_one() {
	local w=$1 c=$2 rec=$tmp/rec.data out=$tmp/out err=$tmp/err
	local -a cmd tracer
	read -ra cmd <<<"$(command_of "$w")"
	case $c in
	untraced) tracer=() ;;
	default) tracer=("$weft" record -o "$rec" --) ;;
	no-stacks) tracer=("$weft" record --no-stacks -o "$rec" --) ;;
	pthread-locks) tracer=("$weft" record --locks=pthread -o "$rec" --) ;;
	fp-stacks) tracer=("$weft" record --unwind=fp -o "$rec" --) ;;
	all-stacks) tracer=("$weft" record --stack-every=1 -o "$rec" --) ;;
	floor-empty) tracer=("$floor" --empty --) ;;
	floor-records) tracer=("$floor" --) ;;
	perf-sched) tracer=(perf sched record -o "$rec" --) ;;
	perf-record) tracer=(perf record -e sched:sched_switch -e sched:sched_wakeup -o "$rec" --) ;;
	esac
	rm -f "$tmp/inner" "$tmp/outer" "$rec" "$rec.old"
	if ! "$timed" -o "$tmp/outer" -- "${tracer[@]}" "$timed" -o "$tmp/inner" -- "${cmd[@]}" \
		>"$out" 2>"$err" || [[ ! -s $tmp/inner ]]; then
		echo "bench: $w $c failed: ${tracer[*]} ${cmd[*]}" >&2
		tail -n 5 "$err" >&2
		return 1
	fi
	local wall u s sw outer_u outer_s work=1 events=0 lost=0 bytes=0 rcpu=0
	read -r wall u s sw _ <"$tmp/inner"
	read -r _ outer_u outer_s _ <"$tmp/outer"
	[[ $w == mutex ]] && work=$(head -n 1 "$out")
	if [[ $c != untraced && $c != floor-* ]]; then
		bytes=$(stat -c %s "$rec")
		rcpu=$(awk -v a="$outer_u" -v b="$outer_s" -v c="$u" -v d="$s" \
			'BEGIN { x = a + b - c - d; printf "%.6f", x < 0 ? 0 : x }')
	fi
	case $c in
	default | no-stacks | fp-stacks | all-stacks | pthread-locks)
		read -r events lost < <(sed -n 's/^weft: recorded \([0-9]*\) events (\([0-9]*\) lost.*/\1 \2/p' "$err")
		;;
	floor-*)
		read -r events lost < <(sed -n 's/^floor: recorded \([0-9]*\) records (\([0-9]*\) lost.*/\1 \2/p' "$err")
		;;
	perf-*)
		events=$(sed -n 's/.*perf record: Captured and wrote .*(\([0-9]*\) samples).*/\1/p' "$err")
		lost=$(perf report --stats -i "$rec" 2>/dev/null |
			awk '/LOST/ && $3 ~ /^[0-9]+$/ && !seen[$1]++ { n += $3 } END { print n + 0 }')
		;;
	esac
	if [[ -z $events || -z $lost || -z $work ]]; then
		echo "bench: $w $c: no event count in the tracer's output" >&2
		tail -n 5 "$err" >&2
		return 1
	fi
	echo "$w $c $wall $sw $work $events $lost $bytes $rcpu $r" >>"$runs"
	if [[ $c == default && ($w == fork || $w == many) ]]; then
		# The root of the traced tree is timed, then the workload: fork adds
		# one process per child, many one thread per ring seat.
		local expect_p expect_t
		if [[ $w == fork ]]; then
			expect_p=$((n_fork + 2)) expect_t=$((n_fork + 2))
		else
			expect_p=2 expect_t=$((many_threads + 2))
		fi
		if ! "$weft" report --format json "$rec" >"$tmp/report.json" 2>"$err"; then
			echo "bench: weft report of $w failed" >&2
			tail -n 5 "$err" >&2
			return 1
		fi
		python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(sys.argv[2], len(r["processes"]), len(r["threads"]), sys.argv[3], sys.argv[4], r["lost_events"])
' "$tmp/report.json" "$w" "$expect_p" "$expect_t" >>"$tree" || return 1
	fi
	rm -f "$rec" "$rec.old"
	return 0
}

start_s=$SECONDS
for w in "${workloads[@]}"; do
	for c in "${unsupported[@]}"; do
		[[ $c == pthread-locks && $w != mutex ]] && continue
		[[ ($c == fp-stacks || $c == all-stacks || $c == floor-*) && $w != pingpong ]] && continue
		echo "bench: $w $c unsupported"
	done
done
for ((r = 1; r <= repeat; r++)); do
	echo "bench: round $r of $repeat ($((SECONDS - start_s)) s)" >&2
	for w in "${workloads[@]}"; do
		for c in $(conditions_of "$w"); do
			run_one "$w" "$c" || failed=1
		done
	done
done

echo "weft bench: $(nproc) online CPUs, $(uname -r), median of $repeat rounds"
echo
python3 "$here/scripts/bench_math.py" runs "$runs" "$tree" >"$tmp/summary" || failed=1
cat "$tmp/summary"
echo
# Every workload and condition run must have its line.
for w in "${workloads[@]}"; do
	for c in $(conditions_of "$w"); do
		if ! grep -q "^bench: $w $c ratio=" "$tmp/summary"; then
			echo "bench: no line for $w $c" >&2
			failed=1
		fi
	done
done

# Analysis speed and memory, and scale: pingpong recordings of about 1M,
# 10M and 30M events (the last about a minute of pingpong; the events per
# iteration are measured on the first, to size the others), each recorded
# once under timed (the recorder's peak RSS and its lost count), then read by
# weft report and weft timeline beside the inflate-only reader.
if ((smoke)); then
	sizes=(10000 30000 100000) report_repeats=(1 1 1) timeline_repeats=(1 1 1)
else
	sizes=(1000000 10000000 30000000) report_repeats=(7 7 3) timeline_repeats=(3 3 1)
fi
scale=$tmp/scale
: >"$scale"
criticals=$tmp/criticals
: >"$criticals"
outputs=$tmp/outputs
: >"$outputs"
events_per_iter=3
# timed_read WHAT ARGS...: weft ARGS... on the $got-event recording under
# timed, its line in $tmp/t_read; 1, and what went wrong, if it failed
timed_read() {
	local what=$1
	shift
	rm -f "$tmp/t_read"
	if ! "$timed" -o "$tmp/t_read" -- "$weft" "$@" >/dev/null 2>"$tmp/err"; then
		echo "bench: weft $what of the $got-event recording failed" >&2
		tail -n 5 "$tmp/err" >&2
		return 1
	fi
}
echo "bench: recording pingpong for the report timings ($((SECONDS - start_s)) s)" >&2
nostacks=--no-stacks
[[ " ${unsupported[*]} " == *" no-stacks "* ]] && nostacks=
for i in "${!sizes[@]}"; do
	want=${sizes[i]}
	rec=$tmp/report-$want.data
	iters=$(awk -v w="$want" -v e="$events_per_iter" 'BEGIN { printf "%d", w / e }')
	rm -f "$tmp/t_rec"
	if ! "$timed" -o "$tmp/t_rec" -- "$weft" record $nostacks -o "$rec" -- \
		"$helpers/pingpong" -n "$iters" -c 0 >/dev/null 2>"$tmp/err"; then
		echo "bench: recording $want events failed" >&2
		tail -n 5 "$tmp/err" >&2
		failed=1
		continue
	fi
	read -r got lost < <(sed -n 's/^weft: recorded \([0-9]*\) events (\([0-9]*\) lost.*/\1 \2/p' "$tmp/err")
	read -r _ _ _ _ rec_rss _ <"$tmp/t_rec"
	echo "$got $rec_rss $lost" >>"$scale"
	events_per_iter=$(awk -v g="$got" -v i="$iters" 'BEGIN { print g / i }')
	for ((r = 1; r <= report_repeats[i]; r++)); do
		rm -f "$tmp/t_report" "$tmp/t_inflate" "$tmp/t_timeline"
		if ! "$timed" -o "$tmp/t_report" -- "$weft" report --format json "$rec" \
			>/dev/null 2>"$tmp/err" ||
			! "$timed" -o "$tmp/t_inflate" -- "$inflate" "$rec" >/dev/null 2>>"$tmp/err" ||
			{ ((r <= timeline_repeats[i])) &&
				! "$timed" -o "$tmp/t_timeline" -- "$weft" timeline "$rec" -o /dev/null \
					>/dev/null 2>>"$tmp/err"; }; then
			echo "bench: reading the $got-event recording failed" >&2
			tail -n 5 "$tmp/err" >&2
			failed=1
			break
		fi
		read -r rw _ _ _ rss _ <"$tmp/t_report"
		read -r iw _ <"$tmp/t_inflate"
		tw=
		[[ -s $tmp/t_timeline ]] && read -r tw _ <"$tmp/t_timeline"
		echo "$got $rw $iw $rss $tw" >>"$reports"
		# the other readers of a whole recording, beside the same inflate
		if ((r <= timeline_repeats[i] && want < 30000000)); then
			for out in flame pprof; do
				case $out in
				flame) args=(flame --type offcpu "$rec") ;;
				pprof) args=(pprof "$rec" -o "$tmp/out.pb.gz") ;;
				esac
				timed_read "$out" "${args[@]}" || {
					failed=1
					break
				}
				read -r ow _ _ _ orss _ <"$tmp/t_read"
				echo "$got $out $ow $iw $orss" >>"$outputs"
			done
		fi
	done
	if ((smoke || want == 10000000)); then
		for ((r = 1; r <= (smoke ? 1 : 3); r++)); do
			timed_read critical critical --format json "$rec" || {
				failed=1
				break
			}
			read -r cw _ _ _ crss _ <"$tmp/t_read"
			echo "$got $cw $crss" >>"$criticals"
		done
	fi
	rm -f "$rec"
done
python3 "$here/scripts/bench_math.py" report "$reports" "$scale" >"$tmp/summary" || failed=1
cat "$tmp/summary"
if [[ $(grep -c '^bench: report ' "$tmp/summary") -ne ${#sizes[@]} ]]; then
	echo "bench: a report timing is missing" >&2
	failed=1
fi
python3 - "$outputs" <<'PY' || failed=1
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
if not rows:
    print("bench: no weft flame or pprof timing", file=sys.stderr)
    sys.exit(1)
for events in sorted({r[0] for r in rows}, key=int):
    line = f"bench: outputs {events}"
    for out in ("flame", "pprof"):
        rs = [r for r in rows if r[0] == events and r[1] == out]
        if rs:
            s = statistics.median(float(r[2]) for r in rs)
            inf = statistics.median(float(r[3]) for r in rs)
            mb = max(float(r[4]) for r in rs) / 1024
            line += f" {out}_s={s:.3f} {out}_vs_inflate={s / inf:.2f} {out}_peak_rss_mb={mb:.1f}"
    print(line)
PY
python3 - "$criticals" "$reports" <<'PY' || failed=1
import statistics, sys
crit = [line.split() for line in open(sys.argv[1])]
reps = [line.split() for line in open(sys.argv[2])]
if not crit:
    print("bench: no weft critical timing", file=sys.stderr)
    sys.exit(1)
for events in sorted({r[0] for r in crit}, key=int):
    cs = [r for r in crit if r[0] == events]
    rs = [r for r in reps if r[0] == events]
    c_s = statistics.median(float(r[1]) for r in cs)
    c_mb = max(float(r[2]) for r in cs) / 1024
    r_s = statistics.median(float(r[1]) for r in rs) if rs else 0
    r_mb = max(float(r[3]) for r in rs) / 1024 if rs else 0
    line = f"bench: critical {events} critical_s={c_s:.3f} peak_rss_mb={c_mb:.1f}"
    if r_s and r_mb:
        line += f" vs_report_s={c_s / r_s:.2f} vs_report_rss={c_mb / r_mb:.2f}"
    print(line)
PY
echo
python3 "$here/scripts/bench_math.py" targets "$runs" "$tree" "$reports" "$scale" || failed=1

# What the owner read costs the switch program: the kernel's own run-time
# statistics of handle_switch (WEFT_BPF_STATS=1: bpf_enable_stats), without
# stacks (which would hide it: about 2 us a call), on two threads handing a
# baton through two mutexes on one CPU (tests/helpers/owners --handoff), so
# that about half of the calls are mutex waits whose owner is read and
# most of the rest their switch-ins; WEFT_OWNERS=0 leaves the read out.
# The program runs for every switch of the machine, and other programs'
# switches return early: compare runs of about the same number of calls.
# Interleaved rounds, medians.
echo
echo "## switch program: ns per call with and without the owner read (bpf_stats)"
owner_runs=$tmp/owner_runs
: >"$owner_runs"
for ((r = 1; r <= repeat; r++)); do
	for owners in 1 0; do
		line=$(WEFT_BPF_STATS=1 WEFT_OWNERS=$owners "$weft" record --no-stacks -o "$tmp/owners.data" \
			-- "$helpers/owners" --handoff "$n_handoff" 2>&1 >/dev/null |
			grep '^weft: switch program:')
		calls=$(sed -n 's/.*: \([0-9]*\) calls, .*/\1/p' <<<"$line")
		ns=$(sed -n 's/.* calls, \([0-9.]*\) ns per call.*/\1/p' <<<"$line")
		if [[ -z $calls || -z $ns ]]; then
			echo "bench: no switch program statistics (owners=$owners): $line" >&2
			failed=1
			continue
		fi
		echo "$owners $calls $ns" >>"$owner_runs"
	done
done
rm -f "$tmp/owners.data"
python3 - "$owner_runs" <<'PY' || failed=1
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
med = {}
for owners, name in (("1", "read"), ("0", "off")):
    ns = [float(r[2]) for r in rows if r[0] == owners]
    calls = [int(r[1]) for r in rows if r[0] == owners]
    if not ns:
        sys.exit(1)
    med[owners] = statistics.median(ns)
    print(f"bench: switch owners={name} ns_per_call={med[owners]:.1f} "
          f"calls={int(statistics.median(calls))} runs={len(ns)}")
print(f"bench: owner read costs {med['1'] - med['0']:+.1f} ns per switch call "
      f"({100 * (med['1'] - med['0']) / med['0']:+.1f}%)")
PY

echo
echo "## Python threads: untraced, default and --python=off; a stack's cost (scripts/bench-python.sh)"
smoke_arg=()
((smoke)) && smoke_arg=(--smoke)
"$here/scripts/bench-python.sh" "${smoke_arg[@]}" --repeat "$repeat" "$build" || failed=1

echo
echo "## weft stuck on a process of 200 blocked threads (scripts/bench-stuck.sh)"
"$here/scripts/bench-stuck.sh" "$build" "$repeat" || failed=1

echo
echo "## the HTML page of a 1M-event recording (scripts/bench-html.sh)"
if ((smoke)); then
	"$here/scripts/bench-html.sh" --smoke "$build" || failed=1
else
	"$here/scripts/bench-html.sh" "$build" || failed=1
fi

if ((!smoke)); then
	echo
	echo "## weft-work: the models untraced (scripts/bench-work.sh)"
	"$here/scripts/bench-work.sh" "$build" || failed=1
fi
echo "bench: done in $((SECONDS - start_s)) s" >&2

if ((failed)); then
	echo "bench: some runs failed (see above)" >&2
	exit 1
fi
exit 0
