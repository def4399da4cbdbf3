#!/usr/bin/env bash
# Run the tests. Installs what it needs (venv, podman, the test-host image).
#   scripts/test.sh           all tests: lint, sanity, units, every Molecule scenario
#   scripts/test.sh --fast    inner loop: lint, sanity, units, the `default` scenario
# Extra arguments go to pytest (e.g. -k domains). Ends with pytest's summary line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
args=()
for a in "$@"; do
  case "$a" in
    --fast) args+=(-m "not full") ;;
    *) args+=("$a") ;;
  esac
done
bash "$VH_ROOT/scripts/setup-venv.sh"
bash "$VH_ROOT/scripts/setup-test-hosts.sh"
vh_activate
vh_containers_conf
vh_link_collection
cd "$VH_ROOT"
exec python -m pytest "${args[@]}"
