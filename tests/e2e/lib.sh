# shellcheck shell=sh
# lib.sh: helpers for the end-to-end tests and the demo, sourced after
# ROOT is set to the checkout's top directory.
#
# Everything runs on loopback and in one temp dir ($T): a real Docker
# Distribution registry with htpasswd auth (HTTP or HTTPS with its own CA),
# a private containerd and dockerd, podman/buildah storage, an OCI layout
# built with tar + gzip + sha256sum. Every daemon is stopped by PID from the
# EXIT trap; the temp dir is removed; nothing is left outside it.
#
# E2E_KEEP=1 keeps $T for a look after the run (the daemons still stop).
#
# Output is TAP: `ok N - name` / `not ok N - name`, diagnostics as `# ...`.
#
# Variables the sourcing script reads or sets: E2E_ENGINE, E2E_LOGIN,
# E2E_CERT_FLAG, E2E_TLS_VERIFY, OCI_DIGEST, REL_DIGEST, REG_*.
# shellcheck disable=SC2034

case $0 in
  */lib.sh | lib.sh) ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)} ;;
esac
: "${ROOT:?ROOT must be set to the checkout before sourcing lib.sh}"

# The test identity (a script may set its own before sourcing). Obviously
# fake: no cloud account has these.
# No instance metadata of the machine running the tests (a suite that
# tests that source points it at the mock).
: "${SWRAUTH_METADATA_ENDPOINT:=none}"
export SWRAUTH_METADATA_ENDPOINT
: "${E2E_PROJECT:=cn-north-4}"
: "${E2E_AK:=TESTAK0000000000E2E0}"
: "${E2E_SK:=testSecretKeyForSwrauthE2E0000000000000a}"
E2E_USER="$E2E_PROJECT@$E2E_AK"
# A well-formed login key that is not the one for E2E_AK/E2E_SK.
E2E_BADKEY=0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de
: "${E2E_REPO:=team/app}"
# SWRAUTH may name another swrauth to test (an installed one, say).
SWRAUTH="${SWRAUTH:-$ROOT/bin/swrauth}"

T=
E2E_N=0
E2E_FAILED=0
E2E_PIDS=
E2E_NEWPATHS=
E2E_MISSING=

# ---------------------------------------------------------------- TAP

ok() {
  E2E_N=$((E2E_N + 1))
  echo "ok $E2E_N - $*"
}

not_ok() {
  E2E_N=$((E2E_N + 1))
  E2E_FAILED=$((E2E_FAILED + 1))
  echo "not ok $E2E_N - $*"
}

# diag FILE...: the files as TAP comments (secrets masked), last lines only.
diag() {
  for f in "$@"; do
    [ -s "$f" ] || continue
    tail -n 15 "$f" | e2e_mask | sed 's/^/#   /'
  done
}

# e2e_mask: replaces the SK, the keys and the auth value in a stream, so
# that a failure report can never be the leak.
e2e_mask() {
  if [ -f "$T/secrets.sed" ]; then sed -f "$T/secrets.sed"; else cat; fi
}

# check NAME CMD...: one test, passes when CMD exits 0; output kept in $T.
check() {
  _name=$1
  shift
  E2E_STEP=$((${E2E_STEP:-0} + 1))
  if "$@" >"$T/out/check$E2E_STEP.out" 2>"$T/out/check$E2E_STEP.err"; then
    ok "$_name"
  else
    _rc=$?
    not_ok "$_name"
    echo "#   command exited $_rc: $(echo "$*" | e2e_mask)"
    diag "$T/out/check$E2E_STEP.out" "$T/out/check$E2E_STEP.err"
  fi
}

# is NAME GOT WANT: one test, passes when the two strings are equal.
is() {
  if [ "$2" = "$3" ]; then
    ok "$1"
  else
    not_ok "$1"
    printf '#   got:  %s\n#   want: %s\n' "$2" "$3" | e2e_mask
  fi
}

# done_testing: the plan line and the exit status (the EXIT trap cleans up).
done_testing() {
  echo "1..$E2E_N"
  [ "$E2E_FAILED" -eq 0 ] && exit 0
  exit 1
}

# ---------------------------------------------------------------- setup

# need TOOL PACKAGE: records a missing tool (a failing test naming its
# Debian package); need_done ends the test when any is missing. With
# E2E_DEMO set, plain messages on stderr instead of TAP.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  case " $E2E_MISSING " in *" $2 "*) ;; *) E2E_MISSING="$E2E_MISSING $2" ;; esac
  if [ -n "${E2E_DEMO:-}" ]; then
    echo "swrauth demo: '$1' is missing (Debian package '$2')" >&2
  else
    not_ok "'$1' is installed (Debian package '$2'; as root: sh tools/deps.sh test)"
  fi
}

need_done() {
  [ -z "$E2E_MISSING" ] && return 0
  if [ -n "${E2E_DEMO:-}" ]; then
    echo "swrauth demo: as root run: apt-get install -y$E2E_MISSING (or make demo)" >&2
    exit 1
  fi
  echo "# missing Debian packages:$E2E_MISSING; as root: apt-get install -y$E2E_MISSING"
  done_testing
}

# e2e_init: the temp dir, the EXIT trap, an environment that keeps every
# engine's state in $T (HOME, TMPDIR, auth files), the vendor's login key.
e2e_init() {
  need openssl openssl
  need curl curl
  need docker-registry docker-registry
  need htpasswd apache2-utils
  need od coreutils
  need gzip gzip
  need tar tar
  need "${LUA:-lua5.4}" lua5.4
  if command -v "${LUA:-lua5.4}" >/dev/null 2>&1 &&
    ! "${LUA:-lua5.4}" -e 'require "cjson"' >/dev/null 2>&1; then
    E2E_MISSING="$E2E_MISSING lua-cjson"
    [ -n "${E2E_DEMO:-}" ] || not_ok "Lua 5.4 finds cjson (Debian package 'lua-cjson')"
  fi
  T=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-e2e.XXXXXX") || exit 1
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  mkdir -p "$T/out" "$T/logs" "$T/home" "$T/tmp" "$T/shim"
  export HOME="$T/home"
  export TMPDIR="$T/tmp"
  export XDG_CONFIG_HOME="$T/home/.config"
  export XDG_DATA_HOME="$T/home/.local/share"
  export XDG_RUNTIME_DIR="$T/run"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  export DOCKER_CONFIG="$T/home/.docker"
  export REGISTRY_AUTH_FILE="$T/home/auth.json"
  # No daemon unless a test starts one.
  export DOCKER_HOST="unix://$T/no-docker.sock"
  export CONTAINERD_ADDRESS="$T/no-containerd.sock"
  unset HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK SWRAUTH_AK SWRAUTH_LOGIN_KEY \
    SWRAUTH_PROJECT SWRAUTH_REGISTRY SWRAUTH_ENGINE SWRAUTH_CREDENTIALS_FILE \
    SWRAUTH_INSECURE SWRAUTH_CERT_DIR SWRAUTH_RETRIES DOCKER_CERT_PATH \
    DOCKER_TLS_VERIFY DOCKER_CONTEXT HUAWEICLOUD_SDK_SECURITY_TOKEN HUAWEICLOUD_SDK_PROJECT_ID \
    HUAWEICLOUD_SDK_IDP_ID HUAWEICLOUD_SDK_ID_TOKEN_FILE HUAWEICLOUD_SDK_CREDENTIALS_FILE \
    HUAWEICLOUD_SDK_IAM_ENDPOINT HC_CONTAINER_CREDENTIALS_FULL_URI \
    HC_CONTAINER_AUTHORIZATION_TOKEN_FILE SWRAUTH_API_ENDPOINT SWRAUTH_TEMPORARY SWRAUTH_DURATION \
    XDG_CACHE_HOME
  # The login key by the vendor's own pipeline, not by the code under test.
  E2E_KEY=$(printf "%s" "$E2E_AK" | openssl dgst -binary -sha256 -hmac "$E2E_SK" |
    od -An -vtx1 | sed 's/[ \n]//g' | sed 'N;s/\n//')
  case $E2E_KEY in
    *[!0-9a-f]*) E2E_KEY= ;;
  esac
  if [ "${#E2E_KEY}" -ne 64 ]; then
    not_ok "the vendor's openssl pipeline gives a 64-hex login key"
    [ -z "${E2E_DEMO:-}" ] || exit 1
    done_testing
  fi
  E2E_AUTH=$(printf '%s' "$E2E_USER:$E2E_KEY" | base64 | tr -d '\n')
  e2e_secret_files
  : >"$T/logs/argv.log"
  [ "${E2E_WATCH:-1}" = 0 ] || argv_watch_start
  umask 077
  printf 'User Name,Access Key Id,Secret Access Key\ne2e-user,%s,%s\n' \
    "$E2E_AK" "$E2E_SK" >"$T/credentials.csv"
  umask 022
}

# e2e_bg NAME CMD...: starts a daemon in the background, output to
# $T/logs/NAME.log; its PID in E2E_BG_PID and in the list the trap stops.
e2e_bg() {
  _log="$T/logs/$1.log"
  shift
  "$@" >"$_log" 2>&1 </dev/null &
  E2E_BG_PID=$!
  E2E_PIDS="$E2E_BG_PID $E2E_PIDS"
}

# e2e_track PATH...: removes each PATH in the EXIT trap if it does not
# exist now (list a file before its directory).
e2e_track() {
  for _f in "$@"; do
    [ -e "$_f" ] || E2E_NEWPATHS="$E2E_NEWPATHS $_f"
  done
}

# e2e_stop PID: TERM, up to 15 s, then KILL. Only PIDs this test started.
e2e_stop() {
  _pid=$1
  _new=
  for _p in $E2E_PIDS; do [ "$_p" = "$_pid" ] || _new="$_new $_p"; done
  E2E_PIDS=$_new
  kill -0 "$_pid" 2>/dev/null || { wait "$_pid" 2>/dev/null; return 0; }
  kill -TERM "$_pid" 2>/dev/null
  _i=0
  while kill -0 "$_pid" 2>/dev/null && [ "$_i" -lt 150 ]; do
    # A zombie child still answers kill -0 until it is waited for.
    case $(cut -d' ' -f3 "/proc/$_pid/stat" 2>/dev/null) in Z | '') break ;; esac
    sleep 0.1
    _i=$((_i + 1))
  done
  kill -KILL "$_pid" 2>/dev/null
  wait "$_pid" 2>/dev/null
  return 0
}

e2e_cleanup() {
  _rc=$?
  trap - EXIT INT TERM HUP
  for _p in $E2E_PIDS; do e2e_stop "$_p"; done
  if [ -n "${E2E_KEEP:-}" ] && [ -n "$T" ]; then
    echo "# E2E_KEEP: kept $T (daemons stopped)" >&2
  elif [ -n "$T" ] && [ -d "$T" ]; then
    # Mounts a daemon left under $T (deepest first).
    grep -F " $T/" /proc/self/mounts 2>/dev/null | cut -d' ' -f2 | sort -r |
      while read -r _m; do umount -l "$_m" 2>/dev/null; done
    rm -rf "$T" 2>/dev/null || { chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"; }
  fi
  # Paths outside $T that an engine writes whatever its flags, and that did
  # not exist before: files removed, directories removed when empty.
  for _f in $E2E_NEWPATHS; do
    if [ -d "$_f" ] && [ ! -L "$_f" ]; then rmdir "$_f" 2>/dev/null; else rm -f "$_f"; fi
  done
  exit "$_rc"
}

# ---------------------------------------------------------------- registry

# e2e_free_port: a TCP port nothing listens on (probed in /proc/net/tcp*).
e2e_free_port() {
  while :; do
    _r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    _port=$((20000 + _r % 40000))
    _hex=$(printf '%04X' "$_port")
    if ! awk -v h=":$_hex" '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      echo "$_port"
      return 0
    fi
  done
}

# registry_start http|https: Docker Distribution on 127.0.0.1 with htpasswd
# for E2E_USER and the login key (users "USER:KEY" may follow to add more).
# Sets REG_SCHEME, REG_HOST (127.0.0.1:PORT), REG_URL, REG_PID, REG_DIR,
# REG_CERT_DIR (https: a directory holding only the CA as ca.crt), REG_CURL
# (curl config with the credentials, for reg_* queries).
registry_start() {
  REG_SCHEME=$1
  shift
  REG_DIR="$T/registry-$REG_SCHEME"
  mkdir -p "$REG_DIR/data"
  : >"$REG_DIR/htpasswd"
  for _u in "$E2E_USER:$E2E_KEY" "$@"; do
    printf '%s' "${_u#*:}" | htpasswd -niB -C 4 "${_u%%:*}" 2>/dev/null |
      grep -v '^$' >>"$REG_DIR/htpasswd"
  done
  REG_CERT_DIR=
  _tls=
  if [ "$REG_SCHEME" = https ]; then
    e2e_make_certs "$REG_DIR" || return 1
    REG_CERT_DIR="$REG_DIR/certs"
    _tls="  tls:
    certificate: $REG_DIR/server.crt
    key: $REG_DIR/server.key"
  fi
  _try=0
  while [ "$_try" -lt 8 ]; do
    _try=$((_try + 1))
    _port=$(e2e_free_port)
    cat >"$REG_DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$_port
  secret: e2e-$$-$_port
$_tls
auth:
  htpasswd:
    realm: swrauth-e2e
    path: $REG_DIR/htpasswd
EOF
    # A clean environment: the registry reads REGISTRY_* variables as
    # configuration (REGISTRY_AUTH_FILE would become auth.file).
    e2e_bg "registry-$REG_SCHEME" env -i PATH="$PATH" \
      docker-registry serve "$REG_DIR/config.yml"
    REG_PID=$E2E_BG_PID
    REG_HOST="127.0.0.1:$_port"
    REG_URL="$REG_SCHEME://$REG_HOST"
    {
      echo "user = \"$E2E_USER:$E2E_KEY\""
      [ -z "$REG_CERT_DIR" ] || echo "cacert = \"$REG_CERT_DIR/ca.crt\""
    } >"$REG_DIR/curlrc"
    REG_CURL="$REG_DIR/curlrc"
    _i=0
    while [ "$_i" -lt 100 ]; do
      if ! kill -0 "$REG_PID" 2>/dev/null; then break; fi
      _code=$(e2e_curl_anon -o /dev/null -w '%{http_code}' "$REG_URL/v2/" 2>/dev/null)
      if [ "$_code" = 401 ]; then return 0; fi
      sleep 0.05
      _i=$((_i + 1))
    done
    # The port was taken meanwhile (shared machine) or it did not come up.
    e2e_stop "$REG_PID"
  done
  echo "# docker-registry did not start:" >&2
  diag "$T/logs/registry-$REG_SCHEME.log" >&2
  return 1
}

registry_stop() {
  [ -n "${REG_PID:-}" ] && e2e_stop "$REG_PID"
  REG_PID=
}

# e2e_make_certs DIR: a CA and a server certificate for 127.0.0.1/localhost.
e2e_make_certs() {
  (
    cd "$1" || exit 1
    mkdir -p certs
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout ca.key -out certs/ca.crt -days 2 -subj "/CN=swrauth e2e CA" \
      -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign &&
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout server.key -out server.csr -subj "/CN=127.0.0.1" &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >ext.cnf &&
      openssl x509 -req -in server.csr -CA certs/ca.crt -CAkey ca.key \
        -CAcreateserial -out server.crt -days 2 -extfile ext.cnf
  ) >"$1/openssl.log" 2>&1
}

e2e_curl_anon() {
  if [ -n "$REG_CERT_DIR" ]; then
    curl -sS --max-time 10 --cacert "$REG_CERT_DIR/ca.crt" "$@"
  else
    curl -sS --max-time 10 "$@"
  fi
}

# reg_curl ARGS...: curl to the registry as E2E_USER (credentials from a
# config file, not argv).
reg_curl() {
  curl -sS --max-time 10 -K "$REG_CURL" "$@"
}

# reg_tags REPO: the tags in the registry's tag list, sorted, one a line.
reg_tags() {
  reg_curl "$REG_URL/v2/$1/tags/list" |
    sed -n 's/.*"tags":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' | tr -d '" ' |
    grep -v '^$' | sort
}

E2E_ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'

# reg_digest REPO TAG: the manifest digest the registry serves for the tag.
reg_digest() {
  reg_curl -I -H "Accept: $E2E_ACCEPT" "$REG_URL/v2/$1/manifests/$2" |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p'
}

# ---------------------------------------------------------------- images

# oci_layout DIR TAG [TEXT]: a one-layer image (a file hello.txt holding
# TEXT) as an OCI image layout, made with tar, gzip and sha256sum only.
# Sets OCI_DIGEST (its manifest digest).
oci_layout() {
  _dir=$1
  _tag=$2
  _b="$T/oci-build.$$"
  rm -rf "$_b"
  mkdir -p "$_b/root" "$_dir/blobs/sha256"
  printf '%s\n' "${3:-hello from swrauth}" >"$_b/root/hello.txt"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$_b/root" -cf "$_b/layer.tar" hello.txt || return 1
  _diffid=$(sha256sum <"$_b/layer.tar" | cut -d' ' -f1)
  gzip -n -c "$_b/layer.tar" >"$_b/layer.tgz"
  _ldig=$(oci_blob "$_dir" "$_b/layer.tgz")
  _lsize=$(wc -c <"$_b/layer.tgz")
  _arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/hello.txt"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"swrauth oci_layout"}]}' \
    "$_arch" "$_diffid" >"$_b/config.json"
  _cdig=$(oci_blob "$_dir" "$_b/config.json")
  _csize=$(wc -c <"$_b/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
    "$_cdig" "$_csize" "$_ldig" "$_lsize" >"$_b/manifest.json"
  _mdig=$(oci_blob "$_dir" "$_b/manifest.json")
  _msize=$(wc -c <"$_b/manifest.json")
  printf '{"imageLayoutVersion":"1.0.0"}' >"$_dir/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$_mdig" "$_msize" "$_tag" >"$_dir/index.json"
  OCI_DIGEST="sha256:$_mdig"
  rm -rf "$_b"
}

oci_blob() {
  _d=$(sha256sum <"$2" | cut -d' ' -f1)
  cp "$2" "$1/blobs/sha256/$_d"
  echo "$_d"
}

# e2e_context DIR: a build context for FROM scratch + COPY.
e2e_context() {
  mkdir -p "$1"
  printf 'hello from swrauth\n' >"$1/hello.txt"
  printf 'FROM scratch\nCOPY hello.txt /hello.txt\nCMD ["/hello.txt"]\n' >"$1/Dockerfile"
}

# ---------------------------------------------------------------- engines

# shim_engines: a wrapper for each engine on PATH, in $T/shim (put first on
# PATH), that appends its argv to $T/logs/argv.log and execs the real binary.
shim_engines() {
  for _e in docker podman buildah skopeo nerdctl ctr; do
    _real=$(command -v "$_e") || continue
    case $_real in "$T/shim/"*) continue ;; esac
    cat >"$T/shim/$_e" <<EOF
#!/bin/sh
# One write for the whole line: engines may run at the same time.
_line="$_e"
for a in "\$@"; do _line="\$_line [\$a]"; done
printf '%s\n' "\$_line" >>"$T/logs/argv.log"
exec "$_real" "\$@"
EOF
    chmod +x "$T/shim/$_e"
  done
  case :$PATH: in *":$T/shim:"*) ;; *) PATH="$T/shim:$PATH" ;; esac
  export PATH
}

# containerd_start: a private containerd (root, state, sockets in $T; no
# CRI plugin, so no network or CNI). Sets CTD_SOCK, CTD_PID,
# CONTAINERD_ADDRESS.
containerd_start() {
  _c="$T/ctd"
  mkdir -p "$_c/root" "$_c/state"
  CTD_SOCK="$_c/c.sock"
  cat >"$_c/config.toml" <<EOF
version = 2
root = "$_c/root"
state = "$_c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_SOCK.ttrpc"
[debug]
  address = ""
  level = "warn"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$_c/opt"
EOF
  e2e_bg containerd containerd --config "$_c/config.toml"
  CTD_PID=$E2E_BG_PID
  _i=0
  while [ "$_i" -lt 100 ]; do
    if ! kill -0 "$CTD_PID" 2>/dev/null; then break; fi
    if [ -S "$CTD_SOCK" ] && ctr --address "$CTD_SOCK" version >/dev/null 2>&1; then
      export CONTAINERD_ADDRESS="$CTD_SOCK"
      export CONTAINERD_NAMESPACE=swrauth-e2e
      export CONTAINERD_SNAPSHOTTER=native
      return 0
    fi
    sleep 0.1
    _i=$((_i + 1))
  done
  echo "# containerd did not start:" >&2
  diag "$T/logs/containerd.log" >&2
  return 1
}

# dockerd_start: a private dockerd on the private containerd: vfs, no
# iptables, no bridge, every path in $T. Sets DOCKER_HOST, DOCKERD_PID.
dockerd_start() {
  [ -n "${CTD_SOCK:-}" ] || containerd_start || return 1
  _d="$T/dockerd"
  mkdir -p "$_d/data" "$_d/exec"
  # dockerd 20.10 writes its trust key to /etc/docker/key.json and makes
  # /run/docker/plugins, whatever its data and exec roots.
  e2e_track /etc/docker/key.json /etc/docker /run/docker/plugins /run/docker
  printf '{}\n' >"$_d/daemon.json"
  e2e_bg dockerd dockerd --config-file "$_d/daemon.json" \
    --host "unix://$_d/d.sock" --data-root "$_d/data" --exec-root "$_d/exec" \
    --pidfile "$_d/dockerd.pid" --containerd "$CTD_SOCK" \
    --containerd-namespace swrauth-e2e-moby \
    --containerd-plugins-namespace swrauth-e2e-plugins \
    --storage-driver vfs --iptables=false --ip6tables=false --ip-masq=false \
    --bridge=none --group "$(id -g)" --log-level warn
  DOCKERD_PID=$E2E_BG_PID
  _i=0
  while [ "$_i" -lt 200 ]; do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then break; fi
    if [ -S "$_d/d.sock" ] &&
      DOCKER_HOST="unix://$_d/d.sock" docker version >/dev/null 2>&1; then
      export DOCKER_HOST="unix://$_d/d.sock"
      return 0
    fi
    sleep 0.1
    _i=$((_i + 1))
  done
  echo "# dockerd did not start:" >&2
  diag "$T/logs/dockerd.log" >&2
  return 1
}

# containers_storage: podman/buildah/skopeo state in $T (vfs, temp root and
# runroot, auth file, registries and containers config).
containers_storage() {
  _s="$T/containers"
  mkdir -p "$_s/root" "$_s/run" "$_s/tmp"
  cat >"$_s/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$_s/root"
runroot = "$_s/run"
EOF
  cat >"$_s/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
  cat >"$_s/containers.conf" <<EOF
[engine]
events_logger = "none"
tmp_dir = "$_s/tmp"
cgroup_manager = "cgroupfs"
image_copy_tmp_dir = "$_s/tmp"
[network]
network_config_dir = "$_s/net"
EOF
  export CONTAINERS_STORAGE_CONF="$_s/storage.conf"
  export CONTAINERS_REGISTRIES_CONF="$_s/registries.conf"
  export CONTAINERS_CONF="$_s/containers.conf"
  export BUILDAH_ISOLATION=chroot
  # As root, podman and skopeo keep a blob-info cache here whatever their
  # storage configuration.
  e2e_track /var/lib/containers/cache/blob-info-cache-v1.boltdb \
    /var/lib/containers/cache /var/lib/containers
}

# ---------------------------------------------------------------- secrets

# e2e_secrets_files: pattern and sed files that hold the secrets, so that no
# helper ever has a secret in its own argv.
e2e_secret_files() {
  umask 077
  printf '%s\n' "$E2E_SK" "$E2E_KEY" "$E2E_BADKEY" "$E2E_AUTH" >"$T/secrets.pat"
  printf 's/%s/<SK>/g\ns/%s/<KEY>/g\ns/%s/<BADKEY>/g\ns|%s|<AUTH>|g\n' \
    "$E2E_SK" "$E2E_KEY" "$E2E_BADKEY" "$E2E_AUTH" >"$T/secrets.sed"
  umask 022
}

# argv_watch_start: samples every process's argv (/proc/PID/cmdline) every
# 50 ms while the test runs and logs, masked, any that holds a secret; it
# catches what the engine shims cannot (a key in `sh -c '...'`, say).
argv_watch_start() {
  # shellcheck disable=SC2016
  e2e_bg argv-watch sh -c '
    while :; do
      for f in $(grep -lsF -f "$1" /proc/[0-9]*/cmdline); do
        c=$({ tr "\000" " " <"$f"; } 2>/dev/null | sed -f "$2")
        [ -n "$c" ] && printf "%s\n" "$c"
      done
      sleep 0.05
    done' argv-watch "$T/secrets.pat" "$T/secrets.sed"
  E2E_WATCH_LOG="$T/logs/argv-watch.log"
}

# ---------------------------------------------------------------- swrauth

# sw NAME CREDS ARGS...: runs bin/swrauth ARGS with credentials from one
# documented source: CREDS is sdk (HUAWEICLOUD_SDK_AK/SK), key (SWRAUTH_AK
# + SWRAUTH_LOGIN_KEY), badkey (the same with a wrong key), csv
# (SWRAUTH_CREDENTIALS_FILE) or none. Secrets go by environment, never argv.
# Output in $T/out/NAME.{out,err}, exit status in SW_RC.
sw() {
  _n=$1
  _c=$2
  shift 2
  SW_OUT="$T/out/$_n.out"
  SW_ERR="$T/out/$_n.err"
  (
    case $_c in
      sdk) export HUAWEICLOUD_SDK_AK="$E2E_AK" HUAWEICLOUD_SDK_SK="$E2E_SK" ;;
      key) export SWRAUTH_AK="$E2E_AK" SWRAUTH_LOGIN_KEY="$E2E_KEY" ;;
      badkey) export SWRAUTH_AK="$E2E_AK" SWRAUTH_LOGIN_KEY="$E2E_BADKEY" ;;
      csv) export SWRAUTH_CREDENTIALS_FILE="$T/credentials.csv" ;;
    esac
    exec "$SWRAUTH" "$@"
  ) >"$SW_OUT" 2>"$SW_ERR" </dev/null
  SW_RC=$?
  echo "# swrauth $* -> exit $SW_RC" | sed -f "$T/secrets.sed" >>"$T/logs/commands.log"
}

# swg NAME CREDS ARGS...: sw with the global options for the current
# registry: --project, --registry, --engine E2E_ENGINE (when set), and
# --insecure (HTTP) or E2E_CERT_FLAG (HTTPS; default --cert-dir DIR).
swg() {
  _n=$1
  _c=$2
  shift 2
  if [ "$REG_SCHEME" = http ]; then
    set -- --insecure "$@"
  elif [ "${E2E_CERT_FLAG-"--cert-dir"}" = --cert-dir ]; then
    set -- --cert-dir "$REG_CERT_DIR" "$@"
  fi
  [ -z "${E2E_ENGINE:-}" ] || set -- --engine "$E2E_ENGINE" "$@"
  sw "$_n" "$_c" --project "$E2E_PROJECT" --registry "$REG_HOST" "$@"
}

# sw_is_ok TESTNAME: one test on the last sw: exit 0.
sw_is_ok() {
  if [ "$SW_RC" -eq 0 ]; then
    ok "$1"
  else
    not_ok "$1 (exit $SW_RC)"
    diag "$SW_OUT" "$SW_ERR"
  fi
}

# swrauth_ready: bin/swrauth runs (built module, Lua modules); the test ends
# here when it does not.
swrauth_ready() {
  if [ ! -x "$SWRAUTH" ]; then
    not_ok "bin/swrauth exists and is executable"
    done_testing
  fi
  sw version none version
  if [ "$SW_RC" -ne 0 ]; then
    not_ok "bin/swrauth version runs (exit $SW_RC; run make first)"
    diag "$SW_OUT" "$SW_ERR"
    done_testing
  fi
  ok "bin/swrauth version: $(head -n 1 "$SW_OUT")"
}

# e2e_lua CODE ARGS...: Lua 5.4 with lua-cjson, for reading JSON files
# (ARGS in arg[1], ...).
e2e_lua() {
  _code=$1
  shift
  "${LUA:-lua5.4}" -e "local cjson = require 'cjson'
    local function load(p)
      local f = io.open(p); if not f then return nil end
      local s = f:read('a'); f:close()
      local ok, v = pcall(cjson.decode, s); if ok then return v end
      io.stderr:write(p, ': not JSON: ', tostring(v), '\n'); os.exit(3)
    end
    $_code" /dev/null "$@"
}

# stored_auth HOST: the auth values stored for HOST in docker's config.json
# and in the containers auth file, one a line.
stored_auth() {
  e2e_lua '
    for _, p in ipairs({ arg[2], arg[3] }) do
      local d = load(p)
      local a = d and type(d.auths) == "table" and d.auths[arg[1]]
      if type(a) == "table" and a.auth then print(a.auth) end
    end' "$1" "$DOCKER_CONFIG/config.json" "$REGISTRY_AUTH_FILE"
}

# summary_fields FILE: from a --json summary, "D value" for every string
# under a key whose name holds "digest", "S value" for every string.
summary_fields() {
  e2e_lua '
    local doc = load(arg[1]); if doc == nil then os.exit(3) end
    local function walk(v, k)
      if type(v) == "table" then for kk, x in pairs(v) do walk(x, kk) end
      elseif type(v) == "string" then
        if type(k) == "string" and k:lower():find("digest") then print("D " .. v) end
        print("S " .. v)
      end
    end
    walk(doc)' "$1"
}

# ---------------------------------------------------------------- checks

# check_release OUT json|text TAG...: the registry lists every tag, all tags
# point at one manifest digest, and swrauth's summary names each pushed
# reference with that digest. Sets REL_DIGEST.
check_release() {
  _sum=$1
  _mode=$2
  shift 2
  _s=$REG_SCHEME
  _tags=$(reg_tags "$E2E_REPO" | tr '\n' ' ')
  _missing=
  for _t in "$@"; do
    case " $_tags" in *" $_t "*) ;; *) _missing="$_missing $_t" ;; esac
  done
  if [ -z "$_missing" ]; then
    ok "$_s: the registry's tag list has $*"
  else
    not_ok "$_s: the registry's tag list has $* (missing:$_missing; listed: $_tags)"
  fi
  _first=
  _same=1
  for _t in "$@"; do
    _d=$(reg_digest "$E2E_REPO" "$_t")
    [ -n "$_first" ] || _first=$_d
    [ "$_d" = "$_first" ] || _same=
    echo "#   $REG_HOST/$E2E_REPO:$_t -> ${_d:-no manifest}"
  done
  case $_first in
    sha256:????????????????????????????????????????????????????????????????) ;;
    *) _same= ;;
  esac
  if [ -n "$_same" ]; then
    ok "$_s: every tag points at one manifest digest"
  else
    not_ok "$_s: every tag points at one manifest digest"
  fi
  REL_DIGEST=$_first
  if [ "$_mode" = json ]; then
    if summary_fields "$_sum" >"$_sum.fields" 2>"$_sum.jerr"; then
      _digs=$(sed -n 's/^D //p' "$_sum.fields" | sort -u | tr '\n' ' ')
      is "$_s: the --json summary's digest is the registry's" "$_digs" "$_first "
      _strings=$(sed -n 's/^S //p' "$_sum.fields")
    else
      not_ok "$_s: the --json summary is a JSON document"
      diag "$_sum" "$_sum.jerr"
      return 0
    fi
  else
    _strings=$(cat "$_sum")
    if grep -qF "$_first" "$_sum"; then
      ok "$_s: the summary prints the registry's digest"
    else
      not_ok "$_s: the summary prints the registry's digest ($_first)"
      diag "$_sum"
    fi
  fi
  _nref=0
  for _t in "$@"; do
    if printf '%s\n' "$_strings" | grep -qE "(^|[[:space:]\"])$REG_HOST/$E2E_REPO:$_t(@|[[:space:]\"]|\$)"; then
      _nref=$((_nref + 1))
    fi
  done
  is "$_s: the summary names each pushed reference HOST/$E2E_REPO:TAG" "$_nref" "$#"
}

# check_wrong_key NAME ARGS...: the last sw failed as a wrong key must:
# exit 1 (runtime failure, the key is well-formed) with a reason on stderr.
check_wrong_key() {
  if [ "$SW_RC" -eq 1 ]; then
    ok "$1 fails with exit 1"
  else
    not_ok "$1 fails with exit 1 (got $SW_RC)"
    diag "$SW_OUT" "$SW_ERR"
  fi
  if grep -qiE 'unauthori[sz]ed|denied|incorrect|invalid (username|password|credential)|401|wrong|rejected|authenticat|log ?in.*fail|fail.*log ?in' "$SW_ERR"; then
    ok "$1: stderr says the login was refused"
  else
    not_ok "$1: stderr says the login was refused"
    diag "$SW_ERR"
  fi
}

# check_password_stdin ENGINE: the engine's login ran with --password-stdin.
check_password_stdin() {
  if grep "^$1 " "$T/logs/argv.log" 2>/dev/null | grep -q ' \[login\].*\[--password-stdin\]'; then
    ok "$1 login ran with --password-stdin"
  else
    not_ok "$1 login ran with --password-stdin"
    grep "^$1 " "$T/logs/argv.log" 2>/dev/null | sed -f "$T/secrets.sed" | tail -n 5 | sed 's/^/#   /'
  fi
}

# check_engine_used ENGINE: swrauth ran this engine (through the shim).
check_engine_used() {
  _c=$(grep -c "^$1 " "$T/logs/argv.log" 2>/dev/null)
  if [ "${_c:-0}" -gt 0 ]; then
    ok "swrauth ran $1 ($_c times)"
  else
    not_ok "swrauth ran $1"
    sed 's/^\([^ ]*\).*/\1/' "$T/logs/argv.log" 2>/dev/null | sort | uniq -c | sed 's/^/#   ran: /'
  fi
}

# check_no_secrets: no output of any command (swrauth, daemons) holds the
# SK, a key or the auth value; no engine's argv but ctr's holds them, and
# no process's argv (sampled) but ctr's.
check_no_secrets() {
  _files=$(find "$T/out" "$T/logs" -type f ! -name argv.log ! -name '*.secret.*' 2>/dev/null)
  # shellcheck disable=SC2086
  _hits=$(grep -lF -f "$T/secrets.pat" $_files /dev/null 2>/dev/null)
  if [ -z "$_hits" ]; then
    ok "no output holds the SK, a key or the auth value ($(echo "$_files" | wc -w) files)"
  else
    not_ok "no output holds the SK, a key or the auth value"
    echo "$_hits" | sed "s|$T/|#   |"
  fi
  if [ -f "$T/logs/argv.log" ]; then
    _leak=$(grep -v '^ctr ' "$T/logs/argv.log" | grep -cF -f "$T/secrets.pat")
    is "no engine's argv (but ctr's) holds the SK or a key ($(wc -l <"$T/logs/argv.log") engine runs)" "$_leak" 0
    # (The SK from a file: on grep's command line the argv watcher would
    # catch this very check.)
    printf '%s\n' "$E2E_SK" >"$T/sk.pat"
    _leak=$(grep -F -f "$T/sk.pat" "$T/logs/argv.log" | grep -c .)
    is "no engine's argv holds the SK" "$_leak" 0
  fi
  if [ -n "${E2E_WATCH_LOG:-}" ]; then
    _leak=$(grep -vE "^([^ ]*/)?ctr |^[^ ]*sh $T/shim/ctr " "$E2E_WATCH_LOG" | sort -u)
    if [ -z "$_leak" ]; then
      ok "no process's argv (sampled) held a secret"
    else
      not_ok "no process's argv (sampled) held a secret"
      echo "$_leak" | cut -c1-300 | sed 's/^/#   /'
    fi
  fi
}

# ---------------------------------------------------------------- scenario

# run_scenario SOURCE: the whole story against the current registry with
# E2E_ENGINE, for an engine with a login step (E2E_LOGIN=1) or without one
# (ctr: credentials go with each push):
#  - login with HUAWEICLOUD_SDK_AK/SK and with SWRAUTH_AK/SWRAUTH_LOGIN_KEY
#    succeeds and stores base64(PROJECT@AK:KEY) for the registry;
#  - login with a wrong well-formed key fails: exit 1, reason on stderr;
#  - release SOURCE --semver 1.4.2 with the credentials CSV pushes 1.4.2,
#    1.4 and 1, all one digest, the one the summary prints (text over HTTP,
#    --json over HTTPS);
#  - logout forgets this registry only;
#  - release with a wrong key fails and pushes nothing;
#  - over HTTPS, for engines that verify TLS (E2E_TLS_VERIFY=1), a login
#    without --cert-dir fails: swrauth does not turn verification off.
run_scenario() {
  _src=$1
  _s=$REG_SCHEME
  if [ "$_s" = https ] && [ "${E2E_TLS_VERIFY:-0}" = 1 ]; then
    sw "$_s-login-noca" key --project "$E2E_PROJECT" --registry "$REG_HOST" \
      --engine "$E2E_ENGINE" login
    if [ "$SW_RC" -ne 0 ]; then
      ok "$_s: login without --cert-dir fails (the CA is not trusted; exit $SW_RC)"
    else
      not_ok "$_s: login without --cert-dir fails (the CA is not trusted)"
    fi
    swg "$_s-logout-noca" none logout
  fi
  # (Not docker, whose daemon has its own CA directory; an empty
  # E2E_ENGINE is auto, which picks the daemon.)
  if [ "$_s" = https ] && [ -n "$E2E_ENGINE" ] && [ "$E2E_ENGINE" != docker ]; then
    # A missing or empty CA directory: a usage error before any engine runs.
    mkdir -p "$T/emptyca"
    for _dir in "$T/no-such-ca" "$T/emptyca" ""; do
      sw "$_s-login-badca" key --project "$E2E_PROJECT" --registry "$REG_HOST" \
        --engine "$E2E_ENGINE" --cert-dir "$_dir" login
      is "$_s: --cert-dir '${_dir:+${_dir##*/}}' (missing, empty): usage error (exit 2)" \
        "$SW_RC $(grep -c '^swrauth: .*cert[- ]dir' "$SW_ERR")" "2 1"
    done
  fi
  if [ "${E2E_LOGIN:-1}" = 1 ]; then
    swg "$_s-login-sdk" sdk login
    sw_is_ok "$_s: login with HUAWEICLOUD_SDK_AK/SK succeeds"
    is "$_s: login stored base64(PROJECT@AK:KEY) for $REG_HOST" \
      "$(stored_auth "$REG_HOST" | sort -u | sed -f "$T/secrets.sed")" "<AUTH>"
    swg "$_s-login-key" key login
    sw_is_ok "$_s: login with SWRAUTH_AK/SWRAUTH_LOGIN_KEY succeeds"
    swg "$_s-login-bad" badkey login
    check_wrong_key "$_s: login with a wrong key"
    is "$_s: a failed login leaves the stored login as it was" \
      "$(stored_auth "$REG_HOST" | sort -u | sed -f "$T/secrets.sed")" "<AUTH>"
  fi
  if [ "$_s" = https ]; then
    swg "$_s-release" csv --json release "$_src" --repository "$E2E_REPO" --semver 1.4.2
    _mode=json
  else
    swg "$_s-release" csv release "$_src" --repository "$E2E_REPO" --semver 1.4.2
    _mode=text
  fi
  sw_is_ok "$_s: release ($_mode summary) --semver 1.4.2 with the credentials CSV succeeds"
  REL_DIGEST=
  # After a failed release the registry checks would only repeat the failure.
  [ "$SW_RC" -ne 0 ] || check_release "$SW_OUT" "$_mode" 1.4.2 1.4 1
  if [ "${E2E_LOGIN:-1}" = 1 ]; then
    swg "$_s-logout" none logout
    sw_is_ok "$_s: logout succeeds"
    is "$_s: logout forgot $REG_HOST" "$(stored_auth "$REG_HOST")" ""
    # Once more, not logged in: a clean-up step must not fail.
    swg "$_s-logout-again" none logout
    sw_is_ok "$_s: logout when not logged in succeeds (exit 0)"
    case $E2E_ENGINE in
      podman|buildah|skopeo)
        is "$_s: logout when not logged in says there was nothing to remove" \
          "$(grep -c '^logout  .*(nothing to remove: not logged in)' "$SW_ERR")" 1 ;;
    esac
  fi
  swg "$_s-release-bad" badkey release "$_src" --repository team/nopush --tag 9.9.9
  check_wrong_key "$_s: release with a wrong key"
  is "$_s: a release with a wrong key pushed nothing" "$(reg_tags team/nopush | tr '\n' ' ')" ""
}

# ---------------------------------------------------------------- self-test

# Run directly (`sh tests/e2e/lib.sh`, as tests/run.sh does with every
# tests/e2e/*.sh), the library tests itself: the oracle the engine tests
# rely on (the vendor's pipeline on RFC 4231's HMAC-SHA256 case 2), the
# registry over HTTP and HTTPS, the OCI layout, the argv shim, and that the
# EXIT trap leaves no process and no temp dir.
e2e_selftest() {
  e2e_init
  need sha256sum coreutils
  need_done
  _k=$(printf "what do ya want for nothing?" | openssl dgst -binary -sha256 -hmac "Jefe" |
    od -An -vtx1 | sed 's/[ \n]//g' | sed 'N;s/\n//')
  is "the vendor's pipeline gives RFC 4231 case 2's HMAC-SHA256" "$_k" \
    5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843
  is "the test login key is 64 lowercase hex" \
    "$(printf '%s' "$E2E_KEY" | tr -d '0-9a-f' | wc -c)/${#E2E_KEY}" "0/64"
  for _s in http https; do
    if registry_start "$_s"; then
      ok "$_s: docker-registry answers 401 on $REG_URL/v2/ (pid $REG_PID)"
    else
      not_ok "$_s: docker-registry starts"
      continue
    fi
    is "$_s: the listener is on 127.0.0.1 only" "${REG_HOST%:*}" 127.0.0.1
    is "$_s: /v2/ with the login key answers 200" \
      "$(reg_curl -o /dev/null -w '%{http_code}' "$REG_URL/v2/")" 200
    is "$_s: /v2/ with a wrong key answers 401" \
      "$(e2e_curl_anon -o /dev/null -w '%{http_code}' -K - "$REG_URL/v2/" <<EOC
user = "$E2E_USER:$E2E_BADKEY"
EOC
)" 401
    if [ "$_s" = https ]; then
      is "https: the CA verifies the certificate for localhost too" \
        "$(e2e_curl_anon -o /dev/null -w '%{http_code}' "https://localhost:${REG_HOST##*:}/v2/")" 401
      is "https: the certificate is not trusted without the CA" \
        "$(curl -s -o /dev/null -w '%{http_code}' "$REG_URL/v2/")" 000
    fi
    _rp=$REG_PID
    registry_stop
    if kill -0 "$_rp" 2>/dev/null; then
      not_ok "$_s: registry_stop ends pid $_rp"
    else
      ok "$_s: registry_stop ends pid $_rp"
    fi
  done
  mkdir -p "$T/layout"
  oci_layout "$T/layout" 1.0
  _m=$(sed -n 's/.*"digest":"sha256:\([0-9a-f]*\)".*/\1/p' "$T/layout/index.json")
  is "the OCI layout's index names its manifest by sha256" "sha256:$_m" "$OCI_DIGEST"
  _bad=0
  for _b in "$T/layout/blobs/sha256/"*; do
    [ "$(sha256sum <"$_b" | cut -d' ' -f1)" = "${_b##*/}" ] || _bad=$((_bad + 1))
  done
  is "every blob of the layout is named by its sha256" "$_bad" 0
  if command -v skopeo >/dev/null 2>&1; then
    check "skopeo reads the OCI layout" skopeo inspect "oci:$T/layout:1.0"
  fi
  shim_engines
  if command -v skopeo >/dev/null 2>&1; then
    skopeo --version >/dev/null 2>&1
    is "the shim logs an engine's argv" "$(tail -n 1 "$T/logs/argv.log")" "skopeo [--version]"
  fi
  # A child test that starts a registry and exits: nothing may remain. It
  # has its own identity: its oracle run (openssl -hmac SK) is not a leak.
  ROOT=$ROOT E2E_SK=childSecretKeyForSwrauthE2E000000000000b E2E_WATCH=0 sh -c '. "$ROOT/tests/e2e/lib.sh"; e2e_init >/dev/null
    registry_start http >/dev/null || exit 9; echo "$T $REG_PID"' >"$T/child.out" 2>&1
  read -r _ct _cp <"$T/child.out"
  case $_cp in '' | *[!0-9]*) _cp= ;; esac
  if [ -n "$_cp" ] && ! kill -0 "$_cp" 2>/dev/null && [ -n "$_ct" ] && [ ! -e "$_ct" ]; then
    ok "the EXIT trap stops the registry (pid $_cp) and removes the temp dir"
  else
    not_ok "the EXIT trap stops the registry and removes the temp dir"
    diag "$T/child.out"
  fi
  check_no_secrets
  done_testing
}

case $0 in
  */lib.sh | lib.sh) e2e_selftest ;;
esac
