/**
 * What a pull does with what it fetched, and what it reports afterwards:
 * pure, so both are unit-tested (test/unit/fleet-pull.test.ts).
 *
 * Only a new commit, or drift, causes an apply: a commit not applied yet
 * (or whose apply did not succeed) is applied; an unchanged one is first
 * checked, and applied only when the check finds drift, unless the pull
 * was told to only check an unchanged commit.
 */
import { EXIT, type ExitCode } from '../run/results.ts';
import type { RunMetrics } from './metrics.ts';

/** What the pull remembers between runs, in its state directory. */
export interface PullState {
  /** The last commit applied successfully on this host. */
  readonly applied?: string;
  /** When a pull last succeeded, in seconds since the epoch. */
  readonly lastSuccessAt?: number;
  /** sha256 of the package-lock.json whose `npm ci` last succeeded in the checkout. */
  readonly installedLock?: string;
}

export type PullDecision =
  | { readonly kind: 'apply'; readonly why: string }
  | { readonly kind: 'check'; readonly applyOnDrift: boolean; readonly why: string };

export function decidePull(state: PullState, fetched: string, options: { readonly checkOnlyIfUnchanged: boolean }): PullDecision {
  if (state.applied === undefined) return { kind: 'apply', why: 'no commit applied on this host yet' };
  if (state.applied !== fetched) return { kind: 'apply', why: `new commit (last applied ${short(state.applied)})` };
  return options.checkOnlyIfUnchanged
    ? { kind: 'check', applyOnDrift: false, why: 'commit unchanged: checking for drift only (--check-only-if-unchanged)' }
    : { kind: 'check', applyOnDrift: true, why: 'commit unchanged: checking for drift, applying only if there is some' };
}

/** One playbook run of the pull (check or apply) as it ended: its exit code and this host's task counts. */
export interface PullRun {
  readonly mode: 'check' | 'apply';
  readonly exitCode: ExitCode | number;
  readonly changed: number;
  readonly failed: number;
}

/** Whether a run did what it was asked: an apply converged, a check finished (drift or not). */
export function runSucceeded(run: PullRun): boolean {
  return run.exitCode === EXIT.inSync || (run.mode === 'check' && run.exitCode === EXIT.drift);
}

/**
 * The pull's metrics and its next state, from the runs it made (none when it
 * stopped before running the playbook: a fetch, a signature, `npm ci`).
 * Drift is counted only on a commit already applied: what a new commit
 * changes is the commit's doing, not drift.
 */
export function pullOutcome(
  state: PullState,
  fetched: string | undefined,
  runs: readonly PullRun[],
  now: number,
  options: { readonly intervalSeconds?: number } = {},
): { metrics: RunMetrics; state: PullState; success: boolean } {
  const success = runs.length > 0 && runs.every(runSucceeded);
  const check = runs.find((r) => r.mode === 'check');
  const apply = runs.find((r) => r.mode === 'apply');
  const applied = apply && runSucceeded(apply) && fetched !== undefined ? fetched : state.applied;
  const lastSuccessAt = success ? now : (state.lastSuccessAt ?? 0);
  return {
    success,
    state: { ...state, ...(applied !== undefined ? { applied } : {}), lastSuccessAt },
    metrics: {
      mode: 'pull',
      finishedAt: now,
      success,
      lastSuccessAt,
      driftTasks: check?.changed ?? 0,
      changedTasks: apply?.changed ?? 0,
      failedTasks: runs.reduce((n, r) => n + r.failed, 0),
      ...(fetched !== undefined ? { commit: fetched } : {}),
      ...(options.intervalSeconds !== undefined ? { intervalSeconds: options.intervalSeconds } : {}),
    },
  };
}

export function short(commit: string): string {
  return commit.slice(0, 12);
}
