#!/bin/sh
# valgrind.sh: the C unit tests and every busted spec under valgrind
# memcheck, as TAP: one line per binary and per spec file, "not ok" when a
# test fails, memcheck reports any error, or any block is definitely lost.
# Only the traced process is checked (--trace-children=no): the C test, or
# lua5.4 running busted with the spec and swrauth.so (the normal -O2 -g
# build); the processes the specs start (sh, openssl, fake engines, the
# swrauth command) are not traced.
# Specs run VALGRIND_JOBS at a time (default: the number of CPUs), the
# biggest first; results are printed in order.
# Tests that check wall-clock timing of the processes the specs start
# cannot hold under valgrind (lua runs 20-50 times slower): those named by
# the Lua pattern VALGRIND_FILTER_OUT are left out here (they run in the
# normal and the ASan suites). A spec whose tests fail with no memcheck
# error is run once more, alone, and its line says so.
# Usage: sh tests/valgrind.sh [spec-or-binary-name-substring]
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
LUA=${LUA:-lua5.4}
filter=${1:-}
[ "$filter" = --one ] && filter=""
jobs_max=${VALGRIND_JOBS:-$(nproc 2>/dev/null || echo 2)}
# pipeline_spec: the third attempt must finish within a 0.3 s timeout.
FILTER_OUT=${VALGRIND_FILTER_OUT:-stops an attempt at the timeout and retries it}

if ! command -v valgrind >/dev/null 2>&1; then
  echo "not ok 1 - valgrind is missing (apt-get install valgrind)"
  echo "1..1"
  exit 1
fi
BUSTED=$(command -v busted) || { echo "not ok 1 - busted not found"; echo "1..1"; exit 1; }
if [ "${1:-}" != --one ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-valgrind.XXXXXX")
  trap 'rm -rf "$out"' EXIT
fi

VG="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
  --show-leak-kinds=definite --errors-for-leak-kinds=definite
  --trace-children=no --num-callers=30 --keep-debuginfo=yes"

# run_one KEY LABEL CMD...: runs CMD under memcheck, writes the TAP verdict
# (without its number) to $out/KEY.res and details to $out/KEY.det.
run_one() {
  key=$1 label=$2
  shift 2
  start=$(date +%s)
  $VG --log-file="$out/$key.vg" "$@" >"$out/$key.log" 2>"$out/$key.err"
  rc=$?
  secs=$(($(date +%s) - start))
  p=$(grep -c '^ok ' "$out/$key.log")
  f=$(grep -c '^not ok ' "$out/$key.log")
  errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9][0-9]*\) error.*/\1/p' "$out/$key.vg" | tail -n 1)
  lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$out/$key.vg" | tail -n 1)
  [ -n "$lost" ] || lost=0
  if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ] && [ "${errs:-x}" = 0 ] && [ "$lost" = 0 ]; then
    echo "ok - valgrind: $label ($p tests, 0 errors, 0 bytes definitely lost, ${secs} s)" >"$out/$key.res"
  else
    echo "not ok - valgrind: $label (exit $rc, $p passed, $f failed, ${errs:-?} errors, $lost bytes definitely lost, ${secs} s)" >"$out/$key.res"
    {
      grep -A 3 '^not ok' "$out/$key.log" | head -n 30
      tail -n 20 "$out/$key.err"
      grep -v '^==[0-9]*== *$' "$out/$key.vg" | grep -A 40 'Invalid\|uninitialised\|definitely lost in\|Mismatched\|overlap\|Syscall param' | head -n 80
    } | sed 's/^/# /' >"$out/$key.det"
    # Tests failed but memcheck found nothing: a timing test starved under
    # valgrind (two at a time on two CPUs). Retried alone, once, below.
    if [ "$f" -gt 0 ] && [ "${errs:-x}" = 0 ] && [ "$lost" = 0 ] && [ "$rc" -ne 99 ]; then
      echo "$f" >"$out/$key.retry"
    fi
  fi
}

# One item, as xargs starts it: c:PATH (a C test) or lua:PATH (a spec).
if [ "${1:-}" = --one ]; then
  out=$2
  trap - EXIT
  case $3 in
    c:*) t=${3#c:}; run_one "c_$(basename "$t")" "c:$(basename "$t")" "$t" ;;
    lua:*) s=${3#lua:}; n=$(basename "$s" .lua)
           run_one "lua_$n" "lua:$n" "$LUA" "$BUSTED" --ignore-lua --filter-out="$FILTER_OUT" -o TAP "$s" ;;
  esac
  exit 0
fi

items=""
keys=""
for t in "$BUILD"/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  case $name in *"$filter"*) ;; *) continue ;; esac
  items="$items c:$t"
  keys="$keys c_$name"
done
# Biggest spec files first: they take longest.
for spec in $(ls -S tests/spec/*_spec.lua 2>/dev/null); do
  name=$(basename "$spec" .lua)
  case $name in *"$filter"*) items="$items lua:$spec" ;; esac
done
for spec in tests/spec/*_spec.lua; do
  name=$(basename "$spec" .lua)
  case $name in *"$filter"*) keys="$keys lua_$name" ;; esac
done
# shellcheck disable=SC2086
[ -n "$items" ] && printf '%s\n' $items |
  xargs -P "$jobs_max" -n 1 sh tests/valgrind.sh --one "$out"

# Specs whose tests (not memcheck) failed under load run again, alone; the
# line says so. A memcheck error or a definite leak is never retried.
for key in $keys; do
  [ -f "$out/$key.retry" ] || continue
  first=$(cat "$out/$key.retry")
  rm -f "$out/$key.retry"
  name=${key#lua_}
  case $key in lua_*) run_one "$key" "lua:$name" "$LUA" "$BUSTED" --ignore-lua --filter-out="$FILTER_OUT" -o TAP "tests/spec/$name.lua" ;;
               c_*) run_one "$key" "c:${key#c_}" "$BUILD/${key#c_}" ;; esac
  rm -f "$out/$key.retry"
  res=$(cat "$out/$key.res")
  echo "${res%)}; run again alone: $first failed in the first run, with 0 memcheck errors)" >"$out/$key.res"
done

n=0
fail=0
for key in $keys; do
  [ -f "$out/$key.res" ] || continue
  n=$((n + 1))
  res=$(cat "$out/$key.res")
  case $res in not*) fail=1; echo "not ok $n ${res#not ok }"; cat "$out/$key.det" ;;
               *) echo "ok $n ${res#ok }" ;; esac
done
echo "1..$n"
exit $fail
