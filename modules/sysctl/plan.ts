import { fieldDiff, textDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { rootNeeded } from '../shared/become.ts';
import { ownedFileText } from '../shared/owned-file.ts';
import { assignments, type ObservedSysctl } from './observe.ts';
import { normalizeValue, procPath, type WantedSysctl } from './params.ts';

export type SysctlAction = { readonly do: 'file' } | { readonly do: 'runtime'; readonly key: string; readonly value: string };

/**
 * Pure: the two sides, as with firewalld's runtime and permanent ones. The
 * file is compared byte for byte; each parameter's running value with the
 * wanted one (words compared, as the kernel prints them with tabs). Only
 * the differing parameters are set at runtime.
 */
export function planSysctl(w: WantedSysctl, observed: ObservedSysctl, context: PlanContext): Change<SysctlAction>[] {
  refuseOverridden(w, observed);
  const changes: Change<SysctlAction>[] = [];
  const before = ownedFileText(w.path, observed.file, context);
  if (before !== w.content) {
    changes.push({ summary: `${before === undefined ? 'create' : 'update'} ${w.path}`, diff: textDiff(w.path, before ?? '', w.content), action: { do: 'file' } });
  }
  for (const [key, value] of w.settings) {
    const runtime = observed.runtime.get(key) ?? { state: 'missing' };
    if (runtime.state === 'missing') {
      throw new Error(`${key}: the running kernel has no such parameter (${procPath(key)} does not exist). Check the name; a parameter of a module (net.bridge.*) appears once the module is loaded`);
    }
    if (runtime.value !== undefined && normalizeValue(runtime.value) === normalizeValue(value)) continue;
    const current = runtime.value === undefined ? '(unreadable)' : normalizeValue(runtime.value);
    if (!runtime.writable && observed.uid === 0) {
      throw new Error(
        `${key} is ${current} and cannot become ${value} on this host: ${procPath(key)} is read-only here ` +
          '(a container shares its kernel with the machine it runs on, which alone sets such parameters). Nothing was changed',
      );
    }
    changes.push({ summary: `${key} ${current} → ${value} (running kernel)`, diff: fieldDiff([{ name: key, before: current, after: value }]), action: { do: 'runtime', key, value } });
  }
  if (changes.length > 0 && observed.uid !== 0) throw rootNeeded(`setting kernel parameters (${changes.map((c) => c.summary).join('; ')})`);
  return changes;
}

/** A later file's explicit assignment would replace ours at every boot: refused, naming it. */
function refuseOverridden(w: WantedSysctl, observed: ObservedSysctl): void {
  const ours = w.path.slice(w.path.lastIndexOf('/') + 1);
  const later = observed.config.filter((f) => f.path.slice(f.path.lastIndexOf('/') + 1) > ours);
  const problems: string[] = [];
  for (const [key, value] of w.settings) {
    const last = later.flatMap((f) => {
      const other = assignments(f.content).get(key);
      return other === undefined ? [] : [{ path: f.path, value: other }];
    }).pop();
    if (last && normalizeValue(last.value) !== normalizeValue(value)) problems.push(`${key} = ${last.value} in ${last.path}`);
  }
  if (problems.length > 0) {
    throw new Error(
      `at boot these would replace the values of ${w.path}, since their files are read after it: ${problems.join(', ')}. ` +
        "Remove them there, or name this task's file so that it sorts after them (file: '99-zz-hostform.conf'). Nothing was changed",
    );
  }
}

/** The file as the task leaves it, for later tasks in check mode. */
export function sysctlEffects(w: WantedSysctl): Effect[] {
  return [effect(PathResource, w.path, { type: 'file', content: Buffer.from(w.content), mode: '0644' })];
}
