import { dirname } from 'node:path/posix';
import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { daemonReload, SYSTEM } from '../systemd/scope.ts';
import { COMPONENTS, type SystemdComponent, type WantedSystemdConfig } from './params.ts';
import type { SystemdConfigAction } from './plan.ts';

/**
 * Write or remove the drop-in, then ask for the one re-read of the
 * component that every task changing it shares: a daemon-reload for the
 * manager (the same one unit files ask for), else a reload where the
 * service has one and a restart where not. A service that is not running
 * reads the drop-in when it starts: nothing is asked for.
 */
export async function applySystemdConfig(w: WantedSystemdConfig, changes: readonly Change<SystemdConfigAction>[], context: ApplyContext): Promise<void> {
  const action = changes[0]?.action;
  if (!action) return;
  if (action.do === 'write') {
    await context.run(sh`mkdir -p -- ${dirname(w.path)}`);
    await context.writeFile(w.path, action.content, { mode: 0o644 });
  } else {
    await context.run(sh`rm -f -- ${w.path}`);
  }
  if (!action.reread) return;
  const reread = rereadAction(w.component);
  context.defer(reread.id, reread.script);
}

export function rereadAction(component: SystemdComponent): { readonly id: string; readonly script: ShellScript } {
  const unit = COMPONENTS[component].unit;
  if (unit === undefined) return daemonReload(SYSTEM);
  return { id: `reload ${unit}`, script: sh`if systemctl is-active --quiet -- ${unit}; then systemctl reload-or-restart -- ${unit}; fi` };
}
