# Shared by the broker scripts in scripts/brokers/: pid-file bookkeeping, graceful stop, status,
# and the lock that lets parallel test files call `start` at once. The sourcing script sets
# `state` (its state folder), `pid_file`, `daemon_match` (a word of the daemon's command line)
# and defines `log` and `start`.

running_pid() {
  [ -s "$pid_file" ] || return 1
  local pid; pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null && grep -q "$daemon_match" "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"; return 0
  fi
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# SIGTERM, so the broker writes its state (sessions, logs) and keeps it across a restart.
stop() {
  local pid
  if ! pid="$(running_pid)"; then log "not running"; return 0; fi
  kill -TERM "$pid"
  local deadline=$(( $(date +%s) + 60 ))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then log "still running after 60 s; killing"; kill -KILL "$pid" || true; break; fi
    sleep 0.1
  done
  rm -f "$pid_file"
  log "stopped"
}

status() {
  local pid
  if pid="$(running_pid)"; then log "running (pid $pid)"; return 0; fi
  log "not running"; return 3
}

# Runs one command of `start [args] | stop | restart | status` under the instance's lock.
dispatch() {
  mkdir -p "$state"
  exec 9>"$state/.lock"
  flock 9
  local cmd="${1:-}"; shift || true
  case "$cmd" in
    start) start "$@" ;;
    stop) stop ;;
    restart) stop; start ;;
    status) status ;;
    *)
      # A broker script may add commands of its own as functions named command_<name>.
      if [ -n "$cmd" ] && declare -F "command_$cmd" >/dev/null; then "command_$cmd" "$@"; return; fi
      echo "usage: $(basename "$0") start${start_args:+ $start_args} | stop | restart | status${extra_commands:+ | $extra_commands}" >&2; exit 2 ;;
  esac
}
