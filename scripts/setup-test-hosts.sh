#!/usr/bin/env bash
# Make disposable Debian test hosts possible on this machine:
#  - podman, runc, debootstrap and the SSH client from Debian's packages (only
#    if missing);
#  - a containers.conf under the state directory (CONTAINERS_CONF), never /etc;
#  - one image per Debian release of scripts/lib.sh (localhost/vhosting-debian12,
#    localhost/vhosting-debian13; systemd as PID 1), built with debootstrap and
#    `podman import`, each only when it does not exist yet (or was built from
#    another version of this recipe: see recipe()). Missing images are
#    built in parallel; each build holds a lock, so concurrent calls wait for
#    it instead of building the same image twice;
#  - SSH access as an operator has it: sshd, a non-root user "admin" with sudo
#    without password, and the machine's test key (scripts/lib.sh VH_SSH_KEY,
#    made here when missing) in its authorized_keys. The scenarios, the demo
#    and the benchmarks reach the hosts over SSH with become, not podman exec.
# Usage: scripts/setup-test-hosts.sh [RELEASE...]   (default: every release)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The test hosts' base system, and the packages whose .deb files are put into
# the image's apt cache so that installing them in a test host needs no
# download (the roles and scenarios still run apt-get install themselves).
BASE_PACKAGES=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,swaks,debconf-utils,openssh-server,sudo
# Installed after debootstrap (whose base configuration fails on them): swaks's
# TLS, so that `swaks --tls --auth` tests submission.
EXTRA_PACKAGES=(libnet-ssleay-perl libio-socket-ssl-perl)
CACHED_PACKAGES=(
  postfix postfix-lmdb postfix-cdb postfix-pcre bsd-mailx
  # for the mail store and mailing list features to come
  dovecot-core dovecot-imapd dovecot-lmtpd mlmmj
  # network lookup tables (docs/network-tables.md): Postfix's clients, the
  # Python drivers of the loading modules, and the database servers of the
  # network_tables scenario
  postfix-pgsql postfix-mysql postfix-ldap python3-psycopg2 python3-pymysql python3-ldap
  postgresql mariadb-server slapd ldap-utils
  # mail authentication (docs/mail-auth.md): the signer, the checkers, SRS,
  # an independent DKIM verifier; the test DNS of the mail_auth scenario
  opendkim opendkim-tools opendmarc postfix-policyd-spf-python postsrsd
  python3-dkim python3-dnspython knot knot-dnsutils unbound
  # certificates (docs/tls.md): certbot for ACME, openssl for the self-signed
  # test certificates, the tls scenario's ACME test server
  certbot openssl pebble
)

# A hash of this recipe, stored as a label on the image: an image built from an
# older recipe (other packages) counts as missing and is rebuilt.
# The public key is part of it: a new key means new images.
recipe() {
  printf '%s\n' "$BASE_PACKAGES" "${EXTRA_PACKAGES[*]}" "${CACHED_PACKAGES[*]}" "sources-codename-v1" "dpkg-speedup-v1" "ssh-admin-v1" \
    "$(cat "$VH_SSH_KEY.pub" 2>/dev/null)" | sha256sum | cut -c1-12
}
current() { [[ "$(podman image inspect --format '{{index .Labels "org.vhosting.recipe"}}' "$1" 2>/dev/null)" == "$(recipe)" ]]; }

# build RELEASE: debootstrap + podman import of one image (run under its lock).
build() {
  local release=$1 codename image mirror host_codename rootfs log
  codename=$(vh_codename "$release")
  image=$(vh_image "$release")
  if current "$image"; then
    vh_log "image $image already present"
    return 0
  fi
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)}
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d "$VH_STATE/rootfs-$codename.XXXXXX")
  log=$VH_STATE/debootstrap-$codename.log
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" EXIT
  if podman image exists "$image"; then
    vh_log "image $image was built from another recipe: rebuilding it"
  fi
  vh_log "debootstrap $codename from $mirror (about a minute)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$codename" "$rootfs" "$mirror" >"$log" 2>&1 \
    || { tail -20 "$log"; return 1; }
  # The containers reach the same mirrors through the podman network: the
  # host's sources, with the host's codename replaced by the image's.
  host_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [[ -f /etc/apt/sources.list.d/debian.sources && -n "$host_codename" ]]; then
    sed -E "/^Suites:/ s/\\b${host_codename}\\b/${codename}/g" /etc/apt/sources.list.d/debian.sources \
      >"$rootfs/etc/apt/sources.list.d/debian.sources"
    rm -f "$rootfs/etc/apt/sources.list"
  fi
  # Pre-download the packages (apt-get install --download-only fails on an
  # unknown name, so this also checks that every name exists in the release).
  chroot "$rootfs" apt-get update -qq >>"$log" 2>&1 || { tail -20 "$log"; return 1; }
  chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${EXTRA_PACKAGES[@]}" >>"$log" 2>&1 || { tail -20 "$log"; return 1; }
  chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only \
    "${CACHED_PACKAGES[@]}" >>"$log" 2>&1 || { tail -20 "$log"; return 1; }
  echo 'vhosting-test' >"$rootfs/etc/hostname"
  # dpkg in a disposable test host: no fsync per unpacked file (what Debian's
  # own container images do) and no manual pages or documentation. The roles'
  # package installs take about a quarter less time; what they install and
  # configure is the same.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/vhosting-test-host" <<'DPKG'
# scripts/setup-test-hosts.sh: disposable test host, never a real server
force-unsafe-io
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
DPKG
  # The operator's account: SSH key login, sudo without password (become).
  chroot "$rootfs" useradd --create-home --shell /bin/bash --password '*' admin >>"$log" 2>&1
  install -d -m 0700 "$rootfs/home/admin/.ssh"
  install -m 0600 "$VH_SSH_KEY.pub" "$rootfs/home/admin/.ssh/authorized_keys"
  chroot "$rootfs" chown -R admin:admin /home/admin/.ssh
  printf 'admin ALL=(ALL:ALL) NOPASSWD: ALL\n' >"$rootfs/etc/sudoers.d/vhosting-test-admin"
  chmod 0440 "$rootfs/etc/sudoers.d/vhosting-test-admin"
  vh_log "importing $image"
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' \
    --change "LABEL org.vhosting.recipe=$(recipe)" --change "LABEL org.vhosting.release=$release" - "$image" >/dev/null 2>>"$log" \
    || { tail -20 "$log"; return 1; }
  vh_log "image $image built (Debian $(cat "$rootfs/etc/debian_version") $codename)"
}

if [[ "${1:-}" == --build ]]; then
  vh_containers_conf
  build "$2"
  exit
fi

need=()
for cmd in podman runc debootstrap; do command -v "$cmd" >/dev/null || need+=("$cmd"); done
command -v ssh-keygen >/dev/null || need+=(openssh-client)
if ((${#need[@]})); then
  vh_log "installing ${need[*]} from Debian's packages"
  vh_locked apt bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null' _ "${need[@]}"
fi
vh_containers_conf
vh_locked ssh-key bash -c '. "$1" && vh_ssh_key' _ "$VH_ROOT/scripts/lib.sh"

releases=("$@")
((${#releases[@]})) || read -r -a releases <<<"$VH_RELEASES"
pids=()
for release in "${releases[@]}"; do
  vh_image "$release" >/dev/null || { vh_log "unknown release $release (known: $VH_RELEASES)"; exit 2; }
  if current "$(vh_image "$release")"; then
    vh_log "image $(vh_image "$release") already present"
    continue
  fi
  vh_locked "image-debian$release" bash "$VH_ROOT/scripts/setup-test-hosts.sh" --build "$release" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit "$failed"
