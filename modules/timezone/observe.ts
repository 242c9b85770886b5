import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { probeFailure } from '../shared/become.ts';

export const ZONEINFO = '/usr/share/zoneinfo';

export interface ObservedTimezone {
  /** The zone /etc/localtime links to ('' when it is no link into the zone database: a copy, or missing). */
  readonly current: string;
  /** What /etc/localtime is, for the report when it is no link: `missing`, or its link target, or `a regular file`. */
  readonly localtime: string;
  /** The wanted zone is a compiled zone file (TZif) in the host's database. */
  readonly known: boolean;
  readonly timedatectl: boolean;
}

/**
 * What timedated itself reads: the target of the /etc/localtime link, and
 * whether the wanted zone's file exists and starts with TZif.
 */
export function timezoneProbe(zone: string): ShellScript {
  return sh`if [ -L /etc/localtime ]; then echo "link=$(readlink /etc/localtime)"
elif [ -e /etc/localtime ]; then echo 'link=a regular file'
else echo link=missing; fi
f=${`${ZONEINFO}/${zone}`}
if [ -f "$f" ] && [ "$(head -c 4 -- "$f")" = TZif ]; then echo known=yes; else echo known=no; fi
if command -v timedatectl >/dev/null 2>&1; then echo tool=yes; else echo tool=no; fi`;
}

export function parseTimezone(result: ExecResult): ObservedTimezone {
  if (result.code !== 0) throw probeFailure('cannot read the time zone', result.stderr.trim() || `exit code ${result.code}`);
  const fields = new Map(result.stdout.split('\n').flatMap((line) => (line.includes('=') ? [[line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const] : [])));
  const link = fields.get('link');
  if (link === undefined || !fields.has('known')) throw new Error(`unexpected output of the time zone probe: ${JSON.stringify(result.stdout.slice(0, 200))}`);
  return { current: zoneOf(link), localtime: link, known: fields.get('known') === 'yes', timedatectl: fields.get('tool') === 'yes' };
}

/** `../usr/share/zoneinfo/Europe/Berlin` or `/usr/share/zoneinfo/Europe/Berlin` → `Europe/Berlin`. */
export function zoneOf(link: string): string {
  const at = link.indexOf('/zoneinfo/');
  return at < 0 ? '' : link.slice(at + '/zoneinfo/'.length);
}
