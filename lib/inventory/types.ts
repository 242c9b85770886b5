export type Platform = 'el9' | 'nixos' | 'linux';
export const PLATFORMS: readonly Platform[] = ['el9', 'nixos', 'linux'];

export type Vars = Record<string, unknown>;

/** One host as written in an inventory file (before group vars are merged). */
export interface HostEntry {
  readonly address?: string;
  readonly port?: number;
  readonly user?: string;
  readonly identityFile?: string;
  readonly knownHostsFile?: string;
  readonly connection?: 'ssh' | 'local';
  readonly platform?: Platform;
  readonly vars?: Vars;
}

export interface GroupEntry {
  readonly hosts?: readonly string[];
  readonly children?: readonly string[];
  readonly vars?: Vars;
}

/** The shape of `inventory/*.yml` and of `inventory({...})` in TypeScript. */
export interface InventorySource {
  readonly hosts: Readonly<Record<string, HostEntry | null>>;
  readonly groups?: Readonly<Record<string, GroupEntry>>;
  /** Vars for every host (the implicit group `all`). */
  readonly vars?: Vars;
}

/** A host after loading: groups resolved, vars merged (all < groups < host). */
export interface InventoryHost {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Login user; undefined means the current user of the control machine. */
  readonly user?: string;
  readonly identityFile?: string;
  readonly knownHostsFile?: string;
  readonly connection: 'ssh' | 'local';
  readonly platform?: Platform;
  /** Every group the host belongs to, directly or through children, plus `all`. */
  readonly groups: readonly string[];
  readonly vars: Vars;
}

export interface Inventory {
  readonly hosts: readonly InventoryHost[];
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** Select host names by pattern: `all`, a group, a host, `a,b`, `!excluded`, `&intersect`, `web*`. */
  select(pattern: string): InventoryHost[];
}
