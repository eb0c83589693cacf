#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Installs the Debian packages weft's build and tests need, only those that
# are missing, so a repeated make costs one dpkg query.
set -euo pipefail

packages=(clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libcmocka-dev pkg-config
	libc6-dbg make gcc python3)

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
