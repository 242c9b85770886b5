import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { sh } from '../../lib/shell/quote.ts';
import type { WantedHostname } from './params.ts';
import type { HostnameAction } from './plan.ts';

/** One hostnamectl call for the names that differ: hostnamed writes /etc/hostname and tells the kernel. */
export async function applyHostname(w: WantedHostname, changes: readonly Change<HostnameAction>[], context: ApplyContext): Promise<void> {
  const action = changes[0]?.action;
  if (!action) return;
  const flags = [...(action.static ? ['--static'] : []), ...(action.transient ? ['--transient'] : [])];
  await context.run(sh`hostnamectl set-hostname ${flags} -- ${w.name}`);
}
