import { UsageError } from '../errors.ts';
import { didYouMean } from './problems.ts';

/** One comma-separated part of a host pattern. */
export interface PatternTerm {
  /** `web` adds, `&prod` keeps only hosts also in prod, `!db` removes. */
  readonly op: 'add' | 'intersect' | 'exclude';
  /** `all`, a group, a host, or a shell-style wildcard (`*`, `?`) over host and group names. */
  readonly name: string;
}

/** What a pattern is matched against: host names in inventory order, group name → host names. */
export interface PatternScope {
  readonly hosts: readonly string[];
  readonly groups: Readonly<Record<string, readonly string[]>>;
}

/** `'web,&prod,!db1'` → terms; whitespace around terms and empty terms are ignored. */
export function parseHostPattern(pattern: string): PatternTerm[] {
  const terms = pattern
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t): PatternTerm => {
      const op = t.startsWith('!') ? 'exclude' : t.startsWith('&') ? 'intersect' : 'add';
      const name = op === 'add' ? t : t.slice(1).trim();
      if (name === '') throw new UsageError(`host pattern '${pattern}': '${t}' must be followed by a host or group name`);
      return { op, name };
    });
  if (terms.length === 0) throw new UsageError(`host pattern '${pattern}' is empty; use 'all' for every host`);
  return terms;
}

/**
 * Host names selected by a pattern, in inventory order, each once. Added terms
 * are joined, then `&` terms intersect and `!` terms remove, wherever they stand
 * in the pattern; with no added term the selection starts from all hosts, so
 * `!db` means every host but db. A name that is neither a host nor a group (or
 * a wildcard that matches nothing) is a UsageError listing what exists.
 */
export function selectHostNames(pattern: string, scope: PatternScope): string[] {
  const terms = parseHostPattern(pattern);
  const unknown: string[] = [];
  const resolved = terms.map((term) => {
    const hosts = expand(term.name, scope);
    if (!hosts) unknown.push(term.name);
    return { ...term, hosts: hosts ?? new Set<string>() };
  });
  if (unknown.length > 0) throw new UsageError(describeUnknown(pattern, unknown, scope));

  const added = resolved.filter((t) => t.op === 'add');
  let selected = new Set(added.length === 0 ? scope.hosts : added.flatMap((t) => [...t.hosts]));
  for (const term of resolved) {
    if (term.op === 'intersect') selected = new Set([...selected].filter((h) => term.hosts.has(h)));
    if (term.op === 'exclude') selected = new Set([...selected].filter((h) => !term.hosts.has(h)));
  }
  return scope.hosts.filter((h) => selected.has(h));
}

/** The hosts a single name stands for, or undefined when it names nothing. */
function expand(name: string, scope: PatternScope): ReadonlySet<string> | undefined {
  if (name === 'all' || name === '*') return new Set(scope.hosts);
  if (!/[*?]/.test(name)) {
    const group = Object.hasOwn(scope.groups, name) ? scope.groups[name] : undefined;
    if (group) return new Set(group);
    return scope.hosts.includes(name) ? new Set([name]) : undefined;
  }
  const regex = new RegExp(`^${[...name].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escapeRegex(c))).join('')}$`);
  const matched = new Set(scope.hosts.filter((h) => regex.test(h)));
  let any = matched.size > 0;
  for (const [group, hosts] of Object.entries(scope.groups)) {
    if (group === 'all' || !regex.test(group)) continue;
    any = true;
    for (const host of hosts) matched.add(host);
  }
  return any ? matched : undefined;
}

function escapeRegex(c: string): string {
  return /[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
}

function describeUnknown(pattern: string, unknown: readonly string[], scope: PatternScope): string {
  const groups = Object.keys(scope.groups).filter((g) => g !== 'all');
  const problems = unknown.map((name) => {
    if (/[*?]/.test(name)) return `'${name}' matches no host or group`;
    return `unknown host or group '${name}'${didYouMean(name, [...groups, ...scope.hosts])}`;
  });
  return [
    `host pattern '${pattern}': ${problems.join('; ')}`,
    `  groups: ${list(['all', ...groups])}`,
    `  hosts: ${list(scope.hosts)}`,
  ].join('\n');
}

/** Up to 30 names, then a count, so a large fleet doesn't flood the terminal. */
function list(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, 30).join(', ');
  return names.length > 30 ? `${shown}, ... and ${names.length - 30} more` : shown;
}
