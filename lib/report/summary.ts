import { counts, type HostResult, type RunReport, type TaskResult } from '../run/results.ts';
import { printable, printableLine } from './terminal.ts';

/**
 * The end-of-run text: diffs (when asked), failures, and one line per host.
 * Every name, summary, diff line and error passes through printable(): only
 * the painter's own colours reach the terminal as control sequences, and
 * what comes from a host is either on a line of its own or indented.
 */
export function renderSummary(report: RunReport, options: { showDiff: boolean; color: boolean }): string {
  const paint = painter(options.color);
  const lines: string[] = [];
  const verb = report.mode === 'check' ? 'would change' : 'changed';
  for (const host of report.hosts) {
    for (const task of host.tasks) {
      if (task.status === 'changed' && options.showDiff) {
        lines.push(paint.yellow(`── ${printableLine(host.name)}: ${printableLine(task.name)} (${verb})`));
        for (const change of task.changes) {
          lines.push(`  ${printableLine(change.summary)}`);
          if (change.diff) lines.push(...change.diff.split('\n').filter((l) => l !== '').map((l) => `    ${colorDiffLine(printable(l), paint)}`));
        }
      }
      if (task.status === 'failed') lines.push(paint.red(`── ${printableLine(host.name)}: ${printableLine(task.name)} FAILED`), indent(task.error?.message ?? 'unknown error'));
    }
    if (host.status === 'unreachable') lines.push(paint.red(`── ${printableLine(host.name)}: UNREACHABLE`), indent(host.error?.message ?? ''));
    else if (host.error) lines.push(paint.red(`── ${printableLine(host.name)}: FAILED`), indent(host.error.message));
  }
  if (report.rollout?.stopped) lines.push(paint.red(`── ${printableLine(report.rollout.stopped.message)}`));
  if (lines.length > 0) lines.push('');
  lines.push(paint.bold(`${report.mode === 'check' ? 'CHECK' : 'RUN'} SUMMARY (${printableLine(report.playbooks.join(', '))})`));
  const width = Math.max(...report.hosts.map((h) => printableLine(h.name).length), 4);
  for (const host of report.hosts) lines.push(hostLine(host, width, report.mode, paint));
  lines.push(verdict(report, paint));
  return lines.join('\n');
}

export function taskLine(host: string, task: TaskResult, mode: RunReport['mode']): string {
  const status = task.status === 'changed' && mode === 'check' ? 'would change' : task.status;
  // A failure's short message names the task (and where it was written) itself.
  if (task.status === 'failed' && task.error) return printableLine(`[${host}] failed: ${task.error.shortMessage}`);
  const note = task.note ? ` (${task.note})` : '';
  return printableLine(`[${host}] ${status}: ${task.name}${note}`);
}

function hostLine(host: HostResult, width: number, mode: RunReport['mode'], paint: Painter): string {
  const name = printableLine(host.name).padEnd(width);
  if (host.status === 'unreachable') return `  ${paint.red(name)}  unreachable`;
  if (host.status === 'skipped') return `  ${name}  not run (the rollout stopped before its batch)`;
  const c = counts(host.tasks);
  const changedLabel = mode === 'check' ? 'would change' : 'changed';
  const parts = [`ok=${c.ok}`, `${changedLabel}=${c.changed}`, `failed=${c.failed}`, `skipped=${c.skipped}`];
  const color = host.status === 'failed' ? paint.red : host.status === 'changed' ? paint.yellow : paint.green;
  return `  ${color(name)}  ${parts.join('  ')}  (${host.roundTrips} round trips, ${(host.durationMs / 1000).toFixed(1)} s)`;
}

function verdict(report: RunReport, paint: Painter): string {
  switch (report.exitCode) {
    case 0:
      return paint.green(report.mode === 'check' ? 'in sync: nothing would change' : 'converged');
    case 2:
      return paint.yellow('drift found: run without --check to apply');
    default:
      return paint.red('failed: see the errors above');
  }
}

function indent(text: string): string {
  return printable(text)
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

type Painter = Record<'red' | 'green' | 'yellow' | 'bold' | 'cyan', (s: string) => string>;

function painter(color: boolean): Painter {
  const wrap = (code: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { red: wrap(31), green: wrap(32), yellow: wrap(33), bold: wrap(1), cyan: wrap(36) };
}

function colorDiffLine(line: string, paint: Painter): string {
  if (line.startsWith('+++') || line.startsWith('---')) return paint.bold(line);
  if (line.startsWith('+')) return paint.green(line);
  if (line.startsWith('-')) return paint.red(line);
  if (line.startsWith('@@')) return paint.cyan(line);
  return line;
}
