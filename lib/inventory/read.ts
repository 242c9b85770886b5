import { defaultExport } from '../module-default.ts';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { InventoryError, type InventoryProblem, type PathSegment } from './problems.ts';

/** One inventory file or module, read but not yet validated. */
export interface RawSource {
  /** The file as shown to people. */
  readonly file: string;
  /** Absolute directory of the file, against which relative key and known_hosts paths are resolved. */
  readonly dir: string;
  readonly data: unknown;
  /**
   * The line of the node at `path` (of its key when `at` is 'key'), or of the
   * nearest enclosing node found; undefined for modules.
   */
  lineOf(path: readonly PathSegment[], at?: 'key' | 'value'): number | undefined;
}

const YAML_EXTENSIONS = ['.yml', '.yaml'];
const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** Paths as given by a person → inventory files in load order, each once. */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const problems: InventoryProblem[] = [];
  const files: string[] = [];
  for (const given of paths) {
    const absolute = resolve(given);
    const info = await stat(absolute).catch(() => undefined);
    if (!info) {
      problems.push({ file: given, path: [], message: 'no such file or directory' });
    } else if (info.isDirectory()) {
      const names = (await readdir(absolute)).filter((n) => YAML_EXTENSIONS.includes(extname(n))).sort();
      if (names.length === 0) problems.push({ file: given, path: [], message: 'directory has no .yml or .yaml files' });
      files.push(...names.map((n) => join(absolute, n)));
    } else if ([...YAML_EXTENSIONS, ...MODULE_EXTENSIONS].includes(extname(absolute))) {
      files.push(absolute);
    } else {
      problems.push({
        file: given,
        path: [],
        message: 'is not an inventory: expected a .yml or .yaml file, a directory of them, or a .ts, .js or .mjs module',
      });
    }
  }
  if (problems.length > 0) throw new InventoryError(problems);
  return [...new Set(files)];
}

/** Read one file; a YAML syntax error or a module that fails to load is an InventoryError. */
export async function readSource(absolute: string): Promise<RawSource> {
  const file = displayPath(absolute);
  return YAML_EXTENSIONS.includes(extname(absolute)) ? readYaml(absolute, file) : readModule(absolute, file);
}

/** Relative to the working directory when the file is inside it, so messages stay short. */
export function displayPath(absolute: string): string {
  const rel = relative(process.cwd(), absolute);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absolute;
}

async function readYaml(absolute: string, file: string): Promise<RawSource> {
  const text = await readFile(absolute, 'utf8');
  const lineCounter = new LineCounter();
  // merge: `<<: *defaults` is common in hand-written inventories.
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as { range?: readonly number[] } | null)?.range;
    return range?.[0] === undefined ? undefined : lineCounter.linePos(range[0]).line;
  };

  if (doc.errors.length > 0) {
    throw new InventoryError(
      doc.errors.map((e) => {
        let offset = e.pos[0];
        let detail = '';
        if (e.code === 'DUPLICATE_KEY') {
          // yaml reports the end of the previous entry; point at the repeated key itself.
          offset = nextToken(text, offset);
          const key = /^("[^"]*"|'[^']*'|[^:#\n]+?)\s*:/.exec(text.slice(offset))?.[1];
          if (key) detail = ` (${key} appears twice)`;
        }
        return {
          file,
          line: lineCounter.linePos(offset).line,
          path: [],
          message: `YAML syntax error: ${e.message.split('\n')[0]}${detail}`,
        };
      }),
    );
  }
  let data: unknown;
  try {
    // An empty file (or one with only comments) is an empty inventory.
    data = doc.toJS() ?? {};
  } catch (error) {
    throw new InventoryError([{ file, path: [], message: `cannot be read as YAML: ${(error as Error).message}` }]);
  }

  return {
    file,
    dir: dirname(absolute),
    data,
    lineOf(path, at = 'value') {
      let node: unknown = doc.contents;
      let line = lineAt(node);
      for (const [i, segment] of path.entries()) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
          if (!pair) break;
          // The key's line, not the value's: a nested map starts on the line after its key.
          line = lineAt(pair.key) ?? line;
          if (at === 'key' && i === path.length - 1) break;
          node = pair.value;
        } else if (isSeq(node)) {
          const item = node.items[Number(segment)];
          if (item === undefined) break;
          line = lineAt(item) ?? line;
          node = item;
        } else {
          break;
        }
      }
      return line;
    },
  };
}

/** Offset of the next character that is neither whitespace nor part of a comment. */
function nextToken(text: string, offset: number): number {
  const rest = /^(?:\s|#[^\n]*)*/.exec(text.slice(offset));
  return offset + (rest?.[0].length ?? 0);
}

async function readModule(absolute: string, file: string): Promise<RawSource> {
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
  } catch (error) {
    throw new InventoryError([{ file, path: [], message: `could not be loaded: ${(error as Error).message}` }]);
  }
  const data = defaultExport(loaded);
  if (data === undefined) {
    throw new InventoryError([
      { file, path: [], message: 'has no default export: write `export default inventory({ hosts: { ... } })`' },
    ]);
  }
  return { file, dir: dirname(absolute), data, lineOf: () => undefined };
}
