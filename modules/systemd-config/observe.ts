import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import type { ObservedPath } from '../file/observe.ts';
import { probeFailure } from '../shared/become.ts';
import { catConfigProbe, parseCatConfig, type ConfigFile } from '../shared/cat-config.ts';
import { COMPONENTS, type SystemdComponent } from './params.ts';

export interface ObservedSystemdConfig {
  readonly file: ObservedPath;
  /** The files systemd reads for the component, in its order (systemd-analyze cat-config). */
  readonly config: readonly ConfigFile[];
  /** The component's service: whether it is installed and running (always for system, the manager itself). */
  readonly unit: { readonly installed: boolean; readonly running: boolean };
}

const DIRS = ['/etc/systemd', '/run/systemd', '/usr/local/lib/systemd', '/usr/lib/systemd'];

export const configProbe = (component: SystemdComponent): ShellScript => catConfigProbe(`systemd/${component}.conf`);

export function parseConfig(component: SystemdComponent, result: ExecResult): ConfigFile[] {
  return parseCatConfig(`systemd/${component}.conf`, result, (path) =>
    DIRS.some((dir) => path === `${dir}/${component}.conf` || path.startsWith(`${dir}/${component}.conf.d/`)),
  );
}

/** `installed running`, `installed stopped` or `missing`. */
export function unitProbe(component: SystemdComponent): ShellScript {
  const unit = COMPONENTS[component].unit;
  if (unit === undefined) return sh`echo installed running`;
  return sh`state=$(systemctl show -p LoadState --value -- ${unit}) || exit 1
if [ "$state" = not-found ]; then echo missing
elif systemctl is-active --quiet -- ${unit}; then echo installed running
else echo installed stopped; fi`;
}

export function parseUnit(component: SystemdComponent, result: ExecResult): ObservedSystemdConfig['unit'] {
  const out = result.stdout.trim();
  if (result.code !== 0 || !['missing', 'installed running', 'installed stopped'].includes(out)) {
    throw probeFailure(`cannot read the state of ${COMPONENTS[component].unit ?? 'systemd'}`, result.stderr.trim() || `unexpected output ${JSON.stringify(out.slice(0, 100))}`);
  }
  return { installed: out !== 'missing', running: out === 'installed running' };
}

/** The `Key=value` assignments of one section of a systemd configuration file, the last of a key winning. */
export function sectionAssignments(content: string, section: string): Map<string, string> {
  const out = new Map<string, string>();
  let current = '';
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) current = header[1] ?? '';
    else if (current === section && line.includes('=')) out.set(line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim());
  }
  return out;
}
