/**
 * Run metrics as a node_exporter textfile (issue 16): after every pull or
 * push run, each host gets a small `.prom` file that node_exporter's
 * textfile collector serves, so drift and failing runs show in Prometheus
 * and alert there (see alert-rules.ts and docs/fleet.md).
 *
 * Pull and push write separate files with a `mode` label, so a push never
 * overwrites what the timer's pull knows (its last success, its interval),
 * and an alert can tell the two apart.
 */
import { randomBytes } from 'node:crypto';
import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport } from '../run/results.ts';

export type RunKind = 'pull' | 'push';

/** What one run on one host leaves for Prometheus. */
export interface RunMetrics {
  readonly mode: RunKind;
  /** When the run ended, in seconds since the epoch. */
  readonly finishedAt: number;
  readonly success: boolean;
  /**
   * Pull only: when a pull last succeeded (0: never), carried over from run
   * to run in the pull's state, so a failing run does not hide how long ago
   * things last worked.
   */
  readonly lastSuccessAt?: number;
  /** Tasks found out of their wanted state on a commit already applied (check mode: would change). */
  readonly driftTasks: number;
  /** Tasks this run changed. */
  readonly changedTasks: number;
  readonly failedTasks: number;
  /** The repository commit the run used, when known. */
  readonly commit?: string;
  /** Pull only: the longest planned time between two pulls (timer interval plus its random delay). */
  readonly intervalSeconds?: number;
}

/** The textfile's name in node_exporter's directory: one per kind of run. */
export function textfileName(mode: RunKind): string {
  return `hostform_${mode}.prom`;
}

/** node_exporter's textfile directory as packaged on RHEL 9 (EPEL) and in most guides. */
export const DEFAULT_TEXTFILE_DIR = '/var/lib/node_exporter/textfile_collector';

/** A label value as the exposition format reads it back: `\`, `"` and line breaks escaped. */
function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The file's text, in Prometheus' text exposition format; the same metrics always in the same order. */
export function renderTextfile(m: RunMetrics): string {
  const labels = `mode="${m.mode}"`;
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number, extra = '') => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${labels}${extra}} ${value}`);
  };
  gauge('hostform_last_run_timestamp_seconds', 'When the last hostform run on this host ended.', m.finishedAt);
  gauge('hostform_last_run_success', 'Whether the last hostform run on this host succeeded (1) or not (0).', m.success ? 1 : 0);
  if (m.lastSuccessAt !== undefined) gauge('hostform_last_success_timestamp_seconds', 'When a hostform run on this host last succeeded (0: never).', m.lastSuccessAt);
  gauge('hostform_drift_tasks', 'Tasks found out of their wanted state on a commit already applied.', m.driftTasks);
  gauge('hostform_changed_tasks', 'Tasks the last run changed.', m.changedTasks);
  gauge('hostform_failed_tasks', 'Tasks that failed in the last run.', m.failedTasks);
  if (m.commit !== undefined) gauge('hostform_commit_info', 'The repository commit the last run used.', 1, `,commit="${labelValue(m.commit)}"`);
  if (m.intervalSeconds !== undefined) gauge('hostform_pull_interval_seconds', 'The longest planned time between two pulls on this host.', m.intervalSeconds);
  return `${lines.join('\n')}\n`;
}

/** Counts of one host's tasks in a report: what changed (would change in check mode) and what failed. */
export function taskCounts(report: RunReport, host: string): { changed: number; failed: number } {
  const tasks = report.hosts.find((h) => h.name === host)?.tasks ?? [];
  return { changed: tasks.filter((t) => t.status === 'changed').length, failed: tasks.filter((t) => t.status === 'failed').length };
}

/**
 * Write the textfile on this machine, atomically: a temporary file in the
 * same directory (named so that node_exporter, which reads `*.prom`, never
 * reads it), then a rename over the old one.
 */
export async function writeTextfileHere(dir: string, metrics: RunMetrics): Promise<string> {
  const target = join(dir, textfileName(metrics.mode));
  const temporary = join(dir, `.${textfileName(metrics.mode)}.${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temporary, renderTextfile(metrics), { mode: 0o644, flag: 'wx' });
    await chmod(temporary, 0o644);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return target;
}
