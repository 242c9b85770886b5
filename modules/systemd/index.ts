/** systemd: unit files, drop-ins, services and timers, in the system manager or a user's. */
import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { applyService, applyTimer, applyUnitFiles, previewUnitFiles } from './apply.ts';
import { nixosDropIn, nixosService, nixosTimer, nixosUnit } from './nixos.ts';
import { parseUnitFiles, parseUnitState, unitFilesProbe, unitFilesReads, unitStateProbe, type ObservedTimer, type ObservedUnitFiles, type UnitState } from './observe.ts';
import {
  dropInSchema,
  resolveDropIn,
  resolveService,
  resolveTimer,
  resolveUnit,
  serviceSchema,
  timerSchema,
  unitSchema,
  type DropInParams,
  type ResolvedService,
  type ResolvedTimer,
  type ResolvedUnit,
  type ServiceParams,
  type TimerParams,
  type UnitFilesParams,
  type UnitParams,
} from './params.ts';
import { planService, planTimer, planUnitFiles, unitFileEffects, unitFilesWrites, type ServiceAction, type TimerAction, type UnitFileAction } from './plan.ts';
import { scopeSuffix, toScope } from './scope.ts';

export type { DropInParams, ServiceParams, TimeSpan, TimerParams, TimerService, UnitParams } from './params.ts';
export type { UnitSections, UnitSection, UnitValue } from './sections.ts';
export type { ScopeParam } from './scope.ts';

/**
 * The backend of a task that writes unit files (`unit`, `dropIn`): the same
 * observe → plan → verify → apply steps; only what it leaves behind differs.
 */
function unitFilesBackend<P extends UnitFilesParams>(units: (p: P) => readonly string[]): Backend<P, ObservedUnitFiles, UnitFileAction, Probes<'files'>> {
  return {
    probes: (p) => ({ files: { script: unitFilesProbe(p) } }),
    parse: (p, outputs) => parseUnitFiles(p, outputs.files),
    reads: unitFilesReads,
    plan: planUnitFiles,
    apply: applyUnitFiles,
    preview: previewUnitFiles,
    effects: (p) => unitFileEffects(p, units(p)),
    writes: (p) => unitFilesWrites(p, units(p)),
  };
}

const unitBackend = unitFilesBackend<ResolvedUnit>((r) => [r.name]);

// The unit itself is not installed by a drop-in: only the file is recorded.
const dropInBackend = unitFilesBackend<UnitFilesParams>(() => []);

const serviceBackend: Backend<ResolvedService, UnitState, ServiceAction, Probes<'state'>> = {
  probes: (r) => ({ state: { script: unitStateProbe(r.scope, r.unit) } }),
  parse: (r, outputs) => parseUnitState(r.scope, r.unit, outputs.state),
  plan: planService,
  apply: applyService,
  // Starting a unit runs its programs; its state follows from other units' too: no reads, so it is probed again after any change.
  widens: true,
};

const timerBackend: Backend<ResolvedTimer, ObservedTimer, TimerAction, Probes<'files' | 'timer'>> = {
  probes: (r) => ({ files: { script: unitFilesProbe(r) }, timer: { script: unitStateProbe(r.scope, r.timer) } }),
  parse: (r, outputs) => ({ files: parseUnitFiles(r, outputs.files), timer: parseUnitState(r.scope, r.timer, outputs.timer) }),
  plan: planTimer,
  apply: applyTimer,
  effects: (r) => unitFileEffects(r, [r.timer, r.service]),
  widens: true,
};

/**
 * A unit file, validated with `systemd-analyze verify` before it is
 * installed; one daemon-reload per host follows a batch of unit changes.
 *
 *   unit({
 *     name: 'app.service',
 *     sections: {
 *       Unit: { Description: 'App', After: ['network-online.target'], Wants: 'network-online.target' },
 *       Service: { ExecStart: '/usr/local/bin/app --port 8080', User: 'app', Restart: 'on-failure' },
 *       Install: { WantedBy: 'multi-user.target' },
 *     },
 *   })
 *   unit({ name: 'app.service', content: readFileSync('files/app.service', 'utf8') })
 *
 * Starting and enabling is the `service` module's job; notify a handler
 * `service({ name: 'app', state: 'restarted' })` to restart on change.
 */
export const unit = defineModule<UnitParams, ResolvedUnit>({
  name: 'systemd.unit',
  schema: unitSchema,
  capabilities: { checkMode: true, diff: true, changes: ['atomic-file'], validates: 'systemd-analyze verify on a copy, before the unit is installed' },
  describe: (p) => `unit ${p.name}${p.state === 'absent' ? ' (absent)' : ''}${scopeSuffix(toScope(p.scope))}`,
  resolve: resolveUnit,
  backends: { el9: unitBackend, linux: unitBackend, nixos: nixosUnit },
});

/**
 * A drop-in that changes part of a unit without replacing it, verified
 * together with the unit it changes before it is installed.
 *
 *   dropIn({ unit: 'nginx.service', name: 'limits', sections: { Service: { LimitNOFILE: 65536 } } })
 *   dropIn({ unit: 'app.service', name: 'exec', sections: { Service: { ExecStart: ['', '/usr/local/bin/app --debug'] } } })
 *
 * (`''` first resets a list setting such as ExecStart, as systemd requires.)
 */
export const dropIn = defineModule<DropInParams, UnitFilesParams>({
  name: 'systemd.dropIn',
  schema: dropInSchema,
  capabilities: { checkMode: true, diff: true, changes: ['atomic-file'], validates: 'systemd-analyze verify of the unit with a copy of the drop-in, before it is installed' },
  describe: (p) => `drop-in ${p.unit}.d/${p.name}.conf${p.state === 'absent' ? ' (absent)' : ''}${scopeSuffix(toScope(p.scope))}`,
  resolve: resolveDropIn,
  backends: { el9: dropInBackend, linux: dropInBackend, nixos: nixosDropIn },
});

/**
 * Whether a unit runs, starts at boot, or is masked.
 *
 *   service({ name: 'nginx', state: 'started', enabled: true })
 *   service({ name: 'cups', state: 'stopped', enabled: false, masked: true })
 *   handlers: [service({ name: 'Restart app', ... })] → service({ name: 'app', state: 'restarted' })
 *   service({ name: 'sync.service', state: 'started', scope: { user: 'alice' } })
 */
export const service = defineModule<ServiceParams, ResolvedService>({
  name: 'systemd.service',
  schema: serviceSchema,
  capabilities: { checkMode: true, diff: true, changes: ['tool-commands'], validates: 'none: systemctl acts on units the manager has loaded', notes: "state 'restarted' and 'reloaded' act on every run (use them in handlers)" },
  describe: (p) => `service ${p.name}${describeWanted(p)}${scopeSuffix(toScope(p.scope))}`,
  resolve: resolveService,
  backends: { el9: serviceBackend, linux: serviceBackend, nixos: nixosService },
});

function describeWanted(p: ServiceParams): string {
  const parts = [p.state, p.enabled === undefined ? undefined : p.enabled ? 'enabled' : 'disabled', p.masked === undefined ? undefined : p.masked ? 'masked' : 'unmasked'];
  const text = parts.filter(Boolean).join(', ');
  return text ? ` (${text})` : '';
}

/**
 * A timer and the service it runs, written together, verified together,
 * then enabled and started (`systemctl enable --now <name>.timer`).
 *
 *   timer({ name: 'backup', onCalendar: 'daily', persistent: true, randomizedDelaySec: '30m',
 *           service: { execStart: '/usr/local/bin/backup --quiet', user: 'backup' } })
 *
 * `systemctl list-timers` shows it; `systemctl start backup.service` runs the job now.
 */
export const timer = defineModule<TimerParams, ResolvedTimer>({
  name: 'systemd.timer',
  schema: timerSchema,
  capabilities: { checkMode: true, diff: true, changes: ['atomic-file', 'tool-commands'], validates: 'systemd-analyze verify on copies of the timer and its service, before they are installed' },
  describe: (p) => `timer ${p.name}${scopeSuffix(toScope(p.scope))}`,
  resolve: resolveTimer,
  backends: { el9: timerBackend, linux: timerBackend, nixos: nixosTimer },
});
