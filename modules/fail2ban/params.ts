import { assertNoParamProblems } from '../../lib/module/param-problems.ts';
import { definitionProblems, jailProblems, renderAction, renderFilter, renderJail } from './render.ts';

/**
 * fail2ban's time values: seconds as a number, or its own abbreviations
 * ('10m', '1h', '1d', '1w', '1h 30m'). fail2ban accepts a misspelt time with
 * only a warning and falls back to a default, so the schema is strict.
 */
export type Duration = number | string;

interface FileState<S extends 'present' | 'absent'> {
  /** 'present' (default) writes the file; 'absent' removes it, and then only the name may be given. */
  readonly state: S;
}

export type Present = Partial<FileState<'present'>>;
export type Absent = FileState<'absent'>;

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
  /** Protocol the ban action blocks: 'tcp' (fail2ban's default), 'udp' or 'all'. */
  readonly protocol?: 'tcp' | 'udp' | 'all';
  /** Filter name, with options if any: 'sshd', 'sshd[mode=aggressive]'. Defaults to the jail's name. */
  readonly filter?: string;
  /**
   * Log files to watch (glob patterns allowed; written literally otherwise, `%` included, but no
   * space: fail2ban reads a word after the last space as 'head' or 'tail'); or use backend
   * 'systemd' (with journalmatch) to read the journal.
   */
  readonly logpath?: string | readonly string[];
  /** How fail2ban reads the log: 'auto' (fail2ban's default), 'systemd' (the journal: give journalmatch, not logpath), 'polling' or 'pyinotify'. */
  readonly backend?: 'auto' | 'systemd' | 'polling' | 'pyinotify';
  /** Journal match for backend 'systemd', e.g. '_SYSTEMD_UNIT=sshd.service'. */
  readonly journalmatch?: string;
  /** How many failures within findtime ban an address (fail2ban's default 5). */
  readonly maxretry?: number;
  /** The window in which maxretry failures ban an address: seconds, or '10m', '1h', '1d' (fail2ban's default 10m). */
  readonly findtime?: Duration;
  /** How long an address stays banned: seconds, or '10m', '1h', '1d', '1w'; -1 bans for ever (fail2ban's default 10m). */
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

export type JailParams = {
  /** The jail's name, as fail2ban-client shows it; its file is /etc/fail2ban/jail.d/<name>.local. */
  readonly name: string;
} & ((Present & JailSettings) | Absent);

/** What filters and actions both have. */
interface DefinitionCommon {
  /** Files read first, e.g. 'common.conf' (`[INCLUDES] before`). */
  readonly before?: string | readonly string[];
  /** Other [Definition] keys, e.g. `_daemon`. */
  readonly definition?: Readonly<Record<string, string>>;
  /** [Init] keys: defaults of the options a jail can pass as `<name>[key=value]`. */
  readonly init?: Readonly<Record<string, string>>;
}

export interface FilterDefinition extends DefinitionCommon {
  /** Regular expressions of a failure; `<HOST>` marks the address. */
  readonly failregex?: string | readonly string[];
  /** Regular expressions of lines that are never a failure, even where failregex matches. */
  readonly ignoreregex?: string | readonly string[];
  /** A regular expression each line must match before failregex is tried; its `<F-CONTENT>` is what failregex sees. */
  readonly prefregex?: string;
  /** How the log's timestamps look, when fail2ban does not find them itself, in fail2ban's syntax (`%` written `%%`). */
  readonly datepattern?: string;
  /** Journal match of the filter's service (`_SYSTEMD_UNIT=myapp.service`), for jails with backend 'systemd'. */
  readonly journalmatch?: string;
}

export type FilterParams = {
  /** The filter's name, what a jail's `filter` names: filter.d/<name>.conf, or <name>.local when it overrides a packaged filter. */
  readonly name: string;
} & ((Present & FilterDefinition) | Absent);

export interface ActionDefinition extends DefinitionCommon {
  /** Command run once when the jail starts (creating a firewall chain, say). */
  readonly actionstart?: string;
  /** Command run once when the jail stops. */
  readonly actionstop?: string;
  /** Command run before each ban, to check that what actionstart set up is still there. */
  readonly actioncheck?: string;
  /** Command run to ban `<ip>`. */
  readonly actionban?: string;
  /** Command run to lift the ban of `<ip>`. */
  readonly actionunban?: string;
  /** Command run to lift every ban at once (on reload and stop). */
  readonly actionflush?: string;
}

export type ActionParams = {
  /** The action's name, what a jail's `banaction` or `action` names: action.d/<name>.conf, or <name>.local when it overrides a packaged action. */
  readonly name: string;
} & ((Present & ActionDefinition) | Absent);

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
const state = { enum: ['present', 'absent'], description: "'present' (default) writes the file; 'absent' removes it, and then only the name may be given." } as const;

/** With state 'absent', only the name may be given. */
function absentOnlyName(keys: readonly string[]) {
  return {
    if: { properties: { state: { const: 'absent' } }, required: ['state'] },
    then: { not: { anyOf: keys.map((k) => ({ required: [k] })) } },
  } as const;
}

const jailProperties = {
  enabled: { type: 'boolean', description: 'Default true: a jail is written to be used.' },
  port: {
    anyOf: [portItem, { type: 'array', items: portItem, minItems: 1 }],
    description: "Ports the ban action blocks: numbers, ranges ('8000:8100') or service names ('ssh').",
  },
  protocol: { enum: ['tcp', 'udp', 'all'], description: "Protocol the ban action blocks: 'tcp' (fail2ban's default), 'udp' or 'all'." },
  filter: {
    type: 'string',
    pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\\[[^\\n\\r\\u0000\\]]*\\])?$',
    'x-expected': 'a filter name, with options in brackets if any, such as "sshd[mode=aggressive]"',
    description: "Filter name, with options if any: 'sshd', 'sshd[mode=aggressive]'. Defaults to the jail's name.",
  },
  logpath: {
    anyOf: [
      { type: 'string', pattern: '^/[^\\n\\r\\u0000]*$', 'x-expected': 'an absolute path (one line)' },
      { type: 'array', items: { type: 'string', pattern: '^/[^\\n\\r\\u0000]*$', 'x-expected': 'an absolute path (one line)' }, minItems: 1 },
    ],
    description:
      "Log files to watch (glob patterns allowed; written literally otherwise, `%` included, but no space: fail2ban reads a word after the last space as 'head' or 'tail'); or use backend 'systemd' (with journalmatch) to read the journal.",
  },
  backend: {
    enum: ['auto', 'systemd', 'polling', 'pyinotify'],
    description: "How fail2ban reads the log: 'auto' (fail2ban's default), 'systemd' (the journal: give journalmatch, not logpath), 'polling' or 'pyinotify'.",
  },
  journalmatch: { ...oneLine, description: "Journal match for backend 'systemd', e.g. '_SYSTEMD_UNIT=sshd.service'." },
  maxretry: { type: 'integer', minimum: 1, description: "How many failures within findtime ban an address (fail2ban's default 5)." },
  findtime: { ...duration, description: "The window in which maxretry failures ban an address: seconds, or '10m', '1h', '1d' (fail2ban's default 10m)." },
  bantime: { ...bantime, description: "How long an address stays banned: seconds, or '10m', '1h', '1d', '1w'; -1 bans for ever (fail2ban's default 10m)." },
  bantimeIncrement: {
    anyOf: [
      { type: 'boolean' },
      {
        type: 'object',
        properties: {
          factor: { type: 'number', exclusiveMinimum: 0, description: 'Multiplies the ban time for each earlier ban of the same address (`bantime.factor`).' },
          maxtime: { ...duration, description: 'Upper bound for an increased ban time (`bantime.maxtime`).' },
          overalljails: { type: 'boolean', description: 'Count earlier bans of an address in every jail, not only this one (`bantime.overalljails`).' },
        },
        additionalProperties: false,
      },
    ],
    description: "Ban repeat offenders longer: true, or the increment's settings.",
  },
  // fail2ban splits the list at commas and whitespace as Python knows it (which also counts \x1c-\x1f and \x85).
  ignoreip: {
    type: 'array',
    items: { type: 'string', pattern: '^[^\\s,\\u0000\\u001c-\\u001f\\u0085]+$', 'x-expected': 'an address, network or host name without blanks or commas' },
    description: 'Addresses and networks never banned (the control machine, the LAN).',
  },
  banaction: {
    type: 'string',
    pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*(?:\\[[^\\n\\r\\u0000\\]]*\\])?$',
    'x-expected': 'an action name, with options in brackets if any, such as "iptables-multiport[blocktype=DROP]"',
    description: "Ban action by name, e.g. 'nftables', 'firewallcmd-rich-rules'.",
  },
  action: { ...lines, description: 'Action lines, replacing the default `%(action_)s`: one, or several run in turn.' },
  options: {
    type: 'object',
    propertyNames: iniKey,
    additionalProperties: { anyOf: [oneLine, { type: 'number' }, { type: 'boolean' }] },
    description: 'Any other jail key, written as is after the typed ones (`usedns`, `mode`, ...).',
  },
} as const;

export const jailSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { ...name, description: "The jail's name, as fail2ban-client shows it; its file is /etc/fail2ban/jail.d/<name>.local." }, state, ...jailProperties },
  additionalProperties: false,
  allOf: [
    absentOnlyName(Object.keys(jailProperties)),
    // backend systemd reads the journal: a logpath would be silently ignored.
    { if: { properties: { backend: { const: 'systemd' } }, required: ['backend'] }, then: { not: { required: ['logpath'] } } },
    { if: { required: ['journalmatch'] }, then: { required: ['backend'], properties: { backend: { const: 'systemd' } } } },
  ],
} as const;

const definitionCommon = {
  before: { ...lines, description: "Files read first, e.g. 'common.conf' (`[INCLUDES] before`)." },
  definition: { ...keyValues, description: 'Other [Definition] keys, e.g. `_daemon`.' },
  init: { ...keyValues, description: '[Init] keys: defaults of the options a jail can pass as `<name>[key=value]`.' },
} as const;

const filterProperties = {
  failregex: { ...lines, description: 'Regular expressions of a failure; `<HOST>` marks the address.' },
  ignoreregex: { ...lines, description: 'Regular expressions of lines that are never a failure, even where failregex matches.' },
  prefregex: { ...oneLine, description: 'A regular expression each line must match before failregex is tried; its `<F-CONTENT>` is what failregex sees.' },
  datepattern: { ...oneLine, description: "How the log's timestamps look, when fail2ban does not find them itself, in fail2ban's syntax (`%` written `%%`)." },
  journalmatch: { ...oneLine, description: "Journal match of the filter's service (`_SYSTEMD_UNIT=myapp.service`), for jails with backend 'systemd'." },
  ...definitionCommon,
} as const;

export const filterSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { ...name, description: "The filter's name, what a jail's `filter` names: filter.d/<name>.conf, or <name>.local when it overrides a packaged filter." },
    state,
    ...filterProperties,
  },
  additionalProperties: false,
  allOf: [absentOnlyName(Object.keys(filterProperties))],
} as const;

const actionProperties = {
  actionstart: { ...text, description: 'Command run once when the jail starts (creating a firewall chain, say).' },
  actionstop: { ...text, description: 'Command run once when the jail stops.' },
  actioncheck: { ...text, description: 'Command run before each ban, to check that what actionstart set up is still there.' },
  actionban: { ...text, minLength: 1, description: 'Command run to ban `<ip>`.' },
  actionunban: { ...text, description: 'Command run to lift the ban of `<ip>`.' },
  actionflush: { ...text, description: 'Command run to lift every ban at once (on reload and stop).' },
  ...definitionCommon,
} as const;

export const actionSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: {
      ...name,
      description: "The action's name, what a jail's `banaction` or `action` names: action.d/<name>.conf, or <name>.local when it overrides a packaged action.",
    },
    state,
    ...actionProperties,
  },
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
  return resolveDefinition('filter', p, p.state === 'absent' ? undefined : (name) => renderFilter(name, p));
}

/** A ban action: its text (values checked first); whether it goes to .conf or .local is decided on the host. */
export function resolveAction(p: ActionParams): WantedDefinition {
  return resolveDefinition('action', p, p.state === 'absent' ? undefined : (name) => renderAction(name, p));
}

/** `render` is undefined for a definition to remove. */
function resolveDefinition(kind: 'filter' | 'action', p: FilterParams | ActionParams, render: ((name: string) => string) | undefined): WantedDefinition {
  assertNoParamProblems(definitionProblems(p));
  return { kind, name: p.name, paths: definitionPaths(`${kind}.d`, p.name), present: render !== undefined, content: render?.(p.name) ?? '' };
}
