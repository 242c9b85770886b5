import { ResourceKind } from '../../lib/module/resources.ts';

/** A package an earlier task of this run installs or removes, keyed by the spec as that task wrote it. */
export interface PlannedPackage {
  readonly present: boolean;
}

export const PackageResource = new ResourceKind<PlannedPackage>('package');

/**
 * A dnf repository an earlier task of this run adds or changes, keyed by its
 * id, and under ANY_REPO as well: in check mode the repository is not there
 * yet, so a package only it offers cannot be found and must not be an error.
 */
export const RepoResource = new ResourceKind<{ readonly present: boolean }>('dnf-repo');

export const ANY_REPO = '*';
