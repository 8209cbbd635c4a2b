#!/usr/bin/env bash
# A real Apache Pulsar 4.0 standalone (broker + one embedded bookie, RocksDB metadata store) on
# loopback for tests and benchmarks, run from its Maven Central jars on the machine's Java 17.
#   scripts/brokers/pulsar.sh start [--fresh] | stop | restart | status
#
# Ports (scripts/ports.env; a private instance takes a block of four from its base):
#   PULSAR_BROKER_PORT (16650)  binary protocol (pulsar://)
#   PULSAR_WEB_PORT    (18090)  HTTP admin API and the WebSocket API (ws://…/ws/v2/…)
#   PULSAR_BOOKIE_PORT (13181)  the embedded bookie (loopback only)
#   PULSAR_WEB_TLS_PORT (18091) the web service over TLS (https://, wss://): server certificate
#                               signed by a generated CA, .cache/pulsar/certs/ca.crt
# A private instance (one a test restarts without disturbing the others):
#   PULSAR_INSTANCE=restart PULSAR_BROKER_PORT=30650 PULSAR_WEB_PORT=30651 PULSAR_BOOKIE_PORT=30652 \
#   scripts/brokers/pulsar.sh start          (scripts/ports.mjs pulsarPorts() builds this env)
# PULSAR_AUTH=token turns token authentication on for the instance: a random HS256 secret in
# <state>/token-secret.b64 (base64, 32 bytes; tests sign their own JWTs with it) and a superuser
# JWT (sub "admin") in <state>/admin.jwt, which the broker also uses for its own client calls
# (without it the standalone cannot create public/default and start-up fails with HTTP 401).
#
# Jars (316, ~234 MB): resolved once into .cache/pulsar/lib from scripts/brokers/pulsar/runtime.pom.xml
# (Pulsar's parent POM imported as a BOM) with maven-settings.xml (every repository mirrored to
# Central). State (conf, metadata, bookie data, pulsar.log, pid):
# ${TBI_BROKER_STATE_DIR:-.cache}/pulsar/<instance>/. `stop` is SIGTERM and keeps the data, so
# unacknowledged messages survive a restart; `start --fresh` wipes it.
#
# Measured on the 2-core dev machine shared with other test runs (Pulsar 4.0.7, Java 17,
# -Xms512m -Xmx768m): resolving the jars the first time 70 s; fresh start 15.4 s until
# public/default exists; start on kept data 12.6 s; stop 8.8 s; ~850 MB resident after traffic.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/scripts/brokers/pulsar"
cache="$root/.cache/pulsar"
lib="$cache/lib"
instance="${PULSAR_INSTANCE:-default}"
state="${PULSAR_STATE_DIR:-${TBI_BROKER_STATE_DIR:-$root/.cache}/pulsar/$instance}"
# shellcheck source=lib/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"
broker_port="$PULSAR_BROKER_PORT"
web_port="$PULSAR_WEB_PORT"
bookie_port="$PULSAR_BOOKIE_PORT"
web_tls_port="$PULSAR_WEB_TLS_PORT"
certs="$cache/certs"
auth="${PULSAR_AUTH:-none}"
pid_file="$state/pulsar.pid"
# Small heap: test runs start several JVMs on a 2-core machine.
mem="${PULSAR_MEM:--Xms512m -Xmx768m -XX:MaxDirectMemorySize=384m}"
log() { echo "[pulsar:$instance] $*" >&2; }
daemon_match=PulsarStandaloneStarter
start_args="[--fresh]"
# shellcheck source=lib/daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
# shellcheck source=lib/test-certs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/test-certs.sh"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_tools() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  if [ ! -f "$lib/.complete" ] && ! command -v mvn >/dev/null; then missing+=(maven); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing the Debian packages ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    as_root apt-get update -q >&2
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
}

ensure_jars() {
  if [ -f "$lib/.complete" ]; then return 0; fi
  log "resolving Pulsar's jars into $lib (Maven Central, ~234 MB; 90 s the first time)"
  # One resolver at a time across instances and test files: the folder is shared.
  mkdir -p "$cache"
  exec 8>"$cache/.lib.lock"
  flock 8
  if [ ! -f "$lib/.complete" ]; then
    rm -rf "$lib.tmp"
    mvn -B -q -s "$here/maven-settings.xml" -f "$here/runtime.pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DoutputDirectory="$lib.tmp" -DincludeScope=runtime >&2
    rm -rf "$lib" && mv "$lib.tmp" "$lib"
    touch "$lib/.complete"
  fi
  exec 8>&-
}

# The project's test CA and server certificate (lib/test-certs.sh); OpenSSL 3 writes the key in
# PKCS#8, the format Pulsar needs.
ensure_certs() { make_test_certs "$certs"; }

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# An HS256 JWT for `sub`, signed with the instance's secret.
jwt() {
  local header payload key
  header="$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)"
  payload="$(printf '{"sub":"%s"}' "$1" | b64url)"
  key="$(openssl base64 -d -A < "$state/token-secret.b64" | od -An -tx1 | tr -d ' \n')"
  printf '%s.%s.%s' "$header" "$payload" \
    "$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | b64url)"
}

auth_conf() {
  if [ "$auth" != "token" ]; then echo "authenticationEnabled=false"; return; fi
  if [ ! -s "$state/token-secret.b64" ]; then openssl rand 32 | openssl base64 -A > "$state/token-secret.b64"; fi
  jwt admin > "$state/admin.jwt"
  cat <<CONF
authenticationEnabled=true
authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderToken
tokenSecretKey=data:;base64,$(cat "$state/token-secret.b64")
superUserRoles=admin
brokerClientAuthenticationPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken
brokerClientAuthenticationParameters=token:$(cat "$state/admin.jwt")
authorizationEnabled=false
CONF
}

write_config() {
  local auth_lines; auth_lines="$(auth_conf)"
  awk -v auth="$auth_lines" '$0 == "@AUTH@" { print auth; next } { print }' "$here/standalone.conf" \
    | sed -e "s|@BROKER_PORT@|$broker_port|" -e "s|@WEB_PORT@|$web_port|" -e "s|@BOOKIE_PORT@|$bookie_port|" \
      -e "s|@WEB_TLS_PORT@|$web_tls_port|" -e "s|@CERTS@|$certs|g" \
    > "$state/standalone.conf"
}

java_args() {
  # shellcheck disable=SC2086
  printf '%s\n' java $mem -XX:+UseG1GC -XX:MaxGCPauseMillis=50 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    --add-opens java.base/java.io=ALL-UNNAMED --add-opens java.base/java.util.zip=ALL-UNNAMED \
    --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
    --add-opens java.base/sun.net=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED \
    -Dio.netty.tryReflectionSetAccessible=true -Djava.net.preferIPv4Stack=true -Djute.maxbuffer=10485760 \
    -Dbookkeeper.metadata.bookie.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataBookieDriver \
    -Dbookkeeper.metadata.client.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataClientDriver \
    "-Dlog4j.configurationFile=$here/log4j2.xml" "-Dlog4j2.configurationFile=$here/log4j2.xml" \
    "-Dpulsar.log.dir=$state" -Dpulsar.log.level=info -Dpulsar.allocator.exit_on_oom=true \
    -cp "$lib/*" org.apache.pulsar.PulsarStandaloneStarter \
    --config "$state/standalone.conf" --no-functions-worker --no-stream-storage \
    --metadata-dir "$state/metadata" --bookkeeper-dir "$state/bookkeeper" --bookkeeper-port "$bookie_port"
}

admin_get() { # path -> body (with the admin token on a token instance)
  local args=(-sf --max-time 5)
  [ "$auth" = "token" ] && args+=(-H "Authorization: Bearer $(cat "$state/admin.jwt")")
  curl "${args[@]}" "http://127.0.0.1:$web_port$1"
}

start() {
  local fresh="${1:-}"
  ensure_tools
  ensure_jars
  ensure_certs
  if [ "$fresh" = "--fresh" ]; then stop; log "wiping $state/metadata and $state/bookkeeper"; rm -rf "$state/metadata" "$state/bookkeeper"; fi
  if running_pid >/dev/null; then log "already running (pid $(running_pid))"; return 0; fi
  for port in "$broker_port" "$web_port" "$bookie_port" "$web_tls_port"; do
    if port_open "$port"; then log "port $port is taken by another process"; exit 1; fi
  done
  local started; started=$(date +%s%N)
  write_config
  : > "$state/pulsar.log"
  local cmd; mapfile -t cmd < <(java_args)
  # setsid: the broker must not die with the shell (or test) that started it; fd 9 (the lock) closed.
  # The working folder is the state folder (the starter resolves some paths against it).
  pushd "$state" >/dev/null
  setsid "${cmd[@]}" >>"$state/pulsar.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$pid_file"
  popd >/dev/null
  # Ready once the cluster exists and the standalone created public/default (`/clusters` answers
  # [] for a moment before ["standalone"]).
  local deadline=$(( $(date +%s) + 180 ))
  until admin_get /admin/v2/clusters 2>/dev/null | grep -q standalone \
      && admin_get /admin/v2/namespaces/public 2>/dev/null | grep -q 'public/default' && port_open "$broker_port" && port_open "$web_tls_port"; do
    if ! running_pid >/dev/null; then log "exited during start-up; last log lines:"; tail -n 40 "$state/pulsar.log" >&2; exit 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then log "not ready within 180 s; last log lines:"; tail -n 40 "$state/pulsar.log" >&2; exit 1; fi
    sleep 0.3
  done
  local ms=$(( ($(date +%s%N) - started) / 1000000 ))
  log "ready in ${ms} ms: pulsar://127.0.0.1:$broker_port, http/ws://127.0.0.1:$web_port, https/wss :$web_tls_port (CA $certs/ca.crt), bookie :$bookie_port, auth $auth, pid $(running_pid || echo '?')"
}

dispatch "$@"
