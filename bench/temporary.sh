#!/bin/sh
# temporary.sh (section 6 of bench/run.sh): the credential helper's `get`
# for an SWR host answered with a temporary login from its cache, against
# the same `get` deriving the long-term key, and against a `get` that asks
# the API (the cache empty). The credentials of the temporary login come
# from the instance metadata of tests/e2e/hwmock.lua (on loopback), which
# also answers CreateSecret; a cached `get` asks neither.
#
# Environment: ROOT, BENCH_OUT (work directory), PAIRTIME, IBIN (installed
# bin directory), LUA, BENCH_ROUNDS. Prints Markdown on stdout.
set -u
B="$BENCH_OUT/temporary"
rm -rf "$B"
mkdir -p "$B/state" "$B/cache"
ROUNDS=${BENCH_ROUNDS:-40}
LUA=${LUA:-lua5.4}
die() { echo "bench/temporary.sh: $*" >&2; exit 1; }

AK=RVHVMXEXAMPLEAK00001
SK=exampleSecretAccessKey0123456789abcdefgh
HOST=swr.cn-north-4.myhuaweicloud.com
printf '%s\n' "$HOST" >"$B/host.txt"
(umask 077; printf '%s' "$SK" >"$B/sk")

"$LUA" "$ROOT/tests/e2e/hwmock.lua" --port-file "$B/port" --log "$B/mock.log" --state "$B/state" \
  --user "$AK:$B/sk:cn-north-4" --metadata-agency --registry-host "$HOST" >"$B/mock.out" 2>&1 &
MOCK=$!
trap 'kill "$MOCK" 2>/dev/null' EXIT
i=0
while [ ! -s "$B/port" ] && [ "$i" -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
[ -s "$B/port" ] || die "the mock did not start: $(tail -n 3 "$B/mock.out")"
URL="http://127.0.0.1:$(cat "$B/port")"

# The two environments: permanent credentials (long-term key) and an ECS
# agency's (temporary login, cached).
LT="env HUAWEICLOUD_SDK_AK=$AK HUAWEICLOUD_SDK_SK=$SK SWRAUTH_METADATA_ENDPOINT=none"
TMP="env SWRAUTH_METADATA_ENDPOINT=$URL SWRAUTH_API_ENDPOINT=$URL XDG_CACHE_HOME=$B/cache"
calls() { grep -c 'POST /v2/manage/utils/secret' "$B/mock.log" 2>/dev/null || true; }

g1=$($LT "$IBIN/docker-credential-swr" get <"$B/host.txt") || die "long-term get failed: $g1"
g2=$($TMP "$IBIN/docker-credential-swr" get <"$B/host.txt") || die "temporary get failed: $g2"
case $g1 in *"\"Username\":\"cn-north-4@$AK\""*) ;; *) die "long-term get answered '$g1'" ;; esac
case $g2 in *'"Username":"cn-north-4@'*) ;; *) die "temporary get answered something else" ;; esac
[ "$(calls)" = 1 ] || die "the first temporary get made $(calls) API calls"

"$PAIRTIME" -n "$ROUNDS" -w 3 -i "$B/host.txt" \
  -- longterm $LT "$IBIN/docker-credential-swr" get \
  -- cached $TMP "$IBIN/docker-credential-swr" get \
  >"$B/pair.raw" || die "pairtime failed"
after=$(calls)

ir() {
  valgrind --tool=callgrind --callgrind-out-file="$B/cg.out" "$@" <"$B/host.txt" >/dev/null 2>"$B/vg.err" ||
    die "valgrind $* failed: $(tail -n 3 "$B/vg.err")"
  sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$B/vg.err" | tail -n 1
}
ir_lt=$(HUAWEICLOUD_SDK_AK=$AK HUAWEICLOUD_SDK_SK=$SK SWRAUTH_METADATA_ENDPOINT=none \
  ir "$LUA" "$IBIN/docker-credential-swr" get)
ir_cached=$(SWRAUTH_METADATA_ENDPOINT=$URL SWRAUTH_API_ENDPOINT=$URL XDG_CACHE_HOME=$B/cache \
  ir "$LUA" "$IBIN/docker-credential-swr" get)
mkdir -p "$B/empty"
ir_miss=$(SWRAUTH_METADATA_ENDPOINT=$URL SWRAUTH_API_ENDPOINT=$URL XDG_CACHE_HOME=$B/empty \
  ir "$LUA" "$IBIN/docker-credential-swr" get)

echo "\`docker-credential-swr get\` for \`$HOST\` (installed), $ROUNDS paired rounds: with a permanent"
echo "AK/SK (it derives the long-term key) and on a server with an agency (instance metadata of"
echo "\`tests/e2e/hwmock.lua\` on loopback) whose temporary login is in the cache. The mock answered"
echo "$((after - 1)) CreateSecret calls during the $((ROUNDS + 3)) cached gets (the warm-up included)."
echo ""
"$LUA" "$ROOT/bench/stats.lua" "$B/pair.raw" \
  'longterm=`get`, long-term key (derived)' \
  'cached=`get`, temporary login from the cache' \
  cached/longterm
echo ""
echo "| \`docker-credential-swr get\` (callgrind, the helper's process only) | Ir |"
echo "|---|--:|"
echo "| long-term key, derived | $ir_lt |"
echo "| temporary login, from the cache | $ir_cached |"
echo "| temporary login, cache empty: metadata, CreateSecret (curl processes not counted) | $ir_miss |"
