#!/usr/bin/env bash
# Builds the filesystem layers of the site images (see images.ts and README.md beside this file).
#
#   build-layers.sh SPEC_DIR OUT_DIR
#
# SPEC_DIR/order lists the layers in build order, one `NAME PARENT` a line (PARENT `-` for the base).
# SPEC_DIR/NAME/ holds `packages` (one line, space-separated), `files/` (a tree copied into the layer),
# `setup.sh` (run as root in the layer's chroot) and `version-of` (a package whose version to record).
#
# Writes OUT_DIR/layers/NAME: for the base, a Debian trixie minbase root (mmdebstrap); for every other
# layer, only what it adds over its parents: the upper directory of an overlay mounted over them while
# apt-get installs the packages, with overlayfs' whiteouts turned into OCI's (.wh.NAME, .wh..wh..opq).
# OUT_DIR/versions/NAME holds the recorded package version. The caller (build.ts) runs this inside
# `unshare --mount`, so no mount it makes can outlive it, and packs the layers into OCI images.
set -euo pipefail

spec=$1 out=$2
mirror=${HOSTFORM_TEST_HOSTS_MIRROR:-http://deb.debian.org/debian}
step() { echo "build-layers: $(date +%T) $*"; }

mkdir -p "$out/layers" "$out/versions" "$out/work" "$out/apt/lists" "$out/apt/archives/partial"

build_base() {
  local root=$out/layers/base
  step "base: mmdebstrap trixie minbase"
  # The package lists stay (moved out below), so that later layers install without an apt-get update
  # each and all layers see the same versions.
  mmdebstrap --mode=root --variant=minbase --quiet \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    --aptopt='Acquire::Languages "none"' \
    --aptopt='Acquire::Retries "3"' \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --include="$(cat "$spec/base/packages" | tr ' ' ,)" \
    --skip=cleanup/apt/lists \
    trixie "$root" "deb $mirror trixie main"
  rm -rf "$out/apt/lists"
  mv "$root/var/lib/apt/lists" "$out/apt/lists"
  install -d "$root/var/lib/apt/lists/partial"
  # Files every dpkg run rewrites: absent from the base, so that a layer's run adds them and its clean-up
  # removes them without leaving whiteouts behind.
  rm -f "$root"/var/log/dpkg.log "$root"/var/log/apt/* "$root"/var/lib/dpkg/*-old "$root"/var/cache/debconf/*-old \
    "$root"/var/log/alternatives.log "$root"/var/cache/ldconfig/aux-cache
  : >"$root/etc/machine-id"
}

lowers() { # NAME: the lowerdir chain of a layer's parents, top first
  local name=$1 parent chain=
  while parent=$(awk -v n="$name" '$1 == n {print $2}' "$spec/order") && [[ $parent != - ]]; do
    chain+=${chain:+:}$out/layers/$parent
    name=$parent
  done
  echo "$chain"
}

build_layer() { # NAME
  local name=$1 upper=$out/layers/$1 work=$out/work/$1 merged=$out/work/$1.merged
  local packages
  packages=$(cat "$spec/$name/packages")
  step "$name: ${packages:-no packages}"
  mkdir -p "$upper" "$work" "$merged"
  # No redirect_dir or metacopy: every changed file and renamed directory is copied up whole, so the upper
  # directory alone is the layer.
  mount -t overlay overlay -o "lowerdir=$(lowers "$name"),upperdir=$upper,workdir=$work,redirect_dir=off,metacopy=off,index=off,xino=off" "$merged"
  mount --bind "$out/apt/lists" "$merged/var/lib/apt/lists"
  mount --bind "$out/apt/archives" "$merged/var/cache/apt/archives"
  mount -t proc proc "$merged/proc"
  mount -t tmpfs -o mode=755 tmpfs "$merged/dev"
  for dev in null zero random urandom; do
    touch "$merged/dev/$dev"
    mount --bind "/dev/$dev" "$merged/dev/$dev"
  done
  # Nothing a package installs may start a service in the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$merged/usr/sbin/policy-rc.d"
  chmod 755 "$merged/usr/sbin/policy-rc.d"
  if [[ -n $packages ]]; then
    # shellcheck disable=SC2086 # a list of package names
    DEBIAN_FRONTEND=noninteractive chroot "$merged" apt-get install -y -qq -o Dpkg::Use-Pty=0 $packages >"$out/work/$name.apt.log" 2>&1 || {
      tail -n 30 "$out/work/$name.apt.log" >&2
      return 1
    }
  fi
  if [[ -d $spec/$name/files ]]; then cp -R --preserve=mode "$spec/$name/files/." "$merged/"; fi
  if [[ -s $spec/$name/setup.sh ]]; then
    cp "$spec/$name/setup.sh" "$merged/tmp/hostform-setup.sh"
    chroot "$merged" sh -eu /tmp/hostform-setup.sh
    rm "$merged/tmp/hostform-setup.sh"
  fi
  if [[ -s $spec/$name/version-of ]]; then
    chroot "$merged" dpkg-query -W -f='${Version}' "$(cat "$spec/$name/version-of")" >"$out/versions/$name"
  fi
  rm -f "$merged/usr/sbin/policy-rc.d" "$merged"/var/log/dpkg.log "$merged"/var/log/apt/* "$merged"/var/lib/dpkg/*-old \
    "$merged"/var/cache/debconf/*-old "$merged"/var/log/alternatives.log "$merged"/var/cache/apt/*.bin \
    "$merged"/var/cache/ldconfig/aux-cache
  umount "$merged/dev/"{null,zero,random,urandom} "$merged/dev" "$merged/proc" \
    "$merged/var/cache/apt/archives" "$merged/var/lib/apt/lists" "$merged"
  rmdir "$merged"
  to_oci_whiteouts "$upper"
}

to_oci_whiteouts() { # UPPER
  local upper=$1 path dir
  # A deleted file or directory: overlayfs leaves a 0/0 character device; OCI wants an empty .wh.NAME.
  while IFS= read -r -d '' path; do
    rm "$path"
    touch "$(dirname "$path")/.wh.$(basename "$path")"
  done < <(find "$upper" -type c -print0)
  # A directory removed and made again hides everything below it: overlayfs marks it opaque.
  while IFS= read -r dir; do
    touch "$dir/.wh..wh..opq"
  done < <(getfattr --recursive --physical --no-dereference --absolute-names --name=trusted.overlay.opaque "$upper" 2>/dev/null |
    sed -n 's/^# file: //p')
}

while read -r name parent; do
  [[ -z $name ]] && continue
  if [[ $parent == - ]]; then build_base; else build_layer "$name"; fi
done <"$spec/order"
rm -rf "$out/work" "$out/apt"
step done
