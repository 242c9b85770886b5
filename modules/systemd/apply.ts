import { dirname } from 'node:path/posix';
import type { ApplyContext, Change, ChangePreview } from '../../lib/module/types.ts';
import { RemoteCommandError } from '../../lib/errors.ts';
import { asControllerOf } from '../../lib/shell/path-guard.ts';
import { inSequence, join, sh, type ShellScript } from '../../lib/shell/quote.ts';
import { privateTempDir } from '../../lib/shell/temp-dir.ts';
import { asUser, homeOf } from '../shared/account.ts';
import { USER_UNIT_DIR } from './observe.ts';
import type { ResolvedService, ResolvedTimer, UnitFilesParams } from './params.ts';
import type { ServiceAction, TimerAction, UnitFileAction } from './plan.ts';
import { daemonReload, systemctl, type SystemdScope } from './scope.ts';

// ── systemctl ────────────────────────────────────────────────────────────

/** What `systemctl` can be asked to do to one unit. */
export type UnitVerb = 'unmask' | 'enable' | 'disable' | 'start' | 'stop' | 'restart' | 'reload' | 'reload-or-restart' | 'mask';

/** Verbs whose failure is explained by the unit's own log, shown with the error. */
const RUNS_THE_UNIT: readonly UnitVerb[] = ['start', 'restart', 'reload', 'reload-or-restart'];

/**
 * Start/stop/restart/enable/disable/mask a unit in a scope, in the order
 * given, in one round trip. Shared with the quadlet modules, so the
 * signature stays as it is.
 *
 * A unit file written earlier in the play is only seen by the manager after
 * the daemon-reload the writing task deferred; that reload runs first (once
 * per host, however many units were written). `reload: true` asks for it
 * even when no task of this run deferred it (the manager reported
 * NeedDaemonReload for a file changed by hand). The reload and the verbs go
 * to the host in one command.
 *
 *   await controlUnit(context, SYSTEM, 'app.service', ['enable', 'start']);
 */
export async function controlUnit(
  context: ApplyContext,
  scope: SystemdScope,
  unit: string,
  verbs: readonly UnitVerb[],
  options: { readonly reload?: boolean } = {},
): Promise<void> {
  if (verbs.length === 0 && !options.reload) return;
  const reload = daemonReload(scope);
  if (options.reload) context.defer(reload.id, reload.script);
  // The reload and the verbs in one round trip.
  if (verbs.length > 0) await context.runDeferred(reload.id, controlScript(scope, unit, verbs));
  else await context.runDeferred(reload.id);
}

/** The verbs as one script; a failed start shows the tail of the unit's journal, which says why. */
export function controlScript(scope: SystemdScope, unit: string, verbs: readonly UnitVerb[]): ShellScript {
  const journal =
    scope.kind === 'system'
      ? sh`journalctl --no-pager -n 15 -u ${unit}`
      : sh`journalctl --no-pager -n 15 --user-unit ${unit} _UID="$(id -u ${scope.user})"`;
  return join(
    verbs.map((verb) => {
      const call = systemctl(scope, [verb, '--', unit]);
      if (!RUNS_THE_UNIT.includes(verb)) return call;
      return sh`{ ${call} || { rc=$?; echo '--- last lines of the journal of' ${unit} >&2; ${journal} >&2; exit $rc; }; }`;
    }),
    '&&',
  );
}

/** The order in which one task's verbs run, whatever order its plan found them in. */
const VERB_ORDER: readonly UnitVerb[] = ['unmask', 'enable', 'disable', 'stop', 'start', 'restart', 'reload', 'reload-or-restart', 'mask'];

/** The planned verbs of one unit, in VERB_ORDER, in one round trip; the daemon-reload first when the manager asked for it. */
export async function controlUnitAsPlanned(context: ApplyContext, scope: SystemdScope, unit: string, actions: readonly ServiceAction[]): Promise<void> {
  const verbs = actions.map((a) => a.verb).sort((a, b) => VERB_ORDER.indexOf(a) - VERB_ORDER.indexOf(b));
  await controlUnit(context, scope, unit, verbs, { reload: actions.some((a) => a.reload) });
}

// ── unit files ───────────────────────────────────────────────────────────

/**
 * Verify the new files, install them, and ask for the one daemon-reload that
 * follows. \`systemd-analyze verify\` of every new file runs before anything
 * changes: with the directories the files need (a user's unit directory,
 * drop-in directories), in the command that makes them; else in the first
 * write's command. Refused, nothing is written and no reload is owed.
 */
export async function applyUnitFiles(p: UnitFilesParams, changes: readonly Change<UnitFileAction>[], context: ApplyContext): Promise<void> {
  const installs = changes.flatMap(({ action }) => (action.do === 'install' ? [action] : []));
  let validate: ShellScript | undefined = installs.length > 0 ? verifyScript(p, installs) : undefined;
  const dirs = p.scope.kind === 'user' ? (installs.length > 0 ? [userDirScript(p.scope.user, installs)] : []) : dropInDirs(installs);
  if (validate && dirs.length > 0) {
    const checked = await context.run(inSequence([validate, ...dirs]), { okCodes: [0, REFUSED] });
    if (checked.code === REFUSED) throw refused(installs, checked.stdout);
    validate = undefined;
  }
  // Asked for before the files change, so the host's journal owes it from the moment they do.
  const reload = daemonReload(p.scope);
  context.defer(reload.id, reload.script);
  for (const action of changes.map((c) => c.action)) {
    if (action.do === 'reload') continue;
    if (action.do === 'install') {
      // Into a user's directory the write is made as that user (the connection's path guard).
      const options = { mode: 0o644, ...(p.scope.kind === 'user' ? { owner: p.scope.user } : {}), ...(validate ? { validate } : {}) };
      validate = undefined;
      await context.writeFile(action.path, action.content, options).catch((error: unknown) => {
        throw error instanceof RemoteCommandError && error.details.code === REFUSED ? refused(installs, error.details.stderr) : error;
      });
    } else {
      // A drop-in directory left empty is removed with its last file.
      const emptyDir = action.file.includes('/') ? sh` && rmdir --ignore-fail-on-non-empty -- "$(dirname -- "$1")"` : sh``;
      await context.run(asControllerOf(dirname(action.path), sh`rm -f -- "$1"${emptyDir}`, [action.path]));
    }
  }
}

function refused(installs: readonly Extract<UnitFileAction, { do: 'install' }>[], output: string): Error {
  const names = installs.map((a) => a.file).join(', ');
  return new Error(`systemd-analyze verify refused ${names}; nothing was installed (the unit on the host is unchanged). Fix the unit and run again:\n${output.trim()}`);
}

/** The system drop-in directories the new files go into. */
function dropInDirs(installs: readonly Extract<UnitFileAction, { do: 'install' }>[]): ShellScript[] {
  const dirs = [...new Set(installs.filter((a) => a.file.includes('/')).map((a) => dirname(a.path)))];
  return dirs.length > 0 ? [sh`mkdir -p -- ${dirs}`] : [];
}

/** The user's unit directory (and drop-in directories), created as the user so the user's manager can read them. */
function userDirScript(user: string, installs: readonly Extract<UnitFileAction, { do: 'install' }>[]): ShellScript {
  const dirs = installs.filter((a) => a.file.includes('/')).map((a) => `${USER_UNIT_DIR}/${a.file.slice(0, a.file.lastIndexOf('/'))}`);
  return sh`cd ${homeOf(user)} && ${asUser(user)} mkdir -p -- ${[USER_UNIT_DIR, ...new Set(dirs)]}`;
}

/**
 * Check mode: the same `systemd-analyze verify` on a temporary copy, so a unit
 * systemd would refuse shows up before apply. Its verdict is reported, not
 * enforced: on the host as it is now, a command or unit that an earlier task
 * of this run would install is still missing.
 */
export async function previewUnitFiles(p: UnitFilesParams, _observed: unknown, changes: readonly Change<UnitFileAction>[], context: ApplyContext): Promise<ChangePreview | undefined> {
  const installs = changes.flatMap(({ action }) => (action.do === 'install' ? [action] : []));
  if (installs.length === 0) return undefined;
  const result = await context.run(verifyScript(p, installs), { okCodes: [0, REFUSED] });
  if (result.code !== REFUSED) return { summary: 'systemd-analyze verify accepts the new files', detail: '' };
  return {
    summary: 'systemd-analyze verify refuses the new files on the host as it is now (fine only if an earlier task of this run provides what they need)',
    detail: result.stdout.trim(),
  };
}

/** Exit code of the verify script when systemd-analyze refused the files (any other failure is the script's own). */
const REFUSED = 65;

/**
 * `systemd-analyze verify` on copies in a temporary directory, under the
 * same file names (the name decides the unit type): it runs before the first
 * write, in the same command, so the installed unit is left untouched when it
 * refuses them (exit REFUSED, what it said on stdout).
 */
export function verifyScript(p: UnitFilesParams, installs: readonly Extract<UnitFileAction, { do: 'install' }>[]): ShellScript {
  const copies = installs.map((a) => {
    const encoded = Buffer.from(a.content, 'utf8').toString('base64');
    return sh`mkdir -p -- "$(dirname -- "$d"/${a.file})" && printf '%s' ${encoded} | base64 -d >"$d"/${a.file} || exit 1`;
  });
  // SYSTEMD_UNIT_PATH puts the copies first, ahead of the installed files of the same name ("$d:" keeps the default path after them).
  const env = 'unit' in p.verify ? sh`SYSTEMD_UNIT_PATH="$d:"` : sh``;
  const analyze = sh`env ${env} systemd-analyze${p.scope.kind === 'user' ? sh` --user` : sh``}`;
  // Documentation= man pages are often not installed on servers; unrelated broken units are not this task's problem.
  const options = sh`--man=no --recursive-errors=no`;
  const files = installs.map((a) => sh`"$d"/${a.file}`).reduce((all, one) => sh`${all} ${one}`);
  const target = 'unit' in p.verify ? sh`${analyze} verify ${options} -- ${p.verify.unit}` : sh`${analyze} verify ${options} -- ${files}`;
  const script = sh`${privateTempDir('d')}
${join(copies)}
if ! out=$(${target} 2>&1); then printf '%s\\n' "$out" | sed "s|$d/||g"; exit ${REFUSED}; fi`;
  // A user's manager is asked as that user, with the copies in a directory of theirs.
  return p.scope.kind === 'system' ? script : sh`${asUser(p.scope.user)} sh -c ${script.text}`;
}

// ── service ──────────────────────────────────────────────────────────────

export async function applyService(r: ResolvedService, changes: readonly Change<ServiceAction>[], context: ApplyContext): Promise<void> {
  await controlUnitAsPlanned(context, r.scope, r.unit, changes.map((c) => c.action));
}

// ── timer ────────────────────────────────────────────────────────────────

/** The unit files first (verified, installed), then the timer's systemctl verbs. */
export async function applyTimer(r: ResolvedTimer, changes: readonly Change<TimerAction>[], context: ApplyContext): Promise<void> {
  const fileChanges = changes.flatMap((c) => ('files' in c.action ? [{ ...c, action: c.action.files }] : []));
  if (fileChanges.length > 0) await applyUnitFiles(r, fileChanges, context);
  await controlUnitAsPlanned(context, r.scope, r.timer, changes.flatMap((c) => ('control' in c.action ? [c.action.control] : [])));
}
