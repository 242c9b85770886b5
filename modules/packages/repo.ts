import { defineModule } from '../../lib/module/define.ts';
import { effect, PathResource } from '../../lib/module/resources.ts';
import type { Backend } from '../../lib/module/types.ts';
import { applyPath } from '../file/apply.ts';
import { parsePathProbe, pathProbe, type ObservedPath } from '../file/observe.ts';
import type { WantedPath } from '../file/params.ts';
import { planPath, type FileAction } from '../file/plan.ts';
import { ANY_REPO, RepoResource } from './resources.ts';

/** A dnf repository, written to /etc/yum.repos.d/<name>.repo. */
export interface RepoParams {
  /** Repository id: the `[section]` and the file name; what enableRepos/disableRepos name. */
  readonly name: string;
  /** Human-readable name (the file's `name=`); defaults to the id. */
  readonly description?: string;
  /** One of baseurl, metalink or mirrorlist says where the packages are. */
  readonly baseurl?: string | readonly string[];
  readonly metalink?: string;
  readonly mirrorlist?: string;
  readonly enabled?: boolean;
  /** Check package signatures: on unless you say otherwise. */
  readonly gpgcheck?: boolean;
  /** URL(s) of the signing key(s), e.g. `file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9` or https://... */
  readonly gpgkey?: string | readonly string[];
  readonly repoGpgcheck?: boolean;
  readonly priority?: number;
  readonly cost?: number;
  readonly skipIfUnavailable?: boolean;
  /** `6h`, `1d`, `never`, ... */
  readonly metadataExpire?: string;
  readonly includepkgs?: readonly string[];
  readonly excludepkgs?: readonly string[];
  readonly moduleHotfixes?: boolean;
  readonly sslverify?: boolean;
  readonly username?: string;
  /** Makes the whole file secret: never shown in diffs or parameter errors, and the file is 0600. */
  readonly password?: string;
  /** Any other dnf repository option, written after the known ones in name order; one whose name holds `password` makes the file secret too. */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
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
    name: { type: 'string', pattern: '^[A-Za-z0-9_.:][A-Za-z0-9_.:-]*$', maxLength: 100, 'x-expected': 'a repository id (letters, digits, _, ., : and -, not starting with -)' },
    description: line,
    baseurl: oneOrMore(url),
    metalink: url,
    mirrorlist: url,
    enabled: { type: 'boolean' },
    gpgcheck: { type: 'boolean' },
    gpgkey: oneOrMore(url),
    repoGpgcheck: { type: 'boolean' },
    priority: { type: 'integer', minimum: 1, maximum: 99 },
    cost: { type: 'integer', minimum: 0 },
    skipIfUnavailable: { type: 'boolean' },
    metadataExpire: { type: 'string', pattern: '^([0-9]+[smhd]?|never)$', 'x-expected': 'a time such as "6h", "90m" or "2d", a number of seconds, or "never"' },
    includepkgs: { type: 'array', items: word },
    excludepkgs: { type: 'array', items: word },
    moduleHotfixes: { type: 'boolean' },
    sslverify: { type: 'boolean' },
    username: line,
    password: { ...line, sensitive: true },
    options: {
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-z0-9_]*$', 'x-expected': 'a dnf option name such as "proxy" (lower case letters, digits and _)' },
      // proxy_password and the like are as secret as password.
      patternProperties: { password: { anyOf: [line, { type: 'number' }, { type: 'boolean' }], sensitive: true } },
      additionalProperties: { anyOf: [line, { type: 'number' }, { type: 'boolean' }] },
    },
    state: { enum: ['present', 'absent'] },
  },
  additionalProperties: false,
  if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
  then: { oneOf: [{ required: ['baseurl'] }, { required: ['metalink'] }, { required: ['mirrorlist'] }] },
} as const;

export interface WantedRepo {
  readonly name: string;
  readonly file: WantedPath;
}

const REPOS_DIR = '/etc/yum.repos.d';

/** The file's text: known keys in a fixed order, then `options` by name, so the file never churns. */
export function renderRepo(p: RepoParams): string {
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

function resolveRepo(p: RepoParams): WantedRepo {
  const path = `${REPOS_DIR}/${p.name}.repo`;
  if (p.state === 'absent') return { name: p.name, file: { state: 'absent', path, secret: false } };
  const secret = p.password !== undefined || Object.keys(p.options ?? {}).some((key) => key.includes('password'));
  return {
    name: p.name,
    file: {
      state: 'file',
      path,
      content: Buffer.from(renderRepo(p), 'utf8'),
      // Readable by all unless it holds a password (dnf runs as root).
      mode: secret ? '0600' : '0644',
      owner: 'root',
      group: 'root',
      force: false,
      secret,
    },
  };
}

/** A `password=` or `proxy_password=` line: the file on the host holds a secret. */
const PASSWORD_LINE = /^[ \t]*[a-z0-9_]*password[ \t]*=/im;

/**
 * The repo file as the plan must treat it: secret when the task's file holds
 * a password, and also when the file on the host does (a removal, or an
 * update that drops the password, would otherwise show the old one).
 */
export function withHostSecrecy(file: WantedPath, observed: ObservedPath): WantedPath {
  const onHost = observed.type === 'file' && observed.content !== undefined && PASSWORD_LINE.test(observed.content.toString('utf8'));
  return (file.state === 'file' || file.state === 'absent') && onHost ? { ...file, secret: true } : file;
}

// The file module does the observing, planning and writing; a repo is a file with a known shape.
const repoFile: Backend<WantedRepo, ObservedPath, FileAction> = {
  probes: (r) => ({ path: { script: pathProbe(r.file.path) } }),
  parse: (r, outputs) => parsePathProbe(r.file.path, outputs['path']!),
  plan: (r, observed, context) => planPath(withHostSecrecy(r.file, observed), observed, context),
  apply: (r, changes, context) => applyPath(r.file, changes, context),
  effects: (r) => {
    const present = r.file.state !== 'absent';
    const after =
      r.file.state === 'file'
        ? ({ type: 'file', content: r.file.content, ...(r.file.mode ? { mode: r.file.mode } : {}), owner: 'root', group: 'root', ...(r.file.secret ? { secret: true } : {}) } as const)
        : ({ type: 'absent' } as const);
    return [effect(PathResource, r.file.path, after), effect(RepoResource, r.name, { present }), effect(RepoResource, ANY_REPO, { present: true })];
  },
};

/**
 * A dnf repository file, rendered the same way every time. gpgcheck is on
 * unless you turn it off.
 *
 *   repo({ name: 'epel', metalink: 'https://mirrors.fedoraproject.org/metalink?repo=epel-9&arch=$basearch',
 *          gpgkey: 'file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9' })
 *   repo({ name: 'local', baseurl: 'file:///srv/repo', gpgcheck: false })
 *   repo({ name: 'old', state: 'absent' })
 */
export const repo = defineModule<RepoParams, WantedRepo>({
  name: 'repo',
  schema: repoSchema,
  capabilities: { checkMode: true, diff: true, notes: 'a repository file with a password (in the task or on the host) is shown without its content, and written 0600' },
  describe: (p) => `repo ${typeof p.name === 'string' ? p.name : '?'}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveRepo,
  backends: { el9: repoFile },
});
