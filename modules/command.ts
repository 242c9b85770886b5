import { defineModule } from '../lib/module/define.ts';
import { effect, PathResource, resourceKey, type Effect } from '../lib/module/resources.ts';
import type { ApplyContext, Backend, Change, PlanContext, ProbeOutputs, Probes } from '../lib/module/types.ts';
import { revealSecret } from '../lib/secret/scope.ts';
import { isSecret, type Secret } from '../lib/secret/secret.ts';
import { ENV_FROM_STDIN, environmentInput } from '../lib/shell/env-input.ts';
import { argv as argvScript, sh, type ShellScript } from '../lib/shell/quote.ts';

// ── params ───────────────────────────────────────────────────────────────

/** A program and its arguments (never parsed by a shell), or a shell script you wrote. */
export type CommandLine =
  | readonly string[]
  | {
      /** A shell script you wrote, run by `sh -c` as written. */
      readonly shell: string;
    };

interface CommandCommon {
  /** Skip the command when this path exists (on the host, or once an earlier task creates it); an absolute path. */
  readonly creates?: string;
  /** Skip the command when this read-only check exits 0: a program and its arguments, or `{ shell }`. It runs in check mode too. */
  readonly unless?: CommandLine;
  /** Working directory for the command and its guard; an absolute path. */
  readonly chdir?: string;
  /** Environment variables for the command and its guard: text, or a Secret. They reach the host on standard input, never on a command line, and are never printed (masked in a failed command's report). */
  readonly env?: Readonly<Record<string, string | Secret>>;
  /** The command's standard input: text, or a Secret (`podman login --password-stdin`). The `unless` guard does not get it. */
  readonly stdin?: string | Secret;
}

interface Argv {
  /** The program and its arguments, run as given: no shell parses them, so nothing needs quoting and `$`, `*` or `;` mean nothing special. Give argv or shell, not both. */
  readonly argv: readonly string[];
  readonly shell?: never;
}

interface Shell {
  /** A shell script you wrote, run by `sh -c` as written: pipes, redirections and `$VAR` work, and the quoting is yours. Give argv or shell, not both. */
  readonly shell: string;
  readonly argv?: never;
}

export type CommandParams = CommandCommon & (Argv | Shell);

const commandLine = {
  anyOf: [
    { type: 'array', items: { type: 'string' }, minItems: 1 },
    {
      type: 'object',
      required: ['shell'],
      properties: { shell: { type: 'string', minLength: 1, description: 'A shell script you wrote, run by `sh -c` as written.' } },
      additionalProperties: false,
    },
  ],
} as const;

const commandSchema = {
  type: 'object',
  properties: {
    argv: {
      type: 'array',
      items: { type: 'string' },
      minItems: 1,
      description: 'The program and its arguments, run as given: no shell parses them, so nothing needs quoting and `$`, `*` or `;` mean nothing special. Give argv or shell, not both.',
    },
    shell: {
      type: 'string',
      minLength: 1,
      description: 'A shell script you wrote, run by `sh -c` as written: pipes, redirections and `$VAR` work, and the quoting is yours. Give argv or shell, not both.',
    },
    creates: { type: 'string', pattern: '^/', 'x-expected': 'an absolute path (starting with /)', description: 'Skip the command when this path exists (on the host, or once an earlier task creates it); an absolute path.' },
    unless: {
      ...commandLine,
      description: 'Skip the command when this read-only check exits 0: a program and its arguments, or `{ shell }`. It runs in check mode too.',
    },
    chdir: { type: 'string', pattern: '^/', 'x-expected': 'an absolute path (starting with /)', description: 'Working directory for the command and its guard; an absolute path.' },
    // The usual way to hand a command a credential: never printed, and masked in a failed command's report.
    env: {
      type: 'object',
      sensitive: true,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', 'x-expected': 'an environment variable name (letters, digits and _, not starting with a digit)' },
      additionalProperties: { anyOf: [{ type: 'string' }, { jsType: 'secret' }] },
      description: 'Environment variables for the command and its guard: text, or a Secret. They reach the host on standard input, never on a command line, and are never printed (masked in a failed command\'s report).',
    },
    stdin: { anyOf: [{ type: 'string' }, { jsType: 'secret' }], payload: true, description: 'The command\'s standard input: text, or a Secret (`podman login --password-stdin`). The `unless` guard does not get it.' },
  },
  oneOf: [{ required: ['argv'] }, { required: ['shell'] }],
  additionalProperties: false,
} as const;

interface Resolved {
  readonly script: ShellScript;
  /** The command's standard input: its environment first (lib/shell/env-input.ts), then the `stdin` parameter. */
  readonly stdin?: string;
  readonly display: string;
  readonly creates?: string;
  readonly unless?: ShellScript;
  /** The guard's standard input: the environment alone. */
  readonly unlessStdin?: string;
}

function resolveCommand(p: CommandParams): Resolved {
  const wrap = (line: CommandLine, parameter: string) => withContext(toScript(line, parameter), p);
  const env = environment(p.env);
  const stdin = p.stdin === undefined ? undefined : isSecret(p.stdin) ? revealSecret(p.stdin) : p.stdin;
  const input = env === undefined && stdin === undefined ? undefined : `${env ?? ''}${stdin ?? ''}`;
  return {
    script: wrap(p.argv ?? { shell: p.shell! }, p.argv ? 'argv' : 'shell'),
    ...(input !== undefined ? { stdin: input } : {}),
    display: display(p.argv ?? { shell: p.shell! }),
    ...(p.creates ? { creates: p.creates } : {}),
    ...(p.unless ? { unless: wrap(p.unless, 'unless'), ...(env !== undefined ? { unlessStdin: env } : {}) } : {}),
  };
}

/** The environment, as ENV_FROM_STDIN reads it on the host (never in the script, where `ps` shows it). */
function environment(env: CommandCommon['env']): string | undefined {
  const entries = Object.entries(env ?? {});
  return entries.length === 0 ? undefined : environmentInput(Object.fromEntries(entries.map(([k, v]) => [k, isSecret(v) ? revealSecret(v) : v])));
}

function toScript(line: CommandLine, parameter: string): ShellScript {
  // A shell string is the user's own script, run as written: that is what `shell` is for.
  // `--`: a script starting with '-' is still the script, not an option of sh.
  return isShell(line) ? argvScript(['sh', '-c', '--', line.shell]) : argvScript(programFirst(line, parameter));
}

/**
 * An argv runs as `sh -c <argv>`, so a first word starting with '-' would be
 * read as an option by some shells, and one like `NAME=value` as a variable
 * assignment, with the next word run instead. Both are refused: an argv
 * always runs its first word.
 */
function programFirst(argv: readonly string[], parameter: string): readonly string[] {
  const program = argv[0] ?? '';
  const where = `parameter '${parameter}.0'`;
  if (program === '') throw new Error(`${where} is empty: it must name the program to run`);
  if (program.startsWith('-')) {
    throw new Error(`${where} = ${JSON.stringify(program)} starts with '-', so sh would read it as an option instead of running it; give the program's path (./${program} with chdir, or an absolute path)`);
  }
  // The value is left out of the message: it may be a secret meant for env.
  const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(program);
  if (assignment) {
    throw new Error(`${where} = "${assignment[1]}=...": sh would read it as a variable assignment and run the next word instead; set variables with env: { ${assignment[1]}: ... }`);
  }
  return argv;
}

function withContext(script: ShellScript, p: CommandCommon): ShellScript {
  const inDir = p.chdir ? sh`cd ${p.chdir} && ${script}` : script;
  return Object.keys(p.env ?? {}).length > 0 ? sh`${ENV_FROM_STDIN} && ${inDir}` : inDir;
}

function isShell(line: CommandLine): line is { readonly shell: string } {
  return !Array.isArray(line);
}

function display(line: CommandLine): string {
  const text = isShell(line) ? line.shell : line.join(' ');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ── observe ──────────────────────────────────────────────────────────────

interface Observed {
  readonly createsExists?: boolean;
  /** Exit code of the `unless` check. */
  readonly unlessCode?: number;
}

/** Each guard's probe, only when the task has that guard. */
type CommandProbes = Partial<Probes<'creates' | 'unless'>>;

function probes(r: Resolved): CommandProbes {
  return {
    ...(r.creates ? { creates: { script: sh`if [ -e ${r.creates} ] || [ -L ${r.creates} ]; then echo yes; else echo no; fi` } } : {}),
    ...(r.unless ? { unless: { script: r.unless, ...(r.unlessStdin !== undefined ? { stdin: r.unlessStdin } : {}) } } : {}),
  };
}

function parse(r: Resolved, outputs: ProbeOutputs<CommandProbes>): Observed {
  return {
    ...(r.creates ? { createsExists: outputs.creates?.stdout.trim() === 'yes' } : {}),
    ...(r.unless ? { unlessCode: outputs.unless?.code ?? 1 } : {}),
  };
}

// ── plan ─────────────────────────────────────────────────────────────────

type Action = { readonly do: 'run' };

export function planCommand(r: Resolved, observed: Observed, context: PlanContext): Change<Action>[] {
  if (r.creates) {
    const planned = context.planned.get(PathResource, r.creates);
    const exists = planned ? planned.type !== 'absent' : observed.createsExists;
    if (exists) return [];
  }
  if (r.unless && observed.unlessCode === 0) return [];
  const guarded = r.creates !== undefined || r.unless !== undefined;
  return [
    {
      summary: `run: ${r.display}`,
      action: { do: 'run' },
      ...(guarded ? {} : { uncertain: 'no creates/unless guard: the command would run; it is not run in check mode' }),
    },
  ];
}

function commandEffects(r: Resolved): Effect[] {
  return r.creates ? [effect(PathResource, r.creates, { type: 'file' })] : [];
}

// ── apply ────────────────────────────────────────────────────────────────

async function applyCommand(r: Resolved, _changes: readonly Change<Action>[], context: ApplyContext): Promise<void> {
  await context.run(r.script, r.stdin !== undefined ? { stdin: r.stdin } : {});
}

// ── index ────────────────────────────────────────────────────────────────

const posix: Backend<Resolved, Observed, Action, CommandProbes> = {
  probes,
  parse,
  // A `creates` guard reads its path; an `unless` guard, whatever the user's check reads. The command may change anything.
  reads: (r) => (r.unless ? undefined : r.creates ? [resourceKey(PathResource, r.creates)] : []),
  plan: planCommand,
  apply: applyCommand,
  effects: commandEffects,
  widens: true,
};

/**
 * Run a command, guarded so that it only runs when needed.
 *
 *   command({ argv: ['restic', 'init'], creates: '/srv/backup/config' })
 *   command({ shell: 'podman load < /tmp/app.tar', unless: ['podman', 'image', 'exists', 'app'] })
 *
 * Without `creates` or `unless`, the command runs on every run and reports changed;
 * check mode skips it with a note, since only running it could tell.
 */
export const command = defineModule<CommandParams, Resolved>({
  name: 'command',
  schema: commandSchema,
  capabilities: { checkMode: true, diff: true, changes: ['command'], validates: 'none: the command is the playbook\'s own', notes: 'commands without a creates/unless guard are skipped in check mode' },
  describe: (p) => (p.argv || p.shell ? `command ${display(p.argv ?? { shell: p.shell! })}` : 'command'),
  resolve: resolveCommand,
  backends: { el9: posix, linux: posix, nixos: posix },
});
