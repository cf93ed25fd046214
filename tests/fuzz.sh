#!/bin/sh
# fuzz.sh: the fuzzing suite of make check, as TAP. Builds the libFuzzer
# targets (make fuzz-build: clang, ASan, UBSan), replays every committed
# input (fuzz/corpus/<target> and fuzz/regressions/<target>) through its
# target, then fuzzes each target for FUZZ_SHORT_TIME seconds (default 15)
# from those seeds into a throw-away corpus. One line per target and
# phase; the fuzzing lines give the executions. See fuzz/README.md.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
log=$(mktemp "${TMPDIR:-/tmp}/swrauth-fuzz-build.XXXXXX")
corpus=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-fuzz-corpus.XXXXXX")
trap 'rm -rf "$log" "$log.replay" "$log.fuzz" "$corpus"' EXIT

if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
  echo "not ok 1 - ${FUZZ_CC:-clang} is missing (sh tools/deps.sh fuzz)"
  echo "1..1"
  exit 1
fi
if ! make --no-print-directory -s WERROR=-Werror fuzz-build >"$log" 2>&1; then
  echo "not ok 1 - build the fuzz targets (make fuzz-build)"
  sed 's/^/# /' "$log" | tail -n 30
  echo "1..1"
  exit 1
fi

FUZZ_BIN=$BUILD/fuzz sh fuzz/run.sh --replay | sed -n 's/^\(not \)\{0,1\}ok [0-9]* - /&replay: /p; /^#/p' >"$log.replay"
FUZZ_BIN=$BUILD/fuzz FUZZ_TIME=${FUZZ_SHORT_TIME:-15} FUZZ_CORPUS=$corpus sh fuzz/run.sh |
  sed -n 's/^\(not \)\{0,1\}ok [0-9]* - /&fuzz: /p; /^#/p' >"$log.fuzz"
# Renumber the two phases as one plan.
cat "$log.replay" "$log.fuzz" | awk '
  /^(not )?ok [0-9]+ - / { n++; sub(/ok [0-9]+ - /, "ok " n " - "); print; next }
  { print }
  END { print "1.." n }' >"$log.all"
rm -f "$log.replay" "$log.fuzz"
cat "$log.all"
! grep -q '^not ok' "$log.all"
rc=$?
rm -f "$log.all"
exit $rc
