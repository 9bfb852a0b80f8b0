#!/usr/bin/env bash
# Sets everything up on a fresh Debian bookworm machine and runs every test:
#   1. unit tests (doctest) in an ASan + UBSan build,
#   2. the libFuzzer targets (clang), for a bounded time,
#   3. unit, integration (the real daemon driven by boto3 / the AWS CLI) and packaging
#      tests in the normal build.
# .ci/run calls exactly this. Build dirs: build/ and build-asan/ (ccache keeps rebuilds fast).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
jobs=2  # the machines have 2 cores

cmake -S . -B build-asan -DSTRATUS_SANITIZE=ON -DSTRATUS_UNIT_ONLY=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs" --target unit_tests
ctest --test-dir build-asan --output-on-failure

bash tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
