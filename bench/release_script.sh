#!/bin/sh
# release_script.sh: the vendor's way, as a plain script: the baseline for
# `swrauth release` with skopeo that does what SWR's documentation does,
# with the login key already at hand (SWR_KEY; the script derives nothing)
# and no process besides skopeo's but one `rm`.
#   REG=HOST:PORT REPO=NS/NAME SWR_USER=PROJECT@AK SWR_KEY=KEY [CERT_DIR=DIR] \
#     sh bench/release_script.sh SOURCE TAG [TAG...]
# Logs in (key on stdin), copies SOURCE to the first tag, copies that tag
# to each other tag within the registry (one skopeo process per tag), and
# prints each reference with its digest, as swrauth does. CERT_DIR set:
# HTTPS, verified with the CA certificates in DIR; unset: TLS verification
# off (a plain-HTTP registry on loopback).
set -eu
src=$1
first=$2
shift 2
dig=${TMPDIR:-/tmp}/release-digest.$$
trap 'rm -f "$dig"' EXIT
if [ -n "${CERT_DIR:-}" ]; then
  login_tls="--cert-dir $CERT_DIR" src_tls="--src-cert-dir $CERT_DIR" dest_tls="--dest-cert-dir $CERT_DIR"
else
  login_tls=--tls-verify=false src_tls=--src-tls-verify=false dest_tls=--dest-tls-verify=false
fi
# (The TLS options are single words or a flag and a path without spaces.)
# shellcheck disable=SC2086
printf '%s\n' "$SWR_KEY" |
  skopeo login $login_tls -u "$SWR_USER" --password-stdin "$REG" >/dev/null
# shellcheck disable=SC2086
skopeo copy $dest_tls --digestfile "$dig" "$src" "docker://$REG/$REPO:$first"
read -r d <"$dig" || true
echo "$REG/$REPO:$first $d"
for t in "$@"; do
  # shellcheck disable=SC2086
  skopeo copy $src_tls $dest_tls --digestfile "$dig" \
    "docker://$REG/$REPO:$first" "docker://$REG/$REPO:$t"
  read -r d <"$dig" || true
  echo "$REG/$REPO:$t $d"
done
