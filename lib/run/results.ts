import type { ErrorRecord } from '../errors.ts';
import type { RolloutReport } from './serial.ts';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface ChangeReport {
  readonly summary: string;
  readonly diff?: string;
}

export interface TaskResult {
  readonly name: string;
  readonly module: string;
  readonly status: TaskStatus;
  /** In check mode: what would change. Otherwise: what changed. */
  readonly changes: readonly ChangeReport[];
  /** Why a task was skipped, or what a person should know about it. */
  readonly note?: string;
  /** Why the task failed, as data (see ErrorRecord and docs/errors.md). */
  readonly error?: ErrorRecord;
  readonly handler: boolean;
  readonly durationMs: number;
}

/** `skipped`: not run, because a rolling run (--serial) stopped before the host's batch. */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

export interface HostResult {
  readonly name: string;
  readonly status: HostStatus;
  readonly platform?: string;
  readonly tasks: readonly TaskResult[];
  /** Scripts run on the host, facts and probes included. */
  readonly roundTrips: number;
  readonly durationMs: number;
  /** Why the host could not be used (unreachable, locked) or stopped outside any task. */
  readonly error?: ErrorRecord;
  /** Why a skipped host was not run. */
  readonly note?: string;
}

export type RunMode = 'check' | 'apply';

export interface RunReport {
  readonly mode: RunMode;
  readonly playbooks: readonly string[];
  readonly hosts: readonly HostResult[];
  readonly durationMs: number;
  readonly exitCode: ExitCode;
  /** A rolling run's batches, and where it stopped (--serial). */
  readonly rollout?: RolloutReport;
}

/** 0 in sync or converged, 1 something failed, 2 check mode found drift, 64 bad usage or input. */
export const EXIT = { inSync: 0, failed: 1, drift: 2, usage: 64 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function counts(tasks: readonly TaskResult[]): Record<TaskStatus, number> {
  const c: Record<TaskStatus, number> = { ok: 0, changed: 0, failed: 0, skipped: 0 };
  for (const t of tasks) c[t.status] += 1;
  return c;
}

export function exitCodeFor(mode: RunMode, hosts: readonly HostResult[]): ExitCode {
  if (hosts.some((h) => h.status === 'failed' || h.status === 'unreachable')) return EXIT.failed;
  if (mode === 'check' && hosts.some((h) => h.status === 'changed')) return EXIT.drift;
  return EXIT.inSync;
}

/** Reporters listen to these as the run goes. */
export interface RunObserver {
  /** The hosts the run will handle, before any connection is made. */
  hostsSelected?(hosts: readonly string[]): void;
  hostStart?(host: string): void;
  taskStart?(host: string, task: string): void;
  taskEnd?(host: string, result: TaskResult): void;
  hostEnd?(host: string, result: HostResult): void;
}
