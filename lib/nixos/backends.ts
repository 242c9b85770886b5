import { basename, dirname } from 'node:path/posix';
import type { ExecResult } from '../connection/types.ts';
import { textDiff } from '../diff.ts';
import type { Backend, Change } from '../module/types.ts';
import { sh, type ShellScript } from '../shell/quote.ts';
import { parseModuleBlocks, renderDefaultNix, withImport } from './module-file.ts';
import type { NixosUpload } from './renderer.ts';
import { applyUploads, parseUploads, planUploads, uploadProbes, type ObservedUpload, type UploadAction } from './secrets.ts';

/** Read a file if it exists: exit 3 means absent, anything else non-zero is an error. */
function readIfPresent(path: string): ShellScript {
  return sh`if [ -e ${path} ]; then cat -- ${path}; else exit 3; fi`;
}

function contentOf(path: string, result: ExecResult | undefined): string | undefined {
  if (!result || result.code === 3) return undefined;
  if (result.code !== 0) throw new Error(`cannot read ${path}: ${result.stderr.trim() || `exit code ${result.code}`}`);
  return result.stdout;
}

// ── one task's block ──────────────────────────────────────────────────────

export interface BlockParams {
  readonly modulePath: string;
  readonly key: string;
  readonly text: string;
  /** The task's secrets, written out of band (lib/nixos/secrets.ts). */
  readonly uploads: readonly NixosUpload[];
}

interface BlockObserved {
  readonly block: string | undefined;
  readonly uploads: readonly ObservedUpload[];
}

/**
 * A task's part of the play's NixOS module: ok when the module on the host
 * already holds exactly this block (and its secrets are in place), changed
 * otherwise. Writing the module and switching is the play's closing
 * `nixos-rebuild` task; apply only writes the task's secrets, so they are
 * there before the switch starts what needs them.
 */
export const blockBackend: Backend<BlockParams, BlockObserved, UploadAction | null> = {
  // Every block of a play reads the same file: the engine runs the probe once.
  probes: (p) => ({ module: { script: readIfPresent(p.modulePath) }, ...uploadProbes(p.uploads) }),
  parse: (p, outputs) => ({ block: parseModuleBlocks(contentOf(p.modulePath, outputs['module'])).get(p.key), uploads: parseUploads(p.uploads, outputs) }),
  plan: ({ modulePath, text, uploads }, { block, uploads: onHost }) => [
    ...planUploads(uploads, onHost),
    ...(block === text ? [] : [{ summary: `${block === undefined ? 'add' : 'update'} block in ${modulePath}`, diff: textDiff(modulePath, block ?? '', text), action: null }]),
  ],
  apply: (p, changes, context) => applyUploads(p.uploads, changes.flatMap((c) => (c.action ? [c.action] : [])), context),
};

// ── the play's closing switch ─────────────────────────────────────────────

export interface SwitchParams {
  readonly play: string;
  readonly modulePath: string;
  readonly moduleText: string;
  /** The NixOS configuration file that must import the module directory; for a flake, its flake.nix. */
  readonly entryPath: string;
  /** What the entry file must reference: `./hostform` or an absolute directory. */
  readonly importPath: string;
  readonly flake?: { readonly path: string; readonly attr: string };
  readonly action: 'switch' | 'boot';
}

interface SwitchObserved {
  readonly module?: string;
  readonly defaultNix?: string;
  readonly entry?: string;
  readonly moduleFiles: readonly string[];
  readonly hasRebuild: boolean;
}

export type SwitchAction = { readonly do: 'write'; readonly path: string; readonly content: string; readonly before?: string } | { readonly do: 'rebuild' };

function defaultNixPath(p: SwitchParams): string {
  return `${dirname(p.modulePath)}/default.nix`;
}

export const switchBackend: Backend<SwitchParams, SwitchObserved, SwitchAction> = {
  probes: (p) => ({
    module: { script: readIfPresent(p.modulePath) },
    defaultNix: { script: readIfPresent(defaultNixPath(p)) },
    entry: { script: readIfPresent(p.entryPath) },
    listing: { script: sh`ls -1 -- ${dirname(p.modulePath)} 2>/dev/null; true` },
    rebuild: { script: sh`command -v nixos-rebuild || true` },
  }),

  parse: (p, o) => ({
    ...optional('module', contentOf(p.modulePath, o['module'])),
    ...optional('defaultNix', contentOf(defaultNixPath(p), o['defaultNix'])),
    ...optional('entry', contentOf(p.entryPath, o['entry'])),
    moduleFiles: (o['listing']?.stdout ?? '').split('\n').filter(Boolean),
    hasRebuild: (o['rebuild']?.stdout ?? '').trim() !== '',
  }),

  plan: (p, observed) => {
    if (!observed.hasRebuild) {
      throw new Error('nixos-rebuild is not on this host: is it NixOS? Set `platform` in the inventory if detection is wrong');
    }
    if (observed.entry === undefined) throw new Error(`${p.entryPath} does not exist; hostform adds its module to an existing NixOS configuration`);
    const writes: SwitchAction[] = [];
    const want = (path: string, before: string | undefined, content: string) => {
      if (before !== content) writes.push({ do: 'write', path, content, ...(before === undefined ? {} : { before }) });
    };
    want(p.modulePath, observed.module, p.moduleText);
    want(defaultNixPath(p), observed.defaultNix, renderDefaultNix([...observed.moduleFiles, basename(p.modulePath)]));
    if (p.flake) {
      if (!observed.entry.includes('hostform')) {
        throw new Error(`${p.entryPath} does not use hostform's modules: add ${p.importPath} to the modules of nixosConfigurations.${p.flake.attr} once`);
      }
    } else {
      const patched = withImport(observed.entry, p.importPath);
      if (patched === undefined) throw new Error(`cannot find where to add the import in ${p.entryPath}: add \`imports = [ ${p.importPath} ];\` to it once`);
      want(p.entryPath, observed.entry, patched);
    }
    if (writes.length === 0) return [];
    const changes: Change<SwitchAction>[] = writes.map((w) => {
      const write = w as Extract<SwitchAction, { do: 'write' }>;
      const isModule = write.path === p.modulePath;
      return {
        summary: `${write.before === undefined ? 'create' : 'update'} ${write.path}`,
        // The module's blocks are diffed by their own tasks; show the whole file only when blocks went away.
        ...(isModule && write.before !== undefined && removedBlocks(write.before, p.moduleText) ? { diff: textDiff(write.path, write.before, write.content) } : {}),
        ...(!isModule ? { diff: textDiff(write.path, write.before ?? '', write.content) } : {}),
        action: w,
      };
    });
    changes.push({ summary: `nixos-rebuild ${p.action}${p.flake ? ` --flake ${p.flake.path}#${p.flake.attr}` : ''}`, action: { do: 'rebuild' } });
    return changes;
  },

  async preview(p, _observed, changes, context) {
    const root = p.flake ? p.flake.path : dirname(p.entryPath);
    const made = await context.run(sh`d=$(mktemp -d /tmp/hostform-nixos.XXXXXX) && cp -a -- ${root}/. "$d"/ && echo "$d"`);
    const copy = made.stdout.trim();
    try {
      for (const { action } of changes) {
        if (action.do !== 'write') continue;
        const relative = action.path.startsWith(`${root}/`) ? action.path.slice(root.length + 1) : undefined;
        if (relative === undefined) throw new Error(`${action.path} is outside ${root}; check mode can only preview files inside the configuration's directory`);
        await context.run(sh`mkdir -p -- ${dirname(`${copy}/${relative}`)} && cat > ${`${copy}/${relative}`}`, { stdin: action.content });
      }
      const target = p.flake ? sh`--flake ${`${copy}#${p.flake.attr}`}` : sh`-I ${`nixos-config=${copy}/${basename(p.entryPath)}`}`;
      const result = await context.run(sh`nixos-rebuild dry-activate ${target} 2>&1`);
      return { summary: 'nixos-rebuild dry-activate (on a copy of the configuration) says', detail: result.stdout.trim() };
    } finally {
      await context.run(sh`rm -rf -- ${copy}`);
    }
  },

  async apply(p, changes, context) {
    const writes = changes.flatMap((c) => (c.action.do === 'write' ? [c.action] : []));
    for (const w of writes) await context.run(sh`mkdir -p -- ${dirname(w.path)}`).then(() => context.writeFile(w.path, w.content, { mode: 0o644 }));
    try {
      if (p.flake) await context.run(sh`if [ -d ${`${p.flake.path}/.git`} ]; then git -C ${p.flake.path} add --intent-to-add -- ${dirname(p.modulePath)}; fi`);
      const target = p.flake ? sh` --flake ${`${p.flake.path}#${p.flake.attr}`}` : sh``;
      await context.run(sh`nixos-rebuild ${p.action}${target}`);
    } catch (error) {
      // Leave the files describing the generation that is still running.
      for (const w of writes) {
        await (w.before === undefined ? context.run(sh`rm -f -- ${w.path}`) : context.writeFile(w.path, w.before, { mode: 0o644 }));
      }
      throw new Error(`${(error as Error).message}\nnixos-rebuild failed: the previous generation is still active and hostform restored the files it had changed`);
    }
  },
};

function removedBlocks(before: string, after: string): boolean {
  const now = parseModuleBlocks(after);
  return [...parseModuleBlocks(before).keys()].some((k) => !now.has(k));
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
