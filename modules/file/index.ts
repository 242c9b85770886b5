import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { applyPath } from './apply.ts';
import { nixosFile } from './nixos.ts';
import { parsePathProbe, pathProbe, pathReads, type ObservedPath } from './observe.ts';
import { fileSchema, resolveFile, type FileParams, type WantedPath } from './params.ts';
import { fileEffects, planPath, type FileAction } from './plan.ts';

export type { FileParams } from './params.ts';

const posix: Backend<WantedPath, ObservedPath, FileAction, Probes<'path'>> = {
  probes: (wanted) => ({ path: { script: pathProbe(wanted.path) } }),
  parse: (wanted, outputs) => parsePathProbe(wanted.path, outputs.path),
  reads: (wanted) => pathReads(wanted.path, wanted.state === 'absent' ? {} : wanted),
  plan: planPath,
  apply: applyPath,
  effects: fileEffects,
};

/**
 * A file, directory, symlink or absent path, with mode, owner and group.
 *
 *   file({ path: '/etc/motd', content: 'hello\n', mode: '0644', owner: 'root' })
 *   file({ path: '/etc/app.conf', template: (host) => `name=${host.name}\n` })
 *   file({ path: '/srv/data', state: 'directory', mode: '0750' })
 *   file({ path: '/usr/local/bin/app', state: 'link', target: '/opt/app/bin/app' })
 *   file({ path: '/etc/old.conf', state: 'absent' })
 *   file({ path: '/etc/app/token', content: token, secret: true })   // 0600, never shown
 */
export const file = defineModule<FileParams, WantedPath>({
  name: 'file',
  schema: fileSchema,
  capabilities: { checkMode: true, diff: true, changes: ['atomic-file', 'tool-commands'], validates: 'none: the content is the playbook\'s own (directories, links and attributes are single commands; a link is replaced by a rename)' },
  describe: (p) => `file ${p.path}${p.state && p.state !== 'file' ? ` (${p.state})` : ''}`,
  resolve: resolveFile,
  backends: { el9: posix, linux: posix, nixos: nixosFile },
});
