#!/usr/bin/env bash
# Sets everything up on a fresh Debian bookworm machine, builds stratus and runs it in the
# foreground on 127.0.0.1:4566. Arguments go to `stratus start` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target stratus
exec build/emulator/stratus start "$@"
