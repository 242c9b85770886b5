/**
 * The probe outputs fetched so far on one host, kept until a change can have
 * made them stale.
 *
 * A backend says what its probes read (`reads`: paths, users, groups, the
 * firewall...) and what its apply may change (`writes`, else the keys of its
 * `effects`), as ResourceKeys. When tasks are about to apply, the outputs of
 * every task whose reads meet what they write are dropped, and those tasks
 * are probed again, together, when the run reaches the first of them. So a
 * first run of a play in which every task changes something costs a probe
 * round trip per change only where a change feeds a later task's
 * observation, not after every change.
 *
 * Whatever is not declared counts as touching everything: a task without
 * `reads` is probed again after every change, and its own change, a
 * `widens` backend's (packages, commands, services started), a handler's and
 * a deferred action's (the host-run clears the cache) drop every output.
 *
 * Paths are compared as written, so a symbolic link on the way would hide
 * that two paths are one file. The batch therefore asks the host where each
 * path a task reads leads (`realpath -m`): a task reads its path and where it
 * leads, and a path a task writes counts as written where it is written only
 * when the task read it (or a path below it) and it led to itself; otherwise
 * the write counts as landing on any path.
 */
import { posix } from 'node:path';
import type { ExecResult } from '../connection/types.ts';
import { ANY, resourceKey, type ResourceKey } from '../module/resources.ts';
import type { Backend, HostView, ProbeOutputs } from '../module/types.ts';
import { sh, type ShellScript } from '../shell/quote.ts';
import type { ProbeRequest } from './probe-batch.ts';

/** What the cache needs of a prepared task. */
export interface CachedTask {
  readonly backend?: Backend<unknown, unknown, unknown> | undefined;
  readonly resolved: unknown;
  readonly become: boolean;
  readonly handler: boolean;
}

interface Entry {
  readonly outputs: ProbeOutputs;
  /** What the outputs depend on; undefined: anything. */
  readonly reads: readonly ResourceKey[] | undefined;
  /** Paths the task reads that lead to themselves (no symbolic link on the way). */
  readonly direct: readonly string[];
}

/** Whether a change to one key can alter what a reader of the other sees. */
export function meets(a: ResourceKey, b: ResourceKey): boolean {
  if (a.kind.name !== b.kind.name) return false;
  if (a.id === ANY || b.id === ANY || a.id === b.id) return true;
  if (!a.kind.nested) return false;
  const [x, y] = [normalPath(a.id), normalPath(b.id)];
  return within(x, y) || within(y, x);
}

/** `path` is `dir` or lies below it. */
function within(path: string, dir: string): boolean {
  return path === dir || dir === '/' || path.startsWith(`${dir}/`);
}

function normalPath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

export class ProbeCache<T extends CachedTask> {
  readonly #entries = new Map<T, Entry>();

  get(task: T): ProbeOutputs | undefined {
    return this.#entries.get(task)?.outputs;
  }

  has(task: T): boolean {
    return this.#entries.has(task);
  }

  clear(): void {
    this.#entries.clear();
  }

  /**
   * Probe these tasks in one batch (`run` sends it to the host) and keep
   * their outputs, with where the paths they read lead.
   */
  async fetch(tasks: readonly T[], host: HostView, run: (requests: readonly ProbeRequest[]) => Promise<ExecResult[]>): Promise<void> {
    const probing = this.prepare(tasks, host);
    probing.keep(probing.requests.length > 0 ? await run(probing.requests) : []);
  }

  /**
   * The requests that probe these tasks (theirs, then where the paths they
   * read lead), and how to keep their outputs once they ran, in order.
   * Whoever sends them must make sure nothing changed the host after they ran.
   */
  prepare(tasks: readonly T[], host: HostView): { readonly requests: readonly ProbeRequest[]; keep(outputs: readonly ExecResult[]): void } {
    const perTask = tasks.map((t) => Object.entries(t.backend?.probes(t.resolved, host) ?? {}));
    const probes: ProbeRequest[] = tasks.flatMap((t, i) => (perTask[i] ?? []).map(([, probe]) => ({ script: probe.script, become: t.become, stdin: probe.stdin })));
    const reads = tasks.map((t) => t.backend?.reads?.(t.resolved));
    const resolving = [false, true].flatMap((become) => {
      const paths = [...new Set(tasks.flatMap((t, i) => (t.become === become ? pathsOf(reads[i] ?? []) : [])))];
      return paths.length > 0 ? [{ become, paths }] : [];
    });
    const requests = [...probes, ...resolving.map((r) => ({ script: resolvePathsScript(r.paths), become: r.become }))];
    const keep = (outputs: readonly ExecResult[]) => {
      const leads = new Map(resolving.map((r, i) => [r.become, parseResolvedPaths(r.paths, outputs[probes.length + i])] as const));
      let next = 0;
      tasks.forEach((t, i) => {
        const record: Record<string, ExecResult> = {};
        for (const [key] of perTask[i] ?? []) record[key] = outputs[next++] as ExecResult;
        // What the probes did read, now that their outputs say (a path named only now was not resolved: any path).
        const read = reads[i] === undefined ? undefined : t.backend?.reads?.(t.resolved, record);
        this.#entries.set(t, entryOf(record, read, leads.get(t.become) ?? new Map()));
      });
    };
    return { requests, keep };
  }

  /**
   * These tasks are about to change the host (together, when a module
   * applies several at once): forget every output they can make stale,
   * theirs included.
   */
  applying(changes: readonly { readonly task: T; readonly observed: unknown }[]): void {
    const written: ResourceKey[] = [];
    for (const { task, observed } of changes) {
      const keys = this.writesOf(task, observed);
      if (!keys) return this.clear();
      written.push(...keys);
    }
    for (const { task } of changes) this.#entries.delete(task);
    for (const [task, entry] of this.#entries) {
      if (entry.reads === undefined || entry.reads.some((r) => written.some((w) => meets(r, w)))) this.#entries.delete(task);
    }
  }

  /** What a probed task's outputs depend on, the paths they read where they lead included; undefined: anything, or not probed. */
  readsOf(task: T): readonly ResourceKey[] | undefined {
    return this.#entries.get(task)?.reads;
  }

  /** What applying a probed task's changes may alter, as the cache counts it; undefined: anything. */
  writesOf(task: T, observed: unknown): readonly ResourceKey[] | undefined {
    const backend = task.backend;
    const entry = this.#entries.get(task);
    if (!backend?.reads || backend.widens || task.handler || !entry) return undefined;
    const keys = backend.writes ? backend.writes(task.resolved, observed) : (backend.effects?.(task.resolved) ?? []);
    return keys.map((k) => writtenWhere(k, entry.direct));
  }
}

/** Whether any key of one list meets any of the other (undefined: anything). */
export function overlap(a: readonly ResourceKey[] | undefined, b: readonly ResourceKey[] | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return a.some((x) => b.some((y) => meets(x, y)));
}

/** The paths among keys, as the host is asked about them. */
function pathsOf(keys: readonly ResourceKey[]): string[] {
  return keys.filter((k) => k.kind.nested && k.id !== ANY).map((k) => normalPath(k.id));
}

function entryOf(outputs: ProbeOutputs, reads: readonly ResourceKey[] | undefined, leads: ReadonlyMap<string, string | undefined>): Entry {
  if (reads === undefined) return { outputs, reads, direct: [] };
  const extra: ResourceKey[] = [];
  const direct: string[] = [];
  for (const key of reads.filter((k) => k.kind.nested && k.id !== ANY)) {
    const path = normalPath(key.id);
    const target = leads.get(path);
    if (target === path) direct.push(path);
    else extra.push(resourceKey(key.kind, target ?? ANY));
  }
  return { outputs, reads: [...reads, ...extra], direct };
}

/** A written key; a path only where the task saw that it leads to itself, else any path. */
function writtenWhere(key: ResourceKey, direct: readonly string[]): ResourceKey {
  if (!key.kind.nested || key.id === ANY) return key;
  const path = normalPath(key.id);
  return direct.some((d) => within(d, path)) ? resourceKey(key.kind, path) : resourceKey(key.kind, ANY);
}

/**
 * Where each path leads: when every path resolves, one line \`z \` + base64
 * of their \`realpath -m -z\` (NUL-terminated, in order: three processes
 * whatever the number of paths); else one line per path, base64 of its
 * \`realpath -m\`, or \`-\` when it cannot be resolved (a directory the
 * prober may not search).
 */
export function resolvePathsScript(paths: readonly string[]): ShellScript {
  return sh`set -- ${paths}
if realpath -m -- "$@" >/dev/null 2>&1; then printf 'z '; realpath -m -z -- "$@" | base64 -w0; echo; exit; fi
for p do
  if r=$(realpath -m -- "$p" 2>/dev/null); then printf %s "$r" | base64 -w0; echo; else echo -; fi
done`;
}

/** What resolvePathsScript printed, by path; a path left out could not be resolved. */
export function parseResolvedPaths(paths: readonly string[], result: ExecResult | undefined): Map<string, string | undefined> {
  const lines = result?.code === 0 ? result.stdout.split('\n') : [];
  if (lines.length === 2 && lines[0]?.startsWith('z ')) {
    const all = Buffer.from(lines[0].slice(2), 'base64').toString('utf8').split('\0');
    if (all.pop() !== '' || all.length !== paths.length) return new Map();
    return new Map(paths.map((p, i) => [p, all[i]]));
  }
  if (lines.length !== paths.length + 1) return new Map();
  return new Map(paths.map((p, i) => [p, lines[i] === '-' ? undefined : Buffer.from(lines[i] ?? '', 'base64').toString('utf8')]));
}
