#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a bounded time.
#   tests/fuzz/run.sh [SECONDS]   (default 20 per target)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-20}"
out=build-fuzz
mkdir -p "$out/corpus-expr"
launcher=""
command -v ccache >/dev/null && launcher="ccache"
# Sources the expression target needs: the expression language and the data model
# (table.cpp needs nlohmann only), plus the few core pieces they use.
$launcher clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. tests/fuzz/expr_fuzz.cpp dynamo/expr/*.cpp dynamo/model/*.cpp -lfmt -lcrypto -o "$out/expr_fuzz"
"$out/expr_fuzz" -max_len=4200 -timeout=5 -max_total_time="$seconds" -print_final_stats=1 "$out/corpus-expr" 2>&1 | tail -12
echo "fuzz: expr_fuzz ran ${seconds}s without a finding"
