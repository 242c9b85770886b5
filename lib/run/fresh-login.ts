/**
 * Whether hostform can still log in: a new login with the run's connection
 * settings (ApplyContext.freshLogin) that runs a command. The check of a
 * change that could cut hostform off (an sshd reload), in the module that
 * makes it and, for a change a run left owed, in the engine.
 */
import type { ApplyContext } from '../module/types.ts';
import { trusted } from '../shell/quote.ts';

export const LOGIN_OK = 'hostform-login-ok';
const loginCheck = trusted(`echo ${LOGIN_OK}`);

/**
 * sshd re-executes itself on a reload and, for some milliseconds, accepts
 * no connection (systemd's reload returns before it listens again): a
 * refused login is tried again, for about four seconds, before it counts.
 */
const RETRY_DELAYS_MS = [0, 250, 500, 1000, 2000];

/** Throws, saying why, unless a new login with the run's settings runs a command and prints its output. */
export async function assertFreshLogin(freshLogin: NonNullable<ApplyContext['freshLogin']>, when: string): Promise<void> {
  let last = '';
  for (const delay of RETRY_DELAYS_MS) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      const result = await freshLogin(loginCheck);
      if (result.code === 0 && result.stdout.trim() === LOGIN_OK) return;
      last = `it logged in, but 'echo ${LOGIN_OK}' ${result.code === 0 ? `printed ${JSON.stringify(result.stdout.slice(0, 200))}` : `exited with ${result.code}: ${result.stderr.trim().slice(0, 300)}`}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
  }
  const seconds = RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0) / 1000;
  throw new Error(`${when}, a new SSH login to the host failed (${RETRY_DELAYS_MS.length} tries over ${seconds} s): ${last}`);
}
