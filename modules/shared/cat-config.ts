import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { probeFailure } from './become.ts';

/** One file systemd reads for a configuration, with its text ('' when masked or empty). */
export interface ConfigFile {
  readonly path: string;
  readonly content: string;
}

/**
 * `systemd-analyze cat-config`: the files systemd itself reads for a
 * configuration (`sysctl.d`, `systemd/journald.conf`), main file first, then
 * the drop-ins in the order it applies them, each under a `# <path>` line.
 * The same script for every task asking about one configuration, so a batch
 * runs it once.
 */
export function catConfigProbe(config: string): ShellScript {
  return sh`command -v systemd-analyze >/dev/null 2>&1 || { echo 'systemd-analyze is not installed: it is part of systemd' >&2; exit 1; }
systemd-analyze --no-pager cat-config ${config}`;
}

/**
 * The files of `cat-config`'s output, in its order. A file's heading is a
 * `# <path>` line at the start or after a blank line naming a path that
 * `isConfigPath` accepts, so a comment inside a file is not taken for one
 * unless it names such a file after a blank line.
 */
export function parseCatConfig(what: string, result: ExecResult, isConfigPath: (path: string) => boolean): ConfigFile[] {
  if (result.code !== 0) throw probeFailure(`cannot list the files of ${what}`, result.stderr.trim() || `exit code ${result.code}`);
  const files: { path: string; lines: string[] }[] = [];
  let previous = '';
  for (const line of result.stdout.split('\n')) {
    const heading = /^# (\/\S+)$/.exec(line)?.[1];
    if (heading !== undefined && previous === '' && isConfigPath(heading)) files.push({ path: heading, lines: [] });
    else files.at(-1)?.lines.push(line);
    previous = line;
  }
  return files.map((f) => ({ path: f.path, content: f.lines.join('\n') }));
}
