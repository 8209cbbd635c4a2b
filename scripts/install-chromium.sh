#!/usr/bin/env bash
# Installs Debian's chromium for the web console's browser tests (host/test/console-browser.test.ts,
# driven by playwright-core: Playwright's own browser download is not used). Idempotent and quiet:
# does nothing when a chromium is already on PATH (or TBI_CHROMIUM names one); as root it runs
# apt-get, otherwise it says what to run. Called by scripts/bootstrap.sh.
set -euo pipefail
if [ -n "${TBI_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[chromium] not found: install Debian's chromium (apt-get install chromium) or set TBI_CHROMIUM; the console's browser tests need it" >&2
  exit 0
fi
echo "[chromium] installing Debian's chromium for the console's browser tests" >&2
log="$(mktemp)"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
