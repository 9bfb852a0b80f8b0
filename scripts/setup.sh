#!/usr/bin/env bash
# Installs exactly the Debian (bookworm) packages stratus needs. Idempotent and quiet
# when everything is already installed. Used by .ci/run (through scripts/test.sh), the
# README's commands and the Dockerfile.
#
#   scripts/setup.sh            build and test dependencies
#   scripts/setup.sh --bench    the same plus the benchmark peers (wrk, nginx)
#   scripts/setup.sh --runtime  only what the built binary needs to run (Docker's
#                               runtime stage); tests/packaging checks this list
#                               against the binary's shared libraries
set -euo pipefail

build_pkgs=(
  build-essential cmake ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev
  liblmdb-dev nlohmann-json3-dev libfmt-dev doctest-dev
  libyaml-cpp-dev libssl-dev libcli11-dev zlib1g-dev libbrotli-dev libmimalloc-dev libsimdjson-dev libre2-dev libdeflate-dev
  clang libclang-rt-14-dev
  chromium
)
# npm (integration tests, the Lambda runtimes' SDK): Debian's package only when no npm is
# on PATH (NodeSource's nodejs, as on these machines, ships its own and conflicts with it).
command -v npm >/dev/null 2>&1 || build_pkgs+=(npm)
# Handler runtimes come from the machine (node 20, python3) in development; the image
# installs Debian's.
runtime_pkgs=(
  libstdc++6 libfmt9 liblmdb0 libssl3 libyaml-cpp0.7 libboost-url1.81.0 zlib1g libbrotli1 libmimalloc2.0 libsimdjson14 libre2-9 libdeflate0
  ca-certificates nodejs python3
)

case "${1:-}" in
  "") pkgs=("${build_pkgs[@]}") ;;
  --bench) pkgs=("${build_pkgs[@]}" wrk nginx-light) ;;
  --runtime) pkgs=("${runtime_pkgs[@]}") ;;
  --list-runtime) printf '%s\n' "${runtime_pkgs[@]}"; exit 0 ;;
  *) echo "usage: $0 [--bench | --runtime | --list-runtime]" >&2; exit 2 ;;
esac

# The AWS SDK for JS v3 that node handlers import without bundling (lambda/runtimes), and
# the example app's own dependencies (its handlers' SDK packages; its single-page app's
# Vue and Vite, and its build when web/dist is missing).
npm_ci_once() {
  local dir="$1"
  [[ -f "$dir/package-lock.json" ]] && command -v npm >/dev/null || return 0
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.stratus-installed-lock"; then
    (cd "$dir" && npm ci --no-audit --no-fund --silent && cp package-lock.json node_modules/.stratus-installed-lock)
  fi
}
install_npm_deps() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [[ -f "$root/lambda/runtimes/package.json" && ! -d "$root/lambda/runtimes/node_modules/@aws-sdk/client-dynamodb" ]] && command -v npm >/dev/null; then
    (cd "$root/lambda/runtimes" && npm ci --no-audit --no-fund --silent)
  fi
  npm_ci_once "$root/examples/todo"
  if [[ ! -f "$root/examples/todo/web/dist/index.html" ]]; then
    npm_ci_once "$root/examples/todo/web"
    (cd "$root/examples/todo/web" && npx vite build --logLevel warn)
  fi
}
if [[ "${1:-}" == "" ]]; then trap install_npm_deps EXIT; fi

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
