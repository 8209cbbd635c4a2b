#!/usr/bin/env bash
# Puts Node 24 and pnpm on PATH (installing them from the npm registry into .tools/ when the
# machine lacks them), then installs the workspace and builds it. Source it: `. scripts/bootstrap.sh`.
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

cd "$TBI_ROOT"
pnpm install --frozen-lockfile --reporter=silent >&2 || pnpm install --reporter=silent >&2
pnpm -s build >&2
cd - >/dev/null
