#!/usr/bin/env bash
# Builds the el9-like test-host image: a Debian trixie userland carrying RHEL 9's tool set (systemd, sshd,
# dnf/rpm, firewalld, nftables, fail2ban, podman, SELinux userland). It is not RHEL.
#
#   build-image.sh OUT_DIR
#
# Writes OUT_DIR/rootfs (shared read-only lower layer of every container host, SELinux-labelled for the VM),
# OUT_DIR/id_ed25519{,.pub} (the harness key), OUT_DIR/vmlinuz and OUT_DIR/initrd.img (direct kernel boot).
# The caller (image.ts) takes the lock, picks OUT_DIR from the cache key and renames it into place.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mirror=${HOSTFORM_TEST_HOSTS_MIRROR:-http://deb.debian.org/debian}

# Password of pwuser, whose sudo asks for one; tests that check "sudo needs a password" rely on it.
pwuser_password=hostform-test

customize() {
  local root=$1 out=$2
  step "customizing"
  local in_root=(chroot "$root")

  # Users and keys: root and admin (passwordless sudo) and pwuser (sudo with password) share the harness key.
  install -d -m 700 "$root/root/.ssh"
  install -m 600 "$out/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
  for user in admin pwuser; do
    "${in_root[@]}" useradd --create-home --shell /bin/bash "$user"
    install -d -m 700 "$root/home/$user/.ssh"
    install -m 600 "$out/id_ed25519.pub" "$root/home/$user/.ssh/authorized_keys"
    "${in_root[@]}" chown -R "$user:$user" "/home/$user/.ssh"
  done
  echo "pwuser:$pwuser_password" | "${in_root[@]}" chpasswd
  # root's user manager stays up, so a login does not start and stop one every time (seconds under TCG).
  install -d "$root/var/lib/systemd/linger"
  touch "$root/var/lib/systemd/linger/root"
  echo 'admin ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/admin"
  echo 'pwuser ALL=(ALL) ALL' >"$root/etc/sudoers.d/pwuser"
  chmod 440 "$root/etc/sudoers.d/admin" "$root/etc/sudoers.d/pwuser"

  # sshd: one ed25519 host key, written per host by the harness so every host has its own.
  rm -f "$root"/etc/ssh/ssh_host_*
  cat >"$root/etc/ssh/sshd_config.d/hostform-test.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
EOF

  # Static address from /etc/hostform-test/net, written per host (container: host0 on the bridge; VM: eth0).
  install -d "$root/etc/hostform-test"
  cat >"$root/etc/systemd/system/hostform-test-net.service" <<'EOF'
[Unit]
Description=hostform test host: static address
DefaultDependencies=no
Before=network-pre.target ssh.service firewalld.service
Wants=network-pre.target
ConditionPathExists=/etc/hostform-test/net

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=/etc/hostform-test/net
ExecStart=/usr/sbin/ip link set lo up
ExecStart=/usr/sbin/ip link set ${IFACE} up
ExecStart=/usr/sbin/ip address add ${ADDRESS} dev ${IFACE}

[Install]
WantedBy=sysinit.target
EOF
  "${in_root[@]}" systemctl enable hostform-test-net.service ssh.service firewalld.service
  # As on RHEL 9 with EPEL: fail2ban installed but not enabled; nftables is driven by firewalld.
  "${in_root[@]}" systemctl disable fail2ban.service nftables.service 2>/dev/null || true
  # NetworkManager and NFS are installed for the tests that start them: at boot NetworkManager would take
  # over host0 (the harness's static address) and nfs-server fails without the kernel's nfsd (containers).
  "${in_root[@]}" systemctl disable NetworkManager.service NetworkManager-wait-online.service \
    NetworkManager-dispatcher.service nfs-server.service nfs-client.target rpcbind.service rpcbind.socket \
    nfs-blkmap.service 2>/dev/null || true
  # Nothing to do on a disposable host, and they cost boot time.
  "${in_root[@]}" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
    e2scrub_reap.service systemd-timesyncd.service 2>/dev/null || true
  # podman's helpers for netavark; podman works without them and RHEL 9 does not start them either.
  "${in_root[@]}" systemctl disable netavark-dhcp-proxy.socket netavark-dhcp-proxy.service \
    netavark-firewalld-reload.service 2>/dev/null || true

  # dnf: releasever cannot be detected on a Debian userland; the only repository is the local one below.
  install -d "$root/etc/dnf/vars"
  echo 9 >"$root/etc/dnf/vars/releasever"
  install -d "$root/etc/yum.repos.d"
  rm -f "$root"/etc/yum.repos.d/*.repo
  install -d "$root/tmp/rpmbuild"
  cp "$here/rpms/hostform-test.spec" "$root/tmp/rpmbuild/"
  while read -r name version tool; do
    [[ -z $name || $name == \#* ]] && continue
    "${in_root[@]}" rpmbuild -bb --quiet --define '_topdir /tmp/rpmbuild' \
      --define "pkgname $name" --define "pkgversion $version" --define "tool $tool" \
      /tmp/rpmbuild/hostform-test.spec >/dev/null 2>&1
  done <"$here/rpms/packages.list"
  install -d "$root/srv/hostform-test-repo"
  cp "$root"/tmp/rpmbuild/RPMS/noarch/*.rpm "$root/srv/hostform-test-repo/"
  "${in_root[@]}" createrepo_c --quiet /srv/hostform-test-repo
  rm -rf "$root/tmp/rpmbuild"
  cat >"$root/etc/yum.repos.d/hostform-test.repo" <<'EOF'
[hostform-test]
name=hostform test packages (local)
baseurl=file:///srv/hostform-test-repo
enabled=1
gpgcheck=0
metadata_expire=never
EOF

  # podman: no pids controller on the test machine; /var/lib/containers is a plain directory per host
  # (the harness copies this one there), because podman's overlay driver refuses an overlayfs below it.
  install -d "$root/etc/containers/containers.conf.d"
  printf '[containers]\npids_limit = 0\n' >"$root/etc/containers/containers.conf.d/hostform-test.conf"
  local bb=$root/tmp/busybox-image
  install -d "$bb/bin"
  cp "$root/usr/bin/busybox" "$bb/bin/busybox"
  for applet in sh ls cat echo sleep true false httpd id env; do ln -s busybox "$bb/bin/$applet"; done
  # podman's layer unpacker remounts /, so the chroot's root must be a mount point of its own.
  tar -C "$bb" -c . | PODMAN_IGNORE_CGROUPSV1_WARNING=1 unshare --mount --propagation private sh -c \
    'mount --rbind "$1" "$1" && chroot "$1" podman import --quiet - localhost/busybox:latest' sh "$root" >/dev/null
  rm -rf "$bb"

  # SELinux (kernel side only in the VM): permissive by default; the VM may switch to enforcing.
  sed -i 's/^SELINUX=.*/SELINUX=permissive/; s/^SELINUXTYPE=.*/SELINUXTYPE=default/' "$root/etc/selinux/config"

  # A small initramfs for direct kernel boot in qemu: only the virtio disk and ext4 are needed.
  local kver
  kver=$(basename "$(ls -d "$root"/lib/modules/* | head -n1)")
  install -d "$root/tmp/initramfs-conf"
  cp -r "$root/etc/initramfs-tools/." "$root/tmp/initramfs-conf/"
  sed -i 's/^MODULES=.*/MODULES=list/; s/^COMPRESS=.*/COMPRESS=gzip/' "$root/tmp/initramfs-conf/initramfs.conf"
  printf '%s\n' virtio_pci virtio_blk virtio_net ext4 >"$root/tmp/initramfs-conf/modules"
  "${in_root[@]}" mkinitramfs -d /tmp/initramfs-conf -o "/boot/initrd.img-$kver" "$kver" 2>/dev/null
  rm -rf "$root/tmp/initramfs-conf"
  cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$out/initrd.img"

  # Each host gets its own machine-id from the harness.
  : >"$root/etc/machine-id"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  # Mark /etc and /var up to date with /usr, so no host runs ldconfig and friends at its first boot.
  "${in_root[@]}" ldconfig
  touch "$root/etc/.updated" "$root/var/.updated"
}

label() {
  local root=$1
  # Label at build time so the VM boots labelled without a relabel pass (setfiles works with SELinux off).
  chroot "$root" setfiles -F -e /proc -e /sys -e /dev \
    /etc/selinux/default/contexts/files/file_contexts / 2>/dev/null || {
    echo "build-image: setfiles failed" >&2
    return 1
  }
}

step() { echo "build-image: $(date +%T) $*"; }

main() {
  local out=$1
  step "mmdebstrap trixie into $out/rootfs"
  mkdir -p "$out"
  ssh-keygen -q -t ed25519 -N '' -C hostform-test-harness -f "$out/id_ed25519"

  local include
  include=$(grep -v '^#' "$here/packages.txt" | grep . | paste -sd, -)
  # INITRD=No: the kernel's postinst would build a large initramfs; customize() builds a small one.
  INITRD=No mmdebstrap --mode=root --variant=minbase --quiet \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    --aptopt='Acquire::Languages "none"' \
    --aptopt='Acquire::Retries "3"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --include="$include" \
    --customize-hook="\"$here/build-image.sh\" --customize \"\$1\" \"$out\"" \
    trixie "$out/rootfs" "deb $mirror trixie main"
  step "labelling for SELinux"
  label "$out/rootfs"
  step done
}

if [[ ${1:-} == --customize ]]; then
  customize "$2" "$3"
else
  main "$1"
fi
