import { Listr, type ListrTaskWrapper } from 'listr2';
import type { HostResult, RunMode, RunObserver } from '../run/results.ts';
import { taskLine } from './summary.ts';
import { printableLine } from './terminal.ts';

type Handle = ListrTaskWrapper<unknown, any, any>;

/**
 * Live progress on a terminal with listr2: one line per host showing the
 * task it is on. The runner drives the hosts; listr2 only displays them, so
 * each listr task waits for its host to finish.
 */
export function progressReporter(mode: RunMode): RunObserver & { finish(): Promise<void> } {
  const finished = new Map<string, (result: HostResult | undefined) => void>();
  const handles = new Map<string, Handle>();
  let running: Promise<unknown> = Promise.resolve();

  return {
    hostsSelected(hosts) {
      const waits = new Map(hosts.map((h) => [h, new Promise<HostResult | undefined>((resolve) => finished.set(h, resolve))]));
      const list = new Listr(
        hosts.map((name) => ({
          title: printableLine(name),
          task: async (_ctx: unknown, task: Handle) => {
            handles.set(name, task);
            const result = await waits.get(name);
            if (!result) return;
            task.title = hostTitle(name, result, mode);
            if (result.status === 'failed' || result.status === 'unreachable') throw new Error(task.title);
          },
        })),
        { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false, showErrorMessage: false } },
      );
      running = list.run().catch(() => undefined);
    },
    taskStart(host, task) {
      const handle = handles.get(host);
      if (handle) handle.output = printableLine(task);
    },
    taskEnd(host, task) {
      const handle = handles.get(host);
      if (handle && task.status !== 'ok') handle.output = taskLine(host, task, mode);
    },
    hostEnd(host, result) {
      finished.get(host)?.(result);
    },
    async finish() {
      for (const resolve of finished.values()) resolve(undefined);
      await running;
    },
  };
}

/** A host's line once it is done: `nas: 2 changed`. */
export function hostTitle(name: string, result: HostResult, mode: RunMode): string {
  return printableLine(`${name}: ${describe(result, mode)}`);
}

function describe(result: HostResult, mode: RunMode): string {
  if (result.status === 'unreachable') return 'unreachable';
  if (result.status === 'skipped') return 'not run (the rollout stopped before its batch)';
  const changed = result.tasks.filter((t) => t.status === 'changed').length;
  const failed = result.tasks.filter((t) => t.status === 'failed').length;
  if (failed > 0) return `failed (${failed} task${failed > 1 ? 's' : ''})`;
  // Failed before or outside any task: locked by another run, or an engine error.
  if (result.status === 'failed') return `failed: ${result.error?.shortMessage ?? 'see below'}`;
  if (changed > 0) return `${changed} ${mode === 'check' ? 'would change' : 'changed'}`;
  return 'in sync';
}
