import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import type { ObservedPath } from '../file/observe.ts';
import type { WantedPath } from '../file/params.ts';
import { evr, nevra, type ObservedPackages, type RepoAnswer, type RepoPackage, type RpmPackage } from './observe.ts';
import type { PackageSpec, WantedPackages, WantedRepo } from './params.ts';
import { ANY_REPO, PackageResource, RepoResource } from './resources.ts';

/** One dnf shell command's worth of work; all of a task's (or a batch's) actions run in one transaction. */
export type PackageAction =
  | { readonly do: 'install'; readonly spec: string }
  | { readonly do: 'upgrade'; readonly spec: string }
  | { readonly do: 'remove'; readonly spec: string };

// ── packages ─────────────────────────────────────────────────────────────

/** Pure: the installs, pin changes, upgrades and removals that make the host match the task. */
export function planPackages(w: WantedPackages, observed: ObservedPackages, context: PlanContext): Change<PackageAction>[] {
  return [
    ...w.present.flatMap((s) => planPresent(s, observed, context)),
    ...w.latest.flatMap((s) => planLatest(s, observed, context)),
    ...w.absent.flatMap((s) => planAbsent(s, observed, context)),
  ];
}

function planPresent(s: PackageSpec, observed: ObservedPackages, context: PlanContext): Change<PackageAction>[] {
  const planned = context.planned.get(PackageResource, s.spec);
  if (planned) return planned.present ? [] : [install(s, observed, context)];
  if (installedAs(s, observed).length > 0) return [];
  const other = otherVersion(s, observed);
  if (other) {
    const target = observed.repo ? availableFor(s, observed, context) : undefined;
    const to = target ? evr(target) : other.pinned;
    return [
      {
        summary: `change ${other.pkg.name} ${evr(other.pkg)} → ${to} (pinned ${s.spec})`,
        diff: `~ ${other.pkg.name} ${evr(other.pkg)} → ${to}`,
        action: { do: 'install', spec: s.spec },
      },
    ];
  }
  return [install(s, observed, context)];
}

function planLatest(s: PackageSpec, observed: ObservedPackages, context: PlanContext): Change<PackageAction>[] {
  const planned = context.planned.get(PackageResource, s.spec);
  if (planned) return planned.present ? [] : [install(s, observed, context)];
  const current = installedAs(s, observed);
  if (current.length === 0) return [install(s, observed, context)];
  const upgrade = repoAnswer(observed, s, context).upgrades.get(s.spec);
  if (!upgrade) return [];
  const from = current.find((p) => p.name === upgrade.name) ?? current[0];
  const before = from ? `${evr(from)} → ` : '';
  return [
    {
      summary: `upgrade ${upgrade.name} ${before}${evr(upgrade)}`,
      diff: `~ ${upgrade.name} ${before}${evr(upgrade)}`,
      action: { do: 'upgrade', spec: s.spec },
    },
  ];
}

function planAbsent(s: PackageSpec, observed: ObservedPackages, context: PlanContext): Change<PackageAction>[] {
  const planned = context.planned.get(PackageResource, s.spec);
  if (planned) {
    return planned.present ? [{ summary: `remove ${s.spec} (installed by an earlier task)`, diff: `- ${s.spec}`, action: { do: 'remove', spec: s.spec } }] : [];
  }
  // Remove exactly what is installed now, by full name: `absent: ['/usr/bin/x']` removes x's package, nothing else.
  return installedAs(s, observed).map((p) => ({
    summary: `remove ${p.name} ${evr(p)}`,
    diff: `- ${p.name} ${evr(p)}`,
    action: { do: 'remove', spec: nevra(p) },
  }));
}

function install(s: PackageSpec, observed: ObservedPackages, context: PlanContext): Change<PackageAction> {
  // Not asked when the host has the package and only an earlier task's removal makes it missing.
  const pkg = observed.repo ? availableFor(s, observed, context) : undefined;
  const shown = pkg ? `${pkg.name} ${evr(pkg)}` : s.spec;
  const via = pkg && pkg.name !== s.spec && !s.spec.startsWith(`${pkg.name}-`) ? ` (for ${s.spec})` : '';
  const from = pkg ? ` from ${pkg.repo}` : observed.repo ? ' (from a repository an earlier task adds)' : '';
  return { summary: `install ${shown}${via}${from}`, diff: `+ ${shown}${via}`, action: { do: 'install', spec: s.spec } };
}

/** Installed packages the spec matches: by name, pin or name.arch first, else by what they provide. */
function installedAs(s: PackageSpec, observed: ObservedPackages): readonly RpmPackage[] {
  const exact = observed.installed.get(s.spec) ?? [];
  return exact.length > 0 ? exact : (observed.providers.get(s.spec) ?? []);
}

/** For a pin not installed as pinned: the same package installed at another version. */
function otherVersion(s: PackageSpec, observed: ObservedPackages): { pkg: RpmPackage; pinned: string } | undefined {
  for (const pin of s.pins) {
    const pkg = observed.installed.get(pin.name)?.find((p) => p.name === pin.name);
    if (pkg) return { pkg, pinned: pin.version };
  }
  return undefined;
}

/**
 * The package dnf would install for the spec. Undefined only when an earlier
 * task of this run adds a repository (check mode cannot look into it yet);
 * otherwise a spec no repository offers fails here, before anything changes.
 */
function availableFor(s: PackageSpec, observed: ObservedPackages, context: PlanContext): RepoPackage | undefined {
  const pkg = repoAnswer(observed, s, context).available.get(s.spec);
  if (pkg) return pkg;
  if (context.planned.get(RepoResource, ANY_REPO)) return undefined;
  throw new Error(
    `no package matches ${JSON.stringify(s.spec)} in the enabled repositories: check the name (dnf search, dnf provides), or add its repository with repo({...}) before this task, or enable it with enableRepos`,
  );
}

function repoAnswer(observed: ObservedPackages, s: PackageSpec, context: PlanContext): Extract<RepoAnswer, { available: unknown }> {
  const repo = observed.repo;
  if (!repo) throw new Error(`internal: the probe did not ask the repositories about ${s.spec}`);
  if (!('error' in repo)) return repo;
  // In check mode a repository an earlier task adds is not there yet: dnf may refuse an enableRepos naming it.
  if (context.planned.get(RepoResource, ANY_REPO)) return { available: new Map(), upgrades: new Map() };
  throw new Error(
    `cannot read the package repositories (needed for ${s.spec}):\n  ${repo.error}\n  check the repository files in /etc/yum.repos.d and the network, or disable the failing repository with disableRepos`,
  );
}

/** The packages as the task leaves them, for the tasks after it in check mode. */
export function packagesEffects(w: WantedPackages): Effect[] {
  return [
    ...[...w.present, ...w.latest].map((s) => effect(PackageResource, s.spec, { present: true })),
    ...w.absent.map((s) => effect(PackageResource, s.spec, { present: false })),
  ];
}

// ── repo: the file module plans the file; a repo file only adds its secrecy ──

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

/** The repo file, the repository, and "some repository changes" (ANY_REPO), for the tasks after it in check mode. */
export function repoEffects(r: WantedRepo): Effect[] {
  const present = r.file.state !== 'absent';
  const after =
    r.file.state === 'file'
      ? ({ type: 'file', content: r.file.content, ...(r.file.mode ? { mode: r.file.mode } : {}), owner: 'root', group: 'root', ...(r.file.secret ? { secret: true } : {}) } as const)
      : ({ type: 'absent' } as const);
  return [effect(PathResource, r.file.path, after), effect(RepoResource, r.name, { present }), effect(RepoResource, ANY_REPO, { present: true })];
}
