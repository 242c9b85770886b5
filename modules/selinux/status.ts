import { Skip } from '../../lib/module/skip.ts';
import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';

/**
 * Whether SELinux runs on the host, as the first line of every probe says it.
 * The check lives inside each probe script (probes run together and cannot
 * depend on one another), so a disabled host never runs semanage at all.
 */
export type SelinuxStatus =
  | { readonly state: 'enabled' }
  | { readonly state: 'disabled'; readonly reason: string };

const MARK = 'selinux:';

/**
 * A probe that prints the status line, then, only when SELinux is enabled and
 * semanage is installed, runs `body`.
 */
export function guardedProbe(body: ShellScript): ShellScript {
  return sh`if ! command -v selinuxenabled >/dev/null 2>&1; then echo 'selinux: no-tools'
elif ! selinuxenabled; then echo 'selinux: disabled'
elif ! command -v semanage >/dev/null 2>&1; then echo 'selinux: no-semanage'
else echo 'selinux: enabled'
${body}
fi`;
}

/** Split a guarded probe's output into the status and what the body printed. */
export function parseGuarded(result: ExecResult, what: string): { status: SelinuxStatus; body: string } {
  const newline = result.stdout.indexOf('\n');
  const first = (newline < 0 ? result.stdout : result.stdout.slice(0, newline)).trim();
  const body = newline < 0 ? '' : result.stdout.slice(newline + 1);
  if (!first.startsWith(MARK)) {
    throw new Error(`cannot read ${what}: ${result.stderr.trim() || `unexpected output ${JSON.stringify(result.stdout.slice(0, 120))}`}`);
  }
  const word = first.slice(MARK.length).trim();
  switch (word) {
    case 'enabled':
      if (result.code !== 0) {
        const reason = result.stderr.trim() || `exit code ${result.code}`;
        const hint = /not managed|cannot be accessed|denied|root/i.test(reason) ? ' (semanage needs root: set become: true)' : '';
        throw new Error(`cannot read ${what}: ${reason}${hint}`);
      }
      return { status: { state: 'enabled' }, body };
    case 'disabled':
      return { status: { state: 'disabled', reason: 'selinuxenabled says it is off (getenforce: Disabled)' }, body: '' };
    case 'no-tools':
      return { status: { state: 'disabled', reason: 'the SELinux tools are not installed (no selinuxenabled)' }, body: '' };
    case 'no-semanage':
      return { status: { state: 'disabled', reason: 'semanage is not installed (package policycoreutils-python-utils)' }, body: '' };
    default:
      throw new Error(`cannot read ${what}: unexpected status ${JSON.stringify(word)}`);
  }
}

/**
 * Pure, for plan: carry on when SELinux is enabled; otherwise skip the task
 * with a note, or fail when the task says SELinux is required.
 */
export function requireEnabled(status: SelinuxStatus, required: boolean): void {
  if (status.state === 'disabled') unavailable(status.reason, required);
}

/** Skip the task ("SELinux disabled: <reason>"), or fail it when it is required. */
export function unavailable(reason: string, required: boolean): never {
  if (required) {
    throw new Error(
      `SELinux is required by this task (required: true) but is disabled on this host: ${reason}. ` +
        `Enable it (selinux.mode({ mode: 'permissive' }) and a reboot), or drop required: true to skip the task on such hosts`,
    );
  }
  throw new Skip(`SELinux disabled: ${reason}`);
}
