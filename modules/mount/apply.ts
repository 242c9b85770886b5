import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { applyUnitFiles, controlUnit, type UnitVerb } from '../systemd/apply.ts';
import type { WantedMount } from './params.ts';
import type { MountAction } from './plan.ts';

/**
 * Files first (verified with systemd-analyze, installed, one daemon-reload),
 * then the units' verbs, each unit's in the order its plan found them;
 * for 'absent' the units are stopped and disabled before their files go.
 * A mount that fails shows the tail of the unit's journal: mount's own
 * message (the kernel's refusal, a server that does not answer) and systemd's.
 */
export async function applyMount(w: WantedMount, changes: readonly Change<MountAction>[], context: ApplyContext): Promise<void> {
  const files = changes.flatMap((c) => ('files' in c.action ? [{ ...c, action: c.action.files }] : []));
  const controls = changes.flatMap((c) => ('control' in c.action ? [c.action] : []));
  const runControls = async () => {
    for (const unit of [...new Set(controls.map((c) => c.unit))]) {
      const mine = controls.filter((c) => c.unit === unit);
      await controlUnit(context, w.scope, unit, mine.map((c) => c.control.verb as UnitVerb), { reload: mine.some((c) => c.control.reload) });
    }
  };
  if (w.state === 'absent') {
    await runControls();
    if (files.length > 0) await applyUnitFiles(w, files, context);
    return;
  }
  if (files.length > 0) await applyUnitFiles(w, files, context);
  await runControls();
}
