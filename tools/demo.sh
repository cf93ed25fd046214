#!/bin/sh
# demo.sh (`make demo`): a real release with bin/swrauth, no cloud account
# needed. Starts Docker Distribution on a free loopback port, over HTTPS
# with a throwaway CA, with htpasswd for a demo project and AK and the login
# key the vendor's openssl pipeline derives from the demo AK/SK; builds a
# one-file image as an OCI layout (tar, gzip, sha256sum: no daemon);
# releases it under 1.4.2, 1.4 and 1; prints each pushed reference with the
# digest the registry serves for it, and the registry's tag list; stops the
# registry. Every file lives in one temp dir, removed at exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
E2E_DEMO=1
E2E_WATCH=0
E2E_PROJECT=cn-north-4
E2E_AK=DEMOAK00000000000001
E2E_SK=demoSecretKeyForTheSwrauthDemo0000000000
E2E_REPO=demo/hello
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

say() { printf '%s\n' "$*"; }
fail() {
  printf 'swrauth demo: %s\n' "$*" >&2
  exit 1
}

need skopeo skopeo
e2e_init
need_done
[ -x "$SWRAUTH" ] || fail "no $SWRAUTH"
"$SWRAUTH" version >/dev/null 2>&1 || fail "bin/swrauth does not run (run make first)"
# Daemonless: the registry's state, the auth file and the blob cache stay
# in the temp dir (or are removed at exit).
containers_storage

say "swrauth demo: a real release to a registry on loopback"
say ""
registry_start https || fail "docker-registry did not start (log above)"
say "  registry  $REG_URL  (Docker Distribution $(docker-registry --version 2>/dev/null | awk '{print $NF}'), pid $REG_PID)"
say "            TLS: a throwaway CA in $REG_CERT_DIR; auth: htpasswd"
say "  user      $E2E_USER  (demo project and AK; the SK is fake)"
say "  key       HMAC-SHA256(SK, AK) by the vendor's openssl pipeline: ${E2E_KEY%"${E2E_KEY#????????}"}... (64 hex)"
mkdir -p "$T/image"
oci_layout "$T/image" 1.0 "hello from the swrauth demo" || fail "could not build the OCI layout"
say "  image     oci:$T/image:1.0  (one layer, built with tar + gzip + sha256sum)"
say "            manifest $OCI_DIGEST"
say ""

# The image is an OCI layout on disk; the default engine (auto) takes skopeo
# for such an image, the one engine that pushes it as it is.
set -- --project "$E2E_PROJECT" --registry "$REG_HOST" --cert-dir "$REG_CERT_DIR" \
  release "oci:$T/image:1.0" --repository "$E2E_REPO" --semver 1.4.2
say "\$ HUAWEICLOUD_SDK_AK=$E2E_AK HUAWEICLOUD_SDK_SK=<hidden> \\"
say "  bin/swrauth $*"
start=$(date +%s.%N)
# shellcheck disable=SC2031
(
  export HUAWEICLOUD_SDK_AK="$E2E_AK" HUAWEICLOUD_SDK_SK="$E2E_SK"
  exec "$SWRAUTH" "$@"
) >"$T/out/release.out" 2>"$T/out/release.err" </dev/null
rc=$?
end=$(date +%s.%N)
e2e_mask <"$T/out/release.err" | sed 's/^/  | /'
say "  swrauth's summary (stdout): each pushed reference and its digest"
e2e_mask <"$T/out/release.out" | sed 's/^/  | /'
[ "$rc" -eq 0 ] || fail "swrauth release failed (exit $rc)"
say "  (exit 0 in $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') s)"
say ""

say "What the registry serves (HEAD /v2/$E2E_REPO/manifests/TAG):"
bad=
for tag in 1.4.2 1.4 1; do
  d=$(reg_digest "$E2E_REPO" "$tag")
  printf '  %-36s %s\n' "$REG_HOST/$E2E_REPO:$tag" "${d:-MISSING}"
  [ -n "$d" ] && [ "$d" = "$OCI_DIGEST" ] || bad=1
  grep -qF "$d" "$T/out/release.out" || bad=1
done
say ""
say "Tag list (GET /v2/$E2E_REPO/tags/list):"
say "  $(reg_curl "$REG_URL/v2/$E2E_REPO/tags/list")"
say ""
[ -z "$bad" ] || fail "the registry's digests differ from the image's or from swrauth's summary"

port=${REG_HOST##*:}
registry_stop
if awk -v h=":$(printf '%04X' "$port")" '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
  /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
  fail "something still listens on $REG_HOST"
fi
say "Stopped the registry (pid gone, nothing listening on $REG_HOST); removing $T."
say "Done: one image, three tags, one digest: $OCI_DIGEST"
