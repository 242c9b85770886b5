import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { parsePathProbe, pathProbe } from '../file/observe.ts';
import { applySysctl } from './apply.ts';
import { nixosSysctl } from './nixos.ts';
import { configProbe, parseConfig, parseRuntime, runtimeProbe, type ObservedSysctl } from './observe.ts';
import { resolveSysctl, sysctlSchema, type SysctlParams, type WantedSysctl } from './params.ts';
import { planSysctl, sysctlEffects, type SysctlAction } from './plan.ts';

export type { SysctlParams } from './params.ts';

const backend: Backend<WantedSysctl, ObservedSysctl, SysctlAction, Probes<'file' | 'runtime' | 'config'>> = {
  probes: (w) => ({ file: { script: pathProbe(w.path) }, runtime: { script: runtimeProbe(w) }, config: { script: configProbe } }),
  parse: (w, outputs) => ({ file: parsePathProbe(w.path, outputs.file), ...parseRuntime(w, outputs.runtime), config: parseConfig(outputs.config) }),
  plan: planSysctl,
  apply: applySysctl,
  effects: sysctlEffects,
};

/**
 * Kernel parameters, in one file of /etc/sysctl.d (for every boot) and in
 * the running kernel: drift on either side is reported, and only the
 * parameters whose running value differs are set now.
 *
 *   sysctl({ settings: { 'net.ipv4.ip_forward': 1, 'vm.swappiness': 10 } })
 *   sysctl({ file: '60-network.conf', settings: { 'net.core.somaxconn': 4096 } })
 */
export const sysctl = defineModule<SysctlParams, WantedSysctl>({
  name: 'sysctl',
  schema: sysctlSchema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `sysctl ${Object.keys(p.settings).join(', ')}`,
  resolve: resolveSysctl,
  backends: { el9: backend, linux: backend, nixos: nixosSysctl },
});
