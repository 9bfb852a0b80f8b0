#!/usr/bin/env bash
# Sets everything up on a fresh Debian bookworm machine, builds stratus and runs the example
# app (examples/todo: a Vue single-page app, its APIs, tables, triggers) in the foreground;
# the banner's `site:` line is the URL to open. Arguments go to `stratus start` (see
# --help); a first argument that is not a flag names another app folder or config.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# The same configuration as scripts/test.sh's build/ (unity build, -g1: a quick first build).
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build -j2 --target stratus
app=examples/todo
if [[ $# -gt 0 && "$1" != -* ]]; then app="$1"; shift; fi
exec build/emulator/stratus start "$app" "$@"
