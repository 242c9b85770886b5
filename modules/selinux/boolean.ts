import { fieldDiff } from '../../lib/diff.ts';
import { defineModule } from '../../lib/module/define.ts';
import { effect } from '../../lib/module/resources.ts';
import type { Backend, Change, PlanContext, ProbeOutputs } from '../../lib/module/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { BooleanResource } from './resources.ts';
import { requireEnabled } from './status.ts';
import { parseStore, storeProbe, type ObservedStore } from './store.ts';

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
      propertyNames: { pattern: '^[A-Za-z0-9_]+$', 'x-expected': 'an SELinux boolean name such as "httpd_can_network_connect"' },
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

function parse(_r: Resolved, outputs: ProbeOutputs): ObservedStore {
  return parseStore(outputs['store']!);
}

// ── plan ─────────────────────────────────────────────────────────────────

type Action = { readonly name: string; readonly value: boolean };

const onOff = (value: boolean) => (value ? 'on' : 'off');

export function planBooleans(r: Resolved, observed: ObservedStore, context: PlanContext): Change<Action>[] {
  requireEnabled(observed.status, r.required);
  const changes: Change<Action>[] = [];
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

// ── apply ────────────────────────────────────────────────────────────────

/**
 * `setsebool -P a=1 b=0`: runtime and persistent values of all booleans in one
 * libsemanage transaction. Chosen over `semanage import` (the same transaction)
 * because setsebool is C: on the emulated test VM 9-13 s against 80 s, nearly
 * all of it semanage's Python start-up.
 */
function setsebool(changes: readonly Change<Action>[]): ShellScript {
  return sh`setsebool -P ${changes.map(({ action }) => `${action.name}=${action.value ? 1 : 0}`)}`;
}

const el9: Backend<Resolved, ObservedStore, Action> = {
  probes: () => ({ store: { script: storeProbe } }),
  parse,
  plan: planBooleans,
  apply: async (_r, changes, context) => {
    await context.run(setsebool(changes));
  },
  effects: (r) => r.values.map(([name, value]) => effect(BooleanResource, name, value)),
  batch: {
    key: () => 'setsebool',
    apply: async (items, context) => {
      await context.run(setsebool(items.flatMap((item) => item.changes)));
    },
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
