#!/bin/sh
# run.sh: runs every test suite (each prints TAP) and ends with the line
# "N passed, N failed". A suite that exits non-zero without reporting a
# failing test counts as one failure, so nothing fails silently.
# Usage: sh tests/run.sh [suite-name-substring]
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
filter=${1:-}
LUA=${LUA:-lua5.4}
export LUA
# Hermetic: no cloud credentials of this machine's user or environment
# (the e2e suites that need them start their own services).
export SWRAUTH_METADATA_ENDPOINT=none
unset HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK HUAWEICLOUD_SDK_SECURITY_TOKEN \
  HUAWEICLOUD_SDK_PROJECT_ID HUAWEICLOUD_SDK_IDP_ID HUAWEICLOUD_SDK_ID_TOKEN_FILE \
  HUAWEICLOUD_SDK_CREDENTIALS_FILE HUAWEICLOUD_SDK_IAM_ENDPOINT HC_CONTAINER_CREDENTIALS_FULL_URI \
  HC_CONTAINER_AUTHORIZATION_TOKEN_FILE SWRAUTH_API_ENDPOINT SWRAUTH_TEMPORARY SWRAUTH_DURATION \
  SWRAUTH_AK SWRAUTH_LOGIN_KEY SWRAUTH_CREDENTIALS_FILE 2>/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-tests.XXXXXX")
trap 'rm -rf "$out"' EXIT

passed=0
failed=0
failures=""

run_suite() {
  name=$1; shift
  case $name in *"$filter"*) ;; *) return 0 ;; esac
  echo "# suite: $name"
  "$@" >"$out/log" 2>"$out/err"
  rc=$?
  cat "$out/log"
  if [ -s "$out/err" ]; then sed 's/^/# stderr: /' "$out/err" | tail -n 40; fi
  p=$(grep -c '^ok ' "$out/log")
  f=$(grep -c '^not ok ' "$out/log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "not ok - suite '$name' exited with status $rc without a failing test"
  fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "not ok - suite '$name' ran no test"
  fi
  [ "$f" -gt 0 ] && failures="$failures $name"
  passed=$((passed + p))
  failed=$((failed + f))
}

for t in "$BUILD"/test_*; do
  [ -x "$t" ] || continue
  run_suite "c:$(basename "$t")" "$t"
done

for spec in tests/spec/*_spec.lua; do
  [ -f "$spec" ] || continue
  run_suite "lua:$(basename "$spec" .lua)" busted --lua="$LUA" -o TAP "$spec"
done

run_suite "lint:luacheck" sh tests/lint.sh
run_suite "docs:man-and-completion" sh tests/manpages.sh
run_suite "install:rockspec-and-make" sh tests/install.sh
run_suite "install:dist" sh tests/dist.sh

for e in tests/e2e/*.sh; do
  [ -f "$e" ] || continue
  run_suite "e2e:$(basename "$e" .sh)" sh "$e"
done

# Fuzzing (short pass of every libFuzzer target, committed inputs replayed),
# the C tests and specs against an ASan/UBSan build, and under valgrind.
run_suite "fuzz:libfuzzer" sh tests/fuzz.sh
run_suite "sanitizers:asan-ubsan" sh tests/asan.sh
run_suite "sanitizers:valgrind" sh tests/valgrind.sh

[ -n "$failures" ] && echo "# failing suites:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
