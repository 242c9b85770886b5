#!/usr/bin/env bash
# Pushes the OCI layout's images into a registry storage directory, through a real registry.
#
#   push-images.sh STORAGE PORT LAYOUT REF=NAME:TAG...
#
# Starts docker-registry on 127.0.0.1:PORT with STORAGE as its filesystem root, copies each image of the
# OCI layout (ref.name REF) to NAME:TAG with skopeo, digests preserved, and stops the registry. Blobs the
# images share (the Debian base, the Python layer) are stored once. The running site registry later serves
# this storage (site-registry.ts); nothing is pushed at test time.
set -euo pipefail
storage=$1 port=$2 layout=$3
shift 3

config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat >"$config" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $storage
http:
  addr: 127.0.0.1:$port
EOF
# Its log goes nowhere: every blob skopeo checks before uploading it is logged as an error ("blob unknown").
docker-registry serve "$config" >/dev/null 2>&1 &
registry=$!
trap 'kill "$registry" 2>/dev/null; wait "$registry" 2>/dev/null || true; rm -f "$config"' EXIT
for ((i = 0; i < 100; i++)); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && break
  kill -0 "$registry" || { echo "push-images: docker-registry exited" >&2; exit 1; }
  sleep 0.1
done

for pair in "$@"; do
  ref=${pair%%=*} target=${pair#*=}
  skopeo copy --quiet --preserve-digests --dest-tls-verify=false "oci:$layout:$ref" "docker://127.0.0.1:$port/$target"
done
