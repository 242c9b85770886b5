import { ResourceKind } from '../../lib/module/resources.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';

/**
 * Where a unit lives: the system manager, or one user's manager (rootless
 * Podman quadlets, user timers). Shared by the systemd and quadlet modules.
 */
export type SystemdScope = { readonly kind: 'system' } | { readonly kind: 'user'; readonly user: string };

export const SYSTEM: SystemdScope = { kind: 'system' };

/**
 * `systemctl` for a scope; for a user, through the user's own manager. Not
 * `--user -M user@`: that needs systemd-machined, which RHEL 9 does not
 * install by default. Runs as root (become), like every unit change.
 */
export function systemctl(scope: SystemdScope, args: readonly string[]): ShellScript {
  return scope.kind === 'system' ? sh`systemctl ${args}` : sh`${asUser(scope.user)} systemctl --user ${args}`;
}

/**
 * Prefix that runs a command as `user` against that user's own systemd
 * manager (its runtime directory holds the manager's socket).
 */
export function asUser(user: string): ShellScript {
  return sh`runuser -u ${user} -- env XDG_RUNTIME_DIR=/run/user/"$(id -u ${user})"`;
}

/**
 * The deferred action that reloads a manager after unit files changed: asked
 * for by every task that writes a unit, run once per host (per user) before
 * the next start/restart or at the end of the play.
 */
export function daemonReload(scope: SystemdScope): { readonly id: string; readonly script: ShellScript } {
  return {
    id: scope.kind === 'system' ? 'systemctl daemon-reload' : `systemctl --user daemon-reload (${scope.user})`,
    script: systemctl(scope, ['daemon-reload']),
  };
}

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
