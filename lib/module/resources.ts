/**
 * The state record that lets a task plan against what earlier tasks of the
 * same run will have done. In check mode nothing is applied, so a file that
 * task 3 would write must still "exist" for task 7: each module declares its
 * effects as typed resource values, and later tasks read them here before
 * trusting what they observed on the host.
 */
export class ResourceKind<Value> {
  /** Phantom field: keeps Value in the type so get/set stay typed. */
  declare readonly valueType: Value;
  readonly name: string;
  /** Ids are absolute paths, and a change at a path is a change at what lies below it too (see ResourceKey). */
  readonly nested: boolean;

  constructor(name: string, options: { readonly nested?: boolean } = {}) {
    this.name = name;
    this.nested = options.nested ?? false;
  }
}

export interface Effect<Value = unknown> {
  readonly kind: ResourceKind<Value>;
  readonly id: string;
  readonly value: Value;
}

/**
 * One resource, as a backend's `reads` and `writes` name it so that the
 * engine re-probes after a change only the tasks it can have affected
 * (lib/run/probe-cache.ts). Two keys meet when their kinds are the same and
 * their ids are equal, or one is ANY, or (for a nested kind such as paths)
 * one is the other's ancestor. An Effect is a ResourceKey too.
 */
export interface ResourceKey {
  readonly kind: ResourceKind<any>;
  readonly id: string;
}

/** The id that stands for every resource of its kind: all users, any path. */
export const ANY = '*';

export function resourceKey(kind: ResourceKind<any>, id: string = ANY): ResourceKey {
  return { kind, id };
}

export function effect<Value>(kind: ResourceKind<Value>, id: string, value: Value): Effect<Value> {
  return { kind, id, value };
}

export class PlannedState {
  readonly #values = new Map<string, unknown>();

  get<Value>(kind: ResourceKind<Value>, id: string): Value | undefined {
    return this.#values.get(`${kind.name}\0${id}`) as Value | undefined;
  }

  /** Every recorded value of one kind, by id: for a task that owns a whole set (firewalld's exact lists) and must see each member earlier tasks planned. */
  entries<Value>(kind: ResourceKind<Value>): [id: string, value: Value][] {
    const prefix = `${kind.name}\0`;
    return [...this.#values].filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), value as Value]);
  }

  record(effects: readonly Effect[]): void {
    for (const e of effects) this.#values.set(`${e.kind.name}\0${e.id}`, e.value);
  }
}

/** The state of a path as far as file-like modules care. */
export type PathState =
  | { readonly type: 'absent' }
  | {
      readonly type: 'file';
      readonly content?: Buffer;
      readonly mode?: string;
      readonly owner?: string;
      readonly group?: string;
      /** Written by a secret task: a later task on the path must not show the content either. */
      readonly secret?: boolean;
    }
  | { readonly type: 'directory'; readonly mode?: string; readonly owner?: string; readonly group?: string }
  | { readonly type: 'link'; readonly target: string };

/** Paths on the host: written by `file`, read by `command`'s `creates` guard and later modules. */
export const PathResource = new ResourceKind<PathState>('path', { nested: true });
