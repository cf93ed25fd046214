#!/bin/sh
# install.sh: the two ways to install swrauth, tried for real (TAP).
# - `luarocks lint` accepts the rockspec and `luarocks make --deps-mode=none`
#   builds and installs it offline into a private tree; the installed module,
#   Lua modules and both commands work from there, outside the checkout.
# - `make install DESTDIR=...` installs the same files plus the C header and
#   the static archive; a C program linked against the installed archive
#   opens the module in its own Lua state.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
diag() { sed 's/^/# /' "$@" | tail -n 20; }
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi; }

# The published example pair (SEED.md), never a real account.
AK=QTWAOYTTINDUT2QVKYUC
SK=MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc
KEY=89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34
ROCKSPEC=rockspec/swrauth-scm-1.rockspec

if ! command -v luarocks >/dev/null 2>&1; then
  not_ok "luarocks is installed (Debian package 'luarocks'; as root: sh tools/deps.sh test)"
  echo "1..$n"; exit 1
fi

# A copy of the checkout's files, so that the build leaves nothing behind.
mkdir "$T/src"
(cd "$ROOT" && git ls-files -co --exclude-standard 2>/dev/null | grep -v '^build/' |
  tar cf - -T -) | tar xf - -C "$T/src"

# ----------------------------------------------------------- rockspec
if (cd "$T/src" && luarocks lint "$ROCKSPEC") >"$T/lint.log" 2>&1; then
  ok "luarocks lint accepts $ROCKSPEC"
else
  not_ok "luarocks lint accepts $ROCKSPEC"; diag "$T/lint.log"
fi

# Every Lua module of the checkout is listed in the rockspec.
missing=
for f in "$ROOT"/lua/swrauth/*.lua; do
  m=swrauth.$(basename "$f" .lua)
  grep -q "\[\"$m\"\] *= *\"lua/swrauth/$(basename "$f")\"" "$ROOT/$ROCKSPEC" || missing="$missing $m"
done
is "the rockspec lists every module in lua/swrauth" "${missing:-none}" none

TREE="$T/tree"
if (cd "$T/src" && luarocks --lua-version=5.4 --tree "$TREE" make --deps-mode=none "$ROCKSPEC") \
     >"$T/make.log" 2>&1; then
  ok "luarocks make --deps-mode=none builds and installs offline"
else
  not_ok "luarocks make --deps-mode=none builds and installs offline"; diag "$T/make.log"
fi

# Run from / with only the tree on the paths (and the system's for cjson,
# argparse, luv, lfs), so nothing can come from the checkout.
LP="$TREE/share/lua/5.4/?.lua;$TREE/share/lua/5.4/?/init.lua;;"
LC="$TREE/lib/lua/5.4/?.so;;"
got=$(cd / && AK=$AK SK=$SK LUA_PATH="$LP" LUA_CPATH="$LC" lua5.4 -e '
  local s = require "swrauth"
  io.write(package.searchpath("swrauth", package.cpath), " ", s.derive(os.getenv "AK", os.getenv "SK"))' \
  2>&1)
is "the installed swrauth.so loads and derives the published key" "$got" "$TREE/lib/lua/5.4/swrauth.so $KEY"

# Every module of the checkout, cmd/ included.
MODS=$(cd "$ROOT/lua" && find swrauth -name '*.lua' | sed 's/\.lua$//; s|/|.|g' | sort | tr '\n' ' ')
got=$(cd / && TREE=$TREE MODS=$MODS LUA_PATH="$LP" LUA_CPATH="$LC" lua5.4 -e '
  for m in os.getenv("MODS"):gmatch("%S+") do
    m = m:gsub("^swrauth%.", "")
    local p = package.searchpath("swrauth." .. m, package.path)
    require("swrauth." .. m)
    local tree = os.getenv "TREE"
    if not p or p:sub(1, #tree) ~= tree then io.write("swrauth." .. m, " from ", tostring(p), "\n") end
  end' 2>&1)
is "every installed Lua module loads from the tree" "${got:-all}" all

want_version=$(cd "$ROOT" && lua5.4 -e 'package.cpath = "./?.so;" .. package.cpath
  io.write(require("swrauth")._VERSION)')
for cmd in swrauth docker-credential-swr; do
  if [ -x "$TREE/bin/$cmd" ]; then
    got=$(cd / && LUA_PATH="$LP" LUA_CPATH="$LC" "$TREE/bin/$cmd" version 2>&1)
    case $got in
      *"$want_version"*) ok "installed $cmd runs outside the checkout ($got)" ;;
      *) not_ok "installed $cmd runs outside the checkout"; echo "# $got" ;;
    esac
  else
    not_ok "luarocks installed bin/$cmd"
  fi
done

got=$(cd / && HUAWEICLOUD_SDK_AK=$AK HUAWEICLOUD_SDK_SK=$SK LUA_PATH="$LP" LUA_CPATH="$LC" \
  "$TREE/bin/swrauth" --project cn-north-4 key 2>&1)
is "installed swrauth key prints the key" "$got" "$KEY"

# The man pages and completions, in the rock's directory (copy_directories).
ROCKDIR="$TREE/lib/luarocks/rocks-5.4/swrauth/scm-1"
for f in man/swrauth.1 man/docker-credential-swr.1 completion/swrauth.bash completion/_swrauth \
         completion/swrauth.fish; do
  if cmp -s "$ROOT/$f" "$ROCKDIR/$f"; then ok "luarocks put $f in the rock's directory"
  else not_ok "luarocks put $f in the rock's directory"; fi
done

# ------------------------------------------------------- make install
D="$T/dest"
if (cd "$T/src" && make -s DESTDIR="$D" PREFIX=/usr/local install) >"$T/install.log" 2>&1; then
  ok "make install DESTDIR=... PREFIX=/usr/local succeeds"
else
  not_ok "make install DESTDIR=... PREFIX=/usr/local succeeds"; diag "$T/install.log"
fi
for f in lib/lua/5.4/swrauth.so share/lua/5.4/swrauth/pipeline.lua bin/swrauth \
         bin/docker-credential-swr include/swrauth.h lib/libswrauth.a; do
  if [ -f "$D/usr/local/$f" ]; then ok "make install put $f"; else not_ok "make install put $f"; fi
done
# The man pages (uncompressed) and the completions where each shell looks.
for pair in man/swrauth.1:share/man/man1/swrauth.1 \
            man/docker-credential-swr.1:share/man/man1/docker-credential-swr.1 \
            completion/swrauth.bash:share/bash-completion/completions/swrauth \
            completion/_swrauth:share/zsh/site-functions/_swrauth \
            completion/swrauth.fish:share/fish/vendor_completions.d/swrauth.fish; do
  f=${pair#*:}
  if cmp -s "$ROOT/${pair%%:*}" "$D/usr/local/$f" && [ "$(stat -c %a "$D/usr/local/$f")" = 644 ]; then
    ok "make install put $f (mode 644)"
  else
    not_ok "make install put $f (mode 644)"
  fi
done
mode=$(stat -c %a "$D/usr/local/bin/swrauth" 2>/dev/null)
is "installed commands are mode 755" "$mode" 755
# The modules are installed precompiled (luac5.4): a binary chunk starts
# with ESC "Lua" and version byte 0x54; every one loads and keeps its
# debug information (error positions name the source file).
nbc=0
nmods=0
for f in "$D"/usr/local/share/lua/5.4/swrauth/*.lua; do
  nmods=$((nmods + 1))
  [ "$(head -c 5 "$f" | od -An -tx1 | tr -d ' \n')" = 1b4c756154 ] && nbc=$((nbc + 1))
done
is "make install precompiles every module (binary chunks)" "$nbc" "$nmods"
is "the precompiled modules load and keep line information" \
  "$(LUA_PATH_5_4="$D/usr/local/share/lua/5.4/?.lua;;" LUA_CPATH_5_4="$D/usr/local/lib/lua/5.4/?.so;;" \
     "${LUA:-lua5.4}" -e 'local i = debug.getinfo(require("swrauth.pipeline").new, "SL")
       print(package.searchpath("swrauth.pipeline", package.path):match("share/lua") ~= nil,
             i.short_src:match("pipeline%.lua$") ~= nil and next(i.activelines) ~= nil)' 2>&1)" \
  "true	true"
# The directories are the variables'.
D3="$T/dest-dirs"
(cd "$T/src" && make -s DESTDIR="$D3" PREFIX=/usr INST_MANDIR=/m INST_BASHCOMPDIR=/b \
  INST_ZSHCOMPDIR=/z INST_FISHCOMPDIR=/f install) >"$T/install3.log" 2>&1
got=
for f in m/man1/swrauth.1 b/swrauth z/_swrauth f/swrauth.fish; do [ -f "$D3/$f" ] && got="$got $f"; done
is "make install takes INST_MANDIR, INST_BASHCOMPDIR, INST_ZSHCOMPDIR, INST_FISHCOMPDIR" \
  "$got" " m/man1/swrauth.1 b/swrauth z/_swrauth f/swrauth.fish"
# PREFIX=/usr (a distribution's package): zsh's vendor directory.
D4="$T/dest-usr"
(cd "$T/src" && make -s DESTDIR="$D4" PREFIX=/usr install) >"$T/install4.log" 2>&1
if [ -f "$D4/usr/share/zsh/vendor-completions/_swrauth" ]; then
  ok "make install PREFIX=/usr puts zsh's completion in share/zsh/vendor-completions"
else
  not_ok "make install PREFIX=/usr puts zsh's completion in share/zsh/vendor-completions"
fi
# LUAC= installs the sources instead.
D2="$T/dest-src"
(cd "$T/src" && make -s DESTDIR="$D2" PREFIX=/usr/local LUAC= install) >"$T/install2.log" 2>&1
is "make install LUAC= installs the Lua sources" \
  "$(cmp -s "$D2/usr/local/share/lua/5.4/swrauth/cli.lua" "$T/src/lua/swrauth/cli.lua" && echo same)" same

# A C host linking the installed archive and header opens the module itself.
cat >"$T/host.c" <<'EOF'
#include <stdio.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "swrauth.h"
int luaopen_swrauth(lua_State *L);
int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (argc < 3) return 2;
  luaL_openlibs(L);
  luaL_requiref(L, "swrauth", luaopen_swrauth, 0);
  lua_getfield(L, -1, "derive");
  lua_pushstring(L, argv[1]);
  lua_pushstring(L, argv[2]);
  if (lua_pcall(L, 2, 1, 0) != 0) { fprintf(stderr, "%s\n", lua_tostring(L, -1)); return 1; }
  printf("%s\n", lua_tostring(L, -1));
  lua_close(L);
  return 0;
}
EOF
if cc -o "$T/host" "$T/host.c" -I"$D/usr/local/include" -I/usr/include/lua5.4 \
     "$D/usr/local/lib/libswrauth.a" -llua5.4 -lcrypto -lm >"$T/cc.log" 2>&1; then
  got=$("$T/host" "$AK" "$SK" 2>&1)
  is "a C host linked with the installed libswrauth.a derives the key" "$got" "$KEY"
else
  not_ok "a C host links with the installed libswrauth.a and swrauth.h"; diag "$T/cc.log"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
