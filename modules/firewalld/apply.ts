import type { ExecResult } from '../../lib/connection/types.ts';
import { RemoteCommandError } from '../../lib/errors.ts';
import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { argv, trusted, type ShellScript } from '../../lib/shell/quote.ts';
import type { Category, Wanted } from './params.ts';
import type { FirewalldAction, Side } from './plan.ts';

/** Asked for by every task whose runtime change needs it; the engine runs it once, at the end of the play or before a default-zone switch. */
export const RELOAD = { id: 'firewall-cmd --reload', script: trusted('firewall-cmd --reload') } as const;

/** `--add-port=`, `--remove-port=`, …; interfaces and sources are added with change-, which also moves them from another zone. */
const OPTION: Readonly<Record<Category, readonly [add: string, remove: string]>> = {
  service: ['--add-service', '--remove-service'],
  port: ['--add-port', '--remove-port'],
  'rich-rule': ['--add-rich-rule', '--remove-rich-rule'],
  masquerade: ['--add-masquerade', '--remove-masquerade'],
  'forward-port': ['--add-forward-port', '--remove-forward-port'],
  interface: ['--change-interface', '--remove-interface'],
  source: ['--change-source', '--remove-source'],
};

/** Warnings firewall-cmd prints for what was already so; any other warning means a value was not applied. */
const HARMLESS = ['ALREADY_ENABLED', 'NOT_ENABLED', 'ZONE_ALREADY_SET'];

/**
 * Carry out the planned changes: zone creation and target first, then the
 * items, one firewall-cmd call per side, category and direction (firewall-cmd
 * takes several values of one option in a call, but no mix of options).
 */
export async function applyFirewalld(changes: readonly Change<FirewalldAction>[], context: ApplyContext): Promise<void> {
  const actions = changes.map((c) => c.action);
  const first = actions[0];
  if (!first) return;
  const { zone, offline } = first;
  const tool = (side: Side): string[] => (offline ? ['firewall-offline-cmd'] : side === 'permanent' ? ['firewall-cmd', '--permanent'] : ['firewall-cmd']);
  const run = (words: string[]) => runChecked(argv(words), context);
  // Asked for before the first change, so the host's journal owes it from the moment there is one.
  if (actions.some((a) => a.reload)) context.defer(RELOAD.id, RELOAD.script);

  for (const a of actions) {
    if (a.do === 'create-zone') await run([...tool('permanent'), `--new-zone=${zone}`]);
    if (a.do === 'delete-zone') await run([...tool('permanent'), `--delete-zone=${zone}`]);
    if (a.do === 'target') await run([...tool('permanent'), `--zone=${zone}`, `--set-target=${a.target === '%%REJECT%%' ? 'REJECT' : a.target}`]);
  }
  // The two sides are independent: their calls go to the host together (one round trip when the engine batches them), both run to their end.
  const sides = await Promise.allSettled(
    (['permanent', 'runtime'] as const).map(async (side) => {
      const groups = new Map<string, string[]>();
      for (const a of actions) {
        if (a.do !== 'item' || !a.sides.includes(side)) continue;
        const option = OPTION[a.category][a.add ? 0 : 1];
        const words = groups.get(option) ?? [];
        words.push(a.category === 'masquerade' ? option : `${option}=${a.argument}`);
        groups.set(option, words);
      }
      // Removals first, so an interface or source is free before it is bound elsewhere.
      const ordered = [...groups.entries()].sort(([a], [b]) => Number(b.startsWith('--remove')) - Number(a.startsWith('--remove')));
      for (const [, words] of ordered) await run([...tool(side), `--zone=${zone}`, ...new Set(words)]);
    }),
  );
  for (const side of sides) if (side.status === 'rejected') throw side.reason;
  if (actions.some((a) => a.do === 'default-zone')) {
    // --set-default-zone needs the zone at runtime: a zone created just now gets there by the reload.
    if (!offline) await context.runDeferred(RELOAD.id);
    await run([offline ? 'firewall-offline-cmd' : 'firewall-cmd', `--set-default-zone=${zone}`]);
  }
}

/** Run, and fail on warnings that mean something was not applied (firewall-cmd still exits 0 for them when given several values). */
async function runChecked(script: ShellScript, context: ApplyContext): Promise<ExecResult> {
  const result = await context.run(script);
  const problems = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .filter((line) => /^(Warning|Error): /.test(line) && !HARMLESS.some((code) => line.includes(`: ${code}`)));
  if (problems.length > 0) {
    throw new RemoteCommandError({
      host: context.host.name,
      task: context.taskName,
      command: script.text,
      code: result.code,
      stderr: problems.join('\n'),
      hint: 'firewalld did not apply every value: correct the value it names, or look at `journalctl -u firewalld` on the host',
    });
  }
  return result;
}

/**
 * Several tasks in one go: their changes merged per zone, so the same
 * firewall-cmd call carries the ports of one task and the services of the
 * next. Tasks in a batch are planned against the same observation, so two
 * that want opposite things for one value would each look satisfied: refuse.
 */
export async function applyFirewalldBatch(items: readonly { params: Wanted; changes: readonly Change<FirewalldAction>[] }[], context: ApplyContext): Promise<void> {
  const wanted = new Map<string, boolean>();
  for (const { params } of items) {
    for (const i of params.items) {
      const key = `${params.zone ?? '(default zone)'} ${i.category} ${i.value}`;
      if (wanted.get(key) === !params.present) throw new Error(`two firewalld tasks in a row contradict each other on ${key}: one wants it present, the other absent; remove one`);
      wanted.set(key, params.present);
    }
  }
  const byZone = new Map<string, Change<FirewalldAction>[]>();
  for (const change of items.flatMap((i) => i.changes)) byZone.set(change.action.zone, [...(byZone.get(change.action.zone) ?? []), change]);
  for (const changes of byZone.values()) await applyFirewalld(changes, context);
}
