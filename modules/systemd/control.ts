import type { ApplyContext } from '../../lib/module/types.ts';
import { join, sh, type ShellScript } from '../../lib/shell/quote.ts';
import { daemonReload, systemctl, type SystemdScope } from './scope.ts';

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
 * NeedDaemonReload for a file changed by hand).
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
  await context.runDeferred(reload.id);
  if (verbs.length > 0) await context.run(controlScript(scope, unit, verbs));
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

