import type { RunMode, RunObserver } from '../run/results.ts';
import { taskLine } from './summary.ts';
import { printableLine } from './terminal.ts';

/** One line per finished task, for logs and pipes. Ok tasks only with --verbose. */
export function plainReporter(write: (line: string) => void, mode: RunMode, verbose: boolean): RunObserver {
  return {
    taskEnd(host, task) {
      if (task.status === 'ok' && !verbose) return;
      write(taskLine(host, task, mode));
      if (verbose) for (const c of task.changes) write(`    ${printableLine(c.summary)}`);
    },
    hostEnd(host, result) {
      if (result.status === 'unreachable') write(printableLine(`[${host}] unreachable: ${result.error?.split('\n')[0] ?? ''}`));
    },
  };
}
