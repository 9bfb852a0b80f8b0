#!/usr/bin/env bash
# Runs the stratus benchmarks and prints one summary table (also bench/results/latest.md).
#
#   bash bench/run.sh                 # every benchmark in bench/ (*.py, *.sh except this file)
#   bash bench/run.sh startup         # only the named ones (report not written unless BENCH_OUT)
#
# Builds nothing: measures $STRATUS_BIN (default build/emulator/stratus), copied to a
# scratch dir first so that a rebuild during the run cannot change it mid-way.
# Environment: BENCH_DURATION (wrk seconds, default 10), BENCH_WARMUP (default 2),
# BENCH_TIMEOUT (seconds per benchmark; default 30 + 4 * BENCH_DURATION, or what the
# benchmark's `# bench-timeout:` header says, see bench/README.md),
# BENCH_STRICT=1 (exit 1 when a target is missed), PYTHON (default python3),
# BENCH_OUT (report file; default bench/results/latest.md for a full run, none for a partial one).
# Needs wrk and nginx: scripts/setup.sh --bench installs them.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
PYTHON=${PYTHON:-python3}
BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_DURATION=${BENCH_DURATION%s}
BENCH_WARMUP=${BENCH_WARMUP:-2}
BENCH_WARMUP=${BENCH_WARMUP%s}
[[ $BENCH_DURATION =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_DURATION must be whole seconds" >&2; exit 2; }
[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || { echo "BENCH_WARMUP must be whole seconds" >&2; exit 2; }
USER_TIMEOUT=${BENCH_TIMEOUT:-}
[[ -z $USER_TIMEOUT || $USER_TIMEOUT =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_TIMEOUT must be whole seconds" >&2; exit 2; }
SRC_BIN=${STRATUS_BIN:-$REPO/build/emulator/stratus}

export PATH=$PATH:/usr/sbin  # Debian puts nginx there; not on a non-root user's PATH
for tool in wrk nginx "$PYTHON" timeout; do
  command -v "$tool" >/dev/null || {
    echo "bench: '$tool' not found (scripts/setup.sh --bench installs wrk and nginx)" >&2; exit 2; }
done
[[ -x $SRC_BIN ]] || { echo "bench: no stratus binary at $SRC_BIN (build it or set STRATUS_BIN)" >&2; exit 2; }

# ------------------------------------------------------------------ cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stratus-bench.XXXXXX")
PG=""   # process group of the running benchmark (led by `timeout`), empty between runs
cleanup() {
  if [[ -n $PG ]]; then
    kill -TERM -- "-$PG" 2>/dev/null || true
    sleep 0.5
    kill -KILL -- "-$PG" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Snapshot the binary (the build dir may be relinked while we measure).
STRATUS_BIN=$WORK/stratus
SRC_MTIME=$(date -r "$SRC_BIN" '+%Y-%m-%d %H:%M:%S')  # of the copy, not of a later relink
cp "$SRC_BIN" "$STRATUS_BIN"
"$STRATUS_BIN" --version >/dev/null 2>&1 || {
  echo "bench: $SRC_BIN does not run (still being linked?)" >&2; exit 2; }
export STRATUS_BIN BENCH_DURATION BENCH_WARMUP
RESULTS=$WORK/results.tsv
: >"$RESULTS"

# ------------------------------------------------------------------ which benchmarks
mapfile -t ALL < <(cd "$BENCH_DIR" && ls -1 -- *.py *.sh 2>/dev/null | grep -vx 'run.sh' | sort)
if (($#)); then
  SELECTED=()
  for want in "$@"; do
    hit=""
    for f in "${ALL[@]}"; do [[ ${f%.*} == "$want" || $f == "$want" ]] && hit=$f; done
    [[ -n $hit ]] || { echo "bench: no benchmark '$want' (have: ${ALL[*]})" >&2; exit 2; }
    SELECTED+=("$hit")
  done
else
  SELECTED=("${ALL[@]}")
fi

# ------------------------------------------------------------------ node baselines
# Peers that come from npm (dynalite) are pinned in bench/package-lock.json and installed
# into bench/node_modules (git-ignored) when missing or older than the lock file. A failed
# install is only a warning: the benchmark then reports those baselines as missing.
if [[ -f $BENCH_DIR/package-lock.json ]] && command -v npm >/dev/null &&
   [[ ! -f $BENCH_DIR/node_modules/.package-lock.json ||
      $BENCH_DIR/package-lock.json -nt $BENCH_DIR/node_modules/.package-lock.json ]]; then
  echo "bench: installing the npm baselines (npm ci in bench/)" >&2
  (cd "$BENCH_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2) ||
    echo "bench: WARNING: npm ci failed; the npm baselines will be reported as missing" >&2
fi

# Seconds one benchmark may take: $BENCH_TIMEOUT if set; else the file's header
#   # bench-timeout: S + N runs          S + N * (BENCH_DURATION + BENCH_WARMUP) * 2
#   # bench-timeout-extra VAR: X         plus X while $VAR is set and not 0
# else 30 + 4 * BENCH_DURATION.
timeout_for() {
  local file=$1 t line var extra s n
  if [[ -n $USER_TIMEOUT ]]; then echo "$USER_TIMEOUT"; return; fi
  line=$(grep -m1 -E '^# bench-timeout: [0-9]+ \+ [0-9]+ runs$' "$file" || true)
  if [[ -n $line ]]; then
    read -r _ _ s _ n _ <<<"$line"
    t=$((s + n * (BENCH_DURATION + BENCH_WARMUP) * 2))
  else
    t=$((30 + 4 * BENCH_DURATION))
  fi
  while read -r _ _ var extra; do
    var=${var%:}
    [[ $var =~ ^[A-Z_][A-Z0-9_]*$ && $extra =~ ^[0-9]+$ ]] || continue
    [[ -n ${!var:-} && ${!var} != 0 ]] && t=$((t + extra))
  done < <(grep -E '^# bench-timeout-extra [A-Z_][A-Z0-9_]*: [0-9]+$' "$file" || true)
  echo "$t"
}

# ------------------------------------------------------------------ run
now() { date +%s.%N; }
# Noise detector: CPU time the whole machine spent in user+system mode during the run,
# minus what this script's own (waited-for) descendants used = other people's load.
machine_ticks() { awk '/^cpu /{ print $2 + $3 + $4; exit }' /proc/stat; }
own_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$$/stat"; }
M0=$(machine_ticks)
O0=$(own_ticks)
T_START=$(now)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
FAILED=()
echo "bench: $(basename "$SRC_BIN") from $SRC_BIN; wrk ${BENCH_DURATION}s (+${BENCH_WARMUP}s warm-up); load avg $LOAD_BEFORE" >&2
for f in "${SELECTED[@]}"; do
  name=${f%.*}
  mkdir -p "$WORK/$name"
  case $f in
    *.py) cmd=("$PYTHON" "$BENCH_DIR/$f") ;;
    *.sh) cmd=(bash "$BENCH_DIR/$f") ;;
  esac
  BENCH_TIMEOUT=$(timeout_for "$BENCH_DIR/$f")
  echo "== $name (killed after ${BENCH_TIMEOUT}s)" >&2
  t0=$(now)
  # `timeout` puts itself and the benchmark into a new process group whose id is its pid,
  # so one group kill reaches every server the benchmark started, even if it crashed.
  BENCH_TMP=$WORK/$name BENCH_RESULTS=$RESULTS \
    timeout -k 5 "$BENCH_TIMEOUT" "${cmd[@]}" </dev/null &
  PG=$!
  rc=0
  wait "$PG" || rc=$?
  kill -KILL -- "-$PG" 2>/dev/null || true   # leftovers of a crashed benchmark
  PG=""
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}')
  if ((rc != 0)); then
    FAILED+=("$name")
    [[ $rc == 124 ]] && why="timed out after ${BENCH_TIMEOUT}s" || why="exit $rc"
    printf 'note\t%s\tFAILED (%s)\n' "$name" "$why" >>"$RESULTS"
    echo "   $name FAILED ($why) after ${secs}s" >&2
  else
    echo "   $name done in ${secs}s" >&2
  fi
done
TOTAL=$(awk -v a="$T_START" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}')
FOREIGN=$(awk -v m="$(( $(machine_ticks) - M0 ))" -v o="$(( $(own_ticks) - O0 ))" \
  -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" -v t="$TOTAL" \
  'BEGIN { f = (m - o) / hz; if (f < 0) f = 0; printf "%.1f %.0f", f, 100 * f / (n * t) }')
FOREIGN_S=${FOREIGN% *}
FOREIGN_PCT=${FOREIGN#* }
if ((FOREIGN_PCT >= 5)); then
  NOISE="**other processes used ${FOREIGN_S} CPU-s during the run (${FOREIGN_PCT} % of the machine): numbers are not reliable, rerun on an idle machine**"
  echo "bench: WARNING: other processes used ${FOREIGN_S} CPU-s (${FOREIGN_PCT} %) during the run" >&2
else
  NOISE="other processes used ${FOREIGN_S} CPU-s during the run (${FOREIGN_PCT} % of the machine)"
fi

# ------------------------------------------------------------------ report
# Ratio = stratus / baseline. Target: "ratio OP N" or "stratus OP N". Columns are padded
# so that the markdown table also reads well in a terminal.
TABLE=$(awk -F'\t' '
  function isnum(x) { return x ~ /^-?[0-9]+(\.[0-9]+)?$/ }
  function check(t, s, r,   a, v, op, n) {
    if (t == "") return ""
    if (t !~ /^(ratio|stratus)(>=|<=|>|<)[0-9]+(\.[0-9]+)?$/) return "?"
    split(t, a, /(>=|<=|>|<)/)
    op = substr(t, length(a[1]) + 1, length(t) - length(a[1]) - length(a[2]))
    v = (a[1] == "ratio") ? r : s
    if (!isnum(v)) return "n/a"
    v += 0; n = a[2] + 0
    if ((op == ">=" && v >= n) || (op == "<=" && v <= n) || (op == ">" && v > n) || (op == "<" && v < n)) return "ok"
    miss++
    return "MISS"
  }
  function add(   i) { rows++; for (i = 1; i <= 8; i++) { cell[rows, i] = c[i]; if (length(c[i]) > w[i]) w[i] = length(c[i]) } }
  BEGIN {
    split("benchmark|metric|stratus|baseline|baseline value|stratus/baseline|target|result", c, "|"); add()
  }
  $1 == "row" {
    t = $7; gsub(/ /, "", t)
    r = (isnum($4) && isnum($6) && $6 + 0 != 0) ? sprintf("%.2f", $4 / $6) : ""
    c[1] = $2; c[2] = $3; c[3] = $4; c[4] = $5; c[5] = $6; c[6] = r; c[7] = t; c[8] = check(t, $4, r)
    add()
  }
  END {
    for (j = 1; j <= rows; j++) {
      line = "|"
      for (i = 1; i <= 8; i++) {
        right = (i == 3 || i == 5 || i == 6)
        line = line " " sprintf(right ? "%" w[i] "s" : "%-" w[i] "s", cell[j, i]) " |"
      }
      print line
      if (j == 1) {
        line = "|"
        for (i = 1; i <= 8; i++) { d = ""; for (k = 0; k < w[i]; k++) d = d "-"; if (i == 3 || i == 5 || i == 6) d = substr(d, 2) ":"; line = line " " d " |" }
        print line
      }
    }
    if (miss) print "MISSED " miss > "/dev/stderr"
  }
' "$RESULTS" 2>"$WORK/miss")
NOTES=$(awk -F'\t' '$1 == "note" { print "- " $2 ": " $3 }' "$RESULTS")
MISSED=$(sed -n 's/^MISSED //p' "$WORK/miss")

sha=$(sha256sum "$STRATUS_BIN" | cut -c1-12)
mtime=$SRC_MTIME
head=$(git -C "$REPO" --no-optional-locks rev-parse --short HEAD 2>/dev/null || echo "?")
dirty=$(git -C "$REPO" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null | head -c1)
version=$("$STRATUS_BIN" --version 2>/dev/null | head -n1 || echo "?")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)

REPORT=$(cat <<EOF
# stratus benchmarks

$(date -u '+%Y-%m-%d %H:%M UTC'); whole run ${TOTAL}s

- stratus: \`$version\` (sha256 $sha, built $mtime), repo $head${dirty:+ + uncommitted changes}
- machine: $(nproc) CPU(s), ${cpu:-unknown CPU}, Linux $(uname -r); load average before: $LOAD_BEFORE
- noise: $NOISE
- tools: $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | sed 's/.*: //'), $("$PYTHON" --version 2>&1)
- settings: BENCH_DURATION=${BENCH_DURATION}s, BENCH_WARMUP=${BENCH_WARMUP}s; ratio = stratus / baseline

$TABLE
${NOTES:+
$NOTES}
EOF
)

# A run of only some benchmarks must not replace the full report: it goes to $BENCH_OUT
# if set, else only to the terminal.
if (($#)); then OUT=${BENCH_OUT:-}; else OUT=${BENCH_OUT:-$BENCH_DIR/results/latest.md}; fi
echo >&2
printf '%s\n' "$REPORT"
echo >&2
if [[ -n $OUT ]]; then
  mkdir -p "$(dirname "$OUT")"
  printf '%s\n' "$REPORT" >"$OUT"
  where="written to ${OUT#"$REPO"/}"
else
  where="partial run, not written (set BENCH_OUT to keep it)"
fi
echo "bench: $where; ${TOTAL}s${MISSED:+; $MISSED target(s) missed}${FAILED[*]:+; FAILED: ${FAILED[*]}}" >&2

((${#FAILED[@]} == 0)) || exit 1
[[ ${BENCH_STRICT:-0} != 1 || -z $MISSED ]] || exit 1
