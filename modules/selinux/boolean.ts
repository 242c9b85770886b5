import { fieldDiff } from '../../lib/diff.ts';
import { defineModule } from '../../lib/module/define.ts';
import { effect } from '../../lib/module/resources.ts';
import type { Backend, Change, PlanContext, ProbeOutputs } from '../../lib/module/types.ts';
import { trusted } from '../../lib/shell/quote.ts';
import { BooleanResource } from './resources.ts';
import { importLine, semanageImport } from './semanage-import.ts';
import { guardedProbe, parseGuarded, requireEnabled, type SelinuxStatus } from './status.ts';

// ── parameters ───────────────────────────────────────────────────────────

export interface BooleanParams {
  /** Booleans and the value each should have, at runtime and across reboots: `{ httpd_can_network_connect: true }`. */
  readonly values: Readonly<Record<string, boolean>>;
  /** Fail, instead of skipping, on a host where SELinux is disabled. */
  readonly required?: boolean;
}

const schema = {
  type: 'object',
  required: ['values'],
  properties: {
    values: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z0-9_]+$' },
      additionalProperties: { type: 'boolean' },
    },
    required: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

interface Resolved {
  readonly values: readonly (readonly [name: string, value: boolean])[];
  readonly required: boolean;
}

// ── observe ──────────────────────────────────────────────────────────────

export interface BooleanState {
  readonly runtime: boolean;
  /** The value after a reboot: the local customization, else the policy's default. */
  readonly persistent: boolean;
}

export interface ObservedBooleans {
  readonly status: SelinuxStatus;
  readonly booleans: ReadonlyMap<string, BooleanState>;
}

/**
 * The full list, not only `-C` (customized): a boolean nobody customized
 * persists at the policy's default, which only the full list shows. Its
 * "State" column is the runtime value, "Default" the persistent one.
 */
export const booleanProbe = guardedProbe(trusted('semanage boolean -l -n'));

export function parseBooleans(stdout: string): Map<string, BooleanState> {
  const booleans = new Map<string, BooleanState>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+)\s+\(\s*(on|off)\s*,\s*(on|off)\s*\)/.exec(line);
    if (m) booleans.set(m[1]!, { runtime: m[2] === 'on', persistent: m[3] === 'on' });
  }
  return booleans;
}

function parse(_r: Resolved, outputs: ProbeOutputs): ObservedBooleans {
  const { status, body } = parseGuarded(outputs['booleans']!, 'SELinux booleans');
  return { status, booleans: parseBooleans(body) };
}

// ── plan ─────────────────────────────────────────────────────────────────

type Action = { readonly name: string; readonly value: boolean };

const onOff = (value: boolean) => (value ? 'on' : 'off');

export function planBooleans(r: Resolved, observed: ObservedBooleans, context: PlanContext): Change<Action>[] {
  requireEnabled(observed.status, r.required);
  const changes: Change<Action>[] = [];
  for (const [name, value] of r.values) {
    const planned = context.planned.get(BooleanResource, name);
    const current = planned === undefined ? observed.booleans.get(name) : { runtime: planned, persistent: planned };
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

// ── apply ────────────────────────────────────────────────────────────────

/** `semanage boolean -m` sets the persistent value and, in the same call, the runtime one. */
function importLines(changes: readonly Change<Action>[]): string[] {
  return changes.map(({ action }) => importLine(['boolean', '-m', action.value ? '--on' : '--off', action.name]));
}

const el9: Backend<Resolved, ObservedBooleans, Action> = {
  probes: () => ({ booleans: { script: booleanProbe } }),
  parse,
  plan: planBooleans,
  apply: (_r, changes, context) => semanageImport(importLines(changes), context),
  effects: (r) => r.values.map(([name, value]) => effect(BooleanResource, name, value)),
  batch: {
    key: () => 'semanage import',
    apply: (items, context) => semanageImport(items.flatMap((item) => importLines(item.changes)), context),
  },
};

/**
 * SELinux booleans, set at runtime and persistently in one transaction.
 *
 *   selinux.boolean({ values: { httpd_can_network_connect: true, container_manage_cgroup: true } })
 *
 * Skipped where SELinux is disabled, unless `required: true`.
 */
export const boolean = defineModule<BooleanParams, Resolved>({
  name: 'selinux.boolean',
  schema,
  capabilities: { checkMode: true, diff: true, notes: 'skipped on hosts where SELinux is disabled unless required: true' },
  describe: (p) => `selinux boolean ${Object.entries(p.values ?? {}).map(([k, v]) => `${k}=${onOff(v)}`).join(' ')}`,
  resolve: (p) => ({ values: Object.entries(p.values), required: p.required ?? false }),
  backends: { el9, linux: el9 },
});
