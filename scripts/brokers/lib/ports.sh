# Sourced by the broker scripts: sets every port variable of scripts/ports.env that the
# environment does not already set (the file holds the defaults; scripts/test.sh may export a
# block of its own).
load_port_defaults() {
  local file name value
  file="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/ports.env"
  while IFS='=' read -r name value; do
    case "$name" in ''|'#'*) continue ;; esac
    if [ -z "${!name:-}" ]; then printf -v "$name" '%s' "$value"; fi
  done < "$file"
}
load_port_defaults
