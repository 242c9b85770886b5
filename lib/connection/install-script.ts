/**
 * The one command that writes a file atomically, its bytes arriving on
 * standard input: a temporary file next to the target, its mode, owner,
 * group (and SELinux label), then a rename over the target. Pure, so its
 * text is unit-tested; both connections use it.
 *
 * Run as root, it writes as whoever controls the target's directory (see
 * lib/shell/path-guard.ts): into a user's directory it writes as that user,
 * and refuses a file there owned by anyone else.
 */
import { posix } from 'node:path';
import { asControllerOf } from '../shell/path-guard.ts';
import { trusted, type ShellScript } from '../shell/quote.ts';

export interface InstallPlan {
  readonly target: string;
  /** How many bytes standard input carries: fewer means the connection broke on the way, and nothing is installed. */
  readonly size: number;
  readonly mode?: number;
  readonly owner?: string;
  readonly group?: string;
}

/** Mode of a new file when none is asked for; an existing target keeps its own. */
export const DEFAULT_FILE_MODE = 0o644;

/** Temporary files are named `.<name>.hostform-XXXXXX`: dot-prefixed so globs like `*.conf` in config directories skip them. */
export const TEMPORARY_SUFFIX = '.hostform-';

/**
 * Runs as the writer, with `$1` target, `$2` mode (octal, or empty: keep the
 * target's, else the default), `$3` owner, `$4` group (empty: keep the
 * target's when root, else the writer's own), `$5` the content's size.
 *
 * The size is checked before the rename: when the connection dies while the
 * bytes travel (a killed sshd or control process), `cat` sees the end of its
 * input early, and a file cut short must never replace the old one.
 */
const WRITE = trusted(`set -e
target=$1
if [ -d "$target" ]; then echo "hostform: $target is a directory, not a file" >&2; exit 1; fi
tmp=$(mktemp -- "$(dirname -- "$target")/.$(basename -- "$target")${TEMPORARY_SUFFIX}XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
cat >"$tmp"
got=$(stat -c %s -- "$tmp")
if [ "$got" != "$5" ]; then echo "hostform: the content of $target arrived incomplete: $got of $5 bytes; nothing was installed" >&2; exit 1; fi
if [ -n "$2" ]; then chmod "$2" "$tmp"
elif [ -e "$target" ]; then chmod "$(stat -L -c %a -- "$target")" "$tmp"
else chmod ${DEFAULT_FILE_MODE.toString(8).padStart(4, '0')} "$tmp"; fi
if [ -n "$3$4" ]; then chown "$3\${4:+:$4}" "$tmp"
elif [ -e "$target" ] && [ "$(id -u)" = 0 ]; then chown "$(stat -L -c %u:%g -- "$target")" "$tmp"; fi
if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then
  if [ -e "$target" ]; then chcon --reference="$target" "$tmp"; existed=1; else existed=0; fi
  mv -fT -- "$tmp" "$target"
  if [ "$existed" = 0 ]; then restorecon -- "$target"; fi
else
  mv -fT -- "$tmp" "$target"
fi
trap - EXIT`);

export function installScript(plan: InstallPlan): ShellScript {
  const mode = plan.mode !== undefined ? plan.mode.toString(8).padStart(4, '0') : '';
  return asControllerOf(posix.dirname(plan.target), WRITE, [plan.target, mode, plan.owner ?? '', plan.group ?? '', String(plan.size)], {
    ...(plan.owner !== undefined ? { owner: plan.owner } : {}),
    what: `write ${plan.target}`,
  });
}
