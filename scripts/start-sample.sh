#!/usr/bin/env bash
# Runs the host on its embedded defaults with the sample in examples/: the embedded platform and
# one HTTP webhook integration. Installs Node 24 and pnpm first if the machine lacks them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
if [ -z "${TBI_TOKEN:-}" ]; then
  TBI_TOKEN="$(node -e 'console.log(require("node:crypto").randomBytes(24).toString("base64url"))')"
  export TBI_TOKEN
fi
cat >&2 <<MSG

  tbi sample: http://127.0.0.1:8080   (Ctrl-C stops it)
  control token (TBI_TOKEN): $TBI_TOKEN

  Send a reading:
    curl -X POST http://127.0.0.1:8080/api/v1/integrations/http/sample \\
         -H 'content-type: application/json' -d '{"deviceName":"greenhouse-1","temperature":21.5,"humidity":48}'
  See it stored:
    curl -H "Authorization: Bearer $TBI_TOKEN" http://127.0.0.1:8080/api/devices/greenhouse-1/telemetry/latest

MSG
cd examples
exec ../host/bin/tbi.js start --config tbi.yaml "$@"
