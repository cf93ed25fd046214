#!/bin/sh
# pipeline.sh: section 4 of bench/run.sh. `swrauth release` of one image
# under 1 and under 5 tags with skopeo, against shell scripts with the key
# precomputed, paired rounds, to a real Docker Distribution registry on
# loopback reached two ways:
#   http:  plain HTTP, htpasswd (Basic authentication), the registry itself;
#   https: HTTPS with token authentication, as SWR: socat terminating TLS
#          with a certificate of a throwaway CA, in front of
#          tests/e2e/faultproxy.lua in token mode (401 with a Bearer
#          challenge, tokens for Basic PROJECT@AK:KEY at /token), in front
#          of the same registry.
# Scripts: bench/release_script_par.sh (the best script: login and copy at
# once, tags 2..n by curl with a token when the registry wants one) and
# bench/release_script.sh (the vendor's way: login, copy, a skopeo copy
# per further tag).
# Prints Markdown on stdout. Needs, from run.sh: ROOT, BENCH_OUT, PAIRTIME,
# SWRAUTH_INST (the installed swrauth), LUA_PATH_5_4, LUA_CPATH_5_4.
# BENCH_PIPELINE_ROUNDS (default 30) sets the number of rounds;
# BENCH_PIPELINE_SCHEMES (default "http https") which registries.
set -u
: "${ROOT:?}" "${BENCH_OUT:?}" "${PAIRTIME:?}" "${SWRAUTH_INST:?}"
E2E_DEMO=1
E2E_WATCH=0
E2E_PROJECT=cn-north-4
E2E_AK=BENCHAK0000000000001
E2E_SK=benchSecretKeyForSwrauthBench00000000000
E2E_REPO=bench/app
LUA=${LUA:-lua5.4}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
need skopeo skopeo
need socat socat
e2e_init
need_done
containers_storage
fail() { echo "pipeline.sh: $*" >&2; exit 1; }
registry_start http >&2 || fail "docker-registry did not start"
mkdir -p "$T/image"
oci_layout "$T/image" 1.0 "swrauth benchmark image" || exit 1
src="oci:$T/image:1.0"
rounds=${BENCH_PIPELINE_ROUNDS:-30}
schemes=${BENCH_PIPELINE_SCHEMES:-http https}
export HUAWEICLOUD_SDK_AK="$E2E_AK" HUAWEICLOUD_SDK_SK="$E2E_SK"
export SWR_USER="$E2E_USER" SWR_KEY="$E2E_KEY"
HTTP_HOST=$REG_HOST

# ------------------------------------------- the HTTPS + token registry
# faultproxy.lua (no fault: --count 0) in token mode, its realm https.
https_start() {
  export FAULTPROXY_BEARER="$E2E_USER:$E2E_KEY" FAULTPROXY_SCHEME=https
  PX_LOG="$T/logs/proxy-requests.log"
  e2e_bg faultproxy "$LUA" "$ROOT/tests/e2e/faultproxy.lua" --upstream "$HTTP_HOST" \
    --port-file "$T/proxy.port" --log "$PX_LOG"
  unset FAULTPROXY_BEARER FAULTPROXY_SCHEME
  _i=0
  while [ ! -s "$T/proxy.port" ] && [ "$_i" -lt 250 ]; do
    sleep 0.02
    _i=$((_i + 1))
  done
  [ -s "$T/proxy.port" ] || { diag "$T/logs/faultproxy.log" >&2; fail "faultproxy.lua did not start"; }
  PX_HOST="127.0.0.1:$(head -n 1 "$T/proxy.port")"
  mkdir -p "$T/tls"
  e2e_make_certs "$T/tls" || { diag "$T/tls/openssl.log" >&2; fail "openssl did not make the test CA"; }
  TLS_CERTS="$T/tls/certs"
  _try=0
  while [ "$_try" -lt 5 ]; do
    _try=$((_try + 1))
    _port=$(e2e_free_port)
    e2e_bg socat socat \
      "OPENSSL-LISTEN:$_port,bind=127.0.0.1,reuseaddr,fork,cert=$T/tls/server.crt,key=$T/tls/server.key,verify=0,nodelay" \
      "TCP:$PX_HOST,nodelay"
    TLS_PID=$E2E_BG_PID
    _i=0
    while [ "$_i" -lt 100 ] && kill -0 "$TLS_PID" 2>/dev/null; do
      _code=$(curl -sS --max-time 5 --cacert "$TLS_CERTS/ca.crt" -o /dev/null -w '%{http_code}' \
        "https://127.0.0.1:$_port/v2/" 2>/dev/null)
      if [ "$_code" = 401 ]; then
        HTTPS_HOST="127.0.0.1:$_port"
        return 0
      fi
      sleep 0.05
      _i=$((_i + 1))
    done
    e2e_stop "$TLS_PID"
  done
  diag "$T/logs/socat.log" >&2
  fail "socat did not serve TLS"
}

# token_url REPO: the token service URL a script written for this
# registry would hold: realm and service from the challenge, the scope.
token_url() {
  _ch=$(curl -sS --max-time 10 --cacert "$TLS_CERTS/ca.crt" -o /dev/null -D - \
    "https://$HTTPS_HOST/v2/$1/manifests/x" | tr -d '\r' | sed -n 's/^[Ww]ww-[Aa]uthenticate: *//p')
  _realm=$(printf '%s\n' "$_ch" | sed -n 's/.*realm="\([^"]*\)".*/\1/p')
  _service=$(printf '%s\n' "$_ch" | sed -n 's/.*service="\([^"]*\)".*/\1/p')
  [ -n "$_realm" ] || fail "no Bearer challenge from https://$HTTPS_HOST"
  printf '%s?service=%s&scope=repository%%3A%s%%3Apull%%2Cpush\n' "$_realm" "$_service" \
    "$(printf '%s' "$1" | sed 's|/|%2F|g')"
}

# Peak memory of the swrauth process itself (VmHWM at exit, read by a
# LUA_INIT hook in an untimed run; ru_maxrss would also count skopeo).
peak() {
  SWRAUTH_BENCH_HWM="$T/hwm" LUA_INIT_5_4="@$ROOT/bench/hwm.lua" "$@" >/dev/null 2>&1
  cat "$T/hwm" 2>/dev/null || echo "?"
}

# ---------------------------------------------------------- one scheme
# measure http|https: checks, then paired rounds of swrauth and the
# scripts; writes BENCH_OUT/pipeline-SCHEME.{raw,md}.
measure() {
  s=$1
  export REPO="bench/$s"
  if [ "$s" = https ]; then
    export REG="$HTTPS_HOST" CERT_DIR="$TLS_CERTS"
    TOKEN_URL=$(token_url "$REPO")
    export TOKEN_URL
    tls="--cert-dir $TLS_CERTS"
    curl_tls="--cacert $TLS_CERTS/ca.crt"
    url="https://$REG/v2/"
  else
    export REG="$HTTP_HOST"
    unset CERT_DIR TOKEN_URL
    tls=--insecure
    curl_tls=
    url="http://$REG/v2/"
  fi
  sw="$SWRAUTH_INST --project $E2E_PROJECT --registry $REG $tls --engine skopeo release $src --repository $REPO"
  swr1="$sw --tag t1"
  swr5="$sw --tag t1 --tag t2 --tag t3 --tag t4 --tag t5"
  # Each must work and push the image's manifest before anything is timed.
  # shellcheck disable=SC2086
  $sw --tag t1 --tag t2 >"$T/out/swr.out" 2>"$T/out/swr.err" ||
    { e2e_mask <"$T/out/swr.err" >&2; fail "$s: swrauth release failed"; }
  grep -q '(registry API)' "$T/out/swr.err" || fail "$s: swrauth did not tag through the registry API"
  sh "$ROOT/bench/release_script_par.sh" "$src" t1 t3 >"$T/out/par.out" 2>"$T/out/par.err" ||
    { e2e_mask <"$T/out/par.err" >&2; fail "$s: release_script_par.sh failed"; }
  sh "$ROOT/bench/release_script.sh" "$src" t1 t4 >"$T/out/script.out" 2>"$T/out/script.err" ||
    { e2e_mask <"$T/out/script.err" >&2; fail "$s: release_script.sh failed"; }
  for tag in t1 t2 t3 t4; do
    d=$(reg_digest "$REPO" "$tag")
    [ "$d" = "$OCI_DIGEST" ] || fail "$s: $tag: the registry serves '$d', not the image's $OCI_DIGEST"
  done
  for f in swr par script; do
    grep -qF "$OCI_DIGEST" "$T/out/$f.out" || fail "$s: $f did not print the image's digest"
  done
  [ "$(grep -c "$OCI_DIGEST" "$T/out/par.out")" = 2 ] || fail "$s: release_script_par.sh did not tag t3"
  # curl processes in one release of 5 tags (a logging curl first on PATH).
  # shellcheck disable=SC2086
  c_swr=$(curlcount $swr5)
  c_par=$(curlcount sh "$ROOT/bench/release_script_par.sh" "$src" t1 t2 t3 t4 t5)
  # Requests the registry (the token proxy) sees for 5 tags, by kind.
  reqs=
  if [ "$s" = https ]; then
    : >"$PX_LOG"
    # shellcheck disable=SC2086
    $swr5 >/dev/null 2>&1 || fail "https: swrauth release of 5 tags failed"
    r_swr=$(reqcount)
    : >"$PX_LOG"
    sh "$ROOT/bench/release_script_par.sh" "$src" t1 t2 t3 t4 t5 >/dev/null 2>&1 ||
      fail "https: release_script_par.sh with 5 tags failed"
    r_par=$(reqcount)
    reqs=1
  fi
  # shellcheck disable=SC2086
  ir1=$(ir_swrauth $swr1)
  # shellcheck disable=SC2086
  ir5=$(ir_swrauth $swr5)
  # shellcheck disable=SC2086
  hwm1=$(peak $swr1)
  # shellcheck disable=SC2086
  hwm5=$(peak $swr5)
  # shellcheck disable=SC2086
  "$PAIRTIME" -n "$rounds" -w 1 \
    -- swr1 $swr1 \
    -- par1 sh "$ROOT/bench/release_script_par.sh" "$src" t1 \
    -- swr5 $swr5 \
    -- par5 sh "$ROOT/bench/release_script_par.sh" "$src" t1 t2 t3 t4 t5 \
    -- ven1 sh "$ROOT/bench/release_script.sh" "$src" t1 \
    -- ven5 sh "$ROOT/bench/release_script.sh" "$src" t1 t2 t3 t4 t5 \
    -- curl1 curl -q -sS -o /dev/null $curl_tls "$url" \
    >"$BENCH_OUT/pipeline-$s.raw" || exit 1
  {
    if [ "$s" = https ]; then
      echo "#### HTTPS with token authentication (as SWR)"
      echo ""
      echo "https://$REG: socat $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/\1/p') terminating TLS (certificate of a throwaway CA,"
      echo "given to skopeo and curl, \`--cert-dir\`) in front of \`tests/e2e/faultproxy.lua\` in token mode"
      echo "(401 with \`WWW-Authenticate: Bearer realm=\"https://…/token\"\`; tokens for Basic PROJECT@AK:KEY)"
      echo "in front of the registry. Every request is a new TLS connection (the proxy closes each"
      echo "after one answer), as it is for curl's separate processes. swrauth: \`--cert-dir DIR\`."
      echo "The script fetches its token from the known token URL; swrauth learns it from the challenge."
    else
      echo "#### Plain HTTP, htpasswd (Basic authentication)"
      echo ""
      echo "$REG_URL, the registry itself. swrauth: \`--insecure\`."
    fi
    echo ""
    echo "Peak memory of the swrauth process itself (VmHWM at exit): $hwm1 kB with 1 tag,"
    echo "$hwm5 kB with 5 tags; the peak RSS column is the largest of the command and its children."
    echo "curl processes in one release of 5 tags: swrauth $c_swr, the best script $c_par."
    echo "Instructions of the swrauth process itself (callgrind, its children not counted): $ir1"
    echo "with 1 tag, $ir5 with 5 tags."
    if [ -n "$reqs" ]; then
      echo "Requests the registry's front (the token proxy) saw for one release of 5 tags: swrauth"
      echo "$r_swr; the script $r_par."
    fi
    echo ""
    "$LUA" "$ROOT/bench/stats.lua" "$BENCH_OUT/pipeline-$s.raw" \
      'swr1=`swrauth release`, 1 tag' \
      'par1=best script, 1 tag (login and copy at once)' \
      'swr5=`swrauth release`, 5 tags' \
      'par5=best script, 5 tags (tags 2–5 by curl)' \
      "ven1=vendor's way, 1 tag (login, then copy)" \
      "ven5=vendor's way, 5 tags (a skopeo copy per tag)" \
      'curl1=one curl process (`GET /v2/`, 401)' \
      'swr1/par1<=1.05' 'swr5/swr1<=1.5' 'swr5/par5' 'par5/par1' 'swr1/ven1' 'swr5/ven5' 'ven5/ven1'
    echo ""
  } >"$BENCH_OUT/pipeline-$s.md"
}

# curlcount CMD...: runs CMD with a curl first on PATH that counts its
# runs; prints the count.
mkdir -p "$T/curlcount"
printf '#!/bin/sh\necho run >>"%s"\nexec %s "$@"\n' "$T/curlcount/runs" "$(command -v curl)" >"$T/curlcount/curl"
chmod +x "$T/curlcount/curl"
curlcount() {
  : >"$T/curlcount/runs"
  PATH="$T/curlcount:$PATH" "$@" >/dev/null 2>&1 || fail "$s: $* failed with a counting curl"
  wc -l <"$T/curlcount/runs" | tr -d ' '
}

# ir_swrauth SWRAUTH ARGS...: the instructions of the swrauth process alone
# (callgrind without --trace-children: skopeo and curl run natively).
ir_swrauth() {
  valgrind --tool=callgrind --callgrind-out-file="$T/swrauth.cg" "$LUA" "$@" >/dev/null 2>"$T/vg.err" ||
    fail "$s: swrauth under valgrind failed: $(tail -n 3 "$T/vg.err")"
  sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$T/vg.err" | tail -n 1 |
    awk '{ printf "%.1f M", $1 / 1e6 }'
}

# reqcount: the proxy's log as "N kind" counts: challenges (401), tokens
# issued, requests passed to the registry.
reqcount() {
  awk '/-> challenge$/ { c++ } /-> token 200$/ { t++ } /-> pass$/ { p++ }
    END { printf "%d (%d answered 401 with the challenge, %d token requests, %d passed to the registry)", c + t + p, c, t, p }' "$PX_LOG"
}

for s in $schemes; do
  case $s in
    http) ;;
    https) https_start ;;
    *) fail "unknown scheme '$s' in BENCH_PIPELINE_SCHEMES" ;;
  esac
  echo "pipeline.sh: $s: $rounds rounds" >&2
  measure "$s"
done

echo "Registry: Docker Distribution $(docker-registry --version 2>/dev/null | awk '{print $NF}') on"
echo "loopback; engine: skopeo $(skopeo --version | awk '{print $NF}'); curl $(curl -V | awk 'NR == 1 { print $2 }');"
echo "image: one layer, OCI layout."
echo ""
for s in $schemes; do cat "$BENCH_OUT/pipeline-$s.md"; done
