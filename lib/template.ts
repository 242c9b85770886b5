import { UsageError } from './errors.ts';
import type { HostView } from './module/types.ts';

/** A template is either a function of the host or a string with `{{ name }}` placeholders. */
export type Template = string | ((host: HostView) => string);

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+)*)\s*\}\}/g;

/**
 * Render a template for one host. In a string template, `{{ name }}` looks up
 * the host's vars; `{{ facts.platform }}` and `{{ host.name }}` reach facts and
 * the inventory name. An unknown name is an error, never an empty string:
 * a silently blank value in a config file is worse than a failed run.
 */
export function renderTemplate(template: Template, host: HostView): string {
  if (typeof template === 'function') return template(host);
  return template.replace(PLACEHOLDER, (_match, path: string) => {
    const value = lookup(path, host);
    if (value === undefined) {
      throw new UsageError(`template placeholder {{ ${path} }} has no value on host ${host.name}: define var '${path.split('.')[0]}' in the inventory or the play`);
    }
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}

function lookup(path: string, host: HostView): unknown {
  const [head, ...rest] = path.split('.');
  let value: unknown =
    head === 'facts' ? host.facts : head === 'host' ? { name: host.name, groups: host.groups } : host.vars[head ?? ''];
  for (const key of rest) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
