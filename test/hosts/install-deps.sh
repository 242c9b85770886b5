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
  docker-registry       # the site images' local OCI registry on the test bridge (site-registry.ts)
  skopeo                # pushes the site images into it
  openssl               # the Traefik stand-in's default self-signed certificate
  attr                  # getfattr: opaque directories in overlayfs upper layers become OCI whiteouts
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$p")
done

# promtool and amtool come from Debian trixie, the release the site images are built from, so that the
# validators are the same versions as the Prometheus and Alertmanager the images run (bookworm's are
# 2.42 and 0.25). Go binaries that need only libc6 >= 2.34: they run on this bookworm machine. They are
# unpacked under the harness cache, not installed: nothing of trixie enters this machine's dpkg database.
cache=${HOSTFORM_TEST_HOSTS_CACHE:-/var/cache/hostform-test-hosts}
mirror=${HOSTFORM_TEST_HOSTS_MIRROR:-http://deb.debian.org/debian}
tool_packages=(promtool prometheus-alertmanager)
tools=$cache/tools/trixie
trixie_tools() {
  [[ $(cat "$tools/ready" 2>/dev/null) == "${tool_packages[*]}" ]] && return 0
  echo "install-deps: unpacking ${tool_packages[*]} from Debian trixie into $tools"
  local apt=$cache/tools/apt
  rm -rf "$tools" "$apt"
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$tools"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt" -o "Dir::Cache::archives=$apt/archives"
    -o Dir::State::status=/dev/null -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o Acquire::Languages=none -o Acquire::Retries=3 -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  (cd "$apt/archives" && apt-get "${opts[@]}" download -qq "${tool_packages[@]}")
  for deb in "$apt"/archives/*.deb; do dpkg-deb -x "$deb" "$tools"; done
  "$tools/usr/bin/promtool" --version >/dev/null
  "$tools/usr/bin/amtool" --version >/dev/null
  rm -rf "$apt"
  echo "${tool_packages[*]}" >"$tools/ready"
}

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  trixie_tools
  exit 0
fi

if [[ $(id -u) != 0 ]]; then
  echo "install-deps: missing ${missing[*]} and not root; install them with apt-get" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# docker-registry's package starts a registry on :5000 of every address when it can; the harness runs its
# own, bound to the bridge only. A policy-rc.d that says "no" keeps the package's from starting.
policy=/usr/sbin/policy-rc.d
own_policy=
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[[ -n $own_policy ]] && rm -f "$policy"
trixie_tools
echo "install-deps: done"
