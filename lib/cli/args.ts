import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { DEFAULT_LOCK_TIMEOUT_SECONDS } from '../run/run-lock.ts';
import { parsePercentage, parseSerial, type Serial } from '../run/serial.ts';

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
  /** Every selected host is this machine (`--connection local`): one host, named by --limit. */
  readonly connectionLocal: boolean;
  readonly serial?: Serial;
  readonly maxFailPercentage?: number;
  readonly textfileDir?: string;
}

export const PLAY_USAGE = `usage: play <playbook.ts> [-i inventory]... [--check] [--diff] [--limit PATTERN]
            [--tags T,..] [--skip-tags T,..] [--forks N] [--json] [--verbose]
            [--accept-new-host-keys] [--lock-timeout SECONDS] [--connection local]
            [--serial N|N% [--max-fail-percentage P]] [--textfile-dir DIR]
       play rollback [-i inventory]... [--limit PATTERN] [--check] [--json]
            switch nixos hosts back to their previous generation
       play pull --repo URL [options] <playbook.ts>
            on a host: fetch a repository and converge this host from it ('play pull --help')

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
      --connection local    run on this machine as the one host --limit names
      --serial N|N%         hosts in batches of N (or N% of them), one batch after another
      --max-fail-percentage P  with --serial: stop before the next batch when more than
                            P% of a batch failed (default 0: any failure stops the rollout)
      --textfile-dir DIR    after the run, write its metrics (hostform_push.prom) into DIR
                            on every host, for node_exporter's textfile collector

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
        connection: { type: 'string' },
        serial: { type: 'string' },
        'max-fail-percentage': { type: 'string' },
        'textfile-dir': { type: 'string' },
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
  if (values.connection !== undefined && values.connection !== 'local') {
    throw new UsageError(`--connection takes only 'local' (run on this machine); hosts reached over SSH say so in the inventory, got '${values.connection}'`);
  }
  if (values.connection === 'local' && !values.limit) {
    throw new UsageError('--connection local runs the play on this machine as one host of the inventory: name it with --limit HOST');
  }
  if (values['max-fail-percentage'] !== undefined && values.serial === undefined) {
    throw new UsageError('--max-fail-percentage says when a rolling run stops between batches: it needs --serial');
  }
  if (values['textfile-dir'] !== undefined && !values['textfile-dir'].startsWith('/')) {
    throw new UsageError(`--textfile-dir must be an absolute path on the hosts, got '${values['textfile-dir']}'`);
  }
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
    connectionLocal: values.connection === 'local',
    ...(values.serial !== undefined ? { serial: parseSerial(values.serial) } : {}),
    ...(values['max-fail-percentage'] !== undefined ? { maxFailPercentage: parsePercentage('--max-fail-percentage', values['max-fail-percentage']) } : {}),
    ...(values['textfile-dir'] !== undefined ? { textfileDir: values['textfile-dir'] } : {}),
  };
}
