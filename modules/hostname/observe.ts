import type { ExecResult } from '../../lib/connection/types.ts';
import { trusted } from '../../lib/shell/quote.ts';
import { probeFailure } from '../shared/become.ts';

export interface ObservedHostname {
  /** The first name in /etc/hostname ('' when it has none), as hostnamed reads it. */
  readonly static: string;
  /** The kernel's name now (`uname -n`). */
  readonly transient: string;
  readonly hostnamectl: boolean;
}

/** /etc/hostname's first line that is not blank or a comment, then the kernel's name. */
export const hostnameProbe = trusted(`printf 'static='
if [ -r /etc/hostname ]; then sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^#/d' -e '/^$/d' /etc/hostname | head -n 1; else echo; fi
printf 'transient=%s\\n' "$(uname -n)"
if command -v hostnamectl >/dev/null 2>&1; then echo tool=yes; else echo tool=no; fi`);

export function parseHostname(result: ExecResult): ObservedHostname {
  if (result.code !== 0) throw probeFailure('cannot read the host name', result.stderr.trim() || `exit code ${result.code}`);
  const fields = new Map(result.stdout.split('\n').flatMap((line) => (line.includes('=') ? [[line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const] : [])));
  const transient = fields.get('transient');
  if (transient === undefined || !fields.has('static')) throw new Error(`unexpected output of the host name probe: ${JSON.stringify(result.stdout.slice(0, 200))}`);
  return { static: fields.get('static') ?? '', transient, hostnamectl: fields.get('tool') === 'yes' };
}
