import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLocation } from '../errors.ts';

/**
 * Where in the user's files a task was written: the first frame of the
 * call's stack outside hostform's engine (lib/ and modules/). A task in one
 * of hostform's own roles (roles/) is located there, like any other role.
 *
 * The engine's folders are found from this file: `lib/module/` in the
 * sources, `dist/lib/module/` in a compiled package, whose frames may also
 * be mapped back to the sources beside `dist/` by source maps. tsx maps
 * frames of `.ts` files to their own lines; so does node with
 * --enable-source-maps for a compiled package that ships maps.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENGINE = [ROOT, ...(basename(ROOT) === 'dist' ? [dirname(ROOT)] : [])].flatMap((base) => [join(base, 'lib') + sep, join(base, 'modules') + sep]);

/**
 * Stacks are captured when a task is made and read only when one is shown:
 * V8 formats a captured stack (and node maps it through source maps) on
 * first read, so a playbook of a thousand tasks pays for a capture each,
 * not for a thousand formatted stacks.
 */
const captured = new WeakMap<object, { stack?: string; found?: SourceLocation | undefined }>();

/** Remember where `target` is being made: the caller of `made`, or the first caller outside the engine above it. */
export function captureCallSite(target: object, made: (...args: never[]) => unknown): void {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, made);
  captured.set(target, holder);
}

/** Where `target` was made (see captureCallSite); undefined when it was not captured or no frame is outside the engine. */
export function callSiteOf(target: object): SourceLocation | undefined {
  const holder = captured.get(target);
  if (!holder) return undefined;
  if (!('found' in holder)) holder.found = holder.stack === undefined ? undefined : firstUserFrame(holder.stack);
  return holder.found;
}

/** Where an error was thrown in the user's files: in a role or a `when` function, say. */
export function throwSiteOf(error: unknown): SourceLocation | undefined {
  return error instanceof Error && typeof error.stack === 'string' ? firstUserFrame(error.stack) : undefined;
}

/** The first frame of a formatted V8 stack outside the engine and node's own modules. */
export function firstUserFrame(stack: string): SourceLocation | undefined {
  for (const line of stack.split('\n')) {
    const frame = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (!frame) continue;
    const path = filePath(frame[1] as string);
    if (path === undefined || ENGINE.some((dir) => path.startsWith(dir))) continue;
    return { file: shownPath(path), line: Number(frame[2]), column: Number(frame[3]) };
  }
  return undefined;
}

/** A frame's file as a path; undefined for node's own modules and code without a file (eval, native). */
function filePath(location: string): string | undefined {
  if (location.startsWith('file://')) {
    try {
      return fileURLToPath(location);
    } catch {
      return undefined;
    }
  }
  return isAbsolute(location) ? location : undefined;
}

/** Relative to the working directory when inside it (`roles/monitoring/index.ts`), else absolute: as the inventory's errors show files. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
