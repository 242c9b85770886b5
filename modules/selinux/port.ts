import { fieldDiff } from '../../lib/diff.ts';
import { defineModule } from '../../lib/module/define.ts';
import { effect } from '../../lib/module/resources.ts';
import type { Backend, Change, PlanContext, ProbeOutputs } from '../../lib/module/types.ts';
import { PortResource } from './resources.ts';
import { importLine, semanageImport } from './semanage-import.ts';
import { requireEnabled } from './status.ts';
import { parseStore, portKey, storeProbe, type ObservedStore } from './store.ts';

// ── parameters ───────────────────────────────────────────────────────────

export type Protocol = 'tcp' | 'udp' | 'sctp' | 'dccp';
/** `'8443/tcp'` or a range, `'9000-9010/tcp'`. */
export type PortSpec = `${number}/${Protocol}` | `${number}-${number}/${Protocol}`;

interface PortCommon {
  /** The SELinux port type (`http_port_t`); required unless state is absent. */
  readonly type?: string;
  /** Default 'present'; 'absent' removes the local mapping (of `type`, when given). */
  readonly state?: 'present' | 'absent';
  /** Fail, instead of skipping, on a host where SELinux is disabled. */
  readonly required?: boolean;
}

export type PortParams = PortCommon &
  (
    | { readonly ports: readonly PortSpec[]; readonly port?: never; readonly protocol?: never }
    | { readonly port: number | `${number}-${number}`; readonly protocol: Protocol; readonly ports?: never }
  );

const PROTOCOLS = ['tcp', 'udp', 'sctp', 'dccp'] as const;

const schema = {
  type: 'object',
  properties: {
    ports: { type: 'array', minItems: 1, items: { type: 'string', pattern: `^[0-9]{1,5}(-[0-9]{1,5})?/(${PROTOCOLS.join('|')})$`, 'x-expected': 'a port or range with its protocol, such as \"443/tcp\" or \"8000-8100/udp\"' } },
    port: { anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', pattern: '^[0-9]{1,5}(-[0-9]{1,5})?$', 'x-expected': 'a port or range in a string, such as "8080" or "8000-8010"' }] },
    protocol: { enum: PROTOCOLS },
    type: { type: 'string', pattern: '^[a-z0-9_]+$', 'x-expected': 'an SELinux type such as "http_port_t"' },
    state: { enum: ['present', 'absent'] },
    required: { type: 'boolean' },
  },
  additionalProperties: false,
  oneOf: [{ required: ['ports'] }, { required: ['port'] }],
  dependencies: { port: ['protocol'], protocol: ['port'] },
  if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
  then: { required: ['type'] },
} as const;

export interface PortRange {
  readonly protocol: string;
  readonly low: number;
  readonly high: number;
}

interface Resolved {
  readonly ranges: readonly PortRange[];
  readonly type: string | undefined;
  readonly state: 'present' | 'absent';
  readonly required: boolean;
}

function resolve(p: PortParams): Resolved {
  const specs = p.ports ?? [`${p.port}/${p.protocol}`];
  const ranges = specs.map((spec) => {
    const range = parseRange(spec);
    if (!range || range.low < 1 || range.high > 65535 || range.low > range.high) {
      throw new Error(`parameter '${p.ports ? 'ports' : 'port'}' = ${JSON.stringify(p.ports ? spec : p.port)}: not a port or range within 1-65535 (low-high, low first)`);
    }
    return range;
  });
  return { ranges, type: p.type, state: p.state ?? 'present', required: p.required ?? false };
}

function parseRange(spec: string): PortRange | undefined {
  const m = /^(\d+)(?:-(\d+))?\/(\w+)$/.exec(spec);
  if (!m) return undefined;
  return { protocol: m[3]!, low: Number(m[1]), high: Number(m[2] ?? m[1]) };
}

function rangeText(r: PortRange): string {
  return r.low === r.high ? String(r.low) : `${r.low}-${r.high}`;
}

// ── observe ──────────────────────────────────────────────────────────────

function parse(_r: Resolved, outputs: ProbeOutputs): ObservedStore {
  return parseStore(outputs['store']!);
}

// ── plan ─────────────────────────────────────────────────────────────────

type Action = { readonly words: readonly string[] };

export function planPorts(r: Resolved, observed: ObservedStore, context: PlanContext): Change<Action>[] {
  requireEnabled(observed.status, r.required);
  const changes: Change<Action>[] = [];
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

// ── apply ────────────────────────────────────────────────────────────────

const importLines = (changes: readonly Change<Action>[]) => changes.map((c) => importLine(c.action.words));

const el9: Backend<Resolved, ObservedStore, Action> = {
  probes: () => ({ store: { script: storeProbe } }),
  parse,
  plan: planPorts,
  apply: (_r, changes, context) => semanageImport(importLines(changes), context),
  effects: (r) => r.ranges.map((range) => effect(PortResource, portKey(range), { type: r.state === 'present' ? r.type : undefined })),
  batch: {
    key: () => 'semanage import',
    apply: (items, context) => semanageImport(items.flatMap((item) => importLines(item.changes)), context),
  },
};

/**
 * The SELinux type of network ports (`semanage port`): add, modify where the
 * policy already defines the port, or remove the local mapping.
 *
 *   selinux.port({ ports: ['8443/tcp', '9000-9010/tcp'], type: 'http_port_t' })
 *   selinux.port({ port: 2222, protocol: 'tcp', type: 'ssh_port_t' })
 *   selinux.port({ ports: ['9000-9010/tcp'], state: 'absent' })
 *
 * Consecutive port tasks apply in one `semanage import` transaction.
 * Skipped where SELinux is disabled, unless `required: true`.
 */
export const port = defineModule<PortParams, Resolved>({
  name: 'selinux.port',
  schema,
  capabilities: { checkMode: true, diff: true, notes: 'skipped on hosts where SELinux is disabled unless required: true' },
  describe: (p) => `selinux port ${(p.ports ?? [`${p.port}/${p.protocol}`]).join(' ')}${p.state === 'absent' ? ' (absent)' : p.type ? ` → ${p.type}` : ''}`,
  resolve,
  backends: { el9, linux: el9 },
});
