#!/usr/bin/env bash
# Run bench/NAME.py with the project's venv, podman set-up, test image and
# collection link (see bench/README.md).
# Usage: bench/with-env.sh NAME [options of bench/NAME.py]
set -euo pipefail
# shellcheck source=../scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
name=$1
shift
vh_activate
vh_containers_conf
vh_link_collection
bash "$VH_ROOT/scripts/setup-test-hosts.sh" "$VH_RELEASE" >/dev/null
exec python3 "$VH_ROOT/bench/$name.py" "$@"
