import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import type { HostView, Task } from '../../lib/module/types.ts';
import type { SwitchParams } from '../../lib/nixos/backends.ts';
import { attrName } from '../../lib/nixos/value.ts';
import { playbook, type Step } from '../../lib/playbook.ts';
import { preparePlay, type PreparedTask } from '../../lib/run/prepare.ts';
import type { Problem } from '../../lib/run/problems.ts';

/**
 * NixOS evaluation for tests, with the kit vendored in test/support/nixos-eval/
 * (its README says what is real: the NixOS modules and lib of 2024-08; and what
 * is not: the packages are stubs). A configuration is evaluated down to
 * config.system.build.toplevel.drvPath, as `nixos-rebuild dry-build` does, so an
 * option that does not exist, a type error or a conflict fails it.
 *
 *   const play = renderPlay([user({ name: 'alice', authorizedKeys: [key] })]);
 *   const result = await evaluateModules([play.module], { values: [['users', 'users', 'alice', 'openssh', 'authorizedKeys', 'keys']] });
 *   // or, rendered, evaluated and asserted in one step:
 *   await assertNixosOptions(t, [user({ ... })], { 'users.users.alice.openssh.authorizedKeys.keys': [key] });
 *
 * HOSTFORM_NIXOS_TREE=/path/to/nixpkgs evaluates against that tree's nixos/ and
 * lib/ instead of the vendored ones (docs/nixos.md).
 */

export const KIT = fileURLToPath(new URL('./nixos-eval/', import.meta.url));

/** An option path: dotted (`networking.firewall.allowedTCPPorts`, `environment.etc."a.conf".text`) or its names as a list. */
export type OptionPath = string | readonly string[];

export interface NixosEvaluation {
  /** The toplevel's (stub) derivation path; null with reportAssertions when an assertion failed. */
  readonly drvPath: string | null;
  readonly warnings: readonly string[];
  readonly failedAssertions: readonly string[];
  /** Each asked option's value, keyed by optionKey(path). */
  readonly values: Readonly<Record<string, unknown>>;
  /** optionKey of each asked path that config does not have. */
  readonly missingValues: readonly string[];
}

/** Nix refused the configuration: `stderr` is Nix's own message ("The option `x' does not exist", a type error, a conflict). */
export class NixosEvalError extends Error {
  override readonly name = 'NixosEvalError';
  readonly stderr: string;
  readonly modules: readonly string[];
  constructor(stderr: string, modules: readonly string[]) {
    super(`NixOS evaluation of ${modules.join(', ')} failed:\n${stderr.trim()}`);
    this.stderr = stderr;
    this.modules = modules;
  }
}

/** What this test process evaluated and asserted, for the line the CI log shows (see evaluationSummary). */
export const evaluated = { configurations: 0, values: 0 };

/** The key of an option path in NixosEvaluation.values: the dotted form, names quoted as Nix would need. */
export function optionKey(path: OptionPath): string {
  return typeof path === 'string' ? path : path.map(attrName).join('.');
}

const execFileP = promisify(execFile);

/**
 * Evaluate module files (a configuration.nix is one too) as one NixOS system,
 * with the kit's base (no boot loader, a root file system, stateVersion) and
 * stub packages. Throws NixosEvalError when Nix refuses them.
 */
export async function evaluateModules(
  modules: readonly string[],
  options: { readonly values?: readonly OptionPath[]; readonly packages?: readonly string[]; readonly reportAssertions?: boolean } = {},
): Promise<NixosEvaluation> {
  const values = Object.fromEntries((options.values ?? []).map((p) => [optionKey(p), p]));
  const args = { tree: nixosTree(), modules, values, packages: options.packages ?? [], base: true, failOnAssertions: !options.reportAssertions };
  let stdout: string;
  try {
    ({ stdout } = await execFileP(
      'nix-instantiate',
      ['--eval', '--strict', '--json', '--readonly-mode', '--option', 'store', 'dummy://', '-I', `nixpkgs=${args.tree}`, '--argstr', 'args', JSON.stringify(args), '-E', `{ args }: import ${KIT}eval.nix (builtins.fromJSON args)`],
      // The caller's NIX_PATH plays no part; the kit's tree is <nixpkgs>.
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 600_000, env: { ...process.env, NIX_PATH: '' } },
    ));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new NixosEvalError(e.stderr || e.message, modules);
  }
  evaluated.configurations += 1;
  return JSON.parse(stdout) as NixosEvaluation;
}

/** Evaluate one module's text (written to a temporary file, which the kit reads for package names). */
export async function evaluateModuleText(text: string, options: Parameters<typeof evaluateModules>[1] = {}): Promise<NixosEvaluation> {
  const dir = mkdtempSync(join(tmpdir(), 'hostform-nixos-eval-'));
  try {
    const file = join(dir, 'hostform.nix');
    writeFileSync(file, text);
    return await evaluateModules([file], options);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The host the renderings are made for: a nixos host with no inventory settings. */
export const NIXOS_HOST: HostView = { name: 'nix1', groups: ['all'], vars: {}, facts: { platform: 'nixos' } as HostView['facts'] };

export interface RenderedPlay {
  /** The play's module as the closing switch task would write it; undefined when no task rendered. */
  readonly module: string | undefined;
  /** Tasks skipped on nixos, with the note a run shows. */
  readonly skipped: readonly { readonly name: string; readonly note: string }[];
  /** What a run would refuse before touching the host (parameters, conflicts). */
  readonly problems: readonly Problem[];
}

/**
 * Tasks (or roles) as a play for a nixos host, prepared by the engine itself
 * (preparePlay), so blocks, skips and plan-time problems are exactly a run's.
 */
export function renderPlay(steps: readonly Step[], options: { readonly host?: HostView; readonly name?: string } = {}): RenderedPlay {
  const host = options.host ?? NIXOS_HOST;
  const { play, problems } = preparePlay(playbook({ name: options.name ?? 'test', hosts: 'all', tasks: steps }), host, {});
  const tasks = play.steps.filter((s): s is PreparedTask => s.kind === 'task');
  const closing = tasks.find((s) => s.module === 'nixos.switch');
  return {
    module: closing ? (closing.resolved as SwitchParams).moduleText : undefined,
    skipped: tasks.flatMap((s) => (s.skipNote === undefined ? [] : [{ name: s.name, note: s.skipNote }])),
    problems,
  };
}

/** Render the tasks for a nixos host and evaluate their module; fails when the engine refuses them or nothing renders. */
export async function evaluateTasks(steps: readonly Step[], options: Parameters<typeof evaluateModules>[1] & { readonly host?: HostView } = {}): Promise<NixosEvaluation & { readonly module: string }> {
  const play = renderPlay(steps, options.host ? { host: options.host } : {});
  if (play.problems.length > 0) throw new Error(`the engine refuses these tasks on nixos:\n${play.problems.map((p) => `${p.task ?? p.role ?? ''}: ${p.text}`).join('\n')}`);
  if (play.module === undefined) throw new Error(`no task renders on nixos (skipped: ${play.skipped.map((s) => `${s.name}: ${s.note}`).join('; ')})`);
  return { ...(await evaluateModuleText(play.module, options)), module: play.module };
}

/** An expected value matched loosely (t.match: the fields given, a RegExp for a string), for options NixOS fills in around ours. */
export class Matching {
  readonly pattern: unknown;
  constructor(pattern: unknown) {
    this.pattern = pattern;
  }
}
export const matching = (pattern: unknown) => new Matching(pattern);

/** An expected list's items, each found in the value exactly (t.same), in any order: for lists NixOS adds to. */
export class Including {
  readonly items: readonly unknown[];
  constructor(items: readonly unknown[]) {
    this.items = items;
  }
}
export const including = (items: readonly unknown[]) => new Including(items);

/**
 * Render `steps` for a nixos host, evaluate the module with the real NixOS
 * module system, and assert each option's value: exactly (t.same), or
 * matching() or including() it.
 * Counts what it checked for evaluationSummary. Returns the evaluation.
 */
export async function assertNixosOptions(
  t: Test,
  steps: readonly Step[] | { readonly module: string },
  expected: Readonly<Record<string, unknown>> | readonly (readonly [OptionPath, unknown])[],
  options: { readonly host?: HostView; readonly packages?: readonly string[] } = {},
): Promise<NixosEvaluation> {
  const pairs: (readonly [OptionPath, unknown])[] = Array.isArray(expected) ? [...expected] : Object.entries(expected);
  const values = pairs.map(([path]) => path);
  const evaluation = 'module' in steps ? await evaluateModuleText(steps.module, { values, ...options }) : await evaluateTasks(steps as readonly Step[], { values, ...options });
  t.same(evaluation.missingValues, [], 'every asserted option exists in the evaluated configuration');
  for (const [path, want] of pairs) {
    const key = optionKey(path);
    const got = evaluation.values[key];
    // Option names may hold any character; a test point's name must stay one printable line of TAP.
    const name = key.replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)?.toString(16)}}`);
    if (want instanceof Matching) t.match(got, want.pattern, name);
    else if (want instanceof Including) t.same(want.items.filter((item) => !(Array.isArray(got) && got.some((g) => JSON.stringify(g) === JSON.stringify(item)))), [], `${name} includes them`);
    else t.same(got, want, name);
    evaluated.values += 1;
  }
  return evaluation;
}

/** The line the CI log shows for a test file: how many configurations it evaluated and values it asserted. */
export function evaluationSummary(): string {
  return `NixOS evaluation (${treeName()}): ${evaluated.configurations} configurations evaluated down to system.build.toplevel, ${evaluated.values} option values asserted`;
}

function treeName(): string {
  return process.env['HOSTFORM_NIXOS_TREE'] ? `the nixos/ and lib/ of ${process.env['HOSTFORM_NIXOS_TREE']}` : 'the NixOS modules and lib of 2024-08, vendored';
}

let tree: string | undefined;

/**
 * The unpacked tree: HOSTFORM_NIXOS_TREE, or the vendored tarball unpacked once
 * into the kit's cache (the layout eval-nixos uses, so both share it). Several
 * test processes may unpack at once: each into its own directory, the first
 * rename wins.
 */
function nixosTree(): string {
  const own = process.env['HOSTFORM_NIXOS_TREE'];
  if (own) return own;
  if (tree) return tree;
  const tarball = `${KIT}nixos-2024-08.tar.xz`;
  const sum = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const cache = process.env['NIXOS_EVAL_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'nixos-eval');
  const target = join(cache, sum);
  if (!existsSync(target)) {
    mkdirSync(cache, { recursive: true });
    const unpacking = mkdtempSync(join(cache, '.unpack.'));
    try {
      const untar = spawnSync('tar', ['-xJf', tarball, '-C', unpacking], { encoding: 'utf8' });
      if (untar.status !== 0) throw new Error(`cannot unpack ${tarball}: ${untar.stderr}`);
      chmodSync(unpacking, 0o755);
      try {
        renameSync(unpacking, target);
      } catch (error) {
        if (!existsSync(target)) throw error;
      }
    } finally {
      rmSync(unpacking, { recursive: true, force: true });
    }
  }
  tree = target;
  return target;
}
