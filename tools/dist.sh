#!/bin/sh
# dist.sh (`make dist`): a release of the commit checked out, in DISTDIR
# (default build/dist):
#   swrauth-VERSION.tar.gz        git archive of HEAD, top directory
#                                 swrauth-VERSION/ (gzip -n: the same
#                                 commit gives the same bytes)
#   swrauth-VERSION-1.rockspec    rockspec/swrauth-scm-1.rockspec with the
#                                 version, and a source the tarball: its
#                                 url, md5 and directory
#   swrauth-VERSION-1.src.rock    the rockspec and the tarball in one file
#                                 (`luarocks build` needs no network)
# VERSION is SWRAUTH_VERSION in include/swrauth.h. DIST_URL is where the
# tarball will be published (the rockspec's source.url); by default the
# file:// URL of the tarball in DISTDIR, which `luarocks build ROCKSPEC`
# fetches offline. Uncommitted changes are not in a release: it says so.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
die() { echo "dist.sh: $*" >&2; exit 1; }
for tool in git gzip md5sum zip; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing (Debian package '$tool')"
done
V=$(sed -n 's/^#define SWRAUTH_VERSION "\([^"]*\)"$/\1/p' include/swrauth.h)
[ -n "$V" ] || die "no SWRAUTH_VERSION in include/swrauth.h"
git rev-parse --verify -q HEAD >/dev/null 2>&1 || die "make dist needs a git checkout (it archives HEAD)"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "dist.sh: warning: the release holds HEAD ($(git rev-parse --short HEAD)); uncommitted changes are not in it" >&2
fi
DISTDIR=${DISTDIR:-build/dist}
mkdir -p "$DISTDIR"
DISTDIR=$(cd "$DISTDIR" && pwd)
NAME=swrauth-$V
TAR=$DISTDIR/$NAME.tar.gz
ROCKSPEC=$DISTDIR/$NAME-1.rockspec
SRCROCK=$DISTDIR/$NAME-1.src.rock

git archive --format=tar --prefix="$NAME/" HEAD | gzip -9n >"$TAR.tmp"
mv "$TAR.tmp" "$TAR"
MD5=$(md5sum "$TAR" | cut -d' ' -f1)
URL=${DIST_URL:-file://$TAR}

# The scm rockspec with the release's version and source; nothing else
# differs, so the two cannot drift apart.
awk -v v="$V-1" -v url="$URL" -v md5="$MD5" -v dir="$NAME" '
  /^version = "scm-1"$/ { print "version = \"" v "\""; done_v = 1; next }
  /^source = {$/ { print; print "  url = \"" url "\","; print "  md5 = \"" md5 "\",";
                   print "  dir = \"" dir "\","; skip = 1; done_s = 1; next }
  skip && /^}$/ { skip = 0 }
  !skip { print }
  END { if (!done_v || !done_s) exit 3 }' rockspec/swrauth-scm-1.rockspec >"$ROCKSPEC.tmp" ||
  die "rockspec/swrauth-scm-1.rockspec has no 'version = \"scm-1\"' or 'source = {' line"
mv "$ROCKSPEC.tmp" "$ROCKSPEC"

rm -f "$SRCROCK"
(cd "$DISTDIR" && zip -q -X "$SRCROCK" "$(basename "$ROCKSPEC")" "$(basename "$TAR")")

echo "$TAR"
echo "$ROCKSPEC"
echo "$SRCROCK"
