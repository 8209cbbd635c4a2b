#!/usr/bin/env bash
# Puts Node 24 and pnpm on PATH (installing them from the npm registry into .tools/ when the
# machine lacks them), then installs the workspace and builds it, quietly: pnpm's and tsc's output is
# printed only when a step fails (and then the script exits with its code).
# Source it: `. scripts/bootstrap.sh`.
set -euo pipefail
TBI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$TBI_ROOT/.tools"
NODE_MAJOR=24
PNPM_VERSION=12.21.0

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x "$TOOLS/node_modules/.bin/node" ]; then
    echo "[bootstrap] installing Node $NODE_MAJOR and pnpm $PNPM_VERSION into .tools/ (npm registry)" >&2
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "node@$NODE_MAJOR" "pnpm@$PNPM_VERSION" >&2
  fi
  export PATH="$TOOLS/node_modules/.bin:$PATH"
fi
if ! command -v pnpm >/dev/null 2>&1; then
  echo "[bootstrap] installing pnpm $PNPM_VERSION into .tools/" >&2
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "pnpm@$PNPM_VERSION" >&2
  export PATH="$TOOLS/node_modules/.bin:$PATH"
fi
echo "[bootstrap] node $(node --version), pnpm $(pnpm --version)" >&2

# Runs a step with its output captured: silent when it works, the whole log and the exit code when
# it fails (the first run should print a few lines, not pnpm's and tsc's).
quietly() {
  local what="$1" log rc=0; shift
  log="$(mktemp)"
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "[bootstrap] $what failed (exit $rc); its output:" >&2
    cat "$log" >&2
    rm -f "$log"
    exit "$rc"
  fi
  rm -f "$log"
}
pnpm_install() { pnpm install --frozen-lockfile --reporter=silent || pnpm install --reporter=silent; }

cd "$TBI_ROOT"
bootstrap_started=$(date +%s)
quietly "pnpm install" pnpm_install
quietly "pnpm build" pnpm -s build
# The console's browser tests drive Debian's chromium (skipped when one is installed).
"$TBI_ROOT/scripts/install-chromium.sh"
echo "[bootstrap] workspace installed and built in $(( $(date +%s) - bootstrap_started )) s" >&2
cd - >/dev/null
