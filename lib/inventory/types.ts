export type Platform = 'el9' | 'nixos' | 'linux';
export const PLATFORMS: readonly Platform[] = ['el9', 'nixos', 'linux'];

export type Vars = Record<string, unknown>;

/** How hostform manages a NixOS host: where its module goes, how it switches. */
export interface NixosSettings {
  /** Default /etc/nixos/configuration.nix; ignored with `flake`. */
  readonly configuration?: string;
  /** Default: `hostform/` beside the configuration, or inside the flake. */
  readonly moduleDir?: string;
  /** Build `<path>#nixosConfigurations.<attr>` instead of configuration.nix. */
  readonly flake?: { readonly path: string; readonly attr: string };
  /** 'switch' (default) activates now; 'boot' only makes it the boot default. */
  readonly action?: 'switch' | 'boot';
  /** Seconds hostform has, after activating, to log in anew and confirm before the host switches back by itself; default 120. */
  readonly confirmSeconds?: number;
}

/** One host as written in an inventory file (before group vars are merged). */
export interface HostEntry {
  readonly address?: string;
  readonly port?: number;
  readonly user?: string;
  /** `~/` is the home directory; a relative path is relative to the inventory file. */
  readonly identityFile?: string;
  /** `~/` is the home directory; a relative path is relative to the inventory file. */
  readonly knownHostsFile?: string;
  readonly connection?: 'ssh' | 'local';
  readonly platform?: Platform;
  readonly nixos?: NixosSettings;
  readonly vars?: Vars;
}

export interface GroupEntry {
  readonly hosts?: readonly string[];
  readonly children?: readonly string[];
  readonly vars?: Vars;
}

/**
 * The shape of `inventory/*.yml` and of `inventory({...})` in TypeScript
 * (schema: `hostform/schema/inventory.json`). Several sources are merged; any
 * of the three keys may be left out, e.g. a file that only defines groups.
 */
export interface InventorySource {
  /** Host name → settings; `null` (an empty YAML entry) means all defaults. */
  readonly hosts?: Readonly<Record<string, HostEntry | null>>;
  /** Group name → members; `all` is implicit and cannot be defined. */
  readonly groups?: Readonly<Record<string, GroupEntry | null>>;
  /** Vars for every host (the implicit group `all`). */
  readonly vars?: Vars;
}

/**
 * A host after loading: groups resolved, vars merged. Precedence, lowest first:
 * top-level vars < group vars (parents before children, then by name) < host
 * vars. The merge is shallow: a key set at a higher level replaces the whole
 * value, maps and lists are not merged.
 */
export interface InventoryHost {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Login user; undefined means the current user of the control machine. */
  readonly user?: string;
  /** Absolute path. */
  readonly identityFile?: string;
  /** Absolute path. */
  readonly knownHostsFile?: string;
  readonly connection: 'ssh' | 'local';
  readonly platform?: Platform;
  readonly nixos?: NixosSettings;
  /**
   * `all`, then every group the host belongs to, directly or through children,
   * in vars precedence order (parents before children, then by name).
   */
  readonly groups: readonly string[];
  readonly vars: Vars;
}

/** Hosts in inventory order: the order of first definition across the loaded files. */
export interface Inventory {
  readonly hosts: readonly InventoryHost[];
  /** Group name → names of its hosts (through children too), in inventory order; includes `all`. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /**
   * Hosts matching a pattern, in inventory order, each once: `all`, a group, a
   * host, `a,b`, `!excluded`, `&intersect`, `web*`. Unknown names are a UsageError.
   */
  select(pattern: string): InventoryHost[];
}
