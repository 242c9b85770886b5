#!/usr/bin/env bash
# Makes this machine ready for the test suite, quickly when it already is:
# the OpenSSH server and sudo for the engine's SSH tests, nix-instantiate
# (Debian's nix-bin) and xz (the NixOS tree in test/support/nixos-eval is a
# .tar.xz) to evaluate rendered NixOS modules, pass (with gnupg) and age for
# the secret sources' tests, the test-host
# harness's own packages, the el9-like test-host image and the home-server
# site's container images (each built once, then reused from its cache
# directory).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in openssh-server openssh-client sudo nix-bin xz-utils pass age; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test setup: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "test setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package's own sshd is not what the tests use; each test starts its own on a free port.
  systemctl disable --now ssh 2>/dev/null || true
fi

bash test/hosts/install-deps.sh
npx tsx test/hosts/prepare.ts
npx tsx test/hosts/site-images/prepare.ts
