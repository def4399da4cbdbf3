#!/usr/bin/env bash
# Print the main.cf parameter names of Postfix on every supported release
# (postconf -d in a disposable test host, packages from the image's apt
# cache), one per line, sorted, for plugins/plugin_utils/_postfix_parameters.py
# (KNOWN_NAMES: drop the per-transport names <service>_<suffix> there).
# Usage: scripts/postfix-parameter-names.sh [RELEASE...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
vh_containers_conf
releases=("$@")
[[ ${#releases[@]} -gt 0 ]] || releases=(12 13)
for release in "${releases[@]}"; do
  podman run --rm --network none "$(vh_image "$release")" bash -c \
    'DEBIAN_FRONTEND=noninteractive apt-get install -y --no-download -q postfix postfix-lmdb postfix-cdb postfix-pcre >/dev/null 2>&1 && postconf -d' |
    cut -d' ' -f1
done | sort -u
