import { revealSecret } from '../../lib/secret/scope.ts';
import { isSecret, type Secret } from '../../lib/secret/secret.ts';
import type { WantedPath } from '../file/params.ts';

// ── packages ─────────────────────────────────────────────────────────────

/** What a `packages` task asks for. Every list holds dnf package specs. */
export interface PackagesParams {
  /**
   * Installed in any version, or at the pinned one: a name (`nginx`), a pin
   * (`nginx-1.20.1`, `nginx-1.20.1-14.el9`), a name with arch (`nginx.x86_64`),
   * a file (`/usr/bin/restic`) or a virtual provide (`webserver`, `perl(JSON)`).
   */
  readonly present?: readonly string[];
  /** Not installed: every installed package matching the spec is removed. */
  readonly absent?: readonly string[];
  /** Installed and upgraded to the newest version the enabled repositories offer. */
  readonly latest?: readonly string[];
  /** Repository ids (globs allowed) enabled for this task's dnf calls only. */
  readonly enableRepos?: readonly string[];
  /** Repository ids (globs allowed) disabled for this task's dnf calls only; applied before enableRepos. */
  readonly disableRepos?: readonly string[];
}

// A spec never starts with '-' (it would read as a dnf option) and holds no
// space, quote, glob or comma: each of those changes what dnf or rpm would match.
const spec = {
  type: 'string',
  pattern: '^[A-Za-z0-9_/+.(][A-Za-z0-9_/+.:~^()-]*$',
  maxLength: 256,
  'x-expected': 'a package name, capability or file, such as "nginx", "nginx-1.20.1" or "perl(JSON)" (no blank, quote, glob or comma; not starting with -)',
} as const;
const specList = { type: 'array', items: spec } as const;
const repoIdList = { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_.:*?[\\]][A-Za-z0-9_.:*?[\\]-]*$', maxLength: 128, 'x-expected': 'a repository id or glob, such as "crb" or "epel*" (not starting with -)' } } as const;

export const packagesSchema = {
  type: 'object',
  properties: {
    present: {
      ...specList,
      description:
        'Installed in any version, or at the pinned one: a name (`nginx`), a pin (`nginx-1.20.1`, `nginx-1.20.1-14.el9`), a name with arch (`nginx.x86_64`), a file (`/usr/bin/restic`) or a virtual provide (`webserver`, `perl(JSON)`).',
    },
    absent: { ...specList, description: 'Not installed: every installed package matching the spec is removed.' },
    latest: { ...specList, description: 'Installed and upgraded to the newest version the enabled repositories offer.' },
    enableRepos: { ...repoIdList, description: "Repository ids (globs allowed) enabled for this task's dnf calls only." },
    disableRepos: { ...repoIdList, description: "Repository ids (globs allowed) disabled for this task's dnf calls only; applied before enableRepos." },
  },
  anyOf: [{ required: ['present'] }, { required: ['absent'] }, { required: ['latest'] }],
  additionalProperties: false,
} as const;

/**
 * A spec and the package names it may stand for. `hostform-test-b-1.0-1`
 * might be the name of a package or the pin `hostform-test-b` at `1.0-1`;
 * only the rpm database can tell, so both readings are kept.
 */
export interface PackageSpec {
  readonly spec: string;
  /** Pin readings: the name before a '-' that is followed by a version, and that version. */
  readonly pins: readonly { readonly name: string; readonly version: string }[];
}

/** Parameters made concrete for one host. */
export interface WantedPackages {
  readonly present: readonly PackageSpec[];
  readonly absent: readonly PackageSpec[];
  readonly latest: readonly PackageSpec[];
  readonly enableRepos: readonly string[];
  readonly disableRepos: readonly string[];
}

export function resolvePackages(p: PackagesParams): WantedPackages {
  const lists = { present: p.present ?? [], absent: p.absent ?? [], latest: p.latest ?? [] };
  const seen = new Map<string, string>();
  for (const [list, specs] of Object.entries(lists)) {
    for (const s of specs) {
      const other = seen.get(s);
      if (other !== undefined && other !== list) {
        throw new Error(`parameter '${list}' and parameter '${other}' both name ${JSON.stringify(s)}; keep it in one list`);
      }
      seen.set(s, list);
    }
  }
  return {
    present: unique(lists.present).map(parseSpec),
    absent: unique(lists.absent).map(parseSpec),
    latest: unique(lists.latest).map(parseSpec),
    enableRepos: p.enableRepos ?? [],
    disableRepos: p.disableRepos ?? [],
  };
}

/** `a-b-1.0-1` → pins `a-b` at `1.0-1` and `a-b-1.0` at `1`: every '-' followed by a digit (an epoch `1:` included). */
export function parseSpec(spec: string): PackageSpec {
  const pins: { name: string; version: string }[] = [];
  if (!spec.startsWith('/')) {
    for (let i = spec.indexOf('-'); i > 0; i = spec.indexOf('-', i + 1)) {
      const version = spec.slice(i + 1);
      if (/^[0-9]/.test(version)) pins.push({ name: spec.slice(0, i), version });
    }
  }
  return { spec, pins };
}

/** Every spec of a task, each once, in the order given. */
export function allSpecs(w: WantedPackages): PackageSpec[] {
  return [...w.present, ...w.latest, ...w.absent];
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

// ── repo ─────────────────────────────────────────────────────────────────

/** A dnf repository, written to /etc/yum.repos.d/<name>.repo. */
export interface RepoParams {
  /** Repository id: the `[section]` and the file name; what enableRepos/disableRepos name. */
  readonly name: string;
  /** Human-readable name (the file's `name=`); defaults to the id. */
  readonly description?: string;
  /** Base URL(s) of the repository (`baseurl=`). One of baseurl, metalink or mirrorlist says where the packages are. */
  readonly baseurl?: string | readonly string[];
  /** URL of a metalink listing the mirrors and the metadata's checksums (`metalink=`). One of baseurl, metalink or mirrorlist says where the packages are. */
  readonly metalink?: string;
  /** URL of a list of mirrors (`mirrorlist=`). One of baseurl, metalink or mirrorlist says where the packages are. */
  readonly mirrorlist?: string;
  /** Whether dnf uses the repository without `--enablerepo` (`enabled=`). Default true. */
  readonly enabled?: boolean;
  /** Check package signatures: on unless you say otherwise. */
  readonly gpgcheck?: boolean;
  /** URL(s) of the signing key(s), e.g. `file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9` or https://... */
  readonly gpgkey?: string | readonly string[];
  /** Check the signature of the repository's metadata too (`repo_gpgcheck=`). */
  readonly repoGpgcheck?: boolean;
  /** 1 to 99: a package in a repository with a lower number wins over the same package elsewhere (`priority=`; dnf's default 99). */
  readonly priority?: number;
  /** Relative cost of reaching the repository (`cost=`): of equal packages, dnf takes the cheaper repository's (default 1000). */
  readonly cost?: number;
  /** Let dnf carry on without the repository when it cannot be reached (`skip_if_unavailable=`). */
  readonly skipIfUnavailable?: boolean;
  /** How long downloaded metadata stays fresh (`metadata_expire=`): `6h`, `1d`, `never`, ... */
  readonly metadataExpire?: string;
  /** Take only these packages from the repository (`includepkgs=`; names, globs allowed). */
  readonly includepkgs?: readonly string[];
  /** Never take these packages from the repository (`excludepkgs=`; names, globs allowed). */
  readonly excludepkgs?: readonly string[];
  /** Let packages from this repository override modular filtering (`module_hotfixes=`), as repositories of non-modular builds need. */
  readonly moduleHotfixes?: boolean;
  /** Check the server's TLS certificate (`sslverify=`). Default true. */
  readonly sslverify?: boolean;
  /** User name for HTTP basic authentication to the repository (`username=`). */
  readonly username?: string;
  /** Password for HTTP basic authentication (`password=`): text or a Secret. Makes the whole file secret: never shown in diffs or parameter errors, and the file is 0600. */
  readonly password?: string | Secret;
  /** Any other dnf repository option, written after the known ones in name order; one whose name holds `password` makes the file secret too. */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
  /** 'present' (default) writes /etc/yum.repos.d/<name>.repo; 'absent' removes it. */
  readonly state?: 'present' | 'absent';
}

/**
 * One value line as libdnf reads it: no line break (LF ends a line, CR is
 * one for Python readers of the same files), no NUL, and no space or tab at
 * either end (libdnf strips them, so the value would not arrive as given).
 */
const line = { type: 'string', pattern: '^(?![ \\t])[^\\r\\n\\u0000]*(?<![ \\t])$', 'x-expected': 'one line (no line break or NUL) without blanks at either end' } as const;
const url = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9+.-]*://[^\\s\\u0000]+$', 'x-expected': 'a URL such as "https://example.org/repo/" (no blanks)' } as const;
const oneOrMore = (item: object) => ({ anyOf: [item, { type: 'array', items: item, minItems: 1 }] });
const word = { type: 'string', pattern: '^[^\\s,\\u0000]+$', 'x-expected': 'a package name or glob without blanks or commas' } as const;

export const repoSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    // No leading '-': the id is what dnf's --enablerepo and `dnf config-manager` take.
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.:][A-Za-z0-9_.:-]*$',
      maxLength: 100,
      'x-expected': 'a repository id (letters, digits, _, ., : and -, not starting with -)',
      description: 'Repository id: the `[section]` and the file name; what enableRepos/disableRepos name.',
    },
    description: { ...line, description: "Human-readable name (the file's `name=`); defaults to the id." },
    baseurl: { ...oneOrMore(url), description: 'Base URL(s) of the repository (`baseurl=`). One of baseurl, metalink or mirrorlist says where the packages are.' },
    metalink: {
      ...url,
      description: "URL of a metalink listing the mirrors and the metadata's checksums (`metalink=`). One of baseurl, metalink or mirrorlist says where the packages are.",
    },
    mirrorlist: { ...url, description: 'URL of a list of mirrors (`mirrorlist=`). One of baseurl, metalink or mirrorlist says where the packages are.' },
    enabled: { type: 'boolean', description: 'Whether dnf uses the repository without `--enablerepo` (`enabled=`). Default true.' },
    gpgcheck: { type: 'boolean', description: 'Check package signatures: on unless you say otherwise.' },
    gpgkey: { ...oneOrMore(url), description: 'URL(s) of the signing key(s), e.g. `file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9` or https://...' },
    repoGpgcheck: { type: 'boolean', description: "Check the signature of the repository's metadata too (`repo_gpgcheck=`)." },
    priority: {
      type: 'integer',
      minimum: 1,
      maximum: 99,
      description: "1 to 99: a package in a repository with a lower number wins over the same package elsewhere (`priority=`; dnf's default 99).",
    },
    cost: {
      type: 'integer',
      minimum: 0,
      description: "Relative cost of reaching the repository (`cost=`): of equal packages, dnf takes the cheaper repository's (default 1000).",
    },
    skipIfUnavailable: { type: 'boolean', description: 'Let dnf carry on without the repository when it cannot be reached (`skip_if_unavailable=`).' },
    metadataExpire: {
      type: 'string',
      pattern: '^([0-9]+[smhd]?|never)$',
      'x-expected': 'a time such as "6h", "90m" or "2d", a number of seconds, or "never"',
      description: 'How long downloaded metadata stays fresh (`metadata_expire=`): `6h`, `1d`, `never`, ...',
    },
    includepkgs: { type: 'array', items: word, description: 'Take only these packages from the repository (`includepkgs=`; names, globs allowed).' },
    excludepkgs: { type: 'array', items: word, description: 'Never take these packages from the repository (`excludepkgs=`; names, globs allowed).' },
    moduleHotfixes: {
      type: 'boolean',
      description: 'Let packages from this repository override modular filtering (`module_hotfixes=`), as repositories of non-modular builds need.',
    },
    sslverify: { type: 'boolean', description: "Check the server's TLS certificate (`sslverify=`). Default true." },
    username: { ...line, description: 'User name for HTTP basic authentication to the repository (`username=`).' },
    password: {
      anyOf: [line, { jsType: 'secret' }],
      sensitive: true,
      description: 'Password for HTTP basic authentication (`password=`): text or a Secret. Makes the whole file secret: never shown in diffs or parameter errors, and the file is 0600.',
    },
    options: {
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-z0-9_]*$', 'x-expected': 'a dnf option name such as "proxy" (lower case letters, digits and _)' },
      // proxy_password and the like are as secret as password.
      patternProperties: { password: { anyOf: [line, { type: 'number' }, { type: 'boolean' }], sensitive: true } },
      additionalProperties: { anyOf: [line, { type: 'number' }, { type: 'boolean' }] },
      description: 'Any other dnf repository option, written after the known ones in name order; one whose name holds `password` makes the file secret too.',
    },
    state: { enum: ['present', 'absent'], description: "'present' (default) writes /etc/yum.repos.d/<name>.repo; 'absent' removes it." },
  },
  additionalProperties: false,
  if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
  then: { oneOf: [{ required: ['baseurl'] }, { required: ['metalink'] }, { required: ['mirrorlist'] }] },
} as const;

export interface WantedRepo {
  readonly name: string;
  readonly file: WantedPath;
}

export const REPOS_DIR = '/etc/yum.repos.d';

/** The file's text: known keys in a fixed order, then `options` by name, so the file never churns. A Secret password is given here as its text. */
export function renderRepo(p: Omit<RepoParams, 'password'> & { readonly password?: string | undefined }): string {
  const flag = (value: boolean | undefined) => (value === undefined ? undefined : value ? '1' : '0');
  const list = (value: string | readonly string[] | undefined) => (value === undefined ? undefined : typeof value === 'string' ? value : value.join(' '));
  const known: [string, string | undefined][] = [
    ['name', p.description ?? p.name],
    ['baseurl', list(p.baseurl)],
    ['metalink', p.metalink],
    ['mirrorlist', p.mirrorlist],
    ['enabled', flag(p.enabled ?? true)],
    ['gpgcheck', flag(p.gpgcheck ?? true)],
    ['gpgkey', list(p.gpgkey)],
    ['repo_gpgcheck', flag(p.repoGpgcheck)],
    ['priority', p.priority?.toString()],
    ['cost', p.cost?.toString()],
    ['skip_if_unavailable', flag(p.skipIfUnavailable)],
    ['metadata_expire', p.metadataExpire],
    ['includepkgs', p.includepkgs?.join(' ')],
    ['excludepkgs', p.excludepkgs?.join(' ')],
    ['module_hotfixes', flag(p.moduleHotfixes)],
    ['sslverify', flag(p.sslverify)],
    ['username', p.username],
    ['password', p.password],
  ];
  const taken = new Set(known.map(([key]) => key));
  const extra = Object.entries(p.options ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key] of extra) {
    if (taken.has(key)) throw new Error(`parameter 'options.${key}' repeats an option repo() has a parameter for; use that parameter instead`);
  }
  const value = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  const lines = [
    `[${p.name}]`,
    ...known.filter((entry): entry is [string, string] => entry[1] !== undefined).map(([key, v]) => `${key}=${v}`),
    ...extra.map(([key, v]) => `${key}=${value(v)}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function resolveRepo(p: RepoParams): WantedRepo {
  const path = `${REPOS_DIR}/${p.name}.repo`;
  if (p.state === 'absent') return { name: p.name, file: { state: 'absent', path, secret: false } };
  const password = isSecret(p.password) ? revealSecret(p.password) : p.password;
  if (isSecret(p.password) && /[\r\n\0]/.test(password ?? '')) {
    throw new Error(`parameter 'password' (secret from ${p.password.source}) holds a line break or NUL, which would end its line of the repository file; the value is not shown`);
  }
  const secret = password !== undefined || Object.keys(p.options ?? {}).some((key) => key.includes('password'));
  return {
    name: p.name,
    file: {
      state: 'file',
      path,
      content: Buffer.from(renderRepo({ ...p, password }), 'utf8'),
      // Readable by all unless it holds a password (dnf runs as root).
      mode: secret ? '0600' : '0644',
      owner: 'root',
      group: 'root',
      force: false,
      secret,
    },
  };
}
