import type { ExecResult } from '../../lib/connection/types.ts';
import type { ApplyContext } from '../../lib/module/types.ts';
import { trusted } from '../../lib/shell/quote.ts';

/** hostform's own login as the host sees it: what a new sshd configuration must still let in. */
export interface LoginView {
  readonly user: string;
  readonly uid: number;
  readonly groups: readonly string[];
  readonly home: string;
  /** From SSH_CONNECTION: the client's address, and the address and port sshd accepted the login on (behind NAT, not the inventory's). */
  readonly clientAddress: string;
  readonly serverAddress: string;
  readonly serverPort: number;
}

/** Run as the login user over a new login, never through sudo: sudo drops SSH_CONNECTION. */
export const loginProbe = trusted(`printf '%s\\n' "\${SSH_CONNECTION:-}" "$(id -un)" "$(id -u)" "$(id -Gn)" "\${HOME:-}"`);

export function parseLogin(result: ExecResult): LoginView {
  const [connection = '', user = '', uid = '', groups = '', home = ''] = result.stdout.split('\n');
  const [clientAddress, , serverAddress, serverPort] = connection.split(' ');
  if (result.code !== 0 || !clientAddress || !serverAddress || !/^\d+$/.test(serverPort ?? '') || !user || !/^\d+$/.test(uid) || !home) {
    throw new Error(`unexpected output from the login probe (exit code ${result.code}): ${JSON.stringify(result.stdout.slice(0, 300))} ${result.stderr.trim()}`);
  }
  return { user, uid: Number(uid), groups: groups.split(' ').filter(Boolean), home, clientAddress, serverAddress, serverPort: Number(serverPort) };
}

/** `sshd -T -C` connection spec for this login, so Match blocks apply as they would to it. */
export function connectionSpec(login: LoginView): string {
  return `user=${login.user},host=${login.clientAddress},addr=${login.clientAddress},laddr=${login.serverAddress},lport=${login.serverPort}`;
}

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
