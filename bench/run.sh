#!/bin/sh
# run.sh (`make bench`): swrauth's benchmarks, side by side in one run.
# Prints one Markdown table per section and writes them all to
# build/bench/results.md; with BENCH_UPDATE=1 (the default) they replace
# the part of BENCHMARKS.md between its "bench:begin" and "bench:end"
# markers. Nothing here asserts a time: tests never time anything.
#
#   1. derive: instructions per call (callgrind) against the floor of four
#      SHA-256 block compressions, with luaossl, pure Lua and the vendor's
#      shell pipeline;
#   2. cold start: `swrauth key` and the credential helper's `get` for an
#      SWR host (it derives the key) against the floor, bench/floor.c (C,
#      libcrypto, one HMAC), and the vendor's shell pipeline; where their
#      instructions go, module by module (bench/loaded.lua);
#   3. credential helper `get` for a host it does not serve, against
#      docker-credential-ecr-login;
#   4. `swrauth release` (1 and 5 tags, skopeo) against shell scripts with
#      the key precomputed, over plain HTTP and over HTTPS with token
#      authentication (bench/pipeline.sh);
#   5. derive and parse("image") over 10^6 calls (bench/scaling.lua);
#   6. the helper's `get` answered with a cached temporary login against
#      one deriving the long-term key (bench/temporary.sh).
#
# Wall times are whole processes run by bench/pairtime, interleaved in
# rounds (paired): each ratio is the median of per-round ratios.
# Knobs: BENCH_ROUNDS (cold start and helper, default 40),
# BENCH_PIPELINE_ROUNDS (default 30), BENCH_CALLS (scaling, default 10^6),
# BENCH_SECTIONS (default "1 2 3 4 5 6").
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
B="$ROOT/build/bench"
mkdir -p "$B"
ROUNDS=${BENCH_ROUNDS:-40}
SECTIONS=${BENCH_SECTIONS:-1 2 3 4 5 6}
LUA=${LUA:-lua5.4}
CC=${CC:-cc}
RESULTS="$B/results.md"
: >"$RESULTS"

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
# out: a line of the results (stdout and the results file).
out() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
out_file() { tee -a "$RESULTS" <"$1"; }
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

for tool in valgrind openssl od sed "$LUA" docker-credential-ecr-login skopeo docker-registry; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing: run 'make bench' (tools/deps.sh bench installs it)"
done
[ -f swrauth.so ] && [ -f build/libswrauth.a ] || die "build first: make all"

# ------------------------------------------------------------- helpers
"$CC" -O2 -g -Wall -Wextra -Iinclude -o "$B/ir" bench/ir.c build/libswrauth.a -lcrypto ||
  die "cannot build bench/ir.c"
"$CC" -O2 -Wall -Wextra -o "$B/pairtime" bench/pairtime.c || die "cannot build bench/pairtime.c"
"$CC" -O2 -Wall -Wextra -o "$B/floor" bench/floor.c -lcrypto || die "cannot build bench/floor.c"
PAIRTIME="$B/pairtime"

# The installed form, as a user runs it: make install into a private tree
# (absolute #! line), modules found through LUA_PATH/LUA_CPATH, which puts
# the tree where /usr/local would be in Lua's default search order.
INST="$B/inst"
rm -rf "$INST"
make -s install DESTDIR="$INST" PREFIX=/usr/local >"$B/install.log" 2>&1 || die "make install failed (see $B/install.log)"
IBIN="$INST/usr/local/bin"
export LUA_PATH_5_4="$INST/usr/local/share/lua/5.4/?.lua;$INST/usr/local/share/lua/5.4/?/init.lua;;"
export LUA_CPATH_5_4="$INST/usr/local/lib/lua/5.4/?.so;;"

# A clean environment for the commands timed: no swrauth configuration, an
# empty home (docker-credential-ecr-login writes its log under it).
HOMEDIR="$B/home"
rm -rf "$HOMEDIR"
mkdir -p "$HOMEDIR"
export HOME="$HOMEDIR"
unset XDG_CONFIG_HOME SWRAUTH_PROJECT SWRAUTH_REGISTRY SWRAUTH_ENGINE SWRAUTH_AK \
  SWRAUTH_LOGIN_KEY SWRAUTH_CREDENTIALS_FILE SWRAUTH_HELPER_CONFIG SWRAUTH_HELPER_LOG \
  DOCKER_CONFIG REGISTRY_AUTH_FILE AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION
# A fake pair in the shape of real ones (20 and 40 characters).
AK=RVHVMXEXAMPLEAK00001
SK=exampleSecretAccessKey0123456789abcdefgh
export BENCH_AK="$AK" BENCH_SK="$SK"
VENDOR='printf "%s" "$HUAWEICLOUD_SDK_AK" | openssl dgst -binary -sha256 -hmac "$HUAWEICLOUD_SDK_SK" | od -An -vtx1 | sed '"'"'s/[ \n]//g'"'"' | sed '"'"'N;s/\n//'"'"

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
# What was measured: a commit, and whether the checkout differed from it
# (BENCHMARKS.md aside, which this script rewrites).
dirty=$(git status --porcelain -- . ':!BENCHMARKS.md' 2>/dev/null | wc -l | tr -d ' ')
if [ "$dirty" = 0 ]; then tree="a clean checkout"; else tree="plus $dirty files changed or added in the checkout"; fi
out "Run of $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?') ($tree),"
out "on $(nproc) cores of ${cpu:-an unknown CPU}, $(uname -sr); Lua $($LUA -v 2>&1 | awk '{print $2}'),"
out "$(openssl version | awk '{print "OpenSSL " $2}'), valgrind $(valgrind --version | sed 's/valgrind-//'). Command: \`make bench\` (\`sh bench/run.sh\`)."
out ""

# ----------------------------------------------------- 1. derive (Ir)
# Instructions of a command under callgrind ("Collected", as valgrind
# prints it; with --toggle-collect only inside that function).
ir_total() {
  valgrind --tool=callgrind --callgrind-out-file="$B/callgrind.out" "$@" >"$B/vg.out" 2>"$B/vg.err" ||
    die "valgrind $* failed: $(tail -n 3 "$B/vg.err")"
  sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$B/vg.err" | tail -n 1
}
# per_call N1 N2 ARGS...: (Ir at N2 - Ir at N1) / (N2 - N1), where the
# last word of ARGS is replaced by N1 and N2 (set N as the last argument).
per_call() {
  _n1=$1 _n2=$2
  shift 2
  _a=$(ir_total "$@" "$_n1")
  _b=$(ir_total "$@" "$_n2")
  awk -v a="$_a" -v b="$_b" -v n1="$_n1" -v n2="$_n2" 'BEGIN { printf "%.0f", (b - a) / (n2 - n1) }'
}

if want 1; then
  note "1. derive: instructions per call (callgrind)"
  want_key=$(HUAWEICLOUD_SDK_AK=$AK HUAWEICLOUD_SDK_SK=$SK sh -c "$VENDOR")
  for v in swrauth luaossl pure; do
    got=$("$LUA" bench/derive_loop.lua "$v" 1)
    [ "$got" = "$want_key" ] || die "derive_loop $v gives '$got', the vendor pipeline '$want_key'"
  done
  [ "$("$B/ir" print)" = "$want_key" ] || die "bench/ir derives another key than the vendor pipeline"

  floor=$(per_call 1000 11000 --toggle-collect=bench_floor4 "$B/ir" floor4)
  core=$(per_call 1000 11000 --toggle-collect=bench_core "$B/ir" core)
  oneshot=$(per_call 1000 11000 --toggle-collect=bench_hmac_oneshot "$B/ir" hmac_oneshot)
  lua_sw=$(per_call 1000 11000 "$LUA" bench/derive_loop.lua swrauth)
  lua_call=$(per_call 1000 11000 "$LUA" bench/derive_loop.lua call)
  lua_ossl=$(per_call 200 2200 "$LUA" bench/derive_loop.lua luaossl)
  lua_pure=$(per_call 5 55 "$LUA" bench/derive_loop.lua pure)
  # The vendor's pipeline: every process of one run (sh, printf is a
  # builtin, openssl, od, sed, sed), summed.
  rm -f "$B"/vendor.cg.*
  HUAWEICLOUD_SDK_AK=$AK HUAWEICLOUD_SDK_SK=$SK valgrind --tool=callgrind --trace-children=yes \
    --callgrind-out-file="$B/vendor.cg.%p" sh -c "$VENDOR" >"$B/vg.out" 2>"$B/vg.err" ||
    die "valgrind of the vendor pipeline failed"
  vendor=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$B/vg.err" | awk '{ s += $1 } END { printf "%.0f", s }')
  vendor_procs=$(grep -c 'Collected :' "$B/vg.err")
  native=$("$B/ir" time 200000)
  nat() { echo "$native" | awk -v k="$1" '$1 == k { print $2 }'; }
  # Native time of derive from Lua: the scaling run's first block is
  # noisy; take 10^6 calls here.
  lua_ns=$("$LUA" -e '
    package.cpath = "./?.so;" .. package.cpath
    local d = require("swrauth").derive
    local ak, sk = os.getenv("BENCH_AK"), os.getenv("BENCH_SK")
    local best = math.huge
    for _ = 1, 5 do
      local t = os.clock()
      for _ = 1, 200000 do d(ak, sk) end
      best = math.min(best, (os.clock() - t) / 200000 * 1e9)
    end
    io.write(string.format("%.0f", best))')

  ratio() { awk -v a="$1" -v b="$floor" 'BEGIN { printf "%.2f", a / b }'; }
  met=$(awk -v a="$lua_sw" -v b="$floor" 'BEGIN { print (a / b <= 1.4) ? "yes" : "**no**" }')
  out "### 1. derive: instructions per call"
  out ""
  out "AK of 20 and SK of 40 characters. Ir = instructions counted by \`valgrind --tool=callgrind\`"
  out "(under valgrind OpenSSL takes its AVX2 SHA-256 path); native ns = wall time per call on"
  out "this CPU without valgrind (OpenSSL uses the SHA extensions), best of 5."
  out ""
  out "| implementation | Ir per call | × floor | native ns | how it is counted |"
  out "|---|--:|--:|--:|---|"
  out "| floor: 4 SHA-256 block compressions | $floor | 1.00 | $(nat floor4) | \`bench/ir floor4\`: 4 × \`SHA256_Transform\` on padded blocks, \`--toggle-collect=bench_floor4\` |"
  out "| **\`swrauth.derive\` from Lua** | **$lua_sw** | **$(ratio "$lua_sw")** | $lua_ns | \`bench/derive_loop.lua swrauth N\`: whole process at N = 11000 minus N = 1000, / 10000 (loop, call, result string and GC included) |"
  out "| swrauth core \`swrauth_derive\` from C | $core | $(ratio "$core") | $(nat core) | \`bench/ir core\`, \`--toggle-collect=bench_core\` |"
  out "| a Lua loop calling a C function that does nothing (\`rawequal\`) | $lua_call | $(ratio "$lua_call") | – | \`bench/derive_loop.lua call N\`, as above |"
  out "| OpenSSL's one-shot \`HMAC()\` + hex, from C | $oneshot | $(ratio "$oneshot") | $(nat hmac_oneshot) | \`bench/ir hmac_oneshot\`, \`--toggle-collect=bench_hmac_oneshot\` |"
  out "| luaossl \`hmac.new(sk, \"sha256\"):final(ak)\` + hex in Lua | $lua_ossl | $(ratio "$lua_ossl") | – | \`bench/derive_loop.lua luaossl N\`, N = 2200 minus N = 200 |"
  out "| pure Lua HMAC-SHA256 (\`bench/hmac_pure.lua\`) | $lua_pure | $(ratio "$lua_pure") | – | \`bench/derive_loop.lua pure N\`, N = 55 minus N = 5 |"
  out "| the vendor's shell pipeline, whole processes | $vendor | $(ratio "$vendor") | – | \`valgrind --trace-children=yes sh -c '…'\`, $vendor_procs processes summed |"
  out ""
  out "Target: \`swrauth.derive\` from Lua ≤ 1.4 × the floor: $(ratio "$lua_sw") × — met: $met."
  out ""
fi

# ------------------------------------------------------ 2. cold start
# incl FILE FUNCTION: the inclusive instructions of FUNCTION in a callgrind
# profile (its largest entry), 0 when absent.
incl() {
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
    awk -v f="$2" '{ n = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", n); sub(/ \[.*$/, "", n); sub(/^.*:/, "", n) }
      n == f { gsub(",", "", $1); print $1; found = 1; exit }
      END { if (!found) print 0 }'
}
mi() { awk -v a="$1" 'BEGIN { printf "%.2f M", a / 1e6 }'; }
xf() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# ir_split MODS TOTAL LABEL: one row per module of the list MODS (as
# bench/loaded.lua wrote it), loaded one by one after the interpreter and
# swrauth.so (`lua5.4 -e 'collectgarbage "stop"; require "swrauth";
# require "A"; require "B" …'`): what each adds, the running total and its
# ratio to the floor; then what the command adds to loading them (TOTAL:
# its whole process; LABEL: what that is). The collector is stopped in
# these processes, so that no collection cycle lands at random in one
# module's row: the command's garbage collection is in its last row.
ir_split() {
  _code='collectgarbage "stop"; require "swrauth"'
  _prev=$(ir_total "$LUA" -e "$_code" </dev/null)
  while read -r _m; do
    [ "$_m" = swrauth ] && continue
    _code="$_code; require \"$_m\""
    _cur=$(ir_total "$LUA" -e "$_code" </dev/null)
    case $_m in
      luv) _what="\`luv\` (C: libuv, processes without a shell)" ;;
      lfs) _what="\`lfs\` (C: LuaFileSystem, file locks)" ;;
      *) _what="\`$_m\`" ;;
    esac
    echo "| + $_what | $(mi $((_cur - _prev))) | $(mi "$_cur") | $(xf "$_cur" "$ir_floor") |"
    _prev=$_cur
  done <"$1"
  echo "| + the command itself: $3 | $(mi $(($2 - _prev))) | $(mi "$2") | $(xf "$2" "$ir_floor") |"
}

if want 2; then
  note "2. cold start: swrauth key and the helper's get against the floor ($ROUNDS rounds)"
  export HUAWEICLOUD_SDK_AK=$AK HUAWEICLOUD_SDK_SK=$SK
  SWRHOST=swr.cn-north-4.myhuaweicloud.com
  printf '%s\n' "$SWRHOST" >"$B/swrhost.txt"
  k0=$("$B/floor") || die "bench/floor failed"
  k1=$("$IBIN/swrauth" key) || die "installed swrauth key failed"
  k2=$(sh -c "$VENDOR")
  g=$("$IBIN/docker-credential-swr" get <"$B/swrhost.txt") || die "docker-credential-swr get for $SWRHOST failed: $g"
  # The least a command in Lua can do: the interpreter, swrauth.so, derive, print.
  MINLUA='io.write(require("swrauth").derive(os.getenv("HUAWEICLOUD_SDK_AK"), os.getenv("HUAWEICLOUD_SDK_SK")), "\n")'
  k3=$("$LUA" -e "$MINLUA")
  [ "$k0" = "$k2" ] || die "bench/floor ($k0) and the vendor pipeline ($k2) differ"
  [ "$k3" = "$k2" ] || die "the minimal Lua command ($k3) and the vendor pipeline ($k2) differ"
  [ "$k1" = "$k2" ] || die "swrauth key ($k1) and the vendor pipeline ($k2) differ"
  case $g in
    *"\"Username\":\"cn-north-4@$AK\""*"\"Secret\":\"$k2\""*) ;;
    *) die "docker-credential-swr get for $SWRHOST answered something else than the user and key" ;;
  esac
  "$PAIRTIME" -n "$ROUNDS" -w 3 -i "$B/swrhost.txt" \
    -- floor "$B/floor" \
    -- key "$IBIN/swrauth" key \
    -- get "$IBIN/docker-credential-swr" get \
    -- minlua "$LUA" -e "$MINLUA" \
    -- lua "$LUA" -e '' \
    -- vendor sh -c "$VENDOR" \
    -- keyenv "$ROOT/bin/swrauth" key \
    >"$B/coldstart.raw" || die "pairtime failed"
  # Where a start goes, in instructions (stable, unlike the times above).
  ir_floor=$(ir_total "$B/floor")
  cp "$B/callgrind.out" "$B/floor.cg"
  ir_lua=$(ir_total "$LUA" -e '')
  ir_so=$(ir_total "$LUA" -e 'require "swrauth"')
  cp "$B/callgrind.out" "$B/luaso.cg"
  ir_min=$(ir_total "$LUA" -e "$MINLUA")
  ir_key=$(ir_total "$LUA" "$IBIN/swrauth" key)
  cp "$B/callgrind.out" "$B/key.cg"
  ir_get=$(ir_total "$LUA" "$IBIN/docker-credential-swr" get <"$B/swrhost.txt")
  cp "$B/callgrind.out" "$B/get.cg"
  ir_argparse=$(ir_total "$LUA" -e 'require "argparse"')
  dry() {
    "$@" --project cn-north-4 --registry 127.0.0.1:5000 --insecure --engine skopeo --dry-run \
      release oci:/nonexistent:1.0 --repository bench/app --tag t1
  }
  ir_dry=$(dry ir_total "$LUA" "$IBIN/swrauth")
  # The modules each command loads, in the order their loading finished.
  SWRAUTH_BENCH_LOADED="$B/key.mods" LUA_INIT_5_4="@$ROOT/bench/loaded.lua" \
    "$IBIN/swrauth" key >/dev/null || die "swrauth key with bench/loaded.lua failed"
  SWRAUTH_BENCH_LOADED="$B/get.mods" LUA_INIT_5_4="@$ROOT/bench/loaded.lua" \
    "$IBIN/docker-credential-swr" get <"$B/swrhost.txt" >/dev/null || die "get with bench/loaded.lua failed"
  SWRAUTH_BENCH_LOADED="$B/dry.mods" LUA_INIT_5_4="@$ROOT/bench/loaded.lua" \
    dry "$IBIN/swrauth" >/dev/null || die "swrauth --dry-run release with bench/loaded.lua failed"
  ir_split "$B/key.mods" "$ir_key" "script, arguments, credentials, derive, output" >"$B/key.split"
  ir_split "$B/get.mods" "$ir_get" "script, standard input, credentials, derive, output" >"$B/get.split"
  ir_split "$B/dry.mods" "$ir_dry" "script, parsing the arguments, credentials, derive, planning, output" >"$B/dry.split"
  unset HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK

  out "### 2. Cold start against the floor: \`swrauth key\` and the helper's \`get\` for an SWR host"
  out ""
  out "Whole processes, stdout to /dev/null, credentials in HUAWEICLOUD_SDK_AK/SK, standard input"
  out "\`$SWRHOST\` (read by the helper only; it answers with PROJECT@AK and the key it derives);"
  out "$ROUNDS paired rounds. The floor is \`bench/floor\` (\`bench/floor.c\`, linked with libcrypto:"
  out "one \`HMAC()\` of the AK under the SK, printed in hex): OpenSSL 3's load and initialisation, which"
  out "any command deriving the key pays. The commands are the installed ones (\`make install\`,"
  out "\`#!/usr/bin/lua5.4\`, precompiled modules). The least Lua command is"
  out "\`lua5.4 -e 'io.write(require(\"swrauth\").derive(os.getenv(…), os.getenv(…)), \"\\n\")'\`: the interpreter,"
  out "swrauth.so and the derive, nothing else; what a command written in Lua cannot go below."
  out ""
  "$LUA" bench/stats.lua "$B/coldstart.raw" \
    'floor=floor (`bench/floor`)' \
    'key=`swrauth key` (installed)' \
    'get=`docker-credential-swr get`, SWR host (installed)' \
    "minlua=least Lua command (\`lua5.4 -e\` derive, print)" \
    "lua=bare interpreter (\`lua5.4 -e ''\`)" \
    "vendor=vendor's shell pipeline (\`sh -c '…'\`)" \
    'keyenv=`bin/swrauth key` (checkout, `#!/usr/bin/env lua5.4`)' \
    'key/floor<=1.5' 'get/floor<=1.5' minlua/floor lua/floor key/minlua get/minlua 'key/vendor<=0.5' keyenv/key \
    >"$B/coldstart.md" || die "stats failed"
  out_file "$B/coldstart.md"
  out ""
  out "Instructions (\`valgrind --tool=callgrind\`, whole processes; \`lua5.4 SCRIPT\` for the commands)."
  out "The floor, $(mi "$ir_floor"): of which $(mi "$(incl "$B/floor.cg" HMAC)") in \`HMAC()\` (OpenSSL's"
  out "initialisation: $(mi "$(incl "$B/floor.cg" OPENSSL_init_crypto)") in \`OPENSSL_init_crypto\`; the"
  out "provider, SHA-256's fetch, the MAC) and $(mi "$(incl "$B/floor.cg" _dl_start)") in the dynamic loader at start"
  out "(\`_dl_start\`: mapping and relocating libcrypto)."
  out ""
  out "Each row below adds one module to a \`lua5.4 -e 'collectgarbage \"stop\"; require \"swrauth\"; require \"A\"; …'\`"
  out "process, in the order the command's loading of them finished (recorded by \`bench/loaded.lua\`);"
  out "the last row is the rest of the real command's process (its garbage collection included)."
  out ""
  out "| \`swrauth key\` (installed) | Ir added | running total | × floor |"
  out "|---|--:|--:|--:|"
  out "| bare interpreter (\`lua5.4 -e ''\`) | $(mi "$ir_lua") | $(mi "$ir_lua") | $(xf "$ir_lua" "$ir_floor") |"
  out "| + \`swrauth\` (swrauth.so: dlopen, libcrypto relocated, OpenSSL initialised, SHA-256 fetched) | $(mi $((ir_so - ir_lua))) | $(mi "$ir_so") | $(xf "$ir_so" "$ir_floor") |"
  out_file "$B/key.split"
  out ""
  out "| \`docker-credential-swr get\` for $SWRHOST (installed) | Ir added | running total | × floor |"
  out "|---|--:|--:|--:|"
  out "| bare interpreter (\`lua5.4 -e ''\`) | $(mi "$ir_lua") | $(mi "$ir_lua") | $(xf "$ir_lua" "$ir_floor") |"
  out "| + \`swrauth\` (swrauth.so: dlopen, libcrypto relocated, OpenSSL initialised, SHA-256 fetched) | $(mi $((ir_so - ir_lua))) | $(mi "$ir_so") | $(xf "$ir_so" "$ir_floor") |"
  out_file "$B/get.split"
  out ""
  out "| \`swrauth --dry-run release … --tag t1\` (installed; all a release does but run engines) | Ir added | running total | × floor |"
  out "|---|--:|--:|--:|"
  out "| bare interpreter (\`lua5.4 -e ''\`) | $(mi "$ir_lua") | $(mi "$ir_lua") | $(xf "$ir_lua" "$ir_floor") |"
  out "| + \`swrauth\` (swrauth.so: dlopen, libcrypto relocated, OpenSSL initialised, SHA-256 fetched) | $(mi $((ir_so - ir_lua))) | $(mi "$ir_so") | $(xf "$ir_so" "$ir_floor") |"
  out_file "$B/dry.split"
  out ""
  out "In the profile of \`swrauth key\`: \`luaopen_swrauth\` (OpenSSL's initialisation and SHA-256's fetch)"
  out "$(mi "$(incl "$B/key.cg" luaopen_swrauth)"), \`dlopen\` (swrauth.so, libcrypto, luv, lfs) $(mi "$(incl "$B/key.cg" dlopen@@GLIBC_2.34)"),"
  out "\`luaL_loadfilex\` (reading the script and the precompiled modules) $(mi "$(incl "$B/key.cg" luaL_loadfilex)"),"
  out "\`luaopen_luv\` $(mi "$(incl "$B/key.cg" luaopen_luv)"), and \`derive\` itself (\`l_derive\`)"
  out "$(incl "$B/key.cg" l_derive) instructions."
  out ""
  out "| other processes | Ir | × floor |"
  out "|---|--:|--:|"
  out "| the least a Lua command does (\`lua5.4 -e 'io.write(require(\"swrauth\").derive(…))'\`) | $(mi "$ir_min") | $(xf "$ir_min" "$ir_floor") |"
  out "| \`lua5.4 -e 'require \"argparse\"'\` (every \`swrauth\` command but \`key\` parses with it) | $(mi "$ir_argparse") | $(xf "$ir_argparse" "$ir_floor") |"
  out ""
fi

# --------------------------------------------------- 3. helper `get`
if want 3; then
  note "3. credential helper get for an unserved host ($ROUNDS rounds)"
  printf 'registry.example.com\n' >"$B/host.txt"
  g1=$("$IBIN/docker-credential-swr" get <"$B/host.txt"); r1=$?
  g2=$(docker-credential-ecr-login get <"$B/host.txt" 2>/dev/null); r2=$?
  [ "$r1" = 1 ] && [ "$g1" = "credentials not found in native keychain" ] ||
    die "docker-credential-swr get: exit $r1, '$g1'"
  [ "$r2" != 0 ] || die "docker-credential-ecr-login get answered for registry.example.com: '$g2'"
  "$PAIRTIME" -n "$ROUNDS" -w 3 -i "$B/host.txt" \
    -- swr "$IBIN/docker-credential-swr" get \
    -- ecr docker-credential-ecr-login get \
    -- swrenv "$ROOT/bin/docker-credential-swr" get \
    -- lua "$LUA" -e '' \
    >"$B/helper.raw" || die "pairtime failed"
  out "### 3. Credential helper \`get\` for a registry it does not serve"
  out ""
  out "Standard input \`registry.example.com\`; both answer \"credentials not found in native keychain\""
  out "and exit 1. Empty HOME, no swrauth configuration; $ROUNDS paired rounds."
  out ""
  "$LUA" bench/stats.lua "$B/helper.raw" \
    'swr=`docker-credential-swr get` (installed)' \
    "ecr=\`docker-credential-ecr-login get\` ($(dpkg-query -W -f='${Version}' amazon-ecr-credential-helper 2>/dev/null))" \
    'swrenv=`bin/docker-credential-swr get` (checkout, `#!/usr/bin/env lua5.4`)' \
    "lua=bare interpreter (\`lua5.4 -e ''\`)" \
    'swr/ecr<=0.6' swr/lua ecr/lua swrenv/swr >"$B/helper.md" || die "stats failed"
  out_file "$B/helper.md"
  out ""
fi

# ------------------------------------------------------- 4. pipeline
if want 4; then
  note "4. pipeline: swrauth release against shell scripts (${BENCH_PIPELINE_ROUNDS:-30} rounds)"
  ROOT="$ROOT" BENCH_OUT="$B" PAIRTIME="$PAIRTIME" SWRAUTH_INST="$IBIN/swrauth" \
    sh bench/pipeline.sh >"$B/pipeline.md" || die "bench/pipeline.sh failed"
  out "### 4. Pipeline overhead: \`swrauth release\` with skopeo"
  out ""
  out "\`swrauth --project P --registry HOST:PORT --insecure|--cert-dir DIR --engine skopeo release"
  out "oci:DIR:1.0 --repository bench/SCHEME --tag t1 [--tag t2 … t5]\` (installed; the login and the"
  out "first copy at the same time, tags 2–5 through the registry API by curl: the scheme probe with"
  out "\`--insecure\`, the manifest GET by digest, checked against it, after a 401 challenge the token,"
  out "one curl for all PUTs) against shell scripts with the key precomputed:"
  out "\`bench/release_script_par.sh\`, the best script (the login and the copy at once as swrauth,"
  out "tags 2–5 by curl: a token from the known token URL when the registry wants one, one manifest"
  out "GET, one curl for all PUTs) and \`bench/release_script.sh\`, the vendor's way (login, copy, then"
  out "a registry-to-registry \`skopeo copy\` per further tag). \"one curl process\" is one"
  out "unauthenticated \`GET /v2/\` (answered 401): what each curl process of tags 2–5 costs at least."
  out ""
  out_file "$B/pipeline.md"
  out ""
fi

# -------------------------------------------------------- 5. scaling
if want 5; then
  note "5. scaling: derive and parse(\"image\") over ${BENCH_CALLS:-1000000} calls"
  "$LUA" bench/scaling.lua "${BENCH_CALLS:-1000000}" >"$B/scaling.md" || die "bench/scaling.lua failed"
  out "### 5. Scaling: 10^6 calls from Lua"
  out ""
  out "\`lua5.4 bench/scaling.lua\`: CPU time (os.clock) per block of calls; memory after each block"
  out "(Lua heap after a full collection, resident size from /proc/self/statm)."
  out ""
  out_file "$B/scaling.md"
  out ""
fi

# ------------------------------------------ 6. temporary logins, cached
if want 6; then
  note "6. the helper's get: a cached temporary login against the long-term key ($ROUNDS rounds)"
  ROOT="$ROOT" BENCH_OUT="$B" PAIRTIME="$PAIRTIME" IBIN="$IBIN" LUA="$LUA" BENCH_ROUNDS="$ROUNDS" \
    sh bench/temporary.sh >"$B/temporary.md" || die "bench/temporary.sh failed"
  out "### 6. Credential helper \`get\` with a temporary login from the cache"
  out ""
  out_file "$B/temporary.md"
  out ""
fi

# ------------------------------------------------- BENCHMARKS.md update
if [ "${BENCH_UPDATE:-1}" = 1 ] && [ -f BENCHMARKS.md ] &&
  grep -q '^<!-- bench:begin -->$' BENCHMARKS.md && grep -q '^<!-- bench:end -->$' BENCHMARKS.md; then
  awk -v res="$RESULTS" '
    /^<!-- bench:begin -->$/ { print; while ((getline l < res) > 0) print l; skip = 1; next }
    /^<!-- bench:end -->$/ { skip = 0 }
    !skip { print }' BENCHMARKS.md >"$B/BENCHMARKS.md.new" &&
    cat "$B/BENCHMARKS.md.new" >BENCHMARKS.md && note "updated BENCHMARKS.md"
fi
note "results in $RESULTS"
