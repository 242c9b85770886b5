import { ResourceKind } from '../../lib/module/resources.ts';
import type { SystemdScope } from './scope.ts';

/** A unit an earlier task of this run installs, so check mode can plan a service for it. */
export interface PlannedUnit {
  readonly scope: SystemdScope;
  readonly present: boolean;
}

/** Keyed by `system:<unit>` or `user:<name>:<unit>` (see unitKey). */
export const UnitResource = new ResourceKind<PlannedUnit>('systemd-unit');

export function unitKey(scope: SystemdScope, unit: string): string {
  return scope.kind === 'system' ? `system:${unit}` : `user:${scope.user}:${unit}`;
}
