#!/bin/sh
# dist.sh: `make dist`'s release, tried for real (TAP):
# - the tarball holds exactly the files of HEAD under swrauth-VERSION/, and
#   the same commit gives the same bytes;
# - the release rockspec passes `luarocks lint`, names the tarball's md5 and
#   directory and the version, DIST_URL becomes its source.url;
# - `luarocks build` of the rockspec (fetching its file:// URL) and of the
#   source rock works offline and installs the same Lua modules, byte for
#   byte, as `make install LUAC=` from the tarball, and the same commands;
#   the installed commands run outside the checkout.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-dist.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
diag() { sed 's/^/# /' "$@" | tail -n 20; }
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi; }
done_testing() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }

for tool in git luarocks zip unzip md5sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    not_ok "'$tool' is installed (as root: sh tools/deps.sh test)"
  fi
done
[ "$failed" -eq 0 ] || done_testing
if ! git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  not_ok "the checkout is a git repository (make dist archives HEAD)"
  done_testing
fi

# The published example pair (SEED.md), never a real account.
AK=QTWAOYTTINDUT2QVKYUC
SK=MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc
KEY=89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34
V=$(sed -n 's/^#define SWRAUTH_VERSION "\([^"]*\)"$/\1/p' "$ROOT/include/swrauth.h")
D="$T/dist"
if (cd "$ROOT" && make -s dist DISTDIR="$D") >"$T/dist.log" 2>&1; then
  ok "make dist makes a release of $V"
else
  not_ok "make dist makes a release of $V"; diag "$T/dist.log"; done_testing
fi
TAR="$D/swrauth-$V.tar.gz"
RS="$D/swrauth-$V-1.rockspec"
SRC="$D/swrauth-$V-1.src.rock"
for f in "$TAR" "$RS" "$SRC"; do
  if [ -s "$f" ]; then ok "make dist wrote $(basename "$f")"; else not_ok "make dist wrote $(basename "$f")"; fi
done

got=$(tar tzf "$TAR" | grep -v '/$' | sort)
want=$(git -C "$ROOT" ls-tree -r --name-only HEAD | sed "s|^|swrauth-$V/|" | sort)
is "the tarball holds exactly HEAD's files under swrauth-$V/" "$(echo "$got" | md5sum)" "$(echo "$want" | md5sum)"
md5=$(md5sum "$TAR" | cut -d' ' -f1)
(cd "$ROOT" && make -s dist DISTDIR="$T/again") >/dev/null 2>&1
is "the same commit gives the same tarball" "$(md5sum "$T/again/swrauth-$V.tar.gz" | cut -d' ' -f1)" "$md5"

if luarocks lint "$RS" >"$T/lint.log" 2>&1; then ok "luarocks lint accepts the release rockspec"; else
  not_ok "luarocks lint accepts the release rockspec"; diag "$T/lint.log"; fi
# rockspec FILE: the rockspec's version, source url, md5 and directory.
rockspec() {
  lua5.4 -e 'local t = {}; loadfile(arg[1], "t", t)()
    print(t.version, t.source.url, t.source.md5, t.source.dir)' /dev/null "$1"
}
is "the rockspec's version, source url, md5 and directory" "$(rockspec "$RS")" \
  "$V-1	file://$TAR	$md5	swrauth-$V"
(cd "$ROOT" && make -s dist DISTDIR="$T/pub" DIST_URL="https://releases.invalid/swrauth-$V.tar.gz") >/dev/null 2>&1
is "DIST_URL becomes the rockspec's source.url" \
  "$(rockspec "$T/pub/swrauth-$V-1.rockspec" | cut -f2)" "https://releases.invalid/swrauth-$V.tar.gz"
is "the scm rockspec and the release one differ only in version and source" \
  "$(diff "$ROOT/rockspec/swrauth-scm-1.rockspec" "$RS" | grep '^[<>]' | sed 's/ *=.*//' |
     LC_ALL=C sort -u | tr '\n' ' ')" \
  "<   url < version >   dir >   md5 >   url > version "
is "the source rock holds the rockspec and the tarball" \
  "$(unzip -Z1 "$SRC" | sort | tr '\n' ' ')" "swrauth-$V-1.rockspec swrauth-$V.tar.gz "

# Offline builds into private trees, from / (nothing from the checkout).
for what in rockspec srcrock; do
  case $what in rockspec) from=$RS ;; srcrock) from=$SRC ;; esac
  if (cd / && luarocks --lua-version=5.4 --tree "$T/$what" build --deps-mode=none "$from") \
       >"$T/$what.log" 2>&1; then
    ok "luarocks build of the $what works offline"
  else
    not_ok "luarocks build of the $what works offline"; diag "$T/$what.log"
  fi
done

# make install from the tarball, with the sources (LUAC=), to compare.
mkdir -p "$T/unpacked"
tar xzf "$TAR" -C "$T/unpacked"
if (cd "$T/unpacked/swrauth-$V" && make -s DESTDIR="$T/mi" PREFIX=/usr/local LUAC= install) \
     >"$T/mi.log" 2>&1; then
  ok "make install from the tarball"
else
  not_ok "make install from the tarball"; diag "$T/mi.log"
fi
MI="$T/mi/usr/local"
for what in rockspec srcrock; do
  R="$T/$what"
  is "$what: the same Lua modules as make install, byte for byte" \
    "$(cd "$R/share/lua/5.4" && find . -type f -name '*.lua' | sort | xargs md5sum | md5sum)" \
    "$(cd "$MI/share/lua/5.4" && find . -type f -name '*.lua' | sort | xargs md5sum | md5sum)"
  is "$what: swrauth.so and the commands, as make install" \
    "$(cd "$R" && ls lib/lua/5.4 bin | tr '\n' ' ')" "$(cd "$MI" && ls lib/lua/5.4 bin | tr '\n' ' ')"
done
R="$T/srcrock"
LP="$R/share/lua/5.4/?.lua;$R/share/lua/5.4/?/init.lua;;"
LC="$R/lib/lua/5.4/?.so;;"
got=$(cd / && HUAWEICLOUD_SDK_AK=$AK HUAWEICLOUD_SDK_SK=$SK SWRAUTH_METADATA_ENDPOINT=none \
  LUA_PATH="$LP" LUA_CPATH="$LC" "$R/bin/swrauth" key 2>&1)
is "the installed swrauth key prints the published example's key" "$got" "$KEY"
got=$(cd / && LUA_PATH="$LP" LUA_CPATH="$LC" "$R/bin/swrauth" version 2>&1 | sed -n 's/^swrauth  //p')
is "the installed swrauth version names the tree's swrauth.so" "$got" "$R/lib/lua/5.4/swrauth.so"

done_testing
