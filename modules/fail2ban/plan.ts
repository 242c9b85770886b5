import { fieldDiff, textDiff } from '../../lib/diff.ts';
import { effect, PathResource, type Effect } from '../../lib/module/resources.ts';
import type { Change, PlanContext } from '../../lib/module/types.ts';
import { RELOAD_ID } from './apply.ts';
import { observedFromPlanned, type ObservedPath } from '../file/observe.ts';
import { staleReload } from '../shared/daemon.ts';
import type { ObservedDefinition, ObservedJail, ServiceState } from './observe.ts';
import type { WantedDefinition, WantedJail } from './params.ts';
import { MARKER } from './render.ts';
import { DefinitionResource, definitionKey } from './resources.ts';

/** Files are validated together and installed, then fail2ban reloads once; `reload` alone is for a jail whose file is right but whose state is not. */
export type Fail2banAction =
  | { readonly do: 'write'; readonly path: string; readonly content: string }
  | { readonly do: 'remove'; readonly path: string }
  | { readonly do: 'reload' };

/** Pure: the changes that make the jail's file what the task wants and fail2ban run it (or not). */
export function planJail(w: WantedJail, observed: ObservedJail, context: PlanContext): Change<Fail2banAction>[] {
  const planned = context.planned.get(PathResource, w.path);
  const before = textOf(w.path, planned ? observedFromPlanned(planned) : observed.file);

  if (!w.present) {
    if (before === undefined) return [];
    return usable([removal(`jail ${w.name}`, w.path, before)], observed.service, context.checkMode);
  }
  if (before !== w.content) {
    return usable([
      {
        summary: `${before === undefined ? 'create' : 'update'} jail ${w.name} (${w.path}) and reload fail2ban`,
        diff: textDiff(w.path, before ?? '', w.content),
        action: { do: 'write', path: w.path, content: w.content },
      },
    ], observed.service, context.checkMode);
  }
  // The file is right; an earlier task's change reloads fail2ban anyway, so only the host's own state is judged here.
  if (planned) return [];
  const state = planJailState(w, observed.service, context.checkMode);
  return state.length > 0 ? state : staleReload('fail2ban', observed.daemon, RELOAD_ID, context, { do: 'reload' });
}


function planJailState(w: WantedJail, service: ServiceState, checkMode: boolean): Change<Fail2banAction>[] {
  assertUsable(service, checkMode);
  const running = service.state === 'running' && service.jails.includes(w.name);
  if (running === w.enabled) return [];
  const diff = fieldDiff([{ name: `jail ${w.name}`, before: running ? 'running' : 'not running', after: w.enabled ? 'running' : 'not running' }]);
  if (service.state !== 'running') {
    return [{ summary: `start fail2ban: jail ${w.name} is configured but fail2ban is stopped`, diff, action: { do: 'reload' } }];
  }
  const why = w.enabled ? 'is configured but not running' : 'is disabled but still running';
  return [{ summary: `reload fail2ban: jail ${w.name} ${why}`, diff, action: { do: 'reload' } }];
}

/**
 * Pure: a new filter or action goes to `<name>.conf`; one that overrides a
 * stock definition goes to `<name>.local`, leaving the packaged file alone.
 */
export function planDefinition(w: WantedDefinition, observed: ObservedDefinition, context: PlanContext): Change<Fail2banAction>[] {
  const label = `${w.kind} ${w.name}`;
  const planned = context.planned.get(DefinitionResource, definitionKey(w));
  const conf = textOf(w.paths.conf, observed.conf);
  const local = textOf(w.paths.local, observed.local);
  const stock = observed.conf.type === 'file' && (conf === undefined || !conf.startsWith(MARKER));
  const path = stock ? w.paths.local : w.paths.conf;
  const before = planned ? (planned.present ? planned.content : undefined) : stock ? local : conf;

  if (!w.present) {
    if (planned) return planned.present ? [removal(label, path, planned.content)] : [];
    // Only files hostform wrote are removed: a packaged filter stays.
    const ours = [
      { path: w.paths.conf, text: conf },
      { path: w.paths.local, text: local },
    ].filter((f): f is { path: string; text: string } => f.text?.startsWith(MARKER) === true);
    return usable(ours.map((f) => removal(label, f.path, f.text)), observed.service, context.checkMode);
  }
  if (before === w.content) return planned ? [] : staleReload('fail2ban', observed.daemon, RELOAD_ID, context, { do: 'reload' });
  const override = stock ? `, overriding the packaged ${w.paths.conf}` : '';
  return usable([
    {
      summary: `${before === undefined ? 'create' : 'update'} ${label} (${path}${override}) and reload fail2ban`,
      diff: textDiff(path, before ?? '', w.content),
      action: { do: 'write', path, content: w.content },
    },
  ], observed.service, context.checkMode);
}

function removal(label: string, path: string, text: string): Change<Fail2banAction> {
  return { summary: `remove ${label} (${path}) and reload fail2ban`, diff: textDiff(path, text, ''), action: { do: 'remove', path } };
}

/** Changes need a usable fail2ban: the files are validated and the server reloaded. */
function usable(changes: Change<Fail2banAction>[], service: ServiceState, checkMode: boolean): Change<Fail2banAction>[] {
  if (changes.length > 0) assertUsable(service, checkMode);
  return changes;
}

/** Before a run installs fail2ban, check mode plans as if it were there; a real run needs it. */
function assertUsable(service: ServiceState, checkMode: boolean): void {
  if (service.state === 'missing' && !checkMode) {
    throw new Error('fail2ban is not installed on this host: install the fail2ban package first (on RHEL 9 it comes from EPEL)');
  }
  if (service.state === 'unresponsive') {
    throw new Error(`fail2ban.service is active but fail2ban-client gets no answer (${service.detail || 'no output'}); see journalctl -u fail2ban and /var/log/fail2ban.log`);
  }
}

/** The text at a path, undefined when nothing is there; anything but a small text file is an error the user must resolve. */
function textOf(path: string, observed: ObservedPath): string | undefined {
  if (observed.type === 'absent') return undefined;
  if (observed.type !== 'file') throw new Error(`${path} is a ${observed.type === 'other' ? observed.description : observed.type}, not a file; remove it so hostform can write the fail2ban configuration there`);
  if (!observed.content) throw new Error(`${path} is larger than hostform compares (64 KiB); a fail2ban file that large is not one hostform wrote: move it away`);
  return observed.content.toString('utf8');
}

/** The jail file as the task leaves it, for the tasks after it in check mode. */
export function jailEffects(w: WantedJail): Effect[] {
  return [effect(PathResource, w.path, w.present ? { type: 'file', content: Buffer.from(w.content) } : { type: 'absent' })];
}

/** The filter or action as the task leaves it (its file is only known on the host). */
export function definitionEffects(w: WantedDefinition): Effect[] {
  return [effect(DefinitionResource, definitionKey(w), { present: w.present, content: w.content })];
}
