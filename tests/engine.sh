#!/usr/bin/env bash
# Start or stop the Docker engine the tests run against, and build the test
# images from a static busybox (no registry is reachable).
#   tests/engine.sh start   start dockerd unless one answers; build the images
#   tests/engine.sh stop    stop the dockerd that `start` started
set -euo pipefail

STATE=${WINGMAN_ENGINE_STATE:-/tmp/wingman-engine}
DOCKER=${WINGMAN_TEST_DOCKER:-/usr/bin/docker}
mkdir -p "$STATE"

start() {
  if ! "$DOCKER" info >/dev/null 2>&1; then
    dockerd >"$STATE/dockerd.log" 2>&1 &
    echo $! >"$STATE/dockerd.pid"
    for _ in $(seq 60); do
      "$DOCKER" info >/dev/null 2>&1 && break
      sleep 1
    done
    "$DOCKER" info >/dev/null 2>&1 || { echo "dockerd did not start:" >&2; tail -20 "$STATE/dockerd.log" >&2; exit 1; }
  fi
  build_image wingman-test:latest
  # A second later, so `docker images` lists the two in a stable order.
  "$DOCKER" image inspect spare:latest >/dev/null 2>&1 || sleep 1.1
  build_image spare:latest
}

build_image() {
  "$DOCKER" image inspect "$1" >/dev/null 2>&1 && return 0
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/busybox"
  for tool in sh sleep echo cat ls true false; do ln -s busybox "$root/bin/$tool"; done
  tar -C "$root" -c . | "$DOCKER" import -c 'CMD ["/bin/sh"]' - "$1" >/dev/null
  rm -rf "$root"
}

stop() {
  [ -f "$STATE/dockerd.pid" ] || return 0
  local pid
  pid=$(cat "$STATE/dockerd.pid")
  "$DOCKER" ps -q --filter label=wingman-test | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  # dockerd leaves containerd behind when killed hard.
  pkill -f 'containerd --config /var/run/docker/containerd' 2>/dev/null || true
  rm -f "$STATE/dockerd.pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
