import { ConnectionError } from '../errors.ts';
import { HostConnectionError } from './error.ts';
import { openLocal } from './local.ts';
import { openSsh } from './ssh.ts';
import type { Connection, ConnectionSpec } from './types.ts';

/**
 * Open the one connection a host uses for the whole run. Every failure is a
 * ConnectionError naming the host, where it was reached and as whom, and what to try.
 */
export async function openConnection(spec: ConnectionSpec): Promise<Connection> {
  try {
    return spec.kind === 'ssh' ? await openSsh(spec) : await openLocal(spec);
  } catch (error) {
    if (error instanceof ConnectionError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    if (spec.kind === 'local') {
      throw new ConnectionError(`cannot use the control machine as ${spec.hostName}: ${why}`, { cause: error });
    }
    throw new HostConnectionError(
      `cannot connect to ${spec.hostName} (${spec.user}@${spec.address}:${spec.port}): ${why}\n  try: connect by hand with ssh -p ${spec.port} ${spec.user}@${spec.address} to see more`,
      { host: spec.hostName, address: spec.address, port: spec.port, user: spec.user, reason: 'other' },
      { cause: error },
    );
  }
}
