import { dirname } from 'node:path/posix';
import type { HostView } from '../module/types.ts';
import type { PreparedTask } from '../run/prepare.ts';
import { blockBackend, switchBackend, type BlockParams, type SwitchParams } from './backends.ts';
import { renderingConflicts } from './conflicts.ts';
import { moduleBlocks, moduleFileName, renderModule } from './module-file.ts';
import { isNixosRenderer, type NixosUpload } from './renderer.ts';
import type { NixAttrs } from './value.ts';

const DEFAULT_CONFIGURATION = '/etc/nixos/configuration.nix';
const DEFAULT_CONFIRM_SECONDS = 120;

/**
 * On a nixos host, the tasks of a play that render NixOS options become one
 * module file: each task checks its own block in it, and one closing task
 * writes the file and runs nixos-rebuild (a dry-activate on a copy in check
 * mode). Flush points do not split this: a play switches once.
 * `conflicts` are options a nixos.options task defines that another task
 * defines differently: the run reports them before changing anything.
 */
export function nixosPlaySteps(
  play: string,
  host: HostView,
  rendering: readonly (PreparedTask & { readonly fragment: NixAttrs; readonly uploads: readonly NixosUpload[] })[],
): { blocks: Map<PreparedTask, PreparedTask>; switchTask: PreparedTask; conflicts: { task: PreparedTask; text: string }[] } {
  const settings = host.nixos ?? {};
  const flake = settings.flake;
  const entryPath = flake ? `${flake.path}/flake.nix` : (settings.configuration ?? DEFAULT_CONFIGURATION);
  const moduleDir = settings.moduleDir ?? `${dirname(entryPath)}/hostform`;
  const modulePath = `${moduleDir}/${moduleFileName(play)}`;
  const importPath = moduleDir === `${dirname(entryPath)}/hostform` ? './hostform' : moduleDir;

  const blocks = moduleBlocks(rendering.map((t) => ({ name: t.name, fragment: t.fragment })));
  const blockTasks = new Map<PreparedTask, PreparedTask>();
  rendering.forEach((task, i) => {
    const block = blocks[i]!;
    const resolved: BlockParams = { modulePath, key: block.key, text: block.text, uploads: task.uploads };
    // Secrets are root's files: a block that writes some needs root, like the switch.
    blockTasks.set(task, { ...task, resolved, backend: blockBackend as PreparedTask['backend'], ...(task.uploads.length > 0 ? { become: true } : {}) });
  });
  const resolved: SwitchParams = {
    play,
    modulePath,
    moduleText: renderModule(play, blocks),
    entryPath,
    importPath,
    action: settings.action ?? 'switch',
    confirmSeconds: settings.confirmSeconds ?? DEFAULT_CONFIRM_SECONDS,
    ...(flake ? { flake } : {}),
  };
  const switchTask: PreparedTask = {
    kind: 'task',
    task: rendering[0]!.task,
    name: `nixos-rebuild ${resolved.action} (${modulePath})`,
    module: 'nixos.switch',
    // Writing under /etc/nixos and switching needs root; a no-op for a root login.
    become: true,
    handler: false,
    // It carries every task's fragment, and so whatever of theirs is sensitive.
    sensitive: [...new Set(rendering.flatMap((t) => t.sensitive))],
    resolved,
    backend: switchBackend as PreparedTask['backend'],
  };
  const conflicts = renderingConflicts(
    rendering.map((t) => {
      const renderer = t.task.module.backends.nixos;
      return { name: t.name, module: t.module, fragment: t.fragment, checked: isNixosRenderer(renderer) && renderer.checkConflicts === true };
    }),
  ).map((c) => ({ task: rendering[c.task]!, text: c.text }));
  return { blocks: blockTasks, switchTask, conflicts };
}
