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
      // A host error is not any task's (unreachable, or locked by another run): said once here.
      if (result.error && (result.status === 'unreachable' || result.status === 'failed')) write(printableLine(`[${host}] ${result.status}: ${result.error.shortMessage}`));
      if (result.status === 'skipped' && result.note) write(printableLine(`[${host}] ${result.note}`));
    },
  };
}
