#!/bin/sh
# dockerd.sh: swrauth with docker on a private dockerd (on a private
# containerd; vfs, no iptables, no bridge) against a real registry over HTTP
# and HTTPS: the engine picked by default is docker; an image built with
# `docker build` is released under 1.4.2, 1.4 and 1 (see run_scenario).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"

e2e_init
need docker docker.io
need dockerd docker.io
need containerd containerd
need ctr containerd
need_done
swrauth_ready
if dockerd_start; then
  ok "a private dockerd answers on $DOCKER_HOST"
else
  not_ok "a private dockerd starts"
  done_testing
fi
shim_engines
# Default engine: docker, whose daemon is reachable.
E2E_ENGINE=
E2E_CERT_FLAG=
e2e_context "$T/ctx"
check "docker build (FROM scratch) makes e2e/src:1" \
  env DOCKER_BUILDKIT=0 docker build -q -t e2e/src:1 "$T/ctx"

for scheme in http https; do
  if ! registry_start "$scheme"; then
    not_ok "$scheme: docker-registry starts"
    continue
  fi
  run_scenario e2e/src:1
  registry_stop
done
check_engine_used docker
check_password_stdin docker
check_no_secrets
done_testing
