import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HARNESS_DIR, hostsDir, imagesDir } from './config.ts';
import { removeDirSafely } from './fsutil.ts';
import { withLock } from './lock.ts';

/** A built image: the shared root filesystem, the harness key, and a kernel for the VM. */
export interface Image {
  readonly key: string;
  readonly dir: string;
  readonly rootfs: string;
  readonly identityFile: string;
  readonly publicKey: string;
  readonly kernel: string;
  readonly initrd: string;
}

/** Everything the image is made from; a change to any of these files yields a new key and a rebuild. */
const INPUTS = ['build-image.sh', 'packages.txt', 'rpms/hostform-test.spec', 'rpms/packages.list'];

export function imageKey(): string {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    hash.update(input + '\0');
    hash.update(fs.readFileSync(path.join(HARNESS_DIR, input)));
  }
  return hash.digest('hex').slice(0, 16);
}

function describe(key: string): Image {
  const dir = path.join(imagesDir(), key);
  return {
    key,
    dir,
    rootfs: path.join(dir, 'rootfs'),
    identityFile: path.join(dir, 'id_ed25519'),
    publicKey: fs.existsSync(path.join(dir, 'id_ed25519.pub')) ? fs.readFileSync(path.join(dir, 'id_ed25519.pub'), 'utf8').trim() : '',
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.img'),
  };
}

const isReady = (key: string): boolean => fs.existsSync(path.join(imagesDir(), key, 'ready'));

export interface EnsureImageResult {
  readonly image: Image;
  readonly built: boolean;
  readonly seconds: number;
}

/**
 * Builds the image unless the cache already holds one for the current key. Safe when several processes
 * ask at once: the first builds under a lock, the others wait and reuse its result.
 */
export async function ensureImage(log: (line: string) => void = () => {}): Promise<EnsureImageResult> {
  const started = Date.now();
  const key = imageKey();
  if (isReady(key)) return { image: describe(key), built: false, seconds: 0 };
  fs.mkdirSync(imagesDir(), { recursive: true });
  return withLock(path.join(imagesDir(), 'build.lock'), async () => {
    if (isReady(key)) return { image: describe(key), built: false, seconds: (Date.now() - started) / 1000 };
    const tmp = path.join(imagesDir(), `${key}.building`);
    const logFile = path.join(imagesDir(), `${key}.build.log`);
    removeDirSafely(tmp);
    log(`building the el9-like image ${key} (log: ${logFile})`);
    const out = fs.openSync(logFile, 'w');
    // Its own mount namespace: whatever mmdebstrap mounts goes away with it, even if it is killed.
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'bash', path.join(HARNESS_DIR, 'build-image.sh'), tmp], {
      stdio: ['ignore', out, out],
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    fs.closeSync(out);
    if (code !== 0) {
      removeDirSafely(tmp);
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-25).join('\n');
      throw new Error(
        `building the el9-like test image failed (exit ${code}). Last lines of ${logFile}:\n${tail}\n` +
          'Check that test/hosts/install-deps.sh ran and that the Debian mirror is reachable.',
      );
    }
    fs.writeFileSync(path.join(tmp, 'ready'), new Date().toISOString() + '\n');
    fs.renameSync(tmp, path.join(imagesDir(), key));
    removeOldImages(key);
    const seconds = (Date.now() - started) / 1000;
    log(`built image ${key} in ${seconds.toFixed(1)} s`);
    return { image: describe(key), built: true, seconds };
  });
}

/** Older images are removed once no host runs; a running host may still use one. */
function removeOldImages(current: string): void {
  if (fs.existsSync(hostsDir()) && fs.readdirSync(hostsDir()).length > 0) return;
  for (const entry of fs.readdirSync(imagesDir())) {
    if (entry === current || entry === 'build.lock' || entry.startsWith(current + '.')) continue;
    removeDirSafely(path.join(imagesDir(), entry));
  }
}
