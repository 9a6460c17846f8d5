#!/usr/bin/env bash
# The whole test run, on a fresh Debian machine as root: installs what the
# tests need, starts the Docker engine, runs every test and the benchmarks,
# and stops what it started.
#
#   bash tests/run-all.sh [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(docker.io busybox-static zsh bash bubblewrap procps iproute2 git ca-certificates gcc libc6-dev musl-tools)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== python environment (.venv)"
if [[ ! -x .venv/bin/python ]]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    rm -rf .venv
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
# Byte-compiled as a wheel install is: an editable install is not, and where
# PYTHONDONTWRITEBYTECODE is set every session start would compile the package anew.
.venv/bin/python -m compileall -q sandbox >/dev/null

echo "== assistant CLIs (Claude Code, Codex, Gemini CLI, from npm)"
if ! command -v npm >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
bash tests/assistants.sh install

# One id names and labels every object this run makes on the engine, so runs
# sharing an engine (or a developer's own containers) never meet.
export WINGMAN_TEST_RUN=${WINGMAN_TEST_RUN:-wt$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}
echo "== test run $WINGMAN_TEST_RUN"
trap 'bash tests/engine.sh stop' EXIT
echo "== docker engine"
bash tests/engine.sh start

echo "== tests"
# The benchmarks run whatever the tests say: their figures matter most when something fails.
tests_status=0
.venv/bin/python -m pytest -q "$@" || tests_status=$?
if ((tests_status == 5)); then
  echo "== pytest collected no tests: that is a failure, not a pass" >&2
fi

echo "== benchmarks (each figure with its goal; OVER GOAL never fails the run)"
figures=$(mktemp)
trap 'rm -f "$figures"; bash tests/engine.sh stop' EXIT
run_bench() {
  echo "-- $*"
  local status=0
  "$@" 2>&1 | tee -a "$figures" || status=$?
  ((status == 0)) || echo "BENCH FAILED: $* exited $status" | tee -a "$figures"
}
for bench in bench/*.py; do
  [[ $bench != bench/goals.py ]] || continue
  run_bench .venv/bin/python "$bench"
done
for bench in bench/*.sh; do
  [[ -e $bench && $bench != bench/builtin-heavy.sh ]] || continue
  run_bench bash "$bench"
done

echo "== summary"
grep -E "OVER GOAL|BENCH FAILED" "$figures" || echo "every figure within its goal"
if ((tests_status)); then
  echo "tests FAILED (pytest exit $tests_status)"
else
  echo "tests passed"
fi
exit "$tests_status"
