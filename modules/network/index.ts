import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { parsePathProbe, pathProbe } from '../file/observe.ts';
import { applyConnection, previewConnection } from './apply.ts';
import { nixosConnection } from './nixos.ts';
import { connectionProbe, parseConnection, type ObservedConnection } from './observe.ts';
import { networkConnectionSchema, resolveConnection, type NetworkConnectionParams, type WantedConnection } from './params.ts';
import { connectionEffects, planConnection, type ConnectionAction } from './plan.ts';

export type { IpMethod, IpSettings, NetworkConnectionParams } from './params.ts';

const backend: Backend<WantedConnection, ObservedConnection, ConnectionAction, Probes<'file' | 'nm'>> = {
  probes: (w) => ({ file: { script: pathProbe(w.path) }, nm: { script: connectionProbe(w) } }),
  parse: (w, outputs) => ({ file: parsePathProbe(w.path, outputs.file), ...parseConnection(outputs.nm) }),
  plan: planConnection,
  apply: applyConnection,
  preview: (w, _observed, changes, context) => previewConnection(w, changes, context),
  effects: connectionEffects,
};

/**
 * An Ethernet connection as a NetworkManager keyfile (RHEL 9's default),
 * compared field by field with `nmcli -t` and brought up with
 * `nmcli connection reload` and `up`. Over SSH the change is confirm-or-revert:
 * a timer on the host puts the previous configuration back unless a new
 * login confirms the change within `confirmWithin` seconds, and a change
 * that would take away the address hostform's own login arrives at is refused.
 *
 *   networkConnection({ name: 'lan', interface: 'eth0', ipv4: { method: 'manual', address: '192.0.2.10/24', gateway: '192.0.2.1', dns: ['192.0.2.53'] } })
 *   networkConnection({ name: 'storage', interface: 'eth1', ipv4: { method: 'manual', address: '10.0.9.5/24' }, ipv6: { method: 'disabled' }, mtu: 9000 })
 */
export const networkConnection = defineModule<NetworkConnectionParams, WantedConnection>({
  name: 'networkConnection',
  schema: networkConnectionSchema,
  capabilities: {
    checkMode: true,
    diff: true,
    notes: 'over SSH, applied under a host-side timer that puts the previous configuration back unless a new login confirms the change; check mode reports whether the change would be refused',
  },
  describe: (p) => `network connection ${p.name} (${p.interface})${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveConnection,
  backends: { el9: backend, linux: backend, nixos: nixosConnection },
});
