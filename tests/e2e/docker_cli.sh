#!/bin/sh
# docker_cli.sh: swrauth with the docker CLI alone (no daemon) against a real
# registry over HTTP and HTTPS: `key` equals the vendor's openssl pipeline;
# login (SDK AK/SK, pre-derived key, credentials CSV) stores
# base64(PROJECT@AK:KEY) in a 0600 config.json; a wrong key fails with exit 1
# and leaves the stored login alone; logout forgets only this registry; the
# key never reaches docker's argv or any output.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"

e2e_init
need docker docker.io
need_done
swrauth_ready
shim_engines
E2E_ENGINE=docker
# docker never verifies TLS for 127.0.0.0/8 and takes no CA directory.
E2E_CERT_FLAG=

sw key.secret sdk --project "$E2E_PROJECT" key
is "swrauth key (HUAWEICLOUD_SDK_AK/SK) prints the vendor pipeline's key" \
  "$(e2e_mask <"$SW_OUT")" "<KEY>"
sw key-csv.secret csv --project "$E2E_PROJECT" key
is "swrauth key (credentials CSV) prints the vendor pipeline's key" \
  "$(e2e_mask <"$SW_OUT")" "<KEY>"

# Another registry's login that logout must keep.
mkdir -p "$DOCKER_CONFIG"
printf '{"auths":{"other.example.com":{"auth":"b3RoZXI6a2VlcG1l"}}}\n' >"$DOCKER_CONFIG/config.json"
chmod 600 "$DOCKER_CONFIG/config.json"

for scheme in http https; do
  if ! registry_start "$scheme"; then
    not_ok "$scheme: docker-registry starts"
    continue
  fi
  swg "$scheme-login-sdk" sdk login
  sw_is_ok "$scheme: login with HUAWEICLOUD_SDK_AK/SK succeeds"
  is "$scheme: config.json holds base64(PROJECT@AK:KEY) for $REG_HOST" \
    "$(stored_auth "$REG_HOST" | e2e_mask)" "<AUTH>"
  is "$scheme: config.json is mode 600" "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600
  swg "$scheme-logout1" none logout
  sw_is_ok "$scheme: logout succeeds"
  is "$scheme: logout forgot $REG_HOST" "$(stored_auth "$REG_HOST")" ""
  is "$scheme: logout kept the other registry's login" \
    "$(stored_auth other.example.com)" "b3RoZXI6a2VlcG1l"
  swg "$scheme-login-key" key login
  sw_is_ok "$scheme: login with SWRAUTH_AK/SWRAUTH_LOGIN_KEY succeeds"
  swg "$scheme-login-csv" csv login
  sw_is_ok "$scheme: login with the credentials CSV succeeds"
  swg "$scheme-login-bad" badkey login
  check_wrong_key "$scheme: login with a wrong key"
  is "$scheme: a failed login leaves the stored login as it was" \
    "$(stored_auth "$REG_HOST" | e2e_mask)" "<AUTH>"
  swg "$scheme-logout2" none logout
  sw_is_ok "$scheme: logout after the failed login succeeds"
  registry_stop
done
is "the other registry's login is still there" \
  "$(stored_auth other.example.com)" "b3RoZXI6a2VlcG1l"
check_password_stdin docker
check_no_secrets
done_testing
