import type { ExecResult } from '../../lib/connection/types.ts';
import { trusted } from '../../lib/shell/quote.ts';
import type { ObservedPath } from '../file/observe.ts';
import type { DaemonRead } from '../shared/daemon.ts';

/** sshd's unit: sshd.service on EL, ssh.service (with sshd.service an alias) on Debian. */
export const SSHD_UNITS = ['sshd.service', 'ssh.service'] as const;

/** sshd lives in /usr/sbin, which a non-login shell's PATH may lack. */
export const SBIN_PATH = trusted('PATH="$PATH:/usr/sbin:/sbin"');

export type SshdSetup = 'missing' | 'include' | 'noinclude';

/**
 * Whether sshd is installed and its main file reads the drop-in directory;
 * the same script for every sshd.config task, so it runs once per batch.
 */
export const setupProbe = trusted(`${SBIN_PATH.text}
if ! command -v sshd >/dev/null 2>&1; then echo missing
elif grep -Eiq '^[[:space:]]*Include[[:space:]]+(/etc/ssh/)?sshd_config\\.d/\\*\\.conf' /etc/ssh/sshd_config; then echo include
else echo noinclude; fi`);

export function parseSetup(result: ExecResult): SshdSetup {
  const word = result.stdout.trim();
  if (word === 'missing' || word === 'include' || word === 'noinclude') return word;
  throw new Error(`unexpected output from the sshd probe: ${JSON.stringify(result.stdout.slice(0, 200))} ${result.stderr.trim()}`);
}

/** A task's probes: the drop-in, sshd's setup, and whether the running sshd has read the drop-in. */
export interface ObservedDropIn {
  readonly file: ObservedPath;
  readonly setup: SshdSetup;
  readonly daemon: DaemonRead;
}
