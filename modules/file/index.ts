import { defineModule } from '../../lib/module/define.ts';
import { effect, PathResource, type PathState } from '../../lib/module/resources.ts';
import type { Backend, HostView } from '../../lib/module/types.ts';
import { renderTemplate } from '../../lib/template.ts';
import { applyPath } from './apply.ts';
import { nixosFile } from './nixos.ts';
import { parsePathProbe, pathProbe, type ObservedPath } from './observe.ts';
import { fileSchema, normalizeMode, SECRET_FILE_MODE, type FileParams, type WantedPath } from './params.ts';
import { planPath, type FileAction } from './plan.ts';

export type { FileParams } from './params.ts';

const posix: Backend<WantedPath, ObservedPath, FileAction> = {
  probes: (wanted) => ({ path: { script: pathProbe(wanted.path) } }),
  parse: (wanted, outputs) => parsePathProbe(wanted.path, outputs['path']!),
  plan: planPath,
  apply: applyPath,
  effects: (wanted) => {
    const after: PathState =
      wanted.state === 'absent'
        ? { type: 'absent' }
        : wanted.state === 'link'
          ? { type: 'link', target: wanted.target }
          : wanted.state === 'file'
            ? { type: 'file', content: wanted.content, ...(wanted.secret ? { secret: true } : {}), ...attributes(wanted) }
            : { type: 'directory', ...attributes(wanted) };
    const parents = wanted.state === 'directory' ? ancestors(wanted.path).map((p) => effect(PathResource, p, { type: 'directory' } as PathState)) : [];
    return [...parents, effect(PathResource, wanted.path, after)];
  },
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
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `file ${p.path}${p.state && p.state !== 'file' ? ` (${p.state})` : ''}`,
  resolve: resolveFile,
  backends: { el9: posix, linux: posix, nixos: nixosFile },
});

function resolveFile(p: FileParams, host: HostView): WantedPath {
  const mode = 'mode' in p && p.mode !== undefined ? { mode: normalizeMode(p.mode) } : {};
  const owner = 'owner' in p && p.owner !== undefined ? { owner: p.owner } : {};
  const group = 'group' in p && p.group !== undefined ? { group: p.group } : {};
  switch (p.state) {
    case 'absent':
      return { state: 'absent', path: p.path, secret: p.secret ?? false };
    case 'directory':
      return { state: 'directory', path: p.path, ...mode, ...owner, ...group };
    case 'link':
      return { state: 'link', path: p.path, target: p.target, force: p.force ?? false, ...owner, ...group };
    default: {
      const text = p.content ?? renderTemplate(p.template!, host);
      const content = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
      const secret = p.secret ?? false;
      // A secret file is never left readable by all: without a mode it is 0600, an existing 0644 one included.
      const fileMode = secret && !('mode' in mode) ? { mode: SECRET_FILE_MODE } : mode;
      return { state: 'file', path: p.path, content, force: p.force ?? false, secret, ...fileMode, ...owner, ...group };
    }
  }
}

function attributes(w: { mode?: string; owner?: string; group?: string }) {
  return { ...(w.mode ? { mode: w.mode } : {}), ...(w.owner ? { owner: w.owner } : {}), ...(w.group ? { group: w.group } : {}) };
}

function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}
