#!/usr/bin/env bash
# launch.sh CGROUP -- COMMAND...
# Moves itself into a fresh cgroup named CGROUP (in the cgroup2 hierarchy, and in the named systemd v1
# hierarchy when the machine has one) and execs COMMAND. One cgroup per host is what lets
# `systemd-nspawn --keep-unit` run several containers side by side, and what lets teardown kill a host
# and everything under it at once (cgroup.kill), even after the process that started it is gone.
set -euo pipefail
name=$1
shift
[[ $1 == -- ]] && shift

if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then v2=/sys/fs/cgroup; else v2=/sys/fs/cgroup/unified; fi
mkdir "$v2/$name"
echo $$ >"$v2/$name/cgroup.procs"
if [[ -e /sys/fs/cgroup/systemd/cgroup.procs && ! -e /sys/fs/cgroup/systemd/cgroup.controllers ]]; then
  mkdir -p "/sys/fs/cgroup/systemd/$name"
  echo $$ >"/sys/fs/cgroup/systemd/$name/cgroup.procs"
fi
exec "$@"
