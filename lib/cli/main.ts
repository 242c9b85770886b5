import { existsSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { loadInventory } from '../inventory/load.ts';
import { nixosRollback } from '../nixos/rollback.ts';
import { playbook, type Playbook } from '../playbook.ts';
import { plainReporter } from '../report/plain.ts';
import { progressReporter } from '../report/progress.ts';
import { renderSummary } from '../report/summary.ts';
import { printable, terminalJson } from '../report/terminal.ts';
import { EXIT, type RunObserver } from '../run/results.ts';
import { runPlaybooks } from '../run/run.ts';
import { parsePlayArgs, PLAY_USAGE } from './args.ts';
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

/** `play <playbook> ...`: returns the exit code. */
export async function play(args: readonly string[], io: Io = processIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${PLAY_USAGE}\n`);
    return EXIT.inSync;
  }
  try {
    const options = parsePlayArgs(args);
    const playbooks = options.playbook === 'rollback' && !existsSync('rollback') ? [rollbackPlay(options.limit)] : await loadPlaybooks(options.playbook);
    const inventoryPaths = options.inventory.length > 0 ? options.inventory : defaultInventory();
    const inventory = await loadInventory(inventoryPaths);
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
      });
    } finally {
      await progress?.finish();
    }
    if (options.json) io.stdout(`${terminalJson(report)}\n`);
    else io.stderr(`${renderSummary(report, { showDiff: options.diff, color: io.isTty })}\n`);
    return report.exitCode;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${printable(error.message)}\n`);
      return EXIT.usage;
    }
    io.stderr(`internal error: ${printable((error as Error).stack ?? String(error))}\n`);
    return EXIT.failed;
  }
}

/** `play rollback`: every selected nixos host back to its previous generation; other hosts are skipped. */
function rollbackPlay(limit: string | undefined): Playbook {
  return playbook({ name: 'rollback', hosts: limit ?? 'all', become: true, tasks: [nixosRollback({})] });
}

function defaultInventory(): string[] {
  if (existsSync('inventory')) return ['inventory'];
  throw new UsageError('no inventory: pass -i FILE_OR_DIR, or run where ./inventory exists');
}
