#!/usr/bin/env bash
# Create (or reuse) the project's venv with the test and runtime dependencies.
# The venv is reused while requirements*.txt are unchanged (hash stamp).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
stamp=$(cat "$VH_ROOT/requirements.txt" "$VH_ROOT/requirements-test.txt" | sha256sum | cut -c1-16)
if [[ -f "$VH_VENV/.stamp" && "$(cat "$VH_VENV/.stamp")" == "$stamp" ]]; then
  vh_log "venv $VH_VENV up to date"
  exit 0
fi
vh_log "creating venv $VH_VENV"
rm -rf "$VH_VENV"
mkdir -p "$(dirname "$VH_VENV")"
python3 -m venv "$VH_VENV"
"$VH_VENV/bin/pip" install -q --upgrade pip
"$VH_VENV/bin/pip" install -q -r "$VH_ROOT/requirements-test.txt"
echo "$stamp" >"$VH_VENV/.stamp"
vh_log "venv ready"
