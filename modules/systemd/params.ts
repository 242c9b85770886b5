import { assertNoParamProblems, problemsIn } from '../../lib/module/param-problems.ts';
import { scopedProperty, toScope, type Scoped, type SystemdScope } from './scope.ts';
import {
  environmentValue,
  literalValue,
  literalValueProblem,
  renderSections,
  UNIT_TYPES,
  unitSyntaxProblem,
  withServiceSuffix,
  type UnitSection,
  type UnitSections,
  type UnitValue,
} from './sections.ts';

// ── schema pieces ────────────────────────────────────────────────────────

/** A value may not hold a line break (LF, CR or NUL, each ends a line for systemd): it would start a new key (or section) in the file. */
const singleLine = { type: 'string', pattern: '^[^\\n\\r\\u0000]*$', 'x-expected': 'one line (no line break or NUL)' } as const;

const sectionsSchema = {
  type: 'object',
  minProperties: 1,
  propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9-]*$', 'x-expected': 'a section name such as "Service" (letters, digits and -)' },
  additionalProperties: {
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9]*$', 'x-expected': 'a key such as "ExecStart" (letters and digits)' },
    additionalProperties: {
      anyOf: [singleLine, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { anyOf: [singleLine, { type: 'number' }] } }],
      'x-expected': 'one line, a number, true or false, or a list of lines and numbers',
    },
  },
} as const;

/**
 * What a unit-file task's schema says about the file's body: `sections` or
 * raw `content`, exactly one of them, and neither with `state: 'absent'`.
 */
const fileBodyProperties = {
  sections: {
    ...sectionsSchema,
    description:
      "The file as data: section → key → value, e.g. `{ Service: { ExecStart: '/usr/local/bin/app', Restart: 'on-failure' } }`. An array repeats the key (`''` first resets a list setting), booleans are written yes/no, [Unit] comes first and [Install] last. Give sections or content, not both.",
  },
  content: { type: 'string', minLength: 1, description: "The file's text, written as given, in systemd's own syntax. Give sections or content, not both." },
  state: { enum: ['present', 'absent'], description: "'present' (default) installs the file; 'absent' removes it." },
} as const;
const fileBodyRule = {
  if: { properties: { state: { const: 'absent' } }, required: ['state'] },
  then: { not: { anyOf: [{ required: ['sections'] }, { required: ['content'] }] } },
  else: { oneOf: [{ required: ['sections'] }, { required: ['content'] }] },
} as const;

/** A full unit name, suffix included: `app.service`, `getty@tty1.service`, `backup.timer`. */
const unitNameSchema = { type: 'string', pattern: `^[A-Za-z0-9:_.\\\\@-]+\\.(${UNIT_TYPES})$`, maxLength: 255, 'x-expected': 'a unit name with its type, such as "app.service" or "backup.timer"' } as const;
/** A unit name where `.service` may be left out: `nginx` means `nginx.service`. */
const serviceNameSchema = { type: 'string', pattern: `^[A-Za-z0-9:_.\\\\@][A-Za-z0-9:_.\\\\@-]*$`, maxLength: 255, 'x-expected': 'a unit name such as "nginx" or "getty@tty1.service" (not starting with -)' } as const;
/** A drop-in's file name without `.conf`. */
const dropInNameSchema = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@-]*$', maxLength: 200, 'x-expected': 'a drop-in name without .conf (letters, digits, _, ., @ and -)' } as const;

// ── unit files: what unit, dropIn and timer resolve to ──────────────────

/** A file the task manages, by its path inside the unit directory: `app.service`, `app.service.d/10-limits.conf`. */
export interface WantedUnitFile {
  readonly file: string;
  /** null: the file must not exist. */
  readonly content: string | null;
}

export interface UnitFilesParams {
  readonly scope: SystemdScope;
  readonly files: readonly WantedUnitFile[];
  /**
   * What `systemd-analyze verify` checks before installing: the files
   * themselves, or (for a drop-in) the unit they change, loaded with them.
   */
  readonly verify: { readonly files: true } | { readonly unit: string };
}

// ── unit files written by unit and dropIn ────────────────────────────────

interface FileState<S extends 'present' | 'absent'> {
  /** 'present' (default) installs the file; 'absent' removes it. */
  readonly state: S;
}

interface FromSections {
  /**
   * The file as data: section → key → value, e.g.
   * `{ Service: { ExecStart: '/usr/local/bin/app', Restart: 'on-failure' } }`.
   * An array repeats the key (`''` first resets a list setting), booleans are
   * written yes/no, [Unit] comes first and [Install] last. Give sections or
   * content, not both.
   */
  readonly sections: UnitSections;
  readonly content?: never;
}

interface FromText {
  /** The file's text, written as given, in systemd's own syntax. Give sections or content, not both. */
  readonly content: string;
  readonly sections?: never;
}

/** A unit file's body, from sections or as text, or no file at all. */
export type UnitFileBody =
  | (Partial<FileState<'present'>> & FromSections)
  | (Partial<FileState<'present'>> & FromText)
  | (FileState<'absent'> & { readonly sections?: never; readonly content?: never });

// ── unit ─────────────────────────────────────────────────────────────────

export type UnitParams = Scoped & {
  /** File name with its type: `app.service`, `backup.timer`, `data.mount`. */
  readonly name: string;
} & UnitFileBody;

export const unitSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { ...unitNameSchema, description: 'File name with its type: `app.service`, `backup.timer`, `data.mount`.' },
    ...fileBodyProperties,
    scope: scopedProperty,
  },
  additionalProperties: false,
  ...fileBodyRule,
} as const;

export interface ResolvedUnit extends UnitFilesParams {
  readonly name: string;
}

export function resolveUnit(p: UnitParams): ResolvedUnit {
  // Each value stays one assignment of its key; raw `content` is the user's own text.
  assertNoParamProblems(problemsIn('sections', p.sections, unitSyntaxProblem));
  return {
    name: p.name,
    scope: toScope(p.scope),
    files: [{ file: p.name, content: p.state === 'absent' ? null : (p.content ?? renderSections(p.sections!)) }],
    verify: { files: true },
  };
}

// ── drop-in ──────────────────────────────────────────────────────────────

export type DropInParams = Scoped & {
  /** The unit it changes, with its type: `nginx.service`. */
  readonly unit: string;
  /** File name without `.conf`: `10-limits` → `<unit>.d/10-limits.conf`. Drop-ins apply in name order. */
  readonly name: string;
} & UnitFileBody;

export const dropInSchema = {
  type: 'object',
  required: ['unit', 'name'],
  properties: {
    unit: { ...unitNameSchema, description: 'The unit it changes, with its type: `nginx.service`.' },
    name: { ...dropInNameSchema, description: 'File name without `.conf`: `10-limits` → `<unit>.d/10-limits.conf`. Drop-ins apply in name order.' },
    ...fileBodyProperties,
    scope: scopedProperty,
  },
  additionalProperties: false,
  ...fileBodyRule,
} as const;

export function resolveDropIn(p: DropInParams): UnitFilesParams {
  // Each value stays one assignment of its key; raw `content` is the user's own text.
  assertNoParamProblems(problemsIn('sections', p.sections, unitSyntaxProblem));
  return {
    scope: toScope(p.scope),
    files: [{ file: `${p.unit}.d/${p.name}.conf`, content: p.state === 'absent' ? null : (p.content ?? renderSections(p.sections!)) }],
    verify: { unit: p.unit },
  };
}

// ── service ──────────────────────────────────────────────────────────────

export interface ServiceParams extends Scoped {
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
}

export const serviceSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { ...serviceNameSchema, description: '`nginx` or `nginx.service`; other unit types (`backup.timer`, `app.socket`) by their full name.' },
    enabled: { type: 'boolean', description: 'Start at boot (`systemctl enable`) or not. Left out: not changed.' },
    state: {
      enum: ['started', 'stopped', 'restarted', 'reloaded'],
      description:
        '`started`/`stopped` act only when the unit is not already so. `restarted` and `reloaded` act on every run, as in Ansible: use them in handlers, notified by the task that changed the configuration.',
    },
    masked: { type: 'boolean', description: '`true` links the unit to /dev/null so nothing can start it; `false` undoes that.' },
    scope: scopedProperty,
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

export function resolveService(p: ServiceParams): ResolvedService {
  return {
    unit: withServiceSuffix(p.name),
    scope: toScope(p.scope),
    ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
    ...(p.state !== undefined ? { state: p.state } : {}),
    ...(p.masked !== undefined ? { masked: p.masked } : {}),
  };
}

// ── timer ────────────────────────────────────────────────────────────────

/** The job the timer runs: a oneshot service by default. */
export interface TimerService {
  /**
   * Command line as systemd reads it (absolute program path first; systemd's
   * quoting, `%` specifiers and `$VAR` expansion apply); several run in order.
   */
  readonly execStart: string | readonly string[];
  /** User the job runs as (a name). Left out: root in the system manager, the user in a user's. */
  readonly user?: string;
  /** Group the job runs as (a name). Left out: the user's primary group. */
  readonly group?: string;
  /** Environment variables of the job. Values arrive exactly as given (quoted and escaped for you, `%` included) and are never printed in a parameter error. */
  readonly environment?: Readonly<Record<string, string>>;
  /** An absolute path, or `~` for the user's home; written literally (`%` is not a specifier here). */
  readonly workingDirectory?: string;
  /** Default 'oneshot': the timer's job runs to completion. */
  readonly type?: 'oneshot' | 'simple' | 'exec' | 'forking' | 'notify';
  /** Any other [Service] keys (Nice, TimeoutStartSec, ProtectSystem, ...), in systemd's syntax. */
  readonly options?: UnitSection;
}

/** A systemd time span: seconds as a number, or `'90s'`, `'5min'`, `'1h 30min'` (see systemd.time). */
export type TimeSpan = string | number;

/** At least one of onCalendar, onBootSec, onStartupSec, onActiveSec, onUnitActiveSec and onUnitInactiveSec says when the job runs. */
export interface TimerParams extends Scoped {
  /** Base name: `backup` writes backup.timer and backup.service. */
  readonly name: string;
  /** Description= of both units, written literally (`%` is not a specifier here). Default: `<name> (hostform timer)`. */
  readonly description?: string;
  /** Calendar events: 'daily', 'Mon *-*-* 03:00:00', ... (see systemd.time). */
  readonly onCalendar?: string | readonly string[];
  /** Run the job this long after the machine booted. */
  readonly onBootSec?: TimeSpan;
  /** Run the job this long after the service manager started (for a user timer: the user's manager). */
  readonly onStartupSec?: TimeSpan;
  /** Run the job this long after the timer itself was started. */
  readonly onActiveSec?: TimeSpan;
  /** Run the job again this long after it last started: a repeating interval. */
  readonly onUnitActiveSec?: TimeSpan;
  /** Run the job again this long after it last finished. */
  readonly onUnitInactiveSec?: TimeSpan;
  /** Run a calendar job missed while the machine was off, at the next boot. */
  readonly persistent?: boolean;
  /** Delay each run by a random time up to this span, so that many machines do not all run the job at once. */
  readonly randomizedDelaySec?: TimeSpan;
  /** How close to the planned time the job must start; systemd merges wake-ups within it (its default: 1min). */
  readonly accuracySec?: TimeSpan;
  /** The job the timer runs, written as `<name>.service`: a oneshot service by default. */
  readonly service: TimerService;
}

const timeSpan = { anyOf: [singleLine, { type: 'number' }], 'x-expected': 'a time span such as "5min" or "1h 30min", or a number of seconds' } as const;
const word = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\$?$', 'x-expected': 'a user or group name' } as const;

export const timerSchema = {
  type: 'object',
  required: ['name', 'service'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9:_.\\\\@-]+$',
      not: { pattern: '\\.(service|timer)$' },
      maxLength: 240,
      'x-expected': 'a timer name without .timer or .service, such as "backup"',
      description: 'Base name: `backup` writes backup.timer and backup.service.',
    },
    description: { ...singleLine, description: 'Description= of both units, written literally (`%` is not a specifier here). Default: `<name> (hostform timer)`.' },
    onCalendar: {
      anyOf: [singleLine, { type: 'array', items: singleLine, minItems: 1 }],
      'x-expected': 'a calendar expression such as "daily" or "Mon *-*-* 03:00", or a non-empty list of them',
      description: "Calendar events: 'daily', 'Mon *-*-* 03:00:00', ... (see systemd.time).",
    },
    onBootSec: { ...timeSpan, description: 'Run the job this long after the machine booted.' },
    onStartupSec: { ...timeSpan, description: "Run the job this long after the service manager started (for a user timer: the user's manager)." },
    onActiveSec: { ...timeSpan, description: 'Run the job this long after the timer itself was started.' },
    onUnitActiveSec: { ...timeSpan, description: 'Run the job again this long after it last started: a repeating interval.' },
    onUnitInactiveSec: { ...timeSpan, description: 'Run the job again this long after it last finished.' },
    persistent: { type: 'boolean', description: 'Run a calendar job missed while the machine was off, at the next boot.' },
    randomizedDelaySec: { ...timeSpan, description: 'Delay each run by a random time up to this span, so that many machines do not all run the job at once.' },
    accuracySec: { ...timeSpan, description: 'How close to the planned time the job must start; systemd merges wake-ups within it (its default: 1min).' },
    service: {
      type: 'object',
      required: ['execStart'],
      properties: {
        execStart: {
          anyOf: [
            { type: 'string', pattern: '^[^\\n\\r\\u0000]+$', 'x-expected': 'a command line (one line)' },
            { type: 'array', items: { type: 'string', pattern: '^[^\\n\\r\\u0000]+$', 'x-expected': 'a command line (one line)' }, minItems: 1 },
          ],
          description:
            "Command line as systemd reads it (absolute program path first; systemd's quoting, `%` specifiers and `$VAR` expansion apply); several run in order.",
        },
        user: { ...word, description: "User the job runs as (a name). Left out: root in the system manager, the user in a user's." },
        group: { ...word, description: "Group the job runs as (a name). Left out: the user's primary group." },
        // Any value but NUL (no environment can hold one): line breaks are escaped. Values are often credentials: never printed in a parameter error.
        environment: {
          type: 'object',
          sensitive: true,
          propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', 'x-expected': 'an environment variable name (letters, digits and _, not starting with a digit)' },
          additionalProperties: { type: 'string', pattern: '^[^\\u0000]*$', 'x-expected': 'text without a NUL character' },
          description:
            'Environment variables of the job. Values arrive exactly as given (quoted and escaped for you, `%` included) and are never printed in a parameter error.',
        },
        workingDirectory: {
          type: 'string',
          pattern: '^[~/][^\\n\\r\\u0000]*$',
          'x-expected': 'an absolute path, or one starting with ~ (one line)',
          description: "An absolute path, or `~` for the user's home; written literally (`%` is not a specifier here).",
        },
        type: { enum: ['oneshot', 'simple', 'exec', 'forking', 'notify'], description: "Default 'oneshot': the timer's job runs to completion." },
        options: {
          type: 'object',
          propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9]*$', 'x-expected': 'a key such as "Restart" (letters and digits)' },
          additionalProperties: {
            anyOf: [singleLine, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { anyOf: [singleLine, { type: 'number' }] } }],
            'x-expected': 'one line, a number, true or false, or a list of lines and numbers',
          },
          description: 'Any other [Service] keys (Nice, TimeoutStartSec, ProtectSystem, ...), in systemd\'s syntax.',
        },
      },
      additionalProperties: false,
      description: 'The job the timer runs, written as `<name>.service`: a oneshot service by default.',
    },
    scope: scopedProperty,
  },
  additionalProperties: false,
  anyOf: ['onCalendar', 'onBootSec', 'onStartupSec', 'onActiveSec', 'onUnitActiveSec', 'onUnitInactiveSec'].map((k) => ({ required: [k] })),
} as const;

export interface ResolvedTimer extends UnitFilesParams {
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

export function resolveTimer(p: TimerParams): ResolvedTimer {
  assertNoParamProblems(timerProblems(p));
  const rendered = renderTimer(p);
  return {
    scope: toScope(p.scope),
    timer: `${p.name}.timer`,
    service: `${p.name}.service`,
    files: [
      { file: `${p.name}.timer`, content: rendered.timer },
      { file: `${p.name}.service`, content: rendered.service },
    ],
    verify: { files: true },
    spec: p,
  };
}
