import { RemoteCommandError } from '../../lib/errors.ts';
import type { ApplyContext, Change } from '../../lib/module/types.ts';
import { quote, sh } from '../../lib/shell/quote.ts';
import { repoOptions } from './observe.ts';
import type { WantedPackages } from './params.ts';
import type { PackageAction } from './plan.ts';

export async function applyPackages(w: WantedPackages, changes: readonly Change<PackageAction>[], context: ApplyContext): Promise<void> {
  await runTransaction(w, changes.map((c) => c.action), context);
}

/** Several tasks with the same repository options: every change of every task in one dnf transaction. */
export async function applyPackagesBatch(
  items: readonly { params: WantedPackages; changes: readonly Change<PackageAction>[] }[],
  context: ApplyContext,
): Promise<void> {
  const first = items[0];
  if (!first) return;
  await runTransaction(first.params, items.flatMap((item) => item.changes.map((c) => c.action)), context);
}

/**
 * The `dnf shell` script for a transaction: one line per kind of action, then
 * `run`. dnf resolves installs, pin changes, upgrades and removals together,
 * so the host goes from one consistent state to the next in one step.
 * When tasks disagree about a spec, the later task wins, as it would if they ran one by one.
 */
export function transactionScript(actions: readonly PackageAction[]): string {
  const bySpec = new Map<string, PackageAction['do']>();
  for (const a of actions) {
    bySpec.delete(a.spec);
    bySpec.set(a.spec, a.do);
  }
  const lines: string[] = [];
  for (const kind of ['install', 'upgrade', 'remove'] as const) {
    const specs = [...bySpec].filter(([, how]) => how === kind).map(([spec]) => quote(spec));
    if (specs.length > 0) lines.push(`${kind} ${specs.join(' ')}`);
  }
  return `${[...lines, 'run'].join('\n')}\n`;
}

async function runTransaction(w: WantedPackages, actions: readonly PackageAction[], context: ApplyContext): Promise<void> {
  const script = sh`LC_ALL=C dnf -y ${repoOptions(w)} shell`;
  const stdin = transactionScript(actions);
  const result = await context.run(script, { stdin });
  // dnf shell exits 0 even when a package is not found or the transaction cannot be resolved; its messages tell.
  const problems = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.replace(/^(> )+/, ''))
    .filter((line, i, all) => /^(No match for argument|Error:|\s*Problem|\s*- )/.test(line) && all.indexOf(line) === i);
  if (problems.some((line) => /^(No match for argument|Error:)/.test(line))) {
    throw new RemoteCommandError({
      host: context.host.name,
      task: context.taskName,
      command: `${script.text} <<< '${stdin.trim().split('\n').join('; ')}'`,
      code: result.code,
      stderr: problems.join('\n'),
      hint: 'dnf may have applied part of the transaction; check the names and versions (dnf list --showduplicates NAME) and the repositories, then run again',
    });
  }
}
