#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs Node 24 and pnpm if missing, installs and
# builds the workspace, starts the real brokers on loopback, runs every test, stops the brokers.
# Extra arguments go to vitest (e.g. `scripts/test.sh plugins/mqtt`).
#
# Each run has its own ports and broker state, so two runs can share a machine: a free block of
# ports (TBI_TEST_PORT_BASE=N to choose it) exported under the names of scripts/ports.env, which
# the broker scripts, tests and benchmarks read; broker state in .cache/runs/<base>/ (kept when the
# run fails, for its logs). A full run that passes writes its counts and timings into README.md.
# TBI_TEST_BROKERS="mosquitto kafka" starts only those brokers (for a filtered run; default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
. scripts/bootstrap.sh

# Static checks first: they take seconds and fail with a clearer message than a test would.
pnpm -s lint
pnpm -s typecheck

ports="$(node scripts/allocate-ports.mjs $$)"
eval "$ports"
export TBI_BROKER_STATE_DIR="$PWD/.cache/runs/$TBI_TEST_PORT_BASE"
results=".cache/vitest-results-$TBI_TEST_PORT_BASE.json"
status=1
cleanup() {
  scripts/brokers.sh stop 2>/dev/null || true
  rm -rf "$TBI_TEST_PORT_LOCK"
  if [ "$status" -eq 0 ]; then rm -rf "$TBI_BROKER_STATE_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "[test] ports from $TBI_TEST_PORT_BASE (scripts/ports.env order), broker state in ${TBI_BROKER_STATE_DIR#"$PWD/"}" >&2
# shellcheck disable=SC2086 # a list of broker names
scripts/brokers.sh start ${TBI_TEST_BROKERS:-}

status=0
tests_started=$(date +%s)
pnpm test --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
tests_seconds=$(( $(date +%s) - tests_started ))
if [ -f "$results" ]; then mv "$results" .cache/vitest-results.json; fi
# One plain closing line with the counts and the wall time, whatever the reporter printed above;
# a full run (no filter) that passed also refreshes the README's Tests section.
readme=()
if [ $# -eq 0 ] && [ "$status" -eq 0 ]; then readme=(--readme README.md); fi
node scripts/test-report.mjs .cache/vitest-results.json --wall-seconds $(( $(date +%s) - started )) \
  --test-seconds "$tests_seconds" "${readme[@]}" || true
exit $status
