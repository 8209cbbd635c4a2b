#!/usr/bin/env bash
# Starts or stops the real brokers the tests use, on loopback ports of the project's own.
#   scripts/brokers.sh start|stop|status [mosquitto|kafka ...]   (default: all)
# `status` reports every broker and exits 3 when any of them is not running.
# Each broker has its own script in scripts/brokers/ that installs what it needs (Debian packages,
# Maven Central jars) on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-}"; shift || true
case "$cmd" in start|stop|status) ;; *) echo "usage: scripts/brokers.sh start|stop|status [broker...]" >&2; exit 2 ;; esac
brokers=("$@")
if [ ${#brokers[@]} -eq 0 ]; then
  brokers=()
  for f in "$here"/brokers/*.sh; do brokers+=("$(basename "$f" .sh)"); done
fi
for b in "${brokers[@]}"; do
  [ -x "$here/brokers/$b.sh" ] || { echo "no broker script $here/brokers/$b.sh" >&2; exit 2; }
done
down=()
for b in "${brokers[@]}"; do
  started=$(date +%s)
  [ "$cmd" = status ] || echo "[brokers] $cmd $b" >&2
  if [ "$cmd" = status ]; then
    # Every broker is reported; the exit code says whether any is down (3, like each script).
    "$here/brokers/$b.sh" status || down+=("$b")
    continue
  fi
  "$here/brokers/$b.sh" "$cmd"
  [ "$cmd" = start ] && echo "[brokers] $b ready in $(( $(date +%s) - started )) s" >&2
done
if [ ${#down[@]} -gt 0 ]; then echo "[brokers] not running: ${down[*]}" >&2; exit 3; fi
exit 0
