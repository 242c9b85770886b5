import type { ExecResult } from '../../lib/connection/types.ts';
import { trusted } from '../../lib/shell/quote.ts';
import type { ObservedPath } from '../file/observe.ts';
import type { DaemonRead } from '../shared/daemon.ts';

/** What fail2ban itself is doing on the host. */
export type ServiceState =
  | { readonly state: 'missing' }
  | { readonly state: 'stopped' }
  | { readonly state: 'running'; readonly jails: readonly string[] }
  /** The unit is active but the server did not answer (still starting, or hung). */
  | { readonly state: 'unresponsive'; readonly detail: string };

/**
 * The same script for every fail2ban task, so the engine runs it once per
 * probe batch however many jails a play manages.
 */
export const serviceProbe = trusted(`if ! command -v fail2ban-client >/dev/null 2>&1; then echo missing
elif ! systemctl is-active --quiet fail2ban.service; then echo stopped
elif out=$(fail2ban-client status 2>&1); then echo running; printf '%s\\n' "$out" | sed -n 's/.*Jail list:[[:space:]]*//p'
else echo unresponsive; printf '%s\\n' "$out" | tail -n 3; fi`);

export function parseService(result: ExecResult): ServiceState {
  const [state = '', ...rest] = result.stdout.split('\n');
  switch (state) {
    case 'missing':
    case 'stopped':
      return { state };
    case 'running':
      return { state, jails: (rest[0] ?? '').split(',').map((j) => j.trim()).filter(Boolean) };
    case 'unresponsive':
      return { state, detail: rest.join(' ').trim() };
    default:
      throw new Error(`unexpected output from the fail2ban status probe: ${JSON.stringify(result.stdout.slice(0, 200))} ${result.stderr.trim()}`);
  }
}

/** A jail task's probes: its file, fail2ban itself, and whether the running fail2ban has read the file. */
export interface ObservedJail {
  readonly file: ObservedPath;
  readonly service: ServiceState;
  readonly daemon: DaemonRead;
}

export interface ObservedDefinition {
  readonly conf: ObservedPath;
  readonly local: ObservedPath;
  readonly service: ServiceState;
  readonly daemon: DaemonRead;
}
