import type { ModuleDefinition, Task, TaskOptions } from './types.ts';

/** The options every task takes besides its module's parameters (see TaskOptions). */
export const TASK_OPTION_KEYS = ['name', 'tags', 'when', 'notify', 'become'] as const;

/** A module as users call it: `file({ path, content, name, notify })` → Task. */
export type ModuleCall<Input> = ((input: Input & TaskOptions) => Task<Input>) & {
  readonly definition: ModuleDefinition<Input, unknown>;
};

/**
 * Turn a module definition into the function playbooks call. Task options
 * are split from the module's own parameters here, once, so no module has
 * to know about them.
 */
export function defineModule<Input, Resolved>(definition: ModuleDefinition<Input, Resolved>): ModuleCall<Input> {
  // A module whose own parameter is called like a task option (`user({ name })`,
  // `service({ name })`) keeps it: the task is then shown under describe().
  const own = new Set(Object.keys((definition.schema as { properties?: object }).properties ?? {}));
  const call = (input: Input & TaskOptions): Task<Input> => {
    const params: Record<string, unknown> = {};
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input as object)) {
      if ((TASK_OPTION_KEYS as readonly string[]).includes(key) && !own.has(key)) options[key] = value;
      else params[key] = value;
    }
    return { ...(options as TaskOptions), kind: 'task', module: definition, params: params as Input };
  };
  return Object.assign(call, { definition: definition as ModuleDefinition<Input, unknown> });
}

/** The name a task is shown under. */
export function taskName(task: Task): string {
  return task.name ?? task.module.describe(task.params);
}

export function notifyList(task: Task): readonly string[] {
  if (task.notify === undefined) return [];
  return typeof task.notify === 'string' ? [task.notify] : task.notify;
}
