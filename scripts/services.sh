#!/usr/bin/env bash
# Local Docker engine + registries + base images for helmet-build development, demos and CI.
#
#   scripts/services.sh up [--containerd]   install (Debian packages) and start what is missing; idempotent
#   scripts/services.sh down                stop what `up` started
#   scripts/services.sh env                 print the exports that point clients at the services
#
# Two engines: Debian 12's docker.io (dockerd 20.10, the default DOCKER_HOST) and Docker 26.1 run
# from a Debian 13 root beside it (HELMET_MODERN_DOCKER_HOST; HELMET_SKIP_MODERN_ENGINE=1 leaves it out).
# A third only when asked for, by `up --containerd`: Docker 26.1 from the same root with the
# containerd image store ("features": {"containerd-snapshotter": true}; its own data root, exec root,
# socket and the containerd dockerd starts for itself), at HELMET_CONTAINERD_DOCKER_HOST. `env` names
# it while it runs; a later `up` without the flag leaves it running; `down` stops it. On Docker 26.1
# this store fails BuildKit builds whose context is the request's tar body ("failed to read
# downloaded context", moby/moby#47717, fixed in 27.5); a context sent through the session works.
# Nothing can be pulled from outside here, so base images are made locally, in both engines:
#   helmet/busybox:latest   tiny busybox image for fast test fixtures
#   helmet/python:3.11      Debian minbase + python3 (debootstrap, cached as a tarball)
#   helmet/pytorch-cpu:2.6  Debian 13 minbase + python3 with torch 2.6 (CPU), torchvision, onnx, onnxruntime
#                           and Pillow from Debian's packages: the train and rknn-convert base of local runs.
#                           Docker 26.1 only (overlay2: vfs would copy its 1.5 GB per layer); cached as a
#                           tarball; HELMET_SKIP_ML_BASE=1 leaves it out.
# and QEMU user emulation with an arm64 busybox for multi-platform builds (HELMET_TEST_ARM64_BUSYBOX).
set -euo pipefail

STATE_DIR="${HELMET_STATE_DIR:-/var/tmp/helmet-build}"
CACHE_DIR="${HELMET_CACHE_DIR:-/var/cache/helmet-build}"
REGISTRY_PORT="${HELMET_REGISTRY_PORT:-5055}"
AUTH_REGISTRY_PORT="${HELMET_AUTH_REGISTRY_PORT:-5056}"
AUTH_USER="${HELMET_AUTH_REGISTRY_USER:-helmet}"
AUTH_PASSWORD="${HELMET_AUTH_REGISTRY_PASSWORD:-helmet-secret}"
ENGINE_DIR="$STATE_DIR/engine"
OWN_SOCKET="$ENGINE_DIR/docker.sock"
SKIP_PYTHON_BASE="${HELMET_SKIP_PYTHON_BASE:-}"
SKIP_MODERN_ENGINE="${HELMET_SKIP_MODERN_ENGINE:-}"
SKIP_ML_BASE="${HELMET_SKIP_ML_BASE:-}"
# Docker 26.1 comes from Debian 13 packages; they need its newer libc, so they run in a root of their own.
MODERN_DIR="$STATE_DIR/modern"
MODERN_ROOT="$MODERN_DIR/root"
MODERN_ROOT_TARBALL="$CACHE_DIR/docker26-trixie-root.tar.zst"
MODERN_PACKAGES=(docker.io docker-cli docker-buildx containerd runc ca-certificates cosign)
# The socket's folder is bound into the root at /helmet-socket: dockerd creates the socket there,
# host clients reach it here.
MODERN_SOCKET_DIR="$MODERN_DIR/socket"
MODERN_SOCKET="$MODERN_SOCKET_DIR/docker.sock"
# The containerd image store engine (up --containerd): bound into the root at /helmet-containerd-socket.
CONTAINERD_DIR="$STATE_DIR/containerd-store"
CONTAINERD_SOCKET_DIR="$CONTAINERD_DIR/socket"
CONTAINERD_SOCKET="$CONTAINERD_SOCKET_DIR/docker.sock"

log() { printf '[services] %s\n' "$*" >&2; }

# ping SOCKET_PATH -> 0 when an engine answers /_ping there
ping_socket() { [ -S "$1" ] && curl -fsS --max-time 2 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1; }

ping_registry() { curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$1/v2/" 2>/dev/null | grep -qE '^(200|401)$'; }

need_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  # The static build: the image holds no C library for a dynamic one to load.
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
  if { [ -z "$SKIP_PYTHON_BASE" ] || [ -z "$SKIP_MODERN_ENGINE" ]; } && ! command -v debootstrap >/dev/null; then missing+=(debootstrap); fi
  if [ -z "$SKIP_MODERN_ENGINE" ] && ! command -v zstd >/dev/null; then missing+=(zstd); fi
  command -v curl >/dev/null || missing+=(curl)
  # Pillow for Debian's python3: scripts/make-helmet-data.py draws the local run's data set.
  /usr/bin/python3 -c 'import PIL' 2>/dev/null || missing+=(python3-pil)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # --no-install-recommends keeps out containerd extras we do not use
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Which engine to use: an existing one reached by DOCKER_HOST or the default socket, else our own.
resolve_engine() {
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" != "$DOCKER_HOST" ] && ping_socket "${DOCKER_HOST#unix://}"; then
    echo "$DOCKER_HOST"; return
  fi
  if ping_socket /var/run/docker.sock; then echo "unix:///var/run/docker.sock"; return; fi
  echo "unix://$OWN_SOCKET"
}

start_engine() {
  if ping_socket "$OWN_SOCKET"; then return; fi
  mkdir -p "$ENGINE_DIR/data" "$ENGINE_DIR/exec"
  log "starting dockerd on $OWN_SOCKET"
  # --bridge=none/--iptables=false: no network setup rights are needed; containers use none/host networks.
  nohup dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    --data-root "$ENGINE_DIR/data" --exec-root "$ENGINE_DIR/exec" --pidfile "$ENGINE_DIR/dockerd.pid" \
    -H "unix://$OWN_SOCKET" >"$ENGINE_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 1 100); do ping_socket "$OWN_SOCKET" && return; sleep 0.2; done
  log "dockerd did not answer within 20 s; last log lines:"; tail -20 "$ENGINE_DIR/dockerd.log" >&2; exit 1
}

start_registry() { # NAME PORT [htpasswd-file]
  local name=$1 port=$2 htpasswd=${3:-} dir="$STATE_DIR/$1"
  if ping_registry "$port"; then return; fi
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    [ -n "$htpasswd" ] && echo "auth: {htpasswd: {realm: helmet-test, path: $htpasswd}}"
  } >"$dir/config.yml"
  log "starting registry $name on 127.0.0.1:$port"
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/registry.pid"
  for _ in $(seq 1 50); do ping_registry "$port" && return; sleep 0.2; done
  log "registry $name did not answer; log:"; tail -20 "$dir/registry.log" >&2; exit 1
}

# docker_on ENGINE ARGS...: the host's docker CLI against one of the engines
docker_on() { local engine=$1; shift; DOCKER_HOST="$engine" docker "$@"; }

have_image() { docker_on "$1" image inspect "$2" >/dev/null 2>&1; } # ENGINE IMAGE

make_busybox_image() { # ENGINE
  have_image "$1" helmet/busybox:latest && return
  log "creating helmet/busybox:latest on $1"
  local root; root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  tar -C "$root" -c . | docker_on "$1" import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - helmet/busybox:latest >/dev/null
  rm -rf "$root"
}

# The Debian mirror apt is configured with (deb.debian.org if none is found).
debian_mirror() {
  local mirror; mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  echo "${mirror:-http://deb.debian.org/debian}"
}

PYTHON_TARBALL="$CACHE_DIR/python-bookworm-minbase.tar"

make_python_tarball() {
  [ -s "$PYTHON_TARBALL" ] && return
  log "debootstrapping a Python base (about 2 minutes, cached in $PYTHON_TARBALL)"
  local root; root=$(mktemp -d)
  debootstrap --variant=minbase --include=python3 bookworm "$root" "$(debian_mirror)" >"$STATE_DIR/debootstrap.log" 2>&1 \
    || { log "debootstrap failed; see $STATE_DIR/debootstrap.log"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  mkdir -p "$CACHE_DIR"
  tar -C "$root" -cf "$PYTHON_TARBALL.tmp" . && mv "$PYTHON_TARBALL.tmp" "$PYTHON_TARBALL"
  rm -rf "$root"
}

make_python_image() { # ENGINE
  have_image "$1" helmet/python:3.11 && return
  make_python_tarball
  log "importing helmet/python:3.11 into $1"
  docker_on "$1" import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'CMD ["python3"]' "$PYTHON_TARBALL" helmet/python:3.11 >/dev/null
}

# ---- The machine-learning base: Debian 13's PyTorch, torchvision, ONNX and onnxruntime ---------------
# No PyPI here, and Debian 13 packages all four (CPU builds), so the train and rknn-convert images of a
# local run start from a Debian 13 root with them installed. About 2 minutes to build, then cached.
ML_IMAGE=helmet/pytorch-cpu:2.6
ML_PACKAGES=(python3 python3-torch python3-torchvision python3-onnx python3-onnxruntime python3-pil ca-certificates)
ML_TARBALL="$CACHE_DIR/pytorch-cpu-trixie-root.tar.zst"

build_ml_root() { # ROOT
  log "debootstrapping a Debian 13 root with ${ML_PACKAGES[*]} (about 2 minutes, cached in $ML_TARBALL)"
  trixie_root "$1" "$STATE_DIR/ml" "${ML_PACKAGES[@]}"
  # An image, not a machine: no host resolver, and services may start again.
  rm -f "$1/usr/sbin/policy-rc.d" "$1/etc/resolv.conf"
}

make_ml_tarball() {
  [ -s "$ML_TARBALL" ] && return
  local root; root=$(mktemp -d "$STATE_DIR/ml-root.XXXXXX")
  build_ml_root "$root"
  mkdir -p "$CACHE_DIR"
  tar -C "$root" --numeric-owner -cf - . | zstd -q -T0 -o "$ML_TARBALL.tmp" -f
  mv "$ML_TARBALL.tmp" "$ML_TARBALL"
  rm -rf "$root"
}

make_ml_image() { # ENGINE
  have_image "$1" "$ML_IMAGE" && return
  make_ml_tarball
  log "importing $ML_IMAGE into $1"
  zstd -q -dc "$ML_TARBALL" | docker_on "$1" import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    -c 'ENV PYTHONUNBUFFERED=1' -c 'CMD ["python3"]' - "$ML_IMAGE" >/dev/null
}

make_base_images() { # ENGINE
  make_busybox_image "$1"
  [ -n "$SKIP_PYTHON_BASE" ] || make_python_image "$1"
}

# ---- Other platforms: QEMU user emulation and an arm64 busybox ------------------------------------
# Debian's qemu-user-static registers its binfmt handlers with the F flag (the interpreter opened at
# registration), so RUN steps of a foreign platform run under emulation in every engine, chroots
# included. The arm64 busybox (Debian's busybox-static:arm64, one file) is what multi-platform test
# fixtures COPY into a FROM scratch image; HELMET_SKIP_EMULATION=1 leaves all of this out.
ARM64_BUSYBOX="$CACHE_DIR/busybox-arm64"

ensure_emulation() {
  [ -n "${HELMET_SKIP_EMULATION:-}" ] && return
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    log "installing QEMU user emulation (qemu-user-static)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null; }
    # Where the package's scripts did not register the handlers (no init system), register them here.
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 >/dev/null
  fi
  [ -s "$ARM64_BUSYBOX" ] && return
  log "fetching Debian's busybox-static for arm64 (cached in $ARM64_BUSYBOX)"
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq >/dev/null; }
  local dir; dir=$(mktemp -d); chmod 755 "$dir"
  (cd "$dir" && apt-get download -qq busybox-static:arm64 2>/dev/null && dpkg-deb -x busybox-static_*_arm64.deb out)
  mkdir -p "$CACHE_DIR"
  cp "$dir/out/bin/busybox" "$ARM64_BUSYBOX.tmp" && mv "$ARM64_BUSYBOX.tmp" "$ARM64_BUSYBOX"
  rm -rf "$dir"
}

# ---- Docker 26.1 from a Debian 13 root ------------------------------------------------------------

# bind_once SRC DEST [mount option]: bind SRC onto DEST unless DEST is a mount point already (re-runs).
bind_once() { mountpoint -q "$2" || mount "${3:---bind}" "$1" "$2"; }

# The host's kernel file systems inside ROOT: for the packages' maintainer scripts, then for dockerd.
mount_kernel_fs() { # ROOT
  bind_once /proc "$1/proc"
  bind_once /sys "$1/sys"
  # cgroup v1 here: a tmpfs with a mount per controller under it, which only --rbind carries along.
  bind_once /sys/fs/cgroup "$1/sys/fs/cgroup" --rbind
  bind_once /dev "$1/dev"
  bind_once /dev/pts "$1/dev/pts"
}

# Unmount every mount at or under DIR, newest first (/proc/mounts lists them in the order they were made).
unmount_under() { # DIR
  local m
  for m in $(awk -v d="$1" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts | tac); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}

# debootstrap Debian 13 (minbase) into ROOT and install PACKAGES in it, without package caches;
# the logs are LOGS-debootstrap.log and LOGS-apt.log.
trixie_root() { # ROOT LOGS PACKAGE...
  local root=$1 logs=$2 status=0
  shift 2
  debootstrap --variant=minbase trixie "$root" "$(debian_mirror)" >"$logs-debootstrap.log" 2>&1 \
    || { log "debootstrap failed; see $logs-debootstrap.log"; exit 1; }
  mount_kernel_fs "$root"
  # Packages must not start their services inside the root: a policy-rc.d exiting 101 forbids it.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  log "installing $* in the root"
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive /bin/sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"' sh "$@" \
    >"$logs-apt.log" 2>&1 || status=$?
  unmount_under "$root"
  [ "$status" = 0 ] || { log "apt-get in the Debian 13 root failed; see $logs-apt.log"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
}

# Debian 13 with the engine packages: the root Docker 26.1 runs from.
build_modern_root() { # ROOT
  log "debootstrapping a Debian 13 root for Docker 26.1 (about a minute, cached in $MODERN_ROOT_TARBALL)"
  trixie_root "$1" "$MODERN_DIR/engine-root" "${MODERN_PACKAGES[@]}"
}

# The root as it was built, before any engine ran in it. --numeric-owner: the root's users are not the host's.
cache_modern_root() { # ROOT
  mkdir -p "$CACHE_DIR"
  tar -C "$1" --numeric-owner -cf - . | zstd -q -T0 -o "$MODERN_ROOT_TARBALL.tmp" -f
  mv "$MODERN_ROOT_TARBALL.tmp" "$MODERN_ROOT_TARBALL"
}

# MODERN_ROOT, from what is there already, else from the cached tarball, else built (and cached).
ensure_modern_root() {
  [ -x "$MODERN_ROOT/usr/sbin/dockerd" ] && return
  local tmp="$MODERN_DIR/root.tmp"
  # Left by an interrupted `up`: start over. Made in tmp and renamed, so MODERN_ROOT is always whole.
  unmount_under "$tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if [ -s "$MODERN_ROOT_TARBALL" ]; then
    log "extracting the Debian 13 root from $MODERN_ROOT_TARBALL"
    zstd -q -dc "$MODERN_ROOT_TARBALL" | tar -C "$tmp" --numeric-owner -xf -
  else
    build_modern_root "$tmp"
    cache_modern_root "$tmp"
  fi
  mv "$tmp" "$MODERN_ROOT"
}

# cosign (the verifier of the signing tests) in a root cached before it was among MODERN_PACKAGES.
ensure_cosign() {
  [ -x "$MODERN_ROOT/usr/bin/cosign" ] && return
  log "installing cosign in the Debian 13 root"
  local status=0
  mount_kernel_fs "$MODERN_ROOT"
  chroot "$MODERN_ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive /bin/sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends cosign && rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/*' \
    >"$MODERN_DIR/apt-cosign.log" 2>&1 || status=$?
  [ "$status" = 0 ] || { log "installing cosign failed; see $MODERN_DIR/apt-cosign.log"; exit 1; }
}

# What dockerd needs inside the root, each mount made once.
mount_modern_root() {
  # dockerd remounts / rprivate, which fails in a chroot unless / is a mount point
  # ("remount /, flags: 0x84000: invalid argument"): bind the root onto itself first.
  bind_once "$MODERN_ROOT" "$MODERN_ROOT"
  mount_kernel_fs "$MODERN_ROOT"
  # A /run of its own for dockerd's and containerd's sockets and state.
  mountpoint -q "$MODERN_ROOT/run" || mount -t tmpfs -o mode=755 tmpfs "$MODERN_ROOT/run"
  mkdir -p "$MODERN_SOCKET_DIR" "$MODERN_ROOT/helmet-socket"
  bind_once "$MODERN_SOCKET_DIR" "$MODERN_ROOT/helmet-socket"
  # Clients name host paths as bind-mount sources (helmet-build run mounts its run folder from /tmp):
  # the engine must find them at the same path.
  bind_once /tmp "$MODERN_ROOT/tmp"
}

# start_modern_dockerd DRIVER: 0 once it answers, 1 if it exits first (the driver does not work here).
start_modern_dockerd() {
  local driver=$1 pid
  # One data root per storage driver: BuildKit state left by one breaks the other.
  # Paths are inside the root. chroot execs dockerd, so $! is dockerd's pid.
  nohup chroot "$MODERN_ROOT" dockerd --iptables=false --ip6tables=false --bridge=none \
    --storage-driver "$driver" --data-root "/var/lib/docker-$driver" --exec-root /run/docker \
    --pidfile /run/docker.pid -H unix:///helmet-socket/docker.sock >"$MODERN_DIR/dockerd.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if ping_socket "$MODERN_SOCKET"; then echo "$pid" >"$MODERN_DIR/dockerd.pid"; return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  log "Docker 26.1 did not answer within 20 s; last log lines:"; tail -20 "$MODERN_DIR/dockerd.log" >&2; exit 1
}

start_modern_engine() {
  mkdir -p "$MODERN_DIR"
  ensure_modern_root
  mount_modern_root
  ensure_cosign
  ping_socket "$MODERN_SOCKET" && return
  log "starting Docker 26.1 (Debian 13 root) on $MODERN_SOCKET"
  start_modern_dockerd overlay2 && return
  log "overlay2 did not start; falling back to vfs. Its log ended:"; tail -5 "$MODERN_DIR/dockerd.log" >&2
  start_modern_dockerd vfs && return
  log "Docker 26.1 did not start; last log lines:"; tail -20 "$MODERN_DIR/dockerd.log" >&2; exit 1
}

# Docker 26.1 with the containerd image store, from the same root (mounted by mount_modern_root).
# With no --containerd address, dockerd starts a containerd of its own: its socket and state under the
# exec root (/run/docker-containerd-store/containerd), its content and snapshots under the data root;
# so it shares nothing with the other Docker 26.1 but the root's files.
start_containerd_engine() {
  mkdir -p "$CONTAINERD_SOCKET_DIR" "$MODERN_ROOT/helmet-containerd-socket" "$MODERN_ROOT/etc/helmet"
  bind_once "$CONTAINERD_SOCKET_DIR" "$MODERN_ROOT/helmet-containerd-socket"
  ping_socket "$CONTAINERD_SOCKET" && return
  echo '{"features": {"containerd-snapshotter": true}}' >"$MODERN_ROOT/etc/helmet/containerd-store.json"
  log "starting Docker 26.1 with the containerd image store on $CONTAINERD_SOCKET"
  local pid
  nohup chroot "$MODERN_ROOT" dockerd --config-file /etc/helmet/containerd-store.json \
    --iptables=false --ip6tables=false --bridge=none \
    --data-root /var/lib/docker-containerd-store --exec-root /run/docker-containerd-store \
    --pidfile /run/docker-containerd-store.pid -H unix:///helmet-containerd-socket/docker.sock \
    >"$CONTAINERD_DIR/dockerd.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if ping_socket "$CONTAINERD_SOCKET"; then echo "$pid" >"$CONTAINERD_DIR/dockerd.pid"; return; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  log "Docker 26.1 with the containerd image store did not start; last log lines:"; tail -20 "$CONTAINERD_DIR/dockerd.log" >&2; exit 1
}

# The root's docker 26.1 CLI and buildx plugin run on the host's libc too: copied out for benchmarks,
# with a DOCKER_CONFIG folder that holds the plugin.
export_modern_cli() {
  local plugins="$MODERN_DIR/docker-config/cli-plugins"
  mkdir -p "$MODERN_DIR/bin" "$plugins"
  cmp -s "$MODERN_ROOT/usr/bin/docker" "$MODERN_DIR/bin/docker" || cp "$MODERN_ROOT/usr/bin/docker" "$MODERN_DIR/bin/docker"
  cmp -s "$MODERN_ROOT/usr/libexec/docker/cli-plugins/docker-buildx" "$plugins/docker-buildx" \
    || cp "$MODERN_ROOT/usr/libexec/docker/cli-plugins/docker-buildx" "$plugins/docker-buildx"
}

# stop_dockerd PIDFILE NAME: stop it and wait, since it unmounts its state on the way out.
stop_dockerd() {
  [ -s "$1" ] || return 0
  local pid; pid=$(cat "$1")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    log "stopped $2"
  fi
  rm -f "$1"
}

print_env() {
  echo "export DOCKER_HOST=$ENGINE"
  echo "export HELMET_TEST_REGISTRY=127.0.0.1:$REGISTRY_PORT"
  echo "export HELMET_TEST_AUTH_REGISTRY=127.0.0.1:$AUTH_REGISTRY_PORT"
  echo "export HELMET_TEST_AUTH_USER=$AUTH_USER"
  echo "export HELMET_TEST_AUTH_PASSWORD=$AUTH_PASSWORD"
  if [ -s "$ARM64_BUSYBOX" ] && [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then echo "export HELMET_TEST_ARM64_BUSYBOX=$ARM64_BUSYBOX"; fi
  [ -n "$SKIP_MODERN_ENGINE" ] && return
  echo "export HELMET_MODERN_DOCKER_HOST=unix://$MODERN_SOCKET"
  echo "export HELMET_MODERN_DOCKER_CLI=$MODERN_DIR/bin/docker"
  echo "export HELMET_MODERN_DOCKER_CONFIG=$MODERN_DIR/docker-config"
  echo "export HELMET_MODERN_ENGINE_ROOT=$MODERN_ROOT"
  echo "export HELMET_TEST_COSIGN=$MODERN_ROOT/usr/bin/cosign"
  [ -n "$SKIP_ML_BASE" ] || echo "export HELMET_ML_BASE=$ML_IMAGE"
  if ping_socket "$CONTAINERD_SOCKET"; then echo "export HELMET_CONTAINERD_DOCKER_HOST=unix://$CONTAINERD_SOCKET"; fi
}

cmd=${1:-up}
WITH_CONTAINERD=
case "$cmd:${2:-}" in
  up:--containerd) WITH_CONTAINERD=1 ;;
  *:) ;;
  *) echo "usage: $0 up [--containerd] | down | env" >&2; exit 2 ;;
esac
case "$cmd" in
  up)
    mkdir -p "$STATE_DIR"
    need_packages
    ENGINE=$(resolve_engine)
    [ "$ENGINE" = "unix://$OWN_SOCKET" ] && start_engine
    start_registry registry "$REGISTRY_PORT"
    if [ ! -s "$STATE_DIR/htpasswd" ]; then htpasswd -Bbn "$AUTH_USER" "$AUTH_PASSWORD" >"$STATE_DIR/htpasswd"; fi
    start_registry auth-registry "$AUTH_REGISTRY_PORT" "$STATE_DIR/htpasswd"
    make_base_images "$ENGINE"
    ensure_emulation
    if [ -z "$SKIP_MODERN_ENGINE" ]; then
      start_modern_engine
      make_base_images "unix://$MODERN_SOCKET"
      [ -n "$SKIP_ML_BASE" ] || make_ml_image "unix://$MODERN_SOCKET"
      export_modern_cli
      if [ -n "$WITH_CONTAINERD" ]; then
        start_containerd_engine
        make_base_images "unix://$CONTAINERD_SOCKET"
      fi
    elif [ -n "$WITH_CONTAINERD" ]; then
      log "--containerd needs Docker 26.1 (HELMET_SKIP_MODERN_ENGINE is set)"; exit 2
    fi
    print_env >"$STATE_DIR/env"
    log "ready. Point clients at it with:  eval \"\$(scripts/services.sh env)\""
    print_env
    ;;
  env)
    if [ -s "$STATE_DIR/env" ]; then
      # the containerd image store engine named only while it answers
      grep -v '^export HELMET_CONTAINERD_DOCKER_HOST=' "$STATE_DIR/env" || true
      if [ -z "$SKIP_MODERN_ENGINE" ] && ping_socket "$CONTAINERD_SOCKET"; then echo "export HELMET_CONTAINERD_DOCKER_HOST=unix://$CONTAINERD_SOCKET"; fi
    else
      ENGINE=$(resolve_engine); print_env
    fi
    ;;
  down)
    for name in registry auth-registry; do
      pidfile="$STATE_DIR/$name/registry.pid"
      [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null && log "stopped $name" || true
      rm -f "$pidfile"
    done
    stop_dockerd "$ENGINE_DIR/dockerd.pid" dockerd
    stop_dockerd "$CONTAINERD_DIR/dockerd.pid" "Docker 26.1 (containerd image store)"
    stop_dockerd "$MODERN_DIR/dockerd.pid" "Docker 26.1"
    # Undo the root's mounts (and any dockerd left behind), newest first.
    unmount_under "$MODERN_ROOT"
    rm -f "$STATE_DIR/env"
    ;;
  *) echo "usage: $0 up [--containerd] | down | env" >&2; exit 2 ;;
esac
