import type { ExecResult } from '../../lib/connection/types.ts';
import { PathResource, resourceKey, type ResourceKey } from '../../lib/module/resources.ts';
import { join, sh, type ShellScript } from '../../lib/shell/quote.ts';
import { asUser, homeOf } from '../shared/account.ts';
import { probeFailure } from '../shared/become.ts';
import { UserResource } from '../users/resources.ts';
import type { UnitFilesParams } from './params.ts';
import { systemctl, type SystemdScope } from './scope.ts';

// ── unit files ───────────────────────────────────────────────────────────

export const SYSTEM_UNIT_DIR = '/etc/systemd/system';
/** Relative to the user's home directory. */
export const USER_UNIT_DIR = '.config/systemd/user';

export interface ObservedUnitFiles {
  /** The unit directory on the host (a user's directory depends on their home). */
  readonly dir: string;
  /** Content by file; null when absent. */
  readonly files: Readonly<Record<string, string | null>>;
  /** The units of these files that the manager says changed on disk since it last read them (NeedDaemonReload). */
  readonly needDaemonReload: readonly string[];
}

/** The unit a file belongs to: `app.service`, for `app.service` and `app.service.d/limits.conf` alike. */
export function unitOfFile(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')).replace(/\.d$/, '') : file;
}

/** The unit directory for the scope, as a shell expression (a user's home is looked up on the host). */
function dirExpression(scope: SystemdScope): ShellScript {
  return scope.kind === 'system' ? sh`${SYSTEM_UNIT_DIR}` : sh`${homeOf(scope.user)}/${USER_UNIT_DIR}`;
}

/**
 * One probe: the directory, then per file `present` + base64 content, or
 * `absent`; then per unit what the manager says of it: whether it needs a
 * daemon-reload to read its files (`NeedDaemonReload=yes`), which a lost
 * daemon-reload leaves behind with files that are right, and the names it
 * knows the unit by (`Names=`: its aliases, whose drop-ins count too), on one
 * line: `reload UNIT Names=a b NeedDaemonReload=no`.
 */
export function unitFilesProbe(p: UnitFilesParams): ShellScript {
  const userCheck = p.scope.kind === 'user' ? sh`getent passwd ${p.scope.user} >/dev/null || { echo 'no such user:' ${p.scope.user} >&2; exit 3; }\n` : sh``;
  const perFile = p.files.map(
    (f) => sh`if [ -f "$dir"/${f.file} ]; then echo present; base64 -w0 <"$dir"/${f.file} || exit 1; echo; else echo absent; echo; fi`,
  );
  const reads = join(perFile);
  // A user's files are read as the user: a link they planted shows only what they could read themselves.
  const read = p.scope.kind === 'system' ? reads : sh`${asUser(p.scope.user)} sh -c ${sh`dir=$1
${reads}`.text} sh "$dir"`;
  const units = unitsOf(p);
  // Unquoted on purpose: the lines of `systemctl show` become words of one line (unit names hold no blank and no glob character).
  const needs = units.map((u) => sh`echo reload ${u} $(${systemctl(p.scope, ['show', '-p', 'NeedDaemonReload', '-p', 'Names', '--', u])} 2>/dev/null)`);
  return sh`${userCheck}dir=${dirExpression(p.scope)}
echo "$dir"
${read}
${join(needs)}`;
}

/**
 * What unitFilesProbe's output depends on: the files, and what the manager
 * says of the units, which only their own files change: for each name the
 * manager knows a unit by (the task's, and once probed its aliases), in every
 * directory of the system manager's unit path, the unit file, its drop-in
 * directory, the drop-in directories of its dash prefixes and of its type,
 * and for an instance its template's. So writing `app.service` does not make
 * the probe of `app.timer` stale. For a user's units: the user and any path
 * (their home).
 */
export function unitFilesReads(p: UnitFilesParams, outputs?: { readonly files?: ExecResult }): ResourceKey[] {
  if (p.scope.kind === 'user') return [resourceKey(UserResource, p.scope.user), resourceKey(PathResource)];
  const known = outputs?.files?.code === 0 ? managerSays(outputs.files.stdout.split('\n')) : new Map<string, ReadonlyMap<string, string>>();
  const names = [...new Set(unitsOf(p).flatMap((u) => [u, ...(known.get(u)?.get('Names')?.split(' ') ?? [])]))].filter((n) => n !== '');
  const entries = [...new Set(names.flatMap(unitPathEntries))];
  // The files themselves too: the engine resolves them, so that a change writes where they lead.
  const paths = [...SYSTEM_UNIT_PATH.flatMap((dir) => entries.map((e) => `${dir}/${e}`)), ...p.files.map((f) => `${SYSTEM_UNIT_DIR}/${f.file}`)];
  return [...new Set(paths)].map((path) => resourceKey(PathResource, path));
}

/**
 * The system manager's unit path (`systemd-analyze unit-paths`), and
 * /lib/systemd/system where /lib is not a link into /usr.
 */
const SYSTEM_UNIT_PATH = [
  '/etc/systemd/system.control',
  '/run/systemd/system.control',
  '/run/systemd/transient',
  '/run/systemd/generator.early',
  '/etc/systemd/system',
  '/etc/systemd/system.attached',
  '/run/systemd/system',
  '/run/systemd/system.attached',
  '/run/systemd/generator',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
  '/run/systemd/generator.late',
];

/**
 * The entries of a unit directory the manager reads for a unit of this name:
 * the unit file and its drop-in directory (for an instance, its template's
 * too), the drop-in directories of every prefix ending in a dash (`a-b-c.service`:
 * `a-b-.service.d`, `a-.service.d`) and the type's (`service.d`).
 */
export function unitPathEntries(name: string): string[] {
  const dot = name.lastIndexOf('.');
  const [base, type] = dot > 0 ? [name.slice(0, dot), name.slice(dot + 1)] : [name, ''];
  const at = base.indexOf('@');
  const bases = at >= 0 && at < base.length - 1 ? [base, base.slice(0, at + 1)] : [base];
  const entries = bases.flatMap((b) => [`${b}.${type}`, `${b}.${type}.d`]);
  for (const b of bases) {
    for (let i = b.indexOf('-'); i >= 0; i = b.indexOf('-', i + 1)) entries.push(`${b.slice(0, i + 1)}.${type}.d`);
  }
  entries.push(`${type}.d`);
  return [...new Set(entries)];
}

/** The units of a task's files, each once (a unit and its drop-ins are one unit). */
function unitsOf(p: UnitFilesParams): string[] {
  return [...new Set(p.files.map((f) => unitOfFile(f.file)))];
}

/**
 * What the manager says of each unit, from unitFilesProbe's `reload UNIT
 * Names=a b NeedDaemonReload=no` lines: property by name. A word without `=`
 * (never in a unit name) continues the value before it.
 */
function managerSays(lines: readonly string[]): Map<string, ReadonlyMap<string, string>> {
  const units = new Map<string, ReadonlyMap<string, string>>();
  for (const line of lines) {
    const [word, unit, ...rest] = line.split(' ');
    if (word !== 'reload' || !unit) continue;
    const properties = new Map<string, string>();
    let last: string | undefined;
    for (const w of rest) {
      const eq = w.indexOf('=');
      if (eq > 0) properties.set((last = w.slice(0, eq)), w.slice(eq + 1));
      else if (last !== undefined) properties.set(last, `${properties.get(last)} ${w}`);
    }
    units.set(unit, properties);
  }
  return units;
}

export function parseUnitFiles(p: UnitFilesParams, result: ExecResult): ObservedUnitFiles {
  if (result.code !== 0) {
    const reason = result.stderr.trim() || `exit code ${result.code}`;
    throw probeFailure(`cannot read unit files ${p.files.map((f) => f.file).join(', ')}`, reason);
  }
  const [dir = '', ...lines] = result.stdout.split('\n');
  const files: Record<string, string | null> = {};
  p.files.forEach((f, i) => {
    const state = lines[i * 2];
    if (state !== 'present' && state !== 'absent') throw new Error(`unexpected probe output for ${f.file}: ${JSON.stringify(result.stdout.slice(0, 200))}`);
    files[f.file] = state === 'present' ? Buffer.from(lines[i * 2 + 1] ?? '', 'base64').toString('utf8') : null;
  });
  const needDaemonReload = [...managerSays(lines.slice(p.files.length * 2))].flatMap(([unit, says]) => (says.get('NeedDaemonReload') === 'yes' ? [unit] : []));
  return { dir, files, needDaemonReload };
}

// ── unit state ───────────────────────────────────────────────────────────

/** What the manager says about one unit (`systemctl show`), plus what is on disk when it has not loaded it yet. */
export interface UnitState {
  /** loaded | not-found | masked | bad-setting | error */
  readonly loadState: string;
  /** active | inactive | failed | activating | deactivating | reloading */
  readonly activeState: string;
  readonly subState: string;
  /** enabled | disabled | static | masked | generated | … ('' when the manager does not know the unit) */
  readonly unitFileState: string;
  /** A unit file changed on disk since the manager last read it. */
  readonly needDaemonReload: boolean;
  readonly fragmentPath: string;
  /**
   * A unit file the manager has not loaded because no daemon-reload ran since
   * it was written (e.g. by an earlier task of this play): its path.
   */
  readonly onDisk?: string;
}

const PROPERTIES = 'LoadState,ActiveState,SubState,UnitFileState,NeedDaemonReload,FragmentPath';
const SYSTEM_UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system'];
const USER_UNIT_DIRS = ['/etc/systemd/user', '/usr/local/lib/systemd/user', '/usr/lib/systemd/user'];

/**
 * One read-only probe: one `systemctl show` for the unit. When the manager
 * does not know it, the probe also looks for the file on disk, since a unit
 * written earlier in the play is only loaded by the (deferred) daemon-reload.
 */
export function unitStateProbe(scope: SystemdScope, unit: string): ShellScript {
  const dirs =
    scope.kind === 'system'
      ? sh`${SYSTEM_UNIT_DIRS}`
      : sh`${homeOf(scope.user)}/${USER_UNIT_DIR} ${USER_UNIT_DIRS}`;
  const show = systemctl(scope, ['show', '-p', PROPERTIES, '--', unit]);
  const isEnabled = systemctl(scope, ['is-enabled', '--', unit]);
  // An instance (getty@tty2.service) has no file of its own: its template (getty@.service) is what is on disk.
  const files = [unit, ...(templateOf(unit) ? [templateOf(unit)!] : [])];
  return sh`out=$(${show}) || { printf '%s\\n' "$out" >&2; exit 1; }
printf '%s\\n' "$out"
case "$out" in *LoadState=not-found*)
  for d in ${dirs}; do for f in ${files}; do
    if [ -e "$d/$f" ]; then echo "OnDisk=$d/$f"; echo "UnitFileState=$(${isEnabled} 2>/dev/null)"; break 2; fi
  done; done;;
esac`;
}

/** `getty@tty2.service` → `getty@.service`; undefined for a unit that is not an instance. */
export function templateOf(unit: string): string | undefined {
  const m = /^([^@]+@)[^@]+(\.[a-z]+)$/.exec(unit);
  return m ? `${m[1]}${m[2]}` : undefined;
}

export function parseUnitState(scope: SystemdScope, unit: string, result: ExecResult): UnitState {
  if (result.code !== 0) throw unreachableManager(scope, unit, result);
  const fields = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const eq = line.indexOf('=');
    // A later line wins: the on-disk UnitFileState replaces the manager's empty one.
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const loadState = fields.get('LoadState');
  if (loadState === undefined) throw new Error(`unexpected output of systemctl show ${unit}: ${JSON.stringify(result.stdout.slice(0, 200))}`);
  const onDisk = fields.get('OnDisk');
  return {
    loadState,
    activeState: fields.get('ActiveState') ?? '',
    subState: fields.get('SubState') ?? '',
    unitFileState: fields.get('UnitFileState') ?? '',
    needDaemonReload: fields.get('NeedDaemonReload') === 'yes',
    fragmentPath: fields.get('FragmentPath') ?? '',
    ...(onDisk ? { onDisk } : {}),
  };
}

function unreachableManager(scope: SystemdScope, unit: string, result: ExecResult): Error {
  const reason = result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`;
  if (scope.kind === 'user' && /bus|connect|No such file/i.test(reason)) {
    return new Error(
      `cannot reach the systemd user manager of ${scope.user} to read ${unit}: ${reason}. It runs only while the user is logged in unless lingering is on: run 'loginctl enable-linger ${scope.user}' (or a command task doing so) before this task`,
    );
  }
  return probeFailure(`cannot read the state of ${unit}`, reason);
}

/** A unit whose file is about to be installed: what the manager will say once it has reloaded. */
export const NEW_UNIT: UnitState = { loadState: 'loaded', activeState: 'inactive', subState: 'dead', unitFileState: 'disabled', needDaemonReload: true, fragmentPath: '' };

/** The unit counts as running: asking to start it would do nothing. */
export function isRunning(state: Pick<UnitState, 'activeState'>): boolean {
  return ['active', 'activating', 'reloading', 'refreshing'].includes(state.activeState);
}

// ── timer ────────────────────────────────────────────────────────────────

/** A timer task's two probes: its unit files, and the timer unit's state. */
export interface ObservedTimer {
  readonly files: ObservedUnitFiles;
  readonly timer: UnitState;
}
