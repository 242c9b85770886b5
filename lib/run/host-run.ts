import type { Connection, ExecResult } from '../connection/types.ts';
import { redact, RemoteCommandError, type ErrorRecord } from '../errors.ts';
import { notifyList } from '../module/define.ts';
import { PlannedState } from '../module/resources.ts';
import { Skip } from '../module/skip.ts';
import type { ApplyContext, Change, DeferredConfirm, HostView, ProbeOutputs } from '../module/types.ts';
import { inSequence, join, sh, trusted, type ShellScript } from '../shell/quote.ts';
import { inPhase, taskFailure, type FailedTask } from './failures.ts';
import { assertFreshLogin } from './fresh-login.ts';
import { describeOwedBy, type ActionKey, type HostJournal, type JournalEntry } from './journal.ts';
import type { PreparedPlay, PreparedStep, PreparedTask } from './prepare.ts';
import { runProbes } from './probe-batch.ts';
import { overlap, ProbeCache } from './probe-cache.ts';
import { ApplyBatcher, type ApplyChannel } from './apply-batch.ts';
import type { ResourceKey } from '../module/resources.ts';
import type { ChangeReport, RunMode, RunObserver, TaskResult } from './results.ts';
import { wholeInput } from './whole-input.ts';

type Outcome = Omit<TaskResult, 'name' | 'module' | 'handler' | 'durationMs'>;
type Planned = { readonly task: PreparedTask; readonly observed: unknown; readonly changes: readonly Change<unknown>[]; readonly reports: ChangeReport[] };

/**
 * Runs the prepared plays of one host, task by task. Probes of all tasks
 * still to run are fetched in one batch; a change drops the outputs it can
 * have made stale (probe-cache.ts), and the tasks concerned are probed again,
 * together, in one more round trip. A no-op run therefore costs one probe
 * round trip per play.
 *
 * What applied changes make owed (notified handlers, deferred actions) is
 * kept in the host's pending-actions journal (journal.ts) from before the
 * change until it has run: `recover` runs what earlier runs left owed, and
 * owed actions still run when a later task fails (docs/reliability.md).
 */
export class HostRun {
  readonly results: TaskResult[] = [];
  readonly #planned = new PlannedState();
  readonly #probed = new ProbeCache<PreparedTask>();
  /** Host-wide actions asked for by tasks (daemon-reload), run once, in the order first asked. */
  readonly #deferred = new Map<string, DeferredAction>();
  #failed = false;
  /** The connection broke: nothing more can run, and what is owed stays in the journal for the next run. */
  #lost = false;
  /** The play running now: a handler is owed in the name of the play that notified it. */
  #playName = '';
  /** Running what earlier runs left owed: a failure there does not stop the host's tasks, which may be what fixes it. */
  #recovering = false;
  /** Said on each result while running what an earlier run left owed. */
  #owedNote: string | undefined;
  /** The host as the current play sees it (play vars differ between plays). */
  private host: HostView;

  private readonly connection: Connection;
  private readonly mode: RunMode;
  private readonly observer: RunObserver;
  /** A new login with the run's connection settings; undefined for a local host. */
  private readonly freshLogin: ((script: ShellScript) => Promise<ExecResult>) | undefined;
  /** The host's pending-actions journal; undefined when the run keeps none there (it joined its own lock under another name). */
  private readonly journal: HostJournal | undefined;

  constructor(
    connection: Connection,
    host: HostView,
    mode: RunMode,
    observer: RunObserver,
    freshLogin?: (script: ShellScript) => Promise<ExecResult>,
    journal?: HostJournal,
  ) {
    this.connection = connection;
    this.mode = mode;
    this.observer = observer;
    this.freshLogin = freshLogin;
    this.journal = journal;
    this.host = host;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** The connection broke during the run. */
  get lost(): boolean {
    return this.#lost;
  }

  async runPlay(play: PreparedPlay, host: HostView): Promise<void> {
    this.host = host;
    this.#playName = play.name;
    const notified = new Set<string>();
    const tasks = play.steps.filter((s): s is PreparedTask => s.kind === 'task');
    const window: WindowEntry[] = [];
    const notify = (task: PreparedTask, result: TaskResult) => {
      if (result.status === 'changed') for (const n of notifyList(task.task)) notified.add(n);
    };
    const flush = async () => {
      const last = window.at(-1)?.task;
      const following = last ? tasks.slice(tasks.indexOf(last) + 1) : [];
      for (const [task, result] of await this.#applyWindow(window.splice(0), following)) notify(task, result);
    };
    for (let i = 0; i < play.steps.length && !this.#failed; ) {
      const step = play.steps[i] as PreparedStep;
      if (step.kind === 'flush') {
        await flush();
        await this.#runHandlers(play, notified);
        i += 1;
        continue;
      }
      const upcoming = tasks.slice(tasks.indexOf(step));
      if (!this.#joinsWindows(step)) {
        await flush();
        if (this.#failed) break;
        const group = this.#applyGroup(play.steps, i);
        (await this.#runGroup(group, upcoming)).forEach((result, k) => notify(group[k] as PreparedTask, result));
        i += group.length;
        continue;
      }
      // Planned against what the host is before the window's changes: only when none of them can alter what it reads.
      if (window.length > 0 && (!this.#probed.has(step) || window.some((w) => w.planned && overlap(this.#probed.readsOf(step), w.writes)))) await flush();
      if (this.#failed) break;
      const entry = await this.#planEntry(step, upcoming);
      // Its plan stands, but its changes may alter what a task of the window read: the window goes first.
      if (entry.planned && window.some((w) => w.planned && overlap(entry.writes, this.#probed.readsOf(w.task)))) await flush();
      window.push(entry);
      if (entry.outcome?.status === 'failed') await flush();
      i += 1;
    }
    await flush();
    await this.#runHandlers(play, notified);
  }

  /**
   * Whether a task may be applied in a window with its neighbours: its
   * module says what its probes read and what its changes write, and its
   * changes stay within that (not a widening task, a handler, a gate or a
   * module that applies several tasks at once itself). Check mode applies
   * nothing: it plans task by task against the planned state.
   */
  #joinsWindows(task: PreparedTask): boolean {
    const backend = task.backend;
    if (this.mode !== 'apply' || !backend?.reads || backend.widens || backend.batch || task.handler || task.task.module.capabilities.gate) return false;
    if (task.become && !this.host.facts.canBecome) return false;
    return backend.reads(task.resolved) !== undefined;
  }

  /** Observe and plan one task of a window: its final outcome, or the changes it needs and what they write. */
  async #planEntry(task: PreparedTask, upcoming: readonly PreparedTask[]): Promise<WindowEntry> {
    const started = Date.now();
    this.observer.taskStart?.(this.host.name, task.name);
    const planned = await this.#planOrOutcome(task, upcoming, new PlannedState());
    if ('status' in planned) return { task, started, outcome: planned };
    return { task, started, planned, writes: this.#probed.writesOf(task, planned.observed) };
  }

  /**
   * Apply the planned tasks of a window together, their commands sent in
   * batches (apply-batch.ts), then record every task of the window in the
   * order written. The tasks neither read nor write what the others write,
   * so each plan holds whatever the others do first. One that fails does not
   * stop the others of its window, which are already under way; the host
   * stops after the window.
   */
  async #applyWindow(window: readonly WindowEntry[], following: readonly PreparedTask[]): Promise<[PreparedTask, TaskResult][]> {
    const pending = window.flatMap((w) => (w.planned ? [w.planned] : []));
    const applied = new Map<PreparedTask, Outcome>();
    if (pending.length > 0) {
      this.#oweHandlers(pending);
      this.#probed.applying(pending);
      const { channel, settle } = this.#channelFollowedBy(following);
      await Promise.all(
        pending.map(async (p) => {
          const failed = await inPhase('apply', () => p.task.backend!.apply(p.task.resolved, p.changes, this.#applyContext(p.task, p.task.sensitive, channel))).then(
            () => undefined,
            (error: unknown) => ({ error }),
          );
          applied.set(p.task, this.#appliedOutcome(p, failed, p.task.sensitive));
        }),
      );
      settle();
    }
    return window.map((w) => [w.task, this.#record(w.task, w.outcome ?? (applied.get(w.task) as Outcome), w.started)]);
  }

  /**
   * Deferred actions, the handlers notified or owed in this play, deferred
   * actions again (those the handlers asked for). After a failed task too:
   * the changes before it are in place, and their daemons must read them.
   * A failed handler does not stop the others; it stays owed.
   */
  async #runHandlers(play: PreparedPlay, notified: Set<string>): Promise<void> {
    await this.#runAllDeferred();
    const owed = (name: string) => this.mode === 'apply' && this.journal?.owes({ kind: 'handler', play: play.name, name }) === true;
    const due = play.handlers.filter((h) => notified.has(h.name) || owed(h.name));
    notified.clear();
    for (const handler of due) {
      if (this.#lost) return;
      await this.#runHandler(handler, due.slice(due.indexOf(handler)), { kind: 'handler', play: play.name, name: handler.name });
    }
    await this.#runAllDeferred();
  }

  /** One handler, even after a failed task; once it has run (failing excepted), it is owed no more. */
  async #runHandler(handler: PreparedTask, upcoming: readonly PreparedTask[], key: ActionKey): Promise<TaskResult | undefined> {
    const [result] = await this.#runGroup([handler], upcoming, true);
    if (result && result.status !== 'failed' && this.mode === 'apply') this.journal?.settle(key);
    return result;
  }

  /**
   * Before the first task: run what the journal says earlier runs left owed
   * on this host (deferred actions, then handlers, then what those handlers
   * asked for), each result saying so; in check mode, report each as drift.
   * A handler is run as the play of its name defines it, else as the first
   * play of this run that has a handler of that name; when none has, it
   * stays owed and the host fails. A failure here does not stop the tasks.
   */
  async recover(plays: readonly { readonly play: PreparedPlay; readonly view: HostView }[]): Promise<void> {
    const journal = this.journal;
    if (!journal) return;
    this.#recovering = true;
    try {
      if (journal.unreadable !== undefined) {
        this.#recordEngineFailure('pending-actions journal', `the pending-actions journal ${journal.path} cannot be read: ${journal.unreadable}; what it held is lost, and this run overwrites it`);
      }
      const entries = [...journal.entries];
      for (const entry of entries) {
        this.#owedNote = `owed by an earlier run that did not finish: ${describeOwedBy(entry.owedBy)}`;
        if (entry.kind === 'deferred') await this.#recoverDeferred(entry);
        else await this.#recoverHandler(entry, plays);
      }
      this.#owedNote = 'asked for by a handler an earlier run left owed';
      if (entries.length > 0 && this.mode === 'apply') await this.#runAllDeferred();
    } finally {
      this.#recovering = false;
      this.#owedNote = undefined;
    }
  }

  async #recoverDeferred(entry: Extract<JournalEntry, { kind: 'deferred' }>): Promise<void> {
    const journal = this.journal as HostJournal;
    if (entry.become && !journal.root) {
      // Only a run that can become root writes root's journal; a user's own journal holding a root action was not written by hostform.
      journal.settle(entry);
      this.#recordEngineFailure(`deferred: ${entry.id}`, `refused to run ${entry.id} as root: it comes from ${journal.path}, a journal its user can write, not root's; it was dropped`);
      return;
    }
    if (this.mode === 'check') {
      this.#record({ name: `deferred: ${entry.id}`, module: 'engine', handler: true }, { status: 'changed', changes: [{ summary: `would run ${entry.id}, owed since an earlier run` }] }, Date.now());
      return;
    }
    this.#deferred.set(entry.id, this.#restored(entry));
    await this.#runAllDeferred();
  }

  async #recoverHandler(entry: Extract<JournalEntry, { kind: 'handler' }>, plays: readonly { readonly play: PreparedPlay; readonly view: HostView }[]): Promise<void> {
    const defines = (p: { play: PreparedPlay }) => p.play.handlers.some((h) => h.name === entry.name);
    const found = plays.find((p) => p.play.name === entry.play && defines(p)) ?? plays.find(defines);
    if (!found) {
      const names = [...new Set(plays.map((p) => `'${p.play.name}'`))].join(', ');
      this.#recordEngineFailure(
        entry.name,
        `handler '${entry.name}' of play '${entry.play}' is owed by an earlier run that did not finish, but no play of this run on ${this.host.name} (${names || 'none'}) defines it, so it was not run and stays owed\n  try: run the playbook that defines it (${entry.owedBy.playbook})`,
      );
      return;
    }
    const handler = found.play.handlers.find((h) => h.name === entry.name) as PreparedTask;
    if (this.mode === 'check') {
      // Drift whatever the handler's own check mode says (an unguarded command is only "skipped" there): it is owed.
      this.#record({ name: handler.name, module: handler.module, handler: true }, { status: 'changed', changes: [{ summary: `would run handler '${handler.name}', owed since an earlier run` }] }, Date.now());
      return;
    }
    const [view, playName] = [this.host, this.#playName];
    this.host = found.view;
    this.#playName = found.play.name;
    try {
      await this.#runHandler(handler, [handler], entry);
    } finally {
      this.host = view;
      this.#playName = playName;
    }
  }

  /** A deferred action as the journal recorded it, its confirm steps carried out by the engine. */
  #restored(entry: Extract<JournalEntry, { kind: 'deferred' }>): DeferredAction {
    // Written by hostform into root's own directory (or, for a run that cannot become root, the user's, and then run without become): not user input.
    const script = trusted(entry.script);
    const freshLogin = this.freshLogin;
    return {
      script,
      become: entry.become,
      confirms: entry.confirms.map((c) => ({
        check: async () => {
          if (freshLogin) await assertFreshLogin(freshLogin, `after ${entry.id}, owed by an earlier run`);
        },
        undo: async () => {
          await this.#runChecked(trusted(c.undo), entry.become, `deferred: ${entry.id}`, [], {});
        },
        undoes: c.undoes,
        recorded: { undo: trusted(c.undo), check: c.check },
      })),
    };
  }

  /** What the lock's script must write at release for the host's journal to say what is still owed; undefined when it does already. */
  journalAtRelease(): string | undefined {
    return this.journal?.atRelease();
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
  async #runGroup(group: readonly PreparedTask[], upcoming: readonly PreparedTask[], evenAfterFailure = false): Promise<TaskResult[]> {
    const started = Date.now();
    const outcomes = new Map<PreparedTask, Outcome>();
    const pending: Planned[] = [];
    // Tasks applied together are all planned before any of them runs, so each
    // plans against the effects of the ones before it in the group, as in check mode.
    const state = this.mode === 'check' ? this.#planned : new PlannedState();
    for (const task of group) {
      if (this.#failed && !evenAfterFailure) break;
      this.observer.taskStart?.(this.host.name, task.name);
      const planned = await this.#planOrOutcome(task, upcoming.slice(upcoming.indexOf(task)), state);
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
      this.#oweHandlers(pending);
      const following = upcoming.slice(upcoming.indexOf(pending.at(-1)?.task as PreparedTask) + 1);
      const failed = await inPhase('apply', () => this.#apply(pending, following)).then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      // Tasks applied together fail together; each names itself, and masks what any of them holds.
      for (const p of pending) outcomes.set(p.task, this.#appliedOutcome(p, failed, sensitiveOf(pending)));
    }
    return group.filter((t) => outcomes.has(t)).map((task) => this.#record(task, outcomes.get(task) as Outcome, started));
  }

  /** Plan one task, a skip or a failure becoming its outcome. */
  #planOrOutcome(task: PreparedTask, upcoming: readonly PreparedTask[], state: PlannedState): Promise<Outcome | Planned> {
    return this.#plan(task, upcoming, state).catch((error: unknown) =>
      error instanceof Skip ? { status: 'skipped' as const, changes: [], note: redact(error.note, task.sensitive) } : this.#failure(error, task, task.sensitive),
    );
  }

  /** What an applied task reports: its changes, or its failure with them (masking `sensitive`). */
  #appliedOutcome(p: Planned, failed: { error: unknown } | undefined, sensitive: readonly string[]): Outcome {
    if (failed) return { ...this.#failure(failed.error, p.task, sensitive), changes: p.reports };
    // A health gate that waited changed nothing: it is ok once what it waited for is healthy.
    return { status: p.task.task.module.capabilities.gate ? 'ok' : 'changed', changes: p.reports, ...notesOf(p.changes, p.task.sensitive) };
  }

  /** Owed from before the change: a run cut off after it still leaves the handlers to the next run. */
  #oweHandlers(pending: readonly Planned[]): void {
    for (const p of pending) for (const name of notifyList(p.task.task)) this.journal?.put({ kind: 'handler', play: this.#playName, name, owedBy: this.journal.by });
  }

  /** Where the commands of changes go: commands asked for at the same moment share a round trip. */
  #batcher(): ApplyBatcher {
    return new ApplyBatcher(this.connection, this.host.facts.uid === 0);
  }

  #record(task: Pick<TaskResult, 'name' | 'module' | 'handler'>, outcome: Outcome, started: number): TaskResult {
    const note = [outcome.note, this.#owedNote].filter((n) => n !== undefined).join('; ');
    const result: TaskResult = { name: task.name, module: task.module, handler: task.handler, durationMs: Date.now() - started, ...outcome, ...(note ? { note } : {}) };
    if (result.status === 'failed' && !this.#recovering) this.#failed = true;
    if (result.error?.kind === 'connection') this.#lost = true;
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
    const deferred = new Set(this.#deferred.keys());
    const changes = await inPhase('plan', () => backend.plan(task.resolved, observed, { host: this.host, checkMode: this.mode === 'check', planned, deferred }));
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

  async #apply(pending: readonly Planned[], following: readonly PreparedTask[]): Promise<void> {
    this.#probed.applying(pending); // the host changes now: what these changes can alter must be probed again
    const first = pending[0] as Planned;
    const backend = first.task.backend!;
    // Commands a module sends at the same moment (firewalld's two sides) share a round trip.
    const { channel, settle } = this.#channelFollowedBy(following);
    const context = this.#applyContext(first.task, sensitiveOf(pending), channel);
    if (pending.length === 1) await backend.apply(first.task.resolved, first.changes, context);
    else {
      await backend.batch!.apply(
        pending.map((p) => ({ params: p.task.resolved, changes: p.changes })),
        context,
      );
    }
    settle();
  }

  /**
   * Where the commands of changes about to be applied go (#batcher), with
   * the probes of the tasks after them that the cache no longer holds
   * riding after the first batch. `settle`, once the changes are applied,
   * keeps their outputs when that batch was the only round trip the
   * changes took: they ran after every command of the changes, so they say
   * what the host is now, and those tasks are not probed again.
   */
  #channelFollowedBy(following: readonly PreparedTask[]): { channel: ApplyBatcher; settle(): void } {
    const channel = this.#batcher();
    const before = this.connection.roundTrips;
    const probing = this.#probed.prepare(this.#toProbe(following), this.host);
    channel.follow(probing.requests);
    return {
      channel,
      settle: () => {
        const outputs = channel.followed;
        if (outputs && this.connection.roundTrips === before + 1) probing.keep(outputs);
      },
    };
  }

  /** The tasks among these that a probe batch would probe now: not probed since a change that concerns them, and able to run. */
  #toProbe(tasks: readonly PreparedTask[]): PreparedTask[] {
    return tasks.filter((t) => t.backend && !this.#probed.has(t) && (!t.become || this.host.facts.canBecome));
  }

  /** Outputs of this task's probes, fetching them together with those of every upcoming task not probed since a change that concerns it. */
  async #probe(task: PreparedTask, upcoming: readonly PreparedTask[]): Promise<ProbeOutputs> {
    const cached = this.#probed.get(task);
    if (cached) return cached;
    const batch = this.#toProbe(upcoming);
    if (!batch.includes(task)) batch.unshift(task);
    await this.#probed.fetch(batch, this.host, (requests) => runProbes(this.connection, requests));
    return this.#probed.get(task) as ProbeOutputs;
  }

  /** Every deferred action asked for so far, even after a failed task (their changes are in place); one that fails stays owed. */
  async #runAllDeferred(): Promise<void> {
    for (const [id] of [...this.#deferred]) {
      if (this.#lost) return;
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
    this.journal?.settle({ kind: 'deferred', id });
    return action.script.display;
  }

  /**
   * A pending deferred action and then a task's command that needs it, in one
   * command on the host: the action's script, a line on stderr saying it ran,
   * the task's command. The action is done (and settled) when that line came,
   * whatever the command did after. An action with confirm steps, or asked
   * for with another become, runs on its own first.
   */
  async #runDeferredThen(id: string, then: ShellScript, task: PreparedTask, sensitive: readonly string[], channel: ApplyChannel): Promise<void> {
    const action = this.#deferred.get(id);
    if (!action || action.confirms.length > 0 || action.become !== task.become) {
      await this.#runDeferred(id);
      await this.#runChecked(then, task.become, task.name, sensitive, {}, channel);
      return;
    }
    this.#deferred.delete(id);
    this.#probed.clear();
    const done = () => this.journal?.settle({ kind: 'deferred', id });
    try {
      await this.#runChecked(inSequence([action.script, sh`echo ${DEFERRED_RAN} >&2`, then]), task.become, task.name, sensitive, {}, channel);
      done();
    } catch (error) {
      if (!(error instanceof RemoteCommandError)) throw error;
      const ran = error.details.stderr.includes(DEFERRED_RAN);
      if (ran) done();
      // The command shown is the one that failed: the deferred action's, or the task's after it.
      throw withoutLine(error, DEFERRED_RAN, { command: ran ? redact(then.display, sensitive) : action.script.display });
    }
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
    // The host is back where it was, and the daemon runs that: nothing is owed any more.
    this.journal?.settle({ kind: 'deferred', id });
    throw new Error(`${failed}\n${reverted}; then ${id} ran again and the check passes: the previous state is back`);
  }

  /**
   * Run a command of a change: with its journal write in front when something
   * new is owed, and only once all of its standard input has arrived.
   */
  async #runChecked(script: ShellScript, become: boolean, taskName: string, sensitive: readonly string[], options: { stdin?: string | Buffer; okCodes?: readonly number[] }, channel: ApplyChannel = this.connection) {
    const journal = await this.#journalBefore(become, taskName);
    const withJournal = journal ? join([journal.script, script]) : script;
    const toRun = options.stdin !== undefined ? wholeInput(withJournal, options.stdin) : withJournal;
    const result = await channel.run(toRun, { become, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
    const ok = (options.okCodes ?? [0]).includes(result.code);
    if (journal && ok) this.journal?.written(journal.text);
    if (!ok) {
      const shown = (text: string) => redact(text, sensitive);
      throw new RemoteCommandError({ host: this.host.name, task: taskName, command: shown(script.display), code: result.code, stderr: shown(result.stderr || result.stdout) });
    }
    return result;
  }

  /**
   * The journal write the next command of a change must carry, when
   * something is owed that the host's journal does not hold yet. A command
   * that runs as someone who cannot write the journal (root's, for a task
   * without become) does not carry it: the journal is written first, in a
   * round trip of its own.
   */
  async #journalBefore(become: boolean, taskName: string): Promise<{ script: ShellScript; text: string } | undefined> {
    const journal = this.journal;
    const pending = this.mode === 'apply' ? journal?.beforeNextCommand() : undefined;
    if (!journal || !pending) return undefined;
    if (!journal.root || become || this.host.facts.uid === 0) return pending;
    const result = await this.connection.run(pending.script, { become: true });
    if (result.code !== 0) {
      throw new RemoteCommandError({ host: this.host.name, task: taskName, command: `write the pending-actions journal ${journal.path}`, code: result.code, stderr: result.stderr || result.stdout });
    }
    journal.written(pending.text);
    return undefined;
  }

  /** A failure of the engine's own while recovering, not of a task. */
  #recordEngineFailure(name: string, message: string): void {
    const [shortMessage = '', ...rest] = message.split('\n');
    const error: ErrorRecord = { kind: 'pending', shortMessage: `${name} on ${this.host.name}: ${shortMessage}`, message: [`${name} on ${this.host.name}: ${shortMessage}`, ...rest].join('\n'), host: this.host.name, task: name, module: 'engine' };
    this.#record({ name, module: 'engine', handler: true }, { status: 'failed', changes: [], error }, Date.now());
  }

  /** What a failed task reports: its error as data, its sensitive values masked (a module's own error may quote a command or the host's output). */
  #failure(error: unknown, task: FailedTask, sensitive: readonly string[]): Outcome {
    return { status: 'failed', changes: [], error: taskFailure(error, task, this.host.name, sensitive) };
  }

  #applyContext(task: PreparedTask, sensitive = task.sensitive, channel: ApplyChannel = this.connection): ApplyContext {
    // Deferred actions this task was the first to ask for, while none of its commands since has changed the
    // host: withdrawn when a write's validation refuses (nothing changed, so nothing is owed).
    const askedFirst = new Set<string>();
    return {
      host: this.host,
      taskName: task.name,
      run: async (script, options = {}) => {
        const result = await this.#runChecked(script, task.become, task.name, sensitive, options, channel);
        askedFirst.clear();
        return result;
      },
      writeFile: async (path, content, { validate, ...options } = {}) => {
        const journal = await this.#journalBefore(task.become, task.name);
        // The check before the journal: a refused file owes nothing. Not on the left of ||, where the shell
        // would ignore a set -e inside it; a refusal is marked on stderr, so it is told from a failed write.
        const checked = validate
          ? sh`(\n${validate}\n) </dev/null >&2\nhf_valid=$?; if [ "$hf_valid" != 0 ]; then echo ${VALIDATION_REFUSED} >&2; exit "$hf_valid"; fi`
          : undefined;
        const prelude = [...(checked ? [checked] : []), ...(journal ? [journal.script] : [])];
        try {
          await channel.writeFile(path, content, { ...options, become: task.become, ...(prelude.length > 0 ? { prelude: join(prelude) } : {}) });
        } catch (error) {
          if (!(validate && error instanceof RemoteCommandError && error.details.stderr.includes(VALIDATION_REFUSED))) throw error;
          for (const id of askedFirst) {
            this.#deferred.delete(id);
            this.journal?.settle({ kind: 'deferred', id });
          }
          askedFirst.clear();
          throw withoutLine(error, VALIDATION_REFUSED);
        }
        askedFirst.clear();
        if (journal) this.journal?.written(journal.text);
      },
      defer: (id, script, confirm) => {
        if (!this.#deferred.has(id)) askedFirst.add(id);
        const action = this.#deferred.get(id) ?? { script, become: task.become, confirms: [] };
        if (confirm) action.confirms.push(confirm);
        this.#deferred.set(id, action);
        if (this.mode !== 'apply' || !this.journal) return;
        const confirms = action.confirms.flatMap((c) => (c.recorded ? [{ undo: c.recorded.undo.text, undoes: c.undoes, check: c.recorded.check }] : []));
        this.journal.put({ kind: 'deferred', id, script: action.script.text, become: action.become, confirms, owedBy: this.journal.by });
      },
      runDeferred: async (id, then) => {
        if (then) await this.#runDeferredThen(id, then, task, sensitive, channel);
        else await this.#runDeferred(id);
      },
      ...(this.freshLogin ? { freshLogin: this.freshLogin } : {}),
    };
  }
}

/** A task of a window: planned (its changes wait to be applied with the others) or done (ok, skipped, failed). */
interface WindowEntry {
  readonly task: PreparedTask;
  readonly started: number;
  readonly outcome?: Outcome;
  readonly planned?: Planned;
  /** What its changes may alter; undefined: anything. */
  readonly writes?: readonly ResourceKey[] | undefined;
}

/** The line a deferred action run together with a task's command prints on stderr once it ran (#runDeferredThen). */
const DEFERRED_RAN = 'hostform: the deferred action ran';

/** The line a write's validation prints on stderr when it refuses (ApplyContext.writeFile's validate). */
const VALIDATION_REFUSED = 'hostform: validation refused the new content; nothing was written';

/** The error with the engine's own marker line taken out of its stderr (and other details replaced). */
function withoutLine(error: RemoteCommandError, marker: string, details: { command?: string } = {}): RemoteCommandError {
  const stderr = error.details.stderr
    .split('\n')
    .filter((line) => line !== marker)
    .join('\n');
  return new RemoteCommandError({ ...error.details, ...details, stderr });
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
