#!/usr/bin/env bash
# README command 1: the main job on an embedded default.
#   scripts/demo.sh            start disposable local test hosts, apply vhosting.postfix.site with the
#                              example inventory (inventories/example, over SSH with become), send
#                              real test mail through every feature (the four address classes, a
#                              Dovecot mailbox read over IMAP, a submission, a list, an autoreply,
#                              the backup MX while the mail host is down) and print a table of
#                              where each message landed (and the refusals)
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
image_id=$(podman image inspect --format '{{.Id}}' "$VH_IMAGE")
for h in "${HOSTS[@]}"; do
  # A host from an older test image (another recipe) is replaced.
  if podman container exists "$h" && [[ "$(podman inspect --format '{{.Image}}' "$h")" != "$image_id" ]]; then
    vh_log "replacing $h (made from an older test image)"
    podman rm -f -t 0 "$h" >/dev/null
  fi
  if ! podman container exists "$h"; then
    vh_log "starting disposable test host $h"
    podman run -d --name "$h" --hostname "$h" --network "$NET" --systemd always "$VH_IMAGE" /sbin/init >/dev/null
  fi
done

# The example inventory is an SSH inventory for real hosts; this overlay (a
# second -i) adds the containers' addresses and the test key, nothing else.
overlay=$VH_STATE/demo/hosts.yml
mkdir -p "$(dirname "$overlay")"
{
  echo "# Written by scripts/demo.sh: how to reach the demo's containers."
  echo "all:"
  echo "  vars:"
  echo "    ansible_ssh_private_key_file: $VH_SSH_KEY"
  echo "    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
  echo "  hosts:"
  for h in "${HOSTS[@]}"; do
    addr=$(podman inspect --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$h")
    echo "    $h:"
    echo "      ansible_host: $addr"
  done
} >"$overlay"
for h in "${HOSTS[@]}"; do
  podman exec "$h" systemctl is-system-running --wait >/dev/null 2>&1 || true
done

cd "$VH_ROOT"
inventory=(-i inventories/example/hosts.yml -i "$overlay")
vh_log "applying vhosting.postfix.site with inventories/example"
ansible-playbook "${inventory[@]}" vhosting.postfix.site
vh_log "sending test mail through every feature and looking for it"
rm -f "$VH_STATE/demo/report.txt"
ansible-playbook "${inventory[@]}" scripts/demo-mail.yml
echo
cat "$VH_STATE/demo/report.txt"
cat <<MSG

The demo hosts keep running so that you can look around, e.g.:
  CONTAINERS_CONF=$CONTAINERS_CONF podman exec -it vhosting-demo bash
Remove them with:
  bash scripts/demo.sh --destroy
MSG
