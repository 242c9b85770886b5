import type { Vars } from './inventory/types.ts';
import type { HostView, Task } from './module/types.ts';

/** A point in a task list where pending handlers run, instead of at the end of the play. */
export interface FlushHandlers {
  readonly kind: 'flush';
}

/** What a play's or a role's task list holds: tasks, flush points, and other roles. */
export type Step = Task | FlushHandlers | RoleCall;

/** A role applied with its options; expanded per host when the play runs. */
export interface RoleCall {
  readonly kind: 'role';
  readonly name: string;
  expand(host: HostView): readonly Step[];
  /** Handlers the role brings to any play that uses it (added unless the play has one of that name). */
  readonly handlers: readonly Task[];
}

export interface PlaybookSpec {
  readonly name: string;
  /** Inventory pattern: `all`, a group, a host, `web,db`, `all,!nas`. */
  readonly hosts: string;
  /** Play vars: override inventory vars for this play. */
  readonly vars?: Vars;
  /** Default `become` for every task of the play. */
  readonly become?: boolean;
  /** Roles run first, in order, then tasks. */
  readonly roles?: readonly RoleCall[];
  readonly tasks?: readonly Step[];
  /** Tasks run once per host at the end of the play (or at a flush point), only when notified. */
  readonly handlers?: readonly Task[];
}

export interface Playbook extends PlaybookSpec {
  readonly kind: 'playbook';
}

export function playbook(spec: PlaybookSpec): Playbook {
  return { ...spec, kind: 'playbook' };
}

/**
 * A role: a typed function from options (and the host) to tasks.
 *
 *   export const motd = role('motd', (o: { text: string }) => [file({ path: '/etc/motd', content: o.text })]);
 *   playbook({ name: 'base', hosts: 'all', roles: [motd({ text: 'hi' })] });
 *
 * A role that notifies handlers brings them along:
 *
 *   role('proxy', build, { handlers: [service({ name: 'traefik', state: 'restarted' }, { name: 'restart traefik' })] })
 */
export function role<Options = void>(
  name: string,
  build: (options: Options, host: HostView) => readonly Step[],
  extras: { readonly handlers?: readonly Task[] } = {},
): (options: Options) => RoleCall {
  return (options: Options) => ({ kind: 'role', name, expand: (host) => build(options, host), handlers: extras.handlers ?? [] });
}

/** Run handlers notified so far, here, rather than at the end of the play. */
export function flushHandlers(): FlushHandlers {
  return { kind: 'flush' };
}
