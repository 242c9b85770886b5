import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { parsePathProbe, pathProbe } from '../file/observe.ts';
import { applySystemdConfig } from './apply.ts';
import { nixosSystemdConfig } from './nixos.ts';
import { configProbe, parseConfig, parseUnit, unitProbe, type ObservedSystemdConfig } from './observe.ts';
import { dropInPath, resolveSystemdConfig, systemdConfigSchema, type SystemdConfigParams, type WantedSystemdConfig } from './params.ts';
import { planSystemdConfig, systemdConfigEffects, type SystemdConfigAction } from './plan.ts';

export type { SystemdComponent, SystemdConfigParams, SystemdConfigValue } from './params.ts';

const backend: Backend<WantedSystemdConfig, ObservedSystemdConfig, SystemdConfigAction, Probes<'file' | 'config' | 'unit'>> = {
  probes: (w) => ({ file: { script: pathProbe(w.path) }, config: { script: configProbe(w.component) }, unit: { script: unitProbe(w.component) } }),
  parse: (w, outputs) => ({ file: parsePathProbe(w.path, outputs.file), config: parseConfig(w.component, outputs.config), unit: parseUnit(w.component, outputs.unit) }),
  plan: planSystemdConfig,
  apply: applySystemdConfig,
  effects: systemdConfigEffects,
};

/**
 * Settings of journald, logind, resolved, timesyncd or the service manager
 * itself, in a drop-in under /etc/systemd/<component>.conf.d/, checked
 * against the files `systemd-analyze cat-config` lists (a later drop-in
 * that would override a setting is refused); the component re-reads its
 * configuration once per run.
 *
 *   systemdConfig({ component: 'journald', settings: { SystemMaxUse: '500M', Compress: true } })
 *   systemdConfig({ component: 'system', settings: { DefaultTimeoutStopSec: '30s' } })
 */
export const systemdConfig = defineModule<SystemdConfigParams, WantedSystemdConfig>({
  name: 'systemdConfig',
  schema: systemdConfigSchema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `${p.component} drop-in ${dropInPath(p)}${p.state === 'absent' ? ' (absent)' : ''}`,
  resolve: resolveSystemdConfig,
  backends: { el9: backend, linux: backend, nixos: nixosSystemdConfig },
});
