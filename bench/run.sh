#!/usr/bin/env bash
# Run bench/bench.py in a disposable container of the test image: Postfix is
# installed there from the image's apt cache, and ansible-playbook (the
# project venv, mounted read-only) runs inside with a local connection, as a
# user would on the mail host. The container is removed at the end.
# Usage: bench/run.sh [bench.py options], e.g. bench/run.sh --sizes 10000,100000
set -euo pipefail
# shellcheck source=../scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
vh_containers_conf
vh_link_collection
name=${VHOSTING_BENCH_CONTAINER:-vhlt-bench}
pyenv_root=$(dirname "$(dirname "$(readlink -f "$VH_VENV/bin/python3")")")
pyenv_root=${pyenv_root%/versions/*}
mounts=(-v "$VH_VENV:$VH_VENV:ro" -v "$VH_ROOT:$VH_ROOT:ro" -v "$VH_COLLECTIONS:$VH_COLLECTIONS:ro")
case $pyenv_root in /usr|/usr/local) ;; *) mounts+=(-v "$pyenv_root:$pyenv_root:ro") ;; esac

if ! podman container exists "$name"; then
  vh_log "starting $name"
  podman run -d --name "$name" --hostname "$name" "${mounts[@]}" "$VH_IMAGE" >/dev/null
  trap 'podman rm -f -t 0 "$name" >/dev/null' EXIT
fi
vh_log "installing postfix in $name (image apt cache)"
podman exec "$name" bash -c '
  command -v postmap >/dev/null && exit 0
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix postfix-lmdb postfix-cdb postfix-pcre >/dev/null'
podman exec "$name" bash -c 'test -e /etc/postfix/main.cf || cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf'
vh_log "running bench.py $*"
podman exec -e PATH="$VH_VENV/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  -e ANSIBLE_COLLECTIONS_PATH="$VH_COLLECTIONS" -e ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=true \
  -e ANSIBLE_HOME=/var/tmp/ansible-home \
  "$name" "$VH_VENV/bin/python3" "$VH_ROOT/bench/bench.py" "$@"
