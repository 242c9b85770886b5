import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import type { ObservedPath } from '../file/observe.ts';
import { probeFailure } from '../shared/become.ts';
import type { WantedConnection } from './params.ts';

/** The profile fields hostform compares, as `nmcli -t connection show` names them. */
export const FIELDS = [
  'connection.interface-name',
  'connection.type',
  'connection.autoconnect',
  '802-3-ethernet.mtu',
  'ipv4.method',
  'ipv4.addresses',
  'ipv4.gateway',
  'ipv4.dns',
  'ipv4.dns-search',
  'ipv6.method',
  'ipv6.addresses',
  'ipv6.gateway',
  'ipv6.dns',
  'ipv6.dns-search',
] as const;
export type Field = (typeof FIELDS)[number];

/** One profile NetworkManager knows. */
export interface Profile {
  readonly uuid: string;
  readonly name: string;
  readonly autoconnect: boolean;
  /** The device it is active on, '' when inactive. */
  readonly device: string;
  /** Its file; under /run for profiles NetworkManager made itself (an interface set up by something else). */
  readonly filename: string;
}

/** An address or route of the interface as `ip -j` prints it, enough to put it back. */
export interface IpAddress {
  readonly family: 'inet' | 'inet6';
  readonly local: string;
  readonly prefixlen: number;
}
export interface IpRoute {
  readonly dst: string;
  readonly gateway?: string;
  readonly metric?: number;
  readonly prefsrc?: string;
  readonly family: 4 | 6;
}

export type NetworkManagerState = 'missing' | 'stopped' | 'running';

export interface ObservedConnection {
  readonly file: ObservedPath;
  readonly nm: NetworkManagerState;
  readonly profiles: readonly Profile[];
  /** The interface now: undefined when there is no such interface. */
  readonly device?: {
    /** The profile active on it ('' when none). */
    readonly activeUuid: string;
    readonly addresses: readonly IpAddress[];
    readonly routes: readonly IpRoute[];
  };
  /** Our profile as NetworkManager has loaded it (found by its file), when it has. */
  readonly profile?: { readonly fields: ReadonlyMap<string, string>; readonly active: boolean; readonly devices: string };
}

/**
 * One probe: whether NetworkManager runs, every profile it knows, the
 * interface (its active profile, addresses and routes: what a revert puts
 * back), and our profile's fields as NetworkManager has loaded them.
 */
export function connectionProbe(w: WantedConnection): ShellScript {
  return sh`PATH="$PATH:/usr/sbin:/sbin"
if ! command -v nmcli >/dev/null 2>&1; then echo nm=missing; exit 0; fi
if [ "$(nmcli -t -f RUNNING general 2>/dev/null)" != running ]; then echo nm=stopped; exit 0; fi
echo nm=running
echo @profiles
nmcli -t -f UUID,AUTOCONNECT,DEVICE,FILENAME,NAME connection show || exit 1
if ip link show dev ${w.interface} >/dev/null 2>&1; then
  echo @device
  nmcli -t -f GENERAL.CON-UUID device show ${w.interface} 2>/dev/null
  echo @addresses
  ip -j address show dev ${w.interface} || exit 1
  echo @routes4
  ip -j -4 route show dev ${w.interface} table main || exit 1
  echo @routes6
  ip -j -6 route show dev ${w.interface} table main || exit 1
fi
uuid=$(nmcli -t -f UUID,FILENAME connection show | awk -F: -v f=${w.path} '$2 == f { print $1; exit }')
if [ -n "$uuid" ]; then
  echo @profile
  nmcli -t -f ${[...FIELDS, 'GENERAL.STATE', 'GENERAL.DEVICES'].join(',')} connection show uuid "$uuid" || exit 1
fi`;
}

/** Splits a terse nmcli line at its unescaped colons and unescapes the fields. */
export function terseFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}

export function parseConnection(result: ExecResult): Omit<ObservedConnection, 'file'> {
  if (result.code !== 0) throw probeFailure('cannot ask NetworkManager about the connection', result.stderr.trim() || `exit code ${result.code}`);
  const sections = new Map<string, string[]>();
  let current = 'head';
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith('@')) current = line.slice(1);
    else sections.set(current, [...(sections.get(current) ?? []), line]);
  }
  const head = (sections.get('head') ?? []).join('\n').trim();
  const nm = /^nm=(missing|stopped|running)$/.exec(head)?.[1] as NetworkManagerState | undefined;
  if (nm === undefined) throw new Error(`unexpected output of the NetworkManager probe: ${JSON.stringify(result.stdout.slice(0, 200))}`);
  if (nm !== 'running') return { nm, profiles: [] };
  const profiles = (sections.get('profiles') ?? [])
    .filter((l) => l !== '')
    .map((l) => {
      const [uuid = '', autoconnect = '', device = '', filename = '', ...name] = terseFields(l);
      return { uuid, autoconnect: autoconnect === 'yes', device, filename, name: name.join(':') };
    });
  const keyValues = (lines: readonly string[]) => new Map(lines.filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)] as const));
  const deviceLines = sections.get('device');
  const device = deviceLines
    ? {
        activeUuid: keyValues(deviceLines).get('GENERAL.CON-UUID') ?? '',
        addresses: parseAddresses((sections.get('addresses') ?? []).join('\n')),
        routes: [...parseRoutes(4, (sections.get('routes4') ?? []).join('\n')), ...parseRoutes(6, (sections.get('routes6') ?? []).join('\n'))],
      }
    : undefined;
  const profileLines = sections.get('profile');
  const fields = profileLines ? keyValues(profileLines) : undefined;
  return {
    nm,
    profiles,
    ...(device ? { device } : {}),
    ...(fields ? { profile: { fields, active: fields.get('GENERAL.STATE') === 'activated', devices: fields.get('GENERAL.DEVICES') ?? '' } } : {}),
  };
}

/** The interface's global addresses (link-local ones come back by themselves). */
export function parseAddresses(json: string): IpAddress[] {
  const links = JSON.parse(json.trim() || '[]') as { addr_info?: { family: string; local: string; prefixlen: number; scope: string }[] }[];
  return links.flatMap((l) => l.addr_info ?? []).flatMap((a) => (a.scope === 'global' && (a.family === 'inet' || a.family === 'inet6') ? [{ family: a.family, local: a.local, prefixlen: a.prefixlen }] : []));
}

/** Routes through the interface that its addresses do not make by themselves (the kernel's prefix routes, link-local ones). */
export function parseRoutes(family: 4 | 6, json: string): IpRoute[] {
  return (JSON.parse(json.trim() || '[]') as { dst: string; gateway?: string; metric?: number; prefsrc?: string; protocol?: string }[])
    .filter((r) => r.protocol !== 'kernel' && !r.dst.startsWith('fe80:'))
    .map((r) => ({ dst: r.dst, family, ...(r.gateway ? { gateway: r.gateway } : {}), ...(r.metric !== undefined ? { metric: r.metric } : {}), ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}) }));
}
