import { userInfo } from 'node:os';
import { openConnection } from '../connection/open.ts';
import type { Connection, ConnectionSpec, ExecResult, HeldScript } from '../connection/types.ts';
import { UsageError, type ErrorRecord } from '../errors.ts';
import type { Facts } from '../facts/types.ts';
import type { Inventory, InventoryHost } from '../inventory/types.ts';
import type { HostView } from '../module/types.ts';
import type { Playbook } from '../playbook.ts';
import { guardSecrets } from '../secret/guard.ts';
import { maskDeep, maskError, maskingObserver } from '../secret/mask.ts';
import { inSecretScope } from '../secret/scope.ts';
import type { ShellScript } from '../shell/quote.ts';
import { hostFailure } from './failures.ts';
import { HostRun } from './host-run.ts';
import { inPool } from './pool.ts';
import { factsBeforeConnecting, preparePlay, type PreparedPlay, type TagFilter } from './prepare.ts';
import { playbookProblems, type Problem } from './problems.ts';
import { HostJournal, owedBy, type JournalFound } from './journal.ts';
import { DEFAULT_LOCK_TIMEOUT_SECONDS, lockAndGatherFacts, newHolder, RunLockError, type LockHolder } from './run-lock.ts';
import { exitCodeFor, type HostResult, type RunMode, type RunObserver, type RunReport, type TaskResult } from './results.ts';
import { batchesOf, exceedsFailLimit, stopMessage, type RolloutReport, type Serial } from './serial.ts';
import { writePushTextfile } from '../pull/push-metrics.ts';

export interface RunOptions extends TagFilter {
  readonly mode: RunMode;
  /** Further restrict every play's hosts with an inventory pattern. */
  readonly limit?: string;
  /** Hosts handled at once. */
  readonly forks: number;
  readonly acceptNewHostKeys?: boolean;
  readonly observer?: RunObserver;
  /** Seconds to wait for another run's lock on a host before failing there (default 10). */
  readonly lockTimeoutSeconds?: number;
  /** What the lock file names as the run's playbook (default: the plays' names). */
  readonly playbookLabel?: string;
  /**
   * The run's id in the lock file. A run started by `play pull` is given the
   * pull's, so it joins the lock the pull holds on this machine (see docs/run-lock.md).
   */
  readonly runId?: string;
  /** Run the hosts in batches, one batch after another (--serial); default: all at once. */
  readonly serial?: Serial;
  /** With serial: stop before the next batch when more than this percentage of a batch failed (default 0: any failure stops). */
  readonly maxFailPercentage?: number;
  /** Write the run's metrics (lib/pull/metrics.ts) into this directory on every host that ran. */
  readonly textfile?: { readonly dir: string; readonly commit?: string };
}

interface Connected {
  readonly host: InventoryHost;
  readonly connection: Connection;
  readonly facts: Facts;
  /** The host's run lock, held until the run ends. */
  readonly lock: HeldScript;
  /** Where the host's pending-actions journal is and what it held; absent when the run joined its own lock there. */
  readonly journal?: JournalFound;
}

/**
 * Run plays over an inventory in three phases: (1) prepare every play for
 * every selected host from the inventory alone and check every task's
 * parameters, those of roles included — a bad one stops the run here, even
 * when no host can be reached; (2) connect, take each host's run lock and
 * gather facts (one round trip), and prepare every play again with the
 * facts — any problem stops the run here, before a single change — (3) run
 * the hosts in parallel, tasks in order on each. The locks are let go at the end.
 *
 * Secrets are read once for the run (lib/secret/scope.ts); the report, what
 * the observer is told and any error thrown have every one masked, and no
 * script that holds one is run (lib/secret/guard.ts).
 */
export async function runPlaybooks(playbooks: readonly Playbook[], inventory: Inventory, options: RunOptions): Promise<RunReport> {
  return inSecretScope(async () => {
    try {
      return maskDeep(await runMasked(playbooks, inventory, { ...options, observer: maskingObserver(options.observer ?? {}) }));
    } catch (error) {
      throw maskError(error);
    }
  });
}

async function runMasked(playbooks: readonly Playbook[], inventory: Inventory, options: RunOptions): Promise<RunReport> {
  const started = Date.now();
  const observer = options.observer ?? {};
  const playHosts = selectHosts(playbooks, inventory, options.limit);
  const allHosts = inventory.hosts.filter((h) => playHosts.some((names) => names.has(h.name)));
  checkBeforeConnecting(playbooks, playHosts, allHosts, options);
  observer.hostsSelected?.(allHosts.map((h) => h.name));

  const holder = { ...newHolder(options.playbookLabel ?? playbooks.map((p) => p.name).join(', ')), ...(options.runId ? { run: options.runId } : {}) };
  const waitSeconds = options.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS;
  const connected: Connected[] = [];
  const notRun: HostResult[] = [];
  await inPool(allHosts, options.forks, async (host) => {
    const hostStarted = Date.now();
    observer.hostStart?.(host.name);
    let connection: Connection | undefined;
    try {
      connection = await openConnection(connectionSpec(host, options.acceptNewHostKeys ?? false));
      const { facts, lock, journal } = await lockAndGatherFacts(connection, { ...(host.platform ? { platform: host.platform } : {}), holder, waitSeconds });
      connected.push({ host, connection, facts, lock, ...(journal ? { journal } : {}) });
    } catch (error) {
      await connection?.close().catch(() => undefined);
      // Locked by another run (or no lock to be had): the host was reached, and fails; anything else means it could not be used.
      const status = error instanceof RunLockError ? 'failed' : 'unreachable';
      const result: HostResult = { name: host.name, status, tasks: [], roundTrips: connection?.roundTrips ?? 0, durationMs: Date.now() - hostStarted, error: hostFailure(error, host.name) };
      notRun.push(result);
      observer.hostEnd?.(host.name, result);
    }
  });

  try {
    const prepared = prepareAll(playbooks, playHosts, connected, options);
    const { results, rollout } = await runBatches(allHosts, connected, notRun, options, async (c) => {
      let result = await runHost(c, prepared.get(c.host.name) ?? [], options.mode, observer, holder);
      if (options.textfile) {
        result = await writePushTextfile(c.connection, c.facts.canBecome, options.textfile, options.mode, result).then(
          () => result,
          (error: unknown): HostResult => ({ ...result, status: 'failed', error: hostFailure(error, c.host.name) }),
        );
      }
      observer.hostEnd?.(c.host.name, result);
      return result;
    });
    for (const result of results) if (result.status === 'skipped') observer.hostEnd?.(result.name, result);
    const hosts = [...results, ...notRun].sort((a, b) => allHosts.findIndex((h) => h.name === a.name) - allHosts.findIndex((h) => h.name === b.name));
    return {
      mode: options.mode,
      playbooks: playbooks.map((p) => p.name),
      hosts,
      durationMs: Date.now() - started,
      exitCode: exitCodeFor(options.mode, hosts),
      ...(rollout ? { rollout } : {}),
    };
  } finally {
    // The lock first, and waited for: a run started right after this one finds it free.
    await Promise.all(connected.map((c) => c.lock.release().then(() => c.connection.close()).catch(() => undefined)));
  }
}

/**
 * The connected hosts run batch by batch (all in one batch without
 * --serial), at most `forks` at once within a batch. After a batch, when
 * more than --max-fail-percentage of its hosts failed or could not be
 * reached, the hosts of the later batches are not run: each is reported
 * `skipped`, with the reason, and nothing is planned or changed on them.
 */
async function runBatches(
  allHosts: readonly InventoryHost[],
  connected: readonly Connected[],
  notRun: readonly HostResult[],
  options: RunOptions,
  run: (c: Connected) => Promise<HostResult>,
): Promise<{ results: HostResult[]; rollout?: RolloutReport }> {
  const batches = batchesOf(allHosts.map((h) => h.name), options.serial);
  const maxFailPercentage = options.maxFailPercentage ?? 0;
  const results: HostResult[] = [];
  for (const [index, batch] of batches.entries()) {
    const members = connected.filter((c) => batch.includes(c.host.name)).sort((a, b) => batch.indexOf(a.host.name) - batch.indexOf(b.host.name));
    const ran = await inPool(members, options.forks, run);
    results.push(...ran);
    const failed = [...ran, ...notRun].filter((r) => batch.includes(r.name) && (r.status === 'failed' || r.status === 'unreachable')).map((r) => r.name);
    const later = batches.slice(index + 1).flat();
    if (later.length === 0 || !exceedsFailLimit(failed.length, batch.length, maxFailPercentage)) continue;
    const message = stopMessage(index + 1, batches.length, failed.sort((a, b) => batch.indexOf(a) - batch.indexOf(b)), batch.length, maxFailPercentage, later);
    const skipped = connected.filter((c) => later.includes(c.host.name));
    results.push(...skipped.map((c): HostResult => ({ name: c.host.name, status: 'skipped', platform: c.facts.platform, tasks: [], roundTrips: c.connection.roundTrips, durationMs: 0, note: `not run: the rollout stopped after batch ${index + 1} of ${batches.length}` })));
    return { results, rollout: { batches, maxFailPercentage, stopped: { afterBatch: index + 1, failedHosts: failed, notRun: later, message } } };
  }
  return { results, ...(options.serial ? { rollout: { batches, maxFailPercentage } } : {}) };
}

function selectHosts(playbooks: readonly Playbook[], inventory: Inventory, limit: string | undefined): Set<string>[] {
  const limited = limit ? new Set(inventory.select(limit).map((h) => h.name)) : undefined;
  const perPlay = playbooks.map((p) => new Set(inventory.select(p.hosts).map((h) => h.name).filter((n) => !limited || limited.has(n))));
  if (perPlay.every((s) => s.size === 0)) {
    const patterns = playbooks.map((p) => `'${p.hosts}'`).join(', ');
    throw new UsageError(`no hosts matched: plays target ${patterns}${limit ? ` and --limit is '${limit}'` : ''}`);
  }
  return perPlay;
}

/**
 * Every play prepared for every selected host with the facts the inventory
 * states (a host's view as a role sees it before connecting: name, groups,
 * vars, and the facts of factsBeforeConnecting). Throws one UsageError
 * (exit 64) naming every problem found.
 */
function checkBeforeConnecting(playbooks: readonly Playbook[], playHosts: readonly Set<string>[], hosts: readonly InventoryHost[], filter: TagFilter): void {
  const problems: Problem[] = [];
  const checked = new Map<string, string[]>();
  playbooks.forEach((playbook, i) => {
    for (const host of hosts) {
      if (!playHosts[i]?.has(host.name)) continue;
      checked.set(playbook.name, [...(checked.get(playbook.name) ?? []), host.name]);
      problems.push(...preparePlay(playbook, viewOf(host, playbook, factsBeforeConnecting(host)), { ...filter, beforeConnecting: true }).problems);
    }
  });
  if (problems.length > 0) throw playbookProblems(problems, checked);
}

/** What a play's tasks, roles and templates see of a host. */
function viewOf(host: InventoryHost, playbook: Playbook, facts: Facts): HostView {
  return { name: host.name, groups: host.groups, vars: { ...host.vars, ...playbook.vars }, facts, ...(host.nixos ? { nixos: host.nixos } : {}) };
}

function prepareAll(
  playbooks: readonly Playbook[],
  playHosts: readonly Set<string>[],
  connected: readonly Connected[],
  filter: TagFilter,
): Map<string, { play: PreparedPlay; view: HostView }[]> {
  const problems: Problem[] = [];
  const checked = new Map<string, string[]>();
  const prepared = new Map<string, { play: PreparedPlay; view: HostView }[]>();
  for (const c of connected) {
    const plays: { play: PreparedPlay; view: HostView }[] = [];
    playbooks.forEach((playbook, i) => {
      if (!playHosts[i]?.has(c.host.name)) return;
      checked.set(playbook.name, [...(checked.get(playbook.name) ?? []), c.host.name]);
      const view = viewOf(c.host, playbook, c.facts);
      const result = preparePlay(playbook, view, filter);
      problems.push(...result.problems);
      plays.push({ play: result.play, view });
    });
    prepared.set(c.host.name, plays);
  }
  if (problems.length > 0) throw playbookProblems(problems, checked);
  return prepared;
}

async function runHost(c: Connected, plays: readonly { play: PreparedPlay; view: HostView }[], mode: RunMode, observer: RunObserver, holder: LockHolder): Promise<HostResult> {
  const started = Date.now();
  const first = plays[0];
  const journal = c.journal ? new HostJournal(c.journal, owedBy(holder)) : undefined;
  const hostRun = new HostRun(guardSecrets(c.connection), first?.view ?? { name: c.host.name, groups: c.host.groups, vars: c.host.vars, facts: c.facts }, mode, observer, freshLogin(c.host), journal);
  let error: ErrorRecord | undefined;
  try {
    await hostRun.recover(plays);
    for (const { play, view } of plays) {
      if (hostRun.failed) break;
      await hostRun.runPlay(play, view);
    }
  } catch (e) {
    // Every task's own error is caught where it happens: this one is the engine's.
    error = hostFailure(e, c.host.name);
  }
  // The journal's last write of the run rides on the lock's release (no round trip of its own).
  const finalJournal = hostRun.journalAtRelease();
  const released = await c.lock.release(finalJournal);
  // With the connection lost, the host has failed already; the journal it keeps is what the next run needs.
  if (finalJournal !== undefined && released !== 0 && !error && !hostRun.lost) {
    const message = `${c.host.name}: could not update the pending-actions journal ${journal?.path} at the end of the run (exit ${released ?? 'unknown'}): the next run will run again what it lists`;
    error = { kind: 'pending', shortMessage: message, message, host: c.host.name };
  }
  return {
    name: c.host.name,
    status: hostStatus(hostRun.results, error),
    platform: c.facts.platform,
    tasks: hostRun.results,
    roundTrips: c.connection.roundTrips,
    durationMs: Date.now() - started,
    ...(error ? { error } : {}),
  };
}

function hostStatus(tasks: readonly TaskResult[], error: ErrorRecord | undefined): HostResult['status'] {
  if (error || tasks.some((t) => t.status === 'failed')) return 'failed';
  return tasks.some((t) => t.status === 'changed') ? 'changed' : 'ok';
}

/**
 * A new login as the run's own would be made now: a new connection with the
 * same settings, a script, closed again. A host key not yet known is not
 * accepted: the first connection of the run already recorded it.
 */
function freshLogin(host: InventoryHost): ((script: ShellScript) => Promise<ExecResult>) | undefined {
  const spec = connectionSpec(host, false);
  if (spec.kind === 'local') return undefined;
  return async (script) => {
    const connection = await openConnection(spec);
    try {
      return await connection.run(script);
    } finally {
      await connection.close().catch(() => undefined);
    }
  };
}

function connectionSpec(host: InventoryHost, acceptNewHostKeys: boolean): ConnectionSpec {
  if (host.connection === 'local') return { kind: 'local', hostName: host.name };
  return {
    kind: 'ssh',
    hostName: host.name,
    address: host.address,
    port: host.port,
    user: host.user ?? userInfo().username,
    acceptNewHostKeys,
    ...(host.identityFile ? { identityFile: host.identityFile } : {}),
    ...(host.knownHostsFile ? { knownHostsFile: host.knownHostsFile } : {}),
  };
}
