#!/usr/bin/env bash
# Create (or reuse) the project's venv with the test and runtime dependencies.
# The venv's path carries a hash of requirements*.txt (scripts/lib.sh): changed
# requirements make a new venv beside the old one, never a rebuild of a venv
# that another run is using. Concurrent calls wait for each other (flock).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The venv of the oldest ansible-core the collection claims
# (requirements-oldest.txt), under a lock of its own: checkouts whose other
# requirements differ share it.
oldest() {
  if [[ -f "$VH_OLDEST_VENV/.stamp" && "$(cat "$VH_OLDEST_VENV/.stamp")" == "$VH_OLDEST_STAMP" ]]; then
    return 0
  fi
  vh_log "creating venv $VH_OLDEST_VENV (the oldest ansible-core the collection claims)"
  rm -rf "$VH_OLDEST_VENV"
  python3 -m venv "$VH_OLDEST_VENV"
  "$VH_OLDEST_VENV/bin/pip" install -q --upgrade pip
  "$VH_OLDEST_VENV/bin/pip" install -q -r "$VH_ROOT/requirements-oldest.txt"
  echo "$VH_OLDEST_STAMP" >"$VH_OLDEST_VENV/.stamp"
}

case "${1:-}" in
  --oldest-locked) oldest; exit 0 ;;
  --locked) ;;
  *)
    vh_locked "venv-oldest-$VH_OLDEST_STAMP" bash "$VH_ROOT/scripts/setup-venv.sh" --oldest-locked
    exec bash -c '. "$1/scripts/lib.sh" && vh_locked "venv-$VH_REQ_STAMP" bash "$1/scripts/setup-venv.sh" --locked' _ "$VH_ROOT"
    ;;
esac

if [[ -f "$VH_VENV/.stamp" && "$(cat "$VH_VENV/.stamp")" == "$VH_REQ_STAMP" ]]; then
  vh_log "venv $VH_VENV up to date"
  exit 0
fi
legacy=$VH_STATE/venv   # the unversioned path of earlier checkouts
if [[ -z "${VHOSTING_VENV:-}" && ! -e "$VH_VENV" && -f "$legacy/.stamp" && "$(cat "$legacy/.stamp")" == "$VH_REQ_STAMP" ]]; then
  ln -s "$(basename "$legacy")" "$VH_VENV"
  vh_log "venv $VH_VENV -> $legacy (same requirements)"
  exit 0
fi
vh_log "creating venv $VH_VENV"
rm -rf "$VH_VENV"
mkdir -p "$(dirname "$VH_VENV")"
python3 -m venv "$VH_VENV"
"$VH_VENV/bin/pip" install -q --upgrade pip
"$VH_VENV/bin/pip" install -q -r "$VH_ROOT/requirements-test.txt"
echo "$VH_REQ_STAMP" >"$VH_VENV/.stamp"
vh_log "venv ready"
