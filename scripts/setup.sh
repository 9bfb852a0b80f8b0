#!/usr/bin/env bash
# Installs exactly the Debian packages stratus needs to build, test and benchmark.
# Idempotent and quiet when everything is already installed. Used by .ci/run,
# the README and the Dockerfile. Usage: scripts/setup.sh [--bench]
set -euo pipefail

pkgs=(
  build-essential cmake ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev
  liblmdb-dev nlohmann-json3-dev libfmt-dev doctest-dev
  libyaml-cpp-dev libssl-dev libcli11-dev
)
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(wrk nginx-light)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
