#!/usr/bin/env bash
# Sets everything up on a fresh Debian bookworm machine and runs every test:
#   1. unit tests (doctest) in an ASan + UBSan build,
#   2. the libFuzzer targets (clang), for a bounded time,
#   3. unit, integration (the real daemon driven by boto3 / the AWS CLI) and packaging
#      tests in the normal build.
# .ci/run calls exactly this. Build dirs: build/ and build-asan/ (ccache keeps rebuilds fast;
# for quick incremental work configure your own build dir without the unity flags below).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
jobs=2  # the machines have 2 cores

# Unity builds (several .cpp files per compiler run) and line-table debug info (-g1: enough
# for sanitizer reports and backtraces) keep a cold build on 2 cores within a few minutes.
fast=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16)

cmake -S . -B build-asan -DSTRATUS_SANITIZE=ON -DSTRATUS_UNIT_ONLY=ON -DCMAKE_BUILD_TYPE=Debug \
  "${fast[@]}" -DCMAKE_CXX_FLAGS_DEBUG=-g1 >/dev/null
cmake --build build-asan -j"$jobs" --target unit_tests
ctest --test-dir build-asan --output-on-failure

bash tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${fast[@]}" \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" >/dev/null
# The unit tests ran above, under the sanitizers: here only the daemon, for the
# integration, browser and packaging tests.
cmake --build build -j"$jobs" --target stratus
ctest --test-dir build --output-on-failure -j"$jobs" --exclude-regex '^unit$'
