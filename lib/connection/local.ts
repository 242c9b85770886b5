/**
 * The control machine as a host: the same Connection, with child processes
 * instead of SSH channels, so a playbook runs unchanged with `connection: local`.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants, userInfo } from 'node:os';
import type { ShellScript } from '../shell/quote.ts';
import { writeFileAtomically } from './atomic-write.ts';
import { scriptArgv, scriptInput } from './become.ts';
import type { Connection, ConnectionSpec, ExecResult, RunOptions, WriteFileOptions } from './types.ts';
import { awaitReady } from './hold.ts';
import type { HeldScript, HoldOptions } from './types.ts';

export type LocalSpec = Extract<ConnectionSpec, { kind: 'local' }>;

export async function openLocal(spec: LocalSpec): Promise<Connection> {
  return new LocalConnection(spec.hostName);
}

class LocalConnection implements Connection {
  readonly loginUser = userInfo().username;
  roundTrips = 0;
  private readonly loginIsRoot = process.getuid?.() === 0;

  readonly hostName: string;

  constructor(hostName: string) {
    this.hostName = hostName;
  }

  async run(script: ShellScript, options: RunOptions = {}): Promise<ExecResult> {
    this.roundTrips += 1;
    const [program, ...args] = scriptArgv(script, options, this.loginIsRoot);
    if (program === undefined) throw new Error('scriptArgv returned an empty command');
    return spawnCollect(program, args, scriptInput(script, options));
  }

  async writeFile(path: string, content: Buffer | string, options: WriteFileOptions = {}): Promise<void> {
    await writeFileAtomically({ hostName: this.hostName, loginUser: this.loginUser, loginIsRoot: this.loginIsRoot, run: (script, runOptions) => this.run(script, runOptions) }, path, content, options);
  }

  async close(): Promise<void> {}

  /** A child process of its own; when this process dies, its stdin pipe closes and the script ends with what it holds. */
  async hold(script: ShellScript, options: HoldOptions): Promise<HeldScript> {
    this.roundTrips += 1;
    // As the login user: a held script that needs root says so itself (sudo -n inside).
    const child = spawn('sh', ['-c', '--', script.text], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => undefined);
    const exited = new Promise<number | undefined>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
    });
    return awaitReady({ stdout: child.stdout, stderr: child.stderr, endInput: (data) => child.stdin.end(data), exited }, options.ready, () => new Error('sh ended without an exit code'));
  }
}

function spawnCollect(program: string, args: string[], stdin: string | Buffer | undefined): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A script that exits without reading its input closes the pipe; that is not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Report a missing program (sudo, on a minimal machine) the way a shell would.
      resolve({ stdout: '', stderr: `${program}: ${error.code === 'ENOENT' ? 'command not found' : error.message}\n`, code: 127 });
    });
    child.on('close', (code, signal) => {
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code: code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0),
      });
    });
  });
}
