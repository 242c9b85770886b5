#!/usr/bin/env bash
# container-run.sh HOST_DIR ROOTFS NAME BRIDGE
# Runs inside its own mount namespace (launch.sh … unshare --mount): the host's overlayfs exists only
# there, so it disappears with the container and can never be left mounted on the machine.
set -euo pipefail
dir=$1 rootfs=$2 name=$3 bridge=$4

mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged"
# The machine runs no systemd (hence --register=no --keep-unit); the container gets a cgroup2 tree of its own.
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
exec systemd-nspawn --quiet --boot --register=no --keep-unit --console=passive \
  --machine="$name" --directory="$dir/merged" --network-bridge="$bridge" \
  --bind="$dir/containers:/var/lib/containers" \
  --system-call-filter="add_key keyctl request_key bpf"
