import type { Connection, ExecResult } from '../connection/types.ts';
import { RemoteCommandError } from '../errors.ts';
import { notifyList } from '../module/define.ts';
import { PlannedState } from '../module/resources.ts';
import type { ApplyContext, HostView, ProbeOutputs } from '../module/types.ts';
import type { ShellScript } from '../shell/quote.ts';
import type { PreparedPlay, PreparedTask } from './prepare.ts';
import { runProbes, type ProbeRequest } from './probe-batch.ts';
import type { RunMode, RunObserver, TaskResult } from './results.ts';

/**
 * Runs the prepared plays of one host, task by task. Probes of all tasks
 * still to run are fetched in one batch; the batch stays valid until a task
 * changes the host, after which the rest is probed again (one more round
 * trip). A no-op run therefore costs one probe round trip per play.
 */
export class HostRun {
  readonly results: TaskResult[] = [];
  readonly #planned = new PlannedState();
  #probed = new Map<PreparedTask, ProbeOutputs>();
  #failed = false;

  /** The host as the current play sees it (play vars differ between plays). */
  private host: HostView;

  constructor(
    private readonly connection: Connection,
    host: HostView,
    private readonly mode: RunMode,
    private readonly observer: RunObserver,
  ) {
    this.host = host;
  }

  get failed(): boolean {
    return this.#failed;
  }

  async runPlay(play: PreparedPlay, host: HostView): Promise<void> {
    this.host = host;
    const notified = new Set<string>();
    const pending = play.steps.filter((s): s is PreparedTask => s.kind === 'task');
    for (const step of play.steps) {
      if (this.#failed) return;
      if (step.kind === 'flush') {
        await this.#runHandlers(play, notified);
        continue;
      }
      const result = await this.#runTask(step, pending.slice(pending.indexOf(step)));
      if (result.status === 'changed') for (const n of notifyList(step.task)) notified.add(n);
    }
    if (!this.#failed) await this.#runHandlers(play, notified);
  }

  async #runHandlers(play: PreparedPlay, notified: Set<string>): Promise<void> {
    const due = play.handlers.filter((h) => notified.has(h.name));
    notified.clear();
    for (const handler of due) {
      if (this.#failed) return;
      await this.#runTask(handler, due.slice(due.indexOf(handler)));
    }
  }

  async #runTask(task: PreparedTask, upcoming: readonly PreparedTask[]): Promise<TaskResult> {
    const started = Date.now();
    this.observer.taskStart?.(this.host.name, task.name);
    const result = await this.#outcome(task, upcoming).catch((error: unknown) => ({
      status: 'failed' as const,
      changes: [],
      error: error instanceof Error ? error.message : String(error),
    }));
    const full: TaskResult = { name: task.name, module: task.module, handler: task.handler, durationMs: Date.now() - started, ...result };
    if (full.status === 'failed') this.#failed = true;
    this.results.push(full);
    this.observer.taskEnd?.(this.host.name, full);
    return full;
  }

  async #outcome(task: PreparedTask, upcoming: readonly PreparedTask[]): Promise<Omit<TaskResult, 'name' | 'module' | 'handler' | 'durationMs'>> {
    const backend = task.backend;
    if (!backend) return { status: 'skipped', changes: [], note: task.skipNote };
    if (task.become && !this.host.facts.canBecome) {
      throw new Error(
        `the task needs become, but sudo on ${this.host.name} needs a password or is missing; hostform only uses passwordless sudo (sudo -n): add a NOPASSWD rule for ${this.host.facts.user} or connect as root`,
      );
    }
    const outputs = await this.#probe(task, upcoming);
    const observed = backend.parse(task.resolved, outputs);
    const changes = backend.plan(task.resolved, observed, { host: this.host, checkMode: this.mode === 'check', planned: this.#planned });
    const reports = changes.map((c) => ({ summary: c.summary, ...(c.diff ? { diff: c.diff } : {}) }));
    if (changes.length === 0) return { status: 'ok', changes: [] };
    if (this.mode === 'check') {
      const uncertain = changes.find((c) => c.uncertain);
      if (uncertain && changes.every((c) => c.uncertain)) {
        return { status: 'skipped', changes: reports, note: uncertain.uncertain };
      }
      this.#planned.record(backend.effects?.(task.resolved) ?? []);
      return { status: 'changed', changes: reports };
    }
    this.#probed.clear(); // the host changes now: every probe fetched so far may be stale
    await backend.apply(task.resolved, changes, this.#applyContext(task));
    return { status: 'changed', changes: reports };
  }

  /** Outputs of this task's probes, fetching them together with those of every upcoming task not yet probed. */
  async #probe(task: PreparedTask, upcoming: readonly PreparedTask[]): Promise<ProbeOutputs> {
    const cached = this.#probed.get(task);
    if (cached) return cached;
    const batch = upcoming.filter((t) => t.backend && !this.#probed.has(t) && (!t.become || this.host.facts.canBecome));
    if (!batch.includes(task)) batch.unshift(task);
    const perTask = batch.map((t) => Object.entries(t.backend!.probes(t.resolved, this.host)));
    const requests: ProbeRequest[] = batch.flatMap((t, i) => (perTask[i] ?? []).map(([, probe]) => ({ script: probe.script, become: t.become })));
    const outputs = requests.length > 0 ? await runProbes(this.connection, requests) : [];
    let next = 0;
    batch.forEach((t, i) => {
      const record: Record<string, ExecResult> = {};
      for (const [key] of perTask[i] ?? []) record[key] = outputs[next++] as ExecResult;
      this.#probed.set(t, record);
    });
    return this.#probed.get(task) as ProbeOutputs;
  }

  #applyContext(task: PreparedTask): ApplyContext {
    const connection = this.connection;
    const host = this.host.name;
    return {
      host: this.host,
      taskName: task.name,
      async run(script: ShellScript, options = {}) {
        const result = await connection.run(script, { become: task.become, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
        if (!(options.okCodes ?? [0]).includes(result.code)) {
          throw new RemoteCommandError({ host, task: task.name, command: script.text, code: result.code, stderr: result.stderr || result.stdout });
        }
        return result;
      },
      writeFile(path, content, options = {}) {
        return connection.writeFile(path, content, { ...options, become: task.become });
      },
    };
  }
}
