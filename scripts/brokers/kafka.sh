#!/usr/bin/env bash
# A real Apache Kafka 4.1 broker (KRaft, one combined broker+controller) on loopback for tests and
# benchmarks, run from its Maven Central jars on the machine's Java 17 (Kafka has no Debian package).
#   scripts/brokers/kafka.sh start [--fresh] | stop | restart | status | format
# (`format`: write the config and format the data folder, if not done yet, without starting.)
#
# Listeners, from KAFKA_PORT_BASE (default 19092, in scripts/ports.env):
#   base     PLAINTEXT
#   base+1   CONTROLLER (KRaft quorum, not for clients)
#   base+2   SASL_PLAINTEXT: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, user `tbi`, password `tbi-secret`
#   base+3   SSL: broker cert signed by a generated CA (.cache/kafka/ssl/ca.pem);
#            client certs (.cache/kafka/ssl/client.pem + client-key.pem) checked when offered
#
# Jars: resolved once into .cache/kafka/lib with maven-dependency-plugin (full version named: the
# bare `dependency:` prefix picks an ancient one) from scripts/brokers/kafka/runtime.pom.xml.
# State (server.properties, data, broker log kafka.log, pid): ${TBI_BROKER_STATE_DIR:-.cache}/kafka/<instance>/
# (or KAFKA_STATE_DIR); scripts/test.sh gives each run its own.
# `stop` is graceful (SIGTERM, controlled shutdown) and keeps the data, so a test can restart the
# broker mid-stream without losing topics or committed offsets; `start --fresh` wipes the data and
# formats anew. SCRAM users are written at format time (`StorageTool format --add-scram`).
#
# A second, private broker (one a test restarts without disturbing the others) is the same script
# with another instance name and ports:
#   KAFKA_INSTANCE=restart KAFKA_PORT_BASE=29092 scripts/brokers/kafka.sh start
# KAFKA_CLUSTER_ID=<id> formats a new data folder with that cluster id instead of a random one.
#   (ports: base = PLAINTEXT, +1 CONTROLLER, +2 SASL_PLAINTEXT, +3 SSL)
#
# Measured on the 2-core dev machine (Kafka 4.1.2, Java 17): `start --fresh` (format + start)
# 4.4 s until every listener answers; `start` on kept data 2.8 s; `stop` 2.5 s; resolving the
# jars (54 MB) the first time adds ~5 s with a warm ~/.m2.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/scripts/brokers/kafka"
cache="$root/.cache/kafka"
lib="$cache/lib"
ssl="$cache/ssl"
instance="${KAFKA_INSTANCE:-default}"
state="${KAFKA_STATE_DIR:-${TBI_BROKER_STATE_DIR:-$root/.cache}/kafka/$instance}"
# shellcheck source=lib/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"
base="$KAFKA_PORT_BASE"
plain_port=$base
controller_port=$((base + 1))
sasl_port=$((base + 2))
ssl_port=$((base + 3))
pid_file="$state/kafka.pid"
heap="${KAFKA_HEAP:--Xms256m -Xmx768m}"
log() { echo "[kafka:$instance] $*" >&2; }
daemon_match=kafka.Kafka
start_args="[--fresh]"
extra_commands="format"
# shellcheck source=lib/daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
# shellcheck source=lib/cluster-id.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/cluster-id.sh"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Java 17+ runs the broker, Maven resolves its jars: Debian packages, installed when missing.
ensure_tools() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v keytool >/dev/null || [ ${#missing[@]} -gt 0 ] || missing+=(openjdk-17-jre-headless)
  command -v openssl >/dev/null || missing+=(openssl)
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
  log "resolving Kafka's jars into $lib (Maven Central)"
  rm -rf "$lib"
  mvn -B -q -f "$here/runtime.pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$lib" -DincludeScope=runtime >&2
  touch "$lib/.complete"
}

java_args() { # main-class args...  -> the full java command line, one word per line
  printf '%s\n' java $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$here/log4j2.yaml" "-Dkafka.logs.dir=$state" -cp "$lib/*" "$@"
}

java_run() { local cmd; mapfile -t cmd < <(java_args "$@"); "${cmd[@]}"; }

write_config() {
  sed -e "s|@DATA_DIR@|$state|g" -e "s|@SSL_DIR@|$ssl|g" \
    -e "s|127.0.0.1:19092|127.0.0.1:$plain_port|g" -e "s|127.0.0.1:19093|127.0.0.1:$controller_port|g" \
    -e "s|127.0.0.1:19094|127.0.0.1:$sasl_port|g" -e "s|127.0.0.1:19095|127.0.0.1:$ssl_port|g" \
    "$here/server.properties" > "$state/server.properties"
}

format_storage() {
  [ -f "$state/log/meta.properties" ] && return 0
  local cluster_id="${KAFKA_CLUSTER_ID:-$(new_cluster_id)}"
  log "formatting $state/log (cluster $cluster_id)"
  # `--cluster-id=<id>`, not `--cluster-id <id>`: an id given to reproduce a run may still start
  # with `-`, which the option parser would take for an option.
  java_run kafka.tools.StorageTool format --config "$state/server.properties" "--cluster-id=$cluster_id" \
    --add-scram 'SCRAM-SHA-256=[name=tbi,password=tbi-secret]' \
    --add-scram 'SCRAM-SHA-512=[name=tbi,password=tbi-secret]' >"$state/format.log" 2>&1 \
    || { cat "$state/format.log" >&2; exit 1; }
}

start() {
  local fresh="${1:-}"
  ensure_tools
  ensure_jars
  "$here/make-ssl.sh" "$ssl"
  if [ "$fresh" = "--fresh" ]; then stop; log "wiping $state/log"; rm -rf "$state/log"; fi
  if running_pid >/dev/null; then log "already running (pid $(running_pid))"; return 0; fi
  for port in "$plain_port" "$controller_port" "$sasl_port" "$ssl_port"; do
    if port_open "$port"; then log "port $port is taken by another process"; exit 1; fi
  done
  local started; started=$(date +%s%N)
  write_config
  format_storage
  : > "$state/kafka.log"
  # setsid: the broker must not die with the shell (or test process) that started it; fd 9 (the
  # start/stop lock) is closed so the broker does not hold it.
  local cmd; mapfile -t cmd < <(java_args kafka.Kafka "$state/server.properties")
  setsid "${cmd[@]}" >>"$state/kafka.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$pid_file"
  local deadline=$(( $(date +%s) + 120 ))
  until grep -q "Kafka Server started" "$state/kafka.log" && port_open "$plain_port" \
      && port_open "$sasl_port" && port_open "$ssl_port"; do
    if ! running_pid >/dev/null; then log "exited during start-up; last log lines:"; tail -n 30 "$state/kafka.log" >&2; exit 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "not ready within 120 s; last log lines:"; tail -n 30 "$state/kafka.log" >&2; exit 1
    fi
    sleep 0.2
  done
  local ms=$(( ($(date +%s%N) - started) / 1000000 ))
  log "ready in ${ms} ms: 127.0.0.1:$plain_port PLAINTEXT, :$sasl_port SASL (SCRAM/PLAIN tbi/tbi-secret), :$ssl_port SSL (CA $ssl/ca.pem), pid $(running_pid || echo '?')"
}

command_format() {
  ensure_tools
  ensure_jars
  write_config
  format_storage
}

dispatch "$@"
