import type { ShellScript } from '../shell/quote.ts';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code of the script; a signal-killed process reports 128 + signal number. */
  readonly code: number;
}

export interface RunOptions {
  /** Run through `sudo -n` (no-op when the login user is already root). */
  readonly become?: boolean;
  /** Bytes fed to the script's standard input. */
  readonly stdin?: string | Buffer;
  /**
   * Send the script itself on standard input (`sh -s`) rather than as one
   * argument, which Linux caps at 128 KiB: for large scripts (a batch of
   * many probes) whose commands never read standard input. Not with `stdin`.
   */
  readonly scriptOnStdin?: boolean;
}

export interface WriteFileOptions {
  /** Octal permission bits, e.g. 0o644. */
  readonly mode?: number;
  readonly owner?: string;
  readonly group?: string;
  readonly become?: boolean;
  /** Run first, in the same command and as the same user; when it fails, nothing is written (the pending-actions journal rides here). */
  readonly prelude?: ShellScript;
}

/**
 * One open session to one host, reused by every task of the run.
 * Implementations: SSH (node-ssh) and local (the control machine).
 */
export interface Connection {
  /** The inventory name of the host, for messages. */
  readonly hostName: string;
  /** The user the connection logged in as. */
  readonly loginUser: string;
  /** How many scripts have been run (round trips), for reports and benchmarks. */
  readonly roundTrips: number;
  /** Run a script with `sh`; never throws for a non-zero exit, only for a broken connection. */
  run(script: ShellScript, options?: RunOptions): Promise<ExecResult>;
  /**
   * Write a whole file atomically: a temporary file in the target's directory,
   * then mode/owner/group, then rename over the target. A reader never sees a
   * half-written file. As root, into a directory another user controls, the
   * write is made as that user (lib/shell/path-guard.ts).
   */
  writeFile(path: string, content: Buffer | string, options?: WriteFileOptions): Promise<void>;
  close(): Promise<void>;
  /**
   * Run a script that answers, then keeps running (as the login user) until
   * release() or until the connection ends, however it ends: a killed
   * control machine closes the channel, the script's stdin closes, and it
   * exits. Resolves when the script prints the line `options.ready`, or
   * ends before that. One round trip.
   */
  hold(script: ShellScript, options: HoldOptions): Promise<HeldScript>;
}

/** Everything needed to open a connection; built from the inventory. */
export type ConnectionSpec =
  | {
      readonly kind: 'ssh';
      readonly hostName: string;
      readonly address: string;
      readonly port: number;
      readonly user: string;
      /** Path to a private key; when absent, the SSH agent (SSH_AUTH_SOCK) and ~/.ssh/id_* are tried. */
      readonly identityFile?: string;
      /** known_hosts file to check the host key against; default ~/.ssh/known_hosts. */
      readonly knownHostsFile?: string;
      /** Trust a host that is not in known_hosts yet and record its key (trust on first use). */
      readonly acceptNewHostKeys?: boolean;
      readonly connectTimeoutMs?: number;
    }
  | {
      readonly kind: 'local';
      readonly hostName: string;
    };

export interface HoldOptions {
  /** The line the script prints once it holds what it came for. */
  readonly ready: string;
}

/** A script started by Connection.hold(). */
export interface HeldScript {
  /** What it printed up to its ready line (included), or all it printed when it ended before. */
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code when it ended before its ready line; undefined while it runs. */
  readonly code: number | undefined;
  /**
   * Write `input` (if any) to its stdin, close it and wait (a bounded time)
   * for it to exit: what it held is let go. Resolves with its exit code,
   * undefined when it did not exit in time or the connection was lost.
   * Only the first call counts; later ones get the same answer.
   */
  release(input?: string): Promise<number | undefined>;
}
