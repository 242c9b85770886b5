import type { ModuleDefinition } from '../lib/module/types.ts';
import * as exported from './index.ts';

/** A module as `hostform/modules` exports it: the name a playbook calls it by, and its definition. */
export interface RegisteredModule {
  /** `file`, `dropIn`, `firewalld.zone`: what a playbook writes. */
  readonly call: string;
  readonly definition: ModuleDefinition<unknown, unknown>;
}

/** Every module `hostform/modules` exports, sorted by call name. */
export const registeredModules: readonly RegisteredModule[] = modulesIn(exported);

/**
 * The modules among a module's exports: a function carrying a `definition`,
 * or one inside a namespace object such as `firewalld`. Found in the exports
 * themselves, so a new module is listed without anyone adding it here.
 */
export function modulesIn(exports: object): RegisteredModule[] {
  return collect(exports, []).sort((a, b) => a.call.localeCompare(b.call));
}

function collect(namespace: object, prefix: readonly string[]): RegisteredModule[] {
  return Object.entries(namespace).flatMap(([key, value]): RegisteredModule[] => {
    const definition = definitionOf(value);
    if (definition) return [{ call: [...prefix, key].join('.'), definition }];
    return isPlainObject(value) ? collect(value, [...prefix, key]) : [];
  });
}

function definitionOf(value: unknown): ModuleDefinition<unknown, unknown> | undefined {
  if (typeof value !== 'function') return undefined;
  const definition = (value as { definition?: Partial<ModuleDefinition<unknown, unknown>> }).definition;
  const isModule = typeof definition?.name === 'string' && typeof definition.schema === 'object' && typeof definition.backends === 'object';
  return isModule ? (definition as ModuleDefinition<unknown, unknown>) : undefined;
}

/** Namespaces (`firewalld`, `quadlet`) are plain objects; resource kinds and classes are not walked into. */
function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
