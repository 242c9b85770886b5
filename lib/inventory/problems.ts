import { UsageError } from '../errors.ts';

/** A segment of a path inside an inventory source: a map key or a list index. */
export type PathSegment = string | number;

/** One thing wrong with the inventory, located as precisely as we can. */
export interface InventoryProblem {
  /** The file as shown to people (relative to the working directory when inside it). */
  readonly file: string;
  /** 1-based line in `file`; absent for TypeScript inventories and whole-file problems. */
  readonly line?: number | undefined;
  readonly path: readonly PathSegment[];
  /** What is wrong and what was expected, without the location. */
  readonly message: string;
}

/**
 * Every problem found in the inventory, not just the first, so a person can fix
 * them in one go. The message has one `file:line: path: message` line per problem.
 */
export class InventoryError extends UsageError {
  readonly problems: readonly InventoryProblem[];

  constructor(problems: readonly InventoryProblem[]) {
    super(InventoryError.describe(problems));
    this.problems = problems;
  }

  static describe(problems: readonly InventoryProblem[]): string {
    const lines = problems.map(formatProblem);
    if (lines.length === 1) return lines[0] ?? '';
    return [`the inventory has ${lines.length} problems:`, ...lines.map((l) => `  ${l}`)].join('\n');
  }
}

export function formatProblem(p: InventoryProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return p.path.length === 0 ? `${where}: ${p.message}` : `${where}: ${formatPath(p.path)}: ${p.message}`;
}

/** `['hosts', 'nas.lan', 'vars', 'disks', 0]` → `hosts["nas.lan"].vars.disks[0]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** A value as shown in a message: JSON, cut short so one line stays one line. */
export function formatValue(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Names from `known` close enough to `name` to be a typo of it, closest first. */
export function closeMatches(name: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.max(1, Math.floor(name.length / 3));
  return [...known]
    .map((candidate) => ({ candidate, distance: editDistance(name.toLowerCase(), candidate.toLowerCase()) }))
    .filter((c) => c.distance <= limit)
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, max)
    .map((c) => c.candidate);
}

/** ` (did you mean 'web'?)`, or nothing when no known name is close. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const matches = closeMatches(name, known);
  if (matches.length === 0) return '';
  return ` (did you mean ${matches.map((m) => `'${m}'`).join(' or ')}?)`;
}

/** Edits (insert, delete, substitute, swap neighbours) to turn a into b: 'prot' is one from 'port'. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
      }
    }
  }
  return at(a.length, b.length);
}
