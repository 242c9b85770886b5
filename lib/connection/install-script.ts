/**
 * The one command that finishes an atomic file write: give the uploaded
 * temporary file its mode, owner, group (and SELinux label), then rename it
 * over the target. Pure, so its text is unit-tested; both connections use it.
 */
import { posix } from 'node:path';
import { sh, trusted, type ShellScript } from '../shell/quote.ts';

export interface InstallPlan {
  /** The uploaded file. */
  readonly source: string;
  readonly target: string;
  /**
   * True when the source is not in the target's directory (a private staging
   * file under /tmp, uploaded by a user who cannot write the target's
   * directory): copy it into a fresh temporary file next to the target first,
   * since only a rename within one directory is atomic.
   */
  readonly copy: boolean;
  readonly mode?: number;
  readonly owner?: string;
  readonly group?: string;
}

/** Mode of a new file when none is asked for; an existing target keeps its own. */
export const DEFAULT_FILE_MODE = 0o644;

/** A temporary name in `dir`; dot-prefixed so globs like `*.conf` in config directories skip it. */
export function temporaryName(dir: string, target: string, random: string): string {
  return posix.join(dir, `.${posix.basename(target)}.hostform-${random}`);
}

export function installScript(plan: InstallPlan): ShellScript {
  const stage = plan.copy
    ? sh`tmp=$(mktemp ${temporaryName(posix.dirname(plan.target), plan.target, 'XXXXXX')})
cat -- "$src" > "$tmp"`
    : trusted('tmp=$src');
  const mode =
    plan.mode !== undefined
      ? sh`chmod ${plan.mode.toString(8).padStart(4, '0')} "$tmp"`
      : sh`if [ -e "$target" ]; then chmod "$(stat -L -c %a -- "$target")" "$tmp"; else chmod ${DEFAULT_FILE_MODE.toString(8).padStart(4, '0')} "$tmp"; fi`;
  const ownership = plan.owner !== undefined || plan.group !== undefined;
  const owner = ownership
    ? sh`chown ${`${plan.owner ?? ''}${plan.group !== undefined ? `:${plan.group}` : ''}`} "$tmp"`
    : // Only root can hand a file to another user; anyone else writes it as themselves, like an editor would.
      trusted(`if [ -e "$target" ] && [ "$(id -u)" = 0 ]; then chown "$(stat -L -c %u:%g -- "$target")" "$tmp"; fi`);
  return sh`set -e
src=${plan.source}
target=${plan.target}
trap 'rm -f -- "$src" "\${tmp:-}"' EXIT
if [ -d "$target" ]; then echo "hostform: $target is a directory, not a file" >&2; exit 1; fi
${stage}
${mode}
${owner}
if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then
  if [ -e "$target" ]; then chcon --reference="$target" "$tmp"; existed=1; else existed=0; fi
  mv -f "$tmp" "$target"
  if [ "$existed" = 0 ]; then restorecon "$target"; fi
else
  mv -f "$tmp" "$target"
fi`;
}
