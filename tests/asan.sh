#!/bin/sh
# asan.sh: the C unit tests and every busted spec against the ASan+UBSan
# build (build/asan/, see the Makefile's asan-build), as TAP: one line per
# C test binary and per spec file, "not ok" when any test in it fails or
# the sanitizers report anything (ASan and UBSan abort the process).
#
# lua5.4 itself is not instrumented, so the ASan runtime is preloaded: a
# wrapper named lua5.4 first on PATH preloads it into every lua5.4 the
# specs start (bin/swrauth, docker-credential-swr, lua -e ...), followed by
# build/asan/noinherit.so, which removes LD_PRELOAD again so that the
# processes lua starts (sh, openssl, fake engines) run without ASan at
# their usual speed. build/asan/swrauth.so is preloaded too, so that lua
# never unloads it and leak reports at exit name its functions (require
# gets that same object). The specs run from build/asan/tree, a directory of
# symlinks to the checkout whose swrauth.so is the ASan build: the specs'
# "./?.so" (.busted) and bin/swrauth's "<root>/?.so" both find it there.
# ASan's leak checker is on everywhere (lua5.4 frees its state at exit, so
# what it reports is a leak; tests/valgrind.sh checks definite leaks too).
# Usage: sh tests/asan.sh [spec-or-binary-name-substring]
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
A=$ROOT/$BUILD/asan
LUA=${LUA:-lua5.4}
filter=${1:-}
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }

# Build (make asan-check has done it; tests/run.sh has not).
out=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-asan.XXXXXX")
trap 'rm -rf "$out"' EXIT
if ! make --no-print-directory -s WERROR=-Werror asan-build >"$out/build.log" 2>&1; then
  notok "build the ASan/UBSan variant (make asan-build)"
  sed 's/^/# /' "$out/build.log" | tail -n 30
  echo "1..$n"
  exit 1
fi

CCA=${ASAN_CC:-gcc}
RT=$($CCA -print-file-name=libasan.so)
case $RT in
  /*) ;;
  *) notok "find the ASan runtime ($CCA -print-file-name=libasan.so gave '$RT')"; echo "1..$n"; exit 1 ;;
esac
REAL_LUA=$(command -v "$LUA") || { notok "$LUA not found"; echo "1..$n"; exit 1; }

# ASan/UBSan reports go to stderr; a report aborts the process.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# --- the C unit tests ---------------------------------------------------------
for t in "$A"/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  case $name in *"$filter"*) ;; *) continue ;; esac
  "$t" >"$out/log" 2>"$out/err"
  rc=$?
  p=$(grep -c '^ok ' "$out/log")
  f=$(grep -c '^not ok ' "$out/log")
  if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ] && ! grep -q 'Sanitizer\|runtime error' "$out/err"; then
    ok "asan: c:$name ($p tests)"
  else
    notok "asan: c:$name (exit $rc, $p passed, $f failed)"
    grep '^not ok' "$out/log" | sed 's/^/# /' | head -n 10
    sed 's/^/# /' "$out/err" | head -n 40
  fi
done

# --- the busted specs --------------------------------------------------------
TREE=$A/tree
mkdir -p "$TREE" "$A/bin"
for e in "$ROOT"/* "$ROOT"/.busted; do
  b=$(basename "$e")
  case $b in swrauth.so|build) continue ;; esac
  ln -sfn "$e" "$TREE/$b"
done
ln -sfn ../swrauth.so "$TREE/swrauth.so"
cat >"$A/bin/$LUA" <<WRAP
#!/bin/sh
LD_PRELOAD="$RT $A/noinherit.so $A/swrauth.so\${LD_PRELOAD:+ \$LD_PRELOAD}" exec "$REAL_LUA" "\$@"
WRAP
chmod +x "$A/bin/$LUA"
BUSTED=$(command -v busted) || { notok "busted not found"; echo "1..$n"; exit 1; }

# The module the specs load is the ASan one, and it has ASan in it.
if ! (cd "$TREE" && PATH="$A/bin:$PATH" "$LUA" -e '
    package.cpath = "./?.so;" .. package.cpath
    local p = assert(package.searchpath("swrauth", package.cpath))
    assert(require("swrauth").derive("AK", "SK"))
    io.write(p)' >"$out/log" 2>"$out/err") ||
   ! nm -D "$A/swrauth.so" | grep -q '__asan_init'; then
  notok "asan: the specs load build/asan/swrauth.so"
  sed 's/^/# /' "$out/log" "$out/err" | head -n 20
else
  ok "asan: the specs load the ASan build ($(cat "$out/log") from build/asan/tree)"
fi

for spec in tests/spec/*_spec.lua; do
  [ -f "$spec" ] || continue
  name=$(basename "$spec" .lua)
  case $name in *"$filter"*) ;; *) continue ;; esac
  start=$(date +%s)
  (cd "$TREE" && PATH="$A/bin:$PATH" "$LUA" "$BUSTED" --ignore-lua -o TAP "$spec") \
    >"$out/log" 2>"$out/err"
  rc=$?
  secs=$(($(date +%s) - start))
  p=$(grep -c '^ok ' "$out/log")
  f=$(grep -c '^not ok ' "$out/log")
  if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ] &&
     ! grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$out/err"; then
    ok "asan: lua:$name ($p tests, ${secs} s)"
  else
    notok "asan: lua:$name (exit $rc, $p passed, $f failed, ${secs} s)"
    grep -A 3 '^not ok' "$out/log" | sed 's/^/# /' | head -n 30
    grep -B 2 -A 30 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$out/err" |
      sed 's/^/# /' | head -n 60
  fi
done
echo "1..$n"
exit $fail
