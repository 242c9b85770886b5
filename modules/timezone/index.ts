import { defineModule } from '../../lib/module/define.ts';
import type { Backend, Probes } from '../../lib/module/types.ts';
import { applyTimezone } from './apply.ts';
import { nixosTimezone } from './nixos.ts';
import { parseTimezone, timezoneProbe, type ObservedTimezone } from './observe.ts';
import { resolveTimezone, timezoneSchema, type TimezoneParams, type WantedTimezone } from './params.ts';
import { planTimezone, type TimezoneAction } from './plan.ts';

export type { TimezoneParams } from './params.ts';

const backend: Backend<WantedTimezone, ObservedTimezone, TimezoneAction, Probes<'zone'>> = {
  probes: (w) => ({ zone: { script: timezoneProbe(w.zone) } }),
  parse: (_w, outputs) => parseTimezone(outputs.zone),
  plan: planTimezone,
  apply: applyTimezone,
};

/**
 * The host's time zone: the zone /etc/localtime links to, checked against
 * the host's zone database, set with `timedatectl set-timezone`.
 *
 *   timezone({ zone: 'Europe/Berlin' })
 */
export const timezone = defineModule<TimezoneParams, WantedTimezone>({
  name: 'timezone',
  schema: timezoneSchema,
  capabilities: { checkMode: true, diff: true },
  describe: (p) => `time zone ${p.zone}`,
  resolve: resolveTimezone,
  backends: { el9: backend, linux: backend, nixos: nixosTimezone },
});
