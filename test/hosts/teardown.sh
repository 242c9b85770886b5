#!/usr/bin/env bash
# teardown.sh HOSTS_DIR release PID START NAME...   drop one process's use of these hosts
# teardown.sh HOSTS_DIR sweep                        tear down hosts whose users are all gone
#
# Run under the run lock (flock). A host is torn down when no live process uses it any more: its users
# are the files HOSTS_DIR/NAME/users/PID-START (the start time tells a live owner from a reused pid).
# Tearing down kills every process in the host's cgroup at once (cgroup.kill), which ends nspawn or qemu
# and everything inside; the host's mounts lived in a private mount namespace and go with them.
# When no host is left, the bridge goes too. Synchronous and shell-only so that exit handlers can run it.
set -uo pipefail
hosts_dir=$1 action=$2
shift 2
readonly bridge=hfbr0 prefix=hostform-test-

if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then v2=/sys/fs/cgroup; else v2=/sys/fs/cgroup/unified; fi
v1=/sys/fs/cgroup/systemd
[[ -e $v1/cgroup.procs && ! -e $v1/cgroup.controllers ]] || v1=

start_time() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

alive() { # PID-START
  local pid=${1%%-*} start=${1#*-}
  [[ -n $pid && $(start_time "$pid") == "$start" ]]
}

kill_cgroups() { # NAME
  local dirs=() d i pids
  for d in "$v2/$prefix$1" ${v1:+"$v1/$prefix$1"}; do [[ -d $d ]] && dirs+=("$d"); done
  ((${#dirs[@]})) || return 0
  for ((i = 0; i < 500; i++)); do
    pids=$(find "${dirs[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null)
    [[ -z $pids ]] && break
    [[ -e $v2/$prefix$1/cgroup.kill ]] && echo 1 >"$v2/$prefix$1/cgroup.kill"
    kill -9 $pids 2>/dev/null
    sleep 0.02
  done
  for ((i = 0; i < 250; i++)); do
    find "${dirs[@]}" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d ${dirs[0]} || ( ${#dirs[@]} -gt 1 && -d ${dirs[1]} ) ]] || return 0
    sleep 0.02
  done
  echo "teardown: cgroups of $1 could not be removed" >&2
  return 1
}

remove_dir() { # DIR: never cross into another file system, unmount anything left first
  local mp
  [[ -e $1 ]] || return 0
  while read -r mp; do umount --lazy "$mp" 2>/dev/null; done < <(awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
  rm -rf --one-file-system "$1"
}

remove_veth() { # NAME: nspawn's end of the host's veth pair (vb-NAME, cut to 15 characters) outlives the
  # container for a moment; a host booted at once under the same name would fail with "File exists".
  local veth="vb-$1" i
  veth=${veth:0:15}
  [[ -e /sys/class/net/$veth ]] || return 0
  ip link delete "$veth" 2>/dev/null
  for ((i = 0; i < 250; i++)); do
    [[ -e /sys/class/net/$veth ]] || return 0
    sleep 0.02
  done
  echo "teardown: network interface $veth of $1 could not be removed" >&2
  return 1
}

teardown_host() { # NAME
  kill_cgroups "$1"
  remove_veth "$1"
  remove_dir "$hosts_dir/$1"
}

prune_users() { # NAME: drop dead users; succeed when a live one is left
  local f live=1
  for f in "$hosts_dir/$1/users"/*; do
    [[ -e $f ]] || continue
    if alive "$(basename "$f")"; then live=0; else rm -f "$f"; fi
  done
  return $live
}

case $action in
  release)
    pid=$1 start=$2
    shift 2
    for name in "$@"; do
      rm -f "$hosts_dir/$name/users/$pid-$start"
      prune_users "$name" || teardown_host "$name"
    done
    ;;
  sweep)
    if [[ -d $hosts_dir ]]; then
      for dir in "$hosts_dir"/*; do
        [[ -d $dir ]] || continue
        prune_users "$(basename "$dir")" || teardown_host "$(basename "$dir")"
      done
    fi
    # Cgroups whose host directory is gone (a run killed half way through a teardown).
    for cg in "$v2/$prefix"* ${v1:+"$v1/$prefix"*}; do
      [[ -d $cg ]] || continue
      name=${cg##*/$prefix}
      [[ -d $hosts_dir/$name ]] || kill_cgroups "$name"
    done
    ;;
  *)
    echo "teardown: unknown action $action" >&2
    exit 2
    ;;
esac

if [[ -z $(ls -A "$hosts_dir" 2>/dev/null) ]] && ip link show "$bridge" >/dev/null 2>&1; then
  ip link delete "$bridge"
fi
exit 0
