import type { HostView, Task } from '../../lib/module/types.ts';
import { moduleBlocks, renderModule } from '../../lib/nixos/module-file.ts';
import { isNixosRenderer } from '../../lib/nixos/renderer.ts';
import { file } from '../../modules/index.ts';

/**
 * Representative tasks of every module family that renders on NixOS, and the
 * play modules they make. The parse test (CI) and the evaluation test (with a
 * nixpkgs tree) both check these, so a family added here is checked by both.
 */
export const SAMPLE_HOST = { name: 'nix1', groups: ['all'], vars: {}, facts: { platform: 'nixos' } } as unknown as HostView;

export const SAMPLE_PLAYS: Record<string, readonly Task[]> = {
  files: [
    file({ name: 'motd', path: '/etc/motd', content: 'Welcome ${USER} "home"\n', mode: '0644' }),
    file({ path: '/etc/app/config.toml', template: (h) => `host = "${h.name}"\n` }),
    file({ path: '/srv/backup', state: 'directory', mode: '0750', owner: 'root' }),
    file({ path: '/srv/current', state: 'link', target: '/srv/backup' }),
    file({ path: '/srv/old', state: 'absent' }),
  ],
};

/** The module text a play of these tasks renders to. */
export function renderSample(play: string, tasks: readonly Task[]): string {
  const rendered = tasks.map((task) => {
    const backend = task.module.backends.nixos;
    if (!isNixosRenderer(backend)) throw new Error(`${task.module.name} has no NixOS renderer`);
    return { name: task.name ?? task.module.describe(task.params), fragment: backend.render(task.module.resolve(task.params, SAMPLE_HOST), SAMPLE_HOST) };
  });
  return renderModule(play, moduleBlocks(rendered));
}
