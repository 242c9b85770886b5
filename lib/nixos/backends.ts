import { basename, dirname } from 'node:path/posix';
import type { ExecResult } from '../connection/types.ts';
import { textDiff } from '../diff.ts';
import { RemoteCommandError } from '../errors.ts';
import type { ApplyContext, Backend, Change } from '../module/types.ts';
import { join, sh, trusted, type ShellScript } from '../shell/quote.ts';
import { asControllerOf } from '../shell/path-guard.ts';
import { armSelfRevert, disarmSelfRevert, SELF_REVERT_DIR, selfRevertState } from '../shell/self-revert.ts';
import { privateTempDir } from '../shell/temp-dir.ts';
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
  /** How long, after activating, hostform has to log in anew and confirm before the host switches back by itself. */
  readonly confirmSeconds: number;
}

interface SwitchObserved {
  readonly module?: string;
  readonly defaultNix?: string;
  readonly entry?: string;
  readonly moduleFiles: readonly string[];
  readonly hasRebuild: boolean;
  /** The system profile's current generation: the one a switch goes back to. */
  readonly generation?: number;
  /** A switch of an earlier run still waits for its confirmation or its return (its timer is armed). */
  readonly undecided: boolean;
}

export type SwitchAction =
  | { readonly do: 'write'; readonly path: string; readonly content: string; readonly before?: string }
  | { readonly do: 'rebuild'; readonly previous?: number };

/** The profile nixos-rebuild switches; its generations are what `--rollback` and the boot menu list. */
export const SYSTEM_PROFILE = '/nix/var/nix/profiles/system';

/** The self-revert id of a switch (lib/shell/self-revert.ts). */
const REVERT_ID = 'nixos-switch';

/** The transient unit activation runs in, so a dropped connection does not kill it halfway (nixos-rebuild does the same). */
const ACTIVATION_UNIT = 'hostform-nixos-activate';

/**
 * How long the host waits for the activation itself before switching back,
 * when hostform is cut off during it. Once activation returns, the deadline
 * becomes confirmSeconds.
 */
export const ACTIVATION_SECONDS = 600;

/** Where the files as they were before the run wait for a return, root-only. */
const BACKUP_DIR = `${SELF_REVERT_DIR}/${REVERT_ID}.files`;

function defaultNixPath(p: SwitchParams): string {
  return `${dirname(p.modulePath)}/default.nix`;
}

/** `-I nixos-config=<configuration>` or `--flake <path>#<attr>`: what check mode checked is what apply builds. */
function rebuildTarget(p: SwitchParams, root = sh`${p.flake ? p.flake.path : dirname(p.entryPath)}`): ShellScript {
  return p.flake ? sh`--flake ${root}${`#${p.flake.attr}`}` : sh`-I nixos-config=${root}/${basename(p.entryPath)}`;
}

export const switchBackend: Backend<SwitchParams, SwitchObserved, SwitchAction> = {
  probes: (p) => ({
    module: { script: readIfPresent(p.modulePath) },
    defaultNix: { script: readIfPresent(defaultNixPath(p)) },
    entry: { script: readIfPresent(p.entryPath) },
    listing: { script: sh`ls -1 -- ${dirname(p.modulePath)} 2>/dev/null; true` },
    rebuild: { script: sh`command -v nixos-rebuild || true` },
    generation: { script: sh`readlink -- ${SYSTEM_PROFILE} || true` },
    revert: { script: selfRevertState(REVERT_ID) },
  }),

  parse: (p, o) => {
    const generation = /^system-(\d+)-link$/.exec((o['generation']?.stdout ?? '').trim())?.[1];
    return {
      ...optional('module', contentOf(p.modulePath, o['module'])),
      ...optional('defaultNix', contentOf(defaultNixPath(p), o['defaultNix'])),
      ...optional('entry', contentOf(p.entryPath, o['entry'])),
      moduleFiles: (o['listing']?.stdout ?? '').split('\n').filter(Boolean),
      hasRebuild: (o['rebuild']?.stdout ?? '').trim() !== '',
      ...(generation === undefined ? {} : { generation: Number(generation) }),
      undecided: (o['revert']?.stdout ?? '').trim() === 'armed',
    };
  },

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
    if (observed.undecided) {
      throw new Error(
        `an earlier switch on this host is still waiting to be confirmed, or to be switched back by the host (timer hostform-revert-${REVERT_ID}): run again once it is decided (journalctl -u hostform-revert-${REVERT_ID} says what the host did)`,
      );
    }
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
    const how =
      p.action === 'switch'
        ? `, then activate it; unless hostform logs in anew and confirms within ${p.confirmSeconds} s, the host switches back to generation ${observed.generation ?? '(unknown)'} by itself`
        : ', as the next boot default';
    changes.push({
      summary: `nixos-rebuild build ${p.flake ? `--flake ${p.flake.path}#${p.flake.attr}` : `-I nixos-config=${p.entryPath}`}${how}`,
      action: { do: 'rebuild', ...(observed.generation === undefined ? {} : { previous: observed.generation }) },
    });
    return changes;
  },

  async preview(p, _observed, changes, context) {
    const root = p.flake ? p.flake.path : dirname(p.entryPath);
    // The candidate files travel on stdin, one after another; `head -c` takes each one's bytes.
    const files = changes.flatMap(({ action }) => {
      if (action.do !== 'write') return [];
      const relative = action.path.startsWith(`${root}/`) ? action.path.slice(root.length + 1) : undefined;
      if (relative === undefined) throw new Error(`${action.path} is outside ${root}; check mode can only preview files inside the configuration's directory`);
      return [{ relative, content: Buffer.from(action.content) }];
    });
    const place = files.map(({ relative, content }) => sh`mkdir -p -- "$copy"/${dirname(relative)} && head -c ${content.length} > "$copy"/${relative}`);
    const result = await context.run(
      join([privateTempDir('copy'), join([sh`cp -a -- ${root}/. "$copy"/`, ...place, sh`nixos-rebuild dry-activate ${rebuildTarget(p, trusted('"$copy"'))} 2>&1`], '&&')]),
      { stdin: Buffer.concat(files.map((f) => f.content)) },
    );
    return { summary: 'nixos-rebuild dry-activate (on a copy of the configuration) says', detail: result.stdout.trim() };
  },

  async apply(p, changes, context) {
    const writes = changes.flatMap((c) => (c.action.do === 'write' ? [c.action] : []));
    const previous = changes.flatMap((c) => (c.action.do === 'rebuild' ? [c.action.previous] : []))[0];
    for (const w of writes) await context.run(sh`mkdir -p -- ${dirname(w.path)}`).then(() => context.writeFile(w.path, w.content, { mode: 0o644 }));
    const restoreFiles = async () => {
      // Leave the files describing the generation that is still running.
      for (const w of writes) await (w.before === undefined ? context.run(removeAsController(w.path)) : context.writeFile(w.path, w.before, { mode: 0o644 }));
    };

    let system: string;
    try {
      system = await build(p, context);
      if (p.action === 'switch' && previous === undefined) {
        throw new Error(`cannot tell which generation is running (${SYSTEM_PROFILE} is not a system-<n>-link): hostform only switches when it can switch back`);
      }
    } catch (error) {
      await restoreFiles();
      throw new Error(`${(error as Error).message}\nnothing was activated: the previous generation is still active and hostform restored the files it had changed`);
    }
    if (p.action === 'boot') {
      await context.run(sh`nix-env -p ${SYSTEM_PROFILE} --set ${system} && ${`${system}/bin/switch-to-configuration`} boot`);
      return;
    }
    await switchOrReturn(p, writes, previous!, system, context);
  },
};

/** `nixos-rebuild build` in a private directory (its `result` link lands there): the new system's store path. */
async function build(p: SwitchParams, context: ApplyContext): Promise<string> {
  if (p.flake) await context.run(sh`if [ -d ${`${p.flake.path}/.git`} ]; then git -C ${p.flake.path} add --intent-to-add -- ${dirname(p.modulePath)}; fi`);
  const result = await context.run(
    join([privateTempDir('build'), join([sh`cd "$build"`, sh`nixos-rebuild build ${rebuildTarget(p)} >&2`, sh`[ -L result ]`, sh`printf 'system=%s\\n' "$(readlink -f result)"`], '&&')]),
  );
  const system = /^system=(\/\S+)$/m.exec(result.stdout)?.[1];
  if (!system) throw new Error(`nixos-rebuild build made no ./result link (it printed ${JSON.stringify(result.stdout.slice(-200))})`);
  return system;
}

/**
 * Activate `system` so that it cannot lock hostform out: before activating,
 * the host is armed to return by itself (the files as they were, the
 * profile's previous generation, activated); after activating, a brand-new
 * login must find the new system running within confirmSeconds, and only
 * then is the return disarmed. Cut off at any point, hostform confirms
 * nothing and the host returns on its own. An activation that fails while
 * hostform is still connected is returned from at once.
 */
async function switchOrReturn(p: SwitchParams, writes: readonly Extract<SwitchAction, { do: 'write' }>[], previous: number, system: string, context: ApplyContext): Promise<void> {
  const undo = returnScript(writes, previous);
  await context.run(sh`rm -rf -- ${BACKUP_DIR} && umask 077 && mkdir -p -- ${BACKUP_DIR}`);
  for (const [i, w] of writes.entries()) if (w.before !== undefined) await context.writeFile(`${BACKUP_DIR}/${i}`, w.before, { mode: 0o600 });
  const activationSeconds = Math.max(ACTIVATION_SECONDS, p.confirmSeconds);
  const armed = Date.now();
  await context.run(armSelfRevert(REVERT_ID, undo, activationSeconds));
  const returnsAlone = (seconds: number, from: number) =>
    `the host switches back to generation ${previous}, and the files as they were, by itself ${seconds} s after ${new Date(from).toLocaleTimeString()} (this machine's clock)`;

  try {
    await context.run(
      sh`nix-env -p ${SYSTEM_PROFILE} --set ${system} && systemd-run --quiet --wait --pipe --collect --service-type=exec --unit=${ACTIVATION_UNIT} -- ${`${system}/bin/switch-to-configuration`} switch`,
    );
  } catch (error) {
    if (!(error instanceof RemoteCommandError)) throw new Error(`${(error as Error).message}\nthe connection broke while activating ${system}: unless hostform confirms, ${returnsAlone(activationSeconds, armed)}`);
    try {
      // The return is best effort line by line (the host runs it alone too): whether it got back is read from the profile.
      const back = await context.run(join([undo, sh`readlink -- ${SYSTEM_PROFILE}`]));
      if (back.stdout.trim().split('\n').pop() !== `system-${previous}-link`) throw new Error(`${SYSTEM_PROFILE} is not generation ${previous} afterwards: ${back.stdout.trim().slice(-300)} ${back.stderr.trim().slice(-300)}`);
      await context.run(disarmSelfRevert(REVERT_ID));
    } catch (undoError) {
      throw new Error(`${error.message}\nactivating ${system} failed, and switching back failed too: ${(undoError as Error).message}\nunless hostform confirms, ${returnsAlone(activationSeconds, armed)}`);
    }
    throw new Error(`${error.message}\nactivating ${system} failed: hostform switched back to generation ${previous} and restored the files it had changed`);
  }

  if (context.freshLogin) {
    const activated = Date.now();
    await context.run(armSelfRevert(REVERT_ID, undo, p.confirmSeconds));
    const failure = await confirmByNewLogin(context.freshLogin, system, activated + (p.confirmSeconds - CONFIRM_MARGIN_SECONDS) * 1000);
    if (failure !== undefined) throw new Error(`after activating ${system}, ${failure}: hostform does not confirm it, so ${returnsAlone(p.confirmSeconds, activated)}`);
  }
  // With connection: local there is no login to lose, and this process saw the activation finish.
  await context.run(join([disarmSelfRevert(REVERT_ID), sh`rm -rf -- ${BACKUP_DIR}`]));
}

/** Seconds kept between the last login attempt and the host's own deadline, so a confirmation never races the return. */
const CONFIRM_MARGIN_SECONDS = 5;

/** Undefined when a new login sees `system` running, else why not (after trying until `until`, ms since the epoch). */
async function confirmByNewLogin(freshLogin: NonNullable<ApplyContext['freshLogin']>, system: string, until: number): Promise<string | undefined> {
  let last = 'no login was tried';
  let tries = 0;
  do {
    if (tries > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2000, Math.max(0, until - Date.now()))));
    tries += 1;
    try {
      const result = await freshLogin(sh`readlink -f /run/current-system`);
      const running = result.stdout.trim();
      if (result.code === 0 && running === system) return undefined;
      last = result.code === 0 ? `a new login found ${running || 'nothing'} running, not the new system` : `a new login ran 'readlink -f /run/current-system', which exited with ${result.code}: ${result.stderr.trim().slice(0, 300)}`;
    } catch (error) {
      last = `a new login to the host failed: ${(error as Error).message}`;
    }
  } while (Date.now() < until);
  return `${last} (${tries} ${tries === 1 ? 'try' : 'tries'})`;
}

/**
 * What the host runs to return: wait for an activation still under way, put
 * the files back, make the previous generation current and activate it. It
 * runs from a systemd timer, whose PATH on NixOS lacks the system's tools.
 */
function returnScript(writes: readonly Extract<SwitchAction, { do: 'write' }>[], previous: number): ShellScript {
  return join([
    trusted('PATH=/run/current-system/sw/bin:$PATH'),
    sh`while systemctl is-active --quiet ${`${ACTIVATION_UNIT}.service`}; do sleep 1; done`,
    // Each file as its directory's controller (a flake may be a user's), in a subshell: one refused file does not stop the return.
    ...writes.map((w, i) => (w.before === undefined ? sh`(${removeAsController(w.path)})` : sh`(${asControllerOf(dirname(w.path), sh`cat > "$1"`, [w.path])}) < ${`${BACKUP_DIR}/${i}`}`)),
    sh`nix-env -p ${SYSTEM_PROFILE} --switch-generation ${previous}`,
    sh`${`${SYSTEM_PROFILE}/bin/switch-to-configuration`} switch`,
    sh`rm -rf -- ${BACKUP_DIR}`,
  ]);
}

/** `rm -f` of a file hostform created, as whoever controls its directory (root never removes through a user's directory). */
function removeAsController(path: string): ShellScript {
  return asControllerOf(dirname(path), sh`rm -f -- "$1"`, [path]);
}

function removedBlocks(before: string, after: string): boolean {
  const now = parseModuleBlocks(after);
  return [...parseModuleBlocks(before).keys()].some((k) => !now.has(k));
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
