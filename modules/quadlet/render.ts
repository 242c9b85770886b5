import type { ParamProblem } from '../../lib/module/param-problems.ts';
import { problemsIn } from '../../lib/module/param-problems.ts';
import { asList } from '../shared/list.ts';
import type { SystemdScope } from '../systemd/scope.ts';
import { literalValue, literalValueProblem } from '../systemd/sections.ts';
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
  /** A record: one `Key="name=value"` line per entry (quadlet splits these values into words); the value arrives exactly. */
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
    ['Unit', [...(p.description !== undefined ? [`Description=${literalValue(p.description)}`] : []), ...rawLines(extra['Unit'])]],
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
      for (const [name, v] of Object.entries(value as Record<string, string>)) out.push(`${key}=${literalWord(`${name}=${v}`)}`);
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
  return asList<string | number | boolean>(value).map((v) => `${key}=${String(v)}`);
}

/**
 * One word as systemd (and quadlet, which uses systemd's parser) splits them:
 * left alone when it has nothing special, else double-quoted with `"` and `\`
 * escaped. `%` and `$` are not escaped: systemd specifiers such as `%h` and
 * variables such as `$HOME` keep working in the `podman run` line.
 */
export function systemdWord(word: string): string {
  if (word !== '' && !/[\s"'\\;]/.test(word)) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * One word whose text must reach podman exactly (an environment value, a
 * label): quadlet copies `%` and `$` into the service's ExecStart=, where
 * systemd would resolve `%h` and expand `$HOME`, so they are doubled
 * (`%%`, `$$` are systemd's escapes); control characters are spelled
 * `\xNN`, which quadlet and systemd unescape.
 */
export function literalWord(word: string): string {
  const escaped = word.replace(/[%$]/g, (c) => c + c);
  if (escaped !== '' && !/[\s"'\\;\x00-\x1f\x7f]/.test(escaped)) return escaped;
  const quoted = escaped.replace(/[\\"\x01-\x1f\x7f]/g, (c) => (c === '\\' || c === '"' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return `"${quoted}"`;
}

// ── values quadlet would not read back as given ──────────────────────────

const LINE_BREAK = 'holds a line break (LF, CR or NUL): quadlet or systemd would read the rest as a setting of its own';
const CONTINUATION = 'ends in a backslash, which quadlet reads as a line continuation (even when escaped): the next line of the file would become part of this value';
const SEPARATOR = "has ';' as a word of its own, which quadlet copies unquoted into the service's ExecStart=, where systemd reads it as the start of another command";

/**
 * The words systemd (and quadlet) split a value into, for finding a lone
 * `;`: quotes and backslash escapes are undone, nothing else.
 */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      word = (word ?? '') + value[++i];
    } else if (quote) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Why a value in quadlet's own syntax would not stay one assignment of its key; undefined when it does. */
function quadletSyntaxProblem(value: string): string | undefined {
  if (/[\n\r\0]/.test(value)) return LINE_BREAK;
  if (/\\\s*$/.test(value)) return CONTINUATION;
  return undefined;
}

/** The same, for a value quadlet turns into `podman` arguments. */
function podmanValueProblem(value: string): string | undefined {
  return quadletSyntaxProblem(value) ?? (splitWords(value).includes(';') ? SEPARATOR : undefined);
}

/** Pairs are quoted and escaped whole; podman itself turns CR LF into LF in an environment value. */
function pairProblem(param: string): (value: string) => string | undefined {
  return (value) => (param === 'environment' && value.includes('\r\n') ? 'holds CR LF, which podman turns into LF in an environment value' : undefined);
}

/** Names podman takes as a positional argument (`podman network create NAME`): a leading `-` would make them an option. */
const POSITIONAL = ['image', 'networkName', 'volumeName', 'podName'] as const;

/**
 * Parameter values quadlet, systemd or podman would not read back as given.
 * The description is literal (it arrives exactly); other values are in
 * quadlet's syntax, so they only have to stay what they are: one
 * assignment of their key, no command separator, no option where podman
 * expects a name.
 */
export function quadletProblems(q: QuadletParams): ParamProblem[] {
  const p = q.params as unknown as Readonly<Record<string, unknown>> & QuadletParams['params'];
  const section = SECTION[q.kind];
  const problems: ParamProblem[] = [...problemsIn('description', p.description, literalValueProblem)];
  for (const [param, value] of Object.entries(p)) {
    if (param === 'description' || param === 'extra' || param === 'scope') continue;
    // Words and pairs are quoted by hostform, so only a lone `;` word can still escape them.
    const words = param === 'podmanArgs' || (param === 'exec' && Array.isArray(value));
    const pairs = param === 'environment' || param === 'label';
    const check = words ? (v: string) => (v === ';' ? SEPARATOR : undefined) : pairs ? pairProblem(param) : podmanValueProblem;
    problems.push(...problemsIn(param, value, check));
  }
  for (const name of POSITIONAL) {
    const value = p[name];
    if (typeof value === 'string' && value.startsWith('-')) {
      problems.push({ parameter: name, value, reason: 'starts with "-", which podman would read as an option rather than a name' });
    }
  }
  for (const [s, keys] of Object.entries(p.extra ?? {})) {
    // [Unit], [Service] and [Install] go to systemd as written; the kind's section becomes podman arguments.
    problems.push(...problemsIn(`extra.${s}`, keys, s === section ? podmanValueProblem : quadletSyntaxProblem));
  }
  return problems;
}
