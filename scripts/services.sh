#!/usr/bin/env bash
# Local Docker engine + registries + base images for helmet-build development, demos and CI.
#
#   scripts/services.sh up      install (Debian packages) and start what is missing; idempotent
#   scripts/services.sh down    stop what `up` started
#   scripts/services.sh env     print the exports that point clients at the services
#
# Nothing can be pulled from outside here, so base images are made locally:
#   helmet/busybox:latest   tiny busybox image for fast test fixtures
#   helmet/python:3.11      Debian minbase + python3 (debootstrap, cached as a tarball)
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
  if [ -z "$SKIP_PYTHON_BASE" ] && ! command -v debootstrap >/dev/null; then missing+=(debootstrap); fi
  command -v curl >/dev/null || missing+=(curl)
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

docker_cli() { DOCKER_HOST="$ENGINE" docker "$@"; }

have_image() { docker_cli image inspect "$1" >/dev/null 2>&1; }

make_busybox_image() {
  have_image helmet/busybox:latest && return
  log "creating helmet/busybox:latest"
  local root; root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  tar -C "$root" -c . | docker_cli import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - helmet/busybox:latest >/dev/null
  rm -rf "$root"
}

make_python_image() {
  have_image helmet/python:3.11 && return
  local tarball="$CACHE_DIR/python-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    log "debootstrapping a Python base (about 2 minutes, cached in $tarball)"
    local root; root=$(mktemp -d)
    local mirror; mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    debootstrap --variant=minbase --include=python3 bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >"$STATE_DIR/debootstrap.log" 2>&1 \
      || { log "debootstrap failed; see $STATE_DIR/debootstrap.log"; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    mkdir -p "$CACHE_DIR"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  log "importing helmet/python:3.11"
  docker_cli import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'CMD ["python3"]' "$tarball" helmet/python:3.11 >/dev/null
}

print_env() {
  echo "export DOCKER_HOST=$ENGINE"
  echo "export HELMET_TEST_REGISTRY=127.0.0.1:$REGISTRY_PORT"
  echo "export HELMET_TEST_AUTH_REGISTRY=127.0.0.1:$AUTH_REGISTRY_PORT"
  echo "export HELMET_TEST_AUTH_USER=$AUTH_USER"
  echo "export HELMET_TEST_AUTH_PASSWORD=$AUTH_PASSWORD"
}

cmd=${1:-up}
case "$cmd" in
  up)
    mkdir -p "$STATE_DIR"
    need_packages
    ENGINE=$(resolve_engine)
    [ "$ENGINE" = "unix://$OWN_SOCKET" ] && start_engine
    start_registry registry "$REGISTRY_PORT"
    if [ ! -s "$STATE_DIR/htpasswd" ]; then htpasswd -Bbn "$AUTH_USER" "$AUTH_PASSWORD" >"$STATE_DIR/htpasswd"; fi
    start_registry auth-registry "$AUTH_REGISTRY_PORT" "$STATE_DIR/htpasswd"
    make_busybox_image
    [ -n "$SKIP_PYTHON_BASE" ] || make_python_image
    print_env >"$STATE_DIR/env"
    log "ready. Point clients at it with:  eval \"\$(scripts/services.sh env)\""
    print_env
    ;;
  env)
    if [ -s "$STATE_DIR/env" ]; then cat "$STATE_DIR/env"; else ENGINE=$(resolve_engine); print_env; fi
    ;;
  down)
    for name in registry auth-registry; do
      pidfile="$STATE_DIR/$name/registry.pid"
      [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null && log "stopped $name" || true
      rm -f "$pidfile"
    done
    if [ -s "$ENGINE_DIR/dockerd.pid" ]; then
      pid=$(cat "$ENGINE_DIR/dockerd.pid")
      if kill "$pid" 2>/dev/null; then
        # dockerd unmounts its state on the way out: wait, so the folder can be removed afterwards.
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        log "stopped dockerd"
      fi
    fi
    rm -f "$STATE_DIR/env"
    ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
