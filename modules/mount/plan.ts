import { fieldDiff } from '../../lib/diff.ts';
import type { Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { NEW_UNIT, type UnitState } from '../systemd/observe.ts';
import { planService, planUnitFiles, unitFileEffects, type ServiceAction, type UnitFileAction } from '../systemd/plan.ts';
import type { ObservedMount } from './observe.ts';
import { HELPERS, type WantedMount } from './params.ts';

/** The unit files, then systemctl verbs on the .automount and .mount units, in the order apply runs them. */
export type MountAction = { readonly files: UnitFileAction } | { readonly control: ServiceAction; readonly unit: string };

/**
 * Pure. The files are compared as text; the mount itself with findmnt: a
 * missing mount is started, one of another source or type is mounted anew
 * (restart), and one whose unit changed otherwise is remounted with the new
 * options (reload). Enabled for boot: the .mount unit, or with automount
 * the .automount unit alone.
 */
export function planMount(w: WantedMount, observed: ObservedMount, context: PlanContext): Change<MountAction>[] {
  if (observed.point.fstab.length > 0 && w.state !== 'absent') {
    throw new Error(`${w.where} is also in /etc/fstab (${observed.point.fstab.join('; ')}): systemd would make a unit of that line as well. Remove the line from /etc/fstab first`);
  }
  const helper = w.type !== undefined ? HELPERS[w.type] : undefined;
  if (helper && !observed.point.helper && w.state === 'mounted' && !context.checkMode) {
    throw new Error(`mounting ${w.type} needs ${helper.program}, which is not installed on this host: install ${helper.pkg} first (packages({ present: ['${helper.pkg}'] }))`);
  }
  const files = planUnitFiles(w, observed.files, context);
  const written = (unit: string) => files.some((c) => c.action.do === 'install' && c.action.file === unit);
  const known = (state: UnitState) => state.loadState !== 'not-found' || state.onDisk !== undefined;
  const mountState = written(w.mountUnit) && !known(observed.mount) ? NEW_UNIT : observed.mount;
  const automountState = written(w.automountUnit) && !known(observed.automount) ? NEW_UNIT : observed.automount;

  const control = (unit: string, state: UnitState, enabled: boolean, running: 'started' | 'stopped' | undefined): Change<MountAction>[] =>
    planService({ unit, scope: w.scope, enabled, ...(running ? { state: running } : {}) }, state, context).map((c) => ({ ...c, action: { control: c.action, unit } }));

  const fileChanges = files.map((c) => ({ ...c, action: { files: c.action } }));
  if (w.state === 'absent') {
    // Unmounted and disabled before the files go.
    return [...control(w.automountUnit, observed.automount, false, 'stopped'), ...control(w.mountUnit, observed.mount, false, 'stopped'), ...fileChanges];
  }
  if (w.state === 'unmounted') {
    return [...fileChanges, ...control(w.automountUnit, automountState, false, 'stopped'), ...control(w.mountUnit, mountState, false, 'stopped')];
  }
  const mounted = observed.point.mounted;
  const changes: Change<MountAction>[] = [...fileChanges];
  if (w.automount) {
    changes.push(...control(w.mountUnit, mountState, false, undefined), ...control(w.automountUnit, automountState, true, 'started'));
    // A mount of another source goes; the automount mounts the right one on the next access.
    if (mounted && wrongMount(w, mounted)) changes.push(verb(w, 'stop', `unmount ${w.where} (${describeMount(mounted)}); it is mounted again on first access`, mounted));
    else if (mounted && written(w.mountUnit)) changes.push(verb(w, 'reload', `remount ${w.where} with the new options`));
    return changes;
  }
  changes.push(...control(w.automountUnit, automountState, false, 'stopped'), ...control(w.mountUnit, mountState, true, undefined));
  if (!mounted) changes.push(verb(w, 'start', `mount ${w.where}`, undefined));
  else if (wrongMount(w, mounted)) changes.push(verb(w, 'restart', `mount ${w.where} anew (now ${describeMount(mounted)})`, mounted));
  else if (written(w.mountUnit)) changes.push(verb(w, 'reload', `remount ${w.where} with the new options`));
  return changes;
}

function verb(w: WantedMount, v: 'start' | 'stop' | 'restart' | 'reload', summary: string, before?: { source: string; fstype: string }): Change<MountAction> {
  const after = v === 'stop' ? '(not mounted)' : `${w.what ?? ''}${w.type ? ` (${w.type})` : ''}`;
  const diff = v === 'reload' ? undefined : fieldDiff([{ name: 'mounted', before: before ? describeMount(before) : '(not mounted)', after }]);
  return { summary, ...(diff ? { diff } : {}), action: { control: { verb: v, reload: false }, unit: w.mountUnit } };
}

function describeMount(m: { source: string; fstype: string }): string {
  return `${m.source} (${m.fstype})`;
}

/** Another source or type is mounted there. A bind mount shows its device, not its directory, so only its presence counts. */
function wrongMount(w: WantedMount, mounted: { source: string; fstype: string }): boolean {
  if (w.options.includes('bind') || w.options.includes('rbind')) return false;
  // mount.nfs settles on a protocol version: `nfs` may show as nfs4.
  const sameType = w.type === undefined || mounted.fstype === w.type || (w.type === 'nfs' && mounted.fstype === 'nfs4');
  return !sameType || mounted.source.replace(/\/+$/, '') !== (w.what ?? '').replace(/\/+$/, '');
}

/** The unit files, and both units as present or gone, for later tasks in check mode. */
export function mountEffects(w: WantedMount): Effect[] {
  return unitFileEffects(w, [w.mountUnit, ...(w.automount ? [w.automountUnit] : [])]);
}
