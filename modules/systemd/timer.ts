import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Change, PlanContext, ProbeOutputs } from '../../lib/module/types.ts';
import { controlUnit, type UnitVerb } from './control.ts';
import { nixosTimer } from './nixos.ts';
import { scopeSchema, scopeSuffix, toScope, type ScopeParam } from './scope-param.ts';
import { assertNoParamProblems, problemsIn } from '../../lib/module/param-problems.ts';
import { environmentValue, literalValue, literalValueProblem, renderSections, singleLineSchema, unitSyntaxProblem, type UnitSection, type UnitValue } from './sections.ts';
import type { SystemdScope } from './scope.ts';
import { NEW_UNIT, parseUnitState, unitStateProbe, type UnitState } from './state.ts';
import { planService, type ServiceAction } from './service.ts';
import {
  applyUnitFiles,
  parseUnitFiles,
  planUnitFiles,
  unitFileEffects,
  unitFilesProbe,
  type ObservedUnitFiles,
  type UnitFileAction,
  type UnitFilesParams,
} from './unit-files.ts';

// ── parameters ───────────────────────────────────────────────────────────

/** The job the timer runs: a oneshot service by default. */
export interface TimerService {
  /**
   * Command line as systemd reads it (absolute program path first; systemd's
   * quoting, `%` specifiers and `$VAR` expansion apply); several run in order.
   */
  readonly execStart: string | readonly string[];
  readonly user?: string;
  readonly group?: string;
  /** Values arrive exactly as given (quoted and escaped for you, `%` included). */
  readonly environment?: Readonly<Record<string, string>>;
  /** An absolute path, or `~` for the user's home; written literally (`%` is not a specifier here). */
  readonly workingDirectory?: string;
  /** Default 'oneshot': the timer's job runs to completion. */
  readonly type?: 'oneshot' | 'simple' | 'exec' | 'forking' | 'notify';
  /** Any other [Service] keys (Nice, TimeoutStartSec, ProtectSystem, ...), in systemd's syntax. */
  readonly options?: UnitSection;
}

export interface TimerParams {
  /** Base name: `backup` writes backup.timer and backup.service. */
  readonly name: string;
  /** Written literally: `%` is not a specifier here. */
  readonly description?: string;
  /** Calendar events: 'daily', 'Mon *-*-* 03:00:00', ... (see systemd.time). */
  readonly onCalendar?: string | readonly string[];
  readonly onBootSec?: string;
  readonly onStartupSec?: string;
  readonly onActiveSec?: string;
  readonly onUnitActiveSec?: string;
  readonly onUnitInactiveSec?: string;
  /** Run a calendar job missed while the machine was off, at the next boot. */
  readonly persistent?: boolean;
  readonly randomizedDelaySec?: string;
  readonly accuracySec?: string;
  readonly service: TimerService;
  readonly scope?: ScopeParam;
}

const timeSpan = { anyOf: [singleLineSchema, { type: 'number' }], 'x-expected': 'a time span such as "5min" or "1h 30min", or a number of seconds' } as const;
const word = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\$?$', 'x-expected': 'a user or group name' } as const;

const schema = {
  type: 'object',
  required: ['name', 'service'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9:_.\\\\@-]+$', not: { pattern: '\\.(service|timer)$' }, maxLength: 240, 'x-expected': 'a timer name without .timer or .service, such as "backup"' },
    description: singleLineSchema,
    onCalendar: { anyOf: [singleLineSchema, { type: 'array', items: singleLineSchema, minItems: 1 }], 'x-expected': 'a calendar expression such as "daily" or "Mon *-*-* 03:00", or a non-empty list of them' },
    onBootSec: timeSpan,
    onStartupSec: timeSpan,
    onActiveSec: timeSpan,
    onUnitActiveSec: timeSpan,
    onUnitInactiveSec: timeSpan,
    persistent: { type: 'boolean' },
    randomizedDelaySec: timeSpan,
    accuracySec: timeSpan,
    service: {
      type: 'object',
      required: ['execStart'],
      properties: {
        execStart: {
          anyOf: [
            { type: 'string', pattern: '^[^\\n\\r\\u0000]+$', 'x-expected': 'a command line (one line)' },
            { type: 'array', items: { type: 'string', pattern: '^[^\\n\\r\\u0000]+$', 'x-expected': 'a command line (one line)' }, minItems: 1 },
          ],
        },
        user: word,
        group: word,
        // Any value but NUL (no environment can hold one): line breaks are escaped. Values are often credentials: never printed in a parameter error.
        environment: { type: 'object', sensitive: true, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', 'x-expected': 'an environment variable name (letters, digits and _, not starting with a digit)' }, additionalProperties: { type: 'string', pattern: '^[^\\u0000]*$', 'x-expected': 'text without a NUL character' } },
        workingDirectory: { type: 'string', pattern: '^[~/][^\\n\\r\\u0000]*$', 'x-expected': 'an absolute path, or one starting with ~ (one line)' },
        type: { enum: ['oneshot', 'simple', 'exec', 'forking', 'notify'] },
        options: {
          type: 'object',
          propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9]*$', 'x-expected': 'a key such as "Restart" (letters and digits)' },
          additionalProperties: {
            anyOf: [singleLineSchema, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { anyOf: [singleLineSchema, { type: 'number' }] } }],
            'x-expected': 'one line, a number, true or false, or a list of lines and numbers',
          },
        },
      },
      additionalProperties: false,
    },
    scope: scopeSchema,
  },
  additionalProperties: false,
  anyOf: ['onCalendar', 'onBootSec', 'onStartupSec', 'onActiveSec', 'onUnitActiveSec', 'onUnitInactiveSec'].map((k) => ({ required: [k] })),
} as const;

interface Resolved extends UnitFilesParams {
  readonly timer: string;
  readonly service: string;
  /** The task's parameters, for the NixOS renderer's structured options. */
  readonly spec: TimerParams;
}

/**
 * Values systemd would not read back as given: a line break or a trailing
 * backslash anywhere, and, in the literal ones, surrounding blanks.
 */
export function timerProblems(p: TimerParams) {
  const s = p.service;
  return [
    ...problemsIn('description', p.description, literalValueProblem),
    ...(['onCalendar', 'onBootSec', 'onStartupSec', 'onActiveSec', 'onUnitActiveSec', 'onUnitInactiveSec', 'randomizedDelaySec', 'accuracySec'] as const).flatMap((k) =>
      problemsIn(k, p[k], unitSyntaxProblem),
    ),
    ...problemsIn('service.execStart', s.execStart, unitSyntaxProblem),
    ...problemsIn('service.workingDirectory', s.workingDirectory, literalValueProblem),
    ...problemsIn('service.options', s.options, unitSyntaxProblem),
  ];
}

/** The two unit files, rendered the same way every run. */
export function renderTimer(p: TimerParams): { timer: string; service: string } {
  const description = literalValue(p.description ?? `${p.name} (hostform timer)`);
  const timer: Record<string, UnitValue> = {};
  const set = (key: string, value: UnitValue | undefined) => {
    if (value !== undefined) timer[key] = value;
  };
  set('OnCalendar', p.onCalendar);
  set('OnBootSec', p.onBootSec);
  set('OnStartupSec', p.onStartupSec);
  set('OnActiveSec', p.onActiveSec);
  set('OnUnitActiveSec', p.onUnitActiveSec);
  set('OnUnitInactiveSec', p.onUnitInactiveSec);
  set('Persistent', p.persistent);
  set('RandomizedDelaySec', p.randomizedDelaySec);
  set('AccuracySec', p.accuracySec);
  timer['Unit'] = `${p.name}.service`;

  const s = p.service;
  const service: Record<string, UnitValue> = { Type: s.type ?? 'oneshot', ExecStart: s.execStart };
  if (s.user) service['User'] = s.user;
  if (s.group) service['Group'] = s.group;
  if (s.workingDirectory) service['WorkingDirectory'] = literalValue(s.workingDirectory);
  const env = Object.entries(s.environment ?? {}).map(([k, v]) => environmentValue(k, v));
  if (env.length > 0) service['Environment'] = env;
  Object.assign(service, s.options ?? {});

  return {
    timer: renderSections({ Unit: { Description: description }, Timer: timer, Install: { WantedBy: 'timers.target' } }),
    service: renderSections({ Unit: { Description: description }, Service: service }),
  };
}

// ── observe → plan → apply ───────────────────────────────────────────────

interface Observed {
  readonly files: ObservedUnitFiles;
  readonly timer: UnitState;
}

type Action = { readonly files: UnitFileAction } | { readonly control: ServiceAction };

function plan(r: Resolved, observed: Observed, context: PlanContext): Change<Action>[] {
  const files = planUnitFiles(r, observed.files, context);
  const timerFile = files.find((c) => c.action.file === r.timer);
  const known = observed.timer.loadState !== 'not-found' || observed.timer.onDisk !== undefined;
  // The timer is enabled and started like a service of its own; a changed schedule re-arms a running timer.
  const current = timerFile && !known ? NEW_UNIT : observed.timer;
  const wanted = { unit: r.timer, scope: r.scope, enabled: true, state: timerFile && known ? ('restarted' as const) : ('started' as const) };
  const control = planService(wanted, current, context);
  return [...files.map((c) => ({ ...c, action: { files: c.action } })), ...control.map((c) => ({ ...c, action: { control: c.action } }))];
}

const ORDER: readonly UnitVerb[] = ['unmask', 'enable', 'disable', 'stop', 'start', 'restart', 'reload', 'reload-or-restart', 'mask'];

const backend: Backend<Resolved, Observed, Action> = {
  probes: (r) => ({ files: { script: unitFilesProbe(r) }, timer: { script: unitStateProbe(r.scope, r.timer) } }),
  parse: (r, outputs: ProbeOutputs) => ({ files: parseUnitFiles(r, outputs['files']!), timer: parseUnitState(r.scope, r.timer, outputs['timer']!) }),
  plan,
  async apply(r, changes, context) {
    const fileChanges = changes.flatMap((c) => ('files' in c.action ? [{ ...c, action: c.action.files }] : []));
    if (fileChanges.length > 0) await applyUnitFiles(r, fileChanges, context);
    const control = changes.flatMap((c) => ('control' in c.action ? [c.action.control] : []));
    const verbs = control.map((a) => a.verb).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
    await controlUnit(context, r.scope, r.timer, verbs, { reload: control.some((a) => a.reload) });
  },
  effects: (r) => unitFileEffects(r, [r.timer, r.service]),
};

/**
 * A timer and the service it runs, written together, verified together,
 * then enabled and started (`systemctl enable --now <name>.timer`).
 *
 *   timer({ name: 'backup', onCalendar: 'daily', persistent: true, randomizedDelaySec: '30m',
 *           service: { execStart: '/usr/local/bin/backup --quiet', user: 'backup' } })
 *
 * `systemctl list-timers` shows it; `systemctl start backup.service` runs the job now.
 */
export const timer = defineModule<TimerParams, Resolved>({
  name: 'systemd.timer',
  schema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `timer ${p.name}${scopeSuffix(toScope(p.scope))}`,
  resolve: (p) => {
    assertNoParamProblems(timerProblems(p));
    const scope: SystemdScope = toScope(p.scope);
    const rendered = renderTimer(p);
    return {
      scope,
      timer: `${p.name}.timer`,
      service: `${p.name}.service`,
      files: [
        { file: `${p.name}.timer`, content: rendered.timer },
        { file: `${p.name}.service`, content: rendered.service },
      ],
      verify: { files: true },
      spec: p,
    };
  },
  backends: { el9: backend, linux: backend, nixos: nixosTimer },
});
