import type { ExecResult } from '../connection/types.ts';
import type { Facts } from '../facts/types.ts';
import type { NixosSettings, Vars } from '../inventory/types.ts';
import type { NixosRenderer } from '../nixos/renderer.ts';
import type { ShellScript } from '../shell/quote.ts';
import type { Effect, PlannedState, ResourceKey } from './resources.ts';

/** What a task, role or template sees of the host it runs on. */
export interface HostView {
  readonly name: string;
  readonly groups: readonly string[];
  readonly vars: Vars;
  readonly facts: Facts;
  /** The inventory's `nixos` settings for this host, when it has any. */
  readonly nixos?: NixosSettings;
}

/** Options every task accepts, whatever its module. */
export interface TaskOptions {
  /** Shown in progress and reports; defaults to the module's description of the task. */
  readonly name?: string;
  readonly tags?: readonly string[];
  /** Run the task on this host only when this returns true. */
  readonly when?: (host: HostView) => boolean;
  /** Handler names to run (once, at the end of the play) when this task changed something. */
  readonly notify?: string | readonly string[];
  /** Run probes and changes through `sudo -n`. */
  readonly become?: boolean;
}

/** A module call bound to its parameters: the unit a playbook lists. */
export interface Task<Input = unknown> extends TaskOptions {
  readonly kind: 'task';
  readonly module: ModuleDefinition<Input, any>;
  readonly params: Input;
}

/** A read-only command whose output a module needs. Probes are data so the engine can batch them. */
export interface Probe {
  readonly script: ShellScript;
  /**
   * Bytes for the probe's standard input: how a secret reaches it (a
   * command guard's environment), since a script's text is visible on the
   * host. A probe with stdin runs in a round trip of its own.
   */
  readonly stdin?: string | Buffer;
}

/** The probes of one task, by key. */
export type ProbeSet = { readonly [key: string]: Probe };

/**
 * Probes under these keys, for a backend's fourth type parameter:
 * `Probes<'file' | 'unit'>`, and `Partial<Probes<'image'>>` for a probe only
 * some tasks need (joined with `&`).
 */
export type Probes<K extends string> = { readonly [P in K]: Probe };

/** What each probe printed, under the key `probes` gave it: exactly the keys of P, optional where P's are. */
export type ProbeOutputs<P extends ProbeSet = ProbeSet> = { readonly [K in keyof P]: ExecResult };

/** One difference between wanted and observed state, and what to do about it. */
export interface Change<Action> {
  /** One line for people: "create /etc/motd", "mode 0644 → 0600". */
  readonly summary: string;
  /** Unified diff (or diff-like lines) of the change; absent when there is nothing to show. */
  readonly diff?: string;
  readonly action: Action;
  /**
   * Set when only running the change can tell whether it changes anything
   * (an unguarded command). Check mode reports such a task as skipped with this note.
   */
  readonly uncertain?: string;
  /**
   * What a person must know once this change is made (or would be, in check
   * mode), e.g. "reboot needed": carried as the task result's note.
   */
  readonly note?: string;
}

export interface PlanContext {
  readonly host: HostView;
  readonly checkMode: boolean;
  /** What earlier tasks of this run will have changed (recorded in check mode, where they did not run). */
  readonly planned: PlannedState;
  /**
   * Apply mode: ids of the deferred actions earlier tasks of this run asked
   * for that have not run yet (a daemon-reload a unit file's change owes), so
   * a task that sees their cause on the host does not ask again.
   */
  readonly deferred?: ReadonlySet<string>;
}

export interface ApplyContext {
  readonly host: HostView;
  readonly taskName: string;
  /** Run a script with the task's become; a non-zero exit throws RemoteCommandError. */
  run(script: ShellScript, options?: { stdin?: string | Buffer; okCodes?: readonly number[] }): Promise<ExecResult>;
  /**
   * Atomic whole-file write with the task's become. `validate` runs first, in
   * the same command (one round trip): when it exits non-zero nothing is
   * written, and the write fails with its exit code and its output (stdout
   * too, as stderr). It runs in a subshell of its own, on an empty standard input.
   */
  writeFile(path: string, content: Buffer | string, options?: { mode?: number; owner?: string; group?: string; validate?: ShellScript }): Promise<void>;
  /**
   * Ask for a host-wide action to run once, later: e.g. `systemctl daemon-reload`
   * after unit files changed. Asking twice with the same id runs it once. It runs
   * when a task calls `runDeferred(id)`, else before handlers and at the end of the play
   * (also when a later task failed). With `confirm` it is a confirm-or-revert action
   * (see DeferredConfirm).
   *
   * Ask *before* the change that needs it: the action goes into the host's
   * pending-actions journal with the next command the task runs, so a run cut
   * off right after the change still leaves it owed (docs/reliability.md).
   */
  defer(id: string, script: ShellScript, confirm?: DeferredConfirm): void;
  /**
   * Run a deferred action now if one is pending (a service start needs the
   * reload first). With `then`, the command that needs it runs right after
   * it, in the same command on the host (one round trip), or alone when
   * nothing is pending; it fails as the task's own command would.
   */
  runDeferred(id: string, then?: ShellScript): Promise<void>;
  /**
   * Log in to the host anew with the run's connection settings (a new TCP
   * connection and a full authentication, not the run's own connection), run
   * `script` there as the login user without become, and close. Throws a
   * ConnectionError when the login fails. Absent when the host is the control
   * machine itself (`connection: local`): nothing logs in.
   */
  readonly freshLogin?: (script: ShellScript) => Promise<ExecResult>;
}

/**
 * Makes a deferred action confirm-or-revert. After its script ran, the
 * first asking task's `check` runs; when either fails, every asking task's
 * `undo` runs (the last asked first), the script runs again, and the action
 * fails with the failure's message and what was put back. A confirm-or-revert
 * action also runs when a task after it failed, since its change is already
 * in place and must be confirmed or undone.
 */
export interface DeferredConfirm {
  /** Throws, saying what failed, when the change must not be kept. */
  check(): Promise<void>;
  /** Puts back what this task changed, with the task's become. */
  undo(): Promise<void>;
  /** What undo does, as a step for the report: "put back the previous /etc/ssh/sshd_config.d/00-hostform.conf". */
  readonly undoes: string;
  /**
   * The same confirm step as data, for the pending-actions journal: when this
   * run is cut off before the action ran, the next run carries it out with
   * this undo script (run with the task's become) and this check. Without it,
   * a later run runs the action unconfirmed.
   */
  readonly recorded?: { readonly undo: ShellScript; readonly check: 'fresh-login' };
}

export interface ChangePreview {
  readonly summary: string;
  readonly detail: string;
}

/**
 * How a module changes the host: what a run cut off in the middle of a
 * change can leave there (docs/reliability.md).
 */
export type ChangeMethod =
  /** A temporary file in the target's directory, checked whole, renamed over it: a reader sees the old bytes or the new. */
  | 'atomic-file'
  /** One transaction of a tool that commits all of it or none of it (dnf, semanage import, setsebool -P). */
  | 'transaction'
  /** A tool's own commands (useradd, firewall-cmd, systemctl, setenforce), each made whole by the tool; a run cut off between two leaves the rest to the next run. */
  | 'tool-commands'
  /** Whatever the playbook's command does. */
  | 'command';

/** Declared by every module: the record a user reads to know what it supports. */
export interface Capabilities {
  /** Check mode plans without changing anything. */
  readonly checkMode: true;
  /** Every planned change carries a summary and, where there is content, a diff. */
  readonly diff: true;
  /** How the module changes the host, in the order it does; empty for one that only reads (health gates). */
  readonly changes: readonly ChangeMethod[];
  /**
   * What vets a change on the host before it replaces what is there (beyond
   * the parameters' schema, which every module has); `none`, saying why,
   * when nothing can.
   */
  readonly validates: string;
  /** Anything a user should know about check mode, e.g. unguarded commands. */
  readonly notes?: string;
  /**
   * A health gate (`waitFor.*`): it changes nothing and waits until something
   * on the host is healthy. The engine runs a play's gates last, after its
   * handlers, in the order written, so they see the play's changes in place;
   * a gate that had to wait reports ok, one that gave up fails its host.
   */
  readonly gate?: true;
}

/**
 * How one module works on one platform: observe (probes + parse) → plan → apply.
 * `parse` and `plan` are pure, so they are unit-tested on captured probe output.
 */
export interface Backend<Resolved, Observed, Action, Probed extends ProbeSet = ProbeSet> {
  /** Keyed probes; their keys type what `parse` receives, so it reads `outputs.file`, never `outputs['file']!`. */
  probes(params: Resolved, host: HostView): Probed;
  parse(params: Resolved, outputs: ProbeOutputs<Probed>): Observed;
  plan(params: Resolved, observed: Observed, context: PlanContext): readonly Change<Action>[];
  apply(params: Resolved, changes: readonly Change<Action>[], context: ApplyContext): Promise<void>;
  /** The state this task leaves behind, so later tasks plan against it in check mode. */
  effects?(params: Resolved): readonly Effect[];
  /**
   * Everything the probes' output depends on (paths, users, groups, units...).
   * After a change, a task is probed again only when its reads meet what the
   * change wrote; without `reads`, it is probed again after every change, and
   * its own changes count as changing anything (docs/modules.md, "Re-probing").
   * Undefined for a task whose probes may read anything (a user's check command).
   * Called before probing, without `outputs`: the paths named then are resolved
   * in the probes' round trip. Called again with the probes' outputs: what the
   * probes did read (a user's home as the account or useradd's defaults have it).
   * A path named only in that second answer was not resolved, so it counts as
   * any path.
   */
  reads?(params: Resolved, outputs?: ProbeOutputs<Probed>): readonly ResourceKey[] | undefined;
  /**
   * Everything apply may change, when `effects` does not say it all (a user's
   * home, a group's members); `observed` is what the plan saw. Defaults to the
   * keys of `effects`. Only read for a backend that declares `reads`.
   */
  writes?(params: Resolved, observed: Observed): readonly ResourceKey[];
  /** Apply may change anything on the host (it installs software, runs a program, starts a service): every later task is probed again. */
  readonly widens?: boolean;
  /**
   * Check mode only, when the plan has changes: ask the host what it thinks of
   * them (e.g. `nixos-rebuild dry-activate` on a candidate). It may run
   * read-only commands and write only inside a temporary directory it creates
   * and removes. What it returns is shown with the changes; a throw fails the task.
   */
  preview?(params: Resolved, observed: Observed, changes: readonly Change<Action>[], context: ApplyContext): Promise<ChangePreview | undefined>;
  /**
   * Apply consecutive tasks of this module together (one dnf transaction for
   * several package tasks). Tasks in a row whose `key` is equal are planned
   * one by one, as usual, then applied in one call; each keeps its own result.
   * Only for modules whose tasks do not depend on each other's changes.
   */
  readonly batch?: {
    key(params: Resolved): string;
    apply(items: readonly { params: Resolved; changes: readonly Change<Action>[] }[], context: ApplyContext): Promise<void>;
  };
}

export interface ModuleDefinition<Input, Resolved> {
  /** Dotted name used in reports: `file`, `command`, `firewalld.port`. */
  readonly name: string;
  /** JSON Schema of Input (task options excluded), checked before any host is touched. */
  readonly schema: object;
  readonly capabilities: Capabilities;
  /** Turn the input into concrete parameters for one host (templates rendered, defaults filled). */
  resolve(input: Input, host: HostView): Resolved;
  /** Default task name: "file /etc/motd". */
  describe(input: Input): string;
  readonly backends: PlatformBackends<Resolved>;
}

/**
 * Backends by platform. On nixos a module may instead render a fragment of
 * the NixOS module hostform writes for the play (see lib/nixos/renderer.ts).
 */
export interface PlatformBackends<Resolved> {
  readonly el9?: Backend<Resolved, any, any, any>;
  readonly linux?: Backend<Resolved, any, any, any>;
  readonly nixos?: Backend<Resolved, any, any, any> | NixosRenderer<Resolved>;
}
