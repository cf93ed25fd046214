#!/bin/sh
# credhelper.sh: docker-credential-swr and the auth-file writers with real
# clients against a real registry (Docker Distribution, htpasswd) on
# loopback:
# - skopeo, configured by `swrauth configure-docker` (credHelpers in
#   containers' auth.json and docker's config.json), pushes and pulls
#   through the helper; without credentials it is refused;
# - the docker CLI: `docker login` with the helper as credsStore succeeds
#   (store), `docker logout` (erase); docker reads the config.json swrauth
#   writes, and its own rewrite of it is byte for byte swrauth's layout;
#   `docker logout HOST` on it removes that entry only;
# - kubectl's `create secret docker-registry --dry-run=client` output
#   equals `swrauth config kubernetes` for the same inputs;
# - containerd parses `swrauth config containerd`; skopeo logs in with the
#   GitLab DOCKER_AUTH_CONFIG value; the registry accepts crictl's --auth;
# - 20 parallel `swrauth config containers` runs leave 20 entries podman
#   reads; a corrupt config.json is left byte for byte as it was.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"

e2e_init
need skopeo skopeo
need docker docker.io
need kubectl kubernetes-client
need containerd containerd
need podman podman
need cmp diffutils
need_done
swrauth_ready
containers_storage

HELPER="$ROOT/bin/docker-credential-swr"
PATH="$ROOT/bin:$PATH"
export PATH
mkdir -p "$T/priv" "$T/k8s"
chmod 700 "$T/priv"

# The configure-docker and config commands.
SWC="$SWRAUTH"

# swc NAME CREDS ARGS...: the config commands with a credential source
# (none, sdk, key); output in $T/out/NAME.{out,err}, status in SWC_RC.
swc() {
  _n=$1
  _c=$2
  shift 2
  (
    case $_c in
      sdk) export HUAWEICLOUD_SDK_AK="$E2E_AK" HUAWEICLOUD_SDK_SK="$E2E_SK" ;;
      key) export SWRAUTH_AK="$E2E_AK" SWRAUTH_LOGIN_KEY="$E2E_KEY" ;;
    esac
    exec "$SWC" "$@"
  ) >"$T/out/$_n.out" 2>"$T/out/$_n.err" </dev/null
  SWC_RC=$?
}

# with_sdk CMD...: CMD with the SDK credentials in its environment (for
# the helper it runs).
with_sdk() {
  HUAWEICLOUD_SDK_AK="$E2E_AK" HUAWEICLOUD_SDK_SK="$E2E_SK" "$@"
}

if ! registry_start http; then
  not_ok "docker-registry starts"
  done_testing
fi
mkdir -p "$T/layout"
oci_layout "$T/layout" 1.0

# ------------------------------------------------------------ the helper
# configure-docker for a registry that is not swr.REGION...: it needs the
# project, and records it in the helper's config, so that the helper
# answers with it without SWRAUTH_PROJECT/SWRAUTH_REGISTRY in docker's
# environment.
swc configure-noproject none configure-docker --registry "$REG_HOST"
is "configure-docker without a project for a non-SWR registry: usage error" "$SWC_RC" 2
swc configure-docker none configure-docker --project "$E2E_PROJECT" --registry "$REG_HOST"
check "swrauth configure-docker exits 0" test "$SWC_RC" -eq 0
is "configure-docker: credHelpers in docker's config.json" \
  "$(grep -c "\"$REG_HOST\": \"swr\"" "$DOCKER_CONFIG/config.json")" 1
is "configure-docker: credHelpers in containers' auth.json" \
  "$(grep -c "\"$REG_HOST\": \"swr\"" "$REGISTRY_AUTH_FILE")" 1
is "configure-docker: files are 0600" \
  "$(stat -c %a "$DOCKER_CONFIG/config.json") $(stat -c %a "$REGISTRY_AUTH_FILE")" "600 600"
is "configure-docker: the project of the registry recorded in the helper's config, mode 0600" \
  "$(grep -c "\"$REG_HOST\": \"$E2E_PROJECT\"" "$XDG_CONFIG_HOME/swrauth/config.json") $(stat -c %a "$XDG_CONFIG_HOME/swrauth/config.json")" "1 600"
is "configure-docker says what it wrote in the helper's config" \
  "$(grep -c "config.json: registries\[$REG_HOST\] = $E2E_PROJECT (added)" "$T/out/configure-docker.err")" 1
export SWRAUTH_HELPER_LOG="$T/logs/helper.log"

printf '%s\n' "$REG_HOST" | with_sdk "$HELPER" get >"$T/priv/get.json" 2>"$T/out/get.err"
is "helper get: the registry from the config file gets PROJECT@AK and the key" \
  "$(cat "$T/priv/get.json")" \
  "{\"ServerURL\":\"$REG_HOST\",\"Username\":\"$E2E_USER\",\"Secret\":\"$E2E_KEY\"}"
printf 'https://index.docker.io/v1/\n' | with_sdk "$HELPER" get >"$T/out/get-hub.out" 2>&1
_rc=$?
is "helper get: an unserved registry is not found (exit 1)" \
  "$(cat "$T/out/get-hub.out") $_rc" "credentials not found in native keychain 1"

# ------------------------------------------------------------ skopeo
check "skopeo (credHelpers in auth.json) pushes through the helper" \
  with_sdk skopeo copy --dest-tls-verify=false "oci:$T/layout:1.0" "docker://$REG_HOST/$E2E_REPO:1.0"
is "the registry has the pushed tag" "$(reg_tags "$E2E_REPO" | tr '\n' ' ')" "1.0 "
check "skopeo pulls through the helper" \
  with_sdk skopeo copy --src-tls-verify=false "docker://$REG_HOST/$E2E_REPO:1.0" "oci:$T/pulled:1.0"
is "the pulled manifest is the pushed one" \
  "$(with_sdk skopeo inspect --raw --tls-verify=false "docker://$REG_HOST/$E2E_REPO:1.0" | sha256sum | cut -d' ' -f1)" \
  "${OCI_DIGEST#sha256:}"
check "skopeo (credHelpers in docker's config.json) pushes through the helper" \
  with_sdk skopeo copy --authfile "$DOCKER_CONFIG/config.json" --dest-tls-verify=false \
  "oci:$T/layout:1.0" "docker://$REG_HOST/$E2E_REPO:1.1"
if skopeo copy --dest-tls-verify=false "oci:$T/layout:1.0" "docker://$REG_HOST/$E2E_REPO:nocreds" \
  >"$T/out/nocreds.out" 2>&1; then
  not_ok "without credentials the helper gives none and the push is refused"
else
  ok "without credentials the helper gives none and the push is refused"
fi
is "the helper log names each request" \
  "$(grep -c "get $REG_HOST: $E2E_PROJECT@$(echo "$E2E_AK" | cut -c1-4)… from HUAWEICLOUD_SDK_AK" "$T/logs/helper.log" | sed 's/^[1-9][0-9]*$/some/')" some
is "the helper log is private" "$(stat -c %a "$T/logs/helper.log")" 600

# ------------------------------------------------------------ docker CLI
D2="$T/docker2"
mkdir -p "$D2"
printf '{"credsStore": "swr", "psFormat": "<table>"}' >"$D2/config.json"
printf '%s' "$E2E_KEY" | DOCKER_CONFIG="$D2" docker login -u "$E2E_USER" --password-stdin "$REG_HOST" \
  >"$T/out/dl-store.out" 2>"$T/out/dl-store.err"
is "docker login with credsStore swr succeeds (the helper's store)" \
  "$? $(grep -c 'Login Succeeded' "$T/out/dl-store.out")" "0 1"
DOCKER_CONFIG="$D2" docker logout "$REG_HOST" >"$T/out/dl-erase.out" 2>"$T/out/dl-erase.err"
is "docker logout with credsStore swr succeeds (the helper's erase)" "$?" 0
with_sdk env DOCKER_CONFIG="$D2" docker login "$REG_HOST" </dev/null >"$T/out/dl-get.out" 2>"$T/out/dl-get.err"
is "docker login HOST asks the helper (get) for the login" \
  "$(grep -c "existing credentials... \[Username: $E2E_USER\]" "$T/out/dl-get.out" "$T/out/dl-get.err" |
    awk -F: '{s += $2} END {print s}')" 1

D3="$T/docker3"
mkdir -p "$D3"
printf '{"auths": {"keep.example": {"auth": "eDp5", "email": "e"}}, "HttpHeaders": {"X-B": "1", "X-A": "2"}, "psFormat": "<&>"}' \
  >"$D3/config.json"
swc config-docker key config docker --project "$E2E_PROJECT" --registry "$REG_HOST" --file "$D3/config.json"
check "swrauth config docker writes the login" test "$SWC_RC" -eq 0
cp "$D3/config.json" "$T/priv/ours.json"
DOCKER_CONFIG="$D3" docker login "$REG_HOST" </dev/null >"$T/out/d3-get.out" 2>"$T/out/d3-get.err"
is "docker reads the config.json swrauth wrote" \
  "$(grep -c "existing credentials... \[Username: $E2E_USER\]" "$T/out/d3-get.out" "$T/out/d3-get.err" |
    awk -F: '{s += $2} END {print s}')" 1
printf '%s' "$E2E_KEY" | DOCKER_CONFIG="$D3" docker login -u "$E2E_USER" --password-stdin "$REG_HOST" \
  >"$T/out/d3-login.out" 2>"$T/out/d3-login.err"
check "docker login rewrites it" test "$?" -eq 0
check "docker's rewrite is byte for byte swrauth's file" cmp "$T/priv/ours.json" "$D3/config.json"
cp "$D3/config.json" "$T/priv/theirs.json"
DOCKER_CONFIG="$D3" docker logout "$REG_HOST" >"$T/out/d3-logout.out" 2>"$T/out/d3-logout.err"
check "docker logout HOST works on swrauth's config.json" test "$?" -eq 0
is "docker logout kept the other entry and fields" \
  "$(grep -c '"keep.example"' "$D3/config.json") $(grep -c "$REG_HOST" "$D3/config.json") $(grep -c 'X-A' "$D3/config.json")" \
  "1 0 1"
swc config-logout none config docker --logout --registry "$REG_HOST" --file "$T/priv/theirs.json"
check "swrauth's logout gives docker's bytes" cmp "$D3/config.json" "$T/priv/theirs.json"

# ------------------------------------------------------------ corrupt file
printf '{"auths": {"keep.example": {"auth": "eDp5"}},\n  oops\n}' >"$D3/config.json"
cp "$D3/config.json" "$T/priv/corrupt.json"
swc corrupt key config docker --project "$E2E_PROJECT" --registry "$REG_HOST" --file "$D3/config.json"
is "a corrupt config.json: exit 1" "$SWC_RC" 1
is "a corrupt config.json: the error names the place" "$(cat "$T/out/corrupt.err")" \
  "swrauth: config docker: $D3/config.json: line 2, column 3: invalid character 'o' looking for beginning of object key string (the file is left as it is)"
check "a corrupt config.json is left byte for byte" cmp "$T/priv/corrupt.json" "$D3/config.json"

# ------------------------------------------------------------ concurrency
AJ="$T/parallel/auth.json"
_i=1
_pids=
while [ "$_i" -le 20 ]; do
  swc "par$_i" sdk config containers --project "$E2E_PROJECT" --registry "reg$_i.example:5000" \
    --file "$AJ" -q &
  _pids="$_pids $!"
  _i=$((_i + 1))
done
# Only these: the daemons are children too.
# shellcheck disable=SC2086
wait $_pids
is "20 parallel logins: 20 entries" "$(grep -c '"auth": ' "$AJ")" 20
check "20 parallel logins: valid JSON" "${LUA:-lua5.4}" -e \
  "package.path='$ROOT/lua/?.lua;'..package.path local f=io.open('$AJ') local t=f:read('a') f:close() assert(require('swrauth.json').parse(t))"
is "podman reads an entry of it" "$(podman login --get-login --authfile "$AJ" reg7.example:5000 2>&1)" "$E2E_USER"

# ------------------------------------------------------------ kubectl
# kubectl takes the password only on its command line: these use another,
# obviously fake key, so that the argv watcher's secrets are not there.
K_AK=K8SAK000000000000000
K_KEY=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
echo "# kubectl: $(kubectl version --client 2>/dev/null | head -n 1)"
_k8s_n=0
k8s_case() {
  _name=$1
  shift
  _k8s_n=$((_k8s_n + 1))
  _fmt=$1
  shift
  # -o and --output alternate: both are the format, for kubectl and swrauth.
  _o=-o
  [ $((_k8s_n % 2)) -eq 0 ] && _o=--output
  _label="$_name $_o $_fmt${*:+ $*}"
  kubectl create secret docker-registry "$_name" --docker-server="$REG_HOST" \
    --docker-username="$E2E_PROJECT@$K_AK" --docker-password="$K_KEY" "$@" \
    --dry-run=client "$_o" "$_fmt" >"$T/k8s/kubectl$_k8s_n" 2>"$T/k8s/kubectl$_k8s_n.err"
  # swrauth's options: --docker-email and -n map to --email and -n.
  _sw_args=
  while [ $# -gt 0 ]; do
    case $1 in
      --docker-email=*) _sw_args="$_sw_args --email ${1#--docker-email=}" ;;
      -n) _sw_args="$_sw_args -n $2"; shift ;;
    esac
    shift
  done
  # shellcheck disable=SC2086
  (cd "$T/k8s" && SWRAUTH_AK="$K_AK" SWRAUTH_LOGIN_KEY="$K_KEY" "$SWC" config kubernetes "$_name" \
    --project "$E2E_PROJECT" --registry "$REG_HOST" "$_o" "$_fmt" $_sw_args) \
    >"$T/k8s/swrauth$_k8s_n" 2>"$T/k8s/swrauth$_k8s_n.err"
  [ ! -e "$T/k8s/$_fmt" ] || not_ok "$_o $_fmt wrote a file named $_fmt"
  if [ -s "$T/k8s/kubectl$_k8s_n" ] && cmp -s "$T/k8s/kubectl$_k8s_n" "$T/k8s/swrauth$_k8s_n"; then
    ok "kubectl's Secret equals swrauth's: $_label"
  else
    not_ok "kubectl's Secret equals swrauth's: $_label"
    diff "$T/k8s/kubectl$_k8s_n" "$T/k8s/swrauth$_k8s_n" | sed "s/$K_KEY/<K_KEY>/g; s/^/#   /" | head -n 20
    sed 's/^/#   /' "$T/k8s/kubectl$_k8s_n.err" "$T/k8s/swrauth$_k8s_n.err" | head -n 5
  fi
}
k8s_case regcred yaml
k8s_case regcred json
k8s_case regcred yaml --docker-email=dev@example.com -n prod
k8s_case swr.pull-secret json --docker-email=dev@example.com -n team-a
k8s_case 123 yaml
k8s_case yes yaml -n 1e3

# ------------------------------------------------------------ containerd
SWRAUTH_AK="$K_AK" SWRAUTH_LOGIN_KEY="$K_KEY" "$SWC" config containerd --project "$E2E_PROJECT" \
  --registry "$REG_HOST" --output "$T/k8s/containerd.toml" -q >"$T/out/ctd.out" 2>"$T/out/ctd.err"
containerd --config "$T/k8s/containerd.toml" config dump >"$T/k8s/dump.toml" 2>"$T/k8s/dump.err"
is "containerd parses the CRI registry auth" \
  "$(grep -A4 "registry.configs.\"$REG_HOST\".auth\]" "$T/k8s/dump.toml" | grep -c "username = \"$E2E_PROJECT@$K_AK\"\|password = \"$K_KEY\"")" 2

# ------------------------------------------------------------ GitLab, crictl
swc gitlab sdk config gitlab --project "$E2E_PROJECT" --registry "$REG_HOST" --output "$T/priv/gitlab.json"
check "swrauth config gitlab --output exits 0" test "$SWC_RC" -eq 0
check "skopeo logs in with the DOCKER_AUTH_CONFIG value as its auth file" \
  skopeo copy --authfile "$T/priv/gitlab.json" --dest-tls-verify=false \
  "oci:$T/layout:1.0" "docker://$REG_HOST/$E2E_REPO:gitlab"
swc crictl sdk config crictl --project "$E2E_PROJECT" --registry "$REG_HOST" --output "$T/priv/crictl"
printf 'header = "Authorization: Basic %s"\n' "$(cat "$T/priv/crictl")" >"$T/priv/crictl.curlrc"
is "the registry accepts crictl's --auth value" \
  "$(curl -sS --max-time 10 -K "$T/priv/crictl.curlrc" -o /dev/null -w '%{http_code}' "$REG_URL/v2/")" 200

registry_stop
check_no_secrets
done_testing
