#!/bin/sh
# faults.sh: what swrauth does when things go wrong, with real engines
# (skopeo; podman and the docker CLI where their behaviour differs) and a
# real registry, through faultproxy.lua (a small HTTP proxy in front of the
# registry that answers 5xx, drops or stalls chosen requests and logs every
# request, so attempts can be counted):
# - an engine missing at the start (exit 4) or vanishing mid-release (4);
#   an engine exiting non-zero or killed mid-release (1, not retried);
# - the registry down (a closed port), 5xx for the first N requests or for
#   every manifest PUT of one tag, a dropped connection, a stalled answer
#   with --timeout: bounded retries with bounded backoff, then exit 1;
# - wrong credentials (401): exit 1 at once, no retry;
# - after any failure: an error naming the step, the references pushed on
#   stdout and those not pushed on stderr (and in --json);
# - auth files on a full disk, a read-only file system (tmpfs mounts), a
#   path through a file, corrupt (truncated, an array, invalid UTF-8,
#   binary, trailing NULs, `auths` not an object): exit 1 naming the file
#   and the place, the file byte for byte as it was, no temporary file left;
# - 20 concurrent logins (skopeo, the docker CLI, `config docker`, and both
#   kinds mixed on one file): all 20 entries and the earlier ones kept.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"

e2e_init
need skopeo skopeo
need podman podman
need docker docker.io
need cmp diffutils
need socat socat
if ! "${LUA:-lua5.4}" -e 'require "luv"' >/dev/null 2>&1; then
  E2E_MISSING="$E2E_MISSING lua-luv"
  not_ok "Lua 5.4 finds luv (Debian package 'lua-luv')"
fi
need_done
swrauth_ready
containers_storage
shim_engines
PROXY="$ROOT/tests/e2e/faultproxy.lua"
mkdir -p "$T/layout" "$T/priv" "$T/luaonly"
oci_layout "$T/layout" 1.0
ln -s "$(command -v "${LUA:-lua5.4}")" "$T/luaonly/lua5.4"
# Small waits: 0.2 s before the second attempt, 0.4 s before the third.
export SWRAUTH_BACKOFF=0.2

if ! registry_start http; then
  not_ok "docker-registry starts"
  done_testing
fi

# ---------------------------------------------------------------- helpers

ms() { date +%s%3N; }

# proxy_start ARGS...: a faultproxy in front of the registry (ARGS: --match,
# --count, --action, --ports). Sets PX_HOST (its first address), PX_PID,
# PX_LOG (one line per request).
PX_N=0
proxy_start() {
  PX_N=$((PX_N + 1))
  PX_LOG="$T/logs/proxy$PX_N.log"
  e2e_bg "proxy$PX_N" "${LUA:-lua5.4}" "$PROXY" --upstream "$REG_HOST" \
    --port-file "$T/proxy$PX_N.port" --log "$PX_LOG" "$@"
  PX_PID=$E2E_BG_PID
  _i=0
  while [ ! -s "$T/proxy$PX_N.port" ] && [ "$_i" -lt 200 ]; do
    sleep 0.02
    _i=$((_i + 1))
  done
  PX_HOST="127.0.0.1:$(head -n 1 "$T/proxy$PX_N.port")"
  [ -s "$T/proxy$PX_N.port" ]
}

proxy_stop() {
  [ -n "${PX_PID:-}" ] && e2e_stop "$PX_PID"
  PX_PID=
}

# px_count ERE: requests in the proxy's log matching ERE.
px_count() {
  grep -cE "$1" "$PX_LOG"
}

# swp NAME CREDS HOST ARGS...: swrauth against HOST (plain HTTP) with
# skopeo (ENGINE=NAME for another); SW_MS is how long it took. With
# SW_PATH set, swrauth (only) runs with that PATH.
SW_REAL=$SWRAUTH
export SW_REAL
printf '#!/bin/sh\nPATH=$SW_PATH\nexport PATH\nexec "$SW_REAL" "$@"\n' >"$T/sw-path"
chmod +x "$T/sw-path"
swp() {
  _n=$1
  _c=$2
  _h=$3
  shift 3
  [ -z "${SW_PATH:-}" ] || SWRAUTH="$T/sw-path"
  _t0=$(ms)
  sw "$_n" "$_c" --project "$E2E_PROJECT" --registry "$_h" --insecure --engine "${ENGINE:-skopeo}" "$@"
  SW_MS=$(($(ms) - _t0))
  SWRAUTH=$SW_REAL
}

# exit_is NAME CODE: the last swrauth exited CODE.
exit_is() {
  if [ "$SW_RC" -eq "$2" ]; then
    ok "$1: exit $2"
  else
    not_ok "$1: exit $2 (got $SW_RC)"
    diag "$SW_OUT" "$SW_ERR"
  fi
}

# err_has NAME ERE: the last swrauth's stderr matches ERE.
err_has() {
  if grep -qE "$2" "$SW_ERR"; then
    ok "$1"
  else
    not_ok "$1 (stderr should match: $2)"
    diag "$SW_ERR"
  fi
}

# took_between NAME MIN MAX: the last swrauth ran MIN to MAX ms.
took_between() {
  if [ "$SW_MS" -ge "$2" ] && [ "$SW_MS" -le "$3" ]; then
    ok "$1 (took $SW_MS ms, bounds $2-$3)"
  else
    not_ok "$1 (took $SW_MS ms, bounds $2-$3)"
  fi
}

# json_summary FILE: the --json document as "ok EXIT" then "pushed REF"
# and "not_pushed REF STATUS STEP" lines, then "attempts STEP N" lines.
json_summary() {
  e2e_lua '
    local d = load(arg[1]); if not d then os.exit(3) end
    local function int(v) return v and ("%d"):format(v) or "-" end
    print("ok", tostring(d.ok), int(d.exit))
    for _, p in ipairs(d.pushed or {}) do print("pushed", p.reference) end
    for _, p in ipairs(d.not_pushed or {}) do
      print("not_pushed", p.reference, p.status, p.step or "-")
    end
    for _, s in ipairs(d.steps or {}) do print("attempts", s.step, int(s.attempts)) end' "$1"
}

# swp_docker ARGS...: swp with the docker CLI (no daemon: login, logout).
swp_docker() { ENGINE=docker swp "$@"; }

REPO=team/app
R() { echo "$PX_HOST/$REPO:$1"; }

# ------------------------------------------------------- engine missing
SW_PATH="$T/luaonly" swp missing key "$REG_HOST" release "oci:$T/layout:1.0" --repository "$REPO" --tag 1.0
exit_is "engine missing (skopeo not on PATH)" 4
err_has "engine missing: the error names the step, the binary and the package" \
  "^swrauth: login: engine 'skopeo' not found: no 'skopeo' on PATH \(install the Debian package 'skopeo'\)$"
err_has "engine missing: the reference is listed as not pushed (skipped)" \
  "^not pushed  $REG_HOST/$REPO:1.0  \(skipped\)$"
SW_PATH="$T/luaonly" ENGINE=auto swp missing-auto key "$REG_HOST" login
exit_is "no engine at all (--engine auto)" 4
err_has "no engine at all: the error says what was looked for" \
  "^swrauth: login: no container engine found on PATH \(looked for docker, podman"

# An engine that is there for the login and the first push, then gone.
mkdir -p "$T/vanish"
cat >"$T/vanish/skopeo" <<EOF
#!/bin/sh
"$T/shim/skopeo" "\$@"
rc=\$?
case " \$* " in *" copy "*) /bin/rm -f "\$0" ;; esac
exit \$rc
EOF
chmod +x "$T/vanish/skopeo"
# (Tags by skopeo copy: through the registry API no engine is needed.)
SW_PATH="$T/vanish:$T/luaonly" swp vanish key "$REG_HOST" release "oci:$T/layout:1.0" \
  --repository team/vanish --tag 1.0 --tag 1.1 --remote-tag engine
exit_is "engine gone mid-release" 4
err_has "engine gone mid-release: the error names the step and the binary" \
  "^swrauth: tag: 'skopeo' not found on PATH"
is "engine gone mid-release: stdout lists the pushed reference" \
  "$(cut -d' ' -f1 "$SW_OUT")" "$REG_HOST/team/vanish:1.0"
err_has "engine gone mid-release: stderr lists the reference not pushed" \
  "^not pushed  $REG_HOST/team/vanish:1.1  \(tag failed\)$"
is "engine gone mid-release: the registry has what the summary says" \
  "$(reg_tags team/vanish | tr '\n' ' ')" "1.0 "

# ------------------------------------------- engine fails mid-release
# A skopeo that fails (exit 2, or killed) when it copies to CRASH_ON.
mkdir -p "$T/crash"
cat >"$T/crash/skopeo" <<EOF
#!/bin/sh
for a in "\$@"; do
  case \$a in
    *"\$CRASH_ON")
      echo "\$a" >>"$T/logs/crash.log"
      echo "shim: simulated engine failure" >&2
      [ -n "\${CRASH_KILL:-}" ] && kill -KILL \$\$
      exit 2 ;;
  esac
done
exec "$T/shim/skopeo" "\$@"
EOF
chmod +x "$T/crash/skopeo"
: >"$T/logs/crash.log"
SW_PATH="$T/crash:$PATH"
# Tags after the first by skopeo copy (the registry API path is tested below).
export SW_PATH CRASH_ON=":1.1" SWRAUTH_REMOTE_TAG=engine
swp crash key "$REG_HOST" release "oci:$T/layout:1.0" --repository team/crash --tag 1.0 --tag 1.1 --tag 1.2
exit_is "engine exits 2 mid-release" 1
err_has "engine exits 2 mid-release: the error names the step, the command and the exit status" \
  "^swrauth: tag: 'skopeo copy .*docker://$REG_HOST/team/crash:1.1' failed \(exit 2\): shim: simulated engine failure$"
is "engine exits 2 mid-release: not retried (one attempt)" "$(grep -c . "$T/logs/crash.log")" 1
is "engine exits 2 mid-release: stdout lists 1.0 with the registry's digest" \
  "$(cat "$SW_OUT")" "$REG_HOST/team/crash:1.0 $(reg_digest team/crash 1.0)"
err_has "engine exits 2 mid-release: stderr counts what was pushed" "^1 of 3 references pushed"
err_has "engine exits 2 mid-release: 1.1 failed at the tag step" \
  "^not pushed  $REG_HOST/team/crash:1.1  \(tag failed\)$"
err_has "engine exits 2 mid-release: 1.2 was skipped" \
  "^not pushed  $REG_HOST/team/crash:1.2  \(skipped\)$"
is "engine exits 2 mid-release: the registry has 1.0 only" "$(reg_tags team/crash | tr '\n' ' ')" "1.0 "
swp crash-json key "$REG_HOST" --json release "oci:$T/layout:1.0" --repository team/crash --tag 1.0 --tag 1.1 --tag 1.2
is "engine exits 2 mid-release, --json: ok false, exit 1, pushed and not_pushed listed" \
  "$(json_summary "$SW_OUT" | grep -v '^attempts' | tr '\t' ' ')" \
  "ok false 1
pushed $REG_HOST/team/crash:1.0
not_pushed $REG_HOST/team/crash:1.1 failed tag
not_pushed $REG_HOST/team/crash:1.2 skipped -"
export CRASH_KILL=1
: >"$T/logs/crash.log"
swp crash-kill key "$REG_HOST" release "oci:$T/layout:1.0" --repository team/crash --tag 1.0 --tag 1.1
exit_is "engine killed (SIGKILL) mid-release" 1
err_has "engine killed: the error says exit 137" "^swrauth: tag: 'skopeo copy .*' failed \(exit 137\)"
is "engine killed: not retried (no output says it was transient)" "$(grep -c . "$T/logs/crash.log")" 1
unset SW_PATH CRASH_ON CRASH_KILL SWRAUTH_REMOTE_TAG

# ------------------------------------------------------ registry down
DOWN="127.0.0.1:$(e2e_free_port)"
: >"$T/logs/argv.log"
swp down key "$DOWN" release "oci:$T/layout:1.0" --repository "$REPO" --tag 1.0 --tag 1.1
exit_is "registry down (closed port)" 1
is "registry down: 3 login attempts (the default --retries)" \
  "$(grep -c '^skopeo \[login\]' "$T/logs/argv.log")" 3
err_has "registry down: the error names the step, the attempts and the reason" \
  "^swrauth: login: 'skopeo login .*' failed \(exit 1\) after 3 attempts: .*connection refused$"
err_has "registry down: waits 0.2 s, then 0.4 s (SWRAUTH_BACKOFF=0.2)" \
  "attempt 2 of 3 failed \(.*connection refused\); again in 0.40 s$"
took_between "registry down: bounded time" 600 6000
is "registry down: both references listed as not pushed (skipped)" \
  "$(grep -c '^not pushed .*(skipped)$' "$SW_ERR")" 2
: >"$T/logs/argv.log"
SWRAUTH_RETRIES=1 swp down1 key "$DOWN" login
exit_is "registry down, SWRAUTH_RETRIES=1" 1
is "registry down, SWRAUTH_RETRIES=1: one attempt, no wait" \
  "$(grep -c '^skopeo \[login\]' "$T/logs/argv.log") $(grep -c 'again in' "$SW_ERR")" "1 0"

# ------------------------------------------------ wrong credentials (401)
proxy_start
: >"$T/logs/argv.log"
swp wrongkey badkey "$PX_HOST" release "oci:$T/layout:1.0" --repository team/nokey --tag 1.0
exit_is "wrong key (401)" 1
err_has "wrong key: the error names the step and says the login was refused" \
  "^swrauth: login: 'skopeo login .*' failed \(exit 1\): .*invalid username/password$"
# The login and the first copy run at the same time: one attempt of each.
is "wrong key: one attempt (401 is not retried)" \
  "$(grep -c '^skopeo \[login\]' "$T/logs/argv.log") $(grep -c '^skopeo \[copy\]' "$T/logs/argv.log") $(grep -c 'attempt' "$SW_ERR")" \
  "1 1 0"
err_has "wrong key: the reference is listed as not pushed" \
  "^not pushed  $PX_HOST/team/nokey:1.0  \(skipped\)$"
is "wrong key: nothing pushed" "$(reg_tags team/nokey | tr '\n' ' ')" ""
proxy_stop

# ------------------------------------------- 5xx for the first N requests
# skopeo's login asks /v2/ then /v1/_ping: two 503s fail one attempt.
proxy_start --match '^GET /v[12]/' --count 2 --action 503
swp login503 key "$PX_HOST" --json login
exit_is "login: 503 for the first attempt, then fine" 0
is "login: 2 attempts in the --json steps" "$(json_summary "$SW_OUT" | grep '^attempts' | tr '\t' ' ')" \
  "attempts login 2"
err_has "login: the failed attempt is reported with the wait" \
  "attempt 1 of 3 failed \(.*503 \(Service Unavailable\)\); again in 0.20 s$"
proxy_stop

# Manifest PUTs of the first tag: 503 twice, then through.
proxy_start --match '^PUT /v2/team/app/manifests/1%.0$' --count 2 --action 503
swp push503 key "$PX_HOST" --json release "oci:$T/layout:1.0" --repository "$REPO" --tag 1.0 --tag 1.1
exit_is "push: 503 for 2 manifest PUTs, then fine" 0
is "push: the proxy saw 3 manifest PUTs for 1.0" "$(px_count ' PUT /v2/team/app/manifests/1\.0 ')" 3
is "push: --json steps say 3 attempts for the push, 1 for the tag" \
  "$(json_summary "$SW_OUT" | grep '^attempts' | tr '\t' ' ' | tr '\n' ';')" \
  "attempts login 1;attempts push 3;attempts tag 1;"
took_between "push: bounded time with two waits (0.2 + 0.4 s)" 600 8000
is "push: the registry has both tags" "$(reg_tags "$REPO" | tr '\n' ' ')" "1.0 1.1 "
proxy_stop

# Every manifest PUT of the second tag fails: the release stops there,
# with tags added by skopeo copy (engine) and through the registry API.
for how in engine api; do
  rp=team/tag$how
  RR() { echo "$PX_HOST/$rp:$1"; }
  proxy_start --match "^PUT /v2/$rp/manifests/2%.1$" --count -1 --action 503
  if [ $how = engine ]; then
    why="'skopeo copy .*docker://$PX_HOST/$rp:2.1' failed \(exit 1\) after 3 attempts: .*503 Service Unavailable"
  else
    why="PUT $PX_HOST/v2/$rp/manifests/2.1: HTTP 503 \(UNAVAILABLE: service unavailable\) \(after 3 attempts\)"
  fi
  swp tag503-$how key "$PX_HOST" --json release "oci:$T/layout:1.0" --repository "$rp" --tag 2.0 \
    --tag 2.1 --tag 2.2 --remote-tag $how
  exit_is "tag ($how): 503 on every manifest PUT of 2.1" 1
  is "tag ($how): exactly 3 attempts reached the registry (--retries 3)" \
    "$(px_count " PUT /v2/$rp/manifests/2\.1 ")" 3
  err_has "tag ($how): the error names the step, the attempts and the status" "^swrauth: tag: $why$"
  took_between "tag ($how): bounded time" 600 8000
  is "tag ($how): --json: ok false, 2.0 pushed, 2.1 failed, 2.2 skipped" \
    "$(json_summary "$SW_OUT" | grep -v '^attempts' | tr '\t' ' ')" \
    "ok false 1
pushed $(RR 2.0)
not_pushed $(RR 2.1) failed tag
not_pushed $(RR 2.2) skipped -"
  is "tag ($how): the registry has 2.0, not 2.1 or 2.2" \
    "$(reg_tags "$rp" | grep '^2' | tr '\n' ' ')" "2.0 "
  is "tag ($how): 2.2 was never tried" "$(px_count " PUT /v2/$rp/manifests/2\.2 ")" 0
  SWRAUTH_BACKOFF=0.05 swp tag503-5-$how key "$PX_HOST" --retries 5 release "oci:$T/layout:1.0" \
    --repository "$rp" --tag 2.0 --tag 2.1 --remote-tag $how
  is "tag ($how): --retries 5 gives 5 more attempts" \
    "$SW_RC $(px_count " PUT /v2/$rp/manifests/2\.1 ")" "1 8"
  proxy_stop
done

# podman: local tag + push; blob uploads fail twice (502), then through;
# then every manifest PUT of the second tag fails.
e2e_context "$T/ctx"
check "podman build (FROM scratch) makes localhost/e2e/src:1" \
  podman build -q -t localhost/e2e/src:1 "$T/ctx"
proxy_start --match '^P[AU]T[CH]* /v2/team/pod/blobs/uploads' --count 2 --action 502
ENGINE=podman swp pod502 key "$PX_HOST" release localhost/e2e/src:1 --repository team/pod --tag 1.0
exit_is "podman push: 502 on the first 2 blob uploads, then fine" 0
is "podman push: 2 failed attempts reported" "$(grep -c 'attempt [12] of 3 failed (.*502 Bad Gateway)' "$SW_ERR")" 2
is "podman push: the registry has the tag" "$(reg_tags team/pod | tr '\n' ' ')" "1.0 "
proxy_stop
proxy_start --match '^PUT /v2/team/pod/manifests/1%.1$' --count -1 --action 503
ENGINE=podman swp pod503 key "$PX_HOST" --json release localhost/e2e/src:1 --repository team/pod --tag 1.0 --tag 1.1 --tag 1.2
exit_is "podman: 503 on every manifest PUT of 1.1" 1
is "podman: exactly 3 pushes of 1.1 reached the registry" "$(px_count ' PUT /v2/team/pod/manifests/1\.1 ')" 3
is "podman --json: 1.0 pushed, 1.1 failed at the push, 1.2 skipped" \
  "$(json_summary "$SW_OUT" | grep -v '^attempts' | tr '\t' ' ')" \
  "ok false 1
pushed $PX_HOST/team/pod:1.0
not_pushed $PX_HOST/team/pod:1.1 failed push
not_pushed $PX_HOST/team/pod:1.2 skipped -"
proxy_stop

# A connection closed without an answer ("EOF"), and 429.
proxy_start --match '^GET /v2/$' --count 1 --action drop
swp drop key "$PX_HOST" login
exit_is "login: the first connection dropped without an answer, then fine" 0
err_has "login: the dropped connection was retried" "attempt 1 of 3 failed \(.*: EOF\)"
proxy_stop
proxy_start --match '^PATCH /v2/team/t429/blobs/uploads/' --count 1 --action 429
swp p429 key "$PX_HOST" release "oci:$T/layout:1.0" --repository team/t429 --tag 1.0
exit_is "push: 429 Too Many Requests on a blob upload once, then fine" 0
err_has "push: the 429 was retried" "attempt 1 of 3 failed \(.*toomanyrequests: too many requests\)"
proxy_stop
proxy_start --match '^HEAD /v2/team/t500/blobs/' --count 1 --action 500
swp p500 key "$PX_HOST" release "oci:$T/layout:1.0" --repository team/t500 --tag 1.0
exit_is "push: 500 on a blob check once, then fine" 0
err_has "push: the 500 was retried" "attempt 1 of 3 failed \(.*500 \(Internal Server Error\)\)"
proxy_stop

# A registry that accepts the connection and never answers: --timeout.
proxy_start --match '^GET /v2/$' --count 1 --action hang
swp hang key "$PX_HOST" --timeout 1 login
exit_is "login: no answer to the first attempt, --timeout 1" 0
err_has "login: the stalled attempt was stopped and retried" \
  "attempt 1 of 3 failed \(timed out after 1 s\); again in 0.20 s$"
took_between "login: bounded by the timeout" 1000 8000
proxy_stop
proxy_start --match '^GET /v2/$' --count -1 --action hang
SWRAUTH_TIMEOUT=1 SWRAUTH_RETRIES=2 swp hang2 key "$PX_HOST" login
exit_is "login: never an answer, SWRAUTH_TIMEOUT=1, SWRAUTH_RETRIES=2" 1
err_has "login: the error says it timed out after 2 attempts" \
  "^swrauth: login: 'skopeo login .*' failed \(timed out after 1 s\) after 2 attempts"
took_between "login: two timeouts and one wait" 2000 6000
proxy_stop

# ------------------------------------------- registry API: token auth, curl
# A registry with token authentication (as SWR): the proxy answers 401 with
# a Bearer challenge and issues tokens for Basic PROJECT@AK:KEY.
FAULTPROXY_BEARER="$E2E_USER:$E2E_KEY"
export FAULTPROXY_BEARER
proxy_start
unset FAULTPROXY_BEARER
swp bearer key "$PX_HOST" release "oci:$T/layout:1.0" --repository team/bear \
  --tag 3.0 --tag 3.1 --tag 3.2 --remote-tag api
exit_is "token auth: release with 3 tags" 0
is "token auth: the registry has 3.0, 3.1 and 3.2 on one digest" \
  "$(reg_tags team/bear | tr '\n' ' ') $(for t in 3.0 3.1 3.2; do reg_digest team/bear $t; done | sort -u | wc -l)" \
  "3.0 3.1 3.2  1"
is "token auth: 3.1 and 3.2 added through the registry API" \
  "$(grep -c '^tag .*(registry API)' "$SW_ERR")" 2
is "token auth: swrauth's requests got a token for pull,push" \
  "$(px_count 'GET /token\?service=faultproxy&scope=repository%3Ateam%2Fbear%3Apull%2Cpush -> token 200')" 1
is "token auth: the manifest PUTs of 3.1 and 3.2 passed with the token" \
  "$(px_count ' PUT /v2/team/bear/manifests/3\.[12] -> pass')" 2
is "token auth: no token in swrauth's output" "$(cat "$SW_OUT" "$SW_ERR" | grep -c faultproxy-token)" 0
# The token service refuses a wrong key: the registry module says so.
# mod_lua CODE: Lua with the checkout's modules.
mod_lua() { LUA_PATH_5_4="$ROOT/lua/?.lua;;" LUA_CPATH_5_4="$ROOT/?.so;;" "${LUA:-lua5.4}" -e "$1"; }
tokfail=$(SWRAUTH_TEST_HOST="$PX_HOST" SWRAUTH_TEST_USER="$E2E_USER" mod_lua '
  local reg = require("swrauth.registry").new{registry = os.getenv("SWRAUTH_TEST_HOST"),
    user = os.getenv("SWRAUTH_TEST_USER"), key = ("0"):rep(64), insecure = true}
  local m, err, transient = reg:get_manifest("team/bear", "3.0")
  reg:close()
  print(tostring(m) .. " " .. tostring(transient) .. " " .. err)')
case $tokfail in
  "nil false token service http://$PX_HOST/token: HTTP 401 (UNAUTHORIZED): the registry refused the credentials"*)
    ok "token auth: a wrong key is refused by the token service, not retried" ;;
  *) not_ok "token auth: a wrong key is refused by the token service, not retried (got: $tokfail)" ;;
esac
proxy_stop
# The same registry behind TLS (socat with a certificate of the e2e CA, the
# realm https): the real SWR flow, curl's HTTPS requests with the token.
FAULTPROXY_BEARER="$E2E_USER:$E2E_KEY"
FAULTPROXY_SCHEME=https
export FAULTPROXY_BEARER FAULTPROXY_SCHEME
proxy_start
unset FAULTPROXY_BEARER FAULTPROXY_SCHEME
mkdir -p "$T/tls"
if e2e_make_certs "$T/tls"; then
  TLS_PORT=$(e2e_free_port)
  e2e_bg socat socat "OPENSSL-LISTEN:$TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert=$T/tls/server.crt,key=$T/tls/server.key,verify=0" \
    "TCP:$PX_HOST"
  TLS_PID=$E2E_BG_PID
  _i=0
  until curl -s -o /dev/null --cacert "$T/tls/certs/ca.crt" "https://127.0.0.1:$TLS_PORT/v2/" ||
    [ "$_i" -ge 100 ]; do
    sleep 0.05
    _i=$((_i + 1))
  done
  sw bearer-tls key --project "$E2E_PROJECT" --registry "127.0.0.1:$TLS_PORT" --cert-dir "$T/tls/certs" \
    --engine skopeo release "oci:$T/layout:1.0" --repository team/beartls --tag 5.0 --tag 5.1 --tag 5.2 \
    --remote-tag api
  exit_is "token auth over HTTPS: release with 3 tags" 0
  is "token auth over HTTPS: the registry has 5.0, 5.1 and 5.2 on one digest" \
    "$(reg_tags team/beartls | tr '\n' ' ') $(for t in 5.0 5.1 5.2; do reg_digest team/beartls $t; done | sort -u | wc -l)" \
    "5.0 5.1 5.2  1"
  is "token auth over HTTPS: 5.1 and 5.2 added through the registry API" \
    "$(grep -c '^tag .*(registry API)' "$SW_ERR")" 2
  is "token auth over HTTPS: curl got a token for pull,push" \
    "$(px_count 'GET /token\?service=faultproxy&scope=repository%3Ateam%2Fbeartls%3Apull%2Cpush -> token 200')" 1
  is "token auth over HTTPS: the PUTs of 5.1 and 5.2 passed with the token" \
    "$(px_count ' PUT /v2/team/beartls/manifests/5\.[12] -> pass')" 2
  is "token auth over HTTPS: no token in swrauth's output" \
    "$(cat "$SW_OUT" "$SW_ERR" | grep -c faultproxy-token)" 0
  e2e_stop "$TLS_PID"
else
  not_ok "token auth over HTTPS: openssl makes the test CA"
  diag "$T/tls/openssl.log"
fi
proxy_stop
# Without --insecure a plain-HTTP token realm is refused (the key would go
# unencrypted); checked on the module, as the registry is plain HTTP too.
realm=$(mod_lua '
  local reg = require("swrauth.registry").new{registry = "r.example", user = "u", key = "k"}
  print(select(2, reg:_fetch_token({realm = "http://r.example/token"}, "team/app")))')
case $realm in
  "token service http://r.example/token is plain HTTP"*) ok "token auth: a plain-HTTP realm is refused without --insecure" ;;
  *) not_ok "token auth: a plain-HTTP realm is refused without --insecure (got: $realm)" ;;
esac

# curl missing, plain-HTTP registry: every registry API request is made
# by curl, so --remote-tag api stops (exit 4, naming the package) and auto
# adds the tags with skopeo copies (tests/e2e/skopeo.sh: the same over HTTPS).
mkdir -p "$T/nocurl"
for f in /usr/bin/* /bin/*; do
  case ${f##*/} in curl) ;; *) [ -e "$T/nocurl/${f##*/}" ] || ln -s "$f" "$T/nocurl/${f##*/}" ;; esac
done
: >"$T/logs/argv.log"
SW_PATH="$T/shim:$T/nocurl" swp nocurl-api key "$REG_HOST" release "oci:$T/layout:1.0" \
  --repository team/nocurlapi --tag 4.0 --tag 4.1 --remote-tag api
exit_is "curl missing, --remote-tag api, plain-HTTP registry" 4
is "curl missing, api: the error names curl and its package" \
  "$(grep -c "^swrauth: tag: 'curl' not found on PATH (package curl)" "$SW_ERR")" 1
: >"$T/logs/argv.log"
SW_PATH="$T/shim:$T/nocurl" swp nocurl-auto key "$REG_HOST" release "oci:$T/layout:1.0" \
  --repository team/nocurlauto --tag 4.0 --tag 4.1
exit_is "curl missing, --remote-tag auto, plain-HTTP registry" 0
is "curl missing, auto: 4.1 added by a skopeo copy in the registry" \
  "$(grep -c ':4\.1\]$' "$T/logs/argv.log")" 1
is "curl missing, auto: the registry has 4.0 and 4.1" \
  "$(reg_tags team/nocurlauto | tr '\n' ' ')" "4.0 4.1 "

# ---------------------------------------------------- a hostile registry
# The registry API's answers are not trusted (the proxy answers for the
# registry, without forwarding): a manifest that is not the digest asked
# for, a PUT answer naming another digest (with terminal escapes), an
# endless answer; and SIGTERM while a request hangs.
proxy_start --match "^GET /v2/team/swap/manifests/sha256:" --count -1 --action swap
swp swap key "$PX_HOST" release "oci:$T/layout:1.0" --repository team/swap \
  --tag 6.0 --tag 6.1 --remote-tag api
exit_is "hostile registry: another manifest than the digest asked for" 1
is "hostile registry: swrauth refuses the swapped manifest, saying why" \
  "$(grep -c 'the manifest the registry sent has digest sha256:[0-9a-f]*, not the one asked for: refused' "$SW_ERR")" 1
is "hostile registry: 6.1 reported not pushed (tag failed), 6.0 pushed" \
  "$(grep -c 'not pushed  .*:6\.1  (tag failed)' "$SW_ERR") $(cat "$SW_OUT")" \
  "1 $PX_HOST/team/swap:6.0 $OCI_DIGEST"
is "hostile registry: the registry has 6.0 only" "$(reg_tags team/swap | tr '\n' ' ')" "6.0 "
proxy_stop

proxy_start --match "^PUT /v2/team/forge/manifests/6%.1" --count -1 --action digest
swp forge key "$PX_HOST" release "oci:$T/layout:1.0" --repository team/forge \
  --tag 6.0 --tag 6.1 --remote-tag api
exit_is "hostile registry: a PUT answered with another digest" 1
is "hostile registry: no escape or bell byte reaches the terminal" \
  "$(cat "$SW_OUT" "$SW_ERR" | tr -d -c '\033\007' | wc -c)" 0
is "hostile registry: the forged digest is shown escaped, the tag said to point maybe elsewhere" \
  "$(grep -c "answered with digest 'sha256:e*\\\\x1B\[1A\\\\x1B\[2K\\\\x1B\]0;pwned\\\\x07', not $OCI_DIGEST (the manifest sent): the tag may point at another image" "$SW_ERR")" 1
is "hostile registry: stdout lists 6.0 with the digest swrauth computed, not 6.1" \
  "$(cat "$SW_OUT")" "$PX_HOST/team/forge:6.0 $OCI_DIGEST"
proxy_stop

proxy_start --match "^GET /v2/team/endless/manifests/sha256:" --count -1 --action endless
swp endless key "$PX_HOST" release "oci:$T/layout:1.0" --repository team/endless \
  --tag 6.0 --tag 6.1 --remote-tag api
exit_is "hostile registry: an endless manifest answer" 1
is "hostile registry: the endless answer is stopped at its bound" \
  "$(grep -c 'the answers were larger than [0-9]* bytes: stopped' "$SW_ERR")" 1
is "hostile registry: ... well within a minute, no temporary file left" \
  "$([ "$SW_MS" -lt 60000 ] && echo fast) $(ls "$TMPDIR" | grep -c '^swrauth-')" "fast 0"
proxy_stop

# SIGTERM while the manifest GET hangs: curl stopped, temporary files gone.
proxy_start --match "^GET /v2/team/hang/manifests/sha256:" --count -1 --action hang
(
  export SWRAUTH_AK="$E2E_AK" SWRAUTH_LOGIN_KEY="$E2E_KEY"
  exec "$SWRAUTH" --project "$E2E_PROJECT" --registry "$PX_HOST" --insecure --engine skopeo \
    release "oci:$T/layout:1.0" --repository team/hang --tag 6.0 --tag 6.1 --remote-tag api
) >"$T/out/hang.out" 2>"$T/out/hang.err" </dev/null &
HANG_PID=$!
_i=0
until grep -q ' -> hang$' "$PX_LOG" 2>/dev/null || [ "$_i" -ge 600 ]; do
  sleep 0.05
  _i=$((_i + 1))
done
_curls=$(pgrep -f 'curl -q --config -' | wc -l)
kill -TERM "$HANG_PID"
wait "$HANG_PID"
_rc=$?
sleep 0.2
is "SIGTERM while a request hangs: curl was running, swrauth exits 143 saying why" \
  "$([ "$_curls" -ge 1 ] && echo curl) $_rc $(grep -c '^swrauth: stopped by SIGTERM' "$T/out/hang.err")" "curl 143 1"
is "SIGTERM: no curl left running, no temporary file left" \
  "$(pgrep -f 'curl -q --config -' | wc -l) $(ls "$TMPDIR" | grep -c '^swrauth-')" "0 0"
proxy_stop

# ------------------------------------------------------ auth-file faults
# A tmpfs for the config files: full (16 KiB, filled), then read-only.
AF="$T/af"
mkdir -p "$AF"
CFG='{
	"auths": {
		"keep.example": {
			"auth": "eDp5"
		}
	},
	"psFormat": "table"
}'
# af_case NAME FILE ERE CMD...: CMD (a swp) fails with exit 1,
# stderr matching ERE, FILE byte for byte as before, no temporary file
# left beside it.
af_case() {
  _name=$1
  _file=$2
  _ere=$3
  shift 3
  cp "$_file" "$T/priv/before"
  # The lock file beside it stays (by design); nothing else may appear.
  _ls=$(ls -A "$(dirname "$_file")" | grep -v '\.lock$' | sort | tr '\n' ' ')
  "$@"
  if [ "$SW_RC" -eq 1 ] && grep -qE "$_ere" "$SW_ERR"; then
    ok "$_name: exit 1, the error names the file and the reason"
  else
    not_ok "$_name: exit 1, the error names the file and the reason (exit $SW_RC; want: $_ere)"
    diag "$SW_OUT" "$SW_ERR"
  fi
  check "$_name: the file is byte for byte as it was" cmp "$T/priv/before" "$_file"
  is "$_name: no file left behind" \
    "$(ls -A "$(dirname "$_file")" | grep -v '\.lock$' | sort | tr '\n' ' ')" "$_ls"
}

if mount -t tmpfs -o size=16k,mode=0700 swrauth-e2e "$AF" 2>"$T/out/mount.err"; then
  printf '%s' "$CFG" >"$AF/config.json"
  printf '%s' "$CFG" >"$AF/auth.json"
  : >"$AF/config.json.lock"
  : >"$AF/auth.json.lock"
  dd if=/dev/zero of="$AF/fill" bs=1k count=64 2>/dev/null
  proxy_start
  for _k in full ro; do
    if [ "$_k" = ro ]; then
      rm -f "$AF/fill"
      mount -o remount,ro "$AF"
      _why="read-only file system"
    else
      _why="no space left on device"
    fi
    af_case "$_k: config docker" "$AF/config.json" \
      "^swrauth: config docker: cannot write $AF/config.json: .*$_why" \
      swp "af-$_k-1" key "$PX_HOST" config docker --file "$AF/config.json"
    af_case "$_k: config containers" "$AF/auth.json" \
      "^swrauth: config containers: cannot write $AF/auth.json: .*$_why" \
      swp "af-$_k-2" key "$PX_HOST" config containers --file "$AF/auth.json"
    af_case "$_k: configure-docker" "$AF/config.json" \
      "^swrauth: configure-docker: cannot write $AF/config.json: .*$_why" \
      swp "af-$_k-3" key "$PX_HOST" configure-docker --docker-config "$AF/config.json" --only docker
    DOCKER_CONFIG=$AF af_case "$_k: login (the docker CLI writes config.json)" "$AF/config.json" \
      "^swrauth: login: 'docker login .*' failed \(exit 1\): Error saving credentials: .*$_why" \
      swp_docker "af-$_k-4" key "$PX_HOST" login
    REGISTRY_AUTH_FILE="$AF/auth.json" af_case "$_k: login (skopeo writes auth.json)" "$AF/auth.json" \
      "^swrauth: login: 'skopeo login .*' failed \(exit 1\): .*$_why" \
      swp "af-$_k-5" key "$PX_HOST" login
  done
  proxy_stop
  umount "$AF"
else
  # Without mounts (not root, or in a container without CAP_SYS_ADMIN).
  ok "full and read-only file systems # SKIP cannot mount a tmpfs: $(head -n 1 "$T/out/mount.err")"
fi

# A path through a regular file (ENOTDIR), on any file system.
printf 'x' >"$T/afile"
swp notdir key "$REG_HOST" config docker --file "$T/afile/config.json"
exit_is "config docker --file through a regular file" 1
err_has "a path through a regular file: the error names it" \
  "^swrauth: config docker: cannot write $T/afile/config.json: $T/afile: not a directory$"
is "a path through a regular file: the file is as it was" "$(cat "$T/afile")" x

# ------------------------------------------------------ corrupt files
CF="$T/corrupt"
mkdir -p "$CF"
proxy_start
for _v in truncated array utf8 binary nul auths; do
  case $_v in
    truncated)
      printf '%s' "$CFG" | head -c 40
      _where="line 4, column 7: unexpected end of JSON input" ;;
    array)
      printf '[%s]' "$CFG"
      _where="not a JSON object" ;;
    utf8)
      printf '{\n\t"auths": {\n\t\t"k\377\376.example": {"auth": "eDp5"}\n\t}\n}'
      _where="line 3, column 5: invalid UTF-8" ;;
    binary)
      printf '\037\213\010\000\000\000\000\000\002\003\313\110\315\311\311\007\000'
      _where="line 1, column 2: invalid UTF-8" ;;
    nul)
      printf '%s\000\000\000' "$CFG"
      _where="line 8, column 2: invalid character '.x00' after top-level value" ;;
    auths)
      printf '{"auths": ["keep.example"]}'
      _where="field 'auths' is not an object" ;;
  esac >"$CF/config.json"
  cp "$CF/config.json" "$CF/auth.json"
  af_case "corrupt ($_v): config docker" "$CF/config.json" \
    "^swrauth: config docker: $CF/config.json: $_where \(the file is left as it is\)$" \
    swp "cf-$_v-1" key "$PX_HOST" config docker --file "$CF/config.json"
  af_case "corrupt ($_v): configure-docker" "$CF/config.json" \
    "^swrauth: configure-docker: $CF/config.json: $_where \(the file is left as it is\)$" \
    swp "cf-$_v-2" key "$PX_HOST" configure-docker --docker-config "$CF/config.json" --only docker
  # The docker CLI would replace a config.json it cannot parse with one
  # holding only its new login: swrauth does not run it.
  DOCKER_CONFIG=$CF af_case "corrupt ($_v): login with the docker CLI" "$CF/config.json" \
    "^swrauth: login: $CF/config.json: $_where \(the file is left as it is\); not running 'docker login'" \
    swp_docker "cf-$_v-3" key "$PX_HOST" login
  REGISTRY_AUTH_FILE="$CF/auth.json" af_case "corrupt ($_v): login with skopeo" "$CF/auth.json" \
    "^swrauth: login: $CF/auth.json: $_where \(the file is left as it is\); not running 'skopeo login'" \
    swp "cf-$_v-4" key "$PX_HOST" login
done
: >"$CF/config.json"
DOCKER_CONFIG=$CF swp_docker cf-empty key "$PX_HOST" login
exit_is "an empty config.json counts as a new one (as docker treats it): login" 0
is "an empty config.json: the login is stored" "$(e2e_lua 'local d = load(arg[1])
  print(d and d.auths and d.auths[arg[2]] and "stored")' "$CF/config.json" "$PX_HOST")" stored
proxy_stop

# ------------------------------------------------ 20 concurrent logins
proxy_start --ports 20
PX_HOSTS=$(sed 's/^/127.0.0.1:/' "$T/proxy$PX_N.port")
is "the proxy listens on 20 addresses (20 registries)" "$(echo "$PX_HOSTS" | sort -u | grep -c .)" 20

# par ID NAME FILE INIT WANT CMD...: FILE holds INIT; runs CMD ID-J HOST
# for the 20 hosts at once, then checks FILE: valid JSON with 20 new
# entries, keep.example's entry and the other fields kept (WANT: "20
# eDp5 CREDHELPER PSFORMAT"), every run exited 0, no temporary file left.
par() {
  _id=$1
  _name=$2
  _file=$3
  _init=$4
  _want=$5
  shift 5
  mkdir -p "$(dirname "$_file")"
  printf '%s' "$_init" >"$_file"
  _pids=
  _j=0
  for _h in $PX_HOSTS; do
    _j=$((_j + 1))
    ( "$@" "$_id-$_j" "$_h"; echo "$SW_RC" >"$T/out/$_id-$_j.rc" ) &
    _pids="$_pids $!"
  done
  # Only these: the daemons are children too.
  # shellcheck disable=SC2086
  wait $_pids
  is "$_name: every one of the 20 exited 0" \
    "$(cat "$T/out/$_id-"*.rc | sort | uniq -c | tr -s ' ')" " 20 0"
  _got=$(e2e_lua '
    local d = load(arg[1]); if not d then print("not JSON") os.exit(0) end
    local n, keep = 0, d.auths and d.auths["keep.example"]
    for h, e in pairs(d.auths or {}) do
      if h:find("^127%.0%.0%.1:%d+$") and e.auth then n = n + 1 end
    end
    print(n, keep and keep.auth or "lost", d.credHelpers and d.credHelpers["x.example"] or "lost",
          d.psFormat or "-")' "$_file")
  is "$_name: valid JSON, 20 new entries, the earlier entry and fields kept" \
    "$(echo "$_got" | tr '\t' ' ')" "$_want"
  is "$_name: no temporary file left" \
    "$(ls -A "$(dirname "$_file")" | grep -v "^$(basename "$_file")\(\.lock\)\?\$")" ""
}

DCFG='{"auths": {"keep.example": {"auth": "eDp5"}}, "credHelpers": {"x.example": "swr"}, "psFormat": "table"}'
# containers' auth.json has no psFormat (skopeo drops fields it does not know).
CCFG='{"auths": {"keep.example": {"auth": "eDp5"}}, "credHelpers": {"x.example": "swr"}}'
par_skopeo() { REGISTRY_AUTH_FILE="$T/par1/auth.json" swp "$1" key "$2" -q login; }
par_docker() { DOCKER_CONFIG="$T/par2" swp_docker "$1" key "$2" -q login; }
par_config() { swp "$1" key "$2" -q config docker --file "$T/par3/config.json"; }
par_mixed() {
  case $1 in
    *[13579]) DOCKER_CONFIG="$T/par4" swp_docker "$1" key "$2" -q login ;;
    *) swp "$1" key "$2" -q config docker --file "$T/par4/config.json" ;;
  esac
}
par par1 "20 concurrent logins with skopeo (auth.json)" "$T/par1/auth.json" \
  "$CCFG" "20 eDp5 swr -" par_skopeo
par par2 "20 concurrent logins with the docker CLI (config.json)" "$T/par2/config.json" \
  "$DCFG" "20 eDp5 swr table" par_docker
par par3 "20 concurrent config docker" "$T/par3/config.json" \
  "$DCFG" "20 eDp5 swr table" par_config
par par4 "10 docker CLI logins and 10 config docker at once" "$T/par4/config.json" \
  "$DCFG" "20 eDp5 swr table" par_mixed
proxy_stop

registry_stop
check_no_secrets
done_testing
