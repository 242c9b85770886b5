import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import type { ObservedPath } from '../file/observe.ts';
import { probeFailure } from '../shared/become.ts';
import { catConfigProbe, parseCatConfig, type ConfigFile } from '../shared/cat-config.ts';
import { procPath, type WantedSysctl } from './params.ts';

/** What /proc/sys says of one parameter. */
export type RuntimeValue =
  | { readonly state: 'missing' }
  /** `writable`: false where /proc/sys is mounted read-only (a container, for all but its own network namespace's net.*). */
  | { readonly state: 'present'; readonly writable: boolean; readonly value: string | undefined };

export interface ObservedSysctl {
  readonly file: ObservedPath;
  readonly uid: number;
  readonly runtime: ReadonlyMap<string, RuntimeValue>;
  /** Every sysctl.d file systemd-sysctl reads at boot, in its order (systemd-analyze cat-config). */
  readonly config: readonly ConfigFile[];
}

/** Per parameter: present (rw or ro) or missing, then its value in base64 (empty when unreadable). */
export function runtimeProbe(w: WantedSysctl): ShellScript {
  return sh`echo "uid=$(id -u)"
for p in ${w.settings.map(([key]) => procPath(key))}; do
  if [ ! -e "$p" ]; then echo missing; echo; continue; fi
  if [ -w "$p" ]; then echo rw; else echo ro; fi
  if v=$(cat -- "$p" 2>/dev/null); then printf '%s' "$v" | base64 -w0; fi; echo
done`;
}

export function parseRuntime(w: WantedSysctl, result: ExecResult): { readonly uid: number; readonly runtime: Map<string, RuntimeValue> } {
  const [first = '', ...lines] = result.stdout.split('\n');
  const uid = /^uid=(\d+)$/.exec(first)?.[1];
  if (result.code !== 0 || uid === undefined) throw probeFailure('cannot read /proc/sys', result.stderr.trim() || `exit code ${result.code}`);
  const runtime = new Map<string, RuntimeValue>();
  w.settings.forEach(([key], i) => {
    const state = lines[i * 2];
    const encoded = lines[i * 2 + 1] ?? '';
    if (state === 'missing') runtime.set(key, { state: 'missing' });
    else if (state === 'rw' || state === 'ro') runtime.set(key, { state: 'present', writable: state === 'rw', value: encoded === '' ? undefined : Buffer.from(encoded, 'base64').toString('utf8') });
    else throw new Error(`unexpected output of the /proc/sys probe for ${key}: ${JSON.stringify(result.stdout.slice(0, 200))}`);
  });
  return { uid: Number(uid), runtime };
}

// ── the files read at boot ───────────────────────────────────────────────

/** systemd-sysctl's directories; /etc/sysctl.conf is read through RHEL's 99-sysctl.conf link. */
export const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d'];

export const configProbe = catConfigProbe('sysctl.d');

export function parseConfig(result: ExecResult): ConfigFile[] {
  return parseCatConfig('sysctl.d', result, (path) => SYSCTL_DIRS.some((dir) => path.startsWith(`${dir}/`)));
}

/**
 * The explicit assignments of a sysctl.d file, as systemd-sysctl reads
 * them: `key = value` lines, `#` and `;` lines are comments, a leading `-`
 * only says "ignore errors", and the slash form (net/ipv4/ip_forward) is the
 * dotted one. Glob assignments are left out: an explicit one always wins
 * over them, whatever the order.
 */
export function assignments(content: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    let key = line.slice(0, eq).trim().replace(/^-/, '');
    if (/[*?[]/.test(key)) continue;
    const slash = key.indexOf('/');
    const dot = key.indexOf('.');
    if (slash >= 0 && (dot < 0 || slash < dot)) key = key.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
    out.set(key, line.slice(eq + 1).trim());
  }
  return out;
}
