/**
 * A real OpenSSH server for tests: 127.0.0.1, a free port, throwaway host and
 * client keys, an authorized_keys for the current user and a known_hosts
 * that trusts the server. Everything lives in one temporary directory that
 * stop() removes.
 *
 *   const server = await startSshd();
 *   t.teardown(() => server.stop());
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface SshdServer {
  readonly address: '127.0.0.1';
  readonly port: number;
  /** The login user: whoever runs the tests. */
  readonly user: string;
  /** Private key whose public half is in the server's authorized_keys. */
  readonly identityFile: string;
  /** A known_hosts file with exactly hostKeyLine in it. */
  readonly knownHostsFile: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA...` */
  readonly hostKeyLine: string;
  /** `ssh-ed25519 AAAA...`: the server's public host key. */
  readonly hostPublicKey: string;
  /** A directory removed by stop(), for the test's own files. */
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<SshdServer> {
  const dir = await mkdtemp(join(tmpdir(), 'hostform-sshd-'));
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const hostKey = join(dir, 'host_ed25519');
    const identityFile = join(dir, 'client_ed25519');
    await Promise.all([keygen(hostKey), keygen(identityFile)]);
    const hostPublicKey = publicPart(await readFile(`${hostKey}.pub`, 'utf8'));
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${identityFile}.pub`), { mode: 0o600 });
    // sshd refuses to start without its privilege separation directory.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        'Subsystem sftp internal-sftp',
        'LogLevel INFO',
        '',
      ].join('\n'),
    );
    child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    await listening(child, port);

    const hostKeyLine = `[127.0.0.1]:${port} ${hostPublicKey}`;
    const knownHostsFile = join(dir, 'known_hosts');
    await writeFile(knownHostsFile, `${hostKeyLine}\n`);
    return {
      address: '127.0.0.1',
      port,
      user: userInfo().username,
      identityFile,
      knownHostsFile,
      hostKeyLine,
      hostPublicKey,
      dir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A fresh ed25519 key pair without passphrase at `path` and `path.pub`. */
export async function keygen(path: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hostform-test', '-f', path]);
}

/** `ssh-ed25519 AAAA...` from a .pub file's text (without the comment). */
export function publicPart(pub: string): string {
  return pub.trim().split(/\s+/).slice(0, 2).join(' ');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when sshd logs that it listens; rejects with its log if it exits first or takes too long. */
function listening(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => finish(new Error(`sshd did not start within 10 s:\n${log}`)), 10_000);
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stderr?.removeListener('data', onData);
      child.removeListener('exit', onExit);
      // Keep draining sshd's log so a full pipe never blocks it.
      child.stderr?.resume();
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) finish();
    };
    const onExit = (code: number | null): void => finish(new Error(`sshd exited with ${code} before listening:\n${log}`));
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}
