import type { SourceLocation } from '../errors.ts';
import { callSiteOf, captureCallSite } from './source.ts';
import type { ModuleDefinition, Task, TaskOptions } from './types.ts';

/** The options every task takes besides its module's parameters (see TaskOptions). */
export const TASK_OPTION_KEYS = ['name', 'tags', 'when', 'notify', 'become'] as const;

/**
 * A module as users call it: its own parameters first, the task's options
 * (name, tags, when, notify, become) apart in a second argument, so the two
 * never collide: `service({ name: 'app', state: 'restarted' }, { name: 'restart app' })`.
 */
export type ModuleCall<Input> = ((params: Input, options?: TaskOptions) => Task<Input>) & {
  readonly definition: ModuleDefinition<Input, unknown>;
};

/** Turn a module definition into the function playbooks call. */
export function defineModule<Input, Resolved>(definition: ModuleDefinition<Input, Resolved>): ModuleCall<Input> {
  const call = (params: Input, options: TaskOptions = {}): Task<Input> => {
    const task: Task<Input> = { ...options, kind: 'task', module: definition, params };
    captureCallSite(task, call);
    return task;
  };
  return Object.assign(call, { definition: definition as ModuleDefinition<Input, unknown> });
}

/** Where the task was written: the playbook or role line that called its module. */
export function taskSource(task: Task): SourceLocation | undefined {
  return callSiteOf(task);
}

/** The name a task is shown under. */
export function taskName(task: Task): string {
  return task.name ?? task.module.describe(task.params);
}

export function notifyList(task: Task): readonly string[] {
  if (task.notify === undefined) return [];
  return typeof task.notify === 'string' ? [task.notify] : task.notify;
}
