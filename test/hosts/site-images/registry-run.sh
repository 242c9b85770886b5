#!/usr/bin/env bash
# registry-run.sh DIR STORAGE
# Runs the site registry inside its own mount namespace (launch.sh … unshare --mount): the cached storage
# of the site images (STORAGE, never written) is the lower layer of an overlay whose upper layer lives in
# DIR and goes with the registry, so a test may push (a new tag for podman auto-update, say) without
# changing the cache other test runs use.
set -euo pipefail
dir=$1 storage=$2
mount -t overlay overlay -o "lowerdir=$storage,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged"
exec docker-registry serve "$dir/config.yml"
