import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors.ts';
import { defaultExport } from '../module-default.ts';
import type { Playbook } from '../playbook.ts';

/**
 * Import a playbook file (.ts through tsx, .js/.mjs natively). Its default
 * export is one playbook or a list of them, run in order.
 */
export async function loadPlaybooks(path: string): Promise<Playbook[]> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new UsageError(`playbook not found: ${path}`);
  if (!/\.(ts|mts|js|mjs)$/.test(absolute)) throw new UsageError(`playbook must be a .ts, .mts, .js or .mjs file: ${path}`);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
  } catch (error) {
    throw new UsageError(`cannot load playbook ${path}:\n  ${(error as Error).stack ?? String(error)}`);
  }
  const exported = defaultExport(loaded);
  const list = Array.isArray(exported) ? exported : [exported];
  if (list.length === 0 || !list.every(isPlaybook)) {
    throw new UsageError(`${path} must default-export playbook({...}) or a list of them, e.g.\n  export default playbook({ name: 'site', hosts: 'all', tasks: [...] })`);
  }
  return list;
}

function isPlaybook(value: unknown): value is Playbook {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'playbook';
}
