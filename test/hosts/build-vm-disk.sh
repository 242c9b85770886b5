#!/usr/bin/env bash
# build-vm-disk.sh IMAGE_DIR
# Makes IMAGE_DIR/vm/disk.raw, the base disk of the el9-selinux VM: the image's (already SELinux-labelled)
# rootfs plus the VM's own host key, address, name and machine-id, written by mkfs.ext4 -d without any
# loop mount. Runs in a private mount namespace (the caller uses unshare), so its overlay never leaks.
set -euo pipefail
image=$1
vm=$image/vm.building
rm -rf --one-file-system "$vm"
mkdir -p "$vm/upper/etc/ssh" "$vm/upper/etc/hostform-test" "$vm/work" "$vm/merged"

ssh-keygen -q -t ed25519 -N '' -C hf-vm -f "$vm/upper/etc/ssh/ssh_host_ed25519_key"
# User-mode networking: the guest is 10.0.2.15 behind qemu's loopback port forward; restrict=on keeps it
# from reaching anything else.
printf 'IFACE=eth0\nADDRESS=10.0.2.15/24\n' >"$vm/upper/etc/hostform-test/net"
echo hf-vm >"$vm/upper/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\thf-vm\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$vm/upper/etc/hosts"
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$vm/upper/etc/machine-id"
echo >>"$vm/upper/etc/machine-id"

mount -t overlay overlay -o "lowerdir=$image/rootfs,upperdir=$vm/upper,workdir=$vm/work" "$vm/merged"
# The SELinux tests do not need firewalld, and under TCG it is the slowest unit of the boot by far;
# tests that want it start it. (In enforcing mode Debian's policy blocks its start-up check anyway.)
rm -f "$vm/merged/etc/systemd/system/multi-user.target.wants/firewalld.service" \
  "$vm/merged/etc/systemd/system/dbus-org.fedoraproject.FirewallD1.service"
chroot "$vm/merged" setfiles -F /etc/selinux/default/contexts/files/file_contexts \
  /etc/ssh /etc/hostform-test /etc/hostname /etc/hosts /etc/machine-id
# Room for dnf, podman and the tests' own files; the file is sparse.
mkfs.ext4 -q -F -L hf-root -d "$vm/merged" "$vm/disk.raw" 4G
umount "$vm/merged"

install -d "$image/vm"
mv "$vm/disk.raw" "$image/vm/disk.raw"
cp "$vm/upper/etc/ssh/ssh_host_ed25519_key.pub" "$image/vm/host_key.pub"
rm -rf --one-file-system "$vm"
touch "$image/vm/ready"
