import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { sh } from '../../lib/shell/quote.ts';
import type { WantedTimezone } from './params.ts';
import type { TimezoneAction } from './plan.ts';

/**
 * timedated links /etc/localtime to the zone and tells the kernel. A
 * running timedated answers from what it read when it started, so after a
 * hand change of the link it takes the wanted zone for the current one and
 * does nothing: then it is stopped (the next call starts it afresh) and
 * asked again.
 */
export async function applyTimezone(w: WantedTimezone, changes: readonly Change<TimezoneAction>[], context: ApplyContext): Promise<void> {
  if (changes.length === 0) return;
  await context.run(sh`set_zone() { timedatectl set-timezone -- ${w.zone} && case "$(readlink /etc/localtime)" in */zoneinfo/${w.zone}) true;; *) false;; esac; }
set_zone || { systemctl stop systemd-timedated.service && set_zone; } || { echo "timedatectl did not link /etc/localtime to ${w.zone}: it links to $(readlink /etc/localtime)" >&2; exit 1; }`);
}
