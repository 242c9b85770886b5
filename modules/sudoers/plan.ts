import { textDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { ownedFileText } from '../shared/owned-file.ts';
import type { ObservedSudoers } from './observe.ts';
import type { WantedSudoers } from './params.ts';

/** `previous`: the file's content before, put back when the whole configuration fails visudo -c after the install. */
export type SudoersAction = { readonly do: 'write'; readonly content: string; readonly previous?: string } | { readonly do: 'remove' };

/** Pure: write or remove the file when its bytes (or its mode 0440) differ. */
export function planSudoers(w: WantedSudoers, observed: ObservedSudoers, context: PlanContext): Change<SudoersAction>[] {
  const before = ownedFileText(w.path, observed.file, context);
  if (w.content === null) {
    if (before === undefined) return [];
    return [{ summary: `remove ${w.path}`, diff: textDiff(w.path, before, ''), action: { do: 'remove' } }];
  }
  const mode = context.planned.get(PathResource, w.path) ? '0440' : observed.file.type === 'file' ? observed.file.mode : undefined;
  if (before === w.content && mode === '0440') return [];
  if (observed.setup === 'noinclude') {
    throw new Error('/etc/sudoers does not read /etc/sudoers.d (no @includedir /etc/sudoers.d line), so the file would have no effect: add that line with visudo (RHEL 9 ships it)');
  }
  // Check mode may run before the task that installs sudo.
  if (observed.setup === 'missing' && !context.checkMode) throw new Error('sudo is not installed on this host (no visudo): install it first');
  const summary = before === w.content ? `mode of ${w.path} ${mode} → 0440` : `${before === undefined ? 'create' : 'update'} ${w.path}`;
  return [{ summary, diff: textDiff(w.path, before ?? '', w.content), action: { do: 'write', content: w.content, ...(before !== undefined ? { previous: before } : {}) } }];
}

/** The file as the task leaves it, for later tasks in check mode. */
export function sudoersEffects(w: WantedSudoers): Effect[] {
  return [effect(PathResource, w.path, w.content === null ? { type: 'absent' } : { type: 'file', content: Buffer.from(w.content), mode: '0440', owner: 'root', group: 'root' })];
}
