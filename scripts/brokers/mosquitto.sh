#!/usr/bin/env bash
# A real Mosquitto broker on loopback for tests and benchmarks.
#   scripts/brokers/mosquitto.sh start|stop|restart|status
#
# Listeners (per_listener_settings true; ports from the environment, defaults in scripts/ports.env):
#   127.0.0.1:$MOSQUITTO_PLAIN_PORT (11883)  plain, anonymous
#   127.0.0.1:$MOSQUITTO_AUTH_PORT  (11884)  plain, password file: user `tbi`, password `tbi-secret`
#   127.0.0.1:$MOSQUITTO_TLS_PORT   (18883)  TLS (server cert signed by a generated CA; client certs
#                                            accepted, not required)
# Certificates live in .cache/mosquitto/certs/ (ca.crt, server.*, client.*), made once with openssl.
# State (config, password file, persistence, log, pid) lives in
# ${TBI_BROKER_STATE_DIR:-.cache}/mosquitto/<instance>/ (scripts/test.sh gives each run its own).
#
# A second, private broker (e.g. one a test restarts without disturbing others) is the same script
# with other ports and an instance name:
#   MOSQUITTO_INSTANCE=restart MOSQUITTO_PLAIN_PORT=21883 MOSQUITTO_AUTH_PORT=21884 \
#   MOSQUITTO_TLS_PORT=21885 scripts/brokers/mosquitto.sh start
#
# Idempotent: `start` on a running broker does nothing; `stop` on a stopped one does nothing.
# `stop` is graceful (SIGTERM), so Mosquitto writes its persistence file and a later `start` keeps
# persistent sessions and their queued messages.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$root/.cache/mosquitto"
certs="$cache/certs"
instance="${MOSQUITTO_INSTANCE:-default}"
state="${TBI_BROKER_STATE_DIR:-$root/.cache}/mosquitto/$instance"
# shellcheck source=lib/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"
plain_port="$MOSQUITTO_PLAIN_PORT"
auth_port="$MOSQUITTO_AUTH_PORT"
tls_port="$MOSQUITTO_TLS_PORT"
pid_file="$state/mosquitto.pid"
log() { echo "[mosquitto:$instance] $*" >&2; }
daemon_match=mosquitto
# shellcheck source=lib/daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
# shellcheck source=lib/test-certs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/test-certs.sh"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

find_mosquitto() {
  for candidate in "$(command -v mosquitto 2>/dev/null || true)" /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

ensure_installed() {
  if find_mosquitto >/dev/null && command -v mosquitto_passwd >/dev/null; then return 0; fi
  log "installing the Debian packages mosquitto and mosquitto-clients"
  export DEBIAN_FRONTEND=noninteractive
  # `apt-get update` only when the package lists do not know the package yet.
  if ! as_root apt-get install -y -q --no-install-recommends mosquitto mosquitto-clients >&2; then
    as_root apt-get update -q >&2
    as_root apt-get install -y -q --no-install-recommends mosquitto mosquitto-clients >&2
  fi
  # The package enables a system service on port 1883; the tests do not use it.
  as_root systemctl disable --now mosquitto >/dev/null 2>&1 || true
}

ensure_certs() { make_test_certs "$certs"; }

write_config() {
  mkdir -p "$state/data"
  if [ ! -s "$state/passwd" ]; then
    : > "$state/passwd"
    mosquitto_passwd -b "$state/passwd" tbi tbi-secret
  fi
  chmod 600 "$state/passwd"
  cat > "$state/mosquitto.conf" <<EOF
# Written by scripts/brokers/mosquitto.sh; rewritten on every start.
per_listener_settings true
# Do not drop privileges: the state directory belongs to whoever runs the script.
user $(id -un)
pid_file $pid_file
log_dest file $state/mosquitto.log
log_type error
log_type warning
log_type notice
connection_messages true

# Persistent sessions survive a restart (saved on graceful shutdown and every minute).
persistence true
persistence_location $state/data/
autosave_interval 60
# Forget persistent sessions nobody resumed for a day, so stale test sessions do not pile up.
persistent_client_expiration 1d

# The defaults (1000 queued, 20 in flight) drop messages queued for an offline persistent session
# and throttle a consumer that acknowledges in batches.
max_queued_messages 1000000
# Queue QoS 0 messages for offline persistent sessions too (benchmarks drain QoS 0 backlogs).
queue_qos0_messages true
max_queued_bytes 0
max_inflight_messages 1000
max_inflight_bytes 0
set_tcp_nodelay true

listener $plain_port 127.0.0.1
allow_anonymous true

listener $auth_port 127.0.0.1
allow_anonymous false
password_file $state/passwd

listener $tls_port 127.0.0.1
allow_anonymous true
cafile $certs/ca.crt
certfile $certs/server.crt
keyfile $certs/server.key
require_certificate false
EOF
}

start() {
  ensure_installed
  ensure_certs
  if running_pid >/dev/null; then log "already running (pid $(running_pid))"; return 0; fi
  for port in "$plain_port" "$auth_port" "$tls_port"; do
    if port_open "$port"; then log "port $port is taken by another process"; exit 1; fi
  done
  write_config
  rm -f "$pid_file"
  # fd 9 is the lock: the daemon must not inherit it, or it would hold the lock for ever.
  "$(find_mosquitto)" -c "$state/mosquitto.conf" -d 9>&- </dev/null >>"$state/mosquitto.log" 2>&1
  local deadline=$(( $(date +%s) + 30 ))
  until port_open "$plain_port" && port_open "$auth_port" && port_open "$tls_port"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "did not open its ports within 30 s; last log lines:"; tail -n 20 "$state/mosquitto.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  log "listening on 127.0.0.1:$plain_port (anonymous), :$auth_port (password), :$tls_port (TLS), pid $(running_pid || echo '?')"
}

dispatch "$@"
