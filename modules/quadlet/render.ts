import type { SystemdScope } from '../systemd/scope.ts';
import type { ContainerParams, NetworkParams, PodParams, QuadletKind, RawSection, VolumeParams } from './params.ts';

/**
 * Params → quadlet file text. Pure and deterministic: sections in a fixed
 * order ([Unit], the kind's section, [Service], [Install]), typed keys in the
 * order of the tables below, `extra` keys after them sorted by name, so the
 * file only changes when the parameters do.
 */

/** How a parameter becomes lines of a unit file. */
type Style =
  /** The value as written (quadlet reads it whole); arrays repeat the key. */
  | 'raw'
  /** An array of words on one line, each quoted when it needs to be. */
  | 'words'
  /** A record: one `Key="name=value"` line per entry (quadlet splits these values into words). */
  | 'pairs';

type KeyTable<P> = readonly (readonly [keyof P & string, string, Style?])[];

const CONTAINER_KEYS: KeyTable<ContainerParams> = [
  ['image', 'Image'],
  ['containerName', 'ContainerName'],
  ['exec', 'Exec'],
  ['user', 'User'],
  ['group', 'Group'],
  ['userNS', 'UserNS'],
  ['pod', 'Pod'],
  ['network', 'Network'],
  ['publishPort', 'PublishPort'],
  ['volume', 'Volume'],
  ['tmpfs', 'Tmpfs'],
  ['environment', 'Environment', 'pairs'],
  ['environmentFile', 'EnvironmentFile'],
  ['secret', 'Secret'],
  ['label', 'Label', 'pairs'],
  ['addCapability', 'AddCapability'],
  ['dropCapability', 'DropCapability'],
  ['readOnly', 'ReadOnly'],
  ['healthCmd', 'HealthCmd'],
  ['healthInterval', 'HealthInterval'],
  ['healthRetries', 'HealthRetries'],
  ['healthStartPeriod', 'HealthStartPeriod'],
  ['healthTimeout', 'HealthTimeout'],
  ['autoUpdate', 'AutoUpdate'],
  ['podmanArgs', 'PodmanArgs', 'words'],
];

const NETWORK_KEYS: KeyTable<NetworkParams> = [
  ['networkName', 'NetworkName'],
  ['driver', 'Driver'],
  ['subnet', 'Subnet'],
  ['gateway', 'Gateway'],
  ['internal', 'Internal'],
  ['ipv6', 'IPv6'],
  ['label', 'Label', 'pairs'],
];

const VOLUME_KEYS: KeyTable<VolumeParams> = [
  ['volumeName', 'VolumeName'],
  ['driver', 'Driver'],
  ['device', 'Device'],
  ['type', 'Type'],
  ['options', 'Options'],
  ['label', 'Label', 'pairs'],
];

const POD_KEYS: KeyTable<PodParams> = [
  ['podName', 'PodName'],
  ['network', 'Network'],
  ['publishPort', 'PublishPort'],
  ['volume', 'Volume'],
];

export type QuadletParams =
  | { readonly kind: 'container'; readonly params: ContainerParams }
  | { readonly kind: 'network'; readonly params: NetworkParams }
  | { readonly kind: 'volume'; readonly params: VolumeParams }
  | { readonly kind: 'pod'; readonly params: PodParams };

export const SECTION: Record<QuadletKind, 'Container' | 'Network' | 'Volume' | 'Pod'> = {
  container: 'Container',
  network: 'Network',
  volume: 'Volume',
  pod: 'Pod',
};

/** The file quadlet reads, e.g. `web.container`. */
export function fileName(kind: QuadletKind, name: string): string {
  return `${name}.${kind}`;
}

/** The service quadlet generates from it: `web.service`, `web-network.service`, `web-volume.service`, `web-pod.service`. */
export function serviceName(kind: QuadletKind, name: string): string {
  return kind === 'container' ? `${name}.service` : `${name}-${kind}.service`;
}

/** Targets that start the service at boot when the task does not say. */
export function defaultWantedBy(kind: QuadletKind, scope: SystemdScope): readonly string[] {
  if (kind === 'network' || kind === 'volume') return [];
  // multi-user.target is reached on every server boot; default.target may be graphical.target, which wants it too.
  return scope.kind === 'system' ? ['multi-user.target', 'default.target'] : ['default.target'];
}

export function renderQuadlet(q: QuadletParams, scope: SystemdScope): string {
  const p = q.params;
  const extra: Readonly<Record<string, RawSection | undefined>> = p.extra ?? {};
  const section = SECTION[q.kind];
  const typed =
    q.kind === 'container'
      ? keyLines(q.params, CONTAINER_KEYS)
      : q.kind === 'network'
        ? keyLines(q.params, NETWORK_KEYS)
        : q.kind === 'volume'
          ? keyLines(q.params, VOLUME_KEYS)
          : keyLines(q.params, POD_KEYS);
  const wantedBy = p.wantedBy ?? defaultWantedBy(q.kind, scope);
  const sections: [string, string[]][] = [
    ['Unit', [...(p.description !== undefined ? [`Description=${p.description}`] : []), ...rawLines(extra['Unit'])]],
    [section, [...typed, ...rawLines(extra[section])]],
    [
      'Service',
      [
        ...(p.restart !== undefined ? [`Restart=${p.restart}`] : []),
        ...(p.timeoutStartSec !== undefined ? [`TimeoutStartSec=${p.timeoutStartSec}`] : []),
        ...rawLines(extra['Service']),
      ],
    ],
    ['Install', [...(wantedBy.length > 0 ? [`WantedBy=${wantedBy.join(' ')}`] : []), ...rawLines(extra['Install'])]],
  ];
  const body = sections
    // The kind's own section is always written: quadlet recognises the file by it.
    .filter(([name, keys]) => keys.length > 0 || name === section)
    .map(([name, keys]) => [`[${name}]`, ...keys].join('\n'))
    .join('\n\n');
  return `# Managed by hostform: changes made here are overwritten on the next run.\n${body}\n`;
}

function keyLines<P extends object>(params: P, table: KeyTable<P>): string[] {
  const out: string[] = [];
  for (const [param, key, style = 'raw'] of table) {
    const value = params[param] as unknown;
    if (value === undefined) continue;
    if (style === 'pairs') {
      for (const [name, v] of Object.entries(value as Record<string, string>)) out.push(`${key}=${systemdWord(`${name}=${v}`)}`);
    } else if (style === 'words' || (param === 'exec' && Array.isArray(value))) {
      const words = value as readonly string[];
      if (words.length > 0) out.push(`${key}=${words.map(systemdWord).join(' ')}`);
    } else {
      out.push(...repeated(key, value as string | number | boolean | readonly (string | number)[]));
    }
  }
  return out;
}

function rawLines(section: RawSection | undefined): string[] {
  if (!section) return [];
  return Object.keys(section)
    .sort()
    .flatMap((key) => repeated(key, section[key]!));
}

function repeated(key: string, value: string | number | boolean | readonly (string | number)[]): string[] {
  const values = Array.isArray(value) ? value : [value];
  return values.map((v) => `${key}=${String(v)}`);
}

/**
 * One word as systemd (and quadlet, which uses systemd's parser) splits them:
 * left alone when it has nothing special, else double-quoted with `"` and `\`
 * escaped. `%` is not escaped: systemd specifiers such as `%h` keep working.
 */
export function systemdWord(word: string): string {
  if (word !== '' && !/[\s"'\\;]/.test(word)) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
