import { defineModule } from '../../lib/module/define.ts';
import { effect } from '../../lib/module/resources.ts';
import type { Backend } from '../../lib/module/types.ts';
import { applyPackages, applyPackagesBatch } from './apply.ts';
import { nixosPackages } from './nixos.ts';
import { packagesProbe, parsePackagesProbe, type ObservedPackages } from './observe.ts';
import { packagesSchema, resolvePackages, type PackagesParams, type WantedPackages } from './params.ts';
import { planPackages, type PackageAction } from './plan.ts';
import { PackageResource } from './resources.ts';

export type { PackagesParams } from './params.ts';
export { PackageResource, RepoResource } from './resources.ts';
export { repo, type RepoParams } from './repo.ts';

const dnf: Backend<WantedPackages, ObservedPackages, PackageAction> = {
  probes: (w) => ({ packages: { script: packagesProbe(w) } }),
  parse: (w, outputs) => parsePackagesProbe(w, outputs['packages']!),
  plan: planPackages,
  apply: applyPackages,
  effects: (w) => [
    ...[...w.present, ...w.latest].map((s) => effect(PackageResource, s.spec, { present: true })),
    ...w.absent.map((s) => effect(PackageResource, s.spec, { present: false })),
  ],
  // Tasks in a row that use the same repositories share one dnf transaction.
  batch: {
    key: (w) => JSON.stringify([w.disableRepos, w.enableRepos]),
    apply: applyPackagesBatch,
  },
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
  capabilities: { checkMode: true, diff: true, notes: 'latest and new installs ask the repositories (dnf repoquery), never install to find out' },
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
