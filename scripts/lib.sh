# Shared helpers for the setup scripts: logging, failing with one line, the cache location.
# Sourced, not run.

WOP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$WOP_ROOT/scripts/versions.env"

# Everything built or downloaded lives here, outside the checkout, keyed by version, so a
# fresh clone on the same machine reuses it.
WOP_CACHE="${WOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasm-operator}"

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

need_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

# Runs a command with its output in a log file; on failure prints the log's tail and the
# one-line reason.
run_logged() {
  local what="$1" log="$2"; shift 2
  mkdir -p "$(dirname "$log")"
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "$what failed (full log: $log)"
  fi
}

# Serialises setup steps across processes (two `make` runs at once must not build the same
# thing into the same place). Holds the lock until the calling script exits.
take_lock() {
  mkdir -p "$WOP_CACHE"
  exec 9>"$WOP_CACHE/.lock-$1"
  flock 9
}
