import { isAbsolute, normalize } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { DEFAULT_TEXTFILE_DIR } from '../pull/metrics.ts';
import { EXIT_LOCKED, runPull, type PullOptions } from '../pull/pull.ts';
import { DEFAULT_ALLOWED_SIGNERS, DEFAULT_STATE_DIR } from '../pull/scripts.ts';
import { printable, printableLine } from '../report/terminal.ts';
import { EXIT } from '../run/results.ts';
import { DEFAULT_LOCK_TIMEOUT_SECONDS } from '../run/run-lock.ts';
import type { Io } from './main.ts';

export const PULL_USAGE = `usage: play pull --repo URL [--ref BRANCH|TAG] [--host NAME] [-i inventory]...
                 [--verify-signatures [--allowed-signers FILE]] [--check-only-if-unchanged]
                 [--state-dir DIR] [--textfile-dir DIR] [--interval SECONDS]
                 [--lock-timeout SECONDS] <playbook.ts>

On this host (as root): fetch the repository into the state directory, install its
locked dependencies (npm ci) and run the playbook, with the hostform its lockfile
pins, on this machine as its inventory host. A new commit is applied; an unchanged
one is checked, and applied only when something drifted.

      --repo URL            the git repository (any URL git fetch takes)
      --ref BRANCH|TAG      what to fetch (default: main)
      --host NAME           the inventory host this machine is (default: its short host name)
  -i, --inventory PATH      inventory in the repository (repeatable; default: inventory)
      --verify-signatures   refuse a commit without a good signature by a key in the allowed
                            signers file (git verify-commit; ssh-keygen's allowed_signers format)
      --allowed-signers FILE  that file (default ${DEFAULT_ALLOWED_SIGNERS}); root's, writable by no one else
      --check-only-if-unchanged  an unchanged commit is only checked: drift is reported, not repaired
      --state-dir DIR       where the repository and its dependencies are kept (default ${DEFAULT_STATE_DIR})
      --textfile-dir DIR    node_exporter's textfile directory, for hostform_pull.prom
                            (default ${DEFAULT_TEXTFILE_DIR}; skipped when it does not exist)
      --interval SECONDS    the longest planned time between two pulls, for the stale-pull alert
      --lock-timeout SECONDS  wait this long for another run on this host (default ${DEFAULT_LOCK_TIMEOUT_SECONDS})

exit codes: 0 converged (or in sync), 1 failed, 2 drift found and left (--check-only-if-unchanged),
            64 bad usage, ${EXIT_LOCKED} another run holds this host (nothing was done)`;

type PullArgs = Omit<PullOptions, 'log'>;

export function parsePullArgs(args: readonly string[]): PullArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        repo: { type: 'string' },
        ref: { type: 'string', default: 'main' },
        host: { type: 'string' },
        inventory: { type: 'string', short: 'i', multiple: true },
        'verify-signatures': { type: 'boolean', default: false },
        'allowed-signers': { type: 'string' },
        'check-only-if-unchanged': { type: 'boolean', default: false },
        'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
        'textfile-dir': { type: 'string', default: DEFAULT_TEXTFILE_DIR },
        interval: { type: 'string' },
        'lock-timeout': { type: 'string', default: String(DEFAULT_LOCK_TIMEOUT_SECONDS) },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${PULL_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`${positionals.length === 0 ? 'no playbook given' : `one playbook at a time, got: ${positionals.join(' ')}`}\n${PULL_USAGE}`);
  if (!values.repo || values.repo.startsWith('-')) throw new UsageError(`--repo URL is required: the git repository to converge from\n${PULL_USAGE}`);
  if (values.ref.startsWith('-') || /[\s:]/.test(values.ref) || values.ref === '') {
    throw new UsageError(`--ref must name one branch or tag (no blanks, no ':', not starting with '-'), got '${values.ref}'`);
  }
  const inRepo = (what: string, path: string) => {
    if (isAbsolute(path) || normalize(path).startsWith('..')) throw new UsageError(`${what} must be a path inside the repository, got '${path}'`);
    return path;
  };
  const playbook = inRepo('the playbook', positionals[0] as string);
  const inventory = (values.inventory ?? []).map((i) => inRepo('--inventory', i));
  for (const [option, path] of [['--state-dir', values['state-dir']], ['--textfile-dir', values['textfile-dir']], ['--allowed-signers', values['allowed-signers']]] as const) {
    if (path !== undefined && !isAbsolute(path)) throw new UsageError(`${option} must be an absolute path, got '${path}'`);
  }
  if (values['allowed-signers'] !== undefined && !values['verify-signatures']) {
    throw new UsageError('--allowed-signers names the keys --verify-signatures accepts: give --verify-signatures too');
  }
  const seconds = (option: string, text: string | undefined, min: number) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) throw new UsageError(`${option} must be a whole number of seconds (${min} or more), got '${text}'`);
    return value;
  };
  const interval = seconds('--interval', values.interval, 1);
  return {
    repo: values.repo,
    ref: values.ref,
    playbook,
    inventory,
    ...(values.host !== undefined ? { host: values.host } : {}),
    stateDir: values['state-dir'],
    ...(values['verify-signatures'] ? { allowedSigners: values['allowed-signers'] ?? DEFAULT_ALLOWED_SIGNERS } : {}),
    checkOnlyIfUnchanged: values['check-only-if-unchanged'],
    textfileDir: values['textfile-dir'],
    ...(interval !== undefined ? { intervalSeconds: interval } : {}),
    lockTimeoutSeconds: seconds('--lock-timeout', values['lock-timeout'], 0) ?? DEFAULT_LOCK_TIMEOUT_SECONDS,
  };
}

/** `play pull ...`: returns the exit code. Its log goes to stderr (the journal, under systemd). */
export async function pull(args: readonly string[], io: Io): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${PULL_USAGE}\n`);
    return EXIT.inSync;
  }
  let options: PullArgs;
  try {
    options = parsePullArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`error: ${printable(error.message)}\n`);
    return EXIT.usage;
  }
  const log = (text: string) => {
    for (const line of text.split('\n')) io.stderr(`${printableLine(line)}\n`);
  };
  try {
    return (await runPull({ ...options, log })).exitCode;
  } catch (error) {
    log(`internal error: ${(error as Error).stack ?? String(error)}`);
    return EXIT.failed;
  }
}
