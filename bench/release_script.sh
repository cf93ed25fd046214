#!/bin/sh
# release_script.sh: the hand-written baseline for `swrauth release` with
# skopeo: the engine commands swrauth runs, in a plain script, with the
# login key already at hand (SWR_KEY; the script derives nothing) and no
# process besides skopeo but one `rm`.
#   REG=HOST:PORT REPO=NS/NAME SWR_USER=PROJECT@AK SWR_KEY=KEY \
#     sh bench/release_script.sh SOURCE TAG [TAG...]
# Logs in (key on stdin), copies SOURCE to the first tag, copies that tag
# to each other tag within the registry, and prints each reference with its
# digest, as swrauth does.
set -eu
src=$1
first=$2
shift 2
dig=${TMPDIR:-/tmp}/release-digest.$$
trap 'rm -f "$dig"' EXIT
printf '%s\n' "$SWR_KEY" |
  skopeo login --tls-verify=false -u "$SWR_USER" --password-stdin "$REG" >/dev/null
skopeo copy --dest-tls-verify=false --digestfile "$dig" "$src" "docker://$REG/$REPO:$first"
read -r d <"$dig" || true
echo "$REG/$REPO:$first $d"
for t in "$@"; do
  skopeo copy --src-tls-verify=false --dest-tls-verify=false --digestfile "$dig" \
    "docker://$REG/$REPO:$first" "docker://$REG/$REPO:$t"
  read -r d <"$dig" || true
  echo "$REG/$REPO:$t $d"
done
