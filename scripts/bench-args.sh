# shellcheck shell=bash
# The bench scripts' one command line, sourced by bench.sh and the
# scripts it calls: [--smoke] [--repeat N] BUILD_DIR. Sets smoke, repeat
# (default: $default_repeat, else 5), build and here (the source tree).
smoke=0
repeat=${default_repeat:-5}
bench_usage() {
	echo "usage: $0 [--smoke] [--repeat N] BUILD_DIR" >&2
	exit 2
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--smoke) smoke=1 ;;
	--repeat)
		repeat=${2:-}
		shift
		;;
	-*) bench_usage ;;
	*) break ;;
	esac
	shift
done
[[ $# -eq 1 && $repeat =~ ^[1-9][0-9]*$ ]] || bench_usage
build=$(cd "$1" && pwd) || exit 1
here=$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)
