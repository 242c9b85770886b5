/**
 * The sshd_config keywords hostform types, one table: each entry's kind
 * gives its JSON Schema, how it is written, and how `sshd -T` prints it
 * back (to prove the drop-in's value is the one sshd uses).
 */

import { asList } from '../shared/list.ts';

/** sshd time format: seconds, or '30s', '2m', '1h30m'. */
export type SshdDuration = number | string;

type Kind = Described &
  (
    | { readonly kind: 'bool' }
    | { readonly kind: 'enum'; readonly values: readonly string[] }
    | { readonly kind: 'int'; readonly minimum: number }
    | { readonly kind: 'duration' }
    /** A list written on one line: words space-separated, algorithm names comma-separated. */
    | { readonly kind: 'list'; readonly separator: ' ' | ',' }
    /** A keyword sshd accepts several times (Port, ListenAddress): one line per value. */
    | { readonly kind: 'repeat'; readonly item: { readonly type: string; readonly [keyword: string]: unknown } }
    | { readonly kind: 'text'; readonly pattern: string; readonly expected: string }
  );

/** Each option's description: its schema's, and (written again above it) its editor docs. */
interface Described {
  readonly description: string;
}

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
const WORD_WORDS = 'one word without blanks, quotes, backslashes, # or control characters';
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
  /** Port(s) sshd listens on (default 22); several ports, one line each. */
  Port: { kind: 'repeat', item: { type: 'integer', minimum: 1, maximum: 65535 }, description: 'Port(s) sshd listens on (default 22); several ports, one line each.' },
  /** Address(es) sshd listens on: `0.0.0.0`, `::`, `192.168.1.10`, `[::1]:2222`; no wildcards. Left out: every address. */
  ListenAddress: {
    kind: 'repeat',
    item: { type: 'string', pattern: WORD, 'x-expected': 'an address such as "0.0.0.0" or "[::1]:2222" (one word)' },
    description: 'Address(es) sshd listens on: `0.0.0.0`, `::`, `192.168.1.10`, `[::1]:2222`; no wildcards. Left out: every address.',
  },
  /** The address families sshd uses: 'any' (default), 'inet' (IPv4 only) or 'inet6' (IPv6 only). */
  AddressFamily: { kind: 'enum', values: ['any', 'inet', 'inet6'], description: "The address families sshd uses: 'any' (default), 'inet' (IPv4 only) or 'inet6' (IPv6 only)." },
  /** Whether root may log in: false ('no'), true ('yes'), 'prohibit-password' (keys only; the default) or 'forced-commands-only'. */
  PermitRootLogin: {
    kind: 'enum',
    values: ['yes', 'no', 'prohibit-password', 'forced-commands-only'],
    description: "Whether root may log in: false ('no'), true ('yes'), 'prohibit-password' (keys only; the default) or 'forced-commands-only'.",
  },
  /** Allow public key authentication (default yes). */
  PubkeyAuthentication: { ...bool, description: 'Allow public key authentication (default yes).' },
  /** Allow password authentication (default yes). */
  PasswordAuthentication: { ...bool, description: 'Allow password authentication (default yes).' },
  /** Allow keyboard-interactive authentication, through which PAM asks for passwords and one-time codes. */
  KbdInteractiveAuthentication: { ...bool, description: 'Allow keyboard-interactive authentication, through which PAM asks for passwords and one-time codes.' },
  /** Allow logins to accounts whose password is empty (default no). */
  PermitEmptyPasswords: { ...bool, description: 'Allow logins to accounts whose password is empty (default no).' },
  /** Allow host-based authentication, by the client host's key (default no). */
  HostbasedAuthentication: { ...bool, description: "Allow host-based authentication, by the client host's key (default no)." },
  /** Ignore ~/.rhosts and ~/.shosts in host-based authentication (default yes). */
  IgnoreRhosts: { ...bool, description: 'Ignore ~/.rhosts and ~/.shosts in host-based authentication (default yes).' },
  /** Allow GSSAPI (Kerberos) authentication. */
  GSSAPIAuthentication: { ...bool, description: 'Allow GSSAPI (Kerberos) authentication.' },
  /** What a login must pass: each entry a comma-separated list of methods passed in order, `['publickey,password']` asking for both; any one entry suffices. */
  AuthenticationMethods: {
    ...words,
    description: "What a login must pass: each entry a comma-separated list of methods passed in order, `['publickey,password']` asking for both; any one entry suffices.",
  },
  /** The files holding a user's keys, relative to the home or absolute, with `%h` and `%u` (default `.ssh/authorized_keys .ssh/authorized_keys2`). */
  AuthorizedKeysFile: { ...words, description: "The files holding a user's keys, relative to the home or absolute, with `%h` and `%u` (default `.ssh/authorized_keys .ssh/authorized_keys2`)." },
  /** Only these users may log in: patterns `alice`, `deploy@10.0.0.*`. */
  AllowUsers: { ...words, description: 'Only these users may log in: patterns `alice`, `deploy@10.0.0.*`.' },
  /** Only members of these groups may log in (patterns). */
  AllowGroups: { ...words, description: 'Only members of these groups may log in (patterns).' },
  /** These users may not log in: patterns `guest`, `*@203.0.113.*`. */
  DenyUsers: { ...words, description: 'These users may not log in: patterns `guest`, `*@203.0.113.*`.' },
  /** Members of these groups may not log in (patterns). */
  DenyGroups: { ...words, description: 'Members of these groups may not log in (patterns).' },
  /** Authentication attempts per connection before sshd drops it (default 6). */
  MaxAuthTries: { ...int(1), description: 'Authentication attempts per connection before sshd drops it (default 6).' },
  /** Sessions (shells, subsystems) one connection may open (default 10); 0 allows none but still allows forwarding. */
  MaxSessions: { ...int(0), description: 'Sessions (shells, subsystems) one connection may open (default 10); 0 allows none but still allows forwarding.' },
  /** Connections not yet logged in before sshd refuses new ones: `10`, or `start:rate:full` to refuse more and more of them (default `10:30:100`). */
  MaxStartups: {
    kind: 'text',
    pattern: '^\\d+(?::\\d+:\\d+)?$',
    expected: 'a number, or start:rate:full such as "10:30:100"',
    description: 'Connections not yet logged in before sshd refuses new ones: `10`, or `start:rate:full` to refuse more and more of them (default `10:30:100`).',
  },
  /** Time a client has to log in before sshd drops the connection: seconds, or '30s', '2m' (default 2m; 0 for no limit). */
  LoginGraceTime: { ...duration, description: "Time a client has to log in before sshd drops the connection: seconds, or '30s', '2m' (default 2m; 0 for no limit)." },
  /** Ask an idle client whether it is still there after this long: seconds, or '5m' (default 0: never). */
  ClientAliveInterval: { ...duration, description: "Ask an idle client whether it is still there after this long: seconds, or '5m' (default 0: never)." },
  /** Alive checks left unanswered before sshd drops the connection (default 3). */
  ClientAliveCountMax: { ...int(0), description: 'Alive checks left unanswered before sshd drops the connection (default 3).' },
  /** Send TCP keepalives, so that dead connections are noticed (default yes). */
  TCPKeepAlive: { ...bool, description: 'Send TCP keepalives, so that dead connections are noticed (default yes).' },
  /** Allow X11 forwarding (default no). */
  X11Forwarding: { ...bool, description: 'Allow X11 forwarding (default no).' },
  /** Allow TCP port forwarding: true or 'all' (the default), false, 'local' or 'remote'. */
  AllowTcpForwarding: { kind: 'enum', values: ['yes', 'no', 'local', 'remote', 'all'], description: "Allow TCP port forwarding: true or 'all' (the default), false, 'local' or 'remote'." },
  /** Allow ssh-agent forwarding (default yes). */
  AllowAgentForwarding: { ...bool, description: 'Allow ssh-agent forwarding (default yes).' },
  /** Allow Unix socket forwarding: true or 'all' (the default), false, 'local' or 'remote'. */
  AllowStreamLocalForwarding: { kind: 'enum', values: ['yes', 'no', 'local', 'remote', 'all'], description: "Allow Unix socket forwarding: true or 'all' (the default), false, 'local' or 'remote'." },
  /** Whether remote forwardings may listen on other addresses than loopback: false (the default), true, or 'clientspecified'. */
  GatewayPorts: {
    kind: 'enum',
    values: ['yes', 'no', 'clientspecified'],
    description: "Whether remote forwardings may listen on other addresses than loopback: false (the default), true, or 'clientspecified'.",
  },
  /** Allow tun device forwarding: false (the default), true, 'point-to-point' or 'ethernet'. */
  PermitTunnel: { kind: 'enum', values: ['yes', 'no', 'point-to-point', 'ethernet'], description: "Allow tun device forwarding: false (the default), true, 'point-to-point' or 'ethernet'." },
  /** Allow sessions a terminal (default yes). */
  PermitTTY: { ...bool, description: 'Allow sessions a terminal (default yes).' },
  /** Read ~/.ssh/environment and the `environment=` options of keys (default no). */
  PermitUserEnvironment: { ...bool, description: 'Read ~/.ssh/environment and the `environment=` options of keys (default no).' },
  /** Run ~/.ssh/rc at login (default yes). */
  PermitUserRC: { ...bool, description: 'Run ~/.ssh/rc at login (default yes).' },
  /** Refuse a login whose home or key files other users may write (default yes). */
  StrictModes: { ...bool, description: 'Refuse a login whose home or key files other users may write (default yes).' },
  /** Look up the client's host name and check that it resolves back to its address (default no). */
  UseDNS: { ...bool, description: "Look up the client's host name and check that it resolves back to its address (default no)." },
  /** Allow compression after login (default yes). */
  Compression: { ...bool, description: 'Allow compression after login (default yes).' },
  /** Print /etc/motd at login (default yes). */
  PrintMotd: { ...bool, description: 'Print /etc/motd at login (default yes).' },
  /** Print the time and place of the last login (default yes). */
  PrintLastLog: { ...bool, description: 'Print the time and place of the last login (default yes).' },
  /** How much sshd logs: QUIET, FATAL, ERROR, INFO (default), VERBOSE, DEBUG (DEBUG1), DEBUG2 or DEBUG3. */
  LogLevel: {
    kind: 'enum',
    values: ['QUIET', 'FATAL', 'ERROR', 'INFO', 'VERBOSE', 'DEBUG', 'DEBUG1', 'DEBUG2', 'DEBUG3'],
    description: 'How much sshd logs: QUIET, FATAL, ERROR, INFO (default), VERBOSE, DEBUG (DEBUG1), DEBUG2 or DEBUG3.',
  },
  /** A file whose text is shown before login (an absolute path), or 'none' (the default). */
  Banner: { kind: 'text', pattern: `^(?:none|/${WORD_CHAR}*)$`, expected: '"none", or an absolute path (one word)', description: "A file whose text is shown before login (an absolute path), or 'none' (the default)." },
  /** The ciphers sshd allows, most preferred first: exactly these (no `+`, `-` or `^` edits of the default list). */
  Ciphers: { ...algorithms, description: 'The ciphers sshd allows, most preferred first: exactly these (no `+`, `-` or `^` edits of the default list).' },
  /** The MAC algorithms sshd allows, most preferred first: exactly these. */
  MACs: { ...algorithms, description: 'The MAC algorithms sshd allows, most preferred first: exactly these.' },
  /** The key exchange algorithms sshd allows, most preferred first: exactly these. */
  KexAlgorithms: { ...algorithms, description: 'The key exchange algorithms sshd allows, most preferred first: exactly these.' },
  /** The host key algorithms sshd offers, most preferred first: exactly these. */
  HostKeyAlgorithms: { ...algorithms, description: 'The host key algorithms sshd offers, most preferred first: exactly these.' },
  /** The signature algorithms sshd accepts for public key authentication: exactly these. */
  PubkeyAcceptedAlgorithms: { ...algorithms, description: 'The signature algorithms sshd accepts for public key authentication: exactly these.' },
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
export type SshdOptions = { readonly [K in keyof typeof OPTIONS]?: ValueOf<(typeof OPTIONS)[K]> };

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
      return { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: durationPattern, 'x-expected': 'a time such as "30s", "2m" or "1h30m"' }] };
    case 'list':
      return {
        type: 'array',
        items: spec.separator === ',' ? { type: 'string', pattern: ALGORITHM, 'x-expected': 'an algorithm name such as "aes256-gcm@openssh.com" (not starting with -, + or ^)' } : { type: 'string', pattern: WORD, 'x-expected': WORD_WORDS },
        minItems: 1,
      };
    case 'repeat':
      // One schema for both shapes, not anyOf: an error then names the bad value itself.
      return { ...spec.item, type: [spec.item.type, 'array'], items: spec.item, minItems: 1, ...(typeof spec.item['x-expected'] === 'string' ? { 'x-expected': `${spec.item['x-expected']}, or a non-empty list of them` } : {}) };
    case 'text':
      return { type: 'string', pattern: spec.pattern, 'x-expected': spec.expected };
  }
}

export const optionsSchema = {
  type: 'object',
  properties: Object.fromEntries(Object.entries(OPTIONS).map(([name, spec]) => [name, { ...schemaOf(spec), description: spec.description }])),
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
