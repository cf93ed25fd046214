#!/bin/sh
# buildah.sh: swrauth with buildah (vfs storage in a temp dir) against a
# real registry over HTTP and HTTPS (CA from --cert-dir, verified): an image
# built with `buildah build` (FROM scratch) is released under 1.4.2, 1.4 and
# 1 (see run_scenario).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"

e2e_init
need buildah buildah
need_done
swrauth_ready
containers_storage
shim_engines
E2E_ENGINE=buildah
E2E_TLS_VERIFY=1
e2e_context "$T/ctx"
check "buildah build (FROM scratch) makes localhost/e2e/src:1" \
  buildah build -q -t localhost/e2e/src:1 "$T/ctx"

for scheme in http https; do
  if ! registry_start "$scheme"; then
    not_ok "$scheme: docker-registry starts"
    continue
  fi
  run_scenario localhost/e2e/src:1
  registry_stop
done
check_engine_used buildah
check_password_stdin buildah
check_no_secrets
done_testing
