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
  # ctr keeps no login: `login` runs no ctr.
  swg "$scheme-login" sdk login
  sw_is_ok "$scheme: login (no login step for ctr) succeeds"
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
