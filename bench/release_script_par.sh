#!/bin/sh
# release_script_par.sh: bench/release_script.sh for one tag with the login
# and the copy run at the same time, as `swrauth release` runs them with
# skopeo: the copy reads the credentials from a private auth file, the
# login runs in the background. Shows swrauth's own overhead against a
# script as clever as it is.
#   REG=HOST:PORT REPO=NS/NAME SWR_USER=PROJECT@AK SWR_KEY=KEY \
#     sh bench/release_script_par.sh SOURCE TAG
set -eu
src=$1
tag=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/release-par.XXXXXX")
trap 'rm -rf "$dir"' EXIT
auth=$(printf '%s:%s' "$SWR_USER" "$SWR_KEY" | base64 -w0)
(umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$auth" >"$dir/auth.json")
printf '%s\n' "$SWR_KEY" |
  skopeo login --tls-verify=false -u "$SWR_USER" --password-stdin "$REG" >/dev/null &
skopeo copy --dest-tls-verify=false --dest-authfile "$dir/auth.json" --digestfile "$dir/digest" \
  "$src" "docker://$REG/$REPO:$tag"
wait $!
read -r d <"$dir/digest" || true
echo "$REG/$REPO:$tag $d"
