import { fieldDiff } from '../../lib/diff.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import type { ObservedHostname } from './observe.ts';
import type { WantedHostname } from './params.ts';

/** Which of the two names hostnamectl sets. */
export interface HostnameAction {
  readonly static: boolean;
  readonly transient: boolean;
}

/** Pure: one change naming each of the two names that differs. */
export function planHostname(w: WantedHostname, observed: ObservedHostname, _context: PlanContext): Change<HostnameAction>[] {
  const action = { static: observed.static !== w.name, transient: observed.transient !== w.name };
  if (!action.static && !action.transient) return [];
  if (!observed.hostnamectl) throw new Error('hostnamectl is not installed on this host (systemd sets host names through it); install systemd');
  const fields = [
    { name: 'static', before: observed.static || '(none)', after: w.name },
    { name: 'transient', before: observed.transient, after: w.name },
  ];
  const changed = fields.filter((f) => f.before !== f.after);
  return [{ summary: `host name ${changed.map((f) => `${f.name} ${f.before} → ${f.after}`).join(', ')}`, diff: fieldDiff(changed), action }];
}
