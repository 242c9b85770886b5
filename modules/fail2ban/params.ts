import { assertNoParamProblems } from '../../lib/module/param-problems.ts';
import { definitionProblems, jailProblems, renderAction, renderFilter, renderJail } from './render.ts';

/**
 * fail2ban's time values: seconds as a number, or its own abbreviations
 * ('10m', '1h', '1d', '1w', '1h 30m'). fail2ban accepts a misspelt time with
 * only a warning and falls back to a default, so the schema is strict.
 */
export type Duration = number | string;

export type Present = { readonly state?: 'present' };
export type Absent = { readonly state: 'absent' };

export interface BantimeIncrement {
  /** Multiplies the ban time for each earlier ban of the same address (`bantime.factor`). */
  readonly factor?: number;
  /** Upper bound for an increased ban time (`bantime.maxtime`). */
  readonly maxtime?: Duration;
  /** Count earlier bans of an address in every jail, not only this one (`bantime.overalljails`). */
  readonly overalljails?: boolean;
}

export interface JailSettings {
  /** Default true: a jail is written to be used. */
  readonly enabled?: boolean;
  /** Ports the ban action blocks: numbers, ranges ('8000:8100') or service names ('ssh'). */
  readonly port?: number | string | readonly (number | string)[];
  readonly protocol?: 'tcp' | 'udp' | 'all';
  /** Filter name, with options if any: 'sshd', 'sshd[mode=aggressive]'. Defaults to the jail's name. */
  readonly filter?: string;
  /**
   * Log files to watch (glob patterns allowed; written literally otherwise, `%` included, but no
   * space: fail2ban reads a word after the last space as 'head' or 'tail'); or use backend
   * 'systemd' (with journalmatch) to read the journal.
   */
  readonly logpath?: string | readonly string[];
  readonly backend?: 'auto' | 'systemd' | 'polling' | 'pyinotify';
  /** Journal match for backend 'systemd', e.g. '_SYSTEMD_UNIT=sshd.service'. */
  readonly journalmatch?: string;
  readonly maxretry?: number;
  readonly findtime?: Duration;
  /** How long an address stays banned; -1 bans for ever. */
  readonly bantime?: Duration;
  /** Ban repeat offenders longer: true, or the increment's settings. */
  readonly bantimeIncrement?: boolean | BantimeIncrement;
  /** Addresses and networks never banned (the control machine, the LAN). */
  readonly ignoreip?: readonly string[];
  /** Ban action by name, e.g. 'nftables', 'firewallcmd-rich-rules'. */
  readonly banaction?: string;
  /** Action lines, replacing the default `%(action_)s`: one, or several run in turn. */
  readonly action?: string | readonly string[];
  /** Any other jail key, written as is after the typed ones (`usedns`, `mode`, ...). */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
}

export type JailParams = { readonly name: string } & ((Present & JailSettings) | Absent);

export interface FilterDefinition {
  /** Regular expressions of a failure; `<HOST>` marks the address. */
  readonly failregex?: string | readonly string[];
  readonly ignoreregex?: string | readonly string[];
  readonly prefregex?: string;
  readonly datepattern?: string;
  readonly journalmatch?: string;
  /** Filters read first, e.g. 'common.conf' (`[INCLUDES] before`). */
  readonly before?: string | readonly string[];
  /** Other [Definition] keys, e.g. `_daemon`. */
  readonly definition?: Readonly<Record<string, string>>;
  /** [Init] keys: defaults for options a jail can pass as `filter[key=value]`. */
  readonly init?: Readonly<Record<string, string>>;
}

export type FilterParams = { readonly name: string } & ((Present & FilterDefinition) | Absent);

export interface ActionDefinition {
  readonly actionstart?: string;
  readonly actionstop?: string;
  readonly actioncheck?: string;
  /** Command run to ban `<ip>`. */
  readonly actionban?: string;
  readonly actionunban?: string;
  readonly actionflush?: string;
  readonly before?: string | readonly string[];
  readonly definition?: Readonly<Record<string, string>>;
  readonly init?: Readonly<Record<string, string>>;
}

export type ActionParams = { readonly name: string } & ((Present & ActionDefinition) | Absent);

// ── schemas ──────────────────────────────────────────────────────────────

/** A jail, filter or action name: it becomes a file name, so no slashes and no leading dot. */
const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 100 } as const;
const unit = '(?:s|sec|m|min|h|hour|d|day|w|week|mo|month|y|year)s?';
const durationText = `^\\d+${unit}?(?: ?\\d+${unit})*$`;
const duration = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: durationText }] } as const;
const bantime = { anyOf: [{ type: 'integer', minimum: -1, not: { const: 0 } }, { type: 'string', pattern: `${durationText}|^-1$` }] } as const;
/** One line of INI value: a line break (LF, or CR, which Python's reader also ends a line at) would start a new key; NUL is refused too. */
const oneLine = { type: 'string', minLength: 1, pattern: '^[^\\n\\r\\u0000]*$' } as const;
/** Text that may go on over several lines (continuation lines are indented for you), but holds no CR or NUL. */
const text = { type: 'string', pattern: '^[^\\r\\u0000]*$' } as const;
const lines = { anyOf: [oneLine, { type: 'array', items: oneLine, minItems: 1 }] } as const;
const iniKey = { pattern: '^[A-Za-z_][A-Za-z0-9_.?=-]*$' } as const;
const keyValues = { type: 'object', propertyNames: iniKey, additionalProperties: text } as const;
const portItem = { anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', pattern: '^(?:\\d{1,5}(?::\\d{1,5})?|[a-z][a-z0-9-]*)$' }] } as const;
const state = { enum: ['present', 'absent'] } as const;

/** With state 'absent', only the name may be given. */
function absentOnlyName(keys: readonly string[]) {
  return {
    if: { properties: { state: { const: 'absent' } }, required: ['state'] },
    then: { not: { anyOf: keys.map((k) => ({ required: [k] })) } },
  } as const;
}

const jailProperties = {
  enabled: { type: 'boolean' },
  port: { anyOf: [portItem, { type: 'array', items: portItem, minItems: 1 }] },
  protocol: { enum: ['tcp', 'udp', 'all'] },
  filter: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\\[[^\\n\\r\\u0000\\]]*\\])?$' },
  logpath: { anyOf: [{ type: 'string', pattern: '^/[^\\n\\r\\u0000]*$' }, { type: 'array', items: { type: 'string', pattern: '^/[^\\n\\r\\u0000]*$' }, minItems: 1 }] },
  backend: { enum: ['auto', 'systemd', 'polling', 'pyinotify'] },
  journalmatch: oneLine,
  maxretry: { type: 'integer', minimum: 1 },
  findtime: duration,
  bantime,
  bantimeIncrement: {
    anyOf: [
      { type: 'boolean' },
      {
        type: 'object',
        properties: { factor: { type: 'number', exclusiveMinimum: 0 }, maxtime: duration, overalljails: { type: 'boolean' } },
        additionalProperties: false,
      },
    ],
  },
  // fail2ban splits the list at commas and whitespace as Python knows it (which also counts \x1c-\x1f and \x85).
  ignoreip: { type: 'array', items: { type: 'string', pattern: '^[^\\s,\\u0000\\u001c-\\u001f\\u0085]+$' } },
  banaction: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\\[[^\\n\\r\\u0000\\]]*\\])?$' },
  action: lines,
  options: { type: 'object', propertyNames: iniKey, additionalProperties: { anyOf: [oneLine, { type: 'number' }, { type: 'boolean' }] } },
} as const;

export const jailSchema = {
  type: 'object',
  required: ['name'],
  properties: { name, state, ...jailProperties },
  additionalProperties: false,
  allOf: [
    absentOnlyName(Object.keys(jailProperties)),
    // backend systemd reads the journal: a logpath would be silently ignored.
    { if: { properties: { backend: { const: 'systemd' } }, required: ['backend'] }, then: { not: { required: ['logpath'] } } },
    { if: { required: ['journalmatch'] }, then: { required: ['backend'], properties: { backend: { const: 'systemd' } } } },
  ],
} as const;

const definitionCommon = {
  before: lines,
  definition: keyValues,
  init: keyValues,
} as const;

const filterProperties = {
  failregex: lines,
  ignoreregex: lines,
  prefregex: oneLine,
  datepattern: oneLine,
  journalmatch: oneLine,
  ...definitionCommon,
} as const;

export const filterSchema = {
  type: 'object',
  required: ['name'],
  properties: { name, state, ...filterProperties },
  additionalProperties: false,
  allOf: [absentOnlyName(Object.keys(filterProperties))],
} as const;

const actionProperties = {
  actionstart: text,
  actionstop: text,
  actioncheck: text,
  actionban: { ...text, minLength: 1 },
  actionunban: text,
  actionflush: text,
  ...definitionCommon,
} as const;

export const actionSchema = {
  type: 'object',
  required: ['name'],
  properties: { name, state, ...actionProperties },
  additionalProperties: false,
  allOf: [absentOnlyName(Object.keys(actionProperties))],
} as const;

// ── what a task resolves to ──────────────────────────────────────────────

export const CONFIG_DIR = '/etc/fail2ban';

export function jailPath(name: string): string {
  return `${CONFIG_DIR}/jail.d/${name}.local`;
}

/** A filter or action lives in `<dir>/<name>.conf` (new ones) or `<name>.local` (overriding a stock one). */
export function definitionPaths(dir: 'filter.d' | 'action.d', name: string): { readonly conf: string; readonly local: string } {
  return { conf: `${CONFIG_DIR}/${dir}/${name}.conf`, local: `${CONFIG_DIR}/${dir}/${name}.local` };
}

/** A jail made concrete: its file's bytes and whether it should run. */
export interface WantedJail {
  readonly name: string;
  readonly path: string;
  readonly present: boolean;
  readonly enabled: boolean;
  readonly content: string;
  /** The task's parameters, for the NixOS renderer's structured options. */
  readonly spec?: JailParams;
}

/** A filter or an action made concrete. Which file it goes to depends on the host (see planDefinition). */
export interface WantedDefinition {
  readonly kind: 'filter' | 'action';
  readonly name: string;
  readonly paths: { readonly conf: string; readonly local: string };
  readonly present: boolean;
  readonly content: string;
}

/** A jail: its file's path and bytes (values checked first). */
export function resolveJail(p: JailParams): WantedJail {
  assertNoParamProblems(jailProblems(p));
  return {
    name: p.name,
    path: jailPath(p.name),
    present: p.state !== 'absent',
    enabled: p.state === 'absent' ? false : (p.enabled ?? true),
    content: p.state === 'absent' ? '' : renderJail(p.name, p),
    spec: p,
  };
}

/** A filter: its text (values checked first); whether it goes to .conf or .local is decided on the host. */
export function resolveFilter(p: FilterParams): WantedDefinition {
  assertNoParamProblems(definitionProblems(p));
  return {
    kind: 'filter',
    name: p.name,
    paths: definitionPaths('filter.d', p.name),
    present: p.state !== 'absent',
    content: p.state === 'absent' ? '' : renderFilter(p.name, p),
  };
}

/** A ban action: its text (values checked first); whether it goes to .conf or .local is decided on the host. */
export function resolveAction(p: ActionParams): WantedDefinition {
  assertNoParamProblems(definitionProblems(p));
  return {
    kind: 'action',
    name: p.name,
    paths: definitionPaths('action.d', p.name),
    present: p.state !== 'absent',
    content: p.state === 'absent' ? '' : renderAction(p.name, p),
  };
}
