import { textDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { RELOAD_ID } from './apply.ts';
import { observedFromPlanned, type ObservedPath } from '../file/observe.ts';
import { staleReload } from '../shared/daemon.ts';
import type { ObservedDropIn, SshdSetup } from './observe.ts';
import { DROP_IN_DIR, type WantedDropIn } from './params.ts';

/**
 * `previous`: the drop-in's content before, put back when sshd turns hostform
 * away after the reload. `reload`: the drop-in is right, but the running sshd
 * has not read it.
 */
export type SshdAction = { readonly do: 'write'; readonly previous?: string } | { readonly do: 'remove'; readonly previous: string } | { readonly do: 'reload' };

/** What tells whether the running sshd has read the task's change: the drop-in, or for a removal its directory. */
export function daemonPath(w: WantedDropIn): string {
  return w.present ? w.path : DROP_IN_DIR;
}

/** Pure: write or remove the drop-in when its bytes differ from what the task wants; reload sshd when it runs an older one. */
export function planDropIn(w: WantedDropIn, observed: ObservedDropIn, context: PlanContext): Change<SshdAction>[] {
  const planned = context.planned.get(PathResource, w.path);
  const before = textOf(w.path, planned ? observedFromPlanned(planned) : observed.file);
  if (!w.present) {
    if (before === undefined) return planned ? [] : staleReload('sshd', observed.daemon, RELOAD_ID, context, { do: 'reload' });
    return [{ summary: `remove ${w.path} and reload sshd`, diff: textDiff(w.path, before, ''), action: { do: 'remove', previous: before } }];
  }
  // An earlier task of this run changing the same file reloads sshd anyway.
  if (before === w.content) return planned ? [] : staleReload('sshd', observed.daemon, RELOAD_ID, context, { do: 'reload' });
  assertUsable(observed.setup, context.checkMode);
  return [
    {
      summary: `${before === undefined ? 'create' : 'update'} ${w.path} and reload sshd`,
      diff: textDiff(w.path, before ?? '', w.content),
      action: before === undefined ? { do: 'write' } : { do: 'write', previous: before },
    },
  ];
}


function assertUsable(setup: SshdSetup, checkMode: boolean): void {
  if (setup === 'noinclude') {
    throw new Error(
      '/etc/ssh/sshd_config does not include sshd_config.d/*.conf, so a drop-in would have no effect: ' +
        'add "Include /etc/ssh/sshd_config.d/*.conf" as its first line (RHEL 9 and Debian ship it there)',
    );
  }
  // Check mode may run before the task that installs openssh-server.
  if (setup === 'missing' && !checkMode) throw new Error('sshd is not installed on this host: install openssh-server first');
}

function textOf(path: string, observed: ObservedPath): string | undefined {
  if (observed.type === 'absent') return undefined;
  if (observed.type !== 'file') throw new Error(`${path} is a ${observed.type === 'other' ? observed.description : observed.type}, not a file; remove it so hostform can write the sshd drop-in there`);
  if (!observed.content) throw new Error(`${path} is larger than hostform compares (64 KiB); it is not a drop-in hostform wrote: move it away or choose another name`);
  return observed.content.toString('utf8');
}

/** The drop-in as the task leaves it, for the tasks after it in check mode. */
export function dropInEffects(w: WantedDropIn): Effect[] {
  return [effect(PathResource, w.path, w.present ? { type: 'file', content: Buffer.from(w.content), mode: '0600' } : { type: 'absent' })];
}
