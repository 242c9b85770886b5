/**
 * Secrets as values, not strings. A `Secret` says where a value comes from
 * (an environment variable, a file only you can read, a program such as
 * `pass` or `sops`); the value is read once per run, on the control
 * machine, when a task that needs it is prepared (see scope.ts), and only
 * the modules that take a Secret ever see it. Everything hostform prints
 * has it masked, and it reaches a host only as data (standard input, a
 * file written 0600), never on a command line. docs/secrets.md.
 *
 * A Secret is not a string, for the type checker and at run time: it
 * cannot be put in a template literal or joined to text by mistake (that
 * throws, saying what to do); `unsafeSecretText(secret)` is the one
 * explicit, greppable way to get its text into a string.
 */
import { inspect } from 'node:util';

/** Where a secret's value is read from; the engine reads it (sources.ts). */
export type SecretSource =
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string; readonly exact: boolean }
  | { readonly kind: 'command'; readonly argv: readonly string[]; readonly exact: boolean; readonly firstLine: boolean }
  /** A file already on the managed host (agenix, sops-nix): never read by hostform, see secret.onHost(). */
  | { readonly kind: 'host'; readonly path: string };

/** How a value read from a file or a program's output is taken. */
export interface ReadOptions {
  /**
   * Keep the value byte for byte. Without it one line break at the end
   * (`\n` or `\r\n`) is dropped, as `echo secret > file` and most programs
   * add one: a key file whose last newline matters needs `exact: true`.
   */
  readonly exact?: boolean;
}

const sources = new WeakMap<Secret, SecretSource>();

export class Secret {
  /** Where the value comes from, as messages show it: `pass show homeserver/restic`, `environment variable TOKEN`. Never the value. */
  readonly source: string;

  /** Use the `secret.*` functions; the constructor is for this file. */
  private constructor(source: SecretSource) {
    this.source = describeSource(source);
    sources.set(this, source);
  }

  /** @internal */
  static from(source: SecretSource): Secret {
    return new Secret(source);
  }

  /** For a secret that lives on the managed host (secret.onHost), its path there; undefined for one read on the control machine. */
  get hostPath(): string | undefined {
    return hostPathOf(this);
  }

  /** `(secret: pass show x)`: what JSON.stringify makes of a Secret, never its value. */
  toJSON(): string {
    return `(secret: ${this.source})`;
  }

  /** Text made of a Secret would hold its value unmasked, or `[object Object]` in a config file: refused, saying what to do. */
  [Symbol.toPrimitive](): never {
    throw new TypeError(
      `a Secret (${this.source}) was used as text: give it to a parameter that takes a Secret (docs/secrets.md lists them), or, to embed it in a file's template, use unsafeSecretText(secret)`,
    );
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

/** Whether a value is a Secret. */
export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/** The source of a secret, for the engine that reads it. */
export function sourceOf(secret: Secret): SecretSource {
  return sources.get(secret) as SecretSource;
}

/** The same source, for caching: two `secret.pass('x')` of one run are read once. */
export function sourceKey(source: SecretSource): string {
  return JSON.stringify(source);
}

function describeSource(source: SecretSource): string {
  switch (source.kind) {
    case 'env':
      return `environment variable ${source.name}`;
    case 'file':
      return `file ${source.path}`;
    case 'command':
      return source.argv.map((word) => (/^[A-Za-z0-9_@%+=:,./~-]+$/.test(word) ? word : JSON.stringify(word))).join(' ');
    case 'host':
      return `file ${source.path} on the host`;
  }
}

/** The path of a secret that lives on the managed host (secret.onHost()), or undefined for one read on the control machine. */
export function hostPathOf(secret: Secret): string | undefined {
  const source = sourceOf(secret);
  return source.kind === 'host' ? source.path : undefined;
}

/**
 * Where secrets come from. Each call only says where; nothing is read
 * until a run needs the value, and then once per run.
 *
 *   secret.env('CLOUDFLARE_DNS_TOKEN')
 *   secret.file('~/.config/homeserver/grafana-admin')        // 0600, yours
 *   secret.pass('homeserver/restic')                           // the entry's first line
 *   secret.sops('secrets.yaml', '["smtp"]["password"]')
 *   secret.age('secrets/traefik.age', { identity: '~/.config/age/key.txt' })
 *   secret.op('op://Home/SMTP/password')
 *   secret.vault('secret/homeserver', 'dns_token')
 *   secret.command(['my-vault-cli', 'get', 'restic'])
 *   secret.onHost('/run/agenix/restic')                        // already on the host
 */
export const secret = {
  /** An environment variable of the `play` process. Unset or empty fails the run: there is no fallback value. */
  env(name: string): Secret {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`secret.env('${name}'): not an environment variable name`);
    return Secret.from({ kind: 'env', name });
  },

  /**
   * A file on the control machine that only you may read: yours, and no
   * permission for group or others (`chmod 600`), else the run stops
   * saying so. `~/` is your home directory; a relative path is taken from
   * where `play` runs.
   */
  file(path: string, options: ReadOptions = {}): Secret {
    return Secret.from({ kind: 'file', path, exact: options.exact ?? false });
  },

  /** What a program prints on its standard output (no shell: the words are passed as given). Its standard input is yours, for a passphrase prompt. */
  command(argv: readonly string[], options: ReadOptions = {}): Secret {
    if (argv.length === 0 || argv[0] === '') throw new TypeError('secret.command([]): give the program and its arguments');
    return Secret.from({ kind: 'command', argv: [...argv], exact: options.exact ?? false, firstLine: false });
  },

  /** An entry of the standard Unix password store: the first line of `pass show NAME`, as `pass -c` copies it. */
  pass(name: string): Secret {
    return Secret.from({ kind: 'command', argv: ['pass', 'show', name], exact: false, firstLine: true });
  },

  /** A value of a sops-encrypted file: `sops --decrypt --extract '["a"]["b"]' FILE`, or the whole file without `extract`. */
  sops(file: string, extract?: string, options: ReadOptions = {}): Secret {
    return Secret.from({ kind: 'command', argv: ['sops', '--decrypt', ...(extract !== undefined ? ['--extract', extract] : []), file], exact: options.exact ?? false, firstLine: false });
  },

  /** An age-encrypted file: `age --decrypt --identity IDENTITY FILE`. */
  age(file: string, options: ReadOptions & { readonly identity: string }): Secret {
    return Secret.from({ kind: 'command', argv: ['age', '--decrypt', '--identity', options.identity, file], exact: options.exact ?? false, firstLine: false });
  },

  /** A 1Password secret reference: `op read 'op://vault/item/field'`. */
  op(reference: string): Secret {
    return Secret.from({ kind: 'command', argv: ['op', 'read', reference], exact: false, firstLine: false });
  },

  /** A field of a HashiCorp Vault key/value secret: `vault kv get -field=FIELD PATH`. */
  vault(path: string, field: string): Secret {
    return Secret.from({ kind: 'command', argv: ['vault', 'kv', 'get', `-field=${field}`, path], exact: false, firstLine: false });
  },

  /**
   * A secret file that is already on the managed host, put there by a tool
   * of its own (agenix, sops-nix, a vault agent): hostform never reads it.
   * Parameters that can use a file on the host take it and use its path
   * (the backup role's password, a user's password hash on NixOS); any
   * other refuses it, since its value never reaches the control machine.
   */
  onHost(path: string): Secret {
    if (!path.startsWith('/')) throw new TypeError(`secret.onHost('${path}'): give the absolute path of the secret file on the host`);
    return Secret.from({ kind: 'host', path });
  },
};
