import { fieldDiff } from '../../lib/diff.ts';
import { defineModule } from '../../lib/module/define.ts';
import { PathResource } from '../../lib/module/resources.ts';
import type { Backend, Change, PlanContext } from '../../lib/module/types.ts';
import { controlUnit, type UnitVerb } from './control.ts';
import { nixosService } from './nixos.ts';
import { scopeSchema, scopeSuffix, toScope, type ScopeParam } from './scope-param.ts';
import { serviceNameSchema, withServiceSuffix } from './sections.ts';
import { UnitResource, unitKey, type SystemdScope } from './scope.ts';
import { isRunning, NEW_UNIT, parseUnitState, unitStateProbe, type UnitState } from './state.ts';
import { SYSTEM_UNIT_DIR, USER_UNIT_DIR } from './unit-files.ts';

// ── parameters ───────────────────────────────────────────────────────────

export interface ServiceParams {
  /** `nginx` or `nginx.service`; other unit types (`backup.timer`, `app.socket`) by their full name. */
  readonly name: string;
  /** Start at boot (`systemctl enable`) or not. Left out: not changed. */
  readonly enabled?: boolean;
  /**
   * `started`/`stopped` act only when the unit is not already so.
   * `restarted` and `reloaded` act on every run, as in Ansible: use them in
   * handlers, notified by the task that changed the configuration.
   */
  readonly state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  /** `true` links the unit to /dev/null so nothing can start it; `false` undoes that. */
  readonly masked?: boolean;
  readonly scope?: ScopeParam;
}

const schema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: serviceNameSchema,
    enabled: { type: 'boolean' },
    state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
    masked: { type: 'boolean' },
    scope: scopeSchema,
  },
  additionalProperties: false,
  anyOf: [{ required: ['enabled'] }, { required: ['state'] }, { required: ['masked'] }],
} as const;

export interface ResolvedService {
  readonly unit: string;
  readonly scope: SystemdScope;
  readonly enabled?: boolean;
  readonly state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  readonly masked?: boolean;
}

// ── plan ─────────────────────────────────────────────────────────────────

export interface ServiceAction {
  readonly verb: UnitVerb;
  /** The manager has not read the current unit file yet: reload it before acting. */
  readonly reload: boolean;
}

/** Unit file states in which `enable` would create the [Install] links. */
const ENABLEABLE = ['disabled', 'linked', 'linked-runtime', ''];
/** Unit file states `disable` would change. */
const DISABLEABLE = ['enabled', 'enabled-runtime'];

/** Pure: the systemctl verbs that make the unit what the task wants, in the order to run them. */
export function planService(r: ResolvedService, observed: UnitState, context: PlanContext): Change<ServiceAction>[] {
  const current = withPlanned(r, observed, context);
  const exists = current.loadState !== 'not-found' || current.onDisk !== undefined;
  const masked = current.loadState === 'masked' || current.unitFileState.startsWith('masked');
  const reload = current.needDaemonReload;
  const wantsUnit = r.enabled === true || (r.state !== undefined && r.state !== 'stopped');

  if (!exists && wantsUnit) {
    throw new Error(`${r.unit}${scopeSuffix(r.scope)} is not installed on ${context.host.name}: install it first (a unit task, a timer task or a package task before this one), or check the name`);
  }
  if (masked && r.masked !== false && wantsUnit) {
    throw new Error(`${r.unit} is masked, so it cannot be ${r.enabled === true ? 'enabled' : 'started'}: add masked: false to unmask it`);
  }

  const changes: Change<ServiceAction>[] = [];
  const add = (verb: UnitVerb, summary: string, diff?: string) =>
    changes.push({ summary: `${summary}${scopeSuffix(r.scope)}`, ...(diff ? { diff } : {}), action: { verb, reload } });
  const running = isRunning(current);
  const activeText = `${current.activeState || 'inactive'}${current.subState ? ` (${current.subState})` : ''}`;

  if (r.masked === false && masked) add('unmask', `unmask ${r.unit}`, fieldDiff([{ name: 'masked', before: 'yes', after: 'no' }]));
  const fileState = masked && r.masked === false ? 'disabled' : current.unitFileState;
  if (r.enabled === true && ENABLEABLE.includes(fileState)) {
    add('enable', `enable ${r.unit} (enabled: no → yes)`, fieldDiff([{ name: 'enabled', before: 'no', after: 'yes' }]));
  }
  if (r.enabled === false && DISABLEABLE.includes(fileState)) {
    add('disable', `disable ${r.unit} (enabled: yes → no)`, fieldDiff([{ name: 'enabled', before: 'yes', after: 'no' }]));
  }
  switch (r.state) {
    case 'started':
      if (!running) add('start', `start ${r.unit} (active: ${activeText} → active)`, fieldDiff([{ name: 'active', before: activeText, after: 'active' }]));
      break;
    case 'stopped':
      if (running) add('stop', `stop ${r.unit} (active: ${activeText} → inactive)`, fieldDiff([{ name: 'active', before: activeText, after: 'inactive' }]));
      break;
    case 'restarted':
      add('restart', `restart ${r.unit} (was ${activeText})`, running ? undefined : fieldDiff([{ name: 'active', before: activeText, after: 'active' }]));
      break;
    case 'reloaded':
      if (running) add('reload-or-restart', `reload ${r.unit}`);
      else add('start', `start ${r.unit} (reloaded, but it was not running)`, fieldDiff([{ name: 'active', before: activeText, after: 'active' }]));
      break;
  }
  if (r.masked === true && !masked) {
    if (current.fragmentPath.startsWith(`${SYSTEM_UNIT_DIR}/`) || current.fragmentPath.includes(`/${USER_UNIT_DIR}/`)) {
      // systemctl mask puts a /dev/null link exactly where this file is, and refuses to replace it.
      throw new Error(`${r.unit} cannot be masked while its unit file is ${current.fragmentPath}: remove that file first (unit({ name: '${r.unit}', state: 'absent' })), or just stop and disable it`);
    }
    add('mask', `mask ${r.unit}`, fieldDiff([{ name: 'masked', before: 'no', after: 'yes' }]));
  }
  return changes;
}

/**
 * The unit as it will be once earlier tasks of this run are done: in check
 * mode a unit a `unit`/`timer` task (or a `file` task in /etc/systemd/system)
 * would install is planned as installed, stopped and disabled, where
 * Ansible fails (ansible/ansible#72721).
 */
function withPlanned(r: ResolvedService, observed: UnitState, context: PlanContext): UnitState {
  const planned = context.planned.get(UnitResource, unitKey(r.scope, r.unit));
  const file = r.scope.kind === 'system' ? context.planned.get(PathResource, `${SYSTEM_UNIT_DIR}/${r.unit}`) : undefined;
  const present = planned?.present ?? (file ? file.type !== 'absent' : undefined);
  if (present === undefined) return observed;
  const onHost = observed.loadState !== 'not-found' || observed.onDisk !== undefined;
  if (present && !onHost) return NEW_UNIT;
  if (!present) return { loadState: 'not-found', activeState: observed.activeState, subState: observed.subState, unitFileState: '', needDaemonReload: true, fragmentPath: '' };
  return observed;
}

// ── observe → plan → apply ───────────────────────────────────────────────

const ORDER: readonly UnitVerb[] = ['unmask', 'enable', 'disable', 'stop', 'start', 'restart', 'reload', 'reload-or-restart', 'mask'];

const backend: Backend<ResolvedService, UnitState, ServiceAction> = {
  probes: (r) => ({ state: { script: unitStateProbe(r.scope, r.unit) } }),
  parse: (r, outputs) => parseUnitState(r.scope, r.unit, outputs['state']!),
  plan: planService,
  async apply(r, changes, context) {
    const verbs = changes.map((c) => c.action.verb).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
    await controlUnit(context, r.scope, r.unit, verbs, { reload: changes.some((c) => c.action.reload) });
  },
};

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
  schema,
  capabilities: { checkMode: true, diff: true, notes: "state 'restarted' and 'reloaded' act on every run (use them in handlers)" },
  describe: (p) => `service ${p.name}${describeWanted(p)}${scopeSuffix(toScope(p.scope))}`,
  resolve: (p) => ({
    unit: withServiceSuffix(p.name),
    scope: toScope(p.scope),
    ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
    ...(p.state !== undefined ? { state: p.state } : {}),
    ...(p.masked !== undefined ? { masked: p.masked } : {}),
  }),
  backends: { el9: backend, linux: backend, nixos: nixosService },
});

function describeWanted(p: ServiceParams): string {
  const parts = [p.state, p.enabled === undefined ? undefined : p.enabled ? 'enabled' : 'disabled', p.masked === undefined ? undefined : p.masked ? 'masked' : 'unmasked'];
  const text = parts.filter(Boolean).join(', ');
  return text ? ` (${text})` : '';
}
