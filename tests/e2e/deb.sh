#!/bin/sh
# deb.sh: the Debian package, built, checked, installed, used and removed
# for real on this machine (root; Debian 12):
# - `dpkg-buildpackage -us -uc -b` builds swrauth and libswrauth-dev from a
#   copy of the tree (nothing is written to the checkout); the version is
#   SWRAUTH_VERSION of include/swrauth.h;
# - lintian on the .changes (every .deb) reports no error; its warnings,
#   info and pedantic tags are printed as comments;
# - `apt-get install ./swrauth_*.deb ./libswrauth-dev_*.deb` installs them;
#   from / with no LUA_PATH/LUA_CPATH and a PATH without the checkout,
#   /usr/bin/swrauth and docker-credential-swr run on the installed files:
#   version, key (the vendor's openssl pipeline's key), the helper's get
#   for an SWR host, a release with skopeo to a registry on loopback; every
#   module is found under /usr; the man pages render, bash loads the
#   completion;
# - `apt-get purge` removes both: every file the packages installed is gone
#   and dpkg knows neither.
# Packages already installed by someone else are never replaced or removed:
# when swrauth is installed, or a file the package ships already exists,
# the install part fails saying so. The EXIT trap purges what this test
# installed, also when a step fails.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "$ROOT/tests/e2e/lib.sh"

e2e_init
need dpkg-buildpackage dpkg-dev
need dh debhelper
need lintian lintian
need apt-get apt
need skopeo skopeo
need man man-db
need readelf binutils
need flock util-linux
need_done

PKGS="swrauth libswrauth-dev"
# What this test installed and must purge (the packages, and any of their
# dependencies apt-get had to add).
DEB_PURGE=
APT="apt-get -q -o DPkg::Lock::Timeout=300"

# shellcheck disable=SC2317 # run by the EXIT trap
deb_cleanup() {
  _deb_rc=$?
  if [ -n "$DEB_PURGE" ]; then
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $APT purge -y $DEB_PURGE >"$T/logs/purge-trap.log" 2>&1 ||
      echo "# the EXIT trap could not purge:$DEB_PURGE (log: $T/logs/purge-trap.log)" >&2
    DEB_PURGE=
  fi
  (exit "$_deb_rc")
  e2e_cleanup
}
trap deb_cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
  not_ok "the package test runs as root (it installs and removes packages); run it as root or through make check"
  done_testing
fi

VERSION=$(sed -n 's/^#define SWRAUTH_VERSION "\(.*\)"$/\1/p' "$ROOT/include/swrauth.h")
ARCH=$(dpkg --print-architecture)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
is "debian/changelog's version is SWRAUTH_VERSION of include/swrauth.h" \
  "$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version 2>&1)" "$VERSION"

# ------------------------------------------------------------- build
# A copy of the tree's files (tracked and new, not ignored, not build/), as
# tests/install.sh makes: the build writes only there and in its parent.
B="$T/pkg"
mkdir -p "$B/swrauth"
# What a build in the checkout would write: debian/'s build directories
# and files, the packages beside the checkout (others may be editing the
# tree meanwhile: its sources are not compared).
checkout_state() {
  ls -a "$ROOT/debian" 2>/dev/null
  for _f in "$ROOT"/../swrauth_* "$ROOT"/../swrauth-dbgsym_* "$ROOT"/../libswrauth-dev_*; do
    [ -e "$_f" ] && printf '%s\n' "${_f##*/}"
  done
}
checkout_state >"$T/checkout.before"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -co --exclude-standard | grep -v '^build/' |
    while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done | tar cf - -T -) |
    tar xf - -C "$B/swrauth"
else
  (cd "$ROOT" && tar cf - --exclude=./build --exclude=./swrauth.so --exclude='*.o' .) |
    tar xf - -C "$B/swrauth"
fi
started=$(date +%s)
if (cd "$B/swrauth" && unset MAKEFLAGS MFLAGS MAKELEVEL &&
  dpkg-buildpackage -us -uc -b) >"$T/logs/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b builds the packages ($(($(date +%s) - started)) s)"
else
  not_ok "dpkg-buildpackage -us -uc -b builds the packages"
  diag "$T/logs/build.log"
  done_testing
fi
is "the build left the checkout as it was" "$(checkout_state | diff "$T/checkout.before" - | head -n 5)" ""
DEB="$B/swrauth_${VERSION}_$ARCH.deb"
DEV="$B/libswrauth-dev_${VERSION}_$ARCH.deb"
CHANGES="$B/swrauth_${VERSION}_$ARCH.changes"
for f in "$DEB" "$DEV" "$CHANGES"; do
  if [ -f "$f" ]; then ok "built ${f##*/}"; else not_ok "built ${f##*/}"; fi
done
if [ ! -f "$DEB" ] || [ ! -f "$DEV" ]; then done_testing; fi
# The C unit tests ran in the build (dh_auto_test).
ntap=$(find "$B/swrauth/build" -maxdepth 1 -name 'test_*.tap' | wc -l)
is "the build ran the C unit tests (dh_auto_test), each passed" \
  "$(grep -c '^build/test_[a-z_]*: [1-9][0-9]* passed$' "$T/logs/build.log")" "$(echo "$ntap" | sed 's/^0$/some/')"

field() { dpkg-deb -f "$1" "$2"; }
is "swrauth depends on exactly Lua 5.4, argparse, luv, lfs, curl and the shared libraries" \
  "$(field "$DEB" Depends | tr ',' '\n' | sed 's/^ *//; s/ *(.*//' | sort | tr '\n' ' ')" \
  "curl libc6 libssl3 lua-argparse lua-filesystem lua-luv lua5.4 "
is "swrauth recommends the engines" "$(field "$DEB" Recommends)" \
  "skopeo | podman | buildah | docker.io | containerd"

# The files of both packages, as absolute paths (directories end with /).
dpkg-deb -c "$DEB" >"$T/deb.list"
dpkg-deb -c "$DEV" >>"$T/deb.list"
awk '{ p = $6; sub(/^\./, "", p); if (substr($1, 1, 1) == "d" && p !~ /\/$/) p = p "/";
  if (p != "/") print p }' "$T/deb.list" | sort -u >"$T/deb.paths"
grep -v '/$' "$T/deb.paths" >"$T/deb.files"
has() { grep -qxF "$1" "$T/deb.paths"; }
for p in /usr/bin/swrauth /usr/bin/docker-credential-swr \
  "/usr/lib/$MULTIARCH/lua/5.4/swrauth.so" /usr/share/lua/5.4/swrauth/cli.lua \
  /usr/share/lua/5.4/swrauth/cmd/release.lua /usr/include/swrauth.h \
  "/usr/lib/$MULTIARCH/libswrauth.a" /usr/share/doc/swrauth/copyright \
  /usr/share/doc/swrauth/README.md.gz /usr/share/man/man1/swrauth.1.gz \
  /usr/share/man/man1/docker-credential-swr.1.gz /usr/share/bash-completion/completions/swrauth \
  /usr/share/zsh/vendor-completions/_swrauth /usr/share/fish/vendor_completions.d/swrauth.fish; do
  if has "$p"; then ok "the packages ship $p"; else not_ok "the packages ship $p"; fi
done
is "swrauth.h and libswrauth.a are in libswrauth-dev" \
  "$(dpkg-deb -c "$DEV" | grep -cE '\./usr/include/swrauth\.h$|\./usr/lib/[^/]*/libswrauth\.a$')" 2
# Every module of the tree, as a Lua source (Debian's Lua policy;
# debian/rules says why not bytecode).
nmods=0
nmissing=
for f in $(cd "$B/swrauth/lua" && find swrauth -name '*.lua' | sort); do
  nmods=$((nmods + 1))
  has "/usr/share/lua/5.4/$f" || nmissing="$nmissing $f"
done
is "the package ships every module of the tree ($nmods)" "${nmissing:-all}" all

# ------------------------------------------------------------- lintian
lintian --display-info --pedantic --fail-on error "$CHANGES" >"$T/logs/lintian.log" 2>"$T/logs/lintian.err"
lrc=$?
grep -v '^N:' "$T/logs/lintian.log" | sed 's/^/# lintian: /'
nerr=$(grep -c '^E:' "$T/logs/lintian.log")
if [ "$lrc" -eq 0 ] && [ "$nerr" -eq 0 ]; then
  ok "lintian reports no error ($(grep -c '^W:' "$T/logs/lintian.log") warnings, $(grep -c '^[IP]:' "$T/logs/lintian.log") info/pedantic)"
else
  not_ok "lintian reports no error ($nerr errors, exit $lrc)"
  grep -v 'running with root privileges' "$T/logs/lintian.err" | sed 's/^/#   /'
fi
# Hardening flags reached the compiler and the linker.
so="$B/swrauth/debian/swrauth/usr/lib/$MULTIARCH/lua/5.4/swrauth.so"
is "swrauth.so is linked with RELRO and BIND_NOW (dpkg-buildflags)" \
  "$(readelf -lW "$so" 2>/dev/null | grep -q GNU_RELRO && echo relro) $(readelf -dW "$so" 2>/dev/null | grep -qE 'BIND_NOW|FLAGS.* NOW' && echo now)" \
  "relro now"

# ------------------------------------------------------------- install
# One run of this test at a time on a machine.
lock=/run/lock/swrauth-deb-test.lock
e2e_track "$lock"
exec 9>"$lock"
flock -w 600 9 || { not_ok "no other deb.sh holds $lock"; done_testing; }
# Only on a machine where neither package is installed and none of their
# files exists: a developer's own swrauth is never replaced or removed.
pre=
for p in $PKGS; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$p" 2>/dev/null)
  case $st in '' | un* | pn*) ;; *) pre="$pre $p ($st)" ;; esac
done
clash=
while IFS= read -r p; do
  [ -e "$p" ] || [ -L "$p" ] && clash="$clash $p"
done <"$T/deb.files"
if [ -n "$pre" ] || [ -n "$clash" ]; then
  [ -z "$pre" ] || not_ok "swrauth is not installed as a package already (found:$pre): the test would replace and purge it; remove it (apt-get purge $PKGS) and run again"
  [ -n "$pre" ] || not_ok "no file the package ships exists yet (found:$(echo "$clash" | cut -c1-300)): an earlier make install PREFIX=/usr? the package would overwrite them"
  done_testing
fi
# Paths of the package that exist now (shared directories): purge keeps them.
while IFS= read -r p; do [ -e "$p" ] && printf '%s\n' "$p"; done <"$T/deb.paths" >"$T/existed"

installed_pkgs() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort; }
installed_pkgs >"$T/pkgs.before"
DEB_PURGE=$PKGS
if (cd "$B" && DEBIAN_FRONTEND=noninteractive $APT install -y "./${DEB##*/}" "./${DEV##*/}") \
  >"$T/logs/install.log" 2>&1; then
  ok "apt-get install -y ./${DEB##*/} ./${DEV##*/}"
else
  not_ok "apt-get install -y ./${DEB##*/} ./${DEV##*/}"
  diag "$T/logs/install.log"
fi
installed_pkgs >"$T/pkgs.after"
comm -13 "$T/pkgs.before" "$T/pkgs.after" >"$T/pkgs.added"
others=$(grep -vxE 'swrauth|libswrauth-dev' "$T/pkgs.added" | tr '\n' ' ')
[ -z "$others" ] || { DEB_PURGE="$PKGS $others"; echo "# apt-get also installed (purged at the end): $others"; }
is "both packages are installed" "$(grep -cxE 'swrauth|libswrauth-dev' "$T/pkgs.added")" 2
# shellcheck disable=SC2086
is "dpkg -L lists exactly the files of the .debs" \
  "$(dpkg -L $PKGS 2>/dev/null | while IFS= read -r p; do [ -z "$p" ] || { [ -d "$p" ] && [ ! -L "$p" ]; } || echo "$p"; done | sort -u | diff "$T/deb.files" - | head -n 5)" ""

# ------------------------------------------------------------- use
# From /, with no Lua search path of the environment and only the
# system's directories (and the engine shims) on PATH.
cd / || exit 1
unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
SWRAUTH=/usr/bin/swrauth
HELPER=/usr/bin/docker-credential-swr

is "/usr/bin/swrauth starts with #!/usr/bin/lua5.4" "$(head -n 1 "$SWRAUTH")" "#!/usr/bin/lua5.4"
sw version none version
sw_is_ok "swrauth version runs"
is "swrauth version: the version, the installed script, module and Lua modules" \
  "$(grep -E '^(swrauth|script|modules) ' "$SW_OUT" | tr -s ' ')" \
  "swrauth $VERSION
script /usr/bin/swrauth
swrauth /usr/lib/$MULTIARCH/lua/5.4/swrauth.so
modules /usr/share/lua/5.4/swrauth/cli.lua"
is "swrauth version: run by /usr/bin/lua5.4" \
  "$(sed -n 's/^lua  *[^(]*(\([^;]*\);.*/\1/p' "$SW_OUT")" /usr/bin/lua5.4
is "docker-credential-swr version" "$("$HELPER" version 2>&1)" "docker-credential-swr (swrauth) $VERSION"

sw key.secret sdk --project "$E2E_PROJECT" key
sw_is_ok "swrauth key runs"
is "swrauth key prints the vendor pipeline's key" "$(e2e_mask <"$SW_OUT")" "<KEY>"

SWR_HOST="swr.$E2E_PROJECT.myhuaweicloud.com"
printf '%s\n' "$SWR_HOST" | HUAWEICLOUD_SDK_AK="$E2E_AK" HUAWEICLOUD_SDK_SK="$E2E_SK" \
  "$HELPER" get >"$T/out/get.secret.json" 2>"$T/out/get.err"
is "docker-credential-swr get $SWR_HOST: PROJECT@AK and the key" \
  "$(e2e_mask <"$T/out/get.secret.json")" \
  "{\"ServerURL\":\"$SWR_HOST\",\"Username\":\"$E2E_USER\",\"Secret\":\"<KEY>\"}"

# Every module, the C module and the dependencies from the system's paths.
MODS=$(sed -n 's|^/usr/share/lua/5.4/\(swrauth/.*\)\.lua$|\1|p' "$T/deb.files" | tr '/' '.' | tr '\n' ' ')
got=$(MODS=$MODS lua5.4 -e '
  local bad = {}
  local function from(name, path, want)
    local p = package.searchpath(name, path)
    if not p or p:sub(1, #want) ~= want then bad[#bad + 1] = name .. " from " .. tostring(p) end
  end
  from("swrauth", package.cpath, "/usr/lib/")
  for m in os.getenv("MODS"):gmatch("%S+") do
    from(m, package.path, "/usr/share/lua/5.4/swrauth/")
    local ok, err = pcall(require, m)
    if not ok then bad[#bad + 1] = m .. ": " .. tostring(err):sub(1, 200) end
  end
  for _, d in ipairs {"argparse", "luv", "lfs"} do
    if not pcall(require, d) then bad[#bad + 1] = d .. " does not load" end
  end
  io.write(#bad == 0 and "all" or table.concat(bad, "; "))' 2>&1)
is "package.searchpath finds swrauth.so and every module ($(echo "$MODS" | wc -w)) under /usr; each loads" "$got" all
is "the installed modules are the tree's sources" \
  "$(for m in $MODS; do f=$(echo "$m" | tr . /).lua
       cmp -s "/usr/share/lua/5.4/$f" "$B/swrauth/lua/$f" || printf ' %s' "$m"; done)" ""

# A real release with skopeo to a registry on loopback.
containers_storage
shim_engines
# shellcheck disable=SC2034 # read by swg (lib.sh)
E2E_ENGINE=skopeo
if registry_start http; then
  mkdir -p "$T/layout"
  oci_layout "$T/layout" 1.0
  swg http-release csv release "oci:$T/layout:1.0" --repository "$E2E_REPO" --semver 1.4.2
  sw_is_ok "installed swrauth: release --semver 1.4.2 with skopeo succeeds"
  [ "$SW_RC" -ne 0 ] || check_release "$SW_OUT" text 1.4.2 1.4 1
  is "the registry serves the layout's manifest" "$REL_DIGEST" "$OCI_DIGEST"
  check_engine_used skopeo
  registry_stop
else
  not_ok "docker-registry starts"
fi

# The installed man pages render; man finds them by name; bash loads
# the completion.
for m in swrauth docker-credential-swr; do
  f=/usr/share/man/man1/$m.1.gz
  MANWIDTH=80 MANPAGER=cat man --warnings -l "$f" >"$T/out/man-$m.out" 2>"$T/out/man-$m.err"
  if [ -s "$T/out/man-$m.out" ] && [ ! -s "$T/out/man-$m.err" ]; then
    ok "man --warnings -l $f renders without a warning ($(wc -l <"$T/out/man-$m.out") lines)"
  else
    not_ok "man --warnings -l $f renders without a warning"
    diag "$T/out/man-$m.err"
  fi
  is "man -w $m finds the installed page" "$(env -u MANPATH man -w "$m" 2>&1)" "$f"
done
is "bash loads the installed completion for swrauth" \
  "$(bash -c '. /usr/share/bash-completion/completions/swrauth && complete -p swrauth' 2>&1 | grep -c ' swrauth$')" 1

# ------------------------------------------------------------- purge
# shellcheck disable=SC2086 # a list of package names
if DEBIAN_FRONTEND=noninteractive $APT purge -y $DEB_PURGE >"$T/logs/purge.log" 2>&1; then
  ok "apt-get purge -y $DEB_PURGE"
  DEB_PURGE=
else
  not_ok "apt-get purge -y $DEB_PURGE"
  diag "$T/logs/purge.log"
fi
for p in $PKGS; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | tr -d ' ')
  is "dpkg -s: $p is not installed" "${st:-un}" un
done
left=$(sort -r "$T/deb.paths" | while IFS= read -r p; do
  grep -qxF "$p" "$T/existed" && continue
  { [ -e "$p" ] || [ -L "$p" ]; } && printf ' %s' "$p"; done)
is "nothing the packages installed is left ($(wc -l <"$T/deb.paths") paths)" "${left:-nothing}" nothing
is "dpkg keeps no file of either package" \
  "$(ls /var/lib/dpkg/info/swrauth.* /var/lib/dpkg/info/swrauth:* /var/lib/dpkg/info/libswrauth-dev.* \
      /var/lib/dpkg/info/libswrauth-dev:* 2>/dev/null)" ""

check_no_secrets
done_testing
