/**
 * What `unit`, `dropIn` and `timer` share: files in a unit directory,
 * observed in one probe, planned as content diffs, validated with
 * `systemd-analyze verify` before anything is installed, and followed by one
 * deferred daemon-reload per host.
 */
import { dirname } from 'node:path/posix';
import type { ExecResult } from '../../lib/connection/types.ts';
import { textDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { ApplyContext, Backend, Change, ChangePreview, PlanContext } from '../../lib/module/types.ts';
import { asControllerOf } from '../../lib/shell/path-guard.ts';
import { join, sh, type ShellScript } from '../../lib/shell/quote.ts';
import { privateTempDir } from '../../lib/shell/temp-dir.ts';
import { asUser, daemonReload, UnitResource, unitKey, type SystemdScope } from './scope.ts';

export const SYSTEM_UNIT_DIR = '/etc/systemd/system';
/** Relative to the user's home directory. */
export const USER_UNIT_DIR = '.config/systemd/user';

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

export interface ObservedUnitFiles {
  /** The unit directory on the host (a user's directory depends on their home). */
  readonly dir: string;
  /** Content by file; null when absent. */
  readonly files: Readonly<Record<string, string | null>>;
}

export type UnitFileAction = { readonly do: 'install'; readonly file: string; readonly path: string; readonly content: string } | { readonly do: 'remove'; readonly file: string; readonly path: string };

// ── observe ──────────────────────────────────────────────────────────────

/** The unit directory for the scope, as a shell expression (a user's home is looked up on the host). */
function dirExpression(scope: SystemdScope): ShellScript {
  return scope.kind === 'system' ? sh`${SYSTEM_UNIT_DIR}` : sh`"$(getent passwd ${scope.user} | cut -d: -f6)"/${USER_UNIT_DIR}`;
}

/** One probe: the directory, then per file `present` + base64 content, or `absent`. */
/**
 * The backend of a task that writes unit files (`unit`, `dropIn`): the same
 * observe → plan → verify → apply steps; only what it leaves behind differs.
 */
export function unitFilesBackend<P extends UnitFilesParams>(effects: (p: P) => Effect[]): Backend<P, ObservedUnitFiles, UnitFileAction> {
  return {
    probes: (p) => ({ files: { script: unitFilesProbe(p) } }),
    parse: (p, outputs) => parseUnitFiles(p, outputs['files']!),
    plan: planUnitFiles,
    apply: applyUnitFiles,
    preview: previewUnitFiles,
    effects,
  };
}

export function unitFilesProbe(p: UnitFilesParams): ShellScript {
  const userCheck = p.scope.kind === 'user' ? sh`getent passwd ${p.scope.user} >/dev/null || { echo 'no such user:' ${p.scope.user} >&2; exit 3; }\n` : sh``;
  const perFile = p.files.map(
    (f) => sh`if [ -f "$dir"/${f.file} ]; then echo present; base64 -w0 <"$dir"/${f.file} || exit 1; echo; else echo absent; echo; fi`,
  );
  const reads = join(perFile);
  // A user's files are read as the user: a link they planted shows only what they could read themselves.
  const read = p.scope.kind === 'system' ? reads : sh`${asUser(p.scope.user)} sh -c ${sh`dir=$1
${reads}`.text} sh "$dir"`;
  return sh`${userCheck}dir=${dirExpression(p.scope)}
echo "$dir"
${read}`;
}

export function parseUnitFiles(p: UnitFilesParams, result: ExecResult): ObservedUnitFiles {
  if (result.code !== 0) {
    const reason = result.stderr.trim() || `exit code ${result.code}`;
    throw new Error(`cannot read unit files ${p.files.map((f) => f.file).join(', ')}: ${reason}${/denied/i.test(reason) ? ' (set become: true)' : ''}`);
  }
  const [dir = '', ...lines] = result.stdout.split('\n');
  const files: Record<string, string | null> = {};
  p.files.forEach((f, i) => {
    const state = lines[i * 2];
    if (state !== 'present' && state !== 'absent') throw new Error(`unexpected probe output for ${f.file}: ${JSON.stringify(result.stdout.slice(0, 200))}`);
    files[f.file] = state === 'present' ? Buffer.from(lines[i * 2 + 1] ?? '', 'base64').toString('utf8') : null;
  });
  return { dir, files };
}

// ── plan ─────────────────────────────────────────────────────────────────

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

// ── apply ────────────────────────────────────────────────────────────────

/** Verify the new files, install them, and ask for the one daemon-reload that follows. */
export async function applyUnitFiles(p: UnitFilesParams, changes: readonly Change<UnitFileAction>[], context: ApplyContext): Promise<void> {
  const installs = changes.flatMap(({ action }) => (action.do === 'install' ? [action] : []));
  if (installs.length > 0) await verify(p, installs, context);
  if (p.scope.kind === 'user') await context.run(userDirScript(p.scope.user, installs));
  for (const action of changes.map((c) => c.action)) {
    if (action.do === 'install') {
      if (p.scope.kind === 'system' && action.file.includes('/')) await context.run(sh`mkdir -p -- "$(dirname -- ${action.path})"`);
      // Into a user's directory the write is made as that user (the connection's path guard).
      await context.writeFile(action.path, action.content, { mode: 0o644, ...(p.scope.kind === 'user' ? { owner: p.scope.user } : {}) });
    } else {
      // A drop-in directory left empty is removed with its last file.
      const emptyDir = action.file.includes('/') ? sh` && rmdir --ignore-fail-on-non-empty -- "$(dirname -- "$1")"` : sh``;
      await context.run(asControllerOf(dirname(action.path), sh`rm -f -- "$1"${emptyDir}`, [action.path]));
    }
  }
  const reload = daemonReload(p.scope);
  context.defer(reload.id, reload.script);
}

/** The user's unit directory (and drop-in directories), created as the user so the user's manager can read them. */
function userDirScript(user: string, installs: readonly Extract<UnitFileAction, { do: 'install' }>[]): ShellScript {
  const dirs = installs.filter((a) => a.file.includes('/')).map((a) => `${USER_UNIT_DIR}/${a.file.slice(0, a.file.lastIndexOf('/'))}`);
  return sh`cd "$(getent passwd ${user} | cut -d: -f6)" && ${asUser(user)} mkdir -p -- ${[USER_UNIT_DIR, ...new Set(dirs)]}`;
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
 * same file names (the name decides the unit type): the installed unit is
 * left untouched when it refuses them.
 */
export async function verify(p: UnitFilesParams, installs: readonly Extract<UnitFileAction, { do: 'install' }>[], context: ApplyContext): Promise<void> {
  const result = await context.run(verifyScript(p, installs), { okCodes: [0, REFUSED] });
  if (result.code === REFUSED) {
    const names = installs.map((a) => a.file).join(', ');
    throw new Error(
      `systemd-analyze verify refused ${names}; nothing was installed (the unit on the host is unchanged). Fix the unit and run again:\n${result.stdout.trim()}`,
    );
  }
}

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

// ── effects ──────────────────────────────────────────────────────────────

/** In check mode, later tasks see the files as installed and their units as present. */
export function unitFileEffects(p: UnitFilesParams, units: readonly string[]): Effect[] {
  const present = p.files.some((f) => f.content !== null);
  const paths = p.scope.kind === 'system' ? p.files.map((f) => effect(PathResource, `${SYSTEM_UNIT_DIR}/${f.file}`, f.content === null ? { type: 'absent' as const } : { type: 'file' as const, content: Buffer.from(f.content), mode: '0644' })) : [];
  return [...paths, ...units.map((u) => effect(UnitResource, unitKey(p.scope, u), { scope: p.scope, present }))];
}
