import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { applyPath } from '../file/apply.ts';
import { parsePathProbe, pathProbe, pathReads, type ObservedPath } from '../file/observe.ts';
import { planPath, type FileAction } from '../file/plan.ts';
import { applyPackages, applyPackagesBatch } from './apply.ts';
import { nixosPackages } from './nixos.ts';
import { packagesProbe, parsePackagesProbe, type ObservedPackages } from './observe.ts';
import { packagesSchema, repoSchema, resolvePackages, resolveRepo, type PackagesParams, type RepoParams, type WantedPackages, type WantedRepo } from './params.ts';
import { packagesEffects, planPackages, repoEffects, withHostSecrecy, type PackageAction } from './plan.ts';

export type { PackagesParams, RepoParams } from './params.ts';
export { PackageResource, RepoResource } from './resources.ts';

const dnf: Backend<WantedPackages, ObservedPackages, PackageAction, Probes<'packages'>> = {
  probes: (w) => ({ packages: { script: packagesProbe(w) } }),
  parse: (w, outputs) => parsePackagesProbe(w, outputs.packages),
  plan: planPackages,
  apply: applyPackages,
  effects: packagesEffects,
  // A transaction installs and removes files and runs scriptlets.
  widens: true,
  // Tasks in a row that use the same repositories share one dnf transaction.
  batch: {
    key: (w) => JSON.stringify([w.disableRepos, w.enableRepos]),
    apply: applyPackagesBatch,
  },
};

// The file module does the observing, planning and writing; a repo is a file with a known shape.
const repoFile: Backend<WantedRepo, ObservedPath, FileAction, Probes<'path'>> = {
  probes: (r) => ({ path: { script: pathProbe(r.file.path) } }),
  parse: (r, outputs) => parsePathProbe(r.file.path, outputs.path),
  reads: (r) => pathReads(r.file.path),
  plan: (r, observed, context) => planPath(withHostSecrecy(r.file, observed), observed, context),
  apply: (r, changes, context) => applyPath(r.file, changes, context),
  effects: repoEffects,
};

/**
 * Packages installed, pinned, kept at the newest version or removed, with dnf.
 *
 *   packages({ present: ['nginx', '/usr/bin/restic', 'python3-3.9.18'] })
 *   packages({ latest: ['openssl'], absent: ['telnet'] })
 *   packages({ present: ['tailscale'], disableRepos: ['*'], enableRepos: ['tailscale-stable'] })
 *
 * All changes of a task, and of consecutive packages tasks with the same
 * repository options, are one dnf transaction.
 */
export const packages = defineModule<PackagesParams, WantedPackages>({
  name: 'packages',
  schema: packagesSchema,
  capabilities: { checkMode: true, diff: true, changes: ['transaction'], validates: 'dnf resolves the whole transaction before it changes anything', notes: 'latest and new installs ask the repositories (dnf repoquery), never install to find out' },
  describe: describePackages,
  resolve: resolvePackages,
  backends: { el9: dnf, nixos: nixosPackages },
});

function describePackages(p: PackagesParams): string {
  // Also called to name a task whose parameters failed validation: take nothing for granted.
  const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
  const parts = [...list(p.present), ...list(p.latest).map((s) => `${s} (latest)`), ...list(p.absent).map((s) => `-${s}`)];
  const text = parts.join(' ');
  if (text === '') return 'packages';
  return `packages ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

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
  capabilities: { checkMode: true, diff: true, changes: ['atomic-file'], validates: 'none on the host: the file is rendered from typed values the schema checks', notes: 'a repository file with a password (in the task or on the host) is shown without its content, and written 0600' },
  describe: (p) => `repo ${typeof p.name === 'string' ? p.name : '?'}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveRepo,
  backends: { el9: repoFile },
});
