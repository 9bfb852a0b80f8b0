#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs them for a bounded time.
#   tests/fuzz/run.sh [SECONDS]   (default 20, shared between the targets)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-20}"
targets=(expr partiql form)
each=$(( seconds / ${#targets[@]} ))
(( each >= 1 )) || each=1
out=build-fuzz
launcher=""
command -v ccache >/dev/null && launcher="ccache"
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus-$t"
  # Sources the targets need: the expression language (with PartiQL) and the data model
  # (table.cpp needs nlohmann only), plus the few core pieces they use.
  # The form parser (s3/form.cpp) needs the standard library only.
  if [[ $t == form ]]; then srcs=(s3/form.cpp); else srcs=(dynamo/expr/*.cpp dynamo/model/*.cpp); fi
  $launcher clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I. "tests/fuzz/${t}_fuzz.cpp" "${srcs[@]}" -lfmt -lcrypto -o "$out/${t}_fuzz"
done
"$out/expr_fuzz" -max_len=4200 -timeout=5 -max_total_time="$each" -print_final_stats=1 "$out/corpus-expr" 2>&1 | tail -12
echo "fuzz: expr_fuzz ran ${each}s without a finding"
"$out/partiql_fuzz" -max_len=8300 -timeout=5 -max_total_time="$each" -print_final_stats=1 -dict=tests/fuzz/partiql.dict \
  "$out/corpus-partiql" 2>&1 | tail -12
echo "fuzz: partiql_fuzz ran ${each}s without a finding"
mkdir -p "$out/corpus-form"
printf 'multipart/form-data; boundary=b\n--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\nContent-Type: text/plain\r\n\r\ndata\r\n--b--\r\n' \
  > "$out/corpus-form/seed"
"$out/form_fuzz" -max_len=2048 -timeout=5 -max_total_time="$each" -print_final_stats=1 "$out/corpus-form" 2>&1 | tail -12
echo "fuzz: form_fuzz ran ${each}s without a finding"
