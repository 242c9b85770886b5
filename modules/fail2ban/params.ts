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
const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', maxLength: 100, 'x-expected': 'a name of letters, digits, _, . and -, starting with a letter or digit' } as const;
const unit = '(?:s|sec|m|min|h|hour|d|day|w|week|mo|month|y|year)s?';
const durationText = `^\\d+${unit}?(?: ?\\d+${unit})*$`;
const duration = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: durationText, 'x-expected': 'a duration such as "10m", "1h" or "1d 12h"' }] } as const;
const bantime = {
  anyOf: [
    { type: 'integer', minimum: -1, not: { const: 0 }, 'x-expected': 'a number of seconds, or -1 for ever' },
    { type: 'string', pattern: `${durationText}|^-1$`, 'x-expected': 'a duration such as "10m" or "1d", or "-1" for ever' },
  ],
} as const;
/** One line of INI value: a line break (LF, or CR, which Python's reader also ends a line at) would start a new key; NUL is refused too. */
const oneLine = { type: 'string', minLength: 1, pattern: '^[^\\n\\r\\u0000]*$', 'x-expected': 'one non-empty line (no line break or NUL)' } as const;
/** Text that may go on over several lines (continuation lines are indented for you), but holds no CR or NUL. */
const text = { type: 'string', pattern: '^[^\\r\\u0000]*$', 'x-expected': 'text without a carriage return or NUL' } as const;
const lines = { anyOf: [oneLine, { type: 'array', items: oneLine, minItems: 1 }] } as const;
const iniKey = { pattern: '^[A-Za-z_][A-Za-z0-9_.?=-]*$', 'x-expected': 'an option name (letters, digits, _, ., ?, = and -, starting with a letter or _)' } as const;
const keyValues = { type: 'object', propertyNames: iniKey, additionalProperties: text } as const;
const portItem = {
  anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', pattern: '^(?:\\d{1,5}(?::\\d{1,5})?|[a-z][a-z0-9-]*)$', 'x-expected': 'a port, a range such as "8000:8100", or a service name such as "ssh"' }],
} as const;
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
  filter: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\\[[^\\n\\r\\u0000\\]]*\\])?$', 'x-expected': 'a filter name, with options in brackets if any, such as "sshd[mode=aggressive]"' },
  logpath: {
    anyOf: [
      { type: 'string', pattern: '^/[^\\n\\r\\u0000]*$', 'x-expected': 'an absolute path (one line)' },
      { type: 'array', items: { type: 'string', pattern: '^/[^\\n\\r\\u0000]*$', 'x-expected': 'an absolute path (one line)' }, minItems: 1 },
    ],
  },
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
  ignoreip: { type: 'array', items: { type: 'string', pattern: '^[^\\s,\\u0000\\u001c-\\u001f\\u0085]+$', 'x-expected': 'an address, network or host name without blanks or commas' } },
  banaction: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\\[[^\\n\\r\\u0000\\]]*\\])?$', 'x-expected': 'an action name, with options in brackets if any, such as "iptables-multiport[blocktype=DROP]"' },
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
