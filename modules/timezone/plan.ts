import { fieldDiff } from '../../lib/diff.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { ZONEINFO, type ObservedTimezone } from './observe.ts';
import type { WantedTimezone } from './params.ts';

export type TimezoneAction = { readonly do: 'set-timezone' };

/** Pure: the zone /etc/localtime names, against the wanted one, which must exist on the host. */
export function planTimezone(w: WantedTimezone, observed: ObservedTimezone, _context: PlanContext): Change<TimezoneAction>[] {
  if (observed.current === w.zone) return [];
  if (!observed.known) {
    throw new Error(`unknown time zone '${w.zone}': ${ZONEINFO}/${w.zone} is not a zone file on this host. Check the name (timedatectl list-timezones lists them), or install tzdata`);
  }
  if (!observed.timedatectl) throw new Error('timedatectl is not installed on this host (systemd sets the time zone through it); install systemd');
  const before = observed.current || `(${observed.localtime === 'missing' ? 'no /etc/localtime' : `/etc/localtime: ${observed.localtime}`})`;
  return [{ summary: `time zone ${before} → ${w.zone}`, diff: fieldDiff([{ name: 'time zone', before, after: w.zone }]), action: { do: 'set-timezone' } }];
}
