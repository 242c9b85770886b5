import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Capabilities, Probes } from '../../lib/module/types.ts';
import { applyFirewalld, applyFirewalldBatch } from './apply.ts';
import { nixosFirewall } from './nixos.ts';
import { firewallProbe, firewallReads, firewallWrites, parseFirewallProbe, zonesToRead, type ObservedFirewall } from './observe.ts';
import {
  resolveForwardPort,
  resolveMasquerade,
  resolvePort,
  resolveRichRule,
  resolveService,
  resolveZone,
  schemas,
  type ForwardPortParams,
  type MasqueradeParams,
  type PortParams,
  type RichRuleParams,
  type ServiceParams,
  type Wanted,
  type ZoneParams,
} from './params.ts';
import { firewalldEffects, planFirewalld, type FirewalldAction } from './plan.ts';

export type { ForwardPort, ForwardPortParams, MasqueradeParams, PortParams, RichRuleParams, ServiceParams, ZoneParams } from './params.ts';
export { normalizeRichRule } from './rich-rule.ts';

/** One backend for all six modules: they share the probe, the plan and the commands. */
const backend: Backend<Wanted, ObservedFirewall, FirewalldAction, Probes<'firewall'>> = {
  probes: (w) => ({ firewall: { script: firewallProbe(zonesToRead(w)) } }),
  parse: (_wanted, outputs) => parseFirewallProbe(outputs.firewall),
  reads: () => firewallReads,
  plan: planFirewalld,
  apply: (_wanted, changes, context) => applyFirewalld(changes, context),
  effects: firewalldEffects,
  writes: () => firewallWrites,
  // Consecutive firewalld tasks apply together, so a play of many pays one probe, not one per task.
  // A zone task stays alone: the tasks after it plan against the zone it made.
  batch: {
    key: (w) => (w.zoneTask ? `zone ${w.zone}` : 'items'),
    apply: applyFirewalldBatch,
  },
};

const capabilities: Capabilities = {
  checkMode: true,
  diff: true,
  changes: ['tool-commands'],
  validates: 'firewall-cmd refuses a bad value without changing anything; a warning that it skipped one fails the task (firewalld writes its own files)',
  notes: 'sets the permanent configuration and the runtime together; with firewalld stopped, the permanent configuration only (firewall-offline-cmd)',
};
const backends = { el9: backend, linux: backend, nixos: nixosFirewall };
const inZone = (p: { zone?: string }) => (p.zone ? `${p.zone} ` : '');
const list = (one: unknown, many: readonly unknown[] | undefined) => (many ?? [one]).map(String).join(', ');
const absent = (p: { state?: string }) => (p.state === 'absent' ? ' (absent)' : '');
/** "exactly ssh, http": an exact list reads as the whole set; an empty list as none. */
const exactly = (p: { exact?: boolean }, listed: string) => `${p.exact ? 'exactly ' : ''}${listed || 'none'}`;

export const firewalld = {
  /**
   * A zone: created or deleted, its target, exactly these interfaces and sources, the default zone.
   *
   *   firewalld.zone({ name: 'internal', sources: ['192.168.1.0/24'], target: 'ACCEPT' })
   *   firewalld.zone({ name: 'public', default: true })
   */
  zone: defineModule<ZoneParams, Wanted>({
    name: 'firewalld.zone',
    schema: schemas.zone,
    capabilities,
    describe: (p) => `firewalld.zone ${p.name}${absent(p)}`,
    resolve: resolveZone,
    backends,
  }),

  /**
   *   firewalld.service({ services: ['http', 'https'] })
   *   firewalld.service({ zone: 'public', services: ['ssh', 'https'], exact: true })   // and no other service
   */
  service: defineModule<ServiceParams, Wanted>({
    name: 'firewalld.service',
    schema: schemas.service,
    capabilities,
    describe: (p) => `firewalld.service ${inZone(p)}${exactly(p, list(p.service, p.services))}${absent(p)}`,
    resolve: resolveService,
    backends,
  }),

  /**
   *   firewalld.port({ port: 8080 })                       // tcp
   *   firewalld.port({ zone: 'public', ports: ['80/tcp', '443/tcp', '60000-61000/udp'] })
   *   firewalld.port({ ports: ['32400/tcp'], exact: true })   // and no other port
   */
  port: defineModule<PortParams, Wanted>({
    name: 'firewalld.port',
    schema: schemas.port,
    capabilities,
    describe: (p) => `firewalld.port ${inZone(p)}${exactly(p, p.ports ? p.ports.join(', ') : `${p.port}/${p.protocol ?? 'tcp'}`)}${absent(p)}`,
    resolve: resolvePort,
    backends,
  }),

  /**
   * Rules compare in firewalld's normalized form, so any spelling of a rule that is there already is left alone.
   *
   *   firewalld.richRule({ rule: 'rule family=ipv4 source address=10.0.0.0/8 service name=ssh accept' })
   */
  richRule: defineModule<RichRuleParams, Wanted>({
    name: 'firewalld.richRule',
    schema: schemas.richRule,
    capabilities,
    describe: (p) => `firewalld.richRule ${inZone(p)}${p.rules && p.rules.length !== 1 ? `${p.rules.length} rules` : (p.rules?.[0] ?? p.rule)}${absent(p)}`,
    resolve: resolveRichRule,
    backends,
  }),

  /** firewalld.masquerade({ zone: 'external' }) */
  masquerade: defineModule<MasqueradeParams, Wanted>({
    name: 'firewalld.masquerade',
    schema: schemas.masquerade,
    capabilities,
    describe: (p) => `firewalld.masquerade ${inZone(p)}${absent(p)}`.trim(),
    resolve: resolveMasquerade,
    backends,
  }),

  /** firewalld.forwardPort({ forwardPort: { port: 2222, protocol: 'tcp', toPort: 22 } }) */
  forwardPort: defineModule<ForwardPortParams, Wanted>({
    name: 'firewalld.forwardPort',
    schema: schemas.forwardPort,
    capabilities,
    describe: (p) =>
      `firewalld.forwardPort ${inZone(p)}${(p.forwardPorts ?? (p.forwardPort ? [p.forwardPort] : []))
        .map((f) => `${f.port}/${f.protocol} → ${f.toAddr ?? ''}${f.toPort !== undefined ? `:${f.toPort}` : ''}`)
        .join(', ')}${absent(p)}`,
    resolve: resolveForwardPort,
    backends,
  }),
};
