#!/bin/sh
# release_script_par.sh: the best hand-written script for what `swrauth
# release` does with skopeo, with the same advantages: the login key at
# hand (SWR_KEY; the script derives nothing), the login and the first copy
# at the same time (the copy reads the credentials from a private auth
# file, the login runs in the background and stores the login), and tags
# 2..n added through the registry API with curl: one manifest GET by the
# digest just pushed, one curl process for all the PUTs, credentials in
# curl's configuration on its standard input. With TOKEN_URL (a registry
# with token authentication, as SWR), a token is fetched first with the
# key and used for the GET and the PUTs; the script knows its registry's
# token service and scope (swrauth learns them from the 401 challenge).
#   REG=HOST:PORT REPO=NS/NAME SWR_USER=PROJECT@AK SWR_KEY=KEY \
#     [CERT_DIR=DIR] [TOKEN_URL=URL] sh bench/release_script_par.sh SOURCE TAG [TAG...]
# CERT_DIR set: HTTPS, verified with the CA certificates in DIR (curl uses
# DIR/ca.crt); unset: plain HTTP, TLS verification off. Prints each
# reference with its digest, as swrauth does. Unlike swrauth, it does not
# check the manifest against its digest.
set -eu
src=$1
first=$2
shift 2
dir=$(mktemp -d "${TMPDIR:-/tmp}/release-par.XXXXXX")
trap 'rm -rf "$dir"' EXIT
if [ -n "${CERT_DIR:-}" ]; then
  scheme=https login_tls="--cert-dir $CERT_DIR" dest_tls="--dest-cert-dir $CERT_DIR"
  curl_tls="cacert = \"$CERT_DIR/ca.crt\""
else
  scheme=http login_tls=--tls-verify=false dest_tls=--dest-tls-verify=false curl_tls=
fi
auth=$(printf '%s:%s' "$SWR_USER" "$SWR_KEY" | base64 -w0)
(umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$auth" >"$dir/auth.json")
# (The TLS options are single words or a flag and a path without spaces.)
# shellcheck disable=SC2086
printf '%s\n' "$SWR_KEY" |
  skopeo login $login_tls -u "$SWR_USER" --password-stdin "$REG" >/dev/null &
# shellcheck disable=SC2086
skopeo copy $dest_tls --dest-authfile "$dir/auth.json" --digestfile "$dir/digest" \
  "$src" "docker://$REG/$REPO:$first"
wait $!
read -r d <"$dir/digest" || true
echo "$REG/$REPO:$first $d"
[ $# -gt 0 ] || exit 0

if [ -n "${TOKEN_URL:-}" ]; then
  token=$(printf 'user = "%s:%s"\n%s\n' "$SWR_USER" "$SWR_KEY" "$curl_tls" |
    curl -q -K - -sS --fail "$TOKEN_URL" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || { echo "release_script_par.sh: no token from $TOKEN_URL" >&2; exit 1; }
  cred="header = \"Authorization: Bearer $token\""
else
  cred="user = \"$SWR_USER:$SWR_KEY\""
fi
base="$scheme://$REG/v2/$REPO/manifests"
ct=$(printf '%s\n%s\n' "$cred" "$curl_tls" |
  curl -q -K - -sS --fail -o "$dir/manifest" -w '%{content_type}' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "$base/$d")
{
  echo fail-early
  sep=
  for t in "$@"; do
    printf '%s%s\n%s\nurl = "%s/%s"\nupload-file = "%s"\n' "$sep" "$cred" "$curl_tls" "$base" "$t" "$dir/manifest"
    printf 'header = "Content-Type: %s"\noutput = "/dev/null"\nfail\n' "$ct"
    printf 'write-out = "%%header{docker-content-digest}\\n"\n'
    sep='next
'
  done
} | curl -q -K - -sS >"$dir/digests"
i=0
for t in "$@"; do
  i=$((i + 1))
  echo "$REG/$REPO:$t $(sed -n "${i}p" "$dir/digests")"
done
