/**
 * The sshd_config keywords hostform types, one table: each entry's kind
 * gives its JSON Schema, how it is written, and how `sshd -T` prints it
 * back (to prove the drop-in's value is the one sshd uses).
 */

import { asList } from '../shared/list.ts';

/** sshd time format: seconds, or '30s', '2m', '1h30m'. */
export type SshdDuration = number | string;

type Kind =
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'int'; readonly minimum: number }
  | { readonly kind: 'duration' }
  /** A list written on one line: words space-separated, algorithm names comma-separated. */
  | { readonly kind: 'list'; readonly separator: ' ' | ',' }
  /** A keyword sshd accepts several times (Port, ListenAddress): one line per value. */
  | { readonly kind: 'repeat'; readonly item: { readonly type: string; readonly [keyword: string]: unknown } }
  | { readonly kind: 'text'; readonly pattern: string };

/**
 * sshd splits a line into arguments at spaces and tabs, removes quotes (" ')
 * and backslash escapes, ends the line at a # that starts an argument, drops
 * leading and trailing whitespace, eats an = right after the keyword, and
 * joins the next line to one holding a NUL. A character of a word is
 * therefore none of those: no whitespace, no control character (NUL, CR, LF,
 * tab, form feed ...), no quote, backslash or #; and a word does not start
 * with =. What passes is written as is and sshd reads it back unchanged.
 */
const WORD_CHAR = '[^\\s\\x00-\\x1f\\x7f"\'\\\\#]';
export const WORD = `^(?!=)${WORD_CHAR}+$`;
/** Words separated by single spaces: an `extra` value, which sshd reads as its arguments. */
export const WORDS = `^(?!=)${WORD_CHAR}+(?: ${WORD_CHAR}+)*$`;
/**
 * Algorithm names: a leading -, + or ^ would make sshd read the list as
 * "remove from / append to / put first in the default list", not as the list.
 */
const ALGORITHM = '^[A-Za-z0-9][A-Za-z0-9@._-]*$';

const bool = { kind: 'bool' } as const;
const int = (minimum: number) => ({ kind: 'int', minimum }) as const;
const duration = { kind: 'duration' } as const;
const words = { kind: 'list', separator: ' ' } as const;
const algorithms = { kind: 'list', separator: ',' } as const;

/** Written in this order, so the same options always render the same bytes. */
export const OPTIONS = {
  Port: { kind: 'repeat', item: { type: 'integer', minimum: 1, maximum: 65535 } },
  ListenAddress: { kind: 'repeat', item: { type: 'string', pattern: WORD } },
  AddressFamily: { kind: 'enum', values: ['any', 'inet', 'inet6'] },
  PermitRootLogin: { kind: 'enum', values: ['yes', 'no', 'prohibit-password', 'forced-commands-only'] },
  PubkeyAuthentication: bool,
  PasswordAuthentication: bool,
  KbdInteractiveAuthentication: bool,
  PermitEmptyPasswords: bool,
  HostbasedAuthentication: bool,
  IgnoreRhosts: bool,
  GSSAPIAuthentication: bool,
  AuthenticationMethods: words,
  AuthorizedKeysFile: words,
  AllowUsers: words,
  AllowGroups: words,
  DenyUsers: words,
  DenyGroups: words,
  MaxAuthTries: int(1),
  MaxSessions: int(0),
  MaxStartups: { kind: 'text', pattern: '^\\d+(?::\\d+:\\d+)?$' },
  LoginGraceTime: duration,
  ClientAliveInterval: duration,
  ClientAliveCountMax: int(0),
  TCPKeepAlive: bool,
  X11Forwarding: bool,
  AllowTcpForwarding: { kind: 'enum', values: ['yes', 'no', 'local', 'remote', 'all'] },
  AllowAgentForwarding: bool,
  AllowStreamLocalForwarding: { kind: 'enum', values: ['yes', 'no', 'local', 'remote', 'all'] },
  GatewayPorts: { kind: 'enum', values: ['yes', 'no', 'clientspecified'] },
  PermitTunnel: { kind: 'enum', values: ['yes', 'no', 'point-to-point', 'ethernet'] },
  PermitTTY: bool,
  PermitUserEnvironment: bool,
  PermitUserRC: bool,
  StrictModes: bool,
  UseDNS: bool,
  Compression: bool,
  PrintMotd: bool,
  PrintLastLog: bool,
  LogLevel: { kind: 'enum', values: ['QUIET', 'FATAL', 'ERROR', 'INFO', 'VERBOSE', 'DEBUG', 'DEBUG1', 'DEBUG2', 'DEBUG3'] },
  Banner: { kind: 'text', pattern: `^(?:none|/${WORD_CHAR}*)$` },
  Ciphers: algorithms,
  MACs: algorithms,
  KexAlgorithms: algorithms,
  HostKeyAlgorithms: algorithms,
  PubkeyAcceptedAlgorithms: algorithms,
} as const satisfies Record<string, Kind>;

export type OptionName = keyof typeof OPTIONS;

type ValueOf<K extends Kind> = K extends { kind: 'bool' }
  ? boolean
  : K extends { kind: 'enum'; values: readonly (infer V)[] }
    ? 'yes' extends V
      ? V | boolean
      : V
    : K extends { kind: 'int' }
      ? number
      : K extends { kind: 'duration' }
        ? SshdDuration
        : K extends { kind: 'list' }
          ? readonly string[]
          : K extends { kind: 'repeat'; item: { type: 'integer' } }
            ? number | readonly number[]
            : K extends { kind: 'repeat' }
              ? string | readonly string[]
              : string;

/** Typed sshd options: booleans for yes/no, enums where sshd has a fixed set, lists as arrays. */
export type SshdOptions = { readonly [K in OptionName]?: ValueOf<(typeof OPTIONS)[K]> };

const durationPattern = '^(?:\\d+[sSmMhHdDwW]?)+$';

function schemaOf(spec: Kind): object {
  switch (spec.kind) {
    case 'bool':
      return { type: 'boolean' };
    case 'enum':
      // Booleans read better for the yes/no members of an enum keyword.
      return spec.values.includes('yes') ? { anyOf: [{ type: 'boolean' }, { enum: spec.values }] } : { enum: spec.values };
    case 'int':
      return { type: 'integer', minimum: spec.minimum };
    case 'duration':
      return { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: durationPattern }] };
    case 'list':
      return { type: 'array', items: { type: 'string', pattern: spec.separator === ',' ? ALGORITHM : WORD }, minItems: 1 };
    case 'repeat':
      // One schema for both shapes, not anyOf: an error then names the bad value itself.
      return { ...spec.item, type: [spec.item.type, 'array'], items: spec.item, minItems: 1 };
    case 'text':
      return { type: 'string', pattern: spec.pattern };
  }
}

export const optionsSchema = {
  type: 'object',
  properties: Object.fromEntries(Object.entries(OPTIONS).map(([name, spec]) => [name, schemaOf(spec)])),
  additionalProperties: false,
  minProperties: 1,
} as const;

/** The lines of one option, e.g. ['Port 22', 'Port 2222'] or ['PasswordAuthentication no']. */
export function optionLines(name: OptionName, value: unknown): string[] {
  const spec: Kind = OPTIONS[name];
  if (spec.kind === 'repeat') return asList(value).map((v) => `${name} ${v}`);
  if (spec.kind === 'list') return [`${name} ${(value as readonly string[]).join(spec.separator)}`];
  return [`${name} ${word(value)}`];
}

/**
 * What `sshd -T` prints for the option when it is in effect; undefined for
 * options whose printed form hostform does not compare (lists, text).
 */
export function effectiveValue(name: OptionName, value: unknown): string | undefined {
  const spec: Kind = OPTIONS[name];
  switch (spec.kind) {
    case 'bool':
    case 'int':
      return word(value);
    case 'enum':
      if (value === 'all') return 'yes';
      return name === 'LogLevel' ? String(value) : word(value);
    case 'duration':
      return String(seconds(value as SshdDuration));
    default:
      return undefined;
  }
}

function word(value: unknown): string {
  return value === true ? 'yes' : value === false ? 'no' : String(value);
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** '1h30m' → 5400, as sshd reads it. */
export function seconds(value: SshdDuration): number {
  if (typeof value === 'number') return value;
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+)([sSmMhHdDwW]?)/g)) total += Number(n) * (UNIT_SECONDS[(unit || 's').toLowerCase()] ?? 1);
  return total;
}
