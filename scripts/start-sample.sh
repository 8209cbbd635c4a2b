#!/usr/bin/env bash
# Runs the host on its embedded defaults with the sample in examples/: the embedded platform and
# one HTTP webhook integration. Installs Node 24 and pnpm first if the machine lacks them.
#   scripts/start-sample.sh [--port N] [other `tbi start` options]   (or TBI_PORT=N)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
if [ -z "${TBI_TOKEN:-}" ]; then
  TBI_TOKEN="$(node -e 'console.log(require("node:crypto").randomBytes(24).toString("base64url"))')"
  export TBI_TOKEN
fi
# The port the banner shows is the one the host listens on: `--port N` (or `-p N`, `--port=N`)
# given to this script, else TBI_PORT, else http.port of examples/tbi.yaml.
port=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --port | -p) port="${args[i + 1]:-}" ;;
    --port=*) port="${args[i]#--port=}" ;;
  esac
done
if [ -z "$port" ] && [ -n "${TBI_PORT:-}" ]; then port="$TBI_PORT"; set -- --port "$TBI_PORT" "$@"; fi
[ -n "$port" ] || port="$(sed -n 's/^  port: *\([0-9][0-9]*\).*/\1/p' examples/tbi.yaml | head -n 1)"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "start-sample: port $port is in use; choose another with --port N or TBI_PORT=N" >&2
  exit 1
fi
url="http://127.0.0.1:$port"
cat >&2 <<MSG

  tbi sample: $url   (Ctrl-C stops it)
  control token (TBI_TOKEN): $TBI_TOKEN

  Send a reading:
    curl -X POST $url/api/v1/integrations/http/sample \\
         -H 'content-type: application/json' -d '{"deviceName":"greenhouse-1","temperature":21.5,"humidity":48}'
  See it stored:
    curl -H "Authorization: Bearer $TBI_TOKEN" $url/api/devices/greenhouse-1/telemetry/latest

MSG
cd examples
exec ../host/bin/tbi.js start --config tbi.yaml "$@"
