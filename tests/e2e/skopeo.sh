#!/bin/sh
# skopeo.sh: swrauth with skopeo (no daemon, no storage) against a real
# registry over HTTP and HTTPS (CA from --cert-dir, verified): an OCI layout
# made with tar, gzip and sha256sum is released under 1.4.2, 1.4 and 1 (see
# run_scenario), with the manifest pushed unchanged.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"

e2e_init
need skopeo skopeo
need_done
swrauth_ready
containers_storage
shim_engines
E2E_ENGINE=skopeo
E2E_TLS_VERIFY=1
mkdir -p "$T/layout"
oci_layout "$T/layout" 1.0

for scheme in http https; do
  if ! registry_start "$scheme"; then
    not_ok "$scheme: docker-registry starts"
    continue
  fi
  run_scenario "oci:$T/layout:1.0"
  [ -z "$REL_DIGEST" ] ||
    is "$scheme: the registry serves the layout's manifest unchanged" "$REL_DIGEST" "$OCI_DIGEST"
  # Tags 1.4 and 1 went through the registry API (curl), not skopeo copies.
  is "$scheme: release added 1.4 and 1 through the registry API" \
    "$(grep -c '^tag .*(registry API)' "$T/out/$scheme-release.err")" 2
  is "$scheme: no skopeo copy to 1.4 or 1" \
    "$(grep -cE "^skopeo \[copy\].* \[docker://$REG_HOST/$E2E_REPO:1(\.4)?\]\$" "$T/logs/argv.log")" 0
  registry_stop
done
check_engine_used skopeo
check_password_stdin skopeo
check_no_secrets
done_testing
