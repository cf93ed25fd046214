#!/bin/sh
# fuzz/run.sh: runs the libFuzzer targets (build them first: make
# fuzz-build), as TAP, one line per target.
#
#   sh fuzz/run.sh [target...]           fuzz each for FUZZ_TIME s (60)
#   sh fuzz/run.sh --replay [target...]  run the committed inputs once
#
# Fuzzing: FUZZ_JOBS targets at a time (default: the number of CPUs), each
# growing a corpus in $FUZZ_CORPUS/<target> (default fuzz/corpus-run, not
# committed) seeded from fuzz/corpus/<target> and fuzz/regressions/<target>,
# with fuzz/dict/<target>.dict when there is one. The line gives the
# executions, the rate, the coverage and the corpus size. A crash or a
# violated property is "not ok", with the report, the input saved as
# $FUZZ_CORPUS/<target>-crash-<sha1> and the command that replays it.
# Replaying: every file of fuzz/corpus/<target> and fuzz/regressions/<target>
# once (the regression test for everything fuzzing found).
# FUZZ_BIN: the targets' directory (default build/fuzz).
set -u
cd "$(dirname "$0")/.." || exit 1
BIN=${FUZZ_BIN:-build/fuzz}
TIME=${FUZZ_TIME:-60}
CORPUS=${FUZZ_CORPUS:-fuzz/corpus-run}
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Options per target: inputs long enough to reach every length limit.
opts_for() {
  case $1 in
    fuzz_parse_login) echo "-max_len=9000" ;;
    fuzz_parse_credentials) echo "-max_len=9000" ;;
    fuzz_format) echo "-max_len=12000" ;;
    fuzz_parse_image) echo "-max_len=2100" ;;
    fuzz_derive) echo "-max_len=3100" ;;
    *) echo "-max_len=4096" ;;
  esac
}

# --one MODE OUT TARGET: one target, verdict (TAP without its number) in
# OUT/TARGET.res, details in OUT/TARGET.det. Run by xargs.
if [ "${1:-}" = --one ]; then
  mode=$2 out=$3 t=$4
  exe=$BIN/$t
  seeds=""
  for d in fuzz/corpus/$t fuzz/regressions/$t; do
    [ -d "$d" ] && seeds="$seeds $d"
  done
  if [ ! -x "$exe" ]; then
    echo "not ok - $t: $exe is not built (make fuzz-build)" >"$out/$t.res"
    exit 0
  fi
  if [ "$mode" = replay ]; then
    files=$(for d in $seeds; do find "$d" -type f; done | sort)
    count=$(printf '%s\n' "$files" | grep -c .)
    # shellcheck disable=SC2086
    if [ "$count" -eq 0 ]; then
      echo "not ok - $t: no input to replay" >"$out/$t.res"
    elif "$exe" -timeout=10 -rss_limit_mb=2048 $files >"$out/$t.log" 2>&1; then
      echo "ok - $t: replayed $count committed inputs (corpus and regressions)" >"$out/$t.res"
    else
      echo "not ok - $t: replaying the committed inputs failed" >"$out/$t.res"
      { grep -E 'Running:|PROPERTY|ERROR|SUMMARY|runtime error' "$out/$t.log" | tail -n 20; } |
        sed 's/^/# /' >"$out/$t.det"
    fi
    exit 0
  fi
  mkdir -p "$CORPUS/$t"
  dict=""
  [ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
  # shellcheck disable=SC2046,SC2086
  "$exe" -max_total_time="$TIME" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    $(opts_for "$t") $dict -artifact_prefix="$CORPUS/$t-" "$CORPUS/$t" $seeds \
    >"$out/$t.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$out/$t.log" | tail -n 1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$out/$t.log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$out/$t.log" | tail -n 1)
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' "$out/$t.log" | tail -n 1)
  if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
    rate=$((execs / (${secs:-$TIME} > 0 ? ${secs:-$TIME} : 1)))
    echo "ok - $t: $execs executions in ${secs:-$TIME} s ($rate/s), coverage ${cov:-?} edges, corpus ${corp:-?} inputs" >"$out/$t.res"
  else
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out/$t.log" | tail -n 1)
    echo "not ok - $t: found a failure after ${execs:-?} executions (exit $rc)" >"$out/$t.res"
    {
      grep -E 'PROPERTY VIOLATED|ERROR:|SUMMARY|runtime error|^ *#[0-9] ' "$out/$t.log" | head -n 30
      [ -n "$crash" ] && echo "input saved as $crash; replay: $exe $crash"
      [ -n "$crash" ] && echo "add it to fuzz/regressions/$t/ once fixed"
    } | sed 's/^/# /' >"$out/$t.det"
  fi
  exit 0
fi

mode=fuzz
if [ "${1:-}" = --replay ]; then
  mode=replay
  shift
fi
targets=$*
[ -n "$targets" ] || targets=$(for f in fuzz/fuzz_*.c; do basename "$f" .c; done)
out=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-fuzz.XXXXXX")
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2086
printf '%s\n' $targets | FUZZ_BIN=$BIN FUZZ_TIME=$TIME FUZZ_CORPUS=$CORPUS \
  xargs -P "$JOBS" -n 1 sh fuzz/run.sh --one "$mode" "$out"
n=0
fail=0
for t in $targets; do
  n=$((n + 1))
  if [ ! -f "$out/$t.res" ]; then
    fail=1
    echo "not ok $n - $t: did not run"
    continue
  fi
  res=$(cat "$out/$t.res")
  case $res in
    not*) fail=1; echo "not ok $n ${res#not ok }"; [ -f "$out/$t.det" ] && cat "$out/$t.det" ;;
    *) echo "ok $n ${res#ok }" ;;
  esac
done
echo "1..$n"
exit $fail
