import { fieldDiff, textDiff } from '../../lib/diff.ts';
import { effect, type Effect } from '../../lib/module/resources.ts';
import { Skip } from '../../lib/module/skip.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { CONFIG, portKey, type ObservedMode, type ObservedStore, type SelinuxStatus } from './observe.ts';
import { FILE_TYPES, rangeText, type ResolvedBoolean, type ResolvedFileContext, type ResolvedMode, type ResolvedPort, type SelinuxMode } from './params.ts';
import { BooleanResource, fcontextKey, FileContextResource, PortResource } from './resources.ts';

/**
 * Pure, for plan: carry on when SELinux is enabled; otherwise skip the task
 * with a note, or fail when the task says SELinux is required.
 */
export function requireEnabled(status: SelinuxStatus, required: boolean): void {
  if (status.state === 'disabled') unavailable(status.reason, required);
}

/** Skip the task ("SELinux disabled: <reason>"), or fail it when it is required. */
export function unavailable(reason: string, required: boolean): never {
  if (required) {
    throw new Error(
      `SELinux is required by this task (required: true) but is disabled on this host: ${reason}. ` +
        `Enable it (selinux.mode({ mode: 'permissive' }) and a reboot), or drop required: true to skip the task on such hosts`,
    );
  }
  throw new Skip(`SELinux disabled: ${reason}`);
}

// ── mode ─────────────────────────────────────────────────────────────────

/** The SELINUX= value of a config file. */
export function configuredMode(config: string): string | undefined {
  return /^[ \t]*SELINUX[ \t]*=[ \t]*["']?([A-Za-z]+)/m.exec(config)?.[1]?.toLowerCase();
}

/** The config with its SELINUX= line set to `mode`, every other line kept as it is. */
export function withMode(config: string, mode: SelinuxMode): string {
  const line = /^[ \t]*SELINUX[ \t]*=.*$/m;
  if (line.test(config)) return config.replace(line, `SELINUX=${mode}`);
  return `${config}${config === '' || config.endsWith('\n') ? '' : '\n'}SELINUX=${mode}\n`;
}

export type ModeAction =
  | { readonly do: 'config'; readonly content: string; readonly autorelabel: boolean }
  | { readonly do: 'setenforce'; readonly enforcing: boolean };

const REBOOT = 'reboot needed';

export function planMode(r: ResolvedMode, observed: ObservedMode, _context: PlanContext): Change<ModeAction>[] {
  if (observed.container) unavailable('a container shares its host kernel, whose SELinux it cannot change', r.required);
  const runtime = observed.runtime ?? unavailable('the SELinux tools are not installed (no getenforce)', r.required);
  if (observed.config === undefined) {
    throw new Error(`${CONFIG} does not exist: install the SELinux policy package (selinux-policy-targeted) before setting the mode`);
  }
  const changes: Change<ModeAction>[] = [];
  const configured = configuredMode(observed.config);
  if (configured !== r.mode) {
    // Between disabled and enabled only a boot switches; files written while
    // SELinux was off carry no labels, so the boot must relabel them.
    const crossing = (runtime === 'disabled') !== (r.mode === 'disabled');
    const autorelabel = runtime === 'disabled' && r.mode !== 'disabled';
    changes.push({
      summary: `${CONFIG}: SELINUX=${configured ?? '(unset)'} → ${r.mode}${crossing ? `: ${REBOOT}${autorelabel ? ' (/.autorelabel relabels every file at that boot)' : ''}` : ''}`,
      diff: textDiff(CONFIG, observed.config, withMode(observed.config, r.mode)),
      action: { do: 'config', content: withMode(observed.config, r.mode), autorelabel },
      ...(crossing ? { note: `${REBOOT}: SELinux ${r.mode === 'disabled' ? 'turns off' : 'turns on'} only at the next boot` } : {}),
    });
  }
  // At runtime SELinux moves only between enforcing and permissive; on the way
  // to disabled, permissive is as far as it goes before the reboot.
  const now = runtime === 'disabled' ? undefined : r.mode === 'disabled' ? 'permissive' : r.mode;
  if (now !== undefined && runtime !== now) {
    changes.push({
      summary: `runtime: ${runtime} → ${now} (setenforce ${now === 'enforcing' ? 1 : 0})`,
      diff: `- runtime ${runtime}\n+ runtime ${now}`,
      action: { do: 'setenforce', enforcing: now === 'enforcing' },
    });
  }
  return changes;
}

// ── boolean ──────────────────────────────────────────────────────────────

export type BooleanAction = { readonly name: string; readonly value: boolean };

export const onOff = (value: boolean) => (value ? 'on' : 'off');

export function planBooleans(r: ResolvedBoolean, observed: ObservedStore, context: PlanContext): Change<BooleanAction>[] {
  requireEnabled(observed.status, r.required);
  const changes: Change<BooleanAction>[] = [];
  for (const [name, value] of r.values) {
    const planned = context.planned.get(BooleanResource, name);
    const current = planned === undefined ? observed.store.booleans.get(name) : { runtime: planned, persistent: planned };
    if (!current) throw new Error(`SELinux boolean ${name} is not defined by the loaded policy; \`semanage boolean -l\` lists the booleans there are`);
    const stale = (['runtime', 'persistent'] as const).filter((k) => current[k] !== value);
    if (stale.length === 0) continue;
    const was = stale.length === 2 ? onOff(current.runtime) : `${stale[0]} ${onOff(current[stale[0]!])}`;
    changes.push({
      summary: `${name}: ${was} → ${onOff(value)}${stale.length === 1 ? ` (${stale[0] === 'runtime' ? 'persistent' : 'runtime'} already ${onOff(value)})` : ''}`,
      diff: fieldDiff(stale.map((k) => ({ name: `${name} (${k})`, before: onOff(current[k]), after: onOff(value) }))),
      action: { name, value },
    });
  }
  return changes;
}

export function booleanEffects(r: ResolvedBoolean): Effect[] {
  return r.values.map(([name, value]) => effect(BooleanResource, name, value));
}

// ── file context ─────────────────────────────────────────────────────────

export type FileContextAction = { readonly words: readonly string[]; readonly relabel: readonly string[] };

export function planFileContext(r: ResolvedFileContext, observed: ObservedStore, context: PlanContext): Change<FileContextAction>[] {
  requireEnabled(observed.status, r.required);
  const key = fcontextKey(r.target, FILE_TYPES[r.ftype].listed);
  const planned = context.planned.get(FileContextResource, key);
  const current = planned ? planned.type : observed.store.fcontexts.get(key);
  if (current === r.type) return [];
  const what = `${r.target} (${FILE_TYPES[r.ftype].listed})`;
  const relabel = r.relabel.length > 0 ? `, then restorecon -R ${r.relabel.join(' ')}` : '';
  const diff = fieldDiff([{ name: `fcontext ${what}`, before: current, after: r.type }]);
  if (r.type === undefined) {
    return [{ summary: `remove file context ${what} (was ${current})${relabel}`, diff, action: { words: ['fcontext', '-d', '-f', r.flag, r.target], relabel: r.relabel } }];
  }
  return [
    {
      summary: `file context ${what}: ${current ?? 'none'} → ${r.type}${relabel}`,
      diff,
      action: { words: ['fcontext', current === undefined ? '-a' : '-m', '-f', r.flag, '-t', r.type, r.target], relabel: r.relabel },
    },
  ];
}

export function fileContextEffects(r: ResolvedFileContext): Effect[] {
  return [effect(FileContextResource, fcontextKey(r.target, FILE_TYPES[r.ftype].listed), { type: r.type })];
}

// ── port ─────────────────────────────────────────────────────────────────

export type PortAction = { readonly words: readonly string[] };

export function planPorts(r: ResolvedPort, observed: ObservedStore, context: PlanContext): Change<PortAction>[] {
  requireEnabled(observed.status, r.required);
  const changes: Change<PortAction>[] = [];
  for (const range of r.ranges) {
    const key = portKey(range);
    const planned = context.planned.get(PortResource, key);
    const local = planned ? planned.type : observed.store.localPorts.get(key);
    const policy = [...(observed.store.ports.get(key) ?? [])].filter((t) => t !== observed.store.localPorts.get(key));
    const protocolWords = ['-p', range.protocol, rangeText(range)];
    if (r.state === 'present') {
      const type = r.type!;
      if (local === type || (local === undefined && policy.includes(type))) continue;
      const before = local ?? (policy.length > 0 ? policy.join(', ') : undefined);
      const defined = observed.store.ports.has(key);
      changes.push({
        summary: `port ${key}: ${before ?? 'none'} → ${type}`,
        diff: fieldDiff([{ name: `port ${key}`, before, after: type }]),
        action: { words: ['port', defined ? '-m' : '-a', '-t', type, ...protocolWords] },
      });
    } else {
      if (local === undefined || (r.type !== undefined && local !== r.type)) {
        if (r.type !== undefined && local === undefined && policy.includes(r.type)) {
          throw new Error(`port ${key} is ${r.type} in the SELinux policy itself, which semanage cannot remove (only local mappings); map it to another type instead`);
        }
        continue;
      }
      changes.push({
        summary: `remove local port mapping ${key} (${local})${policy.length > 0 ? `, back to the policy's ${policy.join(', ')}` : ''}`,
        diff: fieldDiff([{ name: `port ${key}`, before: local, after: policy.length > 0 ? policy.join(', ') : undefined }]),
        action: { words: ['port', '-d', ...protocolWords] },
      });
    }
  }
  return changes;
}

export function portEffects(r: ResolvedPort): Effect[] {
  return r.ranges.map((range) => effect(PortResource, portKey(range), { type: r.state === 'present' ? r.type : undefined }));
}
