/**
 * Root never writes, creates, removes or reads through a directory that
 * another user controls.
 *
 * A user who owns a directory can replace anything in it with a symlink at
 * any moment: `~/.config/systemd/user` → `/etc/systemd/system`. Root
 * following that link writes where the user pleases. So before root touches
 * a path, the host walks it from `/` the way the kernel resolves it (symlinks
 * followed) and stops at the first directory whose entries someone other
 * than root can change (the rule systemd's chase_symlinks() calls an "unsafe
 * transition"). From there on the work is done *as that user*: the kernel then
 * applies that user's own rights, and a planted link gains them nothing.
 *
 * A directory that group or others may write without the sticky bit is
 * refused outright (any of them could redirect the path). In a sticky shared
 * directory such as /tmp, an entry belongs to whoever owns it, and a missing
 * entry is refused (another user could create it first).
 *
 * The walk only reads (stat, readlink); it runs on the host, in the same
 * script as the work, so nothing can change between check and use except
 * what the chosen user could change anyway.
 */
import { named, sh, trusted, type ShellScript } from './quote.ts';

/**
 * Shell functions, defined once at the top of a script:
 *
 * `hf_controller PATH` prints `uid gid` of the user who controls where PATH
 * (absolute, or relative to the working directory) leads, or nothing when only root can change it (or when the script does
 * not run as root: the kernel already limits it to its own rights). It
 * fails, with the reason on stderr, when no single user controls it.
 *
 * Most paths lead through directories only root can change; \`hf_root_only
 * DIR\` proves that with one \`stat\` of every directory on the way (all
 * exist, none is a link, each is root's and no one else may write to it), so
 * the walk, one \`stat\` per step, runs only for the others. Anything unusual
 * (a link, \`..\`, a double slash, a missing directory, a shared one) takes the walk.
 *
 * `hf_as "$ctl" command...` runs the command as that user (its groups
 * included), or directly when `$ctl` is empty. Standard input passes through.
 */
export const PATH_GUARD: ShellScript = named('hostform path guard (lib/shell/path-guard.ts)', trusted(`hf_root_only() {
  hf_rest=\${1#/} hf_next=
  set -- /
  while [ -n "$hf_rest" ]; do
    hf_name=\${hf_rest%%/*}; hf_rest=\${hf_rest#"$hf_name"}; hf_rest=\${hf_rest#/}
    case $hf_name in ''|.|..) return 1 ;; esac
    hf_next=$hf_next/$hf_name; set -- "$@" "$hf_next"
  done
  hf_st=$(stat -c '%u:%a:%F' -- "$@" 2>/dev/null) || return 1
  for hf_st in $hf_st; do case $hf_st in 0:*[0145][0145]:directory) ;; *) return 1 ;; esac; done
}
hf_controller() {
  [ "$(id -u)" = 0 ] || return 0
  case $1 in /*) hf_root_only "$1" && return 0; hf_rest=$1 ;; *) hf_rest=$(pwd -P)/$1 ;; esac
  hf_dir=/ hf_hops=0
  while :; do
    hf_st=$(stat -c '%u %g %a' -- "$hf_dir") || return 1
    set -- $hf_st
    if [ "$1" != 0 ]; then echo "$1 $2"; return 0; fi
    hf_shared=0
    if [ $((0$3 & 01000)) != 0 ]; then [ $((0$3 & 022)) = 0 ] || hf_shared=1
    elif [ $((0$3 & 022)) != 0 ]; then
      echo "hostform: refusing to work as root through $hf_dir: users other than root may write to it (mode $3) and could redirect the path" >&2; return 1
    fi
    hf_rest=\${hf_rest#"\${hf_rest%%[!/]*}"}
    [ -n "$hf_rest" ] || return 0
    hf_name=\${hf_rest%%/*}
    hf_rest=\${hf_rest#"$hf_name"}
    case $hf_name in .) continue ;; ..) hf_dir=$(dirname -- "$hf_dir"); continue ;; esac
    hf_next=\${hf_dir%/}/$hf_name
    if [ -L "$hf_next" ]; then
      if [ "$hf_shared" = 1 ]; then
        hf_st=$(stat -c '%u %g' -- "$hf_next") || return 1
        set -- $hf_st
        if [ "$1" != 0 ]; then echo "$1 $2"; return 0; fi
      fi
      hf_hops=$((hf_hops + 1))
      [ "$hf_hops" -le 40 ] || { echo "hostform: too many levels of symbolic links in $hf_next" >&2; return 1; }
      hf_link=$(readlink -- "$hf_next") || return 1
      case $hf_link in /*) hf_dir=/ ;; esac
      hf_rest=$hf_link$hf_rest
    elif [ -d "$hf_next" ]; then
      hf_dir=$hf_next
    elif [ "$hf_shared" = 1 ] && [ ! -e "$hf_next" ]; then
      echo "hostform: refusing to create $hf_next as root: $hf_dir is shared by all users, who could create it first" >&2; return 1
    else
      return 0
    fi
  done
}
hf_as() {
  if [ -z "$1" ]; then shift; "$@"; return; fi
  hf_u=\${1% *} hf_g=\${1#* }; shift
  if getent passwd "$hf_u" >/dev/null; then setpriv --reuid="$hf_u" --regid="$(id -g -- "$hf_u")" --init-groups -- "$@"
  else setpriv --reuid="$hf_u" --regid="$hf_g" --clear-groups -- "$@"; fi
}
hf_who() { getent passwd "\${1% *}" | cut -d: -f1 | grep . || echo "uid \${1% *}"; }`));

/**
 * `script` run as whoever controls `dir` (see above), with `args` as its
 * `$1`, `$2`... The script is a separate `sh -c`, so it sees nothing of the
 * caller's variables; standard input reaches it.
 *
 * `owner`: the user the work leaves owning something. In a directory a user
 * controls, the work runs as that user, who can only leave their own files:
 * any other owner is refused up front, naming `what` and who controls `dir`.
 */
export function asControllerOf(dir: string, script: ShellScript, args: readonly string[] = [], options: { owner?: string; what?: string } = {}): ShellScript {
  const ownerCheck =
    options.owner !== undefined
      ? sh`
if [ -n "$hf_ctl" ] && [ "$(id -u -- ${options.owner} 2>/dev/null)" != "\${hf_ctl% *}" ]; then
  echo "hostform: refusing to "${options.what ?? 'work'}" owned by "${options.owner}": $(hf_who "$hf_ctl") controls "${dir}" and could redirect it, so hostform works there as that user, who can only own it themselves" >&2
  exit 1
fi`
      : sh``;
  return sh`${PATH_GUARD}
hf_ctl=$(hf_controller ${dir}) || exit 1${ownerCheck}
hf_as "$hf_ctl" sh -c ${script.text} sh ${args} || {
  hf_rc=$?
  [ -z "$hf_ctl" ] || echo "hostform: this ran as $(hf_who "$hf_ctl"), who controls "${dir}": root does not act through a directory another user can change (a link there may lead where they may not write)" >&2
  exit $hf_rc
}`;
}

/**
 * `script` run as root, but only when root alone controls `dir`: for tools
 * that must run as root and create things there themselves (useradd making
 * a home). Refused, naming `what` and who controls `dir`, otherwise.
 */
export function onlyWhereRootControls(dir: string, script: ShellScript, what: string): ShellScript {
  return sh`${PATH_GUARD}
hf_ctl=$(hf_controller ${dir}) || exit 1
if [ -n "$hf_ctl" ]; then
  echo "hostform: refusing to "${what}": $(hf_who "$hf_ctl") controls "${dir}" and could redirect it, and this must be done as root" >&2
  exit 1
fi
${script}`;
}
