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
  # tag with short names: in the registry given (--registry), never Docker Hub.
  swg "$scheme-login-for-tag" key login
  swg "$scheme-tag-short" key tag "$E2E_REPO:1.4.2" "$E2E_REPO:stable"
  sw_is_ok "$scheme: tag REPO:1.4.2 REPO:stable (no registry in the names) succeeds"
  is "$scheme: the copy was in $REG_HOST" \
    "$(grep -cE "^skopeo \[copy\].* \[docker://$REG_HOST/$E2E_REPO:1\.4\.2\] \[docker://$REG_HOST/$E2E_REPO:stable\]\$" "$T/logs/argv.log")" 1
  is "$scheme: the registry has stable" "$(reg_tags "$E2E_REPO" | grep -c '^stable$')" 1
  swg "$scheme-tag-other" key tag "$E2E_REPO:1.4.2" "docker.io/$E2E_REPO:stable"
  is "$scheme: tag to another registry than --registry: usage error, nothing run" \
    "$SW_RC $(grep -c "is in registry docker.io, not $REG_HOST" "$SW_ERR")" "2 1"
  swg "$scheme-logout-after-tag" none logout
  if [ "$scheme" = https ]; then
    # Without curl, HTTPS registry API requests cannot be made: --remote-tag
    # api says so (exit 4), auto falls back to one skopeo copy per tag.
    mkdir -p "$T/nocurl"
    for f in /usr/bin/* /bin/*; do
      case ${f##*/} in curl) ;; *) [ -e "$T/nocurl/${f##*/}" ] || ln -s "$f" "$T/nocurl/${f##*/}" ;; esac
    done
    PATH="$T/shim:$T/nocurl" swg nocurl-api key release "oci:$T/layout:1.0" \
      --repository team/nocurl --tag 2.0 --tag 2.1 --remote-tag api
    is "https, no curl, --remote-tag api: exit 4" "$SW_RC" 4
    is "https, no curl, --remote-tag api: the error names curl and its package" \
      "$(grep -c "^swrauth: tag: 'curl' not found on PATH (package curl)" "$SW_ERR")" 1
    : >"$T/logs/argv.log"
    PATH="$T/shim:$T/nocurl" swg nocurl-auto key release "oci:$T/layout:1.0" \
      --repository team/nocurl --tag 2.0 --tag 2.1
    sw_is_ok "https, no curl, auto: release succeeds"
    is "https, no curl, auto: 2.1 added by skopeo copy in the registry" \
      "$(grep -cE "^skopeo \[copy\].* \[docker://$REG_HOST/team/nocurl:2\.0\] \[docker://$REG_HOST/team/nocurl:2\.1\]\$" "$T/logs/argv.log")" 1
    is "https, no curl, auto: the registry has 2.0 and 2.1" \
      "$(reg_tags team/nocurl | tr '\n' ' ')" "2.0 2.1 "
  fi
  registry_stop
done
check_engine_used skopeo
check_password_stdin skopeo
check_no_secrets
done_testing
