/**
 * What the user and group probes share: reading getent lines, and the rule
 * that changing accounts needs root.
 */
import { sh, type ShellScript } from '../../lib/shell/quote.ts';

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly comment: string;
  readonly home: string;
  readonly shell: string;
}

export function parseGroupLine(line: string): GroupEntry | undefined {
  const [name, , gid, members = ''] = line.split(':');
  if (!name || gid === undefined || !/^\d+$/.test(gid)) return undefined;
  return { name, gid: Number(gid), members: members.split(',').filter(Boolean) };
}

export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const [name, , uid, gid, comment = '', home = '', shell = ''] = line.split(':');
  if (!name || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(gid ?? '')) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), comment, home, shell };
}

/** First probe line: whether the probe ran as root, which reading /etc/shadow and changing accounts need. */
export const whoami: ShellScript = sh`if [ "$(id -u)" = 0 ]; then echo root; else echo user; fi`;

/** Tagged probe lines (`tag rest...`) by tag, in order. */
export function linesByTag(stdout: string): Map<string, string[]> {
  const tagged = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    const tag = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    tagged.set(tag, [...(tagged.get(tag) ?? []), rest]);
  }
  return tagged;
}

export function rootNeeded(what: string): Error {
  return new Error(`${what} needs root: set become: true on the task or the play (or connect as root)`);
}

/** A failed probe: its stderr, and what to do about it. */
export function probeFailed(what: string, result: { code: number; stderr: string }): Error {
  return new Error(`cannot read ${what}: ${result.stderr.trim() || `exit code ${result.code}`} (the probe needs getent, awk and coreutils on the host)`);
}
