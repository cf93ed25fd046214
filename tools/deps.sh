#!/bin/sh
# deps.sh: installs the Debian packages a make target needs, when missing.
# Usage: sh tools/deps.sh build|test|demo|bench|fuzz|deb
# As root it runs apt-get; otherwise it prints the exact command to run.
set -eu

BUILD_PKGS="gcc make pkg-config libssl-dev lua5.4 liblua5.4-dev"
LUA_PKGS="lua-argparse lua-luv lua-filesystem"
# man-db and groff-base render the man pages (man -l, lexgrog); zsh and fish
# check their completions (tests/manpages.sh).
TEST_PKGS="lua-busted lua-check lua-cjson luarocks valgrind openssl clang libclang-rt-14-dev zip unzip git man-db groff-base zsh fish"
# Registry and engines for the end-to-end tests (docker.io: dockerd 20.10
# and the docker CLI; containerd: containerd and ctr; runc for both; podman
# and buildah as root need no uidmap but it is their usual companion).
E2E_PKGS="docker-registry apache2-utils curl openssl socat skopeo docker.io containerd runc podman buildah uidmap"
# The demo: a registry and a daemonless engine.
DEMO_PKGS="docker-registry apache2-utils curl openssl skopeo"
BENCH_PKGS="valgrind lua-luaossl amazon-ecr-credential-helper hyperfine"
FUZZ_PKGS="clang libclang-rt-14-dev"
# Building the Debian package (dpkg-buildpackage needs build-essential),
# checking it, and reading its man pages.
DEB_PKGS="build-essential dpkg-dev debhelper fakeroot lintian man-db binutils"

want=$BUILD_PKGS
for target in "$@"; do
  case $target in
    build) ;;
    lua) want="$want $LUA_PKGS" ;;
    test) want="$want $LUA_PKGS $TEST_PKGS $E2E_PKGS $DEB_PKGS" ;;
    demo) want="$want $LUA_PKGS $DEMO_PKGS" ;;
    bench) want="$want $LUA_PKGS $TEST_PKGS $E2E_PKGS $BENCH_PKGS" ;;
    fuzz) want="$want $FUZZ_PKGS" ;;
    deb) want="$want $DEB_PKGS" ;;
    *) echo "deps.sh: unknown target '$target'" >&2; exit 2 ;;
  esac
done

# Commands that may come from elsewhere than Debian (a vendor's kubectl):
# their package is wanted only when the command is missing.
case " $* " in
  *" test "*|*" bench "*) command -v kubectl >/dev/null 2>&1 || want="$want kubernetes-client" ;;
esac

missing=
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "swrauth: missing Debian packages; as root run:" >&2
  echo "  apt-get install -y$missing" >&2
  exit 1
fi
echo "swrauth: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing >/tmp/swrauth-apt.log 2>&1; then
  apt-get update -q >>/tmp/swrauth-apt.log 2>&1 || true
  apt-get install -y -q --no-install-recommends $missing >>/tmp/swrauth-apt.log 2>&1 || {
    tail -n 20 /tmp/swrauth-apt.log >&2
    echo "swrauth: apt-get install failed (log: /tmp/swrauth-apt.log)" >&2
    exit 1
  }
fi
