import type { ExecResult } from '../../lib/connection/types.ts';
import { PathResource, resourceKey, type ResourceKey } from '../../lib/module/resources.ts';
import { quote, trusted, type ShellScript } from '../../lib/shell/quote.ts';
import { privateTempDir } from '../../lib/shell/temp-dir.ts';
import { probeFailure } from '../shared/become.ts';
import { emptyItems, type Category, type Wanted } from './params.ts';
import { FirewallResource } from './resources.ts';
import { normalizeRichRule } from './rich-rule.ts';

export interface ZoneState {
  readonly target: string;
  /** Values as `firewall-cmd --list-all` prints them; masquerade is `['yes']` when on. */
  readonly items: Readonly<Record<Category, readonly string[]>>;
}

export interface SideState {
  /** The zones whose settings were read. */
  readonly zones: ReadonlyMap<string, ZoneState>;
  readonly defaultZone: string | undefined;
  /** Zones that exist on this side but whose settings the probe did not read (it reads only the zones a task needs). */
  readonly unread?: ReadonlySet<string>;
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
 * Which zones' settings a task needs read: every zone for a zone task and
 * for interfaces and sources (each belongs to one zone, so the one holding it
 * now is looked for), else the zone it names, or the default zone.
 */
export type ZonesToRead = { readonly all: true } | { readonly zone?: string };

export function zonesToRead(w: Wanted): ZonesToRead {
  if (w.zoneTask || w.items.some((i) => i.category === 'interface' || i.category === 'source')) return { all: true };
  return w.zone === undefined ? {} : { zone: w.zone };
}

/**
 * The probe firewalld tasks share: the same script text for tasks that read
 * the same zones, so the engine runs it once per batch for them.
 *
 * While firewalld runs, its runtime and permanent configuration are read over
 * D-Bus with busctl, a small C program: both default zones, the names of the
 * zones, and the settings (`getZoneSettings2`, the config zone's
 * `getSettings2`) of the zones the task needs, as JSON. A busctl call costs
 * about 5 ms of the host's CPU, so a task in the default zone is read in 8
 * calls, not the 33 every zone would take. A `firewall-cmd` call starts a
 * Python interpreter instead (about 0.15 s of CPU each, and two were needed).
 * Without busctl, `firewall-cmd --list-all-zones` for each side (the listing,
 * parsed by parseZones). When firewalld is not running, `firewall-offline-cmd`
 * reads the permanent configuration.
 */
export function firewallProbe(read: ZonesToRead = { all: true }): ShellScript {
  return trusted(probeScript(true, read));
}

/** The same probe reading firewalld through firewall-cmd only, as on a host without busctl: tests compare the two. */
export const firewallListingProbe = trusted(probeScript(false, { all: true }));

function probeScript(useBus: boolean, read: ZonesToRead): string {
  const bus = useBus ? 'command -v busctl >/dev/null 2>&1' : 'false';
  // pick "WANTED ..." NAME...: the names that are wanted, one a line; every name when all zones are read.
  const pick =
    'all' in read
      ? 'pick() { shift; printf \'%s\\n\' "$@"; }'
      : `named=${quote(read.zone ?? '')}
pick() { wanted=" $1 "; shift; for z; do case "$wanted" in *" $z "*) printf '%s\\n' "$z" ;; esac; done; }`;
  return `if ! command -v firewall-offline-cmd >/dev/null 2>&1; then echo '@mode missing'; exit 0; fi
${privateTempDir('d').text}
list() { out=$1; shift; "$@" >"$d/$out" 2>"$d/$out.err"; echo $? >"$d/$out.rc"; }
F=/org/fedoraproject/FirewallD1 I=org.fedoraproject.FirewallD1
call() { busctl --json=short call org.fedoraproject.FirewallD1 "$@"; }
# A reply's values without its signature and quotes (zone names and object paths have neither spaces nor quotes).
tokens() { out=$(busctl call org.fedoraproject.FirewallD1 "$@") || return 1; set -f; for w in \${out#* }; do w=\${w#\\"}; printf '%s\\n' "\${w%\\"}"; done; }
${pick}
runtime_bus() {
  [ -n "$rdef" ] || return 1; echo "#default-name $rdef"
  zones=$(tokens $F $I.zone getZones) || return 1; set -f; set -- $zones; shift; echo "#names $*"
  for z in $(pick "$rdef $named" "$@"); do echo "#zone $z"; call $F $I.zone getZoneSettings2 s "$z" || return 1; done
}
permanent_bus() {
  def=$(busctl get-property org.fedoraproject.FirewallD1 $F/config $I.config DefaultZone) || return 1; def=\${def#s \\"}; def=\${def%\\"}; echo "#default-name $def"
  zones=$(tokens $F/config $I.config getZoneNames) || return 1; set -f; set -- $zones; shift; echo "#names $*"
  for z in $(pick "$rdef $def $named" "$@"); do
    p=$(tokens $F/config $I.config getZoneByName s "$z") || return 1
    echo "#zone $z"; call "$p" $I.config.zone getSettings2 || return 1
  done
}
if ${bus}; then
  case $(busctl get-property org.fedoraproject.FirewallD1 $F $I state 2>/dev/null) in
  's "RUNNING"') state=running ;;
  's "FAILED"') state=failed ;;
  *) state='not running' ;;
  esac
else state=$(firewall-cmd --state 2>/dev/null); fi
show() { echo "@$1"; cat "$d/$1"; if [ "$(cat "$d/$1.rc")" != 0 ]; then cat "$d/$1.err" >&2; exit 1; fi; }
case "$state" in
running)
  if ${bus}; then
    # The runtime's default zone is the one tasks without a zone change: read on both sides.
    rdef=$(tokens $F $I getDefaultZone)
    list runtime-bus runtime_bus & list permanent-bus permanent_bus; wait; echo '@mode online'; show runtime-bus; show permanent-bus
  else
    list runtime firewall-cmd --list-all-zones & list permanent firewall-cmd --permanent --list-all-zones; wait; echo '@mode online'; show runtime; show permanent
  fi ;;
failed) echo '@mode failed'; exit 0 ;;
*) echo '@mode offline'; list permanent firewall-offline-cmd --list-all-zones; show permanent ;;
esac
echo '@services'; find /usr/lib/firewalld/services /etc/firewalld/services -maxdepth 1 -name '*.xml' -printf '%f\\n' 2>/dev/null
echo '@builtin-zones'; find /usr/lib/firewalld/zones -maxdepth 1 -name '*.xml' -printf '%f\\n' 2>/dev/null
true`;
}

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
  const side = (name: 'runtime' | 'permanent'): SideState => {
    const bus = sections.get(`${name}-bus`);
    return bus ? parseBusZones(bus) : parseZones(sections.get(name) ?? []);
  };
  return {
    mode: mode as 'online' | 'offline',
    permanent: side('permanent'),
    ...(mode === 'online' ? { runtime: side('runtime') } : {}),
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

/** A D-Bus value as `busctl --json=short` prints it: its signature and its data. */
interface BusValue {
  readonly type: string;
  readonly data: unknown;
}

/**
 * The probe's busctl output for one side: `#default-name <zone>`,
 * `#names <zone> <zone>...` (every zone), and per zone read `#zone <name>` then its
 * settings, `{"type":"a{sv}","data":[{...}]}`. Settings firewalld leaves out
 * are empty. Values are written as `firewall-cmd --list-all` prints them, so
 * both readings of firewalld compare alike.
 */
export function parseBusZones(lines: readonly string[]): SideState {
  const zones = new Map<string, ZoneState>();
  let defaultZone: string | undefined;
  /** The zone whose settings come on the next line. */
  let pending: string | undefined;
  let names: string[] | undefined;
  for (const line of lines) {
    if (line.trim() === '') continue;
    if (line.startsWith('#default-name ')) defaultZone = line.slice('#default-name '.length) || undefined;
    else if (line.startsWith('#names')) names = line.slice('#names'.length).split(' ').filter(Boolean);
    else if (line.startsWith('#zone ')) pending = line.slice('#zone '.length);
    else if (pending !== undefined) {
      const [settings] = busJson(line).data as [Record<string, BusValue>];
      zones.set(pending, zoneFromSettings(settings ?? {}));
      pending = undefined;
    } else throw new Error(`unexpected line in firewalld's D-Bus reply: ${line.slice(0, 200)}`);
  }
  const unread = new Set((names ?? []).filter((name) => !zones.has(name)));
  return { zones, defaultZone, ...(unread.size > 0 ? { unread } : {}) };
}

function busJson(line: string): BusValue {
  try {
    return JSON.parse(line) as BusValue;
  } catch {
    throw new Error(`firewalld's D-Bus reply is not busctl's JSON: ${line.slice(0, 200)}`);
  }
}

function zoneFromSettings(settings: Readonly<Record<string, BusValue>>): ZoneState {
  const strings = (key: string): string[] => ((settings[key]?.data as string[] | undefined) ?? []).map(String);
  const tuples = (key: string): string[][] => ((settings[key]?.data as string[][] | undefined) ?? []).map((t) => t.map(String));
  const items = emptyItems();
  items.service.push(...strings('services'));
  items.port.push(...tuples('ports').map(([port = '', protocol = '']) => `${port}/${protocol}`));
  items['rich-rule'].push(...strings('rules_str').map(normalizedOrAsListed));
  if (settings.masquerade?.data === true) items.masquerade.push('yes');
  items['forward-port'].push(...tuples('forward_ports').map(([port = '', protocol = '', toPort = '', toAddr = '']) => `port=${port}:proto=${protocol}:toport=${toPort}:toaddr=${toAddr}`));
  items.interface.push(...strings('interfaces'));
  items.source.push(...strings('sources'));
  const target = settings.target?.data;
  return { target: typeof target === 'string' && target !== '' ? target : 'default', items };
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
