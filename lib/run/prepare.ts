import { redact, UsageError } from '../errors.ts';
import type { Platform } from '../inventory/types.ts';
import { notifyList, taskName } from '../module/define.ts';
import type { Backend, HostView, Task } from '../module/types.ts';
import { Skip } from '../module/skip.ts';
import { sensitiveValues, taskProblems } from '../module/validate.ts';
import { nixosPlaySteps } from '../nixos/play-steps.ts';
import { isNixosRenderer } from '../nixos/renderer.ts';
import type { NixAttrs } from '../nixos/value.ts';
import type { Playbook, RoleCall, Step } from '../playbook.ts';

/** A task made concrete for one host: parameters resolved, backend chosen. */
export interface PreparedTask {
  readonly kind: 'task';
  readonly task: Task;
  readonly name: string;
  readonly module: string;
  readonly become: boolean;
  readonly handler: boolean;
  readonly resolved: unknown;
  /** Values its schema calls sensitive: masked in everything shown of the task (see redact()). */
  readonly sensitive: readonly string[];
  /** Undefined when the task is skipped on this host; `skipNote` says why. */
  readonly backend?: Backend<unknown, unknown, unknown> | undefined;
  readonly skipNote?: string;
}

export type PreparedStep = PreparedTask | { readonly kind: 'flush' };

export interface PreparedPlay {
  readonly name: string;
  readonly steps: readonly PreparedStep[];
  readonly handlers: readonly PreparedTask[];
}

export interface TagFilter {
  readonly tags?: readonly string[];
  readonly skipTags?: readonly string[];
}

/**
 * Expand roles, evaluate `when`, pick the backend for the host's platform and
 * resolve parameters (templates). Throws one UsageError listing every problem
 * found, so a bad parameter stops the run before anything is changed.
 */
export function preparePlay(play: Playbook, host: HostView, filter: TagFilter): PreparedPlay {
  const problems: string[] = [];
  const where = `play '${play.name}', host ${host.name}: `;
  const prepare = (task: Task, handler: boolean, roleName?: string): PreparedTask | undefined => {
    if (!handler && !selectedByTags(task, filter)) return undefined;
    const found = taskProblems(task, where + (roleName ? `role '${roleName}', ` : ''));
    problems.push(...found);
    const name = roleName ? `${roleName} : ${taskName(task)}` : taskName(task);
    const sensitive = sensitiveValues(task);
    const base = {
      kind: 'task' as const,
      task,
      name,
      module: task.module.name,
      become: task.become ?? play.become ?? false,
      handler,
      sensitive,
    };
    if (found.length > 0) return { ...base, resolved: undefined };
    const backend = task.module.backends[host.facts.platform as Platform];
    if (!backend) {
      return { ...base, resolved: undefined, skipNote: `not applicable on ${host.facts.platform}` };
    }
    if (task.when) {
      let wanted: boolean;
      try {
        wanted = Boolean(task.when(host));
      } catch (error) {
        // The playbook's own code failed: bad usage, reported with where it happened, before any host is changed.
        problems.push(`${where}task '${name}' (${task.module.name}): when(host) threw: ${describeThrown(error)}`);
        return { ...base, resolved: undefined };
      }
      if (!wanted) return { ...base, resolved: undefined, skipNote: 'condition (when) is false' };
    }
    try {
      const resolved = task.module.resolve(task.params, host);
      if (!isNixosRenderer(backend)) return { ...base, resolved, backend };
      if (handler) return { ...base, resolved: undefined, skipNote: 'on nixos, nixos-rebuild restarts what changed' };
      const rendered = { ...base, resolved: undefined, fragment: backend.render(resolved, host) };
      rendering.push(rendered);
      return rendered;
    } catch (error) {
      if (error instanceof Skip) return { ...base, resolved: undefined, skipNote: error.note };
      problems.push(`${where}task '${name}' (${task.module.name}): ${redact((error as Error).message, sensitive)}`);
      return { ...base, resolved: undefined };
    }
  };
  const rendering: (PreparedTask & { fragment: NixAttrs })[] = [];

  const steps: PreparedStep[] = [];
  const addSteps = (list: readonly Step[], roleName?: string) => {
    for (const step of list) {
      if (step.kind === 'flush') steps.push(step);
      else if (step.kind === 'role') addRole(step, roleName);
      else {
        const prepared = prepare(step, false, roleName);
        if (prepared) steps.push(prepared);
      }
    }
  };
  // A role may list other roles among its steps; their tasks are named "outer > inner : task".
  const roleHandlers: Task[] = [];
  const addRole = (call: RoleCall, outer?: string) => {
    const name = outer ? `${outer} > ${call.name}` : call.name;
    roleHandlers.push(...call.handlers);
    let built: readonly Step[];
    try {
      built = call.expand(host);
    } catch (error) {
      problems.push(`${where}role '${name}' could not build its tasks: ${(error as Error).message}`);
      return;
    }
    addSteps(built, name);
  };
  for (const call of play.roles ?? []) addRole(call);
  addSteps(play.tasks ?? []);
  // Handlers are found by name: the play's own first, then each role's not already defined.
  const byName = new Map<string, Task>();
  for (const h of [...(play.handlers ?? []), ...roleHandlers]) if (!byName.has(taskName(h))) byName.set(taskName(h), h);
  const handlers = [...byName.values()].map((h) => prepare(h, true) as PreparedTask);
  if (rendering.length > 0) {
    const nixos = nixosPlaySteps(play.name, host, rendering);
    for (const [i, step] of steps.entries()) {
      const block = step.kind === 'task' ? nixos.blocks.get(step as PreparedTask) : undefined;
      if (block) steps[i] = block;
    }
    steps.push(nixos.switchTask);
  }

  const handlerNames = new Set(handlers.map((h) => h.name));
  for (const step of steps) {
    if (step.kind !== 'task') continue;
    for (const n of notifyList(step.task)) {
      if (!handlerNames.has(n)) {
        problems.push(`${where}task '${step.name}' notifies '${n}', but the play has no handler named so (handlers: ${[...handlerNames].join(', ') || 'none'})`);
      }
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { name: play.name, steps, handlers };
}

/** `TypeError: Cannot read ...`: the kind of error says as much as its message. */
function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function selectedByTags(task: Task, filter: TagFilter): boolean {
  const tags = task.tags ?? [];
  if (filter.skipTags?.some((t) => tags.includes(t))) return false;
  if (filter.tags && filter.tags.length > 0) return filter.tags.some((t) => tags.includes(t) || t === 'all');
  return true;
}
