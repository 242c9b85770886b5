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
    present: specList,
    absent: specList,
    latest: specList,
    enableRepos: repoIdList,
    disableRepos: repoIdList,
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
