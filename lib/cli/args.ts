import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { DEFAULT_LOCK_TIMEOUT_SECONDS } from '../run/run-lock.ts';

export interface PlayArgs {
  readonly playbook: string;
  readonly inventory: readonly string[];
  readonly check: boolean;
  readonly diff: boolean;
  readonly limit?: string;
  readonly tags: readonly string[];
  readonly skipTags: readonly string[];
  readonly forks: number;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly acceptNewHostKeys: boolean;
  readonly lockTimeoutSeconds: number;
}

export const PLAY_USAGE = `usage: play <playbook.ts> [-i inventory]... [--check] [--diff] [--limit PATTERN]
            [--tags T,..] [--skip-tags T,..] [--forks N] [--json] [--verbose]
            [--accept-new-host-keys] [--lock-timeout SECONDS]
       play rollback [-i inventory]... [--limit PATTERN] [--check] [--json]
            switch nixos hosts back to their previous generation

  -i, --inventory PATH      inventory file or directory (repeatable; default: ./inventory)
  -C, --check               plan only: change nothing, show what would change (implies --diff)
  -D, --diff                show diffs of what changed
  -l, --limit PATTERN       only hosts matching PATTERN (e.g. web,!web3)
  -t, --tags T,..           only tasks with one of these tags
      --skip-tags T,..      skip tasks with any of these tags
  -f, --forks N             hosts handled at once (default 20)
      --json                print one JSON report on stdout instead of progress
  -v, --verbose             show every task, ok ones too, with each change
      --accept-new-host-keys  trust and record host keys not yet in known_hosts
      --lock-timeout SECONDS  wait this long for another run on a host to end
                            before failing there (default ${DEFAULT_LOCK_TIMEOUT_SECONDS}; 0: do not wait)

exit codes: 0 in sync or converged, 2 --check found drift, 1 a task or host failed,
            64 bad usage, playbook or inventory`;

export function parsePlayArgs(args: readonly string[]): PlayArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        inventory: { type: 'string', short: 'i', multiple: true },
        check: { type: 'boolean', short: 'C', default: false },
        diff: { type: 'boolean', short: 'D', default: false },
        limit: { type: 'string', short: 'l' },
        tags: { type: 'string', short: 't', multiple: true },
        'skip-tags': { type: 'string', multiple: true },
        forks: { type: 'string', short: 'f', default: '20' },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        'accept-new-host-keys': { type: 'boolean', default: false },
        'lock-timeout': { type: 'string', default: String(DEFAULT_LOCK_TIMEOUT_SECONDS) },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${PLAY_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(`${positionals.length === 0 ? 'no playbook given' : `one playbook at a time, got: ${positionals.join(' ')}`}\n${PLAY_USAGE}`);
  }
  const forks = Number(values.forks);
  if (!Number.isInteger(forks) || forks < 1) throw new UsageError(`--forks must be a whole number of at least 1, got '${values.forks}'`);
  const lockTimeout = Number(values['lock-timeout']);
  if (!/^\d+$/.test(values['lock-timeout']) || !Number.isSafeInteger(lockTimeout)) {
    throw new UsageError(`--lock-timeout must be a whole number of seconds (0 or more), got '${values['lock-timeout']}'`);
  }
  const list = (v: string[] | undefined) => (v ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return {
    playbook: positionals[0] as string,
    inventory: values.inventory ?? [],
    check: values.check,
    diff: values.diff || values.check,
    ...(values.limit ? { limit: values.limit } : {}),
    tags: list(values.tags),
    skipTags: list(values['skip-tags']),
    forks,
    json: values.json,
    verbose: values.verbose,
    acceptNewHostKeys: values['accept-new-host-keys'],
    lockTimeoutSeconds: lockTimeout,
  };
}
