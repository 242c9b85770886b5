import { redact } from '../errors.ts';
import type { Facts } from '../facts/types.ts';
import { didYouMean } from '../inventory/problems.ts';
import { PLATFORMS, type InventoryHost, type Platform } from '../inventory/types.ts';
import { notifyList, taskName, taskSource } from '../module/define.ts';
import type { Backend, HostView, Task } from '../module/types.ts';
import { Skip } from '../module/skip.ts';
import { throwSiteOf } from '../module/source.ts';
import { parameterProblems, sensitiveValues } from '../module/validate.ts';
import { nixosPlaySteps } from '../nixos/play-steps.ts';
import { isNixosRenderer, type NixosUpload } from '../nixos/renderer.ts';
import type { NixAttrs } from '../nixos/value.ts';
import type { Playbook, RoleCall, Step } from '../playbook.ts';
import { revealSecret, secretsIn } from '../secret/scope.ts';
import { SecretSourceError } from '../secret/sources.ts';
import type { Problem } from './problems.ts';

/** A task made concrete for one host: parameters resolved, backend chosen. */
export interface PreparedTask {
  readonly kind: 'task';
  readonly task: Task;
  readonly name: string;
  readonly module: string;
  readonly become: boolean;
  readonly handler: boolean;
  readonly resolved: unknown;
  /** Values its schema calls sensitive, and the values of its Secrets: masked in everything shown of the task (see redact()). */
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

/** How a play is prepared: for a host that is connected, or from the inventory alone, before connecting. */
export interface PrepareOptions extends TagFilter {
  /**
   * The host's facts are those the inventory states (see factsBeforeConnecting):
   * whatever needs another fact (a role, a condition, a template that reads
   * it) is left to the preparation after connecting, and nixos fragments are
   * not rendered. Every parameter that needs no fact is checked.
   */
  readonly beforeConnecting?: boolean;
}

/**
 * Expand roles, evaluate `when`, pick the backend for the host's platform and
 * resolve parameters (templates). Every problem found is returned (nothing
 * is thrown), so a run can list them all, for every host, before it changes
 * anything (see playbookProblems()).
 */
export function preparePlay(play: Playbook, host: HostView, options: PrepareOptions): { play: PreparedPlay; problems: Problem[] } {
  const problems: Problem[] = [];
  const before = options.beforeConnecting ?? false;
  // Without `failed`, knownFact throws what it does not know instead of returning undefined.
  const platform = knownFact(() => host.facts.platform) as Platform | typeof UNKNOWN;
  const problem = (fields: Omit<Problem, 'play'>) => problems.push({ play: play.name, ...fields });
  const prepare = (task: Task, handler: boolean, roleName?: string): PreparedTask | undefined => {
    if (!handler && !selectedByTags(task, options)) return undefined;
    const name = roleName ? `${roleName} : ${taskName(task)}` : taskName(task);
    // Where the task was written is looked up only for a problem: it costs a formatted stack.
    const about = { role: roleName, task: name, module: task.module.name };
    // A role's tasks are built for each host; a play's own are the same on every host.
    const found = parameterProblems(task);
    for (const p of found) problem({ kind: 'parameter', ...about, source: taskSource(task), host: roleName ? host.name : undefined, text: p.message, parameter: p.parameter, value: p.value, expected: p.expected });
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
    // Before connecting, an unknown platform may still make the task not applicable: only a module with a backend for every platform resolves.
    const backend = platform === UNKNOWN ? undefined : task.module.backends[platform];
    if (platform !== UNKNOWN && !backend) {
      return { ...base, resolved: undefined, skipNote: `not applicable on ${platform}` };
    }
    if (platform === UNKNOWN && !PLATFORMS.every((p) => task.module.backends[p])) return { ...base, resolved: undefined };
    if (task.when) {
      const wanted = knownFact(() => Boolean(task.when?.(host)), (error) => {
        // The playbook's own code failed: bad usage, reported with where it happened, before any host is changed.
        problem({ kind: 'condition', ...about, source: throwSiteOf(error) ?? taskSource(task), host: host.name, text: `when(host) threw ${redact(describeThrown(error), sensitive)}` });
      });
      if (wanted === undefined || wanted === UNKNOWN) return { ...base, resolved: undefined };
      if (!wanted) return { ...base, resolved: undefined, skipNote: 'condition (when) is false' };
    }
    // The task's secrets are read here (once per run): before connecting whenever the task can be checked then, so a source that cannot be read stops the run before any host is touched.
    let secret = base;
    try {
      secret = { ...base, sensitive: [...new Set([...sensitive, ...secretsIn(task.params).map(revealSecret)])] };
      const resolved = task.module.resolve(task.params, host);
      if (before || !backend) return { ...secret, resolved };
      if (!isNixosRenderer(backend)) return { ...secret, resolved, backend };
      if (handler) return { ...secret, resolved: undefined, skipNote: 'on nixos, nixos-rebuild restarts what changed' };
      const rendered = { ...secret, resolved: undefined, fragment: backend.render(resolved, host), uploads: backend.uploads?.(resolved, host) ?? [] };
      rendering.push(rendered);
      return rendered;
    } catch (error) {
      if (error instanceof Skip) return { ...secret, resolved: undefined, skipNote: error.note };
      if (error instanceof FactNotKnownYet) return { ...secret, resolved: undefined };
      const text = redact((error as Error).message, secret.sensitive);
      const kind = error instanceof SecretSourceError ? 'secret' : 'parameter';
      problem({ kind, ...about, source: taskSource(task), host: host.name, text, parameter: /^parameter '([^']+)'/.exec(text)?.[1] });
      return { ...secret, resolved: undefined };
    }
  };
  const rendering: (PreparedTask & { fragment: NixAttrs; uploads: readonly NixosUpload[] })[] = [];

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
    const built = knownFact(
      () => call.expand(host),
      (error) => problem({ kind: error instanceof SecretSourceError ? 'secret' : 'role', source: throwSiteOf(error), role: name, host: host.name, text: `could not build its tasks: ${describeThrown(error)}` }),
    );
    if (built !== undefined && built !== UNKNOWN) addSteps(built, name);
  };
  for (const call of play.roles ?? []) addRole(call);
  addSteps(play.tasks ?? []);
  // Handlers are found by name: the play's own first, then each role's not already defined.
  const byName = new Map<string, Task>();
  for (const h of [...(play.handlers ?? []), ...roleHandlers]) if (!byName.has(taskName(h))) byName.set(taskName(h), h);
  const handlers = [...byName.values()].map((h) => prepare(h, true) as PreparedTask);
  if (rendering.length > 0) {
    const nixos = nixosPlaySteps(play.name, host, rendering);
    for (const c of nixos.conflicts) problem({ kind: 'parameter', task: c.task.name, module: c.task.module, source: taskSource(c.task.task), host: host.name, text: c.text });
    for (const [i, step] of steps.entries()) {
      const block = step.kind === 'task' ? nixos.blocks.get(step as PreparedTask) : undefined;
      if (block) steps[i] = block;
    }
    steps.push(nixos.switchTask);
  }
  // Health gates run last, after the play's handlers (a flush point before them), so what they wait
  // for sees the play's changes and restarts in place: see Capabilities.gate.
  const gates = steps.filter((step) => step.kind === 'task' && step.task.module.capabilities.gate === true);
  if (gates.length > 0) steps.splice(0, steps.length, ...steps.filter((step) => !gates.includes(step)), { kind: 'flush' }, ...gates);

  const handlerNames = [...new Set(handlers.map((h) => h.name))];
  for (const step of steps) {
    if (step.kind !== 'task') continue;
    for (const n of notifyList(step.task)) {
      if (handlerNames.includes(n)) continue;
      const known = handlerNames.length === 0 ? ' (it has none)' : didYouMean(n, handlerNames) || ` (handlers: ${handlerNames.join(', ')})`;
      const inRole = step.name !== taskName(step.task);
      problem({ kind: 'handler', source: taskSource(step.task), task: step.name, module: step.module, host: inRole ? host.name : undefined, text: `notifies '${n}', but the play has no handler named so${known}` });
    }
  }
  return { play: { name: play.name, steps, handlers }, problems };
}

/**
 * A fact's place before connecting when the inventory does not state it
 * (see factsBeforeConnecting): whatever reads it is prepared after connecting.
 */
export class FactNotKnownYet extends Error {
  override readonly name = 'FactNotKnownYet';
}

/** What `read` returned; UNKNOWN when it needed a fact not known yet; undefined when it threw (after `failed` was told). */
function knownFact<T>(read: () => T, failed?: (error: unknown) => void): T | typeof UNKNOWN | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof FactNotKnownYet) return UNKNOWN;
    if (!failed) throw error;
    failed(error);
    return undefined;
  }
}

const UNKNOWN = Symbol('not known before connecting');

/**
 * The facts of a host before connecting: those the inventory states
 * (`platform`), and for any other a FactNotKnownYet, thrown when a role, a
 * condition or a template reads it. Nothing is guessed: a role that reads
 * `host.facts.arch` is expanded and checked after connecting, where the
 * fact is known.
 */
export function factsBeforeConnecting(host: InventoryHost): Facts {
  const known: Partial<Facts> = host.platform ? { platform: host.platform } : {};
  const unknown = (what: string): never => {
    throw new FactNotKnownYet(`${what} of ${host.name} is not known before connecting`);
  };
  return new Proxy(known as Facts, {
    get: (target, key) => (typeof key === 'symbol' || key === 'toJSON' || key === 'then' ? undefined : key in target ? target[key as keyof Facts] : unknown(`fact '${key}'`)),
    has: (target, key) => key in target || unknown(`fact '${String(key)}'`),
    ownKeys: () => unknown('the list of facts'),
  });
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
