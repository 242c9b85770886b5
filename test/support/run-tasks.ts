import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadInventory } from '../../lib/inventory/load.ts';
import type { HostEntry } from '../../lib/inventory/types.ts';
import type { Task } from '../../lib/module/types.ts';
import { playbook, type Step } from '../../lib/playbook.ts';
import type { RunMode, RunReport, TaskResult } from '../../lib/run/results.ts';
import { runPlaybooks } from '../../lib/run/run.ts';

/**
 * Run tasks on one host the way `play` would (inventory → connect → facts →
 * probe → plan → apply), without writing a playbook file. For module tests:
 *
 *   const report = await runTasks(h.inventoryEntry(), [packages({ present: ['x'] })], 'apply');
 *   t.same(statuses(report), ['changed']);
 */
export async function runTasks(
  host: HostEntry,
  tasks: readonly Step[],
  mode: RunMode,
  options: { handlers?: readonly Task[]; become?: boolean; name?: string } = {},
): Promise<RunReport> {
  const dir = await mkdtemp(join(tmpdir(), 'hostform-run-'));
  try {
    const file = join(dir, 'inventory.yml');
    await writeFile(file, stringify({ hosts: { [options.name ?? 'testhost']: host } }));
    const inventory = await loadInventory([file]);
    const book = playbook({
      name: 'test',
      hosts: 'all',
      tasks,
      ...(options.handlers ? { handlers: options.handlers } : {}),
      ...(options.become !== undefined ? { become: options.become } : {}),
    });
    return await runPlaybooks([book], inventory, { mode, forks: 1 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The tasks of the (only) host of a report. */
export function tasksOf(report: RunReport): readonly TaskResult[] {
  return report.hosts[0]?.tasks ?? [];
}

/** Statuses of the tasks of the (only) host, e.g. ['changed', 'ok']. */
export function statuses(report: RunReport): string[] {
  return tasksOf(report).map((t) => t.status);
}

/** Errors of failed tasks (and the host), to show in an assertion message. */
export function errors(report: RunReport): string {
  const host = report.hosts[0];
  return [host?.error, ...(host?.tasks ?? []).map((t) => t.error)].flatMap((e) => (e ? [e.message] : [])).join('\n');
}
