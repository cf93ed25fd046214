# shellcheck shell=sh
# hwmock.sh: glue for suites that need Huawei Cloud's temporary-login
# services, sourced after lib.sh (and after e2e_init, which makes $T):
# tests/e2e/hwmock.lua (SWR CreateSecret behind APIG's signature checks,
# IAM OIDC federation, ECS instance metadata, CCE pod identity) on a
# loopback port, and a registry front (faultproxy.lua's users mode) that
# accepts the logins the mock issues, in front of a real registry.
#
# A suite does, in this order:
#   hwmock_registry_start            # the registry, with the front's upstream user
#   front_start                      # the front: FRONT_HOST
#   hwmock_start [MOCK OPTIONS]      # the mock (logins for FRONT_HOST): HWMOCK_URL
# and may then use hwmock_fault, hwmock_count, hwmock_pod_env,
# hwmock_idp_env, hwmock_sign. Every daemon is stopped by the EXIT trap.
#
# The identity (all obviously fake): HWMOCK_AK/HWMOCK_SK (a permanent AK of
# E2E_PROJECT), the identity provider HWMOCK_IDP with the ID token in
# $HWMOCK_STATE/id_token, the pod identity token in $HWMOCK_STATE/pod_token,
# the ECS agency on; the SK in $HWMOCK_STATE/sk. Each is added to the
# secret patterns lib.sh masks and looks for in outputs and argv.
# shellcheck disable=SC2034

case $0 in
  */hwmock.sh | hwmock.sh) ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)} ;;
esac
: "${ROOT:?ROOT must be set to the checkout before sourcing hwmock.sh}"
HWMOCK_LUA="$ROOT/tests/e2e/hwmock.lua"
HWMOCK_SIGNER="$ROOT/tests/apig_signer.lua"
: "${HWMOCK_AK:=HWMOCKAK00000000E2E1}"
: "${HWMOCK_SK:=hwmockSecretKeyForSwrauthE2E00000000000a}"
: "${HWMOCK_IDP:=swrauth-e2e-idp}"
HWMOCK_N=0
FRONT_N=0
HWMOCK_PID=
FRONT_PID=

# hwmock_rand N: N random lowercase hex digits.
hwmock_rand() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n' | cut -c1-"$1"
}

# hwmock_secret VALUE...: masks VALUE in failure reports and makes any
# output or argv holding it a failure of check_no_secrets (read from the
# argument list of this shell function only: printf is a builtin).
hwmock_secret() {
  for _v in "$@"; do
    [ -n "$_v" ] || continue
    printf '%s\n' "$_v" >>"$T/secrets.pat"
    printf 's|%s|<HWSECRET>|g\n' "$_v" >>"$T/secrets.sed"
  done
}

# hwmock_identities: the identities file and the token files in
# $HWMOCK_STATE (0600).
hwmock_identities() {
  HWMOCK_STATE=${HWMOCK_STATE:-$T/hwmock}
  mkdir -p "$HWMOCK_STATE"
  _idt="eyJhbGciOiJSUzI1NiJ9.$(hwmock_rand 40).$(hwmock_rand 40)"
  _pod="pod-identity-$(hwmock_rand 48)"
  (
    umask 077
    printf '%s' "$HWMOCK_SK" >"$HWMOCK_STATE/sk"
    printf '%s\n' "$_idt" >"$HWMOCK_STATE/id_token"
    printf '%s\n' "$_pod" >"$HWMOCK_STATE/pod_token"
    printf '{"users":[{"ak":"%s","sk":"%s","project":"%s"}],"idp":{"id":"%s","id_token":"%s"},"pod_token":"%s","metadata":true}\n' \
      "$HWMOCK_AK" "$HWMOCK_SK" "${E2E_PROJECT:-cn-north-4}" "$HWMOCK_IDP" "$_idt" "$_pod" \
      >"$HWMOCK_STATE/identities.json"
  )
  hwmock_secret "$HWMOCK_SK" "$_idt" "$_pod"
}

# hwmock_start [OPTIONS]: the mock with the identities (made on first use)
# and state in $HWMOCK_STATE, its logins for FRONT_HOST when a front runs
# (OPTIONS may override). Sets HWMOCK_URL, HWMOCK_LOG (one line per
# request), HWMOCK_PID; exports SWRAUTH_API_ENDPOINT,
# SWRAUTH_METADATA_ENDPOINT and HUAWEICLOUD_SDK_IAM_ENDPOINT.
hwmock_start() {
  HWMOCK_STATE=${HWMOCK_STATE:-$T/hwmock}
  [ -f "$HWMOCK_STATE/identities.json" ] || hwmock_identities
  HWMOCK_N=$((HWMOCK_N + 1))
  HWMOCK_LOG="$T/logs/hwmock$HWMOCK_N.requests.log"
  _pf="$HWMOCK_STATE/port$HWMOCK_N"
  rm -f "$_pf"
  set -- --identities "$HWMOCK_STATE/identities.json" "$@"
  [ -z "${FRONT_HOST:-}" ] || set -- --registry-host "$FRONT_HOST" "$@"
  e2e_bg "hwmock$HWMOCK_N" "${LUA:-lua5.4}" "$HWMOCK_LUA" --port-file "$_pf" \
    --log "$HWMOCK_LOG" --state "$HWMOCK_STATE" "$@"
  HWMOCK_PID=$E2E_BG_PID
  _i=0
  while [ ! -s "$_pf" ] && [ "$_i" -lt 250 ] && kill -0 "$HWMOCK_PID" 2>/dev/null; do
    sleep 0.02
    _i=$((_i + 1))
  done
  if [ ! -s "$_pf" ]; then
    echo "# hwmock did not start:" >&2
    diag "$T/logs/hwmock$HWMOCK_N.log" >&2
    return 1
  fi
  HWMOCK_URL="http://127.0.0.1:$(head -n 1 "$_pf")"
  export SWRAUTH_API_ENDPOINT="$HWMOCK_URL" SWRAUTH_METADATA_ENDPOINT="$HWMOCK_URL" \
    HUAWEICLOUD_SDK_IAM_ENDPOINT="$HWMOCK_URL"
}

hwmock_stop() {
  [ -n "${HWMOCK_PID:-}" ] && e2e_stop "$HWMOCK_PID"
  HWMOCK_PID=
}

# hwmock_pod_env: exports the CCE pod identity variables for the mock.
hwmock_pod_env() {
  export HC_CONTAINER_CREDENTIALS_FULL_URI="$HWMOCK_URL/v1/credentials" \
    HC_CONTAINER_AUTHORIZATION_TOKEN_FILE="$HWMOCK_STATE/pod_token"
}

# hwmock_idp_env: exports the OIDC federation variables for the mock.
hwmock_idp_env() {
  export HUAWEICLOUD_SDK_IDP_ID="$HWMOCK_IDP" HUAWEICLOUD_SDK_ID_TOKEN_FILE="$HWMOCK_STATE/id_token"
}

# hwmock_fault ENDPOINT KIND [COUNT]: adds a fault to the mock's control
# file (read on every request; COUNT default 1, -1 for every request).
hwmock_fault() {
  {
    cat "$HWMOCK_STATE/faults" 2>/dev/null
    echo "$1 $2 ${3:-1}"
  } >"$HWMOCK_STATE/faults.tmp" && mv "$HWMOCK_STATE/faults.tmp" "$HWMOCK_STATE/faults"
}

# hwmock_fault_clear: no more faults from the control file.
hwmock_fault_clear() {
  echo "# cleared $(date +%s%N)" >"$HWMOCK_STATE/faults.tmp" &&
    mv "$HWMOCK_STATE/faults.tmp" "$HWMOCK_STATE/faults"
}

# hwmock_count ERE: requests in the mock's log matching ERE.
hwmock_count() {
  grep -cE -- "$1" "$HWMOCK_LOG" 2>/dev/null
}

# hwmock_sign OUT URL AK SK_FILE [SIGNER OPTIONS...]: the headers of a
# signed CreateSecret-style POST to URL in OUT, for `curl -H @OUT`
# (tests/apig_signer.lua; --token-file F, --offset S, --unsigned NAME,
# --date D, --header 'N: V' as it takes them).
hwmock_sign() {
  _out=$1
  _url=$2
  _ak=$3
  _skf=$4
  shift 4
  "${LUA:-lua5.4}" "$HWMOCK_SIGNER" sign --url "$_url" --ak "$_ak" --sk-file "$_skf" "$@" >"$_out"
}

# hwmock_registry_start [http]: registry_start with a second htpasswd user,
# the front's upstream credentials (HWMOCK_UPSTREAM=USER:PASS).
hwmock_registry_start() {
  HWMOCK_UPSTREAM="swr-front:front$(hwmock_rand 32)"
  hwmock_secret "${HWMOCK_UPSTREAM#*:}"
  registry_start "${1:-http}" "$HWMOCK_UPSTREAM"
}

# front_start [FAULTPROXY OPTIONS]: the registry front for the mock's
# logins ($HWMOCK_STATE/users) before REG_HOST. Sets FRONT_HOST, FRONT_PID,
# FRONT_LOG.
front_start() {
  HWMOCK_STATE=${HWMOCK_STATE:-$T/hwmock}
  mkdir -p "$HWMOCK_STATE"
  if [ -z "${HWMOCK_UPSTREAM:-}" ] || [ -z "${REG_HOST:-}" ]; then
    echo "# front_start: start the registry with hwmock_registry_start first" >&2
    return 1
  fi
  FRONT_N=$((FRONT_N + 1))
  FRONT_LOG="$T/logs/front$FRONT_N.requests.log"
  _pf="$HWMOCK_STATE/front$FRONT_N.port"
  rm -f "$_pf"
  # The upstream password by environment, never argv.
  FAULTPROXY_USERS="$HWMOCK_STATE/users"
  FAULTPROXY_UPSTREAM_USER="$HWMOCK_UPSTREAM"
  export FAULTPROXY_USERS FAULTPROXY_UPSTREAM_USER
  e2e_bg "front$FRONT_N" "${LUA:-lua5.4}" "$ROOT/tests/e2e/faultproxy.lua" --upstream "$REG_HOST" \
    --port-file "$_pf" --log "$FRONT_LOG" "$@"
  unset FAULTPROXY_USERS FAULTPROXY_UPSTREAM_USER
  FRONT_PID=$E2E_BG_PID
  _i=0
  while [ ! -s "$_pf" ] && [ "$_i" -lt 250 ] && kill -0 "$FRONT_PID" 2>/dev/null; do
    sleep 0.02
    _i=$((_i + 1))
  done
  if [ ! -s "$_pf" ]; then
    echo "# the registry front did not start:" >&2
    diag "$T/logs/front$FRONT_N.log" >&2
    return 1
  fi
  FRONT_HOST="127.0.0.1:$(head -n 1 "$_pf")"
}

front_stop() {
  [ -n "${FRONT_PID:-}" ] && e2e_stop "$FRONT_PID"
  FRONT_PID=
}

# hwmock_tls_start: socat terminating TLS (a certificate of a throwaway CA
# for 127.0.0.1 and localhost) in front of the mock. Sets HWMOCK_HTTPS_URL,
# HWMOCK_CA (the CA file), HWMOCK_TLS_PID.
hwmock_tls_start() {
  _d="$HWMOCK_STATE/tls"
  mkdir -p "$_d"
  e2e_make_certs "$_d" || return 1
  _port=$(e2e_free_port)
  e2e_bg "hwmock-tls" socat \
    "OPENSSL-LISTEN:$_port,bind=127.0.0.1,reuseaddr,fork,cert=$_d/server.crt,key=$_d/server.key,verify=0" \
    "TCP:${HWMOCK_URL#http://}"
  HWMOCK_TLS_PID=$E2E_BG_PID
  HWMOCK_CA="$_d/certs/ca.crt"
  HWMOCK_HTTPS_URL="https://127.0.0.1:$_port"
  _i=0
  until curl -s -o /dev/null --cacert "$HWMOCK_CA" "$HWMOCK_HTTPS_URL/" || [ "$_i" -ge 100 ]; do
    sleep 0.05
    _i=$((_i + 1))
  done
}

# Run directly (as tests/run.sh does with every tests/e2e/*.sh), the glue
# tests itself; tests/e2e/hwmock_selftest.sh tests the mock and the front.
hwmock_glue_selftest() {
  e2e_init
  need_done
  if hwmock_start --secret-ttl 60; then
    ok "hwmock_start: the mock listens at $HWMOCK_URL (pid $HWMOCK_PID)"
  else
    not_ok "hwmock_start: the mock starts"
    done_testing
  fi
  is "hwmock_start exports the endpoints for swrauth" \
    "$SWRAUTH_API_ENDPOINT $SWRAUTH_METADATA_ENDPOINT $HUAWEICLOUD_SDK_IAM_ENDPOINT" \
    "$HWMOCK_URL $HWMOCK_URL $HWMOCK_URL"
  hwmock_fault metadata-token 503 2
  _codes=
  for _k in 1 2 3; do
    _codes="$_codes $(curl -s -o /dev/null -w '%{http_code}' -X PUT \
      -H 'X-Metadata-Token-Ttl-Seconds: 60' "$HWMOCK_URL/meta-data/latest/api/token")"
  done
  is "hwmock_fault metadata-token 503 2: two 503s, then 200" "$_codes" " 503 503 200"
  is "hwmock_count counts the requests in the mock's log" \
    "$(hwmock_count '^[0-9]+ PUT /meta-data/latest/api/token -> 503 fault 503$')" 2
  for _k in 1 2; do
    hwmock_fault_clear
    hwmock_fault metadata-token 503 1
    is "after hwmock_fault_clear the same fault counts again ($_k)" \
      "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'X-Metadata-Token-Ttl-Seconds: 60' \
        "$HWMOCK_URL/meta-data/latest/api/token")" 503
  done
  _hp=$HWMOCK_PID
  hwmock_stop
  if kill -0 "$_hp" 2>/dev/null; then not_ok "hwmock_stop ends pid $_hp"; else ok "hwmock_stop ends pid $_hp"; fi
  check_no_secrets
  done_testing
}

case $0 in
  */hwmock.sh | hwmock.sh)
    # shellcheck source=tests/e2e/lib.sh
    . "$ROOT/tests/e2e/lib.sh"
    hwmock_glue_selftest
    ;;
esac
