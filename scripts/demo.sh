#!/usr/bin/env bash
# README command 1: the main job on an embedded default.
#   scripts/demo.sh            start disposable local test hosts, apply playbooks/site.yml with the
#                              example inventory (inventories/example), send real test mail and
#                              print where each message landed (and the refusals)
#   scripts/demo.sh --destroy  remove the demo hosts and their network
# Installs what it needs (venv, podman, the test-host image) on first use.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HOSTS=(vhosting-demo vhosting-elsewhere)
NET=vhosting-demo

destroy() {
  vh_containers_conf
  podman rm -f -t 0 "${HOSTS[@]}" >/dev/null 2>&1 || true
  podman network rm -f "$NET" >/dev/null 2>&1 || true
}

if [[ "${1:-}" == "--destroy" ]]; then
  destroy
  vh_log "demo hosts removed"
  exit 0
fi

bash "$VH_ROOT/scripts/setup-venv.sh"
bash "$VH_ROOT/scripts/setup-test-hosts.sh"
vh_activate
vh_containers_conf
vh_link_collection

podman network exists "$NET" || podman network create "$NET" >/dev/null
for h in "${HOSTS[@]}"; do
  if ! podman container exists "$h"; then
    vh_log "starting disposable test host $h"
    podman run -d --name "$h" --hostname "$h" --network "$NET" --systemd always "$VH_IMAGE" /sbin/init >/dev/null
  fi
done

cd "$VH_ROOT"
vh_log "applying playbooks/site.yml with inventories/example"
ansible-playbook -i inventories/example/hosts.yml playbooks/site.yml
vh_log "sending test mail and looking for it"
ansible-playbook -i inventories/example/hosts.yml scripts/demo-mail.yml
cat <<MSG

The demo hosts keep running so that you can look around, e.g.:
  CONTAINERS_CONF=$CONTAINERS_CONF podman exec -it vhosting-demo bash
Remove them with:
  bash scripts/demo.sh --destroy
MSG
