import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { sh } from '../../lib/shell/quote.ts';
import type { WantedPath } from './params.ts';
import type { FileAction } from './plan.ts';

/** Carry out the planned changes at one path; at most two commands. */
export async function applyPath(wanted: WantedPath, changes: readonly Change<FileAction>[], context: ApplyContext): Promise<void> {
  for (const { action } of changes) {
    switch (action.do) {
      case 'remove':
        await context.run(sh`rm -rf -- ${wanted.path}`);
        break;
      case 'write':
        if (wanted.state !== 'file') break;
        await context.run(sh`if [ -L ${wanted.path} ] || [ -d ${wanted.path} ]; then rm -rf -- ${wanted.path}; fi`);
        await context.writeFile(wanted.path, wanted.content, {
          ...(wanted.mode ? { mode: parseInt(wanted.mode, 8) } : {}),
          ...(wanted.owner ? { owner: wanted.owner } : {}),
          ...(wanted.group ? { group: wanted.group } : {}),
        });
        break;
      case 'mkdir':
        if (wanted.state !== 'directory') break;
        await context.run(sh`mkdir -p -- ${wanted.path}${attributeScript(wanted.path, wanted)}`);
        break;
      case 'link':
        if (wanted.state !== 'link') break;
        await context.run(sh`rm -rf -- ${wanted.path} && ln -s -- ${wanted.target} ${wanted.path}${attributeScript(wanted.path, { ...wanted, link: true })}`);
        break;
      case 'attributes':
        await context.run(sh`true${attributeScript(wanted.path, { ...action, link: wanted.state === 'link' })}`);
        break;
    }
  }
}

function attributeScript(path: string, a: { mode?: string; owner?: string; group?: string; link?: boolean }) {
  const owner = a.owner ?? '';
  const group = a.group ? `:${a.group}` : '';
  const chown = owner || group ? sh` && chown ${a.link ? ['-h'] : []} -- ${owner + group} ${path}` : sh``;
  const chmod = a.mode ? sh` && chmod ${a.mode} -- ${path}` : sh``;
  return sh`${chmod}${chown}`;
}
