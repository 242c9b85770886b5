/**
 * Parameters of the user and group modules, their JSON Schemas, and the
 * concrete values a task resolves to.
 */
import { revealSecret } from '../../lib/secret/scope.ts';
import { hostPathOf, isSecret, type Secret } from '../../lib/secret/secret.ts';

/** Names as shadow-utils accepts them: no leading digit-only names, no leading dash, at most 32 characters. */
const accountName = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]*\\$?$', maxLength: 32, 'x-expected': 'an account name (letters, digits, _, . and -, starting with a letter or _)' } as const;
/** 0 … 2^32 − 2: (uid_t) −1 means "no change" to the kernel, so it cannot be an id. */
const accountId = { type: 'integer', minimum: 0, maximum: 4294967294 } as const;
// A field of /etc/passwd: a ':' or a line break there would end the field or the line, so usermod refuses them on the host.
const absolutePath = { type: 'string', pattern: '^/[^:\\n]*$', minLength: 1, 'x-expected': 'an absolute path (starting with /), one line without ":"' } as const;

export interface GroupParams {
  /** The group's name: letters, digits, `_`, `.`, `-`, at most 32 characters, not starting with a digit or `-`. */
  readonly name: string;
  /** The numeric group id; left out, the system picks one when the group is created, and an existing group keeps its own. */
  readonly gid?: number;
  /** Create as a system group (gid below GID_MIN); only used when the group is created. */
  readonly system?: boolean;
  /** `present` (default) creates the group or changes its gid; `absent` removes it, refused while it is some user's primary group. */
  readonly state?: 'present' | 'absent';
}

export const groupSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { ...accountName, description: 'The group\'s name: letters, digits, `_`, `.`, `-`, at most 32 characters, not starting with a digit or `-`.' },
    gid: { ...accountId, description: 'The numeric group id; left out, the system picks one when the group is created, and an existing group keeps its own.' },
    system: { type: 'boolean', description: 'Create as a system group (gid below GID_MIN); only used when the group is created.' },
    state: { enum: ['present', 'absent'], description: '`present` (default) creates the group or changes its gid; `absent` removes it, refused while it is some user\'s primary group.' },
  },
  additionalProperties: false,
  if: { properties: { state: { const: 'absent' } }, required: ['state'] },
  then: { not: { anyOf: [{ required: ['gid'] }, { required: ['system'] }] } },
} as const;

export type WantedGroup =
  | { readonly state: 'present'; readonly name: string; readonly gid?: number; readonly system: boolean }
  | { readonly state: 'absent'; readonly name: string };

export function resolveGroup(p: GroupParams): WantedGroup {
  if (p.state === 'absent') return { state: 'absent', name: p.name };
  return { state: 'present', name: p.name, ...(p.gid !== undefined ? { gid: p.gid } : {}), system: p.system ?? false };
}

export interface UserParams {
  /** The login name: letters, digits, `_`, `.`, `-`, at most 32 characters, not starting with a digit or `-`. */
  readonly name: string;
  /** The numeric user id; left out, the system picks one when the user is created, and an existing user keeps its own. */
  readonly uid?: number;
  /** Primary group (a name); it must exist or be created by an earlier group task. */
  readonly group?: string;
  /** Supplementary groups: the exact set, or with `append: true` groups to add to the ones the user has. */
  readonly groups?: readonly string[];
  /** With `groups`: add the user to those groups and leave its other groups as they are. Default false: `groups` is the exact set. */
  readonly append?: boolean;
  /** The login shell, an absolute path: `/bin/bash`, `/sbin/nologin`. Left out: useradd's default for a new user, unchanged for an existing one. */
  readonly shell?: string;
  /** The home directory, an absolute path. Left out: useradd's default (`/home/<name>`) for a new user, unchanged for an existing one. */
  readonly home?: string;
  /**
   * Create the home directory (from /etc/skel) when the user is created, and
   * when set explicitly, also when an existing user's home is missing.
   * Default: true, false for system users.
   */
  readonly createHome?: boolean;
  /** Create as a system user (uid below UID_MIN); only used when the user is created. */
  readonly system?: boolean;
  /** The GECOS field. */
  readonly comment?: string;
  /**
   * A crypt(3) hash (`openssl passwd -6`, `mkpasswd -m yescrypt`), or '!' / '*' to lock; text or a Secret. Never shown in reports, and
   * it reaches the host on standard input. An empty string is refused: in /etc/shadow it means "no password", and anyone could `su`
   * to the account. On NixOS a hash goes to a root-only file outside the Nix store (`hashedPasswordFile`), and `secret.onHost(path)`
   * names one already there (agenix, sops-nix).
   */
  readonly passwordHash?: string | Secret;
  /** The exact set of lines of ~/.ssh/authorized_keys (`ssh-ed25519 AAAA... me@laptop`, options allowed). */
  readonly authorizedKeys?: readonly string[];
  /** `present` (default) creates or changes the account; `absent` removes it (see removeHome and force). */
  readonly state?: 'present' | 'absent';
  /** With state 'absent': remove the home directory and mail spool too. */
  readonly removeHome?: boolean;
  /** With state 'absent': kill the user's processes (their sessions included) instead of failing while they run. */
  readonly force?: boolean;
}

/** One authorized_keys line: optional options, a key type, the base64 blob, an optional comment; no newlines. */
const authorizedKey = { type: 'string', pattern: '^[^\\n\\r]*(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ +[A-Za-z0-9+/]+=*( [^\\n\\r]*)?$',
  'x-expected': 'one authorized_keys line: optional options, a key type (ssh-..., ecdsa-..., sk-...), the base64 key, an optional comment',
} as const;

export const userSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { ...accountName, description: 'The login name: letters, digits, `_`, `.`, `-`, at most 32 characters, not starting with a digit or `-`.' },
    uid: { ...accountId, description: 'The numeric user id; left out, the system picks one when the user is created, and an existing user keeps its own.' },
    group: { ...accountName, description: 'Primary group (a name); it must exist or be created by an earlier group task.' },
    groups: {
      type: 'array',
      items: accountName,
      uniqueItems: true,
      description: 'Supplementary groups: the exact set, or with `append: true` groups to add to the ones the user has.',
    },
    append: { type: 'boolean', description: 'With `groups`: add the user to those groups and leave its other groups as they are. Default false: `groups` is the exact set.' },
    shell: { ...absolutePath, description: 'The login shell, an absolute path: `/bin/bash`, `/sbin/nologin`. Left out: useradd\'s default for a new user, unchanged for an existing one.' },
    home: { ...absolutePath, description: 'The home directory, an absolute path. Left out: useradd\'s default (`/home/<name>`) for a new user, unchanged for an existing one.' },
    createHome: {
      type: 'boolean',
      description: 'Create the home directory (from /etc/skel) when the user is created, and when set explicitly, also when an existing user\'s home is missing. Default: true, false for system users.',
    },
    system: { type: 'boolean', description: 'Create as a system user (uid below UID_MIN); only used when the user is created.' },
    comment: { type: 'string', pattern: '^[^:\\n]*$', 'x-expected': 'one line without ":"', description: 'The GECOS field.' },
    // Never printed: a plaintext password given here by mistake is still a password. Its shape is checked in resolveUser.
    passwordHash: {
      anyOf: [{ type: 'string' }, { jsType: 'secret' }],
      sensitive: true,
      description:
        "A crypt(3) hash (`openssl passwd -6`, `mkpasswd -m yescrypt`), or '!' / '*' to lock; text or a Secret. Never shown in reports, and it reaches the host on standard input. An empty string is refused: in /etc/shadow it means \"no password\", and anyone could `su` to the account. On NixOS a hash goes to a root-only file outside the Nix store (`hashedPasswordFile`), and `secret.onHost(path)` names one already there (agenix, sops-nix).",
    },
    authorizedKeys: {
      type: 'array',
      items: authorizedKey,
      description: 'The exact set of lines of ~/.ssh/authorized_keys (`ssh-ed25519 AAAA... me@laptop`, options allowed).',
    },
    state: { enum: ['present', 'absent'], description: '`present` (default) creates or changes the account; `absent` removes it (see removeHome and force).' },
    removeHome: { type: 'boolean', description: "With state 'absent': remove the home directory and mail spool too." },
    force: { type: 'boolean', description: "With state 'absent': kill the user's processes (their sessions included) instead of failing while they run." },
  },
  additionalProperties: false,
  allOf: [
    {
      if: { properties: { state: { const: 'absent' } }, required: ['state'] },
      then: {
        not: {
          anyOf: ['uid', 'group', 'groups', 'append', 'shell', 'home', 'createHome', 'system', 'comment', 'passwordHash', 'authorizedKeys'].map((k) => ({ required: [k] })),
        },
      },
      else: { not: { anyOf: [{ required: ['removeHome'] }, { required: ['force'] }] } },
    },
    { if: { required: ['append'] }, then: { required: ['groups'] } },
  ],
} as const;

export type WantedUser = WantedPresentUser | WantedAbsentUser;

export interface WantedPresentUser {
  readonly state: 'present';
  readonly name: string;
  readonly uid?: number;
  readonly group?: string;
  readonly groups?: readonly string[];
  readonly append: boolean;
  readonly shell?: string;
  readonly home?: string;
  /** Undefined: the default (create on useradd unless system), without touching existing users. */
  readonly createHome?: boolean;
  readonly system: boolean;
  readonly comment?: string;
  readonly passwordHash?: string;
  /** A file on the host holding the hash (secret.onHost): used on NixOS only. */
  readonly passwordHashFile?: string;
  readonly authorizedKeys?: readonly string[];
}

export interface WantedAbsentUser {
  readonly state: 'absent';
  readonly name: string;
  readonly removeHome: boolean;
  readonly force: boolean;
}

/** crypt(3) output (`$id$...`), a DES hash (13 characters), or a locked marker ('!', '!' before a hash, '*'). */
const CRYPT_HASH = /^(\$[0-9a-z]+\$[^:\n]+|[./0-9A-Za-z]{13}|!.*|\*.*)$/;

export function resolveUser(p: UserParams): WantedUser {
  if (p.state === 'absent') return { state: 'absent', name: p.name, removeHome: p.removeHome ?? false, force: p.force ?? false };
  const onHost = isSecret(p.passwordHash) ? hostPathOf(p.passwordHash) : undefined;
  const hash = onHost !== undefined ? undefined : isSecret(p.passwordHash) ? revealSecret(p.passwordHash) : p.passwordHash;
  if (hash === '') {
    // Typically `process.env.HASH ?? ''` with HASH unset: an empty shadow field lets anyone log in as the user without a password.
    throw new Error(
      "parameter 'passwordHash' is empty, which would let anyone log in as this user without a password (su, the console): give a crypt(3) hash, or '!' to lock the password explicitly, or leave passwordHash out to leave the password as it is",
    );
  }
  if (hash !== undefined && (!CRYPT_HASH.test(hash) || hash.includes(':'))) {
    throw new Error(
      "parameter 'passwordHash' is not a crypt(3) hash (value not shown: it may be a password): give a hash such as the output of `openssl passwd -6` or `mkpasswd -m yescrypt`, or '!' to lock the password",
    );
  }
  const optional = <K extends keyof UserParams>(key: K) => (p[key] !== undefined ? { [key]: p[key] } : {});
  return {
    state: 'present',
    name: p.name,
    append: p.append ?? false,
    system: p.system ?? false,
    ...optional('uid'),
    ...optional('group'),
    ...optional('groups'),
    ...optional('shell'),
    ...optional('home'),
    ...optional('createHome'),
    ...optional('comment'),
    ...(hash !== undefined ? { passwordHash: hash } : {}),
    ...(onHost !== undefined ? { passwordHashFile: onHost } : {}),
    ...(p.authorizedKeys !== undefined ? { authorizedKeys: p.authorizedKeys.map((k) => k.trim()) } : {}),
  } as WantedPresentUser;
}
