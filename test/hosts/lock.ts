import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Runs fn while holding an exclusive flock on file, across processes. The lock is held by a `flock` child
 * whose stdin we keep open: if this process dies, the child sees EOF and the lock goes with it.
 */
export async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const holder = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked; read _'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`flock ${file} exited with ${code} before locking`)));
    holder.stdout.once('data', () => resolve());
  });
  holder.removeAllListeners('exit');
  try {
    return await fn();
  } finally {
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.stdin.end();
    await exited;
  }
}

/**
 * Takes an exclusive flock on file and keeps it until release() (or until this
 * process dies: the holder child then sees EOF and the lock goes with it).
 */
export async function holdLock(file: string): Promise<{ release(): Promise<void> }> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked: () => void = () => {};
  const taken = new Promise<void>((resolve) => (locked = resolve));
  const done = withLock(file, async () => {
    locked();
    await released;
  });
  await Promise.race([taken, done]);
  return {
    async release() {
      release();
      await done;
    },
  };
}

/** The synchronous variant for exit handlers: runs a shell script under the same lock. */
export function lockedShellSync(file: string, script: string, args: readonly string[] = []): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  spawnSync('flock', ['--exclusive', file, 'bash', '-c', script, 'bash', ...args], { stdio: 'inherit' });
}
