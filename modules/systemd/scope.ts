import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { asUser } from '../shared/account.ts';

/**
 * Where a unit lives: the system manager, or one user's manager (rootless
 * Podman quadlets, user timers). Shared by the systemd and quadlet modules.
 */
export type SystemdScope = { readonly kind: 'system' } | { readonly kind: 'user'; readonly user: string };

export const SYSTEM: SystemdScope = { kind: 'system' };

/** Which manager a task talks to: the system's (default) or one user's (`{ user: 'alice' }`, needs lingering). */
export type ScopeParam =
  | 'system'
  | {
      /** The user whose own systemd manager it is (a login name); it runs without a login only with lingering on. */
      readonly user: string;
    };

/** A login name for a user scope. */
const userNameSchema = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\$?$', 'x-expected': 'a login name' } as const;

export const scopeSchema = {
  anyOf: [
    { const: 'system' },
    {
      type: 'object',
      required: ['user'],
      properties: {
        user: { ...userNameSchema, description: 'The user whose own systemd manager it is (a login name); it runs without a login only with lingering on.' },
      },
      additionalProperties: false,
    },
  ],
  'x-expected': '"system", or { user: NAME } for a user\'s manager',
} as const;

/** The `scope` parameter of the systemd modules. */
export interface Scoped {
  /**
   * The system manager ('system', the default: units in /etc/systemd/system)
   * or one user's (`{ user: 'alice' }`: units in ~alice/.config/systemd/user).
   */
  readonly scope?: ScopeParam;
}

export const scopedProperty = {
  ...scopeSchema,
  description: "The system manager ('system', the default: units in /etc/systemd/system) or one user's (`{ user: 'alice' }`: units in ~alice/.config/systemd/user).",
} as const;

export function toScope(param: ScopeParam | undefined): SystemdScope {
  return param === undefined || param === 'system' ? SYSTEM : { kind: 'user', user: param.user };
}

/** ` (user alice)` for task names and summaries; nothing for the system manager. */
export function scopeSuffix(scope: SystemdScope): string {
  return scope.kind === 'user' ? ` (user ${scope.user})` : '';
}

/**
 * `systemctl` for a scope; for a user, through the user's own manager. Not
 * `--user -M user@`: that needs systemd-machined, which RHEL 9 does not
 * install by default. Runs as root (become), like every unit change.
 */
export function systemctl(scope: SystemdScope, args: readonly string[]): ShellScript {
  return scope.kind === 'system' ? sh`systemctl ${args}` : sh`${asUser(scope.user)} systemctl --user ${args}`;
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
