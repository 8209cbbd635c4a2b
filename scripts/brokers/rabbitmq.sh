#!/usr/bin/env bash
# A real RabbitMQ node on loopback for tests and benchmarks (Debian's rabbitmq-server).
#   scripts/brokers/rabbitmq.sh start|stop|restart|status
#
# Listeners (loopback only; never the system ports 5672/5671):
#   127.0.0.1:15673  AMQP   (RABBITMQ_PORT)
#   127.0.0.1:15674  AMQPS  (RABBITMQ_TLS_PORT): server cert signed by a generated CA; client
#                    certificates are verified when sent, not required
#   127.0.0.1:15675  Erlang distribution (RABBITMQ_DIST_PORT), for rabbitmqctl
#   (defaults in scripts/ports.env; scripts/test.sh gives each run its own)
# Users and vhosts (loaded from definitions on every boot):
#   guest/guest  and  tbi/tbi-secret   on vhost "/"  (tbi also on "tbi-auth")
#   tbi-auth/tbi-auth-secret           on vhost "tbi-auth" only (auth and vhost failure tests)
# Certificates live in .cache/rabbitmq/certs/ (ca.crt, server.*, client.*), made once with openssl.
# The node (tbi-<instance>-<AMQP port>@localhost) keeps its data, log and config in
# ${TBI_BROKER_STATE_DIR:-.cache}/rabbitmq/<instance>/,
# so it never touches a system RabbitMQ; the Debian package's own service is disabled.
#
# A second, private node (e.g. one a test restarts without disturbing others):
#   RABBITMQ_INSTANCE=restart RABBITMQ_PORT=25673 RABBITMQ_TLS_PORT=25674 \
#   RABBITMQ_DIST_PORT=25675 scripts/brokers/rabbitmq.sh start
#
# Idempotent: `start` on a running node does nothing; `stop` on a stopped one does nothing.
# `stop` is graceful (SIGTERM), so durable queues and persistent messages survive a restart.
# Measured on the 2-core dev machine under load from other work: installing the Debian package
# ~60 s (once per machine), first start with certificate generation 11 s, later starts 7-8 s
# (Erlang boot; the listeners open only once definitions are loaded), stop 1-2 s.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$root/.cache/rabbitmq"
certs="$cache/certs"
instance="${RABBITMQ_INSTANCE:-default}"
# shellcheck source=lib/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/ports.sh"
state="${TBI_BROKER_STATE_DIR:-$root/.cache}/rabbitmq/$instance"
amqp_port="$RABBITMQ_PORT"
tls_port="$RABBITMQ_TLS_PORT"
dist_port="$RABBITMQ_DIST_PORT"
# The port is in the node name: two test runs on one machine share epmd, so node names must differ.
node="tbi-$instance-$amqp_port@localhost"
pid_file="$state/rabbitmq.pid"
rabbit_bin=/usr/lib/rabbitmq/bin
log() { echo "[rabbitmq:$instance] $*" >&2; }
daemon_match=beam
# shellcheck source=lib/daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
# shellcheck source=lib/test-certs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/test-certs.sh"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# What a fresh Debian lacks: the broker, and openssl for the certificates and password hashes
# (priority "optional", so not on a minimal install).
ensure_installed() {
  local missing=()
  [ -x "$rabbit_bin/rabbitmq-server" ] || missing+=(rabbitmq-server)
  command -v openssl >/dev/null || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing the Debian package(s) ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package from starting its own node on 5672 while it installs (policy-rc.d exit 101:
  # "action forbidden"); an existing policy file is left as it is.
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod +x "$policy"
  fi
  if ! as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    as_root apt-get update -q >&2
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
  [ -n "$policy" ] && as_root rm -f "$policy"
  as_root systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
}

ensure_certs() { make_test_certs "$certs"; }

# RabbitMQ's own hash format (rabbit_password_hashing_sha256): base64(salt ++ sha256(salt ++ password)).
# The salt's bytes go through a file (a shell variable cannot hold them), so openssl is all it needs.
password_hash() {
  local salt; salt="$(mktemp)"
  openssl rand 4 > "$salt"
  { cat "$salt"; { cat "$salt"; printf '%s' "$1"; } | openssl dgst -sha256 -binary; } | base64
  rm -f "$salt"
}

write_config() {
  mkdir -p "$state/mnesia" "$state/log"
  if [ ! -s "$state/definitions.json" ]; then
    cat > "$state/definitions.json" <<EOF
{
  "users": [
    {"name": "guest", "password_hash": "$(password_hash guest)", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]},
    {"name": "tbi", "password_hash": "$(password_hash tbi-secret)", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]},
    {"name": "tbi-auth", "password_hash": "$(password_hash tbi-auth-secret)", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}
  ],
  "vhosts": [{"name": "/"}, {"name": "tbi-auth"}],
  "permissions": [
    {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "tbi", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "tbi", "vhost": "tbi-auth", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "tbi-auth", "vhost": "tbi-auth", "configure": ".*", "write": ".*", "read": ".*"}
  ]
}
EOF
  fi
  # No plugins: the core broker speaks AMQP 0-9-1 with quorum and stream queues.
  echo '[].' > "$state/enabled_plugins"
  : > "$state/rabbitmq-env.conf"
  cat > "$state/rabbitmq.conf" <<EOF
# Written by scripts/brokers/rabbitmq.sh; rewritten on every start.
listeners.tcp.default = 127.0.0.1:$amqp_port
listeners.ssl.default = 127.0.0.1:$tls_port
ssl_options.cacertfile = $certs/ca.crt
ssl_options.certfile = $certs/server.crt
ssl_options.keyfile = $certs/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
load_definitions = $state/definitions.json
# Test machines have small disks and other tenants: do not block publishers for free space.
disk_free_limit.absolute = 50MB
vm_memory_high_watermark.relative = 0.5
log.file.level = info
log.console = false
EOF
}

rabbit_env() {
  env RABBITMQ_NODENAME="$node" RABBITMQ_USE_LONGNAME=false \
    RABBITMQ_CONFIG_FILE="$state/rabbitmq" RABBITMQ_CONF_ENV_FILE="$state/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$state/enabled_plugins" RABBITMQ_MNESIA_BASE="$state/mnesia" \
    RABBITMQ_LOG_BASE="$state/log" RABBITMQ_PID_FILE="$pid_file" RABBITMQ_DIST_PORT="$dist_port" \
    RABBITMQ_NODE_PORT="$amqp_port" RABBITMQ_ALLOW_INPUT= HOME="${HOME:-/root}" "$@"
}

start() {
  ensure_installed
  ensure_certs
  if running_pid >/dev/null; then log "already running (pid $(running_pid))"; return 0; fi
  for port in "$amqp_port" "$tls_port" "$dist_port"; do
    if port_open "$port"; then log "port $port is taken by another process"; exit 1; fi
  done
  write_config
  rm -f "$pid_file"
  # fd 9 is the lock: the node must not inherit it, or it would hold the lock for ever.
  # setsid: the node outlives the shell that started it (and its process group). It runs in its
  # state folder, so crash dumps (MnesiaCore.*, erl_crash.dump) land there, not in a checkout.
  (cd "$state" && rabbit_env setsid "$rabbit_bin/rabbitmq-server") 9>&- </dev/null >>"$state/log/stdout.log" 2>&1 &
  local deadline=$(( $(date +%s) + 90 ))
  # The listeners open only once the node has booted (definitions loaded).
  until port_open "$amqp_port" && port_open "$tls_port"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "did not open its ports within 90 s; last log lines:"
      tail -n 20 "$state/log/stdout.log" "$state/log/$node.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
  done
  # A node whose first boot was cut short (its folder deleted or killed mid-start) comes back
  # with feature flags off, and quorum or stream queues refused: turn them on (the node lists
  # the enabled ones in this file).
  if ! grep -qs stream_queue "$state/mnesia/$node-feature_flags"; then
    log "enabling the feature flags (off after an interrupted first boot)"
    ctl enable_feature_flag all >/dev/null || log "could not enable the feature flags"
  fi
  log "listening on 127.0.0.1:$amqp_port (AMQP), :$tls_port (AMQPS), node $node, pid $(running_pid || echo '?')"
}

# `rabbitmqctl` for this node, e.g. `scripts/brokers/rabbitmq.sh ctl list_queues`.
ctl() { rabbit_env "$rabbit_bin/rabbitmqctl" -n "$node" "$@"; }

if [ "${1:-}" = ctl ]; then shift; ctl "$@"; exit; fi
dispatch "$@"
