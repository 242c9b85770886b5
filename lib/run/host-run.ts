import type { Connection, ExecResult } from '../connection/types.ts';
import { redact, RemoteCommandError } from '../errors.ts';
import { notifyList } from '../module/define.ts';
import { PlannedState } from '../module/resources.ts';
import { Skip } from '../module/skip.ts';
import type { ApplyContext, Change, DeferredConfirm, HostView, ProbeOutputs } from '../module/types.ts';
import type { ShellScript } from '../shell/quote.ts';
import { inPhase, taskFailure, type FailedTask } from './failures.ts';
import type { PreparedPlay, PreparedStep, PreparedTask } from './prepare.ts';
import { runProbes } from './probe-batch.ts';
import { ProbeCache } from './probe-cache.ts';
import type { ChangeReport, RunMode, RunObserver, TaskResult } from './results.ts';

type Outcome = Omit<TaskResult, 'name' | 'module' | 'handler' | 'durationMs'>;
type Planned = { readonly task: PreparedTask; readonly observed: unknown; readonly changes: readonly Change<unknown>[]; readonly reports: ChangeReport[] };

/**
 * Runs the prepared plays of one host, task by task. Probes of all tasks
 * still to run are fetched in one batch; a change drops the outputs it can
 * have made stale (probe-cache.ts), and the tasks concerned are probed again,
 * together, in one more round trip. A no-op run therefore costs one probe
 * round trip per play.
 */
export class HostRun {
  readonly results: TaskResult[] = [];
  readonly #planned = new PlannedState();
  readonly #probed = new ProbeCache<PreparedTask>();
  /** Host-wide actions asked for by tasks (daemon-reload), run once, in the order first asked. */
  readonly #deferred = new Map<string, DeferredAction>();
  #failed = false;
  /** The host as the current play sees it (play vars differ between plays). */
  private host: HostView;

  private readonly connection: Connection;
  private readonly mode: RunMode;
  private readonly observer: RunObserver;
  /** A new login with the run's connection settings; undefined for a local host. */
  private readonly freshLogin: ((script: ShellScript) => Promise<ExecResult>) | undefined;

  constructor(
    connection: Connection,
    host: HostView,
    mode: RunMode,
    observer: RunObserver,
    freshLogin?: (script: ShellScript) => Promise<ExecResult>,
  ) {
    this.connection = connection;
    this.mode = mode;
    this.observer = observer;
    this.freshLogin = freshLogin;
    this.host = host;
  }

  get failed(): boolean {
    return this.#failed;
  }

  async runPlay(play: PreparedPlay, host: HostView): Promise<void> {
    this.host = host;
    const notified = new Set<string>();
    const tasks = play.steps.filter((s): s is PreparedTask => s.kind === 'task');
    for (let i = 0; i < play.steps.length && !this.#failed; ) {
      const step = play.steps[i] as PreparedStep;
      if (step.kind === 'flush') {
        await this.#runHandlers(play, notified);
        i += 1;
        continue;
      }
      const group = this.#applyGroup(play.steps, i);
      const results = await this.#runGroup(group, tasks.slice(tasks.indexOf(step)));
      results.forEach((result, k) => {
        if (result.status === 'changed') for (const n of notifyList((group[k] as PreparedTask).task)) notified.add(n);
      });
      i += group.length;
    }
    await this.#runHandlers(play, notified);
  }

  async #runHandlers(play: PreparedPlay, notified: Set<string>): Promise<void> {
    await this.#runAllDeferred();
    const due = play.handlers.filter((h) => notified.has(h.name));
    notified.clear();
    for (const handler of due) {
      if (this.#failed) return;
      await this.#runGroup([handler], due.slice(due.indexOf(handler)));
    }
    await this.#runAllDeferred();
  }

  /** The task at `index`, with the tasks right after it that its module applies together with it. */
  #applyGroup(steps: readonly PreparedStep[], index: number): PreparedTask[] {
    const first = steps[index] as PreparedTask;
    const batch = first.backend?.batch;
    if (!batch || this.mode === 'check') return [first];
    const key = batch.key(first.resolved);
    const group = [first];
    for (const next of steps.slice(index + 1)) {
      if (next.kind !== 'task' || next.backend !== first.backend || next.become !== first.become || batch.key(next.resolved) !== key) break;
      group.push(next);
    }
    return group;
  }

  /** Plan every task of the group, then apply what they need in one go (one task is a group of one). */
  async #runGroup(group: readonly PreparedTask[], upcoming: readonly PreparedTask[]): Promise<TaskResult[]> {
    const started = Date.now();
    const outcomes = new Map<PreparedTask, Outcome>();
    const pending: Planned[] = [];
    // Tasks applied together are all planned before any of them runs, so each
    // plans against the effects of the ones before it in the group, as in check mode.
    const state = this.mode === 'check' ? this.#planned : new PlannedState();
    for (const task of group) {
      if (this.#failed) break;
      this.observer.taskStart?.(this.host.name, task.name);
      const planned = await this.#plan(task, upcoming.slice(upcoming.indexOf(task)), state).catch((error: unknown) =>
        error instanceof Skip ? { status: 'skipped' as const, changes: [], note: redact(error.note, task.sensitive) } : this.#failure(error, task, task.sensitive),
      );
      if ('status' in planned) outcomes.set(task, planned);
      else if (this.mode === 'check') outcomes.set(task, await this.#checkOutcome(planned).catch((error: unknown) => this.#failure(error, task, task.sensitive)));
      else {
        pending.push(planned);
        state.record(task.backend?.effects?.(task.resolved) ?? []);
      }
      // A failed task stops the host: the tasks after it in the group are neither planned nor applied.
      if (outcomes.get(task)?.status === 'failed') break;
    }
    if (pending.length > 0) {
      const failed = await inPhase('apply', () => this.#apply(pending)).then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      // Tasks applied together fail together; each names itself, and masks what any of them holds.
      for (const p of pending) {
        outcomes.set(p.task, failed ? { ...this.#failure(failed.error, p.task, sensitiveOf(pending)), changes: p.reports } : { status: 'changed', changes: p.reports, ...notesOf(p.changes, p.task.sensitive) });
      }
    }
    return group.filter((t) => outcomes.has(t)).map((task) => this.#record(task, outcomes.get(task) as Outcome, started));
  }

  #record(task: Pick<TaskResult, 'name' | 'module' | 'handler'>, outcome: Outcome, started: number): TaskResult {
    const result: TaskResult = { name: task.name, module: task.module, handler: task.handler, durationMs: Date.now() - started, ...outcome };
    if (result.status === 'failed') this.#failed = true;
    this.results.push(result);
    this.observer.taskEnd?.(this.host.name, result);
    return result;
  }

  /** Observe and plan one task: a final outcome, or the changes it needs. */
  async #plan(task: PreparedTask, upcoming: readonly PreparedTask[], planned: PlannedState): Promise<Outcome | Planned> {
    const backend = task.backend;
    if (!backend) return { status: 'skipped', changes: [], ...(task.skipNote ? { note: task.skipNote } : {}) };
    if (task.become && !this.host.facts.canBecome) {
      await inPhase('become', () => {
        throw new Error(
          `the task needs become, but sudo on ${this.host.name} needs a password or is missing; hostform only uses passwordless sudo (sudo -n): add a NOPASSWD rule for ${this.host.facts.user} or connect as root`,
        );
      });
    }
    const outputs = await inPhase('probe', () => this.#probe(task, upcoming));
    const observed = await inPhase('probe', () => backend.parse(task.resolved, outputs));
    const changes = await inPhase('plan', () => backend.plan(task.resolved, observed, { host: this.host, checkMode: this.mode === 'check', planned }));
    if (changes.length === 0) return { status: 'ok', changes: [] };
    const shown = (text: string) => redact(text, task.sensitive);
    return { task, observed, changes, reports: changes.map((c) => ({ summary: shown(c.summary), ...(c.diff ? { diff: shown(c.diff) } : {}) })) };
  }

  async #checkOutcome({ task, observed, changes, reports }: Planned): Promise<Outcome> {
    if (changes.every((c) => c.uncertain)) {
      return { status: 'skipped', changes: reports, note: redact(changes[0]?.uncertain ?? '', task.sensitive) };
    }
    this.#planned.record(task.backend?.effects?.(task.resolved) ?? []);
    const preview = await inPhase('plan', () => task.backend?.preview?.(task.resolved, observed, changes, this.#applyContext(task)));
    const withPreview = preview ? [...reports, { summary: redact(preview.summary, task.sensitive), diff: redact(preview.detail, task.sensitive) }] : reports;
    return { status: 'changed', changes: withPreview, ...notesOf(changes, task.sensitive) };
  }

  async #apply(pending: readonly Planned[]): Promise<void> {
    this.#probed.applying(pending); // the host changes now: what these changes can alter must be probed again
    const first = pending[0] as Planned;
    const backend = first.task.backend!;
    const context = this.#applyContext(first.task, sensitiveOf(pending));
    if (pending.length === 1) return backend.apply(first.task.resolved, first.changes, context);
    await backend.batch!.apply(
      pending.map((p) => ({ params: p.task.resolved, changes: p.changes })),
      context,
    );
  }

  /** Outputs of this task's probes, fetching them together with those of every upcoming task not probed since a change that concerns it. */
  async #probe(task: PreparedTask, upcoming: readonly PreparedTask[]): Promise<ProbeOutputs> {
    const cached = this.#probed.get(task);
    if (cached) return cached;
    const batch = upcoming.filter((t) => t.backend && !this.#probed.has(t) && (!t.become || this.host.facts.canBecome));
    if (!batch.includes(task)) batch.unshift(task);
    await this.#probed.fetch(batch, this.host, (requests) => runProbes(this.connection, requests));
    return this.#probed.get(task) as ProbeOutputs;
  }

  async #runAllDeferred(): Promise<void> {
    for (const [id, action] of [...this.#deferred]) {
      if (this.#failed && action.confirms.length === 0) continue;
      const started = Date.now();
      const task = { name: `deferred: ${id}`, module: 'engine', handler: true };
      const outcome = await inPhase('deferred', () => this.#runDeferred(id)).then(
        (script): Outcome => ({ status: 'changed', changes: [{ summary: script }] }),
        (error: unknown) => this.#failure(error, task, []),
      );
      this.#record(task, outcome, started);
    }
  }

  async #runDeferred(id: string): Promise<string> {
    const action = this.#deferred.get(id);
    if (!action) return '';
    this.#deferred.delete(id);
    this.#probed.clear();
    if (action.confirms.length > 0) await this.#confirmOrRevert(id, action);
    else await this.#runChecked(action.script, action.become, `deferred: ${id}`, [], {});
    return action.script.display;
  }

  /**
   * The script, then the first asker's check; when either fails, every
   * asker's undo (last first), the script again, and the check again.
   */
  async #confirmOrRevert(id: string, action: DeferredAction): Promise<void> {
    const first = action.confirms[0] as DeferredConfirm;
    const attempt = () =>
      this.#runChecked(action.script, action.become, `deferred: ${id}`, [], {})
        .then(() => first.check())
        .then(
          () => undefined,
          (error: unknown) => messageOf(error),
        );
    const failed = await attempt();
    if (failed === undefined) return;
    // Every undo is tried, even after one fails: each puts back a different change.
    const undone: string[] = [];
    const problems: string[] = [];
    for (const confirm of [...action.confirms].reverse()) {
      await confirm.undo().then(
        () => undone.push(confirm.undoes),
        (error: unknown) => problems.push(`could not ${confirm.undoes}: ${messageOf(error)}`),
      );
    }
    const after = await attempt();
    if (after !== undefined) problems.push(`${id} and its check after reverting: ${after}`);
    const reverted = `reverted, in this order: ${undone.join('; ') || 'nothing'}`;
    if (problems.length > 0) throw new Error(`${failed}\n${reverted}; putting the previous state back failed: ${problems.join('; ')}`);
    throw new Error(`${failed}\n${reverted}; then ${id} ran again and the check passes: the previous state is back`);
  }

  async #runChecked(script: ShellScript, become: boolean, taskName: string, sensitive: readonly string[], options: { stdin?: string | Buffer; okCodes?: readonly number[] }) {
    const result = await this.connection.run(script, { become, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
    if (!(options.okCodes ?? [0]).includes(result.code)) {
      const shown = (text: string) => redact(text, sensitive);
      throw new RemoteCommandError({ host: this.host.name, task: taskName, command: shown(script.display), code: result.code, stderr: shown(result.stderr || result.stdout) });
    }
    return result;
  }

  /** What a failed task reports: its error as data, its sensitive values masked (a module's own error may quote a command or the host's output). */
  #failure(error: unknown, task: FailedTask, sensitive: readonly string[]): Outcome {
    return { status: 'failed', changes: [], error: taskFailure(error, task, this.host.name, sensitive) };
  }

  #applyContext(task: PreparedTask, sensitive = task.sensitive): ApplyContext {
    return {
      host: this.host,
      taskName: task.name,
      run: (script, options = {}) => this.#runChecked(script, task.become, task.name, sensitive, options),
      writeFile: (path, content, options = {}) => this.connection.writeFile(path, content, { ...options, become: task.become }),
      defer: (id, script, confirm) => {
        const action = this.#deferred.get(id) ?? { script, become: task.become, confirms: [] };
        if (confirm) action.confirms.push(confirm);
        this.#deferred.set(id, action);
      },
      runDeferred: async (id) => {
        await this.#runDeferred(id);
      },
      ...(this.freshLogin ? { freshLogin: this.freshLogin } : {}),
    };
  }
}

interface DeferredAction {
  readonly script: ShellScript;
  readonly become: boolean;
  /** One per task that asked with a confirm step, in the order asked. */
  readonly confirms: DeferredConfirm[];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The notes of a task's changes ("reboot needed"), joined into the one note its result carries. */
function notesOf(changes: readonly Change<unknown>[], sensitive: readonly string[]): { note?: string } {
  const notes = [...new Set(changes.flatMap((c) => (c.note ? [c.note] : [])))];
  return notes.length > 0 ? { note: redact(notes.join('; '), sensitive) } : {};
}

/** Tasks applied together share one context: mask what any of them holds. */
function sensitiveOf(pending: readonly Planned[]): string[] {
  return [...new Set(pending.flatMap((p) => p.task.sensitive))];
}
