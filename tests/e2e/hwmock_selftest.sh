#!/bin/sh
# hwmock_selftest.sh: the Huawei Cloud mock (tests/e2e/hwmock.lua) and the
# registry front (faultproxy.lua's users mode) are strict, tested with curl,
# openssl, skopeo and the independent Lua signer only (no swrauth code):
# - the signer reproduces the API Request Signing Guide's example;
# - a correctly signed CreateSecret gets 200 and a login (SWR's formats)
#   that skopeo uses through the front to push an OCI layout to the real
#   registry; the login stops working at its expiry;
# - a changed signature, a wrong SK, an unknown AK, a missing or garbled
#   Authorization, a missing X-Sdk-Date, an unsigned Host or Content-Type,
#   a date 20 minutes off (and --clock-skew), a temporary AK without, with
#   an unsigned or another AK's security token, an expired temporary AK:
#   each APIG's 401; bad duration_seconds and unknown projects: SWR's 400;
# - ECS metadata (with and without a session token, required or not),
#   CCE pod identity and OIDC federation through IAM each hand out
#   credentials in the SDKs' formats that CreateSecret accepts with their
#   security token, and refuse wrong tokens;
# - every fault kind on every endpoint does what it says (control file and
#   --fault), and the mock's log holds no SK, password or token.
# shellcheck disable=SC2119 # (front_start takes optional faultproxy options)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/hwmock.sh"

e2e_init
need skopeo skopeo
need socat socat
need base64 coreutils
if ! "${LUA:-lua5.4}" -e 'require "luv"' >/dev/null 2>&1; then
  E2E_MISSING="$E2E_MISSING lua-luv"
  not_ok "Lua 5.4 finds luv (Debian package 'lua-luv')"
fi
need_done

H="$T/hw"
mkdir -p "$H" "$T/layout"
oci_layout "$T/layout" 1.0
ISSUED="$T/issued.pat"
: >"$ISSUED"

# ---------------------------------------------------------------- helpers

# req NAME CURL-ARGS...: one request; the answer's headers in $H/NAME.hdr
# (CR removed), body in $H/NAME.body; REQ_CODE the status (000: none),
# REQ_RC curl's exit status.
req() {
  _n=$1
  shift
  REQ_CODE=$(curl -sS --max-time "${REQ_TIME:-10}" -D "$H/$_n.hdr0" -o "$H/$_n.body" -w '%{http_code}' "$@" \
    2>"$H/$_n.err")
  REQ_RC=$?
  tr -d '\r' <"$H/$_n.hdr0" >"$H/$_n.hdr" 2>/dev/null
}

# hdr NAME HEADER: a header of the last answer NAME (case-insensitive).
hdr() {
  sed -n "s/^$2: //Ip" "$H/$1.hdr" | tail -n 1
}

# jget FILE KEY...: a value of a JSON document (a number KEY indexes a
# list): the value, "(none)", "(table)", or "(not JSON)".
jget() {
  e2e_lua '
    local d = load(arg[1]); if d == nil then print("(not JSON)") os.exit(0) end
    for i = 2, #arg do
      if type(d) ~= "table" then d = nil break end
      d = d[tonumber(arg[i]) or arg[i]]
    end
    if math.type(d) == "float" and d == math.floor(d) then d = math.tointeger(d) end
    if type(d) == "table" then print("(table)") elseif d == nil then print("(none)") else print(tostring(d)) end' \
    "$@" 2>/dev/null || echo "(not JSON)"
}

# jsave FILE PATH OUT: a JSON string value into the file OUT (0600), added
# to the issued secrets (never printed).
jsave() {
  (umask 077 && e2e_lua '
    local d = load(arg[1]); for k in arg[2]:gmatch("[^.]+") do d = type(d) == "table" and d[k] or nil end
    if type(d) ~= "string" then os.exit(1) end
    local f = io.open(arg[3], "w"); f:write(d); f:close()' "$1" "$2" "$3") || return 1
  issued_file "$3"
}

# issued_file FILE: FILE's content is a secret issued by the mock.
issued_file() {
  issued "$(cat "$1" 2>/dev/null)"
}

# issued VALUE: a secret issued by the mock (not one of jget's answers).
issued() {
  case $1 in
    '' | '(none)' | '(table)' | '(not JSON)') return 0 ;;
  esac
  printf '%s\n' "$1" >>"$ISSUED"
  hwmock_secret "$1"
}

SECRET_PATH=/v2/manage/utils/secret
# secret NAME AK SK_FILE QUERY [SIGNER OPTIONS...]: a signed CreateSecret.
secret() {
  _n=$1
  _ak=$2
  _sk=$3
  _q=$4
  shift 4
  hwmock_sign "$H/$_n.h" "$HWMOCK_URL$SECRET_PATH?$_q" "$_ak" "$_sk" "$@"
  req "$_n" -X POST -H @"$H/$_n.h" "$HWMOCK_URL$SECRET_PATH?$_q"
}

Q="projectname=$E2E_PROJECT"

# login_from NAME: the login of a CreateSecret answer: LOGIN_USER, the
# password in $H/NAME.pw (an issued secret), LOGIN_AUTH.
login_from() {
  LOGIN_AUTH=$(jget "$H/$1.body" auths "$FRONT_HOST" auth)
  printf '%s' "$LOGIN_AUTH" | base64 -d >"$H/$1.pair" 2>/dev/null
  LOGIN_USER=$(cut -d: -f1 "$H/$1.pair")
  (umask 077 && cut -d: -f2- "$H/$1.pair" | tr -d '\n' >"$H/$1.pw")
  issued_file "$H/$1.pw"
  issued "$LOGIN_AUTH"
  rm -f "$H/$1.pair"
}

# is_apig401 NAME WHY: the last answer is APIG's 401 (APIG.0301, "verify
# aksk signature fail") and the mock's log says WHY (an ERE).
is_apig401() {
  _got="$REQ_CODE $(jget "$H/$1.body" error_code) $(jget "$H/$1.body" error_msg)"
  _rid=$(jget "$H/$1.body" request_id)
  case $_rid in
    ????????????????????????????????) ;;
    *) _got="$_got (request_id '$_rid')" ;;
  esac
  is "$1: 401 APIG.0301 verify aksk signature fail" "$_got" \
    "401 APIG.0301 Incorrect IAM authentication information: verify aksk signature fail"
  is "$1: the mock's log says why ($2)" "$(tail -n 1 "$HWMOCK_LOG" | grep -cE -- "-> 401 $2")" 1
}

# front_curl NAME USER PWFILE: GET /v2/ through the front with a login
# (credentials in a curl config on stdin, not argv).
front_curl() {
  (umask 077 && { printf 'user = "%s:' "$2"; cat "$3"; printf '"\n'; } >"$H/$1.curlrc")
  req "$1" -K "$H/$1.curlrc" "http://$FRONT_HOST/v2/"
}

ms() { date +%s%3N; }

# ---------------------------------------------------------------- setup

is "the signer reproduces the API Request Signing Guide's example" \
  "$("${LUA:-lua5.4}" "$HWMOCK_SIGNER" selftest | sed 's/.*Signature=//')" \
  7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe

if hwmock_registry_start http && front_start && hwmock_start; then
  ok "registry, front ($FRONT_HOST) and mock ($HWMOCK_URL) started"
else
  not_ok "registry, front and mock start"
  done_testing
fi
SK="$HWMOCK_STATE/sk"

# ------------------------------------------------ a correct request, a push

t0=$(date +%s)
secret ok "$HWMOCK_AK" "$SK" "$Q"
is "signed CreateSecret: 200" "$REQ_CODE" 200
login_from ok
case $LOGIN_USER in
  "$E2E_PROJECT@"????????????????????) _u=PROJECT@AK20 ;;
  *) _u="'$LOGIN_USER'" ;;
esac
is "the login's user is PROJECT@ and a 20-character temporary AK" \
  "$_u $(printf '%s' "$LOGIN_USER" | sed 's/.*@//' | tr -d 'A-Z0-9' | wc -c)" "PROJECT@AK20 0"
is "the password is 64 lowercase hex" \
  "$(tr -d '0-9a-f' <"$H/ok.pw" | wc -c) $(wc -c <"$H/ok.pw")" "0 64"
is "auths holds the registry front and only it" "$(jget "$H/ok.body" auths "$FRONT_HOST" auth | grep -c .)" 1
hdr ok X-Swr-Dockerlogin >"$H/ok.dl"
is "X-Swr-Dockerlogin is 'docker login -u USER -p PASSWORD HOST'" \
  "$(awk 'NR == FNR { pw = $0; next }
    { i = index($0, pw); if (i) $0 = substr($0, 1, i - 1) "PASSWORD" substr($0, i + length(pw)); print }' \
    "$H/ok.pw" "$H/ok.dl")" "docker login -u $LOGIN_USER -p PASSWORD $FRONT_HOST"
exp=$(hdr ok X-Swr-Expireat)
case $exp in
  [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9].*Z) ok "X-Swr-Expireat is ISO 8601 UTC with a fraction ($exp)" ;;
  *) not_ok "X-Swr-Expireat is ISO 8601 UTC with a fraction (got '$exp')" ;;
esac
_e=$(date -u -d "$exp" +%s 2>/dev/null || echo 0)
_d=$((_e - t0))
if [ "$_d" -ge 21598 ] && [ "$_d" -le 21602 ]; then
  ok "the login expires in 6 h (--secret-ttl's default; $_d s)"
else
  not_ok "the login expires in 6 h (--secret-ttl's default; got $_d s)"
fi
# (The password from its file, never on a command line.)
is "the login is in the users file with its expiry" \
  "$(awk -v u="$LOGIN_USER" -v e="$_e" 'NR == FNR { pw = $0; next } $1 == u && $2 == pw && $3 == e' \
    "$H/ok.pw" "$HWMOCK_STATE/users" | grep -c .)" 1
is "content type and request id of the answer" \
  "$(hdr ok Content-Type) $(hdr ok X-Request-Id | tr -d '0-9a-f\n' | wc -c)" "application/json;charset=utf-8 0"

# skopeo logs in to the front with the temporary login and pushes.
AUTHF="$H/auth.json"
if skopeo login --tls-verify=false --authfile "$AUTHF" -u "$LOGIN_USER" --password-stdin "$FRONT_HOST" \
  <"$H/ok.pw" >"$T/out/skopeo-login.out" 2>&1; then
  ok "skopeo logs in to the front with the temporary login"
else
  not_ok "skopeo logs in to the front with the temporary login"
  diag "$T/out/skopeo-login.out"
fi
check "skopeo pushes the OCI layout through the front with it" \
  skopeo copy --dest-tls-verify=false --dest-authfile "$AUTHF" "oci:$T/layout:1.0" "docker://$FRONT_HOST/team/tmp:1.0"
is "the registry has team/tmp:1.0 with the layout's digest" \
  "$(reg_tags team/tmp | tr '\n' ' ')$(reg_digest team/tmp 1.0)" "1.0 $OCI_DIGEST"
is "the front passed the manifest PUT" "$(grep -c ' PUT /v2/team/tmp/manifests/1\.0 -> pass' "$FRONT_LOG")" 1
# The docker CLI (no daemon: a client-side login) takes the login too.
if command -v docker >/dev/null 2>&1; then
  if docker login -u "$LOGIN_USER" --password-stdin "$FRONT_HOST" <"$H/ok.pw" >"$T/out/docker-login.out" 2>&1 &&
    grep -q 'Login Succeeded' "$T/out/docker-login.out"; then
    ok "the docker CLI logs in to the front with the temporary login"
  else
    not_ok "the docker CLI logs in to the front with the temporary login"
    diag "$T/out/docker-login.out"
  fi
fi
front_curl fnone "$E2E_PROJECT@NOSUCHLOGIN000000000" "$H/ok.pw"
is "the front refuses an unknown user" "$REQ_CODE $(tail -n 1 "$FRONT_LOG" | grep -c 'refused unknown login')" "401 1"
req fanon "http://$FRONT_HOST/v2/"
is "the front refuses a request without a login: 401, Basic challenge, Docker Distribution's body" \
  "$REQ_CODE|$(hdr fanon Www-Authenticate)|$(jget "$H/fanon.body" errors 1 code)" \
  '401|Basic realm="swr-front"|UNAUTHORIZED'
printf 'x%s' "$(cat "$H/ok.pw")" >"$H/wrongpw"
front_curl fwrong "$LOGIN_USER" "$H/wrongpw"
is "the front refuses a wrong password" "$REQ_CODE" 401
front_curl fright "$LOGIN_USER" "$H/ok.pw"
is "the front takes the login (GET /v2/ 200)" "$REQ_CODE" 200

# ------------------------------------------------ what APIG refuses

# One byte of the signature changed (its last hex digit).
awk '/^Authorization:/ { c = substr($0, length($0)); r = (c == "0") ? "1" : "0"; $0 = substr($0, 1, length($0) - 1) r } { print }' \
  "$H/ok.h" >"$H/sig1.h"
req sig1 -X POST -H @"$H/sig1.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is_apig401 sig1 "signature mismatch"
printf '%s' "wrong$(cat "$SK")" >"$H/wrongsk"
secret wrongsk "$HWMOCK_AK" "$H/wrongsk" "$Q"
is_apig401 wrongsk "signature mismatch"
secret unknownak HWMOCKAK00000000E2E9 "$SK" "$Q"
is_apig401 unknownak "unknown AK"
grep -v '^X-Sdk-Date:' "$H/ok.h" >"$H/nodate.h"
req nodate -X POST -H @"$H/nodate.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is_apig401 nodate "no X-Sdk-Date"
secret nohost "$HWMOCK_AK" "$SK" "$Q" --unsigned Host
is_apig401 nohost "host not signed"
secret noctype "$HWMOCK_AK" "$SK" "$Q" --unsigned Content-Type
is_apig401 noctype "content-type not signed"
secret nodatesigned "$HWMOCK_AK" "$SK" "$Q" --unsigned X-Sdk-Date
is_apig401 nodatesigned "x-sdk-date not signed"
grep -v '^Authorization:' "$H/ok.h" >"$H/noauth.h"
req noauth -X POST -H @"$H/noauth.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is_apig401 noauth "no Authorization header"
sed 's/^Authorization: .*/Authorization: SDK-HMAC-SHA256 Credential=x, Signature=y/' "$H/ok.h" >"$H/garbled.h"
req garbled -X POST -H @"$H/garbled.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is_apig401 garbled "Authorization (lacks|has a garbled)"
sed '/^Authorization:/s/Signature=\(.*\)/Signature=\U\1/' "$H/ok.h" >"$H/upper.h"
req upper -X POST -H @"$H/upper.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is_apig401 upper "Authorization has an empty .* not 64 lowercase hex"
sed 's/SignedHeaders=content-type;host;x-sdk-date/SignedHeaders=host;content-type;x-sdk-date/' "$H/ok.h" >"$H/unsorted.h"
req unsorted -X POST -H @"$H/unsorted.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is_apig401 unsorted "SignedHeaders is not lower-case names, sorted"
sed 's/^Authorization: SDK-HMAC-SHA256/Authorization: SDK-HMAC-SM3/' "$H/ok.h" >"$H/sm3.h"
req sm3 -X POST -H @"$H/sm3.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is_apig401 sm3 "algorithm"
# The query is signed: the same headers for another query fail.
req otherq -X POST -H @"$H/ok.h" "$HWMOCK_URL$SECRET_PATH?$Q&duration_seconds=900"
is_apig401 otherq "signature mismatch"
for off in -1200 1200; do
  secret "date$off" "$HWMOCK_AK" "$SK" "$Q" --offset "$off"
  is "X-Sdk-Date $off s off: 401 APIG.0301, the request time expired" \
    "$REQ_CODE $(jget "$H/date$off.body" error_code) $(jget "$H/date$off.body" error_msg | sed 's/time:[0-9TZ]*/time:T/g')" \
    "401 APIG.0301 Incorrect IAM authentication information: signature expired, signature time:T,server time:T"
done
secret date800 "$HWMOCK_AK" "$SK" "$Q" --offset -800
is "X-Sdk-Date 800 s off (within 15 minutes): 200" "$REQ_CODE" 200
login_from date800
secret duration "$HWMOCK_AK" "$SK" "$Q&duration_seconds=900"
_e=$(date -u -d "$(hdr duration X-Swr-Expireat)" +%s 2>/dev/null || echo 0)
is "duration_seconds=900: 200, expires in 900 s" "$REQ_CODE $((_e - $(date +%s) > 890 && _e - $(date +%s) <= 900))" "200 1"
login_from duration
for d in 899 86401 abc -1; do
  secret "dur$d" "$HWMOCK_AK" "$SK" "$Q&duration_seconds=$d"
  is "duration_seconds=$d: SWR's 400 SVCSTG.SWR.4000014" \
    "$REQ_CODE $(jget "$H/dur$d.body" 1 errorCode)" "400 SVCSTG.SWR.4000014"
done
secret proj "$HWMOCK_AK" "$SK" "projectname=cn-south-9"
is "an unknown project: SWR's 400 in its list format" \
  "$REQ_CODE $(jget "$H/proj.body" 1 errorCode) $(jget "$H/proj.body" '#')" "400 SVCSTG.SWR.4000014 (none)"
secret noproj "$HWMOCK_AK" "$SK" ""
is "no projectname: the region's project (200)" "$REQ_CODE $(jget "$H/noproj.body" auths "$FRONT_HOST" auth | grep -c .)" "200 1"
login_from noproj
hwmock_sign "$H/ctype.h" "$HWMOCK_URL$SECRET_PATH?$Q" "$HWMOCK_AK" "$SK" --content-type text/plain
req ctype -X POST -H @"$H/ctype.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is "a Content-Type not JSON (signed): SWR's 400" "$REQ_CODE $(jget "$H/ctype.body" 1 errorCode)" \
  "400 SVCSTG.SWR.4000014"
printf '{"note":"a body is hashed"}' >"$H/body.json"
hwmock_sign "$H/body.h" "$HWMOCK_URL$SECRET_PATH?$Q" "$HWMOCK_AK" "$SK" --body-file "$H/body.json"
req body -X POST -H @"$H/body.h" --data-binary @"$H/body.json" "$HWMOCK_URL$SECRET_PATH?$Q"
is "a signed body: 200" "$REQ_CODE" 200
login_from body
printf '{"note":"a body is hashed!"}' >"$H/body2.json"
req body2 -X POST -H @"$H/body.h" --data-binary @"$H/body2.json" "$HWMOCK_URL$SECRET_PATH?$Q"
is_apig401 body2 "signature mismatch"
req get -X GET -H @"$H/ok.h" "$HWMOCK_URL$SECRET_PATH?$Q"
is "GET on CreateSecret's path: APIG's 404 APIG.0101" "$REQ_CODE $(jget "$H/get.body" error_code)" "404 APIG.0101"

# ------------------------------------------------ federation through IAM

IDT=$(cat "$HWMOCK_STATE/id_token")
printf '{"auth":{"id_token":{"id":"%s"}}}' "$IDT" >"$H/idt.json"
req idtok -X POST -H "X-Idp-Id: $HWMOCK_IDP" -H 'Content-Type: application/json;charset=UTF-8' \
  --data-binary @"$H/idt.json" "$HWMOCK_URL/v3.0/OS-AUTH/id-token/tokens"
hdr idtok X-Subject-Token >"$H/subject"
issued_file "$H/subject"
is "IAM id-token/tokens: 201, X-Subject-Token, X-Request-Id, token.methods [mapped], expires_at" \
  "$REQ_CODE $(grep -c . "$H/subject") $(hdr idtok X-Request-Id | grep -c .) $(jget "$H/idtok.body" token methods 1) $(jget "$H/idtok.body" token expires_at | grep -cE '^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z$')" \
  "201 1 1 mapped 1"
printf '{"auth":{"id_token":{"id":"%s"}}}' "not-$IDT" >"$H/idt-bad.json"
req idtokbad -X POST -H "X-Idp-Id: $HWMOCK_IDP" -H 'Content-Type: application/json' \
  --data-binary @"$H/idt-bad.json" "$HWMOCK_URL/v3.0/OS-AUTH/id-token/tokens"
is "a wrong ID token: IAM's 401 {error: {code, message, title}}" \
  "$REQ_CODE $(jget "$H/idtokbad.body" error code) $(jget "$H/idtokbad.body" error title) $(grep -ci '^X-Subject-Token' "$H/idtokbad.hdr")" \
  "401 401 Unauthorized 0"
req idpbad -X POST -H "X-Idp-Id: other-idp" -H 'Content-Type: application/json' \
  --data-binary @"$H/idt.json" "$HWMOCK_URL/v3.0/OS-AUTH/id-token/tokens"
is "a wrong X-Idp-Id: IAM's 401" "$REQ_CODE $(jget "$H/idpbad.body" error code)" "401 401"
req idpnone -X POST -H 'Content-Type: application/json' --data-binary @"$H/idt.json" \
  "$HWMOCK_URL/v3.0/OS-AUTH/id-token/tokens"
is "no X-Idp-Id: IAM's 401" "$REQ_CODE" 401
# securitytokens: built from the file so the token is never on argv.
sectok() {
  _n=$1
  _subj=$2
  _dur=$3
  { printf '{"auth":{"identity":{"methods":["token"],"token":{"id":"'; tr -d '\n' <"$_subj"
    printf '"%s}}}}' "${_dur:+,\"duration_seconds\":$_dur}"; } >"$H/$_n.json"
  req "$_n" -X POST -H 'Content-Type: application/json;charset=UTF-8' --data-binary @"$H/$_n.json" \
    "$HWMOCK_URL/v3.0/OS-CREDENTIAL/securitytokens"
}
sectok fed "$H/subject" 21600
is "IAM securitytokens: 201 {credential: access, secret, securitytoken, expires_at (6 fraction digits)}" \
  "$REQ_CODE $(jget "$H/fed.body" credential access | grep -cE '^[A-Z0-9]{20}$') $(jget "$H/fed.body" credential expires_at | grep -cE '^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z$')" \
  "201 1 1"
jsave "$H/fed.body" credential.secret "$H/fed.sk"
jsave "$H/fed.body" credential.securitytoken "$H/fed.tok"
FED_AK=$(jget "$H/fed.body" credential access)
_e=$(date -u -d "$(jget "$H/fed.body" credential expires_at)" +%s 2>/dev/null || echo 0)
is "the credential lasts duration_seconds (21600)" "$((_e - $(date +%s) > 21590))" 1
secret fedsecret "$FED_AK" "$H/fed.sk" "$Q" --token-file "$H/fed.tok"
is "CreateSecret with the federated AK/SK and its security token: 200" "$REQ_CODE" 200
login_from fedsecret
secret fednotok "$FED_AK" "$H/fed.sk" "$Q"
is_apig401 fednotok "temporary AK without X-Security-Token"
secret fedunsigned "$FED_AK" "$H/fed.sk" "$Q" --token-file "$H/fed.tok" --unsigned X-Security-Token
is_apig401 fedunsigned "x-security-token not signed"
printf 'not-a-subject-token' >"$H/badsubject"
sectok fedbad "$H/badsubject" 900
is "securitytokens with a token IAM did not issue: IAM's 401" "$REQ_CODE $(jget "$H/fedbad.body" error code)" "401 401"
sectok feddur "$H/subject" 899
is "securitytokens with duration_seconds 899: IAM's 400" "$REQ_CODE" 400
sectok feddef "$H/subject" ""
_e=$(date -u -d "$(jget "$H/feddef.body" credential expires_at)" +%s 2>/dev/null || echo 0)
is "securitytokens without duration_seconds: 15 minutes" "$REQ_CODE $((_e - $(date +%s) > 890 && _e - $(date +%s) <= 900))" \
  "201 1"
jsave "$H/feddef.body" credential.secret "$H/feddef.sk"
jsave "$H/feddef.body" credential.securitytoken "$H/feddef.tok"
# Another AK's security token.
secret fedswap "$FED_AK" "$H/fed.sk" "$Q" --token-file "$H/feddef.tok"
is_apig401 fedswap "X-Security-Token is not this AK's"
# A permanent AK with a security token.
secret permtok "$HWMOCK_AK" "$SK" "$Q" --token-file "$H/fed.tok"
is_apig401 permtok "X-Security-Token with a permanent AK"

# ------------------------------------------------ ECS metadata

req mdtok -X PUT -H 'X-Metadata-Token-Ttl-Seconds: 21600' "$HWMOCK_URL/meta-data/latest/api/token"
cp "$H/mdtok.body" "$H/md.token"
issued_file "$H/md.token"
is "metadata PUT api/token: 200 and a token" "$REQ_CODE $(grep -c . "$H/md.token")" "200 1"
req mdnottl -X PUT "$HWMOCK_URL/meta-data/latest/api/token"
is "metadata PUT api/token without X-Metadata-Token-Ttl-Seconds: 400" "$REQ_CODE" 400
{ printf 'header = "X-Metadata-Token: '; cat "$H/md.token"; printf '"\n'; } >"$H/md.curlrc"
req mdkey -K "$H/md.curlrc" "$HWMOCK_URL/openstack/latest/securitykey"
is "metadata securitykey with the token: 200 {credential: access, secret, securitytoken, expires_at}" \
  "$REQ_CODE $(jget "$H/mdkey.body" credential access | grep -cE '^[A-Z0-9]{20}$') $(jget "$H/mdkey.body" credential expires_at | grep -cE '^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z$')" \
  "200 1 1"
jsave "$H/mdkey.body" credential.secret "$H/md.sk"
jsave "$H/mdkey.body" credential.securitytoken "$H/md.tok"
secret mdsecret "$(jget "$H/mdkey.body" credential access)" "$H/md.sk" "$Q" --token-file "$H/md.tok"
is "CreateSecret with the metadata credentials and security token: 200" "$REQ_CODE" 200
login_from mdsecret
req mdbadtok -H 'X-Metadata-Token: not-a-token' "$HWMOCK_URL/openstack/latest/securitykey"
is "metadata securitykey with a wrong token: 401" "$REQ_CODE" 401
req mdnotok "$HWMOCK_URL/openstack/latest/securitykey"
is "metadata securitykey without a token (not required): 200" "$REQ_CODE" 200
jsave "$H/mdnotok.body" credential.secret "$H/mdnotok.sk"
jsave "$H/mdnotok.body" credential.securitytoken "$H/mdnotok.tok"

# ------------------------------------------------ CCE pod identity

{ printf 'header = "Authorization: '; tr -d '\n' <"$HWMOCK_STATE/pod_token"; printf '"\n'; } >"$H/pod.curlrc"
req pod -K "$H/pod.curlrc" -H 'Content-Type: application/json' -d '{}' "$HWMOCK_URL/v1/credentials"
is "pod identity: 200 {credentials: accessKeyId, secretAccessKey, securityToken, expiration}" \
  "$REQ_CODE $(jget "$H/pod.body" credentials accessKeyId | grep -cE '^[A-Z0-9]{20}$') $(jget "$H/pod.body" credentials expiration | grep -cE '^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z$')" \
  "200 1 1"
jsave "$H/pod.body" credentials.secretAccessKey "$H/pod.sk"
jsave "$H/pod.body" credentials.securityToken "$H/pod.tok"
secret podsecret "$(jget "$H/pod.body" credentials accessKeyId)" "$H/pod.sk" "$Q" --token-file "$H/pod.tok"
is "CreateSecret with the pod identity credentials and security token: 200" "$REQ_CODE" 200
login_from podsecret
req podbad -H 'Authorization: not-the-token' -H 'Content-Type: application/json' -d '{}' "$HWMOCK_URL/v1/credentials"
is "pod identity with a wrong token: 401" "$REQ_CODE" 401
req podnone -H 'Content-Type: application/json' -d '{}' "$HWMOCK_URL/v1/credentials"
is "pod identity without Authorization: 401" "$REQ_CODE" 401
req podbody -K "$H/pod.curlrc" -H 'Content-Type: application/json' -d 'nope' "$HWMOCK_URL/v1/credentials"
is "pod identity with a body that is not JSON: 400" "$REQ_CODE" 400

# ------------------------------------------------ faults on every endpoint

# ep_request NAME ENDPOINT: a valid request to ENDPOINT.
ep_request() {
  case $2 in
    secret) secret "$1" "$HWMOCK_AK" "$SK" "$Q" ;;
    iam-token)
      req "$1" -X POST -H "X-Idp-Id: $HWMOCK_IDP" -H 'Content-Type: application/json' \
        --data-binary @"$H/idt.json" "$HWMOCK_URL/v3.0/OS-AUTH/id-token/tokens" ;;
    iam-securitytoken) sectok "$1" "$H/subject" 3600 ;;
    metadata-token)
      req "$1" -X PUT -H 'X-Metadata-Token-Ttl-Seconds: 60' "$HWMOCK_URL/meta-data/latest/api/token" ;;
    metadata-key) req "$1" "$HWMOCK_URL/openstack/latest/securitykey" ;;
    pod) req "$1" -K "$H/pod.curlrc" -H 'Content-Type: application/json' -d '{}' "$HWMOCK_URL/v1/credentials" ;;
  esac
}

# ep_has_credential NAME ENDPOINT: 1 when the answer holds the credential.
ep_has_credential() {
  case $2 in
    secret) jget "$H/$1.body" auths "$FRONT_HOST" auth ;;
    iam-token) hdr "$1" X-Subject-Token ;;
    iam-securitytoken | metadata-key) jget "$H/$1.body" credential access ;;
    metadata-token) cat "$H/$1.body" ;;
    pod) jget "$H/$1.body" credentials accessKeyId ;;
  esac | grep -cvE '^$|^\((none|table|not JSON)\)$'
}

# ep_expiry NAME ENDPOINT: the expiry (Unix time) the answer states.
ep_expiry() {
  case $2 in
    secret) _x=$(hdr "$1" X-Swr-Expireat) ;;
    iam-token) _x=$(jget "$H/$1.body" token expires_at) ;;
    iam-securitytoken | metadata-key) _x=$(jget "$H/$1.body" credential expires_at) ;;
    pod) _x=$(jget "$H/$1.body" credentials expiration) ;;
  esac
  date -u -d "$_x" +%s 2>/dev/null || echo 0
}

for ep in secret iam-token iam-securitytoken metadata-token metadata-key pod; do
  case $ep in iam-*) okc=201 ;; *) okc=200 ;; esac
  ep_request "base-$ep" "$ep"
  is "$ep: a valid request answers $okc with the credential" \
    "$REQ_CODE $(ep_has_credential "base-$ep" "$ep")" "$okc 1"
  for kind in 503 500 429; do
    hwmock_fault "$ep" "$kind"
    ep_request "f-$ep-$kind" "$ep"
    case $ep in
      secret) _body="$(jget "$H/f-$ep-$kind.body" error_code)$(jget "$H/f-$ep-$kind.body" 1 errorCode)" ;;
      iam-*) _body=$(jget "$H/f-$ep-$kind.body" error code) ;;
      *) _body=$(head -c 40 "$H/f-$ep-$kind.body" | tr -d '\n') ;;
    esac
    is "$ep: fault $kind answers $kind once ($_body)" "$REQ_CODE" "$kind"
    case "$ep $kind" in
      "secret 503") is "secret: 503 has APIG's body" "$_body" "APIG.0202(none)" ;;
      "secret 429") is "secret: 429 has APIG's throttling body" "$_body" "APIG.0308(none)" ;;
      "secret 500") is "secret: 500 has SWR's body" "$_body" "(none)SVCSTG.SWR.5000007" ;;
      iam-*) is "$ep: $kind has IAM's body" "$_body" "$kind" ;;
    esac
  done
  ep_request "f-$ep-after" "$ep"
  is "$ep: after the faults are spent, $okc again" "$REQ_CODE" "$okc"
  hwmock_fault "$ep" drop
  ep_request "f-$ep-drop" "$ep"
  is "$ep: fault drop closes without an answer (curl: empty reply)" "$REQ_CODE $REQ_RC" "000 52"
  hwmock_fault "$ep" huge
  ep_request "f-$ep-huge" "$ep"
  is "$ep: fault huge answers a 20 MiB body" "$REQ_CODE $(wc -c <"$H/f-$ep-huge.body")" "200 20971520"
  rm -f "$H/f-$ep-huge.body"
  hwmock_fault "$ep" noauths
  ep_request "f-$ep-noauths" "$ep"
  is "$ep: fault noauths answers $okc without the credential" \
    "$REQ_CODE $(ep_has_credential "f-$ep-noauths" "$ep")" "$okc 0"
  hwmock_fault "$ep" badjson
  ep_request "f-$ep-badjson" "$ep"
  if [ "$ep" = metadata-token ]; then
    _bad=$(tr -d '[:print:]' <"$H/f-$ep-badjson.body" | wc -c)
    is "$ep: fault badjson answers a token with control characters" "$REQ_CODE $((_bad > 0))" "200 1"
  else
    is "$ep: fault badjson answers $okc with a body that is not JSON" \
      "$REQ_CODE $(jget "$H/f-$ep-badjson.body" x)" "$okc (not JSON)"
  fi
  hwmock_fault "$ep" expired
  ep_request "f-$ep-expired" "$ep"
  if [ "$ep" = metadata-token ]; then
    { printf 'header = "X-Metadata-Token: '; cat "$H/f-$ep-expired.body"; printf '"\n'; } >"$H/mdexp.curlrc"
    issued_file "$H/f-$ep-expired.body"
    req mdexp -K "$H/mdexp.curlrc" "$HWMOCK_URL/openstack/latest/securitykey"
    is "$ep: fault expired gives a token the security key refuses (401)" "$REQ_CODE" 401
  else
    _x=$(ep_expiry "f-$ep-expired" "$ep")
    is "$ep: fault expired answers $okc with an expiry in the past" \
      "$REQ_CODE $((_x > 0 && _x < $(date +%s)))" "$okc 1"
  fi
done
is "every fault was logged as one" "$(hwmock_count ' -> (drop|huge|[0-9]+) fault ')" 48

# What the expired credentials and login are refused for.
jsave "$H/f-iam-securitytoken-expired.body" credential.secret "$H/exp.sk"
jsave "$H/f-iam-securitytoken-expired.body" credential.securitytoken "$H/exp.tok"
secret expak "$(jget "$H/f-iam-securitytoken-expired.body" credential access)" "$H/exp.sk" "$Q" \
  --token-file "$H/exp.tok"
is_apig401 expak "temporary AK expired"
hdr f-iam-token-expired X-Subject-Token >"$H/expsubject"
issued_file "$H/expsubject"
sectok expsubj "$H/expsubject" 900
is "an expired IAM token: securitytokens 401" "$REQ_CODE" 401
login_from f-secret-expired
front_curl fexpired "$LOGIN_USER" "$H/f-secret-expired.pw"
is "an expired login (fault expired): the front refuses it" "$REQ_CODE" 401

# hang and endless (on two endpoints each; bounded by curl's --max-time).
for ep in secret metadata-key; do
  hwmock_fault "$ep" hang
  _t0=$(ms)
  REQ_TIME=1 ep_request "f-$ep-hang" "$ep"
  is "$ep: fault hang never answers (curl times out: 28, after $(($(ms) - _t0)) ms)" "$REQ_CODE $REQ_RC" "000 28"
  hwmock_fault "$ep" endless
  REQ_TIME=1 ep_request "f-$ep-endless" "$ep"
  _sz=$(wc -c <"$H/f-$ep-endless.body")
  is "$ep: fault endless sends a chunked 200 without end (curl times out after $_sz bytes)" \
    "$REQ_CODE $REQ_RC $((_sz > 262144))" "200 28 1"
  rm -f "$H/f-$ep-endless.body"
done
ep_request "after-hang" secret
is "the mock still answers after hung and endless answers" "$REQ_CODE" 200
login_from after-hang

# A fault that stays (-1) until the control file is cleared.
hwmock_fault pod 503 -1
ep_request podf1 pod
c1=$REQ_CODE
ep_request podf2 pod
c2=$REQ_CODE
hwmock_fault_clear
ep_request podf3 pod
is "COUNT -1: every request, until hwmock_fault_clear" "$c1 $c2 $REQ_CODE" "503 503 200"

# ------------------------------------------------ the mock's log

_leaks=$(cat "$HWMOCK_LOG" "$FRONT_LOG" | grep -cF -f "$ISSUED")
is "no issued password, SK or token in the mock's or the front's log ($(grep -c . "$ISSUED") secrets)" "$_leaks" 0
_leaks=$(grep -cF -f "$T/secrets.pat" "$HWMOCK_LOG")
is "no SK, ID token or pod token in the mock's log" "$_leaks" 0
is "AKs are shortened in the log" "$(grep -cE "$HWMOCK_AK|$FED_AK" "$HWMOCK_LOG")" 0

# ------------------------------------------------ expiry, clock, options

hwmock_stop
hwmock_start --secret-ttl 5 --metadata-token-required --fault pod:429:2 --expireat-digits 3
secret short "$HWMOCK_AK" "$SK" "$Q"
login_from short
is "--secret-ttl 5: the login expires in 5 s; --expireat-digits 3" \
  "$REQ_CODE $(hdr short X-Swr-Expireat | grep -cE '\.[0-9]{3}Z$')" "200 1"
if skopeo login --tls-verify=false --authfile "$H/auth2.json" -u "$LOGIN_USER" --password-stdin "$FRONT_HOST" \
  <"$H/short.pw" >"$T/out/skopeo-login2.out" 2>&1; then
  ok "skopeo logs in with the short login before its expiry"
else
  not_ok "skopeo logs in with the short login before its expiry"
  diag "$T/out/skopeo-login2.out"
fi
_e=$(date -u -d "$(hdr short X-Swr-Expireat)" +%s 2>/dev/null || echo 0)
while [ "$(date +%s)" -le "$_e" ]; do sleep 0.2; done
front_curl fafter "$LOGIN_USER" "$H/short.pw"
is "after its expiry the front refuses the login (401, Basic challenge)" \
  "$REQ_CODE $(hdr fafter Www-Authenticate | grep -c '^Basic realm=')" "401 1"
is "the front logged why" "$(tail -n 1 "$FRONT_LOG" | grep -c ' -> refused expired ')" 1
if command -v docker >/dev/null 2>&1; then
  if docker login -u "$LOGIN_USER" --password-stdin "$FRONT_HOST" <"$H/short.pw" >"$T/out/docker-late.out" 2>&1; then
    not_ok "the docker CLI cannot log in with the expired login"
  else
    ok "the docker CLI cannot log in with the expired login"
  fi
fi
if skopeo copy --dest-tls-verify=false --dest-authfile "$H/auth2.json" "oci:$T/layout:1.0" \
  "docker://$FRONT_HOST/team/late:1.0" >"$T/out/skopeo-late.out" 2>&1; then
  not_ok "skopeo cannot push with the expired login"
else
  ok "skopeo cannot push with the expired login"
fi
is "nothing was pushed with it" "$(reg_tags team/late | tr '\n' ' ')" ""
req mdreq "$HWMOCK_URL/openstack/latest/securitykey"
is "--metadata-token-required: the security key without a token is 401" "$REQ_CODE" 401
req mdtok2 -X PUT -H 'X-Metadata-Token-Ttl-Seconds: 60' "$HWMOCK_URL/meta-data/latest/api/token"
cp "$H/mdtok2.body" "$H/md2.token"
issued_file "$H/md2.token"
{ printf 'header = "X-Metadata-Token: '; cat "$H/md2.token"; printf '"\n'; } >"$H/md2.curlrc"
req mdkey2 -K "$H/md2.curlrc" "$HWMOCK_URL/openstack/latest/securitykey"
is "--metadata-token-required: with a session token 200" "$REQ_CODE" 200
jsave "$H/mdkey2.body" credential.secret "$H/md2.sk"
jsave "$H/mdkey2.body" credential.securitytoken "$H/md2.tok"
codes=
for k in 1 2 3; do
  ep_request "podcli$k" pod
  codes="$codes $REQ_CODE"
  [ "$REQ_CODE" != 200 ] || { jsave "$H/podcli$k.body" credentials.secretAccessKey "$H/podcli.sk"
    jsave "$H/podcli$k.body" credentials.securityToken "$H/podcli.tok"; }
done
is "--fault pod:429:2: two 429s, then 200" "$codes" " 429 429 200"

hwmock_stop
hwmock_start --clock-skew 1200 --sts-ttl 4
secret skew0 "$HWMOCK_AK" "$SK" "$Q"
is "--clock-skew 1200: a request signed now is 20 minutes old for the mock (401)" \
  "$REQ_CODE $(jget "$H/skew0.body" error_code)" "401 APIG.0301"
secret skew1 "$HWMOCK_AK" "$SK" "$Q" --offset 1200
is "--clock-skew 1200: a request signed on the mock's clock is taken" "$REQ_CODE" 200
login_from skew1
_e=$(date -u -d "$(hdr skew1 X-Swr-Expireat)" +%s 2>/dev/null || echo 0)
_u=$(awk -v u="$LOGIN_USER" '$1 == u { print $3 }' "$HWMOCK_STATE/users")
is "X-Swr-Expireat is on the mock's clock, the users file on this machine's" "$((_e - ${_u:-0}))" 1200
req mdsts "$HWMOCK_URL/openstack/latest/securitykey"
jsave "$H/mdsts.body" credential.secret "$H/mdsts.sk"
jsave "$H/mdsts.body" credential.securitytoken "$H/mdsts.tok"
secret sts1 "$(jget "$H/mdsts.body" credential access)" "$H/mdsts.sk" "$Q" --token-file "$H/mdsts.tok" --offset 1200
is "--sts-ttl 4: the temporary AK works at first" "$REQ_CODE" 200
login_from sts1
_e=$(date -u -d "$(jget "$H/mdsts.body" credential expires_at)" +%s 2>/dev/null || echo 0)
while [ "$(date +%s)" -le "$((_e - 1200))" ]; do sleep 0.2; done
secret sts2 "$(jget "$H/mdsts.body" credential access)" "$H/mdsts.sk" "$Q" --token-file "$H/mdsts.tok" --offset 1200
is_apig401 sts2 "temporary AK expired"

# An identity without the ECS agency.
printf '{"users":[{"ak":"%s","sk":"%s","projects":["%s","%s_sub"]}]}\n' "$HWMOCK_AK" "$HWMOCK_SK" \
  "$E2E_PROJECT" "$E2E_PROJECT" >"$H/ids2.json"
hwmock_stop
hwmock_start --identities "$H/ids2.json"
req noagency "$HWMOCK_URL/openstack/latest/securitykey"
is "no agency: the security key answers 401 'Please configure Cloud Service Agency first'" \
  "$REQ_CODE $(grep -c 'Please configure Cloud Service Agency first' "$H/noagency.body")" "401 1"
secret sub "$HWMOCK_AK" "$SK" "projectname=${E2E_PROJECT}_sub"
is "a user's second project (projects list): 200, its user PROJECT_sub@..." \
  "$REQ_CODE $(jget "$H/sub.body" auths "$FRONT_HOST" auth | base64 -d 2>/dev/null | grep -c "^${E2E_PROJECT}_sub@")" "200 1"
login_from sub
req podnoid -H 'Authorization: anything' -H 'Content-Type: application/json' -d '{}' "$HWMOCK_URL/v1/credentials"
is "no pod identity configured: 401" "$REQ_CODE" 401

# HTTPS in front of the mock (socat), as tests needing TLS use it.
if hwmock_tls_start; then
  hwmock_sign "$H/tls.h" "$HWMOCK_HTTPS_URL$SECRET_PATH?$Q" "$HWMOCK_AK" "$SK"
  req tls -X POST -H @"$H/tls.h" --cacert "$HWMOCK_CA" "$HWMOCK_HTTPS_URL$SECRET_PATH?$Q"
  is "over HTTPS (socat, a throwaway CA): CreateSecret 200" "$REQ_CODE" 200
  login_from tls
else
  not_ok "socat terminates TLS in front of the mock"
fi

_hp=$HWMOCK_PID
_fp=$FRONT_PID
hwmock_stop
front_stop
if kill -0 "$_hp" 2>/dev/null || kill -0 "$_fp" 2>/dev/null; then
  not_ok "hwmock_stop and front_stop end the mock ($_hp) and the front ($_fp)"
else
  ok "hwmock_stop and front_stop end the mock ($_hp) and the front ($_fp)"
fi
_leaks=$(grep -lF -f "$ISSUED" "$T"/logs/* 2>/dev/null | grep -cv argv)
is "no issued secret in any log ($(grep -c . "$ISSUED") secrets)" "$_leaks" 0
registry_stop
check_no_secrets
done_testing
