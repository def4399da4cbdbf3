#!/usr/bin/env bash
# Run the tests. Installs what it needs (venv, podman, the test-host images).
#   scripts/test.sh           all tests: lint, sanity, units, every Molecule scenario
#                             on every Debian release of the test hosts (12, 13)
#   scripts/test.sh --fast    inner loop: lint, sanity, units, the `default` scenario
#                             on Debian 12
# Extra arguments go to pytest (e.g. -k domains, -m debian13, -n 0 for one
# test at a time). Tests run VHOSTING_JOBS (default 2) at a time with
# pytest-xdist. Ends with pytest's summary line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
args=(-n "${VHOSTING_JOBS:-2}" --dist load --maxschedchunk 1 --durations=25)
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
