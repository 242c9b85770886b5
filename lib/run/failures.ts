import { ConnectionError, formatSource, HealthGateError, hintOf, redactRecord, RemoteCommandError, stderrTail, type ErrorKind, type ErrorRecord } from '../errors.ts';
import { HostConnectionError } from '../connection/error.ts';
import { taskSource } from '../module/define.ts';
import type { Task } from '../module/types.ts';
import { RunLockError } from './run-lock.ts';

/**
 * What failed on a host, as ErrorRecords: a task (in the phase it was in),
 * or the host itself (connection, run lock). Every field of a task's record
 * has the task's sensitive values masked.
 */

const phases = new WeakMap<object, ErrorKind>();

/** Run `work`; an error it throws is marked as coming from `phase` (unless an inner phase marked it first). */
export async function inPhase<T>(phase: ErrorKind, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (typeof error === 'object' && error !== null && !phases.has(error)) phases.set(error, phase);
    throw error;
  }
}

/** The kind of a failure: what the error says it is (a command, a connection), else the phase it came from. */
function kindOf(error: unknown, fallback: ErrorKind): ErrorKind {
  if (error instanceof RemoteCommandError) return 'remote-command';
  if (error instanceof RunLockError) return 'lock';
  if (error instanceof HealthGateError) return 'gate';
  if (error instanceof ConnectionError) return 'connection';
  return (typeof error === 'object' && error !== null ? phases.get(error) : undefined) ?? fallback;
}

/** The task a failure is about: its name, its module, and the playbook task it came from (undefined for the engine's own, like a deferred action). */
export interface FailedTask {
  readonly name: string;
  readonly module: string;
  readonly task?: Task | undefined;
}

/** `site.ts:8: task 'motd' on nas: command failed with exit code 1`, and the command, stderr and what to try under it. */
export function taskFailure(error: unknown, task: FailedTask, host: string, sensitive: readonly string[]): ErrorRecord {
  // A step the engine made from a task (the nixos switch) is not where that task was written.
  const source = task.task && task.task.module.name === task.module ? taskSource(task.task) : undefined;
  const { reason, rest, fields } = partsOf(error);
  const shortMessage = `${source ? `${formatSource(source)}: ` : ''}task '${task.name}' on ${host}: ${reason}`;
  const record: ErrorRecord = {
    kind: kindOf(error, 'apply'),
    shortMessage,
    message: [shortMessage, ...rest].join('\n'),
    ...(source ? { source } : {}),
    host,
    task: task.name,
    module: task.module,
    ...fields,
  };
  return redactRecord(record, sensitive);
}

/** Why a host could not be used: not reachable, or locked by another run. The message names the host already. */
export function hostFailure(error: unknown, host: string): ErrorRecord {
  const message = error instanceof Error ? error.message : String(error);
  const details = error instanceof HostConnectionError ? { reason: error.details.reason } : {};
  const { fields } = partsOf(error);
  return { kind: kindOf(error, 'internal'), shortMessage: message.split('\n')[0] ?? '', message, host, ...details, ...fields };
}

/** The first line of what went wrong (without who), the lines under it, and the fields a machine reads. */
function partsOf(error: unknown): { reason: string; rest: string[]; fields: Partial<ErrorRecord> } {
  if (error instanceof RemoteCommandError) {
    const d = error.details;
    const tail = stderrTail(d.stderr);
    return {
      reason: RemoteCommandError.reason(d),
      rest: RemoteCommandError.detailLines(d),
      fields: { command: d.command, exitCode: d.code, ...(tail ? { stderr: tail } : {}), ...(d.hint ? { hint: d.hint } : {}) },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const [reason = '', ...rest] = message.split('\n');
  const hint = hintOf(message);
  return { reason, rest, fields: hint ? { hint } : {} };
}
