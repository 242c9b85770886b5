import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { loadInventory } from '../inventory/load.ts';
import { printable, printableLine } from '../report/terminal.ts';
import { EXIT } from '../run/results.ts';
// The one arrow from lib into modules/: the command line is an entry point, like a playbook.
import { registeredModules } from '../../modules/registry.ts';
import { play, type Io } from './main.ts';
import { modulesCommand } from './modules.ts';

const USAGE = `usage: hostform <command> [options]

  play <playbook> [options]     converge hosts (same as the 'play' command)
  check <playbook> [options]    play --check: show what would change, change nothing
  pull --repo URL <playbook>    on a host: converge it from a git repository ('hostform pull --help')
  inventory [-i PATH]... [PATTERN]
                                list the hosts a pattern selects, with their groups
  modules [NAME] [--json]       list the modules, or one module's parameters, platforms
                                and check-mode notes
  --version                     print the version

'hostform play --help' lists the play options and exit codes.`;

/** `hostform <command>`: returns the exit code. */
export async function hostform(args: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'play':
      return play(rest, io);
    case 'check':
      return play(['--check', ...rest], io);
    case 'pull':
      return play(['pull', ...rest], io);
    case 'inventory':
      return listInventory(rest, io);
    case 'modules':
      return modulesCommand(rest, registeredModules, io);
    case '--version':
      // Through the package's own name: this file runs from lib/cli/ in a checkout and dist/lib/cli/ when installed.
      io.stdout(`${(createRequire(import.meta.url)('hostform/package.json') as { version: string }).version}\n`);
      return EXIT.inSync;
    case undefined:
    case '--help':
    case '-h':
      io.stdout(`${USAGE}\n`);
      return command === undefined ? EXIT.usage : EXIT.inSync;
    default:
      io.stderr(`error: unknown command '${printableLine(command)}'\n${USAGE}\n`);
      return EXIT.usage;
  }
}

async function listInventory(args: readonly string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { inventory: { type: 'string', short: 'i', multiple: true } } });
    const inventory = await loadInventory(values.inventory ?? ['inventory']);
    for (const host of inventory.select(positionals[0] ?? 'all')) {
      const where = host.connection === 'local' ? 'local' : `${host.user ? `${host.user}@` : ''}${host.address}:${host.port}`;
      io.stdout(`${printableLine(`${host.name}\t${where}\t${host.platform ?? '(detect)'}\t${host.groups.join(',')}`)}\n`);
    }
    return EXIT.inSync;
  } catch (error) {
    io.stderr(`error: ${printable((error as Error).message)}\n`);
    return error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? EXIT.usage : EXIT.failed;
  }
}
