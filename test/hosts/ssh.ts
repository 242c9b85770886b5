import { spawn } from 'node:child_process';

export interface SshTarget {
  readonly address: string;
  readonly port: number;
  readonly identityFile: string;
  readonly knownHostsFile: string;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The remote command's exit code; 255 when ssh itself failed. */
  readonly code: number;
}

export function sshArgs(target: SshTarget, user: string, connectTimeoutS = 10): string[] {
  return [
    '-F', '/dev/null',
    '-i', target.identityFile,
    '-p', String(target.port),
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${target.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `ConnectTimeout=${connectTimeoutS}`,
    '-o', 'LogLevel=ERROR',
    `${user}@${target.address}`,
  ];
}

/** Runs cmd through the remote user's shell over ssh. */
export function sshExec(
  target: SshTarget,
  cmd: string,
  opts: { user?: string; input?: string; connectTimeoutS?: number; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', [...sshArgs(target, opts.user ?? 'root', opts.connectTimeoutS), '--', cmd], {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.once('error', reject);
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? 255 });
    });
    if (child.stdin) {
      // ssh may exit before reading its input (a failed login); that is reported through the exit code.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the host accepts the harness key over ssh and systemd has finished booting (running or
 * degraded), so that services such as firewalld are up when a test starts. Fails early if alive() says the
 * host's process died.
 */
export async function waitUntilBooted(
  target: SshTarget,
  name: string,
  timeoutMs: number,
  alive: () => string | undefined,
): Promise<{ sshMs: number; bootedMs: number }> {
  const started = Date.now();
  let sshMs = 0;
  let last = '';
  while (Date.now() - started < timeoutMs) {
    const dead = alive();
    if (dead) throw new Error(`test host ${name} stopped while booting:\n${dead}`);
    const cmd = sshMs ? 'systemctl is-system-running --wait' : 'true';
    const r = await sshExec(target, cmd, { connectTimeoutS: 2, timeoutMs });
    if (r.code === 255) {
      last = r.stderr.trim();
      await sleep(100);
      continue;
    }
    if (!sshMs) {
      sshMs = Date.now() - started;
      continue;
    }
    const state = r.stdout.trim();
    if (state === 'running' || state === 'degraded') return { sshMs, bootedMs: Date.now() - started };
    last = `systemctl is-system-running said ${state || r.stderr.trim()}`;
    await sleep(100);
  }
  throw new Error(`test host ${name} was not ready within ${timeoutMs / 1000} s (last: ${last})`);
}
