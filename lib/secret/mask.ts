/**
 * Every secret a run read, masked in everything the run hands out: the
 * report (and so the summary, the diffs and `--json`), what reporters are
 * told as the run goes (progress, `--verbose` lines), and the errors it
 * throws. Whatever a string's origin (a task's own output, another task's
 * template, a host's stderr that echoed a value), it passes through here
 * before anyone sees it. The per-task masking in the runner (sensitive
 * parameters, see redact()) stays: this adds every secret of the run.
 */
import { PlaybookProblems, redact, type ErrorRecord } from '../errors.ts';
import type { RunObserver } from '../run/results.ts';
import { secretTexts } from './scope.ts';

/** The text with every secret of the run masked (`***`). */
export function maskText(text: string): string {
  const secrets = secretTexts();
  return secrets.length === 0 ? text : redact(text, secrets);
}

/** A copy of a report, a result or a record with every string in it masked. */
export function maskDeep<T>(value: T): T {
  if (secretTexts().length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return maskText(v);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** A reporter that only ever sees masked names, results and errors. */
export function maskingObserver(observer: RunObserver): RunObserver {
  return {
    ...(observer.hostsSelected ? { hostsSelected: (hosts) => observer.hostsSelected?.(hosts.map(maskText)) } : {}),
    ...(observer.hostStart ? { hostStart: (host) => observer.hostStart?.(host) } : {}),
    ...(observer.taskStart ? { taskStart: (host, task) => observer.taskStart?.(host, maskText(task)) } : {}),
    ...(observer.taskEnd ? { taskEnd: (host, result) => observer.taskEnd?.(host, maskDeep(result)) } : {}),
    ...(observer.hostEnd ? { hostEnd: (host, result) => observer.hostEnd?.(host, maskDeep(result)) } : {}),
  };
}

/** The error, its message, stack and records masked in place (so its class and fields stay what callers test for). */
export function maskError(error: unknown): unknown {
  if (!(error instanceof Error) || secretTexts().length === 0) return error;
  error.message = maskText(error.message);
  if (error.stack !== undefined) error.stack = maskText(error.stack);
  if (error instanceof PlaybookProblems) {
    Object.defineProperty(error, 'problems', { value: error.problems.map((p: ErrorRecord) => maskDeep(p)) });
  }
  return error;
}
