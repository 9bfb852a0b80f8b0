#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs them for a bounded time.
#   tests/fuzz/run.sh [SECONDS]   (default 20, shared between the targets)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-20}"
targets=(expr partiql form filter_pattern policy json)
each=$(( seconds / ${#targets[@]} ))
(( each >= 1 )) || each=1
out=build-fuzz
launcher=""
command -v ccache >/dev/null && launcher="ccache"
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -I.)
# The sources the targets share, compiled once (two at a time: the machines have 2 cores):
# the expression language (with PartiQL) and the data model (table.cpp needs nlohmann only;
# value.cpp writes JSON text with core/json_writer and base64 with core/base64).
mkdir -p "$out/obj"
shared=(dynamo/expr/*.cpp dynamo/model/*.cpp core/json_writer.cpp core/base64.cpp)
objs=()
pids=()
for s in "${shared[@]}"; do
  o="$out/obj/$(echo "$s" | tr / _).o"
  objs+=("$o")
  $launcher clang++ "${flags[@]}" -c "$s" -o "$o" &
  pids+=($!)
  if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus-$t"
  $launcher clang++ "${flags[@]}" -c "tests/fuzz/${t}_fuzz.cpp" -o "$out/obj/${t}_fuzz.o"
  # The form parser (s3/form.cpp) needs the standard library only.
  if [[ $t == form ]]; then
    $launcher clang++ "${flags[@]}" -c s3/form.cpp -o "$out/obj/s3_form.cpp.o"
    deps=("$out/obj/s3_form.cpp.o")
  elif [[ $t == filter_pattern ]]; then
    # CloudWatch Logs filter patterns (logs/filter_pattern.cpp): nlohmann, and RE2 (a Debian
    # library, linked) through core/regex.cpp for %regex% terms.
    $launcher clang++ "${flags[@]}" -c logs/filter_pattern.cpp -o "$out/obj/logs_filter_pattern.cpp.o"
    $launcher clang++ "${flags[@]}" -c core/regex.cpp -o "$out/obj/core_regex.cpp.o"
    deps=("$out/obj/logs_filter_pattern.cpp.o" "$out/obj/core_regex.cpp.o" -lre2)
  elif [[ $t == policy ]]; then
    # The bucket policy parser (s3/policy.cpp) needs the standard library and nlohmann.
    $launcher clang++ "${flags[@]}" -c s3/policy.cpp -o "$out/obj/s3_policy.cpp.o"
    deps=("$out/obj/s3_policy.cpp.o")
  elif [[ $t == json ]]; then
    # core::parse_json: simdjson (a Debian library, linked) and nlohmann.
    $launcher clang++ "${flags[@]}" -c core/json_parse.cpp -o "$out/obj/core_json_parse.cpp.o"
    deps=("$out/obj/core_json_parse.cpp.o" -lsimdjson)
  else
    deps=("${objs[@]}")
  fi
  clang++ -fsanitize=fuzzer,address,undefined "$out/obj/${t}_fuzz.o" "${deps[@]}" -lfmt -lcrypto -o "$out/${t}_fuzz"
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
mkdir -p "$out/corpus-filter_pattern"
printf '{ ($.level = "error" || $.n > 3) && $.a[0].b != x* }\n{"level":"error","n":5,"a":[{"b":"y"}]}' > "$out/corpus-filter_pattern/json"
printf '[ip, user, ..., status = 4* || status = 5*, bytes > 1000]\n127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET / HTTP/1.0" 404 1534' > "$out/corpus-filter_pattern/space"
printf '?ERROR ?"bad thing" -ignore %%ERR[0-9]+%%\n[ERROR 400] bad thing' > "$out/corpus-filter_pattern/terms"
"$out/filter_pattern_fuzz" -max_len=1200 -timeout=5 -max_total_time="$each" -print_final_stats=1 -dict=tests/fuzz/filter_pattern.dict \
  "$out/corpus-filter_pattern" 2>&1 | tail -12
echo "fuzz: filter_pattern_fuzz ran ${each}s without a finding"
mkdir -p "$out/corpus-policy"
printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"},"StringLike":{"aws:Referer":"http://a/*"}}}]}\0s3:GetObject\narn:aws:s3:::bucket/k\n127.0.0.1\nhttp://a/b' \
  > "$out/corpus-policy/seed"
"$out/policy_fuzz" -max_len=2048 -timeout=5 -max_total_time="$each" -print_final_stats=1 -dict=tests/fuzz/policy.dict \
  "$out/corpus-policy" 2>&1 | tail -12
echo "fuzz: policy_fuzz ran ${each}s without a finding"
mkdir -p "$out/corpus-json"
printf '{"TableName":"t","Key":{"pk":{"S":"a\\u00e9"},"n":{"N":"-0"}},"L":[1,-2,3.5e-3,true,null,18446744073709551616]}' \
  > "$out/corpus-json/seed"
"$out/json_fuzz" -max_len=4096 -timeout=5 -max_total_time="$each" -print_final_stats=1 "$out/corpus-json" 2>&1 | tail -12
echo "fuzz: json_fuzz ran ${each}s without a finding"
