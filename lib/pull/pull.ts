/**
 * `play pull` (issue 16): a host converges itself from a git repository.
 *
 * On the host, as root, usually from a systemd timer (roles/pull): take the
 * host's run lock (the same lock as push runs, docs/run-lock.md), fetch the
 * repository's branch or tag into a state directory, refuse a commit not
 * signed by an allowed key when asked to, install the repository's locked
 * dependencies (`npm ci`), and run its playbook with the hostform version it
 * locks, on this machine as its inventory host. Only a new commit, or drift,
 * causes an apply (decide.ts). After every pull the run's metrics are
 * written for node_exporter (metrics.ts).
 *
 * Git and systemd do the distribution and the scheduling: there is no agent
 * and no server beyond the git server the repository already lives on.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { openLocal } from '../connection/local.ts';
import type { Connection, ExecResult, HeldScript } from '../connection/types.ts';
import type { ErrorRecord } from '../errors.ts';
import { renderSummary } from '../report/summary.ts';
import { printable } from '../report/terminal.ts';
import { EXIT, type RunReport } from '../run/results.ts';
import { HostLockedError, lockAndGatherFacts, newHolder } from '../run/run-lock.ts';
import type { ShellScript } from '../shell/quote.ts';
import { decidePull, pullOutcome, short, type PullRun, type PullState } from './decide.ts';
import { taskCounts, writeTextfileHere } from './metrics.ts';
import { applyScript, checkoutScript, fetchScript, npmCiScript, prepareStateDir, statePaths, TOOLS_SCRIPT, verifyScript, type StatePaths } from './scripts.ts';

/**
 * The environment variable that carries a pull's run id to the playbook run
 * it starts, so that run joins the lock the pull holds instead of waiting
 * for it (see docs/run-lock.md).
 */
export const RUN_ID_VARIABLE = 'HOSTFORM_RUN_ID';

/** `play pull` exits with this when another run holds the host: nothing was done, and nothing is reported as failed. */
export const EXIT_LOCKED = 75;

export interface PullOptions {
  readonly repo: string;
  /** A branch or a tag. */
  readonly ref: string;
  /** The playbook, relative to the repository's root. */
  readonly playbook: string;
  /** Inventory paths relative to the repository's root; empty: play's default (`inventory`). */
  readonly inventory: readonly string[];
  /** The inventory host this machine is; default: its short host name. */
  readonly host?: string;
  readonly stateDir: string;
  /** The allowed-signers file when commits must be signed; undefined: signatures are not checked. */
  readonly allowedSigners?: string;
  readonly checkOnlyIfUnchanged: boolean;
  /** node_exporter's textfile directory; undefined: no metrics. */
  readonly textfileDir?: string;
  /** The longest planned time between two pulls, written for the stale-pull alert. */
  readonly intervalSeconds?: number;
  readonly lockTimeoutSeconds: number;
  /** One line of the pull's log (the journal, under systemd). */
  readonly log: (line: string) => void;
}

export interface PullResult {
  readonly exitCode: number;
  /** The commit fetched, when the fetch worked. */
  readonly commit?: string;
  /** What was decided: `apply`, `check`, `check+apply`; undefined when the pull stopped before. */
  readonly did?: string;
  /** The playbook runs' reports, in order. */
  readonly reports: readonly RunReport[];
}

/** A step of the pull failed: the message says which and why; the pull fails (exit 1), with its metrics written. */
class PullStepError extends Error {
  override readonly name = 'PullStepError';
}

export async function runPull(options: PullOptions): Promise<PullResult> {
  const paths = statePaths(options.stateDir);
  const connection = await openLocal({ kind: 'local', hostName: options.host ?? 'this machine' });
  const holder = newHolder(`pull ${options.playbook} from ${options.repo}`);
  let lock: HeldScript;
  let hostname: string;
  try {
    const locked = await lockAndGatherFacts(connection, { holder, waitSeconds: options.lockTimeoutSeconds });
    lock = locked.lock;
    hostname = locked.facts.hostname;
  } catch (error) {
    if (!(error instanceof HostLockedError)) throw error;
    options.log(`${error.message.split('\n')[0]}: this pull does nothing, the next one runs as planned`);
    return { exitCode: EXIT_LOCKED, reports: [] };
  }
  try {
    return await pullLocked(connection, paths, options, options.host ?? hostname.split('.')[0] ?? hostname, holder.run);
  } finally {
    await lock.release();
  }
}

async function pullLocked(connection: Connection, paths: StatePaths, options: PullOptions, host: string, runId: string): Promise<PullResult> {
  const state = await readState(paths);
  let installedLock = state.installedLock;
  const runs: PullRun[] = [];
  const reports: RunReport[] = [];
  let commit: string | undefined;
  let did: string | undefined;
  let failure: string | undefined;
  try {
    const missing = (await run(connection, TOOLS_SCRIPT, 'look for git and npm')).stdout.match(/^missing (\S+)$/gm) ?? [];
    if (missing.length > 0) {
      throw new PullStepError(`${missing.map((m) => m.slice('missing '.length)).join(' and ')} not installed: a pull needs git and npm besides Node.js (roles/pull installs them; see docs/fleet.md)`);
    }
    await run(connection, prepareStateDir(paths), `prepare the state directory ${paths.dir}`);
    commit = (await run(connection, fetchScript(paths, options.repo, options.ref), `fetch ${options.ref} from ${options.repo}`)).stdout.trim();
    options.log(`pull: ${options.repo} ${options.ref} is at ${commit}`);
    if (options.allowedSigners !== undefined) await verify(connection, paths, commit, options);
    const decision = decidePull(state, commit, { checkOnlyIfUnchanged: options.checkOnlyIfUnchanged });
    options.log(`pull: ${decision.why}`);
    await run(connection, checkoutScript(paths, commit), `check out ${short(commit)}`);
    installedLock = await install(connection, paths, installedLock, options);
    const playbookRun = async (mode: 'check' | 'apply') => {
      const report = await runPlaybook(connection, paths, options, host, mode, runId);
      reports.push(report);
      const counts = 'hosts' in report ? taskCounts(report, host) : { changed: 0, failed: 0 };
      runs.push({ mode, exitCode: report.exitCode, ...counts });
      return report;
    };
    if (decision.kind === 'apply') {
      did = 'apply';
      await playbookRun('apply');
    } else {
      did = 'check';
      const checked = await playbookRun('check');
      if (checked.exitCode === EXIT.drift && decision.applyOnDrift) {
        did = 'check+apply';
        options.log('pull: drift found: applying');
        await playbookRun('apply');
      }
    }
  } catch (error) {
    if (!(error instanceof PullStepError)) throw error;
    failure = error.message;
    options.log(`pull: ${error.message}`);
  }
  const now = Math.round(Date.now() / 1000);
  const outcome = pullOutcome(state, commit, runs, now, options.intervalSeconds !== undefined ? { intervalSeconds: options.intervalSeconds } : {});
  await writeState(paths, { ...outcome.state, ...(installedLock !== undefined ? { installedLock } : {}) });
  // A run that applied roles/pull with state 'absent' took the pull away: it leaves no metrics behind either.
  if (!existsSync(paths.dir)) options.log(`pull: ${paths.dir} is gone (the pull was uninstalled): no state or metrics written`);
  else if (options.textfileDir !== undefined) await writeMetrics(options, outcome.metrics);
  const drifted = runs.some((r) => r.mode === 'check' && r.exitCode === EXIT.drift) && !runs.some((r) => r.mode === 'apply');
  const exitCode = failure !== undefined || !outcome.success ? EXIT.failed : drifted ? EXIT.drift : EXIT.inSync;
  options.log(`pull: ${exitCode === EXIT.failed ? 'failed' : exitCode === EXIT.drift ? 'drift found and left as it is (--check-only-if-unchanged)' : 'done'}${commit ? ` at ${short(commit)}` : ''}: ${outcome.metrics.changedTasks} changed, ${outcome.metrics.driftTasks} drifted, ${outcome.metrics.failedTasks} failed`);
  return { exitCode, ...(commit !== undefined ? { commit } : {}), ...(did !== undefined ? { did } : {}), reports };
}

async function verify(connection: Connection, paths: StatePaths, commit: string, options: PullOptions): Promise<void> {
  const result = await connection.run(verifyScript(paths, commit, options.allowedSigners ?? ''));
  const said = (result.stderr || result.stdout).trim();
  if (result.code === 3) throw new PullStepError(`commit ${short(commit)} is not signed, and --verify-signatures requires a signature by a key in ${options.allowedSigners}: nothing was applied`);
  if (result.code !== 0) throw new PullStepError(`commit ${short(commit)} has no good signature by a key in ${options.allowedSigners}: nothing was applied\n  git verify-commit: ${said.split('\n').join('\n  ')}`);
  options.log(`pull: ${said.split('\n')[0]}`);
}

/**
 * `npm ci` when the lockfile differs from the one last installed, or hostform
 * is not installed in the checkout. Returns the sha256 of the lockfile now installed.
 */
async function install(connection: Connection, paths: StatePaths, installed: string | undefined, options: PullOptions): Promise<string> {
  const lockfile = `${paths.checkout}/package-lock.json`;
  if (!existsSync(lockfile)) throw new PullStepError(`the repository has no package-lock.json: commit one (npm install writes it); a pull installs exactly what it locks`);
  const hash = createHash('sha256').update(await readFile(lockfile)).digest('hex');
  const play = `${paths.checkout}/node_modules/hostform/bin/play.js`;
  if (installed === hash && existsSync(play)) return hash;
  options.log(`pull: npm ci (${installed === undefined ? 'first install' : installed === hash ? 'hostform missing from node_modules' : 'package-lock.json changed'})`);
  await run(connection, npmCiScript(paths), 'npm ci');
  if (!existsSync(play)) throw new PullStepError(`the repository's package.json does not depend on hostform: add it to "dependencies" (npm install hostform) and commit package-lock.json`);
  return hash;
}

async function runPlaybook(connection: Connection, paths: StatePaths, options: PullOptions, host: string, mode: 'check' | 'apply', runId: string): Promise<RunReport> {
  const script = applyScript(paths, process.execPath, { playbook: options.playbook, inventory: options.inventory, host, check: mode === 'check', runIdVariable: RUN_ID_VARIABLE, runId });
  const result = await connection.run(script);
  let report: RunReport | { exitCode: number; errors: ErrorRecord[] };
  try {
    report = JSON.parse(result.stdout) as RunReport | { exitCode: number; errors: ErrorRecord[] };
  } catch {
    throw new PullStepError(`the ${mode} run of ${options.playbook} printed no report (exit code ${result.code})${stderrLines(result)}`);
  }
  if ('errors' in report) {
    throw new PullStepError(`the ${mode} run of ${options.playbook} did not start (exit code ${report.exitCode}):\n  ${report.errors.map((e) => e.message.split('\n').join('\n    ')).join('\n  ')}`);
  }
  for (const line of renderSummary(report, { showDiff: true, color: false }).split('\n')) options.log(line);
  return report;
}

/** Run a step of the pull; a non-zero exit fails the pull, naming the step and what the command said. */
async function run(connection: Connection, script: ShellScript, step: string): Promise<ExecResult> {
  const result = await connection.run(script);
  if (result.code !== 0) throw new PullStepError(`could not ${step} (exit code ${result.code})${stderrLines(result)}`);
  return result;
}

function stderrLines(result: ExecResult): string {
  const said = printable((result.stderr || result.stdout).trim()).split('\n').slice(-12);
  return said.length > 0 && said[0] !== '' ? `:\n  ${said.join('\n  ')}` : '';
}

async function readState(paths: StatePaths): Promise<PullState> {
  try {
    return JSON.parse(await readFile(paths.stateFile, 'utf8')) as PullState;
  } catch {
    return {};
  }
}

/** state.json, replaced atomically: a pull killed while writing it leaves the previous one. */
async function writeState(paths: StatePaths, state: PullState): Promise<void> {
  if (!existsSync(paths.dir)) return;
  const temporary = `${paths.stateFile}.${process.pid}`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, paths.stateFile);
}

async function writeMetrics(options: PullOptions, metrics: Parameters<typeof writeTextfileHere>[1]): Promise<void> {
  const dir = options.textfileDir ?? '';
  if (!existsSync(dir)) {
    options.log(`pull: no metrics written: ${dir} does not exist (install node_exporter with its textfile collector, or give --textfile-dir)`);
    return;
  }
  options.log(`pull: metrics written to ${await writeTextfileHere(dir, metrics)}`);
}
