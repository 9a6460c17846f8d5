#!/usr/bin/env bash
# The assistant CLIs the end-to-end tests drive for real, from the npm registry.
#
#   bash tests/assistants.sh install    install (or keep) the pinned versions
#   bash tests/assistants.sh check      say which are installed, exit 1 if one is missing
#
# They go to $WINGMAN_ASSISTANTS_DIR (default /opt/assistants), outside the
# repository, where tests/model_api.py looks for them.
set -euo pipefail

DIR=${WINGMAN_ASSISTANTS_DIR:-/opt/assistants}
# Pinned: the tests assert on their hook formats and request shapes.
PACKAGES=(
  "@anthropic-ai/claude-code@2.1.332"
  "@openai/codex@0.171.0"
  "@google/gemini-cli@0.61.0"
)
BINARIES=(claude codex gemini)

installed_version() {  # the version npm put under DIR, or nothing
  local manifest=$DIR/node_modules/$1/package.json
  [[ -f $manifest ]] && node -p "require('$manifest').version" 2>/dev/null || true
}

check() {
  local missing=0 spec name
  for spec in "${PACKAGES[@]}"; do
    name=${spec%@*}
    if [[ $(installed_version "$name") == "${spec##*@}" ]]; then
      echo "ok       $spec"
    else
      echo "missing  $spec"
      missing=1
    fi
  done
  for name in "${BINARIES[@]}"; do
    [[ -x $DIR/node_modules/.bin/$name ]] || { echo "missing  $DIR/node_modules/.bin/$name"; missing=1; }
  done
  return $missing
}

case ${1:-} in
  install)
    command -v npm >/dev/null || { echo "assistants.sh: npm is not installed (Node 20 or later is needed)" >&2; exit 1; }
    if check >/dev/null; then
      echo "== assistants already installed in $DIR"
      exit 0
    fi
    mkdir -p "$DIR"
    [[ -f $DIR/package.json ]] || echo '{}' >"$DIR/package.json"
    echo "== installing ${PACKAGES[*]} into $DIR"
    # Claude Code's postinstall only links its platform binary, which npm also installs as an optional package.
    npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "${PACKAGES[@]}"
    check
    ;;
  check) check ;;
  *) echo "usage: bash tests/assistants.sh install|check" >&2; exit 2 ;;
esac
