#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs Node 24 and pnpm if missing, installs and
# builds the workspace, starts the real brokers on loopback, runs every test, stops the brokers.
# Extra arguments go to vitest (e.g. `scripts/test.sh plugins/mqtt`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
pnpm -s lint
pnpm -s typecheck
scripts/brokers.sh start
trap 'scripts/brokers.sh stop || true' EXIT
mkdir -p .cache
status=0
pnpm test --reporter=default --reporter=json --outputFile.json=.cache/vitest-results.json "$@" || status=$?
# One plain closing line with the counts, whatever the reporter printed above.
node -e '
  const r = require("./.cache/vitest-results.json");
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
