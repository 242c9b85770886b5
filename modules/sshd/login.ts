import type { ExecResult } from '../../lib/connection/types.ts';
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

/** A new login must still work after a change that could cut hostform off; the engine runs the same check for a journaled sshd reload. */
export { assertFreshLogin, LOGIN_OK } from '../../lib/run/fresh-login.ts';
