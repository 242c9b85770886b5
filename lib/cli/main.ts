import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PlaybookProblems, UsageError, type ErrorKind, type ErrorRecord } from '../errors.ts';
import { openLocal } from '../connection/local.ts';
import { loadInventory } from '../inventory/load.ts';
import type { Inventory, InventoryHost } from '../inventory/types.ts';
import { formatPath, formatProblem, InventoryError } from '../inventory/problems.ts';
import { nixosRollback } from '../nixos/rollback.ts';
import { playbook, type Playbook } from '../playbook.ts';
import { plainReporter } from '../report/plain.ts';
import { progressReporter } from '../report/progress.ts';
import { renderSummary } from '../report/summary.ts';
import { printable, terminalJson } from '../report/terminal.ts';
import { sh } from '../shell/quote.ts';
import { EXIT, type RunObserver } from '../run/results.ts';
import { runPlaybooks } from '../run/run.ts';
import { maskError } from '../secret/mask.ts';
import { inSecretScope } from '../secret/scope.ts';
import { RUN_ID_VARIABLE } from '../pull/pull.ts';
import { parsePlayArgs, PLAY_USAGE } from './args.ts';
import { pull } from './pull.ts';
import { loadPlaybooks } from './load-playbook.ts';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTty: boolean;
}

const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTty: Boolean(process.stdout.isTTY) && process.env['CI'] !== 'true',
};

/**
 * `play <playbook> ...` (or `play pull ...`): returns the exit code. One
 * scope of secrets for all of it (see lib/secret/scope.ts): a secret the
 * playbook reads while it loads is masked in what is printed like those its
 * tasks read.
 */
export function play(args: readonly string[], io: Io = processIo): Promise<number> {
  if (args[0] === 'pull') return inSecretScope(() => pull(args.slice(1), io));
  return inSecretScope(() => playInScope(args, io));
}

async function playInScope(args: readonly string[], io: Io): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${PLAY_USAGE}\n`);
    return EXIT.inSync;
  }
  // What a usage error is about: the step that was running when it was thrown.
  let step: ErrorKind = 'usage';
  try {
    const options = parsePlayArgs(args);
    step = 'playbook';
    const playbooks = options.playbook === 'rollback' && !existsSync('rollback') ? [rollbackPlay(options.limit)] : await loadPlaybooks(options.playbook);
    step = 'inventory';
    const inventoryPaths = options.inventory.length > 0 ? options.inventory : defaultInventory();
    const loaded = await loadInventory(inventoryPaths);
    step = 'usage';
    const inventory = options.connectionLocal ? asThisMachine(loaded, options.limit ?? '') : loaded;
    const mode = options.check ? 'check' : 'apply';
    const progress = !options.json && io.isTty ? progressReporter(mode) : undefined;
    const observer: RunObserver = options.json ? {} : (progress ?? plainReporter((l) => io.stderr(`${l}\n`), mode, options.verbose));
    let report;
    try {
      report = await runPlaybooks(playbooks, inventory, {
        mode,
        forks: options.forks,
        tags: options.tags,
        skipTags: options.skipTags,
        acceptNewHostKeys: options.acceptNewHostKeys,
        lockTimeoutSeconds: options.lockTimeoutSeconds,
        playbookLabel: options.playbook,
        observer,
        ...(options.limit ? { limit: options.limit } : {}),
        ...(process.env[RUN_ID_VARIABLE] ? { runId: process.env[RUN_ID_VARIABLE] } : {}),
        ...(options.serial ? { serial: options.serial } : {}),
        ...(options.maxFailPercentage !== undefined ? { maxFailPercentage: options.maxFailPercentage } : {}),
        ...(options.textfileDir ? { textfile: { dir: options.textfileDir, ...(await commitOf(options.playbook)) } } : {}),
      });
    } finally {
      await progress?.finish();
    }
    if (options.json) io.stdout(`${terminalJson(report)}\n`);
    else io.stderr(`${renderSummary(report, { showDiff: options.diff, color: io.isTty })}\n`);
    return report.exitCode;
  } catch (thrown) {
    const error = maskError(thrown);
    const usage = error instanceof UsageError;
    io.stderr(usage ? `error: ${printable(error.message)}\n` : `internal error: ${printable((error as Error).stack ?? String(error))}\n`);
    const exitCode = usage ? EXIT.usage : EXIT.failed;
    // --json promises one JSON document on stdout: a run that never started is one too.
    if (args.includes('--json')) io.stdout(`${terminalJson({ exitCode, errors: usage ? usageRecords(error, step) : [internalRecord(error)] })}\n`);
    return exitCode;
  }
}

/** A usage error as records: one per problem of a playbook or an inventory, else one. */
function usageRecords(error: UsageError, step: ErrorKind): ErrorRecord[] {
  if (error instanceof PlaybookProblems) return [...error.problems];
  if (error instanceof InventoryError) {
    return error.problems.map((p) => {
      const message = formatProblem(p);
      return {
        kind: 'inventory',
        shortMessage: message,
        message,
        source: { file: p.file, ...(p.line !== undefined ? { line: p.line } : {}) },
        ...(p.path.length > 0 ? { parameter: formatPath(p.path) } : {}),
      };
    });
  }
  return [{ kind: error.kind === 'usage' ? step : error.kind, shortMessage: error.message.split('\n')[0] ?? '', message: error.message }];
}

function internalRecord(error: unknown): ErrorRecord {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { kind: 'internal', shortMessage: message.split('\n')[0] ?? '', message };
}

/** `play rollback`: every selected nixos host back to its previous generation; other hosts are skipped. */
function rollbackPlay(limit: string | undefined): Playbook {
  return playbook({ name: 'rollback', hosts: limit ?? 'all', become: true, tasks: [nixosRollback({})] });
}

/**
 * The inventory with its hosts reached as this machine (`--connection
 * local`): a pull runs the repository's playbook on the host it runs on, as
 * the inventory entry that names it. Exactly one host may be selected: two
 * would both be this machine.
 */
function asThisMachine(inventory: Inventory, limit: string): Inventory {
  const selected = inventory.select(limit);
  if (selected.length !== 1) {
    throw new UsageError(`--connection local runs the play on this machine as one host, but --limit '${limit}' selects ${selected.length}: ${selected.map((h) => h.name).join(', ')}`);
  }
  const local = (host: InventoryHost): InventoryHost => ({ ...host, connection: 'local' });
  return { ...inventory, hosts: inventory.hosts.map(local), select: (pattern) => inventory.select(pattern).map(local) };
}

/** The commit of the git work tree the playbook is in (`-dirty` when it has changes), for the run's metrics; nothing outside one. */
async function commitOf(playbook: string): Promise<{ commit?: string }> {
  const here = await openLocal({ kind: 'local', hostName: 'control machine' });
  const dir = dirname(resolve(playbook));
  const result = await here.run(sh`git -C ${dir} rev-parse HEAD 2>/dev/null && git -C ${dir} status --porcelain 2>/dev/null | head -n 1`);
  const [commit, change] = result.stdout.split('\n');
  return result.code === 0 && commit ? { commit: `${commit}${change ? '-dirty' : ''}` } : {};
}

function defaultInventory(): string[] {
  if (existsSync('inventory')) return ['inventory'];
  throw new UsageError('no inventory: pass -i FILE_OR_DIR, or run where ./inventory exists');
}
