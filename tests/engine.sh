#!/usr/bin/env bash
# Start or stop the Docker engine the tests run against, and build the test
# images from a static busybox (no registry is reachable).
#   tests/engine.sh start   start dockerd unless one answers; build the images
#   tests/engine.sh stop    remove the objects of run $WINGMAN_TEST_RUN (labelled
#                           wingman-test=<run id>, or tagged <run id>-...), then
#                           stop the dockerd that `start` started, unless another
#                           test run still has objects on it
# Other runs' objects, and anything not made by a test run, are never touched.
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

remove_run_objects() {
  local run=${WINGMAN_TEST_RUN:-}
  [[ -n $run ]] || return 0
  [[ $run =~ ^wt[0-9a-f]{6}$ ]] || { echo "WINGMAN_TEST_RUN must look like wt<6 hex digits>" >&2; return 1; }
  "$DOCKER" info >/dev/null 2>&1 || return 0
  local label="label=wingman-test=$run"
  "$DOCKER" ps -aq --filter "$label" | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
  "$DOCKER" volume ls -q --filter "$label" | xargs -r "$DOCKER" volume rm -f >/dev/null 2>&1 || true
  "$DOCKER" network ls -q --filter "$label" | xargs -r "$DOCKER" network rm >/dev/null 2>&1 || true
  "$DOCKER" images --format '{{.Repository}}:{{.Tag}}' | grep "^$run-" | xargs -r "$DOCKER" rmi >/dev/null 2>&1 || true
}

other_runs_active() {
  # Containers of any test run but this one: that run still needs the engine.
  "$DOCKER" ps -a --filter label=wingman-test --format '{{.Label "wingman-test"}}' 2>/dev/null \
    | grep -qvx "${WINGMAN_TEST_RUN:-}"
}

stop() {
  remove_run_objects
  [ -f "$STATE/dockerd.pid" ] || return 0
  if other_runs_active; then
    echo "engine.sh: another test run still uses the engine; leaving dockerd running" >&2
    return 0
  fi
  local pid
  pid=$(cat "$STATE/dockerd.pid")
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
