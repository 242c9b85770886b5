#!/usr/bin/env bash
# Installs the Debian packages the test-host harness needs on the control machine.
# Quick when everything is present: dpkg-query decides, apt-get update runs only when something is missing.
set -euo pipefail

packages=(
  mmdebstrap            # builds the el9-like root filesystem
  debian-archive-keyring
  systemd-container     # systemd-nspawn for container hosts
  iproute2              # bridge and veth devices
  util-linux            # flock, nsenter, unshare
  openssh-client        # ssh, ssh-keygen, ssh-keyscan
  e2fsprogs             # mkfs.ext4 -d builds the VM disk without a loop mount
  qemu-system-x86       # the el9-selinux VM (TCG)
  qemu-utils            # qemu-img for the qcow2 overlay
  procps                # ps, free (measurements)
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) != 0 ]]; then
  echo "install-deps: missing ${missing[*]} and not root; install them with apt-get" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
