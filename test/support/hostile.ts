import { assertTasksValid } from '../../lib/module/validate.ts';
import type { HostView, Task } from '../../lib/module/types.ts';

/**
 * Hostile values for the property tests of the config renderers: every byte
 * a unit file, an INI file or a command line treats specially, in random
 * order, from a seeded generator so a failing case can be replayed.
 */
export const HOSTILE_PIECES = [
  '\0', '\r', '\n', '\r\n', '\\', '\\\\', '%', '%h', '%%', '%(x)s', '$', '$HOME', '${X}', '"', "'", ';', ' ;', '; ', '#', '[', ']', '=', ':', ',',
  ' ', '  ', '\t', '<HOST>', '<x>', '*', '?', '-', '--help', '/', 'a', 'Z', '0', 'é', '→', '😀', '\u00a0', '\u0085', '\u2028', '\x1b', '\x7f', '\x01',
] as const;

export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * `count` strings of 1–12 pieces each (plus one of 3,000 characters), from
 * `pieces` (default: all of them). `prefix` starts every string: a log path
 * must start with `/`.
 */
export function hostileStrings(seed: number, count: number, pieces: readonly string[] = HOSTILE_PIECES, prefix = ''): string[] {
  const next = random(seed);
  const one = (length: number) => prefix + Array.from({ length }, () => pieces[Math.floor(next() * pieces.length)]).join('');
  return [...Array.from({ length: count - 1 }, () => one(1 + Math.floor(next() * 12))), one(1500)];
}

export type Prepared<R> = { readonly resolved: R } | { readonly refused: string };

/**
 * A task as a run prepares it: schema validation, then resolve (where the
 * modules refuse values their format cannot carry). Either the resolved
 * parameters or the refusal's message.
 */
export function prepare<R>(task: Task<unknown>, host: HostView = { name: 'h', groups: ['all'], vars: {}, facts: {} } as unknown as HostView): Prepared<R> {
  try {
    assertTasksValid([{ task, where: '' }]);
    return { resolved: task.module.resolve(task.params, host) as R };
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

/**
 * A value as a test message: JSON with every non-ASCII character escaped, since the TAP
 * parser reads U+2028, U+0085 and the like as line breaks and would lose the rest.
 */
export function label(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
