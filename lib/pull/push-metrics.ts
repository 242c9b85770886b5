import { posix } from 'node:path';
import type { Connection } from '../connection/types.ts';
import type { HostResult, RunMode } from '../run/results.ts';
import { renderTextfile, textfileName, type RunMetrics } from './metrics.ts';

/**
 * A push run's metrics for one host: a check counts what would change as
 * drift; an apply counts what it changed, and leaves no drift behind when
 * it succeeded.
 */
export function pushMetrics(result: HostResult, mode: RunMode, finishedAt: number, commit: string | undefined): RunMetrics {
  const changed = result.tasks.filter((t) => t.status === 'changed').length;
  return {
    mode: 'push',
    finishedAt,
    success: result.status !== 'failed' && result.status !== 'unreachable',
    driftTasks: mode === 'check' ? changed : 0,
    changedTasks: mode === 'apply' ? changed : 0,
    failedTasks: result.tasks.filter((t) => t.status === 'failed').length,
    ...(commit !== undefined ? { commit } : {}),
  };
}

/** Write the push textfile on the host, atomically (Connection.writeFile), as root when the run can become root. */
export async function writePushTextfile(connection: Connection, canBecome: boolean, textfile: { readonly dir: string; readonly commit?: string }, mode: RunMode, result: HostResult): Promise<void> {
  const metrics = pushMetrics(result, mode, Math.round(Date.now() / 1000), textfile.commit);
  const path = posix.join(textfile.dir, textfileName('push'));
  try {
    await connection.writeFile(path, renderTextfile(metrics), { mode: 0o644, become: canBecome });
  } catch (error) {
    throw new Error(`${connection.hostName}: could not write the run's metrics to ${path}: ${error instanceof Error ? error.message : String(error)}\n  try: make the directory (node_exporter's textfile directory), or give --textfile-dir another one`, { cause: error });
  }
}
