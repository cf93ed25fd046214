#!/bin/sh
# ctr.sh: swrauth with containerd's ctr (a private containerd) against a real
# registry over HTTP and HTTPS. ctr has no login step and takes the key in
# its argv (--user), the one engine that must; the image is an OCI archive
# imported with `ctr image import`; released under 1.4.2, 1.4 and 1 (see
# run_scenario), with the manifest pushed unchanged.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"

e2e_init
need containerd containerd
need ctr containerd
need_done
swrauth_ready
if containerd_start; then
  ok "a private containerd answers on $CONTAINERD_ADDRESS"
else
  not_ok "a private containerd starts"
  done_testing
fi
shim_engines
E2E_ENGINE=ctr
E2E_LOGIN=0
mkdir -p "$T/layout"
oci_layout "$T/layout" 1.0
tar -C "$T/layout" -cf "$T/image.tar" oci-layout index.json blobs
check "ctr image import makes docker.io/e2e/src:1.0" \
  ctr image import --base-name docker.io/e2e/src "$T/image.tar"

for scheme in http https; do
  if ! registry_start "$scheme"; then
    not_ok "$scheme: docker-registry starts"
    continue
  fi
  # ctr keeps no login: `login` runs no ctr but asks the registry whether
  # the credentials log in (GET /v2/, following a token challenge).
  swg "$scheme-login" sdk login
  sw_is_ok "$scheme: login (no login step for ctr: the registry is asked) succeeds"
  swg "$scheme-login-bad" badkey login
  check_wrong_key "$scheme: login with a wrong key (ctr: the registry refuses it)"
  swg "$scheme-check-bad" badkey --engine skopeo check
  check_wrong_key "$scheme: swrauth check with a wrong key, any engine"
  swg "$scheme-check" key check
  sw_is_ok "$scheme: swrauth check with the right key succeeds"
  # login runs no ctr: no warning about ctr's command line there; the
  # release below, which runs ctr push, warns.
  if grep -qi 'command line\|process list\|argv' "$SW_ERR"; then
    not_ok "$scheme: login, which runs no ctr, does not warn about ctr's command line"
    diag "$SW_ERR"
  else
    ok "$scheme: login, which runs no ctr, does not warn about ctr's command line"
  fi
  run_scenario docker.io/e2e/src:1.0
  [ -z "$REL_DIGEST" ] ||
    is "$scheme: the registry serves the imported manifest unchanged" "$REL_DIGEST" "$OCI_DIGEST"
  if [ "$scheme" = https ]; then
    # Without --cert-dir ctr speaks plain HTTP to 127.0.0.1 and the registry
    # answers a bare 400: swrauth says why.
    sw "https-push-noca" key --project "$E2E_PROJECT" --registry "$REG_HOST" --engine ctr \
      push "$REG_HOST/$E2E_REPO:1.4.2"
    is "https, no --cert-dir: ctr's push fails (exit 1)" "$SW_RC" 1
    is "https, no --cert-dir: the error says the registry takes HTTPS and to give --cert-dir" \
      "$(grep -c 'the registry takes HTTPS and ctr spoke plain HTTP to it: give --cert-dir' "$SW_ERR")" 1
    [ "$SW_RC" -eq 1 ] || diag "$SW_OUT" "$SW_ERR"
  fi
  registry_stop
done
check_engine_used ctr
if grep '^ctr ' "$T/logs/argv.log" | grep -q ' \[push\].* \[--user\]'; then
  ok "ctr push ran with --user"
else
  not_ok "ctr push ran with --user"
fi
check_no_secrets
done_testing
