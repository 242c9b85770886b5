import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { applyHostname } from './apply.ts';
import { nixosHostname } from './nixos.ts';
import { hostnameProbe, parseHostname, type ObservedHostname } from './observe.ts';
import { hostnameSchema, resolveHostname, type HostnameParams, type WantedHostname } from './params.ts';
import { planHostname, type HostnameAction } from './plan.ts';

export type { HostnameParams } from './params.ts';

const backend: Backend<WantedHostname, ObservedHostname, HostnameAction, Probes<'hostname'>> = {
  probes: () => ({ hostname: { script: hostnameProbe } }),
  parse: (_w, outputs) => parseHostname(outputs.hostname),
  plan: planHostname,
  apply: applyHostname,
};

/**
 * The host's static and transient name, compared with /etc/hostname and
 * `uname -n`, set with `hostnamectl set-hostname`.
 *
 *   hostname({ name: 'web1.example.com' })
 */
export const hostname = defineModule<HostnameParams, WantedHostname>({
  name: 'hostname',
  schema: hostnameSchema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `hostname ${p.name}`,
  resolve: resolveHostname,
  backends: { el9: backend, linux: backend, nixos: nixosHostname },
});
