import type { ExecResult } from '../../lib/connection/types.ts';
import { trusted } from '../../lib/shell/quote.ts';
import type { ObservedPath } from '../file/observe.ts';
import { probeFailure } from '../shared/become.ts';

/** visudo lives in /usr/sbin, which a non-login shell's PATH may lack. */
export const SBIN_PATH = trusted('PATH="$PATH:/usr/sbin:/sbin"');

/** `missing`: no visudo (sudo not installed); `noinclude`: /etc/sudoers does not read /etc/sudoers.d. */
export type SudoSetup = 'missing' | 'include' | 'noinclude';

/** The same script for every sudoers task, so it runs once per batch. */
export const setupProbe = trusted(`${SBIN_PATH.text}
if ! command -v visudo >/dev/null 2>&1; then echo missing
elif grep -Eq '^[[:space:]]*[#@]includedir[[:space:]]+/etc/sudoers\\.d/?[[:space:]]*$' /etc/sudoers; then echo include
else echo noinclude; fi`);

export function parseSetup(result: ExecResult): SudoSetup {
  const word = result.stdout.trim();
  if (result.code === 0 && (word === 'missing' || word === 'include' || word === 'noinclude')) return word;
  throw probeFailure('cannot read /etc/sudoers', result.stderr.trim() || `unexpected output ${JSON.stringify(result.stdout.slice(0, 200))}`);
}

export interface ObservedSudoers {
  readonly file: ObservedPath;
  readonly setup: SudoSetup;
}
