/**
 * A script that keeps running after it has answered, shared by both
 * transports: it holds something (the run lock) for as long as its channel
 * or child process lives, and lets go when its stdin closes, whether
 * release() closes it or the control machine dies and takes the channel
 * with it.
 */
import type { Readable } from 'node:stream';
import type { HeldScript } from './types.ts';

/** What a transport hands over once the script started. */
export interface HeldProcess {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Write `data` (if any) to the script's stdin, then close it. */
  endInput(data?: string): void;
  /** The exit code (128 + signal), or undefined when the transport lost it (a broken connection). */
  readonly exited: Promise<number | undefined>;
}

/** How long release() waits for the script to exit after its stdin closed; the connection's close ends it anyway. */
const RELEASE_WAIT_MS = 10_000;

/**
 * Resolve once the script printed the line `ready`, or ended before that.
 * A script that ended without an exit code (the connection broke) rejects
 * with `lost()`.
 */
export function awaitReady(child: HeldProcess, ready: string, lost: () => Error): Promise<HeldScript> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let released: Promise<number | undefined> | undefined;
  const release = (input?: string): Promise<number | undefined> => {
    released ??= (async () => {
      child.endInput(input);
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        child.exited,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), RELEASE_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      return code;
    })();
    return released;
  };
  return new Promise((resolve, reject) => {
    let answered = false;
    const text = () => Buffer.concat(stdout).toString('utf8');
    const onData = (chunk: Buffer) => {
      stdout.push(chunk);
      const sofar = text();
      const at = `\n${sofar}`.indexOf(`\n${ready}\n`);
      if (at === -1) return;
      answered = true;
      // What the script prints after its ready line is not part of the answer.
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve({ stdout: sofar.slice(0, at + ready.length + 1), stderr: Buffer.concat(stderr).toString('utf8'), code: undefined, release });
    };
    child.stdout.on('data', onData);
    child.exited.then((code) => {
      if (answered) return;
      if (code === undefined) reject(lost());
      else resolve({ stdout: text(), stderr: Buffer.concat(stderr).toString('utf8'), code, release: async () => undefined });
    }, reject);
  });
}
