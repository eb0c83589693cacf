#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Installs the Debian packages weft's build and tests need, only those that
# are missing, so a repeated make costs one dpkg query.
set -euo pipefail

# `deps.sh browser DIR`: what the tests that open weft's outputs in other
# people's tools need, installed only when they run: Debian's chromium
# (headless) and speedscope's bundled page from npm, into DIR.
# `deps.sh chromium`: chromium alone (the HTML pages' tests).
if [[ ${1:-} == browser || ${1:-} == chromium ]]; then
	dir=${2:-}
	[[ $1 == chromium || -n $dir ]] || { echo "usage: deps.sh browser DIR" >&2; exit 2; }
	if ! command -v chromium >/dev/null; then
		[[ $(id -u) -eq 0 ]] || { echo "weft: chromium is missing; install it as root" >&2; exit 1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium >/dev/null
	fi
	[[ $1 == chromium ]] && exit 0
	if [[ ! -f $dir/node_modules/speedscope/dist/release/index.html ]]; then
		command -v npm >/dev/null || { echo "weft: npm is missing (Debian package npm)" >&2; exit 1; }
		mkdir -p "$dir"
		npm install --silent --no-audit --no-fund --prefix "$dir" speedscope@1.25.0 >/dev/null
	fi
	exit 0
fi

# `deps.sh go`: Go's own pprof reader (`go tool pprof`, Debian's golang-go),
# which the pprof tests check weft's profiles with; installed only for them.
if [[ ${1:-} == go ]]; then
	command -v go >/dev/null && exit 0
	[[ $(id -u) -eq 0 ]] || { echo "weft: go is missing; install golang-go as root" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		golang-go >/dev/null
	exit 0
fi

# help2man makes the man pages from --help; man-db (man -l) and zsh are for
# the test of make install, which renders every page and runs the zsh
# completion. g++ brings libstdc++ (its __cxa_demangle names C++ frames)
# and builds the C++ test helper.
packages=(clang clang-format llvm bpftool libbpf-dev libelf-dev zlib1g-dev libcmocka-dev pkg-config
	libc6-dbg make gcc g++ python3 help2man man-db zsh)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "weft: missing packages: ${missing[*]}; install them as root (sudo make deps)" >&2
	exit 1
fi
echo "weft: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
