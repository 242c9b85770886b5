import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Mount points at or below dir in this mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mp): mp is string => mp !== undefined && (mp === dir || mp.startsWith(prefix)))
    .map((mp) => mp.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a directory tree without ever following a mount into another file system (a leftover bind mount
 * of /dev under a half-built root must not take the machine's /dev with it).
 */
export function removeDirSafely(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const mp of mountsUnder(dir)) spawnSync('umount', ['--lazy', mp], { stdio: 'ignore' });
  const rm = spawnSync('rm', ['-rf', '--one-file-system', dir], { encoding: 'utf8' });
  if (rm.status !== 0) throw new Error(`could not remove ${dir}: ${rm.stderr.trim()}`);
}
