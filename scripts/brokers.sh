#!/usr/bin/env bash
# Starts or stops the real brokers the tests use, on loopback ports of the project's own.
#   scripts/brokers.sh start|stop|status [mosquitto|kafka ...]   (default: all)
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
  script="$here/brokers/$b.sh"
  [ -x "$script" ] || { echo "no broker script $script" >&2; exit 2; }
  started=$(date +%s)
  echo "[brokers] $cmd $b" >&2
  "$script" "$cmd"
  [ "$cmd" = start ] && echo "[brokers] $b ready in $(( $(date +%s) - started )) s" >&2
done
exit 0
