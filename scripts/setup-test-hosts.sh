#!/usr/bin/env bash
# Make disposable Debian 12 test hosts possible on this machine:
#  - podman, runc and debootstrap from Debian's packages (only if missing);
#  - a containers.conf under the state directory (CONTAINERS_CONF), never /etc;
#  - the image $VH_IMAGE (Debian 12, systemd as PID 1) built with debootstrap
#    and `podman import`, only when it does not exist yet.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need=()
for cmd in podman runc debootstrap; do command -v "$cmd" >/dev/null || need+=("$cmd"); done
if ((${#need[@]})); then
  vh_log "installing ${need[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
vh_containers_conf

if podman image exists "$VH_IMAGE"; then
  vh_log "image $VH_IMAGE already present"
  exit 0
fi

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
rootfs=$(mktemp -d "$VH_STATE/rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
vh_log "debootstrap bookworm from $mirror (about a minute)"
debootstrap --variant=minbase \
  --include=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,swaks,debconf-utils \
  bookworm "$rootfs" "$mirror" >"$VH_STATE/debootstrap.log" 2>&1 \
  || { tail -20 "$VH_STATE/debootstrap.log"; exit 1; }
# The containers reach the same mirror through the podman network.
cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" 2>/dev/null \
  && rm -f "$rootfs/etc/apt/sources.list" || true
# Pre-download the mail packages so that roles install them without the network
# being the slow part; the roles still install them (apt-get install) themselves.
chroot "$rootfs" apt-get update -qq
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only \
  postfix postfix-lmdb postfix-cdb postfix-pcre bsd-mailx >/dev/null
echo 'vhosting-test' >"$rootfs/etc/hostname"
vh_log "importing $VH_IMAGE"
tar -C "$rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' - "$VH_IMAGE" >/dev/null
vh_log "image $VH_IMAGE built"
