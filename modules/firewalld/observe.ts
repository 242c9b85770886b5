import type { ExecResult } from '../../lib/connection/types.ts';
import { PathResource, resourceKey, type ResourceKey } from '../../lib/module/resources.ts';
import { trusted } from '../../lib/shell/quote.ts';
import { privateTempDir } from '../../lib/shell/temp-dir.ts';
import { probeFailure } from '../shared/become.ts';
import { emptyItems, type Category } from './params.ts';
import { FirewallResource } from './resources.ts';
import { normalizeRichRule } from './rich-rule.ts';

export interface ZoneState {
  readonly target: string;
  /** Values as `firewall-cmd --list-all` prints them; masquerade is `['yes']` when on. */
  readonly items: Readonly<Record<Category, readonly string[]>>;
}

export interface SideState {
  readonly zones: ReadonlyMap<string, ZoneState>;
  readonly defaultZone: string | undefined;
}

export interface ObservedFirewall {
  /** online: firewalld runs, runtime and permanent are both managed; offline: firewall-offline-cmd, permanent only. */
  readonly mode: 'online' | 'offline';
  readonly permanent: SideState;
  /** Present when online. */
  readonly runtime?: SideState;
  /** Service definitions firewalld knows (built in and under /etc/firewalld/services). */
  readonly services: ReadonlySet<string>;
  /** Zones shipped with firewalld: they can be changed but not deleted. */
  readonly builtinZones: ReadonlySet<string>;
}

/**
 * The one probe every firewalld task shares: the same script text for all of
 * them, so the engine runs it once per batch whatever the number of tasks.
 * `--list-all-zones` gives every zone's settings and marks the default zone,
 * for the runtime and the permanent configuration alike. Each firewall-cmd
 * call starts a Python interpreter (about a second on a small host), so the
 * daemon's state is read first with busctl (the property `firewall-cmd
 * --state` reads, without Python), and only the listings the state calls
 * for run, side by side.
 */
export const firewallProbe = trusted(`if ! command -v firewall-offline-cmd >/dev/null 2>&1; then echo '@mode missing'; exit 0; fi
${privateTempDir('d').text}
list() { out=$1; shift; "$@" >"$d/$out" 2>"$d/$out.err"; echo $? >"$d/$out.rc"; }
if command -v busctl >/dev/null 2>&1; then
  case $(busctl get-property org.fedoraproject.FirewallD1 /org/fedoraproject/FirewallD1 org.fedoraproject.FirewallD1 state 2>/dev/null) in
  's "RUNNING"') state=running ;;
  's "FAILED"') state=failed ;;
  *) state='not running' ;;
  esac
else state=$(firewall-cmd --state 2>/dev/null); fi
show() { echo "@$1"; cat "$d/$1"; if [ "$(cat "$d/$1.rc")" != 0 ]; then cat "$d/$1.err" >&2; exit 1; fi; }
case "$state" in
running) list runtime firewall-cmd --list-all-zones & list permanent firewall-cmd --permanent --list-all-zones; wait; echo '@mode online'; show runtime; show permanent ;;
failed) echo '@mode failed'; exit 0 ;;
*) echo '@mode offline'; list permanent firewall-offline-cmd --list-all-zones; show permanent ;;
esac
echo '@services'; find /usr/lib/firewalld/services /etc/firewalld/services -maxdepth 1 -name '*.xml' -printf '%f\\n' 2>/dev/null
echo '@builtin-zones'; find /usr/lib/firewalld/zones -maxdepth 1 -name '*.xml' -printf '%f\\n' 2>/dev/null
true`);

/**
 * What firewallProbe's output depends on: firewalld's state and its
 * configuration files. Whether firewalld runs changes only with a service
 * task or a package, which re-probe everything.
 */
export const firewallReads: readonly ResourceKey[] = [resourceKey(FirewallResource), resourceKey(PathResource, '/etc/firewalld'), resourceKey(PathResource, '/usr/lib/firewalld')];

/** What a firewalld change may alter: the firewall, and its permanent configuration under /etc/firewalld. */
export const firewallWrites: readonly ResourceKey[] = [resourceKey(FirewallResource), resourceKey(PathResource, '/etc/firewalld')];

export function parseFirewallProbe(result: ExecResult): ObservedFirewall {
  const sections = splitSections(result.stdout);
  const mode = sections.get('mode')?.[0] ?? '';
  if (result.code !== 0 || !['online', 'offline', 'failed', 'missing'].includes(mode)) {
    const reason = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n') || `exit code ${result.code}`;
    throw probeFailure('cannot read the firewalld configuration', reason);
  }
  if (mode === 'missing') throw new Error('firewalld is not installed on this host (no firewall-offline-cmd): install the firewalld package first');
  if (mode === 'failed') {
    throw new Error(
      'firewalld runs but failed to load its permanent configuration (firewall-cmd --state says "failed"), so it refuses changes: ' +
        'run `firewall-offline-cmd --check-config` on the host to see the problem, fix it, then `systemctl restart firewalld`',
    );
  }
  const permanent = parseZones(sections.get('permanent') ?? []);
  return {
    mode: mode as 'online' | 'offline',
    permanent,
    ...(mode === 'online' ? { runtime: parseZones(sections.get('runtime') ?? []) } : {}),
    services: new Set(xmlNames(sections.get('services'))),
    builtinZones: new Set(xmlNames(sections.get('builtin-zones'))),
  };
}

function splitSections(stdout: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of stdout.split('\n')) {
    const marker = /^@([a-z-]+)(?: (.*))?$/.exec(line);
    if (marker) {
      current = marker[2] !== undefined ? [marker[2]] : [];
      sections.set(marker[1] as string, current);
    } else current.push(line);
  }
  return sections;
}

function xmlNames(lines: readonly string[] | undefined): string[] {
  return (lines ?? []).filter((l) => l.endsWith('.xml')).map((l) => l.slice(0, -4));
}

/** Listing keys of `firewall-cmd --list-all` and the category each holds. */
const LISTED: Readonly<Record<string, Category>> = {
  services: 'service',
  ports: 'port',
  'rich rules': 'rich-rule',
  'forward-ports': 'forward-port',
  interfaces: 'interface',
  sources: 'source',
};

/**
 * `--list-all-zones`: a zone name line (`public (default, active)`), then
 * `  key: values` lines; multi-line values (forward ports, rich rules)
 * follow on tab-indented lines.
 */
export function parseZones(lines: readonly string[]): SideState {
  const zones = new Map<string, ZoneState>();
  let defaultZone: string | undefined;
  let zone: { name: string; target: string; items: Record<Category, string[]> } | undefined;
  let key = '';
  const finish = () => {
    if (zone) zones.set(zone.name, { target: zone.target, items: zone.items });
  };
  for (const line of lines) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      finish();
      const [, name = line, notes = ''] = /^(\S+)(?: \((.*)\))?$/.exec(line) ?? [];
      if (notes.split(', ').includes('default')) defaultZone = name;
      zone = { name, target: 'default', items: emptyItems() };
      continue;
    }
    if (!zone) continue;
    if (line.startsWith('\t')) {
      addValues(zone.items, key, [line.trim()]);
      continue;
    }
    const [, name = '', rest = ''] = /^\s+([^:]+):\s?(.*)$/.exec(line) ?? [];
    key = name;
    if (name === 'target') zone.target = rest.trim();
    else if (name === 'masquerade') zone.items.masquerade = rest.trim() === 'yes' ? ['yes'] : [];
    else addValues(zone.items, key, rest.split(' ').filter(Boolean));
  }
  finish();
  return { zones, defaultZone };
}

function addValues(items: Record<Category, string[]>, key: string, values: string[]): void {
  const category = LISTED[key];
  if (!category) return;
  items[category].push(...(category === 'rich-rule' ? values.map(normalizedOrAsListed) : values));
}

/** Rules come back normalized already; parsing them again guards against small printing differences between versions. */
function normalizedOrAsListed(rule: string): string {
  try {
    return normalizeRichRule(rule);
  } catch {
    return rule;
  }
}
