import type { MergedInventory } from './merge.ts';
import { selectHostNames } from './pattern.ts';
import type { Inventory, InventoryHost, Vars } from './types.ts';

/**
 * Turn a merged, checked inventory into hosts ready to connect to: group
 * membership through children, defaults, and vars merged shallowly with
 * precedence top-level < groups (by depth, then name) < host.
 * Assumes the checks in mergeSources passed (no unknown names, no cycles).
 */
export function resolveInventory(merged: MergedInventory): Inventory {
  const children = new Map(merged.groups.map((g) => [g.name, g.children]));
  const parents = new Map<string, string[]>();
  for (const group of merged.groups) {
    for (const child of group.children) parents.set(child, [...(parents.get(child) ?? []), group.name]);
  }

  // Depth = the longest chain of parents above a group, so a child always comes after every parent.
  const depths = new Map<string, number>();
  const depth = (name: string): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    const d = Math.max(-1, ...(parents.get(name) ?? []).map(depth)) + 1;
    depths.set(name, d);
    return d;
  };
  const precedence = [...merged.groups].sort((a, b) => depth(a.name) - depth(b.name) || a.name.localeCompare(b.name));

  // Direct members of a group and of every group below it.
  const membersOf = (name: string, seen = new Set<string>()): Set<string> => {
    const members = new Set(merged.groups.find((g) => g.name === name)?.hosts);
    for (const child of children.get(name) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      for (const host of membersOf(child, seen)) members.add(host);
    }
    return members;
  };
  const members = new Map(merged.groups.map((g) => [g.name, membersOf(g.name)]));

  const hosts: InventoryHost[] = merged.hosts.map(({ name, entry }) => {
    const groups = precedence.filter((g) => members.get(g.name)?.has(name));
    const vars: Vars = Object.assign({}, merged.vars, ...groups.map((g) => g.vars), entry.vars);
    return {
      name,
      address: entry.address ?? name,
      port: entry.port ?? 22,
      ...(entry.user === undefined ? {} : { user: entry.user }),
      ...(entry.identityFile === undefined ? {} : { identityFile: entry.identityFile }),
      ...(entry.knownHostsFile === undefined ? {} : { knownHostsFile: entry.knownHostsFile }),
      connection: entry.connection ?? 'ssh',
      ...(entry.platform === undefined ? {} : { platform: entry.platform }),
      ...(entry.nixos === undefined ? {} : { nixos: entry.nixos }),
      groups: ['all', ...groups.map((g) => g.name)],
      vars,
    };
  });

  const names = hosts.map((h) => h.name);
  const groupHosts: Record<string, readonly string[]> = { all: names };
  for (const group of merged.groups) groupHosts[group.name] = names.filter((n) => members.get(group.name)?.has(n));
  const byName = new Map(hosts.map((h) => [h.name, h]));

  return {
    hosts,
    groups: groupHosts,
    select: (pattern) =>
      selectHostNames(pattern, { hosts: names, groups: groupHosts }).flatMap((n) => byName.get(n) ?? []),
  };
}
