import { userNameSchema } from './sections.ts';
import { SYSTEM, type SystemdScope } from './scope.ts';

/** Which manager a task talks to: the system's (default) or one user's (`{ user: 'alice' }`, needs lingering). */
export type ScopeParam = 'system' | { readonly user: string };

export const scopeSchema = {
  anyOf: [{ const: 'system' }, { type: 'object', required: ['user'], properties: { user: userNameSchema }, additionalProperties: false }],
  'x-expected': '"system", or { user: NAME } for a user\'s manager',
} as const;

export function toScope(param: ScopeParam | undefined): SystemdScope {
  return param === undefined || param === 'system' ? SYSTEM : { kind: 'user', user: param.user };
}

/** ` (user alice)` for task names and summaries; nothing for the system manager. */
export function scopeSuffix(scope: SystemdScope): string {
  return scope.kind === 'user' ? ` (user ${scope.user})` : '';
}
