import { textDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { ownedFileText } from '../shared/owned-file.ts';
import { sectionAssignments, type ObservedSystemdConfig } from './observe.ts';
import { COMPONENTS, type WantedSystemdConfig } from './params.ts';

/** `reread`: the component runs, so it must read its configuration anew (a service that is not running reads it when it starts). */
export type SystemdConfigAction = ({ readonly do: 'write'; readonly content: string } | { readonly do: 'remove' }) & { readonly reread: boolean };

/** Pure: write or remove the drop-in when its bytes differ; the component reads it anew once per run (apply). */
export function planSystemdConfig(w: WantedSystemdConfig, observed: ObservedSystemdConfig, context: PlanContext): Change<SystemdConfigAction>[] {
  const before = ownedFileText(w.path, observed.file, context);
  if (w.content === null) {
    if (before === undefined) return [];
    return [{ summary: `remove ${w.path} and ${rereadWords(w, observed)}`, diff: textDiff(w.path, before, ''), action: { do: 'remove', reread: observed.unit.running } }];
  }
  refuseOverridden(w, observed);
  if (before === w.content) return [];
  const unit = COMPONENTS[w.component].unit;
  const note = !observed.unit.installed ? `${unit} is not installed: it reads the drop-in once it is` : !observed.unit.running ? `${unit} is not running: it reads the drop-in when it starts` : undefined;
  return [
    {
      summary: `${before === undefined ? 'create' : 'update'} ${w.path} and ${rereadWords(w, observed)}`,
      diff: textDiff(w.path, before ?? '', w.content),
      action: { do: 'write', content: w.content, reread: observed.unit.running },
      ...(note ? { note } : {}),
    },
  ];
}

function rereadWords(w: WantedSystemdConfig, observed: ObservedSystemdConfig): string {
  const unit = COMPONENTS[w.component].unit;
  if (unit === undefined) return 'reload the service manager (daemon-reload)';
  return observed.unit.running ? `reload or restart ${unit}` : `leave ${unit} as it is (not running)`;
}

/** A drop-in read after ours that gives one of our settings another value would win: refused, naming it. */
function refuseOverridden(w: WantedSystemdConfig, observed: ObservedSystemdConfig): void {
  const ours = w.path.slice(w.path.lastIndexOf('/') + 1);
  const later = observed.config.filter((f) => f.path.includes('.conf.d/') && f.path.slice(f.path.lastIndexOf('/') + 1) > ours);
  const problems = w.settings.flatMap(([key, value]) => {
    const last = later.flatMap((f) => {
      const other = sectionAssignments(f.content, w.section).get(key);
      return other === undefined ? [] : [{ path: f.path, value: other }];
    }).pop();
    return last !== undefined && last.value !== value ? [`${key}=${last.value} in ${last.path}`] : [];
  });
  if (problems.length > 0) {
    throw new Error(
      `these drop-ins are read after ${w.path} and would replace its values: ${problems.join(', ')}. ` +
        "Remove them there, or name this task's drop-in so that it sorts after them (name: 'zz-hostform'). Nothing was changed",
    );
  }
}

/** The drop-in as the task leaves it, for later tasks in check mode. */
export function systemdConfigEffects(w: WantedSystemdConfig): Effect[] {
  return [effect(PathResource, w.path, w.content === null ? { type: 'absent' } : { type: 'file', content: Buffer.from(w.content), mode: '0644' })];
}
