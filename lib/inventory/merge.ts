import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { didYouMean, formatValue, type InventoryProblem, type PathSegment } from './problems.ts';
import type { RawSource } from './read.ts';
import type { HostEntry, InventorySource, Vars } from './types.ts';

/** Where something was written, to point a person at it. */
interface Origin {
  readonly source: RawSource;
  readonly path: readonly PathSegment[];
}

export interface MergedHost {
  readonly name: string;
  readonly entry: HostEntry;
}

export interface MergedGroup {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly children: readonly string[];
  readonly vars: Vars;
}

/** All sources as one: hosts and groups in order of first definition, references checked. */
export interface MergedInventory {
  readonly vars: Vars;
  readonly hosts: readonly MergedHost[];
  readonly groups: readonly MergedGroup[];
}

/**
 * Merge validated sources in load order. A host or group may appear in several
 * files: their settings are combined, and the same setting (or var) given two
 * different values is a conflict rather than a silent override, because which
 * file wins would depend on file names. Group member lists are joined.
 * Returns the problems instead of the merge when there are any.
 */
export function mergeSources(
  sources: readonly { readonly raw: RawSource; readonly data: InventorySource }[],
): { merged: MergedInventory; problems: readonly InventoryProblem[] } {
  const problems: InventoryProblem[] = [];
  const at = (origin: Origin, part: 'key' | 'value' = 'value') => ({
    file: origin.source.file,
    line: origin.source.lineOf(origin.path, part),
  });
  const fileLine = (origin: Origin) => {
    const there = at(origin, 'key');
    return there.line === undefined ? there.file : `${there.file}:${there.line}`;
  };
  // First origin of every setting, keyed by its formatted path, to name the other side of a conflict.
  const setBy = new Map<string, Origin>();
  const setOnce = (target: Record<string, unknown>, key: string, value: unknown, origin: Origin) => {
    const id = JSON.stringify(origin.path);
    const first = setBy.get(id);
    if (first && !isDeepStrictEqual(target[key], value)) {
      problems.push({
        ...at(origin),
        path: origin.path,
        message: `${formatValue(value)} conflicts with ${formatValue(target[key])} in ${fileLine(first)}`,
      });
      return;
    }
    if (!first) setBy.set(id, origin);
    target[key] = value;
  };
  const mergeVars = (target: Record<string, unknown>, vars: Vars | undefined, source: RawSource, path: PathSegment[]) => {
    for (const [key, value] of Object.entries(vars ?? {})) setOnce(target, key, value, { source, path: [...path, key] });
  };

  const vars: Record<string, unknown> = {};
  const hosts = new Map<string, { entry: Record<string, unknown>; vars: Record<string, unknown>; origin: Origin }>();
  const groups = new Map<
    string,
    { hosts: Map<string, Origin>; children: Map<string, Origin>; vars: Record<string, unknown>; origin: Origin }
  >();

  for (const { raw: source, data } of sources) {
    mergeVars(vars, data.vars, source, ['vars']);

    for (const [name, entry] of Object.entries(data.hosts ?? {})) {
      const origin = { source, path: ['hosts', name] };
      const host = hosts.get(name) ?? { entry: {}, vars: {}, origin };
      hosts.set(name, host);
      for (const [key, value] of Object.entries(entry ?? {})) {
        const path = ['hosts', name, key];
        if (key === 'vars') mergeVars(host.vars, value as Vars, source, path);
        else if (PATH_KEYS.has(key)) setOnce(host.entry, key, localPath(value as string, source.dir), { source, path });
        else setOnce(host.entry, key, value, { source, path });
      }
    }

    for (const [name, entry] of Object.entries(data.groups ?? {})) {
      const origin = { source, path: ['groups', name] };
      const group = groups.get(name) ?? { hosts: new Map(), children: new Map(), vars: {}, origin };
      groups.set(name, group);
      for (const [i, host] of (entry?.hosts ?? []).entries()) {
        if (!group.hosts.has(host)) group.hosts.set(host, { source, path: ['groups', name, 'hosts', i] });
      }
      for (const [i, child] of (entry?.children ?? []).entries()) {
        if (!group.children.has(child)) group.children.set(child, { source, path: ['groups', name, 'children', i] });
      }
      mergeVars(group.vars, entry?.vars, source, ['groups', name, 'vars']);
    }
  }

  for (const [name, host] of hosts) {
    if (name === 'all') {
      problems.push({
        ...at(host.origin, 'key'),
        path: host.origin.path,
        message: `'all' is reserved for the group of every host; rename this host`,
      });
    }
  }
  for (const [name, group] of groups) {
    const here = { ...at(group.origin, 'key'), path: group.origin.path };
    if (name === 'all') {
      problems.push({
        ...here,
        message: `'all' is the implicit group of every host and cannot be defined; put its vars under the top-level 'vars'`,
      });
    }
    const host = hosts.get(name);
    if (host) {
      problems.push({
        ...here,
        message: `group '${name}' has the same name as a host (${fileLine(host.origin)}); rename one so host patterns are unambiguous`,
      });
    }
    for (const [member, origin] of group.hosts) {
      if (hosts.has(member)) continue;
      problems.push({
        ...at(origin),
        path: origin.path,
        message: groups.has(member)
          ? `'${member}' is a group, not a host; list it under 'children'`
          : `unknown host '${member}'${didYouMean(member, hosts.keys())}; hosts are defined under the top-level 'hosts'`,
      });
    }
    for (const [child, origin] of group.children) {
      if (groups.has(child)) continue;
      problems.push({
        ...at(origin),
        path: origin.path,
        message: hosts.has(child)
          ? `'${child}' is a host, not a group; list it under 'hosts'`
          : `unknown group '${child}'${didYouMean(child, groups.keys())}`,
      });
    }
  }
  problems.push(...findCycles(groups, at));

  return {
    problems,
    merged: {
      vars,
      hosts: [...hosts].map(([name, h]) => ({ name, entry: { ...h.entry, vars: h.vars } })),
      groups: [...groups].map(([name, g]) => ({
        name,
        hosts: [...g.hosts.keys()],
        children: [...g.children.keys()],
        vars: g.vars,
      })),
    },
  };
}

const PATH_KEYS = new Set(['identityFile', 'knownHostsFile']);

/**
 * `~/x` → in the home directory; a relative path → relative to the inventory
 * file, so an inventory works the same from any working directory.
 */
function localPath(path: string, dir: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return resolve(dir, path);
}

/** Each cycle in `children` once, reported at the entry that closes it. */
function findCycles(
  groups: ReadonlyMap<string, { readonly children: ReadonlyMap<string, Origin> }>,
  at: (origin: Origin) => { file: string; line: number | undefined },
): InventoryProblem[] {
  const problems: InventoryProblem[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string) => {
    stack.push(name);
    for (const [child, origin] of groups.get(name)?.children ?? []) {
      const start = stack.indexOf(child);
      if (start >= 0) {
        const cycle = [...stack.slice(start), child].join(' → ');
        problems.push({ ...at(origin), path: origin.path, message: `groups form a cycle through 'children': ${cycle}` });
      } else if (!done.has(child) && groups.has(child)) {
        visit(child);
      }
    }
    stack.pop();
    done.add(name);
  };
  for (const name of groups.keys()) if (!done.has(name)) visit(name);
  return problems;
}
