import type { ExecResult } from '../../lib/connection/types.ts';
import { sh, type ShellScript } from '../../lib/shell/quote.ts';
import { systemctl, type SystemdScope } from './scope.ts';

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
      : sh`"$(getent passwd ${scope.user} | cut -d: -f6)/.config/systemd/user" ${USER_UNIT_DIRS}`;
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
  if (result.code !== 0) throw new Error(unreachableManager(scope, unit, result));
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

function unreachableManager(scope: SystemdScope, unit: string, result: ExecResult): string {
  const reason = result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`;
  if (scope.kind === 'user' && /bus|connect|No such file/i.test(reason)) {
    return `cannot reach the systemd user manager of ${scope.user} to read ${unit}: ${reason}. It runs only while the user is logged in unless lingering is on: run 'loginctl enable-linger ${scope.user}' (or a command task doing so) before this task`;
  }
  return `cannot read the state of ${unit}: ${reason}${/denied|access/i.test(reason) ? ' (set become: true)' : ''}`;
}

/** A unit whose file is about to be installed: what the manager will say once it has reloaded. */
export const NEW_UNIT: UnitState = { loadState: 'loaded', activeState: 'inactive', subState: 'dead', unitFileState: 'disabled', needDaemonReload: true, fragmentPath: '' };

/** The unit counts as running: asking to start it would do nothing. */
export function isRunning(state: Pick<UnitState, 'activeState'>): boolean {
  return ['active', 'activating', 'reloading', 'refreshing'].includes(state.activeState);
}
