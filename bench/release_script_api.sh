#!/bin/sh
# release_script_api.sh: the hand-written baseline for `swrauth release`
# with skopeo and tags added through the registry API: the commands
# swrauth runs, in a plain script, with the login key already at hand
# (SWR_KEY; the script derives nothing) and the scheme known (plain HTTP).
#   REG=HOST:PORT REPO=NS/NAME SWR_USER=PROJECT@AK SWR_KEY=KEY \
#     sh bench/release_script_api.sh SOURCE TAG [TAG...]
# Logs in (key on stdin), copies SOURCE to the first tag, then fetches its
# manifest once (curl) and PUTs it under each other tag (one curl for all
# PUTs; credentials in curl's config on stdin), and prints each reference
# with its digest, as swrauth does.
set -eu
src=$1
first=$2
shift 2
dir=$(mktemp -d "${TMPDIR:-/tmp}/release-api.XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf '%s\n' "$SWR_KEY" |
  skopeo login --tls-verify=false -u "$SWR_USER" --password-stdin "$REG" >/dev/null
skopeo copy --dest-tls-verify=false --digestfile "$dir/digest" "$src" "docker://$REG/$REPO:$first"
read -r d <"$dir/digest" || true
echo "$REG/$REPO:$first $d"
[ $# -gt 0 ] || exit 0
base="http://$REG/v2/$REPO/manifests"
ct=$(printf 'user = "%s:%s"\n' "$SWR_USER" "$SWR_KEY" |
  curl -q -K - -sS -o "$dir/manifest" -w '%{content_type}' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "$base/$d")
{
  echo fail-early
  sep=
  for t in "$@"; do
    printf '%suser = "%s:%s"\nurl = "%s/%s"\nupload-file = "%s"\n' "$sep" "$SWR_USER" "$SWR_KEY" "$base" "$t" "$dir/manifest"
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
