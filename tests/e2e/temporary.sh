#!/bin/sh
# temporary.sh: SWR's temporary login end to end, against the mock of
# Huawei Cloud (tests/e2e/hwmock.lua: CreateSecret behind APIG's signature
# checks, IAM federation, instance metadata, CCE pod identity) and a real
# registry behind a front that takes only the logins the mock issued, until
# they expire:
# - each source of the credential chain (the SDK variables, with and without
#   a security token, the CSV, the SDKs' profile, KooCLI's config, pod
#   identity, instance metadata, OIDC federation from the environment and
#   from the profile) is named by `swrauth credentials` and releases with
#   skopeo through a temporary login; podman releases and the docker CLI
#   logs in with one; reports and step lines say when it expires;
# - the credential helper answers skopeo with a temporary login, caches it
#   (0600, no SK), serves the next pull from the cache, makes one API call
#   for 20 parallel gets, asks again after erase, near the expiry and after
#   it, and lists the cached user;
# - 503s are tried again, a 500 that lasts gives up after the attempts, a
#   401 is asked once, a skewed clock says to check the clock; answers
#   without auths, truncated JSON, a huge answer, a login already expired
#   and an endpoint that is down fail with a clear message;
# - no SK, security token or temporary password in any output or argv.
# shellcheck disable=SC2119,SC2030,SC2031 # (front_start takes optional options; st runs each source in a subshell)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/hwmock.sh"

e2e_init
need skopeo skopeo
need podman podman
need docker docker.io
need base64 coreutils
if ! "${LUA:-lua5.4}" -e 'require "luv"' >/dev/null 2>&1; then
  E2E_MISSING="$E2E_MISSING lua-luv"
  not_ok "Lua 5.4 finds luv (Debian package 'lua-luv')"
fi
need_done
swrauth_ready
containers_storage
shim_engines
PATH="$ROOT/bin:$PATH"
export PATH
P=$E2E_PROJECT
H="$T/hw"
mkdir -p "$H" "$T/layout"
oci_layout "$T/layout" 1.0

if ! hwmock_registry_start http || ! front_start || ! hwmock_start; then
  not_ok "the registry, the front and the mock start"
  done_testing
fi
ok "the mock ($HWMOCK_URL) issues logins for the front $FRONT_HOST before $REG_HOST"
export XDG_CACHE_HOME="$T/home/.cache"

# st NAME SOURCE ARGS...: bin/swrauth ARGS with the credentials of one
# source of the chain (secrets by environment or file, never argv); output
# in $T/out/NAME.{out,err}, status in SW_RC.
st() {
  _n=$1
  _src=$2
  shift 2
  SW_OUT="$T/out/$_n.out"
  SW_ERR="$T/out/$_n.err"
  (
    case $_src in
      env) export HUAWEICLOUD_SDK_AK="$HWMOCK_AK" HUAWEICLOUD_SDK_SK="$HWMOCK_SK" ;;
      env-token)
        HUAWEICLOUD_SDK_AK=$(cat "$H/tmp.ak") HUAWEICLOUD_SDK_SK=$(cat "$H/tmp.sk")
        HUAWEICLOUD_SDK_SECURITY_TOKEN=$(cat "$H/tmp.token")
        export HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK HUAWEICLOUD_SDK_SECURITY_TOKEN ;;
      badsk) export HUAWEICLOUD_SDK_AK="$HWMOCK_AK" HUAWEICLOUD_SDK_SK="${HWMOCK_SK%?}b" ;;
      csv) export SWRAUTH_CREDENTIALS_FILE="$H/credentials.csv" ;;
      profile) export HUAWEICLOUD_SDK_CREDENTIALS_FILE="$H/profile.ini" ;;
      koocli) export HOME="$H/koohome" ;;
      pod) hwmock_pod_env ;;
      federation) hwmock_idp_env ;;
      federation-profile) export HUAWEICLOUD_SDK_CREDENTIALS_FILE="$H/idp.ini" ;;
      metadata) ;;
      none) export SWRAUTH_METADATA_ENDPOINT=none ;;
    esac
    exec "$SWRAUTH" "$@"
  ) >"$SW_OUT" 2>"$SW_ERR" </dev/null
  SW_RC=$?
  echo "# swrauth $* ($_src) -> exit $SW_RC" | e2e_mask >>"$T/logs/commands.log"
}

# json FILE EXPR: a value of a JSON document (Lua expression on `d`).
json() {
  e2e_lua "local d = load(arg[1]); if d == nil then os.exit(3) end
    local v = $2; if v == nil or v == cjson.null then print('null') else print(tostring(v)) end" "$1"
}

# secret_calls: CreateSecret requests the mock has answered so far.
secret_calls() {
  hwmock_count '^[0-9]+ POST /v2/manage/utils/secret' || true
}

# The files of the file-based sources (0600; HOME of KooCLI's its own).
(
  umask 077
  printf 'User Name,Access Key Id,Secret Access Key\nhw,%s,%s\n' "$HWMOCK_AK" "$HWMOCK_SK" \
    >"$H/credentials.csv"
  printf '[basic]\nak = %s\nsk = %s\n' "$HWMOCK_AK" "$HWMOCK_SK" >"$H/profile.ini"
  printf '[basic]\nidp_id = %s\nid_token_file = %s\n' "$HWMOCK_IDP" "$HWMOCK_STATE/id_token" \
    >"$H/idp.ini"
  mkdir -p "$H/koohome/.hcloud"
  printf '{"current":"ci","profiles":[{"name":"ci","mode":"AKSK","accessKeyId":"%s","secretAccessKey":"%s","region":"%s"}]}\n' \
    "$HWMOCK_AK" "$HWMOCK_SK" "$P" >"$H/koohome/.hcloud/config.json"
)
# Temporary AK/SK/token for the env-token source, from the mock's metadata.
curl -sS -X PUT -H 'X-Metadata-Token-Ttl-Seconds: 600' "$HWMOCK_URL/meta-data/latest/api/token" \
  >"$H/md.token"
curl -sS -H "X-Metadata-Token: $(cat "$H/md.token")" "$HWMOCK_URL/openstack/latest/securitykey" \
  >"$H/md.json"
(
  umask 077
  json "$H/md.json" 'd.credential.access' >"$H/tmp.ak"
  json "$H/md.json" 'd.credential.secret' >"$H/tmp.sk"
  json "$H/md.json" 'd.credential.securitytoken' >"$H/tmp.token"
)
hwmock_secret "$(cat "$H/tmp.sk")" "$(cat "$H/tmp.token")" "$(cat "$H/md.token")"
rm -f "$H/md.json"

# ------------------------------------------------- each source, with skopeo
# source  flags that ask for a temporary login (permanent credentials)
for row in "env --temporary:env:false" "env-token :env:true" "csv --temporary:csv:false" \
  "profile --duration=3600:profile:false" "koocli --temporary:koocli:false" "pod :pod-identity:true" \
  "metadata :metadata:true" "federation :federation:true" "federation-profile :federation:true"; do
  src=${row%% *}
  rest=${row#* }
  flags=${rest%%:*}
  rest=${rest#*:}
  want_source=${rest%%:*}
  want_temp=${rest#*:}
  st "cred-$src" "$src" credentials --json
  is "$src: swrauth credentials names the source ($want_source), temporary $want_temp" \
    "$SW_RC $(json "$SW_OUT" 'd.source') $(json "$SW_OUT" 'd.temporary')" "0 $want_source $want_temp"
  before=$(secret_calls)
  # shellcheck disable=SC2086 # (flags: none or one word)
  st "release-$src" "$src" --project "$P" --registry "$FRONT_HOST" --insecure --engine skopeo \
    $flags --json release "oci:$T/layout:1.0" --repository "team/$src" --tag 1 --tag 1.0
  sw_is_ok "$src: release with skopeo through a temporary login"
  is "$src: the registry has team/$src:1 and :1.0" "$(reg_tags "team/$src" | tr '\n' ' ')" "1 1.0 "
  is "$src: one CreateSecret call" "$(($(secret_calls) - before))" 1
  is "$src: the report says the login is temporary and when it expires" \
    "$(json "$SW_OUT" 'd.temporary') $(json "$SW_OUT" 'd.expires_at' | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$')" \
    "true 1"
  is "$src: the report's first step is the temporary login" "$(json "$SW_OUT" 'd.steps[1].step')" \
    temporary-login
done
# The front let in only the mock's live logins, and refused none offered
# (anonymous first requests are refused: "no credentials").
is "the front refused no login swrauth handed out" \
  "$(grep -cE 'refused (unknown login|expired|not Basic)' "$FRONT_LOG" 2>/dev/null || true)" 0

st step-lines metadata --project "$P" --registry "$FRONT_HOST" --insecure --engine skopeo \
  release "oci:$T/layout:1.0" --repository team/lines --tag 2
sw_is_ok "metadata: a release with step lines"
is "the step lines say the login is temporary and when it expires" \
  "$(grep -cE '^(temporary-login|login) +'"$P"'@.* to '"$FRONT_HOST"' \(temporary, expires [0-9T:-]+Z\)' "$SW_ERR")" 2

# key --temporary --json, and a permanent AK's plain key untouched.
st key-json.secret env --project "$P" --registry "$FRONT_HOST" key --temporary --json
is "key --temporary --json: user, password, registry and expiry" \
  "$SW_RC $(json "$SW_OUT" 'd.user:sub(1, '"$((${#P} + 1))"') == "'"$P"'@"') $(json "$SW_OUT" 'd.registry') $(json "$SW_OUT" '#d.password > 0')" \
  "0 true $FRONT_HOST true"
json "$SW_OUT" 'd.user .. ":" .. d.password' >"$H/key.secret.login"
is "key --temporary's login lets curl into the front" \
  "$(curl -s -o /dev/null -w '%{http_code}' -K - "http://$FRONT_HOST/v2/" <<EOF
user = "$(cat "$H/key.secret.login")"
EOF
)" 200
st key-permanent env key
is "key with permanent credentials prints the long-term key, no API call" \
  "$SW_RC $(grep -cE '^[0-9a-f]{64}$' "$SW_OUT")" "0 1"
st key-loginkey none --project "$P" key --temporary
is "key --temporary with no credentials: exit 3" "$SW_RC" 3

# ------------------------------------------------------ podman, docker CLI
e2e_context "$T/ctx"
check "podman build (FROM scratch) makes localhost/e2e/src:1" \
  podman build -q -t localhost/e2e/src:1 "$T/ctx"
st podman metadata --project "$P" --registry "$FRONT_HOST" --insecure --engine podman \
  release localhost/e2e/src:1 --repository team/podman --tag 1
sw_is_ok "podman: release through a temporary login (instance metadata)"
is "podman: the registry has team/podman:1" "$(reg_tags team/podman | tr '\n' ' ')" "1 "
check_password_stdin podman

st docker-login pod --project "$P" --registry "$FRONT_HOST" --engine docker login
sw_is_ok "docker CLI: login with a temporary login (pod identity)"
stored=$(stored_auth "$FRONT_HOST" | head -n 1)
user=$(printf '%s' "$stored" | base64 -d | cut -d: -f1)
is "docker CLI: config.json holds a temporary user the mock issued" \
  "$(cut -d' ' -f1 "$HWMOCK_STATE/users" | grep -cxF "$user")" 1
is "docker CLI: its login lets curl into the front" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $stored" "http://$FRONT_HOST/v2/")" 200
check_password_stdin docker
st docker-check pod --project "$P" --registry "$FRONT_HOST" --insecure check
sw_is_ok "swrauth check with a temporary login asks the registry: logged in"

# issued USER: the user is one the mock issued.
issued() {
  cut -d' ' -f1 "$HWMOCK_STATE/users" | grep -cxF "$1"
}
st config-docker metadata --project "$P" --registry "$FRONT_HOST" config docker
sw_is_ok "config docker writes a temporary login"
is "config docker says when it expires" "$(grep -c '(temporary, expires [0-9T:-]*Z)' "$SW_ERR")" 1
user=$(stored_auth "$FRONT_HOST" | head -n 1 | base64 -d | cut -d: -f1)
is "config docker: config.json holds a user the mock issued" "$(issued "$user")" 1
st config-k8s.secret metadata --project "$P" --registry "$FRONT_HOST" config kubernetes regcred -o json
sw_is_ok "config kubernetes prints a Secret with a temporary login"
user=$(json "$SW_OUT" 'd.data[".dockerconfigjson"]' | base64 -d |
  e2e_lua 'local d = cjson.decode(io.read("a")); print(d.auths[arg[1]].username)' "$FRONT_HOST")
is "config kubernetes: the Secret's user is one the mock issued, and stderr says so" \
  "$(issued "$user") $(grep -c 'a temporary login (temporary, expires' "$SW_ERR")" "1 1"

# A login that expires: refused by the front after its expiry.
hwmock_stop
hwmock_start --secret-ttl 4 >/dev/null
st short env --project "$P" --registry "$FRONT_HOST" --insecure --engine skopeo \
  --json login --temporary
sw_is_ok "a 4-second temporary login (mock --secret-ttl 4) logs skopeo in"
exp=$(json "$SW_OUT" 'd.expires_at')
now=$(date -u +%s)
expu=$(date -u -d "$exp" +%s 2>/dev/null || echo 0)
is "its report says it expires within seconds ($exp)" \
  "$([ "$expu" -ge $((now - 5)) ] && [ "$expu" -le $((now + 10)) ] && echo yes)" yes
check "skopeo pushes with the stored login before its expiry" \
  skopeo copy --dest-tls-verify=false "oci:$T/layout:1.0" "docker://$FRONT_HOST/team/short:live"
sleep 5
skopeo copy --dest-tls-verify=false "oci:$T/layout:1.0" "docker://$FRONT_HOST/team/short:dead" \
  >"$T/out/short-dead.out" 2>&1
is "after its expiry the stored login pushes nothing" "$(reg_tags team/short | tr '\n' ' ')" "live "
st short-logout none --registry "$FRONT_HOST" --insecure --engine skopeo --project "$P" logout
hwmock_stop
hwmock_start >/dev/null

# ------------------------------------------------------- the credential helper
st configure metadata configure-docker --project "$P" --registry "$FRONT_HOST"
sw_is_ok "configure-docker records $FRONT_HOST for the helper"
HLOG="$T/logs/helper.log"
export SWRAUTH_HELPER_LOG="$HLOG"
before=$(secret_calls)
check "skopeo pushes through the helper (instance metadata, temporary login)" \
  skopeo copy --dest-tls-verify=false "oci:$T/layout:1.0" "docker://$FRONT_HOST/team/helper:1"
check "skopeo pushes again through the helper" \
  skopeo copy --dest-tls-verify=false "oci:$T/layout:1.0" "docker://$FRONT_HOST/team/helper:2"
is "the registry has team/helper:1 and :2" "$(reg_tags team/helper | tr '\n' ' ')" "1 2 "
is "two pushes, one CreateSecret call" "$(($(secret_calls) - before))" 1
is "the helper's log: one new login, then the cached one" \
  "$(grep -c '(temporary, expires [^,]*, new)' "$HLOG") $(grep -c '(temporary, expires [^,]*, cached)' "$HLOG")" \
  "1 $(($(grep -c ' get ' "$HLOG") - 1))"
CACHE="$XDG_CACHE_HOME/swrauth"
cfile=$(find "$CACHE" -name "$FRONT_HOST@*.json" | head -n 1)
is "the cache: one 0600 file for $FRONT_HOST in a 0700 directory" \
  "$(find "$CACHE" -name '*.json' | wc -l) $(stat -c %a "$cfile") $(stat -c %a "$CACHE")" "1 600 700"
hwmock_secret "$(json "$cfile" 'd.password')"
is "the cache holds the password, never an SK or a security token" \
  "$(grep -cF "$HWMOCK_SK" "$cfile") $(grep -c -i -e securitytoken -e '"sk"' "$cfile")" "0 0"

# 20 parallel gets with an empty cache: one API call.
printf '%s\n' "$FRONT_HOST" | docker-credential-swr erase
is "erase removes the cached login" "$(find "$CACHE" -name '*.json' | wc -l)" 0
before=$(secret_calls)
i=0
pids=
while [ $i -lt 20 ]; do
  printf '%s\n' "$FRONT_HOST" | docker-credential-swr get >"$T/out/par$i.secret.json" 2>"$T/out/par$i.err" &
  pids="$pids $!"
  i=$((i + 1))
done
# (Not a bare wait: the daemons are children of this shell too.)
# shellcheck disable=SC2086
wait $pids
is "20 parallel gets: one CreateSecret call" "$(($(secret_calls) - before))" 1
is "20 parallel gets: one user and password for all" \
  "$(cat "$T"/out/par*.secret.json | sort -u | wc -l) $(grep -c '"Username":"'"$P"'@' "$T"/out/par*.secret.json | grep -c ':1$')" "1 20"
is "list shows the cached temporary user" \
  "$(docker-credential-swr list </dev/null | grep -c "\"$FRONT_HOST\":\"$P@")" 1

# Forced refresh (erase), near the expiry, after the expiry.
before=$(secret_calls)
printf '%s\n' "$FRONT_HOST" | docker-credential-swr erase
printf '%s\n' "$FRONT_HOST" | docker-credential-swr get >/dev/null
is "after erase the next get asks the API" "$(($(secret_calls) - before))" 1
cfile=$(find "$CACHE" -name "$FRONT_HOST@*.json" | head -n 1)
for shift_s in 300 -60; do
  at=$(date -u -d "@$(($(date +%s) + shift_s))" +%Y-%m-%dT%H:%M:%SZ)
  e2e_lua 'local d = load(arg[1]); d.expires_at = arg[2]
    local f = assert(io.open(arg[1], "w")); f:write(cjson.encode(d)); f:close()' "$cfile" "$at"
  before=$(secret_calls)
  printf '%s\n' "$FRONT_HOST" | docker-credential-swr get >"$T/out/near.secret.json"
  is "a cached login expiring at now${shift_s#-}s (${shift_s}) is replaced: one API call" \
    "$(($(secret_calls) - before)) $(grep -c '"Username"' "$T/out/near.secret.json")" "1 1"
done
unset SWRAUTH_HELPER_LOG

# ------------------------------------------------------------------- faults
# fault NAME EXPECTED_CALLS GREP ARGS...: key --temporary with the SDK AK/SK
# (or the source in FAULT_SRC); exit 1, stderr matching GREP.
fault() {
  _name=$1
  _calls=$2
  _re=$3
  shift 3
  before=$(secret_calls)
  st "fault-$(echo "$_name" | tr -c 'a-z0-9\n' -)" "${FAULT_SRC:-env}" --project "$P" --registry "$FRONT_HOST" key --temporary "$@"
  is "$_name: exit 1, $_calls CreateSecret call(s), the message says why" \
    "$SW_RC $(($(secret_calls) - before)) $(grep -ciE "$_re" "$SW_ERR")" "1 $_calls 1"
}
hwmock_fault secret 503 2
before=$(secret_calls)
st fault-503.secret env --project "$P" --registry "$FRONT_HOST" key --temporary --json
is "two 503s are tried again: exit 0 on the third call, with a login" \
  "$SW_RC $(($(secret_calls) - before)) $(json "$SW_OUT" 'd.registry')" "0 3 $FRONT_HOST"
hwmock_fault secret 500 5
fault "a 500 that lasts gives up after 3 attempts" 3 'HTTP 500.*\(after 3 attempts\)'
hwmock_fault_clear
FAULT_SRC=badsk
fault "a wrong SK (401) is asked once, never again" 1 'HTTP 401 APIG\.0301.*not tried again'
FAULT_SRC=
hwmock_fault secret noauths
fault "an answer without auths" 1 "the answer is not a login: it holds no 'auths'"
hwmock_fault secret badjson
fault "a truncated JSON answer" 1 "the answer is not a login: it is not JSON"
hwmock_fault secret huge
fault "a huge answer is cut off" 1 'larger than [0-9]+ bytes|Maximum file size exceeded|exceeded'
hwmock_fault secret expired
fault "a login already expired" 1 'expired at .*check the clock'
# (A new mock process would read the spent faults again.)
hwmock_fault_clear
hwmock_stop
hwmock_start --clock-skew 1200 >/dev/null
fault "a clock 20 minutes off is asked once and named" 1 'check the clock'
hwmock_stop
hwmock_start >/dev/null
port=$(e2e_free_port)
before=$(secret_calls)
(
  export SWRAUTH_API_ENDPOINT="http://127.0.0.1:$port"
  st fault-down env --project "$P" --registry "$FRONT_HOST" --backoff 0.1 key --temporary
  echo "$SW_RC" >"$T/out/fault-down.rc"
)
is "an endpoint that is down: exit 1 after 3 attempts, naming it" \
  "$(cat "$T/out/fault-down.rc") $(grep -cE "127\.0\.0\.1:$port.*\(after 3 attempts\)" "$T/out/fault-down.err")" "1 1"
(
  export SWRAUTH_API_ENDPOINT="http://192.0.2.1:$port"
  st fault-plain env --project "$P" --registry "$FRONT_HOST" key --temporary
  echo "$SW_RC" >"$T/out/fault-plain.rc"
)
is "a plain-http endpoint off this machine is refused before anything is sent" \
  "$(cat "$T/out/fault-plain.rc") $(grep -c 'is plain HTTP to 192\.0\.2\.1: credentials would go unencrypted' "$T/out/fault-plain.err")" "2 1"

# ------------------------------------------------------------------ hygiene
# Every password the mock issued is a secret from here on.
cut -d' ' -f2 "$HWMOCK_STATE/users" | while read -r pw; do hwmock_secret "$pw"; done
check_engine_used skopeo
check_no_secrets
done_testing
