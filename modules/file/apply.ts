import { dirname } from 'node:path/posix';
import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { asControllerOf } from '../../lib/shell/path-guard.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { TEMPORARY_SUFFIX } from '../../lib/connection/install-script.ts';
import type { WantedPath } from './params.ts';
import type { FileAction } from './plan.ts';

/**
 * Carry out the planned changes at one path; at most two commands. Each runs
 * as whoever controls the path's directory (lib/shell/path-guard.ts), like
 * the write itself, so a user's planted link never steers root.
 */
export async function applyPath(wanted: WantedPath, changes: readonly Change<FileAction>[], context: ApplyContext): Promise<void> {
  const here = (script: ShellScript, owner?: string) =>
    context.run(asControllerOf(dirname(wanted.path), script, [wanted.path], { ...(owner ? { owner } : {}), what: `change ${wanted.path}` }));
  for (const { action } of changes) {
    switch (action.do) {
      case 'remove':
        await here(sh`rm -rf -- "$1"`);
        break;
      case 'write':
        if (wanted.state !== 'file') break;
        // Renaming a new file over a link replaces the link, not what it points at; a directory has to go first.
        if (action.replaces) await here(sh`if [ -L "$1" ] || [ -d "$1" ]; then rm -rf -- "$1"; fi`);
        await context.writeFile(wanted.path, wanted.content, {
          ...(wanted.mode ? { mode: parseInt(wanted.mode, 8) } : {}),
          ...(wanted.owner ? { owner: wanted.owner } : {}),
          ...(wanted.group ? { group: wanted.group } : {}),
        });
        break;
      case 'mkdir':
        if (wanted.state !== 'directory') break;
        await here(sh`mkdir -p -- "$1"${attributeScript(wanted)}`, wanted.owner);
        break;
      case 'link':
        if (wanted.state !== 'link') break;
        // A new link next to the old path, renamed over it: the path is never missing (a directory there is removed first).
        await here(
          sh`if [ -d "$1" ] && [ ! -L "$1" ]; then rm -rf -- "$1"; fi
t=$(dirname -- "$1")/.$(basename -- "$1")${TEMPORARY_SUFFIX}link
rm -f -- "$t" && ln -s -- ${wanted.target} "$t" && mv -fT -- "$t" "$1"${attributeScript({ ...wanted, link: true })}`,
          wanted.owner,
        );
        break;
      case 'attributes':
        await here(sh`true${attributeScript({ ...action, link: wanted.state === 'link' })}`, action.owner);
        break;
    }
  }
}

/** chmod/chown of the path, `$1` of the script. */
function attributeScript(a: { mode?: string; owner?: string; group?: string; link?: boolean }): ShellScript {
  const owner = a.owner ?? '';
  const group = a.group ? `:${a.group}` : '';
  const chown = owner || group ? sh` && chown ${a.link ? ['-h'] : []} -- ${owner + group} "$1"` : sh``;
  const chmod = a.mode ? sh` && chmod ${a.mode} -- "$1"` : sh``;
  return sh`${chmod}${chown}`;
}
