import { fieldDiff, textDiff } from '../../lib/diff.ts';
import { effect, PathResource, resourceKey, type Effect, type ResourceKey } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import type { UnitVerb } from './apply.ts';
import { isRunning, NEW_UNIT, SYSTEM_UNIT_DIR, USER_UNIT_DIR, type ObservedTimer, type ObservedUnitFiles, type UnitState } from './observe.ts';
import type { ResolvedService, ResolvedTimer, UnitFilesParams } from './params.ts';
import { UnitResource, unitKey } from './resources.ts';
import { daemonReload, scopeSuffix, type SystemdScope } from './scope.ts';

// ── unit files ───────────────────────────────────────────────────────────

/** `reload`: the files are right, but the manager has not read them (a lost daemon-reload). */
export type UnitFileAction =
  | { readonly do: 'install'; readonly file: string; readonly path: string; readonly content: string }
  | { readonly do: 'remove'; readonly file: string; readonly path: string }
  | { readonly do: 'reload' };

/** Pure: install or remove each file whose content differs from what is wanted. */
export function planUnitFiles(p: UnitFilesParams, observed: ObservedUnitFiles, context: PlanContext): Change<UnitFileAction>[] {
  const changes: Change<UnitFileAction>[] = [];
  for (const f of p.files) {
    const path = `${observed.dir}/${f.file}`;
    const current = currentContent(p.scope, path, observed.files[f.file] ?? null, context);
    if (current === f.content) continue;
    if (f.content === null) {
      changes.push({ summary: `remove ${path}`, diff: textDiff(path, current ?? '', ''), action: { do: 'remove', file: f.file, path } });
    } else {
      changes.push({
        summary: `${current === null ? 'install' : 'update'} ${path}`,
        diff: textDiff(path, current ?? '', f.content),
        action: { do: 'install', file: f.file, path, content: f.content },
      });
    }
  }
  // An earlier task of this run that changes these units' files asks for the daemon-reload anyway (planned in check mode, deferred when applying).
  const earlier =
    context.deferred?.has(daemonReload(p.scope).id) === true ||
    observed.needDaemonReload.some((u) => context.planned.get(UnitResource, unitKey(p.scope, u))) ||
    (p.scope.kind === 'system' && p.files.some((f) => context.planned.get(PathResource, `${observed.dir}/${f.file}`)));
  if (changes.length === 0 && observed.needDaemonReload.length > 0 && !earlier) {
    const units = observed.needDaemonReload.join(', ');
    changes.push({
      summary: `daemon-reload: the manager has not read the current files of ${units} (NeedDaemonReload)`,
      diff: fieldDiff([{ name: `${units} as the manager runs it`, before: 'older than its files', after: 'reloaded' }]),
      action: { do: 'reload' },
    });
  }
  return changes;
}

/** What an earlier task of this run leaves at the path (check mode) wins over what the host shows now. */
function currentContent(scope: SystemdScope, path: string, onHost: string | null, context: PlanContext): string | null {
  if (scope.kind !== 'system') return onHost;
  const planned = context.planned.get(PathResource, path);
  if (!planned) return onHost;
  if (planned.type === 'file' && planned.content) return planned.content.toString('utf8');
  return planned.type === 'absent' ? null : onHost;
}

/** In check mode, later tasks see the files as installed and their units as present. */
export function unitFileEffects(p: UnitFilesParams, units: readonly string[]): Effect[] {
  const present = p.files.some((f) => f.content !== null);
  const paths = p.scope.kind === 'system' ? p.files.map((f) => effect(PathResource, `${SYSTEM_UNIT_DIR}/${f.file}`, f.content === null ? { type: 'absent' as const } : { type: 'file' as const, content: Buffer.from(f.content), mode: '0644' })) : [];
  return [...paths, ...units.map((u) => effect(UnitResource, unitKey(p.scope, u), { scope: p.scope, present }))];
}

/** What installing unit files may change: the files (in a user's home, any path), and the units' state as their manager sees it. */
export function unitFilesWrites(p: UnitFilesParams, units: readonly string[]): ResourceKey[] {
  const keys = unitFileEffects(p, units).map((e) => resourceKey(e.kind, e.id));
  return p.scope.kind === 'user' ? [...keys, resourceKey(PathResource)] : keys;
}

// ── service ──────────────────────────────────────────────────────────────

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

// ── timer ────────────────────────────────────────────────────────────────

export type TimerAction = { readonly files: UnitFileAction } | { readonly control: ServiceAction };

/** The unit files, then the timer enabled and started like a service of its own. */
export function planTimer(r: ResolvedTimer, observed: ObservedTimer, context: PlanContext): Change<TimerAction>[] {
  const files = planUnitFiles(r, observed.files, context);
  const timerFile = files.find((c) => 'file' in c.action && c.action.file === r.timer);
  const known = observed.timer.loadState !== 'not-found' || observed.timer.onDisk !== undefined;
  // The timer is enabled and started like a service of its own; a changed schedule re-arms a running timer.
  const current = timerFile && !known ? NEW_UNIT : observed.timer;
  const wanted = { unit: r.timer, scope: r.scope, enabled: true, state: timerFile && known ? ('restarted' as const) : ('started' as const) };
  const control = planService(wanted, current, context);
  return [...files.map((c) => ({ ...c, action: { files: c.action } })), ...control.map((c) => ({ ...c, action: { control: c.action } }))];
}
