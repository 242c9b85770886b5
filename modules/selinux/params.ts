import { restoreconPathFor } from './restorecon-paths.ts';

// ── mode ─────────────────────────────────────────────────────────────────

export type SelinuxMode = 'enforcing' | 'permissive' | 'disabled';

export interface ModeParams {
  /** The mode now (setenforce) and after every boot (/etc/selinux/config). */
  readonly mode: SelinuxMode;
  /** Fail, instead of skipping, on a host that cannot have SELinux (a container, no tools). */
  readonly required?: boolean;
}

export const MODES = ['enforcing', 'permissive', 'disabled'] as const;

export const modeSchema = {
  type: 'object',
  required: ['mode'],
  properties: {
    mode: { enum: MODES, description: 'The mode now (setenforce) and after every boot (/etc/selinux/config).' },
    required: { type: 'boolean', description: 'Fail, instead of skipping, on a host that cannot have SELinux (a container, no tools).' },
  },
  additionalProperties: false,
} as const;

export interface ResolvedMode {
  readonly mode: SelinuxMode;
  readonly required: boolean;
}

export function resolveMode(p: ModeParams): ResolvedMode {
  return { mode: p.mode, required: p.required ?? false };
}

/** The `required` parameter of the modules that need SELinux enabled. */
const requiredEnabled = { type: 'boolean', description: 'Fail, instead of skipping, on a host where SELinux is disabled.' } as const;

// ── boolean ──────────────────────────────────────────────────────────────

export interface BooleanParams {
  /** Booleans and the value each should have, at runtime and across reboots: `{ httpd_can_network_connect: true }`. */
  readonly values: Readonly<Record<string, boolean>>;
  /** Fail, instead of skipping, on a host where SELinux is disabled. */
  readonly required?: boolean;
}

export const booleanSchema = {
  type: 'object',
  required: ['values'],
  properties: {
    values: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z0-9_]+$', 'x-expected': 'an SELinux boolean name such as "httpd_can_network_connect"' },
      additionalProperties: { type: 'boolean' },
      description: 'Booleans and the value each should have, at runtime and across reboots: `{ httpd_can_network_connect: true }`.',
    },
    required: requiredEnabled,
  },
  additionalProperties: false,
} as const;

export interface ResolvedBoolean {
  readonly values: readonly (readonly [name: string, value: boolean])[];
  readonly required: boolean;
}

export function resolveBoolean(p: BooleanParams): ResolvedBoolean {
  return { values: Object.entries(p.values), required: p.required ?? false };
}

// ── file context ─────────────────────────────────────────────────────────

/** What `semanage fcontext -f` calls each file type: its flag, and the words `-l` prints. */
export const FILE_TYPES = {
  all: { flag: 'a', listed: 'all files' },
  file: { flag: 'f', listed: 'regular file' },
  directory: { flag: 'd', listed: 'directory' },
  symlink: { flag: 'l', listed: 'symbolic link' },
  socket: { flag: 's', listed: 'socket' },
  pipe: { flag: 'p', listed: 'named pipe' },
  chardev: { flag: 'c', listed: 'character device' },
  blockdev: { flag: 'b', listed: 'block device' },
} as const;

export type FileType = keyof typeof FILE_TYPES;

export interface FileContextParams {
  /** The path regex, as semanage takes it: `/srv/www(/.*)?`. */
  readonly target: string;
  /** The SELinux type for matching paths (`httpd_sys_content_t`); required unless state is absent. */
  readonly type?: string;
  /** Which kind of file the mapping applies to. Default 'all'. */
  readonly ftype?: FileType;
  /** Default 'present'; 'absent' removes the local mapping. */
  readonly state?: 'present' | 'absent';
  /** Relabel the matching paths with `restorecon -R` when the mapping changed. Default true. */
  readonly restorecon?: boolean;
  /** Paths to relabel instead of the one derived from `target` (its literal prefix, e.g. /srv/www). */
  readonly restoreconPaths?: readonly string[];
  /** Fail, instead of skipping, on a host where SELinux is disabled. */
  readonly required?: boolean;
}

// semanage refuses spaces in a file spec, and its import format cannot carry quotes.
const target = { type: 'string', pattern: `^/[^\\s'"]*$`, 'x-expected': 'an absolute path or path expression without blanks or quotes, such as "/srv/www(/.*)?"' } as const;
const selinuxType = { type: 'string', pattern: '^([a-z0-9_]+|<<none>>)$', 'x-expected': 'an SELinux type such as "httpd_sys_content_t", or "<<none>>"' } as const;

export const fileContextSchema = {
  type: 'object',
  required: ['target'],
  properties: {
    target: { ...target, description: 'The path regex, as semanage takes it: `/srv/www(/.*)?`.' },
    type: { ...selinuxType, description: 'The SELinux type for matching paths (`httpd_sys_content_t`); required unless state is absent.' },
    ftype: { enum: Object.keys(FILE_TYPES), description: "Which kind of file the mapping applies to. Default 'all'." },
    state: { enum: ['present', 'absent'], description: "Default 'present'; 'absent' removes the local mapping." },
    restorecon: { type: 'boolean', description: 'Relabel the matching paths with `restorecon -R` when the mapping changed. Default true.' },
    restoreconPaths: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^/', 'x-expected': 'an absolute path (starting with /)' },
      description: 'Paths to relabel instead of the one derived from `target` (its literal prefix, e.g. /srv/www).',
    },
    required: requiredEnabled,
  },
  additionalProperties: false,
  if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
  then: { required: ['type'] },
} as const;

export interface ResolvedFileContext {
  readonly target: string;
  readonly flag: string;
  readonly ftype: FileType;
  /** undefined: the local mapping should not exist. */
  readonly type: string | undefined;
  readonly relabel: readonly string[];
  readonly required: boolean;
}

export function resolveFileContext(p: FileContextParams): ResolvedFileContext {
  const ftype = p.ftype ?? 'all';
  const relabel = p.restorecon === false ? [] : (p.restoreconPaths ?? [derivedPath(p.target)]);
  return { target: p.target, flag: FILE_TYPES[ftype].flag, ftype, type: p.state === 'absent' ? undefined : p.type, relabel, required: p.required ?? false };
}

function derivedPath(target: string): string {
  const path = restoreconPathFor(target);
  if (path === undefined) {
    throw new Error(`parameter 'target' = ${JSON.stringify(target)}: no path to relabel follows from it (it would be /); give restoreconPaths, or restorecon: false`);
  }
  return path;
}

// ── port ─────────────────────────────────────────────────────────────────

export type Protocol = 'tcp' | 'udp' | 'sctp' | 'dccp';
/** `'8443/tcp'` or a range, `'9000-9010/tcp'`. */
export type PortSpec = `${number}/${Protocol}` | `${number}-${number}/${Protocol}`;

interface PortCommon {
  /** The SELinux port type (`http_port_t`); required unless state is absent. */
  readonly type?: string;
  /** Default 'present'; 'absent' removes the local mapping (of `type`, when given). */
  readonly state?: 'present' | 'absent';
  /** Fail, instead of skipping, on a host where SELinux is disabled. */
  readonly required?: boolean;
}

interface ManyPorts {
  /** Ports or ranges with their protocol: `['8443/tcp', '9000-9010/udp']`. Give ports, or port and protocol. */
  readonly ports: readonly PortSpec[];
  readonly port?: never;
  readonly protocol?: never;
}

interface OnePort {
  /** One port (`8443`) or range (`'9000-9010'`), with `protocol`. Give ports, or port and protocol. */
  readonly port: number | `${number}-${number}`;
  /** The protocol of `port`. */
  readonly protocol: Protocol;
  readonly ports?: never;
}

export type PortParams = PortCommon & (ManyPorts | OnePort);

const PROTOCOLS = ['tcp', 'udp', 'sctp', 'dccp'] as const;

export const portSchema = {
  type: 'object',
  properties: {
    ports: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: `^[0-9]{1,5}(-[0-9]{1,5})?/(${PROTOCOLS.join('|')})$`, 'x-expected': 'a port or range with its protocol, such as \"443/tcp\" or \"8000-8100/udp\"' },
      description: "Ports or ranges with their protocol: `['8443/tcp', '9000-9010/udp']`. Give ports, or port and protocol.",
    },
    port: {
      anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', pattern: '^[0-9]{1,5}(-[0-9]{1,5})?$', 'x-expected': 'a port or range in a string, such as "8080" or "8000-8010"' }],
      description: "One port (`8443`) or range (`'9000-9010'`), with `protocol`. Give ports, or port and protocol.",
    },
    protocol: { enum: PROTOCOLS, description: 'The protocol of `port`.' },
    type: { type: 'string', pattern: '^[a-z0-9_]+$', 'x-expected': 'an SELinux type such as "http_port_t"', description: 'The SELinux port type (`http_port_t`); required unless state is absent.' },
    state: { enum: ['present', 'absent'], description: "Default 'present'; 'absent' removes the local mapping (of `type`, when given)." },
    required: requiredEnabled,
  },
  additionalProperties: false,
  oneOf: [{ required: ['ports'] }, { required: ['port'] }],
  dependencies: { port: ['protocol'], protocol: ['port'] },
  if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
  then: { required: ['type'] },
} as const;

export interface PortRange {
  readonly protocol: string;
  readonly low: number;
  readonly high: number;
}

export interface ResolvedPort {
  readonly ranges: readonly PortRange[];
  readonly type: string | undefined;
  readonly state: 'present' | 'absent';
  readonly required: boolean;
}

export function resolvePort(p: PortParams): ResolvedPort {
  const specs = p.ports ?? [`${p.port}/${p.protocol}`];
  const ranges = specs.map((spec) => {
    const range = parseRange(spec);
    if (!range || range.low < 1 || range.high > 65535 || range.low > range.high) {
      throw new Error(`parameter '${p.ports ? 'ports' : 'port'}' = ${JSON.stringify(p.ports ? spec : p.port)}: not a port or range within 1-65535 (low-high, low first)`);
    }
    return range;
  });
  return { ranges, type: p.type, state: p.state ?? 'present', required: p.required ?? false };
}

function parseRange(spec: string): PortRange | undefined {
  const m = /^(\d+)(?:-(\d+))?\/(\w+)$/.exec(spec);
  if (!m) return undefined;
  return { protocol: m[3]!, low: Number(m[1]), high: Number(m[2] ?? m[1]) };
}

export function rangeText(r: PortRange): string {
  return r.low === r.high ? String(r.low) : `${r.low}-${r.high}`;
}
